//! Printers: one function per output format, all reading the same [`Reported`] data.

use std::path::Path;

use serde_json::json;

use crate::engine::{FixStatus, Reported};
use crate::finding::Safety;
use crate::source::FileError;

pub mod diff;

/// `path:line:col: id message [fix status]`, the format editors and CI logs understand.
pub fn text_line(path: &Path, finding: &Reported) -> String {
    format!(
        "{}:{}:{}: {} {} [{}]",
        path.display(),
        finding.line,
        finding.column,
        finding.transform,
        finding.message,
        status_label(&finding.status)
    )
}

pub fn status_label(status: &FixStatus) -> String {
    match status {
        FixStatus::Applicable(Safety::Safe) => "fix: safe".to_string(),
        FixStatus::Applicable(Safety::Unsafe) => "fix: unsafe".to_string(),
        FixStatus::NeedsUnsafeFixes => "fix: unsafe, apply with --unsafe-fixes".to_string(),
        FixStatus::Unavailable(reason) => format!("no fix: {reason}"),
        FixStatus::Refused(reason) => format!("fix refused: {reason}"),
    }
}

/// The `--format json` document. Lines and columns are 1-based; columns count Unicode
/// characters; byte offsets are 0-based into the file's UTF-8 text without its BOM.
pub fn json_document(files: &[(&Path, &[Reported])], errors: &[&FileError]) -> serde_json::Value {
    let findings: Vec<serde_json::Value> = files
        .iter()
        .flat_map(|(path, findings)| findings.iter().map(move |f| finding_json(path, f)))
        .collect();
    let errors: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| json!({ "path": e.path.display().to_string(), "message": e.problem.to_string() }))
        .collect();
    json!({ "version": 1, "column_unit": "unicode-character", "findings": findings, "errors": errors })
}

fn finding_json(path: &Path, f: &Reported) -> serde_json::Value {
    let (fix, reason) = match &f.status {
        FixStatus::Applicable(safety) => (Some((safety.to_string(), true)), None),
        FixStatus::NeedsUnsafeFixes => (Some(("unsafe".to_string(), false)), None),
        FixStatus::Unavailable(reason) | FixStatus::Refused(reason) => (None, Some(reason.clone())),
    };
    let edits: Vec<serde_json::Value> = f
        .edits
        .iter()
        .map(|e| {
            json!({
                "start_byte": e.start_byte, "end_byte": e.end_byte,
                "start": { "line": e.start.0, "column": e.start.1 },
                "end": { "line": e.end.0, "column": e.end.1 },
                "replacement": e.replacement,
            })
        })
        .collect();
    json!({
        "path": path.display().to_string(),
        "transform": f.transform,
        "severity": f.severity,
        "message": f.message,
        "start": { "line": f.line, "column": f.column, "byte": f.start_byte },
        "end": { "line": f.end_line, "column": f.end_column, "byte": f.end_byte },
        "fix": fix.map(|(safety, applicable)| json!({
            "safety": safety, "applicable": applicable, "edits": edits, "imports": f.imports,
        })),
        "no_fix_reason": reason,
        "fix_refused": matches!(f.status, FixStatus::Refused(_)),
    })
}
