//! Import management shared by every transform: add the imports fixes ask for (once, in the
//! leading import block, in the file's style), add module-level helpers after the imports, and
//! drop imports that a rewrite left unused.
//!
//! Transforms never touch import lines; they ask through [`Fix::imports`](crate::finding::Fix)
//! and the engine calls this module after applying their edits.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use crate::source::Style;
use crate::syntax::{self, parse, text};

/// The top-level statements that open a module: docstring, comments, `__future__` imports,
/// imports, `try:` blocks of imports and `if TYPE_CHECKING:` blocks. New imports and helpers go
/// into or right after this block.
fn leading_statements<'t>(root: Node<'t>, source: &str) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    let mut cursor = root.walk();
    let mut first = true;
    for child in root.named_children(&mut cursor) {
        let include = match child.kind() {
            "comment" => continue,
            "expression_statement" => first && is_docstring(child),
            "future_import_statement" | "import_statement" | "import_from_statement" => true,
            "try_statement" => child.child_by_field_name("body").is_some_and(|body| {
                let mut c = body.walk();
                body.named_children(&mut c).all(|s| is_import(s) || s.kind() == "comment")
            }),
            "if_statement" => child
                .child_by_field_name("condition")
                .is_some_and(|c| text(c, source).contains("TYPE_CHECKING")),
            _ => false,
        };
        first = false;
        if !include {
            break;
        }
        out.push(child);
    }
    out
}

fn is_docstring(statement: Node) -> bool {
    statement.named_child_count() == 1 && statement.named_child(0).is_some_and(|s| s.kind() == "string")
}

fn is_import(node: Node) -> bool {
    matches!(node.kind(), "import_statement" | "import_from_statement" | "future_import_statement")
}

/// Byte offset of the start of the line after the one `offset` is on (or the end of the text).
fn next_line_start(source: &str, offset: usize) -> usize {
    source[offset..].find('\n').map_or(source.len(), |i| offset + i + 1)
}

