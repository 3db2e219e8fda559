//! The arguments of a requests call, carried over to aiohttp's request methods.

use tree_sitter::Node;

use crate::finding::Edit;
use crate::semantic::Resolved;
use crate::transforms::FileContext;
use crate::transforms::statements::{arguments, keyword};

/// Why a call's arguments cannot be carried over.
#[derive(Debug)]
pub(super) enum Refusal {
    /// `stream=True`: the body is read piecemeal; not even the thread fallback keeps that simple.
    Streamed,
    /// Anything else, with the reason.
    Other(String),
}

impl From<String> for Refusal {
    fn from(reason: String) -> Self {
        Refusal::Other(reason)
    }
}

/// Keywords aiohttp's request methods take as requests does.
const CARRIED_OVER: &[&str] = &["url", "method", "headers", "data", "json", "cookies", "allow_redirects"];

/// The edits inside the argument list of `call` that make it aiohttp's, or why there are none.
/// `positional` is how many leading positional arguments the method takes (the URL, or the method
/// and the URL for `request`).
pub(super) fn map_arguments(
    file: &FileContext,
    call: Node,
    positional: usize,
    aiohttp: &str,
) -> Result<Vec<Edit>, Refusal> {
    let mut edits = Vec::new();
    let all = arguments(call);
    // Streaming decides before anything else: it is the one case without a thread fallback.
    let streamed = all
        .iter()
        .any(|a| keyword(file, *a).is_some_and(|(name, v)| name == "stream" && v.kind() != "false"));
    if streamed {
        return Err(Refusal::Streamed);
    }
    for (index, argument) in all.iter().enumerate() {
        if matches!(argument.kind(), "list_splat" | "dictionary_splat") {
            return Err(format!("`{}` holds arguments whose names are unknown", file.text(*argument)).into());
        }
        let Some((name, value)) = keyword(file, *argument) else {
            if index >= positional {
                return Err("a positional argument after the URL (write it as a keyword first)"
                    .to_string()
                    .into());
            }
            continue;
        };
        let value_text = file.text(value);
        let replacement = match name {
            "data" | "headers" => {
                no_none_value(file, name, value)?;
                continue;
            }
            _ if CARRIED_OVER.contains(&name) => continue,
            "params" => {
                params_literal(file, value)?;
                continue;
            }
            "timeout" => format!("timeout={}", timeout(file, value, aiohttp)?),
            "verify" if matches!(value.kind(), "true" | "false") => format!("ssl={value_text}"),
            "auth" => match tuple_elements(value).as_deref() {
                Some([user, password]) => {
                    format!("auth={aiohttp}.BasicAuth({}, {})", file.text(*user), file.text(*password))
                }
                _ => return Err("`auth=` that is not a `(user, password)` tuple".to_string().into()),
            },
            "stream" if value.kind() == "false" => {
                return Err("`stream=False` (aiohttp has no such keyword; drop it first)".to_string().into());
            }
            "stream" => return Err(Refusal::Streamed),
            "files" => {
                return Err("`files=` uploads (multipart bodies are built differently)".to_string().into());
            }
            "cert" => return Err("`cert=` client certificates need an `ssl.SSLContext`".to_string().into()),
            "hooks" => return Err("`hooks=` has no aiohttp counterpart".to_string().into()),
            "proxies" => return Err("`proxies=` (aiohttp takes one `proxy=` URL)".to_string().into()),
            "verify" => {
                return Err("`verify=` with a CA bundle needs an `ssl.SSLContext`".to_string().into());
            }
            other => return Err(format!("the keyword `{other}=` has no aiohttp counterpart").into()),
        };
        edits.push(Edit::replace(argument.byte_range(), replacement));
    }
    Ok(edits)
}

/// requests drops query parameters whose value is `None` and writes booleans as `True`/`False`;
/// aiohttp raises on both. Only a dict literal whose values are visibly strings or numbers shows
/// there are none: a variable may hold `None` (an optional filter) at run time.
fn params_literal(file: &FileContext, value: Node) -> Result<(), String> {
    const REFUSED: &str = "`params=` that is not a dict literal of strings and numbers (requests drops \
                           `None` values and writes booleans, aiohttp raises on both)";
    if value.kind() != "dictionary" {
        return Err(REFUSED.into());
    }
    let mut cursor = value.walk();
    for pair in value.named_children(&mut cursor) {
        match pair.kind() {
            "comment" => {}
            "pair" => {
                let plain = pair.child_by_field_name("value").is_some_and(|v| string_or_number(file, v));
                if !plain {
                    return Err(format!("{REFUSED}: `{}`", file.text(pair)));
                }
            }
            _ => return Err(REFUSED.into()),
        }
    }
    Ok(())
}

/// Whether `value` is visibly a string or a number: a literal, an f-string, or `str(...)`,
/// `int(...)`, `float(...)`, `len(...)` of the builtins.
fn string_or_number(file: &FileContext, value: Node) -> bool {
    match value.kind() {
        "string" | "concatenated_string" | "integer" | "float" => true,
        "unary_operator" => value.child_by_field_name("argument").is_some_and(|a| string_or_number(file, a)),
        "parenthesized_expression" => value.named_child(0).is_some_and(|v| string_or_number(file, v)),
        "call" => value.child_by_field_name("function").is_some_and(|f| {
            let name = file.text(f);
            f.kind() == "identifier"
                && matches!(name, "str" | "int" | "float" | "len")
                && file.model.resolve(name, f) == Resolved::Unbound
        }),
        _ => false,
    }
}

/// requests leaves out form fields and headers whose value is `None`; aiohttp sends the field as
/// `None` and raises on the header.
fn no_none_value(file: &FileContext, name: &str, value: Node) -> Result<(), String> {
    if value.kind() != "dictionary" {
        return Ok(());
    }
    let mut cursor = value.walk();
    let none = value.named_children(&mut cursor).find(|pair| {
        pair.kind() == "pair" && pair.child_by_field_name("value").is_some_and(|v| v.kind() == "none")
    });
    match none {
        Some(pair) => Err(format!(
            "`{name}=` with a `None` value (`{}`): requests leaves it out, aiohttp does not",
            file.text(pair)
        )),
        None => Ok(()),
    }
}

/// requests' `timeout=5` bounds the connect and each read, not the whole request.
fn timeout(file: &FileContext, value: Node, aiohttp: &str) -> Result<String, String> {
    if value.kind() == "none" {
        return Ok(format!("{aiohttp}.ClientTimeout()"));
    }
    if let Some(elements) = tuple_elements(value) {
        return match elements.as_slice() {
            [connect, read] => Ok(format!(
                "{aiohttp}.ClientTimeout(sock_connect={}, sock_read={})",
                file.text(*connect),
                file.text(*read)
            )),
            _ => Err("a `timeout=` tuple that is not `(connect, read)`".into()),
        };
    }
    // Written twice: only expressions without side effects.
    if matches!(value.kind(), "integer" | "float" | "identifier" | "attribute") {
        let text = file.text(value);
        return Ok(format!("{aiohttp}.ClientTimeout(sock_connect={text}, sock_read={text})"));
    }
    Err(format!("a computed `timeout={}`", file.text(value)))
}

/// The elements of a tuple literal (parenthesized or not).
fn tuple_elements(value: Node) -> Option<Vec<Node>> {
    if value.kind() != "tuple" {
        return None;
    }
    let mut cursor = value.walk();
    Some(value.named_children(&mut cursor).filter(|n| n.kind() != "comment").collect())
}
