//! `get`: copy data that another repository tracks (a data registry) to a path here, as
//! `dvc get` does. The repository is cloned at the asked revision into a temporary folder
//! beside the destination. Objects come from that repository's own cache when it is a
//! local folder, then from its default remote for what the cache lacks. The path is
//! checked out in the clone and renamed into place whole, so the destination holds all of
//! the data or none of it; the temporary folder goes whatever happens.

use std::fs::{self, File};
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use super::checkout::{self, Missing, Overwrite};
use super::transfer::{self, TransferOptions, TransferReport};
use crate::config::{DvcConfig, Level, OptionName, is_url};
use crate::dvcignore;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::git;
use crate::pointer::POINTER_EXT;
use crate::progress::Progress;
use crate::repo::{Repo, absolute};
use crate::stages::STAGES_FILE;

/// The name the clone gives the source repository's cache, read as a folder remote (a
/// DVC 3 cache and a folder remote share one layout).
const SOURCE_CACHE: &str = "source-cache";

/// How to get.
#[derive(Debug, Clone, Default)]
pub struct GetOptions {
    /// The branch, tag or commit to take the path from (default: the default branch).
    pub rev: Option<String>,
    /// Where to put it (default: the path's last part, in the working folder).
    pub out: Option<PathBuf>,
    /// Replace what is already there.
    pub force: bool,
    /// Concurrent downloads (default: the source's `jobs`, else 4 × cores).
    pub jobs: Option<usize>,
}

/// What `get` did.
#[derive(Debug, Clone, Serialize)]
pub struct Got {
    /// The repository, as given.
    pub url: String,
    /// The path in it.
    pub path: String,
    /// The commit it was taken from.
    pub rev: String,
    /// Where it was put.
    pub out: PathBuf,
    /// The downloads, one per place objects were looked for (none for a path only git
    /// tracks).
    pub fetched: Vec<TransferReport>,
}

