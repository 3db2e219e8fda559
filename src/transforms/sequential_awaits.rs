//! `sequential-awaits`: consecutive statements that each assign the result of an independent
//! awaited call (`a = await f(x)` then `b = await g(y)`) become one concurrent step,
//! `a, b = await asyncio.gather(f(x), g(y))`, or a `TaskGroup` with `--prefer taskgroup`.
//! Documentation, safety and examples: `transforms/sequential-awaits.toml`.

use tree_sitter::Node;

use crate::config;
use crate::finding::{Edit, Finding, Fix, Safety, Severity};
use crate::naming;
use crate::semantic::Context;
use crate::suppress;
use crate::syntax;
use crate::transforms::concurrency::{self, Evidence, FreshNames};
use crate::transforms::statements;
use crate::transforms::{FileContext, Transform};

pub struct SequentialAwaits;

const ID: &str = "sequential-awaits";

/// One `target = await call(...)` statement of a run.
struct Step<'t> {
    statement: Node<'t>,
    target: Node<'t>,
    annotation: Option<Node<'t>>,
    call: Node<'t>,
    reads: Vec<String>,
    binds: Vec<String>,
    /// The function's own lists and dicts passed to the call as arguments.
    containers: Vec<String>,
    /// The objects passed whole to the call as arguments (`user` in `save(user)`).
    passed: Vec<String>,
    /// A bound name other code may read (a global, a closure's variable): later calls may read it.
    seen_elsewhere: Option<String>,
    receiver: Option<String>,
    /// Its call is named as a check (`check_team_exists`): what follows must not start before it
    /// has passed.
    checks: bool,
    /// What is known of what its call does.
    evidence: Evidence,
}

impl Transform for SequentialAwaits {
    fn id(&self) -> &'static str {
        ID
    }

    fn triggers(&self) -> &'static [&'static [&'static str]] {
        &[&["await"]]
    }

    fn check(&self, file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
        let suppressed = suppressed_lines(file);
        for &block in &file.model.index().blocks {
            // A step is an awaited call: a block without `await` has none (a cheap byte search).
            if memchr::memmem::find(file.text(block).as_bytes(), b"await").is_none() {
                continue;
            }
            let mut cursor = block.walk();
            let statements: Vec<Node> =
                block.named_children(&mut cursor).filter(|s| s.kind() != "comment").collect();
            let Some(first) = statements.first() else { continue };
            if file.model.context(*first) != Context::Async
                || concurrency::beside_concurrent_branch(file, block)
            {
                continue;
            }
            let mut run: Vec<Step> = Vec::new();
            for statement in statements {
                let silenced = suppressed.iter().any(|line| line.contains(&statement.start_byte()));
                let Some(step) = step(file, statement).filter(|_| !silenced) else {
                    self.flush(file, &mut run, findings);
                    continue;
                };
                // Started before the calls above it end, a call must only read: else it might act
                // before an earlier call has failed, or read before an earlier call has written.
                if matches!(step.evidence, Evidence::NeverSuspends | Evidence::ChangesState(_)) {
                    self.flush(file, &mut run, findings);
                    continue;
                }
                // A first call not shown to only read may change what it is given: a later call
                // given the same object must not start before it ends (`await gw.charge(order)`
                // then `await fetch_order_status(order)`).
                let after_a_change_to_its_argument = run.first().is_some_and(|first| {
                    first.evidence != Evidence::OnlyReads
                        && first.passed.iter().any(|p| step.passed.contains(p))
                });
                if run.last().is_some_and(|last| last.checks)
                    || step.evidence != Evidence::OnlyReads
                    || after_a_change_to_its_argument
                {
                    self.flush(file, &mut run, findings);
                }
                let depends =
                    run.iter().any(|earlier| {
                        earlier.seen_elsewhere.is_some()
                            || step.reads.iter().chain(&step.binds).any(|read| {
                                earlier.binds.iter().any(|bound| concurrency::overlaps(read, bound))
                            })
                    });
                if depends {
                    self.flush(file, &mut run, findings);
                } else if let Some((earlier, shared)) = run
                    .iter()
                    .find_map(|earlier| shared_object(earlier, &step).map(|shared| (earlier, shared)))
                    .filter(|_| !file.settings.gather_same_receiver)
                {
                    findings.push(same_receiver(file, earlier, &step, &shared));
                    self.flush(file, &mut run, findings);
                } else if let Some(earlier) = run
                    .iter()
                    .find(|earlier| same_call(file, earlier, &step))
                    .filter(|_| !file.settings.gather_same_receiver)
                {
                    findings.push(repeated_call(file, earlier, &step));
                    self.flush(file, &mut run, findings);
                } else if let Some((earlier, list)) = run
                    .iter()
                    .find_map(|earlier| shared_container(earlier, &step).map(|list| (earlier, list)))
                    .filter(|_| !file.settings.gather_same_receiver)
                {
                    findings.push(same_container(file, earlier, &step, &list));
                    self.flush(file, &mut run, findings);
                }
                run.push(step);
            }
            self.flush(file, &mut run, findings);
        }
    }
}

