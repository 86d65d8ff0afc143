//! `remove`: stop tracking outputs. Their pointer files go, and their lines in the
//! `.gitignore` beside them; the data stays in the workspace as plain writable files. Links
//! into the cache are replaced by copies first, so a later `gc` cannot take data away.
//! With `--outs` the data is deleted from the workspace instead, once the cache is known
//! to hold every byte of it (or with `--force`).
//!
//! The pointer is deleted last: a command killed half-way leaves it in place, and running
//! `remove` again finishes the work.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::lock::LockMode;
use crate::ops::checkout::Overwrite;
use crate::repo::Repo;
use crate::state::StateDb;
use crate::workspace::{Content, HashedFile, scan};
use crate::{fsutil, link};

/// One pointer `remove` deleted.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    /// The pointer file, relative to the root.
    pub pointer: String,
    /// Its outputs, relative to the root, which stay in the workspace.
    pub outputs: Vec<String>,
    /// The `.gitignore` files that no longer ignore them, relative to the root (one that
    /// was left empty is deleted).
    pub gitignores: Vec<String>,
    /// Whether the outputs were deleted from the workspace (`--outs`).
    pub deleted: bool,
}

/// Stops tracking the outputs of `targets` (pointer files or tracked paths); none when
/// `targets` is empty. With `delete`, their data is deleted from the workspace too: with
/// [`Overwrite::Refuse`] only if the cache holds all of it, else nothing changes.
pub fn remove(repo: &Repo, targets: &[PathBuf], delete: Option<Overwrite>) -> Result<Vec<Removed>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let pointers = super::select_pointers(repo, targets)?;
    let _lock = repo.lock(LockMode::Write)?;
    let mut state = repo.state()?;
    if delete == Some(Overwrite::Refuse) {
        let mut unsaved = Vec::new();
        for pointer in &pointers {
            for out in &pointer.outs {
                unsaved.extend(self::unsaved(repo, &mut state, &pointer.out_path(out))?);
            }
        }
        if !unsaved.is_empty() {
            return Err(Error::WouldDelete { paths: unsaved });
        }
    }
    let mut removed = Vec::new();
    for pointer in &pointers {
        let (mut outputs, mut gitignores) = (Vec::new(), Vec::new());
        for out in &pointer.outs {
            let path = pointer.out_path(out);
            // An output that is not there has nothing to delete or detach.
            if std::fs::symlink_metadata(&path).is_ok() {
                match delete {
                    Some(_) => delete_output(repo, &mut state, &path)?,
                    None => {
                        super::each_file_below(&path, link::detach)?;
                    }
                }
            }
            gitignores.extend(super::unignore(repo, &path)?);
            outputs.push(super::display_path(repo, pointer, out));
        }
        fsutil::remove_file(&pointer.file)?;
        removed.push(Removed {
            pointer: super::display_pointer(repo, pointer),
            outputs,
            gitignores,
            deleted: delete.is_some(),
        });
    }
    let pointers = removed.iter().map(|r| r.pointer.as_str());
    let ignores = removed
        .iter()
        .flat_map(|r| r.gitignores.iter().map(String::as_str));
    super::autostage(repo, pointers.chain(ignores))?;
    Ok(removed)
}

/// The files an output holds now whose content the cache lacks: deleting or replacing
/// them would lose it.
pub(super) fn unsaved(repo: &Repo, state: &mut StateDb, output: &Path) -> Result<Vec<PathBuf>> {
    let files = tracked_files(repo, state, output)?;
    let missing = files.into_iter().filter(|f| !repo.cache().contains(&f.oid));
    Ok(missing.map(|f| f.path).collect())
}

/// The files an output holds now, hashed: not those `.dvcignore` excludes.
fn tracked_files(repo: &Repo, state: &mut StateDb, output: &Path) -> Result<Vec<HashedFile>> {
    Ok(match scan(repo, state, output)? {
        Content::Missing => Vec::new(),
        Content::File(file) => vec![file],
        Content::Dir { files, .. } => files,
    })
}

/// Deletes an output's tracked files, then the folders they leave empty. Files that
/// `.dvcignore` excludes stay: the cache never held them.
fn delete_output(repo: &Repo, state: &mut StateDb, output: &Path) -> Result<()> {
    for file in tracked_files(repo, state, output)? {
        fsutil::remove_file(&file.path)?;
    }
    let folders = walkdir::WalkDir::new(output)
        .contents_first(true)
        .into_iter()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_dir());
    for folder in folders {
        // A folder that still holds an ignored file is not empty, and stays.
        let _ = std::fs::remove_dir(folder.path());
    }
    Ok(())
}
