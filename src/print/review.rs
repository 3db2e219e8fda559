//! `--format github-review`: the body of a pull-request review
//! (`POST /repos/{owner}/{repo}/pulls/{n}/reviews`) whose comments suggest the fixes.
//!
//! Suggestions come from the file as `fix` writes it (every fix, the import pass and the clean-up),
//! so applying all of them gives what `fix` gives when its changes lie inside the diff. GitHub
//! rejects the whole review when one comment sits outside the pull request's diff, so:
//! - a comment lies on lines of one diff hunk of the new side (`side: RIGHT`), `start_line`
//!   before `line`;
//! - a fix that needs lines outside the diff (an import at the top, a module-level helper) cannot
//!   be suggested in part: its in-diff lines alone would not run. It gets a plain comment with its
//!   whole diff instead. Lines outside the diff that `fix` would only delete (an import left unused)
//!   are not needed by anything, so the in-diff part stays a suggestion and the body mentions them;
//! - at most [`MAX_COMMENTS`] comments; the rest are listed in the body.

use std::ops::{Range, RangeInclusive};

use serde_json::{Value, json};

use crate::engine::{FixStatus, Reported};
use crate::gitdiff::FileDiff;

use super::hunks::{LineChange, line_changes};
use super::{FileReport, diff, status_label};

/// GitHub accepts more, but a review with hundreds of comments buries the pull request.
pub const MAX_COMMENTS: usize = 100;

/// Review bodies are limited to 65,536 characters; the overflow list stops well before.
const MAX_BODY: usize = 60_000;

struct Comment {
    path: String,
    lines: RangeInclusive<usize>,
    body: String,
}

#[derive(Default)]
struct Tally {
    findings: usize,
    suggestions: usize,
    plain: usize,
    /// Changes `fix` would make on lines outside the diff, by path and first line.
    outside: Vec<(String, usize)>,
}

/// The review payload for `files` (each paired with what the pull request changed in it).
pub fn payload(files: &[(FileReport, Option<&FileDiff>)], head: &str) -> Value {
    let mut comments = Vec::new();
    let mut tally = Tally::default();
    for (file, file_diff) in files {
        let Some(file_diff) = file_diff else { continue };
        comments.extend(file_comments(file, file_diff, &mut tally));
    }
    comments.sort_by(|a, b| (&a.path, a.lines.start()).cmp(&(&b.path, b.lines.start())));
    let overflow = comments.split_off(comments.len().min(MAX_COMMENTS));
    let body = review_body(&tally, &overflow);
    let comments: Vec<Value> = comments
        .into_iter()
        .map(|c| {
            let mut value = json!({ "path": c.path, "body": c.body, "line": c.lines.end(), "side": "RIGHT" });
            if c.lines.start() < c.lines.end() {
                value["start_line"] = json!(c.lines.start());
                value["start_side"] = json!("RIGHT");
            }
            value
        })
        .collect();
    json!({ "commit_id": head, "event": "COMMENT", "body": body, "comments": comments })
}

/// 1-based inclusive lines of a 0-based line range.
fn one_based(change: &LineChange) -> RangeInclusive<usize> {
    change.old.start + 1..=change.old.end
}

