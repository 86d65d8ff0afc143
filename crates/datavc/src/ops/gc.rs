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
        repo.state()?.forget_verified(&unused)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::HashAlgo;
    use crate::progress::Silent;

    #[test]
    fn deleted_objects_leave_the_state_database_too() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::init(dir.path(), HashAlgo::Blake3).unwrap();
        let file = dir.path().join("weights.bin");
        let mut added = Vec::new();
        for content in ["epoch 1", "epoch 2"] {
            std::fs::write(&file, content).unwrap();
            let tracked =
                crate::ops::add::add(&repo, std::slice::from_ref(&file), &Silent).unwrap();
            added.push(Oid::parse(HashAlgo::Blake3, &tracked[0].oid).unwrap());
        }
        let report = gc(&repo, RevScope::default(), true).unwrap();
        assert_eq!(report.unused, [added[0].to_string()]);
        let verified = repo.state().unwrap().verified_objects().unwrap();
        let recorded = |oid: &Oid| verified.contains_key(&(oid.algo, oid.hex.clone()));
        assert!(!recorded(&added[0]), "the deleted object is forgotten");
        assert!(
            cfg!(not(unix)) || recorded(&added[1]),
            "the kept one is not"
        );
    }
}
