//! The `blocking-call` fix for `with open(...) as f:` in a coroutine. Moving `open` alone to a
//! thread would not help (every read and write on `f` blocks too), so the whole block moves:
//!
//! - into a nested plain function run with `asyncio.to_thread`, when the block is straight-line
//!   code (assignments, calls, a final `return`) that does not await; the names it assigns come
//!   back as the function's result;
//! - or, with `--prefer aiofiles`, into `async with aiofiles.open(...) as f:` with every read and
//!   write on `f` awaited, when `f` is used only through those methods.

use tree_sitter::Node;

use crate::finding::{Edit, Fix, Safety};
use crate::semantic::Context;
use crate::syntax::{self, text};
use crate::transforms::{FileContext, to_thread};

/// File methods that aiofiles offers as coroutines.
const AIOFILES_METHODS: &[&str] =
    &["read", "readline", "readlines", "write", "writelines", "flush", "seek", "tell", "truncate"];

/// The `with` statement that `open_call` opens, with the name the file is bound to.
struct OpenBlock<'t> {
    statement: Node<'t>,
    body: Node<'t>,
    file_name: Option<&'t str>,
}

fn open_block<'t>(file: &FileContext<'_, 't>, open_call: Node<'t>) -> Result<OpenBlock<'t>, String> {
    let (item, file_name) = match open_call.parent() {
        Some(pattern) if pattern.kind() == "as_pattern" => {
            let alias = pattern.child_by_field_name("alias").and_then(|a| a.named_child(0));
            let name = alias.filter(|a| a.kind() == "identifier").map(|a| file.text(a));
            if name.is_none() {
                return Err("the file is bound to something other than a plain name".into());
            }
            (pattern.parent(), name)
        }
        parent => (parent, None),
    };
    let clause =
        item.filter(|i| i.kind() == "with_item").and_then(|i| i.parent()).ok_or("not a `with` item")?;
    if clause.named_child_count() != 1 {
        return Err("the `with` statement manages more than the file".into());
    }
    let statement =
        clause.parent().filter(|s| s.kind() == "with_statement").ok_or("not a `with` statement")?;
    let body = statement.child_by_field_name("body").ok_or("the `with` statement has no body")?;
    Ok(OpenBlock { statement, body, file_name })
}

/// The fix for `open_call` (an `open(...)` in a coroutine), or why there is none.
/// `builtin` says whether the call is the builtin `open` (which `aiofiles.open` mirrors) rather than
/// `Path.open` or `io.open`.
pub(crate) fn fix_open_block(file: &FileContext, open_call: Node, builtin: bool) -> Result<Fix, String> {
    let block = open_block(file, open_call)?;
    let to_thread = in_thread(file, &block, open_call);
    if builtin && file.settings.prefer.contains("aiofiles") {
        // aiofiles first, as asked; the thread when the block does more than read and write.
        return with_aiofiles(file, &block, open_call).or_else(|aiofiles_reason| {
            to_thread.map_err(|thread_reason| format!("{aiofiles_reason}; and {thread_reason}"))
        });
    }
    to_thread
}

/// `async with aiofiles.open(...) as f:` with awaited reads and writes.
fn with_aiofiles(file: &FileContext, block: &OpenBlock, open_call: Node) -> Result<Fix, String> {
    let name = block.file_name.ok_or("aiofiles needs the file bound to a name")?;
    let mut edits = vec![Edit::replace(block.statement.start_byte()..block.statement.start_byte(), "async ")];
    let callee = open_call.child_by_field_name("function").ok_or("no callee")?;
    let aiofiles = file
        .model
        .module_ref("aiofiles", open_call)
        .ok_or("the name `aiofiles` is bound to something else here")?;
    edits.push(Edit::replace(callee.byte_range(), format!("{}.open", aiofiles.name)));
    let uses = syntax::descendants(block.body, |n| n.kind() == "identifier" && text(n, file.source) == name);
    for used in uses {
        let method_call = used
            .parent()
            .filter(|a| a.kind() == "attribute" && a.child_by_field_name("object") == Some(used))
            .filter(|a| {
                a.child_by_field_name("attribute").is_some_and(|m| AIOFILES_METHODS.contains(&file.text(m)))
            })
            .and_then(|a| a.parent())
            .filter(|c| c.kind() == "call");
        let Some(call) = method_call else {
            return Err(format!(
                "`{name}` is used other than through its read and write methods, which aiofiles cannot serve"
            ));
        };
        if file.model.context(call) != Context::Async {
            return Err(format!("`{name}` is used where `await` cannot go"));
        }
        let parent = call.parent().map(|p| p.kind());
        if parent == Some("await") {
            continue;
        }
        if matches!(parent, Some("attribute" | "subscript" | "call")) {
            edits.push(Edit::replace(call.start_byte()..call.start_byte(), "(await "));
            edits.push(Edit::replace(call.end_byte()..call.end_byte(), ")"));
        } else {
            edits.push(Edit::replace(call.start_byte()..call.start_byte(), "await "));
        }
    }
    let imports = if aiofiles.needs_import { vec!["aiofiles".to_string()] } else { Vec::new() };
    Ok(Fix { safety: Safety::Unsafe, edits, imports, helpers: Vec::new() })
}

