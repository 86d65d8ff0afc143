//! Every SQL statement of the crate. Functions take a [`Connection`] (a transaction
//! derefs to one) and leave transaction boundaries to the caller.

use std::collections::{BTreeMap, HashMap};

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::Result;
use crate::model::{ExperimentInfo, Histogram, Metric, RunInfo, RunStatus};

const EXPERIMENT_COLUMNS: &str =
    "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time";

fn experiment_from_row(row: &Row<'_>) -> rusqlite::Result<ExperimentInfo> {
    Ok(ExperimentInfo {
        id: row.get::<_, i64>(0)?.to_string(),
        name: row.get(1)?,
        artifact_location: row.get(2)?,
        lifecycle_stage: row.get(3)?,
        creation_time: row.get(4)?,
        last_update_time: row.get(5)?,
    })
}

pub(crate) fn experiment_by_name(
    connection: &Connection,
    name: &str,
) -> Result<Option<ExperimentInfo>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE name = ?1"
    ))?;
    Ok(statement
        .query_row([name], experiment_from_row)
        .optional()?)
}

/// Inserts an experiment and returns its id; the artifact location is derived from
/// the id, which SQLite assigns, hence the closure.
pub(crate) fn create_experiment(
    connection: &Connection,
    name: &str,
    now: i64,
    artifact_location: impl FnOnce(i64) -> String,
) -> Result<ExperimentInfo> {
    connection.execute(
        "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time)
         VALUES (?1, '', ?2, ?2)",
        params![name, now],
    )?;
    let id = connection.last_insert_rowid();
    connection.execute(
        "UPDATE experiments SET artifact_location = ?2 WHERE experiment_id = ?1",
        params![id, artifact_location(id)],
    )?;
    Ok(experiment_by_name(connection, name)?.expect("the experiment was just inserted"))
}

pub(crate) fn experiments(connection: &Connection) -> Result<Vec<ExperimentInfo>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {EXPERIMENT_COLUMNS} FROM experiments ORDER BY experiment_id"
    ))?;
    let experiments = statement
        .query_map([], experiment_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(experiments)
}

/// The columns [`run_from_row`] reads, for a `runs` table aliased `r`; the internal
/// integer id comes last.
const RUN_COLUMNS: &str = "r.run_uuid, r.name, r.experiment_id, r.status, r.start_time, \
                           r.end_time, r.artifact_uri, r.lifecycle_stage, r.id";

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<(i64, RunInfo)> {
    let status: String = row.get(3)?;
    let status = status.parse::<RunStatus>().map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(3, Type::Text, Box::new(error))
    })?;
    let info = RunInfo {
        run_id: row.get(0)?,
        run_name: row.get(1)?,
        experiment_id: row.get::<_, i64>(2)?.to_string(),
        status,
        start_time: row.get(4)?,
        end_time: row.get(5)?,
        artifact_uri: row.get(6)?,
        lifecycle_stage: row.get(7)?,
    };
    Ok((row.get(8)?, info))
}

/// The values of a new `runs` row.
pub(crate) struct NewRun<'a> {
    pub(crate) run_uuid: &'a str,
    pub(crate) name: &'a str,
    pub(crate) experiment_id: i64,
    pub(crate) start_time: i64,
    pub(crate) artifact_uri: &'a str,
}

/// Inserts a running run and returns its internal id.
pub(crate) fn insert_run(connection: &Connection, run: &NewRun<'_>) -> Result<i64> {
    connection.execute(
        "INSERT INTO runs (run_uuid, name, experiment_id, status, start_time, artifact_uri)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            run.run_uuid,
            run.name,
            run.experiment_id,
            RunStatus::Running.as_str(),
            run.start_time,
            run.artifact_uri
        ],
    )?;
    Ok(connection.last_insert_rowid())
}

/// Runs, newest first, of one experiment or of all.
pub(crate) fn runs(connection: &Connection, experiment_id: Option<i64>) -> Result<Vec<RunInfo>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM runs r
         WHERE ?1 IS NULL OR r.experiment_id = ?1
         ORDER BY r.start_time DESC, r.id DESC"
    ))?;
    let runs = statement
        .query_map([experiment_id], |row| Ok(run_from_row(row)?.1))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(runs)
}

/// The run with exactly this id, with its internal id.
pub(crate) fn run_by_uuid(
    connection: &Connection,
    run_uuid: &str,
) -> Result<Option<(i64, RunInfo)>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM runs r WHERE r.run_uuid = ?1"
    ))?;
    Ok(statement.query_row([run_uuid], run_from_row).optional()?)
}

