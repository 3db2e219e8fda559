//! The semantic model: the two questions every transform asks, answered once.
//!
//! - "Is this code running in a coroutine, and may `await` go here?" ([`Model::context`])
//! - "What does this name or dotted expression refer to, through every import alias and local
//!   shadowing?" ([`Model::qualified_name`])
//!
//! Scopes follow Python's rules: module, function, lambda, class (invisible to nested functions)
//! and comprehension scopes. Bindings are collected per scope, lazily, the first time a name is
//! resolved in it. The model is deliberately conservative: a name bound both by an import and by
//! anything else in the same scope resolves to [`Resolved::Other`], so a transform never rewrites a
//! call whose meaning depends on control flow.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cell::RefCell;
use std::rc::Rc;

use tree_sitter::Node;

use crate::syntax::{self, Index, field, is_async_def, kind, text};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Binding {
    /// Bound by an import.
    Import(ImportBinding),
    /// Bound by anything else: assignment, parameter, `def`, loop variable, `global`, ...
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ImportBinding {
    /// The fully qualified name it refers to (`time.sleep` for `from time import sleep as nap`).
    qualified: String,
    /// Where the import statement starts.
    start: usize,
    /// Whether the statement sits directly in its scope's body (not under `if`, `try`, ...), so
    /// that it has run by the time later code of the scope runs.
    unconditional: bool,
}

impl Binding {
    fn imports(&self, qualified: &str) -> bool {
        matches!(self, Binding::Import(import) if import.qualified == qualified)
    }
}

#[derive(Debug, Default)]
struct Scope {
    bindings: HashMap<String, Vec<Binding>>,
    globals: HashSet<String>,
}

impl Scope {
    fn bind(&mut self, name: &str, binding: Binding) {
        self.bindings.entry(name.to_string()).or_default().push(binding);
    }
}

/// What a name refers to at one place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Import(String),
    Other,
    /// Not bound in any enclosing scope: a builtin, or a name from a star import.
    Unbound,
}

/// Where a piece of code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Directly in the body of an `async def`: `await` may be inserted.
    Async,
    /// Inside an `async def` but where `await` cannot go (the reason says where).
    AsyncNoAwait(&'static str),
    /// Module level, a plain `def`, a class body, or code handed to a thread.
    Sync,
}

/// How sure [`Model::loop_receiver`] is that an expression is an asyncio event loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopReceiver {
    /// `asyncio.get_running_loop()` itself, or a name assigned from one of asyncio's loop getters.
    Known,
    /// A name or attribute called `loop` or `*_loop`, of unknown origin.
    Assumed,
}

const LOOP_GETTERS: &[&str] = &["get_event_loop", "get_running_loop", "new_event_loop"];

/// How to refer to a module at one place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleRef {
    /// The local name to write (`asyncio`, or `aio` after `import asyncio as aio`).
    pub name: String,
    /// Whether `import <module>` must be added for `name` to work.
    pub needs_import: bool,
}

pub struct Model<'t> {
    source: &'t str,
    root: Node<'t>,
    index: Index<'t>,
    scopes: RefCell<HashMap<usize, Rc<Scope>>>,
    /// [`Model::qualified_name`] by node id: every transform asks it for the callee of every call.
    qualified_names: RefCell<HashMap<usize, Option<String>>>,
    /// [`Model::instance_class`]'s summary of each (function or module, name) asked about.
    instance_bindings: RefCell<HashMap<(usize, String), Rc<InstanceBindings>>>,
    /// Whether the tree holds only parts of the file (`crate::slice`).
    partial: bool,
}

/// How a function (or the module) binds one name, as far as telling its class goes.
#[derive(Debug, Default)]
struct InstanceBindings {
    /// Each parameter of that name: the class it is annotated with, when known.
    parameters: Vec<Option<String>>,
    /// Each assignment to it: the class constructed (`Path(...)`), whether the assignment is a
    /// statement of the body itself (it always runs), and where it ends.
    assignments: Vec<(Option<String>, bool, usize)>,
}

/// The modules fixes may import. An unbound name equal to one of them is taken to mean it.
pub const IMPORTABLE_BY_FIXES: &[&str] = &["asyncio", "trio", "anyio"];

const COMPREHENSION_KINDS: &[&str] =
    &["list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"];

