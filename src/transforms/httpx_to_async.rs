//! `httpx-to-async`: sync httpx in a coroutine becomes `httpx.AsyncClient` with awaited calls.
//! `httpx.get(...)` and friends get a client of their own for the statement; `with httpx.Client()
//! as c:` becomes `async with httpx.AsyncClient() as c:` with every request of `c` awaited.
//! Documentation, safety and examples: `transforms/httpx-to-async.toml`.

use tree_sitter::Node;

use crate::finding::{Edit, Finding, Fix, Safety};
use crate::semantic::Context;
use crate::syntax;
use crate::transforms::kept_objects::{self, calls_through};
use crate::transforms::statements::{
    arguments, awaited, enclosing_function, enclosing_statement, fresh_name, in_debug_field,
    indent_continuation, keyword, own_lines, rebound_by_other_with, references, render,
};
use crate::transforms::{FileContext, Transform};

pub struct HttpxToAsync;

const ID: &str = "httpx-to-async";

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options", "request"];
/// Keywords of `httpx.get(...)` and friends that `AsyncClient.get(...)` takes too.
const REQUEST_KEYWORDS: &[&str] = &[
    "method",
    "url",
    "params",
    "content",
    "data",
    "files",
    "json",
    "headers",
    "cookies",
    "auth",
    "follow_redirects",
    "timeout",
    "extensions",
];
/// Keywords of `httpx.get(...)` that configure the client instead.
const CLIENT_KEYWORDS: &[&str] = &["verify", "cert", "proxy", "proxies", "trust_env", "mounts"];
/// Client keywords whose values are sync objects an `AsyncClient` cannot use: transports
/// (`httpx.HTTPTransport` has no async methods) and event hooks (an `AsyncClient` awaits them).
const SYNC_ONLY_KEYWORDS: &[&str] = &["transport", "mounts", "event_hooks"];

/// Why the arguments of a `httpx.Client(...)` or `httpx.get(...)` cannot go to an `AsyncClient`.
fn sync_only_argument(file: &FileContext, call: Node) -> Option<String> {
    arguments(call).into_iter().find_map(|argument| match keyword(file, argument) {
        Some((name, _)) if SYNC_ONLY_KEYWORDS.contains(&name) => Some(format!(
            "`{name}=` holds sync transports or hooks, which an `AsyncClient` cannot use (async ones are \
             needed)"
        )),
        None if argument.kind() == "dictionary_splat" || argument.kind() == "list_splat" => Some(format!(
            "`{}` may hold sync transports or hooks, which an `AsyncClient` cannot use",
            file.text(argument)
        )),
        _ => None,
    })
}
/// The blocking methods of a client (Ruff's ASYNC212 flags `close` too: it closes the pool).
const CLIENT_REQUESTS: &[&str] =
    &["get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream", "close"];
/// Attributes of a client that are plain data, the same on `AsyncClient`.
const CLIENT_DATA: &[&str] = &["headers", "cookies", "base_url", "timeout", "auth", "params", "is_closed"];

