//! The rewrite `blocking-call` and `blocking-helper` share: a blocking call `fn(a, b=1)` in a
//! coroutine becomes `await asyncio.to_thread(fn, a, b=1)`, or on Python 3.8
//! `await asyncio.get_running_loop().run_in_executor(None, fn, a)` (keyword arguments through
//! `functools.partial`).

use tree_sitter::Node;

use crate::config::PythonVersion;
use crate::finding::{Edit, Fix, Safety};
use crate::transforms::FileContext;

const TO_THREAD_SINCE: PythonVersion = PythonVersion { minor: 9 };

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
    if in_self_documenting_fstring(call) {
        return Err("an f-string `=` prints this call's text; rewrite it by hand".into());
    }
    let asyncio = file.model.module_ref("asyncio", call).ok_or(
        "the name `asyncio` is bound to something else here; run the call with `asyncio.to_thread` by hand",
    )?;
    let mut imports = Vec::new();
    if asyncio.needs_import {
        imports.push("asyncio".to_string());
    }
    let mut cursor = arguments.walk();
    let args: Vec<Node> = arguments.named_children(&mut cursor).filter(|a| a.kind() != "comment").collect();
    let keywords = args.iter().any(|a| matches!(a.kind(), "keyword_argument" | "dictionary_splat"));

    let (runner, partial) = if file.settings.target >= TO_THREAD_SINCE {
        (format!("{}.to_thread(", asyncio.name), false)
    } else {
        let runner = format!("{}.get_running_loop().run_in_executor(None, ", asyncio.name);
        if keywords {
            let functools = file
                .model
                .module_ref("functools", call)
                .ok_or("the name `functools` is bound to something else here; move the call by hand")?;
            if functools.needs_import {
                imports.push("functools".to_string());
            }
            (format!("{runner}{}.partial(", functools.name), true)
        } else {
            (runner, false)
        }
    };
    // `await` binds looser than attribute access, subscripts and calls: `f().x` needs parentheses.
    let wrap = call.parent().is_some_and(|p| matches!(p.kind(), "attribute" | "subscript" | "call"));
    let open = if wrap { "(await " } else { "await " };
    let mut edits =
        vec![Edit::replace(function.start_byte()..function.start_byte(), format!("{open}{runner}"))];
    // The call's `(` becomes the separator between the callable and its arguments.
    let paren = arguments.start_byte()..arguments.start_byte() + 1;
    let separator = match args.first() {
        None => "",
        Some(_) if file.source[paren.end..].starts_with(['\n', '\r']) => ",",
        Some(_) => ", ",
    };
    edits.push(Edit::replace(paren, separator));
    let close = match (partial, wrap) {
        (true, true) => "))",
        (true, false) | (false, true) => ")",
        (false, false) => "",
    };
    if !close.is_empty() {
        edits.push(Edit::replace(call.end_byte()..call.end_byte(), close));
    }
    Ok(Fix { safety: Safety::Unsafe, edits, imports, helpers: Vec::new() })
}

/// Whether `node` is inside an f-string replacement field with a `=` specifier.
fn in_self_documenting_fstring(node: Node) -> bool {
    std::iter::successors(node.parent(), |n| n.parent())
        .take_while(|n| n.kind() != "function_definition")
        .any(|n| {
            let mut cursor = n.walk();
            n.kind() == "interpolation" && n.children(&mut cursor).any(|c| c.kind() == "=")
        })
}
