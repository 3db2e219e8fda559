//! Analysis shared by the concurrency transforms (`sequential-awaits`, `loop-awaits`,
//! `gather-to-taskgroup`): which awaited calls may start early, what each statement reads and
//! binds, and how to lay the rewritten code out in the file's style.

use std::collections::HashSet;
use std::ops::Range;

use tree_sitter::Node;

use crate::config::PythonVersion;
use crate::naming;
use crate::project::{CoroutineEffects, FunctionRef, Question};
use crate::semantic::Resolved;
use crate::syntax::{self, called_name};
use crate::transforms::FileContext;
use crate::transforms::statements;

/// Builtins without side effects that may appear in the arguments of a call that is started early.
const PURE_BUILTINS: &[&str] = &[
    "abs",
    "bool",
    "bytes",
    "dict",
    "float",
    "format",
    "frozenset",
    "int",
    "isinstance",
    "len",
    "list",
    "max",
    "min",
    "range",
    "repr",
    "round",
    "set",
    "sorted",
    "str",
    "tuple",
];

/// String methods and dict views without side effects (`"{}".format(x)`, `"/".join(parts)`,
/// `d.items()`).
const PURE_METHODS: &[&str] = &[
    "decode",
    "encode",
    "endswith",
    "format",
    "items",
    "join",
    "keys",
    "lower",
    "lstrip",
    "replace",
    "rsplit",
    "rstrip",
    "split",
    "startswith",
    "strip",
    "upper",
    "values",
];

/// Awaited methods whose order is the point: synchronisation, pacing, writes to one stream or
/// queue, statements of one transaction. They end a run and are never gathered from a loop.
const ORDERED_CALLS: &[&str] = &[
    "acquire",
    "close",
    "commit",
    "drain",
    "execute",
    "executemany",
    "flush",
    "join",
    "publish",
    "put",
    "release",
    "rollback",
    "send",
    "sendall",
    "sleep",
    "wait",
    "write",
    "writelines",
];

/// The asyncio functions whose awaited calls may be gathered; every other asyncio (and trio or
/// anyio) API ends a run: `sleep` paces, `gather`/`wait` already run things concurrently.
const GATHERABLE_ASYNCIO: &[&str] = &["asyncio.to_thread", "asyncio.wait_for"];

/// Whether the file uses trio or anyio, whose coroutines `asyncio.gather` cannot run.
pub(crate) fn uses_other_event_loop(file: &FileContext) -> bool {
    file.model.imports_any(|module| module == "trio" || module == "anyio")
}

/// Whether the awaited `call` is one whose order is the point (`ws.send(...)`, `asyncio.sleep`),
/// or computes its callee: such calls are never candidates for running at once.
pub(crate) fn runs_in_order(file: &FileContext, call: Node) -> bool {
    let Some(function) = call.child_by_field_name("function") else { return true };
    if let Some(name) = file.model.qualified_name(function) {
        let top = name.split('.').next().unwrap_or_default();
        if matches!(top, "asyncio" | "trio" | "anyio") && !GATHERABLE_ASYNCIO.contains(&name.as_str()) {
            return true;
        }
    }
    called_name(call).is_none_or(|last| ORDERED_CALLS.contains(&file.text(last)))
}

/// Whether the awaited `call`'s name says it checks something before what follows may run
/// (`check_team_exists`, `validate_token`): it likely raises to stop what follows, and gathered,
/// what follows would run anyway (`gather` does not cancel the other calls when one raises).
pub(crate) fn named_as_check(file: &FileContext, call: Node) -> bool {
    called_name(call).is_some_and(|last| naming::names_a_check(file.text(last)))
}

/// Whether the awaited `call`'s name says it changes state (`save_order(...)`,
/// `self.session_login()`): in a run of awaits a later call likely reads what it wrote. A loop
/// calls it on a different item each time, so loops do not ask.
pub(crate) fn named_as_state_change(file: &FileContext, call: Node) -> bool {
    called_name(call).is_some_and(|last| naming::names_a_state_change(file.text(last)))
}

