//! `loop-awaits`: a `for` loop (or list comprehension) that awaits one independent call per item
//! becomes one `asyncio.gather(*(call for x in xs))`, with the results put where the loop put
//! them; bounded by a semaphore with `--max-concurrency N`.
//! Documentation, safety and examples: `transforms/loop-awaits.toml`.

use std::collections::HashSet;

use tree_sitter::Node;

use crate::finding::{Edit, Finding, Fix, Helper, Safety, Severity};
use crate::semantic::{Context, ModuleRef, Resolved};
use crate::syntax;
use crate::transforms::concurrency::{self, Evidence, FreshNames};
use crate::transforms::statements;
use crate::transforms::{FileContext, Transform};

pub struct LoopAwaits;

const ID: &str = "loop-awaits";

/// The bounded gather, written with four-space indents, `"` quotes and `\n`; `{sfx}` makes its
/// name unique and `{asyncio}` is how the module refers to asyncio.
const HELPER: &str = r#"# Awaits like asyncio.gather, with at most `limit` awaitables running at once (added by asyncmod).
async def _gather_limited{sfx}(limit, *awaitables):
    semaphore = {asyncio}.Semaphore(limit)

    async def run(awaitable):
        async with semaphore:
            return await awaitable

    return await {asyncio}.gather(*(run(awaitable) for awaitable in awaitables))"#;

/// Where a loop put each result.
enum Collect<'t> {
    /// `await f(x)`: dropped.
    Discard,
    /// `results.append(await f(x))`.
    Append { list: Node<'t> },
    /// `out[key] = await f(x)`.
    Store { mapping: Node<'t>, key: Node<'t> },
}

impl Transform for LoopAwaits {
    fn id(&self) -> &'static str {
        ID
    }

    fn anchors(&self) -> &'static [&'static str] {
        // The bounded-gather helper's name must not clash with a name of the file.
        &["async", "_gather_limited*"]
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[&["for", "await"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        let mut helper: Option<Option<(String, Option<Helper>, bool)>> = None;
        // Each shape awaits in the loop: one without `await` is skipped by a cheap byte search.
        let candidates = file.model.index().loops.iter().copied();
        for node in candidates.filter(|n| memchr::memmem::find(file.text(*n).as_bytes(), b"await").is_some())
        {
            let analysed = match node.kind() {
                "for_statement" => self.for_loop(file, node),
                _ => self.comprehension(file, node),
            };
            let Some(shape) = analysed else { continue };
            if concurrency::beside_concurrent_branch(file, node) {
                continue;
            }
            // Each call starts before the one of the previous item ends: it must be shown to only
            // read. Without that evidence a loop may be ordered on purpose (migrations applied in
            // turn, a page token carried over), and a hint would not say how to make it safe.
            let subject = concurrency::bounded_call(file, shape.call).unwrap_or(shape.call);
            if concurrency::evidence(file, subject) != Evidence::OnlyReads {
                continue;
            }
            let finding = file.finding(
                ID,
                node,
                format!(
                    "each iteration awaits `{}(...)` before the next one starts: the calls could run concurrently",
                    file.text(shape.call.child_by_field_name("function").unwrap_or(shape.call))
                ),
            );
            if let Err(why) = &shape.refused {
                // Not certain to be a missed opportunity: advice, not a warning.
                let finding = Finding { severity: Severity::Hint, ..finding };
                findings.push(finding.report_only(why.clone()));
                continue;
            }
            if concurrency::uses_other_event_loop(file) {
                findings.push(finding.report_only(
                    "the file uses trio or anyio, whose coroutines asyncio.gather cannot run: start them \
                     in a nursery or task group",
                ));
                continue;
            }
            let limit = file.settings.max_concurrency;
            if limit.is_none() && !shape.bounded {
                let finding = Finding { severity: Severity::Hint, ..finding };
                findings.push(finding.report_only(format!(
                    "`{}` may hold any number of items and gathering starts every call at once; pass \
                     --max-concurrency N to gather them at most N at a time",
                    file.text(shape.iterable)
                )));
                continue;
            }
            // The bounded form calls the module-level helper, which alone refers to asyncio.
            let (gather_head, helpers, needs_import) = match limit {
                Some(limit) => {
                    let found = helper.get_or_insert_with(|| self.helper(file));
                    let Some((name, code, needs_import)) = found.clone() else {
                        findings.push(finding.report_only(
                            "the name `asyncio` is not usable at module level, where the bounding helper goes",
                        ));
                        continue;
                    };
                    let needs_import = needs_import && code.is_some();
                    (format!("{name}({limit}, "), code.into_iter().collect(), needs_import)
                }
                None => {
                    let Some(asyncio) = file.model.module_ref("asyncio", node) else {
                        findings.push(finding.report_only("the name `asyncio` is not usable here"));
                        continue;
                    };
                    (format!("{}.gather(", asyncio.name), Vec::new(), asyncio.needs_import)
                }
            };
            let mut names = FreshNames::new(file, node);
            let Some(code) = self.rewrite(file, &shape, &gather_head, &mut names) else {
                findings.push(finding.report_only("the loop does not start its own line"));
                continue;
            };
            let imports = if needs_import { vec!["asyncio".to_string()] } else { Vec::new() };
            let fix = Fix {
                safety: Safety::Unsafe,
                edits: vec![Edit::replace(node.byte_range(), code)],
                imports,
                helpers,
            };
            findings.push(finding.with_fix(fix));
        }
    }
}

/// A loop or comprehension that awaits one call per item.
struct Shape<'t> {
    node: Node<'t>,
    call: Node<'t>,
    /// The loop target (`x`, `k, v`); for a comprehension, its `for` clauses.
    target: Node<'t>,
    iterable: Node<'t>,
    collect: Collect<'t>,
    /// Whether the number of items is known and small (a literal, `range(<literal>)`).
    bounded: bool,
    /// Why it cannot be rewritten, when it cannot.
    refused: Result<(), String>,
}

