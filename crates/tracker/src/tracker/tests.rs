//! Unit tests of the handles against a real store in a temporary folder.

use super::*;

fn temp_tracker() -> (tempfile::TempDir, Tracker) {
    let directory = tempfile::tempdir().unwrap();
    let tracker = Tracker::open(directory.path().join("nested/dir/tracker.db")).unwrap();
    (directory, tracker)
}

fn started_run(tracker: &Tracker) -> Run {
    tracker.experiment("exp").unwrap().start_run("run").unwrap()
}

#[test]
fn handles_can_cross_threads() {
    fn shareable<T: Clone + Send + Sync>() {}
    fn sendable<T: Send>() {}
    shareable::<Tracker>();
    shareable::<Experiment>();
    sendable::<Run>();
}

#[test]
fn a_new_store_has_the_default_experiment_and_creates_others_once() {
    let (_directory, tracker) = temp_tracker();
    assert!(tracker.path().ends_with("nested/dir/tracker.db"));
    assert!(tracker.path().is_absolute());
    assert_eq!(
        tracker.artifact_root(),
        tracker.path().parent().unwrap().join("artifacts")
    );
    let experiments = tracker.experiments().unwrap();
    assert_eq!(experiments.len(), 1);
    assert_eq!(
        (experiments[0].id.as_str(), experiments[0].name.as_str()),
        ("0", "Default")
    );
    assert_eq!(tracker.experiment("Default").unwrap().id(), "0");
    let first = tracker.experiment("first").unwrap();
    let second = tracker.experiment("second").unwrap();
    assert_eq!((first.id(), second.id()), ("1", "2"));
    assert_eq!(tracker.experiment("first").unwrap().id(), "1");
    let infos = tracker.experiments().unwrap();
    assert_eq!(infos.len(), 3);
    assert!(infos[1].artifact_location.starts_with("file://"));
    assert!(infos[1].artifact_location.ends_with("/artifacts/1"));
}

#[test]
fn runs_start_running_with_mlflow_ids_and_finish() {
    let (_directory, tracker) = temp_tracker();
    let run = started_run(&tracker);
    assert_eq!(run.id().len(), 32);
    assert!(
        run.id()
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
    );
    let info = tracker.resolve_run(run.id()).unwrap();
    assert_eq!(info.status, RunStatus::Running);
    assert_eq!(info.end_time, None);
    assert_eq!(info.run_name, "run");
    assert!(
        info.artifact_uri
            .ends_with(&format!("/artifacts/1/{}/artifacts", run.id()))
    );
    let data = tracker.run_data(run.id()).unwrap();
    assert_eq!(data.tags["mlflow.runName"], "run");
    let id = run.id().to_owned();
    run.finish(RunStatus::Finished).unwrap();
    let info = tracker.resolve_run(&id).unwrap();
    assert_eq!(info.status, RunStatus::Finished);
    assert!(info.end_time.unwrap() >= info.start_time);
}

#[test]
fn a_dropped_run_stays_running_until_marked() {
    let (_directory, tracker) = temp_tracker();
    let id = started_run(&tracker).id().to_owned();
    assert_eq!(tracker.resolve_run(&id).unwrap().status, RunStatus::Running);
    tracker.set_run_status(&id, RunStatus::Failed).unwrap();
    let info = tracker.resolve_run(&id).unwrap();
    assert_eq!(info.status, RunStatus::Failed);
    assert!(info.end_time.is_some());
    assert!(matches!(
        tracker.set_run_status("0123", RunStatus::Failed),
        Err(Error::RunNotFound { .. })
    ));
}

#[test]
fn runs_are_listed_newest_first_and_by_experiment() {
    let (_directory, tracker) = temp_tracker();
    let first = tracker.experiment("a").unwrap().start_run("one").unwrap();
    let second = tracker.experiment("b").unwrap().start_run("two").unwrap();
    let third = tracker.experiment("a").unwrap().start_run("three").unwrap();
    let all: Vec<String> = tracker
        .runs(None)
        .unwrap()
        .into_iter()
        .map(|run| run.run_id)
        .collect();
    assert_eq!(all, [third.id(), second.id(), first.id()]);
    let in_a: Vec<String> = tracker
        .runs(Some("a"))
        .unwrap()
        .into_iter()
        .map(|run| run.run_id)
        .collect();
    assert_eq!(in_a, [third.id(), first.id()]);
    assert!(matches!(
        tracker.runs(Some("missing")),
        Err(Error::ExperimentNotFound { name }) if name == "missing"
    ));
}

