//! Findings and fixes: plain data shared by the engine, every printer and the bot.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: `Hint < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Advice.
    Hint,
    /// Leaves concurrency on the table.
    Warning,
    /// Blocks the event loop, or loses exceptions or work.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Severity::Hint => "hint",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Whether a fix may change anything beyond unblocking the loop or keeping an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Safety {
    /// The only observable change is that the loop is no longer blocked or an exception is no
    /// longer lost. Applied by default.
    Safe,
    /// Ordering, exception types, decoding or threads may change. Applied with `--unsafe-fixes`.
    Unsafe,
}

impl fmt::Display for Safety {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Safety::Safe => "safe",
            Safety::Unsafe => "unsafe",
        })
    }
}

/// Replace the bytes `range` of the source with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub replacement: String,
}

impl Edit {
    pub fn replace(range: Range<usize>, replacement: impl Into<String>) -> Edit {
        Edit { range, replacement: replacement.into() }
    }
}

/// Module-level code a fix relies on, added once per file after the imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helper {
    /// Already rendered in the file's style, without surrounding blank lines.
    pub code: String,
}

/// A rewrite: edits on the original source, plus what the shared passes must add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub safety: Safety,
    pub edits: Vec<Edit>,
    /// Modules to `import` at the top of the file (skipped when already imported).
    pub imports: Vec<String>,
    pub helpers: Vec<Helper>,
}

/// One occurrence of an anti-pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub transform: &'static str,
    pub severity: Severity,
    /// Byte range in the source the finding was made on.
    pub range: Range<usize>,
    pub message: String,
    /// The rewrite, when one can be made safely.
    pub fix: Option<Fix>,
    /// Why there is no fix, when there is none.
    pub no_fix_reason: Option<String>,
}

impl Finding {
    pub fn with_fix(self, fix: Fix) -> Finding {
        Finding { fix: Some(fix), no_fix_reason: None, ..self }
    }

    pub fn report_only(self, reason: impl Into<String>) -> Finding {
        Finding { fix: None, no_fix_reason: Some(reason.into()), ..self }
    }
}