/// The block as a nested plain function, run in a worker thread (`asyncio.to_thread`).
fn in_thread(file: &FileContext, block: &OpenBlock, open_call: Node) -> Result<Fix, String> {
    let statements = straight_line_statements(file, block)?;
    let returns = statements.last().is_some_and(|s| s.kind() == "return_statement");
    let assigned = assigned_names(file, block, &statements)?;
    if let Some(name) = block.file_name {
        // In the nested function the name is local: the header cannot read its earlier value
        // (`with open(f.name + ".bak") as f:`).
        let header_reads = syntax::find_first(block.statement, |n| {
            n.end_byte() <= block.body.start_byte()
                && n.kind() == "identifier"
                && file.text(n) == name
                && n.parent().is_some_and(|p| p.kind() != "as_pattern_target")
        });
        if header_reads.is_some() {
            return Err(format!("the `with` statement reads `{name}` before binding it"));
        }
        // Moved into the nested function, the name is no longer the coroutine's: any other use
        // of it in the coroutine would read something else.
        if used_before(file, block.statement, name) || used_after(file, block.statement, name) {
            return Err(format!("`{name}` is used outside the `with` block too"));
        }
    }
    let line_start = file.source[..block.statement.start_byte()].rfind('\n').map_or(0, |i| i + 1);
    let base = &file.source[line_start..block.statement.start_byte()];
    if !base.chars().all(|c| c == ' ' || c == '\t') {
        return Err("the `with` statement does not start its line".into());
    }
    let runner = to_thread::runner(file, open_call)?;
    let function = function_name(file, open_call);
    let newline = file.style.newline;
    let unit = &file.style.indent;
    let mut code = format!("def {function}():{newline}{base}{unit}");
    for (i, line) in file.source[block.statement.byte_range()].split('\n').enumerate() {
        if i > 0 {
            code.push('\n');
            if !line.trim().is_empty() {
                code.push_str(unit);
            }
        }
        code.push_str(line);
    }
    let results = assigned.join(", ");
    if !returns && !assigned.is_empty() {
        code.push_str(&format!("{newline}{base}{unit}return {results}"));
    }
    let target = match (returns, assigned.is_empty()) {
        (true, _) => "return ".to_string(),
        (false, true) => String::new(),
        (false, false) => format!("{results} = "),
    };
    code.push_str(&format!("{newline}{base}{target}await {}{function})", runner.opening));
    Ok(Fix {
        safety: Safety::Unsafe,
        edits: vec![Edit::replace(block.statement.byte_range(), code)],
        imports: runner.imports,
        helpers: Vec::new(),
    })
}

/// The block's statements, when it is straight-line code that may move into a plain function:
/// expression statements and plain assignments, a `return` only at the end; nothing that awaits,
/// yields, binds with `:=`, or spans lines inside a string (re-indenting would change it).
fn straight_line_statements<'t>(
    file: &FileContext<'_, 't>,
    block: &OpenBlock<'t>,
) -> Result<Vec<Node<'t>>, String> {
    let mut cursor = block.body.walk();
    let statements: Vec<Node> =
        block.body.named_children(&mut cursor).filter(|s| s.kind() != "comment").collect();
    for (i, statement) in statements.iter().enumerate() {
        let allowed = match statement.kind() {
            "expression_statement" | "pass_statement" => true,
            "return_statement" => i + 1 == statements.len(),
            _ => false,
        };
        if !allowed {
            return Err(format!(
                "the `with` block holds a `{}` statement",
                statement.kind().trim_end_matches("_statement")
            ));
        }
    }
    let forbidden = syntax::find_first(block.statement, |n| {
        matches!(n.kind(), "await" | "yield" | "named_expression" | "augmented_assignment")
            || (n.kind() == "string" && file.text(n).contains('\n'))
            || is_bare_super_call(file, n)
    });
    if let Some(node) = forbidden {
        let what = match node.kind() {
            "string" => "a string over several lines",
            "augmented_assignment" => "an augmented assignment (`+=`, ...), whose target would become local",
            "named_expression" => "an assignment expression (`:=`)",
            "yield" => "`yield`",
            "call" => "`super()` without arguments, which works only in the method itself",
            _ => "`await`",
        };
        return Err(format!("the `with` block holds {what}"));
    }
    Ok(statements)
}