#[test]
fn prefixes_resolve_like_git() {
    let (_directory, tracker) = temp_tracker();
    let experiment = tracker.experiment("exp").unwrap();
    // 40 runs over 16 possible first characters: some first character repeats.
    let runs: Vec<Run> = (0..40)
        .map(|index| experiment.start_run(&format!("run {index}")).unwrap())
        .collect();
    let target = &runs[0];
    assert_eq!(
        tracker.resolve_run(target.id()).unwrap().run_id,
        target.id()
    );
    let unique = (1..=32)
        .map(|length| &target.id()[..length])
        .find(|prefix| {
            runs.iter()
                .filter(|run| run.id().starts_with(prefix))
                .count()
                == 1
        })
        .unwrap();
    assert_eq!(tracker.resolve_run(unique).unwrap().run_id, target.id());
    assert_eq!(
        tracker.resolve_run(&unique.to_uppercase()).unwrap().run_id,
        target.id()
    );
    let shared = runs
        .iter()
        .map(|run| &run.id()[..1])
        .find(|first| {
            runs.iter()
                .filter(|run| run.id().starts_with(first))
                .count()
                > 1
        })
        .unwrap();
    match tracker.resolve_run(shared) {
        Err(Error::AmbiguousRun { prefix, candidates }) => {
            assert_eq!(prefix, shared);
            assert!(candidates.len() >= 2);
            assert!(
                candidates
                    .iter()
                    .filter(|candidate| *candidate != "…")
                    .all(|candidate| candidate.starts_with(shared))
            );
        }
        other => panic!("expected an ambiguity, got {other:?}"),
    }
    for missing in ["", "xyz", "not-hex", &"0".repeat(33)] {
        assert!(
            matches!(tracker.resolve_run(missing), Err(Error::RunNotFound { .. })),
            "{missing:?}"
        );
    }
    let absent = (0..16u8)
        .map(|digit| format!("{digit:x}{}", "0".repeat(31)))
        .find(|id| runs.iter().all(|run| run.id() != id))
        .unwrap();
    assert!(matches!(
        tracker.resolve_run(&absent),
        Err(Error::RunNotFound { .. })
    ));
}

#[test]
fn params_are_immutable_and_batches_are_atomic() {
    let (_directory, tracker) = temp_tracker();
    let run = started_run(&tracker);
    run.log_param("lr", 0.01).unwrap();
    run.log_param("lr", "0.01").unwrap();
    match run.log_param("lr", 0.1) {
        Err(Error::ParamChanged {
            run_id,
            key,
            old,
            new,
        }) => {
            assert_eq!(
                (run_id.as_str(), key.as_str(), old.as_str(), new.as_str()),
                (run.id(), "lr", "0.01", "0.1")
            );
        }
        other => panic!("expected ParamChanged, got {other:?}"),
    }
    let error = run
        .log_params(&[("epochs", "3"), ("lr", "0.5")])
        .unwrap_err();
    assert!(matches!(error, Error::ParamChanged { .. }));
    let error = run
        .log_params(&[("batch", "32"), ("bad key!", "1")])
        .unwrap_err();
    assert!(matches!(error, Error::InvalidKey { kind: "param", .. }));
    let params = tracker.run_data(run.id()).unwrap().params;
    assert_eq!(
        params.len(),
        1,
        "a rejected batch stores nothing: {params:?}"
    );
    run.log_params(&[("epochs", "3"), ("batch", "32")]).unwrap();
    assert_eq!(tracker.run_data(run.id()).unwrap().params.len(), 3);
}

#[test]
fn tags_are_mutable_and_validated() {
    let (_directory, tracker) = temp_tracker();
    let run = started_run(&tracker);
    run.set_tag("stage", "warmup").unwrap();
    run.set_tag("stage", "train").unwrap();
    assert_eq!(tracker.run_data(run.id()).unwrap().tags["stage"], "train");
    assert!(matches!(
        run.set_tag("note", "x".repeat(8001)),
        Err(Error::ValueTooLong { kind: "tag", .. })
    ));
}

