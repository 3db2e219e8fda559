//! End-to-end tests of the project index: real Python programs of several modules, run before and
//! after `asyncmod fix --unsafe-fixes` over their folder.
//!
//! - `gather_reports.py` gathers four coroutines that each call `reports.render`, a plain function
//!   of another module that shells out (`sleep 0.3`) and reads a file: they run one after another
//!   until `blocking-helper` moves the call to a thread. Same output, faster.
//! - `sign_up.py` calls `notify`, a coroutine function imported from `notifier.py`, without
//!   `await` (by name and as `notifier.notify`): nothing is sent until `missing-await` fixes it.
//!
//! Needs `python3` and `sleep` on PATH; without python3 the tests fail, unless
//! ASYNCMOD_ALLOW_NO_PYTHON is set and ASYNCMOD_REQUIRE_TOOLS is not (then they print a skip
//! message).

mod common;
use common::{asyncmod, describe, python3_available, run_python};

use std::fs;
use std::path::{Path, PathBuf};

const MIN_SPEEDUP: f64 = 1.5;

/// A copy of `tests/e2e_blocking/` in a temporary folder.
fn project_copy() -> tempfile::TempDir {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e_blocking");
    let tmp = tempfile::tempdir().expect("create tempdir");
    for entry in fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::copy(&path, tmp.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    tmp
}

/// Every file of `dir` (not recursive: the project is flat) with its bytes, in name order.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let bytes = fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Fixes the project with unsafe fixes, then again: the second run must leave every byte as it
/// was. Returns the first run's summary.
fn fix_project(dir: &Path) -> String {
    let fix = asyncmod(&["fix", "--unsafe-fixes", "."], dir);
    assert_eq!(fix.status.code(), Some(0), "{}", describe("asyncmod fix --unsafe-fixes", &fix));
    let summary = String::from_utf8_lossy(&fix.stderr).into_owned();
    let fixed = files(dir);
    let again = asyncmod(&["fix", "--unsafe-fixes", "."], dir);
    assert_eq!(again.status.code(), Some(0), "{}", describe("second asyncmod fix", &again));
    let refixed = files(dir);
    assert_eq!(
        fixed.iter().map(|(path, _)| path).collect::<Vec<_>>(),
        refixed.iter().map(|(path, _)| path).collect::<Vec<_>>(),
        "the second fix added or removed files"
    );
    for ((path, before), (_, after)) in fixed.iter().zip(&refixed) {
        assert!(
            before == after,
            "the second fix changed {}:\n--- after the first fix ---\n{}\n--- after the second ---\n{}",
            path.display(),
            String::from_utf8_lossy(before),
            String::from_utf8_lossy(after)
        );
    }
    summary
}

#[test]
fn a_blocking_helper_in_another_module_runs_in_a_thread_and_the_gather_overlaps() {
    if !python3_available() {
        return;
    }
    let tmp = project_copy();
    let dir = tmp.path();
    let helpers_before = fs::read_to_string(dir.join("reports.py")).unwrap();
    let (before_out, before_time) = run_python(dir, "gather_reports.py");
    assert_eq!(before_out.lines().count(), 4, "{before_out}");

    let summary = fix_project(dir);
    assert!(summary.contains("blocking-helper: 1"), "{summary}");
    let fixed = fs::read_to_string(dir.join("gather_reports.py")).unwrap();
    assert!(fixed.contains("    text = await asyncio.to_thread(render, name)\n"), "{fixed}");
    assert_eq!(fs::read_to_string(dir.join("reports.py")).unwrap(), helpers_before, "sync code changed");

    // Best of two runs, so that one slow interpreter start does not decide the ratio.
    let (after_out, first) = run_python(dir, "gather_reports.py");
    let (after_again, second) = run_python(dir, "gather_reports.py");
    assert_eq!(after_out, after_again, "the fixed program's output is not deterministic");
    assert_eq!(before_out, after_out, "the fixed program prints something different");
    let after_time = first.min(second);
    let ratio = before_time.as_secs_f64() / after_time.as_secs_f64();
    println!(
        "e2e_blocking gather_reports.py: before {:.3}s, after {:.3}s, speed-up {ratio:.2}x",
        before_time.as_secs_f64(),
        after_time.as_secs_f64()
    );
    assert!(
        ratio >= MIN_SPEEDUP,
        "expected at least {MIN_SPEEDUP}x faster, got {ratio:.2}x (before {before_time:?}, after {after_time:?})"
    );
}

#[test]
fn a_coroutine_function_imported_from_another_module_is_now_awaited_and_does_its_work() {
    if !python3_available() {
        return;
    }
    let tmp = project_copy();
    let dir = tmp.path();
    let (before, _) = run_python(dir, "sign_up.py");
    assert_eq!(before, "sent: []\n", "the original never sends a notification");

    let summary = fix_project(dir);
    assert!(summary.contains("missing-await: 2"), "{summary}");
    let fixed = fs::read_to_string(dir.join("sign_up.py")).unwrap();
    assert!(fixed.contains("    await notify(user, \"welcome\")\n"), "{fixed}");
    assert!(fixed.contains("    await notifier.notify(user, "), "{fixed}");

    let (after, _) = run_python(dir, "sign_up.py");
    assert_eq!(
        after,
        "sent: ['ann: please confirm your address', 'ann: welcome', 'bob: please confirm your address', \
         'bob: welcome']\n",
        "the fixed program does its work"
    );
}
