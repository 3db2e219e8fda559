//! `missing-await`: a coroutine function called as a bare statement, whose coroutine is then
//! dropped without ever running, becomes `await call(...)`. Coroutine functions are the
//! `async def`s of the same module (and, through `self.`, of the same class).
//! Documentation, safety and examples: `transforms/missing-await.toml`.

use tree_sitter::Node;

use crate::blocking;
use crate::finding::{Edit, Finding, Fix, Safety, Severity};
use crate::project::{FunctionKind, Question};
use crate::semantic::{Context, Resolved};
use crate::syntax::is_async_def;
use crate::transforms::{FileContext, Transform};

pub struct MissingAwait;

const ID: &str = "missing-await";

/// Decorators that leave an `async def` returning a coroutine.
const TRANSPARENT_DECORATORS: &[&str] =
    &["staticmethod", "classmethod", "abstractmethod", "abc.abstractmethod"];

impl Transform for MissingAwait {
    fn id(&self) -> &'static str {
        ID
    }

    fn anchors_coroutine_names(&self) -> bool {
        true
    }

    fn runs_where_others_trigger(&self) -> bool {
        true
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[&["async def"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        // Another module's coroutine function is reached through an imported name.
        let imported = file.project.map(|_| blocking::reachable_names(file.model));
        for &call in file.calls {
            if file.dropped_result_statement(call).is_none() {
                continue;
            }
            let Some(function) = call.child_by_field_name("function") else { continue };
            let decorator = match self.coroutine_function(file, function, call) {
                Some(definition) => unknown_decorator(file.source, definition).map(str::to_string),
                None if !imported
                    .as_ref()
                    .is_some_and(|names| blocking::may_reach(names, function, file.source)) =>
                {
                    continue;
                }
                None => match imported_coroutine_function(file, call) {
                    Some(FunctionKind::Coroutine) => None,
                    Some(FunctionKind::DecoratedCoroutine(decorator)) => Some(decorator),
                    _ => continue,
                },
            };
            let name = file.text(function);
            let finding = file.finding(
                ID,
                call,
                format!("`{name}(...)` creates a coroutine that is never awaited, so it never runs"),
            );
            if let Some(decorator) = decorator {
                // Frameworks decorate methods that are meant to be called bare (Textual's `@work`
                // starts a worker): a hint, not an error.
                let finding = Finding { severity: Severity::Hint, ..finding };
                findings.push(finding.report_only(format!(
                    "`{name}` is decorated with `@{decorator}`, which may change what it returns; await it by hand if it \
                     returns a coroutine"
                )));
                continue;
            }
            match file.model.context(call) {
                Context::Async => {
                    let fix = Fix {
                        safety: Safety::Unsafe,
                        edits: vec![Edit::replace(call.start_byte()..call.start_byte(), "await ")],
                        imports: Vec::new(),
                        helpers: Vec::new(),
                    };
                    findings.push(finding.with_fix(fix));
                }
                _ => findings.push(finding.report_only(
                    "it is called outside a coroutine, where `await` cannot go: run it with `asyncio.run(...)`, or \
                     schedule it with `asyncio.create_task(...)` from a coroutine",
                )),
            }
        }
    }
}

/// What the function `call` calls is, when another module of the run defines it and the name
/// reaches it through an import (`from .jobs import notify`, `jobs.notify`).
fn imported_coroutine_function(file: &FileContext, call: Node) -> Option<FunctionKind> {
    let project = file.project?;
    let function = call.child_by_field_name("function")?;
    let qualified = match file.model.resolve(file.text(function), function) {
        Resolved::Import(qualified) if function.kind() == "identifier" => qualified,
        _ if function.kind() == "attribute" => file.model.qualified_name(function)?,
        _ => return None,
    };
    let target = project.resolve(file.path, &qualified, Question::Coroutine)?;
    target.facts.function_kind(&target.name).cloned()
}

impl MissingAwait {
    /// The `async def` (not an async generator) that `function` calls, if this module defines it:
    /// a module-level name bound only by that definition, or `self.name` for a method of the
    /// enclosing class.
    fn coroutine_function<'t>(
        &self,
        file: &FileContext<'_, 't>,
        function: Node<'t>,
        call: Node<'t>,
    ) -> Option<Node<'t>> {
        let root = file.model.root();
        let (scope, scope_body, name) = match function.kind() {
            "identifier" => {
                // Bound once, at module level: the definition itself (no shadowing, no rebinding).
                let name = file.text(function);
                if !file.model.resolves_to_module_scope(name, call) {
                    return None;
                }
                (root, root, name)
            }
            "attribute" => {
                let receiver = function.child_by_field_name("object")?;
                if receiver.kind() != "identifier" || file.text(receiver) != "self" {
                    return None;
                }
                let class =
                    file.model.index().scopes_around(call).find(|n| n.kind() == "class_definition")?;
                let name = file.text(function.child_by_field_name("attribute")?);
                (class, class.child_by_field_name("body")?, name)
            }
            _ => return None,
        };
        let mut definitions = defined_in(scope_body, name, file);
        let definition = definitions.next()?;
        if definitions.next().is_some() || !is_async_def(definition) || body_yields(definition) {
            return None;
        }
        // The name must have no other binding in the module or the class (an assignment, an
        // import, `start = wrap(start)`).
        if file.model.binding_count(scope, name) != 1 {
            return None;
        }
        Some(definition)
    }
}

/// The function definitions named `name` directly in `body` (decorated or not).
fn defined_in<'t>(
    body: Node<'t>,
    name: &'t str,
    file: &FileContext<'_, 't>,
) -> impl Iterator<Item = Node<'t>> {
    let mut cursor = body.walk();
    let children: Vec<Node<'t>> = body.named_children(&mut cursor).collect();
    children.into_iter().filter_map(move |child| {
        let definition = match child.kind() {
            "decorated_definition" => child.child_by_field_name("definition")?,
            _ => child,
        };
        (definition.kind() == "function_definition"
            && definition.child_by_field_name("name").is_some_and(|n| file.text(n) == name))
        .then_some(definition)
    })
}

/// Whether a function's own body yields: an `async def` that does is an async generator (calling
/// it creates no coroutine), a plain `def` a generator (calling it runs none of its body).
pub(crate) fn body_yields(definition: Node) -> bool {
    let Some(body) = definition.child_by_field_name("body") else { return false };
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "yield" => return true,
            "function_definition" | "class_definition" | "lambda" => continue,
            _ => {}
        }
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
    }
    false
}

/// The first decorator of `definition` that may change what it returns.
pub(crate) fn unknown_decorator<'t>(source: &'t str, definition: Node<'t>) -> Option<&'t str> {
    let decorated = definition.parent().filter(|p| p.kind() == "decorated_definition")?;
    let mut cursor = decorated.walk();
    let decorators: Vec<Node> =
        decorated.named_children(&mut cursor).filter(|c| c.kind() == "decorator").collect();
    decorators.into_iter().find_map(|decorator| {
        let expression = source[decorator.byte_range()].trim_start_matches('@').trim();
        (!TRANSPARENT_DECORATORS.contains(&expression)).then_some(expression)
    })
}
