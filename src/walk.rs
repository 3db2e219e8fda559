//! Finding the Python files to process: explicit files always, directories walked in parallel
//! with `ignore` (gitignore-aware, hidden files skipped, Ruff's default excludes).

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use ignore::overrides::OverrideBuilder;
use ignore::{IncrementalIgnore, WalkBuilder, WalkState};

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

/// A Python file of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonFile {
    pub path: PathBuf,
    /// Found by walking a folder (a regular file, never a symbolic link) rather than named.
    pub walked: bool,
}

/// A matcher answers this many questions before it is rebuilt, so that the folders it caches do
/// not add up over a large run.
const QUESTIONS_PER_MATCHER: usize = 4096;

/// The paths of a run: walked on demand, and asked whether one file is part of the run without
/// walking (the project index resolves imports that way, so no list of files is ever held).
pub struct Run {
    paths: Vec<PathBuf>,
    options: WalkOptions,
    /// The paths that are files, normalized: those are part of the run as named.
    named: Vec<(PathBuf, PathBuf)>,
    /// The paths that are folders, with their normalized spelling and the ignore rules of a walk
    /// from there, loaded folder by folder as questions come.
    folders: Vec<Folder>,
    /// Whether a file may be found twice (one path lies inside another): then a list of the files
    /// found is needed to report each once.
    overlapping: bool,
}

struct Folder {
    root: PathBuf,
    normalized: PathBuf,
    matcher: Mutex<(IncrementalIgnore, usize)>,
}

impl Run {
    pub fn new(paths: &[PathBuf], options: &WalkOptions) -> Run {
        let mut named = Vec::new();
        let mut folders = Vec::new();
        for path in paths {
            match std::fs::metadata(path) {
                Ok(meta) if meta.is_file() => named.push((path.clone(), normalize(path))),
                Ok(_) => folders.push(Folder {
                    root: path.clone(),
                    normalized: normalize(path),
                    matcher: Mutex::new((matcher(path, options), 0)),
                }),
                Err(_) => {}
            }
        }
        // Paths found from two roots are equal only when one root lies inside the other.
        let overlapping = paths.iter().enumerate().any(|(i, a)| {
            paths.iter().enumerate().any(|(j, b)| i != j && (a.starts_with(b) || b.starts_with(a)))
        });
        Run { paths: paths.to_vec(), options: options.clone(), named, folders, overlapping }
    }

    /// Calls `found` with every Python file of the run, each once (paths in the order given; the
    /// files of a folder in no particular order, from several threads), and `failed` with each
    /// path that could not be walked. `found` returns `false` to stop the walk.
    pub fn walk(&self, found: &(dyn Fn(PythonFile) -> bool + Sync), failed: &(dyn Fn(FileError) + Sync)) {
        let seen = Mutex::new(HashSet::new());
        let first_time = |path: &Path| {
            !self.overlapping || seen.lock().unwrap_or_else(|p| p.into_inner()).insert(path.to_path_buf())
        };
        for path in &self.paths {
            match std::fs::metadata(path) {
                Err(e) => failed(FileError { path: path.clone(), problem: FileProblem::Read(e) }),
                Ok(meta) if meta.is_file() => {
                    if first_time(path) && !found(PythonFile { path: path.clone(), walked: false }) {
                        return;
                    }
                }
                Ok(_) => {
                    let mut stopped = false;
                    walk_directory(
                        path,
                        &self.options,
                        &mut stopped,
                        &|file| !first_time(&file) || found(PythonFile { path: file, walked: true }),
                        failed,
                    );
                    if stopped {
                        return;
                    }
                }
            }
        }
    }

    /// The file of the run at `file` (a normalized path, as [`normalize`] makes it), if the walk
    /// finds it: named on the command line, or under a folder of the run and neither hidden nor
    /// excluded (by a default exclude, `--exclude` or an ignore file), as the walk decides.
    pub fn find(&self, file: &Path) -> Option<PythonFile> {
        if let Some((path, _)) = self.named.iter().find(|(_, normalized)| normalized == file) {
            return Some(PythonFile { path: path.clone(), walked: false });
        }
        if file.extension().is_none_or(|ext| ext != "py") {
            return None;
        }
        self.folders.iter().find_map(|folder| {
            let relative = file.strip_prefix(&folder.normalized).ok()?;
            self.walk_finds(folder, relative)
                .then(|| PythonFile { path: folder.root.join(relative), walked: true })
        })
    }