impl<'t> Model<'t> {
    pub fn new(source: &'t str, root: Node<'t>) -> Model<'t> {
        Model {
            source,
            root,
            index: Index::build(root),
            scopes: RefCell::new(HashMap::default()),
            qualified_names: RefCell::new(HashMap::default()),
            instance_bindings: RefCell::new(HashMap::default()),
            partial: false,
        }
    }

    /// The model of a tree that holds only the parts of the file a slice kept.
    pub fn partial(source: &'t str, root: Node<'t>) -> Model<'t> {
        Model { partial: true, ..Model::new(source, root) }
    }

    /// Whether the tree holds only parts of the file: facts about the module as a whole (every
    /// function it defines) are not in it.
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    pub fn source(&self) -> &'t str {
        self.source
    }

    pub fn root(&self) -> Node<'t> {
        self.root
    }

    /// The calls, comments and imports of the file, gathered in one walk.
    pub fn index(&self) -> &Index<'t> {
        &self.index
    }

    /// Where `node` runs: in a coroutine (and whether `await` may be inserted there) or not.
    pub fn context(&self, node: Node<'t>) -> Context {
        // Only scope nodes change the answer: walk those rather than every ancestor.
        let in_annotation =
            self.index.annotations.iter().any(|a| a.start <= node.start_byte() && node.end_byte() <= a.end);
        let mut no_await: Option<&'static str> = in_annotation.then_some(IN_ANNOTATION);
        for scope in self.index.scopes_around(node).filter(|&scope| scope != node) {
            // A generator expression's first iterable is evaluated in the enclosing scope.
            if kind(scope) == "generator_expression" && holds_in_first_iterable(scope, node) {
                continue;
            }
            // Defaults, annotations and base classes are evaluated in the enclosing scope.
            let in_body = field(scope, "body").is_some_and(|body| syntax::holds(body, node));
            if let Some(context) = self.scope_context(scope, in_body, &mut no_await) {
                return context;
            }
        }
        Context::Sync
    }

    /// [`Model::context`] for a node given with its ancestors, innermost first (`node, parent,
    /// grandparent, ...`): a walk that already knows them saves tree-sitter's parent lookups.
    pub fn context_along(&self, mut chain: impl Iterator<Item = Node<'t>>) -> Context {
        let mut no_await: Option<&'static str> = None;
        let Some(mut current) = chain.next() else {
            return Context::Sync;
        };
        let mut previous = current;
        for parent in chain {
            if kind(parent) == "type" {
                no_await.get_or_insert(IN_ANNOTATION);
            }
            // A generator expression's first iterable is evaluated in the enclosing scope.
            if kind(parent) == "generator_expression" && is_first_iterable(parent, current, previous) {
                previous = current;
                current = parent;
                continue;
            }
            // Defaults, annotations and base classes are evaluated in the enclosing scope.
            let in_body = field(parent, "body") == Some(current);
            if let Some(context) = self.scope_context(parent, in_body, &mut no_await) {
                return context;
            }
            previous = current;
            current = parent;
        }
        Context::Sync
    }

    /// What crossing `parent` on the way up from some code says about where that code runs:
    /// the answer, or `None` to look further out (noting in `no_await` why `await` cannot go).
    fn scope_context(
        &self,
        parent: Node<'t>,
        in_body: bool,
        no_await: &mut Option<&'static str>,
    ) -> Option<Context> {
        match kind(parent) {
            "lambda" | "function_definition" | "class_definition" if !in_body => {}
            "lambda" => {
                if self.runs_in_thread(parent) {
                    return Some(Context::Sync);
                }
                no_await.get_or_insert("inside a lambda");
            }
            "generator_expression" => {
                no_await.get_or_insert("inside a generator expression");
            }
            "function_definition" => {
                return Some(match (is_async_def(parent), *no_await) {
                    (true, None) => Context::Async,
                    (true, Some(why)) => Context::AsyncNoAwait(why),
                    (false, _) => Context::Sync,
                });
            }
            "class_definition" | "module" => return Some(Context::Sync),
            _ => {}
        }
        None
    }

    /// A lambda passed to `asyncio.to_thread(...)` or `loop.run_in_executor(...)` runs in a thread,
    /// where blocking is the point.
    fn runs_in_thread(&self, lambda: Node<'t>) -> bool {
        let outer = std::iter::successors(Some(lambda), |n| n.parent())
            .find(|n| kind(*n) != "parenthesized_expression" && kind(*n) != "lambda")
            .unwrap_or(lambda);
        let Some(call) = (kind(outer) == "argument_list").then(|| outer.parent()).flatten() else {
            return false;
        };
        if kind(call) != "call" {
            return false;
        }
        let Some(function) = field(call, "function") else {
            return false;
        };
        let thread_runners = ["asyncio.to_thread", "anyio.to_thread.run_sync", "trio.to_thread.run_sync"];
        self.qualified_name(function).is_some_and(|name| thread_runners.contains(&name.as_str()))
            || (kind(function) == "attribute"
                && function
                    .child_by_field_name("attribute")
                    .is_some_and(|attr| text(attr, self.source) == "run_in_executor"))
    }

    /// The fully qualified name of an identifier or dotted attribute expression that starts with
    /// an imported name: `t.sleep` after `import time as t` is `time.sleep`.
    pub fn qualified_name(&self, expr: Node<'t>) -> Option<String> {
        if let Some(known) = self.qualified_names.borrow().get(&expr.id()) {
            return known.clone();
        }
        let qualified = self.find_qualified_name(expr);
        self.qualified_names.borrow_mut().insert(expr.id(), qualified.clone());
        qualified
    }

    fn find_qualified_name(&self, expr: Node<'t>) -> Option<String> {
        // Iterative: a chain of thousands of attributes or parentheses must not overflow the stack.
        let mut attributes = Vec::new();
        let mut current = expr;
        let head = loop {
            match kind(current) {
                "parenthesized_expression" => current = current.named_child(0)?,
                "attribute" => {
                    attributes.push(text(field(current, "attribute")?, self.source));
                    current = field(current, "object")?;
                }
                "identifier" => break current,
                _ => return None,
            }
        };
        let mut qualified = match self.resolve(text(head, self.source), head) {
            Resolved::Import(qualified) => qualified,
            // A fix may add `import asyncio`; code that already names the unbound module must mean
            // the same thing before and after, or one fix would conjure findings of another that
            // `check` never reported.
            Resolved::Unbound if IMPORTABLE_BY_FIXES.contains(&text(head, self.source)) => {
                text(head, self.source).to_string()
            }
            _ => return None,
        };
        for attribute in attributes.iter().rev() {
            qualified.push('.');
            qualified.push_str(attribute);
        }
        Some(qualified)
    }

    /// What `name` refers to at `at`, following Python's scope rules.
    pub fn resolve(&self, name: &str, at: Node<'t>) -> Resolved {
        match self.lookup(name, at) {
            Some((_, bindings)) => classify(&bindings),
            None => Resolved::Unbound,
        }
    }

    /// Whether `name`, used at `at`, refers to a module-level binding (no local shadows it).
    pub fn resolves_to_module_scope(&self, name: &str, at: Node<'t>) -> bool {
        matches!(self.lookup(name, at), Some((true, _)))
    }

    /// The bindings of `name` in the scope that `at` sees it from, and whether that scope is the
    /// module's.
    fn lookup(&self, name: &str, at: Node<'t>) -> Option<(bool, Vec<Binding>)> {
        let mut innermost = true;
        for node in self.index.scopes_around(at) {
            // A class body's names are invisible to the functions nested in it.
            let visible = kind(node) != "class_definition" || innermost;
            innermost = false;
            if visible {
                let scope = self.scope(node);
                if scope.globals.contains(name) {
                    break;
                }
                if let Some(bindings) = scope.bindings.get(name) {
                    return Some((false, bindings.clone()));
                }
            }
        }
        self.scope(self.root).bindings.get(name).map(|bindings| (true, bindings.clone()))
    }

    /// How to refer to `module` at `at`: its existing import (or alias), or its plain name plus a
    /// request to import it. `None` when the name is taken by something else.
    pub fn module_ref(&self, module: &str, at: Node<'t>) -> Option<ModuleRef> {
        let plain = |needs_import| Some(ModuleRef { name: module.to_string(), needs_import });
        match self.lookup(module, at) {
            Some((_, bindings)) if !bindings.iter().all(|b| b.imports(module)) => return None,
            // A module-level import under `if`/`try` may not have run: add an unconditional one.
            Some((true, bindings)) => {
                let available = bindings.iter().any(|b| matches!(b, Binding::Import(i) if i.unconditional));
                return plain(!available);
            }
            // A local import makes the name local to the whole function: usable only after it ran.
            Some((false, bindings)) => {
                let ran_before = bindings
                    .iter()
                    .all(|b| matches!(b, Binding::Import(i) if i.unconditional && i.start < at.start_byte()));
                return if ran_before { plain(false) } else { None };
            }
            None => {}
        }
        let module_scope = self.scope(self.root);
        let mut aliases: Vec<&String> = module_scope
            .bindings
            .iter()
            .filter(|(_, bindings)| {
                bindings
                    .iter()
                    .all(|b| matches!(b, Binding::Import(i) if i.qualified == module && i.unconditional))
            })
            .map(|(name, _)| name)
            .collect();
        aliases.sort();
        for alias in aliases {
            if matches!(self.lookup(alias, at), Some((true, _))) {
                return Some(ModuleRef { name: alias.clone(), needs_import: false });
            }
        }
        plain(true)
    }

    /// Whether `node` calls one of asyncio's loop getters: `asyncio.get_running_loop()`,
    /// `asyncio.events.get_event_loop()`, or (inside asyncio itself) `events.new_event_loop()`.
    pub fn is_loop_getter(&self, node: Node<'t>) -> bool {
        let Some(name) = node
            .child_by_field_name("function")
            .filter(|_| kind(node) == "call")
            .and_then(|f| self.qualified_name(f))
        else {
            return false;
        };
        let (module, function) = name.rsplit_once('.').unwrap_or(("", &name));
        LOOP_GETTERS.contains(&function) && matches!(module, "asyncio" | "asyncio.events" | ".events")
    }

    /// Whether `receiver` (used at `at`) is an asyncio event loop, and how sure that is. A
    /// `TaskGroup` (`tg.create_task`) or an executor never matches.
    pub fn loop_receiver(&self, receiver: Node<'t>, at: Node<'t>) -> Option<LoopReceiver> {
        if self.is_loop_getter(receiver) {
            return Some(LoopReceiver::Known);
        }
        let last_name = match kind(receiver) {
            "identifier" => receiver,
            "attribute" => field(receiver, "attribute")?,
            _ => return None,
        };
        if kind(receiver) == "identifier" && self.loop_variable_assignment(receiver, at).is_some() {
            return Some(LoopReceiver::Known);
        }
        let name = text(last_name, self.source).to_ascii_lowercase();
        (name == "loop" || name.ends_with("_loop")).then_some(LoopReceiver::Assumed)
    }

    /// The statement `name = asyncio.get_running_loop()` (or another loop getter) in the function
    /// (or module) around `at` that binds the identifier `name`.
    /// Only when every binding of the name in that scope is such an assignment: a name later
    /// rebound (`runner = make_group()`) or bound otherwise (`async with ... as runner`) is not
    /// known to be a loop.
    pub fn loop_variable_assignment(&self, name: Node<'t>, at: Node<'t>) -> Option<Node<'t>> {
        let wanted = text(name, self.source);
        let (_, bindings) = self.lookup(wanted, at)?;
        let scope =
            self.index.scopes_around(at).find(|n| kind(*n) == "function_definition").unwrap_or(self.root);
        let body = field(scope, "body").unwrap_or(scope);
        let mut getters = Vec::new();
        let mut stack = vec![body];
        while let Some(node) = stack.pop() {
            match kind(node) {
                "function_definition" | "class_definition" | "lambda" => continue,
                "assignment"
                    if field(node, "left").is_some_and(|l| text(l, self.source) == wanted)
                        && field(node, "right").is_some_and(|r| self.is_loop_getter(r)) =>
                {
                    getters.push(node)
                }
                _ => {}
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
        (!getters.is_empty() && getters.len() == bindings.len()).then(|| getters[0])
    }

    /// The class that the variable `name` (an identifier) holds an instance of, by the qualified
    /// name of the class: every binding of it in the function (or module) around it is either an
    /// assignment of a constructor call (`p = Path(name)`) or a parameter annotated with the class
    /// (`p: Path`), all of the same class. `None` when any binding says otherwise or nothing does.
    pub fn instance_class(&self, name: Node<'t>) -> Option<String> {
        let wanted = text(name, self.source);
        let (_, bindings) = self.lookup(wanted, name)?;
        let scope = std::iter::successors(Some(name), |n| n.parent())
            .find(|n| matches!(n.kind(), "function_definition" | "module"))?;
        let summary = self.instance_bindings(scope, wanted);
        // An assignment that always runs before `name` replaces a parameter's value:
        // `path = Path(path)`.
        let rebound_before =
            summary.assignments.iter().any(|(_, always, end)| *always && *end <= name.start_byte());
        let assigned = summary.assignments.iter().map(|(class, _, _)| class);
        let classes: Vec<&Option<String>> = if rebound_before {
            assigned.collect()
        } else {
            summary.parameters.iter().chain(assigned).collect()
        };
        let first = classes.first()?.as_ref()?;
        let counted = classes.len() + if rebound_before { summary.parameters.len() } else { 0 };
        (counted == bindings.len() && classes.iter().all(|c| c.as_ref() == Some(first)))
            .then(|| first.clone())
    }

    /// The parameters and assignments through which the function (or module) `scope` binds
    /// `wanted`, computed once per pair.
    fn instance_bindings(&self, scope: Node<'t>, wanted: &str) -> Rc<InstanceBindings> {
        let key = (scope.id(), wanted.to_string());
        if let Some(summary) = self.instance_bindings.borrow().get(&key) {
            return summary.clone();
        }
        let mut summary = InstanceBindings::default();
        if let Some(parameters) = scope.child_by_field_name("parameters") {
            let mut cursor = parameters.walk();
            for parameter in parameters.named_children(&mut cursor) {
                let (bound, annotation) = match parameter.kind() {
                    "identifier" => (Some(parameter), None),
                    "typed_parameter" => (parameter.named_child(0), parameter.child_by_field_name("type")),
                    "typed_default_parameter" | "default_parameter" => {
                        (parameter.child_by_field_name("name"), parameter.child_by_field_name("type"))
                    }
                    _ => (None, None),
                };
                if bound.is_some_and(|b| b.kind() == "identifier" && text(b, self.source) == wanted) {
                    // `type` wraps the annotation's expression.
                    let class =
                        annotation.and_then(|a| a.named_child(0)).and_then(|a| self.qualified_name(a));
                    summary.parameters.push(class);
                }
            }
        }
        let body = scope.child_by_field_name("body").unwrap_or(scope);
        let mut stack = vec![body];
        while let Some(node) = stack.pop() {
            match node.kind() {
                "function_definition" | "class_definition" | "lambda" => continue,
                "assignment"
                    if node.child_by_field_name("left").is_some_and(|l| text(l, self.source) == wanted) =>
                {
                    let constructor = node
                        .child_by_field_name("right")
                        .filter(|r| r.kind() == "call")
                        .and_then(|r| r.child_by_field_name("function"));
                    let statement = node.parent().filter(|p| p.kind() == "expression_statement");
                    let always = statement.and_then(|s| s.parent()) == Some(body);
                    summary.assignments.push((
                        constructor.and_then(|c| self.qualified_name(c)),
                        always,
                        node.end_byte(),
                    ));
                }
                _ => {}
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
        let summary = Rc::new(summary);
        self.instance_bindings.borrow_mut().insert(key, summary.clone());
        summary
    }

    /// How many times the scope of `scope` (the module, or a class or function definition) binds
    /// `name` (`def`, assignment, import, for the module a `global` declaration's assignment in a
    /// function, ...).
    pub fn binding_count(&self, scope: Node<'t>, name: &str) -> usize {
        self.scope(scope).bindings.get(name).map_or(0, Vec::len)
    }

    /// Whether any scope of the file imports `module` or something from it.
    pub fn imports_module(&self, module: &str) -> bool {
        self.imports_any(|top_level| top_level == module)
    }

    /// The names any scope of the file binds by an import of something `wanted` accepts (`t` for
    /// `import time as t` and `nap` for `from time import sleep as nap` when it accepts `time`
    /// and `time.sleep`): only through them can [`Model::resolve`] answer such an import, and
    /// they are found from the import statements alone, without the scopes of the file.
    pub fn names_importing(&self, wanted: impl Fn(&str) -> bool) -> HashSet<String> {
        let mut names = HashSet::default();
        for &statement in &self.index.imports {
            let mut scope = Scope::default();
            if kind(statement) == "import_statement" {
                self.bind_import(statement, &mut scope);
            } else {
                self.bind_import_from(statement, &mut scope);
            }
            for (name, bindings) in scope.bindings {
                if bindings.iter().any(|b| matches!(b, Binding::Import(i) if wanted(&i.qualified))) {
                    names.insert(name);
                }
            }
        }
        names
    }

    /// Whether any scope of the file imports something from a top-level module `wanted` accepts
    /// (relative imports never match).
    pub fn imports_any(&self, wanted: impl Fn(&str) -> bool) -> bool {
        !self.names_importing(|qualified| wanted(qualified.split('.').next().unwrap_or_default())).is_empty()
    }

    /// Whether the scope that `scope` opens (a function, lambda, class or comprehension) binds
    /// `name` itself, so that its uses there do not refer to an enclosing scope's `name`.
    pub fn binds_in_scope(&self, scope: Node<'t>, name: &str) -> bool {
        syntax::SCOPE_KINDS.contains(&scope.kind()) && self.scope(scope).bindings.contains_key(name)
    }

    fn scope(&self, node: Node<'t>) -> Rc<Scope> {
        if let Some(scope) = self.scopes.borrow().get(&node.id()) {
            return scope.clone();
        }
        let scope = Rc::new(self.collect_scope(node));
        self.scopes.borrow_mut().insert(node.id(), scope.clone());
        scope
    }

    fn collect_scope(&self, node: Node<'t>) -> Scope {
        let mut scope = Scope::default();
        match kind(node) {
            "function_definition" | "lambda" => {
                if let Some(parameters) = field(node, "parameters") {
                    self.bind_parameters(parameters, &mut scope);
                }
                if let Some(body) = field(node, "body") {
                    self.collect_statements(body, &mut scope);
                }
            }
            "class_definition" => {
                if let Some(body) = field(node, "body") {
                    self.collect_statements(body, &mut scope);
                }
            }
            "module" => {
                self.collect_statements(node, &mut scope);
                // `global x` in a function that assigns `x` rebinds the module's `x`.
                if self.source.contains("global") {
                    for &statement in &self.index.globals {
                        let Some(function) =
                            self.index.scopes_around(statement).find(|n| kind(*n) == "function_definition")
                        else {
                            continue;
                        };
                        let assigned = self.scope(function);
                        let mut cursor = statement.walk();
                        for name in statement.named_children(&mut cursor) {
                            let name = text(name, self.source);
                            if assigned.bindings.contains_key(name) {
                                scope.bind(name, Binding::Other);
                            }
                        }
                    }
                }
            }
            _ => {
                // Comprehensions bind their loop targets.
                let mut cursor = node.walk();
                for clause in node.named_children(&mut cursor) {
                    if kind(clause) == "for_in_clause"
                        && let Some(left) = field(clause, "left")
                    {
                        self.bind_targets(left, &mut scope);
                    }
                }
            }
        }
        scope
    }

    fn bind_parameters(&self, parameters: Node<'t>, scope: &mut Scope) {
        syntax::visit_with_ancestors(parameters, |identifier, ancestors, _| {
            if kind(identifier) != "identifier" {
                return;
            }
            // Identifiers inside a default value or an annotation are uses, not parameters.
            let is_name = ancestors.last().is_some_and(|&p| match kind(p) {
                "default_parameter" | "typed_default_parameter" => field(p, "name") == Some(identifier),
                "parameters"
                | "lambda_parameters"
                | "typed_parameter"
                | "list_splat_pattern"
                | "dictionary_splat_pattern" => true,
                _ => false,
            });
            if is_name {
                scope.bind(text(identifier, self.source), Binding::Other);
            }
        });
    }

    /// Walks the statements of a scope body without entering nested scopes.
    fn collect_statements(&self, body: Node<'t>, scope: &mut Scope) {
        let mut stack = vec![body];
        let mut cursor = body.walk();
        while let Some(node) = stack.pop() {
            match kind(node) {
                "import_statement" => self.bind_import(node, scope),
                "import_from_statement" => self.bind_import_from(node, scope),
                "function_definition" | "class_definition" => {
                    if let Some(name) = field(node, "name") {
                        scope.bind(text(name, self.source), Binding::Other);
                    }
                    // Decorators, defaults and bases are evaluated here, but only walrus could
                    // bind in them; skip the nested body.
                    continue;
                }
                "lambda" => continue,
                kind if COMPREHENSION_KINDS.contains(&kind) => {
                    // Only a walrus inside a comprehension binds in the enclosing scope.
                    for walrus in syntax::descendants(node, |n| n.kind() == "named_expression") {
                        if let Some(name) = field(walrus, "name") {
                            scope.bind(text(name, self.source), Binding::Other);
                        }
                    }
                    continue;
                }
                "assignment" | "augmented_assignment" | "for_statement" => {
                    if let Some(left) = field(node, "left") {
                        self.bind_targets(left, scope);
                    }
                }
                "as_pattern" => {
                    if let Some(alias) = field(node, "alias") {
                        self.bind_targets(alias, scope);
                    }
                }
                "except_clause" => {
                    if let Some(alias) = field(node, "alias") {
                        self.bind_targets(alias, scope);
                    }
                }
                "named_expression" => {
                    if let Some(name) = field(node, "name") {
                        scope.bind(text(name, self.source), Binding::Other);
                    }
                }
                "global_statement" => {
                    let mut cursor = node.walk();
                    for name in node.named_children(&mut cursor) {
                        scope.globals.insert(text(name, self.source).to_string());
                    }
                }
                "nonlocal_statement" => {
                    let mut cursor = node.walk();
                    for name in node.named_children(&mut cursor) {
                        scope.bind(text(name, self.source), Binding::Other);
                    }
                }
                "case_pattern" => {
                    // Capture patterns bind; dotted value patterns do not, but binding them too
                    // only makes resolution more conservative.
                    for identifier in syntax::descendants(node, |n| kind(n) == "identifier") {
                        scope.bind(text(identifier, self.source), Binding::Other);
                    }
                }
                _ => {}
            }
            // One cursor for the whole walk: creating one per node allocates.
            let first = stack.len();
            stack.extend(node.named_children(&mut cursor));
            stack[first..].reverse();
        }
    }

    fn bind_targets(&self, target: Node<'t>, scope: &mut Scope) {
        let mut stack = vec![target];
        while let Some(target) = stack.pop() {
            match kind(target) {
                "identifier" => scope.bind(text(target, self.source), Binding::Other),
                "attribute" | "subscript" => {}
                _ => {
                    let mut cursor = target.walk();
                    stack.extend(target.named_children(&mut cursor));
                }
            }
        }
    }

    fn bind_import(&self, node: Node<'t>, scope: &mut Scope) {
        let mut cursor = node.walk();
        for name in node.children_by_field_name("name", &mut cursor) {
            match kind(name) {
                "dotted_name" => {
                    // `import os.path` binds `os`.
                    let full = text(name, self.source);
                    let first = full.split('.').next().unwrap_or(full).trim();
                    scope.bind(first, import_binding(node, first.to_string()));
                }
                "aliased_import" => {
                    if let (Some(module), Some(alias)) = (field(name, "name"), field(name, "alias")) {
                        scope.bind(
                            text(alias, self.source),
                            import_binding(node, dotted(module, self.source)),
                        );
                    }
                }
                _ => {}
            }
        }
    }

    fn bind_import_from(&self, node: Node<'t>, scope: &mut Scope) {
        let Some(module) = field(node, "module_name") else {
            return;
        };
        let module = dotted(module, self.source);
        let mut cursor = node.walk();
        for name in node.children_by_field_name("name", &mut cursor) {
            let (imported, local) = match kind(name) {
                "dotted_name" => (name, name),
                "aliased_import" => match (field(name, "name"), field(name, "alias")) {
                    (Some(imported), Some(alias)) => (imported, alias),
                    _ => continue,
                },
                _ => continue,
            };
            // `from . import util` names the module `.util`, as `from .util import f` names `.util.f`.
            let separator = if module.ends_with('.') { "" } else { "." };
            let qualified = format!("{module}{separator}{}", dotted(imported, self.source));
            scope.bind(text(local, self.source), import_binding(node, qualified));
        }
    }
}

/// A cheap check of a file's calls against a few functions (`time.sleep`): an attribute callee
/// must end with one of their last names (`t.sleep`), a bare name must be imported as one of
/// them (`nap` for `from time import sleep as nap`). It spares resolving every call of a file;
/// what passes is then decided by [`Model::qualified_name`].
pub struct CalleeFilter<'f> {
    functions: &'f [&'f str],
    imported: HashSet<String>,
}

