//! The project index: what one file's transforms need to know about the other modules of the run
//! (does this imported sync function block, through which calls? is this imported name a
//! coroutine function?).
//!
//! It is lazy, so that a large tree costs little: a module is parsed only when code being analysed
//! calls into it (through a resolved import), and only when a scan of its lines says it can answer
//! the question asked: it defines (or re-exports) the function asked about, with `async def` for
//! "is this a coroutine function?"; for "does this block?", it imports a module of the blocking
//! catalogue or calls a blocking builtin, itself or through a module of the run it imports (found
//! from import lines, without parsing). Each module is scanned and summarised once, by whichever
//! worker asks first, and kept while the project's bounded caches have room for it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tree_sitter::Node;

use crate::blocking;
use crate::cache::Shared;
use crate::config::Settings;
use crate::definitions::CallKind;
use crate::naming;
use crate::semantic::{Model, Resolved};
use crate::slice;
use crate::syntax::{self, is_async_def, text};
use crate::transforms::missing_await::{body_yields, unknown_decorator};
use crate::walk::normalize;

/// Re-exports followed at most this far (`pkg/__init__.py` importing from `pkg/util.py`, ...).
const MAX_REEXPORTS: usize = 8;
/// Call chains followed at most this deep.
const MAX_CHAIN: usize = 64;

/// What a module-level function of the project is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionKind {
    /// A plain `def`.
    Sync,
    /// An `async def` that returns a coroutine.
    Coroutine,
    /// An `async def` that yields: calling it creates an async generator, not a coroutine.
    AsyncGenerator,
    /// An `async def` under a decorator that may change what it returns (the decorator's text).
    DecoratedCoroutine(String),
}

/// A call made by a function, as far as the module alone can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Callee {
    /// A module-level function of the same module.
    Local(String),
    /// An imported name, fully qualified (`pkg.util.load`, or `.util.load` for a relative import).
    Imported(String),
}

#[derive(Debug)]
struct FunctionFacts {
    kind: FunctionKind,
    /// Whether its body yields: calling it runs none of the body, iterating the result does.
    generator: bool,
    /// The first call in its body to a blocking callable, by catalogue name.
    blocking_call: Option<String>,
    /// The first call in its body that needs the event loop's thread or the main thread
    /// (`asyncio.*`, `signal.signal`): moved to a worker thread, it would fail.
    thread_bound_call: Option<String>,
    /// The other calls in its body that may reach project code, in source order.
    callees: Vec<Callee>,
    /// For an `async def`: what its own body shows of its effects.
    effects: CoroutineEffects,
    /// For an `async def`: the calls it awaits that may reach project coroutines.
    awaited: Vec<Callee>,
}

/// What the body of an `async def` shows (not counting nested functions, which run when called).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoroutineEffects {
    /// It awaits something (`await`, `async for`, `async with`): calling it may suspend, and so
    /// gain from running beside other calls. One that never does runs to its end at once.
    pub suspends: bool,
    /// The first sign that it changes state: a call named for a change (`save`, `update`, ...),
    /// an assignment to an attribute or to an item of what it did not build, `global`, `nonlocal`.
    pub changes_state: Option<String>,
}

/// One module's summary: its module-level functions, and the names it imports (to follow
/// re-exports).
#[derive(Debug, Default)]
pub struct ModuleFacts {
    functions: HashMap<String, FunctionFacts>,
    imports: HashMap<String, String>,
}

impl ModuleFacts {
    /// Summarises a parsed module.
    pub fn build(model: &Model, settings: &Settings) -> ModuleFacts {
        let root = model.root();
        let source = model.source();
        let mut facts = ModuleFacts::default();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut cursor = root.walk();
        let statements: Vec<Node> = root.named_children(&mut cursor).collect();
        // Calls that can reach a blocking callable or a project function name an import or a
        // module-level function: only those are resolved.
        let mut reachable = blocking::reachable_names(model);
        if let Some(names) = &mut reachable {
            names.extend(module_level_functions(model));
        }
        let methods = blocking::may_call_listed_methods(model, settings);
        for statement in statements {
            let definition = match statement.kind() {
                "decorated_definition" => statement.child_by_field_name("definition"),
                "function_definition" => Some(statement),
                "import_statement" | "import_from_statement" => {
                    facts.record_imports(model, statement);
                    None
                }
                _ => None,
            };
            let Some(definition) = definition.filter(|d| d.kind() == "function_definition") else { continue };
            let Some(name) = definition.child_by_field_name("name").map(|n| text(n, source)) else {
                continue;
            };
            // A name defined twice means whichever ran last: nothing is known about it.
            if !seen.insert(name) {
                facts.functions.remove(name);
                continue;
            }
            let kind = if !is_async_def(definition) {
                FunctionKind::Sync
            } else if body_yields(definition) {
                FunctionKind::AsyncGenerator
            } else if let Some(decorator) = unknown_decorator(source, definition) {
                FunctionKind::DecoratedCoroutine(decorator.to_string())
            } else {
                FunctionKind::Coroutine
            };
            let (calls, (effects, awaited)) = if kind == FunctionKind::Sync {
                (calls_of(model, definition, &reachable, methods, settings), Default::default())
            } else {
                (Calls::default(), effects_of(model, definition))
            };
            facts.functions.insert(
                name.to_string(),
                FunctionFacts {
                    kind,
                    generator: body_yields(definition),
                    blocking_call: calls.blocking,
                    thread_bound_call: calls.thread_bound,
                    callees: calls.callees,
                    effects,
                    awaited,
                },
            );
        }
        // A name the module also binds otherwise (`job = sync_wrapper(job)`, a second `def` under
        // `if`) may not be that function when called: nothing is known about it.
        facts.functions.retain(|name, _| model.binding_count(root, name) == 1);
        facts
    }