impl Transform for HttpxToAsync {
    fn id(&self) -> &'static str {
        ID
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[&["async", "httpx"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        let mut kept = Vec::new();
        for &call in file.calls {
            let Some(function) = call.child_by_field_name("function") else { continue };
            let Some(name) = file.model.qualified_name(function) else { continue };
            let Some(member) = name.strip_prefix("httpx.") else { continue };
            let is_method = METHODS.contains(&member);
            if !is_method && member != "Client" {
                continue;
            }
            // A client kept in a variable or on `self`: its requests are reported below.
            if !is_method && call.parent().is_none_or(|p| p.kind() != "as_pattern") {
                kept.extend(kept_objects::kept(file, call, "client"));
                continue;
            }
            let why_not_await = match file.model.context(call) {
                Context::Sync => continue,
                Context::Async => None,
                Context::AsyncNoAwait(why) => Some(why),
            };
            // A client block is reported on each of its requests (where Ruff's ASYNC212 points), or
            // on the constructor when it makes none; they share the block's one fix.
            let requests = if is_method { Vec::new() } else { block_requests(file, call) };
            let found: Vec<Finding> = if requests.is_empty() {
                let advice = if is_method { "await it" } else { "await its requests" };
                let message = format!(
                    "`{}` blocks the event loop in a coroutine; use `httpx.AsyncClient` and {advice}",
                    file.text(function)
                );
                vec![file.finding(ID, call, message)]
            } else {
                requests
                    .iter()
                    .map(|(request, callee)| {
                        let message = format!(
                            "`{}` blocks the event loop in a coroutine; use `httpx.AsyncClient` and await it",
                            file.text(*callee)
                        );
                        file.finding(ID, *request, message)
                    })
                    .collect()
            };
            let report = |findings: &mut Vec<Finding>, reason: String| {
                findings.extend(found.iter().cloned().map(|f| f.report_only(reason.clone())));
            };
            if let Some(why) = why_not_await {
                report(findings, format!("`await` cannot go {why}"));
                continue;
            }
            let Some(httpx) = file.model.module_ref("httpx", call) else {
                report(findings, "the name `httpx` is bound to something else here".into());
                continue;
            };
            let imports = if httpx.needs_import { vec!["httpx".to_string()] } else { Vec::new() };
            let edits = if is_method {
                module_function(file, call, member, &httpx.name)
            } else {
                client_block(file, call, &httpx.name)
            };
            match edits {
                Ok(edits) => {
                    let fix = Fix { safety: Safety::Unsafe, edits, imports, helpers: vec![] };
                    findings.extend(found.into_iter().map(|f| f.with_fix(fix.clone())));
                }
                Err(reason) => report(findings, reason),
            }
        }
        kept.extend(kept_objects::annotated_parameters(file, &["httpx.Client"], "client"));
        for through in calls_through(file, &kept, CLIENT_REQUESTS) {
            let message = format!(
                "`{}` blocks the event loop in a coroutine; use `httpx.AsyncClient` and await it",
                file.text(through.callee)
            );
            let reason = format!("{}; use an `httpx.AsyncClient` by hand", through.kept.reason);
            findings.push(file.finding(ID, through.call, message).report_only(reason));
        }
    }
}

/// `r = httpx.get(url, verify=False)` becomes
/// `async with httpx.AsyncClient(verify=False) as client:` + `r = await client.get(url)`.
fn module_function(file: &FileContext, call: Node, method: &str, httpx: &str) -> Result<Vec<Edit>, String> {
    let statement = enclosing_statement(call).ok_or("the call is not inside a statement of the function")?;
    let indent = own_lines(file, statement)?;
    let function = enclosing_function(call).ok_or("the call is not in a function")?;
    let others = syntax::descendants(statement, |n| {
        n.kind() == "call"
            && n != call
            && n.child_by_field_name("function")
                .and_then(|f| file.model.qualified_name(f))
                .is_some_and(|q| q.strip_prefix("httpx.").is_some_and(|m| METHODS.contains(&m)))
    });
    if !others.is_empty() {
        return Err("several httpx calls in one statement; rewrite them by hand".into());
    }
    let mut request_arguments = Vec::new();
    let mut client_arguments = Vec::new();
    for argument in arguments(call) {
        match keyword(file, argument) {
            Some((name, _)) if CLIENT_KEYWORDS.contains(&name) => client_arguments.push(file.text(argument)),
            Some((name, _)) if REQUEST_KEYWORDS.contains(&name) => {
                request_arguments.push(file.text(argument))
            }
            Some((name, _)) => return Err(format!("the keyword `{name}` has no `AsyncClient` counterpart")),
            None if argument.kind().contains("splat") => {
                return Err("`*args`/`**kwargs` may hold client settings (`verify=`, `proxy=`)".into());
            }
            None => request_arguments.push(file.text(argument)),
        }
    }
    if let Some(reason) = sync_only_argument(file, call) {
        return Err(reason);
    }
    let arguments_node = call.child_by_field_name("arguments").ok_or("the call has no argument list")?;
    let argument_text = if client_arguments.is_empty() {
        file.text(arguments_node).to_string()
    } else if syntax::find_first(arguments_node, |n| n.kind() == "comment").is_some() {
        return Err("comments inside arguments that must move to the client".into());
    } else {
        format!("({})", request_arguments.join(", "))
    };
    if in_debug_field(call) {
        return Err("the call is in a self-documenting f-string field (`{...=}`), which would print the \
                    rewritten expression"
            .into());
    }
    let client = fresh_name(file, function, &["client", "http_client"]);
    let request = awaited(call, &format!("{client}.{method}{argument_text}"));
    let inner = [Edit::replace(call.byte_range(), request)];
    let body = render(file.source, statement.byte_range(), &inner);
    let unit = &file.style.indent;
    let nl = file.style.newline;
    let block = format!(
        "async with {httpx}.AsyncClient({}) as {client}:{nl}{indent}{unit}{}",
        client_arguments.join(", "),
        indent_continuation(&body, unit)
    );
    Ok(vec![Edit::replace(statement.byte_range(), block)])
}

/// The requests (`c.get(...)`, with their callee) made in a coroutine through the client of a
/// `with httpx.Client() as c:` block, in the block.
fn block_requests<'t>(file: &FileContext<'_, 't>, constructor: Node<'t>) -> Vec<(Node<'t>, Node<'t>)> {
    let pattern = constructor.parent().filter(|p| p.kind() == "as_pattern");
    let Some(target) = pattern.and_then(|p| p.child_by_field_name("alias")).and_then(|a| a.named_child(0))
    else {
        return Vec::new();
    };
    let with =
        std::iter::successors(constructor.parent(), |n| n.parent()).find(|n| n.kind() == "with_statement");
    let Some(body) = with.and_then(|w| w.child_by_field_name("body")) else { return Vec::new() };
    let name = file.text(target);
    let calls = syntax::descendants(body, |n| n.kind() == "call");
    calls
        .into_iter()
        .filter_map(|call| {
            let callee = call.child_by_field_name("function").filter(|f| f.kind() == "attribute")?;
            let receiver = callee.child_by_field_name("object")?;
            let method = callee.child_by_field_name("attribute").map(|a| file.text(a))?;
            let through = receiver.kind() == "identifier"
                && file.text(receiver) == name
                && CLIENT_REQUESTS.contains(&method)
                && file.model.context(call) != Context::Sync;
            through.then_some((call, callee))
        })
        .collect()
}