/// The lines (as byte ranges) whose comments silence this transform: a statement on one of them
/// is left out of every run, as if it were any other statement.
fn suppressed_lines(file: &FileContext) -> Vec<std::ops::Range<usize>> {
    file.model
        .index()
        .comments
        .iter()
        .filter(|c| suppress::silences(file.text(**c), ID))
        .map(|c| {
            let start = file.source[..c.start_byte()].rfind('\n').map_or(0, |i| i + 1);
            start..c.end_byte()
        })
        .collect()
}

/// The statement as a step of a run, if it is `target = await call(...)` (annotated or not) and
/// the call may start before the awaits above it.
fn step<'t>(file: &FileContext<'_, 't>, statement: Node<'t>) -> Option<Step<'t>> {
    if statement.kind() != "expression_statement" || statement.named_child_count() != 1 {
        return None;
    }
    let assignment = statement.named_child(0).filter(|a| a.kind() == "assignment")?;
    let target = assignment.child_by_field_name("left")?;
    let awaited = assignment.child_by_field_name("right").filter(|r| r.kind() == "await")?;
    let call = awaited.named_child(0).filter(|c| c.kind() == "call")?;
    let annotation = assignment.child_by_field_name("type");
    // `x: Final = await f()` cannot be split into a declaration and an assignment.
    if annotation.is_some_and(|a| is_final(file.text(a))) {
        return None;
    }
    // The call `asyncio.wait_for(call, ...)` makes is the one whose name says what it does.
    let subject = concurrency::bounded_call(file, call).unwrap_or(call);
    let target_ok = match target.kind() {
        "identifier" | "attribute" | "subscript" => true,
        "pattern_list" | "tuple_pattern" | "list_pattern" => annotation.is_none(),
        _ => false,
    };
    // A target is evaluated after the calls of the whole run: one that calls something
    // (`d[next(it)] = ...`) would move that call after the later awaits.
    if !target_ok
        || concurrency::side_effect(file, target).is_some()
        || concurrency::not_startable_early(file, call).is_some()
        || concurrency::reads_the_terminal(file, subject)
        || concurrency::named_as_state_change(file, subject)
    {
        return None;
    }
    let mut binds = concurrency::binds(file, target);
    binds.extend(concurrency::walrus_binds(file, call));
    let seen_elsewhere = concurrency::visible_elsewhere(file, statement, &binds);
    let values: Vec<Node> = statements::arguments(call)
        .into_iter()
        .map(|argument| statements::keyword(file, argument).map_or(argument, |(_, value)| value))
        .collect();
    let containers = values
        .iter()
        .filter(|value| concurrency::may_be_built_here(file, **value, statement))
        .map(|value| file.text(*value).to_string())
        .collect();
    let passed = values
        .iter()
        .filter(|value| matches!(value.kind(), "identifier" | "attribute"))
        .map(|value| concurrency::compact(file.text(*value)))
        .collect();
    Some(Step {
        statement,
        target,
        annotation,
        call,
        reads: concurrency::reads(file, call),
        binds,
        containers,
        passed,
        seen_elsewhere,
        receiver: concurrency::receiver(file, subject),
        checks: concurrency::named_as_check(file, subject),
        evidence: concurrency::evidence(file, subject),
    })
}

