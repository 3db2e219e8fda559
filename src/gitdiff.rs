//! What a branch changed, from `git diff`: per file, the hunks GitHub shows in a pull request (the
//! lines a review comment may sit on) and the lines the branch added or changed (what
//! `--changed-only` keeps findings on).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// One file's changes, in lines of the new (right-hand) side, 1-based.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileDiff {
    /// The hunks with GitHub's three lines of context, in order and disjoint.
    pub hunks: Vec<RangeInclusive<usize>>,
    /// Lines added or changed by the branch.
    pub changed: BTreeSet<usize>,
}

impl FileDiff {
    /// The hunk holding every line of `lines`, if one does.
    pub fn hunk_holding(&self, lines: &RangeInclusive<usize>) -> Option<usize> {
        self.hunks.iter().position(|hunk| hunk.contains(lines.start()) && hunk.contains(lines.end()))
    }

    pub fn touches(&self, lines: RangeInclusive<usize>) -> bool {
        self.changed.range(lines).next().is_some()
    }
}

/// The branch's changes against a base revision.
#[derive(Debug, Clone)]
pub struct RepoDiff {
    /// The repository's top folder, canonical.
    pub root: PathBuf,
    /// The commit the working tree is at (`HEAD`).
    pub head: String,
    /// By path relative to `root`, with `/` separators.
    pub files: BTreeMap<String, FileDiff>,
    /// Set when the base and `HEAD` share no history here (a shallow clone): the diff is then
    /// against the base itself and may hold the base branch's own later changes.
    pub warning: Option<String>,
}

impl RepoDiff {
    /// Diffs the working tree against the merge base of `base` and `HEAD`, as a pull request
    /// against `base` shows it (falls back to `base` itself when there is no merge base).
    pub fn against(base: &str) -> anyhow::Result<RepoDiff> {
        let root = toplevel().context("--diff-base needs a git repository (git rev-parse failed)")?;
        let head = git(&root, &["rev-parse", "--verify", "HEAD"])
            .context("--diff-base: the repository has no commit")?
            .trim()
            .to_string();
        let base_commit = git(&root, &["rev-parse", "--verify", &format!("{base}^{{commit}}")])
            .with_context(|| {
                format!(
                    "--diff-base {base}: not a commit in this repository (in CI, fetch the history: \
                     actions/checkout with fetch-depth: 0)"
                )
            })?;
        let base_commit = base_commit.trim();
        let (merge_base, warning) = match git(&root, &["merge-base", base_commit, &head]) {
            Ok(found) => (found.trim().to_string(), None),
            Err(_) => (
                base_commit.to_string(),
                Some(format!(
                    "--diff-base {base}: no common history with HEAD (a shallow clone? fetch-depth: 0); \
                     comparing with {base} itself"
                )),
            ),
        };
        let text = git(
            &root,
            &[
                "-c",
                "core.quotePath=false",
                "diff",
                "--no-color",
                "--no-ext-diff",
                "--find-renames",
                "--unified=3",
                // GitHub's defaults, whatever the local git configuration says.
                "--diff-algorithm=myers",
                "--src-prefix=a/",
                "--dst-prefix=b/",
                "--no-relative",
                &merge_base,
                "--",
            ],
        )?;
        Ok(RepoDiff { root, head, files: parse_unified(&text), warning })
    }

    /// The changes to `path` (a path as the walker found it), if the branch touched it.
    pub fn file(&self, path: &Path) -> Option<&FileDiff> {
        self.files.get(&relative_to(&self.root, path)?)
    }
}

/// The top folder of the git repository holding the current folder, canonical.
pub fn toplevel() -> Option<PathBuf> {
    let text = git(Path::new("."), &["rev-parse", "--show-toplevel"]).ok()?;
    std::fs::canonicalize(text.trim_end_matches(['\n', '\r'])).ok()
}

