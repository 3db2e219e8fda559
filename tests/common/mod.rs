//! Helpers shared by the integration tests that run the binary.

use std::fs;
use std::process::Output;

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
