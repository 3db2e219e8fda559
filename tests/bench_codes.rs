//! Ties each Ruff code a transform claims (`ruff = [...]` in `transforms/*.toml`) to the coverage
//! check of `bench/run.sh`, whose codes are the rows of `bench/ruff_codes.txt`
//! (`CODE TRANSFORM FILTER check|skip [REASON]`): every claimed code has exactly one row naming its
//! transform, and every row names a code its transform claims. A code added to a definition
//! without a bench row, or a row left behind when a code moves or goes, fails here rather than
//! leaving the bench to check a code no transform claims, or to not check a claimed one.

use std::collections::BTreeSet;
use std::path::Path;

use asyncmod::definitions;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// (code, transform id) for every code of every `transforms/*.toml`, read from the files.
fn claimed() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut files = 0;
    for entry in std::fs::read_dir(root().join("transforms")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let table: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let id = table["id"].as_str().unwrap().to_string();
        for code in table.get("ruff").and_then(|r| r.as_array()).into_iter().flatten() {
            out.insert((code.as_str().expect("ruff codes are strings").to_string(), id.clone()));
        }
    }
    assert_eq!(files, definitions::all().len(), "transforms/*.toml and the registry differ in number");
    out
}

#[derive(Debug)]
struct Row {
    line: usize,
    code: String,
    transform: String,
    filter: String,
    status: String,
    reason: String,
}

fn bench_rows() -> Vec<Row> {
    let text = std::fs::read_to_string(root().join("bench/ruff_codes.txt")).unwrap();
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(words.len() >= 4, "bench/ruff_codes.txt:{}: not CODE TRANSFORM FILTER STATUS: {line}", i + 1);
        rows.push(Row {
            line: i + 1,
            code: words[0].to_string(),
            transform: words[1].to_string(),
            filter: words[2].to_string(),
            status: words[3].to_string(),
            reason: words[4..].join(" "),
        });
    }
    rows
}

#[test]
fn the_files_read_here_are_the_registry() {
    let registry: BTreeSet<(String, String)> = definitions::all()
        .iter()
        .flat_map(|d| d.ruff.iter().map(|code| (code.clone(), d.id.clone())))
        .collect();
    assert_eq!(claimed(), registry);
    assert!(registry.iter().any(|(code, id)| code == "ASYNC251" && id == "time-sleep"), "{registry:?}");
    assert!(registry.iter().any(|(code, id)| code == "RUF006" && id == "dangling-task"), "{registry:?}");
}

#[test]
fn every_claimed_code_has_one_bench_row_with_its_transform() {
    let rows = bench_rows();
    for (code, id) in claimed() {
        let matching: Vec<usize> =
            rows.iter().filter(|r| r.code == code && r.transform == id).map(|r| r.line).collect();
        assert_eq!(
            matching.len(),
            1,
            "transforms/{id}.toml claims {code}: bench/ruff_codes.txt needs exactly one `{code} {id} ...` row \
             (has lines {matching:?})"
        );
    }
}

#[test]
fn every_bench_row_names_a_code_its_transform_claims() {
    let claimed = claimed();
    let rows = bench_rows();
    assert!(rows.iter().any(|r| r.status == "check"), "the bench would check no code");
    for row in &rows {
        let at = format!("bench/ruff_codes.txt:{}", row.line);
        assert!(
            row.code.len() > 3
                && row
                    .code
                    .trim_end_matches(|c: char| c.is_ascii_digit())
                    .chars()
                    .all(|c| c.is_ascii_uppercase())
                && row.code.ends_with(|c: char| c.is_ascii_digit()),
            "{at}: `{}` is not a Ruff code",
            row.code
        );
        assert!(definitions::get(&row.transform).is_some(), "{at}: no transform `{}`", row.transform);
        assert!(
            claimed.contains(&(row.code.clone(), row.transform.clone())),
            "{at}: transforms/{}.toml does not claim {} (`ruff = [...]`)",
            row.transform,
            row.code
        );
        // `--select CODE` runs the transform the row names.
        assert!(
            definitions::find(&row.code).iter().any(|d| d.id == row.transform),
            "{at}: --select {} does not select {}",
            row.code,
            row.transform
        );
        assert!(!row.filter.is_empty(), "{at}: FILTER is `-` or a word");
        match row.status.as_str() {
            "check" => assert!(row.reason.is_empty(), "{at}: a checked row has no reason"),
            "skip" => assert!(!row.reason.is_empty(), "{at}: a skipped row says why"),
            other => panic!("{at}: status is check or skip, not `{other}`"),
        }
    }
    // Ruff's two codes of the article's headline patterns are always checked.
    for code in ["ASYNC251", "RUF006"] {
        assert!(
            rows.iter().any(|r| r.code == code && r.status == "check"),
            "{code} is not checked by the bench"
        );
    }
}

#[test]
fn the_bench_takes_its_codes_from_the_list() {
    let script = std::fs::read_to_string(root().join("bench/run.sh")).unwrap();
    assert!(
        script.contains("CODES_FILE=\"$ROOT/bench/ruff_codes.txt\""),
        "bench/run.sh does not read the list"
    );
    assert!(script.contains("--select \"$codes\""), "bench/run.sh does not run Ruff on the list's codes");
}
