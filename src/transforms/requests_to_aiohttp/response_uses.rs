//! The uses of a requests response, mapped to the aiohttp response that replaces it. The body is
//! read inside the `async with` block, so `json()` and `text()` work after it; `read()` does not
//! (aiohttp raises "Connection closed" once the response is released), so `.content` reads the
//! bytes the block kept in a variable of its own.

use tree_sitter::Node;

use crate::finding::Edit;
use crate::semantic::Context;
use crate::transforms::FileContext;
use crate::transforms::statements::{awaited, in_debug_field};

/// Attributes that read the same on both responses.
const SAME: &[&str] = &["ok", "headers", "reason"];

/// The aiohttp response variable that replaces a requests response.
pub(super) struct Response<'a> {
    pub var: &'a str,
    /// The variable the block stores the bytes in, when `.content` is read.
    pub body: Option<&'a str>,
    /// The variable is also set to `None` (`r = None` before a `try`): a truth test must not
    /// touch `.ok` then.
    pub may_be_none: bool,
}

/// The edit that makes the use of a response at `node` (a reference to the variable, or the call
/// itself when its result is used at once) read the aiohttp `response`; `None` when the text
/// stays. Errors say which use has no counterpart.
pub(super) fn map_use(file: &FileContext, node: Node, response: &Response) -> Result<Option<Edit>, String> {
    let Response { var, body, may_be_none } = *response;
    let line = node.start_position().row + 1;
    let unchanged = |range: std::ops::Range<usize>, text: String| {
        if file.source[range.clone()] == text {
            return Ok(None);
        }
        if in_debug_field(node) {
            return Err(format!(
                "the response is used in a self-documenting f-string field (`{{...=}}`, line {line}), \
                 which would print the rewritten expression"
            ));
        }
        Ok(Some(Edit::replace(range, text)))
    };
    if let Some(attribute) =
        node.parent().filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(node))
    {
        let member = attribute.child_by_field_name("attribute").map_or("", |a| file.text(a));
        let parent = attribute.parent();
        let call =
            parent.filter(|p| p.kind() == "call" && p.child_by_field_name("function") == Some(attribute));
        let without_arguments = call
            .is_some_and(|c| c.child_by_field_name("arguments").is_some_and(|a| a.named_child_count() == 0));
        let is_target = parent.is_some_and(|p| {
            matches!(p.kind(), "assignment" | "augmented_assignment")
                && p.child_by_field_name("left") == Some(attribute)
                || p.kind() == "delete_statement"
        });
        if is_target {
            return Err(format!("the response's `.{member}` is assigned (line {line})"));
        }
        let needs_await = |at: Node| {
            if file.model.context(at) == Context::Async {
                Ok(())
            } else {
                Err(format!("`.{member}` must be awaited where `await` cannot go (line {line})"))
            }
        };
        return match (member, call) {
            ("json", Some(call)) if without_arguments => {
                needs_await(call)?;
                unchanged(call.byte_range(), awaited(call, &format!("{var}.json(content_type=None)")))
            }
            ("text", None) => {
                needs_await(attribute)?;
                let q = quote_for(file, attribute).ok_or_else(|| {
                    format!("`.text` inside nested f-strings that use both quotes (line {line})")
                })?;
                unchanged(
                    attribute.byte_range(),
                    awaited(attribute, &format!("{var}.text(errors={q}replace{q})")),
                )
            }
            ("content", None) => match body {
                Some(body) => unchanged(attribute.byte_range(), body.to_string()),
                None => Err(format!(
                    "the response's `.content` is read where its bytes are not kept (line {line})"
                )),
            },
            ("status_code", None) => unchanged(attribute.byte_range(), format!("{var}.status")),
            ("url", None) => unchanged(attribute.byte_range(), format!("str({var}.url)")),
            ("raise_for_status", Some(_)) if without_arguments => {
                unchanged(attribute.byte_range(), format!("{var}.raise_for_status"))
            }
            (same, None) if SAME.contains(&same) => {
                unchanged(attribute.byte_range(), format!("{var}.{same}"))
            }
            _ => Err(format!(
                "the response's `.{member}{}` has no aiohttp counterpart this rewrite knows (line {line})",
                if call.is_some() { "(...)" } else { "" }
            )),
        };
    }
    if in_boolean_context(node) {
        // A requests response is falsy when its status is 400 or more; aiohttp's is always truthy.
        if !may_be_none {
            return unchanged(node.byte_range(), format!("{var}.ok"));
        }
        let test = format!("{var} is not None and {var}.ok");
        let bare = node.parent().is_some_and(|p| {
            matches!(p.kind(), "if_statement" | "elif_clause" | "while_statement")
                && p.child_by_field_name("condition") == Some(node)
        });
        return unchanged(node.byte_range(), if bare { test } else { format!("({test})") });
    }
    if compared_with_none(file, node) {
        return unchanged(node.byte_range(), var.to_string());
    }
    Err(unmapped_use(file, node, var, line))
}

