//! `time-sleep`: `time.sleep(x)` in a coroutine becomes `await asyncio.sleep(x)`.
//! Documentation, safety and examples: `transforms/time-sleep.toml`.

use tree_sitter::Node;

use crate::finding::{Edit, Finding, Fix, Safety};
use crate::semantic::{CalleeFilter, Context};
use crate::transforms::statements;
use crate::transforms::{FileContext, Transform};

pub struct TimeSleep;

const ID: &str = "time-sleep";

impl Transform for TimeSleep {
    fn id(&self) -> &'static str {
        ID
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[&["async", "sleep"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        let mut chosen_library: Option<Library> = None;
        let sleeps = CalleeFilter::new(file.model, &["time.sleep"]);
        for &call in file.calls {
            let Some(function) = call.child_by_field_name("function") else {
                continue;
            };
            if !sleeps.may_call(function, file.source) {
                continue;
            }
            if file.model.qualified_name(function).as_deref() != Some("time.sleep") {
                continue;
            }
            let why_not_await = match file.model.context(call) {
                Context::Sync => continue,
                Context::Async => None,
                Context::AsyncNoAwait(why) => Some(why),
            };
            let library = *chosen_library.get_or_insert_with(|| async_library(file));
            let (name, safety) = match library {
                Library::Evident(name) => (name, Safety::Safe),
                Library::Assumed(name) => (name, Safety::Unsafe),
                Library::Ambiguous => ("asyncio", Safety::Unsafe),
            };
            let assumption = if matches!(library, Library::Assumed(_)) {
                " (the file imports no async library: asyncio assumed)"
            } else {
                ""
            };
            let advice = match library {
                Library::Ambiguous => "await the sleep of the library that runs it".to_string(),
                _ => format!("use `await {name}.sleep(...)`{assumption}"),
            };
            let message = format!("`{}` blocks the event loop in a coroutine; {advice}", file.text(function));
            let finding = file.finding(ID, call, message);
            if let Some(why) = why_not_await {
                findings.push(
                    finding.report_only(format!(
                        "`await` cannot go {why}; move the sleep into the coroutine body"
                    )),
                );
                continue;
            }
            if library == Library::Ambiguous {
                findings.push(finding.report_only(
                    "the file uses both trio and asyncio; await the sleep of the library running this coroutine",
                ));
                continue;
            }
            let Some(module) = file.model.module_ref(name, call) else {
                findings.push(finding.report_only(format!(
                    "the name `{name}` is not usable here (bound to something else, or imported later \
                     in this function)"
                )));
                continue;
            };
            // `f"{time.sleep(0)=}"` prints the expression's own text: a rewrite would change output.
            if statements::in_debug_field(call) {
                findings
                    .push(finding.report_only("an f-string `=` prints this call's text; rewrite it by hand"));
                continue;
            }
            // Everything after the callee (arguments, comments) stays as written.
            let callee_end = function.end_byte();
            let sleep = format!("{}.sleep{}", module.name, &file.source[callee_end..call.end_byte()]);
            // An await inside a sync `with` (a thread lock, say) lets other tasks run inside the
            // critical section: two coroutines waiting on one `threading.Lock` deadlock.
            let safety = if inside_sync_with(call) { Safety::Unsafe } else { safety };
            let parent_kind = call.parent().map(|p| p.kind());
            let replacement = match parent_kind {
                // `await time.sleep(1)` was already awaited (and broken): only the callee changes.
                Some("await") => sleep,
                // `time.sleep(1).x`: await binds looser than attribute access and calls.
                Some("attribute" | "subscript" | "call") => format!("(await {sleep})"),
                _ => format!("await {sleep}"),
            };
            let fix = Fix {
                safety,
                edits: vec![Edit::replace(call.byte_range(), replacement)],
                imports: if module.needs_import { vec![name.to_string()] } else { Vec::new() },
                helpers: Vec::new(),
            };
            findings.push(finding.with_fix(fix));
        }
    }
}

/// Whether `node` sits in a plain `with` block inside its coroutine.
fn inside_sync_with(node: Node) -> bool {
    std::iter::successors(node.parent(), |n| n.parent())
        .take_while(|n| n.kind() != "function_definition")
        .any(|n| n.kind() == "with_statement" && n.child(0).is_some_and(|first| first.kind() != "async"))
}

/// Libraries that run only on asyncio: importing one says the coroutines run on asyncio.
const ASYNCIO_ONLY: &[&str] =
    &["asyncio", "asyncpg", "uvloop", "motor", "discord", "telethon", "pyrogram", "tornado", "aiogram"];

/// Which library's `sleep` replaces `time.sleep`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Library {
    /// The file imports it (or only libraries built on it).
    Evident(&'static str),
    /// The file imports no async library: asyncio, the common case, is assumed (unsafe: the
    /// coroutines might run under trio through an indirect import).
    Assumed(&'static str),
    /// The file uses both trio and asyncio: which one runs the coroutine cannot be told.
    Ambiguous,
}

/// anyio's sleep works under every backend, so it wins when the file uses anyio; trio's when the
/// file uses trio alone; asyncio's otherwise.
fn async_library(file: &FileContext) -> Library {
    let model = file.model;
    let asyncio = model.imports_any(|m| ASYNCIO_ONLY.contains(&m) || m.starts_with("aio"));
    let trio = model.imports_module("trio");
    if model.imports_module("anyio") {
        Library::Evident("anyio")
    } else if trio && asyncio {
        Library::Ambiguous
    } else if trio {
        Library::Evident("trio")
    } else if asyncio {
        Library::Evident("asyncio")
    } else {
        Library::Assumed("asyncio")
    }
}