fn line_start(source: &str, offset: usize) -> usize {
    source[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// Skips blank lines starting at the line start `offset`.
fn skip_blank_lines(source: &str, mut offset: usize) -> usize {
    while offset < source.len() {
        let end = next_line_start(source, offset);
        if !source[offset..end].trim().is_empty() {
            break;
        }
        offset = end;
    }
    offset
}

/// Where module-level helpers are inserted: the start of the line after the leading block (or the
/// first statement when there is none). Code before it runs before a helper can exist.
pub fn helper_anchor(root: Node, source: &str) -> usize {
    match leading_statements(root, source).last() {
        Some(last) => next_line_start(source, last.end_byte()),
        None => first_statement_start(root, source),
    }
}

/// Where code goes in a module with no docstring and no imports: after the leading comments
/// when a blank line separates them from the code, else above the comments attached to the first
/// statement, but never above a shebang or an encoding cookie.
fn first_statement_start(root: Node, source: &str) -> usize {
    let mut cursor = root.walk();
    let children: Vec<Node> = root.named_children(&mut cursor).collect();
    let first = children.iter().position(|c| c.kind() != "comment");
    let statement_start = first.map_or(source.len(), |i| line_start(source, children[i].start_byte()));
    let comments = &children[..first.unwrap_or(children.len())];
    let Some(last) = comments.last() else {
        return statement_start;
    };
    let after_comments = next_line_start(source, last.end_byte());
    if after_comments < statement_start || first.is_none() {
        return after_comments;
    }
    let mut block_start = line_start(source, last.start_byte());
    for comment in comments.iter().rev().skip(1) {
        if next_line_start(source, comment.end_byte()) != block_start {
            break;
        }
        block_start = line_start(source, comment.start_byte());
    }
    let protected_end = comments
        .iter()
        .filter(|c| c.start_position().row < 2)
        .filter(|c| {
            let t = text(**c, source);
            t.starts_with("#!") || t.contains("coding:") || t.contains("coding=")
        })
        .map(|c| next_line_start(source, c.end_byte()))
        .max()
        .unwrap_or(0);
    block_start.max(protected_end)
}

/// The newlines that make `want` blank lines between inserted code and what follows `at`
/// (counting the blank lines already there); none at the end of the file.
fn blank_lines_before(source: &str, at: usize, want: usize, nl: &str) -> String {
    let code = skip_blank_lines(source, at);
    if code == source.len() {
        return String::new();
    }
    let existing = source[at..code].matches('\n').count();
    nl.repeat(want.saturating_sub(existing))
}

/// Whether the module already has a top-level `import module` (unaliased).
fn has_plain_import(root: Node, source: &str, module: &str) -> bool {
    let mut cursor = root.walk();
    root.named_children(&mut cursor).filter(|s| s.kind() == "import_statement").any(|s| {
        let mut c = s.walk();
        s.children_by_field_name("name", &mut c)
            .any(|n| n.kind() == "dotted_name" && text(n, source) == module)
    })
}

/// Adds `import module` to the leading import block, in its isort section (see [`among_imports`]).
/// No change when already imported.
pub fn add_import(source: &str, module: &str, style: &Style) -> String {
    let tree = parse(source);
    let root = tree.root_node();
    if has_plain_import(root, source, module) {
        return source.to_string();
    }
    let nl = style.newline;
    let line = format!("import {module}{nl}");
    let leading = leading_statements(root, source);
    let (at, insert) = if let Some(placed) = among_imports(&leading, source, module, &line, nl) {
        placed
    } else if let Some(last) = leading.iter().rev().find(|s| s.kind() != "expression_statement") {
        if last.kind() == "future_import_statement" {
            after_with_blank_lines(source, last.end_byte(), &line, nl)
        } else {
            let at = next_line_start(source, last.end_byte());
            let prefix = if at == source.len() && !source.ends_with('\n') { nl } else { "" };
            (at, format!("{prefix}{line}"))
        }
    } else if let Some(docstring) = leading.first() {
        after_with_blank_lines(source, docstring.end_byte(), &line, nl)
    } else {
        let at = first_statement_start(root, source);
        // PEP 8: two blank lines before a top-level definition, one before other code.
        let next_code =
            root.named_descendant_for_byte_range(skip_blank_lines(source, at), skip_blank_lines(source, at));
        let is_definition = next_code.is_some_and(|node| {
            let mut node = node;
            while let Some(parent) = node.parent().filter(|p| p.kind() != "module") {
                node = parent;
            }
            matches!(node.kind(), "function_definition" | "class_definition" | "decorated_definition")
        });
        (at, format!("{line}{}", blank_lines_before(source, at, if is_definition { 2 } else { 1 }, nl)))
    };
    splice(source, at, at, &insert)
}

/// The isort section of an import: the standard library sorts before everything else, and
/// relative imports come last.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    StandardLibrary,
    Other,
    Relative,
}

fn section_of(statement: Node, source: &str) -> Section {
    let name = match statement.kind() {
        "import_statement" => statement.child_by_field_name("name"),
        _ => statement.child_by_field_name("module_name"),
    };
    let Some(name) = name else { return Section::Other };
    let name = name.child_by_field_name("name").filter(|_| name.kind() == "aliased_import").unwrap_or(name);
    if name.kind() == "relative_import" {
        Section::Relative
    } else if crate::stdlib::contains(text(name, source)) {
        Section::StandardLibrary
    } else {
        Section::Other
    }
}

/// Where `import module` goes when the file has top-level imports: in its own section (standard
/// library or third party, as isort and Ruff sort them), plain imports before `from` imports and
/// in alphabetical order; a section of its own, set off by blank lines, when the file has none.
fn among_imports(
    leading: &[Node],
    source: &str,
    module: &str,
    line: &str,
    nl: &str,
) -> Option<(usize, String)> {
    let imports: Vec<(Node, Section)> = leading
        .iter()
        .filter(|s| matches!(s.kind(), "import_statement" | "import_from_statement"))
        .map(|&s| (s, section_of(s, source)))
        .collect();
    if imports.is_empty() {
        return None;
    }
    let section = if crate::stdlib::contains(module) { Section::StandardLibrary } else { Section::Other };
    let same: Vec<Node> = imports.iter().filter(|(_, s)| *s == section).map(|(n, _)| *n).collect();
    let plain: Vec<Node> = same.iter().copied().filter(|s| s.kind() == "import_statement").collect();
    let first_module = |s: &Node| {
        let mut c = s.walk();
        s.children_by_field_name("name", &mut c).next().map(|n| text(n, source).to_string())
    };
    if let Some(later) = plain.iter().find(|s| first_module(s).is_some_and(|m| m.as_str() > module)) {
        return Some((line_start(source, later.start_byte()), line.to_string()));
    }
    if let Some(last) = plain.last() {
        return Some(after_line_of(source, last.end_byte(), line.to_string(), nl));
    }
    if let Some(first) = same.first() {
        return Some((line_start(source, first.start_byte()), line.to_string()));
    }
    // A new section: after the sections that sort before it, before those that sort after it.
    match imports.iter().rev().find(|(_, s)| *s < section) {
        Some((before, _)) => {
            let at = next_line_start(source, before.end_byte());
            let after = if imports.iter().any(|(n, s)| *s > section && n.start_byte() >= at)
                && skip_blank_lines(source, at) == at
            {
                nl
            } else {
                ""
            };
            Some(after_line_of(source, before.end_byte(), format!("{nl}{line}{after}"), nl))
        }
        None => {
            let (first, _) = imports[0];
            let at = line_start(source, first.start_byte());
            Some((at, format!("{line}{nl}")))
        }
    }
}

/// Inserts `text` at the start of the line after the one where `end` lies (a file without a final
/// newline gets one first).
fn after_line_of(source: &str, end: usize, text: String, nl: &str) -> (usize, String) {
    let at = next_line_start(source, end);
    if at == source.len() && !source.ends_with('\n') { (at, format!("{nl}{text}")) } else { (at, text) }
}

/// Inserts `line` after the statement ending at `end`, separated by blank lines from what is
/// above and below it.
fn after_with_blank_lines(source: &str, end: usize, line: &str, nl: &str) -> (usize, String) {
    let next = next_line_start(source, end);
    let at = skip_blank_lines(source, next);
    let prefix = if at == next { nl } else { "" };
    let prefix =
        if next == source.len() && !source.ends_with('\n') { format!("{nl}{prefix}") } else { prefix.into() };
    let suffix = if at < source.len() { nl } else { "" };
    (at, format!("{prefix}{line}{suffix}"))
}

/// Adds a module-level helper after the leading block, two blank lines around it as PEP 8
/// wants. No change when the file already contains it.
pub fn add_helper(source: &str, code: &str, style: &Style) -> String {
    if source.contains(code) {
        return source.to_string();
    }
    let nl = style.newline;
    let tree = parse(source);
    let root = tree.root_node();
    match leading_statements(root, source).last() {
        // Existing blank lines are kept as they are (their line endings too) and topped up to two.
        Some(last) => {
            let at = next_line_start(source, last.end_byte());
            let lead = if at == source.len() && !source.ends_with('\n') { nl } else { "" };
            let trail = blank_lines_before(source, at, 2, nl);
            splice(source, at, at, &format!("{lead}{nl}{nl}{code}{nl}{trail}"))
        }
        None => {
            let at = first_statement_start(root, source);
            let trail = blank_lines_before(source, at, 2, nl);
            splice(source, at, at, &format!("{code}{nl}{trail}"))
        }
    }
}

fn splice(source: &str, start: usize, end: usize, insert: &str) -> String {
    let mut out = String::with_capacity(source.len() + insert.len());
    out.push_str(&source[..start]);
    out.push_str(insert);
    out.push_str(&source[end..]);
    out
}

/// One name bound by an import statement.
struct ImportedName<'t> {
    statement: Node<'t>,
    /// The `dotted_name` or `aliased_import` node inside the statement.
    node: Node<'t>,
    local: String,
}

