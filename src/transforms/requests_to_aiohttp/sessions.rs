//! Sessions: a `with requests.Session() as s:` block in a coroutine becomes an aiohttp session
//! block; the requests of a session kept elsewhere (on `self`, at module level, in a variable) can
//! only go to a thread.

use tree_sitter::Node;

use super::{METHODS, Site};
use crate::semantic::Context;
use crate::transforms::FileContext;
use crate::transforms::statements::{arguments, enclosing_function, references};

/// A `requests.Session()` kept in a variable or on `self` rather than opened in a `with` block
/// of the coroutine: its requests can go to a thread, never to aiohttp.
pub(super) struct KeptSession<'t> {
    /// How the code names it: `s` or `self.session`.
    receiver: &'t str,
    /// Where that name means this session: a function, a class (for `self.`) or the module.
    scope: Node<'t>,
    reason: String,
}

/// A `with requests.Session() as s:` block in a coroutine.
pub(super) struct SessionBlock<'t> {
    pub with: Node<'t>,
    pub constructor: Node<'t>,
    /// Why the block cannot become an `aiohttp.ClientSession` block, if it cannot.
    pub refusal: Option<String>,
}

/// `with requests.Session() as s:`: the `with` statement and `s`.
pub(super) fn session_block<'t>(call: Node<'t>, function: Node<'t>) -> Option<(Node<'t>, Node<'t>)> {
    let pattern = call.parent().filter(|p| p.kind() == "as_pattern")?;
    let clause = pattern.parent().and_then(|i| i.parent()).filter(|c| c.kind() == "with_clause")?;
    let with = clause.parent().filter(|w| w.kind() == "with_statement")?;
    let target = pattern.child_by_field_name("alias").and_then(|a| a.named_child(0))?;
    let plain = target.kind() == "identifier"
        && with.child(0).is_some_and(|first| first.kind() != "async")
        && clause.named_child_count() == 1
        && enclosing_function(with) == Some(function);
    plain.then_some((with, target))
}

/// The session `call` builds, when it is kept in a variable or on `self`.
pub(super) fn kept_session<'t>(file: &FileContext<'_, 't>, call: Node<'t>) -> Option<KeptSession<'t>> {
    let target = match call.parent()? {
        parent if parent.kind() == "assignment" && parent.child_by_field_name("right") == Some(call) => {
            parent.child_by_field_name("left")?
        }
        // `with requests.Session() as s, open(p) as f:` and other shapes a block rewrite skips.
        parent if parent.kind() == "as_pattern" => parent.child_by_field_name("alias")?.named_child(0)?,
        _ => return None,
    };
    let receiver = file.text(target);
    let scope_of = |kinds: &[&str]| {
        std::iter::successors(call.parent(), |n| n.parent()).find(|n| kinds.contains(&n.kind()))
    };
    let on_self = target.kind() == "attribute"
        && target.child_by_field_name("object").is_some_and(|o| file.text(o) == "self");
    let (scope, reason) = if on_self {
        let class = scope_of(&["class_definition"])?;
        (
            class,
            format!(
                "the session `{receiver}` is kept on the object across methods; its lifetime cannot be followed"
            ),
        )
    } else if target.kind() == "identifier" {
        let scope = scope_of(&["function_definition", "module"])?;
        let reason = if scope.kind() == "module" {
            format!("the session `{receiver}` is shared by the whole module; its lifetime cannot be followed")
        } else {
            format!(
                "the session `{receiver}` is not opened alone in a `with` block; its lifetime cannot be followed"
            )
        };
        (scope, reason)
    } else {
        return None;
    };
    Some(KeptSession { receiver, scope, reason })
}

/// Adds the requests made in coroutines through kept sessions, bound for a thread.
pub(super) fn kept_session_sites<'t>(
    file: &FileContext<'_, 't>,
    kept: &[KeptSession<'t>],
    sites: &mut Vec<Site<'t>>,
) {
    for &call in file.calls {
        let Some(callee) = call.child_by_field_name("function").filter(|f| f.kind() == "attribute") else {
            continue;
        };
        let method = callee.child_by_field_name("attribute").map_or("", |a| file.text(a));
        let Some(method) = METHODS.iter().find(|m| **m == method) else { continue };
        let Some(receiver) = callee.child_by_field_name("object") else { continue };
        if file.model.context(call) == Context::Sync {
            continue;
        }
        let Some(function) = enclosing_function(call) else { continue };
        let session = kept.iter().find(|k| {
            k.receiver == file.text(receiver)
                && match k.scope.kind() {
                    "class_definition" => {
                        std::iter::successors(function.parent(), |n| n.parent())
                            .find(|n| n.kind() == "class_definition")
                            == Some(k.scope)
                    }
                    "module" => file.model.resolves_to_module_scope(k.receiver, receiver),
                    _ => function == k.scope,
                }
        });
        if let Some(session) = session {
            let forced = Some(session.reason.clone());
            sites.push(Site { call, callee, method, function, session: None, forced });
        }
    }
}

/// Adds the requests made through the session `target` of `block`; says why the block cannot
/// become an aiohttp session block, if it cannot.
pub(super) fn session_sites<'t>(
    file: &FileContext<'_, 't>,
    block: Node<'t>,
    constructor: Node<'t>,
    target: Node<'t>,
    function: Node<'t>,
    index: usize,
    sites: &mut Vec<Site<'t>>,
) -> Result<(), String> {
    let name = file.text(target);
    let body = block.child_by_field_name("body");
    let mut refusal = None;
    if !arguments(constructor).is_empty() {
        refusal = Some("the session is built with arguments".to_string());
    }
    for usage in references(file, function, name) {
        if usage == target {
            continue;
        }
        let line = usage.start_position().row + 1;
        let inside =
            body.is_some_and(|b| b.start_byte() <= usage.start_byte() && usage.end_byte() <= b.end_byte());
        let attribute = usage
            .parent()
            .filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(usage));
        let method = attribute.and_then(|a| a.child_by_field_name("attribute")).map(|a| file.text(a));
        let call = attribute.and_then(|a| a.parent()).filter(|c| {
            c.kind() == "call"
                && c.child_by_field_name("function") == attribute
                && file.model.context(*c) != Context::Sync
        });
        match (method.and_then(|m| METHODS.iter().find(|k| **k == m)), call) {
            (Some(method), Some(call)) if inside && enclosing_function(call) == Some(function) => {
                let callee = call.child_by_field_name("function").unwrap_or(call);
                sites.push(Site { call, callee, method, function, session: Some(index), forced: None });
            }
            _ => {
                refusal.get_or_insert_with(|| {
                    format!(
                        "the session `{name}` is used other than for requests (line {line}: `{}`)",
                        file.text(attribute.unwrap_or(usage))
                    )
                });
            }
        }
    }
    refusal.map_or(Ok(()), Err)
}
