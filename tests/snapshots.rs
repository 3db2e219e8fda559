//! Snapshot tests: every fixture under `tests/fixtures/<transform>/` is checked and fixed (unsafe
//! fixes included) with only that transform selected; the findings and the rewritten file are compared with the
//! reviewed snapshot in `snapshots/`. Beyond the snapshot, every rewrite must parse, keep its BOM
//! and line endings, and be idempotent.

mod common;

use std::path::Path;

use common::{apply_fixture_args, fixtures};

use asyncmod::config::Settings;
use asyncmod::engine;
use asyncmod::print::status_label;
use asyncmod::source::SourceFile;
use asyncmod::transforms;
use asyncmod::verify;

/// Makes carriage returns and a BOM visible in the snapshot.
fn visible(text: &str, bom: bool) -> String {
    let text = text.replace('\r', "\\r");
    if bom { format!("<BOM>{text}") } else { text }
}

fn run_fixture(transform: &str, path: &Path) -> String {
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
    snapshot
}

#[test]
fn fixtures_match_reviewed_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut count = 0;
    for transform in transforms::all() {
        let dir = root.join(transform.id());
        assert!(dir.is_dir(), "no fixtures for {}", transform.id());
        let mut files = Vec::new();
        fixtures(&dir, &mut files);
        for path in files {
            let relative = path.strip_prefix(&root).unwrap().to_string_lossy().replace(['/', '\\'], "__");
            let name = relative.trim_end_matches(".py").to_string();
            let snapshot = run_fixture(transform.id(), &path);
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
    }
    assert!(count >= 20, "expected the fixture set, found {count} fixtures");
}
