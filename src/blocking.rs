//! Which calls block: the catalogue of known blocking (and CPU-heavy) callables, kept as data in
//! `transforms/blocking-call.toml` and `transforms/cpu-bound.toml` and extended by
//! `--blocking-callable`, and the name a call is known by in it.

use std::collections::HashSet;
use std::sync::OnceLock;

use tree_sitter::Node;

use crate::config::Settings;
use crate::definitions::{self, CallKind};
use crate::semantic::{Model, Resolved};
use crate::syntax::text;

/// The definition whose `[blocking]` table lists the blocking callables.
pub const BLOCKING_CATALOGUE: &str = "blocking-call";
/// The definition whose `[blocking]` table lists the CPU-heavy callables.
pub const CPU_CATALOGUE: &str = "cpu-bound";

/// Builtins that block; a call of the unshadowed name is known as `builtins.<name>`.
const BLOCKING_BUILTINS: &[&str] = &["open", "input"];

/// Classes whose instances' methods the catalogue lists as `pathlib.Path.<method>`.
const PATH_CLASSES: &[&str] = &["pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath"];

/// What to do about a call of `name` in a coroutine, per the catalogue of `definition`; the
/// blocking catalogue also holds the user's `--blocking-callable` names (run in a thread).
pub fn kind_of(definition: &str, name: &str, settings: &Settings) -> Option<CallKind> {
    let listed = definitions::get(definition).and_then(|d| d.blocking.get(name).copied());
    listed.or_else(|| {
        (definition == BLOCKING_CATALOGUE && settings.blocking_callables.iter().any(|extra| extra == name))
            .then_some(CallKind::Thread)
    })
}

/// What to do about `call` (a call of `name`), per the catalogue of `definition`: as
/// [`kind_of`], except that `os.spawn*(os.P_WAIT, ...)` runs the process to completion, like
/// `subprocess.run`, and so moves to a thread whole.
pub fn kind_of_call(
    definition: &str,
    name: &str,
    model: &Model,
    call: Node,
    settings: &Settings,
) -> Option<CallKind> {
    let kind = kind_of(definition, name, settings)?;
    let waits = || {
        let mode = call.child_by_field_name("arguments").and_then(|a| a.named_child(0));
        mode.and_then(|m| model.qualified_name(m)).is_some_and(|m| m == "os.P_WAIT")
    };
    Some(if kind == CallKind::Subprocess && name.starts_with("os.spawn") && waits() {
        CallKind::Thread
    } else {
        kind
    })
}

/// Whether a call of `name` blocks the thread that makes it (every kind in the blocking
/// catalogue does).
pub fn blocks(name: &str, settings: &Settings) -> bool {
    kind_of(BLOCKING_CATALOGUE, name, settings).is_some()
}

/// The name the catalogue knows `call`'s callee by: its qualified name through imports
/// (`sp.run` after `import subprocess as sp` is `subprocess.run`), `builtins.open` for the
/// unshadowed builtin, `pathlib.Path.read_text` for `Path(p).read_text()` and for `p.read_text()`
/// when `p` holds a `Path` (`p = Path(name)`, a parameter `p: Path`); `db.Connection.execute` for
/// `conn.execute()` with `conn: db.Connection`.
pub fn callable_name(model: &Model, call: Node) -> Option<String> {
    let function = call.child_by_field_name("function")?;
    if let Some(qualified) = model.qualified_name(function) {
        return Some(qualified);
    }
    match function.kind() {
        "identifier" => {
            let name = text(function, model.source());
            (BLOCKING_BUILTINS.contains(&name) && model.resolve(name, function) == Resolved::Unbound)
                .then(|| format!("builtins.{name}"))
        }
        "attribute" => {
            let method = text(function.child_by_field_name("attribute")?, model.source());
            let class = instance_class(model, function.child_by_field_name("object")?)?;
            if PATH_CLASSES.contains(&class.as_str()) {
                Some(format!("pathlib.Path.{method}"))
            } else {
                Some(format!("{class}.{method}"))
            }
        }
        _ => None,
    }
}

/// The names through which a call can reach a catalogue entry or another module's function:
/// every name the file binds by importing (at any depth) and the blocking builtins. Checked
/// before any name resolution, which costs far more. `None` after a star import, which binds
/// names that cannot be listed.
pub fn reachable_names<'t>(model: &Model<'t>) -> Option<HashSet<&'t str>> {
    let source = model.source();
    let mut names: HashSet<&str> = BLOCKING_BUILTINS.iter().copied().collect();
    for &statement in &model.index().imports {
        let mut cursor = statement.walk();
        for name in statement.children_by_field_name("name", &mut cursor) {
            let bound = match name.kind() {
                "aliased_import" => name.child_by_field_name("alias"),
                // `import os.path` binds `os`; `from x import y` binds `y`.
                "dotted_name" => name.named_child(0),
                _ => None,
            };
            names.extend(bound.map(|b| text(b, source)));
        }
        let mut cursor = statement.walk();
        if statement.named_children(&mut cursor).any(|c| c.kind() == "wildcard_import") {
            return None;
        }
    }
    Some(names)
}

