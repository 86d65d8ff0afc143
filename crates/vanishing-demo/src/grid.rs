//! The comparison that shows the phenomenon: the same network trained under several
//! activation × init choices, each a tracker run under one parent run, with plots and a
//! summary written to an output folder.

use std::path::{Path, PathBuf};

use candle_core::Device;
use serde::Serialize;
use tracker::{Run, RunStatus, Tracker};

use crate::data::Dataset;
use crate::model::{Activation, Init};
use crate::plots::{self, Series};
use crate::train::{self, TrainConfig, TrainOutcome};
use crate::{Error, Result};

/// The tracker experiment every demo run is filed under.
pub const EXPERIMENT: &str = "vanishing-gradients";

/// One activation × init (× residual) choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// Non-linearity.
    pub activation: Activation,
    /// Weight initialisation.
    pub init: Init,
    /// Skip connections around the hidden layers.
    pub residual: bool,
}

impl Variant {
    /// `sigmoid+naive`, `relu+he+residual`, …
    pub fn label(&self) -> String {
        let residual = if self.residual { "+residual" } else { "" };
        format!("{}+{}{residual}", self.activation, self.init)
    }

    /// The comparison of Glorot & Bengio (2010) and its modern fixes.
    pub fn standard_set() -> Vec<Variant> {
        use Activation::*;
        use Init::*;
        [
            (Sigmoid, Naive, false),
            (Sigmoid, Glorot, false),
            (Tanh, Glorot, false),
            (Relu, He, false),
            (Relu, He, true),
        ]
        .into_iter()
        .map(|(activation, init, residual)| Variant {
            activation,
            init,
            residual,
        })
        .collect()
    }
}

/// The data set of a demo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DataConfig {
    /// Points per class.
    pub per_class: usize,
    /// Standard deviation of the Gaussian noise.
    pub noise: f32,
    /// Seed of the points.
    pub seed: u64,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            per_class: 512,
            noise: 0.05,
            seed: 7,
        }
    }
}

impl DataConfig {
    /// Generates the points.
    pub fn generate(&self) -> Result<Dataset> {
        if self.per_class == 0 {
            return Err(Error::invalid(
                "samples",
                "must be at least 1 point per class",
            ));
        }
        Ok(Dataset::spirals(self.per_class, self.noise, self.seed))
    }
}

/// What one configuration showed.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `sigmoid+naive`, …
    pub label: String,
    /// The tracker run.
    pub run_id: String,
    /// First-layer / last-layer weight-gradient norm at step 0.
    pub ratio_at_init: f64,
    /// The same ratio at the last step.
    pub ratio_at_end: f64,
    /// Whole-data cross-entropy after training.
    pub final_loss: f64,
    /// Whole-data accuracy after training.
    pub final_accuracy: f64,
    /// Weight-gradient norm of every layer at step 0.
    pub grad_norms_at_init: Vec<f64>,
    /// Weight-gradient norm of every layer at the last step.
    pub grad_norms_at_end: Vec<f64>,
}

impl Summary {
    /// The summary of one finished run.
    pub fn from_outcome(label: String, run_id: String, outcome: &TrainOutcome) -> Self {
        let norms = |record: Option<&train::StepRecord>| {
            record.map(|r| r.grad_norms.clone()).unwrap_or_default()
        };
        let (init, end) = (
            norms(outcome.history.first()),
            norms(outcome.history.last()),
        );
        Self {
            label,
            run_id,
            ratio_at_init: first_last_ratio(&init),
            ratio_at_end: first_last_ratio(&end),
            final_loss: outcome.final_loss,
            final_accuracy: outcome.final_accuracy,
            grad_norms_at_init: init,
            grad_norms_at_end: end,
        }
    }
}

/// `norms[0] / norms[last]`: how much of the output layer's gradient reaches the input layer.
pub fn first_last_ratio(norms: &[f64]) -> f64 {
    match (norms.first(), norms.last()) {
        (Some(first), Some(last)) => first / last,
        _ => f64::NAN,
    }
}

/// The whole result of a grid, as printed and written to `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct GridReport {
    /// Tracker experiment name.
    pub experiment: String,
    /// The parent run holding the comparison plots.
    pub parent_run_id: String,
    /// Where the plots and summary were written.
    pub out_dir: PathBuf,
    /// One row per configuration, in the order run.
    pub rows: Vec<Summary>,
    /// Every file written to `out_dir`.
    pub files: Vec<PathBuf>,
}

/// What the grid tells its caller as it goes, for progress display.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// A configuration starts training for `steps` steps.
    Started {
        /// Its label.
        label: &'a str,
        /// Steps it will take.
        steps: usize,
    },
    /// One more step done.
    Step,
    /// The configuration is done.
    Finished,
}

/// The settings of a grid.
#[derive(Debug, Clone)]
pub struct GridConfig {
    /// Settings shared by every configuration (activation, init and residual are overridden).
    pub base: TrainConfig,
    /// The configurations to compare.
    pub variants: Vec<Variant>,
    /// The data.
    pub data: DataConfig,
    /// Device tag recorded on every run.
    pub device_name: String,
}

