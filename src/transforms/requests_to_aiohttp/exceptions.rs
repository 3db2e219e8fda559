//! The `except` clauses around a rewritten call, mapped from requests' exceptions to aiohttp's.

use tree_sitter::Node;

use crate::finding::Edit;
use crate::semantic::Resolved;
use crate::transforms::FileContext;

/// Names for the modules the mapped exceptions live in, as the file can refer to them.
pub(super) struct Modules<'a> {
    pub aiohttp: &'a str,
    pub asyncio: &'a str,
    /// `None` when the name `json` is bound to something else.
    pub json: Option<&'a str>,
}

/// What mapping the handlers around some calls takes.
#[derive(Default)]
pub(super) struct Handlers<'t> {
    pub edits: Vec<Edit>,
    /// The `try` statements whose handlers name requests' exceptions: every requests call in their
    /// bodies must move to aiohttp with them.
    pub tries: Vec<Node<'t>>,
    pub uses_asyncio: bool,
    pub uses_json: bool,
}

/// Builtin exceptions that catch requests' errors (they are `OSError`s) but not aiohttp's.
const OS_ERRORS: &[&str] = &["OSError", "IOError", "EnvironmentError", "ConnectionError", "TimeoutError"];

/// The `try` statements (up to `function`) whose body holds any of `nodes`.
pub(super) fn enclosing_tries<'t>(function: Node<'t>, nodes: &[Node<'t>]) -> Vec<Node<'t>> {
    let mut tries: Vec<Node<'t>> = Vec::new();
    for &node in nodes {
        let mut current = node;
        while let Some(parent) = current.parent() {
            if parent == function {
                break;
            }
            if parent.kind() == "try_statement"
                && parent.child_by_field_name("body") == Some(current)
                && !tries.contains(&parent)
            {
                tries.push(parent);
            }
            current = parent;
        }
    }
    tries
}

/// What runs in the bodies of the `try` statements, where the libraries raise differently.
pub(super) struct Raisers<'a, 't> {
    /// The `.json()` calls of the rewritten responses: requests raises a `RequestException` when
    /// the body is not JSON, aiohttp a `json.JSONDecodeError` (or a `UnicodeDecodeError`).
    pub json_uses: &'a [Node<'t>],
    /// The rewritten calls with a `timeout=`: aiohttp's read timeout is a `ClientConnectionError`,
    /// requests' `ReadTimeout` is not a `ConnectionError`.
    pub timed_calls: &'a [Node<'t>],
}

/// What reaches an `except` clause, as far as mapping it goes.
#[derive(Clone, Copy)]
struct Body {
    /// A `.json()` of a rewritten response runs in the `try` body.
    parses_json: bool,
    /// A read timeout of a rewritten call reaches this clause and the clause does not also name
    /// requests' `Timeout`: a `ConnectionError` here would catch it after the rewrite only.
    stray_read_timeout: bool,
}

/// Maps the handlers of `tries`, or says which one has no aiohttp counterpart.
pub(super) fn map_handlers<'t>(
    file: &FileContext<'_, 't>,
    tries: &[Node<'t>],
    modules: &Modules,
    raisers: &Raisers<'_, 't>,
) -> Result<Handlers<'t>, String> {
    let mut handlers = Handlers::default();
    for &statement in tries {
        let mut names_requests = false;
        let holds = |nodes: &[Node]| {
            statement.child_by_field_name("body").is_some_and(|body| {
                nodes.iter().any(|n| body.start_byte() <= n.start_byte() && n.end_byte() <= body.end_byte())
            })
        };
        let mut read_timeout_caught = !holds(raisers.timed_calls);
        let mut cursor = statement.walk();
        for clause in statement.named_children(&mut cursor) {
            if clause.kind() == "except_group_clause" {
                return Err("an `except*` clause around the call".into());
            }
            if clause.kind() != "except_clause" {
                continue;
            }
            let mut values_cursor = clause.walk();
            let mut values: Vec<Node> = clause.children_by_field_name("value", &mut values_cursor).collect();
            let mut alias = clause.child_by_field_name("alias");
            // `except E as e` parses as one `as_pattern` value.
            if let [pattern] = values.as_slice()
                && pattern.kind() == "as_pattern"
            {
                alias = pattern.child_by_field_name("alias").and_then(|a| a.named_child(0));
                values = pattern.named_child(0).into_iter().collect();
            }
            let elements: Vec<Node> = values.iter().flat_map(|v| exception_elements(*v)).collect();
            let takes_read_timeout =
                values.is_empty() || elements.iter().any(|e| catches_read_timeout(file, *e));
            let body = Body {
                parses_json: holds(raisers.json_uses),
                stray_read_timeout: !read_timeout_caught && !takes_read_timeout,
            };
            read_timeout_caught |= takes_read_timeout;
            let mut mapped_here = false;
            for value in values {
                for element in exception_elements(value) {
                    match map_exception(file, element, modules, body)? {
                        Mapped::Keep => {}
                        Mapped::To(text, asyncio) => {
                            handlers.uses_asyncio |= asyncio;
                            handlers.uses_json |= body.parses_json && text.contains("JSONDecodeError");
                            mapped_here = true;
                            handlers.edits.push(Edit::replace(element.byte_range(), text));
                        }
                    }
                }
            }
            if mapped_here {
                names_requests = true;
                if let Some(alias) = alias {
                    map_error_uses(file, clause, file.text(alias), &mut handlers.edits)?;
                }
            }
        }
        if names_requests {
            handlers.tries.push(statement);
        }
    }
    Ok(handlers)
}

