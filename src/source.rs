//! Reading a Python file faithfully: bytes in, text plus everything needed to write the same bytes
//! back (BOM, line endings, indentation unit, quote style).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a file was skipped. Displayed as one line after the file's path.
#[derive(Debug)]
pub enum FileProblem {
    Read(io::Error),
    Binary,
    /// Not UTF-8; `declared` is the encoding a PEP 263 cookie names, if any.
    NotUtf8 {
        line: usize,
        declared: Option<String>,
    },
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// Valid Python the tree-sitter grammar cannot parse.
    BeyondTreeSitter {
        line: usize,
        column: usize,
    },
    /// Old Mac line endings (a CR not followed by LF).
    CarriageReturnLineEndings {
        line: usize,
    },
    Utf16,
    ChangedOnDisk,
    ReadOnly,
    Write(io::Error),
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileProblem::Read(e) => write!(f, "cannot read: {}", io_reason(e)),
            FileProblem::Binary => f.write_str("binary file (contains a NUL byte); skipped"),
            FileProblem::Utf16 => f.write_str("UTF-16 encoded; only UTF-8 files are rewritten; skipped"),
            FileProblem::BeyondTreeSitter { line, column } => write!(
                f,
                "the tree-sitter grammar cannot parse this valid Python at {line}:{column} \
                 (a construct it does not know, such as `yield a, *[...]`, or nesting over 500 levels \
                 deep); skipped"
            ),
            FileProblem::CarriageReturnLineEndings { line } => write!(
                f,
                "old Mac line endings (a CR without LF ends line {line}); convert to LF or CRLF first; skipped"
            ),
            FileProblem::NotUtf8 { line, declared: Some(encoding) } => write!(
                f,
                "declares encoding {encoding} (line {line} is not UTF-8); only UTF-8 files are rewritten; skipped"
            ),
            FileProblem::NotUtf8 { line, declared: None } => {
                write!(f, "not valid UTF-8 (first bad byte on line {line}); skipped")
            }
            FileProblem::Syntax { line, column, message } => {
                write!(f, "syntax error at {line}:{column}: {message}; skipped")
            }
            FileProblem::ChangedOnDisk => {
                f.write_str("changed on disk while asyncmod was working; left as it is now")
            }
            FileProblem::ReadOnly => f.write_str("file is read-only; not rewritten"),
            FileProblem::Write(e) => write!(f, "cannot write: {}", io_reason(e)),
        }
    }
}

fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::IsADirectory => "is a directory".to_string(),
        _ => {
            // "Too many levels of symbolic links (os error 40)" -> "too many levels of symbolic links"
            let message = e.to_string();
            let message = message.split(" (os error").next().unwrap_or(&message);
            let mut chars = message.chars();
            chars.next().map_or_else(String::new, |first| first.to_lowercase().chain(chars).collect())
        }
    }
}

/// A problem tied to the file it happened in.
#[derive(Debug)]
pub struct FileError {
    pub path: PathBuf,
    pub problem: FileProblem,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for FileError {}

/// A decoded source file and the exact bytes it came from.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    /// The bytes as read, used to detect a change on disk before writing.
    pub original: Vec<u8>,
    pub has_bom: bool,
    /// The text without the BOM.
    pub text: String,
}

impl SourceFile {
    pub fn read(path: &Path) -> Result<SourceFile, FileError> {
        let bytes = std::fs::read(path)
            .map_err(|e| FileError { path: path.to_path_buf(), problem: FileProblem::Read(e) })?;
        SourceFile::from_bytes(path, bytes)
    }

    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<SourceFile, FileError> {
        let text = decode(path, &bytes)?.to_string();
        let has_bom = bytes.starts_with(UTF8_BOM);
        Ok(SourceFile { path: path.to_path_buf(), original: bytes, has_bom, text })
    }

    /// The bytes to write for a new version of the text, with the BOM restored.
    pub fn encode(&self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() + 3);
        if self.has_bom {
            out.extend_from_slice(UTF8_BOM);
        }
        out.extend_from_slice(text.as_bytes());
        out
    }
}

