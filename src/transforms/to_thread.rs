//! The rewrite `blocking-call` and `blocking-helper` share: a blocking call `fn(a, b=1)` in a
//! coroutine runs in a worker thread of the library that runs the coroutine:
//!
//! - asyncio: `await asyncio.to_thread(fn, a, b=1)`, or on Python 3.8
//!   `await asyncio.get_running_loop().run_in_executor(None, fn, a)`;
//! - trio and anyio: `await trio.to_thread.run_sync(fn, a)` / `anyio.to_thread.run_sync(...)`.
//!
//! Where the runner takes no keyword arguments, they go through `functools.partial`.

use tree_sitter::Node;

use crate::config::PythonVersion;
use crate::finding::{Edit, Fix, Safety};
use crate::transforms::FileContext;
use crate::transforms::statements;

const TO_THREAD_SINCE: PythonVersion = PythonVersion { minor: 9 };

/// How a callable is run in a worker thread in this file, as text up to the callable:
/// `asyncio.to_thread(`.
pub(crate) struct Runner {
    pub opening: String,
    /// Whether keyword arguments must be bound with `functools.partial` first.
    pub positional_only: bool,
    pub imports: Vec<String>,
}

/// The runner for the library the file's coroutines run on: anyio when the file uses it (its
/// runner works under every backend), trio when it uses trio alone, asyncio otherwise. `at` is
/// where the call goes (for name resolution).
pub(crate) fn runner(file: &FileContext, at: Node) -> Result<Runner, String> {
    let model = file.model;
    let library = if model.imports_module("anyio") {
        "anyio"
    } else if model.imports_module("trio") {
        if model.imports_module("asyncio") {
            return Err("the file uses both trio and asyncio; run the call in a thread of the library that \
                        runs this coroutine"
                .into());
        }
        "trio"
    } else {
        "asyncio"
    };
    let module = model.module_ref(library, at).ok_or(format!(
        "the name `{library}` is bound to something else here; move the call to a thread by hand"
    ))?;
    let imports = if module.needs_import { vec![library.to_string()] } else { Vec::new() };
    let name = module.name;
    Ok(match library {
        "asyncio" if file.settings.target >= TO_THREAD_SINCE => {
            Runner { opening: format!("{name}.to_thread("), positional_only: false, imports }
        }
        "asyncio" => Runner {
            opening: format!("{name}.get_running_loop().run_in_executor(None, "),
            positional_only: true,
            imports,
        },
        _ => Runner { opening: format!("{name}.to_thread.run_sync("), positional_only: true, imports },
    })
}

/// The fix that runs `call` in a thread, or why there is none. Edits go around the callee and the
/// arguments, so that their text, layout and comments stay as written.
pub(crate) fn run_in_thread(file: &FileContext, call: Node) -> Result<Fix, String> {
    let function = call.child_by_field_name("function").ok_or("the call has no callee")?;
    let arguments = call
        .child_by_field_name("arguments")
        .filter(|a| a.kind() == "argument_list")
        .ok_or("a generator argument must be wrapped in parentheses first; move the call by hand")?;
    if call.parent().is_some_and(|p| p.kind() == "await") {
        return Err("the call is already awaited, which fails at run time; fix it by hand".into());
    }
    if statements::in_debug_field(call) {
        return Err("an f-string `=` prints this call's text; rewrite it by hand".into());
    }
    let Runner { opening, positional_only, mut imports } = runner(file, call)?;
    let mut cursor = arguments.walk();
    let args: Vec<Node> = arguments.named_children(&mut cursor).filter(|a| a.kind() != "comment").collect();
    let keywords = args.iter().any(|a| matches!(a.kind(), "keyword_argument" | "dictionary_splat"));
    let partial = positional_only && keywords;
    let opening = if partial {
        let functools = file
            .model
            .module_ref("functools", call)
            .ok_or("the name `functools` is bound to something else here; move the call by hand")?;
        if functools.needs_import {
            imports.push("functools".to_string());
        }
        format!("{opening}{}.partial(", functools.name)
    } else {
        opening
    };
    // `await` binds looser than attribute access, subscripts and calls: `f().x` needs parentheses.
    let wrap = call.parent().is_some_and(|p| matches!(p.kind(), "attribute" | "subscript" | "call"));
    let open = if wrap { "(await " } else { "await " };
    let mut edits =
        vec![Edit::replace(function.start_byte()..function.start_byte(), format!("{open}{opening}"))];
    // The call's `(` becomes the separator between the callable and its arguments.
    let paren = arguments.start_byte()..arguments.start_byte() + 1;
    let separator = match args.first() {
        None => "",
        Some(_) if file.source[paren.end..].starts_with(['\n', '\r']) => ",",
        Some(_) => ", ",
    };
    edits.push(Edit::replace(paren, separator));
    // The call's `)` closes the runner, or `partial(`; then what is still open.
    let close = ")".repeat(usize::from(partial) + usize::from(wrap));
    if !close.is_empty() {
        edits.push(Edit::replace(call.end_byte()..call.end_byte(), close));
    }
    Ok(Fix { safety: Safety::Unsafe, edits, imports, helpers: Vec::new() })
}