/// Text that starts work concurrently, as a branch beside a sequential one would hold it.
const CONCURRENT_MARKERS: &[&str] =
    &["gather(", "TaskGroup(", "create_task(", "ensure_future(", "as_completed(", "start_soon("];

/// Whether `node` is in a branch of an `if` whose other branch runs things concurrently
/// (`if sequential: for c in clients: await c.start()` / `else: await asyncio.gather(...)`): the
/// author chose the sequential branch on purpose, so it is left alone.
pub(crate) fn beside_concurrent_branch(file: &FileContext, node: Node) -> bool {
    let mut child = node;
    while let Some(parent) = child.parent() {
        match parent.kind() {
            "function_definition" | "lambda" | "class_definition" => return false,
            "if_statement" => {
                let mut cursor = parent.walk();
                let branches = parent.children(&mut cursor).filter(|branch| {
                    branch.kind() == "block"
                        || branch.kind() == "elif_clause"
                        || branch.kind() == "else_clause"
                });
                let concurrent_sibling = branches
                    .filter(|branch| branch.id() != child.id())
                    .any(|branch| CONCURRENT_MARKERS.iter().any(|m| file.text(branch).contains(m)));
                if concurrent_sibling {
                    return true;
                }
            }
            _ => {}
        }
        child = parent;
    }
    false
}

/// Functions that read an answer from the terminal (`input`, `getpass.getpass`,
/// `aioconsole.ainput`, prompt_toolkit's `prompt_async`): two prompts started at once interleave,
/// and the answers may land in the wrong variables.
const TERMINAL_INPUT: &[&str] = &["ainput", "getpass", "input", "prompt", "prompt_async"];

/// Whether the awaited `call` reads from the terminal: it [runs](run_name) [one that
/// does](TERMINAL_INPUT).
pub(crate) fn reads_the_terminal(file: &FileContext, call: Node) -> bool {
    run_name(file, call).is_some_and(|name| TERMINAL_INPUT.contains(&name))
}

/// The name of the function an awaited call runs: its callee's, or for a call that runs a
/// function in a thread (`asyncio.to_thread(f, ...)`, `loop.run_in_executor(None, f, ...)`,
/// through `functools.partial` too) that function's.
pub(crate) fn run_name<'t>(file: &FileContext<'_, 't>, call: Node<'t>) -> Option<&'t str> {
    let mut call = call;
    loop {
        let last = called_name(call)?;
        // `proc.stdout.read.aio()` (modal's async variant of `read`) says what `read` says.
        let last = match (file.text(last), last.parent()) {
            ("aio" | "async_", Some(attribute)) if attribute.kind() == "attribute" => attribute
                .child_by_field_name("object")
                .filter(|o| o.kind() == "attribute")
                .and_then(|o| o.child_by_field_name("attribute"))
                .unwrap_or(last),
            _ => last,
        };
        // The function a thread runs: the first argument, or the second for run_in_executor.
        let runs = match file.text(last) {
            "to_thread" | "partial" => 0,
            "run_in_executor" => 1,
            name => return Some(name),
        };
        let arguments = statements::arguments(call);
        let runs = arguments.get(runs).filter(|a| a.kind() != "keyword_argument")?;
        match runs.kind() {
            "call" => call = *runs,
            "identifier" | "attribute" => return file.text(*runs).rsplit('.').next(),
            _ => return None,
        }
    }
}

/// What is known of what an awaited call does, for starting it before the calls above it end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Evidence {
    /// The coroutine it calls, whose body the project shows, only reads; or, where no body is
    /// seen, its name says it reads (`fetch_profile`).
    OnlyReads,
    /// The coroutine it calls never awaits: it runs to its end at once, and gains nothing from
    /// running beside other calls.
    NeverSuspends,
    /// The body of the coroutine it calls changes state (how): a later call may read what it
    /// wrote, as with a call [named as a change](named_as_state_change).
    ChangesState(String),
    /// Nothing shows that it only reads (why).
    Unknown(String),
}