fn imported_names<'t>(root: Node<'t>, source: &str) -> Vec<ImportedName<'t>> {
    let mut out = Vec::new();
    for statement in
        syntax::descendants(root, |n| matches!(n.kind(), "import_statement" | "import_from_statement"))
    {
        let mut cursor = statement.walk();
        for node in statement.children_by_field_name("name", &mut cursor) {
            let local = match (node.kind(), statement.kind()) {
                ("aliased_import", _) => {
                    node.child_by_field_name("alias").map(|a| text(a, source).to_string())
                }
                ("dotted_name", "import_statement") => {
                    text(node, source).split('.').next().map(|s| s.trim().to_string())
                }
                ("dotted_name", _) => Some(text(node, source).to_string()),
                _ => None,
            };
            if let Some(local) = local {
                out.push(ImportedName { statement, node, local });
            }
        }
    }
    out
}

/// How often each identifier is used as a name (not as an attribute, keyword or import).
pub(crate) fn reference_counts(root: Node, source: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    syntax::visit_with_ancestors(root, |node, ancestors, field| {
        if node.kind() != "identifier" {
            return;
        }
        let is_reference = match ancestors.last().map(|parent| parent.kind()) {
            Some("attribute") => field == Some("object"),
            Some("keyword_argument") => field == Some("value"),
            Some("dotted_name" | "aliased_import") => false,
            _ => true,
        };
        if is_reference {
            *counts.entry(text(node, source).to_string()).or_insert(0) += 1;
        }
    });
    counts
}

