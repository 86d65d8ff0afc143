//! Train one configuration from another program and read its gradients back from the store.
//!
//! `cargo run -p vanishing-demo --example embed`

use candle_core::Device;
use vanishing_demo::data::Dataset;
use vanishing_demo::train::{TrainConfig, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join("vanishing-demo-example");
    let tracker = tracker::Tracker::open(dir.join("tracker.db"))?;
    let run = tracker.experiment("example")?.start_run("sigmoid-naive")?;
    let config = TrainConfig {
        steps: 50,
        ..TrainConfig::default()
    };
    let outcome = train(
        config,
        &Dataset::spirals(256, 0.05, 7),
        &Device::Cpu,
        &run,
        |_| {},
    )?;
    let run_id = run.id().to_string();
    run.finish(tracker::RunStatus::Finished)?;

    let first = tracker.metric_history(&run_id, "grad_norm/layer_00")?;
    let last = tracker.metric_history(&run_id, "grad_norm/layer_19")?;
    println!(
        "step 0: first layer {:.2e}, last layer {:.2e}",
        first[0].value, last[0].value
    );
    println!(
        "final accuracy {:.1} %, store {}",
        100.0 * outcome.final_accuracy,
        tracker.path().display()
    );
    Ok(())
}