/// What the awaited `call` is known to do: from the body of the project's coroutine it calls
/// (a module-level `async def` of this file or of another module of the run), else from the
/// name of the function it runs.
pub(crate) fn evidence(file: &FileContext, call: Node) -> Evidence {
    if let Some(effects) = callee_effects(file, call) {
        return match (effects.suspends, effects.changes_state) {
            (false, _) => Evidence::NeverSuspends,
            (true, Some(change)) => Evidence::ChangesState(change),
            (true, None) => Evidence::OnlyReads,
        };
    }
    match run_name(file, call) {
        Some(name) if naming::names_a_read(name) => Evidence::OnlyReads,
        Some(name) => Evidence::Unknown(format!("nothing shows that `{name}` only reads")),
        None => Evidence::Unknown("its callee is computed".to_string()),
    }
}

/// The effects of the project coroutine `call` calls, when the project shows its body.
fn callee_effects(file: &FileContext, call: Node) -> Option<CoroutineEffects> {
    let function = call.child_by_field_name("function")?;
    file.with_project(|project| {
        let qualified = match function.kind() {
            "identifier" => {
                let name = file.text(function);
                match file.model.resolve(name, function) {
                    Resolved::Import(qualified) => qualified,
                    Resolved::Other if file.model.resolves_to_module_scope(name, function) => {
                        let own = FunctionRef::in_analysed_file(file.path, name, file.own_summary());
                        return project.effects_through(&own);
                    }
                    _ => return None,
                }
            }
            "attribute" => file.model.qualified_name(function)?,
            _ => return None,
        };
        let target = project.resolve(file.path, &qualified, Question::Coroutine)?;
        project.effects_through(&target)
    })
}

/// The awaitable that `asyncio.wait_for(awaitable, ...)` bounds, when it is a call: the call the
/// step really makes, whose name and receiver say what it does.
pub(crate) fn bounded_call<'t>(file: &FileContext<'_, 't>, call: Node<'t>) -> Option<Node<'t>> {
    let function = call.child_by_field_name("function")?;
    if file.model.qualified_name(function).as_deref() != Some("asyncio.wait_for") {
        return None;
    }
    statements::arguments(call).first().copied().filter(|first| first.kind() == "call")
}

/// Why the awaited `call` may not be started before the awaits that precede it, if it may not:
/// it [runs in order](runs_in_order), or evaluating its callee or arguments may have a side effect.
pub(crate) fn not_startable_early(file: &FileContext, call: Node) -> Option<String> {
    if runs_in_order(file, call) {
        return Some("its order is the point".to_string());
    }
    // `asyncio.wait_for(fetch(a), timeout=5)` starts `fetch(a)`: that call is judged as a step,
    // and the other arguments as any call's.
    if let Some(bounded) = bounded_call(file, call) {
        if let Some(why) = not_startable_early(file, bounded) {
            return Some(why);
        }
        return statements::arguments(call).iter().skip(1).find_map(|argument| side_effect(file, *argument));
    }
    let function = call.child_by_field_name("function")?;
    if let Some(why) = side_effect(file, function) {
        return Some(why);
    }
    let arguments = call.child_by_field_name("arguments")?;
    if arguments.kind() != "argument_list" {
        return Some("its argument is a generator expression".to_string());
    }
    side_effect(file, arguments)
}

/// Why evaluating `node` may have a side effect or depend on timing, if it may: an `await`, a
/// `yield`, or a call that is not a known side-effect-free builtin or string method. Lambda
/// bodies are not evaluated and are skipped.
pub(crate) fn side_effect(file: &FileContext, node: Node) -> Option<String> {
    let mut stack = vec![node];
    while let Some(current) = stack.pop() {
        match current.kind() {
            "await" => return Some("an `await` inside its arguments".to_string()),
            "yield" => return Some("a `yield` inside its arguments".to_string()),
            "lambda" => continue,
            "call" if (current != node || node.kind() != "call") && !is_pure_call(file, current) => {
                let callee = current.child_by_field_name("function").map_or("", |f| file.text(f));
                return Some(format!("its arguments call `{callee}(...)`, which may have side effects"));
            }
            _ => {}
        }
        let mut cursor = current.walk();
        stack.extend(current.named_children(&mut cursor));
    }
    None
}

