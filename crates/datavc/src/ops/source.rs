//! Another repository read as a source of data: the data registry `get` copies from, and
//! the repository an output was `dvc import`ed from, which `fetch` and `pull` read what
//! the remote lacks from (DVC pushes no imports). The repository is cloned at a revision
//! into a temporary folder, and the objects of the outputs asked for are fetched into a
//! chosen cache: from the source's own cache when it is a local folder, then from the
//! default remote its configuration names, as DVC reads a source.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::transfer::{self, TransferOptions, TransferReport};
use crate::config::{DvcConfig, Level, OptionName, is_url};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::git;
use crate::progress::Progress;
use crate::repo::Repo;

/// The name the clone gives the source repository's cache, read as a folder remote (a
/// DVC 3 cache and a folder remote share one layout).
const SOURCE_CACHE: &str = "source-cache";

/// A clone of a source repository, removed with its temporary folder when dropped.
pub(crate) struct Source {
    url: String,
    temp: TempFolder,
    clone: PathBuf,
    rev: String,
}

/// What [`Source::fetch`] fetched.
pub(crate) struct Fetched {
    /// The clone, as a repository whose cache is the one fetched into.
    pub repo: Repo,
    /// The outputs fetched, as paths in the clone.
    pub targets: Vec<PathBuf>,
    /// The downloads, one per place objects were looked for.
    pub reports: Vec<TransferReport>,
}

impl Source {
    /// Clones `url` (a git URL, or a folder relative to the working folder) and checks out
    /// `rev` (default: the default branch), in a temporary folder beside `near`.
    pub(crate) fn clone_at(url: &str, rev: Option<&str>, near: &Path) -> Result<Source> {
        let temp = TempFolder::beside(near)?;
        let clone = temp.path.join("repo");
        git::clone(url, &clone)?;
        let rev = git::checkout_detached(&clone, rev.unwrap_or("HEAD"))?;
        Ok(Source {
            url: url.to_owned(),
            temp,
            clone,
            rev,
        })
    }

    /// The commit checked out.
    pub(crate) fn rev(&self) -> &str {
        &self.rev
    }

    /// The path of `relpath` (`/`-separated, from the source's root) in the clone.
    pub(crate) fn path(&self, relpath: &str) -> PathBuf {
        fsutil::join_slash(&self.clone, relpath)
    }

    /// A path in the temporary folder, beside the clone, that goes with it.
    pub(crate) fn scratch(&self, name: &str) -> PathBuf {
        self.temp.path.join(name)
    }

    /// Fetches into the cache folder `cache` the objects of the outputs at, inside or
    /// above `path` (in the clone), of the DVC project holding it: the nearest folder
    /// above it with a `.dvc` (a repository may hold several, `dvc init --subdir`).
    /// `None` where no project holds it, or none of its outputs are there.
    pub(crate) fn fetch(
        &self,
        path: &Path,
        cache: &Path,
        jobs: Option<usize>,
        progress: &dyn Progress,
    ) -> Result<Option<Fetched>> {
        let project = path
            .ancestors()
            .take_while(|folder| folder.starts_with(&self.clone))
            .find(|folder| folder.join(".dvc").is_dir());
        let Some(project) = project else {
            return Ok(None);
        };
        let places = self.configure(project, cache)?;
        let repo = Repo::discover(project)?;
        let targets = outputs_for(&repo, path)?;
        if targets.is_empty() {
            return Ok(None);
        }
        let mut reports = Vec::new();
        for remote in places {
            let options = TransferOptions {
                remote,
                jobs,
                ..TransferOptions::default()
            };
            let report = transfer::fetch(&repo, &targets, &options, progress)?;
            let complete = report.missing.is_empty();
            reports.push(report);
            if complete {
                break;
            }
        }
        Ok(Some(Fetched {
            repo,
            targets,
            reports,
        }))
    }

