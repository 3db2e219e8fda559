//! `--format json`: the stable machine format. Its shape is documented in the README ("JSON
//! format"); a change to it bumps `version`.

use std::path::Path;

use serde_json::json;

use crate::engine::{FixStatus, Reported};
use crate::source::FileError;

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