/// Whether `except <element>` catches requests' `ReadTimeout` (and aiohttp's read timeout).
fn catches_read_timeout(file: &FileContext, element: Node) -> bool {
    let text = file.text(element);
    match file.model.qualified_name(element) {
        Some(qualified) => {
            matches!(qualified.rsplit('.').next(), Some("Timeout" | "ReadTimeout" | "RequestException"))
                && qualified.starts_with("requests.")
        }
        None => {
            matches!(text, "Exception" | "BaseException")
                && file.model.resolve(text, element) == Resolved::Unbound
        }
    }
}

fn exception_elements(value: Node) -> Vec<Node> {
    let inner = if value.kind() == "parenthesized_expression" { value.named_child(0) } else { Some(value) };
    match inner {
        Some(tuple) if tuple.kind() == "tuple" || tuple.kind() == "expression_list" => {
            let mut cursor = tuple.walk();
            tuple.named_children(&mut cursor).filter(|n| n.kind() != "comment").collect()
        }
        Some(single) => vec![single],
        None => Vec::new(),
    }
}

enum Mapped {
    Keep,
    /// The replacement, and whether it names asyncio.
    To(String, bool),
}

fn map_exception(file: &FileContext, element: Node, modules: &Modules, body: Body) -> Result<Mapped, String> {
    let text = file.text(element);
    if let Some(qualified) = file.model.qualified_name(element) {
        let short = qualified
            .strip_prefix("requests.exceptions.")
            .or_else(|| qualified.strip_prefix("requests."))
            .filter(|_| qualified.starts_with("requests."));
        let Some(short) = short else {
            return if matches!(qualified.as_str(), "socket.error" | "socket.timeout") {
                Err(format!(
                    "`except {text}` also catches requests' errors (they are `OSError`s), not aiohttp's"
                ))
            } else {
                Ok(Mapped::Keep)
            };
        };
        let Modules { aiohttp, asyncio, json } = modules;
        return match short {
            "RequestException" if body.parses_json => match json {
                Some(json) => Ok(Mapped::To(
                    format!(
                        "({aiohttp}.ClientError, {asyncio}.TimeoutError, {json}.JSONDecodeError, \
                         UnicodeDecodeError)"
                    ),
                    true,
                )),
                None => Err(format!(
                    "`except {text}` also catches `.json()` errors, and the name `json` (for \
                     `json.JSONDecodeError`) is bound to something else here"
                )),
            },
            "RequestException" => {
                Ok(Mapped::To(format!("({aiohttp}.ClientError, {asyncio}.TimeoutError)"), true))
            }
            "HTTPError" => Ok(Mapped::To(format!("{aiohttp}.ClientResponseError"), false)),
            "ConnectionError" if body.stray_read_timeout => Err(format!(
                "`except {text}` around a call with `timeout=`: aiohttp's read timeout is a connection \
                 error, requests' is not"
            )),
            "ConnectionError" => Ok(Mapped::To(format!("{aiohttp}.ClientConnectionError"), false)),
            "Timeout" | "ReadTimeout" | "ConnectTimeout" => {
                Ok(Mapped::To(format!("{asyncio}.TimeoutError"), true))
            }
            _ => Err(format!("`except {text}` has no aiohttp counterpart")),
        };
    }
    match element.kind() {
        "identifier"
            if OS_ERRORS.contains(&text) && file.model.resolve(text, element) == Resolved::Unbound =>
        {
            Err(format!("`except {text}` catches requests' errors (they are `OSError`s) but not aiohttp's"))
        }
        "identifier" => Ok(Mapped::Keep),
        _ => Err(format!("`except {text}`: an exception type this rewrite cannot follow")),
    }
}

/// In a handler of a mapped clause, `e.response.status_code` is `e.status`; any other use of
/// `e.response` has no counterpart.
fn map_error_uses(
    file: &FileContext,
    clause: Node,
    alias: &str,
    edits: &mut Vec<Edit>,
) -> Result<(), String> {
    let attributes = crate::syntax::descendants(clause, |n| {
        n.kind() == "attribute"
            && n.child_by_field_name("object").is_some_and(|o| file.text(o) == alias)
            && n.child_by_field_name("attribute").is_some_and(|a| file.text(a) == "response")
    });
    for response in attributes {
        let status = response.parent().filter(|p| {
            p.kind() == "attribute"
                && p.child_by_field_name("attribute").is_some_and(|a| file.text(a) == "status_code")
        });
        match status {
            Some(status) => edits.push(Edit::replace(status.byte_range(), format!("{alias}.status"))),
            None => {
                return Err(format!(
                    "`{}` in the handler (aiohttp's error carries the status, not the response)",
                    file.text(response)
                ));
            }
        }
    }
    Ok(())
}
