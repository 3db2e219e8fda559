//! Project configuration: the `[tool.asyncmod]` table of the nearest `pyproject.toml` above each
//! file (like Ruff, the closest file that has the table wins; files are not merged). Command-line
//! options override it.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::Deserialize;

use crate::cache::Bounded;
use crate::config::{self, Settings};

/// The keys of `[tool.asyncmod]`. An unknown key is an error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Options {
    pub select: Option<Vec<String>>,
    pub extend_select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    /// gitignore-style globs, relative to the folder of the `pyproject.toml`.
    pub exclude: Option<Vec<String>>,
    pub unsafe_fixes: Option<bool>,
    pub target_version: Option<String>,
    pub max_concurrency: Option<u32>,
    pub prefer: Option<Vec<String>>,
    pub blocking_callables: Option<Vec<String>>,
    pub gather_same_receiver: Option<bool>,
    /// Glob (relative to the `pyproject.toml`'s folder) → transform ids not run on matching files.
    pub per_file_ignores: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
    project: Option<Project>,
}

#[derive(Deserialize)]
struct Tool {
    asyncmod: Option<toml::Value>,
}

#[derive(Deserialize)]
struct Project {
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
}

/// What the command line said; `None` / empty means "not given".
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub select: Vec<String>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    pub unsafe_fixes: bool,
    pub target_version: Option<String>,
    pub max_concurrency: Option<u32>,
    pub prefer: Vec<String>,
    pub blocking_callables: Vec<String>,
    pub gather_same_receiver: bool,
}

/// One `[tool.asyncmod]` table and what it resolves to.
#[derive(Debug)]
pub struct ProjectConfig {
    /// The `pyproject.toml` it came from; `None` for the defaults.
    pub source: Option<PathBuf>,
    pub settings: Arc<Settings>,
    /// The folder globs are relative to.
    base: PathBuf,
    exclude: Option<Gitignore>,
    per_file: Vec<(Gitignore, Arc<Settings>)>,
}

/// Finds and caches the configuration of each folder.
pub struct Resolver {
    overrides: Overrides,
    by_dir: Bounded<PathBuf, Arc<ProjectConfig>>,
    /// Folders as the walker spells them → their canonical path: one `realpath` per folder, not
    /// per file.
    canonical_dirs: Bounded<PathBuf, PathBuf>,
}

/// The folder caches hold this many recently asked folders (up to twice as many), so that memory
/// stays flat however large the tree: the walk visits a folder's files together, and the folders
/// above them are asked for again with every subfolder, so they stay.
const CACHED_FOLDERS: usize = 256;

/// The settings one file is processed with, or why it is skipped.
pub enum Resolved {
    Settings(Arc<Settings>),
    Excluded,
}

impl Resolver {
    pub fn new(overrides: Overrides) -> Resolver {
        Resolver {
            overrides,
            by_dir: Bounded::new(CACHED_FOLDERS),
            canonical_dirs: Bounded::new(CACHED_FOLDERS),
        }
    }

    /// The settings for the folder of `start`: checks the command line's values and the
    /// configuration there before any file is read.
    pub fn command_line_settings(&mut self, start: &Path) -> anyhow::Result<Arc<Settings>> {
        // The command line's values alone first, so that a bad one is not blamed on a pyproject.
        self.build(None, &Options::default(), None).context("command line")?;
        let dir = folder_of(start);
        Ok(self.project_for_dir(&dir)?.settings.clone())
    }

    pub fn resolve(&mut self, file: &Path) -> anyhow::Result<Resolved> {
        self.resolve_absolute(&folder_of(file), &absolute(file))
    }

    /// [`Resolver::resolve`] for a file found by walking a folder: a regular file, never a
    /// symbolic link, so that its canonical path is its folder's canonical path and its name.
    pub fn resolve_walked(&mut self, file: &Path) -> anyhow::Result<Resolved> {
        let (Some(folder), Some(name)) = (file.parent(), file.file_name()) else {
            return self.resolve(file);
        };
        if folder.as_os_str().is_empty() {
            return self.resolve(file);
        }
        let dir = self.canonical_dir(folder);
        let absolute = dir.join(name);
        self.resolve_absolute(&dir, &absolute)
    }

    /// The canonical path of `folder`: its parent's and its name, unless it is a symbolic link;
    /// else the file system's answer.
    fn canonical_dir(&mut self, folder: &Path) -> PathBuf {
        if let Some(known) = self.canonical_dirs.get(folder) {
            return known;
        }
        let canonical = match (folder.parent(), folder.components().next_back()) {
            (Some(parent), Some(Component::Normal(name)))
                if !parent.as_os_str().is_empty()
                    && std::fs::symlink_metadata(folder).is_ok_and(|m| m.file_type().is_dir()) =>
            {
                self.canonical_dir(parent).join(name)
            }
            _ => absolute(folder),
        };
        self.canonical_dirs.insert(folder.to_path_buf(), canonical.clone());
        canonical
    }

