//! Parse less: the parts of a file that can hold a finding, found by a token scan before any
//! parse.
//!
//! tree-sitter parses Python at a few MB/s, and a file that mentions `async` once may be a
//! 500 kB module of plain functions. Every transform looks at coroutines or at a few named calls,
//! so the engine parses only the units (top-level statements, and the statements of a class
//! body) that hold one of the transforms' anchor words, plus every unit that binds a name those
//! units use (their helpers, the module objects they read, the class attributes they reach
//! through `self`), to a fixed point, plus every import. tree-sitter's included ranges keep the
//! tree's byte offsets those of the whole file.
//!
//! When the scan is unsure (a bracket it cannot match, a string it cannot end) or would keep most
//! of the file anyway, the file is parsed whole. `tests/slicing.rs` and `scripts/realcode.sh` check
//! that analysing and fixing the slice give exactly what the whole file gives
//! (`ASYNCMOD_PARSE_WHOLE=1` turns slicing off).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::ops::Range;

use crate::semantic::IMPORTABLE_BY_FIXES;
use crate::syntax::LineIndex;
use crate::transforms::Transform;

/// Names whose bindings fixes read even when the code around them does not (a fix that adds
/// `asyncio.to_thread` asks whether `asyncio` is the module).
const NAMES_FIXES_USE: &[&str] =
    &["asyncio", "trio", "anyio", "aiohttp", "aiofiles", "functools", "httpx", "json", "requests", "time"];

/// Python's keywords: never a name that something binds.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def",
    "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
    "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// Slicing that keeps more than this share of the file parses it whole.
const MAX_KEPT_SHARE: f64 = 0.95;

/// Files smaller than this are parsed whole: slicing would save little.
const MIN_SLICED_LEN: usize = 4096;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TokenKind {
    Name,
    Dot,
    Comma,
    /// `=` or an augmented assignment (`+=`).
    Assign,
    Walrus,
    Colon,
    /// Between simple statements on one line.
    Semicolon,
    Other,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
    /// Bracket depth (f-string fields count as one).
    depth: u32,
}

/// One logical line: its physical lines from the first one's start through the last one's end.
#[derive(Debug)]
struct Line {
    start: usize,
    end: usize,
    indent: usize,
    tokens: Range<usize>,
}

struct Scanner<'s> {
    bytes: &'s [u8],
    at: usize,
    depth: u32,
    line_start: usize,
    tokens: Vec<Token>,
    lines: Vec<Line>,
    /// (start, indent, first token) of the logical line being read.
    open: Option<(usize, usize, usize)>,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn is_string_prefix(word: &[u8]) -> bool {
    word.len() <= 2
        && word.iter().all(|b| matches!(b.to_ascii_lowercase(), b'r' | b'u' | b'b' | b'f' | b't'))
        && !(word.len() == 2 && word[0].eq_ignore_ascii_case(&word[1]))
        && (word.len() == 1 || word.iter().any(|b| b.eq_ignore_ascii_case(&b'r')))
}

impl<'s> Scanner<'s> {
    fn push(&mut self, kind: TokenKind, start: usize, end: usize) {
        if self.open.is_none() {
            self.open = Some((self.line_start, start - self.line_start, self.tokens.len()));
        }
        self.tokens.push(Token { kind, start, end, depth: self.depth });
        self.at = end;
    }

    fn end_line(&mut self, end: usize) {
        if let Some((start, indent, first)) = self.open.take() {
            self.lines.push(Line { start, end, indent, tokens: first..self.tokens.len() });
        }
    }

