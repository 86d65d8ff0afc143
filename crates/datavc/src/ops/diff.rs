//! `diff`: which tracked files differ between two commits, or between a commit and the
//! workspace (as it is on disk, not as its pointers say).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::git;
use crate::hash::Oid;
use crate::lock::LockMode;
use crate::ops::transfer::fetch_manifests;
use crate::pointer::Pointer;
use crate::repo::Repo;
use crate::workspace::{Content, scan};

/// One changed path.
#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    /// The path, relative to the root (a folder whose manifest is not cached ends in `/`).
    pub path: String,
    /// Its id before, if it existed.
    pub old: Option<String>,
    /// Its id after, if it exists.
    pub new: Option<String>,
}

/// The differences, by kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffReport {
    /// Paths only in the second side.
    pub added: Vec<Changed>,
    /// Paths only in the first side.
    pub deleted: Vec<Changed>,
    /// Paths in both with different content.
    pub modified: Vec<Changed>,
    /// Changed folders reported as a whole (their paths end in `/`), because their
    /// manifest is in neither the cache nor the default remote.
    pub unexpanded: Vec<Unexpanded>,
}

/// A folder compared by its manifest's id alone.
#[derive(Debug, Clone, Serialize)]
pub struct Unexpanded {
    /// The folder, relative to the root, ending in `/`.
    pub path: String,
    /// Its manifest's id.
    pub oid: String,
    /// Why the manifest could not be had.
    pub reason: String,
}

/// Compares commit `a` (default `HEAD`) with commit `b`, or with the workspace. Manifests
/// of committed folders that the cache lacks are fetched from the default remote first.
pub fn diff(repo: &Repo, a: Option<&str>, b: Option<&str>) -> Result<DiffReport> {
    let _lock = repo.lock(LockMode::Read)?;
    let before_pointers = git::outputs_at(repo.root(), a.unwrap_or("HEAD"))?;
    let after_pointers = b.map(|rev| git::outputs_at(repo.root(), rev)).transpose()?;
    let all = before_pointers
        .iter()
        .chain(after_pointers.iter().flatten());
    let uncached = uncached_manifests(repo, all);
    // Staging and renaming into the cache is safe under the read lock: every writer that
    // could sweep the staging folder takes the write lock, which excludes us.
    let remote = match uncached.is_empty() {
        true => None,
        false => fetch_manifests(repo, uncached)?,
    };
    let mut unexpanded = Vec::new();
    let before = committed(repo, &before_pointers, &mut unexpanded)?;
    let after = match &after_pointers {
        Some(pointers) => committed(repo, pointers, &mut unexpanded)?,
        None => workspace(repo)?,
    };
    let mut report = DiffReport::default();
    for (path, old) in &before {
        match after.get(path) {
            None => report.deleted.push(changed(path, Some(old), None)),
            Some(new) if new != old => report.modified.push(changed(path, Some(old), Some(new))),
            Some(_) => {}
        }
    }
    for (path, new) in after.iter().filter(|(path, _)| !before.contains_key(*path)) {
        report.added.push(changed(path, None, Some(new)));
    }
    report.unexpanded = explain(&report, unexpanded, remote.as_deref());
    Ok(report)
}

/// The folder outputs whose manifest the cache lacks, once each.
fn uncached_manifests<'a>(
    repo: &Repo,
    pointers: impl Iterator<Item = &'a Pointer>,
) -> Vec<(Oid, String)> {
    let mut seen = std::collections::HashSet::new();
    let mut uncached = Vec::new();
    for pointer in pointers {
        for out in pointer.outs.iter().filter(|out| out.oid.dir) {
            if !repo.cache().contains(&out.oid) && seen.insert(out.oid.clone()) {
                uncached.push((out.oid.clone(), super::display_path(repo, pointer, out)));
            }
        }
    }
    uncached
}

/// Says why each changed folder in the report is reported whole.
fn explain(
    report: &DiffReport,
    unexpanded: Vec<(String, Oid)>,
    remote: Option<&str>,
) -> Vec<Unexpanded> {
    let reason = match remote {
        None => {
            "its manifest is not in the cache, and no default remote is configured to fetch it from"
                .to_owned()
        }
        Some(name) => format!("its manifest is in neither the cache nor remote `{name}`"),
    };
    let listed = |path: &str| {
        [&report.added, &report.deleted, &report.modified]
            .iter()
            .any(|list| list.iter().any(|changed| changed.path == path))
    };
    let mut explained: Vec<Unexpanded> = unexpanded
        .into_iter()
        .filter(|(path, _)| listed(path))
        .map(|(path, oid)| Unexpanded {
            path,
            oid: oid.to_string(),
            reason: reason.clone(),
        })
        .collect();
    explained.sort_by(|a, b| (&a.path, &a.oid).cmp(&(&b.path, &b.oid)));
    explained.dedup_by(|a, b| a.path == b.path && a.oid == b.oid);
    explained
}

fn changed(path: &str, old: Option<&Oid>, new: Option<&Oid>) -> Changed {
    Changed {
        path: path.to_owned(),
        old: old.map(Oid::to_string),
        new: new.map(Oid::to_string),
    }
}

type Files = BTreeMap<String, Oid>;

/// The files the pointers name, folders expanded through cached manifests; folders whose
/// manifest is not cached are entered whole, as `path/`, and listed in `unexpanded`.
fn committed(
    repo: &Repo,
    pointers: &[Pointer],
    unexpanded: &mut Vec<(String, Oid)>,
) -> Result<Files> {
    let mut files = Files::new();
    for pointer in pointers {
        for out in &pointer.outs {
            let path = super::display_path(repo, pointer, out);
            match (out.oid.dir, repo.cache().contains(&out.oid)) {
                (false, _) => {
                    files.insert(path, out.oid.clone());
                }
                (true, true) => {
                    for entry in repo.cache().manifest(&out.oid)?.entries() {
                        files.insert(format!("{path}/{}", entry.relpath), entry.oid.clone());
                    }
                }
                (true, false) => {
                    files.insert(format!("{path}/"), out.oid.clone());
                    unexpanded.push((format!("{path}/"), out.oid.clone()));
                }
            }
        }
    }
    Ok(files)
}

fn workspace(repo: &Repo) -> Result<Files> {
    let mut state = repo.state()?;
    let mut files = Files::new();
    for pointer in repo.outputs()? {
        for out in &pointer.outs {
            let path = super::display_path(repo, &pointer, out);
            match scan(repo, &mut state, &pointer.out_path(out))? {
                Content::Missing => {}
                Content::File(file) => {
                    files.insert(path, file.oid);
                }
                Content::Dir { files: inside, .. } => {
                    files.extend(
                        inside
                            .into_iter()
                            .map(|f| (format!("{path}/{}", f.relpath), f.oid)),
                    );
                }
            }
        }
    }
    Ok(files)
}
