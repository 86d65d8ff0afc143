//! `move` (`mv`): rename a tracked output as `dvc move` does. The data is renamed in the
//! workspace, the output's path in its pointer file follows, and a pointer named after
//! its output (`data.dvc` for `data`) is renamed with it (`dataset.dvc`); the
//! `.gitignore` lines move too. The recorded content stays the same: a rename changes no
//! byte, and the state database's records move with the files, so nothing is hashed again.
//!
//! The order keeps a crash harmless and lets the same command finish the job: the new
//! place is git-ignored before the data goes there, the data is renamed in one step, the
//! new pointer is written before the old one is deleted, and only then is the old place's
//! `.gitignore` line removed. Run again after a crash, `move` finds the data already at
//! the new place, holding the recorded content, and completes the rest.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::lock::LockMode;
use crate::pointer::{Output, POINTER_EXT, Pointer};
use crate::repo::{Repo, absolute};
use crate::state::{FileKey, StateDb};
use crate::workspace::scan;

/// What `move` did.
#[derive(Debug, Clone, Serialize)]
pub struct Moved {
    /// The output's old path, relative to the root.
    pub from: String,
    /// Its new path, relative to the root.
    pub to: String,
    /// The pointer file that records it now, relative to the root.
    pub pointer: String,
    /// The pointer file it replaced, where it was renamed.
    pub old_pointer: Option<String>,
    /// Whether the data is at the new place: for an output that was not in the
    /// workspace, only the pointer moved.
    pub data: bool,
    /// The `.gitignore` files that changed, relative to the root (one left empty is
    /// deleted).
    pub gitignores: Vec<String>,
}

impl Moved {
    /// The pointer and `.gitignore` files the move changed, for git.
    pub fn git_files(&self) -> impl Iterator<Item = &str> {
        let pointers = std::iter::once(self.pointer.as_str()).chain(self.old_pointer.as_deref());
        pointers.chain(self.gitignores.iter().map(String::as_str))
    }
}

/// Moves the output tracked at `from` to `to` (into `to` when it is a folder).
pub fn mv(repo: &Repo, from: &Path, to: &Path) -> Result<Moved> {
    let text = to.to_string_lossy();
    if text.ends_with(['/', std::path::MAIN_SEPARATOR]) && !to.is_dir() {
        return Err(Error::Unmovable {
            path: from.to_owned(),
            reason: format!("`{text}` is not a folder"),
        });
    }
    let from = absolute(from)?;
    repo.relpath(&from)?;
    let tracked = repo.outputs()?;
    let (mut pointer, index) = find_output(repo, &tracked, &from)?;
    let _lock = repo.lock(LockMode::Write)?;
    let mut state = repo.state()?;
    let to = destination(repo, &mut state, &pointer.outs[index], &from, absolute(to)?)?;
    let old_file = pointer.file.clone();
    let renamed = pointer.outs.len() == 1 && old_file.file_stem() == from.file_name();
    let new_file = match renamed {
        true => Repo::pointer_path(&to),
        false => old_file.clone(),
    };
    let moving = (&pointer, &pointer.outs[index]);
    check_destination(repo, &tracked, moving, &from, &to, &new_file)?;
    let (data, ignore) = place_data(repo, &mut state, &pointer.outs[index], &from, &to)?;
    let mut gitignores = Vec::from_iter(ignore);
    pointer.relocate(new_file.clone());
    let path = fsutil::relative_slash(&to, pointer.dir()).expect("checked to lie in its folder");
    let out = Output {
        path,
        ..pointer.outs[index].clone()
    };
    pointer.set_out(index, out);
    pointer.save()?;
    if new_file != old_file {
        fsutil::remove_file(&old_file)?;
    }
    gitignores.extend(super::unignore(repo, &from)?);
    let moved = Moved {
        from: repo.relpath(&from)?,
        to: repo.relpath(&to)?,
        pointer: repo.relpath(&new_file)?,
        old_pointer: (new_file != old_file)
            .then(|| repo.relpath(&old_file))
            .transpose()?,
        data,
        gitignores,
    };
    super::autostage(repo, moved.git_files())?;
    Ok(moved)
}

/// Where the output goes: into `to` where it is a folder, unless `from` is gone and `to`
/// holds the output already (a move interrupted after its rename, run again).
fn destination(
    repo: &Repo,
    state: &mut StateDb,
    out: &Output,
    from: &Path,
    to: PathBuf,
) -> Result<PathBuf> {
    if !to.is_dir() || (!fsutil::exists(from) && holds(repo, state, &to, out)?) {
        return Ok(to);
    }
    Ok(to.join(from.file_name().unwrap_or_default()))
}

/// Whether `path` holds the content `out` records.
fn holds(repo: &Repo, state: &mut StateDb, path: &Path, out: &Output) -> Result<bool> {
    Ok(scan(repo, state, path)?.oid().as_ref() == Some(&out.oid))
}

