//! One module per transform, each named like its definition in `transforms/<id>.toml`.
//!
//! A transform is a small value with one entry point: given a parsed file and its semantic model,
//! push findings. It never writes files, never prints and never edits import lines itself: it asks
//! for imports and module-level helpers through its [`Fix`](crate::finding::Fix).

use std::path::Path;

use tree_sitter::Node;

use crate::config::Settings;
use crate::definitions;
use crate::finding::{Finding, Severity};
use crate::project::{ModuleFacts, Project};
use crate::semantic::Model;
use crate::source::LazyStyle;

mod blocking_call;
mod blocking_helper;
mod concurrency;
mod cpu_bound;
mod dangling_task;
mod event_loop_api;
mod executor_to_thread;
mod gather_exceptions;
mod gather_to_taskgroup;
mod httpx_to_async;
mod kept_objects;
mod loop_awaits;
pub(crate) mod missing_await;
mod open_block;
mod requests_to_aiohttp;
mod sequential_awaits;
mod statements;
mod time_sleep;
mod to_thread;

pub trait Transform: Sync {
    /// The id of its definition in `transforms/`.
    fn id(&self) -> &'static str;

    /// What a file must contain to possibly hold a finding: any one group, every string of it.
    /// Files that match no group of any enabled transform are never parsed.
    fn triggers(&self) -> &'static [&'static [&'static str]];

    /// Words that make a statement worth parsing (`crate::slice`): every finding lies in a
    /// top-level statement or class member holding one (an entry ending in `*` is a prefix).
    /// Coroutines hold `async`.
    fn anchors(&self) -> &'static [&'static str] {
        &["async"]
    }

    /// Whether the names of the file's coroutine functions (and, with the project index, bare
    /// calls of imported names) anchor too: a call of one may be anywhere.
    fn anchors_coroutine_names(&self) -> bool {
        false
    }

    /// Whether it also looks at every file another enabled transform's triggers let through,
    /// though its own are absent: some of its findings need nothing of the file but an import
    /// (another module's coroutine function called from plain code), and that file is analysed
    /// anyway.
    fn runs_where_others_trigger(&self) -> bool {
        false
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>);
}

/// Everything a transform may read about one file.
pub struct FileContext<'a, 't> {
    pub path: &'a Path,
    pub source: &'t str,
    pub model: &'a Model<'t>,
    /// Every `call` node of the file, in source order, collected once for all transforms.
    pub calls: &'a [Node<'t>],
    pub style: &'a LazyStyle<'t>,
    pub settings: &'a Settings,
    /// The other modules of the run, for cross-module facts; `None` when a file is analysed on
    /// its own.
    pub project: Option<&'a Project>,
    /// The project's summary of this file's own text, made on first use.
    pub(crate) own_summary: std::cell::OnceCell<std::sync::Arc<ModuleFacts>>,
}

impl<'t> FileContext<'_, 't> {
    /// A finding of `transform` at `node`, with the severity its definition gives.
    pub fn finding(&self, transform: &'static str, node: Node, message: impl Into<String>) -> Finding {
        let severity = definitions::get(transform).map_or(Severity::Warning, |d| d.severity);
        Finding {
            transform,
            severity,
            range: node.byte_range(),
            message: message.into(),
            fix: None,
            no_fix_reason: None,
        }
    }

    /// This file's module-level functions as the project index sees them, from the text being
    /// analysed (which may be an editor's buffer, or a file another worker is rewriting).
    /// It is not shared with the other workers: their answers must not depend on whether this
    /// file's analysis (which may parse other parts of it) ran first.
    pub fn own_summary(&self) -> std::sync::Arc<ModuleFacts> {
        self.own_summary
            .get_or_init(|| std::sync::Arc::new(ModuleFacts::build(self.model, self.settings)))
            .clone()
    }

    /// `ask` answered by the run's project index, or by one made of this file alone.
    pub fn with_project<R>(&self, ask: impl FnOnce(&Project) -> R) -> R {
        match self.project {
            Some(project) => ask(project),
            None => ask(&Project::new(&[self.path.to_path_buf()], self.settings)),
        }
    }

    pub fn text(&self, node: Node) -> &'t str {
        &self.source[node.byte_range()]
    }

    /// The statement that drops `call`'s result: `call(...)` or `(call(...))` on its own.
    /// Read from the index: asking tree-sitter for parents costs a search from the root per call.
    pub fn dropped_result_statement(&self, call: Node) -> Option<Node<'t>> {
        self.model.index().dropped_results.get(&call.id()).copied()
    }
}

static ALL: &[&dyn Transform] = &[
    &time_sleep::TimeSleep,
    &dangling_task::DanglingTask,
    &executor_to_thread::ExecutorToThread,
    &event_loop_api::EventLoopApi,
    &missing_await::MissingAwait,
    &requests_to_aiohttp::RequestsToAiohttp,
    &httpx_to_async::HttpxToAsync,
    &sequential_awaits::SequentialAwaits,
    &loop_awaits::LoopAwaits,
    &gather_to_taskgroup::GatherToTaskgroup,
    &gather_exceptions::GatherExceptions,
    &blocking_call::BlockingCall,
    &blocking_helper::BlockingHelper,
    &cpu_bound::CpuBound,
];

/// Every transform, in definition order.
pub fn all() -> &'static [&'static dyn Transform] {
    ALL
}

/// The transforms a run enables.
pub fn enabled(settings: &Settings) -> Vec<&'static dyn Transform> {
    all().iter().copied().filter(|t| settings.is_enabled(t.id())).collect()
}