/// The text of a Python file's bytes (without a BOM), or why it has none: a NUL byte marks a
/// binary file; anything but UTF-8 is refused with the line of the first bad byte.
pub fn decode<'b>(path: &Path, bytes: &'b [u8]) -> Result<&'b str, FileError> {
    let fail = |problem| FileError { path: path.to_path_buf(), problem };
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(fail(FileProblem::Utf16));
    }
    if memchr::memchr(0, bytes).is_some() {
        return Err(fail(FileProblem::Binary));
    }
    if let Some(line) = lone_carriage_return_line(bytes) {
        return Err(fail(FileProblem::CarriageReturnLineEndings { line }));
    }
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    std::str::from_utf8(body).map_err(|e| {
        let line = body[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        fail(FileProblem::NotUtf8 { line, declared: declared_encoding(body) })
    })
}

/// The encoding named by a PEP 263 cookie (`# -*- coding: latin-1 -*-`) on line 1 or 2.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    bytes.split(|&b| b == b'\n').take(2).find_map(|line| {
        let line = String::from_utf8_lossy(line);
        let comment = line.trim_start().strip_prefix('#')?;
        let at = comment.find("coding")?;
        let rest = comment[at + "coding".len()..].strip_prefix([':', '='])?.trim_start();
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || "-_.".contains(*c)).collect();
        (!name.is_empty()).then_some(name)
    })
}

/// The 1-based line ended by the first CR that no LF follows (an old-Mac line ending), if any.
pub fn lone_carriage_return_line(bytes: &[u8]) -> Option<usize> {
    let cr = memchr::memchr_iter(b'\r', bytes).find(|&i| bytes.get(i + 1) != Some(&b'\n'))?;
    Some(memchr::memchr_iter(b'\n', &bytes[..cr]).count() + 1)
}

/// How a file writes itself, so that inserted code looks like the code around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    pub newline: &'static str,
    pub indent: String,
    pub quote: char,
}

impl Style {
    pub fn detect(text: &str) -> Style {
        let newline = match text.find('\n') {
            Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
            _ => "\n",
        };
        Style { newline, indent: detect_indent(text), quote: detect_quote(text) }
    }

    /// Like [`Style::detect`], but takes the indentation unit from the first indented block of
    /// the syntax tree, so that indented lines inside strings (docstring bullets) do not count.
    pub fn detect_in(text: &str, root: tree_sitter::Node) -> Style {
        let mut style = Style::detect(text);
        if let Some(unit) = indent_from_tree(text, root) {
            style.indent = unit;
        }
        style
    }

    /// Re-indents `code` (written with four spaces and `\n`) into this file's style, prefixing
    /// every non-empty line with `base`.
    pub fn render(&self, code: &str, base: &str) -> String {
        let mut out = String::with_capacity(code.len() + 16);
        for (i, line) in code.split('\n').enumerate() {
            if i > 0 {
                out.push_str(self.newline);
            }
            if line.is_empty() {
                continue;
            }
            let spaces = line.len() - line.trim_start_matches(' ').len();
            out.push_str(base);
            for _ in 0..spaces / 4 {
                out.push_str(&self.indent);
            }
            out.push_str(&line[spaces - spaces % 4..]);
        }
        out
    }
}

/// A file's [`Style`], worked out on first use: only a file with a fix needs it. Without a tree
/// of the whole file (only parts were parsed, `crate::slice`), the token scan finds the
/// indentation unit.
pub struct LazyStyle<'t> {
    text: &'t str,
    /// The tree of the whole file, when there is one.
    root: Option<tree_sitter::Node<'t>>,
    style: std::cell::OnceCell<Style>,
}

impl<'t> LazyStyle<'t> {
    pub fn new(text: &'t str, root: Option<tree_sitter::Node<'t>>) -> LazyStyle<'t> {
        LazyStyle { text, root, style: std::cell::OnceCell::new() }
    }
}

impl std::ops::Deref for LazyStyle<'_> {
    type Target = Style;

    fn deref(&self) -> &Style {
        self.style.get_or_init(|| match (self.root, crate::slice::indent_unit(self.text)) {
            (Some(root), _) => Style::detect_in(self.text, root),
            (None, Some(unit)) => {
                let mut style = Style::detect(self.text);
                if let Some(unit) = unit {
                    style.indent = unit;
                }
                style
            }
            (None, None) => Style::detect_in(self.text, crate::syntax::parse(self.text).root_node()),
        })
    }
}