    fn record_imports(&mut self, model: &Model, statement: Node) {
        for identifier in syntax::descendants(statement, |n| n.kind() == "identifier") {
            // The bound names: an alias, or a plain imported name (the first part for `import a.b`).
            let name = text(identifier, model.source());
            if let Resolved::Import(qualified) = model.resolve(name, model.root()) {
                self.imports.insert(name.to_string(), qualified);
            }
        }
    }

    /// Whether the module-level function `name` yields (calling it runs none of its body).
    pub fn is_generator(&self, name: &str) -> bool {
        self.functions.get(name).is_some_and(|f| f.generator)
    }

    /// What the body of the `async def` the module binds to `name` shows of its effects.
    pub fn coroutine_effects(&self, name: &str) -> Option<&CoroutineEffects> {
        self.functions.get(name).filter(|f| f.kind != FunctionKind::Sync).map(|f| &f.effects)
    }

    /// What kind of function the module binds to `name` at module level, if it defines one.
    pub fn function_kind(&self, name: &str) -> Option<&FunctionKind> {
        self.functions.get(name).map(|f| &f.kind)
    }
}

/// What a function's body calls, as far as the catalogue and the module can tell.
#[derive(Default)]
struct Calls {
    blocking: Option<String>,
    thread_bound: Option<String>,
    callees: Vec<Callee>,
}

/// Calls that work only in the event loop's thread or the main thread.
fn is_thread_bound(name: &str) -> bool {
    name.starts_with("asyncio.") || name == "signal.signal" || name == "signal.set_wakeup_fd"
}

/// The names of the functions a module defines at module level (decorated or not).
pub(crate) fn module_level_functions<'t>(model: &Model<'t>) -> Vec<&'t str> {
    let root = model.root();
    let mut cursor = root.walk();
    let statements: Vec<Node<'t>> = root.named_children(&mut cursor).collect();
    statements
        .into_iter()
        .filter_map(|statement| match statement.kind() {
            "decorated_definition" => statement.child_by_field_name("definition"),
            _ => Some(statement),
        })
        .filter(|definition| definition.kind() == "function_definition")
        .filter_map(|definition| definition.child_by_field_name("name"))
        .map(|name| text(name, model.source()))
        .collect()
}

/// The blocking call, the thread-bound call and the possibly-project calls made directly in a
/// function's body (not in nested functions, lambdas or classes, which run when they are called,
/// if ever).
fn calls_of(
    model: &Model,
    definition: Node,
    reachable: &Option<HashSet<&str>>,
    methods: bool,
    settings: &Settings,
) -> Calls {
    let mut calls = Calls::default();
    let Some(body) = definition.child_by_field_name("body") else { return calls };
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "function_definition" | "lambda" | "class_definition" => continue,
            "call"
                if node.child_by_field_name("function").is_some_and(|callee| {
                    blocking::may_reach(reachable, callee, model.source())
                        || (methods && blocking::is_method_on_variable(callee))
                }) =>
            {
                if let Some(name) = blocking::callable_name(model, node) {
                    let kind =
                        blocking::kind_of_call(blocking::BLOCKING_CATALOGUE, &name, model, node, settings);
                    // Starting a process returns at once; only using its handle blocks. A light call
                    // does not make a helper worth a thread.
                    if kind.is_some_and(|k| !matches!(k, CallKind::Subprocess | CallKind::Light)) {
                        calls.blocking.get_or_insert(name.clone());
                    }
                    if is_thread_bound(&name) {
                        calls.thread_bound.get_or_insert(name);
                    }
                }
                if let Some(callee) = callee_of(model, node) {
                    calls.callees.push(callee);
                }
            }
            _ => {}
        }
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    calls
}

/// What the body of the `async def` `definition` shows of its effects.
fn effects_of(model: &Model, definition: Node) -> (CoroutineEffects, Vec<Callee>) {
    let source = model.source();
    let mut effects = CoroutineEffects::default();
    let mut awaited = Vec::new();
    let Some(body) = definition.child_by_field_name("body") else { return (effects, awaited) };
    // Names the function binds with a plain assignment: items of what it builds are its own.
    let own: HashSet<&str> = syntax::descendants(body, |n| n.kind() == "assignment")
        .into_iter()
        .filter_map(|a| a.child_by_field_name("left").filter(|l| l.kind() == "identifier"))
        .map(|name| text(name, source))
        .collect();
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        let change = match node.kind() {
            "function_definition" | "lambda" | "class_definition" => continue,
            "await" => {
                effects.suspends = true;
                // Every await must itself be shown to only read: a project coroutine (judged
                // when the index follows it), or a call whose name reads. An awaited parameter,
                // a computed callee or a bare value shows nothing.
                match node.named_child(0).filter(|c| c.kind() == "call") {
                    Some(call) => match callee_of(model, call) {
                        Some(callee) => {
                            awaited.push(callee);
                            None
                        }
                        None => {
                            let name = call
                                .child_by_field_name("function")
                                .and_then(|callee| match callee.kind() {
                                    "attribute" => callee.child_by_field_name("attribute"),
                                    _ => None,
                                })
                                .map(|name| text(name, source));
                            match name {
                                Some(name) if naming::awaits_only_a_read(name) => None,
                                Some(name) => Some(format!("await {name}(...)")),
                                None => Some(format!("await {}", text(call, source))),
                            }
                        }
                    },
                    None => Some(text(node, source).to_string()),
                }
            }
            "delete_statement" => Some(text(node, source).to_string()),
            "for_statement" | "with_statement" if text(node, source).starts_with("async") => {
                effects.suspends = true;
                None
            }
            "global_statement" | "nonlocal_statement" => Some(text(node, source).to_string()),
            "call" => syntax::called_name(node)
                .map(|name| text(name, source))
                .filter(|name| naming::names_a_state_change(name))
                .map(|name| format!("{name}(...)")),
            "assignment" | "augmented_assignment" => node
                .child_by_field_name("left")
                .filter(|target| match target.kind() {
                    "attribute" => true,
                    "subscript" => {
                        let mut root = target.child_by_field_name("value");
                        while let Some(inner) = root.filter(|r| matches!(r.kind(), "subscript" | "attribute"))
                        {
                            root = inner.child_by_field_name(if inner.kind() == "subscript" {
                                "value"
                            } else {
                                "object"
                            });
                        }
                        !root.is_some_and(|r| r.kind() == "identifier" && own.contains(text(r, source)))
                    }
                    _ => false,
                })
                .map(|target| format!("{} = ...", text(target, source))),
            _ => None,
        };
        if effects.changes_state.is_none() {
            effects.changes_state = change;
        }
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    (effects, awaited)
}

