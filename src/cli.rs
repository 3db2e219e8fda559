//! The command line: `check`, `diff`, `fix`, `list`, `explain`. Thin: it turns arguments into
//! [`Settings`], feeds files to workers and prints what they return, in path order.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::config::{self, Settings};
use crate::definitions;
use crate::engine::{self, FixStatus, Reported};
use crate::finding::{Safety, Severity};
use crate::gitdiff::{self, FileDiff, RepoDiff};
use crate::prefilter;
use crate::print;
use crate::project::Project;
use crate::pyproject;
use crate::source::{FileError, FileProblem, SourceFile};
use crate::transforms::{self, Transform};
use crate::verify;
use crate::walk::{self, WalkOptions};
use crate::write;

#[derive(Parser)]
#[command(
    name = "asyncmod",
    version,
    about = "Find async-Python anti-patterns and rewrite them into correct, concurrent code.",
    after_help = "Exit codes: check: 1 when a finding at or above --fail-on remains; diff: 1 when there is a diff; \
                  any command: 2 on an error (a file that could not be read, parsed or written)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Report every finding as `path:line:col: <id> <message> [fix status]`.
    Check {
        #[command(flatten)]
        run: RunArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Exit 1 when a finding of at least this severity remains.
        #[arg(long, value_enum, default_value_t = FailOn::Warning)]
        fail_on: FailOn,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Print the unified diff of every fix that `fix` would write; change nothing.
    Diff {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Apply the fixes in place.
    Fix {
        #[command(flatten)]
        run: RunArgs,
    },
    /// List the transforms.
    List,
    /// Print one transform's documentation.
    Explain {
        /// Transform id, as `asyncmod list` prints it.
        id: String,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Files or directories (default: the current directory).
    paths: Vec<PathBuf>,
    /// Run only these transforms (comma-separated ids, or ALL).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    select: Vec<String>,
    /// Also run these transforms (for those off by default).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    extend_select: Vec<String>,
    /// Do not run these transforms.
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    ignore: Vec<String>,
    /// Also apply fixes marked unsafe (they may change ordering, exception types, threads).
    #[arg(long)]
    unsafe_fixes: bool,
    /// Style choices: taskgroup, aiofiles, to-thread.
    #[arg(long, value_delimiter = ',', value_name = "CHOICE,...")]
    prefer: Vec<String>,
    /// Run at most N of the calls a rewrite makes concurrent at once (asyncio.Semaphore).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_concurrency: Option<u32>,
    /// Also gather awaits on the same receiver (they may share one connection) or list.
    #[arg(long)]
    gather_same_receiver: bool,
    /// Treat this callable as blocking, by qualified name such as boto3.client (repeatable).
    #[arg(long, value_name = "NAME")]
    blocking_callable: Vec<String>,
    /// Also process folders skipped by default (.venv, venv, site-packages, build, dist, ...).
    #[arg(long)]
    no_default_excludes: bool,
    /// Skip paths matching this glob while walking directories (repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Oldest Python the code must run on (py38..py314). Default: requires-python of the
    /// nearest pyproject.toml, else py39.
    #[arg(long, value_name = "VERSION")]
    target_version: Option<String>,
    /// No progress bar or summary; findings are still printed.
    #[arg(long, short)]
    quiet: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short, value_name = "N")]
    jobs: Option<usize>,
}

/// `check` options for CI: what to report on, and where else to write.
#[derive(Args, Default)]
struct ReportArgs {
    /// Report only findings on lines changed since --diff-base (every format).
    #[arg(long, requires = "diff_base")]
    changed_only: bool,
    /// Git revision the branch is compared with (a pull request's base, e.g. origin/main).
    #[arg(long, value_name = "REV")]
    diff_base: Option<String>,
    /// With --format github: also write a Markdown table of all findings to FILE
    /// (e.g. "$GITHUB_STEP_SUMMARY"; appended to, as GitHub expects).
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// The JSON body of a pull-request review with suggestions (needs --diff-base).
    GithubReview,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Hint,
    Warning,
    Error,
}

