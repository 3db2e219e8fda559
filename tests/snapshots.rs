//! Snapshot tests: every fixture under `tests/fixtures/<transform>/` is checked and fixed (unsafe
//! fixes included) with only that transform selected; the findings and the rewritten file are compared with the
//! reviewed snapshot in `snapshots/`. Beyond the snapshot, every rewrite must parse, keep its BOM
//! and line endings, and be idempotent.
//!
//! The set itself is checked too: every transform of the registry has a definition file and
//! fixtures on which it reports (and rewrites, unless it only reports), the fixture count does not
//! fall below [`MIN_FIXTURES`], and no snapshot is left without the fixture or test that writes it
//! (as `cargo insta test --unreferenced=reject` would).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{apply_fixture_args, fixtures};

use asyncmod::config::Settings;
use asyncmod::definitions;
use asyncmod::engine;
use asyncmod::print::status_label;
use asyncmod::source::SourceFile;
use asyncmod::transforms;
use asyncmod::verify;

/// Fixtures the reviewed set holds at least (164 when this was set): deleting fixtures together
/// with their snapshots must be a deliberate change of this number.
const MIN_FIXTURES: usize = 160;

/// Shows a CR as `␍` (U+240D, SYMBOL FOR CARRIAGE RETURN), which no fixture holds, and a BOM as
/// `<BOM>`: an escape such as `\r` could not be told from the same two characters in the code.
fn visible(text: &str, bom: bool) -> String {
    assert!(!text.contains('␍'), "a fixture holds `␍`, which the snapshots use for a CR");
    let text = text.replace('\r', "␍");
    if bom { format!("<BOM>{text}") } else { text }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every fixture of a transform as (snapshot name, path), in path order.
fn fixtures_of(id: &str) -> Vec<(String, PathBuf)> {
    let root = root().join("tests/fixtures");
    assert!(root.join(id).is_dir(), "{id}: no folder tests/fixtures/{id}/");
    let mut files = Vec::new();
    fixtures(&root.join(id), &mut files);
    files
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&root).unwrap().to_string_lossy().replace(['/', '\\'], "__");
            (relative.trim_end_matches(".py").to_string(), path)
        })
        .collect()
}

/// The names of the files in `dir` that end with `.snap`, without that ending.
fn snapshot_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".snap").map(str::to_string))
        .collect()
}

/// What a fixture showed of its transform, besides the snapshot.
struct Exercised {
    reported: bool,
    rewritten: bool,
}

fn run_fixture(transform: &str, path: &Path) -> (String, Exercised) {
    let file = SourceFile::read(path).unwrap();
    // Unsafe fixes too, so that every rewrite shows; each finding's line says its safety.
    let mut settings = Settings { unsafe_fixes: true, ..Settings::default() };
    apply_fixture_args(&file.text, &mut settings);
    settings.select(&[transform.to_string()], &[], &[]).unwrap();
    let enabled = transforms::enabled(&settings);
    let findings = engine::analyze(path, &file.text, &settings, &enabled).unwrap();
    let reported = engine::report(&file.text, &findings, &settings);
    let outcome = engine::fix(path, &file.text, &settings, &enabled).unwrap();

    let mut snapshot = String::from("--- findings ---\n");
    for f in &reported {
        snapshot.push_str(&format!(
            "{}:{}: {} {} [{}]\n",
            f.line,
            f.column,
            f.transform,
            f.message,
            status_label(&f.status)
        ));
    }
    snapshot.push_str("--- left after fix ---\n");
    for f in &outcome.remaining {
        snapshot.push_str(&format!(
            "{}:{}: {} [{}]\n",
            f.line,
            f.column,
            f.transform,
            status_label(&f.status)
        ));
    }
    snapshot.push_str("--- fixed ---\n");
    match &outcome.fixed {
        None => snapshot.push_str("(unchanged)\n"),
        Some(fixed) => {
            verify::parses(fixed)
                .unwrap_or_else(|e| panic!("{}: fix does not parse: {e:?}\n{fixed}", path.display()));
            let again = engine::fix(path, fixed, &settings, &enabled).unwrap();
            assert_eq!(again.fixed, None, "{}: a second fix changed the file again", path.display());
            if file.text.contains("\r\n") {
                let bare_lf = fixed.matches('\n').count() - fixed.matches("\r\n").count();
                assert_eq!(
                    bare_lf,
                    file.text.matches('\n').count() - file.text.matches("\r\n").count(),
                    "{}: line endings changed",
                    path.display()
                );
            }
            let bytes = file.encode(fixed);
            assert_eq!(bytes.starts_with(b"\xEF\xBB\xBF"), file.has_bom, "{}: BOM changed", path.display());
            snapshot.push_str(&visible(fixed, file.has_bom));
        }
    }
    (snapshot, Exercised { reported: !reported.is_empty(), rewritten: outcome.fixed.is_some() })
}

