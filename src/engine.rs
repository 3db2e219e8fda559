//! The engine: run the enabled transforms over one file, then apply their fixes pass by pass
//! until nothing changes, through the shared import pass and the verification guards.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::cleanup;
use crate::config::Settings;
use crate::finding::{Edit, Finding, Fix, Safety, Severity};
use crate::imports;
use crate::prefilter;
use crate::project::{FunctionKind, Project, Question};
use crate::semantic::Model;
use crate::slice;
use crate::source::{LazyStyle, Style};
use crate::suppress;
use crate::syntax::{self, LineIndex, parse};
use crate::transforms::{FileContext, Transform};
use crate::verify;

/// Why a file cannot be analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unanalysable {
    Syntax(verify::SyntaxError),
    /// Valid Python that tree-sitter's grammar cannot parse (it gives up past ~500 nested blocks);
    /// analysing its broken tree would silently miss findings.
    BeyondTreeSitter {
        line: usize,
        column: usize,
    },
    /// A CR that is not followed by LF: Python ends a line there, the line-based passes do not.
    LoneCarriageReturn {
        line: usize,
    },
}

impl From<verify::SyntaxError> for Unanalysable {
    fn from(error: verify::SyntaxError) -> Self {
        Unanalysable::Syntax(error)
    }
}

/// Files up to this size re-parse incrementally while they are fixed.
const REUSE_TREES_UP_TO: usize = 8 << 20;

/// Fixes whose edits overlap land in later passes; this bounds the passes.
const MAX_PASSES: usize = 64;

/// What one file is analysed or fixed with: its path, settings and transforms, the project whose
/// other modules the transforms may ask about, and how much of the file to parse.
#[derive(Clone, Copy)]
pub struct Job<'a> {
    pub path: &'a Path,
    pub settings: &'a Settings,
    pub transforms: &'a [&'a dyn Transform],
    /// `None` when a file is analysed on its own.
    pub project: Option<&'a Project>,
    pub parsing: Parsing,
}

impl<'a> Job<'a> {
    /// A file on its own, parsed as [`Parsing::default`] says.
    pub fn new(path: &'a Path, settings: &'a Settings, transforms: &'a [&'a dyn Transform]) -> Job<'a> {
        Job { path, settings, transforms, project: None, parsing: Parsing::default() }
    }

    /// A file of a run, whose transforms may ask `project` about other modules.
    pub fn in_project(self, project: &'a Project) -> Job<'a> {
        Job { project: Some(project), ..self }
    }

    pub fn parsing(self, parsing: Parsing) -> Job<'a> {
        Job { parsing, ..self }
    }

    /// Runs the transforms over `source` and returns the findings that no comment suppresses, in
    /// source order. A file tree-sitter cannot parse has none: it has a syntax error (Ruff's
    /// parser confirms) or is beyond tree-sitter.
    pub fn analyze(&self, source: &str) -> Result<Vec<Finding>, Unanalysable> {
        analyze_job(self, source)
    }

    /// Applies every applicable fix, pass after pass, to a fixed point. Refuses (and reports) a
    /// fix whose result does not parse or puts an `await` where Python rejects it.
    pub fn fix(&self, source: &str) -> Result<FixOutcome, Unanalysable> {
        fix_job(self, source, &mut |_| {})
    }

    /// [`Job::fix`], calling `after_pass` with the text after each pass that landed fixes. A fix
    /// of one pass may enable a fix of another transform in the next (a request moved to a thread
    /// becomes an awaited call that can be gathered), so checks of what a pass may touch look at
    /// each pass alone.
    pub fn fix_observed(
        &self,
        source: &str,
        after_pass: &mut dyn FnMut(&str),
    ) -> Result<FixOutcome, Unanalysable> {
        fix_job(self, source, after_pass)
    }
}

/// [`Job::analyze`] for a file on its own.
pub fn analyze(
    path: &Path,
    source: &str,
    settings: &Settings,
    transforms: &[&dyn Transform],
) -> Result<Vec<Finding>, Unanalysable> {
    Job::new(path, settings, transforms).analyze(source)
}

/// How much of a file the analysis parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsing {
    /// Only the statements that can hold a finding, when the file is large enough to gain
    /// ([`crate::slice`]).
    Slices,
    /// The whole file.
    Whole,
}