impl LoopAwaits {
    fn for_loop<'t>(&self, file: &FileContext<'_, 't>, node: Node<'t>) -> Option<Shape<'t>> {
        let mut cursor = node.walk();
        let is_async = node.children(&mut cursor).any(|c| c.kind() == "async");
        if is_async || node.child_by_field_name("alternative").is_some() {
            return None;
        }
        let target = node.child_by_field_name("left")?;
        let iterable = node.child_by_field_name("right")?;
        let body = node.child_by_field_name("body")?;
        let mut cursor = body.walk();
        let statements: Vec<Node> =
            body.named_children(&mut cursor).filter(|s| s.kind() != "comment").collect();
        let [statement] = statements[..] else { return None };
        let (call, collect) = collected_call(file, statement)?;
        if file.model.context(call) != Context::Async || concurrency::runs_in_order(file, call) {
            return None;
        }
        let loop_names = concurrency::binds(file, target);
        let mut refused = self.independent(file, node, call, &collect, Some(target))?;
        let per_item = self.per_item(file, call, &loop_names)?;
        refused = refused.and(per_item);
        if refused.is_ok() {
            refused = iterable_ok(file, iterable);
        }
        if refused.is_ok()
            && let Some(name) = self.read_after_loop(file, node, target)
        {
            refused = Err(format!(
                "the loop variable `{name}` is read after the loop, which leaves it bound to the last item; \
                 a gather would not"
            ));
        }
        let bounded = is_bounded(file, iterable);
        Some(Shape { node, call, target, iterable, collect, bounded, refused })
    }

    fn comprehension<'t>(&self, file: &FileContext<'_, 't>, node: Node<'t>) -> Option<Shape<'t>> {
        let body = node.child_by_field_name("body").filter(|b| b.kind() == "await")?;
        let call = body.named_child(0).filter(|c| c.kind() == "call")?;
        if file.model.context(node) != Context::Async || concurrency::runs_in_order(file, call) {
            return None;
        }
        let mut cursor = node.walk();
        let clauses: Vec<Node> = node.named_children(&mut cursor).filter(|c| *c != body).collect();
        let fors: Vec<Node> = clauses.iter().copied().filter(|c| c.kind() == "for_in_clause").collect();
        let first = *fors.first()?;
        let iterable = first.child_by_field_name("right")?;
        let loop_names: Vec<String> = fors
            .iter()
            .filter_map(|clause| clause.child_by_field_name("left"))
            .flat_map(|left| concurrency::binds(file, left))
            .collect();
        let mut refused = self.independent(file, node, call, &Collect::Discard, None)?;
        let per_item = self.per_item(file, call, &loop_names)?;
        refused = refused.and(per_item);
        for clause in &clauses {
            if refused.is_err() {
                break;
            }
            let mut c = clause.walk();
            if clause.children(&mut c).any(|t| t.kind() == "async") {
                return None;
            }
            if let Some(why) = concurrency::side_effect(file, *clause) {
                refused =
                    Err(format!("a `for` or `if` clause has {}", why.trim_start_matches("its arguments ")));
            }
        }
        if refused.is_ok() && statements::in_debug_field(node) {
            refused =
                Err("the comprehension is in a self-documenting f-string field (`{...=}`), which prints \
                 its source text"
                    .to_string());
        }
        let bounded = fors.len() == 1 && is_bounded(file, iterable);
        Some(Shape { node, call, target: first, iterable, collect: Collect::Discard, bounded, refused })
    }

    /// Whether the calls of different iterations may run at once: the call starts early, and the
    /// key of a store is side-effect free (else why not); `node` is the loop or comprehension. `None` when an iteration reads what an
    /// earlier one wrote: the loop is sequential by nature, nothing to report.
    fn independent(
        &self,
        file: &FileContext,
        node: Node,
        call: Node,
        collect: &Collect,
        target: Option<Node>,
    ) -> Option<Result<(), String>> {
        let written: Vec<String> = match collect {
            Collect::Discard => Vec::new(),
            Collect::Append { list } => concurrency::binds(file, *list),
            Collect::Store { mapping, .. } => concurrency::binds(file, *mapping),
        };
        let mut reads = concurrency::reads(file, call);
        if let Collect::Store { key, .. } = collect {
            // The keys are all computed before the first store (`out[len(out)] = ...`).
            reads.extend(concurrency::reads(file, *key));
        }
        if reads.iter().any(|r| written.iter().any(|w| concurrency::overlaps(r, w))) {
            return None;
        }
        if let Some(target) = target {
            let loop_names = concurrency::binds(file, target);
            let writes_loop_variable =
                loop_names.iter().any(|n| written.iter().any(|w| concurrency::overlaps(n, w)));
            if writes_loop_variable
                || syntax::find_first(target, |n| matches!(n.kind(), "attribute" | "subscript")).is_some()
            {
                return None;
            }
        }
        if !concurrency::walrus_binds(file, call).is_empty() {
            return None;
        }
        if let Some(name) = concurrency::visible_elsewhere(file, node, &written) {
            return Some(Err(format!(
                "`{name}` can be read by other code (it is global, or a nested function reads it): a \
                 call may read what the earlier iterations put in it"
            )));
        }
        let loop_names = target.map(|t| concurrency::binds(file, t)).unwrap_or_default();
        if let Some(name) = concurrency::visible_elsewhere(file, node, &loop_names) {
            return Some(Err(format!(
                "the loop variable `{name}` can be read by other code (it is global, or a nested function \
                 reads it): a call may read it, and a gather does not set it item by item"
            )));
        }
        // Prompts in a loop are a dialogue, not a missed chance to run things at once.
        if concurrency::reads_the_terminal(file, call) {
            return None;
        }
        if let Some(why) = concurrency::not_startable_early(file, call) {
            return Some(Err(format!("the call cannot start early: {why}")));
        }
        let shared_list = statements::arguments(call)
            .into_iter()
            .map(|argument| statements::keyword(file, argument).map_or(argument, |(_, value)| value))
            .find(|value| concurrency::may_be_built_here(file, *value, call));
        if let Some(list) = shared_list.filter(|_| !file.settings.gather_same_receiver) {
            return Some(Err(format!(
                "every call gets `{}` (a list or dict built here), which a call may change while the others \
                 read it; pass --gather-same-receiver if no call changes it",
                file.text(list)
            )));
        }
        if let Collect::Store { key, .. } = collect
            && let Some(why) = concurrency::side_effect(file, *key)
        {
            return Some(Err(format!("the key has {}", why.trim_start_matches("its arguments "))));
        }
        Some(Ok(()))
    }

    /// Whether the call is one per item: it reads the loop variable (a call that does not, such
    /// as `queue.get()` or `reader.readline()`, consumes something in order) and is not the item
    /// itself (`for callback in hooks: await callback()` runs hooks in order). `None` when it is
    /// not; `Some(Err)` when every item is sent to one receiver.
    fn per_item(&self, file: &FileContext, call: Node, loop_names: &[String]) -> Option<Result<(), String>> {
        let is_loop_name = |path: &str| loop_names.iter().any(|name| concurrency::overlaps(path, name));
        let reads = concurrency::reads(file, call);
        let function = call.child_by_field_name("function")?;
        if !reads.iter().any(|read| is_loop_name(read))
            || (function.kind() == "identifier" && is_loop_name(file.text(function)))
        {
            return None;
        }
        match concurrency::receiver(file, call) {
            Some(receiver) if !is_loop_name(&receiver) && !file.settings.gather_same_receiver => {
                Some(Err(format!(
                    "every iteration calls `{}` on the same object; calls on one object may share state that forbids \
                 concurrency (one database connection runs one query at a time), so they are not gathered; pass \
                 --gather-same-receiver if `{receiver}` allows concurrent calls",
                    file.text(function)
                )))
            }
            _ => Some(Ok(())),
        }
    }

    /// The first loop variable that code after the loop may read before rebinding it.
    fn read_after_loop<'t>(
        &self,
        file: &FileContext<'_, 't>,
        node: Node<'t>,
        target: Node<'t>,
    ) -> Option<String> {
        let loop_names: HashSet<String> = concurrency::binds(file, target).into_iter().collect();
        let function = std::iter::successors(node.parent(), |n| n.parent())
            .find(|n| matches!(n.kind(), "function_definition" | "module"))?;
        // In an enclosing loop, code above this loop runs after it too, on the next iteration.
        let outer_loop = std::iter::successors(node.parent(), |n| n.parent())
            .take_while(|n| *n != function)
            .filter(|n| matches!(n.kind(), "for_statement" | "while_statement"))
            .last();
        let mut settled: HashSet<String> = HashSet::new();
        // Attribute names (`page.key`) and keyword names (`key=...`) are not variables.
        let identifiers = syntax::descendants(function, |n| {
            n.kind() == "identifier"
                && !n.parent().is_some_and(|p| {
                    (p.kind() == "attribute" && p.child_by_field_name("attribute") == Some(n))
                        || (p.kind() == "keyword_argument" && p.child_by_field_name("name") == Some(n))
                })
        });
        for identifier in identifiers {
            let name = file.text(identifier);
            if !loop_names.contains(name) || settled.contains(name) {
                continue;
            }
            let inside_this_loop =
                node.start_byte() <= identifier.start_byte() && identifier.end_byte() <= node.end_byte();
            if inside_this_loop
                || in_comprehension_binding(file, identifier, name)
                || in_function_binding(file, identifier, function, name)
            {
                continue;
            }
            let before = identifier.end_byte() <= node.start_byte();
            if before {
                if outer_loop.is_some_and(|o| o.start_byte() <= identifier.start_byte()) {
                    return Some(name.to_string());
                }
                continue;
            }
            if in_later_loop_binding(file, identifier, node, function, name) {
                continue;
            }
            let Some(assignment) = assigned_by(identifier) else { return Some(name.to_string()) };
            // Only an assignment that surely runs right after the loop (in its block) settles the
            // name, and only when its value does not read the loop's (`x = x + 1`).
            let same_block = assignment.parent().and_then(|s| s.parent()) == node.parent();
            if same_block {
                let reads_it = assignment.child_by_field_name("right").is_some_and(|right| {
                    concurrency::reads(file, right).iter().any(|read| concurrency::overlaps(read, name))
                });
                if reads_it {
                    return Some(name.to_string());
                }
                settled.insert(name.to_string());
            }
        }
        None
    }

    /// The replacement for the loop or comprehension.
    fn rewrite(
        &self,
        file: &FileContext,
        shape: &Shape,
        gather_head: &str,
        names: &mut FreshNames,
    ) -> Option<String> {
        if shape.node.kind() == "list_comprehension" {
            return self.comprehension_rewrite(file, shape, gather_head);
        }
        let indent = concurrency::line_indent(file, shape.node)?;
        // The call moves from the loop body to the loop's own line.
        let call = concurrency::reindent(file, shape.call, indent);
        let nl = file.style.newline;
        let unit = &file.style.indent;
        let mut code = String::new();
        let mut kept = vec![shape.call.byte_range(), shape.target.byte_range(), shape.iterable.byte_range()];
        match &shape.collect {
            Collect::Discard => {}
            Collect::Append { list } => kept.push(list.byte_range()),
            Collect::Store { mapping, key } => kept.extend([mapping.byte_range(), key.byte_range()]),
        }
        for comment in concurrency::loose_comments(file, shape.node.byte_range(), &kept) {
            code.push_str(&format!("{comment}{nl}{indent}"));
        }
        let target = file.text(shape.target);
        let iterable = file.text(shape.iterable);
        let gathered = |items: &str| format!("await {gather_head}*({call} for {target} in {items}))");
        match &shape.collect {
            Collect::Discard => code.push_str(&gathered(iterable)),
            Collect::Append { list } => {
                let list_text = file.text(*list);
                if concurrency::built_as(file, *list, shape.node) == Some(concurrency::Built::List) {
                    code.push_str(&format!("{list_text}.extend({})", gathered(iterable)));
                } else {
                    // Not known to be a list: keep calling the `append` the loop called.
                    let result = names.get("result");
                    code.push_str(&format!(
                        "for {result} in {}:{nl}{indent}{unit}{list_text}.append({result})",
                        gathered(iterable)
                    ));
                }
            }
            Collect::Store { mapping, key } => {
                // The items feed both the keys and the calls: a generator must be read once.
                let items = if is_reiterable(file, shape.iterable) {
                    iterable.to_string()
                } else {
                    let items = names.get("items");
                    let iterable = match shape.iterable.kind() {
                        "generator_expression" => iterable.to_string(),
                        _ => format!("({iterable})"),
                    };
                    code.push_str(&format!("{items} = list{iterable}{nl}{indent}"));
                    items
                };
                let keys = if file.text(*key) == target && shape.target.kind() == "identifier" {
                    items.clone()
                } else {
                    format!("[{} for {target} in {items}]", file.text(*key))
                };
                let mapping_text = file.text(*mapping);
                if concurrency::built_as(file, *mapping, shape.node) == Some(concurrency::Built::Dict) {
                    code.push_str(&format!("{mapping_text}.update(zip({keys}, {}))", gathered(&items)));
                } else {
                    // Not known to be a dict (a list filled by index has no `update`): keep the
                    // item assignment the loop made.
                    let (key_name, result) = (names.get("key"), names.get("result"));
                    code.push_str(&format!(
                        "for {key_name}, {result} in zip({keys}, {}):{nl}{indent}{unit}{mapping_text}[{key_name}] = {result}",
                        gathered(&items)
                    ));
                }
            }
        }
        Some(code)
    }

    /// The gather that replaces `[await f(x) for x in xs ...]`.
    fn comprehension_rewrite(&self, file: &FileContext, shape: &Shape, gather_head: &str) -> Option<String> {
        let call = file.text(shape.call);
        let clauses = &file.source[shape.call.parent()?.end_byte()..shape.node.end_byte() - 1];
        // A comprehension laid out over lines becomes one line unless that would join a comment
        // or a string's lines.
        let has_comment_or_text = syntax::find_first(shape.node, |n| {
            n.kind() == "comment" || (n.kind() == "string" && file.text(n).contains('\n'))
        })
        .is_some();
        let joined;
        let clauses = if clauses.contains('\n')
            && !clauses.contains('\\')
            && !has_comment_or_text
            && !call.contains('\n')
        {
            let lines: Vec<&str> = clauses.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            joined = format!(" {}", lines.join(" "));
            joined.as_str()
        } else {
            clauses
        };
        let gathered = format!("await {gather_head}*({call}{clauses}))");
        let bare = shape.node.parent().is_some_and(|p| {
            matches!(
                p.kind(),
                "assignment"
                    | "expression_statement"
                    | "return_statement"
                    | "argument_list"
                    | "keyword_argument"
                    | "parenthesized_expression"
                    | "for_statement"
            )
        });
        Some(if bare { gathered } else { format!("({gathered})") })
    }

    /// The bounded-gather helper's name, its code (`None` when the file has it) and whether its
    /// code needs `import asyncio`.
    fn helper(&self, file: &FileContext) -> Option<(String, Option<Helper>, bool)> {
        let asyncio: ModuleRef = file.model.module_ref("asyncio", file.model.root())?;
        let identifiers = statements::identifiers(file, file.model.root());
        for n in 0.. {
            let sfx = if n == 0 { String::new() } else { format!("_{n}") };
            let name = format!("_gather_limited{sfx}");
            if defines_async_function(file, &name) {
                return Some((name, None, false));
            }
            if !identifiers.contains(name.as_str()) {
                let mut code = HELPER.replace("{sfx}", &sfx).replace("{asyncio}", &asyncio.name);
                if file.style.quote == '\'' {
                    code = code.replace('"', "'");
                }
                return Some((
                    name,
                    Some(Helper { code: file.style.render(&code, "") }),
                    asyncio.needs_import,
                ));
            }
        }
        unreachable!("some suffix is always free")
    }
}