#[test]
fn fixtures_match_reviewed_snapshots() {
    let root = root().join("tests/fixtures");
    let mut count = 0;
    for transform in transforms::all() {
        let id = transform.id();
        let (mut reported, mut rewritten) = (false, false);
        for (name, path) in fixtures_of(id) {
            let (snapshot, exercised) = run_fixture(id, &path);
            reported |= exercised.reported;
            rewritten |= exercised.rewritten;
            insta::with_settings!({
                snapshot_path => "../snapshots",
                prepend_module_to_snapshot => false,
                description => format!("tests/fixtures/{}", path.strip_prefix(&root).unwrap().display()),
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name, snapshot);
            });
            count += 1;
        }
        assert!(reported, "{id}: no fixture has a finding of it");
        let report_only = definitions::get(id).expect("every transform has a definition").safety.is_none();
        assert!(rewritten || report_only, "{id}: no fixture is rewritten by it");
    }
    assert!(count >= MIN_FIXTURES, "expected at least {MIN_FIXTURES} fixtures, found {count}");
}

/// The registry, the definition files and the fixture folders name the same transforms, and each
/// transform has a fixture.
#[test]
fn every_transform_has_a_definition_file_and_fixtures() {
    let registry: BTreeSet<String> = transforms::all().iter().map(|t| t.id().to_string()).collect();
    let in_folder = |dir: &str, keep: &dyn Fn(&Path) -> Option<String>| -> BTreeSet<String> {
        std::fs::read_dir(root().join(dir))
            .unwrap()
            .filter_map(|entry| keep(&entry.unwrap().path()))
            .collect()
    };
    let definition_files = in_folder("transforms", &|path| {
        (path.extension()? == "toml").then(|| path.file_stem().unwrap().to_string_lossy().into_owned())
    });
    assert_eq!(definition_files, registry, "transforms/*.toml against transforms::all()");
    let fixture_folders = in_folder("tests/fixtures", &|path| {
        path.is_dir().then(|| path.file_name().unwrap().to_string_lossy().into_owned())
    });
    assert_eq!(fixture_folders, registry, "tests/fixtures/* against transforms::all()");
    for id in &registry {
        assert!(!fixtures_of(id).is_empty(), "{id}: no fixture in tests/fixtures/{id}/");
    }
}

/// No snapshot under `snapshots/` is left without what writes it: a fixture (top level) or a
/// `golden("NAME", ...)` call of tests/formats.rs (`formats/`). insta fails on a missing one; this
/// fails on an orphan, which would otherwise pass silently.
#[test]
fn every_snapshot_belongs_to_a_fixture_or_a_format_test() {
    let snapshots = root().join("snapshots");
    let fixture_names: BTreeSet<String> =
        transforms::all().iter().flat_map(|t| fixtures_of(t.id())).map(|(name, _)| name).collect();
    let orphans: Vec<String> = snapshot_names(&snapshots).difference(&fixture_names).cloned().collect();
    assert!(orphans.is_empty(), "snapshots/ has snapshots of no fixture: {orphans:?}");

    let formats_test = std::fs::read_to_string(root().join("tests/formats.rs")).unwrap();
    let golden_names: BTreeSet<String> = formats_test
        .split("golden(\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(name, _)| name.to_string()))
        .collect();
    assert!(
        golden_names.len() >= 6,
        "tests/formats.rs no longer calls golden(\"NAME\", ...): {golden_names:?}"
    );
    let orphans: Vec<String> =
        snapshot_names(&snapshots.join("formats")).difference(&golden_names).cloned().collect();
    assert!(
        orphans.is_empty(),
        "snapshots/formats/ has snapshots tests/formats.rs does not write: {orphans:?}"
    );

    let folders: Vec<String> = std::fs::read_dir(&snapshots)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(folders, ["formats"], "snapshots/ holds only the fixtures' snapshots and formats/");
}
