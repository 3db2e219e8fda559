//! `[tool.asyncmod]` in pyproject.toml: found from each file upwards, overridden by the command
//! line, strict about its keys.

mod common;
use common::{BLOCKING, FIXED, asyncmod, stderr, stdout, tree};

use std::path::Path;

/// The transform ids `check` reports, one per finding.
fn reported(args: &[&str], dir: &Path) -> Vec<String> {
    let mut all = vec!["check", "--format", "json"];
    all.extend(args);
    let output = asyncmod(&all, dir);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    doc["findings"].as_array().unwrap().iter().map(|f| f["transform"].as_str().unwrap().to_string()).collect()
}

/// time-sleep (error) and event-loop-api (hint) in one file.
const TWO: &str = "import asyncio, time\n\n\nasync def poll():\n    time.sleep(1)\n    \
                   return asyncio.get_event_loop()\n";

#[test]
fn ignore_and_select_from_the_config_and_the_command_line_overrides_select() {
    let dir = tree(&[
        ("pyproject.toml", b"[tool.asyncmod]\nignore = [\"event-loop-api\"]\n"),
        ("app.py", TWO.as_bytes()),
    ]);
    assert_eq!(reported(&["."], dir.path()), ["time-sleep"]);
    // --ignore adds to the config's list.
    assert_eq!(reported(&["--ignore", "time-sleep", "."], dir.path()), Vec::<String>::new());

    let dir = tree(&[
        ("pyproject.toml", b"[tool.asyncmod]\nselect = [\"event-loop-api\"]\n"),
        ("app.py", TWO.as_bytes()),
    ]);
    assert_eq!(reported(&["."], dir.path()), ["event-loop-api"]);
    assert_eq!(reported(&["--select", "time-sleep", "."], dir.path()), ["time-sleep"]);
    assert_eq!(
        reported(&["--extend-select", "time-sleep", "."], dir.path()),
        ["time-sleep", "event-loop-api"]
    );
}

#[test]
fn unknown_keys_are_errors_naming_the_key_and_the_file() {
    let dir = tree(&[
        ("pyproject.toml", b"[tool.asyncmod]\nselekt = [\"time-sleep\"]\n"),
        ("app.py", TWO.as_bytes()),
    ]);
    let output = asyncmod(&["check", "."], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("selekt") && message.contains("pyproject.toml"), "{message}");
    assert_eq!(stdout(&output), "", "nothing is checked with a broken configuration");
}

#[test]
fn bad_values_are_errors_naming_the_file() {
    for (table, expected) in [
        ("select = [\"no-such-transform\"]", "no-such-transform"),
        ("target-version = \"py27\"", "py27"),
        ("prefer = [\"threads\"]", "threads"),
        ("unsafe-fixes = \"yes\"", "unsafe-fixes"),
        ("max-concurrency = 0", "max-concurrency"),
        ("exclude = [\"a{b\"]", "a{b"),
    ] {
        let config = format!("[tool.asyncmod]\n{table}\n");
        let dir = tree(&[("pyproject.toml", config.as_bytes()), ("app.py", TWO.as_bytes())]);
        let output = asyncmod(&["check", "."], dir.path());
        assert_eq!(output.status.code(), Some(2), "{table}");
        let message = stderr(&output);
        assert!(message.contains("pyproject.toml") && message.contains(expected), "{table}: {message}");
    }
}

#[test]
fn the_nearest_pyproject_with_the_table_wins() {
    let dir = tree(&[
        ("pyproject.toml", b"[tool.asyncmod]\nignore = [\"time-sleep\"]\n"),
        ("top.py", TWO.as_bytes()),
        // A pyproject without the table does not stop the search.
        ("lib/pyproject.toml", b"[project]\nname = \"lib\"\n"),
        ("lib/mid.py", TWO.as_bytes()),
        ("sub/pyproject.toml", b"[tool.asyncmod]\nignore = [\"event-loop-api\"]\n"),
        ("sub/low.py", TWO.as_bytes()),
    ]);
    let output = asyncmod(&["check", "-q", "."], dir.path());
    let text = stdout(&output);
    let lines: Vec<String> =
        text.lines().map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(
        lines,
        [
            "./lib/mid.py:6:12: event-loop-api",
            "./sub/low.py:5:5: time-sleep",
            "./top.py:6:12: event-loop-api"
        ],
        "{text}"
    );
}