    /// The settings for the file at `absolute` (canonical), in the folder `dir` (canonical).
    fn resolve_absolute(&mut self, dir: &Path, absolute: &Path) -> anyhow::Result<Resolved> {
        let project = self.project_for_dir(dir)?;
        // The matchers assert that paths lie under their folder; a file found from a folder
        // below the pyproject always does, but a path that does not is simply not matched.
        if !absolute.starts_with(&project.base) {
            return Ok(Resolved::Settings(project.settings.clone()));
        }
        if let Some(exclude) = &project.exclude
            && exclude.matched_path_or_any_parents(absolute, false).is_ignore()
        {
            return Ok(Resolved::Excluded);
        }
        for (matcher, settings) in &project.per_file {
            if matcher.matched_path_or_any_parents(absolute, false).is_ignore() {
                return Ok(Resolved::Settings(settings.clone()));
            }
        }
        Ok(Resolved::Settings(project.settings.clone()))
    }

    fn project_for_dir(&mut self, dir: &Path) -> anyhow::Result<Arc<ProjectConfig>> {
        if let Some(found) = self.by_dir.get(dir) {
            return Ok(found);
        }
        // A folder without a pyproject.toml has its parent's configuration (one lookup, and one
        // configuration shared by the folders of a tree).
        if let Some(parent) = dir.parent()
            && !dir.join("pyproject.toml").is_file()
        {
            let project = self.project_for_dir(parent)?;
            self.remember(dir, project.clone());
            return Ok(project);
        }
        // The nearest pyproject.toml with a [tool.asyncmod] table; requires-python from the
        // nearest one that states it.
        let mut table: Option<(PathBuf, toml::Value)> = None;
        let mut requires_python: Option<String> = None;
        let mut current = Some(dir);
        while let Some(folder) = current {
            let candidate = folder.join("pyproject.toml");
            if candidate.is_file() {
                let text = std::fs::read_to_string(&candidate)
                    .with_context(|| format!("reading {}", candidate.display()))?;
                let parsed: Pyproject = toml::from_str(&text)
                    .with_context(|| format!("{}: not valid TOML", candidate.display()))?;
                if requires_python.is_none() {
                    requires_python = parsed.project.and_then(|p| p.requires_python);
                }
                if table.is_none()
                    && let Some(value) = parsed.tool.and_then(|t| t.asyncmod)
                {
                    table = Some((candidate, value));
                }
                if table.is_some() && requires_python.is_some() {
                    break;
                }
            }
            current = folder.parent();
        }
        let target_from_project = requires_python.as_deref().and_then(config::lowest_allowed);
        let project = match table {
            Some((path, value)) => {
                let options = parse_options(value)
                    .map_err(|message| anyhow::anyhow!("{}: [tool.asyncmod]: {message}", path.display()))?;
                Arc::new(
                    self.build(Some(&path), &options, target_from_project)
                        .with_context(|| format!("{}: [tool.asyncmod]", path.display()))?,
                )
            }
            None => Arc::new(self.build(None, &Options::default(), target_from_project)?),
        };
        self.remember(dir, project.clone());
        Ok(project)
    }

    fn remember(&mut self, dir: &Path, project: Arc<ProjectConfig>) {
        self.by_dir.insert(dir.to_path_buf(), project);
    }

    fn build(
        &self,
        path: Option<&Path>,
        options: &Options,
        target_from_project: Option<config::PythonVersion>,
    ) -> anyhow::Result<ProjectConfig> {
        let cli = &self.overrides;
        let base = path.and_then(Path::parent).map(absolute).unwrap_or_default();
        let mut settings = Settings {
            unsafe_fixes: cli.unsafe_fixes || options.unsafe_fixes.unwrap_or(false),
            max_concurrency: cli.max_concurrency.or(options.max_concurrency).map(|n| n as usize),
            gather_same_receiver: cli.gather_same_receiver || options.gather_same_receiver.unwrap_or(false),
            ..Settings::default()
        };
        if settings.max_concurrency == Some(0) {
            bail!("max-concurrency must be at least 1");
        }
        settings.blocking_callables = options.blocking_callables.clone().unwrap_or_default();
        settings.blocking_callables.extend(cli.blocking_callables.iter().cloned());
        settings.target = match (&cli.target_version, &options.target_version) {
            (Some(version), _) => config::parse_target(version)?,
            (None, Some(version)) => config::parse_target(version).context("target-version")?,
            (None, None) => target_from_project.unwrap_or(config::DEFAULT_TARGET),
        };
        let select = if cli.select.is_empty() {
            options.select.clone().unwrap_or_default()
        } else {
            cli.select.clone()
        };
        let mut extend_select = options.extend_select.clone().unwrap_or_default();
        extend_select.extend(cli.extend_select.iter().cloned());
        let mut ignore = options.ignore.clone().unwrap_or_default();
        ignore.extend(cli.ignore.iter().cloned());
        settings.select(&select, &extend_select, &ignore)?;
        let prefer = if cli.prefer.is_empty() {
            options.prefer.clone().unwrap_or_default()
        } else {
            cli.prefer.clone()
        };
        settings.set_prefer(&prefer)?;

        let exclude = match &options.exclude {
            Some(globs) if !globs.is_empty() => Some(matcher(&base, globs).context("exclude")?),
            _ => None,
        };
        let mut per_file = Vec::new();
        for (glob, ids) in options.per_file_ignores.iter().flatten() {
            let mut narrowed = settings.clone();
            let mut ignored = ignore.clone();
            ignored.extend(ids.iter().cloned());
            narrowed
                .select(&select, &extend_select, &ignored)
                .with_context(|| format!("per-file-ignores `{glob}`"))?;
            per_file.push((matcher(&base, std::slice::from_ref(glob))?, Arc::new(narrowed)));
        }
        Ok(ProjectConfig {
            source: path.map(Path::to_path_buf),
            settings: Arc::new(settings),
            base,
            exclude,
            per_file,
        })
    }
}