/// Whether the module defines `async def name(limit, *awaitables)` at top level (and binds `name`
/// nothing else): the helper, added by an earlier run and maybe reformatted since. A function of
/// that name with other parameters is the user's own, which the loops must not call.
fn defines_async_function(file: &FileContext, name: &str) -> bool {
    let root = file.model.root();
    let mut cursor = root.walk();
    let defined = root.named_children(&mut cursor).any(|statement| {
        syntax::is_async_def(statement)
            && statement.child_by_field_name("name").is_some_and(|n| file.text(n) == name)
            && statement
                .child_by_field_name("parameters")
                .is_some_and(|p| concurrency::compact(file.text(p)) == "(limit,*awaitables)")
    });
    defined && file.model.resolve(name, root) == Resolved::Other
}

/// The awaited call of a loop body statement, and where its result goes.
fn collected_call<'t>(file: &FileContext<'_, 't>, statement: Node<'t>) -> Option<(Node<'t>, Collect<'t>)> {
    if statement.kind() != "expression_statement" || statement.named_child_count() != 1 {
        return None;
    }
    let expression = statement.named_child(0)?;
    let awaited_call = |node: Node<'t>| {
        node.kind().eq("await").then(|| node.named_child(0)).flatten().filter(|c| c.kind() == "call")
    };
    match expression.kind() {
        "await" => Some((awaited_call(expression)?, Collect::Discard)),
        "call" => {
            let function = expression.child_by_field_name("function").filter(|f| f.kind() == "attribute")?;
            if file.text(function.child_by_field_name("attribute")?) != "append" {
                return None;
            }
            let list = function.child_by_field_name("object")?;
            let arguments = expression.child_by_field_name("arguments")?;
            let mut cursor = arguments.walk();
            let args: Vec<Node> =
                arguments.named_children(&mut cursor).filter(|a| a.kind() != "comment").collect();
            let [argument] = args[..] else { return None };
            if !is_plain_chain(list) {
                return None;
            }
            Some((awaited_call(argument)?, Collect::Append { list }))
        }
        "assignment" => {
            if expression.child_by_field_name("type").is_some() {
                return None;
            }
            let left = expression.child_by_field_name("left").filter(|l| l.kind() == "subscript")?;
            let mapping = left.child_by_field_name("value")?;
            let key = left.child_by_field_name("subscript")?;
            let mut cursor = left.walk();
            if left.children_by_field_name("subscript", &mut cursor).count() != 1 || !is_plain_chain(mapping)
            {
                return None;
            }
            let call = awaited_call(expression.child_by_field_name("right")?)?;
            Some((call, Collect::Store { mapping, key }))
        }
        _ => None,
    }
}