impl From<FailOn> for Severity {
    fn from(value: FailOn) -> Severity {
        match value {
            FailOn::Hint => Severity::Hint,
            FailOn::Warning => Severity::Warning,
            FailOn::Error => Severity::Error,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    Diff,
    Fix,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // A reader that stopped early (`asyncmod check | head`) is not an error of ours.
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::List => {
            list()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { id } => {
            let found = definitions::find(&id);
            if found.is_empty() {
                anyhow::bail!(definitions::unknown(&id));
            }
            let pages: Vec<String> = found.into_iter().map(definitions::explain).collect();
            let mut out = std::io::stdout().lock();
            write!(out, "{}", pages.join("\n"))?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { run, format, fail_on, report } => {
            execute(run, Mode::Check, format, fail_on.into(), report)
        }
        Command::Diff { run } => {
            execute(run, Mode::Diff, Format::Text, Severity::Warning, ReportArgs::default())
        }
        Command::Fix { run } => {
            execute(run, Mode::Fix, Format::Text, Severity::Warning, ReportArgs::default())
        }
    }
}

fn list() -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<20} {:<4} {:<8} {:<12} summary", "id", "tip", "severity", "fix")?;
    for d in definitions::all() {
        let fix = match d.safety {
            Some(Safety::Safe) => "safe",
            Some(Safety::Unsafe) => "unsafe",
            None => "report-only",
        };
        let default = if d.default { "" } else { " (off by default)" };
        let ruff = if d.ruff.is_empty() { String::new() } else { format!(" [Ruff: {}]", d.ruff.join(", ")) };
        writeln!(
            out,
            "{:<20} {:<4} {:<8} {:<12} {}{default}{ruff}",
            d.id, d.tip, d.severity, fix, d.summary
        )?;
    }
    out.flush()
}

/// What one worker returns for one file.
#[derive(Default)]
struct FileResult {
    path: PathBuf,
    findings: Vec<Reported>,
    applied: BTreeMap<&'static str, usize>,
    diff: Option<String>,
    changed: bool,
    error: Option<FileError>,
    /// For the machine formats that need it: the source, per finding the file with only its fix,
    /// and the file as `fix` writes it.
    source: Option<String>,
    alone: Vec<Option<String>>,
    fixed: Option<String>,
}

impl FileResult {
    fn is_empty(&self) -> bool {
        self.findings.is_empty()
            && self.applied.is_empty()
            && self.diff.is_none()
            && !self.changed
            && self.error.is_none()
            && self.source.is_none()
            && self.alone.is_empty()
            && self.fixed.is_none()
    }
}

/// The command line's settings, which override each file's `[tool.asyncmod]`.
fn overrides_from(args: &RunArgs) -> pyproject::Overrides {
    pyproject::Overrides {
        select: args.select.clone(),
        extend_select: args.extend_select.clone(),
        ignore: args.ignore.clone(),
        unsafe_fixes: args.unsafe_fixes,
        target_version: args.target_version.clone(),
        max_concurrency: args.max_concurrency,
        prefer: args.prefer.clone(),
        blocking_callables: args.blocking_callable.clone(),
        gather_same_receiver: args.gather_same_receiver,
    }
}

fn execute(
    mut args: RunArgs,
    mode: Mode,
    format: Format,
    fail_on: Severity,
    report: ReportArgs,
) -> anyhow::Result<ExitCode> {
    if args.paths.is_empty() {
        args.paths.push(PathBuf::from("."));
    }
    if report.summary.is_some() && format != Format::Github {
        anyhow::bail!("--summary goes with --format github");
    }
    if format == Format::GithubReview && report.diff_base.is_none() {
        anyhow::bail!("--format github-review needs --diff-base REV (the pull request's base)");
    }
    let repo_diff = report.diff_base.as_deref().map(RepoDiff::against).transpose()?;
    if let Some(warning) = repo_diff.as_ref().and_then(|d| d.warning.as_ref()) {
        eprintln!("warning: {warning}");
    }
    let detail = match format {
        Format::Sarif => Detail::Alone,
        Format::GithubReview => Detail::AloneAndFixed,
        _ => Detail::None,
    };
    let mut resolver = pyproject::Resolver::new(overrides_from(&args));
    // Bad command-line values are errors even when no file is found.
    let run_settings = resolver.command_line_settings(&args.paths[0])?;
    if run_settings.prefer.contains("taskgroup") && run_settings.target < config::TASKGROUP_MIN {
        eprintln!(
            "warning: --prefer taskgroup needs a target of Python {} or newer (the target is {}): \
             asyncio.gather is used instead",
            config::TASKGROUP_MIN,
            run_settings.target
        );
    }
    validate_excludes(&args.exclude)?;
    let jobs = args.jobs.unwrap_or(0);
    // Deeply nested code makes tree-sitter and Ruff's parser recurse: give workers room (16 MiB).
    // `num_threads(0)` means one per core. Building fails only when a global pool exists already,
    // which is fine to reuse.
    let _ = rayon::ThreadPoolBuilder::new().num_threads(jobs).stack_size(16 << 20).build_global();
    let options = WalkOptions {
        default_excludes: !args.no_default_excludes,
        exclude: args.exclude.clone(),
        threads: jobs,
    };
    let run = Arc::new(walk::Run::new(&args.paths, &options));
    let resolver = Arc::new(Mutex::new(resolver));
    // `fix` writes as it goes: a bad configuration anywhere stops it before its first write, as
    // it stops the other commands before they print anything.
    if mode == Mode::Fix
        && let Some(error) = walk_resolved(&run, &resolver, &|_, _| true, &|_| {})
    {
        return Err(error);
    }
    // The project index answers about other modules with the run's own settings (its catalogue);
    // it asks the walk's rules (not a list of the run's files) whether an imported module is part
    // of the run.
    let project = {
        let (run, resolver) = (run.clone(), resolver.clone());
        Project::asking(
            move |path| {
                run.find(path).is_some_and(|file| {
                    matches!(resolve(&resolver, &file), Ok(pyproject::Resolved::Settings(_)))
                })
            },
            &run_settings,
        )
    };

    let progress = Progress::new(args.quiet);
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let checked = AtomicUsize::new(0);
    let walk_errors = Mutex::new(Vec::new());
    // The walk feeds the workers through a short queue, so that no list of the run's files is
    // held: memory stays flat however many files.
    // Files travel in batches: one hand-over (and wake-up) per file costs more than a small file.
    let (sender, receiver) =
        std::sync::mpsc::sync_channel::<Vec<(PathBuf, Arc<Settings>)>>(QUEUED_FILES / BATCH);
    let (configuration_error, mut results) = std::thread::scope(|scope| {
        let walker = scope.spawn(|| {
            let batch = Mutex::new(Vec::with_capacity(BATCH));
            let send = |path: PathBuf, settings: Arc<Settings>| {
                checked.fetch_add(1, Ordering::Relaxed);
                progress.found();
                let full = {
                    let mut batch = batch.lock().unwrap_or_else(|p| p.into_inner());
                    batch.push((path, settings));
                    (batch.len() >= BATCH).then(|| std::mem::take(&mut *batch))
                };
                full.is_none_or(|full| sender.send(full).is_ok())
            };
            let failed = |error: FileError| walk_errors.lock().unwrap_or_else(|p| p.into_inner()).push(error);
            let error = walk_resolved(&run, &resolver, &send, &failed);
            let rest = batch.into_inner().unwrap_or_else(|p| p.into_inner());
            if !rest.is_empty() {
                let _ = sender.send(rest);
            }
            drop(sender);
            error
        });
        let results: Vec<FileResult> = receiver
            .into_iter()
            .par_bridge()
            .flat_map_iter(|batch| batch.into_iter())
            .map(|(path, settings)| {
                let transforms = transforms::enabled(&settings);
                let result = process(&path, mode, &settings, &transforms, &project, color, detail);
                progress.processed();
                result
            })
            // Only results with something to print are kept.
            .filter(|result| !result.is_empty())
            .collect();
        (walker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), results)
    });
    progress.finish();
    if let Some(error) = configuration_error {
        return Err(error);
    }
    // The walk finds files in no particular order; output goes in path order.
    results.sort_by(|a, b| a.path.cmp(&b.path));
    let walk_errors = walk_errors.into_inner().unwrap_or_else(|p| p.into_inner());
    let checked = checked.into_inner();
    // The review needs every finding, to know which fixes the pull request did not ask for.
    let unfiltered: Vec<(Vec<Reported>, Vec<Option<String>>)> = match format {
        Format::GithubReview => results.iter().map(|r| (r.findings.clone(), r.alone.clone())).collect(),
        _ => Vec::new(),
    };
    if (report.changed_only || format == Format::GithubReview)
        && let Some(repo_diff) = &repo_diff
    {
        for result in &mut results {
            keep_changed(result, repo_diff);
        }
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut errors: Vec<&FileError> =
        walk_errors.iter().chain(results.iter().filter_map(|r| r.error.as_ref())).collect();
    // The walk reports errors as its threads meet them.
    errors.sort_by_cached_key(|e| (e.path.clone(), e.to_string()));
    match (mode, format) {
        (Mode::Check, Format::Json) => {
            let files: Vec<(&Path, &[Reported])> =
                results.iter().map(|r| (r.path.as_path(), r.findings.as_slice())).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&print::json_document(&files, &errors))?)?;
        }
        (Mode::Check, Format::Github | Format::Sarif | Format::GithubReview) => {
            let root = repo_diff
                .as_ref()
                .map(|d| d.root.clone())
                .or_else(gitdiff::toplevel)
                .or_else(|| std::env::current_dir().ok())
                .unwrap_or_default();
            let reports: Vec<print::FileReport> = results.iter().map(|r| file_report(r, &root)).collect();
            match format {
                Format::Github => {
                    out.write_all(print::github::annotations(&reports).as_bytes())?;
                    if let Some(summary) = &report.summary {
                        append(summary, &print::github::summary_markdown(&reports))?;
                    }
                }
                Format::Sarif => {
                    writeln!(out, "{}", serde_json::to_string_pretty(&print::sarif::document(&reports))?)?
                }
                _ => {
                    let Some(repo_diff) = &repo_diff else {
                        anyhow::bail!("--format github-review needs --diff-base REV");
                    };
                    let with_diffs: Vec<(print::FileReport, Option<&FileDiff>)> = reports
                        .into_iter()
                        .zip(results.iter().zip(&unfiltered))
                        .map(|(report, (result, (findings, alone)))| {
                            let report = print::FileReport { findings, alone, ..report };
                            (report, repo_diff.file(&result.path))
                        })
                        .collect();
                    let payload = print::review::payload(&with_diffs, &repo_diff.head);
                    writeln!(out, "{}", serde_json::to_string_pretty(&payload)?)?;
                }
            }
        }
        (Mode::Diff, _) => {
            for result in &results {
                if let Some(diff) = &result.diff {
                    out.write_all(diff.as_bytes())?;
                }
            }
        }
        _ => {
            for result in &results {
                for finding in &result.findings {
                    writeln!(out, "{}", print::text_line(&result.path, finding))?;
                }
            }
        }
    }
    out.flush()?;
    drop(out);
    for error in &errors {
        eprintln!("error: {error}");
    }
    if !args.quiet {
        let mut line = summary(mode, &results, checked);
        if !errors.is_empty() {
            let s = if errors.len() == 1 { "" } else { "s" };
            line.push_str(&format!(" {} error{s} (listed above).", errors.len()));
        }
        eprintln!("{line}");
    }

    let code = if !errors.is_empty() {
        2
    } else {
        match mode {
            Mode::Check => {
                let failing = results.iter().flat_map(|r| &r.findings).any(|f| f.severity >= fail_on);
                u8::from(failing)
            }
            Mode::Diff => u8::from(results.iter().any(|r| r.diff.is_some())),
            Mode::Fix => 0,
        }
    };
    Ok(ExitCode::from(code))
}

