//! The binary's allocator settings (`src/main.rs`): one jemalloc arena shared by the workers, so
//! that peak memory does not grow with the length of a run (README, Performance).

#![cfg(not(windows))]

use std::process::Command;

mod common;
use common::{stderr, tree};

#[test]
fn the_binary_runs_jemalloc_with_one_arena_and_a_100_ms_decay() {
    let dir = tree(&[("app.py", b"import time\n\n\nasync def main():\n    time.sleep(1)\n")]);
    // jemalloc prints its options at exit when asked to through its environment variable.
    let out = Command::new(env!("CARGO_BIN_EXE_asyncmod"))
        .args(["check", "--quiet", "app.py"])
        .current_dir(dir.path())
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .output()
        .expect("run asyncmod");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let printed = stderr(&out);
    for option in ["opt.narenas: 1\n", "opt.dirty_decay_ms: 100 ", "opt.muzzy_decay_ms: 0 "] {
        assert!(printed.contains(option), "jemalloc does not report `{option}`:\n{printed}");
    }
}
