//! `tracker`: list, inspect, export and close the runs of a tracker store.
//!
//! Glue only: parse flags, call the library, print. Errors are rendered by
//! `spokes_cli::report_error` and nowhere else.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use spokes_cli::ColorChoice;
use tracker::{Error, ExportFormat, RunInfo, RunStatus, Tracker};

/// Inspect the experiments, runs and metrics recorded by the `tracker` library.
#[derive(Debug, Parser)]
#[command(name = "tracker", version)]
struct Cli {
    /// The store file or `sqlite:///` URI [default: $SPOKES_TRACKER_URI, else
    /// .spokes/tracker.db under the project root].
    #[arg(long, global = true, value_name = "PATH")]
    store: Option<PathBuf>,
    /// Print machine-readable JSON on stdout instead of tables.
    #[arg(long, global = true)]
    json: bool,
    /// Print only data, no confirmations or notes.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more detail, including error internals.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// When to color output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the experiments.
    Experiments,
    /// List runs, newest first.
    Runs {
        /// Only the runs of this experiment.
        #[arg(long, short)]
        experiment: Option<String>,
    },
    /// Show a run: info, params, tags, latest metrics, artifacts.
    Show {
        /// A run id or a unique prefix of one.
        run: String,
    },
    /// Show the history of one metric of a run.
    Metric {
        /// A run id or a unique prefix of one.
        run: String,
        /// The metric name.
        key: String,
    },
    /// Export all metric history of a run.
    Export {
        /// A run id or a unique prefix of one.
        run: String,
        /// Output format.
        #[arg(long, value_enum)]
        format: Format,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Close a run, e.g. one left RUNNING by a crashed process.
    Mark {
        /// A run id or a unique prefix of one.
        run: String,
        /// The new status.
        #[arg(value_enum)]
        status: Mark,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mark {
    Failed,
    Finished,
    Killed,
}

/// What every command needs besides its own arguments.
struct Output {
    json: bool,
    quiet: bool,
    color: bool,
}

fn main() -> ExitCode {
    // clap prints its own usage errors and exits with 2, help and version with 0.
    let cli = Cli::parse();
    let color = cli.color.for_stdout();
    let output = Output {
        json: cli.json,
        quiet: cli.quiet,
        color,
    };
    match run(cli.command, cli.store, &output) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Export(error)) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            // `tracker metric … | head` closed the pipe; that is not a failure.
            ExitCode::SUCCESS
        }
        Err(error) => {
            spokes_cli::report_error(
                &error,
                error.hint().as_deref(),
                cli.color.for_stderr(),
                cli.verbose,
            );
            // Every error of this tool is about its input: the run, the store, a flag.
            ExitCode::from(2)
        }
    }
}

fn run(command: Command, store: Option<PathBuf>, output: &Output) -> tracker::Result<()> {
    let location = tracker::default_location(store.as_deref());
    let tracker = Tracker::open(&location)?;
    let mut stdout = std::io::stdout().lock();
    let out: &mut dyn Write = &mut stdout;
    match command {
        Command::Experiments => experiments(&tracker, output, out),
        Command::Runs { experiment } => runs(&tracker, experiment.as_deref(), output, out),
        Command::Show { run } => show(&tracker, &run, output, out),
        Command::Metric { run, key } => metric(&tracker, &run, &key, output, out),
        Command::Export {
            run,
            format,
            output: file,
        } => export(&tracker, &run, format, file, output, out),
        Command::Mark { run, status } => mark(&tracker, &run, status, output, out),
    }
}

fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> tracker::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|error| Error::Export(error.into()))?;
    writeln!(out).map_err(Error::Export)
}

fn write_table(out: &mut dyn Write, table: &Table) -> tracker::Result<()> {
    writeln!(out, "{table}").map_err(Error::Export)
}

fn note(output: &Output, text: &str) {
    if !output.quiet {
        eprintln!("{text}");
    }
}

fn new_table(output: &Output, header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    if output.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
}

