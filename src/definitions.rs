//! The transform definitions in `transforms/*.toml`, embedded in the binary: documentation,
//! safety, severity, minimum Python version and examples. `list`, `explain` and the test suite read
//! them, so the docs cannot drift from behaviour.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::config::PythonVersion;
use crate::finding::{Safety, Severity};

/// The embedded definition files, in the order `list` prints them.
const SOURCES: &[(&str, &str)] = &[
    ("time-sleep", include_str!("../transforms/time-sleep.toml")),
    ("dangling-task", include_str!("../transforms/dangling-task.toml")),
    ("executor-to-thread", include_str!("../transforms/executor-to-thread.toml")),
    ("event-loop-api", include_str!("../transforms/event-loop-api.toml")),
    ("missing-await", include_str!("../transforms/missing-await.toml")),
    ("requests-to-aiohttp", include_str!("../transforms/requests-to-aiohttp.toml")),
    ("httpx-to-async", include_str!("../transforms/httpx-to-async.toml")),
    ("sequential-awaits", include_str!("../transforms/sequential-awaits.toml")),
    ("loop-awaits", include_str!("../transforms/loop-awaits.toml")),
    ("gather-to-taskgroup", include_str!("../transforms/gather-to-taskgroup.toml")),
    ("gather-exceptions", include_str!("../transforms/gather-exceptions.toml")),
    ("blocking-call", include_str!("../transforms/blocking-call.toml")),
    ("blocking-helper", include_str!("../transforms/blocking-helper.toml")),
    ("cpu-bound", include_str!("../transforms/cpu-bound.toml")),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub id: String,
    /// The tip of the article it enforces (1-7), or 0 for "When async isn't the answer".
    pub tip: u8,
    pub summary: String,
    pub severity: Severity,
    /// `None` for a report-only transform.
    pub safety: Option<Safety>,
    pub safety_reason: String,
    pub min_python: String,
    /// Whether the transform runs without `--select`/`--extend-select`.
    pub default: bool,
    /// Equivalent Ruff rule codes: a `# noqa: CODE` naming one silences this transform too.
    #[serde(default)]
    pub ruff: Vec<String>,
    pub what: String,
    pub why: String,
    pub fix: String,
    #[serde(default)]
    pub examples: Vec<Example>,
    #[serde(default)]
    pub leave_alone: Vec<LeaveAlone>,
    /// Callables the transform knows, by qualified name, with what to do about a call in a
    /// coroutine (`blocking-call`, `cpu-bound`). Data, so the catalogue grows without code.
    #[serde(default)]
    pub blocking: BTreeMap<String, CallKind>,
}

/// What a known blocking or CPU-heavy callable needs when a coroutine calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallKind {
    /// Blocks while it runs, and its result is plain data: run the call in a thread.
    Thread,
    /// Starts a process whose handle blocks when used: use asyncio's subprocess API instead.
    Subprocess,
    /// Returns an object (a response, a socket, a lazy iterator) whose later use blocks too:
    /// the whole use must move to a thread.
    BlockingResult,
    /// Blocking, but another transform rewrites it in coroutines (`time.sleep`, `requests.get`);
    /// it still makes a sync helper that calls it blocking.
    Elsewhere,
    /// CPU-heavy C code that releases the GIL: a thread runs it in parallel.
    CpuReleasesGil,
    /// CPU-heavy code that holds the GIL: only a process runs it in parallel.
    CpuHoldsGil,
    /// Listed by Ruff's ASYNC2xx rules but asks the system for little or nothing (the current
    /// folder, a path computed from a string): reported as a hint, not moved to a thread, which
    /// would cost more than the call.
    Light,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub name: String,
    pub before: String,
    pub after: String,
    /// Extra command-line flags the example needs (`--unsafe-fixes`, `--prefer taskgroup`).
    #[serde(default)]
    pub args: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveAlone {
    pub name: String,
    pub code: String,
    /// Whether the code is still reported (without a fix) rather than not reported at all.
    #[serde(default)]
    pub reported: bool,
    /// Command-line flags the case is checked with (`--target-version py311` for an opt-in).
    #[serde(default)]
    pub args: Vec<String>,
}

impl CallKind {
    /// What `explain` says about the callables of this kind.
    fn describe(self) -> &'static str {
        match self {
            CallKind::Thread => "run in a thread",
            CallKind::Subprocess => "reported: a process handle that blocks when used",
            CallKind::BlockingResult => "reported: what they return blocks when used",
            CallKind::Elsewhere => "rewritten by another transform; they make a sync helper blocking",
            CallKind::CpuReleasesGil => "C code that releases the GIL: a thread runs it in parallel",
            CallKind::CpuHoldsGil => "pure-Python work that holds the GIL: a process runs it in parallel",
            CallKind::Light => "reported as a hint: they ask the system for little, a thread would cost more",
        }
    }
}

impl Definition {
    pub fn min_python(&self) -> PythonVersion {
        self.min_python.parse().unwrap_or(PythonVersion { minor: 8 })
    }
}

