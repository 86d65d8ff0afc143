//! `ls`: the tracked outputs (of pointer files and pipeline stages), with size, file count, hash and whether the cache has them;
//! optionally every file inside tracked folders.

use serde::Serialize;

use crate::error::Result;
use crate::lock::LockMode;
use crate::repo::Repo;

/// One listed path.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    /// The path, relative to the root.
    pub path: String,
    /// Its object id.
    pub oid: String,
    /// Bytes (for a file inside a folder: unknown without the object, so 0 if uncached).
    pub size: u64,
    /// Files, for a folder.
    pub nfiles: Option<u64>,
    /// Whether the cache holds the object.
    pub cached: bool,
}

/// Lists outputs; with `files`, also each file of cached folders.
pub fn ls(repo: &Repo, files: bool) -> Result<Vec<Listed>> {
    let _lock = repo.lock(LockMode::Read)?;
    let mut listed = Vec::new();
    for pointer in repo.outputs()? {
        for out in &pointer.outs {
            let path = super::display_path(repo, &pointer, out);
            let cached = repo.cache().contains(&out.oid);
            listed.push(Listed {
                path: path.clone(),
                oid: out.oid.to_string(),
                size: out.size,
                nfiles: out.nfiles,
                cached,
            });
            if !(files && out.oid.dir && cached) {
                continue;
            }
            for entry in repo.cache().manifest(&out.oid)?.entries() {
                let object = repo.cache().object_path(&entry.oid);
                let size = std::fs::metadata(&object).map_or(0, |m| m.len());
                listed.push(Listed {
                    path: format!("{path}/{}", entry.relpath),
                    oid: entry.oid.to_string(),
                    size,
                    nfiles: None,
                    cached: object.is_file(),
                });
            }
        }
    }
    Ok(listed)
}
