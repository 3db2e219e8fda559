//! Integration tests that run the built `asyncmod` binary on temporary trees.

mod common;
use common::{BLOCKING, FIXED, asyncmod, stderr, stdout, tree};

use std::fs;
use std::path::{Path, PathBuf};

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn check_reports_findings_and_exits_1() {
    let dir = tree(&[("app/poll.py", BLOCKING.as_bytes()), ("app/clean.py", b"x = 1\n")]);
    let output = asyncmod(&["check", "app"], dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "app/poll.py:5:5: time-sleep `time.sleep` blocks the event loop in a coroutine; \
         use `await asyncio.sleep(...)` [fix: safe]\n"
    );
    assert!(stderr(&output).contains("Found 1 finding in 1 file (2 checked)"), "{}", stderr(&output));
}

#[test]
fn check_exits_0_without_findings_and_respects_fail_on() {
    let dir = tree(&[("ok.py", b"import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n")]);
    assert_eq!(asyncmod(&["check", "."], dir.path()).status.code(), Some(0));
    let dir = tree(&[("poll.py", BLOCKING.as_bytes())]);
    // time-sleep is an error, so --fail-on error still fails.
    assert_eq!(asyncmod(&["check", "--fail-on", "error", "."], dir.path()).status.code(), Some(1));
}

#[test]
fn check_json_is_machine_readable() {
    let dir = tree(&[("poll.py", BLOCKING.as_bytes())]);
    let output = asyncmod(&["check", "--format", "json", "poll.py"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let finding = &doc["findings"][0];
    assert_eq!(finding["transform"], "time-sleep");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["start"]["line"], 5);
    assert_eq!(finding["fix"]["safety"], "safe");
    assert_eq!(finding["fix"]["applicable"], true);
    assert_eq!(finding["fix"]["edits"][0]["replacement"], "await asyncio.sleep(1)");
    assert_eq!(finding["fix"]["imports"], serde_json::json!([]), "asyncio is imported already");
    assert_eq!(finding["fix_refused"], false);
}

#[test]
fn a_file_without_an_async_library_gets_an_unsafe_fix_that_adds_the_import() {
    let source = "import time\n\n\nasync def poll():\n    time.sleep(1)\n";
    let dir = tree(&[("poll.py", source.as_bytes())]);
    let output = asyncmod(&["check", "--format", "json", "poll.py"], dir.path());
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let finding = &doc["findings"][0];
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .ends_with("(the file imports no async library: asyncio assumed)")
    );
    assert_eq!(finding["fix"]["safety"], "unsafe");
    assert_eq!(finding["fix"]["applicable"], false);
    assert_eq!(finding["fix"]["imports"][0], "asyncio");
    assert_eq!(asyncmod(&["fix", "poll.py"], dir.path()).status.code(), Some(0));
    assert_eq!(fs::read_to_string(dir.path().join("poll.py")).unwrap(), source, "unsafe fixes need the flag");
    assert_eq!(asyncmod(&["fix", "--unsafe-fixes", "poll.py"], dir.path()).status.code(), Some(0));
    assert_eq!(fs::read_to_string(dir.path().join("poll.py")).unwrap(), FIXED);
}