#[test]
fn latest_metric_is_max_step_then_timestamp_then_value() {
    let (_directory, tracker) = temp_tracker();
    let run = started_run(&tracker);
    run.log_metric("loss", 1.0, 5).unwrap();
    run.log_metric("loss", 9.0, 3).unwrap();
    let latest = |key: &str| {
        tracker
            .run_data(run.id())
            .unwrap()
            .metrics
            .into_iter()
            .find(|metric| metric.key == key)
            .unwrap()
    };
    assert_eq!((latest("loss").step, latest("loss").value), (5, 1.0));
    // Same step: a later timestamp wins even with a smaller value.
    std::thread::sleep(std::time::Duration::from_millis(3));
    run.log_metric("loss", 0.5, 5).unwrap();
    assert_eq!(latest("loss").value, 0.5);
    // Same step and timestamp (one batch): the larger value wins.
    run.log_metrics(&[("acc", 0.2), ("acc", 0.7), ("acc", 0.4)], 1)
        .unwrap();
    assert_eq!(latest("acc").value, 0.7);
    assert_eq!(tracker.metric_history(run.id(), "acc").unwrap().len(), 3);
    // A higher step wins over everything.
    run.log_metrics(&[("acc", 0.1)], 2).unwrap();
    assert_eq!((latest("acc").step, latest("acc").value), (2, 0.1));
}

#[test]
fn history_is_ordered_by_step_and_keeps_every_point() {
    let (_directory, tracker) = temp_tracker();
    let run = started_run(&tracker);
    for step in [3, 1, 2, 0] {
        run.log_metrics(&[("loss", step as f64 * 10.0), ("acc", step as f64)], step)
            .unwrap();
    }
    let history = tracker.metric_history(run.id(), "loss").unwrap();
    let steps: Vec<i64> = history.iter().map(|point| point.step).collect();
    assert_eq!(steps, [0, 1, 2, 3]);
    assert!(
        history
            .iter()
            .all(|point| point.value == point.step as f64 * 10.0 && point.key == "loss")
    );
    assert!(
        tracker
            .metric_history(run.id(), "missing")
            .unwrap()
            .is_empty()
    );
    assert_eq!(tracker.all_metric_history(run.id()).unwrap().len(), 8);
}

#[test]
fn large_batches_of_many_keys_arrive_whole() {
    let (_directory, tracker) = temp_tracker();
    let run = started_run(&tracker);
    let keys: Vec<String> = (0..37).map(|index| format!("layer.{index}/grad")).collect();
    // 1111 points: exercises every multi-row INSERT size.
    let batch: Vec<(&str, f64)> = (0..1111)
        .map(|index| (keys[index % keys.len()].as_str(), index as f64))
        .collect();
    run.log_metrics(&batch, 0).unwrap();
    run.log_metrics(&batch[..5], 1).unwrap();
    let history = tracker.all_metric_history(run.id()).unwrap();
    assert_eq!(history.len(), 1116);
    let mut values: Vec<f64> = history
        .iter()
        .filter(|point| point.step == 0)
        .map(|point| point.value)
        .collect();
    values.sort_by(f64::total_cmp);
    assert_eq!(
        values,
        (0..1111).map(|index| index as f64).collect::<Vec<_>>()
    );
    let latest = tracker.run_data(run.id()).unwrap().metrics;
    assert_eq!(latest.len(), 37);
    let layer_0 = latest
        .iter()
        .find(|metric| metric.key == "layer.0/grad")
        .unwrap();
    assert_eq!((layer_0.step, layer_0.value), (1, 0.0));
    let layer_5 = latest
        .iter()
        .find(|metric| metric.key == "layer.5/grad")
        .unwrap();
    let largest_of_layer_5 = (0..1111).filter(|index| index % 37 == 5).max().unwrap();
    assert_eq!(
        (layer_5.step, layer_5.value),
        (0, largest_of_layer_5 as f64)
    );
}

#[test]
fn identical_points_are_all_kept_in_logging_order() {
    let (_directory, tracker) = temp_tracker();
    let run = started_run(&tracker);
    run.log_metrics(&[("loss", 1.0), ("loss", 1.0), ("loss", 2.0)], 0)
        .unwrap();
    run.log_metrics(&[("loss", 3.0), ("loss", 0.5)], 0).unwrap();
    let values: Vec<f64> = tracker
        .metric_history(run.id(), "loss")
        .unwrap()
        .into_iter()
        .map(|point| point.value)
        .collect();
    assert_eq!(values, [1.0, 1.0, 2.0, 3.0, 0.5]);
}

