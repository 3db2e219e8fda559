//! `cpu-bound` (report only): known CPU-heavy calls in a coroutine get the advice that fits them:
//! a thread for C code that releases the GIL (`hashlib.pbkdf2_hmac`, `zlib.compress`,
//! `bcrypt.hashpw`), a process pool for pure-Python work that holds it (`difflib.get_close_matches`).
//! The catalogue is the `[blocking]` table of `transforms/cpu-bound.toml`, which also holds the
//! documentation and examples.

use crate::blocking::{self, CPU_CATALOGUE};
use crate::definitions::CallKind;
use crate::finding::Finding;
use crate::semantic::Context;
use crate::transforms::{FileContext, Transform};

pub struct CpuBound;

const ID: &str = "cpu-bound";

impl Transform for CpuBound {
    fn id(&self) -> &'static str {
        ID
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[
            &["async", "hashlib"],
            &["async", "zlib"],
            &["async", "gzip"],
            &["async", "bz2"],
            &["async", "lzma"],
            &["async", "bcrypt"],
            &["async", "difflib"],
        ]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        for (call, callee, name) in
            blocking::catalogue_calls(file.model, file.settings, file.calls, CPU_CATALOGUE)
        {
            let kind = blocking::kind_of(CPU_CATALOGUE, &name, file.settings);
            if kind.is_none() || file.model.context(call) == Context::Sync {
                continue;
            }
            // The advice names the callable as the code does (`kdf` after `import pbkdf2_hmac as kdf`).
            let written = file.text(callee);
            let advice = match kind {
                Some(CallKind::CpuReleasesGil) => format!(
                    "it runs in C without holding the GIL, so a thread runs it in parallel with the loop: \
                     `await asyncio.to_thread({written}, ...)` (not rewritten: whether the input is large enough to \
                     matter cannot be told from the code)"
                ),
                Some(CallKind::CpuHoldsGil) => format!(
                    "it is pure-Python work that holds the GIL, so a thread would still stall the loop: run it in \
                     a process, `await loop.run_in_executor(pool, {written}, ...)` with a \
                     `concurrent.futures.ProcessPoolExecutor` created once for the program (its arguments and \
                     result travel by pickling)"
                ),
                _ => continue,
            };
            let message = format!("`{name}(...)` is CPU-heavy and blocks the event loop while it runs");
            findings.push(file.finding(ID, call, message).report_only(advice));
        }
    }
}
