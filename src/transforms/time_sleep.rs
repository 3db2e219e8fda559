//! `time-sleep`: `time.sleep(x)` in a coroutine becomes `await asyncio.sleep(x)`.
//! Documentation, safety and examples: `transforms/time-sleep.toml`.

use crate::finding::{Edit, Finding, Fix, Safety};
use crate::semantic::Context;
use crate::transforms::{FileContext, Transform};

pub struct TimeSleep;

const ID: &str = "time-sleep";

impl Transform for TimeSleep {
    fn id(&self) -> &'static str {
        ID
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[&["async", "sleep"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        let mut chosen_library: Option<Result<&str, &str>> = None;
        for &call in file.calls {
            let Some(function) = call.child_by_field_name("function") else {
                continue;
            };
            if file.model.qualified_name(function).as_deref() != Some("time.sleep") {
                continue;
            }
            let why_not_await = match file.model.context(call) {
                Context::Sync => continue,
                Context::Async => None,
                Context::AsyncNoAwait(why) => Some(why),
            };
            let library = *chosen_library.get_or_insert_with(|| async_library(file));
            let message = format!(
                "`{}` blocks the event loop in a coroutine; use `await {}.sleep(...)`",
                file.text(function),
                library.unwrap_or("asyncio")
            );
            let finding = file.finding(ID, call, message);
            if let Some(why) = why_not_await {
                findings.push(
                    finding.report_only(format!(
                        "`await` cannot go {why}; move the sleep into the coroutine body"
                    )),
                );
                continue;
            }
            let library = match library {
                Ok(library) => library,
                Err(why) => {
                    findings.push(finding.report_only(why));
                    continue;
                }
            };
            let Some(module) = file.model.module_ref(library, call) else {
                findings.push(finding.report_only(format!(
                    "the name `{library}` is not usable here (bound to something else, or imported later \
                     in this function)"
                )));
                continue;
            };
            let arguments = call.child_by_field_name("arguments").map_or("()", |a| file.text(a));
            let sleep = format!("{}.sleep{arguments}", module.name);
            let parent_kind = call.parent().map(|p| p.kind());
            let replacement = match parent_kind {
                // `await time.sleep(1)` was already awaited (and broken): only the callee changes.
                Some("await") => sleep,
                // `time.sleep(1).x`: await binds looser than attribute access and calls.
                Some("attribute" | "subscript" | "call") => format!("(await {sleep})"),
                _ => format!("await {sleep}"),
            };
            let fix = Fix {
                safety: Safety::Safe,
                edits: vec![Edit::replace(call.byte_range(), replacement)],
                imports: if module.needs_import { vec![library.to_string()] } else { Vec::new() },
                helpers: Vec::new(),
            };
            findings.push(finding.with_fix(fix));
        }
    }
}

/// The async library whose `sleep` replaces `time.sleep`: anyio's works under every backend, so it
/// wins when the file uses anyio; trio's when the file uses trio alone; otherwise asyncio's.
fn async_library(file: &FileContext) -> Result<&'static str, &'static str> {
    let uses = |module| file.model.imports_module(module);
    if uses("anyio") {
        Ok("anyio")
    } else if uses("trio") && uses("asyncio") {
        Err("the file uses both trio and asyncio; await the sleep of the library running this coroutine")
    } else if uses("trio") {
        Ok("trio")
    } else {
        Ok("asyncio")
    }
}
