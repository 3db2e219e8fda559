//! The guards every rewrite passes before it is written: a strict Python parser (tree-sitter
//! recovers from errors silently) and the semantic rule a parser does not check, `await` only in
//! coroutines.

use crate::semantic::{Context, Model};
use crate::syntax::{self, LineIndex, parse};

/// A syntax error: 1-based line and column, and the parser's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses `source` with Ruff's parser.
pub fn parses(source: &str) -> Result<(), SyntaxError> {
    match ruff_python_parser::parse_module(source) {
        Ok(_) => Ok(()),
        Err(error) => {
            let offset = usize::from(error.location.start()).min(source.len());
            let index = LineIndex::new(source);
            let (line, column) = index.position(source, offset);
            Err(SyntaxError { line, column, message: error.error.to_string() })
        }
    }
}

/// How many `await` expressions stand where Python rejects them: outside `async def`, in a
/// lambda, or in a generator expression (where it silently makes an async generator).
pub fn misplaced_awaits(source: &str) -> usize {
    if !source.contains("await") {
        return 0;
    }
    let tree = parse(source);
    let model = Model::new(source, tree.root_node());
    let mut misplaced = 0;
    syntax::visit_with_ancestors(tree.root_node(), |node, ancestors, _| {
        if node.kind() == "await"
            && node.is_named()
            && model.context_along(std::iter::once(node).chain(ancestors.iter().rev().copied()))
                != Context::Async
        {
            misplaced += 1;
        }
    });
    misplaced
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_parser_rejects_what_tree_sitter_recovers_from() {
        assert!(parses("def f():\n    return 1\n").is_ok());
        let error = parses("def f():\nreturn 1\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(parses("print 'x'\n").is_err());
    }

    #[test]
    fn counts_awaits_outside_coroutines() {
        assert_eq!(misplaced_awaits("async def f():\n    await g()\n"), 0);
        assert_eq!(misplaced_awaits("def f():\n    await g()\n"), 1);
        assert_eq!(misplaced_awaits("async def f():\n    h = lambda: await g()\n"), 1);
    }
}