fn is_pure_call(file: &FileContext, call: Node) -> bool {
    let Some(function) = call.child_by_field_name("function") else { return false };
    match function.kind() {
        "identifier" => {
            PURE_BUILTINS.contains(&file.text(function))
                && file.model.resolve(file.text(function), call) == Resolved::Unbound
        }
        "attribute" => {
            let method = function.child_by_field_name("attribute").map_or("", |a| file.text(a));
            let on_string = function.child_by_field_name("object").is_some_and(|o| o.kind() == "string");
            PURE_METHODS.contains(&method) && (on_string || !matches!(method, "format" | "join"))
        }
        _ => false,
    }
}

/// The dotted paths an expression reads: every maximal chain of names and attributes (`self.db`,
/// `url`), without spaces, plus the receiver of each method call (the method receives it).
pub(crate) fn reads(file: &FileContext, node: Node) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(current) = stack.pop() {
        if matches!(current.kind(), "identifier" | "attribute") && is_maximal_chain(current) {
            if is_keyword_name(current) {
                continue;
            }
            out.push(compact(file.text(current)));
            if current.kind() == "attribute"
                && let Some(receiver) = current.child_by_field_name("object")
                && current.parent().is_some_and(|p| p.kind() == "call")
            {
                out.push(compact(file.text(receiver)));
            }
        }
        let mut cursor = current.walk();
        stack.extend(current.named_children(&mut cursor));
    }
    out
}

fn is_maximal_chain(node: Node) -> bool {
    node.parent().is_none_or(|parent| {
        parent.kind() != "attribute"
            || (parent.child_by_field_name("object") != Some(node)
                && parent.child_by_field_name("attribute") != Some(node))
    })
}

fn is_keyword_name(node: Node) -> bool {
    node.parent()
        .is_some_and(|p| p.kind() == "keyword_argument" && p.child_by_field_name("name") == Some(node))
}

pub(crate) fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace() && *c != '\\').collect()
}

/// The paths an assignment target binds: names (`a`, each name of `a, *rest`), attribute
/// chains (`self.total`) and, for subscripts, the container (`out` for `out[k]`).
pub(crate) fn binds(file: &FileContext, target: Node) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![target];
    while let Some(current) = stack.pop() {
        match current.kind() {
            "identifier" | "attribute" => out.push(compact(file.text(current))),
            "subscript" => {
                let mut container = current;
                while container.kind() == "subscript" {
                    match container.child_by_field_name("value") {
                        Some(value) => container = value,
                        None => break,
                    }
                }
                out.push(compact(file.text(container)));
            }
            _ => {
                let mut cursor = current.walk();
                stack.extend(current.named_children(&mut cursor));
            }
        }
    }
    out
}