/// Tags every demo run carries, so a run can be traced back to what produced it.
pub fn provenance_tags(run: &Run, device_name: &str) -> Result<()> {
    run.set_tag("device", device_name)?;
    run.set_tag("spokes.version", env!("CARGO_PKG_VERSION"))?;
    run.set_tag("candle.version", crate::CANDLE_VERSION)?;
    run.set_tag("mlflow.source.name", "vanishing-demo")?;
    Ok(())
}

/// Trains every variant, logs each as a child run, draws the plots and writes the summary.
pub fn run_grid(
    config: &GridConfig,
    tracker: &Tracker,
    out_dir: &Path,
    device: &Device,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<GridReport> {
    for variant in &config.variants {
        TrainConfig {
            model: variant.apply(config.base.model),
            ..config.base
        }
        .validate()?;
    }
    let data = config.data.generate()?;
    std::fs::create_dir_all(out_dir).map_err(|source| Error::Write {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut files = vec![out_dir.join("synthetic_data_sample.png")];
    plots::data_sample(&data, &files[0])?;

    let experiment = tracker.experiment(EXPERIMENT)?;
    let parent = experiment.start_run("grid")?;
    provenance_tags(&parent, &config.device_name)?;
    parent.log_artifact(&files[0])?;

    let mut rows = Vec::new();
    let mut histories = Vec::new();
    for variant in &config.variants {
        let label = variant.label();
        let run = experiment.start_run(&label)?;
        provenance_tags(&run, &config.device_name)?;
        run.set_tag("mlflow.parentRunId", parent.id())?;
        let train_config = TrainConfig {
            model: variant.apply(config.base.model),
            ..config.base
        };
        progress(Progress::Started {
            label: &label,
            steps: train_config.steps,
        });
        let outcome = match train::train(train_config, &data, device, &run, |_| {
            progress(Progress::Step)
        }) {
            Ok(outcome) => outcome,
            Err(e) => {
                run.finish(RunStatus::Failed)?;
                parent.finish(RunStatus::Failed)?;
                return Err(e);
            }
        };
        progress(Progress::Finished);
        let heatmap = out_dir.join(format!("grad_heatmap_{}.png", file_stem(&label)));
        plots::gradient_heatmap(
            &format!("Gradient norms, {label}"),
            &outcome.history,
            &heatmap,
        )?;
        run.log_artifact(&heatmap)?;
        files.push(heatmap);
        let weights = out_dir.join(format!("weights_{}.safetensors", file_stem(&label)));
        candle_core::safetensors::save(&outcome.weights, &weights).map_err(|e| Error::Write {
            path: weights.clone(),
            source: std::io::Error::other(e),
        })?;
        run.log_artifact(&weights)?;
        files.push(weights);
        rows.push(Summary::from_outcome(label, run.id().to_string(), &outcome));
        histories.push(outcome.history);
        run.finish(RunStatus::Finished)?;
    }

    let comparisons = comparison_plots(&rows, &histories, out_dir)?;
    for plot in &comparisons {
        parent.log_artifact(plot)?;
    }
    files.extend(comparisons);
    let summary = out_dir.join("summary.json");
    files.push(summary.clone());
    let report = GridReport {
        experiment: EXPERIMENT.to_string(),
        parent_run_id: parent.id().to_string(),
        out_dir: out_dir.to_path_buf(),
        rows,
        files,
    };
    let write_error = |source| Error::Write {
        path: summary.clone(),
        source,
    };
    let json =
        serde_json::to_vec_pretty(&report).map_err(|e| write_error(std::io::Error::other(e)))?;
    std::fs::write(&summary, json).map_err(write_error)?;
    parent.log_artifact(&summary)?;
    parent.finish(RunStatus::Finished)?;
    Ok(report)
}

impl Variant {
    fn apply(&self, model: crate::model::MlpConfig) -> crate::model::MlpConfig {
        crate::model::MlpConfig {
            activation: self.activation,
            init: self.init,
            residual: self.residual,
            ..model
        }
    }
}

/// `relu+he+residual` → `relu-he-residual`, safe in file names on every platform.
fn file_stem(label: &str) -> String {
    label.replace('+', "-")
}

fn series<'a>(rows: &'a [Summary], points: &'a [Vec<(f64, f64)>]) -> Vec<Series<'a>> {
    rows.iter()
        .zip(points)
        .map(|(row, points)| Series {
            label: &row.label,
            points,
        })
        .collect()
}

fn comparison_plots(
    rows: &[Summary],
    histories: &[Vec<train::StepRecord>],
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    let by_layer = |norms: &[f64]| {
        norms
            .iter()
            .enumerate()
            .map(|(l, &v)| (l as f64, v))
            .collect::<Vec<_>>()
    };
    let init: Vec<_> = rows
        .iter()
        .map(|r| by_layer(&r.grad_norms_at_init))
        .collect();
    let end: Vec<_> = rows
        .iter()
        .map(|r| by_layer(&r.grad_norms_at_end))
        .collect();
    let losses: Vec<Vec<(f64, f64)>> = histories
        .iter()
        .map(|h| h.iter().map(|r| (r.step as f64, r.loss)).collect())
        .collect();
    let profiles = out_dir.join("grad_norm_by_layer.png");
    plots::gradient_profiles(&series(rows, &init), &series(rows, &end), &profiles)?;
    let loss = out_dir.join("loss_curves.png");
    plots::loss_curves(&series(rows, &losses), &loss)?;
    Ok(vec![profiles, loss])
}
