//! Experiment tracking for ML code: params, metrics, gradient histograms and artifacts
//! of every training run, kept in one embedded SQLite file that several processes can
//! write at once, with MLflow's data model and validation rules.
//!
//! ```
//! use tracker::{RunStatus, Tracker};
//!
//! # fn main() -> tracker::Result<()> {
//! # let directory = tempfile::tempdir().unwrap();
//! # let store_path = directory.path().join("tracker.db");
//! let tracker = Tracker::open(&store_path)?; // e.g. tracker::default_location(None)
//! let run = tracker.experiment("vanishing-gradients")?.start_run("sigmoid-xavier")?;
//! run.log_param("lr", 0.01)?;
//! for step in 0..3 {
//!     run.log_metrics(&[("loss", 1.0 / (step + 1) as f64), ("accuracy", 0.3 * step as f64)], step)?;
//! }
//! let run_id = run.id().to_owned();
//! run.finish(RunStatus::Finished)?;
//!
//! let data = tracker.run_data(&run_id)?;
//! assert_eq!(data.params["lr"], "0.01");
//! assert_eq!(tracker.metric_history(&run_id, "loss")?.len(), 3);
//! # Ok(())
//! # }
//! ```
//!
//! The `tracker` binary reads the same store: `tracker runs`, `tracker show RUN`,
//! `tracker export RUN --format csv`. Where the store lives is decided by
//! [`default_location`]: `--store`, else `SPOKES_TRACKER_URI`, else
//! `.spokes/tracker.db` under the project root.
//!
//! Modules: [`tracker`](Tracker) holds the handles, `store` the SQLite schema and
//! queries, [`validate`] MLflow's naming rules, [`export`] CSV and JSON output.

mod artifacts;
mod error;
pub mod export;
mod location;
mod model;
mod store;
mod tracker;
pub mod validate;
#[cfg(feature = "candle")]
pub mod watch;

pub use error::{Error, Result};
pub use export::{ExportFormat, export_run};
pub use location::{ENV_TRACKER_URI, PROJECT_STORE, default_location, path_from_uri, project_root};
pub use model::{ExperimentInfo, Histogram, Metric, RunData, RunInfo, RunStatus};
pub use tracker::{Experiment, Run, Tracker};
