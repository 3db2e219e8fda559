//! tree-sitter parsing and small helpers over its nodes.

use rustc_hash::FxHashMap as HashMap;

use tree_sitter::{InputEdit, Node, Parser, Point, Tree};

thread_local! {
    static PARSER: std::cell::RefCell<Parser> = std::cell::RefCell::new(new_parser());
    /// While a [`TreeReuse`] lives: the last text this thread parsed, with its tree.
    static LAST: std::cell::RefCell<Option<(String, Tree)>> = const { std::cell::RefCell::new(None) };
    static REUSE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// While it lives, [`parse`] on this thread reuses the last tree: a text equal to the last one
/// gets its tree, a text one edit away from it an incremental re-parse. `fix` parses each file
/// many times (analysis, the import and cleanup passes, verification, the next pass), each
/// time equal to or one small edit away from the text before.
pub struct TreeReuse(());

impl TreeReuse {
    pub fn start() -> TreeReuse {
        REUSE.set(true);
        TreeReuse(())
    }
}

impl Drop for TreeReuse {
    fn drop(&mut self) {
        REUSE.set(false);
        LAST.with(|last| last.borrow_mut().take());
    }
}

fn new_parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .expect("the bundled tree-sitter-python grammar matches the tree-sitter version");
    parser
}

/// Parses Python source; tree-sitter always yields a tree (with ERROR nodes where it had to recover).
pub fn parse(text: &str) -> Tree {
    if !REUSE.get() {
        return parse_with(text, None);
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        let tree = match last.take() {
            Some((old_text, tree)) if old_text == text => {
                *last = Some((old_text, tree.clone()));
                return tree;
            }
            Some((old_text, mut tree)) => match single_edit(&old_text, text) {
                Some(edit) => {
                    drop(old_text);
                    tree.edit(&edit);
                    let reparsed = parse_with(text, Some(&tree));
                    debug_assert!(
                        same_tree(reparsed.root_node(), parse_with(text, None).root_node()),
                        "an incremental re-parse differs from a fresh parse"
                    );
                    reparsed
                }
                None => {
                    // Not a version of the same file: free its tree before building another.
                    drop((old_text, tree));
                    parse_with(text, None)
                }
            },
            None => parse_with(text, None),
        };
        *last = Some((text.to_string(), tree.clone()));
        tree
    })
}

/// Parses only `ranges` of `text` (see [`crate::slice`]); the tree's offsets are the whole
/// text's. `None` when tree-sitter rejects the ranges.
pub fn parse_ranges(text: &str, ranges: &[tree_sitter::Range]) -> Option<Tree> {
    let parsed_bytes = ranges.iter().map(|r| r.end_byte - r.start_byte).sum();
    with_parser(parsed_bytes, |parser| {
        parser.set_included_ranges(ranges).ok()?;
        let tree = parser.parse(text, None);
        // An empty list restores parsing the whole document.
        let _ = parser.set_included_ranges(&[]);
        tree
    })
}

fn parse_with(text: &str, old: Option<&Tree>) -> Tree {
    with_parser(text.len(), |parser| {
        parser.parse(text, old).expect("parsing without a timeout or cancellation flag always returns a tree")
    })
}

/// A parser keeps the stacks and node pools its largest input needed until it is dropped: after
/// an input this large it is replaced, so that a long run's memory does not depend on which
/// large files each thread happened to meet.
const PARSER_KEPT_AFTER: usize = 64 << 10;

fn with_parser<T>(parsed_bytes: usize, parse: impl FnOnce(&mut Parser) -> T) -> T {
    PARSER.with(|parser| {
        let mut parser = parser.borrow_mut();
        let result = parse(&mut parser);
        if parsed_bytes > PARSER_KEPT_AFTER {
            *parser = new_parser();
        }
        result
    })
}

/// The one region where `new` differs from `old`, when most of the text is common to both (a
/// fix, not another file).
fn single_edit(old: &str, new: &str) -> Option<InputEdit> {
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let mut prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    // Edits and the trees' byte offsets both fall on character boundaries.
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = a.len().min(b.len()) - prefix;
    let mut suffix = a.iter().rev().zip(b.iter().rev()).take(max_suffix).take_while(|(x, y)| x == y).count();
    while !old.is_char_boundary(a.len() - suffix) || !new.is_char_boundary(b.len() - suffix) {
        suffix -= 1;
    }
    if (prefix + suffix) * 2 < a.len().max(b.len()) {
        return None;
    }
    Some(InputEdit {
        start_byte: prefix,
        old_end_byte: a.len() - suffix,
        new_end_byte: b.len() - suffix,
        start_position: point_at(a, prefix),
        old_end_position: point_at(a, a.len() - suffix),
        new_end_position: point_at(b, b.len() - suffix),
    })
}

