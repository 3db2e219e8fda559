//! Golden tests of every `check --format`, run on the built binary, and validation of the SARIF
//! output against the official SARIF 2.1.0 schema (vendored as `tests/sarif-2.1.0.json`, from the
//! OASIS errata01 release).

mod common;
use common::{BLOCKING, FIXED, stderr, stdout, tree};

use std::path::Path;
use std::process::{Command, Output};

/// Findings of every severity, fixes safe and unsafe, one with a module helper, non-ASCII text
/// before a finding (columns differ per unit) and a comma in a file name (escaped by `github`).
const POLL: &str = "import asyncio\nimport time\n\n\nasync def poll(urls):\n    s = \"é😀\"; time.sleep(1)\n    \
                    asyncio.create_task(refresh())\n    loop = asyncio.get_event_loop()\n    return loop\n\n\n\
                    async def refresh():\n    await asyncio.sleep(0)\n";
const TICK: &str = "import time\n\n\nasync def tick():\n    time.sleep(0.5)\n";

fn fixture() -> tempfile::TempDir {
    tree(&[
        ("app/poll.py", POLL.as_bytes()),
        ("app/odd,name.py", TICK.as_bytes()),
        ("app/clean.py", b"x = 1\n"),
    ])
}

fn asyncmod(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asyncmod"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        // The fixture folder is no repository; keep git from finding one above it.
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap_or(dir))
        .output()
        .expect("the binary runs")
}

