//! `check --format github-review` and `--changed-only` on throwaway git repositories with a
//! pull-request-like commit: the review's suggestions, applied to the files, give exactly what
//! `asyncmod fix` writes, and every comment sits inside the pull request's diff.

mod common;
use common::{BLOCKING, FIXED, stderr, stdout, tree};

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(["-c", "user.name=asyncmod tests", "-c", "user.email=tests@example.invalid"])
        .args(["-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A repository whose `main` holds `base` and whose checked-out branch `pr` adds `pr` on top.
fn repository(base: &[(&str, &str)], pr: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    for (path, text) in base {
        write(dir.path(), path, text);
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "base"]);
    git(dir.path(), &["checkout", "-q", "-b", "pr"]);
    for (path, text) in pr {
        write(dir.path(), path, text);
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "pull request"]);
    dir
}

fn asyncmod(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asyncmod"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn review(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["check", "--format", "github-review", "--diff-base", "main"];
    args.extend(extra);
    args.push(".");
    let output = asyncmod(&args, dir);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&output)))
}

/// The content of a comment's ```suggestion block, if it has one.
fn suggestion(body: &str) -> Option<String> {
    let mut lines = body.lines();
    let opening = lines.find(|l| l.trim_start_matches('`') == "suggestion")?;
    let fence = &opening[..opening.len() - "suggestion".len()];
    let mut content = String::new();
    for line in lines {
        if line == fence {
            return Some(content);
        }
        content.push_str(line);
        content.push('\n');
    }
    panic!("unclosed suggestion in {body}")
}

/// Applies every suggestion to the files as GitHub does: lines `start_line..=line` become the
/// block's lines.
fn apply_suggestions(dir: &Path, payload: &serde_json::Value) {
    let mut comments: Vec<&serde_json::Value> = payload["comments"].as_array().unwrap().iter().collect();
    comments.sort_by_key(|c| std::cmp::Reverse((c["path"].as_str().unwrap(), c["line"].as_u64().unwrap())));
    for comment in comments {
        let Some(content) = suggestion(comment["body"].as_str().unwrap()) else { continue };
        let path = dir.join(comment["path"].as_str().unwrap());
        let text = fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
        let end = comment["line"].as_u64().unwrap() as usize;
        let start = comment["start_line"].as_u64().map_or(end, |s| s as usize);
        assert!(start <= end && end <= lines.len(), "{comment}");
        let replacement: Vec<String> = content.split_inclusive('\n').map(str::to_string).collect();
        lines.splice(start - 1..end, replacement);
        fs::write(&path, lines.concat()).unwrap();
    }
}

/// Every comment lies in the lines `allowed` lists for its path (1-based, inclusive ranges).
fn assert_inside(payload: &serde_json::Value, allowed: &[(&str, std::ops::RangeInclusive<u64>)]) {
    for comment in payload["comments"].as_array().unwrap() {
        let path = comment["path"].as_str().unwrap();
        let end = comment["line"].as_u64().unwrap();
        let start = comment["start_line"].as_u64().unwrap_or(end);
        assert_eq!(comment["side"], "RIGHT");
        assert!(
            allowed.iter().any(|(p, range)| *p == path && range.contains(&start) && range.contains(&end)),
            "comment outside the diff: {comment}"
        );
    }
}

const SERVICE_BASE: &str =
    "import asyncio\n\n\nasync def serve():\n    await asyncio.sleep(0)\n    return 1\n";
const SERVICE_PR: &str = "import asyncio\n\n\nasync def serve():\n    await asyncio.sleep(0)\n    \
                          loop = asyncio.get_event_loop()\n    loop.call_soon(print)\n    return 1\n";
const WORKER: &str = "import asyncio\nimport time\n\n\nasync def work(jobs):\n    for job in jobs:\n        \
                      time.sleep(job)\n    asyncio.create_task(report())\n\n\nasync def report():\n    \
                      await asyncio.sleep(0)\n";