/// The first of the `bound` paths (from [`binds`]) that code outside the statement at `at` can
/// read without it showing in the statement's text: a name declared `global` or `nonlocal`, a
/// name a function, lambda or class nested in the same function refers to (a closure), or an
/// object that is not the function's own (a module-level `config` or `cache`). A
/// called function may read such a binding, so no call after it may start before it is made.
pub(crate) fn visible_elsewhere(file: &FileContext, at: Node, bound: &[String]) -> Option<String> {
    let function =
        std::iter::successors(at.parent(), |n| n.parent()).find(|n| n.kind() == "function_definition")?;
    let root_of = |path: &str| path.split(['.', '[']).next().unwrap_or_default().to_string();
    let declared =
        syntax::descendants(function, |n| matches!(n.kind(), "global_statement" | "nonlocal_statement"));
    // A nested function can only be called once its `def` has run: before the statement, or
    // anywhere in a loop around it (an earlier iteration defined it).
    let in_loop = std::iter::successors(at.parent(), |n| n.parent())
        .take_while(|n| *n != function)
        .any(|n| matches!(n.kind(), "for_statement" | "while_statement"));
    let nested = syntax::descendants(function, |n| {
        n != function
            && matches!(n.kind(), "function_definition" | "lambda" | "class_definition")
            && (in_loop || n.start_byte() < at.start_byte())
    });
    bound
        .iter()
        .find(|path| {
            let root = root_of(path);
            let names_root = |scope: &Node| {
                syntax::find_first(*scope, |n| n.kind() == "identifier" && file.text(n) == root).is_some()
            };
            // A nested function with a local of its own of that name does not read this one.
            let reads_root = |scope: &Node| names_root(scope) && !file.model.binds_in_scope(*scope, &root);
            // A name the function assigns is its own local unless declared otherwise, so this
            // finds the objects it changes without binding them (`cache[k] = ...`, `config.x = ...`).
            let outside_object = file.model.resolves_to_module_scope(&root, at)
                || file.model.resolve(&root, at) == Resolved::Unbound;
            outside_object || declared.iter().any(names_root) || nested.iter().any(reads_root)
        })
        .cloned()
}

/// What a collection is known to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Built {
    List,
    Dict,
}

/// What the plain name `collection` is built as in the function around `at`: every binding of
/// it there is `name = []` / `list(...)` / a list comprehension (or the dict equivalents).
pub(crate) fn built_as(file: &FileContext, collection: Node, at: Node) -> Option<Built> {
    let bindings = bindings_in_function(file, collection, at)?;
    let first = (*bindings.first()?)?;
    bindings.iter().all(|b| *b == Some(first)).then_some(first)
}

/// Whether some binding of the plain name `collection` in the function around `at` builds a list
/// or dict there (`users = {u.id: u for u in users}`, even when `users` is also a parameter):
/// the function may pass its own container to calls that fill it.
pub(crate) fn may_be_built_here(file: &FileContext, collection: Node, at: Node) -> bool {
    bindings_in_function(file, collection, at).is_some_and(|b| b.iter().any(Option::is_some))
}

/// Each binding of the plain name `collection` in the function around `at`, as what it builds
/// (`None`: a binding of any other kind, such as a parameter or a loop variable).
fn bindings_in_function(file: &FileContext, collection: Node, at: Node) -> Option<Vec<Option<Built>>> {
    if collection.kind() != "identifier" {
        return None;
    }
    let name = file.text(collection);
    let function =
        std::iter::successors(Some(at), |n| n.parent()).find(|n| n.kind() == "function_definition")?;
    let mut bindings = Vec::new();
    for occurrence in syntax::descendants(function, |n| n.kind() == "identifier" && file.text(n) == name) {
        let Some(parent) = occurrence.parent() else { continue };
        let is_assigned =
            parent.kind() == "assignment" && parent.child_by_field_name("left") == Some(occurrence);
        if is_assigned {
            let built = parent.child_by_field_name("right").and_then(|value| match value.kind() {
                "list" | "list_comprehension" => Some(Built::List),
                "dictionary" | "dictionary_comprehension" => Some(Built::Dict),
                "call" => {
                    let builtin = value
                        .child_by_field_name("function")
                        .map(|f| file.text(f))
                        .filter(|f| file.model.resolve(f, value) == Resolved::Unbound);
                    match builtin {
                        Some("list") => Some(Built::List),
                        Some("dict") => Some(Built::Dict),
                        _ => None,
                    }
                }
                _ => None,
            });
            bindings.push(built);
            continue;
        }
        let binds_otherwise = matches!(
            parent.kind(),
            "augmented_assignment"
                | "assignment"
                | "for_statement"
                | "for_in_clause"
                | "pattern_list"
                | "tuple_pattern"
                | "list_pattern"
                | "parameters"
                | "typed_parameter"
                | "default_parameter"
                | "typed_default_parameter"
                | "named_expression"
                | "global_statement"
                | "nonlocal_statement"
                | "as_pattern_target"
                | "with_item"
        ) && parent.child_by_field_name("right") != Some(occurrence)
            && parent.child_by_field_name("value") != Some(occurrence);
        if binds_otherwise {
            bindings.push(None);
        }
    }
    Some(bindings)
}

