//! `requests-to-aiohttp`: a `requests` call in a coroutine becomes an aiohttp request, or, where
//! it cannot be carried over faithfully, `await asyncio.to_thread(requests.get, ...)`.
//! Documentation, safety, examples and every behaviour decision: `transforms/requests-to-aiohttp.toml`.
//!
//! Each call gets a block of its own (`async with aiohttp.ClientSession(trust_env=True) as
//! session:`, then `async with session.get(...) as r:` and `await r.read()`), and the later uses
//! of `r` in the function are mapped (`r.json()` becomes `await r.json(content_type=None)`, ...). Calls that share a response variable, a `try` whose
//! handlers name requests' exceptions, or a `requests.Session` block are rewritten together, in
//! one fix, or not at all.

mod exceptions;
mod keywords;
mod response_uses;
mod sessions;

use std::collections::HashMap;
use std::path::Path;

use tree_sitter::Node;

use crate::config::PythonVersion;
use crate::finding::{Edit, Finding, Fix, Safety};
use crate::semantic::{Context, ModuleRef};
use crate::syntax;
use crate::transforms::statements::{
    arguments, awaited, enclosing_function, enclosing_statement, fresh_name, in_debug_field,
    indent_continuation, keyword, own_lines, references, render,
};
use crate::transforms::{FileContext, Transform};

use crate::transforms::kept_objects::{self, KeptCall, calls_through};
use exceptions::{Modules, Raisers, enclosing_tries, map_handlers};
use keywords::{Refusal, map_arguments};
use response_uses::{Response, map_use, parses_json, reads_content};
use sessions::{SessionBlock, session_block, session_sites};

pub struct RequestsToAiohttp;

const ID: &str = "requests-to-aiohttp";

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options", "request"];
const SESSIONS: &[&str] = &["requests.Session", "requests.session", "requests.sessions.Session"];

/// One blocking request in a coroutine.
pub(super) struct Site<'t> {
    call: Node<'t>,
    callee: Node<'t>,
    method: &'t str,
    function: Node<'t>,
    /// The `with requests.Session() as s:` block whose session it goes through.
    session: Option<usize>,
    /// Why the call can only go to a thread, decided before planning (a session whose lifetime
    /// cannot be followed).
    forced: Option<String>,
}

/// An aiohttp rewrite of one site, before it is checked with its group.
struct Rewrite<'t> {
    statement: Node<'t>,
    indent: &'t str,
    /// The response variable.
    var: String,
    /// `r = requests.get(...)`: the variable the user named, and its assignment target.
    target: Option<Node<'t>>,
    /// The result is used at once (`requests.get(u).json()`): the statement follows the block.
    hoisted: Option<Edit>,
    /// The variable that keeps the bytes when the result used at once is `.content`.
    body: Option<String>,
    argument_edits: Vec<Edit>,
}

enum Plan<'t> {
    Aiohttp(Rewrite<'t>),
    Thread(Option<String>),
    Report(String),
}

impl Transform for RequestsToAiohttp {
    fn id(&self) -> &'static str {
        ID
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[&["async", "requests"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        let (sites, sessions) = collect(file);
        let mut by_function: Vec<(Node, Vec<usize>)> = Vec::new();
        for (index, site) in sites.iter().enumerate() {
            match by_function.iter_mut().find(|(f, _)| *f == site.function) {
                Some((_, members)) => members.push(index),
                None => by_function.push((site.function, vec![index])),
            }
        }
        let mut note = None;
        for (function, members) in by_function {
            check_function(file, function, &sites, &members, &sessions, &mut note, findings);
        }
    }
}

/// The requests calls in coroutines, and the session blocks they may go through.
fn collect<'t>(file: &FileContext<'_, 't>) -> (Vec<Site<'t>>, Vec<SessionBlock<'t>>) {
    let mut sites = Vec::new();
    let mut sessions = Vec::new();
    let mut kept = Vec::new();
    for &call in file.calls {
        let Some(callee) = call.child_by_field_name("function") else { continue };
        let Some(name) = file.model.qualified_name(callee) else { continue };
        if file.model.context(call) == Context::Sync {
            continue;
        }
        let Some(function) = enclosing_function(call) else { continue };
        let method = name.strip_prefix("requests.api.").or_else(|| name.strip_prefix("requests."));
        if let Some(method) = method.and_then(|m| METHODS.iter().find(|known| **known == m)) {
            sites.push(Site { call, callee, method, function, session: None, forced: None });
        } else if SESSIONS.contains(&name.as_str()) {
            match session_block(call, function) {
                Some((block, target)) => {
                    let index = sessions.len();
                    let refusal = session_sites(file, block, call, target, function, index, &mut sites).err();
                    sessions.push(SessionBlock { with: block, constructor: call, refusal });
                }
                None => kept.extend(kept_objects::kept(file, call, "session")),
            }
        }
    }
    // Sessions built in sync code (`__init__`, module level) too.
    for &call in file.calls {
        let is_session = call
            .child_by_field_name("function")
            .and_then(|f| file.model.qualified_name(f))
            .is_some_and(|name| SESSIONS.contains(&name.as_str()));
        if is_session && file.model.context(call) == Context::Sync {
            kept.extend(kept_objects::kept(file, call, "session"));
        }
    }
    kept.extend(kept_objects::annotated_parameters(file, SESSIONS, "session"));
    for through in calls_through(file, &kept, METHODS) {
        let KeptCall { call, callee, method, function, kept } = through;
        let forced = Some(kept.reason.clone());
        sites.push(Site { call, callee, method, function, session: None, forced });
    }
    sites.sort_by_key(|s| s.call.start_byte());
    (sites, sessions)
}

