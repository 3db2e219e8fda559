//! Settings for one run: which transforms, which fixes, which Python version, which style choices.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context as _, bail};

use crate::definitions;
use crate::finding::Safety;

/// A Python 3 minor version (`py311` is `PythonVersion { minor: 11 }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PythonVersion {
    pub minor: u8,
}

pub const OLDEST: PythonVersion = PythonVersion { minor: 8 };
pub const NEWEST: PythonVersion = PythonVersion { minor: 14 };
pub const DEFAULT_TARGET: PythonVersion = PythonVersion { minor: 9 };
/// `asyncio.TaskGroup` is new in Python 3.11.
pub const TASKGROUP_MIN: PythonVersion = PythonVersion { minor: 11 };

impl FromStr for PythonVersion {
    type Err = String;

    /// Accepts `py311`, `3.11` and `311`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.trim().trim_start_matches("py").replace('.', "");
        let minor = digits
            .strip_prefix('3')
            .and_then(|m| m.parse::<u8>().ok())
            .ok_or_else(|| format!("`{s}` is not a Python version (supported: py38 to py314)"))?;
        Ok(PythonVersion { minor })
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "3.{}", self.minor)
    }
}

/// Parses the lowest version a `requires-python` specifier allows (`>=3.10,<4` is 3.10).
pub fn lowest_allowed(requires_python: &str) -> Option<PythonVersion> {
    requires_python
        .split(',')
        .filter_map(|clause| {
            let clause = clause.trim();
            let version = clause
                .strip_prefix(">=")
                .or_else(|| clause.strip_prefix("~="))
                .or_else(|| clause.strip_prefix("=="))
                .or_else(|| clause.strip_prefix('>'))?;
            let mut parts = version.trim().split('.');
            let major = parts.next()?.trim();
            let minor: u8 = parts.next()?.trim().trim_end_matches('*').parse().ok()?;
            let minor = if clause.starts_with('>') && !clause.starts_with(">=") {
                minor.saturating_add(1)
            } else {
                minor
            };
            (major == "3").then_some(PythonVersion { minor })
        })
        .max()
        .map(|v| v.clamp(OLDEST, NEWEST))
}

/// The `requires-python` of the nearest `pyproject.toml` at or above `start`.
pub fn target_from_pyproject(start: &Path) -> Option<PythonVersion> {
    let start = std::fs::canonicalize(start).ok()?;
    let mut dir = if start.is_dir() { Some(start.as_path()) } else { start.parent() };
    while let Some(current) = dir {
        let candidate = current.join("pyproject.toml");
        // A pyproject without `requires-python` (a tool-only file, say) does not decide: go on up.
        let requires = std::fs::read_to_string(&candidate).ok().and_then(|text| {
            let table: toml::Table = text.parse().ok()?;
            lowest_allowed(table.get("project")?.get("requires-python")?.as_str()?)
        });
        if requires.is_some() {
            return requires;
        }
        dir = current.parent();
    }
    None
}

/// Style choices a user can express with `--prefer`.
pub const PREFERENCES: &[(&str, &str)] = &[
    ("taskgroup", "use asyncio.TaskGroup instead of asyncio.gather (Python 3.11+)"),
    ("aiofiles", "use aiofiles for file I/O instead of asyncio.to_thread"),
    ("to-thread", "move blocking calls to asyncio.to_thread rather than report them"),
];

#[derive(Debug, Clone)]
pub struct Settings {
    /// Transform ids that run, in definition order.
    pub enabled: Vec<&'static str>,
    pub unsafe_fixes: bool,
    pub prefer: BTreeSet<String>,
    pub target: PythonVersion,
    /// Bound on calls a rewrite runs at once (`asyncio.Semaphore(N)`); `None` leaves them unbounded.
    pub max_concurrency: Option<usize>,
    /// Gather awaits on the same receiver (`self.db.fetch` twice), which may share one connection.
    pub gather_same_receiver: bool,
    /// Extra blocking callables, by qualified name (`boto3.client`, `mydriver.Connection.execute`).
    pub blocking_callables: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: definitions::all().iter().filter(|d| d.default).map(|d| d.id.as_str()).collect(),
            unsafe_fixes: false,
            prefer: BTreeSet::new(),
            target: DEFAULT_TARGET,
            max_concurrency: None,
            gather_same_receiver: false,
            blocking_callables: Vec::new(),
        }
    }
}

