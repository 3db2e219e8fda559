//! End-to-end test: run a real async Python program, `asyncmod fix` it, run it
//! again, and check that it prints the same thing and got much faster.
//!
//! The program (`tests/e2e/sleepy_gather.py`) gathers several coroutines that
//! each block the event loop with a synchronous `time.sleep` (through every
//! import form), so they run one after another. Once fixed they await
//! `asyncio.sleep` and overlap. It also starts a fire-and-forget task, which
//! the fix wraps in the keep-alive helper; that task succeeds, so output stays
//! identical (the program's own exception handler prints a line if the helper
//! ever reports a failure that did not happen).
//!
//! Needs `python3` on PATH; without it the test fails, unless ASYNCMOD_ALLOW_NO_PYTHON
//! is set and ASYNCMOD_REQUIRE_TOOLS is not (then it prints a skip message). Runtime is about 3-4
//! seconds.

mod common;
use common::{asyncmod, describe, python3_available, run_python};

use std::fs;
use std::path::Path;
use std::process::Command;

const PROGRAM: &str = "sleepy_gather.py";
const MIN_SPEEDUP: f64 = 2.0;

#[test]
fn fix_makes_gathered_coroutines_concurrent_without_changing_output() {
    if !python3_available() {
        return;
    }

    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e").join(PROGRAM);
    let tmp = tempfile::tempdir().expect("create tempdir");
    let dir = tmp.path();
    let prog = dir.join(PROGRAM);
    fs::copy(&fixture, &prog).expect("copy fixture into tempdir");
    let original = fs::read_to_string(&prog).unwrap();

    // 1. The original program: blocking sleeps run back to back.
    let (before_out, before_time) = run_python(dir, PROGRAM);

    // 2. `diff` shows the rewrite but leaves the file alone.
    let diff = asyncmod(&["diff", PROGRAM], dir);
    assert_eq!(diff.status.code(), Some(1), "{}", describe("asyncmod diff", &diff));
    assert!(
        String::from_utf8_lossy(&diff.stdout).contains("await asyncio.sleep("),
        "{}",
        describe("asyncmod diff (expected an asyncio.sleep rewrite)", &diff)
    );
    assert_eq!(fs::read_to_string(&prog).unwrap(), original, "`asyncmod diff` modified the file");

    // 3. `fix` rewrites the file in place.
    let fix = asyncmod(&["fix", PROGRAM], dir);
    assert_eq!(fix.status.code(), Some(0), "{}", describe("asyncmod fix", &fix));
    let fixed = fs::read_to_string(&prog).unwrap();
    assert_ne!(fixed, original, "`asyncmod fix` did not change the file");
    println!("--- fixed {PROGRAM} ---\n{fixed}--- end ---");

    // Sync code must be left alone: the plain helper and the plain def nested
    // inside a coroutine keep their blocking sleeps.
    for kept in ["    time.sleep(0.01)\n", "        sleep(0.02)\n"] {
        assert!(fixed.contains(kept), "fix changed sync code; expected {kept:?} to remain");
    }

    // The result is valid Python.
    let compile = Command::new("python3")
        .args(["-m", "py_compile", PROGRAM])
        .current_dir(dir)
        .output()
        .expect("failed to spawn python3 -m py_compile");
    assert!(compile.status.success(), "{}", describe("python3 -m py_compile", &compile));

    // 4. Nothing is left to report, and a second fix is a no-op.
    let check = asyncmod(&["check", PROGRAM], dir);
    assert_eq!(check.status.code(), Some(0), "{}", describe("asyncmod check after fix", &check));
    let refix = asyncmod(&["fix", PROGRAM], dir);
    assert_eq!(refix.status.code(), Some(0), "{}", describe("second asyncmod fix", &refix));
    assert_eq!(fs::read_to_string(&prog).unwrap(), fixed, "second `asyncmod fix` was not a no-op");

    // 5. The fixed program prints the same thing, much faster. Take the best of
    //    two runs so one slow interpreter start-up doesn't decide the ratio.
    let (after_out, first_after) = run_python(dir, PROGRAM);
    let (after_out_again, second_after) = run_python(dir, PROGRAM);
    assert_eq!(after_out, after_out_again, "fixed program output is not deterministic");
    assert_eq!(before_out, after_out, "fixed program prints something different");
    let after_time = first_after.min(second_after);

    let ratio = before_time.as_secs_f64() / after_time.as_secs_f64();
    println!(
        "e2e {PROGRAM}: before {:.3}s, after {:.3}s, speed-up {ratio:.2}x",
        before_time.as_secs_f64(),
        after_time.as_secs_f64(),
    );
    assert!(
        ratio >= MIN_SPEEDUP,
        "expected the fixed program to be at least {MIN_SPEEDUP}x faster, got {ratio:.2}x \
         (before {before_time:?}, after {after_time:?})"
    );
}

#[test]
fn fix_makes_a_forgotten_coroutine_run() {
    if !python3_available() {
        return;
    }
    const FORGOTTEN: &str = "forgotten_await.py";
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e").join(FORGOTTEN);
    let tmp = tempfile::tempdir().expect("create tempdir");
    let dir = tmp.path();
    fs::copy(&fixture, dir.join(FORGOTTEN)).expect("copy fixture into tempdir");

    let (before, _) = run_python(dir, FORGOTTEN);
    assert_eq!(before, "notifications sent: []\n", "the original never sends a notification");

    // The fix is unsafe (code that never ran now runs): without the flag nothing changes.
    let fix = asyncmod(&["fix", FORGOTTEN], dir);
    assert_eq!(fix.status.code(), Some(0), "{}", describe("asyncmod fix", &fix));
    assert_eq!(fs::read(dir.join(FORGOTTEN)).unwrap(), fs::read(&fixture).unwrap());

    let fix = asyncmod(&["fix", "--unsafe-fixes", FORGOTTEN], dir);
    assert_eq!(fix.status.code(), Some(0), "{}", describe("asyncmod fix --unsafe-fixes", &fix));
    let fixed = fs::read_to_string(dir.join(FORGOTTEN)).unwrap();
    assert!(fixed.contains("    await send_notification(order_id)\n"), "{fixed}");

    let (after, _) = run_python(dir, FORGOTTEN);
    assert_eq!(after, "notifications sent: [1, 2, 3]\n", "the fixed program does its work");
}