/// Up to `limit` runs whose id starts with `prefix` (lowercase hex), in id order.
pub(crate) fn runs_with_prefix(
    connection: &Connection,
    prefix: &str,
    limit: usize,
) -> Result<Vec<RunInfo>> {
    // Run ids are lowercase hex, so every id starting with `prefix` sorts between
    // `prefix` and `prefix` followed by 'g'; the unique index serves the range.
    let upper = format!("{prefix}g");
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM runs r
         WHERE r.run_uuid >= ?1 AND r.run_uuid < ?2 ORDER BY r.run_uuid LIMIT ?3"
    ))?;
    let runs = statement
        .query_map(params![prefix, upper, limit as i64], |row| {
            Ok(run_from_row(row)?.1)
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(runs)
}

pub(crate) fn set_run_status(
    connection: &Connection,
    run: i64,
    status: RunStatus,
    end_time: Option<i64>,
) -> Result<()> {
    connection.execute(
        "UPDATE runs SET status = ?2, end_time = ?3 WHERE id = ?1",
        params![run, status.as_str(), end_time],
    )?;
    Ok(())
}

/// Inserts a param; when the key exists already, returns the stored value if it
/// differs from `value` (params are immutable).
pub(crate) fn insert_param(
    connection: &Connection,
    run: i64,
    key: &str,
    value: &str,
) -> Result<Option<String>> {
    let inserted = connection
        .prepare_cached(
            "INSERT INTO params (run, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (run, key) DO NOTHING",
        )?
        .execute(params![run, key, value])?;
    if inserted == 1 {
        return Ok(None);
    }
    let existing: String = connection
        .prepare_cached("SELECT value FROM params WHERE run = ?1 AND key = ?2")?
        .query_row(params![run, key], |row| row.get(0))?;
    Ok((existing != value).then_some(existing))
}

pub(crate) fn set_tag(connection: &Connection, run: i64, key: &str, value: &str) -> Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO tags (run, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (run, key) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![run, key, value])?;
    Ok(())
}

fn key_values(connection: &Connection, table: &str, run: i64) -> Result<BTreeMap<String, String>> {
    let mut statement =
        connection.prepare_cached(&format!("SELECT key, value FROM {table} WHERE run = ?1"))?;
    let pairs = statement
        .query_map([run], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(pairs)
}

pub(crate) fn params(connection: &Connection, run: i64) -> Result<BTreeMap<String, String>> {
    key_values(connection, "params", run)
}

pub(crate) fn tags(connection: &Connection, run: i64) -> Result<BTreeMap<String, String>> {
    key_values(connection, "tags", run)
}

/// The id of `key` in the run's metric-key table, adding it when new.
pub(crate) fn intern_metric_key(connection: &Connection, run: i64, key: &str) -> Result<i64> {
    connection
        .prepare_cached(
            "INSERT INTO metric_keys (run, key) VALUES (?1, ?2) ON CONFLICT (run, key) DO NOTHING",
        )?
        .execute(params![run, key])?;
    let key_id = connection
        .prepare_cached("SELECT key_id FROM metric_keys WHERE run = ?1 AND key = ?2")?
        .query_row(params![run, key], |row| row.get(0))?;
    Ok(key_id)
}

/// SQLite cannot store NaN (it becomes NULL), so it is stored as 0 with a flag, as
/// MLflow does; infinities are stored as they are.
fn stored_value(value: f64) -> (f64, bool) {
    if value.is_nan() {
        (0.0, true)
    } else {
        (value, false)
    }
}

fn loaded_value(value: f64, is_nan: bool) -> f64 {
    if is_nan { f64::NAN } else { value }
}

/// Encodes `(key id, value)` pairs as little-endian `i64`/`f64` pairs; bit-exact.
fn encode_points(points: &[(i64, f64)]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(points.len() * 16);
    for (key_id, value) in points {
        bytes.extend_from_slice(&key_id.to_le_bytes());
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes
}

fn decode_points(bytes: &[u8]) -> impl Iterator<Item = (i64, f64)> + '_ {
    bytes.chunks_exact(16).map(|pair| {
        let (key_id, value) = pair.split_at(8);
        (
            i64::from_le_bytes(key_id.try_into().expect("8 bytes")),
            f64::from_le_bytes(value.try_into().expect("8 bytes")),
        )
    })
}

/// Stores the points of one logging call, which share a step and a timestamp, as one
/// row. Every point is kept, repeated ones included.
pub(crate) fn insert_metric_points(
    connection: &Connection,
    run: i64,
    step: i64,
    timestamp: i64,
    points: &[(i64, f64)],
) -> Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO metric_batches (run, step, timestamp, points) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![run, step, timestamp, encode_points(points)])?;
    Ok(())
}

/// Makes a point the key's latest if it beats the stored one by MLflow's order:
/// higher step, then later timestamp, then larger value.
pub(crate) fn update_latest_metric(
    connection: &Connection,
    key_id: i64,
    step: i64,
    timestamp: i64,
    value: f64,
) -> Result<()> {
    let (value, is_nan) = stored_value(value);
    connection
        .prepare_cached(
            "INSERT INTO latest_metrics (key_id, step, timestamp, value, is_nan)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (key_id) DO UPDATE SET
                 step = excluded.step, timestamp = excluded.timestamp,
                 value = excluded.value, is_nan = excluded.is_nan
             WHERE (excluded.step, excluded.timestamp, excluded.value)
                 > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)",
        )?
        .execute(params![key_id, step, timestamp, value, is_nan])?;
    Ok(())
}