/// Who `call` calls, when that may be a module-level function of this module or an imported one.
fn callee_of(model: &Model, call: Node) -> Option<Callee> {
    let function = call.child_by_field_name("function")?;
    match function.kind() {
        "identifier" => {
            let name = text(function, model.source());
            match model.resolve(name, function) {
                Resolved::Import(qualified) => Some(Callee::Imported(qualified)),
                Resolved::Other if model.resolves_to_module_scope(name, function) => {
                    Some(Callee::Local(name.to_string()))
                }
                _ => None,
            }
        }
        "attribute" => model.qualified_name(function).map(Callee::Imported),
        _ => None,
    }
}

/// A module-level function of the project: the module's file and the function's name.
#[derive(Debug, Clone)]
pub struct FunctionRef {
    pub module: PathBuf,
    pub name: String,
    pub facts: Arc<ModuleFacts>,
    /// Whether `facts` is the index's own summary of the module (built from the file, the same
    /// whoever asks), not the summary of the text being analysed: only answers from the index's
    /// summaries may be shared with the other workers.
    indexed: bool,
}

impl FunctionRef {
    /// A function of the file being analysed, summarised from its own text.
    pub fn in_analysed_file(module: &Path, name: &str, facts: Arc<ModuleFacts>) -> FunctionRef {
        FunctionRef { module: module.to_path_buf(), name: name.to_string(), facts, indexed: false }
    }
}

/// What a search through the call graph looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sought {
    /// A call to a blocking callable.
    Blocking,
    /// A call that needs the event loop's thread or the main thread.
    ThreadBound,
}

impl Sought {
    /// The call of that kind the function's own body makes, if any.
    fn call_in(self, facts: &FunctionFacts) -> Option<&str> {
        match self {
            Sought::Blocking => facts.blocking_call.as_deref(),
            Sought::ThreadBound => facts.thread_bound_call.as_deref(),
        }
    }
}

/// What a module is looked into for: which byte scan may spare its parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    /// Whether a function blocks: the module (or one it imports, transitively) must import a
    /// module of the blocking catalogue or call a blocking builtin.
    Blocking,
    /// Whether a function is a coroutine function: the module must hold `async def`.
    Coroutine,
}

/// What a scan of a module's lines tells, before any parse.
#[derive(Debug, Default)]
struct Scan {
    /// Names of the functions defined at module level with `def` (at column 0).
    plain_functions: HashSet<String>,
    /// Names of those defined with `async def`.
    coroutine_functions: HashSet<String>,
    /// Names bound by its import lines, each with what it imports (`pkg.util.load`, `.util.load`,
    /// `os`): a package may re-export a function.
    imported: HashMap<String, Vec<String>>,
    /// It imports a module of the blocking catalogue or calls a blocking builtin.
    may_block_itself: bool,
    /// The modules of the run it imports.
    imports: Vec<PathBuf>,
}

type Slot = Arc<OnceLock<Option<Arc<ModuleFacts>>>>;
/// A function of the project by module file and name.
type FunctionKey = (PathBuf, String);

/// Which files make up the run.
enum Members {
    /// These (normalized) paths.
    Listed(HashSet<PathBuf>),
    /// Whatever this says of a normalized path (asked of the file system, so that no list of a
    /// large run's files is held); the recent answers are kept.
    Asked { is_member: Box<dyn Fn(&Path) -> bool + Send + Sync>, answers: Shared<PathBuf, bool> },
}

/// The caches of the project (summaries, scans, answers) hold the modules asked for most
/// recently, up to twice this many each (four times as many answers; see
/// [`crate::cache::Bounded`]); what is needed again later is worked out again. Memory stays flat
/// however large the run: a run's modules mostly import their neighbours, which the walk visits
/// together, and the few modules everything imports stay. (With 512, the python corpus of the
/// benchmark needed 94 summaries and eight copies of it filled all 512, 5 MB more at the peak;
/// with 32, one copy parses 112 and no copy count holds more than 64.)
const KEPT: usize = 32;

/// The modules of one run and, filled lazily, their summaries.
pub struct Project {
    members: Members,
    settings: Settings,
    modules: Shared<PathBuf, Slot>,
    scans: Shared<PathBuf, Arc<Scan>>,
    /// Whether a module may block, through its own imports or those of the modules it imports.
    may_block: Shared<PathBuf, bool>,
    /// The top-level modules of the blocking catalogue (`subprocess`, `os`, ...).
    blocking_modules: HashSet<String>,
    /// Answers of [`Project::blocking_chain`], by module and function: many coroutines call the
    /// same helpers.
    chains: Shared<FunctionKey, Option<Vec<String>>>,
    parsed: AtomicUsize,
}

impl std::fmt::Debug for Project {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Project").field("parsed", &self.parsed_modules()).finish_non_exhaustive()
    }
}

impl Project {
    /// The project made of `files` (the files of the run). Nothing is read yet.
    pub fn new(files: &[PathBuf], settings: &Settings) -> Project {
        Project::with_members(Members::Listed(files.iter().map(|f| normalize(f)).collect()), settings)
    }

