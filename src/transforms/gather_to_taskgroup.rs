//! `gather-to-taskgroup`: `await asyncio.gather(a(), b())` (without `return_exceptions`) becomes
//! an `asyncio.TaskGroup` block on Python 3.11+. Opt-in.
//! Documentation, safety and examples: `transforms/gather-to-taskgroup.toml`.

use tree_sitter::Node;

use crate::finding::{Edit, Finding, Fix, Safety};
use crate::semantic::Context;
use crate::syntax;
use crate::transforms::concurrency::{self, FreshNames};
use crate::transforms::{FileContext, Transform};

pub struct GatherToTaskgroup;

const ID: &str = "gather-to-taskgroup";

/// asyncio functions that return a coroutine, which `TaskGroup.create_task` accepts; the others
/// (`ensure_future`, `shield`, `wrap_future`, ...) return futures, which it rejects.
const COROUTINE_FUNCTIONS: &[&str] = &["asyncio.sleep", "asyncio.to_thread", "asyncio.wait_for"];

/// Methods that return a future rather than a coroutine.
const FUTURE_METHODS: &[&str] = &["run_in_executor", "create_task", "ensure_future", "create_future"];

impl Transform for GatherToTaskgroup {
    fn id(&self) -> &'static str {
        ID
    }

    fn anchors(&self) -> &'static [&'static str] {
        &["async", "gather"]
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[&["gather"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        for &call in file.calls {
            let Some(function) = call.child_by_field_name("function") else { continue };
            if file.model.qualified_name(function).as_deref() != Some("asyncio.gather") {
                continue;
            }
            let Some(awaited) = call.parent().filter(|p| p.kind() == "await") else { continue };
            let Some(arguments) = call.child_by_field_name("arguments") else { continue };
            let mut cursor = arguments.walk();
            let args: Vec<Node> =
                arguments.named_children(&mut cursor).filter(|a| a.kind() != "comment").collect();
            // `return_exceptions` has no TaskGroup equivalent; unpacked arguments may be tasks or
            // futures (as in asyncmod's own bounded-gather helper), which `create_task` rejects.
            if args.is_empty() || args.iter().any(|a| matches!(a.kind(), "keyword_argument" | "list_splat")) {
                continue;
            }
            if file.model.context(call) != Context::Async {
                continue;
            }
            let finding = file.finding(
                ID,
                call,
                format!(
                    "`{}(...)` can be an `asyncio.TaskGroup`, which cancels the other calls when one fails",
                    file.text(function)
                ),
            );
            match self.rewrite(file, awaited, &args) {
                Ok((range, code, needs_import)) => {
                    let fix = Fix {
                        safety: Safety::Unsafe,
                        edits: vec![Edit::replace(range, code)],
                        imports: if needs_import { vec!["asyncio".to_string()] } else { Vec::new() },
                        helpers: Vec::new(),
                    };
                    findings.push(finding.with_fix(fix));
                }
                Err(why) => findings.push(finding.report_only(why)),
            }
        }
    }
}

impl GatherToTaskgroup {
    /// The statement range to replace, its replacement and whether `asyncio` must be imported.
    fn rewrite<'t>(
        &self,
        file: &FileContext<'_, 't>,
        awaited: Node<'t>,
        args: &[Node<'t>],
    ) -> Result<(std::ops::Range<usize>, String, bool), String> {
        for (position, arg) in args.iter().enumerate() {
            // A task starts at the first suspension after its creation: an `await` in a later
            // argument would let the earlier calls run before it, where gather started none.
            if let Some(inner) =
                syntax::find_first(*arg, |n| matches!(n.kind(), "await" | "yield")).filter(|_| position > 0)
            {
                return Err(format!(
                    "`{}` holds an `{}`: the tasks created before it would start while it waits",
                    file.text(*arg),
                    inner.kind()
                ));
            }
            if !self.makes_coroutine(file, *arg) {
                return Err(format!(
                    "`{}` may be a task or future, which `TaskGroup.create_task` does not take",
                    file.text(*arg)
                ));
            }
        }
        let parent = awaited.parent().ok_or("no statement")?;
        let (statement, assignment) = match parent.kind() {
            "expression_statement" => (parent, None),
            "assignment" if parent.child_by_field_name("right") == Some(awaited) => {
                let statement = parent
                    .parent()
                    .filter(|s| s.kind() == "expression_statement")
                    .ok_or("not a statement")?;
                (statement, Some(parent))
            }
            _ => return Err("the gather is part of a larger expression; rewrite it by hand".into()),
        };
        if statement.named_child_count() != 1 {
            return Err("the gather is part of a larger statement; rewrite it by hand".into());
        }
        if let Some(why) = concurrency::taskgroup_changes_handler(file, statement) {
            return Err(why.into());
        }
        let indent =
            concurrency::line_indent(file, statement).ok_or("the statement does not start its own line")?;
        let asyncio =
            file.model.module_ref("asyncio", statement).ok_or("the name `asyncio` is not usable here")?;
        let mut names = FreshNames::new(file, statement);
        let unit = &file.style.indent;
        let nl = file.style.newline;
        let group = names.get("tg");
        let mut code = String::new();
        let kept: Vec<_> = args.iter().map(|a| a.byte_range()).collect();
        for comment in concurrency::loose_comments(file, statement.byte_range(), &kept) {
            code.push_str(&format!("{comment}{nl}{indent}"));
        }
        code.push_str(&format!("async with {}.TaskGroup() as {group}:", asyncio.name));
        let Some(assignment) = assignment else {
            for arg in args {
                let arg = concurrency::reindent(file, *arg, &format!("{indent}{unit}"));
                code.push_str(&format!("{nl}{indent}{unit}{group}.create_task({arg})"));
            }
            return Ok((statement.byte_range(), code, asyncio.needs_import));
        };
        let target = assignment.child_by_field_name("left").ok_or("no target")?;
        let elements: Vec<Node> = match target.kind() {
            "pattern_list" | "tuple_pattern" | "list_pattern" => {
                let mut cursor = target.walk();
                target.named_children(&mut cursor).filter(|e| e.kind() != "comment").collect()
            }
            _ => Vec::new(),
        };
        let unpacked = !elements.is_empty();
        if unpacked
            && (elements.len() != args.len() || elements.iter().any(|e| e.kind() == "list_splat_pattern"))
        {
            return Err("the results are unpacked into a different shape; rewrite it by hand".into());
        }
        let mut results = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            let base = match elements.get(i) {
                Some(element) if element.kind() == "identifier" => format!("{}_task", file.text(*element)),
                _ => "task".to_string(),
            };
            let task = names.get(&base);
            let arg = concurrency::reindent(file, *arg, &format!("{indent}{unit}"));
            code.push_str(&format!("{nl}{indent}{unit}{task} = {group}.create_task({arg})"));
            results.push(format!("{task}.result()"));
        }
        let annotation =
            assignment.child_by_field_name("type").map(|t| format!(": {}", file.text(t))).unwrap_or_default();
        let value = if unpacked { results.join(", ") } else { format!("[{}]", results.join(", ")) };
        code.push_str(&format!("{nl}{indent}{}{annotation} = {value}", file.text(target)));
        Ok((statement.byte_range(), code, asyncio.needs_import))
    }

    /// Whether `arg` is a call that returns a coroutine, as far as can be told.
    fn makes_coroutine(&self, file: &FileContext, arg: Node) -> bool {
        let Some(function) = arg.child_by_field_name("function").filter(|_| arg.kind() == "call") else {
            return false;
        };
        if let Some(name) = file.model.qualified_name(function)
            && matches!(name.split('.').next(), Some("asyncio" | "trio" | "anyio"))
        {
            return COROUTINE_FUNCTIONS.contains(&name.as_str());
        }
        let last = match function.kind() {
            "attribute" => function.child_by_field_name("attribute").map_or("", |a| file.text(a)),
            _ => file.text(function),
        };
        !FUTURE_METHODS.contains(&last)
    }
}