    /// Scans code; in an f-string field (`in_field`) until its closing `}` or its `:` format spec.
    fn code(&mut self, in_field: bool) -> Option<()> {
        let bytes = self.bytes;
        let base = self.depth;
        while self.at < bytes.len() {
            let at = self.at;
            let byte = bytes[at];
            let next = bytes.get(at + 1).copied().unwrap_or(0);
            match byte {
                b'\n' => {
                    self.at += 1;
                    if self.depth == 0 && !in_field {
                        self.end_line(at + 1);
                        self.line_start = at + 1;
                    }
                }
                b' ' | b'\t' | b'\r' | b'\x0c' => self.at += 1,
                b'#' => self.at = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i),
                b'\\' if next == b'\n' => {
                    self.at += 2;
                    self.line_start = self.at;
                }
                b'\\' if next == b'\r' && bytes.get(at + 2) == Some(&b'\n') => {
                    self.at += 3;
                    self.line_start = self.at;
                }
                b'\'' | b'"' => {
                    self.push(TokenKind::Other, at, at);
                    self.string(at, false)?;
                }
                b'(' | b'[' | b'{' => {
                    self.push(TokenKind::Other, at, at + 1);
                    self.depth += 1;
                }
                b')' | b']' | b'}' => {
                    if in_field && byte == b'}' && self.depth == base {
                        self.at += 1;
                        return Some(());
                    }
                    if self.depth == base {
                        return None;
                    }
                    self.depth -= 1;
                    self.push(TokenKind::Other, at, at + 1);
                }
                b':' if next == b'=' => self.push(TokenKind::Walrus, at, at + 2),
                b':' if in_field && self.depth == base => {
                    self.at += 1;
                    return self.format_spec();
                }
                b':' => self.push(TokenKind::Colon, at, at + 1),
                b'=' if next == b'=' => self.push(TokenKind::Other, at, at + 2),
                b'=' => self.push(TokenKind::Assign, at, at + 1),
                b'!' | b'<' | b'>' => {
                    let shift = (byte == b'<' || byte == b'>') && next == byte;
                    let (kind, len) =
                        match (shift, if shift { bytes.get(at + 2).copied() } else { Some(next) }) {
                            (true, Some(b'=')) => (TokenKind::Assign, 3),
                            (true, _) => (TokenKind::Other, 2),
                            (false, Some(b'=')) => (TokenKind::Other, 2),
                            _ => (TokenKind::Other, 1),
                        };
                    self.push(kind, at, at + len);
                }
                b'*' | b'/' if next == byte => {
                    let (kind, len) = if bytes.get(at + 2) == Some(&b'=') {
                        (TokenKind::Assign, 3)
                    } else {
                        (TokenKind::Other, 2)
                    };
                    self.push(kind, at, at + len);
                }
                b'+' | b'-' | b'*' | b'/' | b'%' | b'@' | b'&' | b'|' | b'^' if next == b'=' => {
                    self.push(TokenKind::Assign, at, at + 2)
                }
                b'.' => self.push(TokenKind::Dot, at, at + 1),
                b',' => self.push(TokenKind::Comma, at, at + 1),
                b';' => self.push(TokenKind::Semicolon, at, at + 1),
                b'0'..=b'9' => {
                    let len =
                        bytes[at..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
                    self.push(TokenKind::Other, at, at + len);
                    // A decimal point and what follows it.
                    while self.at < bytes.len()
                        && (bytes[self.at] == b'.'
                            || bytes[self.at].is_ascii_alphanumeric()
                            || bytes[self.at] == b'_')
                    {
                        self.at += 1;
                    }
                }
                _ if is_name_byte(byte) => {
                    let len = bytes[at..].iter().take_while(|b| is_name_byte(**b)).count();
                    let word = &bytes[at..at + len];
                    if matches!(bytes.get(at + len), Some(b'\'' | b'"')) && is_string_prefix(word) {
                        self.push(TokenKind::Other, at, at + len);
                        let formatted = word.iter().any(|b| matches!(b.to_ascii_lowercase(), b'f' | b't'));
                        self.string(at + len, formatted)?;
                    } else {
                        self.push(TokenKind::Name, at, at + len);
                    }
                }
                _ => self.push(TokenKind::Other, at, at + 1),
            }
        }
        (!in_field && self.depth == 0).then_some(())
    }

    /// Scans a string literal whose quote is at `at`; `formatted` strings hold fields of code.
    fn string(&mut self, at: usize, formatted: bool) -> Option<()> {
        let bytes = self.bytes;
        let quote = bytes[at];
        let triple = bytes.get(at + 1) == Some(&quote) && bytes.get(at + 2) == Some(&quote);
        self.at = at + if triple { 3 } else { 1 };
        while self.at < bytes.len() {
            let byte = bytes[self.at];
            match byte {
                b'\\' => self.at += 2,
                b'\n' if !triple => return None,
                b'{' if formatted && bytes.get(self.at + 1) == Some(&b'{') => self.at += 2,
                b'{' if formatted => {
                    self.at += 1;
                    self.depth += 1;
                    self.code(true)?;
                    self.depth -= 1;
                }
                _ if byte == quote => {
                    if !triple {
                        self.at += 1;
                        return Some(());
                    }
                    if bytes.get(self.at + 1) == Some(&quote) && bytes.get(self.at + 2) == Some(&quote) {
                        self.at += 3;
                        return Some(());
                    }
                    self.at += 1;
                }
                // Plain text: jump to the next byte that may matter (docstrings are long).
                _ if !formatted => {
                    self.at = memchr::memchr3(quote, b'\\', b'\n', &bytes[self.at + 1..])
                        .map_or(bytes.len(), |i| self.at + 1 + i);
                }
                _ => self.at += 1,
            }
        }
        None
    }

