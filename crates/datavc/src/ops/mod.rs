//! The commands, one module each; every one takes a [`Repo`] and returns a report value.

pub mod add;
pub mod checkout;
pub mod diff;
pub mod fsck;
pub mod gc;
pub mod ls;
pub mod remove;
pub mod status;
pub mod transfer;
pub mod unprotect;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::pointer::{Output, POINTER_EXT, Pointer};
use crate::repo::{Repo, absolute};
use crate::state::StateDb;

/// Records in the state database the objects this command wrote into the cache, which were
/// verified as they were written; call after the cache is flushed, so that in durable mode
/// a record never names an object not yet on disk. (Without durable mode a power cut can
/// lose an object's bytes, but then its size or times on disk differ from the record too,
/// on the filesystems that allocate blocks at writeback, ext4 and XFS among them.)
fn record_verified(repo: &Repo, state: &mut StateDb) -> Result<()> {
    state.record_verified(&repo.cache().take_verified())
}

/// The pointers named by `targets` (pointer files or tracked paths), or all of them.
pub fn select_pointers(repo: &Repo, targets: &[PathBuf]) -> Result<Vec<Pointer>> {
    if targets.is_empty() {
        return repo.pointers();
    }
    targets
        .iter()
        .map(|target| pointer_of(repo, target, false))
        .collect()
}

/// The outputs named by `targets` (pointer files, or paths that a pointer or a pipeline
/// stage tracks), or all of them: for commands that never rewrite a pointer.
pub fn select_outputs(repo: &Repo, targets: &[PathBuf]) -> Result<Vec<Pointer>> {
    if targets.is_empty() {
        return repo.outputs();
    }
    let stage_outputs: HashMap<PathBuf, Pointer> = (repo.pipelines()?.into_iter())
        .flat_map(|pipeline| pipeline.outputs)
        .flat_map(|pointer| {
            let paths: Vec<PathBuf> = pointer.out_paths().collect();
            paths.into_iter().map(move |path| (path, pointer.clone()))
        })
        .collect();
    targets
        .iter()
        .map(|target| match stage_outputs.get(&absolute(target)?) {
            Some(pointer) => Ok(pointer.clone()),
            None => pointer_of(repo, target, true),
        })
        .collect()
}

/// The pointer file `target` names, or the one beside the tracked path `target`;
/// `stages` says whether the caller looked for a pipeline stage's output first.
fn pointer_of(repo: &Repo, target: &Path, stages: bool) -> Result<Pointer> {
    let target = absolute(target)?;
    repo.relpath(&target)?;
    let is_pointer = target.extension().is_some_and(|ext| ext == POINTER_EXT) && target.is_file();
    let file = if is_pointer {
        target.clone()
    } else {
        Repo::pointer_path(&target)
    };
    if !file.is_file() {
        return Err(Error::NotTracked {
            path: target,
            stages,
        });
    }
    Pointer::load(&file)
}

/// Calls `act` on every file at or below `path` (a file, or a folder's files); returns
/// how many.
fn each_file_below(path: &Path, mut act: impl FnMut(&Path) -> Result<()>) -> Result<usize> {
    let mut count = 0;
    for entry in walkdir::WalkDir::new(path) {
        let entry = entry.map_err(|e| Error::Io {
            action: "list",
            path: path.to_owned(),
            source: e.into(),
        })?;
        if !entry.file_type().is_dir() {
            act(entry.path())?;
            count += 1;
        }
    }
    Ok(count)
}

/// An output's path relative to the repository root, for reports.
pub fn display_path(repo: &Repo, pointer: &Pointer, out: &Output) -> String {
    let path = pointer.out_path(out);
    fsutil::relative_slash(&path, repo.root()).unwrap_or_else(|| path.display().to_string())
}

/// A pointer file's path relative to the repository root, for reports.
pub fn display_pointer(repo: &Repo, pointer: &Pointer) -> String {
    relative_or_full(repo, &pointer.file)
}

fn relative_or_full(repo: &Repo, path: &Path) -> String {
    fsutil::relative_slash(path, repo.root()).unwrap_or_else(|| path.display().to_string())
}
