//! Parsing only the statements that can hold a finding (`asyncmod::slice`) must find and fix
//! exactly what parsing the whole file does. Every fixture is grown past the size where slicing
//! starts, in three ways — with unrelated code, with module-level code that rebinds the names
//! the fixture uses, and with a class whose methods read what the fixture defines — and analysed
//! and fixed both ways, with its own transform and with the default set.

mod common;

use std::path::Path;
use std::process::Command;

use asyncmod::config::Settings;
use asyncmod::engine::{self, Parsing};
use asyncmod::slice;
use asyncmod::source::SourceFile;
use asyncmod::transforms;
use common::{apply_fixture_args, fixtures};

/// Plain functions and a class that mention nothing async: slicing leaves them out.
fn unrelated(newline: &str) -> String {
    let mut code = String::new();
    for i in 0..60 {
        code.push_str(&format!(
            "def unrelated_{i}(value, other=None):{newline}    total = value * {i}{newline}    return total + (other or 0){newline}{newline}"
        ));
    }
    code.push_str(&format!("class Unrelated:{newline}    limit = 3{newline}{newline}"));
    for i in 0..20 {
        code.push_str(&format!(
            "    def method_{i}(self):{newline}        return self.limit + {i}{newline}{newline}"
        ));
    }
    code
}

/// Module-level code that rebinds the names the fixture's code uses (`time`, `sleep`, `session`,
/// ...), in the shapes the slicer must recognise as bindings.
fn rebinding(source: &str, newline: &str) -> String {
    let mut names: Vec<&str> = source
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_'))
        .filter(|w| !is_keyword(w))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut code = String::new();
    for (i, name) in names.iter().enumerate() {
        code.push_str(&match i % 6 {
            0 => format!("{name} = None{newline}"),
            1 => format!("def {name}(*args, **kwargs):{newline}    return None{newline}"),
            2 => format!("for {name} in ():{newline}    pass{newline}"),
            3 => format!("try:{newline}    import {name}{newline}except ImportError:{newline}    {name} = None{newline}"),
            4 => format!("class {name}:{newline}    pass{newline}"),
            _ => format!("{name}: object{newline}"),
        });
    }
    code
}

/// A class whose methods read the fixture's names through `self` and call them bare.
fn readers(source: &str, newline: &str) -> String {
    let mut code = format!("class Readers:{newline}    def __init__(self):{newline}");
    let words: Vec<&str> = source
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_'))
        .filter(|w| !is_keyword(w))
        .take(40)
        .collect();
    for word in &words {
        code.push_str(&format!("        self.{word} = {word}{newline}"));
    }
    code.push_str(&format!("{newline}    def use(self):{newline}"));
    for word in &words {
        code.push_str(&format!("        {word}(self.{word}){newline}"));
    }
    code
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "False"
            | "None"
            | "True"
            | "and"
            | "as"
            | "assert"
            | "async"
            | "await"
            | "break"
            | "class"
            | "continue"
            | "def"
            | "del"
            | "elif"
            | "else"
            | "except"
            | "finally"
            | "for"
            | "from"
            | "global"
            | "if"
            | "import"
            | "in"
            | "is"
            | "lambda"
            | "nonlocal"
            | "not"
            | "or"
            | "pass"
            | "raise"
            | "return"
            | "try"
            | "while"
            | "with"
            | "yield"
            | "match"
            | "case"
            | "type"
            | "print"
            | "exec"
    )
}

fn fixture_settings(text: &str) -> Settings {
    let mut settings = Settings { unsafe_fixes: true, ..Settings::default() };
    apply_fixture_args(text, &mut settings);
    settings
}

/// Findings and fixes of `source`, parsed as `parsing` says, as comparable text.
fn outcome(path: &Path, source: &str, settings: &Settings, parsing: Parsing) -> String {
    let enabled = transforms::enabled(settings);
    let job = engine::Job::new(path, settings, &enabled).parsing(parsing);
    let findings = job.analyze(source);
    let fixed = job.fix(source);
    format!("{findings:#?}\n{fixed:#?}")
}

