//! `gc`: delete cache objects no pointer needs. It is a dry run unless forced, and it
//! keeps everything the workspace's pointers reference, plus (on request) what branches,
//! tags or all commits reference.

use std::collections::HashSet;

use serde::Serialize;

use crate::error::Result;
use crate::git::{self, RevScope};
use crate::hash::Oid;
use crate::lock::LockMode;
use crate::pointer::Pointer;
use crate::repo::Repo;

/// What `gc` found, and (when forced) removed.
#[derive(Debug, Clone, Serialize)]
pub struct GcReport {
    /// Objects no kept pointer references.
    pub unused: Vec<String>,
    /// Their total size.
    pub bytes: u64,
    /// Objects kept.
    pub kept: usize,
    /// Whether `unused` were deleted.
    pub deleted: bool,
}

/// Finds (and with `delete`, removes) unused cache objects.
pub fn gc(repo: &Repo, scope: RevScope, delete: bool) -> Result<GcReport> {
    let _lock = repo.lock(LockMode::Write)?;
    let mut pointers = repo.pointers()?;
    for rev in git::revisions(repo.root(), scope)? {
        pointers.extend(git::pointers_at(repo.root(), &rev)?);
    }
    let used = referenced(repo, &pointers)?;
    let mut unused: Vec<Oid> = repo
        .cache()
        .objects()?
        .into_iter()
        .filter(|oid| !used.contains(oid))
        .collect();
    unused.sort();
    let bytes = unused
        .iter()
        .map(|oid| std::fs::metadata(repo.cache().object_path(oid)).map_or(0, |m| m.len()))
        .sum();
    if delete {
        for oid in &unused {
            repo.cache().remove(oid)?;
        }
    }
    Ok(GcReport {
        kept: used.len(),
        unused: unused.iter().map(Oid::to_string).collect(),
        bytes,
        deleted: delete,
    })
}

/// Every object the pointers reference, folders expanded through their cached manifests.
fn referenced(repo: &Repo, pointers: &[Pointer]) -> Result<HashSet<Oid>> {
    let mut used = HashSet::new();
    for out in pointers.iter().flat_map(|p| &p.outs) {
        if used.insert(out.oid.clone()) && out.oid.dir && repo.cache().contains(&out.oid) {
            used.extend(
                repo.cache()
                    .manifest(&out.oid)?
                    .entries()
                    .iter()
                    .map(|e| e.oid.clone()),
            );
        }
    }
    Ok(used)
}
