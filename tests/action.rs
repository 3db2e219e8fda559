//! The GitHub Action (`action.yml`), this repository's workflows, the README's example workflow
//! and the pre-commit hooks, checked against GitHub's schemas with `check-jsonschema`.
//!
//! `ASYNCMOD_CHECK_JSONSCHEMA` names the `check-jsonschema` executable (scripts/test.sh installs a
//! pinned one into `.venv-test`). Unset, these tests are skipped with a message (they fail when
//! `ASYNCMOD_REQUIRE_TOOLS=1`, as in CI); set but not runnable, they fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn check_jsonschema() -> Option<PathBuf> {
    common::tool_from_env("ASYNCMOD_CHECK_JSONSCHEMA", &["--version"])
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

/// The action's steps as (name, run script), read with the ruamel.yaml of check-jsonschema's venv.
fn action_steps(tool: &Path) -> Vec<(String, String)> {
    let python = tool.with_file_name("python");
    let script = "import json, sys\nfrom ruamel.yaml import YAML\naction = YAML(typ='safe').load(open(sys.argv[1]))\n\
                  print(json.dumps([[s.get('name', ''), s.get('run', '')] for s in action['runs']['steps']]))\n";
    let output = Command::new(&python).args(["-c", script]).arg(root().join("action.yml")).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Runs one shell step as GitHub does (`bash -e -o pipefail`), with `env` and the runner's files
/// in `work`; returns its exit code, stdout and what it wrote to `$GITHUB_OUTPUT`.
fn run_step(script: &str, env: &[(&str, &str)], cwd: &Path, work: &Path) -> (i32, String, String) {
    let output_file = work.join("github_output");
    std::fs::write(&output_file, "").unwrap();
    let output = Command::new("bash")
        .args(["--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script])
        .current_dir(cwd)
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", work.join("summary.md"))
        .env("RUNNER_TEMP", work)
        .env("GITHUB_REPOSITORY", "owner/repo")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let code = output.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        code == 0 || !output.stderr.is_empty() || stdout.contains("::error"),
        "exit {code} without a word"
    );
    (code, stdout, std::fs::read_to_string(&output_file).unwrap())
}

fn step<'a>(steps: &'a [(String, String)], name: &str) -> &'a str {
    &steps.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no step {name}")).1
}

#[test]
fn the_plan_step_falls_back_to_annotate_where_it_cannot_post() {
    let Some(tool) = check_jsonschema() else { return };
    let steps = action_steps(&tool);
    let plan = step(&steps, "Plan");
    let work = tempfile::tempdir().unwrap();
    let run = |mode: &str, event: &str, head: &str| {
        run_step(
            plan,
            &[("MODE", mode), ("EVENT", event), ("HEAD_REPO", head), ("BASE_REPO", "owner/repo")],
            work.path(),
            work.path(),
        )
    };
    assert_eq!(run("suggest", "pull_request", "owner/repo").2, "mode=suggest\nis-pr=true\n");
    let (code, stdout, outputs) = run("suggest", "pull_request", "fork/repo");
    assert_eq!((code, outputs.as_str()), (0, "mode=annotate\nis-pr=true\n"));
    assert!(stdout.contains("::notice") && stdout.contains("read-only"), "{stdout}");
    assert_eq!(run("commit", "push", "").2, "mode=annotate\nis-pr=false\n");
    assert_eq!(run("pull-request", "schedule", "").2, "mode=pull-request\nis-pr=false\n");
    let (code, stdout, _) = run("everything", "pull_request", "owner/repo");
    assert_eq!(code, 1);
    assert!(stdout.contains("::error"), "{stdout}");
}

/// The check step on a pull-request-like repository, in suggest mode, with a fake `gh` that
/// records what it would post.
#[test]
fn the_check_step_annotates_summarises_and_posts_the_review() {
    let Some(tool) = check_jsonschema() else { return };
    let steps = action_steps(&tool);
    let check = step(&steps, "Check");
    let repo = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(
        repo.path().join("old.py"),
        "import asyncio, time\n\n\nasync def old():\n    time.sleep(1)\n",
    )
    .unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    let base = git(&["rev-parse", "HEAD"]);
    std::fs::write(
        repo.path().join("new.py"),
        "import asyncio, time\n\n\nasync def new():\n    time.sleep(2)\n",
    )
    .unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "pull request"]);

    let fake_bin = work.path().join("bin");
    std::fs::create_dir(&fake_bin).unwrap();
    let gh = fake_bin.join("gh");
    let record = work.path().join("gh-call");
    std::fs::write(
        &gh,
        format!(
            "#!/bin/bash\necho \"$@\" > '{0}.args'\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --input ]; then cp \"$2\" '{0}.json'; fi; shift; done\n",
            record.display()
        ),
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&gh).status().unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_asyncmod")).parent().unwrap();
    let path =
        format!("{}:{}:{}", fake_bin.display(), binary.display(), std::env::var("PATH").unwrap_or_default());
    let env = [
        ("PATH", path.as_str()),
        ("MODE", "suggest"),
        ("IS_PR", "true"),
        ("PATHS", "."),
        ("SELECT", ""),
        ("UNSAFE", "false"),
        ("SARIF", ""),
        ("BASE_SHA", base.as_str()),
        ("PR_NUMBER", "7"),
        ("GH_TOKEN", "unused"),
    ];
    let (code, stdout, outputs) = run_step(check, &env, repo.path(), work.path());
    assert_eq!(code, 0, "{stdout}");
    // Only the pull request's finding is annotated.
    assert!(stdout.starts_with("::error file=new.py,line=5,"), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert_eq!(outputs, "findings=true\n");
    let summary = std::fs::read_to_string(work.path().join("summary.md")).unwrap();
    assert!(summary.contains("`new.py:5:5`") && !summary.contains("old.py"), "{summary}");
    let args = std::fs::read_to_string(work.path().join("gh-call.args")).unwrap();
    assert!(args.starts_with("api --method POST repos/owner/repo/pulls/7/reviews --input "), "{args}");
    let review: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("gh-call.json")).unwrap()).unwrap();
    assert_eq!(review["commit_id"], git(&["rev-parse", "HEAD"]));
    let comments = review["comments"].as_array().unwrap();
    assert!(comments.iter().all(|c| c["path"] == "new.py"), "{review:#}");
    assert!(
        comments.iter().any(|c| c["body"].as_str().unwrap().contains("await asyncio.sleep(2)")),
        "{review:#}"
    );
}

