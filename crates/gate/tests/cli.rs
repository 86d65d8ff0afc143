//! End-to-end tests of the `gate` binary: verdicts and exit codes on real reports, every
//! kind of bad input (exit 2), the GitHub and SARIF outputs, `gate run`, `gate hook` and
//! `gate init`. Each test builds a small project in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn advisory_db() -> PathBuf {
    std::env::var_os("GATE_ADVISORY_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/rustsec-advisory-db")
        })
}

fn gate_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gate"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run gate");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn gate(dir: &Path, args: &[&str]) -> Output {
    gate_with(dir, args, &[])
}

/// A project holding the tiny Python package and its real reports.
fn python_project(config: &str) -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    std::fs::create_dir_all(root.join("calc")).unwrap();
    for file in [
        "calc/__init__.py",
        "calc/shell.py",
        "coverage.xml",
        "coverage.lcov",
        "bandit.json",
        "bandit.sarif",
    ] {
        std::fs::copy(fixtures().join("python").join(file), root.join(file)).unwrap();
    }
    std::fs::write(root.join("gate.toml"), config).unwrap();
    directory
}

fn check_error(project: &Path, args: &[&str], expected: &[&str]) {
    let output = gate(project, args);
    assert_eq!(
        output.code, 2,
        "{args:?}\nstdout: {}\nstderr: {}",
        output.stdout, output.stderr
    );
    assert!(output.stderr.starts_with("error: "), "{}", output.stderr);
    for text in expected {
        assert!(
            output.stderr.contains(text),
            "{args:?}: `{text}` not in\n{}",
            output.stderr
        );
    }
    assert!(!output.stderr.contains("panicked"), "{}", output.stderr);
}

#[test]
fn coverage_above_the_threshold_passes() {
    let project = python_project(
        "[coverage]\nmin_lines = 45\n[reports]\nfiles = [{ path = \"coverage.xml\" }]\n",
    );
    let output = gate(project.path(), &["check"]);
    assert_eq!(output.code, 0, "{}{}", output.stdout, output.stderr);
    assert!(output.stdout.contains("gate: PASSED"), "{}", output.stdout);
    assert!(output.stdout.contains("47.8% (11/23)"), "{}", output.stdout);
    // The report says /tmp/pyfix/calc/shell.py; the file on disk makes it calc/shell.py.
    assert!(output.stdout.contains("calc/shell.py"), "{}", output.stdout);
}

#[test]
fn coverage_below_the_threshold_fails_and_names_the_worst_files() {
    let project = python_project(
        "[coverage]\nmin_lines = 60\nmin_branches = 40\n[reports]\nfiles = [{ path = \"coverage.lcov\" }]\n",
    );
    let output = gate(project.path(), &["check"]);
    assert_eq!(output.code, 1, "{}{}", output.stdout, output.stderr);
    assert!(
        output.stdout.contains("gate: FAILED (1 of 2 rules failed)"),
        "{}",
        output.stdout
    );
    let worst = output.stdout.split("least covered files:").nth(1).unwrap();
    let first = worst.trim_start().lines().next().unwrap();
    assert_eq!(
        first.split_whitespace().collect::<Vec<_>>()[..3],
        ["0.0%", "(0/6)", "calc/shell.py"],
        "{worst}"
    );

    let json = gate(project.path(), &["check", "--json"]);
    assert_eq!(json.code, 1);
    let verdict: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(verdict["passed"], false);
    assert_eq!(verdict["rules"][0]["rule"], "coverage.lines");
    assert_eq!(verdict["rules"][0]["passed"], false);
    assert_eq!(verdict["rules"][1]["rule"], "coverage.branches");
    assert_eq!(verdict["rules"][1]["passed"], true);
    assert_eq!(verdict["totals"]["lines"]["covered"], 11);
}

#[test]
fn per_path_thresholds_and_quiet_output() {
    let project = python_project(
        "[coverage]\nmin_lines = 10\n[[coverage.paths]]\nglob = \"calc/shell.py\"\nmin_lines = 50\n[reports]\nfiles = [{ path = \"coverage.xml\" }]\n",
    );
    let output = gate(project.path(), &["check", "-q"]);
    assert_eq!(output.code, 1);
    assert!(
        output.stdout.contains("coverage.paths[calc/shell.py]"),
        "{}",
        output.stdout
    );
    assert!(
        !output.stdout.contains("coverage.lines"),
        "quiet lists failing rules only:\n{}",
        output.stdout
    );
}

