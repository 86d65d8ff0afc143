//! `status`: how the workspace differs from what the pointers and pipeline stages record
//! (outputs declared `cache: false` included, as in DVC). On an unchanged tree it only
//! stats files (the state database knows their hashes).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::lock::LockMode;
use crate::manifest::Manifest;
use crate::pointer::{Output, Pointer};
use crate::repo::Repo;
use crate::workspace::{Content, scan};

/// How one output differs from its pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// The workspace matches the pointer.
    Clean,
    /// The content differs.
    Modified,
    /// Nothing is at the path.
    Deleted,
    /// The workspace matches, but the cache lacks the object (`fetch` it).
    NotInCache,
    /// A file inside a tracked folder that the pointer does not record.
    Added,
    /// An output with no hash: a pipeline stage's that `dvc.lock` does not record (the
    /// stage never ran here, or its lock was not committed), or one `dvc import
    /// --no-download` or `--no-exec` left for `update` to record.
    Unrecorded,
}

/// One output's status.
#[derive(Debug, Clone, Serialize)]
pub struct OutputStatus {
    /// The pointer file, relative to the root.
    pub pointer: String,
    /// The output, relative to the root.
    pub path: String,
    /// How it differs.
    pub change: Change,
    /// For a modified folder whose recorded manifest is cached: the files that differ.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, Change>,
}

/// The status of the outputs of `targets` (all when empty).
pub fn status(repo: &Repo, targets: &[PathBuf]) -> Result<Vec<OutputStatus>> {
    let pointers = super::select_outputs(repo, targets)?;
    let _lock = repo.lock(LockMode::Read)?;
    let mut state = repo.state()?;
    let mut report = Vec::new();
    for pointer in &pointers {
        for out in &pointer.outs {
            require_listed_part(repo, pointer, out)?;
            let content = scan(repo, &mut state, &pointer.out_path(out))?;
            let change = match content.oid() {
                None => Change::Deleted,
                Some(oid) if oid != out.oid => Change::Modified,
                Some(_) if !repo.cache().contains(&out.oid) => Change::NotInCache,
                Some(_) => Change::Clean,
            };
            let files = match (&content, change) {
                (Content::Dir { manifest, .. }, Change::Modified) if out.oid.dir => {
                    file_changes(repo, &out.oid, manifest)
                }
                _ => BTreeMap::new(),
            };
            let path = super::display_path(repo, pointer, out);
            report.push(OutputStatus {
                pointer: super::display_pointer(repo, pointer),
                path,
                change,
                files,
            });
        }
        for path in &pointer.unrecorded {
            let path = crate::fsutil::join_slash(pointer.dir(), path);
            report.push(OutputStatus {
                pointer: super::display_pointer(repo, pointer),
                path: super::relative_or_full(repo, &path),
                change: Change::Unrecorded,
                files: BTreeMap::new(),
            });
        }
    }
    for pointer in super::uncached(repo, targets)? {
        let out = &pointer.outs[0];
        let change = match scan(repo, &mut state, &pointer.out_path(out))?.oid() {
            None => Change::Deleted,
            Some(oid) if oid != out.oid => Change::Modified,
            Some(_) => Change::Clean,
        };
        report.push(OutputStatus {
            pointer: super::display_pointer(repo, &pointer),
            path: super::display_path(repo, &pointer, out),
            change,
            files: BTreeMap::new(),
        });
    }
    report.extend(
        super::unrecorded(repo, targets)?
            .into_iter()
            .map(|u| OutputStatus {
                pointer: super::relative_or_full(repo, &u.stages_file),
                path: super::relative_or_full(repo, &u.path),
                change: Change::Unrecorded,
                files: BTreeMap::new(),
            }),
    );
    Ok(report)
}

/// Status reports the whole folder for a part of it, as DVC does, but a part the cached
/// manifest does not list is an error, as in the other commands.
fn require_listed_part(repo: &Repo, pointer: &Pointer, out: &Output) -> Result<()> {
    let Some(part) = out.part.as_deref() else {
        return Ok(());
    };
    if !repo.cache().contains(&out.oid) {
        return Ok(());
    }
    let folder = super::display_path(repo, pointer, out);
    super::part_entries(&repo.cache().manifest(&out.oid)?, &folder, Some(part)).map(drop)
}

/// Which files of a folder changed, when the recorded manifest is in the cache.
fn file_changes(
    repo: &Repo,
    recorded: &crate::hash::Oid,
    now: &Manifest,
) -> BTreeMap<String, Change> {
    let Ok(before) = repo.cache().manifest(recorded) else {
        return BTreeMap::new();
    };
    let before: BTreeMap<_, _> = before
        .entries()
        .iter()
        .map(|e| (e.relpath.clone(), e.oid.clone()))
        .collect();
    let now: BTreeMap<_, _> = now
        .entries()
        .iter()
        .map(|e| (e.relpath.clone(), e.oid.clone()))
        .collect();
    let mut changes = BTreeMap::new();
    for (path, oid) in &now {
        match before.get(path) {
            None => changes.insert(path.clone(), Change::Added),
            Some(old) if old != oid => changes.insert(path.clone(), Change::Modified),
            Some(_) => None,
        };
    }
    for path in before.keys().filter(|p| !now.contains_key(*p)) {
        changes.insert(path.clone(), Change::Deleted);
    }
    changes
}