/// `path` relative to `root` with `/` separators, when it lies under it.
pub fn relative_to(root: &Path, path: &Path) -> Option<String> {
    let absolute = std::fs::canonicalize(path).ok()?;
    let relative = absolute.strip_prefix(root).ok()?;
    let parts: Vec<String> =
        relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    Some(parts.join("/"))
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("running git {}", args.join(" ")))?;
    if !output.status.success() {
        bail!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    String::from_utf8(output.stdout).context("git printed non-UTF-8 output")
}

/// Parses `git diff` output into per-file hunks of the new side. Deleted files are left out.
pub fn parse_unified(text: &str) -> BTreeMap<String, FileDiff> {
    let mut files: BTreeMap<String, FileDiff> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut next_line = 0usize;
    for line in text.lines() {
        if line.starts_with("diff --git ") {
            current = None;
        } else if let Some(path) = line.strip_prefix("+++ ") {
            current = (path != "/dev/null").then(|| {
                let path = unquote(path);
                path.strip_prefix("b/").map(str::to_string).unwrap_or(path)
            });
            if let Some(path) = &current {
                files.entry(path.clone()).or_default();
            }
        } else if let Some(header) = line.strip_prefix("@@ ") {
            let Some(file) = current.as_ref().and_then(|p| files.get_mut(p)) else { continue };
            let Some((start, count)) = new_side(header) else { continue };
            next_line = start;
            if count > 0 {
                file.hunks.push(start..=start + count - 1);
            }
        } else if let Some(file) = current.as_ref().and_then(|p| files.get_mut(p)) {
            match line.as_bytes().first() {
                Some(b'+') => {
                    file.changed.insert(next_line);
                    next_line += 1;
                }
                Some(b' ') => next_line += 1,
                // An empty context line is printed without its leading space by some tools.
                None => next_line += 1,
                _ => {}
            }
        }
    }
    files
}

/// `-a,b +c,d @@` → (c, d); a missing count means 1.
fn new_side(header: &str) -> Option<(usize, usize)> {
    let new = header.split_whitespace().find(|part| part.starts_with('+'))?;
    let new = new.trim_start_matches('+');
    let (start, count) = match new.split_once(',') {
        Some((start, count)) => (start.parse().ok()?, count.parse().ok()?),
        None => (new.parse().ok()?, 1),
    };
    Some((start, count))
}

/// Undoes git's C-style quoting of unusual paths (`"b/caf\303\251.py"`).
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_string();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(byte) = chars.next() {
        if byte != b'\\' {
            bytes.push(byte);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(digit @ b'0'..=b'7') => {
                let mut value = u32::from(digit - b'0');
                for _ in 0..2 {
                    if let Some(&next @ b'0'..=b'7') = chars.peek() {
                        value = value * 8 + u32::from(next - b'0');
                        chars.next();
                    }
                }
                bytes.push(value as u8);
            }
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_and_changed_lines_of_the_new_side() {
        let diff = "diff --git a/app.py b/app.py\nindex 1..2 100644\n--- a/app.py\n+++ b/app.py\n\
                    @@ -1,4 +1,5 @@\n import asyncio\n-x = 1\n+x = 2\n+y = 3\n \n \n\
                    @@ -20,2 +21,3 @@ def f():\n     pass\n+    return\n \n\
                    diff --git a/gone.py b/gone.py\ndeleted file mode 100644\n--- a/gone.py\n+++ /dev/null\n\
                    @@ -1 +0,0 @@\n-x\n";
        let files = parse_unified(diff);
        assert_eq!(files.keys().collect::<Vec<_>>(), ["app.py"]);
        let app = &files["app.py"];
        assert_eq!(app.hunks, [1..=5, 21..=23]);
        assert_eq!(app.changed.iter().copied().collect::<Vec<_>>(), [2, 3, 22]);
        assert_eq!(app.hunk_holding(&(2..=4)), Some(0));
        assert_eq!(app.hunk_holding(&(5..=21)), None);
        assert!(app.touches(1..=2));
        assert!(!app.touches(4..=21));
    }

    #[test]
    fn quoted_paths_are_unquoted() {
        assert_eq!(unquote("\"b/caf\\303\\251 x.py\""), "b/café x.py");
        assert_eq!(unquote("b/plain.py"), "b/plain.py");
    }
}
