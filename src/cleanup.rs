//! Cleanups after a rewrite, besides imports: drop a function's
//! `loop = asyncio.get_running_loop()` once a rewrite (such as `executor-to-thread`) left `loop`
//! unused. Like import removal, only bindings that were used before the rewrite go.

use std::collections::HashSet;

use tree_sitter::Node;

use crate::imports::{reference_counts, scope_path, statement_removal};
use crate::semantic::Model;
use crate::syntax::{self, parse, text};

/// (scope path, variable name) of a loop variable.
type LoopKey = (String, String);

/// `name = <asyncio loop getter>()` statements in function bodies, with whether the name is used.
fn loop_variables<'t>(model: &Model<'t>, source: &str) -> Vec<(LoopKey, Node<'t>, bool)> {
    let mut out = Vec::new();
    for assignment in syntax::descendants(model.root(), |n| n.kind() == "assignment") {
        let (Some(left), Some(right)) =
            (assignment.child_by_field_name("left"), assignment.child_by_field_name("right"))
        else {
            continue;
        };
        let Some(statement) = assignment.parent().filter(|p| p.kind() == "expression_statement") else {
            continue;
        };
        // Anywhere in a function's own code (under `try`, `while`, ...), not in a nested scope.
        let function = std::iter::successors(statement.parent(), |n| n.parent())
            .find(|n| matches!(n.kind(), "function_definition" | "lambda" | "class_definition" | "module"));
        let Some(function) = function.filter(|f| f.kind() == "function_definition") else { continue };
        if left.kind() != "identifier" || !model.is_loop_getter(right) {
            continue;
        }
        let name = text(left, source);
        // The assignment's own target counts once.
        let uses = reference_counts(function, source).get(name).copied().unwrap_or(0).saturating_sub(1);
        out.push(((scope_path(statement, source), name.to_string()), statement, uses > 0));
    }
    out
}

/// The loop variables that are used somewhere in their function.
pub fn used_loop_variables(source: &str) -> HashSet<LoopKey> {
    if !source.contains("_loop(") {
        return HashSet::new();
    }
    let tree = parse(source);
    let model = Model::new(source, tree.root_node());
    loop_variables(&model, source).into_iter().filter(|(_, _, used)| *used).map(|(key, _, _)| key).collect()
}

/// Removes the loop variables of `previously_used` that nothing uses any more.
pub fn remove_unused_loop_variables(source: &str, previously_used: &HashSet<LoopKey>) -> String {
    let mut current = source.to_string();
    for _ in 0..previously_used.len() {
        let tree = parse(&current);
        let model = Model::new(&current, tree.root_node());
        let unused = loop_variables(&model, &current)
            .into_iter()
            .find(|(key, _, used)| !used && previously_used.contains(key));
        let Some((start, end, replacement)) =
            unused.and_then(|(_, statement, _)| statement_removal(statement, &current))
        else {
            break;
        };
        current = format!("{}{replacement}{}", &current[..start], &current[end..]);
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_a_loop_variable_a_rewrite_left_unused() {
        let before = "import asyncio\nasync def f():\n    loop = asyncio.get_running_loop()\n    await loop.run_in_executor(None, g)\n";
        let used = used_loop_variables(before);
        assert_eq!(used.len(), 1);
        let after = "import asyncio\nasync def f():\n    loop = asyncio.get_running_loop()\n    await asyncio.to_thread(g)\n";
        assert_eq!(
            remove_unused_loop_variables(after, &used),
            "import asyncio\nasync def f():\n    await asyncio.to_thread(g)\n"
        );
        // Under `try` in a loop, as real code fetches the loop per iteration.
        let in_try = "import asyncio\nasync def f(q):\n    while True:\n        try:\n            loop = asyncio.get_running_loop()\n            v = await loop.run_in_executor(None, q.get)\n        except E:\n            continue\n";
        let used_in_try = used_loop_variables(in_try);
        let fixed_in_try = in_try.replace("loop.run_in_executor(None, q.get)", "asyncio.to_thread(q.get)");
        assert_eq!(
            remove_unused_loop_variables(&fixed_in_try, &used_in_try),
            "import asyncio\nasync def f(q):\n    while True:\n        try:\n            v = await asyncio.to_thread(q.get)\n        except E:\n            continue\n"
        );
        // Unused before the rewrite: not ours to remove.
        assert_eq!(remove_unused_loop_variables(after, &HashSet::new()), after);
    }
}
