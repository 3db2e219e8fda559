//! Integration tests of the concurrency options (`--max-concurrency`, `--gather-same-receiver`,
//! `--prefer taskgroup` with `--target-version`, selecting `gather-to-taskgroup`) on the built
//! binary.

mod common;
use common::{asyncmod, stderr, stdout, tree};

use std::fs;

const SEQUENTIAL: &str = "\
import asyncio


async def main():
    a = await fetch(\"a\")
    b = await fetch(\"b\")
    return a, b
";

const LOOP: &str = "\
import asyncio


async def main(urls):
    pages = []
    for url in urls:
        pages.append(await fetch(url))
    return pages
";

const SAME_RECEIVER: &str = "\
async def load(self):
    users = await self.db.fetch(\"users\")
    teams = await self.db.fetch(\"teams\")
    return users, teams
";

#[test]
fn sequential_awaits_are_reported_and_fixed_only_with_unsafe_fixes() {
    let dir = tree(&[("app.py", SEQUENTIAL.as_bytes())]);
    let check = asyncmod(&["check", "app.py"], dir.path());
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert_eq!(
        stdout(&check),
        "app.py:5:5: sequential-awaits 2 independent awaits run one after another (`a`, `b`): run them \
         concurrently [fix: unsafe, apply with --unsafe-fixes]\n"
    );
    let safe_only = asyncmod(&["fix", "app.py"], dir.path());
    assert_eq!(safe_only.status.code(), Some(0), "{}", stderr(&safe_only));
    assert!(stderr(&safe_only).contains("1 finding left"), "{}", stderr(&safe_only));
    assert_eq!(fs::read_to_string(dir.path().join("app.py")).unwrap(), SEQUENTIAL);

    let fix = asyncmod(&["fix", "--unsafe-fixes", "app.py"], dir.path());
    assert_eq!(fix.status.code(), Some(0), "{}", stderr(&fix));
    let fixed = fs::read_to_string(dir.path().join("app.py")).unwrap();
    assert!(fixed.contains("    a, b = await asyncio.gather(fetch(\"a\"), fetch(\"b\"))\n"), "{fixed}");
    let again = asyncmod(&["fix", "--unsafe-fixes", "app.py"], dir.path());
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(fs::read_to_string(dir.path().join("app.py")).unwrap(), fixed);
}

#[test]
fn max_concurrency_bounds_a_loop_and_without_it_the_loop_is_a_hint() {
    let dir = tree(&[("app.py", LOOP.as_bytes())]);
    let unbounded = asyncmod(&["fix", "--unsafe-fixes", "app.py"], dir.path());
    assert_eq!(unbounded.status.code(), Some(0), "{}", stderr(&unbounded));
    assert!(stdout(&unbounded).contains("pass --max-concurrency N"), "{}", stdout(&unbounded));
    assert_eq!(fs::read_to_string(dir.path().join("app.py")).unwrap(), LOOP);
    // A hint does not fail `check --fail-on warning`.
    let lenient = asyncmod(&["check", "--fail-on", "warning", "app.py"], dir.path());
    assert_eq!(lenient.status.code(), Some(0), "{}", stdout(&lenient));

    let bounded = asyncmod(&["fix", "--unsafe-fixes", "--max-concurrency", "7", "app.py"], dir.path());
    assert_eq!(bounded.status.code(), Some(0), "{}", stderr(&bounded));
    let fixed = fs::read_to_string(dir.path().join("app.py")).unwrap();
    assert!(fixed.contains("    semaphore = asyncio.Semaphore(limit)\n"), "{fixed}");
    assert!(
        fixed.contains("    pages.extend(await _gather_limited(7, *(fetch(url) for url in urls)))\n"),
        "{fixed}"
    );
    assert_eq!(fixed.matches("async def _gather_limited(").count(), 1, "{fixed}");
}

#[test]
fn max_concurrency_must_be_positive() {
    let dir = tree(&[("app.py", LOOP.as_bytes())]);
    let zero = asyncmod(&["check", "--max-concurrency", "0", "app.py"], dir.path());
    assert_eq!(zero.status.code(), Some(2), "{}", stderr(&zero));
}

#[test]
fn same_receiver_is_a_hint_unless_gather_same_receiver() {
    let dir = tree(&[("repo.py", SAME_RECEIVER.as_bytes())]);
    let check = asyncmod(&["check", "repo.py"], dir.path());
    let out = stdout(&check);
    assert!(out.contains("same object `self.db`"), "{out}");
    assert!(out.contains("pass --gather-same-receiver"), "{out}");
    let fix = asyncmod(&["fix", "--unsafe-fixes", "repo.py"], dir.path());
    assert!(stderr(&fix).contains("Fixed 0 findings"), "{}", stderr(&fix));
    assert_eq!(fs::read_to_string(dir.path().join("repo.py")).unwrap(), SAME_RECEIVER);

    let opted_in = asyncmod(&["fix", "--unsafe-fixes", "--gather-same-receiver", "repo.py"], dir.path());
    assert_eq!(opted_in.status.code(), Some(0), "{}", stderr(&opted_in));
    let fixed = fs::read_to_string(dir.path().join("repo.py")).unwrap();
    assert!(fixed.starts_with("import asyncio\n"), "{fixed}");
    assert!(
        fixed.contains(
            "users, teams = await asyncio.gather(self.db.fetch(\"users\"), self.db.fetch(\"teams\"))\n"
        ),
        "{fixed}"
    );
}

#[test]
fn prefer_taskgroup_needs_python_3_11() {
    let dir = tree(&[("app.py", SEQUENTIAL.as_bytes())]);
    let old = asyncmod(
        &["diff", "--unsafe-fixes", "--prefer", "taskgroup", "--target-version", "py310", "app.py"],
        dir.path(),
    );
    assert!(stdout(&old).contains("+    a, b = await asyncio.gather("), "{}", stdout(&old));
    let new = asyncmod(
        &["diff", "--unsafe-fixes", "--prefer", "taskgroup", "--target-version", "py311", "app.py"],
        dir.path(),
    );
    let out = stdout(&new);
    assert!(out.contains("+    async with asyncio.TaskGroup() as tg:\n"), "{out}");
    assert!(out.contains("+        a_task = tg.create_task(fetch(\"a\"))\n"), "{out}");
    assert!(out.contains("+    a = a_task.result()\n"), "{out}");
    // The target version can come from pyproject.toml.
    fs::write(dir.path().join("pyproject.toml"), "[project]\nrequires-python = \">=3.12\"\n").unwrap();
    let from_pyproject = asyncmod(&["diff", "--unsafe-fixes", "--prefer", "taskgroup", "app.py"], dir.path());
    assert!(stdout(&from_pyproject).contains("TaskGroup()"), "{}", stdout(&from_pyproject));
}

#[test]
fn gather_to_taskgroup_runs_only_when_selected_on_3_11() {
    let source = "import asyncio\n\n\nasync def main():\n    await asyncio.gather(a(), b())\n";
    let dir = tree(&[("app.py", source.as_bytes())]);
    let default = asyncmod(&["check", "--target-version", "py311", "app.py"], dir.path());
    assert_eq!(default.status.code(), Some(0), "{}", stdout(&default));
    let selected = asyncmod(
        &[
            "fix",
            "--unsafe-fixes",
            "--extend-select",
            "gather-to-taskgroup",
            "--target-version",
            "py311",
            "app.py",
        ],
        dir.path(),
    );
    assert_eq!(selected.status.code(), Some(0), "{}", stderr(&selected));
    assert_eq!(
        fs::read_to_string(dir.path().join("app.py")).unwrap(),
        "import asyncio\n\n\nasync def main():\n    async with asyncio.TaskGroup() as tg:\n        \
         tg.create_task(a())\n        tg.create_task(b())\n"
    );
    let list = asyncmod(&["list"], dir.path());
    assert!(stdout(&list).contains("gather-to-taskgroup"), "{}", stdout(&list));
    assert!(
        stdout(&list).lines().any(|l| l.starts_with("gather-to-taskgroup") && l.contains("(off by default)"))
    );
}

#[test]
fn gather_exceptions_is_reported_without_a_fix() {
    let source = "import asyncio\n\n\nasync def main(urls):\n    pages = await asyncio.gather(*(fetch(u) for u in urls), return_exceptions=True)\n    return [len(p) for p in pages]\n";
    let dir = tree(&[("app.py", source.as_bytes())]);
    let fix = asyncmod(&["fix", "--unsafe-fixes", "app.py"], dir.path());
    assert!(stderr(&fix).contains("Fixed 0 findings"), "{}", stderr(&fix));
    assert!(stdout(&fix).contains("gather-exceptions"), "{}", stdout(&fix));
    assert!(stdout(&fix).contains("isinstance(result, BaseException)"), "{}", stdout(&fix));
    assert_eq!(fs::read_to_string(dir.path().join("app.py")).unwrap(), source);
}