    /// The project made of the files for which `is_member` holds, asked with normalized paths
    /// (`pkg/util.py`, `/abs/pkg/__init__.py`) as imports are resolved. Nothing is read yet.
    pub fn asking(is_member: impl Fn(&Path) -> bool + Send + Sync + 'static, settings: &Settings) -> Project {
        let members = Members::Asked { is_member: Box::new(is_member), answers: Shared::new(4 * KEPT) };
        Project::with_members(members, settings)
    }

    fn with_members(members: Members, settings: &Settings) -> Project {
        Project {
            members,
            settings: settings.clone(),
            modules: Shared::new(KEPT),
            scans: Shared::new(KEPT),
            may_block: Shared::new(4 * KEPT),
            blocking_modules: blocking::catalogue_modules(settings),
            chains: Shared::new(4 * KEPT),
            parsed: AtomicUsize::new(0),
        }
    }

    /// How many modules other than the ones being analysed were read and parsed so far.
    pub fn parsed_modules(&self) -> usize {
        self.parsed.load(Ordering::Relaxed)
    }

    fn slot(&self, module: &Path) -> Slot {
        self.modules.get_or_insert_with(module, Slot::default)
    }

    /// The summary of another module of the run, read and parsed on first use; `None` when it
    /// cannot answer `question` (by a byte scan) or cannot be parsed.
    ///
    /// The scan decides first, whether or not a summary is cached already: the answer must not
    /// depend on which worker asked what before.
    fn facts(&self, module: &Path, question: Question, name: &str) -> Option<Arc<ModuleFacts>> {
        let scan = self.scan(module);
        // Only a plain function can block when called: a coroutine function returns a coroutine.
        let defined_here = match question {
            Question::Coroutine => scan.coroutine_functions.contains(name),
            Question::Blocking => {
                scan.plain_functions.contains(name) && self.may_block(module, &mut HashSet::new())
            }
        };
        // A re-export is followed only into a module of the run (not `_collections` or a
        // package outside it).
        let reexported = || {
            scan.imported.get(name).is_some_and(|origins| {
                origins.iter().any(|origin| self.module_file(module, origin).is_some())
            })
        };
        let could_answer = defined_here || reexported();
        if !could_answer {
            return None;
        }
        self.slot(module).get_or_init(|| self.summarise(module)).clone()
    }

    /// The summary of `module`, built from the parts of it that a summary reads
    /// ([`slice::plan_summary`]) or from all of it.
    fn summarise(&self, module: &Path) -> Option<Arc<ModuleFacts>> {
        let bytes = std::fs::read(module).ok()?;
        let text = crate::source::decode(module, &bytes).ok()?;
        let plan = match crate::engine::Parsing::default() {
            crate::engine::Parsing::Slices => slice::plan_summary(text),
            crate::engine::Parsing::Whole => None,
        };
        let sliced = match plan {
            Some(ranges) if ranges.is_empty() => return Some(Arc::new(ModuleFacts::default())),
            Some(ranges) => syntax::parse_ranges(text, &ranges).filter(|tree| !tree.root_node().has_error()),
            None => None,
        };
        let partial = sliced.is_some();
        let tree = match sliced {
            Some(tree) => tree,
            None => syntax::parse(text),
        };
        if tree.root_node().has_error() {
            return None;
        }
        self.parsed.fetch_add(1, Ordering::Relaxed);
        let model =
            if partial { Model::partial(text, tree.root_node()) } else { Model::new(text, tree.root_node()) };
        Some(Arc::new(ModuleFacts::build(&model, &self.settings)))
    }

    /// The byte scan of `module` (once, while cached).
    fn scan(&self, module: &Path) -> Arc<Scan> {
        if let Some(scan) = self.scans.get(module) {
            return scan;
        }
        let scan = Arc::new(match std::fs::read(module) {
            Ok(bytes) => {
                let lines = scan_lines(&String::from_utf8_lossy(&bytes));
                let imports_blocking = lines.modules.iter().any(|m| {
                    !m.starts_with('.')
                        && m.split('.').next().is_some_and(|top| self.blocking_modules.contains(top))
                });
                Scan {
                    plain_functions: lines.plain_functions,
                    coroutine_functions: lines.coroutine_functions,
                    imported: lines.imported,
                    may_block_itself: imports_blocking || blocking::calls_blocking_builtin(&bytes),
                    imports: lines.modules.iter().filter_map(|m| self.module_path(module, m)).collect(),
                }
            }
            Err(_) => Scan::default(),
        });
        self.scans.insert(module.to_path_buf(), scan.clone());
        scan
    }

    /// Whether `module` imports something that blocks, itself or through the modules of the run
    /// it imports (any depth), by byte scans only.
    fn may_block(&self, module: &Path, visiting: &mut HashSet<PathBuf>) -> bool {
        if let Some(known) = self.may_block.get(module) {
            return known;
        }
        if !visiting.insert(module.to_path_buf()) {
            return false;
        }
        let scan = self.scan(module);
        let answer = scan.may_block_itself || scan.imports.iter().any(|m| self.may_block(m, visiting));
        // A "no" found inside a cycle may be partial; a "yes", or the answer of a whole search, is not.
        if answer || visiting.len() == 1 {
            self.may_block.insert(module.to_path_buf(), answer);
        }
        visiting.remove(module);
        answer
    }

    /// The project function that `qualified` (an imported name, as written in `from`) refers to,
    /// following re-exports through other modules' imports.
    pub fn resolve(&self, from: &Path, qualified: &str, question: Question) -> Option<FunctionRef> {
        let mut from = normalize(from);
        let mut qualified = qualified.to_string();
        for _ in 0..MAX_REEXPORTS {
            let (module, name) = self.module_file(&from, &qualified)?;
            let facts = self.facts(&module, question, &name)?;
            if facts.functions.contains_key(&name) {
                return Some(FunctionRef { module, name, facts, indexed: true });
            }
            qualified = facts.imports.get(&name)?.clone();
            from = module;
        }
        None
    }