#[test]
fn applying_every_suggestion_gives_what_fix_writes() {
    let dir = repository(
        &[("app/service.py", SERVICE_BASE)],
        &[("app/service.py", SERVICE_PR), ("app/worker.py", WORKER)],
    );
    let head = String::from_utf8(
        Command::new("git").args(["rev-parse", "HEAD"]).current_dir(dir.path()).output().unwrap().stdout,
    )
    .unwrap();
    let payload = review(dir.path(), &[]);
    assert_eq!(payload["commit_id"], head.trim());
    assert_eq!(payload["event"], "COMMENT");
    let comments = payload["comments"].as_array().unwrap();
    assert!(comments.iter().all(|c| suggestion(c["body"].as_str().unwrap()).is_some()), "{payload:#}");
    // The new file is all diff; service.py's hunk is its added lines with three lines around.
    assert_inside(&payload, &[("app/worker.py", 1..=13), ("app/service.py", 3..=8)]);
    assert!(comments.iter().any(|c| c["path"] == "app/service.py"), "{payload:#}");

    // `fix` on a copy of the same tree.
    let fixed = tempfile::tempdir().unwrap();
    for path in ["app/service.py", "app/worker.py"] {
        write(fixed.path(), path, &fs::read_to_string(dir.path().join(path)).unwrap());
    }
    let output = asyncmod(&["fix", "."], fixed.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    apply_suggestions(dir.path(), &payload);
    for path in ["app/service.py", "app/worker.py"] {
        let suggested = fs::read_to_string(dir.path().join(path)).unwrap();
        let written = fs::read_to_string(fixed.path().join(path)).unwrap();
        assert_eq!(suggested, written, "{path}");
    }
    assert_ne!(fs::read_to_string(dir.path().join("app/worker.py")).unwrap(), WORKER, "something was fixed");
}

/// Base: a module whose imports are far from the coroutine the pull request edits.
const FAR_BASE: &str = "import time\n\nA = 1\nB = 2\nC = 3\nD = 4\nE = 5\nF = 6\n\n\nasync def tick():\n    \
                        pass\n";
const FAR_PR: &str = "import time\n\nA = 1\nB = 2\nC = 3\nD = 4\nE = 5\nF = 6\n\n\nasync def tick():\n    \
                      time.sleep(1)\n    loop = asyncio.get_event_loop()\n";

#[test]
fn a_fix_that_needs_an_import_outside_the_diff_is_a_plain_comment_with_its_diff() {
    // Without an async library imported, time-sleep's fix adds `import asyncio` (unsafe): at the
    // top, outside the diff.
    let dir = repository(&[("tick.py", FAR_BASE)], &[("tick.py", FAR_PR)]);
    let payload = review(dir.path(), &["--unsafe-fixes"]);
    let comments = payload["comments"].as_array().unwrap();
    assert_inside(&payload, &[("tick.py", 9..=13)]);
    let sleep = comments.iter().find(|c| c["line"] == 12).expect("a comment on the sleep");
    let body = sleep["body"].as_str().unwrap();
    assert!(suggestion(body).is_none(), "{body}");
    assert!(body.contains("+import asyncio") && body.contains("+    await asyncio.sleep(1)"), "{body}");
    // Its line is not suggested by another comment either, but the self-contained
    // event-loop-api fix on the next line is.
    assert!(comments.iter().all(|c| c["start_line"].as_u64().unwrap_or(c["line"].as_u64().unwrap()) != 12
        || suggestion(c["body"].as_str().unwrap()).is_none()));
    let loop_fix = comments.iter().find(|c| c["line"] == 13).expect("a comment on the loop");
    assert_eq!(
        suggestion(loop_fix["body"].as_str().unwrap()).unwrap(),
        "    loop = asyncio.get_running_loop()\n"
    );
}

#[test]
fn findings_outside_the_pull_request_are_left_out() {
    let old = "import asyncio, time\n\n\nasync def old():\n    time.sleep(1)\n";
    let new = format!("{old}\n\nasync def new():\n    asyncio.get_event_loop()\n");
    let dir = repository(&[("m.py", old)], &[("m.py", &new)]);
    let payload = review(dir.path(), &[]);
    let comments = payload["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1, "{payload:#}");
    assert_eq!(comments[0]["line"], 9);
    // `fix` would also change line 5, outside the diff: the body says so.
    assert!(payload["body"].as_str().unwrap().contains("`m.py:5`"), "{payload:#}");

    let reported = |format: &str| -> Vec<String> {
        let output = asyncmod(
            &["check", "--format", format, "--changed-only", "--diff-base", "main", "."],
            dir.path(),
        );
        let text = stdout(&output);
        match format {
            "json" => {
                let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
                doc["findings"].as_array().unwrap().iter().map(|f| f["transform"].to_string()).collect()
            }
            "sarif" => {
                let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
                doc["runs"][0]["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["ruleId"].to_string())
                    .collect()
            }
            _ => text.lines().map(str::to_string).collect(),
        }
    };
    for format in ["text", "json", "github", "sarif"] {
        let found = reported(format);
        assert_eq!(found.len(), 1, "{format}: {found:?}");
        assert!(found[0].contains("event-loop-api"), "{format}: {found:?}");
    }
    let all = asyncmod(&["check", "."], dir.path());
    assert!(stdout(&all).contains("time-sleep"), "without --changed-only every finding is reported");
}

#[test]
fn review_needs_a_diff_base_and_a_known_revision() {
    let dir = repository(&[("m.py", "x = 1\n")], &[("m.py", "x = 2\n")]);
    let output = asyncmod(&["check", "--format", "github-review", "."], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--diff-base"), "{}", stderr(&output));
    let output = asyncmod(&["check", "--changed-only", "--diff-base", "nope", "."], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("fetch-depth"), "{}", stderr(&output));
}

#[test]
fn at_most_100_comments_and_the_rest_listed_in_the_body() {
    let mut source = String::from("import asyncio\nimport time\n\n\nasync def slow():\n");
    for _ in 0..120 {
        source.push_str("    time.sleep(1)\n    x = 1\n");
    }
    let dir = repository(&[], &[("slow.py", &source)]);
    let payload = review(dir.path(), &[]);
    let comments = payload["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 100);
    let body = payload["body"].as_str().unwrap();
    assert!(body.contains("21 more comments did not fit"), "{body}");
    assert_eq!(body.matches("\n- `slow.py:").count(), 21, "{body}");
}

#[test]
fn changed_only_outside_a_repository_is_an_error_and_inside_one_reports_the_changed_line() {
    let plain = tree(&[("poll.py", BLOCKING.as_bytes())]);
    let output = Command::new(env!("CARGO_BIN_EXE_asyncmod"))
        .args(["check", "--changed-only", "--diff-base", "main", "."])
        .current_dir(plain.path())
        .env("GIT_CEILING_DIRECTORIES", plain.path().parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("git repository"), "{}", stderr(&output));

    // The pull request turns the fixed file back into the blocking one: line 5 changed.
    let dir = repository(&[("poll.py", FIXED)], &[("poll.py", BLOCKING)]);
    let output = asyncmod(&["check", "-q", "--changed-only", "--diff-base", "main", "."], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).starts_with("./poll.py:5:5: time-sleep "), "{}", stdout(&output));
}

#[test]
fn the_local_git_configuration_does_not_change_the_hunks() {
    let dir = repository(&[("app/service.py", SERVICE_BASE)], &[("app/service.py", SERVICE_PR)]);
    let before = review(dir.path(), &[]);
    git(dir.path(), &["config", "diff.mnemonicPrefix", "true"]);
    git(dir.path(), &["config", "diff.algorithm", "histogram"]);
    let after = review(dir.path(), &[]);
    assert_eq!(before, after);
    assert_eq!(after["comments"].as_array().unwrap().len(), 1, "{after:#}");
}

#[test]
fn unrelated_histories_are_compared_directly_with_a_warning() {
    let dir = repository(
        &[("m.py", "x = 1\n")],
        &[("m.py", "import asyncio\n\n\nasync def f():\n    asyncio.get_event_loop()\n")],
    );
    // An orphan branch shares no commit with `pr`, as a shallow clone's base would not.
    git(dir.path(), &["checkout", "-q", "--orphan", "lonely"]);
    git(dir.path(), &["commit", "-q", "-m", "lonely"]);
    git(dir.path(), &["checkout", "-q", "pr"]);
    let output = asyncmod(&["check", "--changed-only", "--diff-base", "lonely", "."], dir.path());
    // It holds the same files as `pr` (an orphan keeps the index), so nothing changed.
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("warning: --diff-base lonely: no common history"),
        "{}",
        stderr(&output)
    );
}
