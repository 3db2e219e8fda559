//! Helpers for fixes that rewrite a whole statement: wrapping it in an `async with` block or
//! putting a block before it. Shared by `httpx-to-async` and `requests-to-aiohttp`.

use std::collections::HashSet;
use std::ops::Range;

use tree_sitter::Node;

use crate::finding::Edit;
use crate::syntax;
use crate::transforms::FileContext;

/// The statement `node` belongs to: the ancestor that sits directly in a block of the function.
pub(crate) fn enclosing_statement(node: Node) -> Option<Node> {
    let mut current = node;
    while let Some(parent) = current.parent() {
        match parent.kind() {
            "block" => return Some(current),
            "function_definition" | "lambda" | "class_definition" | "module" => return None,
            _ => current = parent,
        }
    }
    None
}

/// The function definition `node` is in.
pub(crate) fn enclosing_function(node: Node) -> Option<Node> {
    std::iter::successors(node.parent(), |n| n.parent()).find(|n| n.kind() == "function_definition")
}

/// The indentation of a simple statement that has its lines to itself (so that it can become
/// the body of a block), or why it does not.
pub(crate) fn own_lines<'t>(file: &FileContext<'_, 't>, statement: Node<'t>) -> Result<&'t str, String> {
    if !matches!(statement.kind(), "expression_statement" | "return_statement") {
        return Err("the call is part of a compound statement's header".into());
    }
    let source = file.source;
    let line_start = source[..statement.start_byte()].rfind('\n').map_or(0, |i| i + 1);
    let indent = &source[line_start..statement.start_byte()];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return Err("the statement shares its line with other code".into());
    }
    let line_end =
        source[statement.end_byte()..].find('\n').map_or(source.len(), |i| statement.end_byte() + i);
    let rest = source[statement.end_byte()..line_end].trim();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return Err("the statement shares its line with other code".into());
    }
    let multiline_string = syntax::find_first(statement, |n| {
        n.kind() == "string" && n.start_position().row != n.end_position().row
    });
    if multiline_string.is_some() {
        return Err("the statement holds a multi-line string, which re-indenting would change".into());
    }
    Ok(indent)
}

/// The source text of `range` with the `edits` that lie inside it applied.
pub(crate) fn render(source: &str, range: Range<usize>, edits: &[Edit]) -> String {
    let mut inside: Vec<&Edit> =
        edits.iter().filter(|e| e.range.start >= range.start && e.range.end <= range.end).collect();
    inside.sort_by_key(|e| std::cmp::Reverse((e.range.start, e.range.end)));
    let mut text = source[range.clone()].to_string();
    for edit in inside {
        text.replace_range(edit.range.start - range.start..edit.range.end - range.start, &edit.replacement);
    }
    text
}

/// `text` with `extra` added at the start of every line but the first (blank lines stay blank),
/// to move it into a deeper block.
pub(crate) fn indent_continuation(text: &str, extra: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
            if !line.trim().is_empty() {
                out.push_str(extra);
            }
        }
        out.push_str(line);
    }
    out
}

/// Whether `usage` of `name` belongs to another `with ... as name:` statement than `own` (its
/// target, or a use in its body), one that does not hold `own`: it names that statement's object,
/// not the one `own` opened (`with httpx.Client() as c:` twice in a row).
pub(crate) fn rebound_by_other_with(file: &FileContext, usage: Node, name: &str, own: Node) -> bool {
    let holds_own = |n: &Node| n.start_byte() <= own.start_byte() && own.end_byte() <= n.end_byte();
    std::iter::successors(usage.parent(), |n| n.parent())
        .filter(|n| n.kind() == "with_statement" && !holds_own(n))
        .any(|with| {
            let targets = with
                .named_child(0)
                .filter(|c| c.kind() == "with_clause")
                .map(|clause| {
                    syntax::descendants(clause, |n| {
                        n.kind() == "identifier"
                            && file.text(n) == name
                            && n.parent().is_some_and(|p| p.kind() == "as_pattern_target")
                    })
                })
                .unwrap_or_default();
            let in_body = with
                .child_by_field_name("body")
                .is_some_and(|b| b.start_byte() <= usage.start_byte() && usage.end_byte() <= b.end_byte());
            !targets.is_empty() && (in_body || targets.contains(&usage))
        })
}

/// The text of every identifier under `node`: the names a new one must not clash with.
pub(crate) fn identifiers<'t>(file: &FileContext<'_, 't>, node: Node<'t>) -> HashSet<&'t str> {
    syntax::descendants(node, |n| n.kind() == "identifier").into_iter().map(|n| file.text(n)).collect()
}

/// The first of `candidates` (then `candidates[0]` with a number) that no identifier in
/// `function` uses.
pub(crate) fn fresh_name(file: &FileContext, function: Node, candidates: &[&str]) -> String {
    let taken = identifiers(file, function);
    if let Some(free) = candidates.iter().find(|c| !taken.contains(**c)) {
        return free.to_string();
    }
    let base = candidates.first().copied().unwrap_or("value");
    (2..).map(|i| format!("{base}_{i}")).find(|n| !taken.contains(n.as_str())).unwrap_or_default()
}

/// Where an expression is used, for placing `await`: inside an attribute access, subscript or
/// call it needs parentheses.
pub(crate) fn awaited(node: Node, expression: &str) -> String {
    match node.parent().map(|p| p.kind()) {
        Some("attribute" | "subscript" | "call") => format!("(await {expression})"),
        _ => format!("await {expression}"),
    }
}

/// Whether `node` is in a self-documenting f-string field (`f"{r.status_code=}"`): that prints
/// its own source text, so rewriting the expression changes the output.
pub(crate) fn in_debug_field(node: Node) -> bool {
    std::iter::successors(node.parent(), |n| n.parent())
        .filter(|n| n.kind() == "interpolation")
        .any(|field| (0..field.child_count()).filter_map(|i| field.child(i)).any(|c| c.kind() == "="))
}

/// The arguments of a call, comments excluded.
pub(crate) fn arguments(call: Node) -> Vec<Node> {
    let Some(list) = call.child_by_field_name("arguments") else { return Vec::new() };
    let mut cursor = list.walk();
    list.named_children(&mut cursor).filter(|a| a.kind() != "comment").collect()
}

/// The name and value of a keyword argument.
pub(crate) fn keyword<'t>(file: &FileContext<'_, 't>, argument: Node<'t>) -> Option<(&'t str, Node<'t>)> {
    if argument.kind() != "keyword_argument" {
        return None;
    }
    Some((file.text(argument.child_by_field_name("name")?), argument.child_by_field_name("value")?))
}

/// Every identifier in `function` that names the variable `name` (not attribute names or keyword
/// argument names).
pub(crate) fn references<'t>(file: &FileContext<'_, 't>, function: Node<'t>, name: &str) -> Vec<Node<'t>> {
    syntax::descendants(function, |n| {
        n.kind() == "identifier"
            && file.text(n) == name
            && !n.parent().is_some_and(|p| {
                (p.kind() == "attribute" && p.child_by_field_name("attribute") == Some(n))
                    || (p.kind() == "keyword_argument" && p.child_by_field_name("name") == Some(n))
            })
    })
}