fn experiments(tracker: &Tracker, output: &Output, out: &mut dyn Write) -> tracker::Result<()> {
    let experiments = tracker.experiments()?;
    if output.json {
        return write_json(out, &experiments);
    }
    let mut table = new_table(output, &["id", "name", "runs", "created"]);
    for experiment in &experiments {
        let runs = tracker.runs(Some(&experiment.name))?.len();
        table.add_row(vec![
            experiment.id.clone(),
            experiment.name.clone(),
            runs.to_string(),
            format_time(experiment.creation_time),
        ]);
    }
    write_table(out, &table)
}

fn status_cell(status: RunStatus) -> Cell {
    let cell = Cell::new(status);
    match status {
        RunStatus::Finished => cell.fg(Color::Green),
        RunStatus::Failed | RunStatus::Killed => cell.fg(Color::Red),
        RunStatus::Running | RunStatus::Scheduled => cell.fg(Color::Yellow),
    }
}

fn runs(
    tracker: &Tracker,
    experiment: Option<&str>,
    output: &Output,
    out: &mut dyn Write,
) -> tracker::Result<()> {
    let runs = tracker.runs(experiment)?;
    if output.json {
        return write_json(out, &runs);
    }
    if runs.is_empty() {
        note(
            output,
            &format!("no runs yet in {}", tracker.path().display()),
        );
        return Ok(());
    }
    let experiment_names: std::collections::HashMap<String, String> = tracker
        .experiments()?
        .into_iter()
        .map(|experiment| (experiment.id, experiment.name))
        .collect();
    let mut table = new_table(
        output,
        &["id", "name", "experiment", "status", "start", "duration"],
    );
    for run in &runs {
        table.add_row(vec![
            Cell::new(&run.run_id[..8.min(run.run_id.len())]),
            Cell::new(&run.run_name),
            Cell::new(
                experiment_names
                    .get(&run.experiment_id)
                    .unwrap_or(&run.experiment_id),
            ),
            status_cell(run.status),
            Cell::new(format_time(run.start_time)),
            Cell::new(duration_of(run)),
        ]);
    }
    write_table(out, &table)
}

fn show(tracker: &Tracker, run: &str, output: &Output, out: &mut dyn Write) -> tracker::Result<()> {
    let info = tracker.resolve_run(run)?;
    let data = tracker.run_data(&info.run_id)?;
    if output.json {
        return write_json(out, &data);
    }
    let mut summary = new_table(output, &["run", &data.info.run_id]);
    summary.add_row(vec![Cell::new("name"), Cell::new(&data.info.run_name)]);
    summary.add_row(vec![
        Cell::new("experiment"),
        Cell::new(&data.info.experiment_id),
    ]);
    summary.add_row(vec![Cell::new("status"), status_cell(data.info.status)]);
    summary.add_row(vec![
        Cell::new("start"),
        Cell::new(format_time(data.info.start_time)),
    ]);
    summary.add_row(vec![
        Cell::new("duration"),
        Cell::new(duration_of(&data.info)),
    ]);
    summary.add_row(vec![
        Cell::new("artifacts"),
        Cell::new(&data.info.artifact_uri),
    ]);
    write_table(out, &summary)?;
    for (title, pairs) in [("param", &data.params), ("tag", &data.tags)] {
        if pairs.is_empty() {
            continue;
        }
        let mut table = new_table(output, &[title, "value"]);
        for (key, value) in pairs {
            table.add_row(vec![key, value]);
        }
        write_table(out, &table)?;
    }
    if !data.metrics.is_empty() {
        let mut table = new_table(output, &["metric", "latest value", "step"]);
        for metric in &data.metrics {
            table.add_row(vec![
                metric.key.clone(),
                metric.value.to_string(),
                metric.step.to_string(),
            ]);
        }
        write_table(out, &table)?;
    }
    if !data.artifacts.is_empty() {
        let mut table = new_table(output, &["artifact"]);
        for artifact in &data.artifacts {
            table.add_row(vec![artifact]);
        }
        write_table(out, &table)?;
    }
    Ok(())
}

