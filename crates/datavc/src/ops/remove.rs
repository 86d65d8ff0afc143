//! `remove`: stop tracking outputs. Their pointer files go, and their lines in the
//! `.gitignore` beside them; the data stays in the workspace as plain writable files. Links
//! into the cache are replaced by copies first, so a later `gc` cannot take data away.
//!
//! The pointer is deleted last: a command killed half-way leaves it in place, and running
//! `remove` again finishes the work.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::lock::LockMode;
use crate::repo::Repo;
use crate::{fsutil, gitignore, link};

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
}

/// Stops tracking the outputs of `targets` (pointer files or tracked paths); none when
/// `targets` is empty.
pub fn remove(repo: &Repo, targets: &[PathBuf]) -> Result<Vec<Removed>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let pointers = super::select_pointers(repo, targets)?;
    let _lock = repo.lock(LockMode::Write)?;
    let mut removed = Vec::new();
    for pointer in &pointers {
        let (mut outputs, mut gitignores) = (Vec::new(), Vec::new());
        for out in &pointer.outs {
            let path = pointer.out_path(out);
            // An output that is not there has nothing to detach.
            if std::fs::symlink_metadata(&path).is_ok() {
                super::each_file_below(&path, link::detach)?;
            }
            if let (Some(dir), Some(name)) = (path.parent(), path.file_name())
                && let Some(file) = gitignore::unignore(dir, &name.to_string_lossy())?
            {
                gitignores.push(repo.relpath(&file)?);
            }
            outputs.push(super::display_path(repo, pointer, out));
        }
        fsutil::remove_file(&pointer.file)?;
        removed.push(Removed {
            pointer: super::display_pointer(repo, pointer),
            outputs,
            gitignores,
        });
    }
    Ok(removed)
}