    /// Whether walking `folder` finds the file at `relative` (to it).
    fn walk_finds(&self, folder: &Folder, relative: &Path) -> bool {
        let names: Vec<&OsStr> = relative
            .components()
            .map_while(|component| match component {
                Component::Normal(name) => Some(name),
                _ => None,
            })
            .collect();
        let Some((_file, parents)) = names.split_last() else { return false };
        if names.len() != relative.components().count() {
            return false;
        }
        // The walk does not follow symbolic links, and skips the default excludes.
        if !std::fs::symlink_metadata(folder.root.join(relative)).is_ok_and(|m| m.file_type().is_file()) {
            return false;
        }
        let mut parent = folder.root.clone();
        for name in parents {
            if self.options.default_excludes && DEFAULT_EXCLUDES.iter().any(|excluded| name == excluded) {
                return false;
            }
            parent.push(name);
            if !std::fs::symlink_metadata(&parent).is_ok_and(|m| m.file_type().is_dir()) {
                return false;
            }
        }
        let mut guard = folder.matcher.lock().unwrap_or_else(|p| p.into_inner());
        let (matcher, questions) = &mut *guard;
        *questions += 1;
        if *questions > QUESTIONS_PER_MATCHER {
            *matcher = self::matcher(&folder.root, &self.options);
            *questions = 1;
        }
        !matcher.matched(relative, false).is_ignore()
    }
}

/// `./pkg/../pkg/util.py` is `pkg/util.py`: paths compared without a file-system lookup.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The walk's settings for `root`: hidden files and ignore files respected, `--exclude` globs.
fn builder(root: &Path, options: &WalkOptions) -> (WalkBuilder, Vec<FileError>) {
    let mut errors = Vec::new();
    let mut builder = WalkBuilder::new(root);
    builder.hidden(true).git_ignore(true).require_git(false).threads(options.threads);
    if !options.exclude.is_empty() {
        let mut overrides = OverrideBuilder::new(root);
        for glob in &options.exclude {
            if let Err(e) = overrides.add(&format!("!{glob}")) {
                errors.push(FileError {
                    path: PathBuf::from(glob),
                    problem: FileProblem::Read(std::io::Error::other(format!("bad --exclude glob: {e}"))),
                });
            }
        }
        if let Ok(overrides) = overrides.build() {
            builder.overrides(overrides);
        }
    }
    (builder, errors)
}

/// The ignore rules of a walk from `root`, for questions about single paths.
fn matcher(root: &Path, options: &WalkOptions) -> IncrementalIgnore {
    let (builder, _) = builder(root, options);
    builder.build_matchers().pop().expect("`build_matchers` returns one matcher per root")
}

