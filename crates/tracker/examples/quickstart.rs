//! Embedding the tracker: log a tiny "training" run, then read it back.
//!
//! Run with `cargo run -p tracker --example quickstart`, then `tracker runs`.

use tracker::{RunStatus, Tracker};

fn main() -> tracker::Result<()> {
    // `--store`-less default: $SPOKES_TRACKER_URI, else .spokes/tracker.db in the project.
    let tracker = Tracker::open(tracker::default_location(None))?;
    let run = tracker
        .experiment("quickstart")?
        .start_run("toy-regression")?;
    run.log_params(&[("lr", "0.1"), ("epochs", "20")])?;
    let mut weight = 0.0;
    for step in 0..20 {
        let gradient = 2.0 * (weight - 3.0); // d/dw (w - 3)^2
        weight -= 0.1 * gradient;
        run.log_metrics(
            &[("loss", (weight - 3.0f64).powi(2)), ("weight", weight)],
            step,
        )?;
    }
    let run_id = run.id().to_owned();
    run.finish(RunStatus::Finished)?;
    for metric in tracker.run_data(&run_id)?.metrics {
        println!("{} = {} at step {}", metric.key, metric.value, metric.step);
    }
    println!("run {run_id} is in {}", tracker.path().display());
    Ok(())
}