/// The table's options; an error names the key at fault (serde's type errors do not).
fn parse_options(value: toml::Value) -> Result<Options, String> {
    let Some(table) = value.as_table() else { return Err("must be a table".into()) };
    for (key, item) in table {
        let mut alone = toml::Table::new();
        alone.insert(key.clone(), item.clone());
        if let Err(error) = toml::Value::Table(alone).try_into::<Options>() {
            let message = error.message().to_string();
            return Err(if message.contains(key.as_str()) { message } else { format!("`{key}`: {message}") });
        }
    }
    value.try_into().map_err(|e: toml::de::Error| e.message().to_string())
}

fn matcher(base: &Path, globs: &[String]) -> anyhow::Result<Gitignore> {
    let mut builder = GitignoreBuilder::new(base);
    for glob in globs {
        builder.add_line(None, glob).map_err(|e| anyhow::anyhow!("bad glob `{glob}`: {e}"))?;
    }
    builder.build().map_err(|e| anyhow::anyhow!("{e}"))
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn folder_of(path: &Path) -> PathBuf {
    let absolute = absolute(path);
    if absolute.is_dir() { absolute } else { absolute.parent().map(Path::to_path_buf).unwrap_or(absolute) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// What a resolution says, comparable: excluded, or the enabled transforms and target.
    fn outcome(resolved: anyhow::Result<Resolved>) -> String {
        match resolved {
            Ok(Resolved::Excluded) => "excluded".into(),
            Ok(Resolved::Settings(s)) => format!("{:?} {}", s.enabled, s.target),
            Err(e) => format!("error: {e:#}"),
        }
    }

    #[test]
    fn a_walked_file_resolves_as_its_full_path_does() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        write(
            &root.join("pyproject.toml"),
            "[project]\nrequires-python = \">=3.11\"\n\n[tool.asyncmod]\nexclude = [\"gen/\"]\nignore = [\"time-sleep\"]\n",
        );
        write(&root.join("sub/pyproject.toml"), "[tool.asyncmod]\nselect = [\"event-loop-api\"]\n");
        write(&root.join("sub/deeper/bad/pyproject.toml"), "[tool.asyncmod]\nselekt = 1\n");
        for file in ["a.py", "pkg/b.py", "gen/c.py", "sub/d.py", "sub/deeper/e.py", "sub/deeper/bad/f.py"] {
            write(&root.join(file), "");
        }
        // A folder reached through a symbolic link resolves as its target (as canonicalize does).
        std::os::unix::fs::symlink(root.join("sub"), root.join("pkg/linked")).unwrap();
        std::os::unix::fs::symlink(&root, dir.path().join("alias")).unwrap();
        let files = [
            "repo/a.py",
            "repo/pkg/b.py",
            "repo/gen/c.py",
            "repo/sub/d.py",
            "repo/sub/deeper/e.py",
            "repo/sub/deeper/bad/f.py",
            "repo/pkg/linked/d.py",
            "repo/pkg/linked/deeper/e.py",
            "alias/gen/c.py",
            "alias/sub/./d.py",
        ];
        let mut walked = Resolver::new(Overrides::default());
        let mut expected = Vec::new();
        let mut actual = Vec::new();
        for file in files {
            let path = dir.path().join(file);
            expected.push(outcome(Resolver::new(Overrides::default()).resolve(&path)));
            actual.push(outcome(walked.resolve_walked(&path)));
        }
        assert_eq!(actual, expected);
        assert_eq!(expected[2], "excluded");
        assert_eq!(expected[8], "excluded", "through the alias too");
        assert!(expected[5].contains("selekt"), "{}", expected[5]);
        assert_ne!(expected[0], expected[3]);
        assert_eq!(expected[3], expected[6]);
    }
}