/// Whether `node` is `super()` with no arguments: it finds its class and instance through the
/// method it is written in, and fails in a function nested there.
fn is_bare_super_call(file: &FileContext, node: Node) -> bool {
    node.kind() == "call"
        && node
            .child_by_field_name("function")
            .is_some_and(|f| f.kind() == "identifier" && file.text(f) == "super")
        && node.child_by_field_name("arguments").is_some_and(|a| a.named_child_count() == 0)
}

/// The names the block assigns, in order; each must be assigned before the block (its `with`
/// header included) reads it: in the nested function it becomes local.
fn assigned_names<'t>(
    file: &FileContext<'_, 't>,
    block: &OpenBlock<'t>,
    statements: &[Node<'t>],
) -> Result<Vec<&'t str>, String> {
    let mut names: Vec<&str> = Vec::new();
    for statement in statements {
        let mut assignment = statement.named_child(0).filter(|n| n.kind() == "assignment");
        while let Some(current) = assignment {
            let left = current.child_by_field_name("left").ok_or("an assignment without a target")?;
            let targets = syntax::descendants(left, |n| n.kind() == "identifier");
            let plain = matches!(left.kind(), "identifier" | "pattern_list" | "tuple_pattern")
                && targets.iter().all(|t| t.parent() == Some(left) || *t == left);
            if !plain {
                return Err("the `with` block assigns to an attribute, an item or a nested target".into());
            }
            for target in targets {
                let name = file.text(target);
                if names.contains(&name) {
                    continue;
                }
                // The `with` header counts: `with open(path) as f: path = f.read()` reads `path`
                // first, and in the nested function that read would fail (`path` is its local).
                let read_before = syntax::descendants(block.statement, |n| {
                    n.kind() == "identifier" && file.text(n) == name && n.start_byte() < current.end_byte()
                })
                .into_iter()
                .any(|n| !left.byte_range().contains(&n.start_byte()));
                if read_before || Some(name) == block.file_name {
                    return Err(format!("the `with` statement reads `{name}` before assigning it"));
                }
                names.push(name);
            }
            assignment = current.child_by_field_name("right").filter(|r| r.kind() == "assignment");
        }
    }
    Ok(names)
}

/// Whether `name` appears in the enclosing function (its parameters included) before `statement`.
fn used_before(file: &FileContext, statement: Node, name: &str) -> bool {
    let Some(function) =
        std::iter::successors(statement.parent(), |n| n.parent()).find(|n| n.kind() == "function_definition")
    else {
        return true;
    };
    // The function's own name is bound outside it: `async def f(path): with open(path) as f:`.
    let own_name = function.child_by_field_name("name");
    syntax::find_first(function, |n| {
        n.end_byte() <= statement.start_byte()
            && Some(n) != own_name
            && n.kind() == "identifier"
            && file.text(n) == name
            && !in_function_binding_it(file, n, function, name)
            && !in_other_block_binding_it(file, n, statement, name)
    })
    .is_some()
}

/// Whether `identifier` is the target of another `with ... as name:` statement of the function,
/// or sits in that statement's block: it binds or reads that statement's file, whether
/// `statement` moves into a nested function or not.
fn in_other_block_binding_it(file: &FileContext, identifier: Node, statement: Node, name: &str) -> bool {
    let encloses_statement =
        |with: &Node| with.start_byte() <= statement.start_byte() && statement.end_byte() <= with.end_byte();
    std::iter::successors(Some(identifier), |n| n.parent())
        .take_while(|n| !matches!(n.kind(), "function_definition" | "lambda"))
        .filter(|n| n.kind() == "with_statement" && !encloses_statement(n))
        .any(|with| {
            let target = syntax::find_first(with, |n| {
                n.kind() == "identifier"
                    && file.text(n) == name
                    && n.parent().is_some_and(|p| p.kind() == "as_pattern_target")
                    && std::iter::successors(n.parent(), |a| a.parent())
                        .find(|a| a.kind() == "with_statement")
                        == Some(with)
            });
            let in_body = with.child_by_field_name("body").is_some_and(|b| {
                b.start_byte() <= identifier.start_byte() && identifier.end_byte() <= b.end_byte()
            });
            target.is_some_and(|t| t == identifier || in_body)
        })
}