#[test]
fn nan_and_infinities_round_trip_exactly() {
    let (_directory, tracker) = temp_tracker();
    let run = started_run(&tracker);
    let values = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -1.5e300,
        f64::MIN_POSITIVE,
    ];
    for (step, value) in values.iter().enumerate() {
        run.log_metric("odd", *value, step as i64).unwrap();
        run.log_metric(&format!("single{step}"), *value, 0).unwrap();
    }
    let history = tracker.metric_history(run.id(), "odd").unwrap();
    assert_eq!(history.len(), values.len());
    for (point, expected) in history.iter().zip(values) {
        assert_eq!(
            point.value.to_bits(),
            expected.to_bits(),
            "step {}",
            point.step
        );
    }
    let latest = tracker.run_data(run.id()).unwrap().metrics;
    for (step, expected) in values.iter().enumerate() {
        let metric = latest
            .iter()
            .find(|metric| metric.key == format!("single{step}"))
            .unwrap();
        assert_eq!(metric.value.to_bits(), expected.to_bits());
    }
    // A NaN and a 0 at the same step and timestamp are different points.
    run.log_metrics(&[("mixed", f64::NAN), ("mixed", 0.0)], 0)
        .unwrap();
    assert_eq!(tracker.metric_history(run.id(), "mixed").unwrap().len(), 2);
}