/// Plans, groups and reports the sites of one coroutine.
fn check_function<'t>(
    file: &FileContext<'_, 't>,
    function: Node<'t>,
    sites: &[Site<'t>],
    members: &[usize],
    sessions: &[SessionBlock<'t>],
    note: &mut Option<String>,
    findings: &mut Vec<Finding>,
) {
    let aiohttp = file.model.module_ref("aiohttp", function);
    let asyncio = file.model.module_ref("asyncio", function);
    let mut plans: HashMap<usize, Plan> = HashMap::new();
    for &index in members {
        plans.insert(index, plan(file, &sites[index], sessions, aiohttp.as_ref()));
    }
    // Group what must be rewritten together: the same response variable, the same session block,
    // the same `try` whose handlers name requests' exceptions.
    let mut group: HashMap<usize, usize> = members.iter().map(|&i| (i, i)).collect();
    let find = |group: &HashMap<usize, usize>, mut i: usize| {
        while group[&i] != i {
            i = group[&i];
        }
        i
    };
    let union = |group: &mut HashMap<usize, usize>, a: usize, b: usize| {
        let (ra, rb) = (find(group, a), find(group, b));
        if ra != rb {
            group.insert(ra.max(rb), ra.min(rb));
        }
    };
    let var_of = |plans: &HashMap<usize, Plan>, i: usize| match &plans[&i] {
        Plan::Aiohttp(rewrite) if rewrite.target.is_some() => Some(rewrite.var.clone()),
        _ => None,
    };
    for (n, &a) in members.iter().enumerate() {
        for &b in &members[n + 1..] {
            let same_var = var_of(&plans, a).is_some_and(|v| {
                Some(&v) == var_of(&plans, b).as_ref()
                    || assignment_target(sites[b].call).is_some_and(|t| file.text(t) == v)
            }) || var_of(&plans, b)
                .is_some_and(|v| assignment_target(sites[a].call).is_some_and(|t| file.text(t) == v));
            let same_session = sites[a].session.is_some() && sites[a].session == sites[b].session;
            if same_var || same_session {
                union(&mut group, a, b);
            }
        }
    }
    // Tries: every site in the body of a `try` that names requests' exceptions joins the group of
    // any site or response use in it.
    for &index in members {
        let mut nodes = vec![sites[index].call];
        if let Some(var) = var_of(&plans, index) {
            nodes.extend(references(file, function, &var));
        }
        let tries: Vec<Node> = enclosing_tries(function, &nodes)
            .into_iter()
            .filter(|t| names_requests_exception(file, *t))
            .collect();
        for &other in members {
            if tries.iter().any(|t| contains(*t, sites[other].call)) {
                union(&mut group, index, other);
            }
        }
    }
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for &index in members {
        let root = find(&group, index);
        match groups.iter_mut().find(|(r, _)| *r == root) {
            Some((_, list)) => list.push(index),
            None => groups.push((root, vec![index])),
        }
    }
    for (_, list) in groups {
        let fix = match (&aiohttp, &asyncio) {
            (Some(aiohttp), Some(asyncio)) if list.iter().all(|i| matches!(plans[i], Plan::Aiohttp(_))) => {
                group_fix(file, function, sites, &list, &plans, sessions, [aiohttp, asyncio])
            }
            _ => Err(None),
        };
        match fix {
            Ok(fix) => {
                let note = note.get_or_insert_with(|| dependency_note(file.path).unwrap_or_default());
                for &index in &list {
                    let site = &sites[index];
                    let message = format!(
                        "`{}` blocks the event loop in a coroutine; use aiohttp{note}",
                        file.text(site.callee)
                    );
                    findings.push(file.finding(ID, site.call, message).with_fix(fix.clone()));
                }
            }
            Err(group_reason) => {
                // Members that could move alone stay with the one that cannot.
                let blocker = list.iter().find(|i| !matches!(plans[*i], Plan::Aiohttp(_))).map(|i| {
                    format!(
                        "it shares a response variable, session or `try` with the call on line {}, which stays",
                        sites[*i].call.start_position().row + 1
                    )
                });
                for &index in &list {
                    let reason = match &plans[&index] {
                        Plan::Report(reason) => Err(reason.clone()),
                        Plan::Thread(reason) => Ok(reason.clone()),
                        Plan::Aiohttp(_) => Ok(group_reason.clone().or_else(|| blocker.clone())),
                    };
                    findings.push(thread_finding(file, &sites[index], reason, asyncio.as_ref()));
                }
            }
        }
    }
}

fn contains(outer: Node, inner: Node) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

fn names_requests_exception(file: &FileContext, statement: Node) -> bool {
    syntax::descendants(statement, |n| n.kind() == "except_clause").into_iter().any(|clause| {
        let mut cursor = clause.walk();
        let values: Vec<Node> = clause.children_by_field_name("value", &mut cursor).collect();
        values.into_iter().any(|value| {
            syntax::find_first(value, |n| {
                matches!(n.kind(), "identifier" | "attribute")
                    && file.model.qualified_name(n).is_some_and(|q| q.starts_with("requests."))
            })
            .is_some()
        })
    })
}

/// `name` in `name = <call>`.
fn assignment_target<'t>(call: Node<'t>) -> Option<Node<'t>> {
    let assignment = call.parent().filter(|p| p.kind() == "assignment")?;
    let target = assignment.child_by_field_name("left").filter(|l| l.kind() == "identifier")?;
    let plain = assignment.child_by_field_name("right") == Some(call)
        && assignment.child_by_field_name("type").is_none();
    (plain && assignment.parent().is_some_and(|p| p.kind() == "expression_statement")).then_some(target)
}

