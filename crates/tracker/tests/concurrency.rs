//! Several processes writing one store at once: every point must arrive, no writer may
//! fail with "database is locked".
//!
//! The test re-executes its own binary: children run `writer_process`, which does
//! nothing unless the environment names a store to write to.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tracker::{RunStatus, Tracker};

const WRITER_ENV: &str = "TRACKER_TEST_WRITER";
const WRITERS: usize = 4;
const BATCHES: i64 = 150;
const KEYS: usize = 20;
const POINTS_PER_KEY: usize = 5;

/// The value writer `writer` logs for `key` at `step`, repetition `repetition`: unique
/// per point, so a lost or duplicated point shows.
fn value(writer: usize, step: i64, key: usize, repetition: usize) -> f64 {
    (writer * 1_000_000_000 + step as usize * 10_000 + key * 10 + repetition) as f64
}

/// The child side; returns at once in a normal test run.
#[test]
fn writer_process() {
    let Ok(spec) = std::env::var(WRITER_ENV) else {
        return;
    };
    let (store, rest) = spec.split_once('|').unwrap();
    let (writer, go_file) = rest.split_once('|').unwrap();
    let writer: usize = writer.parse().unwrap();
    // Wait for the parent's signal so that all writers start together.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !Path::new(go_file).exists() {
        assert!(Instant::now() < deadline, "no start signal");
        std::thread::sleep(Duration::from_millis(1));
    }
    let tracker = Tracker::open(store).unwrap();
    let run = tracker
        .experiment("concurrency")
        .unwrap()
        .start_run(&format!("writer {writer}"))
        .unwrap();
    run.log_param("writer", writer).unwrap();
    let keys: Vec<String> = (0..KEYS)
        .map(|key| format!("layer{key}/grad_norm"))
        .collect();
    for step in 0..BATCHES {
        let batch: Vec<(&str, f64)> = (0..KEYS * POINTS_PER_KEY)
            .map(|index| {
                let (key, repetition) = (index % KEYS, index / KEYS);
                (keys[key].as_str(), value(writer, step, key, repetition))
            })
            .collect();
        run.log_metrics(&batch, step).unwrap();
        if step % 10 == 0 {
            run.set_tag("progress", step).unwrap();
        }
    }
    run.finish(RunStatus::Finished).unwrap();
}

#[test]
fn processes_writing_one_store_lose_nothing() {
    if std::env::var_os(WRITER_ENV).is_some() {
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    // The store does not exist yet: the writers also race to create it.
    let store: PathBuf = directory.path().join("shared/tracker.db");
    let go_file = directory.path().join("go");
    let children: Vec<_> = (0..WRITERS)
        .map(|writer| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "writer_process",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(
                    WRITER_ENV,
                    format!("{}|{writer}|{}", store.display(), go_file.display()),
                )
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::fs::write(&go_file, "go").unwrap();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "a writer failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let tracker = Tracker::open(&store).unwrap();
    let runs = tracker.runs(Some("concurrency")).unwrap();
    assert_eq!(runs.len(), WRITERS);
    assert_eq!(
        tracker.experiments().unwrap().len(),
        2,
        "one shared experiment, plus Default"
    );
    for run in runs {
        assert_eq!(run.status, RunStatus::Finished);
        let data = tracker.run_data(&run.run_id).unwrap();
        let writer: usize = data.params["writer"].parse().unwrap();
        assert_eq!(data.tags["progress"], ((BATCHES - 1) / 10 * 10).to_string());
        let history = tracker.all_metric_history(&run.run_id).unwrap();
        assert_eq!(history.len(), BATCHES as usize * KEYS * POINTS_PER_KEY);
        for key in 0..KEYS {
            let name = format!("layer{key}/grad_norm");
            let mut got: Vec<f64> = history
                .iter()
                .filter(|point| point.key == name)
                .map(|point| point.value)
                .collect();
            got.sort_by(f64::total_cmp);
            let mut expected: Vec<f64> = (0..BATCHES)
                .flat_map(|step| {
                    (0..POINTS_PER_KEY).map(move |repetition| value(writer, step, key, repetition))
                })
                .collect();
            expected.sort_by(f64::total_cmp);
            assert_eq!(got, expected, "writer {writer}, key {name}");
            let latest = data
                .metrics
                .iter()
                .find(|metric| metric.key == name)
                .unwrap();
            assert_eq!(latest.step, BATCHES - 1);
            assert_eq!(
                latest.value,
                value(writer, BATCHES - 1, key, POINTS_PER_KEY - 1)
            );
        }
    }
}
