//! A run's metric history as CSV or JSON, for spreadsheets and scripts.

use std::io::Write;
use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{Metric, RunData};
use crate::tracker::Tracker;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One row per point: `key,step,timestamp,value`.
    Csv,
    /// The run's data (as [`Tracker::run_data`]) plus a `history` array of every point.
    Json,
}

impl FromStr for ExportFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "csv" => Ok(ExportFormat::Csv),
            "json" => Ok(ExportFormat::Json),
            _ => Err(format!("unknown export format `{text}`; use csv or json")),
        }
    }
}

/// The JSON export: the run, then its full history.
#[derive(Serialize)]
struct RunExport<'a> {
    #[serde(flatten)]
    run: &'a RunData,
    history: &'a [Metric],
}

/// Writes every metric point of `run_id` to `output` in `format`.
///
/// Non-finite values are written as `NaN`, `inf` and `-inf` in CSV (Python's `float`
/// reads them back) and as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` in JSON.
pub fn export_run(
    tracker: &Tracker,
    run_id: &str,
    format: ExportFormat,
    output: &mut dyn Write,
) -> Result<()> {
    let history = tracker.all_metric_history(run_id)?;
    match format {
        ExportFormat::Csv => write_csv(&history, output),
        ExportFormat::Json => {
            let run = tracker.run_data(run_id)?;
            let export = RunExport {
                run: &run,
                history: &history,
            };
            serde_json::to_writer_pretty(&mut *output, &export)
                .map_err(|error| Error::Export(error.into()))?;
            writeln!(output).map_err(Error::Export)
        }
    }
}

fn write_csv(history: &[Metric], output: &mut dyn Write) -> Result<()> {
    let mut writer = csv::Writer::from_writer(output);
    let csv_error = |error: csv::Error| Error::Export(error.into());
    writer
        .write_record(["key", "step", "timestamp", "value"])
        .map_err(csv_error)?;
    for point in history {
        writer
            .write_record([
                point.key.as_str(),
                &point.step.to_string(),
                &point.timestamp.to_string(),
                &point.value.to_string(),
            ])
            .map_err(csv_error)?;
    }
    writer.flush().map_err(Error::Export)
}
