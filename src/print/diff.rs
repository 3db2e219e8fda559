//! Unified diffs of what `fix` would write.

use similar::TextDiff;

/// A unified diff of one file, `--- a/path` / `+++ b/path` as git prints it; coloured with ANSI
/// codes when `color` is set.
pub fn unified(path: &str, before: &str, after: &str, color: bool) -> String {
    let diff = TextDiff::from_lines(before, after);
    let text =
        diff.unified_diff().context_radius(3).header(&format!("a/{path}"), &format!("b/{path}")).to_string();
    let text = ensure_final_newline(text);
    if !color {
        return text;
    }
    text.lines()
        .map(|line| {
            let code = if line.starts_with("+++") || line.starts_with("---") {
                "1"
            } else if line.starts_with('+') {
                "32"
            } else if line.starts_with('-') {
                "31"
            } else if line.starts_with("@@") {
                "36"
            } else {
                return format!("{line}\n");
            };
            format!("\x1b[{code}m{line}\x1b[0m\n")
        })
        .collect()
}

fn ensure_final_newline(mut text: String) -> String {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_diff_has_git_headers() {
        let diff = super::unified("x.py", "a\nb\n", "a\nc\n", false);
        assert!(diff.starts_with("--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n"), "{diff}");
        assert!(diff.contains("-b\n+c\n"));
    }
}
