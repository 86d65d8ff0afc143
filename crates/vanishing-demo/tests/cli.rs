//! End-to-end tests of the `vanishing-demo` binary: what a user types, what lands on disk
//! and in the tracker store, and how bad input is refused.

use std::path::Path;
use std::process::{Command, Output};

fn demo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vanishing-demo"))
        .args(args)
        .env_remove("SPOKES_TRACKER_URI")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const SMALL: &[&str] = &[
    "--depth",
    "6",
    "--width",
    "8",
    "--steps",
    "4",
    "--samples",
    "32",
    "--batch-size",
    "16",
];

fn is_png(path: &Path) -> bool {
    std::fs::read(path)
        .is_ok_and(|bytes| bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000)
}

#[test]
fn grid_writes_plots_summary_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (out, store) = (dir.path().join("out"), dir.path().join("tracker.db"));
    let mut args = vec![
        "grid",
        "--json",
        "--out",
        out.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ];
    args.extend(SMALL);
    let output = demo(&args);
    assert!(output.status.success(), "{}", stderr(&output));

    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = report["rows"].as_array().unwrap();
    let labels: Vec<&str> = rows.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        [
            "sigmoid+naive",
            "sigmoid+glorot",
            "tanh+glorot",
            "relu+he",
            "relu+he+residual"
        ]
    );
    for row in rows {
        assert_eq!(row["grad_norms_at_init"].as_array().unwrap().len(), 6);
        assert!(row["ratio_at_init"].as_f64().unwrap() > 0.0);
    }
    for name in [
        "synthetic_data_sample.png",
        "grad_norm_by_layer.png",
        "loss_curves.png",
        "grad_heatmap_relu-he-residual.png",
    ] {
        assert!(is_png(&out.join(name)), "{name} is not a PNG");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["rows"], report["rows"]);

    let tracker = tracker::Tracker::open(&store).unwrap();
    let runs = tracker.runs(Some("vanishing-gradients")).unwrap();
    assert_eq!(runs.len(), 6, "five configurations and their parent");
    assert!(
        runs.iter()
            .all(|r| r.status == tracker::RunStatus::Finished)
    );
    let child = tracker
        .resolve_run(rows[0]["run_id"].as_str().unwrap())
        .unwrap();
    let data = tracker.run_data(&child.run_id).unwrap();
    assert_eq!(
        data.tags["mlflow.parentRunId"],
        report["parent_run_id"].as_str().unwrap()
    );
    assert_eq!(data.params["depth"], "6");
    assert_eq!(
        tracker
            .metric_history(&child.run_id, "grad_norm/layer_00")
            .unwrap()
            .len(),
        4
    );
    assert!(
        data.artifacts
            .iter()
            .any(|a| a.ends_with("grad_heatmap_sigmoid-naive.png"))
    );
}

#[test]
fn train_prints_a_table_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tracker.db");
    let mut args = vec![
        "train",
        "--activation",
        "tanh",
        "--init",
        "glorot",
        "--store",
        store.to_str().unwrap(),
    ];
    args.extend(SMALL);
    let output = demo(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("tanh+glorot"), "{stdout}");
}

#[test]
fn bad_settings_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tracker.db");
    let store = store.to_str().unwrap();
    for (args, expected) in [
        (vec!["train", "--activation", "swish"], "swish"),
        (vec!["train", "--depth", "0"], "depth"),
        (vec!["grid", "--steps", "0"], "steps"),
        (vec!["train", "--lr=-1"], "lr"),
        (vec!["train", "--device", "tpu"], "tpu"),
    ] {
        let mut args = args;
        args.extend(["--store", store]);
        let output = demo(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn unwritable_output_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let out = blocker.join("out");
    let store = dir.path().join("tracker.db");
    let mut args = vec![
        "grid",
        "--out",
        out.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ];
    args.extend(SMALL);
    let output = demo(&args);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("a-file"), "{}", stderr(&output));
}

#[test]
fn a_foreign_store_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("notes.db");
    let bytes = b"these are my notes, not a database".repeat(200);
    std::fs::write(&store, &bytes).unwrap();
    let mut args = vec!["train", "--store", store.to_str().unwrap()];
    args.extend(SMALL);
    let output = demo(&args);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("notes.db"), "{}", stderr(&output));
    assert_eq!(std::fs::read(&store).unwrap(), bytes);
}