    /// Points the cache of the project at `project` (in the clone) at `cache`; where the
    /// source is a local folder, reads the project's cache there first and then the remote
    /// its own configuration names (relative URLs resolved there, its credentials kept),
    /// as DVC does. Returns the remotes to try, in order (`None`: the default).
    fn configure(&self, project: &Path, cache: &Path) -> Result<Vec<Option<String>>> {
        let mut config = DvcConfig::load(&project.join(".dvc"))?;
        let cache = cache.to_string_lossy();
        config.set_option(Level::Local, &OptionName::parse("cache.dir")?, Some(&cache))?;
        // Links into a cache that may be deleted next would leave nothing behind.
        let types = OptionName::parse("cache.type")?;
        config.set_option(Level::Local, &types, Some("reflink,copy"))?;
        let mut places = Vec::new();
        let within = project.strip_prefix(&self.clone).unwrap_or(Path::new(""));
        let local = Path::new(&self.url).join(within);
        if local.join(".dvc").is_dir() {
            let source = Repo::discover(&local)?;
            let source_cache = source.cache().root().to_string_lossy();
            config.replace_remote(Level::Local, SOURCE_CACHE, &source_cache, false)?;
            places.push(Some(SOURCE_CACHE.to_owned()));
            if let Some(name) = source.config().default_remote() {
                let remote = source.config().remote(name)?;
                let url = match is_url(&remote.url) {
                    true => remote.url.clone(),
                    false => (source.config().dir().join(&remote.url))
                        .to_string_lossy()
                        .into_owned(),
                };
                config.replace_remote(Level::Local, name, &url, true)?;
                for (key, value) in &remote.options {
                    config.modify_remote(Level::Local, name, key, Some(value))?;
                }
            }
        }
        if config.default_remote().is_some() {
            places.push(None);
        }
        Ok(places)
    }
}

/// The outputs to fetch for `path`: the output it names (or lies in), or else every
/// output inside it (a folder holding `.dvc` files); none for what only git tracks.
fn outputs_for(repo: &Repo, path: &Path) -> Result<Vec<PathBuf>> {
    match super::select_outputs(repo, &[path.to_owned()]) {
        Ok(_) => Ok(vec![path.to_owned()]),
        Err(Error::NotTracked { .. }) => Ok((repo.outputs()?.iter())
            .flat_map(|pointer| pointer.out_paths().collect::<Vec<_>>())
            .filter(|output| output.starts_with(path))
            .collect()),
        Err(error) => Err(error),
    }
}

/// A temporary folder, removed with all it holds when dropped. A file in it stays locked
/// while it is in use, so that a later command can tell the folder of one that was killed
/// (the system released its lock) from one still running.
struct TempFolder {
    path: PathBuf,
    lock: Option<File>,
}

/// The locked file in a [`TempFolder`].
const IN_USE: &str = "in-use.lock";

impl TempFolder {
    /// A new folder beside `near`, after removing those killed commands left there.
    fn beside(near: &Path) -> Result<TempFolder> {
        remove_abandoned(near)?;
        let path = fsutil::temp_beside(near);
        fs::create_dir(&path).map_err(Error::io("create folder", &path))?;
        let lock_path = path.join(IN_USE);
        // Dropped on failure, it removes the folder again.
        let mut folder = TempFolder { path, lock: None };
        let lock = File::create(&lock_path).map_err(Error::io("create", &lock_path))?;
        lock.try_lock()
            .map_err(|e| Error::io("lock", &lock_path)(e.into()))?;
        folder.lock = Some(lock);
        Ok(folder)
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        // Windows deletes no file that is still open.
        drop(self.lock.take());
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Removes the temporary folders that killed commands left beside `near`.
fn remove_abandoned(near: &Path) -> Result<()> {
    let (Some(parent), Some(name)) = (near.parent(), near.file_name()) else {
        return Ok(());
    };
    let prefix = format!(".{}{}", name.to_string_lossy(), fsutil::TEMP_MARK);
    let entries = match fs::read_dir(parent) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("list", parent)(e)),
    };
    for entry in entries.flatten() {
        let abandoned = entry.file_name().to_string_lossy().starts_with(&prefix)
            && entry.file_type().is_ok_and(|kind| kind.is_dir())
            && File::open(entry.path().join(IN_USE)).is_ok_and(|lock| lock.try_lock().is_ok());
        if abandoned {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
    Ok(())
}