/// A name or a dotted chain of names (`results`, `self.results`).
fn is_plain_chain(node: Node) -> bool {
    match node.kind() {
        "identifier" => true,
        "attribute" => node.child_by_field_name("object").is_some_and(is_plain_chain),
        _ => false,
    }
}

fn iterable_ok(file: &FileContext, iterable: Node) -> Result<(), String> {
    match concurrency::side_effect(file, iterable) {
        Some(why) => Err(format!(
            "the iterable has {}; assign it to a name first",
            why.trim_start_matches("its arguments ")
        )),
        None => Ok(()),
    }
}

/// Whether `identifier` is inside a comprehension whose own `for` clause binds `name`: it names
/// the comprehension's variable (a scope of its own), not the loop's.
fn in_comprehension_binding(file: &FileContext, identifier: Node, name: &str) -> bool {
    std::iter::successors(identifier.parent(), |n| n.parent())
        .take_while(|n| !matches!(n.kind(), "function_definition" | "lambda" | "class_definition"))
        .filter(|n| {
            matches!(
                n.kind(),
                "list_comprehension"
                    | "set_comprehension"
                    | "dictionary_comprehension"
                    | "generator_expression"
            )
        })
        .any(|comprehension| {
            let mut cursor = comprehension.walk();
            let clauses: Vec<Node> =
                comprehension.named_children(&mut cursor).filter(|c| c.kind() == "for_in_clause").collect();
            // The first clause's iterable is evaluated outside (`[x for x in x]` reads the loop's `x`).
            let outer_iterable = clauses.first().and_then(|c| c.child_by_field_name("right"));
            let in_outer_iterable = outer_iterable.is_some_and(|iterable| {
                iterable.start_byte() <= identifier.start_byte()
                    && identifier.end_byte() <= iterable.end_byte()
            });
            !in_outer_iterable
                && clauses
                    .iter()
                    .filter_map(|clause| clause.child_by_field_name("left"))
                    .any(|left| concurrency::binds(file, left).iter().any(|bound| bound == name))
        })
}