#[test]
fn diff_prints_a_unified_diff_and_changes_nothing() {
    let dir = tree(&[("poll.py", BLOCKING.as_bytes())]);
    let before = snapshot(dir.path());
    let output = asyncmod(&["diff", "."], dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let diff = stdout(&output);
    assert!(diff.starts_with("--- a/poll.py\n+++ b/poll.py\n"), "{diff}");
    assert!(diff.contains("-import asyncio, time\n+import asyncio\n"), "{diff}");
    assert!(diff.contains("-    time.sleep(1)\n+    await asyncio.sleep(1)\n"), "{diff}");
    assert!(!diff.contains('\x1b'), "no colour when piped");
    assert_eq!(snapshot(dir.path()), before, "diff must not write");
    let clean = tree(&[("ok.py", b"x = 1\n")]);
    assert_eq!(asyncmod(&["diff", "."], clean.path()).status.code(), Some(0));
}

#[test]
fn fix_rewrites_then_is_a_no_op_and_check_is_clean() {
    let dir = tree(&[("pkg/poll.py", BLOCKING.as_bytes())]);
    let output = asyncmod(&["fix", "."], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(fs::read_to_string(dir.path().join("pkg/poll.py")).unwrap(), FIXED);
    assert!(stderr(&output).contains("Fixed 1 finding in 1 file"), "{}", stderr(&output));
    let after = snapshot(dir.path());
    let again = asyncmod(&["fix", "."], dir.path());
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(snapshot(dir.path()), after, "second fix changed something");
    assert_eq!(asyncmod(&["check", "."], dir.path()).status.code(), Some(0));
}

#[test]
fn fix_lists_what_it_left_and_why() {
    let source = "import time\n\n\nasync def f(cbs):\n    cbs.append(lambda: time.sleep(1))\n";
    let dir = tree(&[("lam.py", source.as_bytes())]);
    let output = asyncmod(&["fix", "."], dir.path());
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("lam.py:5:24: time-sleep"), "{}", stdout(&output));
    assert!(stdout(&output).contains("[no fix: `await` cannot go inside a lambda"), "{}", stdout(&output));
    assert!(stderr(&output).contains("1 finding left"), "{}", stderr(&output));
    assert_eq!(fs::read_to_string(dir.path().join("lam.py")).unwrap(), source);
}

#[test]
fn unsafe_fixes_need_the_flag() {
    let source = "class S:\n    def start(self, job):\n        self.loop.create_task(job())\n";
    let dir = tree(&[("s.py", source.as_bytes())]);
    let output = asyncmod(&["fix", "s.py"], dir.path());
    assert!(stdout(&output).contains("[fix: unsafe, apply with --unsafe-fixes]"), "{}", stdout(&output));
    assert_eq!(fs::read_to_string(dir.path().join("s.py")).unwrap(), source);
    let output = asyncmod(&["fix", "--unsafe-fixes", "s.py"], dir.path());
    assert_eq!(output.status.code(), Some(0));
    assert!(fs::read_to_string(dir.path().join("s.py")).unwrap().contains("_keep_background_task(self.loop"));
}

#[test]
fn select_and_ignore_choose_transforms() {
    let source = format!("{BLOCKING}\n\nasync def g(job):\n    asyncio.create_task(job())\n")
        .replace("import time", "import asyncio\nimport time");
    let dir = tree(&[("both.py", source.as_bytes())]);
    let only_sleep = stdout(&asyncmod(&["check", "--select", "time-sleep", "."], dir.path()));
    assert!(only_sleep.contains("time-sleep") && !only_sleep.contains("dangling-task"), "{only_sleep}");
    let no_sleep = stdout(&asyncmod(&["check", "--ignore", "time-sleep", "."], dir.path()));
    assert!(!no_sleep.contains("time-sleep") && no_sleep.contains("dangling-task"), "{no_sleep}");
    let bad = asyncmod(&["check", "--select", "nope", "."], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown transform `nope`"), "{}", stderr(&bad));
}

#[test]
fn default_excludes_gitignore_and_explicit_paths() {
    let dir = tree(&[
        ("src/a.py", BLOCKING.as_bytes()),
        ("lib/e.py", BLOCKING.as_bytes()),
        (".venv/lib/b.py", BLOCKING.as_bytes()),
        ("venv/lib/b.py", BLOCKING.as_bytes()),
        ("build/c.py", BLOCKING.as_bytes()),
        ("generated/d.py", BLOCKING.as_bytes()),
        ("stub.pyi", BLOCKING.as_bytes()),
        (".gitignore", b"generated/\n"),
    ]);
    // Each run's exit code is checked first: an argument error (exit 2, nothing on stdout) must
    // not pass for "nothing found there".
    let check = |args: &[&str], code: i32| {
        let output = asyncmod(args, dir.path());
        assert_eq!(output.status.code(), Some(code), "{args:?}: {}", stderr(&output));
        stdout(&output)
    };
    let out = check(&["check", "."], 1);
    assert!(out.contains("./src/a.py") && out.contains("./lib/e.py"), "{out}");
    for skipped in ["venv", "build/", "generated/", "stub.pyi"] {
        assert!(!out.contains(skipped), "{skipped} should be skipped: {out}");
    }
    let out = check(&["check", "--no-default-excludes", "."], 1);
    assert!(out.contains("./venv/lib/b.py") && out.contains("build/c.py"), "{out}");
    assert!(!out.contains(".venv"), "hidden folders stay skipped: {out}");
    let out = check(&["check", "build/c.py"], 1);
    assert!(out.contains("build/c.py"), "an explicit path is always processed: {out}");
    let out = check(&["check", "--exclude", "src", "."], 1);
    assert!(!out.contains("src/a.py") && out.contains("./lib/e.py"), "{out}");
    let out = check(&["check", "--exclude", "src", "--exclude", "lib", "."], 0);
    assert_eq!(out, "", "both folders excluded: nothing to report");
}

#[test]
fn suppression_comments_silence_findings() {
    let source = "import time\n\n\nasync def f():\n    time.sleep(1)  # noqa: ASYNC251\n    time.sleep(2)  # asyncmod: ignore[time-sleep]\n";
    let dir = tree(&[("s.py", source.as_bytes())]);
    let output = asyncmod(&["check", "."], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn bad_input_gets_one_clear_line_and_the_run_goes_on() {
    let dir = tree(&[
        ("good.py", BLOCKING.as_bytes()),
        ("latin1.py", b"async def f():\n    s = '\xe9'\n"),
        ("binary.py", b"async \0\x01\x02"),
        ("broken.py", b"import time\nasync def f():\n    time.sleep(1)\n  x = (\n"),
    ]);
    let output = asyncmod(&["fix", "."], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("error: ./latin1.py: not valid UTF-8 (first bad byte on line 2); skipped"), "{err}");
    assert!(err.contains("error: ./binary.py: binary file"), "{err}");
    assert!(err.contains("error: ./broken.py: syntax error at"), "{err}");
    assert_eq!(fs::read_to_string(dir.path().join("good.py")).unwrap(), FIXED, "good files are still fixed");
    assert_eq!(
        fs::read(dir.path().join("broken.py")).unwrap(),
        b"import time\nasync def f():\n    time.sleep(1)\n  x = (\n"
    );
    let missing = asyncmod(&["check", "nowhere"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("error: nowhere: cannot read: no such file or directory"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn bytes_are_preserved_crlf_bom_tabs_and_permissions() {
    let source =
        b"\xEF\xBB\xBFimport asyncio, time\r\n\r\n\r\nasync def f():\r\n\ttime.sleep(1)  # caf\xC3\xA9\r\n";
    let dir = tree(&[("w.py", source)]);
    let path = dir.path().join("w.py");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o750)).unwrap();
    }
    assert_eq!(asyncmod(&["fix", "w.py"], dir.path()).status.code(), Some(0));
    assert_eq!(
        fs::read(&path).unwrap(),
        b"\xEF\xBB\xBFimport asyncio\r\n\r\n\r\nasync def f():\r\n\tawait asyncio.sleep(1)  # caf\xC3\xA9\r\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o750);
    }
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temp files left: {leftovers:?}");
}

#[cfg(unix)]
#[test]
fn read_only_file_is_reported_not_rewritten() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tree(&[("ro.py", BLOCKING.as_bytes())]);
    let path = dir.path().join("ro.py");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    let output = asyncmod(&["fix", "ro.py"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("error: ro.py: file is read-only; not rewritten"),
        "{}",
        stderr(&output)
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), BLOCKING);
}

#[test]
fn list_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let list = stdout(&asyncmod(&["list"], dir.path()));
    assert!(list.contains("time-sleep") && list.contains("dangling-task"), "{list}");
    let explain = asyncmod(&["explain", "time-sleep"], dir.path());
    assert_eq!(explain.status.code(), Some(0));
    assert!(stdout(&explain).contains("## Why is this bad?"));
    assert!(stdout(&explain).contains("Ruff: ASYNC251"));
    let unknown = asyncmod(&["explain", "nope"], dir.path());
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn target_version_comes_from_pyproject() {
    let dir = tree(&[
        ("pyproject.toml", b"[project]\nrequires-python = \">=3.7\"\n"),
        ("p.py", BLOCKING.as_bytes()),
    ]);
    assert_eq!(asyncmod(&["check", "."], dir.path()).status.code(), Some(1));
    let bad = asyncmod(&["check", "--target-version", "py27", "."], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("py38 to py314"), "{}", stderr(&bad));
}

#[test]
fn check_reports_a_syntax_error_in_a_file_that_could_hold_findings() {
    let dir = tree(&[("bad.py", b"import time\nasync def f():\n  time.sleep(1)\n  x = (\n")]);
    let output = asyncmod(&["check", "bad.py"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("error: bad.py: syntax error at 5:1:"), "{err}");
    assert!(err.contains("1 error (listed above)"), "{err}");
}

#[test]
fn ruff_codes_name_transforms() {
    let dir = tree(&[("poll.py", BLOCKING.as_bytes())]);
    let out = stdout(&asyncmod(&["check", "--select", "ASYNC251", "."], dir.path()));
    assert!(out.contains("time-sleep"), "{out}");
    let out = asyncmod(&["check", "--ignore", "async251", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let explain = stdout(&asyncmod(&["explain", "RUF006"], dir.path()));
    assert!(explain.starts_with("# dangling-task"), "{explain}");
}

#[test]
fn a_bad_exclude_glob_is_an_argument_error() {
    let dir = tree(&[("poll.py", BLOCKING.as_bytes())]);
    let output = asyncmod(&["check", "--exclude", "a[", "."], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.starts_with("error: --exclude a[: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

const REQUESTS_IN_COROUTINE: &str =
    "import requests\n\n\nasync def fetch(url):\n    r = requests.get(url, **extra())\n    return r.json()\n";

#[test]
fn ruff_code_async210_selects_both_http_transforms() {
    let source = "import httpx\nimport requests\n\n\nasync def f(u):\n    a = requests.get(u)\n    b = httpx.get(u)\n    return a.ok, b.is_success\n";
    let dir = tree(&[("app.py", source.as_bytes())]);
    let output = asyncmod(&["check", "--select", "ASYNC210", "app.py"], dir.path());
    let out = stdout(&output);
    assert!(out.contains("requests-to-aiohttp") && out.contains("httpx-to-async"), "{out}");
    let output = asyncmod(&["check", "--select", "ASYNC212", "app.py"], dir.path());
    let out = stdout(&output);
    assert!(out.contains("httpx-to-async") && !out.contains("requests-to-aiohttp"), "{out}");
}

#[test]
fn requests_fallback_is_a_thread_from_python_39_and_report_only_before() {
    let dir = tree(&[("app.py", REQUESTS_IN_COROUTINE.as_bytes())]);
    let output = asyncmod(&["diff", "--unsafe-fixes", "app.py"], dir.path());
    assert!(
        stdout(&output).contains("+    r = await asyncio.to_thread(requests.get, url, **extra())"),
        "{}",
        stdout(&output)
    );
    let output = asyncmod(&["check", "--unsafe-fixes", "--target-version", "py38", "app.py"], dir.path());
    let out = stdout(&output);
    assert!(out.contains("no fix: `asyncio.to_thread` needs Python 3.9"), "{out}");
}

#[test]
fn prefer_to_thread_keeps_requests() {
    let source = "import requests\n\n\nasync def fetch(url):\n    return requests.get(url).json()\n";
    let dir = tree(&[("app.py", source.as_bytes())]);
    let output = asyncmod(&["fix", "--unsafe-fixes", "--prefer", "to-thread", "app.py"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let fixed = fs::read_to_string(dir.path().join("app.py")).unwrap();
    assert_eq!(
        fixed,
        "import asyncio\n\nimport requests\n\n\nasync def fetch(url):\n    return (await asyncio.to_thread(requests.get, url)).json()\n"
    );
}

#[test]
fn aiohttp_missing_from_the_dependencies_is_said() {
    let source = "import requests\n\n\nasync def fetch(url):\n    return requests.get(url).json()\n";
    let listed = b"[project]\nname = \"app\"\ndependencies = [\"aiohttp>=3.9\", \"requests\"]\n";
    let unlisted = b"[project]\nname = \"app\"\ndependencies = [\"requests\"]\n";
    for (pyproject, note_expected) in [(&unlisted[..], true), (&listed[..], false)] {
        let dir = tree(&[("pyproject.toml", pyproject), ("src/app.py", source.as_bytes())]);
        let out = stdout(&asyncmod(&["check", "--unsafe-fixes", "src/app.py"], dir.path()));
        assert_eq!(out.contains("aiohttp is not listed in pyproject.toml"), note_expected, "{out}");
        assert!(out.contains("use aiohttp"), "{out}");
    }
}

#[test]
fn a_bad_command_line_value_is_not_blamed_on_the_pyproject() {
    let dir = tree(&[
        ("pyproject.toml", b"[tool.asyncmod]\nselect = [\"time-sleep\"]\n"),
        ("app.py", BLOCKING.as_bytes()),
    ]);
    let output = asyncmod(&["check", "--select", "ASYNC999", "."], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.starts_with("error: command line: unknown transform `ASYNC999`"), "{err}");
    assert!(!err.contains("pyproject.toml"), "{err}");
}

#[test]
fn the_summary_names_the_command_that_applies_the_fixes() {
    let source = "import asyncio\n\n\nasync def f(fetch_a, fetch_b):\n    x = await fetch_a()\n    y = await fetch_b()\n    return x, y\n";
    let dir = tree(&[("app.py", BLOCKING.as_bytes()), ("more.py", source.as_bytes())]);
    let output = asyncmod(&["check", "--unsafe-fixes", "."], dir.path());
    let err = stderr(&output);
    assert!(
        err.contains("1 fixable with `asyncmod fix`, 1 more with `asyncmod fix --unsafe-fixes`."),
        "{err}"
    );
}

#[test]
fn prefer_taskgroup_below_3_11_says_why_it_does_nothing() {
    let dir = tree(&[("app.py", BLOCKING.as_bytes())]);
    let output = asyncmod(&["check", "--prefer", "taskgroup", "--target-version", "py310", "."], dir.path());
    assert!(
        stderr(&output).contains("warning: --prefer taskgroup needs a target of Python 3.11"),
        "{}",
        stderr(&output)
    );
    let output = asyncmod(&["check", "--prefer", "taskgroup", "--target-version", "py311", "."], dir.path());
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
}

#[test]
fn list_names_the_ruff_codes() {
    let output = asyncmod(&["list"], Path::new("."));
    let out = stdout(&output);
    assert!(out.lines().any(|l| l.starts_with("time-sleep") && l.ends_with("[Ruff: ASYNC251]")), "{out}");
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..400 {
        files.push((format!("m{i}.py"), BLOCKING.as_bytes().to_vec()));
    }
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (p.as_str(), c.as_slice())).collect();
    let dir = tree(&refs);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_asyncmod"))
        .args(["check", "--format", "json", "."])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one byte, then hang up, as `| head -c1` does.
    let mut first = [0u8; 1];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert!(!err.contains("Broken pipe") && !err.contains("panicked"), "{err}");
    assert_eq!(output.status.code(), Some(0), "{err}");
}

#[test]
fn output_is_in_path_order_and_a_file_reached_twice_is_checked_once() {
    let names = ["b/z.py", "a/y.py", "a/b/x.py", "c.py", "a/c/w.py", "a/b/c/v.py"];
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (*n, BLOCKING.as_bytes())).collect();
    let dir = tree(&files);
    let output = asyncmod(&["check", "a", "a/b", "c.py", "b", "a/y.py"], dir.path());
    let paths: Vec<String> =
        stdout(&output).lines().map(|line| line.split(':').next().unwrap().to_string()).collect();
    assert_eq!(paths, ["a/b/c/v.py", "a/b/x.py", "a/c/w.py", "a/y.py", "b/z.py", "c.py"]);
    assert!(stderr(&output).contains("(6 checked)"), "{}", stderr(&output));
}