/// Compares two values of one step and timestamp the way the store does, so that a
/// batch can pick its latest point per key before touching `latest_metrics`.
pub(crate) fn beats(candidate: f64, current: f64) -> bool {
    stored_value(candidate).0 > stored_value(current).0
}

fn metric_from_row(row: &Row<'_>) -> rusqlite::Result<Metric> {
    Ok(Metric {
        key: row.get(0)?,
        step: row.get(1)?,
        timestamp: row.get(2)?,
        value: loaded_value(row.get(3)?, row.get(4)?),
    })
}

pub(crate) fn latest_metrics(connection: &Connection, run: i64) -> Result<Vec<Metric>> {
    let mut statement = connection.prepare_cached(
        "SELECT k.key, l.step, l.timestamp, l.value, l.is_nan
         FROM metric_keys k JOIN latest_metrics l ON l.key_id = k.key_id
         WHERE k.run = ?1 ORDER BY k.key",
    )?;
    let metrics = statement
        .query_map([run], metric_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(metrics)
}

/// The history of one metric (or of all when `key` is `None`), ordered by key, step
/// and timestamp; points of equal step and timestamp keep their logging order.
pub(crate) fn metric_history(
    connection: &Connection,
    run: i64,
    key: Option<&str>,
) -> Result<Vec<Metric>> {
    let mut keys_statement = connection.prepare_cached(
        "SELECT key_id, key FROM metric_keys WHERE run = ?1 AND (?2 IS NULL OR key = ?2)",
    )?;
    let keys: HashMap<i64, String> = keys_statement
        .query_map(params![run, key], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut statement = connection.prepare_cached(
        "SELECT step, timestamp, points FROM metric_batches WHERE run = ?1 ORDER BY batch_id",
    )?;
    let mut rows = statement.query([run])?;
    let mut points: Vec<(&str, i64, i64, f64)> = Vec::new();
    while let Some(row) = rows.next()? {
        let (step, timestamp): (i64, i64) = (row.get(0)?, row.get(1)?);
        let bytes = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
        for (key_id, value) in decode_points(bytes) {
            if let Some(name) = keys.get(&key_id) {
                points.push((name.as_str(), step, timestamp, value));
            }
        }
    }
    // Stable, so points of one step and timestamp stay in logging order.
    points.sort_by(|left, right| (left.0, left.1, left.2).cmp(&(right.0, right.1, right.2)));
    Ok(points
        .into_iter()
        .map(|(key, step, timestamp, value)| Metric {
            key: key.to_owned(),
            value,
            timestamp,
            step,
        })
        .collect())
}

pub(crate) fn insert_histogram(
    connection: &Connection,
    run: i64,
    key: &str,
    step: i64,
    timestamp: i64,
    histogram: &Histogram,
) -> Result<()> {
    let counts = serde_json::to_string(&histogram.counts).expect("integers serialize");
    connection
        .prepare_cached(
            "INSERT OR REPLACE INTO histograms (run, key, step, timestamp, min, max, counts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            run,
            key,
            step,
            timestamp,
            histogram.min,
            histogram.max,
            counts
        ])?;
    Ok(())
}

pub(crate) fn histograms(
    connection: &Connection,
    run: i64,
    key: &str,
) -> Result<Vec<(i64, Histogram)>> {
    let mut statement = connection.prepare_cached(
        "SELECT step, min, max, counts FROM histograms WHERE run = ?1 AND key = ?2 ORDER BY step",
    )?;
    let histograms = statement
        .query_map(params![run, key], |row| {
            let counts: String = row.get(3)?;
            let counts = serde_json::from_str(&counts).map_err(|error| {
                rusqlite::Error::FromSqlConversionFailure(3, Type::Text, Box::new(error))
            })?;
            Ok((
                row.get(0)?,
                Histogram {
                    min: row.get(1)?,
                    max: row.get(2)?,
                    counts,
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(histograms)
}

pub(crate) fn record_artifact(
    connection: &Connection,
    run: i64,
    path: &str,
    size: u64,
) -> Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO artifacts (run, path, size) VALUES (?1, ?2, ?3)
             ON CONFLICT (run, path) DO UPDATE SET size = excluded.size",
        )?
        .execute(params![run, path, size as i64])?;
    Ok(())
}

pub(crate) fn artifacts(connection: &Connection, run: i64) -> Result<Vec<String>> {
    let mut statement =
        connection.prepare_cached("SELECT path FROM artifacts WHERE run = ?1 ORDER BY path")?;
    let paths = statement
        .query_map([run], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(paths)
}
