//! Helpers shared by the integration tests that run the binary.
// Each integration test crate includes this module and uses only part of it.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use asyncmod::config::Settings;
use tempfile::TempDir;

/// A coroutine blocking on `time.sleep` in a file that imports asyncio (so the fix is safe).
pub const BLOCKING: &str = "import asyncio, time\n\n\nasync def poll():\n    time.sleep(1)\n";
/// What `fix` makes of [`BLOCKING`].
pub const FIXED: &str = "import asyncio\n\n\nasync def poll():\n    await asyncio.sleep(1)\n";

/// A temporary folder holding `files` (path relative to it, content).
pub fn tree(files: &[(&str, &[u8])]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    dir
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs the asyncmod binary in `dir`, without colour.
pub fn asyncmod(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asyncmod"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

/// Whether every tool the tests use must be there: `ASYNCMOD_REQUIRE_TOOLS=1`, which
/// `scripts/test.sh` (so CI) exports. A check skipped in CI would report as passed what it never
/// verified.
pub fn tools_required() -> bool {
    std::env::var_os("ASYNCMOD_REQUIRE_TOOLS").is_some_and(|value| value == "1")
}

/// The one way a test gives up because a tool it needs is missing (`what` says which and how to
/// get it): with `ASYNCMOD_REQUIRE_TOOLS=1` the test fails; otherwise it prints that it skips, and
/// the caller returns.
#[track_caller]
pub fn skip_for_missing_tool(what: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    assert!(
        !tools_required(),
        "{test}: {what} (ASYNCMOD_REQUIRE_TOOLS=1: a missing tool fails the test instead of skipping it)"
    );
    eprintln!("SKIPPED {test}: {what}");
}

/// Whether `python3 --version` runs.
pub fn python3_on_path() -> bool {
    Command::new("python3").arg("--version").output().is_ok_and(|out| out.status.success())
}

/// Whether python3 is on PATH for an end-to-end test. A missing one fails the test unless
/// ASYNCMOD_ALLOW_NO_PYTHON is set (and ASYNCMOD_REQUIRE_TOOLS is not): then the test skips.
pub fn python3_available() -> bool {
    if python3_on_path() {
        return true;
    }
    assert!(
        std::env::var_os("ASYNCMOD_ALLOW_NO_PYTHON").is_some(),
        "python3 is not on PATH: the end-to-end tests need it (ASYNCMOD_ALLOW_NO_PYTHON=1 skips them)"
    );
    skip_for_missing_tool("`python3` is not on PATH; install Python 3.9+ to run this test");
    false
}

/// The executable an environment variable names (`ASYNCMOD_TEST_PYTHON`,
/// `ASYNCMOD_CHECK_JSONSCHEMA`, set by `scripts/test.sh`), checked to run with `probe`; `None`
/// (the test skips) when the variable is unset. Set to something that does not run, the test fails.
pub fn tool_from_env(variable: &str, probe: &[&str]) -> Option<PathBuf> {
    let Some(path) = std::env::var_os(variable).map(PathBuf::from) else {
        skip_for_missing_tool(&format!("{variable} is unset (scripts/test.sh sets it)"));
        return None;
    };
    let ran = Command::new(&path).args(probe).output();
    assert!(
        ran.as_ref().is_ok_and(|out| out.status.success()),
        "{variable}={} does not run: {ran:?}",
        path.display()
    );
    Some(path)
}

/// A process's exit code and output, for assertion messages.
pub fn describe(what: &str, out: &Output) -> String {
    format!(
        "{what} exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    )
}

/// Runs `python script` in `dir` with the extra environment `env`, failing the test when the
/// program fails; returns its stdout and wall-clock time.
pub fn run_python_with(python: &Path, dir: &Path, script: &str, env: &[(&str, &str)]) -> (String, Duration) {
    let start = Instant::now();
    let out = Command::new(python)
        .arg(script)
        .current_dir(dir)
        .envs(env.iter().copied())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTHONASYNCIODEBUG")
        .output()
        .expect("failed to spawn python");
    let elapsed = start.elapsed();
    assert!(out.status.success(), "{}", describe(&format!("{} {script}", python.display()), &out));
    (String::from_utf8(out.stdout).expect("python output is UTF-8"), elapsed)
}

/// [`run_python_with`] for `python3` on PATH, without extra environment.
pub fn run_python(dir: &Path, script: &str) -> (String, Duration) {
    run_python_with(Path::new("python3"), dir, script, &[])
}

/// Every `.py` file under `dir`, in path order.
pub fn fixtures(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            fixtures(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// Settings a fixture asks for on a first line `# fixture-args: --max-concurrency 4 ...`
/// (`--max-concurrency N`, `--gather-same-receiver`, `--prefer X`, `--target-version V`,
/// `--blocking-callable NAME`).
pub fn apply_fixture_args(text: &str, settings: &mut Settings) {
    let Some(args) = text.lines().next().and_then(|line| line.strip_prefix("# fixture-args:")) else {
        return;
    };
    let mut args = args.split_whitespace();
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} takes a value")).to_string();
        match arg {
            "--max-concurrency" => settings.max_concurrency = Some(value().parse().unwrap()),
            "--gather-same-receiver" => settings.gather_same_receiver = true,
            "--prefer" => settings.set_prefer(&[value()]).unwrap(),
            "--target-version" => settings.target = asyncmod::config::parse_target(&value()).unwrap(),
            "--blocking-callable" => settings.blocking_callables.push(value()),
            other => panic!("fixture argument `{other}` is not supported"),
        }
    }
}