/// `with httpx.Client() as c:` becomes `async with httpx.AsyncClient() as c:`, its requests awaited.
fn client_block(file: &FileContext, call: Node, httpx: &str) -> Result<Vec<Edit>, String> {
    const OUTSIDE: &str = "a client outside a `with httpx.Client() as name:` block: its lifetime cannot be \
                           followed; use `async with httpx.AsyncClient()`";
    let pattern = call.parent().filter(|p| p.kind() == "as_pattern").ok_or(OUTSIDE)?;
    let item = pattern.parent().filter(|p| p.kind() == "with_item").ok_or(OUTSIDE)?;
    let clause = item.parent().filter(|p| p.kind() == "with_clause").ok_or(OUTSIDE)?;
    let with = clause.parent().filter(|p| p.kind() == "with_statement").ok_or(OUTSIDE)?;
    if with.child(0).is_some_and(|first| first.kind() == "async") {
        return Err("`async with` over a sync client fails at run time; use `httpx.AsyncClient`".into());
    }
    if clause.named_child_count() != 1 {
        return Err("the `with` statement opens other context managers too; split it first".into());
    }
    if let Some(reason) = sync_only_argument(file, call) {
        return Err(reason);
    }
    let target = pattern.child_by_field_name("alias").and_then(|a| a.named_child(0)).ok_or(OUTSIDE)?;
    if target.kind() != "identifier" {
        return Err(OUTSIDE.into());
    }
    let body = with.child_by_field_name("body").ok_or(OUTSIDE)?;
    let function = enclosing_function(call).ok_or(OUTSIDE)?;
    let name = file.text(target);
    let with_keyword = with.child(0).ok_or(OUTSIDE)?;
    let callee = call.child_by_field_name("function").ok_or(OUTSIDE)?;
    let mut edits = vec![
        Edit::replace(with_keyword.byte_range(), "async with"),
        Edit::replace(callee.byte_range(), format!("{httpx}.AsyncClient")),
    ];
    for usage in references(file, function, name) {
        if usage == target || rebound_by_other_with(file, usage, name, with) {
            continue;
        }
        let line = usage.start_position().row + 1;
        if !(body.start_byte() <= usage.start_byte() && usage.end_byte() <= body.end_byte()) {
            return Err(format!("`{name}` is used outside its `with` block (line {line})"));
        }
        if enclosing_function(usage) != Some(function) {
            return Err(format!("`{name}` is used in a nested function (line {line})"));
        }
        let attribute = usage
            .parent()
            .filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(usage))
            .ok_or_else(|| {
                format!("`{name}` is passed on or stored (line {line}); an `AsyncClient` cannot stand in")
            })?;
        let member = attribute.child_by_field_name("attribute").map_or("", |a| file.text(a));
        let called = attribute
            .parent()
            .filter(|p| p.kind() == "call" && p.child_by_field_name("function") == Some(attribute));
        match called {
            None if CLIENT_DATA.contains(&member) => {}
            // Builds a request without sending it: sync on `AsyncClient` too.
            Some(_) if member == "build_request" => {}
            Some(request) if METHODS.contains(&member) || member == "send" || member == "close" => {
                if file.model.context(request) != Context::Async {
                    return Err(format!("`await` cannot go where `{name}.{member}` is called (line {line})"));
                }
                if in_debug_field(request) {
                    return Err(format!(
                        "`{name}.{member}` is called in a self-documenting f-string field (line {line}), \
                         which would print the rewritten expression"
                    ));
                }
                let method = if member == "close" { "aclose" } else { member };
                let arguments = request.child_by_field_name("arguments").map_or("()", |a| file.text(a));
                edits.push(Edit::replace(
                    request.byte_range(),
                    awaited(request, &format!("{name}.{method}{arguments}")),
                ));
            }
            _ => {
                return Err(format!(
                    "`{name}.{member}` has no awaited counterpart this rewrite knows (line {line})"
                ));
            }
        }
    }
    Ok(edits)
}
