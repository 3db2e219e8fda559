//! `dangling-task`: a task created and dropped (`asyncio.create_task(...)` as a statement) is kept
//! in a module-level set and its failure reported through the loop's exception handler.
//! Documentation, safety and examples: `transforms/dangling-task.toml`.

use tree_sitter::Node;

use crate::finding::{Edit, Finding, Fix, Helper, Safety};
use crate::imports;
use crate::semantic::{CalleeFilter, LoopReceiver, Resolved};
use crate::transforms::statements;
use crate::transforms::{FileContext, Transform};

pub struct DanglingTask;

const ID: &str = "dangling-task";

const TASK_FACTORIES: &[&str] = &[
    "asyncio.create_task",
    "asyncio.ensure_future",
    "asyncio.tasks.create_task",
    "asyncio.tasks.ensure_future",
];

/// The helper, written with four-space indents, `"` quotes and `\n`; `{sfx}` makes names unique.
const HELPER: &str = r#"# Keeps fire-and-forget tasks alive and reports their failures (added by asyncmod).
_background_tasks{sfx} = set()


def _keep_background_task{sfx}(task):
    _background_tasks{sfx}.add(task)
    task.add_done_callback(_background_task_done{sfx})
    return task


def _background_task_done{sfx}(task):
    _background_tasks{sfx}.discard(task)
    if not task.cancelled() and task.exception() is not None:
        task.get_loop().call_exception_handler(
            {
                "message": "Unhandled exception in background task",
                "exception": task.exception(),
                "task": task,
            }
        )"#;

impl Transform for DanglingTask {
    fn id(&self) -> &'static str {
        ID
    }

    fn anchors(&self) -> &'static [&'static str] {
        // A task may be created in plain code too; the helper's names must not clash.
        &["create_task", "ensure_future", "_background_task*", "_keep_background_task*"]
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[&["create_task"], &["ensure_future"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        let mut helper: Option<(String, Option<Helper>)> = None;
        let mut anchor: Option<usize> = None;
        let factories = CalleeFilter::new(file.model, TASK_FACTORIES);
        for &call in file.calls {
            let Some(statement) = file.dropped_result_statement(call) else {
                continue;
            };
            let Some(function) = call.child_by_field_name("function") else {
                continue;
            };
            // `loop.create_task` ends like a factory too.
            if !factories.may_call(function, file.source) {
                continue;
            }
            let Some((api, receiver)) = self.task_api(file, function, call) else {
                continue;
            };
            let finding = file.finding(
                ID,
                call,
                format!(
                    "task from `{}(...)` is dropped: it can be garbage-collected mid-flight and its \
                     exception is lost",
                    file.text(function)
                ),
            );
            let anchor =
                *anchor.get_or_insert_with(|| imports::helper_anchor(file.model.root(), file.source));
            if runs_at_import(statement) && top_level_statement(statement).start_byte() < anchor {
                findings.push(
                    finding.report_only("it runs before the imports end, where no helper can be defined"),
                );
                continue;
            }
            let (keep, helper) = helper.get_or_insert_with(|| self.helper(file)).clone();
            // A receiver known only by its name might not be an asyncio loop, and
            // `ensure_future(fut)` returns an existing future that someone else may await (the
            // callback would then report an exception they handle).
            let wraps_existing_future = api.ends_with("ensure_future") && !first_argument_is_call(call);
            let safe = receiver == LoopReceiver::Known && !wraps_existing_future;
            let fix = Fix {
                safety: if safe { Safety::Safe } else { Safety::Unsafe },
                edits: vec![Edit::replace(call.byte_range(), format!("{keep}({})", file.text(call)))],
                imports: Vec::new(),
                helpers: helper.into_iter().collect(),
            };
            findings.push(finding.with_fix(fix));
        }
    }
}

impl DanglingTask {
    /// The API that created the task (for the message), if `function` creates one, and how
    /// sure we are that it is asyncio's.
    fn task_api(&self, file: &FileContext, function: Node, call: Node) -> Option<(String, LoopReceiver)> {
        if let Some(name) = file.model.qualified_name(function)
            && TASK_FACTORIES.contains(&name.as_str())
        {
            return Some((name, LoopReceiver::Known));
        }
        if function.kind() != "attribute" {
            return None;
        }
        let method = function.child_by_field_name("attribute")?;
        if file.text(method) != "create_task" {
            return None;
        }
        let receiver = function.child_by_field_name("object")?;
        let certainty = file.model.loop_receiver(receiver, call)?;
        Some((format!("{}.create_task", file.text(receiver)), certainty))
    }

    /// The name of the keep function and the helper defining it: the existing helper when the
    /// file already has it, otherwise one whose names clash with nothing in the file.
    fn helper(&self, file: &FileContext) -> (String, Option<Helper>) {
        let identifiers = statements::identifiers(file, file.model.root());
        for n in 0.. {
            let sfx = if n == 0 { String::new() } else { format!("_{n}") };
            let mut code = HELPER.replace("{sfx}", &sfx);
            if file.style.quote == '\'' {
                code = code.replace('"', "'");
            }
            let code = file.style.render(&code, "");
            let keep = format!("_keep_background_task{sfx}");
            let names =
                [format!("_background_tasks{sfx}"), keep.clone(), format!("_background_task_done{sfx}")];
            // Ours, maybe reformatted since: all three names defined at module level.
            let root = file.model.root();
            if names.iter().all(|name| file.model.resolve(name, root) == Resolved::Other) {
                return (keep, None);
            }
            if names.iter().all(|name| !identifiers.contains(name.as_str())) {
                return (keep, Some(Helper { code }));
            }
        }
        unreachable!("some suffix is always free")
    }
}

fn first_argument_is_call(call: Node) -> bool {
    call.child_by_field_name("arguments")
        .and_then(|arguments| arguments.named_child(0))
        .is_some_and(|first| first.kind() == "call")
}

/// Whether `statement` runs when the module is imported (not inside a function or lambda).
fn runs_at_import(statement: Node) -> bool {
    !std::iter::successors(statement.parent(), |n| n.parent())
        .any(|n| matches!(n.kind(), "function_definition" | "lambda"))
}

/// The module-level statement that contains `statement`.
fn top_level_statement(statement: Node) -> Node {
    std::iter::successors(Some(statement), |n| n.parent())
        .find(|n| n.parent().is_some_and(|p| p.kind() == "module"))
        .unwrap_or(statement)
}
