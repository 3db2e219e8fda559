//! Printers: one function per output format, all reading the same [`Reported`] data.

use std::path::Path;

use crate::engine::{FixStatus, Reported};
use crate::finding::Safety;

pub mod diff;
pub mod github;
pub mod hunks;
pub mod json;
pub mod review;
pub mod sarif;

pub use json::json_document;

/// One file as the machine formats (GitHub, SARIF, review) see it.
pub struct FileReport<'a> {
    /// Relative to the repository root, with `/` separators, as GitHub and SARIF want it.
    pub path: String,
    pub source: &'a str,
    pub findings: &'a [Reported],
    /// Per finding, the file after applying only that finding's fix (with its imports), when it
    /// has one that applies on its own.
    pub alone: &'a [Option<String>],
    /// The file as `fix` would write it, when that differs.
    pub fixed: Option<&'a str>,
}

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
