//! The public handles: [`Tracker`] (a store), [`Experiment`] and [`Run`].

use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::artifacts;
use crate::error::{Error, Result};
use crate::location::{file_uri, looks_like_uri, path_from_uri};
use crate::model::{ExperimentInfo, Histogram, Metric, RunData, RunInfo, RunStatus};
use crate::store::{self, queries};
use crate::validate;

/// How many candidates an ambiguous prefix error lists.
const AMBIGUOUS_CANDIDATES: usize = 5;

/// The tag under which MLflow keeps a run's name.
const RUN_NAME_TAG: &str = "mlflow.runName";

/// Milliseconds since the Unix epoch, the unit of every timestamp in the store.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// A handle on one store: an SQLite file plus the artifact folder beside it.
///
/// Cloning is cheap and clones share one connection, so a `Tracker` can be handed to
/// threads. Several processes may open the same store at once.
#[derive(Clone)]
pub struct Tracker {
    inner: Arc<Inner>,
}

struct Inner {
    connection: Mutex<Connection>,
    path: PathBuf,
    artifact_root: PathBuf,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Tracker")
            .field("path", &self.inner.path)
            .field("artifact_root", &self.inner.artifact_root)
            .finish()
    }
}

impl Tracker {
    /// Opens the store file at `location`, creating it and its parent folders when
    /// missing. An `sqlite:///` URI is accepted too (see [`Tracker::open_uri`]).
    ///
    /// A file that is not a tracker store (not SQLite, another program's database, or
    /// a schema newer than this build) is refused and left unmodified.
    pub fn open(location: impl AsRef<Path>) -> Result<Tracker> {
        let location = location.as_ref();
        if let Some(text) = location.to_str().filter(|text| looks_like_uri(text)) {
            return Tracker::open_uri(text);
        }
        let path = std::path::absolute(location).map_err(|source| Error::ReadStore {
            path: location.to_path_buf(),
            source,
        })?;
        let artifact_root = path.parent().map_or_else(
            || PathBuf::from("artifacts"),
            |parent| parent.join("artifacts"),
        );
        let connection = store::open(&path, &artifact_root)?;
        Ok(Tracker {
            inner: Arc::new(Inner {
                connection: Mutex::new(connection),
                path,
                artifact_root,
            }),
        })
    }

    /// Opens the store named by a tracking URI: `sqlite:///relative.db`,
    /// `sqlite:////absolute/path.db` (SQLAlchemy's convention, as in MLflow) or a plain
    /// path.
    pub fn open_uri(uri: &str) -> Result<Tracker> {
        let path = path_from_uri(uri)?;
        Tracker::open(path)
    }