/// Identifies an import binding across rewrites (byte offsets move): the dotted path of the
/// functions and classes around it, and its local name.
type BindingKey = (String, String);

fn binding_key(name: &ImportedName, source: &str) -> BindingKey {
    (scope_path(name.statement, source), name.local.clone())
}

/// The dotted path of the functions and classes around `node`, stable across rewrites (byte
/// offsets move; definitions do not come or go).
pub(crate) fn scope_path(node: Node, source: &str) -> String {
    let mut path = Vec::new();
    let mut current = node;
    while let Some(parent) = current.parent() {
        if matches!(parent.kind(), "function_definition" | "class_definition")
            && let Some(n) = parent.child_by_field_name("name")
        {
            // Same-named definitions (a property's getter and setter) are told apart by their
            // rank among their namesakes; rewrites never add or remove definitions of a name.
            let name = text(n, source);
            path.push(format!("{name}#{}", namesakes_before(parent, name, source)));
        }
        current = parent;
    }
    path.reverse();
    path.join(".")
}

/// How many definitions named `name` precede `definition` in its block.
fn namesakes_before(definition: Node, name: &str, source: &str) -> usize {
    let outer = match definition.parent() {
        Some(p) if p.kind() == "decorated_definition" => p,
        _ => definition,
    };
    let Some(block) = outer.parent() else { return 0 };
    let mut cursor = block.walk();
    block
        .named_children(&mut cursor)
        .take_while(|sibling| sibling.start_byte() < outer.start_byte())
        .filter(|sibling| {
            let def = match sibling.kind() {
                "decorated_definition" => sibling.child_by_field_name("definition"),
                _ => Some(*sibling),
            };
            def.and_then(|d| d.child_by_field_name("name")).is_some_and(|n| text(n, source) == name)
        })
        .count()
}

/// Whether an import binding is used: anywhere in the file for a module-level import (an
/// over-approximation that only ever keeps imports), inside its function for a local one.
fn is_used(name: &ImportedName, source: &str, file_counts: &HashMap<String, usize>) -> bool {
    let mut scope = None;
    let mut current = name.statement;
    while let Some(parent) = current.parent() {
        if parent.kind() == "function_definition" {
            scope = Some(parent);
            break;
        }
        current = parent;
    }
    let count = match scope {
        None => file_counts.get(&name.local).copied().unwrap_or(0),
        Some(function) => reference_counts(function, source).get(&name.local).copied().unwrap_or(0),
    };
    count > 0
}

/// The import bindings that are used somewhere in the file.
pub fn used_imports(source: &str) -> HashSet<BindingKey> {
    let tree = parse(source);
    let root = tree.root_node();
    let counts = reference_counts(root, source);
    imported_names(root, source)
        .iter()
        .filter(|name| is_used(name, source, &counts))
        .map(|name| binding_key(name, source))
        .collect()
}