/// A bad `--exclude` glob is an argument error, reported once before any work.
fn validate_excludes(globs: &[String]) -> anyhow::Result<()> {
    let mut builder = ignore::overrides::OverrideBuilder::new(".");
    for glob in globs {
        builder.add(&format!("!{glob}")).map_err(|e| anyhow::anyhow!("--exclude {glob}: {e}"))?;
    }
    Ok(())
}

/// Files the walk may find ahead of the workers.
const QUEUED_FILES: usize = 256;
/// Files handed to the workers at a time.
const BATCH: usize = 32;

/// Walks the run, resolving each file's settings, and hands `found` each file to process with its
/// settings (`found` returns `false` to stop). Returns the error of a bad configuration, if any:
/// that of the first file in path order, as if the files were resolved in that order; once one is
/// met, nothing more is handed over.
fn walk_resolved(
    run: &walk::Run,
    resolver: &Mutex<pyproject::Resolver>,
    found: &(dyn Fn(PathBuf, Arc<Settings>) -> bool + Sync),
    failed: &(dyn Fn(FileError) + Sync),
) -> Option<anyhow::Error> {
    let first_error: Mutex<Option<(PathBuf, anyhow::Error)>> = Mutex::new(None);
    run.walk(
        &|file| match resolve(resolver, &file) {
            Ok(pyproject::Resolved::Settings(settings)) => {
                let failing = first_error.lock().unwrap_or_else(|p| p.into_inner()).is_some();
                failing || found(file.path, settings)
            }
            Ok(pyproject::Resolved::Excluded) => true,
            Err(error) => {
                let mut first = first_error.lock().unwrap_or_else(|p| p.into_inner());
                if first.as_ref().is_none_or(|(path, _)| file.path < *path) {
                    *first = Some((file.path, error));
                }
                true
            }
        },
        failed,
    );
    first_error.into_inner().unwrap_or_else(|p| p.into_inner()).map(|(_, error)| error)
}

