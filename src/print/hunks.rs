//! Line-level changes between a file and its fixed text, shaped for formats that replace whole
//! lines (SARIF replacements, review suggestions).

use std::ops::Range;

use similar::{Algorithm, DiffTag, capture_diff_slices};

/// Replace the old lines `old` (0-based, end exclusive) with `new_text` (whole lines, each with its
/// line ending). `old` is never empty: a pure insertion takes in a neighbouring unchanged line, so
/// every change sits on at least one existing line, as a suggestion must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineChange {
    pub old: Range<usize>,
    pub new_text: String,
}

/// Byte offsets where each line of `text` starts, plus the text's length.
pub fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    if starts.last() == Some(&text.len()) && !text.is_empty() {
        return starts;
    }
    starts.push(text.len());
    starts
}

/// The old → new changes, each on at least one old line; changes that share or touch a line are
/// merged, so the result is disjoint with unchanged lines between. Empty when `old` is empty.
pub fn line_changes(old: &str, new: &str) -> Vec<LineChange> {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    // For each unchanged old line, the new line it became.
    let mut same_as: Vec<Option<usize>> = vec![None; old_lines.len()];
    let mut raw: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &old_lines, &new_lines) {
        let (old_range, new_range) = (op.old_range(), op.new_range());
        if op.tag() == DiffTag::Equal {
            for (offset, line) in old_range.clone().enumerate() {
                same_as[line] = Some(new_range.start + offset);
            }
            continue;
        }
        match raw.last_mut() {
            Some((o, n)) if o.end == old_range.start && n.end == new_range.start => {
                o.end = old_range.end;
                n.end = new_range.end;
            }
            _ => raw.push((old_range, new_range)),
        }
    }
    if old_lines.is_empty() {
        return Vec::new();
    }
    let mut spans: Vec<Range<usize>> = Vec::new();
    for (old_range, _) in raw {
        let span = if !old_range.is_empty() {
            old_range
        } else if old_range.start > 0 {
            old_range.start - 1..old_range.start
        } else {
            0..1
        };
        match spans.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => spans.push(span),
        }
    }
    spans
        .into_iter()
        .map(|span| {
            // The lines just outside a span are unchanged (spans that touch were merged), so they
            // pin where the replacement starts and ends in the new text.
            let new_start = if span.start == 0 { 0 } else { same_as[span.start - 1].map_or(0, |n| n + 1) };
            let new_end = if span.end == old_lines.len() {
                new_lines.len()
            } else {
                same_as[span.end].unwrap_or(new_start)
            };
            LineChange { new_text: new_lines[new_start..new_end.max(new_start)].concat(), old: span }
        })
        .collect()
}

/// Applies `changes` (as [`line_changes`] returns them) to `old`.
pub fn apply(old: &str, changes: &[LineChange]) -> String {
    let starts = line_starts(old);
    let mut out = String::with_capacity(old.len());
    let mut at = 0;
    for change in changes {
        out.push_str(&old[at..starts[change.old.start]]);
        out.push_str(&change.new_text);
        at = starts[change.old.end.min(starts.len() - 1)];
    }
    out.push_str(&old[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(old: &str, new: &str) -> Vec<LineChange> {
        let changes = line_changes(old, new);
        assert_eq!(apply(old, &changes), new, "changes {changes:?}");
        changes
    }

    #[test]
    fn replacement_insertion_and_deletion() {
        let changes = roundtrip("a\nb\nc\nd\ne\n", "a\nB\nc\nd\n");
        assert_eq!(changes[0], LineChange { old: 1..2, new_text: "B\n".into() });
        assert_eq!(changes[1], LineChange { old: 4..5, new_text: String::new() });
        // An insertion takes the line before it.
        let changes = roundtrip("a\nb\nc\n", "a\nb\nx\nc\n");
        assert_eq!(changes, [LineChange { old: 1..2, new_text: "b\nx\n".into() }]);
        // At the top, the line after it.
        let changes = roundtrip("a\nb\n", "import x\na\nb\n");
        assert_eq!(changes, [LineChange { old: 0..1, new_text: "import x\na\n".into() }]);
    }

    #[test]
    fn touching_changes_merge() {
        let changes = roundtrip("a\nb\nc\nd\n", "A\nb\ny\nc\nd\n");
        assert_eq!(changes, [LineChange { old: 0..2, new_text: "A\nb\ny\n".into() }]);
        // One unchanged line between keeps them apart.
        let changes = roundtrip("a\nb\nc\nd\n", "a\nx\nb\nC\nd\n");
        assert_eq!(changes.len(), 2);
        roundtrip("a\nb", "a\nb\nc");
        roundtrip("x = 1\n", "");
        roundtrip("a\r\nb\r\n", "a\r\nB\r\nc\r\n");
    }
}
