//! `get`: copy data that another repository tracks (a data registry) to a path here, as
//! `dvc get` does. The repository is cloned ([`super::source`]) beside the destination,
//! the path's objects fetched into a cache in the clone's temporary folder and checked out
//! in the clone, and the path renamed into place whole, so the destination holds all of
//! the data or none of it; the temporary folder goes whatever happens.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::source::{Source, SourceCopy, names_dvc_file, source_parts};
use super::transfer::TransferReport;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::progress::Progress;
use crate::repo::absolute;

/// How to copy a path out of a source repository, for `get` and `import`.
#[derive(Debug, Clone, Default)]
pub struct CopyOptions {
    /// The branch, tag or commit to take the path from (default: the default branch);
    /// `import` records it for `update` to follow.
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
pub fn get(url: &str, path: &str, options: &CopyOptions, progress: &dyn Progress) -> Result<Got> {
    let parts = source_parts(url, path)?;
    let out = destination(&parts, options.out.as_deref())?;
    refuse_existing(&out, options.force)?;
    fsutil::create_dir_all(out.parent().unwrap_or(&out))?;
    let source = Source::clone_at(url, options.rev.as_deref(), &out)?;
    let copy = SourceCopy::of(&source, url, &parts, options.jobs, progress)?;
    // Again: the download may have taken a while.
    refuse_existing(&out, options.force)?;
    copy.place(&out)?;
    Ok(Got {
        url: url.to_owned(),
        path: parts.join("/"),
        rev: source.rev().to_owned(),
        out,
        fetched: copy.fetched,
    })
}

/// Where the data of the source path `parts` goes, as DVC decides: `out`, or inside it
/// when it is a folder, or the path's name here. A DVC file's name is refused, as DVC
/// refuses it: the data would pass for a pointer or a pipeline.
pub(crate) fn destination(parts: &[String], out: Option<&Path>) -> Result<PathBuf> {
    let name = parts.last().map_or("", String::as_str);
    let out = match out {
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

pub(crate) fn refuse_existing(out: &Path, force: bool) -> Result<()> {
    match fsutil::exists(out) && !force {
        true => Err(Error::Exists {
            path: out.to_owned(),
        }),
        false => Ok(()),
    }
}
