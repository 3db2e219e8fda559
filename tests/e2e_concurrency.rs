//! End-to-end tests of the concurrency transforms: real async Python programs whose coroutines
//! `await asyncio.sleep(...)` one after another are run, fixed with `asyncmod fix --unsafe-fixes`
//! (plus the options under test), and run again: they must print the same thing and be faster.
//!
//! - `sequential_fetches.py`: independent awaits in a row, a dependent one after them, loops that
//!   append and store, a list comprehension (`sequential-awaits`, `loop-awaits`). Fixed twice: with
//!   `asyncio.gather`, and, when `python3` is 3.11 or later, with `--prefer taskgroup`.
//! - `bounded_loop.py`: a loop over a list built at run time, fixed with `--max-concurrency 4`;
//!   the program prints whether more than four calls ever ran at once.
//!
//! Needs `python3` (3.9+; 3.11+ for TaskGroup) on PATH and nothing else; without it the tests
//! fail, unless ASYNCMOD_ALLOW_NO_PYTHON is set and ASYNCMOD_REQUIRE_TOOLS is not (then they print a
//! skip message). Runtime is about 10 seconds.

mod common;
use common::{asyncmod, describe, python3_available, run_python, skip_for_missing_tool};

use std::fs;
use std::path::Path;
use std::process::Command;

/// Generous: the programs are written to gain about 3x.
const MIN_SPEEDUP: f64 = 1.5;

/// python3's minor version, `None` when the test skips (see [`python3_available`]).
fn python3_minor() -> Option<u32> {
    if !python3_available() {
        return None;
    }
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.version_info[1])"])
        .output()
        .expect("python3 runs");
    Some(String::from_utf8_lossy(&out.stdout).trim().parse().expect("python3 prints its minor version"))
}

/// Copies `program` into a temporary folder, runs it, fixes it with `fix_args`, checks the
/// rewrite with `expect`, runs it again (best of two) and compares output and time.
fn before_and_after(program: &str, fix_args: &[&str], expect: &[&str]) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e_concurrency").join(program);
    let tmp = tempfile::tempdir().expect("create tempdir");
    let dir = tmp.path();
    fs::copy(&fixture, dir.join(program)).expect("copy the program");
    let original = fs::read_to_string(dir.join(program)).unwrap();

    let (before_out, before_time) = run_python(dir, program);

    let mut args = vec!["fix", "--unsafe-fixes"];
    args.extend_from_slice(fix_args);
    args.push(program);
    let fix = asyncmod(&args, dir);
    assert_eq!(fix.status.code(), Some(0), "{}", describe("asyncmod fix", &fix));
    let fixed = fs::read_to_string(dir.join(program)).unwrap();
    assert_ne!(fixed, original, "`asyncmod fix {}` did not change {program}", fix_args.join(" "));
    println!("--- {program} fixed with {fix_args:?} ---\n{fixed}--- end ---");
    for wanted in expect {
        assert!(fixed.contains(wanted), "expected {wanted:?} in the rewrite:\n{fixed}");
    }
    let refix = asyncmod(&args, dir);
    assert_eq!(refix.status.code(), Some(0), "{}", describe("second asyncmod fix", &refix));
    assert_eq!(fs::read_to_string(dir.join(program)).unwrap(), fixed, "a second fix changed {program}");

    let (after_out, first) = run_python(dir, program);
    let (again_out, second) = run_python(dir, program);
    assert_eq!(after_out, again_out, "the fixed program's output is not deterministic");
    assert_eq!(before_out, after_out, "the fixed {program} prints something different");
    let after_time = first.min(second);
    let ratio = before_time.as_secs_f64() / after_time.as_secs_f64();
    println!(
        "e2e {program} {fix_args:?}: before {:.3}s, after {:.3}s, speed-up {ratio:.2}x",
        before_time.as_secs_f64(),
        after_time.as_secs_f64()
    );
    assert!(
        ratio >= MIN_SPEEDUP,
        "expected {program} to be at least {MIN_SPEEDUP}x faster after the fix, got {ratio:.2}x \
         (before {before_time:?}, after {after_time:?})"
    );
}

#[test]
fn gathered_awaits_print_the_same_and_run_faster() {
    if !python3_available() {
        return;
    }
    before_and_after(
        "sequential_fetches.py",
        &[],
        &[
            "    profile, orders, settings = await asyncio.gather(\n",
            "    summary = await summarize(profile, orders, settings)\n",
            "    pages.extend(await asyncio.gather(*(fetch(url, 0.2) for url in",
            "    squares = await asyncio.gather(*(square(n) for n in range(4)))\n",
        ],
    );
}

#[test]
fn task_groups_print_the_same_and_run_faster() {
    match python3_minor() {
        // Skipped: python3_available said why.
        None => {}
        Some(minor) if minor < 11 => {
            skip_for_missing_tool(&format!("TaskGroup needs Python 3.11, python3 is 3.{minor}"))
        }
        Some(_) => before_and_after(
            "sequential_fetches.py",
            &["--prefer", "taskgroup", "--target-version", "py311"],
            &["    async with asyncio.TaskGroup() as tg:\n", "    orders: str = orders_task.result()\n"],
        ),
    }
}

#[test]
fn a_semaphore_bounds_the_gathered_loop() {
    if !python3_available() {
        return;
    }
    before_and_after(
        "bounded_loop.py",
        &["--max-concurrency", "4"],
        &["    results.extend(await _gather_limited(4, *(download(item) for item in items)))\n"],
    );
}

#[test]
fn awaits_that_only_look_independent_stay_in_order() {
    if !python3_available() {
        return;
    }
    // The traps keep their lines (a check before what it guards, a result read in `finally`, one
    // connection for two queries, a wrapper around a change); only the three page reads gather.
    before_and_after(
        "traps.py",
        &[],
        &[
            "    home, about, help_page = await asyncio.gather(\n",
            "        checked = await check_team_exists(team)\n        count = await fetch_members(names)\n",
            "        knocker = await fetch_knocker()\n        answer = await fetch_answer()\n",
            "    users = await fetch_users(conn)\n    orders = await fetch_orders(conn)\n",
            "    before = await fetch_profile(2)\n    forgotten = await forget_user(2)\n",
        ],
    );
}