    /// Scans an f-string field's format spec through the field's closing `}`; it may hold fields.
    fn format_spec(&mut self) -> Option<()> {
        let bytes = self.bytes;
        while self.at < bytes.len() {
            match bytes[self.at] {
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                b'{' => {
                    self.at += 1;
                    self.depth += 1;
                    self.code(true)?;
                    self.depth -= 1;
                }
                b'\n' | b'\'' | b'"' => return None,
                _ => self.at += 1,
            }
        }
        None
    }
}

/// The logical lines of `source` with their tokens; `None` when the scan cannot follow the file.
fn scan(source: &str) -> Option<(Vec<Token>, Vec<Line>)> {
    let mut scanner = Scanner {
        bytes: source.as_bytes(),
        at: 0,
        depth: 0,
        line_start: 0,
        tokens: Vec::new(),
        lines: Vec::new(),
        open: None,
    };
    scanner.code(false)?;
    scanner.end_line(source.len());
    Some((scanner.tokens, scanner.lines))
}

/// A statement the slice keeps or leaves out whole: a top-level statement, or one statement of
/// a class body.
#[derive(Debug)]
struct Unit {
    lines: Range<usize>,
    top_level: bool,
    kind: UnitKind,
    kept: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitKind {
    Import,
    /// `def` or `class`, perhaps decorated, perhaps `async`.
    Definition,
    /// A class whose body is split into units: its header is `lines`, its body the units
    /// `members`.
    SplitClass {
        members: (usize, usize),
    },
    /// A compound statement other than a definition (`if`, `try`, `for`, `with`, ...).
    Compound,
    Simple,
}

struct Slicer<'s> {
    source: &'s str,
    tokens: Vec<Token>,
    lines: Vec<Line>,
}