/// The name a callee expression starts from: `subprocess` in `subprocess.run`, `Path` in
/// `Path(p).read_text`.
pub fn head_name<'t>(callee: Node<'t>, source: &'t str) -> Option<&'t str> {
    let mut current = callee;
    loop {
        current = match current.kind() {
            "identifier" => return Some(text(current, source)),
            "attribute" => current.child_by_field_name("object")?,
            "call" => current.child_by_field_name("function")?,
            "parenthesized_expression" => current.named_child(0)?,
            _ => return None,
        };
    }
}

/// The calls among `calls` that may name an entry of `catalogue` (the id of a definition with a
/// callables table), each with its callee and the name it calls: the cheap byte-level filters
/// first, then name resolution.
pub fn catalogue_calls<'a, 't>(
    model: &'a Model<'t>,
    settings: &'a Settings,
    calls: &'a [Node<'t>],
    catalogue: &'a str,
) -> impl Iterator<Item = (Node<'t>, Node<'t>, String)> + 'a {
    let source = model.source();
    let reachable = reachable_names(model);
    let methods = may_call_listed_methods(model, settings);
    calls.iter().filter_map(move |&call| {
        let callee = call.child_by_field_name("function")?;
        let reached = may_reach(&reachable, callee, source) || (methods && is_method_on_variable(callee));
        if !reached || !may_name_entry(catalogue, callee, source, settings) {
            return None;
        }
        Some((call, callee, callable_name(model, call)?))
    })
}

/// Whether a call of `callee` may name an entry of the catalogue of `definition` by its last
/// part: a method or module function called by attribute (`x.run(...)`) must be called like one
/// of the entries (`subprocess.run`). A bare name may be an alias (`from os import system as
/// sh`), so it is not ruled out here.
pub fn may_name_entry(definition: &str, callee: Node, source: &str, settings: &Settings) -> bool {
    if callee.kind() != "attribute" {
        return true;
    }
    let Some(last) = callee.child_by_field_name("attribute").map(|a| text(a, source)) else { return false };
    let ends_with_last = |name: &str| name.rsplit('.').next() == Some(last);
    let listed = last_parts(definition).contains(last);
    listed
        || (definition == BLOCKING_CATALOGUE
            && settings.blocking_callables.iter().any(|name| ends_with_last(name)))
}

/// The last parts of the names in the catalogue of `definition` (`run` for `subprocess.run`),
/// gathered once: every method call in a coroutine is checked against them.
fn last_parts(definition: &str) -> &'static HashSet<&'static str> {
    static BLOCKING: OnceLock<HashSet<&'static str>> = OnceLock::new();
    static CPU: OnceLock<HashSet<&'static str>> = OnceLock::new();
    static NONE: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let cell = match definition {
        BLOCKING_CATALOGUE => &BLOCKING,
        CPU_CATALOGUE => &CPU,
        _ => return NONE.get_or_init(HashSet::new),
    };
    cell.get_or_init(|| {
        let names = definitions::get(definition).into_iter().flat_map(|d| d.blocking.keys());
        names.filter_map(|name| name.rsplit('.').next()).collect()
    })
}

/// Whether a call of `callee` may name something in `names` (see [`reachable_names`]).
pub fn may_reach(names: &Option<HashSet<&str>>, callee: Node, source: &str) -> bool {
    match names {
        None => true,
        Some(names) => head_name(callee, source).is_some_and(|head| names.contains(head)),
    }
}

/// Whether `callee` is a method called on a plain variable (`p.read_text`), which may hold an
/// instance of a catalogue class (see [`callable_name`]) whatever names the file imports; only
/// worth asking when [`may_call_listed_methods`] says so.
pub fn is_method_on_variable(callee: Node) -> bool {
    callee.kind() == "attribute"
        && callee.child_by_field_name("object").is_some_and(|object| object.kind() == "identifier")
}

