//! Runs every example of every `transforms/*.toml` definition through the engine: `before`
//! becomes exactly `after` (and a second run changes nothing), and `leave_alone` code stays as
//! it is. The docs printed by `asyncmod explain` therefore cannot drift from behaviour.

use std::path::Path;

use asyncmod::config::{Settings, parse_target};
use asyncmod::definitions;
use asyncmod::engine;
use asyncmod::transforms;

fn settings_for(id: &str, args: &[String]) -> Settings {
    let mut settings = Settings::default();
    let mut extra = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--unsafe-fixes" => settings.unsafe_fixes = true,
            "--prefer" => extra.push(iter.next().expect("--prefer takes a value").clone()),
            "--gather-same-receiver" => settings.gather_same_receiver = true,
            "--max-concurrency" => {
                let limit = iter.next().expect("--max-concurrency takes a value");
                settings.max_concurrency = Some(limit.parse().expect("--max-concurrency takes a number"))
            }
            "--target-version" => {
                settings.target = parse_target(iter.next().expect("--target-version takes a value")).unwrap()
            }
            other => panic!("example argument `{other}` is not supported by this test"),
        }
    }
    settings.set_prefer(&extra).unwrap();
    settings.select(&[id.to_string()], &[], &[]).unwrap();
    settings
}

fn fix(id: &str, args: &[String], source: &str) -> String {
    let settings = settings_for(id, args);
    let enabled = transforms::enabled(&settings);
    let outcome = engine::fix(Path::new("example.py"), source, &settings, &enabled)
        .unwrap_or_else(|e| panic!("{id}: example does not parse: {e:?}"));
    outcome.fixed.unwrap_or_else(|| source.to_string())
}

#[test]
fn examples_rewrite_exactly_as_documented() {
    // Every mismatch is listed, with the whole output, so that one run shows them all.
    let mut mismatches = Vec::new();
    for definition in definitions::all() {
        assert!(!definition.examples.is_empty(), "{} has no examples", definition.id);
        for example in &definition.examples {
            let before = example.before.trim_start_matches('\n');
            let after = example.after.trim_start_matches('\n');
            let fixed = fix(&definition.id, &example.args, before);
            if fixed != after {
                mismatches.push(format!(
                    "{}: example `{}` gives\n{fixed}\n--- documented ---\n{after}",
                    definition.id, example.name
                ));
                continue;
            }
            assert_eq!(
                fix(&definition.id, &example.args, &fixed),
                fixed,
                "{}: `{}` is not idempotent",
                definition.id,
                example.name
            );
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n=====\n"));
}

/// The findings of every example whose `before` is its `after`, as `line:column: id`: such an
/// example checks nothing by its text (an engine that finds nothing leaves every text as it is),
/// so what it documents is asserted here. Each is (transform, example name, findings).
const UNCHANGED_EXAMPLES: &[(&str, &str, &[&str])] = &[
    ("cpu-bound", "nothing is rewritten: the finding advises", &["6:12: cpu-bound"]),
    // The results are checked with isinstance: nothing to report.
    ("gather-exceptions", "a checked result list is not reported", &[]),
];

#[test]
fn examples_that_change_nothing_have_their_findings_asserted() {
    let mut seen = Vec::new();
    for definition in definitions::all() {
        for example in &definition.examples {
            let before = example.before.trim_start_matches('\n');
            if before != example.after.trim_start_matches('\n') {
                continue;
            }
            let key = (definition.id.as_str(), example.name.as_str());
            let Some((_, _, expected)) = UNCHANGED_EXAMPLES.iter().find(|(id, name, _)| (*id, *name) == key)
            else {
                panic!("{key:?}: before == after; add its findings to UNCHANGED_EXAMPLES");
            };
            let settings = settings_for(&definition.id, &example.args);
            let findings =
                engine::analyze(Path::new("example.py"), before, &settings, &transforms::enabled(&settings))
                    .unwrap();
            let found: Vec<String> = engine::report(before, &findings, &settings)
                .iter()
                .map(|f| format!("{}:{}: {}", f.line, f.column, f.transform))
                .collect();
            assert_eq!(found, *expected, "{key:?}");
            seen.push(key);
        }
    }
    let stale: Vec<_> =
        UNCHANGED_EXAMPLES.iter().filter(|(id, name, _)| !seen.contains(&(*id, *name))).collect();
    assert!(stale.is_empty(), "no longer examples whose before == after: {stale:?}");
}

#[test]
fn leave_alone_cases_are_left_alone() {
    for definition in definitions::all() {
        assert!(!definition.leave_alone.is_empty(), "{} has no leave-alone cases", definition.id);
        for case in &definition.leave_alone {
            let code = case.code.trim_start_matches('\n');
            assert_eq!(
                fix(&definition.id, &case.args, code),
                code,
                "{}: `{}` was rewritten",
                definition.id,
                case.name
            );
            let settings = settings_for(&definition.id, &case.args);
            let findings =
                engine::analyze(Path::new("case.py"), code, &settings, &transforms::enabled(&settings))
                    .unwrap();
            if case.reported {
                assert!(!findings.is_empty(), "{}: `{}` should be reported", definition.id, case.name);
                assert!(
                    findings.iter().all(|f| f.fix.is_none()),
                    "{}: `{}` should have no fix",
                    definition.id,
                    case.name
                );
            } else {
                assert!(
                    findings.is_empty(),
                    "{}: `{}` should not be reported: {findings:?}",
                    definition.id,
                    case.name
                );
            }
        }
    }
}

#[test]
fn every_transform_has_a_definition_and_explain_renders() {
    for transform in transforms::all() {
        let definition = definitions::get(transform.id()).expect("definition exists");
        let text = definitions::explain(definition);
        assert!(text.contains("## Why is this bad?"), "{text}");
    }
    assert_eq!(transforms::all().len(), definitions::all().len());
}