/// Removes the imports of `previously_used` that nothing uses any more. Keeps names an
/// `__init__.py` may re-export, names mentioned in a string (`__all__`, string annotations), and
/// imports under `if TYPE_CHECKING:`.
pub fn remove_unused(source: &str, previously_used: &HashSet<BindingKey>, is_package_init: bool) -> String {
    if is_package_init || previously_used.is_empty() {
        return source.to_string();
    }
    let mut current = source.to_string();
    // Bindings whose removal cannot be written (an import sharing its line with other code).
    let mut kept: HashSet<BindingKey> = HashSet::new();
    // One name per round: positions move after each removal.
    for _ in 0..previously_used.len() * 4 + 4 {
        let tree = parse(&current);
        let root = tree.root_node();
        let counts = reference_counts(root, &current);
        let names = imported_names(root, &current);
        let strings: Vec<&str> =
            syntax::descendants(root, |n| n.kind() == "string").iter().map(|s| text(*s, &current)).collect();
        let removable = names.iter().position(|name| {
            let key = binding_key(name, &current);
            previously_used.contains(&key)
                && !kept.contains(&key)
                && !is_explicit_reexport(name, &current)
                && !is_used(name, &current, &counts)
                && !strings.iter().any(|s| mentions(s, &name.local))
                && !under_type_checking(name.statement, &current)
        });
        let Some(index) = removable else { break };
        let Some((start, end, replacement)) = removal(&names, index, &current) else {
            kept.insert(binding_key(&names[index], &current));
            continue;
        };
        current = splice(&current, start, end, replacement);
    }
    current
}

/// `import x as x` / `from m import x as x`: the PEP 484 way to mark a re-export.
fn is_explicit_reexport(name: &ImportedName, source: &str) -> bool {
    name.node.kind() == "aliased_import"
        && name.node.child_by_field_name("name").is_some_and(|imported| text(imported, source) == name.local)
}

/// Whether a string literal may refer to `word` as code: a string annotation such as
/// `"time.struct_time | None"` or an `__all__` entry, not prose in a docstring.
fn mentions(literal: &str, word: &str) -> bool {
    // A doctest runs the code in the string.
    if literal.contains(">>>") && contains_word(literal, word) {
        return true;
    }
    let content =
        literal.trim_start_matches(|c: char| c.is_ascii_alphabetic()).trim_matches(|c| c == '"' || c == '\'');
    let compact = content.replace(" | ", "|").replace(", ", ",");
    if compact.trim().chars().any(char::is_whitespace) {
        return false;
    }
    contains_word(&compact, word)
}

fn contains_word(haystack: &str, word: &str) -> bool {
    haystack.match_indices(word).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + word.len()..].chars().next();
        let boundary = |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        boundary(before) && boundary(after)
    })
}

fn under_type_checking(node: Node, source: &str) -> bool {
    let mut current = node;
    while let Some(parent) = current.parent() {
        if parent.kind() == "if_statement"
            && parent
                .child_by_field_name("condition")
                .is_some_and(|c| text(c, source).contains("TYPE_CHECKING"))
        {
            return true;
        }
        current = parent;
    }
    false
}

/// The edit that removes `names[index]`: the name and a comma, or the whole statement when it is
/// the statement's only name. `None` when the statement shares its line with other code.
fn removal(names: &[ImportedName], index: usize, source: &str) -> Option<(usize, usize, &'static str)> {
    let target = &names[index];
    let siblings: Vec<&ImportedName> = names.iter().filter(|n| n.statement == target.statement).collect();
    if siblings.len() > 1 {
        let position = siblings.iter().position(|n| n.node == target.node)?;
        // `    sleep,  # comment` alone on its line inside parentheses: the line goes, comment too.
        let (start, end) =
            (line_start(source, target.node.start_byte()), next_line_start(source, target.node.end_byte()));
        let rest = source[target.node.end_byte()..end].trim_start().trim_start_matches(',').trim();
        if source[start..target.node.start_byte()].trim().is_empty()
            && (rest.is_empty() || rest.starts_with('#'))
        {
            return Some((start, end, ""));
        }
        return Some(match siblings.get(position + 1) {
            Some(next) => (target.node.start_byte(), next.node.start_byte(), ""),
            None => (siblings[position - 1].node.end_byte(), target.node.end_byte(), ""),
        });
    }
    statement_removal(target.statement, source)
}