/// Whether an annotation is `Final` (`Final[int]`, `typing.Final`).
fn is_final(annotation: &str) -> bool {
    let name = annotation.split('[').next().unwrap_or_default().trim();
    name.rsplit('.').next() == Some("Final")
}

/// Whether a name the run binds is read where its value matters after a later call of the run
/// failed: in an `except`, `else` or `finally` clause of a `try` around the run, or after a `try`
/// one of whose handlers lets the code go on. Gathered, no result is bound when any call fails
/// (`knocker = await start(); resp = await query()` with `finally: if knocker: knocker.cancel()`).
fn read_after_a_failure(file: &FileContext, steps: &[Step]) -> bool {
    let Some(first) = steps.first() else { return false };
    let bound: Vec<&String> = steps.iter().flat_map(|s| &s.binds).collect();
    let read_in = |node: Node, after: usize| -> bool {
        let reads = syntax::descendants(node, |n| {
            matches!(n.kind(), "identifier" | "attribute") && n.start_byte() >= after
        });
        reads.into_iter().any(|read| {
            let read = concurrency::compact(file.text(read));
            bound.iter().any(|b| concurrency::overlaps(&read, b))
        })
    };
    let mut child = first.statement;
    let mut function = None;
    let mut handled = Vec::new();
    while let Some(parent) = child.parent() {
        match parent.kind() {
            "function_definition" | "lambda" | "class_definition" => {
                function = Some(parent);
                break;
            }
            "try_statement" if parent.child_by_field_name("body") == Some(child) => handled.push(parent),
            _ => {}
        }
        child = parent;
    }
    for statement in handled {
        let mut cursor = statement.walk();
        let clauses: Vec<Node> = statement
            .named_children(&mut cursor)
            .filter(|c| {
                matches!(c.kind(), "except_clause" | "except_group_clause" | "else_clause" | "finally_clause")
            })
            .collect();
        if clauses.iter().any(|clause| read_in(*clause, 0)) {
            return true;
        }
        let goes_on = clauses.iter().any(|c| c.kind().starts_with("except") && handler_goes_on(*c));
        if goes_on && function.is_some_and(|f| read_in(f, statement.end_byte())) {
            return true;
        }
    }
    false
}

/// Whether an `except` clause lets the code after its `try` run: its last statement neither
/// raises nor leaves.
fn handler_goes_on(clause: Node) -> bool {
    let mut cursor = clause.walk();
    let block = clause.named_children(&mut cursor).filter(|c| c.kind() == "block").last();
    let last = block.and_then(|b| {
        let mut cursor = b.walk();
        b.named_children(&mut cursor).filter(|s| s.kind() != "comment").last()
    });
    !last.is_some_and(|s| {
        matches!(s.kind(), "raise_statement" | "return_statement" | "continue_statement" | "break_statement")
    })
}

/// The object two calls both work on, if one's receiver is the other's receiver or is read by
/// it (`app.login_user(...)` then `api_request(app, ...)`), or the later call's arguments read a
/// part of an object passed to the earlier one (`save(user)` then `notify(user.email)`): gathered,
/// that part would be read before the earlier call runs.
fn shared_object(earlier: &Step, later: &Step) -> Option<String> {
    let used_by = |receiver: &Option<String>, other: &Step| {
        receiver.clone().filter(|r| other.reads.iter().any(|read| concurrency::overlaps(read, r)))
    };
    let part_read = earlier
        .passed
        .iter()
        .find(|object| {
            later.reads.iter().any(|read| read.len() > object.len() && concurrency::overlaps(read, object))
        })
        .cloned();
    // One connection handed to both (`await fetch_users(conn)` then `await fetch_orders(conn)`):
    // like one receiver, it may run one call at a time.
    let connection = earlier
        .passed
        .iter()
        .find(|object| {
            later.passed.contains(object)
                && naming::names_a_connection(object.rsplit('.').next().unwrap_or(object))
        })
        .cloned();
    used_by(&earlier.receiver, later)
        .or_else(|| used_by(&later.receiver, earlier))
        .or(part_read)
        .or(connection)
}