impl Settings {
    /// Builds the enabled set from `--select`, `--extend-select` and `--ignore` (each a list of ids,
    /// or `ALL`), checking every id.
    pub fn select(
        &mut self,
        select: &[String],
        extend_select: &[String],
        ignore: &[String],
    ) -> anyhow::Result<()> {
        let expand = |ids: &[String]| -> anyhow::Result<BTreeSet<&'static str>> {
            let mut out = BTreeSet::new();
            for id in ids {
                if id.eq_ignore_ascii_case("ALL") {
                    out.extend(definitions::all().iter().map(|d| d.id.as_str()));
                } else {
                    let found = definitions::find(id);
                    if found.is_empty() {
                        bail!(definitions::unknown(id));
                    }
                    out.extend(found.iter().map(|d| d.id.as_str()));
                }
            }
            Ok(out)
        };
        let mut chosen: BTreeSet<&'static str> =
            if select.is_empty() { self.enabled.iter().copied().collect() } else { expand(select)? };
        chosen.extend(expand(extend_select)?);
        for id in expand(ignore)? {
            chosen.remove(id);
        }
        self.enabled = definitions::all()
            .iter()
            .map(|d| d.id.as_str())
            .filter(|id| chosen.contains(id))
            .filter(|id| definitions::get(id).is_some_and(|d| d.min_python() <= self.target))
            .collect();
        Ok(())
    }

    pub fn set_prefer(&mut self, choices: &[String]) -> anyhow::Result<()> {
        for choice in choices {
            if !PREFERENCES.iter().any(|(name, _)| name == choice) {
                let known: Vec<&str> = PREFERENCES.iter().map(|(n, _)| *n).collect();
                bail!("unknown --prefer choice `{choice}` (known: {})", known.join(", "));
            }
            self.prefer.insert(choice.clone());
        }
        Ok(())
    }

    pub fn is_enabled(&self, id: &str) -> bool {
        self.enabled.contains(&id)
    }

    /// Whether a fix of this safety is applied in this run.
    pub fn applies(&self, safety: Safety) -> bool {
        safety == Safety::Safe || self.unsafe_fixes
    }
}

pub fn parse_target(value: &str) -> anyhow::Result<PythonVersion> {
    let version: PythonVersion = value.parse().map_err(anyhow::Error::msg).context("--target-version")?;
    if !(OLDEST..=NEWEST).contains(&version) {
        bail!("--target-version {value}: supported versions are py38 to py314");
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requires_python_lower_bound() {
        assert_eq!(lowest_allowed(">=3.10"), Some(PythonVersion { minor: 10 }));
        assert_eq!(lowest_allowed(">=3.8, <4"), Some(PythonVersion { minor: 8 }));
        assert_eq!(lowest_allowed("~=3.11.2"), Some(PythonVersion { minor: 11 }));
        assert_eq!(lowest_allowed(">3.9"), Some(PythonVersion { minor: 10 }));
        assert_eq!(lowest_allowed(">=3.6"), Some(OLDEST));
        assert_eq!(lowest_allowed("<4"), None);
    }

    #[test]
    fn target_versions_parse() {
        assert_eq!(parse_target("py311").unwrap(), PythonVersion { minor: 11 });
        assert_eq!(parse_target("3.9").unwrap(), PythonVersion { minor: 9 });
        assert!(parse_target("py27").is_err());
        assert!(parse_target("py315").is_err());
    }

    #[test]
    fn selection_validates_ids() {
        let mut settings = Settings::default();
        assert!(settings.select(&["nope".into()], &[], &[]).is_err());
        settings.select(&["ALL".into()], &[], &["time-sleep".into()]).unwrap();
        assert!(!settings.is_enabled("time-sleep"));
        assert!(settings.is_enabled("dangling-task"));
        settings.select(&["async251".into()], &[], &[]).unwrap();
        assert_eq!(settings.enabled, ["time-sleep"]);
    }
}
