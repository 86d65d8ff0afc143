//! `get`: copy data that another repository tracks (a data registry) to a path here, as
//! `dvc get` does. The repository is cloned ([`super::source`]) beside the destination,
//! the path's objects fetched into a cache in the clone's temporary folder and checked out
//! in the clone, and the path renamed into place whole, so the destination holds all of
//! the data or none of it; the temporary folder goes whatever happens.

use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use super::checkout::{self, Missing, Overwrite};
use super::source::{Fetched, Source};
use super::transfer::TransferReport;
use crate::dvcignore;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::pointer::POINTER_EXT;
use crate::progress::Progress;
use crate::repo::absolute;
use crate::stages::STAGES_FILE;

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
        .filter(|part| *part != Component::CurDir)
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
    let source = Source::clone_at(url, options.rev.as_deref(), &out)?;
    let data = source.path(&parts.join("/"));
    let cache = source.scratch("cache");
    refuse_links(&source.path(""), &data, &not_in_source)?;
    let fetched = match source.fetch(&data, &cache, options.jobs, progress)? {
        Some(fetched) => check_out(url, fetched, progress)?,
        None => Vec::new(),
    };
    if !fsutil::exists(&data) {
        return Err(not_in_source());
    }
    remove_dvc_files(&data)?;
    // Again: the download may have taken a while.
    refuse_existing(&out, options.force)?;
    place(&data, &out, &source.scratch("replaced"))?;
    Ok(Got {
        url: url.to_owned(),
        path: parts.join("/"),
        rev: source.rev().to_owned(),
        out,
        fetched,
    })
}

/// Renames `source` to `out`; what `out` held goes to `replaced` first, and back if the
/// rename fails.
fn place(source: &Path, out: &Path, replaced: &Path) -> Result<()> {
    let replacing = fsutil::exists(out);
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

/// Refuses a path whose folders, below `root`, include a symbolic link: git checks links
/// out as they were committed, and one could point anywhere on this machine.
fn refuse_links(root: &Path, data: &Path, not_in_source: &dyn Fn() -> Error) -> Result<()> {
    let folders = data
        .ancestors()
        .skip(1)
        .take_while(|folder| *folder != root);
    for folder in folders {
        if fs::symlink_metadata(folder).is_ok_and(|meta| meta.file_type().is_symlink()) {
            return Err(not_in_source());
        }
    }
    Ok(())
}

/// Deletes, in the clone, what inside the folder `source` DVC reads as its own (pointers,
/// pipelines, ignore rules, a project's `.dvc` folder): its `get` leaves them out, and so
/// does this one.
fn remove_dvc_files(source: &Path) -> Result<()> {
    if !fs::symlink_metadata(source).is_ok_and(|meta| meta.is_dir()) {
        return Ok(());
    }
    let mut walk = walkdir::WalkDir::new(source).min_depth(1).into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(|e| Error::io("list", source)(e.into()))?;
        if entry.file_type().is_dir() && entry.file_name() == ".dvc" {
            walk.skip_current_dir();
            fs::remove_dir_all(entry.path()).map_err(Error::io("remove", entry.path()))?;
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && (names_dvc_file(&name) || name == dvcignore::FILE_NAME) {
            fsutil::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn refuse_existing(out: &Path, force: bool) -> Result<()> {
    match fsutil::exists(out) && !force {
        true => Err(Error::Exists {
            path: out.to_owned(),
        }),
        false => Ok(()),
    }
}

/// Checks out what was fetched, in the clone; returns the fetch reports.
fn check_out(url: &str, fetched: Fetched, progress: &dyn Progress) -> Result<Vec<TransferReport>> {
    let Fetched {
        repo,
        targets,
        reports,
    } = fetched;
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
    Ok(reports)
}