/// Whether the file imports a module one of whose classes has a method in a catalogue
/// (`pathlib` for `pathlib.Path.read_text`, `db` for `--blocking-callable db.Connection.execute`):
/// only then may a method called on a variable be one.
pub fn may_call_listed_methods(model: &Model, settings: &Settings) -> bool {
    let is_method = |name: &&str| {
        let parts: Vec<&str> = name.split('.').collect();
        parts.len() >= 3 && parts[parts.len() - 2].starts_with(char::is_uppercase)
    };
    let listed = [BLOCKING_CATALOGUE, CPU_CATALOGUE]
        .into_iter()
        .filter_map(definitions::get)
        .flat_map(|d| d.blocking.keys().map(String::as_str));
    let modules: HashSet<&str> = listed
        .chain(settings.blocking_callables.iter().map(String::as_str))
        .filter(is_method)
        .filter_map(|name| name.split('.').next())
        .collect();
    model.imports_any(|module| modules.contains(module))
}

/// The class whose instance `object` is: a constructor call's class (`Path(p)`), or a variable's
/// (see [`Model::instance_class`]).
fn instance_class(model: &Model, object: Node) -> Option<String> {
    match object.kind() {
        "call" => model.qualified_name(object.child_by_field_name("function")?),
        "identifier" => model.instance_class(object),
        _ => None,
    }
}

/// The top-level modules through which a file can reach the blocking catalogue (or
/// `--blocking-callable`): `subprocess`, `os`, `pathlib`, ... A file that imports none of them
/// and calls no blocking builtin cannot block directly.
pub fn catalogue_modules(settings: &Settings) -> HashSet<String> {
    let listed = definitions::get(BLOCKING_CATALOGUE).into_iter().flat_map(|d| d.blocking.keys());
    listed
        .chain(&settings.blocking_callables)
        .filter_map(|name| name.split('.').next())
        .filter(|first| *first != "builtins")
        .map(str::to_string)
        .collect()
}

/// Whether `bytes` calls one of the blocking builtins (`open(`, `input(`).
pub fn calls_blocking_builtin(bytes: &[u8]) -> bool {
    BLOCKING_BUILTINS.iter().any(|builtin| {
        let is_identifier = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
        memchr::memmem::find_iter(bytes, builtin.as_bytes()).any(|at| {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            !before.is_some_and(is_identifier) && bytes[at + builtin.len()..].starts_with(b"(")
        })
    })
}

/// Whether `word` occurs in `bytes` with no identifier character right before or after it.
pub fn contains_word(bytes: &[u8], word: &[u8]) -> bool {
    let is_identifier = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    memchr::memmem::find_iter(bytes, word).any(|at| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + word.len()).copied();
        !before.is_some_and(is_identifier) && !after.is_some_and(is_identifier)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{self, parse};

    fn name_of_first_call(source: &str) -> Option<String> {
        let tree = parse(source);
        let model = Model::new(source, tree.root_node());
        let calls = syntax::descendants(tree.root_node(), |n| n.kind() == "call");
        callable_name(&model, *calls.first()?)
    }

    #[test]
    fn names_calls_through_aliases_builtins_and_path_objects() {
        assert_eq!(name_of_first_call("import subprocess as sp\nsp.run(x)\n"), Some("subprocess.run".into()));
        assert_eq!(
            name_of_first_call("from os import path\npath.exists(p)\n"),
            Some("os.path.exists".into())
        );
        assert_eq!(name_of_first_call("input()\n"), Some("builtins.input".into()));
        assert_eq!(name_of_first_call("def input(): pass\ninput()\n"), None);
        assert_eq!(
            name_of_first_call("from pathlib import Path\nPath(p).read_text()\n").as_deref(),
            Some("pathlib.Path.read_text")
        );
        assert_eq!(name_of_first_call("Path(p).read_text()\n"), None);
    }

    #[test]
    fn catalogue_holds_stdlib_and_user_callables() {
        let mut settings = Settings::default();
        assert_eq!(kind_of(BLOCKING_CATALOGUE, "subprocess.run", &settings), Some(CallKind::Thread));
        assert_eq!(kind_of(BLOCKING_CATALOGUE, "subprocess.Popen", &settings), Some(CallKind::Subprocess));
        assert_eq!(kind_of(BLOCKING_CATALOGUE, "boto3.client", &settings), None);
        settings.blocking_callables.push("boto3.client".into());
        assert_eq!(kind_of(BLOCKING_CATALOGUE, "boto3.client", &settings), Some(CallKind::Thread));
        assert!(catalogue_modules(&settings).contains("boto3"));
        assert!(catalogue_modules(&Settings::default()).contains("subprocess"));
        assert!(calls_blocking_builtin(b"with open(path) as f:"));
        assert!(!calls_blocking_builtin(b"self.open(path); reopen(x); opened = 1"));
    }
}
