//! HTTP sessions and clients kept in a variable, on `self` or at module level, passed in as an
//! annotated parameter or built for one request, rather than opened in a `with` block of the
//! coroutine that uses them: their lifetime cannot be followed, so their requests can be found but
//! not moved to an async client.

use tree_sitter::Node;

use crate::semantic::Context;
use crate::transforms::FileContext;
use crate::transforms::statements::enclosing_function;

pub(crate) struct Kept<'t> {
    /// How the code names it: `s` or `self.session`.
    receiver: &'t str,
    /// Where that name means this object: a function, a class (for `self.`) or the module.
    scope: Node<'t>,
    /// Why its lifetime cannot be followed.
    pub reason: String,
}

/// The object `constructor` builds (`noun` says what it is: "session", "client"), when it is kept
/// in a variable or on `self`.
pub(crate) fn kept<'t>(file: &FileContext<'_, 't>, constructor: Node<'t>, noun: &str) -> Option<Kept<'t>> {
    let inline = constructor
        .parent()
        .filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(constructor));
    if inline.is_some() {
        // `requests.Session().get(url)`: the object is matched by the text of its constructor.
        let scope = enclosing_function(constructor)?;
        let reason = format!("the {noun} is built for one request and never closed");
        return Some(Kept { receiver: file.text(constructor), scope, reason });
    }
    let target = match constructor.parent()? {
        parent
            if parent.kind() == "assignment" && parent.child_by_field_name("right") == Some(constructor) =>
        {
            parent.child_by_field_name("left")?
        }
        // `with requests.Session() as s, open(p) as f:` and other shapes a block rewrite skips.
        parent if parent.kind() == "as_pattern" => parent.child_by_field_name("alias")?.named_child(0)?,
        _ => return None,
    };
    let receiver = file.text(target);
    let scope_of = |kinds: &[&str]| {
        std::iter::successors(constructor.parent(), |n| n.parent()).find(|n| kinds.contains(&n.kind()))
    };
    let on_self = target.kind() == "attribute"
        && target.child_by_field_name("object").is_some_and(|o| file.text(o) == "self");
    let (scope, reason) = if on_self {
        let class = scope_of(&["class_definition"])?;
        (
            class,
            format!(
                "the {noun} `{receiver}` is kept on the object across methods; its lifetime cannot be followed"
            ),
        )
    } else if target.kind() == "identifier" {
        let scope = scope_of(&["function_definition", "module"])?;
        let reason = if scope.kind() == "module" {
            format!("the {noun} `{receiver}` is shared by the whole module; its lifetime cannot be followed")
        } else {
            format!(
                "the {noun} `{receiver}` is not opened alone in a `with` block; its lifetime cannot be followed"
            )
        };
        (scope, reason)
    } else {
        return None;
    };
    Some(Kept { receiver, scope, reason })
}

/// The parameters annotated as one of `types` (`client: httpx.Client`) of the functions that
/// make `file.calls`: objects the caller passes in and closes.
pub(crate) fn annotated_parameters<'t>(
    file: &FileContext<'_, 't>,
    types: &[&str],
    noun: &str,
) -> Vec<Kept<'t>> {
    // The scope table answers without tree-sitter's parent(), a search from the root per step.
    let scopes = file.model.index();
    let mut functions: Vec<Node> = file
        .calls
        .iter()
        .filter_map(|c| scopes.scopes_around(*c).find(|n| n.kind() == "function_definition"))
        .collect();
    functions.sort_by_key(|f| f.start_byte());
    functions.dedup();
    let mut out = Vec::new();
    for function in functions {
        let Some(parameters) = function.child_by_field_name("parameters") else { continue };
        let mut cursor = parameters.walk();
        for parameter in parameters.named_children(&mut cursor) {
            let name = match parameter.kind() {
                "typed_parameter" => parameter.named_child(0),
                "typed_default_parameter" => parameter.child_by_field_name("name"),
                _ => None,
            };
            let Some(name) = name.filter(|n| n.kind() == "identifier") else { continue };
            let annotated = parameter
                .child_by_field_name("type")
                .and_then(|t| t.named_child(0))
                .and_then(|a| file.model.qualified_name(a))
                .is_some_and(|q| types.contains(&q.as_str()));
            if annotated {
                let receiver = file.text(name);
                let reason =
                    format!("the {noun} `{receiver}` is passed in; its lifetime belongs to the caller");
                out.push(Kept { receiver, scope: function, reason });
            }
        }
    }
    out
}

/// A request made in a coroutine through a kept object.
pub(crate) struct KeptCall<'t, 'k> {
    pub call: Node<'t>,
    pub callee: Node<'t>,
    pub method: &'static str,
    pub function: Node<'t>,
    pub kept: &'k Kept<'t>,
}

/// The calls `<kept>.<method>(...)` in coroutines, with `method` one of `methods`.
pub(crate) fn calls_through<'t, 'k>(
    file: &FileContext<'_, 't>,
    kept: &'k [Kept<'t>],
    methods: &[&'static str],
) -> Vec<KeptCall<'t, 'k>> {
    let mut out = Vec::new();
    if kept.is_empty() {
        return out;
    }
    for &call in file.calls {
        let Some(callee) = call.child_by_field_name("function").filter(|f| f.kind() == "attribute") else {
            continue;
        };
        let name = callee.child_by_field_name("attribute").map_or("", |a| file.text(a));
        let Some(&method) = methods.iter().find(|m| **m == name) else { continue };
        let Some(receiver) = callee.child_by_field_name("object") else { continue };
        if file.model.context(call) == Context::Sync {
            continue;
        }
        let Some(function) = enclosing_function(call) else { continue };
        let found = kept.iter().find(|k| {
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
        if let Some(kept) = found {
            out.push(KeptCall { call, callee, method, function, kept });
        }
    }
    out
}