#[test]
fn security_findings_fail_by_severity_and_allow_entries_expire() {
    let base = "[security]\nfail_on = \"high\"\n[reports]\nfiles = [{ path = \"bandit.json\" }]\n";
    let project = python_project(base);
    let output = gate(project.path(), &["check"]);
    assert_eq!(output.code, 1, "{}", output.stdout);
    assert!(
        output.stdout.contains("security.findings"),
        "{}",
        output.stdout
    );
    assert!(output.stdout.contains("B602"), "{}", output.stdout);

    let allowed = format!(
        "{base}[[security.allow]]\nid = \"B602\"\nreason = \"input is a constant\"\nexpires = \"2999-01-01\"\n[[security.allow]]\nid = \"CWE-327\"\nreason = \"md5 is a cache key, not a signature\"\nexpires = 2999-01-01\n"
    );
    let project = python_project(&allowed);
    let output = gate(project.path(), &["check"]);
    assert_eq!(output.code, 0, "{}{}", output.stdout, output.stderr);

    let expired = allowed.replace("2999-01-01\"", "2020-01-01\"");
    let project = python_project(&expired);
    let output = gate(project.path(), &["check"]);
    assert_eq!(output.code, 1, "{}", output.stdout);
    assert!(
        output.stdout.contains("security.allow[B602]"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("expired 2020-01-01"),
        "{}",
        output.stdout
    );
}

#[test]
fn github_annotations_are_escaped_and_capped_and_the_summary_is_appended() {
    // 15 high-severity findings whose messages need escaping.
    let results: Vec<serde_json::Value> = (1..=15)
        .map(|line| {
            serde_json::json!({
                "filename": "calc/shell.py", "line_number": line, "test_id": "B602", "test_name": "subprocess_popen_with_shell_equals_true",
                "issue_severity": "HIGH", "issue_confidence": "HIGH", "issue_text": "100% bad,\nreally: yes"
            })
        })
        .collect();
    let bandit = serde_json::json!({ "results": results, "errors": [], "metrics": {}, "generated_at": "2024-01-01T00:00:00Z" });
    let project = python_project(
        "[coverage]\nmin_lines = 90\n[reports]\nfiles = [{ path = \"coverage.xml\" }, { path = \"many.json\", format = \"bandit\" }]\n",
    );
    std::fs::write(project.path().join("many.json"), bandit.to_string()).unwrap();
    let summary = project.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let output = gate_with(
        project.path(),
        &["check"],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    assert_eq!(output.code, 1);
    let errors: Vec<&str> = output
        .stdout
        .lines()
        .filter(|line| line.starts_with("::error"))
        .collect();
    let warnings: Vec<&str> = output
        .stdout
        .lines()
        .filter(|line| line.starts_with("::warning"))
        .collect();
    assert_eq!(errors.len(), 10, "{}", output.stdout);
    assert!(warnings.len() <= 10);
    assert!(errors[0].starts_with("::error title=gate%3A coverage.lines::coverage.lines is 47.8%25 (11/23), needs >= 90%25"), "{}", errors[0]);
    assert!(
        errors.contains(&"::error file=calc/shell.py,line=1,title=bandit B602 (high)::100%25 bad,%0Areally: yes (subprocess_popen_with_shell_equals_true)"),
        "{errors:#?}"
    );
    let notice = output
        .stdout
        .lines()
        .find(|line| line.starts_with("::notice"))
        .expect("a notice summarises the rest");
    // Two failing rules and 15 failing findings: 17 errors, 10 shown.
    assert!(notice.contains("7 more errors"), "{notice}");
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.starts_with("earlier step\n## gate: failed"),
        "{summary}"
    );
    assert!(
        summary.contains("| `coverage.lines` | 47.8% (11/23) | >= 90% | **FAIL** |"),
        "{summary}"
    );
}

#[test]
fn sarif_output_round_trips_through_the_sarif_reader() {
    let project = python_project(
        "[security]\nfail_on = \"medium\"\n[reports]\nfiles = [{ path = \"bandit.sarif\" }]\n",
    );
    let output = gate(project.path(), &["check", "--sarif", "out.sarif"]);
    assert_eq!(output.code, 1, "{}{}", output.stdout, output.stderr);
    let bytes = std::fs::read(project.path().join("out.sarif")).unwrap();
    assert_eq!(gate::report::detect(&bytes), Some(gate::Format::Sarif));
    let gate::Report::Findings(findings) = gate::report::read(&bytes, None).unwrap() else {
        panic!("findings")
    };
    assert_eq!(findings.len(), 3);
    assert!(
        findings
            .iter()
            .all(|f| f.tool == "gate" && f.path.as_deref() == Some("calc/shell.py"))
    );
}

#[test]
fn the_builtin_audit_fails_on_vulnerable_lockfiles() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("rust-vulnerable/Cargo.lock"),
        directory.path().join("Cargo.lock"),
    )
    .unwrap();
    let db = advisory_db();
    let output = gate(
        directory.path(),
        &[
            "check",
            "--lockfile",
            "Cargo.lock",
            "--advisory-db",
            db.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(output.code, 1, "{}", output.stderr);
    let verdict: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let failing: Vec<&str> = verdict["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fails")
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(failing.len(), 3, "{failing:?}");
    assert!(failing.contains(&"RUSTSEC-2020-0071"));
    let time = verdict["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "RUSTSEC-2020-0071")
        .unwrap();
    assert_eq!(time["path"], "Cargo.lock");
    assert!(time["line"].as_u64().unwrap() > 1);
    let warnings = verdict["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "warning")
        .count();
    assert_eq!(warnings, 6);

    std::fs::write(
        directory.path().join("gate.toml"),
        "[audit]\ninformational = \"deny\"\n",
    )
    .unwrap();
    let output = gate(
        directory.path(),
        &[
            "check",
            "--lockfile",
            "Cargo.lock",
            "--advisory-db",
            db.to_str().unwrap(),
        ],
    );
    assert!(
        output.stdout.contains("audit.informational"),
        "{}",
        output.stdout
    );
}

#[test]
fn inputs_it_cannot_read_exit_2_with_a_precise_message() {
    let project = python_project("[coverage]\nmin_lines = 60\n");
    let root = project.path();
    std::fs::write(root.join("empty.info"), "  \n").unwrap();
    std::fs::write(
        root.join("garbled.info"),
        "SF:a.rs\nDA:1,1\nDA:two,1\nend_of_record\n",
    )
    .unwrap();
    std::fs::write(root.join("notes.txt"), "just some notes\n").unwrap();
    std::fs::write(root.join("bad.lock"), "[[package]]\nname = \"x\"\n").unwrap();
    std::fs::create_dir_all(root.join("not-a-db/stuff")).unwrap();

    check_error(
        root,
        &["check", "--report", "missing.info"],
        &["cannot read the report", "missing.info", "hint:"],
    );
    check_error(
        root,
        &["check", "--report", "empty.info"],
        &["the report", "empty.info", "is empty"],
    );
    check_error(
        root,
        &["check", "--report", "garbled.info"],
        &["as lcov", "line 3", "`two`"],
    );
    check_error(
        root,
        &["check", "--report", "notes.txt"],
        &["cannot tell the format", "notes.txt"],
    );
    check_error(
        root,
        &["check", "--report", "coverage.xml:lcov"],
        &["cannot read the report", "as lcov"],
    );
    check_error(
        root,
        &["check", "--report", "coverage.xml:bogus"],
        &["unknown report format `bogus`", "known formats: lcov"],
    );
    check_error(
        root,
        &["check", "--report", "bandit.json"],
        &["coverage", "no coverage report"],
    );
    let db = advisory_db();
    let db = db.to_str().unwrap();
    check_error(
        root,
        &[
            "check",
            "--report",
            "coverage.xml",
            "--lockfile",
            "bad.lock",
            "--advisory-db",
            db,
        ],
        &["cannot parse the lockfile", "bad.lock", "version"],
    );
    check_error(
        root,
        &[
            "check",
            "--report",
            "coverage.xml",
            "--lockfile",
            "missing.lock",
            "--advisory-db",
            db,
        ],
        &["cannot read the lockfile", "missing.lock"],
    );
    let lockfile = fixtures().join("rust-vulnerable/Cargo.lock");
    let lockfile = lockfile.to_str().unwrap();
    check_error(
        root,
        &[
            "check",
            "--report",
            "coverage.xml",
            "--lockfile",
            lockfile,
            "--advisory-db",
            "not-a-db",
        ],
        &[
            "not-a-db",
            "is not a RustSec advisory database",
            "`crates/`",
        ],
    );
    check_error(
        root,
        &[
            "check",
            "--report",
            "coverage.xml",
            "--lockfile",
            lockfile,
            "--advisory-db",
            "nowhere",
        ],
        &["nowhere", "does not exist"],
    );
    check_error(
        root,
        &["check", "--report", "coverage.xml", "--lockfile", lockfile],
        &["no advisory database"],
    );
    check_error(
        root,
        &["check", "--config", "nope.toml"],
        &["cannot read the configuration", "nope.toml"],
    );

    std::fs::write(root.join("typo.toml"), "[coverage]\nmin_lnes = 60\n").unwrap();
    check_error(
        root,
        &["check", "--config", "typo.toml"],
        &[
            "invalid configuration",
            "caused by:",
            "unknown field `min_lnes`",
        ],
    );
    std::fs::write(root.join("empty.toml"), "").unwrap();
    check_error(
        root,
        &["check", "--config", "empty.toml"],
        &["nothing to judge"],
    );
}

#[cfg(unix)]
#[test]
fn gate_run_runs_the_producers_then_judges() {
    let project = python_project(
        "[coverage]\nmin_lines = 40\n[reports]\nfiles = [{ path = \"made.xml\" }]\n[run]\ncommands = [\"cp coverage.xml made.xml\", \"echo producing\"]\n",
    );
    let output = gate(project.path(), &["run", "--json"]);
    assert_eq!(output.code, 0, "{}{}", output.stdout, output.stderr);
    assert!(
        output.stderr.contains("producing"),
        "producer stdout goes to stderr: {}",
        output.stderr
    );
    let verdict: serde_json::Value =
        serde_json::from_str(&output.stdout).expect("stdout holds only the JSON verdict");
    assert_eq!(
        verdict["rules"][0]["rule"],
        "run `cp coverage.xml made.xml`"
    );

    // A failing producer (the tests failed) is a failed rule, even if its report is missing.
    std::fs::write(
        project.path().join("gate.toml"),
        "[coverage]\nmin_lines = 40\n[reports]\nfiles = [{ path = \"never.xml\" }]\n[run]\ncommands = [\"exit 3\"]\n",
    )
    .unwrap();
    let output = gate(project.path(), &["run"]);
    assert_eq!(output.code, 1, "{}{}", output.stdout, output.stderr);
    assert!(output.stdout.contains("run `exit 3`"), "{}", output.stdout);
    assert!(output.stdout.contains("exit 3"), "{}", output.stdout);
    assert!(
        output.stdout.contains("never.xml"),
        "the unread report is noted: {}",
        output.stdout
    );
}

#[test]
fn hook_install_never_clobbers_a_foreign_hook() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    let status = Command::new("git")
        .args(["init", "-q"])
        .current_dir(root)
        .status()
        .expect("git is installed");
    assert!(status.success());
    let hook = root.join(".git/hooks/pre-push");

    let output = gate(root, &["hook", "install"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let script = std::fs::read_to_string(&hook).unwrap();
    assert!(
        script.contains("exec gate run --config 'gate.toml'"),
        "{script}"
    );
    assert_eq!(
        gate(root, &["hook", "install"]).code,
        0,
        "installing twice is fine"
    );
    assert_eq!(gate(root, &["hook", "uninstall"]).code, 0);
    assert!(!hook.exists());

    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    check_error(
        root,
        &["hook", "install"],
        &["pre-push", "was not installed by gate", "--force"],
    );
    check_error(root, &["hook", "uninstall"], &["was not installed by gate"]);
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho mine\n"
    );

    let output = gate(root, &["hook", "install", "--force"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(
        output.stderr.contains("pre-push.gate-backup"),
        "{}",
        output.stderr
    );
    assert!(std::fs::read_to_string(&hook).unwrap().contains("gate run"));
    assert_eq!(gate(root, &["hook", "uninstall"]).code, 0);
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho mine\n",
        "the backed-up hook is restored"
    );
}

#[test]
fn init_writes_starter_files_once() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    let output = gate(root, &["init"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let config = std::fs::read_to_string(root.join("gate.toml")).unwrap();
    assert!(config.contains("lockfiles = [\"Cargo.lock\"]"), "{config}");
    gate::Config::parse(&config, Path::new("gate.toml")).unwrap();
    let workflow = std::fs::read_to_string(root.join(".github/workflows/gate.yml")).unwrap();
    assert!(
        workflow.contains("windows-latest") && workflow.contains("shell: bash"),
        "{workflow}"
    );
    check_error(root, &["init"], &["gate.toml", "already exists"]);
}

fn git(root: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=gate",
            "-c",
            "user.email=gate@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(root)
        .status()
        .expect("git is installed");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn patch_coverage_judges_the_lines_changed_since_the_base() {
    let config = "[coverage]\nmin_lines = 10\n[coverage.patch]\nmin_lines = 50\nbase = \"HEAD\"\n[reports]\nfiles = [{ path = \"coverage.xml\" }]\n";
    let project = python_project(config);
    let root = project.path();
    // The base lacks `never_called` (lines 21-26); the work tree adds it. Of its five
    // instrumented lines only the `def` (run at import) is covered.
    let full = std::fs::read_to_string(root.join("calc/__init__.py")).unwrap();
    let without: String = full
        .lines()
        .take(20)
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(root.join("calc/__init__.py"), &without).unwrap();
    git(root, &["init", "-q"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    std::fs::write(root.join("calc/__init__.py"), &full).unwrap();

    let output = gate(root, &["check"]);
    assert_eq!(output.code, 1, "{}{}", output.stdout, output.stderr);
    let patch_line = output
        .stdout
        .lines()
        .find(|line| line.contains("coverage.patch"))
        .unwrap();
    assert!(
        patch_line.contains("20.0% (1/5)") && patch_line.contains("FAIL"),
        "{patch_line}"
    );

    std::fs::write(
        root.join("gate.toml"),
        config.replace(
            "min_lines = 50\n",
            "min_lines = 50\nmin_changed_lines = 10\n",
        ),
    )
    .unwrap();
    let output = gate(root, &["check"]);
    assert_eq!(output.code, 0, "{}{}", output.stdout, output.stderr);
    assert!(
        output
            .stdout
            .contains("patch coverage not judged: 5 changed instrumented lines"),
        "{}",
        output.stdout
    );

    check_error(
        root,
        &["check", "--base", "no-such-rev"],
        &["cannot diff against the base `no-such-rev`"],
    );
}

#[test]
fn the_ratchet_holds_coverage_and_lowering_needs_a_reason() {
    let config =
        "[coverage.ratchet]\ntolerance = 0.5\n[reports]\nfiles = [{ path = \"coverage.xml\" }]\n";
    let project = python_project(config);
    let root = project.path();
    check_error(
        root,
        &["check"],
        &["cannot read the coverage baseline", "gate baseline"],
    );
    let output = gate(root, &["baseline"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let recorded = std::fs::read_to_string(root.join(".gate-baseline.toml")).unwrap();
    assert!(recorded.contains("lines = 47.83"), "{recorded}");
    assert_eq!(gate(root, &["check"]).code, 0);

    // A baseline above today's coverage: the ratchet fails and names the file that dropped.
    std::fs::write(
        root.join(".gate-baseline.toml"),
        "lines = 60.0\n[files]\n\"calc/shell.py\" = 50.0\n",
    )
    .unwrap();
    let output = gate(root, &["check"]);
    assert_eq!(output.code, 1, "{}", output.stdout);
    assert!(
        output.stdout.contains("coverage.ratchet"),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains("coverage of calc/shell.py dropped from 50.00% to 0.00%"),
        "{}",
        output.stdout
    );

    check_error(
        root,
        &["baseline"],
        &["below the baseline 60.00%", "--lower --reason"],
    );
    let output = gate(
        root,
        &[
            "baseline",
            "--lower",
            "--reason",
            "moved tests to the integration suite",
        ],
    );
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(
        std::fs::read_to_string(root.join(".gate-baseline.toml"))
            .unwrap()
            .contains("lowered_because = \"moved tests")
    );
}