/// Whether `identifier` sits in a function nested in `outer` that binds `name` itself (a block
/// moved there by an earlier pass), so that it is not `outer`'s name.
fn in_function_binding_it(file: &FileContext, identifier: Node, outer: Node, name: &str) -> bool {
    std::iter::successors(identifier.parent(), |n| n.parent())
        .take_while(|n| *n != outer)
        .filter(|n| n.kind() == "function_definition")
        .any(|nested| {
            syntax::find_first(nested, |n| {
                n.kind() == "identifier"
                    && file.text(n) == name
                    && n.parent().is_some_and(|p| match p.kind() {
                        "as_pattern_target" => true,
                        "assignment" => p.child_by_field_name("left") == Some(n),
                        _ => false,
                    })
            })
            .is_some()
        })
}

/// Whether the enclosing function reads `name` after `statement`: its next occurrence is not a
/// rebinding (`with open(b) as f`, `f = ...`) that runs unconditionally right after.
fn used_after(file: &FileContext, statement: Node, name: &str) -> bool {
    let Some(function) =
        std::iter::successors(statement.parent(), |n| n.parent()).find(|n| n.kind() == "function_definition")
    else {
        return true;
    };
    let uses = syntax::descendants(function, |n| {
        n.start_byte() >= statement.end_byte() && n.kind() == "identifier" && file.text(n) == name
    });
    for used in uses {
        // A rebinding that always runs next (`with open(b) as f`, `f = ...` in the same block)
        // ends the reach of the file; uses in another `with ... as name:` block read that
        // block's file.
        let rebinding_statement = match used.parent().map(|p| p.kind()) {
            Some("as_pattern_target") => {
                std::iter::successors(used.parent(), |n| n.parent()).find(|n| n.kind() == "with_statement")
            }
            Some("assignment") if used.parent().and_then(|a| a.child_by_field_name("left")) == Some(used) => {
                used.parent().and_then(|a| a.parent()).filter(|s| s.kind() == "expression_statement")
            }
            _ => None,
        };
        if rebinding_statement.is_some_and(|rebinding| rebinding.parent() == statement.parent()) {
            return false;
        }
        if !in_other_block_binding_it(file, used, statement, name) {
            return true;
        }
    }
    false
}

/// `_read_file` or `_write_file` (after the mode), numbered when the file has the name already.
fn function_name(file: &FileContext, open_call: Node) -> String {
    let writes = open_call.child_by_field_name("arguments").is_some_and(|arguments| {
        let mut cursor = arguments.walk();
        let args: Vec<Node> = arguments.named_children(&mut cursor).collect();
        let mode = args.iter().find_map(|a| match a.kind() {
            "keyword_argument" => a
                .child_by_field_name("name")
                .filter(|n| file.text(*n) == "mode")
                .and_then(|_| a.child_by_field_name("value")),
            _ => None,
        });
        // `open(path, mode)`, `io.open(path, mode)`, but `path.open(mode)` (pathlib, zipfile).
        let module_function = open_call.child_by_field_name("function").is_none_or(|function| {
            function.kind() != "attribute"
                || function.child_by_field_name("object").is_some_and(|object| {
                    matches!(file.text(object), "io" | "codecs" | "builtins" | "gzip" | "bz2" | "lzma")
                })
        });
        let positional = if module_function { 1 } else { 0 };
        let mode = mode.or_else(|| args.get(positional).copied().filter(|a| a.kind() == "string"));
        mode.is_some_and(|m| file.text(m).contains(['w', 'a', 'x', '+']))
    });
    let stem = if writes { "_write_file" } else { "_read_file" };
    // Blocks of one coroutine rewritten in the same pass get distinct names: number them by the
    // `with` statements before them in the function.
    let statement =
        std::iter::successors(open_call.parent(), |n| n.parent()).find(|n| n.kind() == "with_statement");
    let function =
        std::iter::successors(open_call.parent(), |n| n.parent()).find(|n| n.kind() == "function_definition");
    let earlier = match (statement, function) {
        (Some(statement), Some(function)) => syntax::descendants(function, |n| {
            n.kind() == "with_statement" && n.start_byte() < statement.start_byte()
        })
        .len(),
        _ => 0,
    };
    let mut n = earlier + 1;
    let mut name = if n == 1 { stem.to_string() } else { format!("{stem}_{n}") };
    while crate::blocking::contains_word(file.source.as_bytes(), name.as_bytes()) {
        n += 1;
        name = format!("{stem}_{n}");
    }
    name
}