#[test]
fn sliced_parsing_finds_and_fixes_what_whole_parsing_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (mut compared, mut sliced) = (0, 0);
    let mut mismatches = Vec::new();
    for transform in transforms::all() {
        let mut files = Vec::new();
        fixtures(&root.join(transform.id()), &mut files);
        for path in files {
            let Ok(file) = SourceFile::read(&path) else { continue };
            let newline = if file.text.contains("\r\n") { "\r\n" } else { "\n" };
            let separated = |extra: String| {
                let text = &file.text;
                let gap = if text.is_empty() || text.ends_with('\n') {
                    newline.to_string()
                } else {
                    format!("{newline}{newline}")
                };
                format!("{text}{gap}{extra}")
            };
            let variants = [
                separated(unrelated(newline)),
                separated(format!("{}{}", unrelated(newline), rebinding(&file.text, newline))),
                separated(format!("{}{}", readers(&file.text, newline), unrelated(newline))),
            ];
            let own = {
                let mut settings = fixture_settings(&file.text);
                settings.select(&[transform.id().to_string()], &[], &[]).unwrap();
                settings
            };
            let default = fixture_settings(&file.text);
            for (variant, source) in variants.iter().enumerate() {
                for settings in [&own, &default] {
                    let enabled = transforms::enabled(settings);
                    if slice::plan(source, &enabled, None).is_some() {
                        sliced += 1;
                    }
                    let whole = outcome(&path, source, settings, Parsing::Whole);
                    let slices = outcome(&path, source, settings, Parsing::Slices);
                    compared += 1;
                    if whole != slices {
                        mismatches.push(format!(
                            "{} (variant {variant}, {}):\n--- whole ---\n{whole}\n--- sliced ---\n{slices}",
                            path.display(),
                            if std::ptr::eq(settings, &own) { transform.id() } else { "default set" }
                        ));
                    }
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{} of {compared} differ:\n{}", mismatches.len(), mismatches.join("\n\n"));
    // The comparison means something only if most variants were in fact sliced.
    assert!(sliced * 2 > compared, "only {sliced} of {compared} variants were sliced");
}

/// The indentation unit read from the token scan is the one read from the tree, for every
/// fixture and, with `ASYNCMOD_STYLE_CORPUS=DIR`, every `.py` file under DIR.
#[test]
fn token_scan_reads_the_indentation_unit_the_tree_does() {
    let mut files = Vec::new();
    fixtures(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"), &mut files);
    if let Some(dir) = std::env::var_os("ASYNCMOD_STYLE_CORPUS") {
        fixtures(Path::new(&dir), &mut files);
    }
    let mut differ = Vec::new();
    for path in &files {
        let Ok(file) = SourceFile::read(path) else { continue };
        let tree = asyncmod::syntax::parse(&file.text);
        if tree.root_node().has_error() {
            continue;
        }
        let from_tree = asyncmod::source::Style::detect_in(&file.text, tree.root_node()).indent;
        let Some(unit) = slice::indent_unit(&file.text) else { continue };
        let from_tokens = unit.unwrap_or_else(|| asyncmod::source::Style::detect(&file.text).indent);
        if from_tree != from_tokens {
            differ.push(format!("{}: tree {from_tree:?}, tokens {from_tokens:?}", path.display()));
        }
    }
    assert!(differ.is_empty(), "{} of {} differ:\n{}", differ.len(), files.len(), differ.join("\n"));
}

/// A project whose modules are large enough to be sliced, both where they are analysed and where
/// the project index summarises them: the binary's `check` and `diff` must print the same with
/// `ASYNCMOD_PARSE_WHOLE=1`, and find what the modules hold.
#[test]
fn a_sliced_project_reports_and_fixes_what_a_whole_one_does() {
    let padding = unrelated("\n");
    let jobs = format!(
        "import time\n\n\nasync def notify(user):\n    print(user)\n\n\ndef load(path):\n    time.sleep(0.1)\n    return path\n\n\n{padding}"
    );
    let util = format!(
        "from .jobs import *\nfrom .jobs import load as fetch\n\n\n{padding}def wrapped(p):\n    return fetch(p)\n"
    );
    let main = format!(
        "from pkg import jobs, util\nfrom pkg.jobs import *\nfrom pkg.jobs import notify\n\n\n{padding}\
         def start():\n    jobs.notify(\"a\")\n    notify(\"b\")\n    asyncio.sleep(1)\n\n\n\
         async def main():\n    data = util.wrapped(\"x\")\n    jobs.notify(\"c\")\n    return data\n"
    );
    let dir = common::tree(&[
        ("app/main.py", main.as_bytes()),
        ("app/pkg/__init__.py", b""),
        ("app/pkg/jobs.py", jobs.as_bytes()),
        ("app/pkg/util.py", util.as_bytes()),
    ]);
    let run = |args: &[&str], whole: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_asyncmod"));
        command.args(args).current_dir(dir.path()).env("NO_COLOR", "1");
        if whole {
            command.env("ASYNCMOD_PARSE_WHOLE", "1");
        }
        let output = command.output().expect("the binary runs");
        format!("{}{}", common::stdout(&output), common::stderr(&output))
    };
    for args in [&["check", "--unsafe-fixes", "app"][..], &["diff", "--unsafe-fixes", "app"]] {
        let (sliced, whole) = (run(args, false), run(args, true));
        assert_eq!(sliced, whole, "asyncmod {args:?}");
    }
    let check = run(&["check", "app"], false);
    for expected in [
        "main.py:310:5: missing-await `jobs.notify(...)`",
        "main.py:311:5: missing-await `notify(...)`",
        "main.py:316:12: blocking-helper `util.wrapped(...)`",
        "main.py:317:5: missing-await `jobs.notify(...)`",
    ] {
        assert!(check.contains(expected), "missing {expected}:\n{check}");
    }
}