/// Whether two steps make the very same call (`await next_message()` twice): each likely takes
/// the next item of something, and gathered, which result lands in which target is a race.
fn same_call(file: &FileContext, earlier: &Step, later: &Step) -> bool {
    concurrency::compact(file.text(earlier.call)) == concurrency::compact(file.text(later.call))
}

/// The hint for the same call awaited twice in a row, which is not gathered by default.
fn repeated_call(file: &FileContext, earlier: &Step, later: &Step) -> Finding {
    let finding = Finding {
        range: earlier.statement.start_byte()..later.statement.end_byte(),
        ..file.finding(
            ID,
            earlier.statement,
            format!("`{}` is awaited twice in a row", file.text(later.call)),
        )
    };
    Finding { severity: Severity::Hint, ..finding }.report_only(
        "the same call made twice likely takes the next item of something (a message, an id, a \
         chunk), so the order of the results matters and they are not gathered; pass \
         --gather-same-receiver if the calls are independent",
    )
}

/// A list or dict of the function's own that one call gets as an argument and the other reads
/// (`await collect(found, a)` then `await collect(found, b)`): the calls may fill it, and would
/// interleave their changes.
fn shared_container(earlier: &Step, later: &Step) -> Option<String> {
    let read_by = |step: &Step, other: &Step| {
        step.containers
            .iter()
            .find(|c| other.reads.iter().any(|read| concurrency::overlaps(read, c)))
            .cloned()
    };
    read_by(earlier, later).or_else(|| read_by(later, earlier))
}

/// The hint for two awaits that get the same list or dict, which are not gathered by default.
fn same_container(file: &FileContext, earlier: &Step, later: &Step, list: &str) -> Finding {
    let finding = Finding {
        range: earlier.statement.start_byte()..later.statement.end_byte(),
        ..file.finding(ID, earlier.statement, format!("two awaits in a row both use `{list}`"))
    };
    Finding { severity: Severity::Hint, ..finding }.report_only(format!(
        "a call may change `{list}` (a list or dict built here) while the other reads it, so running \
         them at once could interleave the changes; they are not gathered; pass --gather-same-receiver \
         if neither changes `{list}`"
    ))
}

/// The hint for two independent awaits on one object, which are not gathered by default.
fn same_receiver(file: &FileContext, earlier: &Step, later: &Step, shared: &str) -> Finding {
    let callee = |step: &Step| file.text(step.call.child_by_field_name("function").unwrap_or(step.call));
    let calls = match (callee(earlier), callee(later)) {
        (a, b) if a == b => format!("`{a}` is awaited twice in a row"),
        (a, b) => format!("`{a}` and `{b}` are awaited one after another"),
    };
    let finding = Finding {
        range: earlier.statement.start_byte()..later.statement.end_byte(),
        ..file.finding(ID, earlier.statement, format!("{calls} on the same object `{shared}`"))
    };
    Finding { severity: Severity::Hint, ..finding }.report_only(format!(
        "calls on one object may share state that forbids concurrency (one database connection runs \
         one query at a time) or that orders them (a login before a request), so they are not \
         gathered; pass --gather-same-receiver if `{shared}` allows concurrent calls"
    ))
}