fn plan<'t>(
    file: &FileContext<'_, 't>,
    site: &Site<'t>,
    sessions: &[SessionBlock],
    aiohttp: Option<&ModuleRef>,
) -> Plan<'t> {
    if let Context::AsyncNoAwait(why) = file.model.context(site.call) {
        return Plan::Report(format!("`await` cannot go {why}"));
    }
    if file.settings.prefer.contains("to-thread") {
        return Plan::Thread(None);
    }
    if let Some(reason) = &site.forced {
        return Plan::Thread(Some(reason.clone()));
    }
    let Some(aiohttp) = aiohttp else {
        return Plan::Thread(Some("the name `aiohttp` is bound to something else here".into()));
    };
    if let Some(reason) = site.session.and_then(|s| sessions[s].refusal.clone()) {
        return Plan::Thread(Some(reason));
    }
    match rewrite(file, site, &aiohttp.name) {
        Ok(rewrite) => Plan::Aiohttp(rewrite),
        Err(Refusal::Streamed) => Plan::Report(
            "a streamed response (`stream=`): its body is read piecemeal; move the streaming code to aiohttp \
             by hand"
                .into(),
        ),
        Err(Refusal::Other(reason)) => Plan::Thread(Some(reason)),
    }
}

fn rewrite<'t>(file: &FileContext<'_, 't>, site: &Site<'t>, aiohttp: &str) -> Result<Rewrite<'t>, Refusal> {
    let positional = if site.method == "request" { 2 } else { 1 };
    let argument_edits = map_arguments(file, site.call, positional, aiohttp)?;
    let statement = enclosing_statement(site.call)
        .ok_or("the call is not in a statement of the coroutine".to_string())?;
    let indent = own_lines(file, statement)?;
    let others =
        syntax::descendants(statement, |n| n.kind() == "call" && n != site.call && is_requests_call(file, n));
    if !others.is_empty() {
        return Err("several requests calls in one statement".to_string().into());
    }
    if let Some(target) = assignment_target(site.call) {
        let var = file.text(target).to_string();
        return Ok(Rewrite {
            statement,
            indent,
            var,
            target: Some(target),
            hoisted: None,
            body: None,
            argument_edits,
        });
    }
    let var = fresh_name(file, site.function, &["resp", "response"]);
    if statement.kind() == "expression_statement" && statement.named_child(0) == Some(site.call) {
        return Ok(Rewrite {
            statement,
            indent,
            var,
            target: None,
            hoisted: None,
            body: None,
            argument_edits,
        });
    }
    // The result used at once: the block goes before the statement, so the call must run exactly
    // once, unconditionally, in the statement's own scope, and no other code may run before it
    // (it would now run after it).
    let between = std::iter::successors(site.call.parent(), |n| n.parent()).take_while(|n| *n != statement);
    for ancestor in between {
        let why = match ancestor.kind() {
            "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression" => "the call is inside a comprehension",
            "conditional_expression" | "boolean_operator" => "the call runs only under a condition",
            "lambda" => "the call is inside a lambda",
            _ => continue,
        };
        return Err(why.to_string().into());
    }
    let earlier = syntax::find_first(statement, |n| {
        matches!(n.kind(), "call" | "await")
            && n.start_byte() < site.call.start_byte()
            && !contains(n, site.call)
    });
    if let Some(earlier) = earlier {
        return Err(format!("`{}` runs before the request in the same statement", file.text(earlier)).into());
    }
    let body =
        reads_content(file, site.call).then(|| fresh_name(file, site.function, &[&format!("{var}_body")]));
    let response = Response { var: &var, body: body.as_deref(), may_be_none: false };
    let hoisted = map_use(file, site.call, &response)?
        .unwrap_or_else(|| Edit::replace(site.call.byte_range(), var.clone()));
    Ok(Rewrite { statement, indent, var, target: None, hoisted: Some(hoisted), body, argument_edits })
}