fn golden(name: &str, text: &str) {
    insta::with_settings!({ snapshot_path => "../snapshots/formats", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn text_format() {
    let dir = fixture();
    let output = asyncmod(&["check", "-q", "app"], dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    golden("text", &stdout(&output));
}

#[test]
fn json_format() {
    let dir = fixture();
    let output = asyncmod(&["check", "--format", "json", "app"], dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["column_unit"], "unicode-character");
    golden("json", &stdout(&output));
}

#[test]
fn github_format_is_sorted_by_severity_and_escaped() {
    let dir = fixture();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let output = asyncmod(&["check", "--format", "github", "--summary", "summary.md", "app"], dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let kinds: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(kinds, ["::error", "::error", "::error", "::notice"], "{text}");
    assert!(text.contains("file=app/odd%2Cname.py,"), "{text}");
    golden("github", &text);
    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(markdown.starts_with("earlier step\n## asyncmod\n"), "the summary is appended to:\n{markdown}");
    golden("github_summary", &markdown);
}

#[test]
fn github_format_without_findings_prints_nothing_and_says_so_in_the_summary() {
    let dir = tree(&[("fixed.py", FIXED.as_bytes()), ("blocking.py", BLOCKING.as_bytes())]);
    let output = asyncmod(&["check", "--format", "github", "--summary", "s.md", "fixed.py"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert_eq!(std::fs::read_to_string(dir.path().join("s.md")).unwrap(), "## asyncmod\n\nNo findings.\n");
    let output = asyncmod(&["check", "--summary", "s.md", "fixed.py"], dir.path());
    assert_eq!(output.status.code(), Some(2), "--summary needs --format github");
    let output = asyncmod(&["check", "--format", "github", "blocking.py"], dir.path());
    assert!(
        stdout(&output).starts_with("::error file=blocking.py,line=5,endLine=5,col=5,"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn sarif_format() {
    let dir = fixture();
    let output = asyncmod(&["check", "--format", "sarif", "app"], dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let run = &doc["runs"][0];
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for rule in rules {
        for field in ["shortDescription", "fullDescription", "help"] {
            assert!(rule[field]["text"].as_str().is_some_and(|t| !t.is_empty()), "{field} of {rule}");
        }
    }
    let results = run["results"].as_array().unwrap();
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    // `time.sleep` after "é😀": column 15 in characters, 16 in UTF-16 units.
    let sleep = results
        .iter()
        .find(|r| {
            r["ruleId"] == "time-sleep"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/poll.py"
        })
        .unwrap();
    assert_eq!(sleep["locations"][0]["physicalLocation"]["region"]["startColumn"], 16);
    golden("sarif", &stdout(&output));
}

/// Each SARIF fix, applied alone through its replacements, gives a file asyncmod then finds
/// clean of that finding and that still compiles.
#[test]
fn sarif_fixes_apply() {
    let dir = fixture();
    let output = asyncmod(&["check", "--format", "sarif", "app/poll.py"], dir.path());
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for result in results {
        let change = &result["fixes"][0]["artifactChanges"][0];
        let fixed = apply_replacements(POLL, change["replacements"].as_array().unwrap());
        let work = tree(&[("poll.py", fixed.as_bytes())]);
        let json = asyncmod(&["check", "--format", "json", "poll.py"], work.path());
        let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
        let left: Vec<&str> =
            doc["findings"].as_array().unwrap().iter().map(|f| f["transform"].as_str().unwrap()).collect();
        assert!(!left.contains(&result["ruleId"].as_str().unwrap()), "{fixed}");
        assert_eq!(left.len(), 2, "only that finding went:\n{fixed}");
    }
}

/// Applies SARIF replacements, whose regions are whole lines here (column 1 to column 1).
fn apply_replacements(source: &str, replacements: &[serde_json::Value]) -> String {
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut next = 1;
    for replacement in replacements {
        let region = &replacement["deletedRegion"];
        assert_eq!((region["startColumn"].as_u64(), region["endColumn"].as_u64()), (Some(1), Some(1)));
        let start = region["startLine"].as_u64().unwrap() as usize;
        let end = region["endLine"].as_u64().unwrap() as usize;
        out.extend(lines[next - 1..start - 1].iter().copied());
        out.push_str(replacement["insertedContent"]["text"].as_str().unwrap());
        next = end;
    }
    out.extend(lines[next - 1..].iter().copied());
    out
}

/// `ASYNCMOD_CHECK_JSONSCHEMA` names the `check-jsonschema` executable (scripts/test.sh installs
/// a pinned one into `.venv-test`). Unset, the schema checks are skipped with a message (they fail
/// when `ASYNCMOD_REQUIRE_TOOLS=1`, as in CI); set but missing, they fail.
pub fn check_jsonschema() -> Option<std::path::PathBuf> {
    common::tool_from_env("ASYNCMOD_CHECK_JSONSCHEMA", &["--version"])
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let Some(tool) = check_jsonschema() else { return };
    let dir = fixture();
    let output = asyncmod(&["check", "--format", "sarif", "app"], dir.path());
    let log = dir.path().join("out.sarif");
    std::fs::write(&log, &output.stdout).unwrap();
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif-2.1.0.json");
    let check = Command::new(&tool).arg("--schemafile").arg(&schema).arg(&log).output().unwrap();
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));
    // The validator must reject what breaks the schema, or the check above proves nothing.
    let mut broken: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0.into();
    std::fs::write(&log, broken.to_string()).unwrap();
    let check = Command::new(&tool).arg("--schemafile").arg(&schema).arg(&log).output().unwrap();
    assert!(!check.status.success(), "a 0 startLine must fail validation");
}

#[test]
fn github_review_format() {
    let dir = fixture();
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    };
    // The base has poll.py without the event-loop line; the "pull request" adds it and tick.
    git(&["init", "-q", "-b", "main"]);
    let base = POLL.replace("    loop = asyncio.get_event_loop()\n    return loop\n", "");
    std::fs::write(dir.path().join("app/poll.py"), &base).unwrap();
    std::fs::remove_file(dir.path().join("app/odd,name.py")).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    git(&["checkout", "-q", "-b", "pr"]);
    std::fs::write(dir.path().join("app/poll.py"), POLL).unwrap();
    std::fs::write(dir.path().join("app/odd,name.py"), TICK).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "pull request"]);
    let output = Command::new(env!("CARGO_BIN_EXE_asyncmod"))
        .args(["check", "--format", "github-review", "--diff-base", "main", "--unsafe-fixes", "app"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let mut doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(doc["commit_id"].as_str().map(str::len), Some(40));
    doc["commit_id"] = "<head commit>".into();
    golden("github_review", &serde_json::to_string_pretty(&doc).unwrap());
}
