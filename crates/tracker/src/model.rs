//! The data model, shaped like MLflow's entities so that a REST server can hand
//! these values out unchanged.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The state of a run, with MLflow's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RunStatus {
    /// The run is in progress, or its process died without finishing it.
    Running,
    /// The run is queued.
    Scheduled,
    /// The run ended normally.
    Finished,
    /// The run ended with an error.
    Failed,
    /// The run was stopped from outside.
    Killed,
}

impl RunStatus {
    /// The status as MLflow spells it, e.g. `"RUNNING"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Scheduled => "SCHEDULED",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }

    /// Whether a run in this status has ended (finished, failed or killed).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Finished | RunStatus::Failed | RunStatus::Killed
        )
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = Error;

    /// Parses MLflow's names, ignoring case.
    fn from_str(text: &str) -> Result<Self, Error> {
        [
            RunStatus::Running,
            RunStatus::Scheduled,
            RunStatus::Finished,
            RunStatus::Failed,
            RunStatus::Killed,
        ]
        .into_iter()
        .find(|status| status.as_str().eq_ignore_ascii_case(text))
        .ok_or_else(|| Error::InvalidStatus {
            value: text.to_owned(),
        })
    }
}

/// A histogram of equal-width bins over `[min, max]`, e.g. of a layer's gradients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// The lower edge of the first bin.
    pub min: f64,
    /// The upper edge of the last bin.
    pub max: f64,
    /// How many values fell into each bin, from `min` to `max`.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// Bins the finite values of `values` into `bins` equal-width bins spanning their
    /// range; NaN and infinite values are left out. With no finite value, the result
    /// spans `[0, 0]` with all counts zero.
    pub fn from_values(values: &[f64], bins: usize) -> Histogram {
        let bins = bins.max(1);
        let (min, max) = values
            .iter()
            .filter(|value| value.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), &value| {
                (low.min(value), high.max(value))
            });
        let mut counts = vec![0; bins];
        if min > max {
            return Histogram {
                min: 0.0,
                max: 0.0,
                counts,
            };
        }
        let width = max - min;
        for &value in values.iter().filter(|value| value.is_finite()) {
            let bin = if width > 0.0 {
                // Truncation is the binning; the top edge belongs to the last bin.
                (((value - min) / width) * bins as f64) as usize
            } else {
                0
            };
            counts[bin.min(bins - 1)] += 1;
        }
        Histogram { min, max, counts }
    }

    /// The total number of values counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// An experiment: a named group of runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentInfo {
    /// The id, an integer as a string; `"0"` is the `Default` experiment.
    pub id: String,
    /// The unique name.
    pub name: String,
    /// Where the experiment's artifacts live, as a `file://` URI.
    pub artifact_location: String,
    /// `active` or `deleted`.
    pub lifecycle_stage: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub creation_time: i64,
    /// Last change, milliseconds since the Unix epoch.
    pub last_update_time: i64,
}

/// What a run is: its identity, status and times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunInfo {
    /// 32 lowercase hex characters.
    pub run_id: String,
    /// The human name given at start.
    pub run_name: String,
    /// The experiment the run belongs to.
    pub experiment_id: String,
    /// The current status.
    pub status: RunStatus,
    /// Start time, milliseconds since the Unix epoch.
    pub start_time: i64,
    /// End time, milliseconds since the Unix epoch; `None` while running.
    pub end_time: Option<i64>,
    /// Where the run's artifacts live, as a `file://` URI.
    pub artifact_uri: String,
    /// `active` or `deleted`.
    pub lifecycle_stage: String,
}

/// One measured value of a metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    /// The metric name.
    pub key: String,
    /// The value; NaN and infinities are kept as they were logged.
    #[serde(serialize_with = "serialize_float")]
    pub value: f64,
    /// When it was logged, milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The training step it belongs to.
    pub step: i64,
}

/// Everything recorded about a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunData {
    /// Identity, status and times.
    pub info: RunInfo,
    /// The params, immutable once logged.
    pub params: BTreeMap<String, String>,
    /// The tags, including MLflow's `mlflow.runName`.
    pub tags: BTreeMap<String, String>,
    /// The latest value of each metric (highest step, then timestamp, then value),
    /// sorted by key.
    pub metrics: Vec<Metric>,
    /// Artifact paths relative to the run's artifact directory, sorted.
    pub artifacts: Vec<String>,
}

/// JSON has no NaN or infinity; write them as the strings MLflow's REST API uses
/// (`"NaN"`, `"Infinity"`, `"-Infinity"`) instead of failing or writing `null`.
fn serialize_float<S: serde::Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_nan() {
        serializer.serialize_str("NaN")
    } else if value.is_infinite() {
        serializer.serialize_str(if *value > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        })
    } else {
        serializer.serialize_f64(*value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_text_ignoring_case() {
        for status in [
            RunStatus::Running,
            RunStatus::Scheduled,
            RunStatus::Finished,
            RunStatus::Failed,
            RunStatus::Killed,
        ] {
            assert_eq!(status.to_string().parse::<RunStatus>().unwrap(), status);
            assert_eq!(
                status
                    .to_string()
                    .to_lowercase()
                    .parse::<RunStatus>()
                    .unwrap(),
                status
            );
        }
        assert!("done".parse::<RunStatus>().is_err());
        assert_eq!(
            serde_json::to_string(&RunStatus::Failed).unwrap(),
            "\"FAILED\""
        );
    }

    #[test]
    fn histogram_bins_values_and_skips_non_finite_ones() {
        let histogram = Histogram::from_values(&[0.0, 1.0, 2.0, 3.0, 4.0, f64::NAN], 4);
        assert_eq!((histogram.min, histogram.max), (0.0, 4.0));
        assert_eq!(histogram.counts, vec![1, 1, 1, 2]);
        let constant = Histogram::from_values(&[5.0, 5.0], 3);
        assert_eq!(constant.counts, vec![2, 0, 0]);
        let empty = Histogram::from_values(&[f64::INFINITY], 2);
        assert_eq!(empty.total(), 0);
    }

    #[test]
    fn non_finite_metric_values_serialize_as_mlflow_strings() {
        let metric = |value| Metric {
            key: "loss".into(),
            value,
            timestamp: 1,
            step: 2,
        };
        let json = serde_json::to_value(metric(f64::NAN)).unwrap();
        assert_eq!(json["value"], "NaN");
        let json = serde_json::to_value(metric(f64::NEG_INFINITY)).unwrap();
        assert_eq!(json["value"], "-Infinity");
        let json = serde_json::to_value(metric(0.5)).unwrap();
        assert_eq!(json["value"], 0.5);
    }
}