fn is_requests_call(file: &FileContext, call: Node) -> bool {
    call.child_by_field_name("function").and_then(|f| file.model.qualified_name(f)).is_some_and(|q| {
        q.rsplit_once('.').is_some_and(|(module, method)| {
            matches!(module, "requests" | "requests.api") && METHODS.contains(&method)
        })
    })
}

/// The one fix of a group of sites, or why the group falls back to threads (`None`: no reason of
/// its own).
fn group_fix<'t>(
    file: &FileContext<'_, 't>,
    function: Node<'t>,
    sites: &[Site<'t>],
    list: &[usize],
    plans: &HashMap<usize, Plan<'t>>,
    sessions: &[SessionBlock<'t>],
    [aiohttp, asyncio]: [&ModuleRef; 2],
) -> Result<Fix, Option<String>> {
    let rewrites: Vec<(&Site, &Rewrite)> = list
        .iter()
        .filter_map(|i| match &plans[i] {
            Plan::Aiohttp(rewrite) => Some((&sites[*i], rewrite)),
            _ => None,
        })
        .collect();
    let mut inner: Vec<Edit> = Vec::new();
    // Response uses of the named variables.
    let mut vars: Vec<&str> =
        rewrites.iter().filter(|(_, r)| r.target.is_some()).map(|(_, r)| r.var.as_str()).collect();
    vars.sort_unstable();
    vars.dedup();
    let targets: Vec<Node> = rewrites.iter().filter_map(|(_, r)| r.target).collect();
    let mut use_nodes: Vec<Node> = rewrites.iter().map(|(s, _)| s.call).collect();
    // `.content` after the block reads bytes the block kept: aiohttp cannot read a released response.
    let mut bodies: HashMap<&str, String> = HashMap::new();
    for &var in &vars {
        if references(file, function, var).into_iter().any(|usage| reads_content(file, usage)) {
            bodies.insert(var, fresh_name(file, function, &[&format!("{var}_body")]));
        }
    }
    let assigned_none = |usage: Node| {
        usage.parent().is_some_and(|p| {
            p.kind() == "assignment"
                && p.child_by_field_name("left") == Some(usage)
                && p.child_by_field_name("right").is_some_and(|r| r.kind() == "none")
        })
    };
    let mut none_vars: Vec<&str> = Vec::new();
    for var in vars {
        let references = references(file, function, var);
        let may_be_none = references.iter().any(|usage| assigned_none(*usage));
        if may_be_none {
            none_vars.push(var);
        }
        let response = Response { var, body: bodies.get(var).map(String::as_str), may_be_none };
        for usage in references {
            if targets.contains(&usage) {
                continue;
            }
            let line = usage.start_position().row + 1;
            if assigned_none(usage) {
                continue;
            }
            if enclosing_function(usage) != Some(function) {
                return Err(Some(format!("the response `{var}` is used in a nested function (line {line})")));
            }
            if let Some(edit) = map_use(file, usage, &response).map_err(Some)? {
                inner.push(edit);
            }
            use_nodes.push(usage);
        }
    }
    // Handlers of the `try` statements around the calls and uses.
    let all_tries = enclosing_tries(function, &use_nodes);
    let json = file.model.module_ref("json", function);
    let modules = Modules {
        aiohttp: &aiohttp.name,
        asyncio: &asyncio.name,
        json: json.as_ref().map(|j| j.name.as_str()),
    };
    let json_uses: Vec<Node> = use_nodes.iter().copied().filter(|n| parses_json(file, *n)).collect();
    let timed_calls: Vec<Node> = rewrites
        .iter()
        .map(|(site, _)| site.call)
        .filter(|call| {
            arguments(*call).into_iter().any(|a| {
                keyword(file, a).is_some_and(|(name, value)| name == "timeout" && value.kind() != "none")
            })
        })
        .collect();
    let raisers = Raisers { json_uses: &json_uses, timed_calls: &timed_calls };
    let handlers = map_handlers(file, &all_tries, &modules, &raisers).map_err(Some)?;
    inner.extend(handlers.edits);

    let unit = &file.style.indent;
    let nl = file.style.newline;
    let mut edits: Vec<Edit> = Vec::new();
    let mut statements: Vec<std::ops::Range<usize>> = Vec::new();
    let mut session_blocks: Vec<usize> = Vec::new();
    for (site, rewrite) in &rewrites {
        let indent = rewrite.indent;
        let (opening, depth, receiver) = match site.session {
            Some(index) => {
                if !session_blocks.contains(&index) {
                    session_blocks.push(index);
                }
                let receiver =
                    site.callee.child_by_field_name("object").map_or("", |o| file.text(o)).to_string();
                (String::new(), 1, receiver)
            }
            None => {
                let session = fresh_name(file, function, &["session", "http_session"]);
                let opening = format!(
                    "async with {}.ClientSession(trust_env=True) as {session}:{nl}{indent}{unit}",
                    aiohttp.name
                );
                (opening, 2, session)
            }
        };
        let arguments = site.call.child_by_field_name("arguments").ok_or(None)?;
        let mut argument_edits = rewrite.argument_edits.clone();
        argument_edits
            .extend(inner.iter().filter(|e| contains_range(arguments.byte_range(), &e.range)).cloned());
        let argument_text = indent_continuation(
            &render(file.source, arguments.byte_range(), &argument_edits),
            &unit.repeat(depth - 1),
        );
        let var = &rewrite.var;
        let body = rewrite.body.as_ref().or_else(|| rewrite.target.and_then(|_| bodies.get(var.as_str())));
        let kept = body.map_or(String::new(), |body| format!("{body} = "));
        // `r = None` before a `try`: `r` is set only once the body is read, so a request that fails
        // half-way through the body leaves it `None`, as `requests.get` does.
        let bound = if rewrite.target.is_some() && none_vars.contains(&var.as_str()) {
            fresh_name(file, function, &[&format!("{var}_response")])
        } else {
            var.clone()
        };
        let mut block = format!(
            "{opening}async with {receiver}.{}{argument_text} as {bound}:{nl}{indent}{}{kept}await {bound}.read()",
            site.method,
            unit.repeat(depth)
        );
        if bound != *var {
            block.push_str(&format!("{nl}{indent}{var} = {bound}"));
        }
        if let Some(hoisted) = &rewrite.hoisted {
            let mut statement_edits: Vec<Edit> = inner
                .iter()
                .filter(|e| {
                    !contains_range(site.call.byte_range(), &e.range)
                        && !contains_range(e.range.clone(), &site.call.byte_range())
                })
                .cloned()
                .collect();
            statement_edits.push(hoisted.clone());
            block.push_str(&format!(
                "{nl}{indent}{}",
                render(file.source, rewrite.statement.byte_range(), &statement_edits)
            ));
        }
        statements.push(rewrite.statement.byte_range());
        edits.push(Edit::replace(rewrite.statement.byte_range(), block));
    }
    for index in session_blocks {
        let block = &sessions[index];
        let keyword = block.with.child(0).ok_or(None)?;
        edits.push(Edit::replace(keyword.byte_range(), "async with"));
        edits.push(Edit::replace(
            block.constructor.byte_range(),
            format!("{0}.ClientSession(trust_env=True, cookie_jar={0}.CookieJar(unsafe=True))", aiohttp.name),
        ));
    }
    edits.extend(
        inner.into_iter().filter(|e| !statements.iter().any(|s| contains_range(s.clone(), &e.range))),
    );
    let mut imports = Vec::new();
    if aiohttp.needs_import {
        imports.push("aiohttp".to_string());
    }
    if handlers.uses_asyncio && asyncio.needs_import {
        imports.push("asyncio".to_string());
    }
    if handlers.uses_json && json.is_some_and(|j| j.needs_import) {
        imports.push("json".to_string());
    }
    Ok(Fix { safety: Safety::Unsafe, edits, imports, helpers: Vec::new() })
}

fn contains_range(outer: std::ops::Range<usize>, inner: &std::ops::Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// The `asyncio.to_thread` fallback for one site; `reason` is why aiohttp was not used (`Err`:
/// why nothing can be done).
fn thread_finding(
    file: &FileContext,
    site: &Site,
    reason: Result<Option<String>, String>,
    asyncio: Option<&ModuleRef>,
) -> Finding {
    let callee = file.text(site.callee);
    let reason = match reason {
        Ok(_) if in_debug_field(site.call) => Err("the call is in a self-documenting f-string field \
                                                   (`{...=}`), which would print the rewritten expression"
            .to_string()),
        other => other,
    };
    let advice = match &reason {
        Ok(Some(reason)) => format!("; run it in a thread (not aiohttp: {reason})"),
        Ok(None) => "; run it in a thread".to_string(),
        Err(_) => String::new(),
    };
    let finding =
        file.finding(ID, site.call, format!("`{callee}` blocks the event loop in a coroutine{advice}"));
    if let Err(reason) = reason {
        return finding.report_only(reason);
    }

    if file.settings.target < (PythonVersion { minor: 9 }) {
        return finding.report_only("`asyncio.to_thread` needs Python 3.9 (the target is older)");
    }
    let Some(asyncio) = asyncio else {
        return finding.report_only("the name `asyncio` is bound to something else here");
    };
    let has_arguments = !arguments(site.call).is_empty();
    let Some(list) = site.call.child_by_field_name("arguments").filter(|a| a.kind() == "argument_list")
    else {
        return finding.report_only("a call without an argument list");
    };
    let opening = format!("{}.to_thread({callee}{}", asyncio.name, if has_arguments { ", " } else { "" });
    let parenthesized = awaited(site.call, "").starts_with('(');
    let prefix = if parenthesized { "(await " } else { "await " };
    let mut edits =
        vec![Edit::replace(site.call.start_byte()..list.start_byte() + 1, format!("{prefix}{opening}"))];
    if parenthesized {
        edits.push(Edit::replace(site.call.end_byte()..site.call.end_byte(), ")"));
    }
    let imports = if asyncio.needs_import { vec!["asyncio".to_string()] } else { Vec::new() };
    finding.with_fix(Fix { safety: Safety::Unsafe, edits, imports, helpers: Vec::new() })
}

/// A note for the message when the project's dependency files do not list aiohttp.
fn dependency_note(path: &Path) -> Option<String> {
    const FILES: &[&str] = &["pyproject.toml", "setup.cfg"];
    let start = std::fs::canonicalize(path).ok()?;
    for dir in start.ancestors().skip(1) {
        let mut found: Vec<(String, String)> = Vec::new();
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_requirements = name.starts_with("requirements") && name.ends_with(".txt");
            if FILES.contains(&name.as_str()) || is_requirements {
                found.push((name, std::fs::read_to_string(entry.path()).unwrap_or_default()));
            }
        }
        if !found.is_empty() {
            if found.iter().any(|(_, text)| text.to_ascii_lowercase().contains("aiohttp")) {
                return None;
            }
            let mut names: Vec<String> = found.into_iter().map(|(name, _)| name).collect();
            names.sort();
            return Some(format!(
                " (aiohttp is not listed in {}: add it to the dependencies)",
                names.join(", ")
            ));
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}
