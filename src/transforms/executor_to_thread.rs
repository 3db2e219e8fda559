//! `executor-to-thread`: `await loop.run_in_executor(None, fn, *args)`, or with
//! `functools.partial(fn, *args, **kwargs)`, becomes `await asyncio.to_thread(fn, ...)`.
//! Documentation, safety and examples: `transforms/executor-to-thread.toml`.

use tree_sitter::Node;

use crate::finding::{Edit, Finding, Fix, Safety};
use crate::transforms::{FileContext, Transform};

pub struct ExecutorToThread;

const ID: &str = "executor-to-thread";

impl Transform for ExecutorToThread {
    fn id(&self) -> &'static str {
        ID
    }

    fn anchors(&self) -> &'static [&'static str] {
        &["run_in_executor"]
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[&["run_in_executor"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        for &call in file.calls {
            let Some(function) = call.child_by_field_name("function").filter(|f| f.kind() == "attribute")
            else {
                continue;
            };
            if function.child_by_field_name("attribute").is_none_or(|a| file.text(a) != "run_in_executor") {
                continue;
            }
            let Some(receiver) = function.child_by_field_name("object") else { continue };
            // Only the awaited form: a bare `run_in_executor` starts at once and returns a
            // future, `to_thread` returns a coroutine that starts when awaited.
            if call.parent().is_none_or(|p| p.kind() != "await")
                || file.model.loop_receiver(receiver, call).is_none()
            {
                continue;
            }
            // `asyncio.to_thread` itself is written this way (and so may be a project's backport).
            if enclosing_function_name(file, call) == Some("to_thread") {
                continue;
            }
            let Some(arguments) = call.child_by_field_name("arguments") else { continue };
            let args: Vec<Node> = {
                let mut cursor = arguments.walk();
                arguments.named_children(&mut cursor).filter(|a| a.kind() != "comment").collect()
            };
            // A non-None executor (a process pool, a sized pool) is chosen on purpose.
            if args.len() < 2
                || args[0].kind() != "none"
                || args.iter().any(|a| a.kind() == "keyword_argument")
            {
                continue;
            }
            let finding = file.finding(
                ID,
                call,
                format!(
                    "`{}.run_in_executor(None, ...)` is `asyncio.to_thread(...)` since Python 3.9",
                    file.text(receiver)
                ),
            );
            let Some(asyncio) = file.model.module_ref("asyncio", call) else {
                findings.push(finding.report_only("the name `asyncio` is not usable here"));
                continue;
            };
            // Edits around the arguments, not a rebuilt call, so that their layout and comments stay.
            let mut edits = vec![Edit::replace(function.byte_range(), format!("{}.to_thread", asyncio.name))];
            match self.partial_arguments(file, &args) {
                Some((partial, first, last)) => {
                    edits.push(Edit::replace(args[0].start_byte()..first.start_byte(), ""));
                    edits.push(Edit::replace(last.end_byte()..partial.end_byte(), ""));
                }
                None => edits.push(Edit::replace(args[0].start_byte()..args[1].start_byte(), "")),
            }
            let fix = Fix {
                safety: Safety::Unsafe,
                edits,
                imports: if asyncio.needs_import { vec!["asyncio".to_string()] } else { Vec::new() },
                helpers: Vec::new(),
            };
            findings.push(finding.with_fix(fix));
        }
    }
}

fn enclosing_function_name<'t>(file: &FileContext<'_, 't>, node: Node<'t>) -> Option<&'t str> {
    let function =
        std::iter::successors(node.parent(), |n| n.parent()).find(|n| n.kind() == "function_definition")?;
    Some(file.text(function.child_by_field_name("name")?))
}

impl ExecutorToThread {
    /// `functools.partial(fn, ...)` when it is the only callable argument, with its first and
    /// last arguments.
    fn partial_arguments<'t>(
        &self,
        file: &FileContext<'_, 't>,
        args: &[Node<'t>],
    ) -> Option<(Node<'t>, Node<'t>, Node<'t>)> {
        let [_, partial] = args else { return None };
        let callee = partial.child_by_field_name("function").filter(|_| partial.kind() == "call")?;
        if file.model.qualified_name(callee).as_deref() != Some("functools.partial") {
            return None;
        }
        let inner = partial.child_by_field_name("arguments").filter(|a| a.kind() == "argument_list")?;
        let mut cursor = inner.walk();
        let inner: Vec<Node> = inner.named_children(&mut cursor).filter(|a| a.kind() != "comment").collect();
        Some((*partial, *inner.first()?, *inner.last()?))
    }
}