    /// The file of the run that defines the module part of `qualified` as imported in `from`,
    /// and the remaining (function) name.
    fn module_file(&self, from: &Path, qualified: &str) -> Option<(PathBuf, String)> {
        let level = qualified.chars().take_while(|&c| c == '.').count();
        let (module, name) = qualified[level..].rsplit_once('.').unwrap_or(("", &qualified[level..]));
        let module = format!("{}{module}", &qualified[..level]);
        Some((self.module_path(from, &module)?, name.to_string()))
    }

    /// The file of the run that is `module` (`pkg.util`, `.util`, `..`) as imported in `from`.
    fn module_path(&self, from: &Path, module: &str) -> Option<PathBuf> {
        let level = module.chars().take_while(|&c| c == '.').count();
        let parts: Vec<&str> = module[level..].split('.').filter(|p| !p.is_empty()).collect();
        let base = if level > 0 {
            let mut base = from.parent()?.to_path_buf();
            for _ in 1..level {
                base = base.parent()?.to_path_buf();
            }
            base
        } else {
            if parts.is_empty() {
                return None;
            }
            // The folder above the top package; for a module outside any package (a script next
            // to its modules), its own folder. Absolute imports never find a package's siblings.
            let mut root = from.parent()?.to_path_buf();
            while self.is_member(&root.join("__init__.py")) {
                root = root.parent()?.to_path_buf();
            }
            root
        };
        let folder = parts.iter().fold(base, |path, part| path.join(part));
        let candidates = if parts.is_empty() {
            vec![folder.join("__init__.py")]
        } else {
            vec![folder.with_extension("py"), folder.join("__init__.py")]
        };
        candidates.into_iter().find(|c| self.is_member(c))
    }

    /// Whether the file at `path` (normalized) is part of the run.
    fn is_member(&self, path: &Path) -> bool {
        match &self.members {
            Members::Listed(files) => files.contains(path),
            Members::Asked { is_member, answers } => {
                if let Some(known) = answers.get(path) {
                    return known;
                }
                let answer = is_member(path);
                answers.insert(path.to_path_buf(), answer);
                answer
            }
        }
    }

    /// The calls through which `function` (a plain `def` of the project) blocks, from its own
    /// name to the blocking callable (`load_config -> read -> subprocess.run`), if it does.
    /// Recursion in the call graph is harmless: each function is visited once per question.
    pub fn blocking_chain(&self, function: &FunctionRef) -> Option<Vec<String>> {
        let search = || self.chain_from(function, Sought::Blocking, &mut HashSet::new(), 0);
        if !function.indexed {
            return search();
        }
        let key = (normalize(&function.module), function.name.clone());
        if let Some(known) = self.chains.get(&key) {
            return known;
        }
        // The answer of a whole search depends only on where it starts (a cycle cut short is
        // explored from where it started), so it may be kept; answers for the functions visited
        // on the way may not.
        let chain = search();
        self.chains.insert(key, chain.clone());
        chain
    }

    /// The project function that `callee`, called by `caller`, refers to, if it is one.
    fn callee_ref(&self, caller: &FunctionRef, callee: &Callee, question: Question) -> Option<FunctionRef> {
        match callee {
            Callee::Local(name) => Some(FunctionRef { name: name.clone(), ..caller.clone() }),
            Callee::Imported(qualified) => self.resolve(&caller.module, qualified, question),
        }
    }

    /// What the body of the coroutine `function` shows of its effects, with those of the
    /// project coroutines it awaits (to any depth): a body that only awaits a helper changes
    /// what the helper changes. `None` when `function` is not a coroutine function.
    pub fn effects_through(&self, function: &FunctionRef) -> Option<CoroutineEffects> {
        let own = function.facts.coroutine_effects(&function.name)?.clone();
        let mut visited = HashSet::new();
        visited.insert((normalize(&function.module), function.name.clone()));
        let mut pending = vec![(function.clone(), 0)];
        let mut changes_state = own.changes_state.clone();
        while let Some((current, depth)) = pending.pop() {
            if changes_state.is_some() || depth >= MAX_CHAIN {
                break;
            }
            let Some(facts) = current.facts.functions.get(&current.name) else { continue };
            for callee in &facts.awaited {
                let Some(next) = self.callee_ref(&current, callee, Question::Coroutine) else {
                    // Outside the project: only its name can say that it reads.
                    if let Callee::Imported(qualified) = callee
                        && !naming::awaits_only_a_read(qualified.rsplit('.').next().unwrap_or(qualified))
                    {
                        changes_state = Some(format!("await {qualified}(...)"));
                        break;
                    }
                    continue;
                };
                if !visited.insert((normalize(&next.module), next.name.clone())) {
                    continue;
                }
                if let Some(effects) = next.facts.coroutine_effects(&next.name) {
                    if let Some(change) = &effects.changes_state {
                        changes_state = Some(format!("{} -> {change}", next.name));
                        break;
                    }
                    pending.push((next, depth + 1));
                }
            }
        }
        Some(CoroutineEffects { changes_state, ..own })
    }

    /// The calls through which `function` reaches code that works only in the event loop's
    /// thread or the main thread (`helper -> schedule -> asyncio.get_event_loop`), if it does:
    /// such a function must not move to a worker thread.
    pub fn thread_bound_chain(&self, function: &FunctionRef) -> Option<Vec<String>> {
        self.chain_from(function, Sought::ThreadBound, &mut HashSet::new(), 0)
    }

