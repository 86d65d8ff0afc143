//! The one error type of the crate; context (paths, keys, run ids) lives in fields.

use std::path::PathBuf;

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while tracking, reading or exporting runs.
///
/// Messages describe this layer only; the underlying cause is reachable through
/// [`std::error::Error::source`], and [`Error::hint`] suggests what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The directory that should hold the store could not be created.
    #[error("cannot create the store directory {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// An existing store file could not be read.
    #[error("cannot read the store file {}", path.display())]
    ReadStore {
        /// The store file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The file exists but is not an SQLite database.
    #[error("{} is not a tracker store: it is not an SQLite database", path.display())]
    NotSqlite {
        /// The file that was left untouched.
        path: PathBuf,
    },
    /// The file is an SQLite database written by another program.
    #[error("{} is an SQLite database of another program ({detail})", path.display())]
    ForeignDatabase {
        /// The file that was left untouched.
        path: PathBuf,
        /// What gave it away.
        detail: String,
    },
    /// The store was written by a newer version of this crate.
    #[error(
        "{} has schema version {found}, newer than the {supported} this tracker knows",
        path.display()
    )]
    SchemaTooNew {
        /// The file that was left untouched.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// The newest version this build can read.
        supported: i64,
    },
    /// A tracking URI with a scheme other than `sqlite:` was given.
    #[error("unsupported tracking URI `{uri}`")]
    UnsupportedUri {
        /// The URI as given.
        uri: String,
    },
    /// SQLite refused to open the store.
    #[error("cannot open the store at {}", path.display())]
    Open {
        /// The store file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: rusqlite::Error,
    },
    /// A query on an open store failed.
    #[error("a query on the store failed")]
    Sqlite(#[from] rusqlite::Error),
    /// A metric, param or tag key breaks MLflow's naming rules.
    #[error("invalid {kind} name `{key}`: {reason}")]
    InvalidKey {
        /// `metric`, `param`, `tag` or `histogram`.
        kind: &'static str,
        /// The rejected key.
        key: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A param or tag value is longer than MLflow allows.
    #[error("{kind} `{key}` has a value of {length} characters; the limit is {limit}")]
    ValueTooLong {
        /// `param` or `tag`.
        kind: &'static str,
        /// The key whose value is too long.
        key: String,
        /// The value's length in characters.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// An experiment or run name breaks the naming rules.
    #[error("invalid {kind} name `{name}`: {reason}")]
    InvalidName {
        /// `experiment` or `run`.
        kind: &'static str,
        /// The rejected name.
        name: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A param was logged again with a different value; params are immutable.
    #[error("param `{key}` of run {run_id} is already `{old}`, cannot change it to `{new}`")]
    ParamChanged {
        /// The run.
        run_id: String,
        /// The param key.
        key: String,
        /// The value already stored.
        old: String,
        /// The rejected new value.
        new: String,
    },
    /// A histogram is malformed.
    #[error("invalid histogram `{key}`: {reason}")]
    InvalidHistogram {
        /// The histogram key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No run id starts with the given text.
    #[error("no run matches `{query}`")]
    RunNotFound {
        /// The id or prefix that was looked up.
        query: String,
    },
    /// Several run ids start with the given prefix.
    #[error("run prefix `{prefix}` is ambiguous; it matches {}", candidates.join(", "))]
    AmbiguousRun {
        /// The prefix that was looked up.
        prefix: String,
        /// Some of the matching run ids.
        candidates: Vec<String>,
    },
    /// No experiment has the given name.
    #[error("no experiment named `{name}`")]
    ExperimentNotFound {
        /// The name that was looked up.
        name: String,
    },
    /// The run has no metric with the given key.
    #[error("run {run_id} has no metric `{key}`")]
    MetricNotFound {
        /// The run.
        run_id: String,
        /// The metric key.
        key: String,
    },
    /// Text that should name a run status does not.
    #[error("unknown run status `{value}`")]
    InvalidStatus {
        /// The rejected text.
        value: String,
    },
    /// The file to log as an artifact cannot be read.
    #[error("cannot read the artifact {}", path.display())]
    ArtifactSource {
        /// The source file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// Copying an artifact into the artifact store failed.
    #[error("cannot store the artifact {}", path.display())]
    ArtifactStore {
        /// The source file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: object_store::Error,
    },
    /// Writing an export or a report failed.
    #[error("cannot write the output")]
    Export(#[source] std::io::Error),
    /// Writing an output file failed.
    #[error("cannot write {}", path.display())]
    WriteFile {
        /// The output file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A one-line suggestion of what to do about this error, where there is one.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Error::NotSqlite { .. } | Error::ForeignDatabase { .. } => {
                "point `--store` or `SPOKES_TRACKER_URI` at a tracker database, or move this file away"
            }
            Error::Open { .. } => {
                "check that the file is an intact tracker store that you may read and write"
            }
            Error::SchemaTooNew { .. } => "upgrade tracker to read this store",
            Error::UnsupportedUri { .. } => {
                "use a file path or an `sqlite:///` URI (`sqlite:////abs/path.db` for an absolute path)"
            }
            Error::InvalidKey { .. } => {
                "names may only contain alphanumerics, underscores, dashes, periods, spaces, colons and slashes"
            }
            Error::ParamChanged { .. } => {
                "params are immutable: log the new value under another key, or start a new run"
            }
            Error::RunNotFound { .. } => "`tracker runs` lists the runs of the store",
            Error::AmbiguousRun { .. } => "type more characters of the run id",
            Error::ExperimentNotFound { .. } => "`tracker experiments` lists the experiments",
            Error::MetricNotFound { .. } => "`tracker show RUN` lists the run's metrics",
            Error::InvalidStatus { .. } => {
                "use one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED"
            }
            Error::Sqlite(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                "another process held the store for longer than the 30 s busy timeout; retry"
            }
            _ => return None,
        };
        Some(hint.to_owned())
    }
}