fn file_comments(file: &FileReport, file_diff: &FileDiff, tally: &mut Tally) -> Vec<Comment> {
    let in_diff = |lines: &RangeInclusive<usize>| file_diff.hunk_holding(lines).is_some();
    // The pull request's findings: on lines it added or changed (and so inside a hunk).
    let on_changed_lines = |f: &Reported| file_diff.touches(f.line..=f.end_line.max(f.line));
    let findings: Vec<(usize, &Reported)> =
        file.findings.iter().enumerate().filter(|(_, f)| on_changed_lines(f)).collect();
    tally.findings += findings.len();
    // What fixes of findings the pull request did not make change: never part of a suggestion
    // (their other parts, a helper say, may lie outside the diff).
    let foreign: Vec<LineChange> = file
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| !on_changed_lines(f) && matches!(f.status, FixStatus::Applicable(_)))
        .filter_map(|(index, _)| file.alone.get(index).cloned().flatten())
        .flat_map(|alone| line_changes(file.source, &alone))
        .collect();

    // Fixes that add lines outside the diff: their in-diff part is not correct on its own.
    let mut blocked: Vec<(&Reported, Vec<LineChange>, &str)> = Vec::new();
    for (index, finding) in &findings {
        if !matches!(finding.status, FixStatus::Applicable(_)) {
            continue;
        }
        let Some(Some(alone)) = file.alone.get(*index) else { continue };
        let changes = line_changes(file.source, alone);
        let needs_outside = changes.iter().any(|c| !in_diff(&one_based(c)) && !is_deletion(file.source, c));
        if needs_outside {
            blocked.push((finding, changes, alone));
        }
    }

    // What the fixes of the findings on changed lines change, each applied alone.
    let wanted_by: Vec<(&Reported, LineChange)> = findings
        .iter()
        .filter(|(_, f)| matches!(f.status, FixStatus::Applicable(_)))
        .filter_map(|(index, f)| Some((*f, file.alone.get(*index).cloned().flatten()?)))
        .flat_map(|(f, alone)| line_changes(file.source, &alone).into_iter().map(move |c| (f, c)))
        .collect();
    let overlaps = |a: &Range<usize>, b: &Range<usize>| a.start < b.end && b.start < a.end;
    let is_blocked = |finding: &Reported| blocked.iter().any(|(b, _, _)| std::ptr::eq(*b, finding));
    let mut comments = Vec::new();
    let mut suggested: Vec<Range<usize>> = Vec::new();
    let mut explained = vec![false; file.findings.len()];
    if let Some(fixed) = file.fixed {
        for change in line_changes(file.source, fixed) {
            let lines = one_based(&change);
            let overlaps_blocked =
                blocked.iter().any(|(_, changes, _)| changes.iter().any(|c| overlaps(&c.old, &change.old)));
            let overlaps_foreign = foreign.iter().any(|c| overlaps(&c.old, &change.old));
            // A change on unchanged context lines fixes something the pull request did not
            // write; suggest it only when an in-diff finding's fix needs it.
            let wanted = file_diff.touches(lines.clone())
                || wanted_by.iter().any(|(_, c)| overlaps(&c.old, &change.old));
            if !in_diff(&lines) || overlaps_blocked || overlaps_foreign || !wanted {
                if !overlaps_blocked {
                    tally.outside.push((file.path.clone(), *lines.start()));
                }
                continue;
            }
            let mut messages = String::new();
            for (index, finding) in &findings {
                if lines.contains(&finding.line)
                    && matches!(finding.status, FixStatus::Applicable(_))
                    && !is_blocked(finding)
                {
                    explained[*index] = true;
                    messages.push_str(&format!("**{}**: {}\n", finding.transform, finding.message));
                }
            }
            if messages.is_empty() {
                let mut needed_by: Vec<String> = wanted_by
                    .iter()
                    .filter(|(_, c)| overlaps(&c.old, &change.old))
                    .map(|(f, _)| format!("**{}** on line {}", f.transform, f.line))
                    .collect();
                needed_by.dedup();
                if needed_by.is_empty() {
                    messages.push_str("`asyncmod fix` also changes these lines.\n");
                } else {
                    messages.push_str(&format!("Part of the fix for {}.\n", needed_by.join(", ")));
                }
            }
            tally.suggestions += 1;
            suggested.push(change.old.clone());
            comments.push(Comment {
                path: file.path.clone(),
                body: format!("{messages}\n{}", suggestion_block(&change.new_text)),
                lines,
            });
        }
    }
    // A fix whose lines `fix` merged with a blocked neighbour's: suggest it as made alone, when it
    // stays inside the diff and clear of every other suggestion.
    for (index, finding) in &findings {
        if explained[*index] || is_blocked(finding) || !matches!(finding.status, FixStatus::Applicable(_)) {
            continue;
        }
        let Some(Some(alone)) = file.alone.get(*index) else { continue };
        let changes: Vec<LineChange> = line_changes(file.source, alone)
            .into_iter()
            .filter(|c| in_diff(&one_based(c)) || !is_deletion(file.source, c))
            .collect();
        let clear = changes.iter().all(|c| {
            in_diff(&one_based(c))
                && !suggested.iter().any(|s| overlaps(s, &c.old))
                && !blocked.iter().any(|(_, changes, _)| changes.iter().any(|b| overlaps(&b.old, &c.old)))
                && !foreign.iter().any(|f| overlaps(&f.old, &c.old))
        });
        if !clear || changes.is_empty() {
            continue;
        }
        explained[*index] = true;
        for change in changes {
            let lines = one_based(&change);
            let message = if lines.contains(&finding.line) {
                format!("**{}**: {}\n", finding.transform, finding.message)
            } else {
                format!("Part of the fix for **{}** on line {}.\n", finding.transform, finding.line)
            };
            tally.suggestions += 1;
            suggested.push(change.old.clone());
            comments.push(Comment {
                path: file.path.clone(),
                body: format!("{message}\n{}", suggestion_block(&change.new_text)),
                lines,
            });
        }
    }
    for (finding, _, alone) in &blocked {
        let whole = diff::unified(&file.path, file.source, alone, false);
        let fence = fence_for(&whole);
        tally.plain += 1;
        comments.push(Comment {
            path: file.path.clone(),
            lines: anchor(finding, file_diff),
            body: format!(
                "**{}**: {}\n\nThe fix also changes lines outside this pull request's diff, so it \
                 cannot be a suggestion; `asyncmod fix` makes this change:\n\n{fence}diff\n{whole}{fence}\n",
                finding.transform, finding.message
            ),
        });
    }
    for (index, finding) in &findings {
        if explained[*index] || is_blocked(finding) {
            continue;
        }
        tally.plain += 1;
        comments.push(Comment {
            path: file.path.clone(),
            lines: anchor(finding, file_diff),
            body: format!(
                "**{}**: {}\n\n{}\n",
                finding.transform,
                finding.message,
                status_label(&finding.status)
            ),
        });
    }
    comments
}