impl<'s> Slicer<'s> {
    fn text(&self, token: &Token) -> &'s str {
        &self.source[token.start..token.end]
    }

    fn line_tokens(&self, line: usize) -> &[Token] {
        &self.tokens[self.lines[line].tokens.clone()]
    }

    fn first_word(&self, line: usize) -> &'s str {
        self.line_tokens(line).first().filter(|t| t.kind == TokenKind::Name).map_or("", |t| self.text(t))
    }

    fn starts_with_byte(&self, line: usize, byte: u8) -> bool {
        self.source.as_bytes().get(self.lines[line].start + self.lines[line].indent) == Some(&byte)
    }

    fn indent(&self, line: usize) -> &'s str {
        let line = &self.lines[line];
        &self.source[line.start..line.start + line.indent]
    }

    /// Splits `lines` (all at indentation `indent`, deeper lines belonging to the statement
    /// before) into statements.
    fn statements(&self, lines: Range<usize>, indent: &str) -> Option<Vec<Range<usize>>> {
        let mut statements: Vec<Range<usize>> = Vec::new();
        let mut decorated = false;
        for line in lines {
            let this = self.indent(line);
            let continues = if this == indent {
                let word = self.first_word(line);
                let clause = matches!(word, "else" | "elif" | "except" | "finally");
                let after_decorator = decorated;
                decorated = self.starts_with_byte(line, b'@');
                clause || after_decorator
            } else if this.starts_with(indent) {
                true
            } else {
                return None;
            };
            match statements.last_mut() {
                Some(last) if continues => last.end = line + 1,
                None if continues => return None,
                _ => statements.push(line..line + 1),
            }
        }
        Some(statements)
    }

    /// The first line of a statement that is not a decorator.
    fn head_line(&self, statement: &Range<usize>) -> usize {
        statement.clone().find(|&line| !self.starts_with_byte(line, b'@')).unwrap_or(statement.start)
    }

    fn kind_of(&self, statement: &Range<usize>) -> UnitKind {
        let head = self.head_line(statement);
        let words: Vec<&str> = self.line_tokens(head).iter().take(2).map(|t| self.text(t)).collect();
        match words.as_slice() {
            ["import" | "from", ..] => UnitKind::Import,
            ["def" | "class", ..] | ["async", "def", ..] => UnitKind::Definition,
            ["if" | "for" | "while" | "try" | "with" | "async", ..] => UnitKind::Compound,
            // `match` is a keyword only as a statement that opens a block.
            ["match", ..] if statement.len() > 1 => UnitKind::Compound,
            _ if statement.len() > 1 => UnitKind::Compound,
            _ => UnitKind::Simple,
        }
    }

    fn tokens_of(&self, lines: &Range<usize>) -> &[Token] {
        if lines.is_empty() {
            return &[];
        }
        let first = self.lines[lines.start].tokens.start;
        let last = self.lines[lines.end - 1].tokens.end;
        &self.tokens[first..last]
    }

    fn names_of(&self, lines: &Range<usize>) -> impl Iterator<Item = &'s str> + '_ {
        self.tokens_of(lines).iter().filter(|t| t.kind == TokenKind::Name).map(|t| self.text(t))
    }

    /// The names a unit may bind, for a unit that is not an import.
    fn bound_names(&self, unit: &Unit, attributes: bool) -> Vec<&'s str> {
        match unit.kind {
            UnitKind::Import => Vec::new(),
            UnitKind::Definition | UnitKind::SplitClass { .. } => {
                let head = self.head_line(&unit.lines);
                let mut names: Vec<&str> = self
                    .line_tokens(head)
                    .iter()
                    .skip_while(|t| !matches!(self.text(t), "def" | "class"))
                    .nth(1)
                    .map(|t| self.text(t))
                    .into_iter()
                    .collect();
                // `global x` and `self.x = ...` in a body bind a module name or an attribute (which
                // only the analysis of a class's methods asks about).
                for line in unit.lines.clone() {
                    let tokens = self.line_tokens(line);
                    if let Some(first) = tokens.first()
                        && matches!(self.text(first), "global" | "nonlocal")
                    {
                        names.extend(
                            tokens.iter().filter(|t| t.kind == TokenKind::Name).map(|t| self.text(t)),
                        );
                    }
                    let targets = if attributes { assignment_targets(tokens) } else { &[] };
                    names.extend(
                        targets
                            .windows(2)
                            .filter(|pair| pair[0].kind == TokenKind::Dot && pair[1].kind == TokenKind::Name)
                            .map(|pair| self.text(&pair[1])),
                    );
                    if tokens.iter().any(|t| t.kind == TokenKind::Walrus) {
                        names.extend(
                            tokens.iter().filter(|t| t.kind == TokenKind::Name).map(|t| self.text(t)),
                        );
                    }
                }
                names
            }
            UnitKind::Simple | UnitKind::Compound => {
                // The bodies of functions and classes defined inside bind their own names.
                let mut names = Vec::new();
                let mut definition_indent: Option<usize> = None;
                for line in unit.lines.clone() {
                    let indent = self.lines[line].indent;
                    if definition_indent.is_some_and(|outer| indent > outer) {
                        continue;
                    }
                    definition_indent = None;
                    names.extend(self.line_binds(line));
                    let head =
                        self.line_tokens(line).iter().find(|t| self.text(t) != "async").map(|t| self.text(t));
                    if matches!(head, Some("def" | "class")) {
                        definition_indent = Some(indent);
                    }
                }
                names
            }
        }
    }

    /// The names one logical line may bind in the scope it runs in: a definition's name, the
    /// targets of an assignment, a `for` loop, an `as`, a walrus, an annotation; every name of a
    /// `global`, `del` or `case` line.
    fn line_binds(&self, line: usize) -> Vec<&'s str> {
        let tokens = self.line_tokens(line);
        let names = |tokens: &[Token]| -> Vec<&'s str> {
            tokens.iter().filter(|t| t.kind == TokenKind::Name).map(|t| self.text(t)).collect()
        };
        let words: Vec<&str> = tokens.iter().take(2).map(|t| self.text(t)).collect();
        if matches!(
            words.first(),
            Some(&("global" | "nonlocal" | "del" | "case" | "match" | "import" | "from"))
        ) || tokens.iter().any(|t| matches!(t.kind, TokenKind::Walrus | TokenKind::Semicolon))
        {
            return names(tokens);
        }
        let mut bound = names(assignment_targets(tokens));
        for (at, token) in tokens.iter().enumerate() {
            let next = tokens.get(at + 1).filter(|t| t.kind == TokenKind::Name).map(|t| self.text(t));
            match self.text(token) {
                "def" | "class" | "as" => bound.extend(next),
                "for" => {
                    let end = tokens[at..]
                        .iter()
                        .position(|t| t.depth == token.depth && self.text(t) == "in")
                        .map_or(tokens.len(), |i| at + i);
                    bound.extend(names(&tokens[at + 1..end]));
                }
                _ => {}
            }
        }
        // `x: int` declares `x`.
        if let [first, second, ..] = tokens
            && first.kind == TokenKind::Name
            && second.kind == TokenKind::Colon
        {
            bound.push(self.text(first));
        }
        bound
    }
}

