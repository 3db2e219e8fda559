//! `blocking-helper`: a plain `def` of the project that blocks (directly, or through the plain
//! functions it calls, to any depth, in any module of the run) called from a coroutine becomes
//! `await asyncio.to_thread(helper, ...)`; the finding names the chain that blocks.
//! Documentation, safety and examples: `transforms/blocking-helper.toml`.

use tree_sitter::Node;

use crate::blocking;
use crate::finding::Finding;
use crate::project::{self, FunctionRef, Project, Question};
use crate::semantic::{Context, Resolved};
use crate::transforms::{FileContext, Transform, to_thread};

pub struct BlockingHelper;

const ID: &str = "blocking-helper";

impl Transform for BlockingHelper {
    fn id(&self) -> &'static str {
        ID
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        // Whether a helper blocks is known only from the project: any coroutine may call one.
        &[&["async def"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        file.with_project(|project| check_in(file, project, findings));
    }
}

/// The findings of the transform, with `project` answering about helpers.
fn check_in(file: &FileContext<'_, '_>, project: &Project, findings: &mut Vec<Finding>) {
    // A helper is reached through an import or a module-level `def`; other calls (builtins,
    // methods, locals) are skipped before any costly name resolution.
    let mut reachable = blocking::reachable_names(file.model);
    if let Some(names) = &mut reachable {
        names.extend(project::module_level_functions(file.model));
    }
    for &call in file.calls {
        let Some(callee) = call.child_by_field_name("function") else { continue };
        if !blocking::may_reach(&reachable, callee, file.source) {
            continue;
        }
        // Asked first: the project's answer may cost the parse of another module.
        let why_not_await = match file.model.context(call) {
            Context::Sync => continue,
            Context::Async => None,
            Context::AsyncNoAwait(why) => Some(why),
        };
        let Some(helper) = project_function(file, project, call) else { continue };
        let Some(chain) = project.blocking_chain(&helper) else { continue };
        let callee = call.child_by_field_name("function").map_or("", |f| file.text(f));
        let finding = file.finding(
            ID,
            call,
            format!(
                "`{callee}(...)` blocks the event loop in a coroutine ({}); run it in a thread",
                chain.join(" -> ")
            ),
        );
        if let Some(why) = why_not_await {
            findings.push(
                finding
                    .report_only(format!("`await` cannot go {why}; move the call into the coroutine body")),
            );
            continue;
        }
        // Said first: a function that returns an awaitable likely builds it from asyncio (which
        // the thread-bound check would name), and may block only on the path shown.
        if call.parent().is_some_and(|p| p.kind() == "await") {
            findings.push(finding.report_only(
                "its result is awaited, so it returns an awaitable, and it may block before it does (on the \
                 path shown): make its blocking part async by hand",
            ));
            continue;
        }
        if let Some(bound) = project.thread_bound_chain(&helper) {
            findings.push(finding.report_only(format!(
                "it also uses what only the event loop's thread or the main thread may use ({}), so it \
                 cannot move to a worker thread: move the blocking part into its own function and run that \
                 with `asyncio.to_thread`",
                bound.join(" -> ")
            )));
            continue;
        }
        if helper.facts.is_generator(&helper.name) {
            findings.push(finding.report_only(format!(
                "`{}` is a generator: calling it runs none of its body, using the result (iterating, \
                 entering) blocks, so moving the call alone to a thread does not help: move the call and the \
                 use of its result into a plain function run with `asyncio.to_thread`, or make it async",
                helper.name
            )));
            continue;
        }
        match to_thread::run_in_thread(file, call) {
            Ok(fix) => findings.push(finding.with_fix(fix)),
            Err(why) => findings.push(finding.report_only(why)),
        }
    }
}

/// The module-level function of the project that `call` calls: one of this module's, by a name
/// no local shadows, or an imported one (`load_config`, `util.load_config`).
pub(crate) fn project_function(file: &FileContext, project: &Project, call: Node) -> Option<FunctionRef> {
    let function = call.child_by_field_name("function")?;
    match function.kind() {
        "identifier" => {
            let name = file.text(function);
            match file.model.resolve(name, function) {
                Resolved::Import(qualified) => project.resolve(file.path, &qualified, Question::Blocking),
                Resolved::Other if file.model.resolves_to_module_scope(name, function) => {
                    let facts = file.own_summary();
                    facts.function_kind(name)?;
                    Some(FunctionRef::in_analysed_file(file.path, name, facts))
                }
                _ => None,
            }
        }
        "attribute" => project.resolve(file.path, &file.model.qualified_name(function)?, Question::Blocking),
        _ => None,
    }
}
