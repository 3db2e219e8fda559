//! The GitHub Action (`action.yml`), this repository's workflows, the README's example workflow
//! and the pre-commit hooks, checked against GitHub's schemas with `check-jsonschema`.
//!
//! `ASYNCMOD_CHECK_JSONSCHEMA` names the `check-jsonschema` executable (scripts/test.sh installs a
//! pinned one into `.venv-test`). Unset, these tests are skipped with a message; set but not
//! runnable, they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

fn check_jsonschema() -> Option<PathBuf> {
    let Some(path) = std::env::var_os("ASYNCMOD_CHECK_JSONSCHEMA") else {
        eprintln!("ASYNCMOD_CHECK_JSONSCHEMA is unset: action and workflow validation skipped");
        return None;
    };
    let path = PathBuf::from(path);
    let version = Command::new(&path).arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "ASYNCMOD_CHECK_JSONSCHEMA={} does not run: {version:?}",
        path.display()
    );
    Some(path)
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validate(tool: &Path, schema: &str, file: &Path) -> Result<(), String> {
    let output = Command::new(tool).args(["--builtin-schema", schema]).arg(file).output().unwrap();
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}{}",
            file.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[test]
fn action_yml_matches_the_github_actions_schema() {
    let Some(tool) = check_jsonschema() else { return };
    validate(&tool, "vendor.github-actions", &root().join("action.yml")).unwrap();
    // The validator must catch a broken action, or the check above proves nothing.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("action.yml");
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    std::fs::write(&broken, text.replace("using: composite", "using: teleport")).unwrap();
    assert!(validate(&tool, "vendor.github-actions", &broken).is_err());
}

#[test]
fn workflows_match_the_github_workflows_schema() {
    let Some(tool) = check_jsonschema() else { return };
    let folder = root().join(".github/workflows");
    let mut count = 0;
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            validate(&tool, "vendor.github-workflows", &path).unwrap();
            count += 1;
        }
    }
    assert!(count >= 2, "the CI and the asyncmod workflows");
}

/// The README's example workflow sits between `<!-- example-workflow -->` markers.
#[test]
fn the_readme_example_workflow_matches_the_schema() {
    let Some(tool) = check_jsonschema() else { return };
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let (_, rest) = readme.split_once("<!-- example-workflow -->").expect("the README has the example");
    let (block, _) = rest.split_once("<!-- /example-workflow -->").expect("the example is closed");
    let yaml = block.trim().trim_start_matches("```yaml").trim_end_matches("```");
    assert!(yaml.contains("uses: "), "{yaml}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("example.yml");
    std::fs::write(&file, yaml).unwrap();
    validate(&tool, "vendor.github-workflows", &file).unwrap();
}

/// Every shell step of the action parses (`bash -n`); the YAML is read with the ruamel.yaml that
/// check-jsonschema brings, from the same virtual environment.
#[test]
fn the_action_shell_steps_parse() {
    let Some(tool) = check_jsonschema() else { return };
    let python = tool.with_file_name("python");
    let script = "import sys\nfrom ruamel.yaml import YAML\naction = YAML(typ='safe').load(open(sys.argv[1]))\n\
                  for step in action['runs']['steps']:\n    if 'run' in step:\n        \
                  sys.stdout.write(step['run'] + '\\0')\n";
    let output = Command::new(&python).args(["-c", script]).arg(root().join("action.yml")).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let steps: Vec<&str> = text.split('\0').filter(|s| !s.is_empty()).collect();
    assert!(steps.len() >= 5, "{steps:?}");
    for step in steps {
        let check = Command::new("bash").args(["-n", "-c", step]).output().unwrap();
        assert!(check.status.success(), "{step}\n{}", String::from_utf8_lossy(&check.stderr));
    }
}

#[test]
fn the_action_declares_the_documented_inputs_and_modes() {
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    for input in [
        "paths",
        "select",
        "mode",
        "unsafe-fixes",
        "fail-on-findings",
        "sarif-file",
        "version",
        "github-token",
    ] {
        assert!(action.contains(&format!("\n  {input}:\n")), "input {input}");
    }
    assert!(action.contains("annotate|suggest|commit|pull-request) ;;"), "the plan step checks the mode");
    let hooks = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    for (id, entry) in [("asyncmod-check", "asyncmod check"), ("asyncmod-fix", "asyncmod fix")] {
        assert!(hooks.contains(&format!("- id: {id}\n")), "{id}");
        assert!(hooks.contains(&format!("entry: {entry}")), "{entry}");
    }
}