/// The line a plain comment on `finding` sits on: its first line when that is inside a hunk, else
/// its first changed line (a finding of several lines may start far above the change).
fn anchor(finding: &Reported, file_diff: &FileDiff) -> RangeInclusive<usize> {
    let line = if file_diff.hunk_holding(&(finding.line..=finding.line)).is_some() {
        finding.line
    } else {
        file_diff.changed.range(finding.line..=finding.end_line).next().copied().unwrap_or(finding.line)
    };
    line..=line
}

/// Whether a change only deletes text (whole lines, or names from an import line): what is left
/// is the old text with pieces taken out.
fn is_deletion(source: &str, change: &LineChange) -> bool {
    let old: String = source.split_inclusive('\n').skip(change.old.start).take(change.old.len()).collect();
    let mut remaining = old.chars();
    change.new_text.len() < old.len() && change.new_text.chars().all(|c| remaining.any(|o| o == c))
}

/// A ```` ```suggestion ```` block; the fence outgrows any backtick run in the code.
fn suggestion_block(new_text: &str) -> String {
    let fence = fence_for(new_text);
    let mut text = new_text.replace("\r\n", "\n");
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    format!("{fence}suggestion\n{text}{fence}\n")
}

fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn review_body(tally: &Tally, overflow: &[Comment]) -> String {
    let mut body = format!(
        "asyncmod found {} finding{} on lines this pull request changes: {} suggestion{}, {} comment{}.",
        tally.findings,
        plural(tally.findings),
        tally.suggestions,
        plural(tally.suggestions),
        tally.plain,
        plural(tally.plain)
    );
    if tally.findings == 0 {
        body = "asyncmod found nothing to change on the lines this pull request changes.".to_string();
    }
    if !tally.outside.is_empty() {
        body.push_str(&format!(
            "\n\n`asyncmod fix` would also change {} place{} outside this pull request's diff \
             (unused imports it removes, or findings on lines the pull request does not touch):",
            tally.outside.len(),
            plural(tally.outside.len())
        ));
        for (path, line) in &tally.outside {
            body.push_str(&format!("\n- `{path}:{line}`"));
        }
    }
    if !overflow.is_empty() {
        body.push_str(&format!(
            "\n\n{} more comment{} did not fit in this review (GitHub shows at most {MAX_COMMENTS}); \
             run `asyncmod check` or `asyncmod diff` locally to see them:",
            overflow.len(),
            plural(overflow.len())
        ));
        for comment in overflow {
            let first = comment.body.lines().next().unwrap_or_default();
            let line = format!("\n- `{}:{}` {first}", comment.path, comment.lines.start());
            if body.len() + line.len() > MAX_BODY {
                body.push_str("\n- ...");
                break;
            }
            body.push_str(&line);
        }
    }
    body
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_backticks_in_the_code() {
        assert_eq!(fence_for("x = 1\n"), "```");
        assert_eq!(fence_for("doc = '''```python'''\n"), "````");
        assert_eq!(suggestion_block("a\r\nb"), "```suggestion\na\nb\n```\n");
        assert_eq!(suggestion_block(""), "```suggestion\n```\n");
    }

    #[test]
    fn deletions_are_told_from_additions() {
        let source = "import asyncio, time\nimport os\nx = 1\n";
        let change = |old: Range<usize>, new: &str| LineChange { old, new_text: new.to_string() };
        assert!(is_deletion(source, &change(1..2, "")));
        assert!(is_deletion(source, &change(0..1, "import asyncio\n")));
        assert!(!is_deletion(source, &change(0..1, "import asyncio, time\nimport trio\n")));
        assert!(!is_deletion(source, &change(2..3, "x = 2\n")));
    }
}
