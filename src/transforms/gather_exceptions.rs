//! `gather-exceptions` (report only): the results of `asyncio.gather(..., return_exceptions=True)`
//! are used, but nothing checks them for exceptions, so a failure is used as if it were a result.
//! Documentation and examples: `transforms/gather-exceptions.toml`.

use tree_sitter::Node;

use crate::finding::Finding;
use crate::syntax;
use crate::transforms::{FileContext, Transform};

pub struct GatherExceptions;

const ID: &str = "gather-exceptions";

impl Transform for GatherExceptions {
    fn id(&self) -> &'static str {
        ID
    }

    fn anchors(&self) -> &'static [&'static str] {
        &["async", "gather"]
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[&["gather", "return_exceptions"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        for &call in file.calls {
            let Some(function) = call.child_by_field_name("function") else { continue };
            if !returns_exceptions(file, call)
                || file.model.qualified_name(function).as_deref() != Some("asyncio.gather")
            {
                continue;
            }
            let Some(statement) = std::iter::successors(call.parent(), |n| n.parent())
                .find(|n| n.parent().is_some_and(|p| matches!(p.kind(), "block" | "module")))
            else {
                continue;
            };
            let scope = std::iter::successors(Some(statement), |n| n.parent())
                .find(|n| matches!(n.kind(), "function_definition" | "module"))
                .unwrap_or(statement);
            let Some(uses) = result_uses(file, call, statement, scope) else { continue };
            // The checks that can be about these results: up to the next such gather.
            let until = file
                .calls
                .iter()
                .find(|c| c.start_byte() >= statement.end_byte() && returns_exceptions(file, **c))
                .map_or(scope.end_byte(), |c| c.start_byte());
            if !uses || checks_for_exceptions(file, scope, statement.start_byte()..until) {
                continue;
            }
            let finding = file.finding(
                ID,
                call,
                "the results of `asyncio.gather(..., return_exceptions=True)` are used without checking for \
                 exceptions: a failed call's exception is used as if it were its result",
            );
            findings.push(finding.report_only(
                "check each result with `isinstance(result, BaseException)` before using it, or drop \
                 `return_exceptions=True` to let the first failure propagate",
            ));
        }
    }
}

fn returns_exceptions(file: &FileContext, call: Node) -> bool {
    let Some(arguments) = call.child_by_field_name("arguments") else { return false };
    let mut cursor = arguments.walk();
    arguments.named_children(&mut cursor).any(|argument| {
        argument.kind() == "keyword_argument"
            && argument.child_by_field_name("name").is_some_and(|n| file.text(n) == "return_exceptions")
            && argument.child_by_field_name("value").is_some_and(|v| file.text(v) == "True")
    })
}

/// Whether the results are used in `scope`; `None` when they leave it (returned, yielded) or are
/// dropped, where a caller or nobody decides.
fn result_uses(file: &FileContext, call: Node, statement: Node, scope: Node) -> Option<bool> {
    let mut outer = call;
    while let Some(parent) =
        outer.parent().filter(|p| matches!(p.kind(), "await" | "parenthesized_expression"))
    {
        outer = parent;
    }
    let parent = outer.parent()?;
    match parent.kind() {
        "expression_statement" | "return_statement" | "yield" => None,
        "assignment" if parent.child_by_field_name("right") == Some(outer) => {
            let target = parent.child_by_field_name("left")?;
            let bound: Vec<&str> = syntax::descendants(target, |n| n.kind() == "identifier")
                .into_iter()
                .map(|n| file.text(n))
                .collect();
            let later = syntax::descendants(scope, |n| {
                n.kind() == "identifier"
                    && n.start_byte() >= statement.end_byte()
                    && bound.contains(&file.text(n))
                    && !is_deleted(n)
            });
            Some(!later.is_empty())
        }
        _ => Some(true),
    }
}

/// Whether `identifier` is a target of `del` (`del results`, `del results, other`): that drops
/// the results unread.
fn is_deleted(identifier: Node) -> bool {
    let parent = identifier.parent();
    let list_parent = parent.filter(|p| p.kind() == "expression_list").and_then(|p| p.parent());
    [parent, list_parent].into_iter().flatten().any(|p| p.kind() == "delete_statement")
}

/// Whether the scope checks something for being an exception within `range`:
/// `isinstance(x, BaseException)`, `isinstance(x, (ValueError, ...))`, `issubclass(...)`.
fn checks_for_exceptions(file: &FileContext, scope: Node, range: std::ops::Range<usize>) -> bool {
    syntax::descendants(scope, |n| n.kind() == "call" && range.contains(&n.start_byte())).into_iter().any(
        |call| {
            let is_check = call
                .child_by_field_name("function")
                .is_some_and(|f| matches!(file.text(f), "isinstance" | "issubclass"));
            let classes = call.child_by_field_name("arguments").and_then(|a| a.named_child(1));
            is_check
                && classes.is_some_and(|c| {
                    let text = file.text(c);
                    text.contains("Exception") || text.contains("Error")
                })
        },
    )
}
