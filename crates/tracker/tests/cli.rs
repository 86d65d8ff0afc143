//! End-to-end tests of the `tracker` binary on stores populated through the library.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tracker::{Histogram, RunStatus, Tracker};

/// A store with two experiments and three runs, one of them still running.
struct Fixture {
    _directory: tempfile::TempDir,
    store: PathBuf,
    trained: String,
    crashed: String,
}

fn fixture() -> Fixture {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("project/.spokes/tracker.db");
    let tracker = Tracker::open(&store).unwrap();
    let experiment = tracker.experiment("vanishing").unwrap();
    let trained = experiment.start_run("sigmoid-xavier").unwrap();
    trained
        .log_params(&[("lr", "0.01"), ("activation", "sigmoid")])
        .unwrap();
    trained.set_tag("device", "cpu").unwrap();
    for step in 0..5 {
        trained
            .log_metrics(
                &[
                    ("loss", 1.0 / (step + 1) as f64),
                    ("acc", 0.2 * step as f64),
                ],
                step,
            )
            .unwrap();
    }
    trained.log_metric("odd", f64::NAN, 0).unwrap();
    trained.log_metric("odd", f64::INFINITY, 1).unwrap();
    trained
        .log_histogram(
            "layer0/grad",
            0,
            &Histogram {
                min: 0.0,
                max: 1.0,
                counts: vec![1, 2],
            },
        )
        .unwrap();
    let artifact = directory.path().join("summary.txt");
    std::fs::write(&artifact, "ok").unwrap();
    trained.log_artifact(&artifact).unwrap();
    let trained_id = trained.id().to_owned();
    trained.finish(RunStatus::Finished).unwrap();
    let crashed = tracker
        .experiment("other")
        .unwrap()
        .start_run("relu-he")
        .unwrap();
    crashed.log_metric("loss", 2.5, 0).unwrap();
    let crashed_id = crashed.id().to_owned();
    drop(crashed);
    Fixture {
        _directory: directory,
        store,
        trained: trained_id,
        crashed: crashed_id,
    }
}

fn tracker_command(store: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tracker"));
    command
        .arg("--store")
        .arg(store)
        .env_remove("SPOKES_TRACKER_URI")
        .env("NO_COLOR", "1");
    command
}

fn run(store: &Path, args: &[&str]) -> Output {
    tracker_command(store).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Runs a command that must succeed and returns its stdout.
fn check_ok(store: &Path, args: &[&str]) -> String {
    let output = run(store, args);
    assert!(
        output.status.success(),
        "`tracker {}` failed: {}",
        args.join(" "),
        stderr(&output)
    );
    stdout(&output)
}

fn check_json(store: &Path, args: &[&str]) -> Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let text = check_ok(store, &with_json);
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

/// Runs a command that must fail with exit code 2 and a message containing `expected`.
fn check_bad_input(store: &Path, args: &[&str], expected: &str) -> String {
    let output = run(store, args);
    assert_eq!(
        output.status.code(),
        Some(2),
        "`tracker {}`: {}",
        args.join(" "),
        stderr(&output)
    );
    let message = stderr(&output);
    assert!(message.starts_with("error: "), "{message}");
    assert!(
        message.contains(expected),
        "expected {expected:?} in {message}"
    );
    assert!(!message.contains("panicked"), "{message}");
    assert!(output.stdout.is_empty(), "errors print nothing on stdout");
    message
}

#[test]
fn runs_lists_every_run_newest_first() {
    let fixture = fixture();
    let runs = check_json(&fixture.store, &["runs"]);
    let ids: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [fixture.crashed.as_str(), fixture.trained.as_str()]);
    assert_eq!(runs[0]["status"], "RUNNING");
    assert_eq!(runs[1]["status"], "FINISHED");
    let table = check_ok(&fixture.store, &["runs"]);
    assert!(table.contains(&fixture.trained[..8]), "{table}");
    assert!(
        !table.contains(&fixture.trained),
        "ids are shortened: {table}"
    );
    for text in [
        "sigmoid-xavier",
        "relu-he",
        "vanishing",
        "FINISHED",
        "RUNNING",
        "(running)",
    ] {
        assert!(table.contains(text), "{text} missing from {table}");
    }
    let only = check_json(&fixture.store, &["runs", "--experiment", "other"]);
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["run_id"], fixture.crashed.as_str());
    check_bad_input(
        &fixture.store,
        &["runs", "--experiment", "nope"],
        "no experiment named `nope`",
    );
}