impl<'f> CalleeFilter<'f> {
    pub fn new(model: &Model, functions: &'f [&'f str]) -> CalleeFilter<'f> {
        CalleeFilter {
            functions,
            imported: model.names_importing(|qualified| functions.contains(&qualified)),
        }
    }

    pub fn may_call(&self, callee: Node, source: &str) -> bool {
        match kind(callee) {
            "attribute" => field(callee, "attribute").is_some_and(|attribute| {
                let last = text(attribute, source);
                self.functions.iter().any(|f| f.rsplit('.').next() == Some(last))
            }),
            // A bare name reaches a function only through an import: the names resolution accepts
            // unbound (`IMPORTABLE_BY_FIXES`) are modules, never called bare.
            "identifier" => self.imported.contains(text(callee, source)),
            // Parentheses and the like: left to name resolution.
            _ => true,
        }
    }
}

/// A dotted name's text without the spaces Python tolerates around the dots.
fn dotted(node: Node, source: &str) -> String {
    text(node, source).chars().filter(|c| !c.is_whitespace() && *c != '\\').collect()
}

fn import_binding(statement: Node, qualified: String) -> Binding {
    let unconditional = statement.parent().is_some_and(|parent| {
        kind(parent) == "module"
            || (kind(parent) == "block"
                && parent
                    .parent()
                    .is_some_and(|p| matches!(kind(p), "function_definition" | "class_definition")))
    });
    Binding::Import(ImportBinding { qualified, start: statement.start_byte(), unconditional })
}