impl Default for Parsing {
    /// `ASYNCMOD_PARSE_WHOLE=1` parses whole files (to compare, and to rule slicing out when
    /// hunting a bug).
    fn default() -> Self {
        static WHOLE: std::sync::LazyLock<bool> =
            std::sync::LazyLock::new(|| std::env::var_os("ASYNCMOD_PARSE_WHOLE").is_some_and(|v| v == "1"));
        if *WHOLE { Parsing::Whole } else { Parsing::Slices }
    }
}

fn analyze_job(job: &Job<'_>, source: &str) -> Result<Vec<Finding>, Unanalysable> {
    let Job { path, settings, transforms, project, parsing } = *job;
    // A transform none of whose trigger strings the file holds can find nothing in it: it is
    // not run, and the slice keeps nothing for it.
    let transforms = &prefilter::matching(source.as_bytes(), transforms)[..];
    if transforms.is_empty() {
        return Ok(Vec::new());
    }
    let imported_coroutine = |qualified: &str| {
        project.and_then(|p| p.resolve(path, qualified, Question::Coroutine)).is_some_and(|target| {
            matches!(
                target.facts.function_kind(&target.name),
                Some(FunctionKind::Coroutine | FunctionKind::DecoratedCoroutine(_))
            )
        })
    };
    let question: Option<slice::CoroutineQuestion> = project.is_some().then_some(&imported_coroutine);
    let plan = match parsing {
        Parsing::Slices => slice::plan(source, transforms, question),
        Parsing::Whole => None,
    };
    if plan.as_ref().is_some_and(|ranges| ranges.is_empty()) {
        return Ok(Vec::new());
    }
    let sliced = match plan {
        Some(ranges) => Some(ranges)
            .and_then(|ranges| syntax::parse_ranges(source, &ranges))
            // Whatever the slice's parse cannot read, the whole file's parse reports.
            .filter(|tree| !tree.root_node().has_error()),
        None => None,
    };
    let partial = sliced.is_some();
    let tree = match sliced {
        Some(tree) => tree,
        None => parse(source),
    };
    let root = tree.root_node();
    if root.has_error() {
        verify::parses(source)?;
        let error = syntax::find_first(root, |n| n.is_error() || n.is_missing()).unwrap_or(root);
        let (line, column) = LineIndex::new(source).position(source, error.start_byte());
        return Err(Unanalysable::BeyondTreeSitter { line, column });
    }
    let model = if partial { Model::partial(source, root) } else { Model::new(source, root) };
    let style = LazyStyle::new(source, (!partial).then_some(root));
    let context = FileContext {
        path,
        source,
        model: &model,
        calls: &model.index().calls,
        style: &style,
        settings,
        project,
        own_summary: Default::default(),
    };
    let mut findings = Vec::new();
    for transform in transforms {
        transform.check(&context, &mut findings);
    }
    if findings.is_empty() {
        return Ok(findings);
    }
    let index = LineIndex::new(source);
    let mut comments: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for &comment in &model.index().comments {
        comments.entry(index.line(comment.start_byte())).or_default().push(syntax::text(comment, source));
    }
    findings.retain(|finding| {
        let lines = [
            index.line(finding.range.start),
            index.line(finding.range.end.saturating_sub(1).max(finding.range.start)),
        ];
        !lines.iter().any(|line| {
            comments.get(line).is_some_and(|cs| cs.iter().any(|c| suppress::silences(c, finding.transform)))
        })
    });
    findings.sort_by_key(|f| (f.range.start, f.transform));
    Ok(findings)
}

/// What became of a finding's fix in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixStatus {
    /// A fix exists and this run applies it.
    Applicable(Safety),
    /// An unsafe fix exists; `--unsafe-fixes` applies it.
    NeedsUnsafeFixes,
    /// No fix can be made safely; the reason says why.
    Unavailable(String),
    /// The fix was made but failed verification (a bug in asyncmod): nothing was written.
    Refused(String),
}

