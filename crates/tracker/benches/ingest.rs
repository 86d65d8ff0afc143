//! Metric ingest speed: batches of 1000 points per `log_metrics` call into a real store
//! on disk (target: at least 1,000,000 points per second), and the cost of reading one
//! key's history back.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tracker::Tracker;

const POINTS_PER_BATCH: usize = 1000;

/// Logs batches of `POINTS_PER_BATCH` points cycling over `key_count` keys, one step per
/// batch, as a training loop (few keys, repeated) or a gradient watcher (one key per
/// layer statistic) would.
fn bench_batches(criterion: &mut Criterion, name: &str, key_count: usize) {
    let directory = tempfile::tempdir().unwrap();
    let tracker = Tracker::open(directory.path().join("bench.db")).unwrap();
    let run = tracker
        .experiment("bench")
        .unwrap()
        .start_run(name)
        .unwrap();
    let keys: Vec<String> = (0..key_count)
        .map(|key| format!("layer{key}/grad_norm"))
        .collect();
    let mut step = 0i64;
    let mut group = criterion.benchmark_group("ingest");
    group.throughput(Throughput::Elements(POINTS_PER_BATCH as u64));
    group.bench_function(name, |bencher| {
        bencher.iter(|| {
            let batch: Vec<(&str, f64)> = (0..POINTS_PER_BATCH)
                .map(|index| {
                    (
                        keys[index % key_count].as_str(),
                        (step as f64) + index as f64 * 1e-3,
                    )
                })
                .collect();
            run.log_metrics(black_box(&batch), step).unwrap();
            step += 1;
        });
    });
    group.finish();
}

/// The read side of the trade-off: one key's history out of a run of 2,000,000 points
/// (2000 batches of 1000 points over 20 keys, so 100,000 points per key).
fn bench_history(criterion: &mut Criterion) {
    let directory = tempfile::tempdir().unwrap();
    let tracker = Tracker::open(directory.path().join("bench.db")).unwrap();
    let run = tracker
        .experiment("bench")
        .unwrap()
        .start_run("history")
        .unwrap();
    let keys: Vec<String> = (0..20).map(|key| format!("layer{key}/grad_norm")).collect();
    for step in 0..2000 {
        let batch: Vec<(&str, f64)> = (0..POINTS_PER_BATCH)
            .map(|index| (keys[index % keys.len()].as_str(), index as f64))
            .collect();
        run.log_metrics(&batch, step).unwrap();
    }
    let mut group = criterion.benchmark_group("history");
    group.throughput(Throughput::Elements(100_000));
    group.sample_size(10);
    group.bench_function("one key of a 2M-point run", |bencher| {
        bencher.iter(|| {
            let history = tracker
                .metric_history(run.id(), "layer7/grad_norm")
                .unwrap();
            assert_eq!(history.len(), 100_000);
            history
        });
    });
    group.finish();
}

fn ingest(criterion: &mut Criterion) {
    bench_batches(criterion, "1000 points over 20 keys", 20);
    bench_batches(criterion, "1000 points over 1000 keys", 1000);
    bench_history(criterion);
}

criterion_group!(benches, ingest);
criterion_main!(benches);