impl SequentialAwaits {
    /// Reports the run (when it has two steps or more) and empties it.
    fn flush<'t>(&self, file: &FileContext<'_, 't>, run: &mut Vec<Step<'t>>, findings: &mut Vec<Finding>) {
        let steps = std::mem::take(run);
        if steps.len() < 2 {
            return;
        }
        // Sequential on purpose: the code that runs when a call fails reads an earlier result.
        if read_after_a_failure(file, &steps) {
            return;
        }
        let (first, last) = (&steps[0], &steps[steps.len() - 1]);
        let targets: Vec<&str> = steps.iter().map(|s| file.text(s.target)).collect();
        let finding = Finding {
            range: first.statement.start_byte()..last.statement.end_byte(),
            ..file.finding(
                ID,
                first.statement,
                format!(
                    "{} independent awaits run one after another (`{}`): run them concurrently",
                    steps.len(),
                    targets.join("`, `")
                ),
            )
        };
        if concurrency::uses_other_event_loop(file) {
            findings.push(finding.report_only(
                "the file uses trio or anyio, whose coroutines asyncio.gather cannot run: start them in \
                 a nursery or task group",
            ));
            return;
        }
        let Some(indent) = concurrency::line_indent(file, first.statement) else {
            findings.push(finding.report_only("the run does not start its own line"));
            return;
        };
        let Some(asyncio) = file.model.module_ref("asyncio", first.statement) else {
            findings.push(finding.report_only("the name `asyncio` is not usable here"));
            return;
        };
        let mut names = FreshNames::new(file, first.statement);
        let taskgroup = file.settings.prefer.contains("taskgroup")
            && file.settings.target >= config::TASKGROUP_MIN
            && concurrency::taskgroup_changes_handler(file, first.statement).is_none();
        let nl = file.style.newline;
        let mut code = String::new();
        let kept: Vec<std::ops::Range<usize>> = steps
            .iter()
            .flat_map(|s| [Some(s.target), s.annotation, Some(s.call)])
            .flatten()
            .map(|n| n.byte_range())
            .collect();
        for comment in concurrency::loose_comments(file, finding.range.clone(), &kept) {
            code.push_str(&format!("{comment}{nl}{indent}"));
        }
        let unit = &file.style.indent;
        if taskgroup {
            let group = names.get("tg");
            code.push_str(&format!("async with {}.TaskGroup() as {group}:", asyncio.name));
            let mut reads = Vec::new();
            for step in &steps {
                let base = match step.target.kind() {
                    "identifier" => format!("{}_task", file.text(step.target)),
                    _ => "task".to_string(),
                };
                let task = names.get(&base);
                let call = concurrency::reindent(file, step.call, &format!("{indent}{unit}"));
                code.push_str(&format!("{nl}{indent}{unit}{task} = {group}.create_task({call})"));
                let annotation = step.annotation.map(|a| format!(": {}", file.text(a))).unwrap_or_default();
                reads.push(format!("{}{annotation} = {task}.result()", file.text(step.target)));
            }
            for read in reads {
                code.push_str(&format!("{nl}{indent}{read}"));
            }
        } else {
            for step in &steps {
                if let Some(annotation) = step.annotation {
                    code.push_str(&format!(
                        "{}: {}{nl}{indent}",
                        file.text(step.target),
                        file.text(annotation)
                    ));
                }
            }
            let targets: Vec<String> = steps
                .iter()
                .map(|s| match s.target.kind() {
                    "pattern_list" => format!("({})", file.text(s.target)),
                    _ => file.text(s.target).to_string(),
                })
                .collect();
            let calls: Vec<String> = steps
                .iter()
                .map(|s| concurrency::reindent(file, s.call, &format!("{indent}{unit}")))
                .collect();
            let head = format!("{} = await {}.gather(", targets.join(", "), asyncio.name);
            code.push_str(&concurrency::call_layout(file, indent, &head, &calls, ")"));
        }
        let fix = Fix {
            safety: Safety::Unsafe,
            edits: vec![Edit::replace(finding.range.clone(), code)],
            imports: if asyncio.needs_import { vec!["asyncio".to_string()] } else { Vec::new() },
            helpers: Vec::new(),
        };
        findings.push(finding.with_fix(fix));
    }
}