/// A finding placed in its file, ready for printing.
#[derive(Debug, Clone)]
pub struct Reported {
    pub transform: &'static str,
    pub severity: Severity,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub start_byte: usize,
    pub end_byte: usize,
    pub message: String,
    pub status: FixStatus,
    /// The fix's own edits (imports and helpers are added by the engine), for machine formats.
    pub edits: Vec<ReportedEdit>,
    pub imports: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ReportedEdit {
    pub start_byte: usize,
    pub end_byte: usize,
    pub start: (usize, usize),
    pub end: (usize, usize),
    pub replacement: String,
}

pub fn report(source: &str, findings: &[Finding], settings: &Settings) -> Vec<Reported> {
    let index = LineIndex::new(source);
    findings
        .iter()
        .map(|finding| {
            let (line, column) = index.position(source, finding.range.start);
            let (end_line, end_column) = index.position(source, finding.range.end);
            let status = match (&finding.fix, &finding.no_fix_reason) {
                (Some(fix), _) if settings.applies(fix.safety) => FixStatus::Applicable(fix.safety),
                (Some(_), _) => FixStatus::NeedsUnsafeFixes,
                (None, reason) => FixStatus::Unavailable(reason.clone().unwrap_or_else(|| "no fix".into())),
            };
            let edits = finding.fix.iter().flat_map(|fix| &fix.edits).map(|edit| ReportedEdit {
                start_byte: edit.range.start,
                end_byte: edit.range.end,
                start: index.position(source, edit.range.start),
                end: index.position(source, edit.range.end),
                replacement: edit.replacement.clone(),
            });
            Reported {
                transform: finding.transform,
                severity: finding.severity,
                line,
                column,
                end_line,
                end_column,
                start_byte: finding.range.start,
                end_byte: finding.range.end,
                message: finding.message.clone(),
                status,
                edits: edits.collect(),
                imports: finding.fix.iter().flat_map(|f| f.imports.clone()).collect(),
            }
        })
        .collect()
}

/// The result of fixing one file.
#[derive(Debug)]
pub struct FixOutcome {
    /// The new text, when it differs from the old.
    pub fixed: Option<String>,
    /// Fixes applied, by transform.
    pub applied: BTreeMap<&'static str, usize>,
    /// What is left after fixing, each with why it was not fixed.
    pub remaining: Vec<Reported>,
}

/// [`Job::fix`] for a file on its own.
pub fn fix(
    path: &Path,
    source: &str,
    settings: &Settings,
    transforms: &[&dyn Transform],
) -> Result<FixOutcome, Unanalysable> {
    Job::new(path, settings, transforms).fix(source)
}

fn fix_job(
    job: &Job<'_>,
    source: &str,
    after_pass: &mut dyn FnMut(&str),
) -> Result<FixOutcome, Unanalysable> {
    let path = job.path;
    let settings = job.settings;
    if let Some(line) = crate::source::lone_carriage_return_line(source.as_bytes()) {
        return Err(Unanalysable::LoneCarriageReturn { line });
    }
    // Keeping the last tree beside each new one costs memory in proportion to the file: worth it
    // for ordinary files, not for generated giants (a 50 MB file peaked at 4.2 GB instead of 2.7).
    let reuse = (source.len() <= REUSE_TREES_UP_TO).then(syntax::TreeReuse::start);
    // Only a file with a fix to apply needs its style (and the parse of the whole file for it).
    let style = LazyStyle::new(source, None);
    let is_package_init = path.file_name().is_some_and(|n| n == "__init__.py");
    let mut current = source.to_string();
    let mut findings = job.analyze(&current)?;
    let mut applied: BTreeMap<&'static str, usize> = BTreeMap::new();
    // (transform, text the finding covered, why): fixes that failed verification.
    let mut refused: Vec<(&'static str, String, String)> = Vec::new();
    let is_refused = |refused: &[(&str, String, String)], finding: &Finding, text: &str| {
        refused
            .iter()
            .any(|(t, snippet, _)| *t == finding.transform && *snippet == text[finding.range.clone()])
    };
    let mut checked_input = false;
    for _ in 0..MAX_PASSES {
        let candidates: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.fix.as_ref().is_some_and(|fix| settings.applies(fix.safety)))
            .filter(|f| !is_refused(&refused, f, &current))
            .collect();
        if candidates.is_empty() {
            break;
        }
        if !checked_input {
            verify::parses(&current)?;
            checked_input = true;
        }
        let batch = non_overlapping(&candidates);
        match apply(&current, &batch, &style, is_package_init) {
            Ok(next) => {
                for finding in &batch {
                    *applied.entry(finding.transform).or_default() += 1;
                }
                current = next;
                after_pass(&current);
            }
            Err(_) => {
                // Find the culprits one by one; land the first good fix and re-analyse.
                for finding in &batch {
                    match apply(&current, &[finding], &style, is_package_init) {
                        Ok(next) => {
                            *applied.entry(finding.transform).or_default() += 1;
                            current = next;
                            after_pass(&current);
                            break;
                        }
                        Err(why) => {
                            refused.push((finding.transform, current[finding.range.clone()].to_string(), why))
                        }
                    }
                }
            }
        }
        // A rewrite that passed verification parses, so this cannot fail. Applying it parsed the
        // whole new text, and while trees are reused that parse is at hand: analysing the text
        // whole then costs no parse, where its slices would be parsed afresh.
        let parsing = if reuse.is_some() { Parsing::Whole } else { job.parsing };
        findings = job.parsing(parsing).analyze(&current)?;
    }
    let mut remaining = report(&current, &findings, settings);
    for (reported, finding) in remaining.iter_mut().zip(&findings) {
        if let Some((_, _, why)) = refused
            .iter()
            .find(|(t, snippet, _)| *t == finding.transform && *snippet == current[finding.range.clone()])
        {
            reported.status = FixStatus::Refused(why.clone());
        }
    }
    let fixed = (current != source).then_some(current);
    Ok(FixOutcome { fixed, applied, remaining })
}

/// The file as it would be after applying only `finding`'s fix, with the imports, helpers and
/// clean-up it brings: what the machine formats offer as that finding's fix.
pub fn apply_alone(path: &Path, source: &str, finding: &Finding) -> Result<String, String> {
    let style = Style::detect_in(source, parse(source).root_node());
    let is_package_init = path.file_name().is_some_and(|n| n == "__init__.py");
    apply(source, &[finding], &style, is_package_init)
}

/// Greedily picks fixes in source order whose edits overlap no fix picked before.
fn non_overlapping<'f>(candidates: &[&'f Finding]) -> Vec<&'f Finding> {
    let mut taken: Vec<std::ops::Range<usize>> = Vec::new();
    let mut batch = Vec::new();
    for finding in candidates {
        let Some(fix) = &finding.fix else { continue };
        let overlaps = |a: &std::ops::Range<usize>, b: &std::ops::Range<usize>| {
            a.start < b.end && b.start < a.end || a.start == b.start
        };
        if fix.edits.iter().any(|edit| taken.iter().any(|range| overlaps(&edit.range, range))) {
            continue;
        }
        taken.extend(fix.edits.iter().map(|edit| edit.range.clone()));
        batch.push(*finding);
    }
    batch
}

