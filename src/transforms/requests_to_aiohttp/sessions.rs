//! Sessions: a `with requests.Session() as s:` block in a coroutine becomes an aiohttp session
//! block; the requests of a session kept elsewhere (on `self`, at module level, in a variable) can
//! only go to a thread (see `kept_objects`).

use tree_sitter::Node;

use super::{METHODS, Site};
use crate::semantic::Context;
use crate::transforms::FileContext;
use crate::transforms::statements::{arguments, enclosing_function, rebound_by_other_with, references};

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
        if usage == target || rebound_by_other_with(file, usage, name, block) {
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
