//! `unprotect`: turn linked (hardlink, symlink, reflink) or read-only workspace files into
//! private writable copies, so editing them cannot touch the cache.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::link;
use crate::lock::LockMode;
use crate::repo::{Repo, absolute};

/// Unprotects files, or every file below folders; returns how many.
pub fn unprotect(repo: &Repo, paths: &[PathBuf]) -> Result<usize> {
    let _lock = repo.lock(LockMode::Write)?;
    let mut count = 0;
    for path in paths {
        let path = absolute(path)?;
        repo.relpath(&path)?;
        if !path.exists() {
            return Err(Error::NoSuchPath { path });
        }
        count += super::each_file_below(&path, link::unprotect)?;
    }
    Ok(count)
}
