//! The project index through the real binary: `blocking-helper` and `missing-await` across the
//! modules of one run (every import form, re-exports, recursion across modules), and the cases
//! the index must leave alone (a module outside the run, an async generator, a decorated
//! coroutine, a shadowing local).

mod common;
use common::{asyncmod, stderr, stdout, tree};

use std::fs;

use tempfile::TempDir;

const PACKAGE_INIT: &str = "from .config import load_config\n";

const CONFIG: &str = r#"import json
from . import shell


def load_config(path):
    with open(path) as f:
        return json.load(f)


def version():
    return shell.git("describe")


def ping(n):
    # Recursion across modules that never blocks.
    return shell.pong(n)


def factorial(n):
    return 1 if n == 0 else n * factorial(n - 1)
"#;

const SHELL: &str = r#"import subprocess

from .config import ping


def git(*args):
    return subprocess.check_output(["git", *args], text=True)


def pong(n):
    return ping(n - 1) if n else 0
"#;

const JOBS: &str = r#"async def notify(user):
    print("notify", user)


async def stream():
    yield 1


@some_framework.work
async def worker():
    pass
"#;

const MAIN: &str = r#"import asyncio

import pkg.config as cfg
from pkg import load_config, jobs
from pkg.jobs import notify, stream, worker
from outside import slow


async def main():
    config = load_config("c.json")
    v = cfg.version()
    n = cfg.factorial(5) + cfg.ping(3)
    notify("ann")
    jobs.notify("bob")
    stream()
    worker()
    slow()
    return config, v, n


async def shadowed(notify):
    notify("x")
"#;

// The two helpers, once in threads, are awaits in a row, but nothing shows that `version` only
// reads (sequential-awaits gathers a later call only on evidence): they stay in order.
const MAIN_FIXED: &str = r#"import asyncio

import pkg.config as cfg
from pkg import load_config, jobs
from pkg.jobs import notify, stream, worker
from outside import slow


async def main():
    config = await asyncio.to_thread(load_config, "c.json")
    v = await asyncio.to_thread(cfg.version)
    n = cfg.factorial(5) + cfg.ping(3)
    await notify("ann")
    await jobs.notify("bob")
    stream()
    worker()
    slow()
    return config, v, n


async def shadowed(notify):
    notify("x")
"#;

fn project() -> TempDir {
    tree(&[
        ("app/main.py", MAIN.as_bytes()),
        ("app/pkg/__init__.py", PACKAGE_INIT.as_bytes()),
        ("app/pkg/config.py", CONFIG.as_bytes()),
        ("app/pkg/shell.py", SHELL.as_bytes()),
        ("app/pkg/jobs.py", JOBS.as_bytes()),
        // Blocks, but is not part of the run: never looked at.
        ("elsewhere/outside.py", b"import time\n\n\ndef slow():\n    time.sleep(1)\n"),
    ])
}

#[test]
fn check_names_the_chain_across_modules() {
    let dir = project();
    let output = asyncmod(&["check", "app"], dir.path());
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}{}", stderr(&output));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "app/main.py:10:14: blocking-helper `load_config(...)` blocks the event loop in a coroutine \
             (load_config -> open); run it in a thread [fix: unsafe, apply with --unsafe-fixes]",
            "app/main.py:11:9: blocking-helper `cfg.version(...)` blocks the event loop in a coroutine \
             (version -> git -> subprocess.check_output); run it in a thread [fix: unsafe, apply with --unsafe-fixes]",
            "app/main.py:13:5: missing-await `notify(...)` creates a coroutine that is never awaited, so it never \
             runs [fix: unsafe, apply with --unsafe-fixes]",
            "app/main.py:14:5: missing-await `jobs.notify(...)` creates a coroutine that is never awaited, so it \
             never runs [fix: unsafe, apply with --unsafe-fixes]",
            "app/main.py:16:5: missing-await `worker(...)` creates a coroutine that is never awaited, so it never \
             runs [no fix: `worker` is decorated with `@some_framework.work`, which may change what it returns; \
             await it by hand if it returns a coroutine]",
        ],
        "{out}"
    );
}