pub fn all() -> &'static [Definition] {
    static DEFINITIONS: OnceLock<Vec<Definition>> = OnceLock::new();
    DEFINITIONS.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(id, source)| {
                let definition: Definition =
                    toml::from_str(source).unwrap_or_else(|e| panic!("transforms/{id}.toml is invalid: {e}"));
                assert_eq!(definition.id, *id, "transforms/{id}.toml names another id");
                definition
            })
            .collect()
    })
}

pub fn get(id: &str) -> Option<&'static Definition> {
    all().iter().find(|d| d.id == id)
}

/// The definitions named by a transform id or by an equivalent Ruff rule code (`ASYNC251`).
pub fn find(id_or_code: &str) -> Vec<&'static Definition> {
    match get(id_or_code) {
        Some(definition) => vec![definition],
        None => {
            all().iter().filter(|d| d.ruff.iter().any(|code| code.eq_ignore_ascii_case(id_or_code))).collect()
        }
    }
}

/// "unknown transform `x` (known: ...)", for every place that takes an id.
pub fn unknown(id: &str) -> String {
    let known: Vec<&str> = all().iter().map(|d| d.id.as_str()).collect();
    format!("unknown transform `{id}` (known: {}; Ruff codes of these work too)", known.join(", "))
}

/// Renders `explain ID`.
pub fn explain(definition: &Definition) -> String {
    let mut out = String::new();
    let safety = match definition.safety {
        Some(safety) => safety.to_string(),
        None => "report only".to_string(),
    };
    out.push_str(&format!("# {}\n\n{}\n\n", definition.id, definition.summary));
    let tip = match definition.tip {
        0 => "\"When async isn't the answer\"".to_string(),
        n => format!("tip {n}"),
    };
    out.push_str(&format!(
        "Severity: {}. Fix: {safety}. Enforces {tip} of \"Seven Tips for Performant Async Python\". Python {}+.",
        definition.severity, definition.min_python
    ));
    if !definition.ruff.is_empty() {
        out.push_str(&format!(" Ruff: {}.", definition.ruff.join(", ")));
    }
    out.push_str(&format!(
        "{}\n\n## What it does\n{}\n\n## Why is this bad?\n{}\n\n## Fix\n{}\n\nSafety: {}\n",
        if definition.default { "" } else { " Off by default (--extend-select)." },
        definition.what.trim(),
        definition.why.trim(),
        definition.fix.trim(),
        definition.safety_reason.trim()
    ));
    for example in &definition.examples {
        out.push_str(&format!(
            "\n## Example: {}\n\nBefore:\n{}\nAfter:\n{}",
            example.name,
            indent(&example.before),
            indent(&example.after)
        ));
    }
    if !definition.blocking.is_empty() {
        out.push_str("\n## Known callables\n");
        for kind in [
            CallKind::Thread,
            CallKind::Subprocess,
            CallKind::BlockingResult,
            CallKind::Elsewhere,
            CallKind::CpuReleasesGil,
            CallKind::CpuHoldsGil,
            CallKind::Light,
        ] {
            let names: Vec<&str> = definition
                .blocking
                .iter()
                .filter(|(_, k)| **k == kind)
                .map(|(name, _)| name.as_str())
                .collect();
            if !names.is_empty() {
                out.push_str(&format!("\n{}:\n{}", kind.describe(), indent(&wrap(&names, 92))));
            }
        }
    }
    if !definition.leave_alone.is_empty() {
        out.push_str("\n## Left alone\n");
        for case in &definition.leave_alone {
            out.push_str(&format!("\n{}:\n{}", case.name, indent(&case.code)));
        }
    }
    out
}

/// `names` joined with ", " into lines of at most `width` characters.
fn wrap(names: &[&str], width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    for name in names {
        match lines.last_mut() {
            Some(line) if line.len() + name.len() + 2 <= width => {
                line.push_str(", ");
                line.push_str(name);
            }
            Some(line) => {
                line.push(',');
                lines.push((*name).to_string());
            }
            None => lines.push((*name).to_string()),
        }
    }
    lines.join("\n")
}

fn indent(code: &str) -> String {
    code.lines().map(|l| if l.is_empty() { "\n".to_string() } else { format!("    {l}\n") }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_lists_the_catalogue_by_kind() {
        let text = explain(get("blocking-call").expect("blocking-call is defined"));
        let (_, catalogue) = text.split_once("## Known callables").expect("the catalogue section");
        let catalogue = catalogue.split("## Left alone").next().unwrap_or(catalogue);
        let processes = catalogue.find("reported: a process handle").expect("the subprocess heading");
        let popen = catalogue.find("subprocess.Popen").expect("Popen is listed");
        let run = catalogue.find("subprocess.run").expect("run is listed");
        assert!(run < processes && processes < popen, "{catalogue}");
        assert!(catalogue.lines().all(|line| line.len() <= 100), "{catalogue}");
    }
}