/// Names bound by walrus expressions inside `node`.
pub(crate) fn walrus_binds(file: &FileContext, node: Node) -> Vec<String> {
    syntax::descendants(node, |n| n.kind() == "named_expression")
        .into_iter()
        .filter_map(|walrus| walrus.child_by_field_name("name"))
        .map(|name| file.text(name).to_string())
        .collect()
}

/// Whether reading `read` may observe what binding `bound` changed: the same path, a part of it
/// (`self.db.pool` after `self.db = ...`), or a whole that contains it (`self` after `self.x = ...`).
pub(crate) fn overlaps(read: &str, bound: &str) -> bool {
    let extends = |long: &str, short: &str| {
        long.len() > short.len()
            && long.starts_with(short)
            && matches!(long.as_bytes()[short.len()], b'.' | b'[')
    };
    read == bound || extends(read, bound) || extends(bound, read)
}

/// The receiver a method call runs on (`self.db` for `self.db.fetch(...)`), unless it is a
/// module (`httpx.get` shares nothing).
pub(crate) fn receiver(file: &FileContext, call: Node) -> Option<String> {
    let function = call.child_by_field_name("function").filter(|f| f.kind() == "attribute")?;
    let object = function.child_by_field_name("object")?;
    if file.model.qualified_name(object).is_some() {
        return None;
    }
    Some(compact(file.text(object)))
}

/// Why a `TaskGroup` at `node` would change which handler catches a failure, if it would: it
/// sits in the body of a `try` whose `except` clauses name specific exceptions, or (before Python
/// 3.12, whose `suppress` looks into groups) in a `with contextlib.suppress(...)` of specific
/// exceptions. Neither matches the `ExceptionGroup` a TaskGroup raises.
pub(crate) fn taskgroup_changes_handler(file: &FileContext, node: Node) -> Option<&'static str> {
    let is_specific = |caught: Node| {
        let caught = match caught.kind() {
            "as_pattern" => caught.named_child(0).unwrap_or(caught),
            _ => caught,
        };
        !matches!(file.text(caught), "Exception" | "BaseException")
    };
    let mut current = node;
    while let Some(parent) = current.parent() {
        match parent.kind() {
            "function_definition" | "lambda" | "class_definition" | "module" => return None,
            "try_statement" if parent.child_by_field_name("body") == Some(current) => {
                let mut cursor = parent.walk();
                let specific = parent
                    .named_children(&mut cursor)
                    .filter(|c| c.kind() == "except_clause")
                    .any(|clause| {
                        let mut c = clause.walk();
                        let caught = clause.named_children(&mut c).find(|n| n.kind() != "block");
                        caught.is_some_and(is_specific)
                    });
                if specific {
                    return Some(
                        "it is inside a `try` whose `except` clauses name specific exceptions; a TaskGroup \
                         raises an `ExceptionGroup`, which they would not catch",
                    );
                }
            }
            "with_statement" if file.settings.target < PythonVersion { minor: 12 } => {
                let suppresses_specific = syntax::descendants(parent, |n| n.kind() == "with_item")
                    .into_iter()
                    .filter(|item| item.parent().and_then(|c| c.parent()) == Some(parent))
                    .filter_map(|item| item.named_child(0).filter(|v| v.kind() == "call"))
                    .filter(|call| {
                        call.child_by_field_name("function")
                            .and_then(|f| file.model.qualified_name(f))
                            .is_some_and(|name| name == "contextlib.suppress")
                    })
                    .any(|call| {
                        let Some(arguments) = call.child_by_field_name("arguments") else { return true };
                        let mut cursor = arguments.walk();
                        let mut caught =
                            arguments.named_children(&mut cursor).filter(|a| a.kind() != "comment");
                        caught.any(is_specific)
                    });
                if suppresses_specific {
                    return Some(
                        "it is inside `contextlib.suppress(...)` of specific exceptions, which before Python \
                         3.12 does not suppress the `ExceptionGroup` a TaskGroup raises",
                    );
                }
            }
            _ => {}
        }
        current = parent;
    }
    None
}