#[test]
fn metric_keys_are_validated_and_a_bad_batch_stores_nothing() {
    let (_directory, tracker) = temp_tracker();
    let run = started_run(&tracker);
    match run.log_metrics(&[("ok", 1.0), ("../escape", 2.0)], 0) {
        Err(Error::InvalidKey {
            kind: "metric",
            key,
            ..
        }) => assert_eq!(key, "../escape"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(tracker.all_metric_history(run.id()).unwrap().is_empty());
    run.log_metrics::<&str>(&[], 0).unwrap();
}

#[test]
fn histograms_round_trip_by_step() {
    let (_directory, tracker) = temp_tracker();
    let run = started_run(&tracker);
    let early = Histogram {
        min: -1.0,
        max: 1.0,
        counts: vec![1, 5, 1],
    };
    let late = Histogram::from_values(&[0.0, 0.5, 1.0], 2);
    run.log_histogram("layer0/grad", 10, &late).unwrap();
    run.log_histogram("layer0/grad", 0, &early).unwrap();
    run.log_histogram("layer1/grad", 0, &early).unwrap();
    assert_eq!(
        tracker.histograms(run.id(), "layer0/grad").unwrap(),
        vec![(0, early.clone()), (10, late)]
    );
    let bad = Histogram {
        min: 1.0,
        max: 0.0,
        counts: vec![1],
    };
    assert!(matches!(
        run.log_histogram("h", 0, &bad),
        Err(Error::InvalidHistogram { .. })
    ));
    let empty = Histogram {
        min: 0.0,
        max: 1.0,
        counts: vec![],
    };
    assert!(matches!(
        run.log_histogram("h", 0, &empty),
        Err(Error::InvalidHistogram { .. })
    ));
    assert!(tracker.histograms(run.id(), "h").unwrap().is_empty());
}

#[test]
fn artifacts_are_copied_into_the_run_folder_and_recorded() {
    let (directory, tracker) = temp_tracker();
    let run = started_run(&tracker);
    let source = directory.path().join("weights.bin");
    // Larger than one chunk, so the multipart path writes several parts.
    let content: Vec<u8> = (0..(9 * 1024 * 1024 + 7))
        .map(|index| (index % 251) as u8)
        .collect();
    std::fs::write(&source, &content).unwrap();
    let relative = run.log_artifact(&source).unwrap();
    assert_eq!(relative, "weights.bin");
    let stored = run.artifact_dir().join(&relative);
    assert_eq!(
        run.artifact_dir(),
        tracker
            .artifact_root()
            .join("1")
            .join(run.id())
            .join("artifacts")
    );
    assert!(std::fs::read(&stored).unwrap() == content);
    assert_eq!(
        tracker.run_data(run.id()).unwrap().artifacts,
        vec!["weights.bin"]
    );
    let missing = directory.path().join("missing.txt");
    match run.log_artifact(&missing) {
        Err(Error::ArtifactSource { path, .. }) => assert_eq!(path, missing),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn clones_share_the_store_across_threads() {
    let (_directory, tracker) = temp_tracker();
    let experiment = tracker.experiment("threads").unwrap();
    let handles: Vec<_> = (0..4)
        .map(|thread| {
            let experiment = experiment.clone();
            std::thread::spawn(move || {
                let run = experiment.start_run(&format!("thread {thread}")).unwrap();
                for step in 0..50 {
                    run.log_metrics(&[("a", step as f64), ("b", 1.0)], step)
                        .unwrap();
                }
                run.id().to_owned()
            })
        })
        .collect();
    for handle in handles {
        let id = handle.join().unwrap();
        assert_eq!(tracker.all_metric_history(&id).unwrap().len(), 100);
    }
}

#[test]
fn uris_open_the_same_store() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("t.db");
    let run_id = {
        let tracker = Tracker::open(&path).unwrap();
        started_run(&tracker).id().to_owned()
    };
    let uri = format!("sqlite:///{}", path.display());
    let tracker = Tracker::open_uri(&uri).unwrap();
    assert_eq!(tracker.path(), path);
    assert!(tracker.resolve_run(&run_id).is_ok());
    assert!(Tracker::open(&uri).is_ok());
    assert!(matches!(
        Tracker::open("postgresql://host/db"),
        Err(Error::UnsupportedUri { .. })
    ));
}

/// Opens `path` expecting a refusal and checks that the file kept every byte.
fn check_refused(path: &Path, expected: fn(&Error) -> bool) {
    let before = std::fs::read(path).unwrap();
    let error = Tracker::open(path).unwrap_err();
    assert!(expected(&error), "unexpected error {error:?}");
    assert!(error.hint().is_some());
    assert!(
        std::fs::read(path).unwrap() == before,
        "the refused file was modified"
    );
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_untouched() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("notes.db");
    std::fs::write(&path, b"these are my notes, not a database\n".repeat(100)).unwrap();
    check_refused(&path, |error| matches!(error, Error::NotSqlite { .. }));
    let short = directory.path().join("short.db");
    std::fs::write(&short, b"SQLite").unwrap();
    check_refused(&short, |error| matches!(error, Error::NotSqlite { .. }));
}

#[test]
fn a_corrupt_sqlite_file_is_refused_untouched() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("corrupt.db");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(std::iter::repeat_n(0xA5, 4096));
    std::fs::write(&path, bytes).unwrap();
    check_refused(&path, |error| matches!(error, Error::Open { .. }));
}

#[test]
fn another_programs_database_is_refused_untouched() {
    let directory = tempfile::tempdir().unwrap();
    let foreign = directory.path().join("foreign.db");
    {
        let connection = Connection::open(&foreign).unwrap();
        connection
            .execute_batch("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT);")
            .unwrap();
    }
    check_refused(&foreign, |error| {
        matches!(error, Error::ForeignDatabase { .. })
    });
    let marked = directory.path().join("marked.db");
    {
        let connection = Connection::open(&marked).unwrap();
        connection
            .pragma_update(None, "application_id", 0x1234_5678)
            .unwrap();
    }
    check_refused(
        &marked,
        |error| matches!(error, Error::ForeignDatabase { detail, .. } if detail.contains("0x12345678")),
    );
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("newer.db");
    drop(Tracker::open(&path).unwrap());
    {
        let connection = Connection::open(&path).unwrap();
        connection.pragma_update(None, "user_version", 99).unwrap();
        // Leave a plain rollback-journal file so the bytes are all in one file.
        let _: String = connection
            .pragma_update_and_check(None, "journal_mode", "DELETE", |row| row.get(0))
            .unwrap();
    }
    check_refused(
        &path,
        |error| matches!(error, Error::SchemaTooNew { found: 99, supported, .. } if *supported == store::schema::LATEST_VERSION),
    );
}

#[test]
fn an_empty_file_becomes_a_store() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let tracker = Tracker::open(&path).unwrap();
    assert_eq!(tracker.experiments().unwrap().len(), 1);
}
