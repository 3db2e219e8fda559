//! Same input, same output: a generated project whose coroutines, in many modules, share deep
//! helper chains across packages (re-exported through multi-line imports, through cycles, in
//! files large enough to be parsed in slices) is checked, diffed and fixed many times with eight
//! workers, and every run must print and write what one worker does. The workers race on the
//! same entries of the project index; an answer that depended on who asked first showed here.

mod common;
use common::{asyncmod, describe, stdout, tree};

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use tempfile::TempDir;

/// Packages, each a chain of this many modules calling into the next.
const PACKAGES: usize = 6;
const DEPTH: usize = 5;
/// Modules of coroutines calling into the packages (spread over them).
const CALLERS: usize = 120;
/// Runs with eight workers compared with the run with one.
const RUNS: usize = 4;

/// Filler that makes a module larger than the size from which files are parsed in slices.
fn filler(module: &str) -> String {
    let mut text = String::new();
    for n in 0..40 {
        writeln!(text, "\n\ndef {module}_pure_{n}(value):\n    \"\"\"Arithmetic only.\"\"\"\n    return value * {n} + len(str(value))").unwrap();
    }
    text
}

/// How the last module of package `p` blocks: itself (three ways), through a call into the next
/// package that closes a cycle (package 2), or not at all (package 5).
fn chain_end(p: usize) -> (String, String) {
    let (import, body) = match p {
        0 | 4 => ("import subprocess\n", "    return subprocess.run(['true'], check=False)\n"),
        1 => ("", "    with open(str(value)) as f:\n        return f.read()\n"),
        3 => ("from pathlib import Path\n", "    return Path(str(value)).read_text()\n"),
        2 => (
            "import app.pkg3\n",
            "    if value < 0:\n        return app.pkg3.entry(value + 1)\n    return value\n",
        ),
        _ => ("", "    return value + 1\n"),
    };
    (import.to_string(), body.to_string())
}

fn package(p: usize, files: &mut BTreeMap<String, String>) {
    // The entry point is re-exported by the package through a parenthesised import, and the
    // package's `__init__` holds coroutines too (so it is analysed while others ask about it).
    files.insert(
        format!("app/pkg{p}/__init__.py"),
        format!(
            "from .chain0 import (  # the entry point\n    step0 as entry,\n    step0,\n)\nfrom .chain{last} import \\\n    step{last} as last_step\n\n\ndef configure(value):\n    return value\n\n\nasync def warm_up(value):\n    return entry(configure(value))\n",
            last = DEPTH - 1
        ),
    );
    for d in 0..DEPTH {
        let mut text = String::new();
        let (import, body) = if d + 1 < DEPTH {
            let import = if d % 2 == 0 {
                format!("from .chain{next} import (\n    step{next},\n)\n", next = d + 1)
            } else {
                format!("from . import chain{next}\n", next = d + 1)
            };
            let call = if d % 2 == 0 {
                format!("step{}(value)", d + 1)
            } else {
                format!("chain{n}.step{n}(value)", n = d + 1)
            };
            (import, format!("    return local_{d}(value) + {call}\n"))
        } else {
            chain_end(p)
        };
        text.push_str(&import);
        write!(text, "\n\ndef local_{d}(value):\n    return value\n\n\ndef step{d}(value):\n{body}").unwrap();
        // A coroutine of each module calls a helper of another package, at another depth.
        let other = (p + d + 1) % PACKAGES;
        let depth = (d * 3 + p) % DEPTH;
        write!(
            text,
            "\n\nasync def handler_{d}(value):\n    import app.pkg{other}.chain{depth}\n    first = app.pkg{other}.chain{depth}.step{depth}(value)\n    second = step{d}(first)\n    return second\n"
        )
        .unwrap();
        text.push_str(&filler(&format!("chain{d}")));
        files.insert(format!("app/pkg{p}/chain{d}.py"), text);
    }
}

fn caller(c: usize) -> String {
    let mut text = String::from("import asyncio\n\nimport app.pkg0\n");
    let packages: Vec<usize> = (0..4).map(|k| (c + k) % PACKAGES).collect();
    for &p in &packages {
        writeln!(text, "from app.pkg{p} import entry as entry_{p}, last_step as last_{p}").unwrap();
    }
    writeln!(text, "from app.pkg{p} import (\n    step0 as first_{p},\n)", p = packages[0]).unwrap();
    for (k, &p) in packages.iter().enumerate() {
        write!(
            text,
            "\n\nasync def task_{k}(value):\n    await asyncio.sleep(0)\n    result = entry_{p}(value)\n    tail = last_{p}(result)\n    return result, tail\n"
        )
        .unwrap();
    }
    write!(
        text,
        "\n\nasync def direct(value):\n    return app.pkg0.chain{d}.step{d}(value), first_{p}(value)\n",
        d = c % DEPTH,
        p = packages[0]
    )
    .unwrap();
    text.push_str(&filler(&format!("caller{c}")));
    text
}