#[test]
fn fix_rewrites_cross_module_calls_and_a_second_run_changes_nothing() {
    let dir = project();
    let output = asyncmod(&["fix", "--unsafe-fixes", "app"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(fs::read_to_string(dir.path().join("app/main.py")).unwrap(), MAIN_FIXED);
    for (module, original) in [("config.py", CONFIG), ("shell.py", SHELL), ("jobs.py", JOBS)] {
        assert_eq!(
            fs::read_to_string(dir.path().join("app/pkg").join(module)).unwrap(),
            original,
            "{module}"
        );
    }
    let again = asyncmod(&["fix", "--unsafe-fixes", "app"], dir.path());
    assert!(stderr(&again).contains("Fixed 0 findings"), "{}", stderr(&again));
    assert_eq!(fs::read_to_string(dir.path().join("app/main.py")).unwrap(), MAIN_FIXED);
}

#[test]
fn a_file_checked_alone_sees_no_other_module() {
    let dir = project();
    let output = asyncmod(&["check", "app/main.py"], dir.path());
    let out = stdout(&output);
    assert!(!out.contains("blocking-helper") && !out.contains("missing-await"), "{out}");
}

#[test]
fn import_forms_resolve_from_scripts_and_packages() {
    let dir = tree(&[
        // A script beside its modules (no package): `import helpers`, `from helpers import ...`.
        ("tool/run.py", b"import helpers\nfrom helpers import fetch as get\n\n\nasync def go():\n    helpers.fetch()\n    get()\n" as &[u8]),
        ("tool/helpers.py", b"import urllib.request\n\n\ndef fetch():\n    return urllib.request.urlopen('http://x').read()\n"),
        // `import pkg.util` binds `pkg`; the call spells the full path.
        ("lib/pkg/__init__.py", b""),
        ("lib/pkg/util.py", b"import shutil\n\n\ndef wipe(p):\n    shutil.rmtree(p)\n"),
        ("lib/use.py", b"import pkg.util\n\n\nasync def go(p):\n    pkg.util.wipe(p)\n"),
    ]);
    let output = asyncmod(&["check", "--select", "blocking-helper", "tool", "lib"], dir.path());
    let out = stdout(&output);
    assert!(out.contains("tool/run.py:6:5: blocking-helper `helpers.fetch(...)`"), "{out}");
    assert!(out.contains("(fetch -> urllib.request.urlopen)"), "{out}");
    assert!(out.contains("tool/run.py:7:5: blocking-helper `get(...)`"), "{out}");
    assert!(out.contains("lib/use.py:5:5: blocking-helper `pkg.util.wipe(...)` blocks the event loop in a coroutine (wipe -> shutil.rmtree)"), "{out}");
    assert_eq!(out.lines().count(), 3, "{out}");
}

#[test]
fn blocking_callable_option_extends_the_catalogue() {
    let dir = tree(&[(
        "app.py",
        b"import boto3\n\n\ndef upload(path):\n    boto3.client('s3').upload_file(path)\n\n\nasync def handler(path):\n    boto3.client('s3')\n    upload(path)\n" as &[u8],
    )]);
    let without = stdout(&asyncmod(&["check", "app.py"], dir.path()));
    assert!(!without.contains("blocking"), "{without}");
    let with = stdout(&asyncmod(&["check", "--blocking-callable", "boto3.client", "app.py"], dir.path()));
    assert!(with.contains("app.py:9:5: blocking-call `boto3.client(...)` blocks the event loop"), "{with}");
    assert!(with.contains("app.py:10:5: blocking-helper `upload(...)` blocks the event loop in a coroutine (upload -> boto3.client)"), "{with}");
}

#[test]
fn a_function_the_module_rebinds_is_not_resolved_across_modules() {
    let dir = tree(&[
        // `job` is wrapped into a sync function after its `def`; `save` is defined twice.
        (
            "jobs.py",
            b"import subprocess\n\n\nasync def job():\n    print('job')\n\njob = sync_wrapper(job)\n\n\ndef save():\n    return 1\n\n\nif FAST:\n    def save():\n        subprocess.run(['sync'])\n\n\nasync def plain():\n    print('plain')\n" as &[u8],
        ),
        ("main.py", b"from jobs import job, save, plain\n\n\nasync def main():\n    job()\n    save()\n    plain()\n"),
    ]);
    let out = stdout(&asyncmod(&["check", "main.py", "jobs.py"], dir.path()));
    assert!(out.contains("main.py:7:5: missing-await `plain(...)`"), "{out}");
    assert!(!out.contains("main.py:5:"), "{out}");
    assert!(!out.contains("main.py:6:"), "{out}");
}

#[test]
fn a_module_the_walk_skips_is_not_part_of_the_project() {
    // `cfg.version` blocks through shell.py: once shell.py is out of the run (an --exclude glob,
    // an ignore file, a pyproject exclude), the chain is not followed into it.
    let expected = "app/main.py:11:9: blocking-helper `cfg.version(...)`";
    let dir = project();
    assert!(stdout(&asyncmod(&["check", "app"], dir.path())).contains(expected));
    let out = stdout(&asyncmod(&["check", "--exclude", "shell.py", "app"], dir.path()));
    assert!(!out.contains(expected) && out.contains("app/main.py:10:14: blocking-helper"), "{out}");
    fs::write(dir.path().join("app/.gitignore"), "pkg/shell.py\n").unwrap();
    let out = stdout(&asyncmod(&["check", "app"], dir.path()));
    assert!(!out.contains(expected) && out.contains("app/main.py:10:14: blocking-helper"), "{out}");
    fs::remove_file(dir.path().join("app/.gitignore")).unwrap();
    fs::write(dir.path().join("pyproject.toml"), "[tool.asyncmod]\nexclude = [\"app/pkg/shell.py\"]\n")
        .unwrap();
    let out = stdout(&asyncmod(&["check", "app"], dir.path()));
    assert!(!out.contains(expected) && out.contains("app/main.py:10:14: blocking-helper"), "{out}");
    // Named on the command line, a file is part of the run wherever it is.
    fs::remove_file(dir.path().join("pyproject.toml")).unwrap();
    let out = stdout(&asyncmod(
        &["check", "app/main.py", "app/pkg/__init__.py", "app/pkg/config.py", "app/pkg/shell.py"],
        dir.path(),
    ));
    assert!(out.contains(expected), "{out}");
}

#[test]
fn an_imported_coroutine_dropped_in_plain_code_is_found_where_the_file_is_analysed() {
    // main.py holds no `async def`; another transform's triggers (`async` and `get_event_loop`)
    // have it analysed, and then missing-await looks at it too.
    let dir = tree(&[
        ("app/jobs.py", b"async def notify(user):\n    print(user)\n" as &[u8]),
        (
            "app/main.py",
            b"import asyncio\nfrom jobs import notify\n\n\ndef main():\n    loop = asyncio.get_event_loop()\n    notify('ann')\n",
        ),
    ]);
    let out = stdout(&asyncmod(&["check", "app"], dir.path()));
    assert!(out.contains("app/main.py:7:5: missing-await `notify(...)`"), "{out}");
}

#[test]
fn async_def_spelled_with_other_blanks_is_analysed() {
    // Python accepts any blanks between `async` and `def`: the byte prefilter and the project
    // index's line scan must too.
    let dir = tree(&[
        ("app/jobs.py", b"async\tdef notify(user):\n    print(user)\n" as &[u8]),
        ("app/main.py", b"import subprocess\nfrom jobs import notify\n\n\nasync  def main():\n    subprocess.run(['ls'])\n    notify('ann')\n"),
    ]);
    let out = stdout(&asyncmod(&["check", "app"], dir.path()));
    assert!(out.contains("app/main.py:6:5: blocking-call `subprocess.run(...)`"), "{out}");
    assert!(out.contains("app/main.py:7:5: missing-await `notify(...)`"), "{out}");
}