/// Names for new locals that clash with nothing the function around them uses (its locals, the
/// globals it reads, its nested functions' names), handed out once each.
pub(crate) struct FreshNames<'t> {
    taken: HashSet<&'t str>,
    given: HashSet<String>,
}

impl<'t> FreshNames<'t> {
    pub(crate) fn new(file: &FileContext<'_, 't>, near: Node<'t>) -> FreshNames<'t> {
        let function = std::iter::successors(Some(near), |n| n.parent())
            .find(|n| n.kind() == "function_definition")
            .unwrap_or(file.model.root());
        let taken = statements::identifiers(file, function);
        FreshNames { taken, given: HashSet::new() }
    }

    pub(crate) fn get(&mut self, base: &str) -> String {
        for n in 0.. {
            let name = if n == 0 { base.to_string() } else { format!("{base}_{n}") };
            if !self.taken.contains(name.as_str()) && !self.given.contains(&name) {
                self.given.insert(name.clone());
                return name;
            }
        }
        unreachable!("some suffix is always free")
    }
}

/// The indentation before `node` when only whitespace precedes it on its line.
pub(crate) fn line_indent<'t>(file: &FileContext<'_, 't>, node: Node) -> Option<&'t str> {
    let start = node.start_byte();
    let line_start = file.source[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &file.source[line_start..start];
    indent.chars().all(|c| c == ' ' || c == '\t').then_some(indent)
}

/// The comments inside `range` that lie outside every range in `kept` (which is copied as it is),
/// in source order.
pub(crate) fn loose_comments<'t>(
    file: &FileContext<'_, 't>,
    range: Range<usize>,
    kept: &[Range<usize>],
) -> Vec<&'t str> {
    file.model
        .index()
        .comments
        .iter()
        .filter(|c| range.start <= c.start_byte() && c.end_byte() <= range.end)
        .filter(|c| !kept.iter().any(|k| k.start <= c.start_byte() && c.end_byte() <= k.end))
        .map(|c| file.text(*c).trim_end())
        .collect()
}

/// The source of `node` for a place whose line is indented by `new_indent`: continuation lines
/// that start with the indentation of the node's first line get `new_indent` in its place.
/// Unchanged when the node holds a string spanning lines, whose content must not move.
pub(crate) fn reindent(file: &FileContext, node: Node, new_indent: &str) -> String {
    let text = file.text(node);
    let line_start = file.source[..node.start_byte()].rfind('\n').map_or(0, |i| i + 1);
    let line = &file.source[line_start..];
    let old_indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
    if !text.contains('\n')
        || old_indent == new_indent
        || syntax::find_first(node, |n| n.kind() == "string" && file.text(n).contains('\n')).is_some()
    {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match line.strip_prefix(old_indent).filter(|_| i > 0) {
            Some(rest) => {
                out.push_str(new_indent);
                out.push_str(rest);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Lays `head(args...)tail` out on one line when it fits and no argument spans lines; else one
/// argument per line, one unit deeper than `indent`, with a trailing comma.
pub(crate) fn call_layout(
    file: &FileContext,
    indent: &str,
    head: &str,
    args: &[String],
    tail: &str,
) -> String {
    let one_line = format!("{head}{}{tail}", args.join(", "));
    if indent.len() + one_line.len() <= 88 && !args.iter().any(|a| a.contains('\n')) {
        return one_line;
    }
    let nl = file.style.newline;
    let inner = format!("{indent}{}", file.style.indent);
    let mut out = head.to_string();
    for arg in args {
        out.push_str(nl);
        out.push_str(&inner);
        out.push_str(&arg.replace("\r\n", "\n").replace('\n', nl));
        out.push(',');
    }
    out.push_str(nl);
    out.push_str(indent);
    out.push_str(tail);
    out
}