fn project() -> TempDir {
    let mut files = BTreeMap::new();
    files.insert("app/__init__.py".to_string(), String::new());
    for p in 0..PACKAGES {
        package(p, &mut files);
    }
    for c in 0..CALLERS {
        // Beside the packages' own modules, so that a worker analyses a package's `__init__`
        // while others ask about what it re-exports.
        files.insert(format!("app/pkg{}/caller{c}.py", c % PACKAGES), caller(c));
    }
    let files: Vec<(&str, &[u8])> =
        files.iter().map(|(path, text)| (path.as_str(), text.as_bytes())).collect();
    tree(&files)
}

fn run(args: &[&str], jobs: &str, dir: &Path) -> String {
    let mut full = args.to_vec();
    full.extend(["--jobs", jobs, "."]);
    let out = asyncmod(&full, dir);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", describe(&full.join(" "), &out));
    stdout(&out)
}

/// Every file of `dir`, by path.
fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                files.insert(name, fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn first_difference(expected: &str, got: &str) -> String {
    let line = expected.lines().zip(got.lines()).position(|(a, b)| a != b);
    match line {
        Some(n) => format!(
            "line {}:\n  one worker:    {}\n  eight workers: {}",
            n + 1,
            expected.lines().nth(n).unwrap_or(""),
            got.lines().nth(n).unwrap_or("")
        ),
        None => format!("{} lines against {}", expected.lines().count(), got.lines().count()),
    }
}

/// `ASYNCMOD_WRITE_PROJECT=DIR cargo test --test determinism write_the_project` writes the
/// generated project to DIR, to run the binary on it by hand.
#[test]
fn write_the_project() {
    if let Some(target) = std::env::var_os("ASYNCMOD_WRITE_PROJECT") {
        let dir = project();
        for (path, text) in files_of(dir.path()) {
            let path = Path::new(&target).join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }
}

#[test]
fn findings_and_diffs_do_not_depend_on_the_number_of_workers() {
    let dir = project();
    for args in
        [&["check", "-q"][..], &["check", "-q", "--format", "json"], &["diff", "-q", "--unsafe-fixes"]]
    {
        let alone = run(args, "1", dir.path());
        for attempt in 0..RUNS {
            let shared = run(args, "8", dir.path());
            assert!(
                shared == alone,
                "`{}` with 8 workers (run {}) differs from one worker at {}",
                args.join(" "),
                attempt + 1,
                first_difference(&alone, &shared)
            );
        }
    }
    // What the runs agree on is the whole answer, not an empty one: chains through a
    // parenthesised re-export, through `import pkg.module` in a function, and into a cycle.
    let findings = run(&["check", "-q"], "1", dir.path());
    let helpers = findings.lines().filter(|l| l.contains(" blocking-helper ")).count();
    assert!(helpers >= 500, "only {helpers} blocking-helper findings:\n{findings}");
    for expected in [
        "./app/pkg0/caller0.py:15:14: blocking-helper `entry_0(...)` blocks the event loop in a coroutine (step0 -> step1 -> step2 -> step3 -> step4 -> subprocess.run)",
        "./app/pkg0/caller0.py:23:12: blocking-helper `last_1(...)` blocks the event loop in a coroutine (step4 -> open)",
        "./app/pkg0/caller0.py:29:14: blocking-helper `entry_2(...)` blocks the event loop in a coroutine (step0 -> step1 -> step2 -> step3 -> step4 -> step0 -> step1 -> step2 -> step3 -> step4 -> pathlib.Path.read_text)",
        "./app/pkg0/caller0.py:42:42: blocking-helper `first_0(...)` blocks",
        "./app/pkg1/chain0.py:16:13: blocking-helper `app.pkg2.chain",
    ] {
        assert!(findings.contains(expected), "no `{expected}` in:\n{findings}");
    }
    assert!(!findings.contains("`entry_5(...)`"), "package 5 never blocks:\n{findings}");
    assert!(findings.contains("`entry_4(...)`"), "package 4 blocks:\n{findings}");
}

#[test]
fn fix_writes_the_same_files_whatever_the_number_of_workers() {
    let original = project();
    let mut trees = Vec::new();
    for jobs in ["1", "8", "8", "8"] {
        let dir = project();
        let out = asyncmod(&["fix", "-q", "--unsafe-fixes", "--jobs", jobs, "."], dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", describe("fix", &out));
        trees.push((jobs, files_of(dir.path())));
        let again = asyncmod(&["fix", "-q", "--unsafe-fixes", "--jobs", jobs, "."], dir.path());
        assert_eq!(again.status.code(), Some(0), "{}", describe("second fix", &again));
        assert_eq!(files_of(dir.path()), trees.last().unwrap().1, "a second fix changed files");
    }
    let (_, alone) = &trees[0];
    assert_ne!(alone, &files_of(original.path()), "fix changed nothing");
    for (jobs, tree) in &trees[1..] {
        for (path, text) in alone {
            assert!(
                tree.get(path) == Some(text),
                "{path} differs with --jobs {jobs}:\n--- one worker ---\n{}\n--- {jobs} workers ---\n{}",
                String::from_utf8_lossy(text),
                tree.get(path).map(|t| String::from_utf8_lossy(t).into_owned()).unwrap_or_default()
            );
        }
    }
}