fn metric(
    tracker: &Tracker,
    run: &str,
    key: &str,
    output: &Output,
    out: &mut dyn Write,
) -> tracker::Result<()> {
    let info = tracker.resolve_run(run)?;
    let history = tracker.metric_history(&info.run_id, key)?;
    if history.is_empty() {
        return Err(Error::MetricNotFound {
            run_id: info.run_id,
            key: key.to_owned(),
        });
    }
    if output.json {
        return write_json(out, &history);
    }
    let mut table = new_table(output, &["step", "value", "timestamp"]);
    for point in &history {
        table.add_row(vec![
            point.step.to_string(),
            point.value.to_string(),
            format_time(point.timestamp),
        ]);
    }
    write_table(out, &table)
}

fn export(
    tracker: &Tracker,
    run: &str,
    format: Format,
    file: Option<PathBuf>,
    output: &Output,
    out: &mut dyn Write,
) -> tracker::Result<()> {
    let info = tracker.resolve_run(run)?;
    let format = match format {
        Format::Csv => ExportFormat::Csv,
        Format::Json => ExportFormat::Json,
    };
    match file {
        None => tracker::export_run(tracker, &info.run_id, format, out),
        Some(path) => {
            let file_error = |source| Error::WriteFile {
                path: path.clone(),
                source,
            };
            let mut writer =
                std::io::BufWriter::new(std::fs::File::create(&path).map_err(file_error)?);
            tracker::export_run(tracker, &info.run_id, format, &mut writer).map_err(|error| {
                match error {
                    Error::Export(source) => file_error(source),
                    other => other,
                }
            })?;
            writer.flush().map_err(file_error)?;
            note(output, &format!("wrote {}", path.display()));
            Ok(())
        }
    }
}

fn mark(
    tracker: &Tracker,
    run: &str,
    status: Mark,
    output: &Output,
    out: &mut dyn Write,
) -> tracker::Result<()> {
    let info = tracker.resolve_run(run)?;
    let status = match status {
        Mark::Failed => RunStatus::Failed,
        Mark::Finished => RunStatus::Finished,
        Mark::Killed => RunStatus::Killed,
    };
    tracker.set_run_status(&info.run_id, status)?;
    let updated = tracker.resolve_run(&info.run_id)?;
    if output.json {
        return write_json(out, &updated);
    }
    note(
        output,
        &format!(
            "run {} ({}) is now {} (was {})",
            updated.run_id, updated.run_name, updated.status, info.status
        ),
    );
    Ok(())
}

/// How long a run took, or has been running.
fn duration_of(run: &RunInfo) -> String {
    match run.end_time {
        Some(end) => format_duration(end - run.start_time),
        None if run.status == RunStatus::Running => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_millis() as i64);
            format!("{} (running)", format_duration(now - run.start_time))
        }
        None => "-".to_owned(),
    }
}

fn format_duration(milliseconds: i64) -> String {
    let duration = Duration::from_millis(milliseconds.max(0) as u64);
    let seconds = duration.as_secs();
    match seconds {
        0 => format!("{}ms", duration.as_millis()),
        1..60 => format!("{:.1}s", duration.as_secs_f64()),
        60..3600 => format!("{}m {}s", seconds / 60, seconds % 60),
        _ => format!("{}h {}m", seconds / 3600, (seconds % 3600) / 60),
    }
}

/// A timestamp in milliseconds as `YYYY-MM-DD HH:MM:SS` UTC.
fn format_time(milliseconds: i64) -> String {
    match jiff::Timestamp::from_millisecond(milliseconds) {
        Ok(timestamp) => timestamp.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => format!("{milliseconds} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_as_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(format_time(1_700_000_000_123), "2023-11-14 22:13:20");
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(format_duration(250), "250ms");
        assert_eq!(format_duration(1500), "1.5s");
        assert_eq!(format_duration(125_000), "2m 5s");
        assert_eq!(format_duration(3_900_000), "1h 5m");
    }
}