/// Tree-sitter's position of a byte offset: 0-based row and byte column.
fn point_at(text: &[u8], offset: usize) -> Point {
    let line_start = memchr::memrchr(b'\n', &text[..offset]).map_or(0, |i| i + 1);
    Point { row: memchr::memchr_iter(b'\n', &text[..offset]).count(), column: offset - line_start }
}

/// Whether two trees have the same nodes with the same ranges, in the same order.
fn same_tree(a: Node, b: Node) -> bool {
    let (mut left, mut right) = (Vec::new(), Vec::new());
    visit(a, |n| {
        left.push((n.kind_id(), n.byte_range(), n.is_error(), n.is_missing()));
        true
    });
    visit(b, |n| {
        right.push((n.kind_id(), n.byte_range(), n.is_error(), n.is_missing()));
        true
    });
    left == right
}

/// The grammar's node kind names, by kind id. `Node::kind` measures and validates the C string
/// on every call; the hot walks ask this table instead.
static KIND_NAMES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let language: &'static tree_sitter::Language = &LANGUAGE;
    (0..language.node_kind_count()).map(|id| language.node_kind_for_id(id as u16).unwrap_or("")).collect()
});

static LANGUAGE: std::sync::LazyLock<tree_sitter::Language> =
    std::sync::LazyLock::new(|| tree_sitter_python::LANGUAGE.into());

/// The grammar's field ids, by name. `Node::child_by_field_name` compares the name with every
/// field name of the grammar on every call.
static FIELD_IDS: std::sync::LazyLock<HashMap<&'static str, u16>> = std::sync::LazyLock::new(|| {
    let language: &'static tree_sitter::Language = &LANGUAGE;
    (1..=language.field_count() as u16)
        .filter_map(|id| language.field_name_for_id(id).map(|name| (name, id)))
        .collect()
});

/// `node.kind()`, from a table.
pub fn kind(node: Node) -> &'static str {
    KIND_NAMES.get(usize::from(node.kind_id())).copied().unwrap_or_default()
}

/// `node.child_by_field_name(name)`, with the field id from a table.
pub fn field<'t>(node: Node<'t>, name: &str) -> Option<Node<'t>> {
    match FIELD_IDS.get(name) {
        Some(&id) => node.child_by_field_id(id),
        None => node.child_by_field_name(name),
    }
}

/// The source text of a node.
pub fn text<'s>(node: Node, source: &'s str) -> &'s str {
    &source[node.byte_range()]
}

/// Whether a function definition is `async def`.
pub fn is_async_def(node: Node) -> bool {
    node.kind() == "function_definition" && node.child(0).is_some_and(|first| first.kind() == "async")
}

/// Every descendant of `root` (itself included) in source order, filtered by `keep`.
pub fn descendants<'t>(root: Node<'t>, mut keep: impl FnMut(Node<'t>) -> bool) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    visit(root, |node| {
        if keep(node) {
            out.push(node);
        }
        true
    });
    out
}