fn walk_directory(
    root: &Path,
    options: &WalkOptions,
    stopped: &mut bool,
    found: &(dyn Fn(PathBuf) -> bool + Sync),
    failed: &(dyn Fn(FileError) + Sync),
) {
    let (mut builder, errors) = builder(root, options);
    for error in errors {
        failed(error);
    }
    if options.default_excludes {
        builder.filter_entry(|entry| {
            entry.depth() == 0
                || !entry.file_type().is_some_and(|t| t.is_dir())
                || !DEFAULT_EXCLUDES.iter().any(|name| entry.file_name() == *name)
        });
    }
    let quit = AtomicBool::new(false);
    builder.build_parallel().run(|| {
        Box::new(|result| {
            match result {
                Ok(entry) => {
                    let is_python = entry.file_type().is_some_and(|t| t.is_file())
                        && entry.path().extension().is_some_and(|ext| ext == "py");
                    if is_python && !found(entry.into_path()) {
                        quit.store(true, Ordering::Relaxed);
                        return WalkState::Quit;
                    }
                }
                Err(error) => {
                    let path = error_path(&error).unwrap_or_else(|| root.to_path_buf());
                    let message = error.to_string();
                    failed(FileError {
                        path,
                        problem: FileProblem::Read(std::io::Error::other(strip_path(&message))),
                    });
                }
            }
            WalkState::Continue
        })
    });
    *stopped = quit.into_inner();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "x = 1\n").unwrap();
        }
        dir
    }

    fn walked(run: &Run) -> Vec<PathBuf> {
        let found = Mutex::new(Vec::new());
        run.walk(
            &|file| {
                found.lock().unwrap().push(file.path);
                true
            },
            &|error| panic!("{error}"),
        );
        let mut found = found.into_inner().unwrap();
        found.sort();
        found
    }

    /// Every `.py` path under `root` (walked without any rule), normalized.
    fn every_python_path(root: &Path) -> Vec<PathBuf> {
        let mut all = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "py") {
                    all.push(normalize(&path));
                }
            }
        }
        all.sort();
        all
    }

    #[test]
    fn a_file_is_found_exactly_when_the_walk_yields_it() {
        let dir = tree(&[
            "app/main.py",
            "app/pkg/__init__.py",
            "app/pkg/util.py",
            "app/pkg/notes.txt",
            "app/.hidden/mod.py",
            "app/.secret.py",
            "app/build/gen.py",
            "app/venv/lib.py",
            "app/ignored/mod.py",
            "app/pkg/skipped.py",
            "app/pkg/kept_again.py",
            "app/generated/out.py",
            "app/deep/er/still.py",
            "app/deeper/kept.py",
        ]);
        // An ignore file above the walked folder applies too.
        std::fs::write(dir.path().join(".gitignore"), "deep/\n").unwrap();
        std::fs::write(dir.path().join("app/.gitignore"), "ignored/\n*_again.py\n!kept_again.py\n").unwrap();
        std::fs::write(dir.path().join("app/pkg/.gitignore"), "skipped.py\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("app/pkg"), dir.path().join("app/linked")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("app/main.py"), dir.path().join("app/alias.py")).unwrap();
        let root = dir.path().join("app");
        for (default_excludes, exclude) in [(true, vec![]), (false, vec!["generated".to_string()])] {
            let options = WalkOptions { default_excludes, exclude, threads: 2 };
            let run = Run::new(std::slice::from_ref(&root), &options);
            let walked: Vec<PathBuf> = walked(&run).iter().map(|p| normalize(p)).collect();
            let found: Vec<PathBuf> = every_python_path(&root)
                .into_iter()
                .chain([normalize(&root.join("linked/util.py")), normalize(&root.join("alias.py"))])
                .filter(|path| run.find(path).is_some())
                .collect();
            assert_eq!(found, walked, "default excludes: {default_excludes}");
            let expected_always =
                ["main.py", "pkg/__init__.py", "pkg/util.py", "pkg/kept_again.py", "deeper/kept.py"];
            for kept in expected_always {
                assert!(walked.contains(&normalize(&root.join(kept))), "{kept}");
            }
            for skipped in
                [".hidden/mod.py", ".secret.py", "ignored/mod.py", "pkg/skipped.py", "deep/er/still.py"]
            {
                assert!(!walked.contains(&normalize(&root.join(skipped))), "{skipped}");
            }
            assert_eq!(walked.contains(&normalize(&root.join("build/gen.py"))), !default_excludes);
            assert_eq!(walked.contains(&normalize(&root.join("venv/lib.py"))), !default_excludes);
            assert_eq!(walked.contains(&normalize(&root.join("generated/out.py"))), default_excludes);
        }
    }

    #[test]
    fn named_files_are_found_as_named_and_overlapping_paths_are_walked_once() {
        let dir = tree(&["app/main.py", "app/pkg/util.py", "tool.txt"]);
        let paths = [dir.path().join("app"), dir.path().join("app/pkg"), dir.path().join("tool.txt")];
        let run = Run::new(&paths, &WalkOptions::default());
        let walked = walked(&run);
        assert_eq!(
            walked,
            [dir.path().join("app/main.py"), dir.path().join("app/pkg/util.py"), paths[2].clone()]
        );
        let named = run.find(&normalize(&paths[2])).unwrap();
        assert!(!named.walked, "a named file is part of the run whatever its extension");
        assert!(run.find(&normalize(&dir.path().join("app/pkg/util.py"))).unwrap().walked);
        assert!(run.find(&normalize(&dir.path().join("elsewhere.py"))).is_none());
        assert!(run.find(&normalize(&dir.path().join("app/missing.py"))).is_none());
    }
}