    /// Depth-first search through the plain functions `function` calls for one whose own body
    /// makes the call `sought`; the chain of names leading there.
    fn chain_from(
        &self,
        function: &FunctionRef,
        sought: Sought,
        visited: &mut HashSet<FunctionKey>,
        depth: usize,
    ) -> Option<Vec<String>> {
        let facts = function.facts.functions.get(&function.name)?;
        if facts.kind != FunctionKind::Sync
            || depth > MAX_CHAIN
            || !visited.insert((normalize(&function.module), function.name.clone()))
        {
            return None;
        }
        if let Some(call) = sought.call_in(facts) {
            let shown = call.strip_prefix("builtins.").unwrap_or(call);
            return Some(vec![function.name.clone(), shown.to_string()]);
        }
        for callee in &facts.callees {
            let Some(next) = self.callee_ref(function, callee, Question::Blocking) else { continue };
            // From the analysed file into the index: the index's answer for that function is the
            // same for every file that calls it, and kept.
            let found = if !function.indexed && next.indexed && sought == Sought::Blocking {
                self.blocking_chain(&next)
            } else {
                self.chain_from(&next, sought, visited, depth + 1)
            };
            if let Some(mut chain) = found {
                chain.insert(0, function.name.clone());
                return Some(chain);
            }
        }
        None
    }
}

/// What the lines of a module say without parsing it.
#[derive(Debug, Default)]
struct Lines {
    /// The modules it imports, from the first line of each import statement: `pkg.util` for
    /// `import pkg.util as u`; for `from .pkg import a, b`, `.pkg` and the possible submodules
    /// `.pkg.a`, `.pkg.b`.
    modules: Vec<String>,
    /// The names those lines bind, each with what it imports (`u`: `pkg.util`; `a`: `.pkg.a`).
    imported: HashMap<String, Vec<String>>,
    /// Functions defined at column 0 with `def`, and with `async def`.
    plain_functions: HashSet<String>,
    coroutine_functions: HashSet<String>,
}

/// The rest of `line` after `words`, each followed by at least one space or tab (`async\tdef f`).
fn after_words<'l>(line: &'l str, words: &[&str]) -> Option<&'l str> {
    let mut rest = line;
    for word in words {
        let after = rest.strip_prefix(word)?;
        rest = after.trim_start_matches([' ', '\t']);
        if rest.len() == after.len() {
            return None;
        }
    }
    Some(rest)
}

/// An import statement's lines joined into one: a parenthesised name list or a line ending in a
/// backslash goes on over the next lines (`from .profiles import (\n    load,\n)`); comments are
/// dropped.
#[derive(Default)]
struct ImportStatement {
    text: String,
    lines: usize,
}

/// Lines an import statement may take; a longer one is taken as text that only looked like one
/// (a docstring line starting with "from ").
const MAX_IMPORT_LINES: usize = 200;

impl ImportStatement {
    fn start(line: &str) -> ImportStatement {
        let mut statement = ImportStatement::default();
        statement.push(line);
        statement
    }

    fn push(&mut self, line: &str) {
        let code = line.split('#').next().unwrap_or("").trim();
        self.text.truncate(self.text.trim_end_matches('\\').len());
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        self.text.push_str(code);
        self.lines += 1;
    }

    /// Whether `line` may be a further line of an import statement: names, dots, commas, `as`,
    /// parentheses, a backslash, a comment.
    fn continues_with(line: &str) -> bool {
        let code = line.split('#').next().unwrap_or("");
        let allowed = |c: char| c.is_alphanumeric() || " \t_.,()\\".contains(c);
        let first = code.split_whitespace().next().unwrap_or("");
        code.chars().all(allowed)
            && !matches!(first, "def" | "class" | "import" | "from" | "async" | "if" | "return")
    }

    fn is_complete(&self) -> bool {
        let open = self.text.contains('(') && !self.text.contains(')');
        (!open && !self.text.ends_with('\\')) || self.lines >= MAX_IMPORT_LINES
    }
}