    /// The store's database file, as an absolute path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The folder that holds artifacts: `artifacts/` beside the database file.
    pub fn artifact_root(&self) -> &Path {
        &self.inner.artifact_root
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction open (it rolls back
        // when dropped), so the connection is still sound.
        self.inner
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `work` in one write transaction. `Immediate` takes the write lock up front,
    /// so a busy store is waited for (up to the busy timeout) instead of failing with
    /// "database is locked" when a read transaction later tries to write.
    fn write<T>(&self, work: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = work(&transaction)?;
        transaction.commit()?;
        Ok(value)
    }

    /// The experiment called `name`, created when it does not exist yet. `"Default"`
    /// (id `"0"`) exists in every store.
    pub fn experiment(&self, name: &str) -> Result<Experiment> {
        validate::experiment_name(name)?;
        let existing = queries::experiment_by_name(&self.connection(), name)?;
        let info = match existing {
            Some(info) => info,
            None => self.write(|transaction| {
                // Another process may have created it since the read above.
                if let Some(info) = queries::experiment_by_name(transaction, name)? {
                    return Ok(info);
                }
                queries::create_experiment(transaction, name, now_millis(), |id| {
                    file_uri(&self.artifact_root().join(id.to_string()))
                })
            })?,
        };
        Ok(Experiment {
            tracker: self.clone(),
            id: info.id,
            name: info.name,
        })
    }

    /// All experiments, by id.
    pub fn experiments(&self) -> Result<Vec<ExperimentInfo>> {
        queries::experiments(&self.connection())
    }

    /// The runs of the experiment called `experiment`, or of all experiments, newest
    /// first.
    pub fn runs(&self, experiment: Option<&str>) -> Result<Vec<RunInfo>> {
        let connection = self.connection();
        let experiment_id = match experiment {
            Some(name) => Some(
                queries::experiment_by_name(&connection, name)?
                    .ok_or_else(|| Error::ExperimentNotFound { name: name.into() })?
                    .id
                    .parse::<i64>()
                    .expect("experiment ids are integers"),
            ),
            None => None,
        };
        queries::runs(&connection, experiment_id)
    }

    /// The run whose id is `id_or_prefix` or starts with it, like git's short hashes.
    /// No match gives [`Error::RunNotFound`], several give [`Error::AmbiguousRun`]
    /// listing some candidates.
    pub fn resolve_run(&self, id_or_prefix: &str) -> Result<RunInfo> {
        let prefix = id_or_prefix.trim().to_ascii_lowercase();
        let not_found = || Error::RunNotFound {
            query: id_or_prefix.to_owned(),
        };
        if prefix.is_empty()
            || prefix.len() > 32
            || !prefix.bytes().all(|byte| byte.is_ascii_hexdigit())
        {
            return Err(not_found());
        }
        let mut matches =
            queries::runs_with_prefix(&self.connection(), &prefix, AMBIGUOUS_CANDIDATES + 1)?;
        match matches.len() {
            0 => Err(not_found()),
            1 => Ok(matches.remove(0)),
            _ => Err(Error::AmbiguousRun {
                prefix: id_or_prefix.to_owned(),
                candidates: matches
                    .iter()
                    .take(AMBIGUOUS_CANDIDATES)
                    .map(|run| format!("{} ({})", run.run_id, run.run_name))
                    .chain((matches.len() > AMBIGUOUS_CANDIDATES).then(|| "…".to_owned()))
                    .collect(),
            }),
        }
    }

    /// The internal id and info of the run with exactly this id.
    fn run_row(connection: &Connection, run_id: &str) -> Result<(i64, RunInfo)> {
        queries::run_by_uuid(connection, run_id)?.ok_or_else(|| Error::RunNotFound {
            query: run_id.to_owned(),
        })
    }

    /// Everything recorded about a run: info, params, tags, latest metrics, artifacts.
    pub fn run_data(&self, run_id: &str) -> Result<RunData> {
        let connection = self.connection();
        let (run, info) = Tracker::run_row(&connection, run_id)?;
        Ok(RunData {
            info,
            params: queries::params(&connection, run)?,
            tags: queries::tags(&connection, run)?,
            metrics: queries::latest_metrics(&connection, run)?,
            artifacts: queries::artifacts(&connection, run)?,
        })
    }

    /// Every logged value of one metric, by step, then timestamp; empty when the run
    /// never logged `key`.
    pub fn metric_history(&self, run_id: &str, key: &str) -> Result<Vec<Metric>> {
        let connection = self.connection();
        let (run, _) = Tracker::run_row(&connection, run_id)?;
        queries::metric_history(&connection, run, Some(key))
    }

    /// Every logged value of every metric of a run, by key, step, then timestamp.
    pub fn all_metric_history(&self, run_id: &str) -> Result<Vec<Metric>> {
        let connection = self.connection();
        let (run, _) = Tracker::run_row(&connection, run_id)?;
        queries::metric_history(&connection, run, None)
    }

    /// The histograms logged under `key`, by step.
    pub fn histograms(&self, run_id: &str, key: &str) -> Result<Vec<(i64, Histogram)>> {
        let connection = self.connection();
        let (run, _) = Tracker::run_row(&connection, run_id)?;
        queries::histograms(&connection, run, key)
    }

    /// Sets a run's status, e.g. marks a crashed `RUNNING` run `FAILED`. A terminal
    /// status records the end time as now; `RUNNING` or `SCHEDULED` clears it.
    pub fn set_run_status(&self, run_id: &str, status: RunStatus) -> Result<()> {
        self.write(|transaction| {
            let (run, _) = Tracker::run_row(transaction, run_id)?;
            let end_time = status.is_terminal().then(now_millis);
            queries::set_run_status(transaction, run, status, end_time)
        })
    }
}

/// A named group of runs.
#[derive(Debug, Clone)]
pub struct Experiment {
    tracker: Tracker,
    id: String,
    name: String,
}

impl Experiment {
    /// The id, an integer as a string.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts a run in this experiment, with status `RUNNING`. Names need not be unique.
    pub fn start_run(&self, name: &str) -> Result<Run> {
        validate::run_name(name)?;
        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let artifact_dir =
            artifacts::run_artifact_dir(self.tracker.artifact_root(), &self.id, &run_id);
        let experiment_id: i64 = self.id.parse().expect("experiment ids are integers");
        let rowid = self.tracker.write(|transaction| {
            let rowid = queries::insert_run(
                transaction,
                &queries::NewRun {
                    run_uuid: &run_id,
                    name,
                    experiment_id,
                    start_time: now_millis(),
                    artifact_uri: &file_uri(&artifact_dir),
                },
            )?;
            queries::set_tag(transaction, rowid, RUN_NAME_TAG, name)?;
            Ok(rowid)
        })?;
        Ok(Run {
            tracker: self.tracker.clone(),
            rowid,
            id: run_id,
            name: name.to_owned(),
            experiment_id: self.id.clone(),
            metric_keys: Mutex::new(HashMap::new()),
        })
    }
}

/// One execution of training code, to which params, tags, metrics, histograms and
/// artifacts are logged.
///
/// A run dropped without [`Run::finish`] stays `RUNNING`, which is what a crash looks
/// like; `tracker mark RUN failed` (or [`Tracker::set_run_status`]) closes it later.
#[derive(Debug)]
pub struct Run {
    tracker: Tracker,
    rowid: i64,
    id: String,
    name: String,
    experiment_id: String,
    /// Metric keys already stored for this run, with their ids; filled only after a
    /// commit, so an id here always exists in the store.
    metric_keys: Mutex<HashMap<String, i64>>,
}

impl Run {
    /// The run id: 32 lowercase hex characters, like MLflow's `run_uuid`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The name given at start.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The id of the run's experiment.
    pub fn experiment_id(&self) -> &str {
        &self.experiment_id
    }

    /// The tracker this run writes to.
    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    /// The local folder of this run's artifacts.
    pub fn artifact_dir(&self) -> PathBuf {
        artifacts::run_artifact_dir(self.tracker.artifact_root(), &self.experiment_id, &self.id)
    }

    /// Logs a param. Params are immutable: logging the same value again is fine, a
    /// different value is [`Error::ParamChanged`].
    pub fn log_param(&self, key: &str, value: impl Display) -> Result<()> {
        self.log_params(&[(key, value.to_string())])
    }

    /// Logs several params in one transaction; if any is rejected, none is stored.
    pub fn log_params<K: AsRef<str>, V: AsRef<str>>(&self, params: &[(K, V)]) -> Result<()> {
        for (key, value) in params {
            validate::param(key.as_ref(), value.as_ref())?;
        }
        self.tracker.write(|transaction| {
            for (key, value) in params {
                let (key, value) = (key.as_ref(), value.as_ref());
                if let Some(old) = queries::insert_param(transaction, self.rowid, key, value)? {
                    return Err(Error::ParamChanged {
                        run_id: self.id.clone(),
                        key: key.to_owned(),
                        old,
                        new: value.to_owned(),
                    });
                }
            }
            Ok(())
        })
    }

    /// Sets a tag, replacing any earlier value.
    pub fn set_tag(&self, key: &str, value: impl Display) -> Result<()> {
        let value = value.to_string();
        validate::tag(key, &value)?;
        self.tracker
            .write(|transaction| queries::set_tag(transaction, self.rowid, key, &value))
    }

    /// Logs one metric value at `step`.
    pub fn log_metric(&self, key: &str, value: f64, step: i64) -> Result<()> {
        self.log_metrics(&[(key, value)], step)
    }

    /// Logs several metric values at `step` in one transaction; all share one
    /// timestamp. NaN and infinities are stored as they are. A key may repeat; the
    /// largest value becomes its latest, as in MLflow. Every point is kept, even one
    /// equal to a stored point (MLflow's primary key would keep such a point once).
    pub fn log_metrics<K: AsRef<str>>(&self, metrics: &[(K, f64)], step: i64) -> Result<()> {
        if metrics.is_empty() {
            return Ok(());
        }
        let timestamp = now_millis();
        let mut known = self
            .metric_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut new_keys: Vec<&str> = Vec::new();
        let mut seen_new: HashSet<&str> = HashSet::new();
        for (key, _) in metrics {
            let key = key.as_ref();
            if !known.contains_key(key) && seen_new.insert(key) {
                validate::metric_key(key)?;
                new_keys.push(key);
            }
        }
        let interned = self.tracker.write(|transaction| {
            let interned = new_keys
                .iter()
                .map(|key| {
                    Ok((
                        *key,
                        queries::intern_metric_key(transaction, self.rowid, key)?,
                    ))
                })
                .collect::<Result<HashMap<&str, i64>>>()?;
            let key_id = |key: &str| known.get(key).or_else(|| interned.get(key)).copied();
            let mut points = Vec::with_capacity(metrics.len());
            // The batch's latest value per key: all points share step and timestamp,
            // so the largest wins, and latest_metrics is touched once per key.
            let mut latest: Vec<(i64, f64)> = Vec::new();
            let mut latest_index: HashMap<i64, usize> = HashMap::new();
            for (key, value) in metrics {
                let id = key_id(key.as_ref()).expect("every key was interned above");
                points.push((id, *value));
                match latest_index.get(&id) {
                    Some(&index) => {
                        if queries::beats(*value, latest[index].1) {
                            latest[index].1 = *value;
                        }
                    }
                    None => {
                        latest_index.insert(id, latest.len());
                        latest.push((id, *value));
                    }
                }
            }
            queries::insert_metric_points(transaction, self.rowid, step, timestamp, &points)?;
            for (id, value) in latest {
                queries::update_latest_metric(transaction, id, step, timestamp, value)?;
            }
            Ok(interned)
        })?;
        known.extend(interned.into_iter().map(|(key, id)| (key.to_owned(), id)));
        Ok(())
    }

    /// Logs a histogram (e.g. of a layer's gradients) at `step`, replacing one logged
    /// under the same key and step.
    pub fn log_histogram(&self, key: &str, step: i64, histogram: &Histogram) -> Result<()> {
        validate::histogram_key(key)?;
        let invalid = |reason: &str| {
            Err(Error::InvalidHistogram {
                key: key.to_owned(),
                reason: reason.to_owned(),
            })
        };
        if histogram.counts.is_empty() {
            return invalid("it has no bins");
        }
        if !histogram.min.is_finite() || !histogram.max.is_finite() {
            return invalid("its range must be finite");
        }
        if histogram.min > histogram.max {
            return invalid("its min is larger than its max");
        }
        let timestamp = now_millis();
        self.tracker.write(|transaction| {
            queries::insert_histogram(transaction, self.rowid, key, step, timestamp, histogram)
        })
    }

    /// Copies the file at `path` into the run's artifact folder, streaming it in
    /// chunks, and records it. Returns its path relative to [`Run::artifact_dir`].
    pub fn log_artifact(&self, path: &Path) -> Result<String> {
        let (relative, size) = artifacts::copy_into_run(
            self.tracker.artifact_root(),
            &self.experiment_id,
            &self.id,
            path,
        )?;
        self.tracker.write(|transaction| {
            queries::record_artifact(transaction, self.rowid, &relative, size)
        })?;
        Ok(relative)
    }

    /// Ends the run with `status` (usually [`RunStatus::Finished`] or
    /// [`RunStatus::Failed`]) and records its end time.
    pub fn finish(self, status: RunStatus) -> Result<()> {
        self.tracker.set_run_status(&self.id, status)
    }
}

#[cfg(test)]
mod tests;
