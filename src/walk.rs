//! Finding the Python files to process: explicit files always, directories walked in parallel
//! with `ignore` (gitignore-aware, hidden files skipped, Ruff's default excludes).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};

use crate::source::{FileError, FileProblem};

/// Folders nobody wants rewritten, as Ruff skips them by default.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
];

#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    pub default_excludes: bool,
    pub exclude: Vec<String>,
    pub threads: usize,
}

/// The Python files under `paths`, sorted, and one error per path that could not be walked.
pub fn python_files(paths: &[PathBuf], options: &WalkOptions) -> (Vec<PathBuf>, Vec<FileError>) {
    let files = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(FileError { path: path.clone(), problem: FileProblem::Read(e) }),
            Ok(meta) if meta.is_file() => files.lock().unwrap_or_else(|p| p.into_inner()).push(path.clone()),
            Ok(_) => walk_directory(path, options, &files, &errors),
        }
    }
    let mut files = files.into_inner().unwrap_or_else(|p| p.into_inner());
    files.sort();
    files.dedup();
    (files, errors.into_inner().unwrap_or_else(|p| p.into_inner()))
}

fn walk_directory(
    root: &Path,
    options: &WalkOptions,
    files: &Mutex<Vec<PathBuf>>,
    errors: &Mutex<Vec<FileError>>,
) {
    let mut builder = WalkBuilder::new(root);
    builder.hidden(true).git_ignore(true).require_git(false).threads(options.threads);
    if !options.exclude.is_empty() {
        let mut overrides = OverrideBuilder::new(root);
        for glob in &options.exclude {
            if let Err(e) = overrides.add(&format!("!{glob}")) {
                errors.lock().unwrap_or_else(|p| p.into_inner()).push(FileError {
                    path: PathBuf::from(glob),
                    problem: FileProblem::Read(std::io::Error::other(format!("bad --exclude glob: {e}"))),
                });
            }
        }
        if let Ok(overrides) = overrides.build() {
            builder.overrides(overrides);
        }
    }
    if options.default_excludes {
        builder.filter_entry(|entry| {
            entry.depth() == 0
                || !entry.file_type().is_some_and(|t| t.is_dir())
                || !DEFAULT_EXCLUDES.iter().any(|name| entry.file_name() == *name)
        });
    }
    builder.build_parallel().run(|| {
        Box::new(|result| {
            match result {
                Ok(entry) => {
                    let is_python = entry.file_type().is_some_and(|t| t.is_file())
                        && entry.path().extension().is_some_and(|ext| ext == "py");
                    if is_python {
                        files.lock().unwrap_or_else(|p| p.into_inner()).push(entry.into_path());
                    }
                }
                Err(error) => {
                    let path = error_path(&error).unwrap_or_else(|| root.to_path_buf());
                    let message = error.to_string();
                    errors.lock().unwrap_or_else(|p| p.into_inner()).push(FileError {
                        path,
                        problem: FileProblem::Read(std::io::Error::other(strip_path(&message))),
                    });
                }
            }
            WalkState::Continue
        })
    });
}

fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

/// `ignore` prefixes some messages with the path, which our error line already starts with.
fn strip_path(message: &str) -> String {
    match message.split_once(": ") {
        Some((head, tail)) if head.contains('/') => tail.to_string(),
        _ => message.to_string(),
    }
}