/// The tokens before a logical line's last top-level assignment.
fn assignment_targets(tokens: &[Token]) -> &[Token] {
    match tokens.iter().rposition(|t| t.kind == TokenKind::Assign && t.depth == 0) {
        Some(at) => &tokens[..at],
        None => &[],
    }
}

/// What makes a unit worth parsing.
struct Anchors<'s> {
    words: HashSet<&'s str>,
    prefixes: Vec<&'s str>,
    /// The file's coroutine functions: a bare call of one (`name(...)`, `self.name(...)`) drops
    /// a coroutine.
    coroutine_names: HashSet<&'s str>,
    /// Names bound by imports, with what they import (`c` → `a.b` for `import a.b as c`): a bare
    /// call through one may drop another module's coroutine.
    imported: Vec<(&'s str, String)>,
}

impl Anchors<'_> {
    fn matches(&self, word: &str) -> bool {
        self.words.contains(word) || self.prefixes.iter().any(|p| word.starts_with(p))
    }
}

/// Asks whether a qualified name (`pkg.util.notify`, `.util.notify`) is another module's
/// coroutine function (the project index's answer).
pub type CoroutineQuestion<'q> = &'q dyn Fn(&str) -> bool;

/// The byte ranges worth parsing in `source` for `transforms`, with tree-sitter points; none
/// when no statement can hold a finding; `None` when the whole file should be parsed.
pub fn plan(
    source: &str,
    transforms: &[&dyn Transform],
    imported_coroutine: Option<CoroutineQuestion>,
) -> Option<Vec<tree_sitter::Range>> {
    plan_for(source, Purpose::Findings { transforms, imported_coroutine })
}

/// The byte ranges the project index needs to summarise a module ([`crate::project`]): its
/// module-level functions and its imports, with what binds the names they use; `None` when the
/// whole file should be parsed.
pub fn plan_summary(source: &str) -> Option<Vec<tree_sitter::Range>> {
    plan_for(source, Purpose::ModuleSummary)
}

/// What a slice is for.
enum Purpose<'a, 'q> {
    Findings { transforms: &'a [&'a dyn Transform], imported_coroutine: Option<CoroutineQuestion<'q>> },
    ModuleSummary,
}

fn plan_for(source: &str, purpose: Purpose) -> Option<Vec<tree_sitter::Range>> {
    if source.len() < MIN_SLICED_LEN {
        return None;
    }
    let (transforms, imported_coroutine): (&[&dyn Transform], _) = match purpose {
        Purpose::Findings { transforms, imported_coroutine } => (transforms, imported_coroutine),
        Purpose::ModuleSummary => (&[], None),
    };
    let summary = matches!(purpose, Purpose::ModuleSummary);
    let (tokens, lines) = scan(source)?;
    let slicer = Slicer { source, tokens, lines };
    let mut units = units(&slicer)?;
    let anchors = anchors(&slicer, transforms, imported_coroutine.is_some());

    let mut anchored: Vec<usize> = Vec::new();
    let mut any_anchored = false;
    for (at, unit) in units.iter().enumerate() {
        // Imports anywhere decide which calls the analysis resolves; a wildcard may bind anything.
        let holds_import = || slicer.names_of(&unit.lines).any(|word| word == "import");
        let is_anchored = match unit.kind {
            UnitKind::Import => true,
            // The header is kept when a member is; its own words anchor nothing.
            UnitKind::SplitClass { .. } => false,
            _ if summary => {
                let head = slicer.head_line(&unit.lines);
                let defined = slicer.line_tokens(head).iter().skip_while(|t| slicer.text(t) != "def").nth(1);
                (unit.top_level && defined.is_some()) || holds_import()
            }
            _ if holds_import()
                && slicer
                    .tokens_of(&unit.lines)
                    .windows(2)
                    .any(|pair| slicer.text(&pair[0]) == "import" && slicer.text(&pair[1]) == "*") =>
            {
                true
            }
            _ => {
                slicer.names_of(&unit.lines).any(|w| anchors.matches(w))
                    || unit
                        .lines
                        .clone()
                        .flat_map(|line| slicer.line_tokens(line).split(|t| t.kind == TokenKind::Semicolon))
                        .any(|statement| drops_coroutine(&slicer, statement, &anchors, imported_coroutine))
            }
        };
        any_anchored |= is_anchored && (summary || unit.kind != UnitKind::Import);
        if is_anchored {
            anchored.push(at);
        }
    }
    if !any_anchored {
        // No statement can hold a finding: nothing to parse.
        return Some(Vec::new());
    }
    keep_closure(&slicer, &mut units, anchored, summary);

    let mut byte_ranges: Vec<Range<usize>> = Vec::new();
    for unit in units.iter().filter(|u| u.kept && !u.lines.is_empty()) {
        let range = slicer.lines[unit.lines.start].start..slicer.lines[unit.lines.end - 1].end;
        match byte_ranges.last_mut() {
            Some(last) if last.end == range.start => last.end = range.end,
            _ => byte_ranges.push(range),
        }
    }
    let kept: usize = byte_ranges.iter().map(|r| r.len()).sum();
    if kept as f64 > source.len() as f64 * MAX_KEPT_SHARE || byte_ranges.is_empty() {
        return None;
    }
    let lines = LineIndex::new(source);
    Some(
        byte_ranges
            .into_iter()
            .map(|r| tree_sitter::Range {
                start_byte: r.start,
                end_byte: r.end,
                start_point: lines.point(r.start),
                end_point: lines.point(r.end),
            })
            .collect(),
    )
}