#[test]
fn experiments_include_default() {
    let fixture = fixture();
    let experiments = check_json(&fixture.store, &["experiments"]);
    let names: Vec<&str> = experiments
        .as_array()
        .unwrap()
        .iter()
        .map(|experiment| experiment["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Default", "vanishing", "other"]);
    assert_eq!(experiments[0]["id"], "0");
    assert!(check_ok(&fixture.store, &["experiments"]).contains("vanishing"));
}

#[test]
fn show_reports_params_tags_latest_metrics_and_artifacts() {
    let fixture = fixture();
    let data = check_json(&fixture.store, &["show", &fixture.trained[..10]]);
    assert_eq!(data["info"]["run_id"], fixture.trained.as_str());
    assert_eq!(data["params"]["lr"], "0.01");
    assert_eq!(data["tags"]["device"], "cpu");
    assert_eq!(data["tags"]["mlflow.runName"], "sigmoid-xavier");
    assert_eq!(data["artifacts"], serde_json::json!(["summary.txt"]));
    let metrics = data["metrics"].as_array().unwrap();
    let latest = |key: &str| {
        metrics
            .iter()
            .find(|metric| metric["key"] == key)
            .unwrap()
            .clone()
    };
    assert_eq!(latest("loss")["value"], 0.2);
    assert_eq!(latest("loss")["step"], 4);
    assert_eq!(latest("odd")["value"], "Infinity");
    let human = check_ok(&fixture.store, &["show", &fixture.trained]);
    for text in [
        "sigmoid-xavier",
        "lr",
        "0.01",
        "device",
        "loss",
        "summary.txt",
        "FINISHED",
    ] {
        assert!(human.contains(text), "{text} missing from {human}");
    }
}

#[test]
fn metric_prints_the_history_in_step_order() {
    let fixture = fixture();
    let history = check_json(&fixture.store, &["metric", &fixture.trained[..8], "acc"]);
    let points = history.as_array().unwrap();
    assert_eq!(points.len(), 5);
    for (step, point) in points.iter().enumerate() {
        assert_eq!(point["step"], step as i64);
        assert!((point["value"].as_f64().unwrap() - 0.2 * step as f64).abs() < 1e-12);
    }
    let table = check_ok(&fixture.store, &["metric", &fixture.trained, "loss"]);
    assert!(table.contains("0.3333333333333333"), "{table}");
    check_bad_input(
        &fixture.store,
        &["metric", &fixture.trained, "nope"],
        "has no metric `nope`",
    );
}

#[test]
fn export_csv_holds_every_point() {
    let fixture = fixture();
    let text = check_ok(
        &fixture.store,
        &["export", &fixture.trained[..8], "--format", "csv"],
    );
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["key", "step", "timestamp", "value"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5 + 5 + 2);
    let loss: Vec<(i64, f64)> = rows
        .iter()
        .filter(|row| &row[0] == "loss")
        .map(|row| (row[1].parse().unwrap(), row[3].parse().unwrap()))
        .collect();
    assert_eq!(
        loss,
        (0..5)
            .map(|step| (step, 1.0 / (step + 1) as f64))
            .collect::<Vec<_>>()
    );
    let odd: Vec<f64> = rows
        .iter()
        .filter(|row| &row[0] == "odd")
        .map(|row| row[3].parse().unwrap())
        .collect();
    assert!(odd[0].is_nan() && odd[1] == f64::INFINITY);
    assert!(
        rows.iter()
            .all(|row| row[2].parse::<i64>().unwrap() > 1_600_000_000_000)
    );
}

