//! `diff`: which tracked files differ between two commits, or between a commit and the
//! workspace (as it is on disk, not as its pointers say).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::git;
use crate::hash::Oid;
use crate::lock::LockMode;
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
}

/// Compares commit `a` (default `HEAD`) with commit `b`, or with the workspace.
pub fn diff(repo: &Repo, a: Option<&str>, b: Option<&str>) -> Result<DiffReport> {
    let _lock = repo.lock(LockMode::Read)?;
    let before = committed(repo, a.unwrap_or("HEAD"))?;
    let after = match b {
        Some(rev) => committed(repo, rev)?,
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
    Ok(report)
}

fn changed(path: &str, old: Option<&Oid>, new: Option<&Oid>) -> Changed {
    Changed {
        path: path.to_owned(),
        old: old.map(Oid::to_string),
        new: new.map(Oid::to_string),
    }
}

type Files = BTreeMap<String, Oid>;

fn committed(repo: &Repo, rev: &str) -> Result<Files> {
    let mut files = Files::new();
    for pointer in git::pointers_at(repo.root(), rev)? {
        for out in &pointer.outs {
            insert_output(repo, &pointer, out, &mut files)?;
        }
    }
    Ok(files)
}

fn insert_output(
    repo: &Repo,
    pointer: &Pointer,
    out: &crate::pointer::Output,
    files: &mut Files,
) -> Result<()> {
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
        }
    }
    Ok(())
}

fn workspace(repo: &Repo) -> Result<Files> {
    let mut state = repo.state()?;
    let mut files = Files::new();
    for pointer in repo.pointers()? {
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