/// Keeps `anchored` and, to a fixed point, what the kept units need: a member's class header,
/// every unit that binds a name a kept unit uses (and the names fixes use), and for a header
/// kept for its name alone its smallest member (a header needs a body; what the analysis asks of
/// a class's members it asks by names that pulled them in already).
fn keep_closure(slicer: &Slicer, units: &mut [Unit], anchored: Vec<usize>, summary: bool) {
    let mut binders: HashMap<&str, Vec<usize>> = HashMap::default();
    let mut header_of: Vec<Option<usize>> = vec![None; units.len()];
    for (at, unit) in units.iter().enumerate() {
        if let UnitKind::SplitClass { members: (first, last) } = unit.kind {
            header_of[first..last].fill(Some(at));
        }
        // A summary reads no class's members.
        if unit.kind == UnitKind::Import || (summary && !unit.top_level) {
            continue;
        }
        for name in slicer.bound_names(unit, !summary) {
            binders.entry(name).or_default().push(at);
        }
    }
    let mut used: HashSet<&str> = HashSet::default();
    let mut pending: Vec<usize> = anchored;
    for name in NAMES_FIXES_USE {
        used.insert(name);
        pending.extend(binders.get(name).into_iter().flatten());
    }
    loop {
        while let Some(at) = pending.pop() {
            if units[at].kept {
                continue;
            }
            units[at].kept = true;
            pending.extend(header_of[at]);
            // A summary's functions reach module names only by bare names; the analysis also
            // follows `self.attribute`.
            let tokens = slicer.tokens_of(&units[at].lines);
            for (i, token) in tokens.iter().enumerate() {
                let attribute = i > 0 && tokens[i - 1].kind == TokenKind::Dot;
                let word = slicer.text(token);
                if token.kind == TokenKind::Name
                    && (!summary || !attribute)
                    && !KEYWORDS.contains(&word)
                    && used.insert(word)
                {
                    pending.extend(binders.get(word).into_iter().flatten());
                }
            }
        }
        let bodiless = units.iter().find_map(|unit| match unit.kind {
            UnitKind::SplitClass { members: (first, last) }
                if unit.kept && !units[first..last].iter().any(|m| m.kept) =>
            {
                let size =
                    |unit: &Unit| slicer.lines[unit.lines.end - 1].end - slicer.lines[unit.lines.start].start;
                (first..last).min_by_key(|&member| size(&units[member]))
            }
            _ => None,
        });
        match bodiless {
            Some(member) => pending.push(member),
            None => break,
        }
    }
}

/// Whether `statement` is a call statement (`name(...)`, `a.b.name(...)`) that may drop a
/// coroutine: one of the file's, or one the project says another module defines.
fn drops_coroutine(
    slicer: &Slicer,
    statement: &[Token],
    anchors: &Anchors,
    imported: Option<CoroutineQuestion>,
) -> bool {
    let tokens = &statement[statement.iter().take_while(|t| slicer.text(t) == "(").count()..];
    let ends_with_call = tokens.last().is_some_and(|t| slicer.text(t) == ")" && t.depth == 0);
    if !ends_with_call || !assignment_targets(tokens).is_empty() {
        return false;
    }
    // The callee: names joined by dots, up to the first `(`.
    let mut chain: Vec<&str> = Vec::new();
    for (at, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::Name if at % 2 == 0 => chain.push(slicer.text(token)),
            TokenKind::Dot if at % 2 == 1 => {}
            TokenKind::Other if at % 2 == 1 && slicer.text(token) == "(" => break,
            _ => return false,
        }
    }
    match chain.as_slice() {
        [name] | ["self", name] if anchors.coroutine_names.contains(name) => return true,
        _ => {}
    }
    let (Some(ask), Some((head, rest))) = (imported, chain.split_first()) else { return false };
    anchors.imported.iter().filter(|(bound, _)| bound == head).any(|(_, origin)| {
        let qualified =
            std::iter::once(origin.as_str()).chain(rest.iter().copied()).collect::<Vec<_>>().join(".");
        ask(&qualified)
    })
}