#[test]
fn exclude_and_per_file_ignores_are_relative_to_the_pyproject() {
    let dir = tree(&[
        (
            "pyproject.toml",
            b"[tool.asyncmod]\nexclude = [\"generated/\"]\n\n[tool.asyncmod.per-file-ignores]\n\"tests/*.py\" = [\"time-sleep\"]\n",
        ),
        ("generated/g.py", BLOCKING.as_bytes()),
        ("tests/t.py", TWO.as_bytes()),
        ("app.py", BLOCKING.as_bytes()),
    ]);
    let output = asyncmod(&["check", "-q", "."], dir.path());
    let text = stdout(&output);
    assert!(!text.contains("generated"), "{text}");
    assert!(text.contains("./app.py:5:5: time-sleep"), "{text}");
    assert!(
        text.contains("./tests/t.py:6:12: event-loop-api") && !text.contains("./tests/t.py:5:5"),
        "{text}"
    );
}

#[test]
fn unsafe_fixes_and_target_version_from_the_config() {
    // Without an async library imported, time-sleep's fix is unsafe.
    let unsafe_only = "import time\n\n\nasync def poll():\n    time.sleep(1)\n";
    let dir = tree(&[
        ("pyproject.toml", b"[tool.asyncmod]\nunsafe-fixes = true\n"),
        ("app.py", unsafe_only.as_bytes()),
    ]);
    let output = asyncmod(&["fix", "."], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(dir.path().join("app.py")).unwrap(), FIXED);

    // The config's target-version beats requires-python; the command line beats both.
    let dir = tree(&[
        (
            "pyproject.toml",
            b"[project]\nrequires-python = \">=3.12\"\n\n[tool.asyncmod]\ntarget-version = \"py38\"\n",
        ),
        ("app.py", TWO.as_bytes()),
    ]);
    let output = asyncmod(&["check", "--format", "json", "--target-version", "py27", "."], dir.path());
    assert_eq!(output.status.code(), Some(2), "the command line's value is checked");
    assert_eq!(reported(&["."], dir.path()).len(), 2);
}

#[test]
fn the_other_keys_are_accepted() {
    let config =
        b"[tool.asyncmod]\nextend-select = [\"ALL\"]\nmax-concurrency = 8\nprefer = [\"to-thread\"]\n\
                   blocking-callables = [\"boto3.client\"]\ngather-same-receiver = true\n";
    let dir = tree(&[("pyproject.toml", config), ("app.py", TWO.as_bytes())]);
    assert_eq!(reported(&["."], dir.path()), ["time-sleep", "event-loop-api"]);
}

#[test]
fn fix_writes_nothing_when_any_configuration_of_the_run_is_bad() {
    // Files are processed as the walk finds them, in no set order: however many come before the
    // bad table, none is written, as `check` prints no finding.
    let names: Vec<String> = (0..24).map(|i| format!("d{i:02}/a.py")).collect();
    let mut files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), BLOCKING.as_bytes())).collect();
    files.push(("m/sub/pyproject.toml", b"[tool.asyncmod]\nselekt = [\"time-sleep\"]\n"));
    files.push(("m/sub/b.py", BLOCKING.as_bytes()));
    let dir = tree(&files);
    for command in ["fix", "check"] {
        let output = asyncmod(&[command, "."], dir.path());
        assert_eq!(output.status.code(), Some(2), "{command}");
        assert!(stderr(&output).contains("selekt"), "{}", stderr(&output));
        assert_eq!(stdout(&output), "", "{command}");
        for name in &names {
            assert_eq!(std::fs::read_to_string(dir.path().join(name)).unwrap(), BLOCKING, "{name}");
        }
    }
}

#[test]
fn the_first_bad_configuration_in_path_order_is_the_one_reported() {
    let dir = tree(&[
        ("a/pyproject.toml", b"[tool.asyncmod]\nfirst-bad = 1\n"),
        ("a/x.py", BLOCKING.as_bytes()),
        ("b/pyproject.toml", b"[tool.asyncmod]\nsecond-bad = 1\n"),
        ("b/y.py", BLOCKING.as_bytes()),
    ]);
    for _ in 0..3 {
        let message = stderr(&asyncmod(&["check", "."], dir.path()));
        assert!(message.contains("first-bad") && !message.contains("second-bad"), "{message}");
    }
}