/// The indentation unit: the leading whitespace of the first line that is indented deeper than
/// the line before it. Defaults to four spaces.
fn detect_indent(text: &str) -> String {
    let mut previous = "";
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = &line[..line.len() - trimmed.len()];
        if indent.len() > previous.len() && indent.starts_with(previous) {
            let unit = &indent[previous.len()..];
            if !unit.is_empty() {
                return unit.to_string();
            }
        }
        previous = indent;
    }
    "    ".to_string()
}

/// The indentation a block adds over the line that opens it, from the first block in the file.
fn indent_from_tree(text: &str, root: tree_sitter::Node) -> Option<String> {
    let block = crate::syntax::find_first(root, |block| {
        if block.kind() != "block" {
            return false;
        }
        let (Some(parent), Some(first)) = (block.parent(), block.named_child(0)) else { return false };
        first.start_position().row > parent.start_position().row
    })?;
    let leading = |row: usize| -> &str {
        let line = text.lines().nth(row).unwrap_or("");
        &line[..line.len() - line.trim_start().len()]
    };
    let outer = leading(block.parent()?.start_position().row);
    let inner = leading(block.named_child(0)?.start_position().row);
    inner.strip_prefix(outer).filter(|unit| !unit.is_empty()).map(str::to_string)
}

/// The quote character most string literals start with.
fn detect_quote(text: &str) -> char {
    let double = text.matches('"').count();
    let single = text.matches('\'').count();
    if single > double { '\'' } else { '"' }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_tabs_crlf_and_single_quotes() {
        let style = Style::detect("def f():\r\n\tx = 'a'\r\n\treturn 'b'\r\n");
        assert_eq!(style.newline, "\r\n");
        assert_eq!(style.indent, "\t");
        assert_eq!(style.quote, '\'');
    }

    #[test]
    fn indent_unit_ignores_continuation_lines_that_dedent() {
        let style = Style::detect("if x:\n  y = 1\n  if z:\n    w = 2\n");
        assert_eq!(style.indent, "  ");
    }

    #[test]
    fn indent_from_tree_ignores_docstring_bullets() {
        let text = "\"\"\"Doc.\n\n  * bullet\n\"\"\"\nasync def g():\n    pass\n";
        assert_eq!(Style::detect(text).indent, "  ");
        let tree = crate::syntax::parse(text);
        assert_eq!(Style::detect_in(text, tree.root_node()).indent, "    ");
    }

    #[test]
    fn render_reindents_into_file_style() {
        let style = Style { newline: "\r\n", indent: "\t".into(), quote: '"' };
        assert_eq!(style.render("def f():\n    return 1\n", "  "), "  def f():\r\n  \treturn 1\r\n");
    }

    #[test]
    fn bom_is_stripped_and_restored() {
        let file = SourceFile::from_bytes(Path::new("x.py"), b"\xEF\xBB\xBFx = 1\n".to_vec()).unwrap();
        assert!(file.has_bom);
        assert_eq!(file.text, "x = 1\n");
        assert_eq!(file.encode("y = 2\n"), b"\xEF\xBB\xBFy = 2\n");
    }

    #[test]
    fn rejects_binary_and_bad_utf8_with_line() {
        let err = SourceFile::from_bytes(Path::new("b.py"), b"a\0b".to_vec()).unwrap_err();
        assert!(matches!(err.problem, FileProblem::Binary));
        let err = SourceFile::from_bytes(Path::new("l.py"), b"x = 1\ny = '\xE9'\n".to_vec()).unwrap_err();
        assert!(matches!(err.problem, FileProblem::NotUtf8 { line: 2, declared: None }));
        assert_eq!(err.to_string(), "l.py: not valid UTF-8 (first bad byte on line 2); skipped");
        let latin = b"# -*- coding: latin-1 -*-\nx = '\xE9'\n".to_vec();
        let err = SourceFile::from_bytes(Path::new("c.py"), latin).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.py: declares encoding latin-1 (line 2 is not UTF-8); only UTF-8 files are rewritten; skipped"
        );
    }
}
