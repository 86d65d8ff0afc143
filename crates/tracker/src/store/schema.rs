//! The schema, versioned by `PRAGMA user_version` and built by an ordered list of
//! migrations; `PRAGMA application_id` marks the file as a tracker store.
//!
//! The tables follow MLflow's (experiments, runs, params, tags, metrics,
//! latest_metrics) with two changes for speed: runs and metric keys are referenced by
//! integer ids, and a metric's key is interned once per run in `metric_keys`.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};
use crate::location::file_uri;

/// `PRAGMA application_id` of tracker stores: "SPKT" in ASCII.
pub(crate) const APPLICATION_ID: i32 = 0x5350_4B54;

/// Migration `n` (1-based) brings a store from version `n - 1` to `n`. Never edit a
/// released entry; append a new one.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE experiments (
    experiment_id     INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    artifact_location TEXT NOT NULL,
    lifecycle_stage   TEXT NOT NULL DEFAULT 'active',
    creation_time     INTEGER NOT NULL,
    last_update_time  INTEGER NOT NULL
);
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    run_uuid        TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    experiment_id   INTEGER NOT NULL REFERENCES experiments (experiment_id),
    status          TEXT NOT NULL,
    start_time      INTEGER NOT NULL,
    end_time        INTEGER,
    lifecycle_stage TEXT NOT NULL DEFAULT 'active',
    artifact_uri    TEXT NOT NULL
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time);
CREATE TABLE params (
    run   INTEGER NOT NULL REFERENCES runs (id),
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run, key)
) WITHOUT ROWID;
CREATE TABLE tags (
    run   INTEGER NOT NULL REFERENCES runs (id),
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run, key)
) WITHOUT ROWID;
CREATE TABLE metric_keys (
    key_id INTEGER PRIMARY KEY,
    run    INTEGER NOT NULL REFERENCES runs (id),
    key    TEXT NOT NULL,
    UNIQUE (run, key)
);
-- Metric points, one row per logging call: all points of a call share step and
-- timestamp, and `points` holds (key_id i64, value f64) little-endian pairs, so NaN
-- and infinities are kept bit for bit. One row per call rather than per point (or
-- per key) is what lets a commit write a few contiguous pages: a key-major layout
-- dirties one page per key per commit and tops out near half the ingest target.
-- The price is paid by history reads, which decode the run's rows; they are
-- sequential and cheap next to drawing a chart. Key ids are interned per run in
-- metric_keys.
CREATE TABLE metric_batches (
    batch_id  INTEGER PRIMARY KEY,
    run       INTEGER NOT NULL REFERENCES runs (id),
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    points    BLOB NOT NULL
);
CREATE INDEX metric_batches_by_run ON metric_batches (run);
-- MLflow's latest_metrics (max step, then timestamp, then value), with NaN stored as
-- value 0 and is_nan = 1 because SQLite turns NaN into NULL.
CREATE TABLE latest_metrics (
    key_id    INTEGER PRIMARY KEY REFERENCES metric_keys (key_id),
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    value     REAL NOT NULL,
    is_nan    INTEGER NOT NULL
);
CREATE TABLE histograms (
    run       INTEGER NOT NULL REFERENCES runs (id),
    key       TEXT NOT NULL,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    min       REAL NOT NULL,
    max       REAL NOT NULL,
    counts    TEXT NOT NULL,
    PRIMARY KEY (run, key, step)
) WITHOUT ROWID;
CREATE TABLE artifacts (
    run  INTEGER NOT NULL REFERENCES runs (id),
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (run, path)
) WITHOUT ROWID;
"#];

/// The schema version this build writes and reads.
pub(crate) const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// The id and name of the experiment every store starts with, as in MLflow.
pub(crate) const DEFAULT_EXPERIMENT: (i64, &str) = (0, "Default");

/// Classifies an open database: `Ok(version)` for a tracker store (0 for an empty
/// database that may become one), an error for anything else.
pub(crate) fn inspect(connection: &Connection, path: &Path) -> Result<i64> {
    let open_error = |source| Error::Open {
        path: path.to_path_buf(),
        source,
    };
    // One statement, so one snapshot: read one by one, the marker could be read before
    // another process's migration committed and the tables after, which looked foreign.
    let (application_id, version, tables): (i32, i64, i64) = connection
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id()),
                    (SELECT user_version FROM pragma_user_version()),
                    (SELECT count(*) FROM sqlite_schema)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .map_err(open_error)?;
    if application_id == APPLICATION_ID {
        if version > LATEST_VERSION {
            return Err(Error::SchemaTooNew {
                path: path.to_path_buf(),
                found: version,
                supported: LATEST_VERSION,
            });
        }
        return Ok(version);
    }
    let foreign = |detail: String| Error::ForeignDatabase {
        path: path.to_path_buf(),
        detail,
    };
    if application_id != 0 {
        return Err(foreign(format!("application id {application_id:#010x}")));
    }
    if tables > 0 || version != 0 {
        return Err(foreign(format!(
            "it has {tables} schema objects but no tracker marker"
        )));
    }
    Ok(0)
}

/// Brings the store to [`LATEST_VERSION`] in one immediate transaction, so that two
/// processes creating the same store at once do not both run a migration.
pub(crate) fn migrate(
    connection: &mut Connection,
    path: &Path,
    artifact_root: &Path,
) -> Result<()> {
    if inspect(connection, path)? == LATEST_VERSION {
        return Ok(());
    }
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version = inspect(&transaction, path)?;
    for migration in &MIGRATIONS[version as usize..] {
        transaction.execute_batch(migration)?;
    }
    if version == 0 {
        let now = crate::tracker::now_millis();
        let (id, name) = DEFAULT_EXPERIMENT;
        transaction.execute(
            "INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            rusqlite::params![id, name, file_uri(&artifact_root.join(id.to_string())), now],
        )?;
        transaction.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    transaction.pragma_update(None, "user_version", LATEST_VERSION)?;
    transaction.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_an_empty_database_builds_the_latest_schema() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("t.db");
        let mut connection = Connection::open(&path).unwrap();
        migrate(&mut connection, &path, directory.path()).unwrap();
        assert_eq!(inspect(&connection, &path).unwrap(), LATEST_VERSION);
        let application_id: i32 = connection
            .pragma_query_value(None, "application_id", |row| row.get(0))
            .unwrap();
        assert_eq!(application_id, APPLICATION_ID);
        let default: String = connection
            .query_row(
                "SELECT name FROM experiments WHERE experiment_id = 0",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(default, "Default");
        // Migrating again is a no-op and keeps a single Default experiment.
        migrate(&mut connection, &path, directory.path()).unwrap();
        let experiments: i64 = connection
            .query_row("SELECT count(*) FROM experiments", [], |row| row.get(0))
            .unwrap();
        assert_eq!(experiments, 1);
    }
}
