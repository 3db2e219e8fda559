//! HTTP sessions and clients kept in a variable, on `self` or at module level, rather than opened
//! in a `with` block of the coroutine that uses them: their lifetime cannot be followed, so their
//! requests can be found but not moved to an async client.

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