/// Whether `identifier` is inside a function, lambda or class nested in `function` that has a
/// `name` of its own (a parameter, a local): it is not the loop's variable.
fn in_function_binding(file: &FileContext, identifier: Node, function: Node, name: &str) -> bool {
    std::iter::successors(identifier.parent(), |n| n.parent())
        .take_while(|n| *n != function)
        .filter(|n| matches!(n.kind(), "function_definition" | "lambda" | "class_definition"))
        .any(|scope| file.model.binds_in_scope(scope, name))
}

/// The assignment whose target `identifier` is (`name = ...`, `name, other = ...`).
fn assigned_by(identifier: Node) -> Option<Node> {
    let mut target = identifier;
    while let Some(parent) = target.parent().filter(|p| {
        matches!(p.kind(), "pattern_list" | "tuple_pattern" | "list_pattern" | "list_splat_pattern")
    }) {
        target = parent;
    }
    target.parent().filter(|p| p.kind() == "assignment" && p.child_by_field_name("left") == Some(target))
}

/// Whether `identifier` is in a later `for` loop whose target binds `name`, outside its
/// iterable: there it names that loop's item, bound before any use.
fn in_later_loop_binding(
    file: &FileContext,
    identifier: Node,
    node: Node,
    function: Node,
    name: &str,
) -> bool {
    std::iter::successors(identifier.parent(), |n| n.parent())
        .take_while(|n| *n != function)
        .filter(|n| n.kind() == "for_statement" && n.start_byte() >= node.end_byte())
        .any(|later| {
            let binds_name = later
                .child_by_field_name("left")
                .is_some_and(|left| concurrency::binds(file, left).iter().any(|bound| bound == name));
            let in_iterable = later.child_by_field_name("right").is_some_and(|right| {
                right.start_byte() <= identifier.start_byte() && identifier.end_byte() <= right.end_byte()
            });
            binds_name && !in_iterable
        })
}

/// A literal collection without unpacking, or `range(...)` of integer literals.
fn is_bounded(file: &FileContext, iterable: Node) -> bool {
    match iterable.kind() {
        "list" | "tuple" | "set" => {
            syntax::find_first(iterable, |n| matches!(n.kind(), "list_splat" | "dictionary_splat")).is_none()
        }
        "call" => {
            let Some(function) = iterable.child_by_field_name("function") else { return false };
            let Some(arguments) = iterable.child_by_field_name("arguments") else { return false };
            let mut cursor = arguments.walk();
            file.text(function) == "range"
                && file.model.resolve("range", iterable) == Resolved::Unbound
                && arguments.named_children(&mut cursor).all(|a| a.kind() == "integer")
        }
        _ => false,
    }
}

/// Whether iterating twice gives the same items without side effects: a literal or `range`.
fn is_reiterable(file: &FileContext, iterable: Node) -> bool {
    is_bounded(file, iterable)
}