/// The first descendant of `root` (itself included) in source order that `wanted` accepts.
pub fn find_first<'t>(root: Node<'t>, mut wanted: impl FnMut(Node<'t>) -> bool) -> Option<Node<'t>> {
    let mut found = None;
    visit(root, |node| {
        if wanted(node) {
            found = Some(node);
        }
        found.is_none()
    });
    found
}

/// Calls `each` on every node under `root` in source order until it returns false.
fn visit<'t>(root: Node<'t>, mut each: impl FnMut(Node<'t>) -> bool) {
    let mut cursor = root.walk();
    loop {
        if !each(cursor.node()) {
            return;
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node() == root {
                return;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// Calls `each` on every node under `root` in source order with its ancestors (outermost first)
/// and the field it fills in its parent. Tree-sitter's `parent()` searches from the root, so a
/// walk over many nodes that needs parents keeps them itself.
pub fn visit_with_ancestors<'t>(root: Node<'t>, mut each: impl FnMut(Node<'t>, &[Node<'t>], Option<&str>)) {
    let mut cursor = root.walk();
    let mut ancestors: Vec<Node<'t>> = Vec::new();
    loop {
        let node = cursor.node();
        each(node, &ancestors, cursor.field_name());
        if cursor.goto_first_child() {
            ancestors.push(node);
            continue;
        }
        loop {
            if ancestors.is_empty() {
                return;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
            ancestors.pop();
        }
    }
}

/// The nodes every transform and pass looks for, gathered in one walk of the tree.
#[derive(Debug, Default)]
pub struct Index<'t> {
    pub calls: Vec<Node<'t>>,
    pub comments: Vec<Node<'t>>,
    /// `import` and `from ... import` statements, at any depth.
    pub imports: Vec<Node<'t>>,
    /// Calls whose result is dropped (by node id): the expression statement that is only the
    /// call, perhaps in parentheses.
    pub dropped_results: HashMap<usize, Node<'t>>,
    /// `global` statements, at any depth.
    pub globals: Vec<Node<'t>>,
    /// The nodes of [`SCOPE_KINDS`] but the module, in source order, each with the index of the
    /// nearest one around it.
    pub scopes: Vec<(Node<'t>, Option<usize>)>,
    /// The byte ranges of annotations (`type` nodes), where `await` may not go.
    pub annotations: Vec<std::ops::Range<usize>>,
    /// `block` nodes, in source order.
    pub blocks: Vec<Node<'t>>,
    /// `for` statements and list comprehensions, in source order.
    pub loops: Vec<Node<'t>>,
}

/// The node kinds that open a Python scope.
pub const SCOPE_KINDS: &[&str] = &[
    "module",
    "function_definition",
    "lambda",
    "class_definition",
    "list_comprehension",
    "set_comprehension",
    "dictionary_comprehension",
    "generator_expression",
];

impl<'t> Index<'t> {
    pub fn build(root: Node<'t>) -> Index<'t> {
        let mut index = Index::default();
        // Scopes still open at the current node, as (position in `scopes`, depth).
        let mut open: Vec<(usize, usize)> = Vec::new();
        let mut cursor = root.walk();
        let mut ancestors: Vec<Node<'t>> = Vec::new();
        loop {
            let node = cursor.node();
            let depth = ancestors.len();
            match kind(node) {
                "call" => {
                    index.calls.push(node);
                    let holder = ancestors.iter().rev().find(|a| kind(**a) != "parenthesized_expression");
                    if let Some(&statement) = holder
                        && kind(statement) == "expression_statement"
                        && statement.named_child_count() == 1
                    {
                        index.dropped_results.insert(node.id(), statement);
                    }
                }
                "comment" => index.comments.push(node),
                "import_statement" | "import_from_statement" => index.imports.push(node),
                "global_statement" => index.globals.push(node),
                "type" => index.annotations.push(node.byte_range()),
                "block" => index.blocks.push(node),
                "for_statement" => index.loops.push(node),
                kind if kind != "module" && SCOPE_KINDS.contains(&kind) => {
                    if kind == "list_comprehension" {
                        index.loops.push(node);
                    }
                    while open.last().is_some_and(|&(_, d)| d >= depth) {
                        open.pop();
                    }
                    index.scopes.push((node, open.last().map(|&(i, _)| i)));
                    open.push((index.scopes.len() - 1, depth));
                }
                _ => {}
            }
            if cursor.goto_first_child() {
                ancestors.push(node);
                continue;
            }
            loop {
                if ancestors.is_empty() {
                    return index;
                }
                if cursor.goto_next_sibling() {
                    break;
                }
                cursor.goto_parent();
                ancestors.pop();
            }
        }
    }

    /// The scope nodes that are `node` or hold it, innermost first (the module is not among
    /// them), found without tree-sitter's `parent()`, which searches down from the root.
    pub fn scopes_around(&self, node: Node<'t>) -> impl Iterator<Item = Node<'t>> + '_ {
        // Scopes nest, so every scope holding `node` lies on the chain above the last scope that
        // starts at or before it.
        let last = self.scopes.partition_point(|(scope, _)| scope.start_byte() <= node.start_byte());
        let mut next = last.checked_sub(1);
        std::iter::from_fn(move || {
            while let Some(at) = next {
                let (scope, outer) = self.scopes[at];
                next = outer;
                if holds(scope, node) {
                    return Some(scope);
                }
            }
            None
        })
    }
}

/// Whether `outer` is `inner` or one of its ancestors.
pub fn holds(outer: Node, inner: Node) -> bool {
    if outer == inner {
        return true;
    }
    let (o, i) = (outer.byte_range(), inner.byte_range());
    if o.start > i.start || i.end > o.end {
        return false;
    }
    if o != i {
        return true;
    }
    // Same range: `outer` may sit inside `inner` (an expression statement that is one lambda).
    let mut current = inner;
    loop {
        let mut cursor = current.walk();
        let Some(child) = current.children(&mut cursor).find(|c| c.byte_range() == i) else {
            return true;
        };
        if child == outer {
            return false;
        }
        current = child;
    }
}

/// Maps byte offsets to 1-based lines and 1-based character columns.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.starts[line - 1]
    }

    /// Tree-sitter's position of a byte offset: 0-based row and byte column.
    pub fn point(&self, offset: usize) -> Point {
        let line = self.line(offset);
        Point { row: line - 1, column: offset - self.line_start(line) }
    }

    /// 1-based (line, character column) of a byte offset.
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.line(offset);
        let start = self.line_start(line);
        let column = text.get(start..offset).map_or(offset - start, |s| s.chars().count()) + 1;
        (line, column)
    }
}

/// The name a call's callee ends with: `f` in `f(...)` and in `obj.f(...)`; `None` for a callee
/// computed otherwise (`handlers[kind](...)`).
pub fn called_name(call: Node) -> Option<Node> {
    let function = call.child_by_field_name("function")?;
    match function.kind() {
        "identifier" => Some(function),
        "attribute" => function.child_by_field_name("attribute"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_characters() {
        let text = "a = 1\nb = 'é' + c\n";
        let index = LineIndex::new(text);
        let c = text.find('c').unwrap();
        assert_eq!(index.position(text, 0), (1, 1));
        assert_eq!(index.position(text, c), (2, 11));
    }

    #[test]
    fn dropped_results_are_the_statements_made_of_one_call() {
        let source = "f()\n(g())\n((h(i())))\nx = j()\nk(), l()\nawait m()\nn() + 1\n(  # c\n    o()\n)\n";
        let tree = parse(source);
        let index = Index::build(tree.root_node());
        fn by_parent(call: Node) -> Option<Node> {
            let mut outer = call;
            while let Some(parent) = outer.parent().filter(|p| p.kind() == "parenthesized_expression") {
                outer = parent;
            }
            let statement = outer.parent().filter(|p| p.kind() == "expression_statement")?;
            (statement.named_child_count() == 1).then_some(statement)
        }
        let dropped: Vec<&str> = index
            .calls
            .iter()
            .filter(|call| {
                let expected = by_parent(**call);
                assert_eq!(
                    index.dropped_results.get(&call.id()).copied(),
                    expected,
                    "{}",
                    text(**call, source)
                );
                expected.is_some()
            })
            .map(|call| text(*call, source))
            .collect();
        assert_eq!(dropped, ["f()", "g()", "h(i())", "o()"]);
    }

    #[test]
    fn incremental_reparses_equal_fresh_parses() {
        let base = "import time\n\n\nasync def poll(x):\n    time.sleep(1)\n    s = 'é€'\n    if x:\n        return [y for y in x]\n";
        let edits = [
            base.replace("    time.sleep(1)", "    await asyncio.sleep(1)").replacen(
                "import time",
                "import asyncio",
                1,
            ),
            base.replace("'é€'", "'ü'"),
            base.replace("        return", "        pass\n        return"),
            base.replace("    if x:\n        return [y for y in x]\n", ""),
            format!("import asyncio\n{base}"),
            base.replace("x):", "x, y):\n    \"\"\"Doc.\"\"\""),
        ];
        let _reuse = TreeReuse::start();
        for edited in edits {
            parse(base);
            let incremental = parse(&edited);
            let fresh = parse_with(&edited, None);
            assert!(same_tree(incremental.root_node(), fresh.root_node()), "{edited}");
            assert_eq!(incremental.root_node().to_sexp(), fresh.root_node().to_sexp());
            assert!(single_edit(base, &edited).is_some(), "{edited}");
        }
        assert!(single_edit(base, "x = 1\n").is_none(), "another file is parsed afresh");
    }

    #[test]
    fn kind_and_field_tables_agree_with_tree_sitter() {
        let source = "import a.b as c\n@d\nasync def f(x: int = 1, *y, **z) -> None:\n    async with g() as h:\n        \
                      await i[j:k]\n    return [m for m in n if m]\nclass O(P):\n    q: int = lambda r: r\n";
        let tree = parse(source);
        let names: Vec<&str> = FIELD_IDS.keys().copied().collect();
        assert!(names.contains(&"name") && names.contains(&"body"));
        for node in descendants(tree.root_node(), |_| true) {
            assert_eq!(kind(node), node.kind());
            for name in &names {
                assert_eq!(field(node, name), node.child_by_field_name(name), "{} {name}", node.kind());
            }
        }
    }

    #[test]
    fn async_def_is_recognised() {
        let source = "async def f():\n    pass\ndef g():\n    pass\n";
        let tree = parse(source);
        let defs = descendants(tree.root_node(), |n| n.kind() == "function_definition");
        assert_eq!(defs.iter().map(|d| is_async_def(*d)).collect::<Vec<_>>(), [true, false]);
    }
}
