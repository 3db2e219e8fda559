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
            let message = format!(
                "`{}` blocks the event loop inside `async def`; use `await asyncio.sleep(...)`",
                file.text(function)
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
            let Some(asyncio) = file.model.module_ref("asyncio", call) else {
                findings.push(finding.report_only("the name `asyncio` means something else here"));
                continue;
            };
            let arguments = call.child_by_field_name("arguments").map_or("()", |a| file.text(a));
            let sleep = format!("{}.sleep{arguments}", asyncio.name);
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
                imports: if asyncio.needs_import { vec!["asyncio".to_string()] } else { Vec::new() },
                helpers: Vec::new(),
            };
            findings.push(finding.with_fix(fix));
        }
    }
}