/// Why a bare use of the response variable keeps the call off aiohttp, as precisely as the
/// syntax around it says.
fn unmapped_use(file: &FileContext, node: Node, var: &str, line: usize) -> String {
    let parent = node.parent();
    let kind = parent.map_or("", |p| p.kind());
    let is_left = |field: &str| parent.is_some_and(|p| p.child_by_field_name(field) == Some(node));
    match kind {
        "global_statement" | "nonlocal_statement" => format!(
            "`{var}` is declared `{}` (line {line}): code outside this coroutine may read the response",
            kind.trim_end_matches("_statement")
        ),
        "assignment" | "augmented_assignment" | "for_statement" | "for_in_clause" if is_left("left") => {
            format!("`{var}` is also assigned something other than the response (line {line})")
        }
        "named_expression" if is_left("name") => {
            format!("`{var}` is also assigned something other than the response (line {line})")
        }
        "return_statement" => {
            format!("the response is returned (line {line}); an aiohttp response cannot stand in for it")
        }
        "assignment" if parent.and_then(|p| p.child_by_field_name("right")) == Some(node) => {
            let target = parent.and_then(|p| p.child_by_field_name("left")).map_or("", |t| file.text(t));
            if let Some(annotation) = parent.and_then(|p| p.child_by_field_name("type")) {
                return format!(
                    "`{target}` is annotated `{}` (line {line}); an aiohttp response is not one",
                    file.text(annotation)
                );
            }
            format!(
                "the response is stored in `{target}` (line {line}); an aiohttp response cannot stand in for it"
            )
        }
        "argument_list" => {
            let callee = parent
                .and_then(|p| p.parent())
                .and_then(|c| c.child_by_field_name("function"))
                .map_or(String::new(), |f| format!(" to `{}(...)`", file.text(f)));
            format!(
                "the response is passed{callee} (line {line}); an aiohttp response cannot stand in for it"
            )
        }
        _ => format!(
            "the response is passed on, returned or stored (line {line}); an aiohttp response cannot stand in \
             for it"
        ),
    }
}

/// Whether the use of a response at `node` is `.content` (its bytes).
pub(super) fn reads_content(file: &FileContext, node: Node) -> bool {
    node.parent().is_some_and(|attribute| {
        attribute.kind() == "attribute"
            && attribute.child_by_field_name("object") == Some(node)
            && attribute.child_by_field_name("attribute").is_some_and(|a| file.text(a) == "content")
            && !attribute
                .parent()
                .is_some_and(|p| p.kind() == "call" && p.child_by_field_name("function") == Some(attribute))
    })
}

/// Whether the use of a response at `node` is `.json()`.
pub(super) fn parses_json(file: &FileContext, node: Node) -> bool {
    node.parent().is_some_and(|attribute| {
        attribute.kind() == "attribute"
            && attribute.child_by_field_name("object") == Some(node)
            && attribute.child_by_field_name("attribute").is_some_and(|a| file.text(a) == "json")
            && attribute
                .parent()
                .is_some_and(|p| p.kind() == "call" && p.child_by_field_name("function") == Some(attribute))
    })
}

/// Whether the value of `node` is only tested for truth.
fn in_boolean_context(node: Node) -> bool {
    let Some(parent) = node.parent() else { return false };
    match parent.kind() {
        "if_statement" | "elif_clause" | "while_statement" => {
            parent.child_by_field_name("condition") == Some(node)
        }
        "not_operator" => true,
        "assert_statement" => parent.named_child(0) == Some(node),
        "conditional_expression" => parent.named_child(1) == Some(node),
        "boolean_operator" | "parenthesized_expression" => in_boolean_context(parent),
        _ => false,
    }
}

/// `r is None` / `r is not None`: the same on both.
fn compared_with_none(file: &FileContext, node: Node) -> bool {
    let Some(parent) = node.parent().filter(|p| p.kind() == "comparison_operator") else { return false };
    if parent.named_child_count() != 2 {
        return false;
    }
    let mut cursor = parent.walk();
    let operators: Vec<&str> =
        parent.children(&mut cursor).filter(|c| !c.is_named()).map(|c| file.text(c)).collect();
    let other =
        if parent.named_child(0) == Some(node) { parent.named_child(1) } else { parent.named_child(0) };
    other.is_some_and(|o| o.kind() == "none")
        && matches!(operators.as_slice(), ["is"] | ["is", "not"] | ["is not"])
}

/// The quote for a string literal written at `node`: the file's own, or inside an f-string the
/// one its delimiters do not use (before Python 3.12 the delimiter cannot appear inside).
fn quote_for(file: &FileContext, node: Node) -> Option<char> {
    let mut used = Vec::new();
    for string in std::iter::successors(node.parent(), |n| n.parent()).filter(|n| n.kind() == "string") {
        let text = file.text(string);
        used.extend(text.trim_start_matches(|c: char| c.is_ascii_alphabetic()).chars().next());
    }
    [file.style.quote, '"', '\''].into_iter().find(|q| !used.contains(q))
}