/// Applies a batch of non-overlapping fixes, then the shared import and helper passes, then the
/// guards.
fn apply(source: &str, batch: &[&Finding], style: &Style, is_package_init: bool) -> Result<String, String> {
    let used_before = imports::used_imports(source);
    let loops_before = cleanup::used_loop_variables(source);
    let fixes: Vec<&Fix> = batch.iter().filter_map(|f| f.fix.as_ref()).collect();
    let mut edits: Vec<&Edit> = fixes.iter().flat_map(|fix| &fix.edits).collect();
    edits.sort_by_key(|edit| std::cmp::Reverse((edit.range.start, edit.range.end)));
    let mut text = source.to_string();
    for edit in edits {
        text.replace_range(edit.range.clone(), &edit.replacement);
    }
    let modules: BTreeSet<&String> = fixes.iter().flat_map(|fix| &fix.imports).collect();
    for module in modules {
        text = imports::add_import(&text, module, style);
    }
    let mut helpers_added: Vec<&str> = Vec::new();
    for helper in fixes.iter().flat_map(|fix| &fix.helpers) {
        if !helpers_added.contains(&helper.code.as_str()) {
            text = imports::add_helper(&text, &helper.code, style);
            helpers_added.push(&helper.code);
        }
    }
    // Loop variables first: dropping one may leave the import of its getter unused.
    text = cleanup::remove_unused_loop_variables(&text, &loops_before);
    text = imports::remove_unused(&text, &used_before, is_package_init);
    if let Err(error) = verify::parses(&text) {
        return Err(format!(
            "the rewrite would not parse ({} at {}:{}); this is a bug in asyncmod, please report it",
            error.message, error.line, error.column
        ));
    }
    let misplaced = verify::misplaced_awaits(&text);
    if misplaced > 0 && misplaced > verify::misplaced_awaits(source) {
        return Err("the rewrite would put `await` outside a coroutine; this is a bug in asyncmod".into());
    }
    Ok(text)
}
