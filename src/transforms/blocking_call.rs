//! `blocking-call`: a known blocking call in a coroutine (`subprocess.run`, `shutil.copy`,
//! `os.path.exists`, `input`, `Path(p).read_text()`, `json.load`, ...) becomes
//! `await asyncio.to_thread(fn, *args, **kwargs)`; a call whose result blocks when used
//! (`subprocess.Popen`, `urlopen`, `open`) is reported with advice.
//! The catalogue is data: the `[blocking]` table of `transforms/blocking-call.toml`, plus
//! `--blocking-callable`. Documentation, safety and examples: the same file.

use tree_sitter::Node;

use crate::blocking::{self, BLOCKING_CATALOGUE};
use crate::definitions::CallKind;
use crate::finding::{Finding, Severity};
use crate::semantic::Context;
use crate::transforms::{FileContext, Transform, open_block, to_thread};

pub struct BlockingCall;

const ID: &str = "blocking-call";

impl Transform for BlockingCall {
    fn id(&self) -> &'static str {
        ID
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        // The catalogue is extended at run time (`--blocking-callable`): any coroutine may hold one.
        &[&["async def"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        let calls = blocking::catalogue_calls(file.model, file.settings, file.calls, BLOCKING_CATALOGUE);
        for (call, _, name) in calls {
            let Some(kind) =
                blocking::kind_of_call(BLOCKING_CATALOGUE, &name, file.model, call, file.settings)
            else {
                continue;
            };
            let why_not_await = match file.model.context(call) {
                Context::Sync => continue,
                Context::Async => None,
                Context::AsyncNoAwait(why) => Some(why),
            };
            let shown = short_name(&name);
            let finding = match kind {
                CallKind::Elsewhere | CallKind::CpuReleasesGil | CallKind::CpuHoldsGil => continue,
                CallKind::Thread => file.finding(
                    ID,
                    call,
                    format!("`{shown}(...)` blocks the event loop in a coroutine; run it in a thread"),
                ),
                CallKind::Light => {
                    let finding = file.finding(
                        ID,
                        call,
                        format!("`{shown}(...)` may ask the file system in a coroutine"),
                    );
                    findings.push(Finding { severity: Severity::Hint, ..finding }.report_only(
                        "it asks the system for little (the current folder, the home folder) or nothing, so a thread \
                         would cost more than the call; move it to a thread only if the path is on a slow or remote \
                         file system",
                    ));
                    continue;
                }
                CallKind::Subprocess => {
                    let advice = if matches!(name.as_str(), "subprocess.Popen" | "os.popen") {
                        "the process handle blocks again when used (wait, communicate, reads): start it with \
                         `await asyncio.create_subprocess_exec(...)` instead, or move the whole use into a plain \
                         function run with `asyncio.to_thread`"
                    } else {
                        "the process runs on, and waiting for it (`os.waitpid`) blocks: start it with \
                         `await asyncio.create_subprocess_exec(...)` and await `proc.wait()` instead"
                    };
                    findings.push(
                        file.finding(ID, call, format!("`{shown}(...)` blocks the event loop"))
                            .report_only(advice),
                    );
                    continue;
                }
                CallKind::BlockingResult => {
                    findings.push(blocking_result(file, call, &name, why_not_await.is_none()));
                    continue;
                }
            };
            if let Some(why) = why_not_await {
                findings.push(finding.report_only(format!(
                    "`await` cannot go {why}; move the call into the coroutine body or into a plain function \
                     run with `asyncio.to_thread`"
                )));
                continue;
            }
            match to_thread::run_in_thread(file, call) {
                Ok(fix) => findings.push(finding.with_fix(fix)),
                Err(why) => findings.push(finding.report_only(why)),
            }
        }
    }
}

/// The finding for a call whose result blocks when used: reported with advice, except a
/// `with open(...) as f:` block that can move to a thread (or to aiofiles) as a whole.
fn blocking_result(file: &FileContext, call: Node, name: &str, await_allowed: bool) -> Finding {
    let finding = file.finding(
        ID,
        call,
        format!("`{}(...)` blocks the event loop, and so does using what it returns", short_name(name)),
    );
    let opens_file = matches!(name, "builtins.open" | "io.open" | "io.open_code" | "pathlib.Path.open");
    if !opens_file {
        return finding.report_only(
            "moving only this call to a thread does not help: move the call and every use of its result into a \
             plain function and `await asyncio.to_thread(that_function)`",
        );
    }
    let advice = open_advice(file, call);
    if !(await_allowed && in_with_item(call)) {
        return finding.report_only(advice);
    }
    match open_block::fix_open_block(file, call, name == "builtins.open") {
        Ok(fix) => finding.with_fix(fix),
        Err(why) => finding.report_only(format!("{why}, so it is not moved; {advice}")),
    }
}

/// Whether `call` is what a `with` statement manages (`with open(p) as f:`).
fn in_with_item(call: Node) -> bool {
    let item = call.parent().filter(|p| p.kind() == "as_pattern").and_then(|p| p.parent()).or(call.parent());
    item.is_some_and(|i| i.kind() == "with_item")
}

/// `builtins.open` is shown as `open`, `pathlib.Path.read_text` as `Path(...).read_text`.
fn short_name(name: &str) -> String {
    if let Some(builtin) = name.strip_prefix("builtins.") {
        builtin.to_string()
    } else if let Some(method) = name.strip_prefix("pathlib.Path.") {
        format!("Path(...).{method}")
    } else {
        name.to_string()
    }
}

/// What to do about `open(...)` in a coroutine: the reads and writes on the file block too.
fn open_advice(file: &FileContext, call: Node) -> String {
    let in_with = in_with_item(call);
    let aiofiles = if file.settings.prefer.contains("aiofiles") {
        "; or use `async with aiofiles.open(...)` and await its reads and writes"
    } else {
        ""
    };
    if in_with {
        format!(
            "the reads and writes in the `with` block block too: move the whole block into a plain function and \
             `await asyncio.to_thread(that_function)`{aiofiles}"
        )
    } else {
        format!(
            "the reads and writes on the file block too: move the opening and every use of the file into a plain \
             function and `await asyncio.to_thread(that_function)`{aiofiles}"
        )
    }
}
