//! `--format github`: GitHub Actions workflow commands (`::error file=...::message`), one per
//! finding, most severe first (GitHub shows only the first 10 annotations of a kind per step and
//! 50 per job), and the Markdown table `--summary FILE` writes for `$GITHUB_STEP_SUMMARY`.
//!
//! Lines and columns are 1-based; columns count Unicode characters.

use std::cmp::Reverse;

use crate::engine::Reported;
use crate::finding::Severity;

use super::{FileReport, status_label};

/// Every finding of every file as a workflow command line, errors first, then by path and line.
pub fn annotations(files: &[FileReport]) -> String {
    let mut out = String::new();
    for (path, finding) in by_severity(files) {
        let command = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Hint => "notice",
        };
        let mut properties = vec![
            format!("file={}", escape_property(path)),
            format!("line={}", finding.line),
            format!("endLine={}", finding.end_line),
        ];
        // GitHub reads columns only for an annotation on one line.
        if finding.line == finding.end_line {
            properties.push(format!("col={}", finding.column));
            properties.push(format!("endColumn={}", finding.end_column));
        }
        properties.push(format!("title={}", escape_property(finding.transform)));
        let message = format!("{} [{}]", finding.message, status_label(&finding.status));
        out.push_str(&format!("::{command} {}::{}\n", properties.join(","), escape_data(&message)));
    }
    out
}

/// A Markdown report of all findings (annotations beyond GitHub's limits are not shown, this is).
pub fn summary_markdown(files: &[FileReport]) -> String {
    let findings = by_severity(files);
    let mut out = String::from("## asyncmod\n\n");
    if findings.is_empty() {
        out.push_str("No findings.\n");
        return out;
    }
    let file_count = files.iter().filter(|f| !f.findings.is_empty()).count();
    let s = |n: usize| if n == 1 { "" } else { "s" };
    out.push_str(&format!(
        "{} finding{} in {} file{}.\n\n",
        findings.len(),
        s(findings.len()),
        file_count,
        s(file_count)
    ));
    out.push_str("| Severity | Location | Transform | Message | Fix |\n");
    out.push_str("| --- | --- | --- | --- | --- |\n");
    for (path, finding) in findings {
        out.push_str(&format!(
            "| {} | `{}:{}:{}` | `{}` | {} | {} |\n",
            finding.severity,
            table_cell(path),
            finding.line,
            finding.column,
            finding.transform,
            table_cell(&finding.message),
            table_cell(&status_label(&finding.status)),
        ));
    }
    out
}

fn by_severity<'a>(files: &'a [FileReport]) -> Vec<(&'a str, &'a Reported)> {
    let mut all: Vec<(&str, &Reported)> =
        files.iter().flat_map(|f| f.findings.iter().map(move |finding| (f.path.as_str(), finding))).collect();
    all.sort_by_key(|(path, f)| (Reverse(f.severity), *path, f.line, f.column, f.transform));
    all
}

/// The message part of a workflow command: `%`, CR and LF are escaped.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A property value: as [`escape_data`], plus `:` and `,`, which separate properties.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Pipes would end the cell, line breaks the row.
fn table_cell(text: &str) -> String {
    text.replace('\\', "\\\\").replace('|', "\\|").replace("\r\n", " ").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_workflow_command_rules() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(table_cell("a | b\nc"), "a \\| b c");
    }
}