fn classify(bindings: &[Binding]) -> Resolved {
    match bindings {
        [Binding::Import(first), rest @ ..] if rest.iter().all(|b| b.imports(&first.qualified)) => {
            Resolved::Import(first.qualified.clone())
        }
        _ => Resolved::Other,
    }
}

/// Whether `clause` (a child of `generator`) is its first `for ... in` clause and `part` (a child
/// of `clause`) is what that clause iterates over.
/// An annotation is evaluated later or never (`from __future__ import annotations`, a local
/// variable's, Python 3.14), and `await` in one is a syntax error there.
const IN_ANNOTATION: &str = "in an annotation";

/// Whether `node` lies in the iterable of `generator`'s first `for` clause, which Python evaluates
/// in the enclosing scope.
fn holds_in_first_iterable(generator: Node, node: Node) -> bool {
    let mut cursor = generator.walk();
    let first = generator.named_children(&mut cursor).find(|c| c.kind() == "for_in_clause");
    first.is_some_and(|clause| {
        clause != node
            && syntax::holds(clause, node)
            && clause.child_by_field_name("left").is_none_or(|left| !syntax::holds(left, node))
    })
}

fn is_first_iterable(generator: Node, clause: Node, part: Node) -> bool {
    let mut cursor = generator.walk();
    let first = generator.named_children(&mut cursor).find(|c| c.kind() == "for_in_clause");
    first == Some(clause) && clause.child_by_field_name("left") != Some(part) && clause != part
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    /// Resolves the callee of the first call whose text starts with `needle`.
    fn callee(source: &str, needle: &str) -> (Option<String>, Context) {
        let tree = parse(source);
        let model = Model::new(source, tree.root_node());
        let call = syntax::descendants(tree.root_node(), |n| n.kind() == "call")
            .into_iter()
            .find(|c| text(*c, source).starts_with(needle))
            .expect("call present");
        let function = call.child_by_field_name("function").unwrap();
        (model.qualified_name(function), model.context(call))
    }

    #[test]
    fn resolves_every_import_form() {
        for (source, needle) in [
            ("import time\nasync def f():\n    time.sleep(1)\n", "time.sleep"),
            ("import time as t\nasync def f():\n    t.sleep(1)\n", "t.sleep"),
            ("from time import sleep\nasync def f():\n    sleep(1)\n", "sleep"),
            ("from time import sleep as nap\nasync def f():\n    nap(1)\n", "nap"),
            ("async def f():\n    import time\n    time.sleep(1)\n", "time.sleep"),
        ] {
            assert_eq!(callee(source, needle), (Some("time.sleep".into()), Context::Async), "{source}");
        }
    }

    #[test]
    fn relative_imports_name_the_module_once() {
        for (source, needle, expected) in [
            ("from . import util\nutil.load()\n", "util.load", ".util.load"),
            ("from .util import load\nload()\n", "load", ".util.load"),
            ("from .. import util\nutil.load()\n", "util.load", "..util.load"),
            ("from ..pkg.util import load\nload()\n", "load", "..pkg.util.load"),
        ] {
            assert_eq!(callee(source, needle).0.as_deref(), Some(expected), "{source}");
        }
    }

    #[test]
    fn shadowing_hides_the_import() {
        for source in [
            "import time\nasync def f(time):\n    time.sleep(1)\n",
            "import time\nasync def f():\n    time = Clock()\n    time.sleep(1)\n",
            "from time import sleep\nasync def f():\n    for sleep in xs:\n        sleep(1)\n",
            "import time\ntime = Clock()\nasync def f():\n    time.sleep(1)\n",
        ] {
            let needle = if source.contains("for sleep") { "sleep" } else { "time.sleep" };
            assert_eq!(callee(source, needle).0, None, "{source}");
        }
    }

    #[test]
    fn a_global_assignment_elsewhere_rebinds_the_import() {
        let source = "import time\ndef fake():\n    global time\n    time = Clock()\nasync def f():\n    time.sleep(1)\n";
        assert_eq!(callee(source, "time.sleep").0, None);
    }

    #[test]
    fn global_declaration_reaches_the_module_import() {
        let source = "import time\nasync def f():\n    global time\n    time.sleep(1)\n";
        assert_eq!(callee(source, "time.sleep").0, Some("time.sleep".into()));
    }

    #[test]
    fn class_scope_is_invisible_to_methods() {
        let source = "import time\nclass A:\n    time = 1\n    async def f(self):\n        time.sleep(1)\n";
        assert_eq!(callee(source, "time.sleep").0, Some("time.sleep".into()));
    }

    #[test]
    fn contexts() {
        let nested = "import time\nasync def f():\n    def g():\n        time.sleep(1)\n";
        assert_eq!(callee(nested, "time.sleep").1, Context::Sync);
        let lambda = "import time\nasync def f():\n    g = lambda: time.sleep(1)\n";
        assert_eq!(callee(lambda, "time.sleep").1, Context::AsyncNoAwait("inside a lambda"));
        let genexp = "import time\nasync def f():\n    any(time.sleep(x) for x in y)\n";
        assert_eq!(callee(genexp, "time.sleep").1, Context::AsyncNoAwait("inside a generator expression"));
        let first_iterable = "import time\nasync def f():\n    any(x for x in time.sleep(1))\n";
        assert_eq!(callee(first_iterable, "time.sleep").1, Context::Async);
        let inner_iterable = "import time\nasync def f():\n    any(x for y in z for x in time.sleep(y))\n";
        assert_eq!(
            callee(inner_iterable, "time.sleep").1,
            Context::AsyncNoAwait("inside a generator expression")
        );
        let condition = "import time\nasync def f():\n    any(x for x in y if time.sleep(x))\n";
        assert_eq!(callee(condition, "time.sleep").1, Context::AsyncNoAwait("inside a generator expression"));
        let listcomp = "import time\nasync def f():\n    [time.sleep(x) for x in y]\n";
        assert_eq!(callee(listcomp, "time.sleep").1, Context::Async);
        let threaded =
            "import asyncio, time\nasync def f():\n    await asyncio.to_thread(lambda: time.sleep(1))\n";
        assert_eq!(callee(threaded, "time.sleep").1, Context::Sync);
        let default = "import time\nasync def f(x=time.sleep(1)):\n    pass\n";
        assert_eq!(callee(default, "time.sleep").1, Context::Sync);
        let nested_default = "import time\nasync def f():\n    def g(x=time.sleep(1)):\n        pass\n";
        assert_eq!(callee(nested_default, "time.sleep").1, Context::Async);
        let annotation = "import time\nasync def f():\n    def g(x: time.sleep(1)): pass\n";
        assert_eq!(callee(annotation, "time.sleep").1, Context::AsyncNoAwait("in an annotation"));
        let class_body = "import time\nasync def f():\n    class A:\n        time.sleep(1)\n";
        assert_eq!(callee(class_body, "time.sleep").1, Context::Sync);
    }

    #[test]
    fn scope_table_agrees_with_parent_walk_for_every_node() {
        let source = "import time\nlambda: time.sleep(1)\nclass A(B, key=lambda k: k):\n    x = [y for y in z]\n    \
                      async def f(self, d=lambda: 1):\n        g = (h for h in (lambda: [i for i in j])())\n        \
                      def inner():\n            return {k: v for k, v in w}\n        await time.sleep(0)\n";
        let tree = parse(source);
        let model = Model::new(source, tree.root_node());
        let mut checked = 0;
        for node in syntax::descendants(tree.root_node(), |_| true) {
            let by_parent: Vec<Node> = std::iter::successors(Some(node), |n| n.parent())
                .filter(|n| n.kind() != "module" && syntax::SCOPE_KINDS.contains(&n.kind()))
                .collect();
            let by_table: Vec<Node> = model.index().scopes_around(node).collect();
            assert_eq!(by_table, by_parent, "{:?} {}", node.kind(), text(node, source));
            let along = model.context_along(std::iter::successors(Some(node), |n| n.parent()));
            assert_eq!(model.context(node), along, "{:?} {}", node.kind(), text(node, source));
            checked += 1;
        }
        assert!(checked > 100);
    }

    #[test]
    fn module_ref_uses_existing_alias_or_asks_for_import() {
        let check = |source: &str| {
            let tree = parse(source);
            let model = Model::new(source, tree.root_node());
            let call = syntax::descendants(tree.root_node(), |n| n.kind() == "call")[0];
            model.module_ref("asyncio", call)
        };
        let plain = |name: &str, needs_import| Some(ModuleRef { name: name.into(), needs_import });
        assert_eq!(check("async def f():\n    g()\n"), plain("asyncio", true));
        assert_eq!(check("import asyncio\nasync def f():\n    g()\n"), plain("asyncio", false));
        assert_eq!(check("import asyncio as aio\nasync def f():\n    g()\n"), plain("aio", false));
        assert_eq!(check("asyncio = None\nasync def f():\n    g()\n"), None);
        // Imported later in the same function: the name is local and not bound yet.
        assert_eq!(check("async def f():\n    g()\n    import asyncio\n"), None);
        assert_eq!(check("async def f():\n    import asyncio\n    g()\n"), plain("asyncio", false));
        // A conditional module-level import may not have run.
        assert_eq!(check("if X:\n    import asyncio\nasync def f():\n    g()\n"), plain("asyncio", true));
        assert_eq!(
            check(
                "try:\n    import asyncio as aio\nexcept ImportError:\n    pass\nasync def f():\n    g()\n"
            ),
            plain("asyncio", true)
        );
    }
}
