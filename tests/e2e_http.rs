//! End-to-end test of `requests-to-aiohttp` and `httpx-to-async`: a local aiohttp server whose
//! handlers sleep (`tests/e2e_http/server.py`, on 127.0.0.1, a free port), and client programs
//! written the way real code is (a JSON API, a text endpoint, status checks, POST with json, a
//! session in a loop, httpx functions and a client block), each gathering its coroutines. Each
//! program runs before and after `asyncmod fix --unsafe-fixes`: same output, and faster, because
//! the requests no longer block the event loop. The requests programs run once more fixed with
//! `--prefer to-thread` (the fallback, for every call).
//!
//! Needs an interpreter with aiohttp, requests and httpx: `ASYNCMOD_TEST_PYTHON` (set by
//! `scripts/test.sh`, which builds `.venv-test/`). Unset, the test prints why it skips (it fails
//! when `ASYNCMOD_REQUIRE_TOOLS=1`, as in CI); set, it must run, and fails when a package is missing.

mod common;
use common::{asyncmod, describe, run_python_with};

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const PROGRAMS: &[&str] = &["users_report.py", "health_checks.py", "httpx_dashboard.py"];
/// The programs that use requests, fixed a second time with `--prefer to-thread`.
const REQUESTS_PROGRAMS: &[&str] = &["users_report.py", "health_checks.py"];
/// Each program gathers three to six coroutines; a generous bound on the speed-up.
const MIN_SPEEDUP: f64 = 1.5;
/// Seconds each server handler sleeps.
const HANDLER_DELAY: &str = "0.2";

/// The server, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(python: &Path, dir: &Path) -> Server {
    let mut child = Command::new(python)
        .arg(dir.join("server.py"))
        .arg(HANDLER_DELAY)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("failed to start the test server");
    let stdout = child.stdout.take().expect("server stdout is piped");
    let mut first_line = String::new();
    BufReader::new(stdout).read_line(&mut first_line).expect("read the server's port");
    let Some(port) = first_line.trim().strip_prefix("PORT ").map(str::to_string) else {
        let _ = child.kill();
        panic!("the server said {first_line:?} instead of its port");
    };
    Server { child, base: format!("http://127.0.0.1:{port}") }
}

#[test]
fn blocking_http_clients_become_async_without_changing_output() {
    let Some(python) = common::tool_from_env("ASYNCMOD_TEST_PYTHON", &["--version"]) else { return };
    let imports = Command::new(&python)
        .args(["-c", "import aiohttp, requests, httpx"])
        .output()
        .expect("ASYNCMOD_TEST_PYTHON is not runnable");
    assert!(imports.status.success(), "{}", describe("importing aiohttp, requests and httpx", &imports));

    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e_http");
    let tmp = tempfile::tempdir().expect("create tempdir");
    let dir = tmp.path();
    for name in PROGRAMS.iter().chain(&["server.py"]) {
        fs::copy(fixtures.join(name), dir.join(name)).expect("copy fixture into tempdir");
    }
    let server = start_server(&python, dir);

    for program in PROGRAMS {
        check_program(&python, dir, program, &server.base, &[]);
    }
    // The fallback, for every call: requests stays, each call runs in a thread.
    for program in REQUESTS_PROGRAMS {
        let copy = format!("thread_{program}");
        fs::copy(fixtures.join(program), dir.join(&copy)).expect("copy fixture into tempdir");
        check_program(&python, dir, &copy, &server.base, &["--prefer", "to-thread"]);
    }
}

/// Runs `program` before and after `asyncmod fix --unsafe-fixes <extra>`: same output, faster,
/// and a second fix changes nothing.
fn check_program(python: &Path, dir: &Path, program: &str, base: &str, extra: &[&str]) {
    let to_thread = extra.contains(&"to-thread");
    let fix_args: Vec<&str> =
        ["fix", "--unsafe-fixes"].iter().chain(extra).chain(&[program]).copied().collect();
    let path = dir.join(program);
    let original = fs::read_to_string(&path).unwrap();
    let (before_out, before_time) =
        run_python_with(python, dir, program, &[("E2E_BASE", base), ("NO_PROXY", "127.0.0.1")]);

    let fix = asyncmod(&fix_args, dir);
    assert_eq!(fix.status.code(), Some(0), "{}", describe("asyncmod fix", &fix));
    let fixed = fs::read_to_string(&path).unwrap();
    assert_ne!(fixed, original, "{program}: `asyncmod fix` did not change the file");
    println!("--- fixed {program} ---\n{fixed}--- end ---");
    if to_thread {
        assert!(
            fixed.contains("await asyncio.to_thread(") && !fixed.contains("aiohttp"),
            "{program}:\n{fixed}"
        );
    } else {
        // Every call moved to an async client: none was left blocking or sent to a thread.
        assert!(!fixed.contains("import requests") && !fixed.contains("to_thread"), "{program}:\n{fixed}");
        assert!(!fixed.contains("httpx.Client(") && !fixed.contains("httpx.get("), "{program}:\n{fixed}");
    }

    let check = asyncmod(&["check", "--unsafe-fixes", program], dir);
    assert_eq!(check.status.code(), Some(0), "{}", describe("asyncmod check after fix", &check));
    let refix = asyncmod(&fix_args, dir);
    assert_eq!(refix.status.code(), Some(0), "{}", describe("second asyncmod fix", &refix));
    assert_eq!(fs::read_to_string(&path).unwrap(), fixed, "{program}: second fix was not a no-op");

    // Best of two runs, so that one slow interpreter start does not decide the ratio.
    let (after_out, first) =
        run_python_with(python, dir, program, &[("E2E_BASE", base), ("NO_PROXY", "127.0.0.1")]);
    let (again_out, second) =
        run_python_with(python, dir, program, &[("E2E_BASE", base), ("NO_PROXY", "127.0.0.1")]);
    assert_eq!(after_out, again_out, "{program}: fixed program output is not deterministic");
    assert_eq!(before_out, after_out, "{program}: fixed program prints something different");
    let after_time = first.min(second);
    let ratio = before_time.as_secs_f64() / after_time.as_secs_f64();
    println!(
        "e2e_http {program} {extra:?}: before {:.3}s, after {:.3}s, speed-up {ratio:.2}x",
        before_time.as_secs_f64(),
        after_time.as_secs_f64()
    );
    assert!(
        ratio >= MIN_SPEEDUP,
        "{program}: expected at least {MIN_SPEEDUP}x faster, got {ratio:.2}x (before {before_time:?}, \
         after {after_time:?})"
    );
}