/// The units of a file in source order; a class body holding more than one statement is split
/// into a header unit followed by its members.
fn units(slicer: &Slicer) -> Option<Vec<Unit>> {
    let mut units = Vec::new();
    for statement in slicer.statements(0..slicer.lines.len(), "")? {
        let kind = slicer.kind_of(&statement);
        let head = slicer.head_line(&statement);
        let is_class = slicer.first_word(head) == "class";
        let body = head + 1..statement.end;
        if is_class && body.len() > 1 {
            let indent = slicer.indent(body.start);
            if let Some(members) = slicer.statements(body.clone(), indent)
                && members.len() > 1
            {
                let header = units.len();
                units.push(Unit {
                    lines: statement.start..head + 1,
                    top_level: true,
                    kind: UnitKind::Simple,
                    kept: false,
                });
                for member in members {
                    let kind = slicer.kind_of(&member);
                    units.push(Unit { lines: member, top_level: false, kind, kept: false });
                }
                units[header].kind = UnitKind::SplitClass { members: (header + 1, units.len()) };
                continue;
            }
        }
        units.push(Unit { lines: statement, top_level: true, kind, kept: false });
    }
    Some(units)
}

/// The anchor words of `transforms`, with the names that stand for them in this file: an import
/// alias of one (`from asyncio import create_task as spawn`), the file's coroutine functions and
/// imported names (for `missing-await`).
fn anchors<'s>(slicer: &Slicer<'s>, transforms: &[&dyn Transform], with_project: bool) -> Anchors<'s> {
    let mut anchors = Anchors {
        words: HashSet::default(),
        prefixes: Vec::new(),
        coroutine_names: HashSet::default(),
        imported: Vec::new(),
    };
    for anchor in transforms.iter().flat_map(|t| t.anchors()) {
        match anchor.strip_suffix('*') {
            Some(prefix) => anchors.prefixes.push(prefix),
            None => {
                anchors.words.insert(*anchor);
            }
        }
    }
    let wants_coroutine_names = transforms.iter().any(|t| t.anchors_coroutine_names());
    for line in 0..slicer.lines.len() {
        let tokens = slicer.line_tokens(line);
        if wants_coroutine_names {
            for window in tokens.windows(3) {
                if slicer.text(&window[0]) == "async" && slicer.text(&window[1]) == "def" {
                    anchors.coroutine_names.insert(slicer.text(&window[2]));
                }
            }
        }
        for statement in tokens.split(|t| t.kind == TokenKind::Semicolon) {
            anchors.import(slicer, statement, wants_coroutine_names && with_project);
        }
    }
    if wants_coroutine_names && with_project {
        // The analysis takes these names to mean their modules even when nothing imports them.
        anchors.imported.extend(IMPORTABLE_BY_FIXES.iter().map(|name| (*name, name.to_string())));
    }
    anchors
}

impl<'s> Anchors<'s> {
    /// Records what import `statement` binds (nothing for another statement). A wildcard import
    /// binds names the analysis does not know either (they resolve to nothing).
    fn import(&mut self, slicer: &Slicer<'s>, tokens: &[Token], imported_names_count: bool) {
        let first = tokens.first().map_or("", |t| slicer.text(t));
        if first != "import" && first != "from" {
            return;
        }
        let import_at = tokens.iter().position(|t| slicer.text(t) == "import").unwrap_or(tokens.len());
        // `from ..pkg import`: the module, dots included.
        let from_module: String = tokens[1..import_at.max(1)].iter().map(|t| slicer.text(t)).collect();
        for segment in tokens[(import_at + 1).min(tokens.len())..].split(|t| t.kind == TokenKind::Comma) {
            if segment.iter().any(|t| slicer.text(t) == "*") {
                continue;
            }
            let names: Vec<&str> =
                segment.iter().filter(|t| t.kind == TokenKind::Name).map(|t| slicer.text(t)).collect();
            let dotted: Vec<&str> = names.iter().copied().take_while(|n| *n != "as").collect();
            let alias = names.iter().position(|n| *n == "as").and_then(|i| names.get(i + 1)).copied();
            let Some(&last) = dotted.last() else { continue };
            let (bound, origin) = match (first, alias) {
                ("import", Some(alias)) => (alias, dotted.join(".")),
                // `import a.b` binds `a`.
                ("import", None) => (dotted[0], dotted[0].to_string()),
                (_, alias) => {
                    let separator = if from_module.ends_with('.') { "" } else { "." };
                    (alias.unwrap_or(last), format!("{from_module}{separator}{last}"))
                }
            };
            if self.words.contains(last) {
                self.words.insert(bound);
            }
            if imported_names_count {
                self.imported.push((bound, origin));
            }
        }
    }
}