/// Copies `path` (relative to the root of the repository at `url`, a folder or a git URL)
/// to `options.out`, which must not exist unless `options.force`. DVC's own files in a
/// folder (`.dvc` files, `dvc.yaml`, `.dvcignore`) are left out, as `dvc get` leaves them.
pub fn get(url: &str, path: &str, options: &GetOptions, progress: &dyn Progress) -> Result<Got> {
    let not_in_source = || Error::NotInSource {
        path: path.to_owned(),
        url: url.to_owned(),
    };
    let parts: Vec<String> = (Path::new(path).components())
        .map(|part| match part {
            Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Option<_>>()
        .ok_or_else(not_in_source)?;
    let Some(name) = parts.last() else {
        return Err(not_in_source());
    };
    let out = destination(name, options)?;
    refuse_existing(&out, options.force)?;
    fsutil::create_dir_all(out.parent().unwrap_or(&out))?;
    let temp = TempFolder::beside(&out)?;
    let clone = temp.path.join("repo");
    git::clone(url, &clone)?;
    let rev = git::checkout_detached(&clone, options.rev.as_deref().unwrap_or("HEAD"))?;
    let source = parts
        .iter()
        .fold(clone.clone(), |path, part| path.join(part));
    // A subfolder holding `.dvc` is another project; only the clone's root counts.
    let fetched = match clone.join(".dvc").is_dir() {
        true => check_out(url, &clone, &source, &temp.path, options, progress)?,
        false => Vec::new(),
    };
    if fs::symlink_metadata(&source).is_err() {
        return Err(not_in_source());
    }
    remove_dvc_files(&source)?;
    // Again: the download may have taken a while.
    refuse_existing(&out, options.force)?;
    place(&source, &out, &temp.path.join("replaced"))?;
    Ok(Got {
        url: url.to_owned(),
        path: parts.join("/"),
        rev,
        out,
        fetched,
    })
}

/// Renames `source` to `out`; what `out` held goes to `replaced` first, and back if the
/// rename fails.
fn place(source: &Path, out: &Path, replaced: &Path) -> Result<()> {
    let replacing = exists(out);
    if replacing {
        fs::rename(out, replaced).map_err(Error::io("move", out))?;
    }
    fs::rename(source, out)
        .map_err(Error::io("move", source))
        .inspect_err(|_| {
            if replacing {
                let _ = fs::rename(replaced, out);
            }
        })
}

/// Where the data goes, as DVC decides: `out`, or inside it when it is a folder, or the
/// path's name here. A DVC file's name is refused, as DVC refuses it: the data would pass
/// for a pointer or a pipeline.
fn destination(name: &str, options: &GetOptions) -> Result<PathBuf> {
    let out = match &options.out {
        Some(out) if out.is_dir() => absolute(out)?.join(name),
        Some(out) => absolute(out)?,
        None => absolute(Path::new(name))?,
    };
    match out
        .file_name()
        .is_some_and(|name| names_dvc_file(&name.to_string_lossy()))
    {
        true => Err(Error::DvcFileName { path: out }),
        false => Ok(out),
    }
}

/// Whether a file of this name is a pointer or a pipeline.
fn names_dvc_file(name: &str) -> bool {
    name.ends_with(&format!(".{POINTER_EXT}")) || name == STAGES_FILE
}

/// Deletes, in the clone, the files inside the folder `source` that DVC reads as its own
/// (pointers, pipelines, ignore rules): its `get` leaves them out, and so does this one.
fn remove_dvc_files(source: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(source).min_depth(1) {
        let entry = entry.map_err(|e| Error::io("list", source)(e.into()))?;
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && (names_dvc_file(&name) || name == dvcignore::FILE_NAME) {
            fsutil::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn refuse_existing(out: &Path, force: bool) -> Result<()> {
    match exists(out) && !force {
        true => Err(Error::Exists {
            path: out.to_owned(),
        }),
        false => Ok(()),
    }
}

/// Fetches the objects of what the clone tracks at (or inside) `source` and checks them
/// out in the clone; returns the fetch reports.
fn check_out(
    url: &str,
    clone: &Path,
    source: &Path,
    temp: &Path,
    options: &GetOptions,
    progress: &dyn Progress,
) -> Result<Vec<TransferReport>> {
    let places = configure(url, clone, &temp.join("cache"))?;
    let repo = Repo::discover(clone)?;
    let targets = targets(&repo, source)?;
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let mut fetched = Vec::new();
    for remote in places {
        let options = TransferOptions {
            remote,
            jobs: options.jobs,
            ..TransferOptions::default()
        };
        let report = transfer::fetch(&repo, &targets, &options, progress)?;
        let complete = report.missing.is_empty();
        fetched.push(report);
        if complete {
            break;
        }
    }
    checkout::checkout(&repo, &targets, Overwrite::Refuse, Missing::Fail, progress).map_err(
        |error| match error {
            Error::MissingObjects { count, first } => Error::MissingInSource {
                url: url.to_owned(),
                count,
                first,
            },
            error => error,
        },
    )?;
    Ok(fetched)
}

/// Points the clone's cache at `cache` and, where the source is a local folder, reads
/// objects from the source's cache first and then from the remote the source's own
/// configuration names (relative URLs resolved there, its credentials kept), as DVC
/// does. Returns the remotes to try, in order (`None`: the default).
fn configure(url: &str, clone: &Path, cache: &Path) -> Result<Vec<Option<String>>> {
    let mut config = DvcConfig::load(&clone.join(".dvc"))?;
    let cache = cache.to_string_lossy();
    config.set_option(Level::Local, &OptionName::parse("cache.dir")?, Some(&cache))?;
    // Links into a cache about to be deleted would leave nothing behind.
    config.set_option(
        Level::Local,
        &OptionName::parse("cache.type")?,
        Some("reflink,copy"),
    )?;
    let mut places = Vec::new();
    if Path::new(url).join(".dvc").is_dir() {
        let source = Repo::discover(Path::new(url))?;
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

/// The outputs to fetch for `source`: the output it names (or lies in), or else every
/// output inside it (a folder holding `.dvc` files); none for what only git tracks.
fn targets(repo: &Repo, source: &Path) -> Result<Vec<PathBuf>> {
    match super::select_outputs(repo, &[source.to_owned()]) {
        Ok(_) => Ok(vec![source.to_owned()]),
        Err(Error::NotTracked { .. }) => Ok((repo.outputs()?.iter())
            .flat_map(|pointer| pointer.out_paths().collect::<Vec<_>>())
            .filter(|path| path.starts_with(source))
            .collect()),
        Err(error) => Err(error),
    }
}

/// A temporary folder beside the destination, removed with all it holds when dropped.
/// A file in it stays locked while it is in use, so that a later `get` can tell the
/// folder of one that was killed (the system released its lock) from one still running.
struct TempFolder {
    path: PathBuf,
    lock: Option<File>,
}

/// The locked file in a [`TempFolder`].
const IN_USE: &str = "in-use.lock";

impl TempFolder {
    /// A new folder for a `get` to `out`, after removing those killed ones left there.
    fn beside(out: &Path) -> Result<TempFolder> {
        remove_abandoned(out)?;
        let path = fsutil::temp_beside(out);
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

/// Removes the temporary folders that killed `get`s to `out` left beside it.
fn remove_abandoned(out: &Path) -> Result<()> {
    let (Some(parent), Some(name)) = (out.parent(), out.file_name()) else {
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