/// The edit that removes a whole simple statement: its line, its `;` form on a shared line, or
/// `pass` when it is its block's only statement. `None` when it shares its line otherwise.
pub(crate) fn statement_removal(statement: Node, source: &str) -> Option<(usize, usize, &'static str)> {
    let start = line_start(source, statement.start_byte());
    let end = next_line_start(source, statement.end_byte());
    let before = &source[start..statement.start_byte()];
    let after = source[statement.end_byte()..end].trim();
    // `import time; work()`: drop the statement and its semicolon, keep the rest of the line.
    if let Some(rest) = source[statement.end_byte()..end].trim_start().strip_prefix(';')
        && !rest.trim().is_empty()
        && !rest.trim_start().starts_with('#')
    {
        let rest_start = end - rest.len() + (rest.len() - rest.trim_start().len());
        return Some((statement.start_byte(), rest_start, ""));
    }
    // `work(); import time`: drop the semicolon before it too.
    if let Some(head) = before.trim_end().strip_suffix(';')
        && !head.trim().is_empty()
        && (after.is_empty() || after.starts_with('#'))
    {
        return Some((start + head.len(), statement.end_byte(), ""));
    }
    if !before.trim().is_empty() || !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let block = statement.parent()?;
    let mut cursor = block.walk();
    let statements = block.named_children(&mut cursor).filter(|c| c.kind() != "comment").count();
    if statements == 1 && block.kind() == "block" {
        return Some((statement.start_byte(), statement.end_byte(), "pass"));
    }
    // Between blank lines (or at the top of the file) the blank lines after it go too, so that
    // no run of blank lines grows.
    let blank_above = start == 0 || source[line_start(source, start - 1)..start].trim().is_empty();
    let end = if blank_above { skip_blank_lines(source, end) } else { end };
    Some((start, end, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style() -> Style {
        Style::detect("")
    }

    #[test]
    fn import_goes_in_sorted_position() {
        let out = add_import("import json\nimport time\n\nx = 1\n", "asyncio", &style());
        assert_eq!(out, "import asyncio\nimport json\nimport time\n\nx = 1\n");
        let out = add_import("import abc\nfrom os import path\n\nx = 1\n", "asyncio", &style());
        assert_eq!(out, "import abc\nimport asyncio\nfrom os import path\n\nx = 1\n");
    }

    #[test]
    fn import_goes_in_its_isort_section() {
        let file =
            "import asyncio\nimport time\n\nimport requests\nfrom yarl import URL\n\nfrom . import util\n";
        assert_eq!(
            add_import(file, "aiohttp", &style()),
            "import asyncio\nimport time\n\nimport aiohttp\nimport requests\nfrom yarl import URL\n\nfrom . import util\n"
        );
        // No third-party section yet: a new one after the standard library, before relative imports.
        let file = "import asyncio\nimport time\nfrom . import util\n\nx = 1\n";
        assert_eq!(
            add_import(file, "aiohttp", &style()),
            "import asyncio\nimport time\n\nimport aiohttp\n\nfrom . import util\n\nx = 1\n"
        );
        let file = "import time\n\n\nasync def f():\n    pass\n";
        assert_eq!(
            add_import(file, "aiohttp", &style()),
            "import time\n\nimport aiohttp\n\n\nasync def f():\n    pass\n"
        );
        // No standard-library section yet: a new one first.
        let file = "import requests\n\nx = 1\n";
        assert_eq!(add_import(file, "asyncio", &style()), "import asyncio\n\nimport requests\n\nx = 1\n");
        // Only `from` imports in the section: the plain import goes before them.
        let file = "from os import path\nfrom time import sleep\n\nx = 1\n";
        assert_eq!(
            add_import(file, "asyncio", &style()),
            "import asyncio\nfrom os import path\nfrom time import sleep\n\nx = 1\n"
        );
        // A file that ends right after its last import, without a newline.
        assert_eq!(add_import("import time", "asyncio", &style()), "import asyncio\nimport time");
        assert_eq!(add_import("import time", "aiohttp", &style()), "import time\n\nimport aiohttp\n");
    }

    #[test]
    fn import_after_docstring_and_future() {
        let out = add_import("\"\"\"Doc.\"\"\"\nx = 1\n", "asyncio", &style());
        assert_eq!(out, "\"\"\"Doc.\"\"\"\n\nimport asyncio\n\nx = 1\n");
        let out = add_import(
            "\"\"\"Doc.\"\"\"\n\nfrom __future__ import annotations\n\nx = 1\n",
            "asyncio",
            &style(),
        );
        assert_eq!(
            out,
            "\"\"\"Doc.\"\"\"\n\nfrom __future__ import annotations\n\nimport asyncio\n\nx = 1\n"
        );
    }

    #[test]
    fn import_keeps_encoding_comment_first() {
        let out = add_import("# -*- coding: utf-8 -*-\nx = 1\n", "asyncio", &style());
        assert_eq!(out, "# -*- coding: utf-8 -*-\nimport asyncio\n\nx = 1\n");
        let out = add_import("async def f():\n    pass\n", "asyncio", &style());
        assert_eq!(out, "import asyncio\n\n\nasync def f():\n    pass\n");
    }

    #[test]
    fn import_goes_after_a_detached_header_and_above_attached_comments() {
        let out = add_import("# Copyright\n\n\nasync def f():\n    pass\n", "asyncio", &style());
        assert_eq!(out, "# Copyright\nimport asyncio\n\n\nasync def f():\n    pass\n");
        let out = add_import("#!/usr/bin/env python\n# Set up.\nx = 1\n", "asyncio", &style());
        assert_eq!(out, "#!/usr/bin/env python\nimport asyncio\n\n# Set up.\nx = 1\n");
    }

    #[test]
    fn import_not_added_twice() {
        let source = "import asyncio\nx = 1\n";
        assert_eq!(add_import(source, "asyncio", &style()), source);
    }

    #[test]
    fn helper_after_imports_with_pep8_spacing() {
        let out = add_helper("import asyncio\n\nasync def f():\n    pass\n", "H = 1", &style());
        assert_eq!(out, "import asyncio\n\n\nH = 1\n\n\nasync def f():\n    pass\n");
        assert_eq!(add_helper(&out, "H = 1", &style()), out);
    }

    #[test]
    fn removes_only_newly_unused_imports() {
        let used: HashSet<BindingKey> =
            [("".into(), "time".into()), ("".into(), "sleep".into()), ("f#0".into(), "time".into())].into();
        let out = remove_unused(
            "import os, time\nfrom time import sleep, monotonic\nos.x(monotonic)\n",
            &used,
            false,
        );
        assert_eq!(out, "import os\nfrom time import monotonic\nos.x(monotonic)\n");
        let out = remove_unused("import time\nimport os\nos.x()\n", &used, false);
        assert_eq!(out, "import os\nos.x()\n");
        let out = remove_unused("import time\n\nimport os\n\nos.x()\n", &used, false);
        assert_eq!(out, "import os\n\nos.x()\n");
        let out = remove_unused("import os\n\nimport time\n\nos.x()\n", &used, false);
        assert_eq!(out, "import os\n\nos.x()\n");
        let out = remove_unused("import time\n__all__ = ['time']\n", &used, false);
        assert_eq!(out, "import time\n__all__ = ['time']\n");
        let out = remove_unused("import time\nx: 'time.struct_time | None'\n", &used, false);
        assert_eq!(out, "import time\nx: 'time.struct_time | None'\n");
        let out = remove_unused("import time\n\"\"\"Take time to rest.\"\"\"\n", &used, false);
        assert_eq!(out, "\"\"\"Take time to rest.\"\"\"\n");
        let out = remove_unused("def f():\n    import time; x = 1\n", &used, false);
        assert_eq!(out, "def f():\n    x = 1\n");
        let out = remove_unused("def f():\n    x = 1; import time  # c\n", &used, false);
        assert_eq!(out, "def f():\n    x = 1  # c\n");
        let out = remove_unused("def f():\n    import time\n", &used, false);
        assert_eq!(out, "def f():\n    pass\n");
        assert_eq!(remove_unused("import time\n", &used, true), "import time\n");
        let out = remove_unused("from time import sleep as sleep\n", &used, false);
        assert_eq!(out, "from time import sleep as sleep\n", "an explicit re-export stays");
        let doctest =
            "import time\ndef f():\n    \"\"\"\n    >>> time.monotonic() > 0\n    True\n    \"\"\"\n";
        assert_eq!(remove_unused(doctest, &used, false), doctest, "a doctest uses it");
        let out = remove_unused(
            "from time import (\n    monotonic,  # deadlines\n    sleep,  # todo\n)\nmonotonic()\n",
            &used,
            false,
        );
        assert_eq!(out, "from time import (\n    monotonic,  # deadlines\n)\nmonotonic()\n");
        let out = remove_unused("if X: import time\nfrom time import sleep\n", &used, false);
        assert_eq!(out, "if X: import time\n", "one import that cannot go does not stop the others");
    }
}