/// The file's indentation unit as [`crate::source::Style::detect_in`] reads it from a tree —
/// the first block whose body starts on a line of its own, its first line's indentation less
/// its header's — read from the token scan instead: `Some(None)` when no block qualifies,
/// `None` when the scan cannot follow the file.
pub fn indent_unit(source: &str) -> Option<Option<String>> {
    let (tokens, lines) = scan(source)?;
    let opens_block = |line: &Line| {
        tokens[line.tokens.clone()].last().is_some_and(|t| t.kind == TokenKind::Colon && t.depth == 0)
    };
    let indent = |line: &Line| &source[line.start..line.start + line.indent];
    for pair in lines.windows(2) {
        let (header, first) = (&pair[0], &pair[1]);
        if opens_block(header) && first.indent > header.indent {
            return Some(
                indent(first)
                    .strip_prefix(indent(header))
                    .filter(|unit| !unit.is_empty())
                    .map(str::to_string),
            );
        }
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(source: &str) -> Vec<&str> {
        let transforms = crate::transforms::enabled(&crate::config::Settings::default());
        match plan(source, &transforms, None) {
            Some(ranges) => ranges.iter().map(|r| &source[r.start_byte..r.end_byte]).collect(),
            None => vec![source],
        }
    }

    fn padding(n: usize) -> String {
        (0..n).map(|i| format!("def filler_{i}(a, b):\n    return a + b * {i}\n\n")).collect()
    }

    #[test]
    fn keeps_coroutines_their_helpers_and_imports() {
        let source = format!(
            "import time\n\n{}def helper():\n    time.sleep(1)\n\nasync def main():\n    helper()\n",
            padding(120)
        );
        let kept = kept(&source);
        assert_eq!(
            kept,
            ["import time\n", "def helper():\n    time.sleep(1)\n", "async def main():\n    helper()\n"]
        );
    }

    #[test]
    fn splits_classes_and_keeps_attribute_binders() {
        let source = format!(
            "class Client:\n    def __init__(self):\n        self.session = make()\n\n    def unrelated(self):\n        return 1\n\n    async def fetch(self):\n        return self.session.get()\n\n{}",
            padding(120)
        );
        let kept = kept(&source).concat();
        assert!(kept.contains("class Client:\n"));
        assert!(kept.contains("self.session = make()"));
        assert!(kept.contains("async def fetch"));
        assert!(!kept.contains("unrelated"));
        assert!(!kept.contains("filler_"));
    }

    #[test]
    fn strings_comments_and_fstrings_do_not_anchor_or_confuse_the_scan() {
        let source = format!(
            "TEXT = '''async def in a string\n'''\n# await in a comment\nX = f\"{{ {{'a': 1}}['a'] }} {{x!r:>{{width}}}}\"\n{}",
            padding(120)
        );
        assert!(kept(&source).is_empty(), "nothing to parse");
        let (_, lines) = scan(&source).unwrap();
        assert_eq!(lines.len(), 2 + 120 * 2);
    }

    #[test]
    fn unbalanced_code_is_parsed_whole() {
        let source = format!("x = (1,\n{}", padding(120));
        assert!(scan(&source).is_none());
    }

    #[test]
    fn statements_joined_by_semicolons_bind_and_import() {
        let source = format!(
            "x = 1; import time\n{}from asyncio import sleep; from asyncio import create_task as spawn\ndef start(c):\n    log(c); spawn(c)\nasync def f():\n    time.sleep(x)\n",
            padding(120)
        );
        let kept = kept(&source).concat();
        assert!(kept.contains("x = 1; import time"));
        assert!(kept.contains("def start"));
    }

    #[test]
    fn import_aliases_of_anchor_words_anchor() {
        let source = format!(
            "from asyncio import create_task as spawn\n\n{}def start(coro):\n    spawn(coro)\n",
            padding(120)
        );
        assert!(kept(&source).concat().contains("def start"));
    }
}