/// The settings of one file of the run.
fn resolve(
    resolver: &Mutex<pyproject::Resolver>,
    file: &walk::PythonFile,
) -> anyhow::Result<pyproject::Resolved> {
    let mut resolver = resolver.lock().unwrap_or_else(|p| p.into_inner());
    if file.walked { resolver.resolve_walked(&file.path) } else { resolver.resolve(&file.path) }
}

/// The progress bar, on a terminal only and once the run is large. Its length grows as the walk
/// finds files.
struct Progress {
    bar: Option<ProgressBar>,
    found: AtomicUsize,
}

impl Progress {
    const LARGE_RUN: usize = 200;

    fn new(quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
            if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files ({eta} left)") {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, found: AtomicUsize::new(0) }
    }

    fn found(&self) {
        let Some(bar) = &self.bar else { return };
        let found = self.found.fetch_add(1, Ordering::Relaxed) + 1;
        bar.set_length(found as u64);
        if found == Self::LARGE_RUN {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn processed(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What the machine formats need beyond the findings.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    None,
    /// Each fix applied alone (SARIF).
    Alone,
    /// And the whole fixed file (review suggestions).
    AloneAndFixed,
}

fn process(
    path: &Path,
    mode: Mode,
    settings: &Settings,
    transforms: &[&dyn Transform],
    project: &Project,
    color: bool,
    detail: Detail,
) -> FileResult {
    let mut result = FileResult { path: path.to_path_buf(), ..FileResult::default() };
    // Bad input is reported even when it could not hold a finding.
    let scanned = read_in_buffer(path, |bytes| {
        crate::source::decode(path, bytes)?;
        Ok(prefilter::may_match(bytes, transforms).then(|| bytes.to_vec()))
    });
    let bytes = match scanned {
        Ok(Ok(Some(bytes))) => bytes,
        Ok(Ok(None)) => return result,
        Ok(Err(error)) => {
            result.error = Some(error);
            return result;
        }
        Err(e) => {
            result.error = Some(FileError { path: path.to_path_buf(), problem: FileProblem::Read(e) });
            return result;
        }
    };
    // Analysing a large file takes many times its size (the tree, the index, the fixes): one at a
    // time, so that a run's peak memory does not depend on how its large files happen to meet.
    let _large_file_turn =
        (bytes.len() > LARGE_FILE).then(|| LARGE_FILE_TURN.lock().unwrap_or_else(|p| p.into_inner()));
    let file = match SourceFile::from_bytes(path, bytes) {
        Ok(file) => file,
        Err(error) => {
            result.error = Some(error);
            return result;
        }
    };
    let syntax_error = |e: engine::Unanalysable| FileError {
        path: path.to_path_buf(),
        problem: match e {
            engine::Unanalysable::Syntax(e) => {
                FileProblem::Syntax { line: e.line, column: e.column, message: e.message }
            }
            engine::Unanalysable::BeyondTreeSitter { line, column } => {
                FileProblem::BeyondTreeSitter { line, column }
            }
            engine::Unanalysable::LoneCarriageReturn { line } => {
                FileProblem::CarriageReturnLineEndings { line }
            }
        },
    };
    let job = engine::Job::new(path, settings, transforms).in_project(project);
    if mode == Mode::Check {
        // Tree-sitter accepts some invalid code (Python 2 prints) without an error node: check
        // with the strict parser before offering fixes.
        let checked = job.analyze(&file.text).and_then(|findings| {
            if findings.iter().any(|f| f.fix.is_some()) {
                verify::parses(&file.text)?;
            }
            Ok(findings)
        });
        let findings = match checked {
            Ok(findings) => findings,
            Err(e) => {
                result.error = Some(syntax_error(e));
                return result;
            }
        };
        result.findings = engine::report(&file.text, &findings, settings);
        if detail != Detail::None {
            result.alone = findings
                .iter()
                .map(|f| f.fix.as_ref().and_then(|_| engine::apply_alone(path, &file.text, f).ok()))
                .collect();
            if detail == Detail::AloneAndFixed {
                result.fixed = job.fix(&file.text).ok().and_then(|o| o.fixed);
            }
            result.source = Some(file.text.clone());
        }
        return result;
    }
    let outcome = match job.fix(&file.text) {
        Ok(outcome) => outcome,
        Err(e) => {
            result.error = Some(syntax_error(e));
            return result;
        }
    };
    result.applied = outcome.applied;
    result.findings = outcome.remaining;
    if let Some(fixed) = outcome.fixed {
        result.changed = true;
        match mode {
            Mode::Diff => {
                let display = path.display().to_string();
                let display = display.trim_start_matches("./").trim_start_matches('/');
                result.diff = Some(print::diff::unified(display, &file.text, &fixed, color));
            }
            _ => {
                if let Err(error) = write::write_atomically(&file, &fixed) {
                    result.changed = false;
                    result.applied.clear();
                    result.error = Some(error);
                }
            }
        }
    }
    result
}

/// Files larger than this are analysed one at a time (topics.py, 757 KB, adds 12 MB to the peak).
const LARGE_FILE: usize = 128 << 10;
static LARGE_FILE_TURN: Mutex<()> = Mutex::new(());

thread_local! {
    /// Each worker reads files into one buffer, kept from file to file: most files are only
    /// scanned, never parsed, and need no buffer of their own.
    static READ_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A buffer grown beyond this size by a large file is not kept (else, late in a long run, every
/// worker would hold one as large as the largest file).
const KEPT_READ_BUFFER: usize = 256 << 10;

/// `scan` of the bytes of the file at `path`, read into the worker's buffer.
fn read_in_buffer<T>(path: &Path, scan: impl FnOnce(&[u8]) -> T) -> std::io::Result<T> {
    READ_BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        buffer.clear();
        let read = std::fs::File::open(path).and_then(|mut file| file.read_to_end(&mut buffer));
        let scanned = read.map(|_| scan(&buffer));
        if buffer.capacity() > KEPT_READ_BUFFER {
            *buffer = Vec::new();
        }
        scanned
    })
}

/// Drops findings on lines the branch did not change (`--changed-only`).
fn keep_changed(result: &mut FileResult, repo_diff: &RepoDiff) {
    let file_diff = repo_diff.file(&result.path);
    let keep: Vec<bool> = result
        .findings
        .iter()
        .map(|f| file_diff.is_some_and(|d| d.touches(f.line..=f.end_line.max(f.line))))
        .collect();
    let mut flags = keep.iter();
    result.findings.retain(|_| flags.next().copied().unwrap_or(false));
    if !result.alone.is_empty() {
        let mut flags = keep.iter();
        result.alone.retain(|_| flags.next().copied().unwrap_or(false));
    }
}

fn file_report<'a>(result: &'a FileResult, root: &Path) -> print::FileReport<'a> {
    let path = gitdiff::relative_to(root, &result.path).unwrap_or_else(|| {
        let display = result.path.display().to_string();
        display.trim_start_matches("./").to_string()
    });
    print::FileReport {
        path,
        source: result.source.as_deref().unwrap_or(""),
        findings: &result.findings,
        alone: &result.alone,
        fixed: result.fixed.as_deref(),
    }
}

/// Appends to `path` (GitHub's step summary file collects what every step writes).
fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| anyhow::anyhow!("--summary {}: {e}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

fn summary(mode: Mode, results: &[FileResult], checked: usize) -> String {
    let findings: Vec<&Reported> = results.iter().flat_map(|r| &r.findings).collect();
    let count = |pred: &dyn Fn(&FixStatus) -> bool| findings.iter().filter(|f| pred(&f.status)).count();
    let plural = |n: usize, word: &str| {
        if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") }
    };
    match mode {
        Mode::Check => {
            if findings.is_empty() {
                return format!("No findings in {}.", plural(checked, "file"));
            }
            let fixable = count(&|s| matches!(s, FixStatus::Applicable(Safety::Safe)));
            let unsafe_only =
                count(&|s| matches!(s, FixStatus::Applicable(Safety::Unsafe) | FixStatus::NeedsUnsafeFixes));
            let files = results.iter().filter(|r| !r.findings.is_empty()).count();
            let mut line = format!(
                "Found {} in {} ({} checked); {fixable} fixable with `asyncmod fix`",
                plural(findings.len(), "finding"),
                plural(files, "file"),
                checked
            );
            if unsafe_only > 0 {
                line.push_str(&format!(", {unsafe_only} more with `asyncmod fix --unsafe-fixes`"));
            }
            line.push('.');
            line
        }
        Mode::Diff | Mode::Fix => {
            let applied: usize = results.iter().flat_map(|r| r.applied.values()).sum();
            let changed = results.iter().filter(|r| r.changed).count();
            let verb = if mode == Mode::Diff { "Would fix" } else { "Fixed" };
            let mut by_transform: BTreeMap<&str, usize> = BTreeMap::new();
            for (transform, count) in results.iter().flat_map(|r| &r.applied) {
                *by_transform.entry(transform).or_default() += count;
            }
            let breakdown: Vec<String> = by_transform.iter().map(|(t, n)| format!("{t}: {n}")).collect();
            let breakdown =
                if breakdown.is_empty() { String::new() } else { format!("; {}", breakdown.join(", ")) };
            let mut line = format!(
                "{verb} {} in {} ({} checked{breakdown}).",
                plural(applied, "finding"),
                plural(changed, "file"),
                checked
            );
            if !findings.is_empty() {
                line.push_str(&format!(" {} left", plural(findings.len(), "finding")));
                line.push_str(if mode == Mode::Fix {
                    " (listed above with why each was not fixed)."
                } else {
                    "."
                });
            }
            line
        }
    }
}
