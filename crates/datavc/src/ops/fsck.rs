//! `fsck`: re-hash every cache object (on all cores) and report those whose bytes no
//! longer match their name, and manifests that do not parse.

use rayon::prelude::*;
use serde::Serialize;

use crate::error::Result;
use crate::lock::LockMode;
use crate::repo::Repo;

/// One corrupt object.
#[derive(Debug, Clone, Serialize)]
pub struct Corrupt {
    /// Its id.
    pub oid: String,
    /// Its path in the cache.
    pub path: String,
    /// What is wrong.
    pub problem: String,
}

/// What `fsck` checked and found.
#[derive(Debug, Clone, Serialize)]
pub struct FsckReport {
    /// Objects checked.
    pub checked: usize,
    /// Corrupt ones.
    pub corrupt: Vec<Corrupt>,
}

/// Checks every object in the cache.
pub fn fsck(repo: &Repo) -> Result<FsckReport> {
    let _lock = repo.lock(LockMode::Read)?;
    let objects = repo.cache().objects()?;
    let corrupt: Vec<Corrupt> = objects
        .par_iter()
        .filter_map(|oid| {
            let problem = match repo.cache().check(oid) {
                Ok(Some(actual)) => format!("content hashes to {actual}"),
                Ok(None) if oid.dir => repo.cache().manifest(oid).err()?.to_string(),
                Ok(None) => return None,
                Err(error) => error.to_string(),
            };
            let path = repo.cache().object_path(oid).display().to_string();
            Some(Corrupt {
                oid: oid.to_string(),
                path,
                problem,
            })
        })
        .collect();
    Ok(FsckReport {
        checked: objects.len(),
        corrupt,
    })
}
