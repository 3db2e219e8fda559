//! `--format sarif`: a SARIF 2.1.0 log that GitHub code scanning accepts. One rule per transform
//! (from its definition), one result per finding, and for each fix the whole-line replacements
//! that applying it alone makes (its imports included).
//!
//! Lines and columns are 1-based; columns count UTF-16 code units (`columnKind:
//! utf16CodeUnits`, SARIF's default and what GitHub reads). URIs are relative to the repository
//! root (`uriBaseId: %SRCROOT%`).

use serde_json::{Value, json};

use crate::definitions::{self, Definition};
use crate::engine::{FixStatus, Reported};
use crate::finding::{Safety, Severity};

use super::hunks::{self, line_changes};
use super::{FileReport, status_label};

pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

pub fn document(files: &[FileReport]) -> Value {
    let rules: Vec<Value> = definitions::all().iter().map(rule).collect();
    let results: Vec<Value> = files
        .iter()
        .flat_map(|file| {
            file.findings
                .iter()
                .enumerate()
                .map(move |(i, finding)| result(file, finding, file.alone.get(i).and_then(Option::as_deref)))
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "asyncmod",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Hint => "note",
    }
}

fn rule(definition: &Definition) -> Value {
    let fix = match definition.safety {
        Some(Safety::Safe) => "safe",
        Some(Safety::Unsafe) => "unsafe (applied with --unsafe-fixes)",
        None => "none (report only)",
    };
    let help = format!(
        "{}\n\nWhy: {}\n\nFix ({fix}): {}\n\nRun `asyncmod explain {}` for examples.",
        definition.what.trim(),
        definition.why.trim(),
        definition.fix.trim(),
        definition.id
    );
    let markdown = format!(
        "{}\n\n**Why.** {}\n\n**Fix ({fix}).** {}\n\nRun `asyncmod explain {}` for examples.",
        definition.what.trim(),
        definition.why.trim(),
        definition.fix.trim(),
        definition.id
    );
    json!({
        "id": definition.id,
        "shortDescription": { "text": definition.summary },
        "fullDescription": { "text": definition.what.trim() },
        "help": { "text": help, "markdown": markdown },
        "defaultConfiguration": { "level": level(definition.severity), "enabled": definition.default },
        "properties": { "tags": ["async", "python", format!("tip-{}", definition.tip)] },
    })
}

fn result(file: &FileReport, finding: &Reported, alone: Option<&str>) -> Value {
    let starts = hunks::line_starts(file.source);
    let location = json!({
        "uri": uri_path(&file.path),
        "uriBaseId": "%SRCROOT%",
    });
    let mut value = json!({
        "ruleId": finding.transform,
        "ruleIndex": definitions::all().iter().position(|d| d.id == finding.transform),
        "level": level(finding.severity),
        "message": { "text": format!("{} [{}]", finding.message, status_label(&finding.status)) },
        "locations": [{ "physicalLocation": {
            "artifactLocation": location,
            "region": region(file.source, &starts, finding.start_byte, finding.end_byte),
        }}],
        "properties": { "fixStatus": fix_status(&finding.status) },
    });
    if let Some(fixed) = alone {
        let replacements: Vec<Value> = line_changes(file.source, fixed)
            .iter()
            .map(|change| {
                let start = starts[change.old.start];
                let end = starts[change.old.end.min(starts.len() - 1)];
                json!({
                    "deletedRegion": region(file.source, &starts, start, end),
                    "insertedContent": { "text": change.new_text },
                })
            })
            .collect();
        let safety = match &finding.status {
            FixStatus::Applicable(Safety::Safe) => "safe fix",
            _ => "unsafe fix (asyncmod applies it with --unsafe-fixes)",
        };
        value["fixes"] = json!([{
            "description": { "text": format!("asyncmod {}: {safety}", finding.transform) },
            "artifactChanges": [{ "artifactLocation": location, "replacements": replacements }],
        }]);
    }
    value
}

/// Percent-encodes what a relative URI reference cannot hold as is (spaces, `%`, `#`, `?`,
/// non-ASCII), keeping `/` as the separator.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte);
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn fix_status(status: &FixStatus) -> &'static str {
    match status {
        FixStatus::Applicable(Safety::Safe) => "safe",
        FixStatus::Applicable(Safety::Unsafe) => "unsafe",
        FixStatus::NeedsUnsafeFixes => "needs-unsafe-fixes",
        FixStatus::Unavailable(_) => "none",
        FixStatus::Refused(_) => "refused",
    }
}

/// A SARIF region for the bytes `start..end`: 1-based lines, UTF-16 columns (the end column is
/// the one after the last character).
fn region(source: &str, starts: &[usize], start: usize, end: usize) -> Value {
    let (start_line, start_column) = utf16_position(source, starts, start);
    let (end_line, end_column) = utf16_position(source, starts, end.max(start));
    json!({
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
    })
}

fn utf16_position(source: &str, starts: &[usize], offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    // `starts` ends with the text's length; an offset there belongs to the last line unless the
    // text ends with a newline.
    let line = starts.partition_point(|&s| s <= offset).max(1);
    let line = if starts.get(line).is_none() && line > 1 && starts[line - 1] == source.len() {
        if source.ends_with('\n') { line } else { line - 1 }
    } else {
        line
    };
    let line_start = starts[line - 1];
    let column = source.get(line_start..offset).map_or(offset - line_start, |s| s.encode_utf16().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_escape_what_a_uri_cannot_hold() {
        assert_eq!(uri_path("app/my file#1.py"), "app/my%20file%231.py");
        assert_eq!(uri_path("pkg/café.py"), "pkg/caf%C3%A9.py");
        assert_eq!(uri_path("a,b/c.py"), "a,b/c.py");
    }

    #[test]
    fn columns_count_utf16_code_units() {
        let source = "s = '😀' + x\ny\n";
        let starts = hunks::line_starts(source);
        let x = source.find('x').unwrap();
        // The emoji is two UTF-16 units (and four bytes).
        assert_eq!(utf16_position(source, &starts, x), (1, 12));
        assert_eq!(utf16_position(source, &starts, source.find('y').unwrap()), (2, 1));
        assert_eq!(utf16_position(source, &starts, source.len()), (3, 1));
        let source = "a\nbc";
        let starts = hunks::line_starts(source);
        assert_eq!(utf16_position(source, &starts, source.len()), (2, 3));
    }
}