#[test]
fn export_json_to_a_file_holds_run_data_and_history() {
    let fixture = fixture();
    let file = fixture.store.with_file_name("export.json");
    let output = run(
        &fixture.store,
        &[
            "export",
            &fixture.trained,
            "--format",
            "json",
            "--output",
            file.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    let export: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(export["info"]["run_id"], fixture.trained.as_str());
    assert_eq!(export["params"]["activation"], "sigmoid");
    let history = export["history"].as_array().unwrap();
    assert_eq!(history.len(), 12);
    assert_eq!(
        history
            .iter()
            .filter(|point| point["key"] == "loss")
            .count(),
        5
    );
    assert_eq!(
        history.iter().find(|point| point["key"] == "odd").unwrap()["value"],
        "NaN"
    );
    let missing_folder = fixture.store.with_file_name("no/such/dir/out.csv");
    check_bad_input(
        &fixture.store,
        &[
            "export",
            &fixture.trained,
            "--format",
            "csv",
            "--output",
            missing_folder.to_str().unwrap(),
        ],
        "cannot write",
    );
}

#[test]
fn mark_closes_a_crashed_run() {
    let fixture = fixture();
    let marked = check_json(&fixture.store, &["mark", &fixture.crashed[..8], "failed"]);
    assert_eq!(marked["status"], "FAILED");
    assert!(marked["end_time"].as_i64().is_some());
    let data = check_json(&fixture.store, &["show", &fixture.crashed]);
    assert_eq!(data["info"]["status"], "FAILED");
    let output = run(&fixture.store, &["mark", &fixture.crashed, "killed"]);
    assert!(output.status.success());
    assert!(stderr(&output).contains("KILLED"), "{}", stderr(&output));
    let quiet = run(
        &fixture.store,
        &["-q", "mark", &fixture.crashed, "finished"],
    );
    assert!(quiet.status.success() && quiet.stderr.is_empty() && quiet.stdout.is_empty());
    check_bad_input(
        &fixture.store,
        &["mark", &fixture.crashed, "exploded"],
        "invalid value",
    );
}

#[test]
fn unknown_and_ambiguous_runs_are_bad_input() {
    let fixture = fixture();
    let message = check_bad_input(&fixture.store, &["show", "zzzz"], "no run matches `zzzz`");
    assert!(message.contains("hint: "), "{message}");
    let tracker = Tracker::open(&fixture.store).unwrap();
    let experiment = tracker.experiment("many").unwrap();
    let ids: Vec<String> = (0..40)
        .map(|index| {
            experiment
                .start_run(&format!("r{index}"))
                .unwrap()
                .id()
                .to_owned()
        })
        .collect();
    let shared = ids
        .iter()
        .map(|id| &id[..1])
        .find(|first| ids.iter().filter(|id| id.starts_with(first)).count() > 1)
        .unwrap();
    let message = check_bad_input(&fixture.store, &["show", shared], "is ambiguous");
    assert!(message.contains("hint: type more characters"), "{message}");
    let candidate_count = ids
        .iter()
        .filter(|id| id.starts_with(shared))
        .count()
        .min(5);
    let listed = ids
        .iter()
        .filter(|id| message.contains(id.as_str()))
        .count();
    assert!(listed >= candidate_count.min(2), "{message}");
}

#[test]
fn bad_flags_and_bad_stores_exit_2() {
    let fixture = fixture();
    let output = run(&fixture.store, &["runs", "--no-such-flag"]);
    assert_eq!(output.status.code(), Some(2));
    let output = run(
        &fixture.store,
        &["export", &fixture.trained, "--format", "xml"],
    );
    assert_eq!(output.status.code(), Some(2));
    let notes = fixture.store.with_file_name("notes.txt");
    std::fs::write(&notes, "not a database").unwrap();
    let message = check_bad_input(&notes, &["runs"], "not an SQLite database");
    assert!(message.contains("hint: "), "{message}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "not a database");
    check_bad_input(
        Path::new("mysql://host/db"),
        &["runs"],
        "unsupported tracking URI",
    );
}

#[test]
fn the_environment_names_the_store_and_the_flag_overrides_it() {
    let fixture = fixture();
    let uri = format!("sqlite:///{}", fixture.store.display());
    let output = Command::new(env!("CARGO_BIN_EXE_tracker"))
        .args(["runs", "--json"])
        .env("SPOKES_TRACKER_URI", &uri)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let runs: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 2);
    let elsewhere = fixture.store.with_file_name("elsewhere.db");
    let output = Command::new(env!("CARGO_BIN_EXE_tracker"))
        .arg("--store")
        .arg(&elsewhere)
        .args(["runs", "--json"])
        .env("SPOKES_TRACKER_URI", &uri)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        serde_json::from_slice::<Value>(&output.stdout).unwrap(),
        serde_json::json!([])
    );
}

#[test]
fn without_flag_or_environment_the_project_store_is_used() {
    let fixture = fixture();
    let project = fixture.store.parent().unwrap().parent().unwrap();
    let nested = project.join("src/deep");
    std::fs::create_dir_all(&nested).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tracker"))
        .args(["runs", "--json"])
        .current_dir(&nested)
        .env_remove("SPOKES_TRACKER_URI")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let runs: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 2);
}