/// The pointer file (not a pipeline's) whose output is `from`, and the output's index.
fn find_output(repo: &Repo, tracked: &[Pointer], from: &Path) -> Result<(Pointer, usize)> {
    let unmovable = |reason: &str| Error::Unmovable {
        path: from.to_owned(),
        reason: reason.to_owned(),
    };
    let stage_output = "it is a pipeline stage's output; change its path in dvc.yaml";
    for pointer in tracked {
        let Some(index) = pointer.out_paths().position(|out| out == from) else {
            continue;
        };
        if pointer.stage().is_some() {
            return Err(unmovable(stage_output));
        }
        if pointer.has_deps() {
            return Err(unmovable(
                "its .dvc file records dependencies (an import): datavc does not move imports; `dvc move` does",
            ));
        }
        return Ok((pointer.clone(), index));
    }
    if from.extension().is_some_and(|ext| ext == POINTER_EXT) && from.is_file() {
        return Err(unmovable("it is a .dvc file; name the output it tracks"));
    }
    if super::pointerless(repo)?.iter().any(|o| o.path == from) {
        return Err(unmovable(stage_output));
    }
    Err(Error::NotTracked {
        path: from.to_owned(),
        stages: true,
    })
}

/// Fails unless `to` is a place the output can go: inside the repository and the
/// pointer's folder, clear of every other output, and with no other pointer file where
/// the new one goes (one an interrupted move of this output wrote is fine).
fn check_destination(
    repo: &Repo,
    tracked: &[Pointer],
    (pointer, out): (&Pointer, &Output),
    from: &Path,
    to: &Path,
    new_file: &Path,
) -> Result<()> {
    let shown = repo.relpath(to)?;
    let refuse = |reason: String| {
        Err(Error::Unmovable {
            path: from.to_owned(),
            reason,
        })
    };
    if shown.is_empty() || shown.split('/').any(|p| p == ".dvc" || p == ".git") {
        return refuse(format!("`{shown}` is the root or inside .dvc or .git"));
    }
    if to.starts_with(from) {
        return refuse(format!("`{shown}` is where it is, or inside it"));
    }
    if new_file == pointer.file && !to.starts_with(pointer.dir()) {
        return refuse(format!(
            "its .dvc file is not named after it and stays in its folder, which `{shown}` is outside"
        ));
    }
    let taken = new_file != pointer.file && new_file.exists();
    let written = taken && {
        let found = Pointer::load(new_file)?;
        found.out_paths().eq([to.to_owned()]) && found.outs[0].oid == out.oid
    };
    let others = (tracked.iter())
        .filter(|p| !(written && p.file == new_file))
        .flat_map(|p| p.out_paths())
        .chain(repo.pipelines()?.into_iter().flat_map(|p| p.declared))
        .filter(|path| path != from);
    for other in others {
        if to.starts_with(&other) || other.starts_with(to) {
            let other = fsutil::relative_slash(&other, repo.root()).unwrap_or_default();
            return refuse(format!("`{shown}` overlaps the tracked output `{other}`"));
        }
    }
    if taken && !written {
        let file = fsutil::relative_slash(new_file, repo.root()).unwrap_or_default();
        return refuse(format!("`{file}` already exists"));
    }
    Ok(())
}

/// Puts the output's data at `to`, git-ignored there, with its state records; returns
/// whether the data is at `to` now, and the `.gitignore` file, if one is written. Where
/// `from` is gone, `to` must already hold the recorded content (a move interrupted after
/// its rename), or be empty (the output was not checked out: only the pointer moves).
fn place_data(
    repo: &Repo,
    state: &mut StateDb,
    out: &Output,
    from: &Path,
    to: &Path,
) -> Result<(bool, Option<String>)> {
    let (from_there, to_there) = (fsutil::exists(from), fsutil::exists(to));
    if to_there && (from_there || !holds(repo, state, to, out)?) {
        return Err(Error::Unmovable {
            path: from.to_owned(),
            reason: format!("`{}` already exists", repo.relpath(to)?),
        });
    }
    fsutil::create_dir_all(to.parent().unwrap_or(repo.root()))?;
    let ignore = super::ignore(repo, to)?;
    if from_there {
        let records = state_records(repo, state, from, to)?;
        std::fs::rename(from, to).map_err(Error::io("move", from))?;
        state.record(&records)?;
    }
    Ok((from_there || to_there, ignore))
}

/// The state database's records of the files below `from`, under their paths below `to`:
/// a rename keeps a file's inode, size and modification time, so they still hold.
fn state_records(
    repo: &Repo,
    state: &mut StateDb,
    from: &Path,
    to: &Path,
) -> Result<Vec<(String, FileKey, crate::hash::Oid)>> {
    let hashes = state.hashes()?;
    let mut records = Vec::new();
    for entry in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(|e| e.ok())
    {
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        if !metadata.is_file() {
            continue;
        }
        let key = FileKey::of(&metadata);
        let old = repo.relpath(entry.path())?;
        let moved = match entry.path().strip_prefix(from) {
            Ok(below) if !below.as_os_str().is_empty() => to.join(below),
            _ => to.to_owned(),
        };
        if let Some(oid) = hashes.get(&old, key) {
            records.push((repo.relpath(&moved)?, key, oid));
        }
    }
    Ok(records)
}
