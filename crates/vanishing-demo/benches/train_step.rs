//! One training step of the default network (20 layers × 64 units, batch 256, CPU), with and
//! without the per-layer statistics written to the tracker. Compare with
//! `benches/torch_step.py`, the same step in PyTorch.

use candle_core::Device;
use criterion::{Criterion, criterion_group, criterion_main};
use vanishing_demo::data::Dataset;
use vanishing_demo::train::{TrainConfig, Trainer};

// The same allocator as the `vanishing-demo` binary (see its main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn train_step(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let tracker = tracker::Tracker::open(dir.path().join("bench.db")).expect("store");
    let experiment = tracker.experiment("bench").expect("experiment");
    let data = Dataset::spirals(512, 0.05, 7);
    let mut group = c.benchmark_group("train_step_20x64_batch256");
    for (name, log_every) in [("with_norms_logged", 1), ("without_logging", usize::MAX)] {
        let run = experiment.start_run(name).expect("run");
        let config = TrainConfig {
            log_every,
            histogram_every: 0,
            steps: usize::MAX,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(config, &data, &Device::Cpu, &run).expect("trainer");
        // Step 0 is always logged; start past it so `without_logging` logs nothing.
        let mut step = 1;
        group.bench_function(name, |b| {
            b.iter(|| {
                trainer.step(step).expect("step");
                step += 1;
            })
        });
    }
    group.finish();
}

criterion_group!(benches, train_step);
criterion_main!(benches);
