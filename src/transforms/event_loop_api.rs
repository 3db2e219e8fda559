//! `event-loop-api`: `asyncio.get_event_loop()` in a coroutine becomes
//! `asyncio.get_running_loop()`. Documentation, safety and examples:
//! `transforms/event-loop-api.toml`.

use crate::finding::{Edit, Finding, Fix, Safety};
use crate::semantic::{CalleeFilter, Context};
use crate::transforms::{FileContext, Transform};

pub struct EventLoopApi;

const ID: &str = "event-loop-api";

impl Transform for EventLoopApi {
    fn id(&self) -> &'static str {
        ID
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[&["async", "get_event_loop"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        const GETTERS: &[&str] = &["asyncio.get_event_loop", "asyncio.events.get_event_loop"];
        let getters = CalleeFilter::new(file.model, GETTERS);
        for &call in file.calls {
            let Some(function) = call.child_by_field_name("function") else { continue };
            if !getters.may_call(function, file.source) {
                continue;
            }
            let name = file.model.qualified_name(function);
            if !name.is_some_and(|name| GETTERS.contains(&name.as_str())) {
                continue;
            }
            // A lambda or generator may run after the coroutine, where no loop is running.
            if file.model.context(call) != Context::Async {
                continue;
            }
            let has_arguments =
                call.child_by_field_name("arguments").is_some_and(|a| a.named_child_count() > 0);
            if has_arguments {
                continue;
            }
            let finding = file.finding(
                ID,
                call,
                format!("`{}()` in a coroutine: use `asyncio.get_running_loop()`", file.text(function)),
            );
            // `aio.get_event_loop` keeps its alias; a bare `get_event_loop` needs the module.
            let (edit, imports) = match function.child_by_field_name("attribute") {
                Some(attribute) => (Edit::replace(attribute.byte_range(), "get_running_loop"), Vec::new()),
                None => {
                    let Some(asyncio) = file.model.module_ref("asyncio", call) else {
                        findings.push(finding.report_only("the name `asyncio` is not usable here"));
                        continue;
                    };
                    let imports = if asyncio.needs_import { vec!["asyncio".to_string()] } else { Vec::new() };
                    (
                        Edit::replace(function.byte_range(), format!("{}.get_running_loop", asyncio.name)),
                        imports,
                    )
                }
            };
            let fix = Fix { safety: Safety::Safe, edits: vec![edit], imports, helpers: Vec::new() };
            findings.push(finding.with_fix(fix));
        }
    }
}