fn scan_lines(text: &str) -> Lines {
    let word = |part: &str| -> Option<String> {
        let name = part
            .trim()
            .trim_start_matches('(')
            .split_whitespace()
            .next()?
            .trim_end_matches([';', ')', '\\', ':']);
        let valid = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.');
        valid.then(|| name.to_string())
    };
    // `a.b as c` binds `c` to `a.b`; `a.b` binds `a` to `a`.
    let bound = |part: &str| -> Option<(String, String)> {
        let words: Vec<&str> = part.trim().trim_start_matches('(').split_whitespace().collect();
        match words.as_slice() {
            [imported, "as", alias, ..] => Some((word(alias)?, word(imported)?)),
            [imported, ..] => {
                let first = word(imported.split('.').next()?)?;
                Some((first.clone(), first))
            }
            [] => None,
        }
    };
    let mut lines = Lines::default();
    let mut pending: Option<ImportStatement> = None;
    for line in text.lines() {
        if let Some(rest) = after_words(line, &["def"]) {
            lines.plain_functions.extend(rest.split('(').next().and_then(word));
        } else if let Some(rest) = after_words(line, &["async", "def"]) {
            lines.coroutine_functions.extend(rest.split('(').next().and_then(word));
        }
        // A line that cannot go on a name list ends what only looked like an import (a docstring
        // line "from the start (see below"), and is read as a line of its own.
        let continued = pending.take().filter(|_| ImportStatement::continues_with(line));
        let statement = match continued {
            Some(mut statement) => {
                statement.push(line);
                statement
            }
            None => {
                let line = line.trim_start();
                if !line.starts_with("import ") && !line.starts_with("from ") {
                    continue;
                }
                ImportStatement::start(line)
            }
        };
        if !statement.is_complete() {
            pending = Some(statement);
            continue;
        }
        let line = statement.text.as_str();
        if let Some(rest) = line.strip_prefix("import ") {
            lines.modules.extend(rest.split(',').filter_map(word));
            for (name, imported) in rest.split(',').filter_map(bound) {
                lines.imported.entry(name).or_default().push(imported);
            }
        } else if let Some(rest) = line.strip_prefix("from ") {
            let Some((module, names)) = rest.split_once(" import ") else { continue };
            let Some(module) = word(module) else { continue };
            let separator = if module.ends_with('.') { "" } else { "." };
            for name in names.split(',').filter_map(word) {
                lines.modules.push(format!("{module}{separator}{name}"));
            }
            for (name, imported) in names.split(',').filter_map(bound) {
                lines.imported.entry(name).or_default().push(format!("{module}{separator}{imported}"));
            }
            lines.modules.push(module);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Project, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (name, code) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, code).unwrap();
            paths.push(path);
        }
        let project = Project::new(&paths, &Settings::default());
        (dir, project, paths)
    }

    fn chain(project: &Project, from: &Path, qualified: &str) -> Option<String> {
        let function = project.resolve(from, qualified, Question::Blocking)?;
        project.blocking_chain(&function).map(|chain| chain.join(" -> "))
    }

    #[test]
    fn follows_relative_absolute_and_reexported_imports() {
        let (_dir, project, paths) = project(&[
            ("app/main.py", "async def main():\n    pass\n"),
            ("app/pkg/__init__.py", "from .util import load as load_config\n"),
            ("app/pkg/util.py", "from .io import read\n\ndef load(p):\n    return read(p)\n"),
            ("app/pkg/io.py", "def read(p):\n    with open(p) as f:\n        return f.read()\n"),
        ]);
        let main = &paths[0];
        assert_eq!(chain(&project, main, "pkg.util.load").as_deref(), Some("load -> read -> open"));
        assert_eq!(chain(&project, main, "pkg.load_config").as_deref(), Some("load -> read -> open"));
        let util = &paths[2];
        assert_eq!(chain(&project, util, ".io.read").as_deref(), Some("read -> open"));
        assert_eq!(chain(&project, main, "pkg.util.missing"), None);
    }

    #[test]
    fn absolute_imports_do_not_find_a_package_sibling() {
        let (_dir, project, paths) = project(&[
            ("pkg/__init__.py", ""),
            ("pkg/main.py", "import json\n"),
            ("pkg/json.py", "def load(f):\n    return open(f).read()\n"),
            ("script.py", "import tool\n"),
            ("tool.py", "def load(f):\n    return open(f).read()\n"),
        ]);
        assert_eq!(
            chain(&project, &paths[1], "json.load"),
            None,
            "`import json` in a package is the stdlib's"
        );
        assert_eq!(chain(&project, &paths[1], "pkg.json.load").as_deref(), Some("load -> open"));
        assert_eq!(chain(&project, &paths[3], "tool.load").as_deref(), Some("load -> open"));
    }

    #[test]
    fn recursion_ends_and_non_blocking_cycles_stay_clean() {
        let (_dir, project, paths) = project(&[
            ("a.py", "import b\n\ndef ping(n):\n    return b.pong(n - 1) if n else 0\n"),
            (
                "b.py",
                "import a\nimport time\n\ndef pong(n):\n    return a.ping(n)\n\ndef nap():\n    even(3)\n\ndef even(n):\n    return odd(n) if n else time.sleep(1)\n\ndef odd(n):\n    return even(n - 1)\n",
            ),
        ]);
        assert_eq!(chain(&project, &paths[0], "a.ping"), None);
        assert_eq!(chain(&project, &paths[0], "b.nap").as_deref(), Some("nap -> even -> time.sleep"));
    }

    /// Every answer about `functions`, asked in the given order of a fresh project.
    fn answers(files: &[(&str, &str)], order: &[(&str, &str)]) -> Vec<(String, Option<String>, bool)> {
        let (_dir, project, paths) = project(files);
        let mut answers: Vec<(String, Option<String>, bool)> = order
            .iter()
            .map(|(module, function)| {
                let from = &paths[0];
                let coroutine =
                    project.resolve(from, &format!("{module}.{function}"), Question::Coroutine).is_some();
                (
                    format!("{module}.{function}"),
                    chain(&project, from, &format!("{module}.{function}")),
                    coroutine,
                )
            })
            .collect();
        answers.sort();
        answers
    }

    #[test]
    fn answers_do_not_depend_on_the_order_of_the_questions() {
        // A cycle across three modules whose only blocking call is in the last; a package that
        // re-exports one function on one line and another over three (once its summary was made
        // for the first, the second was followed too, but not when asked first); and more modules
        // than the caches keep, so that entries are evicted.
        let mut files: Vec<(String, String)> = vec![
            ("main.py".into(), "import pkg\n".into()),
            ("pkg/__init__.py".into(), "from .a import (\n    enter,\n)\nfrom .c import leave\n".into()),
            ("pkg/a.py".into(), "from . import b\n\ndef enter(n):\n    return b.middle(n)\n\nasync def job():\n    pass\n".into()),
            ("pkg/b.py".into(), "from . import c\n\ndef middle(n):\n    return c.leave(n)\n".into()),
            (
                "pkg/c.py".into(),
                "import time\nfrom . import a\n\ndef leave(n):\n    if n:\n        return a.enter(n - 1)\n    time.sleep(n)\n".into(),
            ),
        ];
        for n in 0..3 * KEPT {
            files.push((
                format!("pkg/m{n}.py"),
                format!("from . import m{}\nimport os\n\ndef f(x):\n    return m{}.f(x)\n", n + 1, n + 1),
            ));
        }
        files.push((
            format!("pkg/m{}.py", 3 * KEPT),
            "import os\n\ndef f(x):\n    return os.listdir(x)\n".into(),
        ));
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        let mut questions: Vec<(&str, &str)> = vec![
            ("pkg", "enter"),
            ("pkg.b", "middle"),
            ("pkg", "leave"),
            ("pkg.a", "enter"),
            ("pkg.a", "job"),
        ];
        let modules: Vec<String> = (0..=3 * KEPT).step_by(7).map(|n| format!("pkg.m{n}")).collect();
        questions.extend(modules.iter().map(|m| (m.as_str(), "f")));
        let forward = answers(&files, &questions);
        questions.reverse();
        assert_eq!(answers(&files, &questions), forward);
        questions.rotate_left(3);
        assert_eq!(answers(&files, &questions), forward);
        let enter = forward.iter().find(|(name, ..)| name == "pkg.enter").map(|(_, chain, _)| chain.clone());
        assert_eq!(enter, Some(Some("enter -> middle -> leave -> time.sleep".to_string())));
        let job = forward
            .iter()
            .find(|(name, ..)| name == "pkg.a.job")
            .map(|(_, chain, coroutine)| (chain.clone(), *coroutine));
        assert_eq!(job, Some((None, true)));
        // Chains are followed at most MAX_CHAIN calls deep, whichever way they were reached.
        let blocks = |module: String| {
            forward.iter().find(|(name, ..)| *name == module).map(|(_, chain, _)| chain.is_some())
        };
        assert_eq!(blocks(format!("pkg.m{}.f", 3 * KEPT - 5)), Some(true));
        assert_eq!(blocks("pkg.m0.f".to_string()), Some(false));
    }

    #[test]
    fn only_modules_called_into_and_able_to_answer_are_parsed() {
        let (_dir, project, paths) = project(&[
            ("main.py", "import plain, helpers\n"),
            ("plain.py", "def add(a, b):\n    return a + b\n"),
            ("helpers.py", "import subprocess\n\ndef run():\n    subprocess.run(['true'])\n"),
            ("unrelated.py", "import subprocess\n\ndef other():\n    subprocess.run(['true'])\n"),
        ]);
        assert_eq!(chain(&project, &paths[0], "plain.add"), None);
        assert_eq!(project.parsed_modules(), 0, "plain.py holds no trigger: not parsed");
        assert_eq!(chain(&project, &paths[0], "helpers.run").as_deref(), Some("run -> subprocess.run"));
        assert_eq!(project.parsed_modules(), 1, "unrelated.py is never parsed");
    }

    #[test]
    fn chains_pass_through_modules_that_only_import_project_modules() {
        let (_dir, project, paths) = project(&[
            ("app/__init__.py", ""),
            ("app/main.py", "from .service import handle\n"),
            ("app/service.py", "from .store import save\n\ndef handle(x):\n    return save(x)\n"),
            ("app/store.py", "import shutil\n\ndef save(x):\n    shutil.copy(x, x + '.bak')\n"),
            ("app/pure.py", "from .maths import double\n\ndef quad(x):\n    return double(double(x))\n"),
            ("app/maths.py", "def double(x):\n    return 2 * x\n"),
        ]);
        let main = &paths[1];
        assert_eq!(
            chain(&project, main, ".service.handle").as_deref(),
            Some("handle -> save -> shutil.copy")
        );
        let parsed = project.parsed_modules();
        assert_eq!(chain(&project, main, ".pure.quad"), None);
        assert_eq!(project.parsed_modules(), parsed, "nothing pure.py imports can block: never parsed");
    }

    #[test]
    fn import_lines_name_their_modules() {
        let text = "import os, pkg.util as u\nfrom . import a, b as c\nfrom ..x import (y,\n    z)\n  from .m import n  # why\nimport sys; import json\nfrom .p import (  # the (second) half\n    q as r,\n)\nfrom .s import \\\n    t\n";
        let lines = scan_lines(text);
        assert_eq!(
            lines.modules,
            [
                "os", "pkg.util", ".a", ".b", ".", "..x.y", "..x.z", "..x", ".m.n", ".m", "sys", ".p.q",
                ".p", ".s.t", ".s"
            ]
        );
        let mut imported: Vec<(&str, &str)> = lines
            .imported
            .iter()
            .flat_map(|(name, o)| o.iter().map(move |o| (name.as_str(), o.as_str())))
            .collect();
        imported.sort();
        assert_eq!(
            imported,
            [
                ("a", ".a"),
                ("c", ".b"),
                ("n", ".m.n"),
                ("os", "os"),
                ("r", ".p.q"),
                ("sys", "sys"),
                ("t", ".s.t"),
                ("u", "pkg.util"),
                ("y", "..x.y"),
                ("z", "..x.z")
            ]
        );
        // A docstring line that only looks like the start of an import swallows no real one.
        let docstring = scan_lines(
            "\"\"\"Shell helpers.\nfrom run_git (see below; output comes back whole\n\"\"\"\nimport subprocess\n",
        );
        assert_eq!(
            docstring.modules.last().map(String::as_str),
            Some("subprocess"),
            "{:?}",
            docstring.modules
        );
        let defs = scan_lines(
            "def f(x):\n    def inner(): pass\nasync def g():\n    pass\nclass C:\n    def m(self): pass\nasync \t def  h(): pass\ndefault = 1\n",
        );
        assert_eq!(defs.plain_functions, HashSet::from(["f".to_string()]));
        assert_eq!(defs.coroutine_functions, HashSet::from(["g".to_string(), "h".to_string()]));
    }

    #[test]
    fn current_module_facts_come_from_its_model() {
        let source = "import asyncio\n\nasync def job():\n    pass\n\nasync def stream():\n    yield 1\n\n@retry\nasync def flaky():\n    pass\n";
        let tree = parse(source);
        let model = Model::new(source, tree.root_node());
        let facts = ModuleFacts::build(&model, &Settings::default());
        assert_eq!(facts.function_kind("job"), Some(&FunctionKind::Coroutine));
        assert_eq!(facts.function_kind("stream"), Some(&FunctionKind::AsyncGenerator));
        assert_eq!(facts.function_kind("flaky"), Some(&FunctionKind::DecoratedCoroutine("retry".into())));
        assert_eq!(facts.imports.get("asyncio").map(String::as_str), Some("asyncio"));
    }
}