/// The fix step in `commit` and `pull-request` modes, pushing to a local bare repository as
/// `origin`, with a fake `gh`.
#[test]
fn the_fix_step_pushes_the_fixes() {
    let Some(tool) = check_jsonschema() else { return };
    let steps = action_steps(&tool);
    let fix = step(&steps, "Fix");
    for mode in ["commit", "pull-request"] {
        let work = tempfile::tempdir().unwrap();
        let origin = work.path().join("origin.git");
        let clone = work.path().join("clone");
        let git = |dir: &Path, args: &[&str]| {
            let output = Command::new("git")
                .args([
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@example.invalid",
                    "-c",
                    "commit.gpgsign=false",
                ])
                .args(args)
                .current_dir(dir)
                .output()
                .unwrap();
            assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        };
        git(work.path(), &["init", "-q", "--bare", "-b", "main", "origin.git"]);
        git(work.path(), &["clone", "-q", origin.to_str().unwrap(), "clone"]);
        std::fs::write(clone.join("poll.py"), BLOCKING).unwrap();
        git(&clone, &["add", "-A"]);
        git(&clone, &["commit", "-q", "-m", "blocking"]);
        git(&clone, &["push", "-q", "origin", "HEAD:refs/heads/feature"]);
        git(&clone, &["push", "-q", "origin", "HEAD:refs/heads/main"]);

        let fake_bin = work.path().join("bin");
        std::fs::create_dir(&fake_bin).unwrap();
        let record = work.path().join("gh-args");
        std::fs::write(fake_bin.join("gh"), format!("#!/bin/bash\necho \"$@\" > '{}'\n", record.display()))
            .unwrap();
        Command::new("chmod").arg("+x").arg(fake_bin.join("gh")).status().unwrap();
        let binary = Path::new(env!("CARGO_BIN_EXE_asyncmod")).parent().unwrap();
        let path = format!(
            "{}:{}:{}",
            fake_bin.display(),
            binary.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let env = [
            ("PATH", path.as_str()),
            ("MODE", mode),
            ("PATHS", "."),
            ("SELECT", ""),
            ("UNSAFE", "false"),
            ("HEAD_REF", "feature"),
            ("IS_PR", "false"),
            ("BASE_SHA", ""),
            ("FINDINGS", "true"),
            ("GH_TOKEN", "t"),
            ("TOKEN", "t"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_SERVER_URL", "https://github.example"),
        ];
        let (code, stdout, outputs) = run_step(fix, &env, &clone, work.path());
        assert_eq!(code, 0, "{mode}: {stdout}");
        assert_eq!(outputs, "changed=true\nremaining=false\n", "{mode}");
        let branch = if mode == "commit" { "feature" } else { "asyncmod/fixes-42" };
        let pushed = git(&origin, &["show", &format!("{branch}:poll.py")]);
        assert_eq!(format!("{pushed}\n"), FIXED, "{mode}");
        assert_eq!(git(&origin, &["log", "-1", "--format=%s", branch]), "asyncmod fix");
        if mode == "pull-request" {
            let args = std::fs::read_to_string(&record).unwrap();
            assert!(args.starts_with("pr create --head asyncmod/fixes-42 --base main "), "{args}");
        } else {
            assert!(!record.exists(), "commit mode opens no pull request");
        }
    }
}

/// A coroutine blocking on `time.sleep`, and what `fix` makes of it (as in tests/common).
const BLOCKING: &str = "import asyncio, time\n\n\nasync def poll():\n    time.sleep(1)\n";
const FIXED: &str = "import asyncio\n\n\nasync def poll():\n    await asyncio.sleep(1)\n";
