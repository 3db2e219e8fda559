//! Helpers shared by the integration tests that run the binary.
// Each integration test crate includes this module and uses only part of it.
#![allow(dead_code)]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

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
