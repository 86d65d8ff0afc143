//! `add` and `commit`: hash a path, store it in the cache, link it back, write its pointer
//! and git-ignore it. The order is what makes a crash harmless: the cache holds the bytes
//! before the pointer names them, and every write is atomic.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::git;
use crate::hash::Oid;
use crate::link::{self, LinkType};
use crate::lock::LockMode;
use crate::manifest::{Entry, Manifest};
use crate::pointer::{Output, POINTER_EXT, Pointer};
use crate::progress::Progress;
use crate::repo::{Repo, absolute};
use crate::state::{FileKey, StateDb};
use crate::workspace::{Content, HashedFile, scan_into_cache, sweep_temp_files};

/// What `add` or `commit` recorded for one path.
#[derive(Debug, Clone, Serialize)]
pub struct Tracked {
    /// The path, relative to the repository root.
    pub path: String,
    /// The pointer file written, relative to the root.
    pub pointer: String,
    /// The `.gitignore` that now ignores the path, relative to the root (none where git
    /// does not version the repository, `core.no_scm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gitignore: Option<String>,
    /// The content's id.
    pub oid: String,
    /// Bytes.
    pub size: u64,
    /// Files, for a folder.
    pub nfiles: Option<u64>,
    /// Whether the pointer changed.
    pub changed: bool,
}

/// Starts tracking files or folders (or records their new content).
pub fn add(repo: &Repo, paths: &[PathBuf], progress: &dyn Progress) -> Result<Vec<Tracked>> {
    let stage_outputs: Vec<PathBuf> = (repo.pipelines()?.into_iter())
        .flat_map(|pipeline| pipeline.declared)
        .collect();
    let targets = paths
        .iter()
        .map(|path| check_trackable(repo, &stage_outputs, path))
        .collect::<Result<Vec<_>>>()?;
    if let Some(path) = targets.iter().find(|path| !fsutil::exists(path)) {
        return Err(Error::NoSuchPath { path: path.clone() });
    }
    check_git(repo, &targets)?;
    let _lock = repo.lock(LockMode::Write)?;
    sweep_temp_files(&targets)?;
    track_all(repo, &targets, progress)
}

/// Records the current content of tracked outputs (all, or those of `targets`).
pub fn commit(repo: &Repo, targets: &[PathBuf], progress: &dyn Progress) -> Result<Vec<Tracked>> {
    let pointers = super::select_pointers(repo, targets)?;
    let _lock = repo.lock(LockMode::Write)?;
    let outputs: Vec<PathBuf> = pointers.iter().flat_map(Pointer::out_paths).collect();
    sweep_temp_files(&outputs)?;
    track_all(repo, &outputs, progress)
}

/// Tracks each path, then stages the pointer and `.gitignore` files that changed, where
/// `core.autostage` asks for it.
fn track_all(repo: &Repo, paths: &[PathBuf], progress: &dyn Progress) -> Result<Vec<Tracked>> {
    let mut state = repo.state()?;
    let tracked = paths
        .iter()
        .map(|path| track(repo, &mut state, path, progress))
        .collect::<Result<Vec<_>>>()?;
    let changed = tracked.iter().filter(|t| t.changed);
    super::autostage(
        repo,
        changed.flat_map(|t| std::iter::once(t.pointer.as_str()).chain(t.gitignore.as_deref())),
    )?;
    Ok(tracked)
}

/// Refuses a path that cannot be an output (the root, inside `.dvc`, a pointer, inside a
/// tracked folder, overlapping a stage's output); returns it absolute.
pub(super) fn check_trackable(
    repo: &Repo,
    stage_outputs: &[PathBuf],
    path: &Path,
) -> Result<PathBuf> {
    let path = absolute(path)?;
    let relpath = repo.relpath(&path)?;
    let untrackable = |reason| {
        Err(Error::Untrackable {
            path: path.clone(),
            reason,
        })
    };
    if relpath.is_empty() {
        return untrackable("it is the repository root");
    }
    if relpath
        .split('/')
        .any(|part| part == ".dvc" || part == ".git")
    {
        return untrackable("it is inside .dvc or .git");
    }
    if path.extension().is_some_and(|ext| ext == POINTER_EXT) {
        return untrackable("it is a pointer file");
    }
    let mut parents = path
        .ancestors()
        .skip(1)
        .take_while(|dir| *dir != repo.root());
    if parents.any(|dir| Repo::pointer_path(dir).is_file()) {
        return untrackable("a folder above it is already tracked as a whole");
    }
    let overlaps = |output: &Path| path.starts_with(output) || output.starts_with(&path);
    if stage_outputs.iter().any(|output| overlaps(output)) {
        return untrackable(
            "it is, holds or lies in an output of a pipeline stage (dvc.yaml), which DVC records",
        );
    }
    Ok(path)
}

/// Fails, as DVC does, naming a target git tracks (itself or files in it): git would keep
/// its data, which is what datavc is there to prevent; or one whose pointer git ignores:
/// the pointer could never be committed.
pub(super) fn check_git(repo: &Repo, targets: &[PathBuf]) -> Result<()> {
    if !super::uses_git(repo)? {
        return Ok(());
    }
    let outputs: Vec<String> = (targets.iter().map(|t| repo.relpath(t))).collect::<Result<_>>()?;
    let outputs: Vec<&str> = outputs.iter().map(String::as_str).collect();
    if let Some(path) = git::tracked(repo.root(), &outputs)?.into_iter().next() {
        let path = crate::repo::from_here(repo.root(), &path);
        return Err(Error::TrackedByGit { path });
    }
    let pointers: Vec<String> = (outputs.iter())
        .map(|output| format!("{output}.{POINTER_EXT}"))
        .collect();
    let pointers: Vec<&str> = pointers.iter().map(String::as_str).collect();
    match git::ignored(repo.root(), &pointers)?.into_iter().next() {
        Some(pointer) => {
            let pointer = crate::repo::from_here(repo.root(), &pointer);
            Err(Error::PointerIgnored { pointer })
        }
        None => Ok(()),
    }
}

fn track(
    repo: &Repo,
    state: &mut StateDb,
    path: &Path,
    progress: &dyn Progress,
) -> Result<Tracked> {
    let out = store(repo, state, path, path, progress)?;
    let pointer_file = Repo::pointer_path(path);
    // Ignored before the pointer is written, as DVC orders it: a kill between the two must
    // not leave a pointer beside data that `git add` would commit.
    let gitignore = super::ignore(repo, path)?;
    let changed = write_pointer(&pointer_file, out.clone())?;
    Ok(Tracked {
        path: repo.relpath(path)?,
        pointer: repo.relpath(&pointer_file)?,
        gitignore,
        oid: out.oid.to_string(),
        size: out.size,
        nfiles: out.nfiles,
        changed,
    })
}

/// Stores what `data` holds in the cache and links it back; returns the output a pointer
/// beside `output` records. `data` is `output`, or what an import renames to it once its
/// pointer is saved, read as if it were there (see [`scan_into_cache`]).
pub(super) fn store(
    repo: &Repo,
    state: &mut StateDb,
    data: &Path,
    output: &Path,
    progress: &dyn Progress,
) -> Result<Output> {
    let (oid, size, nfiles) = match scan_into_cache(repo, state, data, output)? {
        Content::Missing => {
            return Err(Error::NoSuchPath {
                path: data.to_owned(),
            });
        }
        Content::File(file) => {
            progress.begin("add", 1, file.size);
            let oid = store_and_link(repo, state, std::slice::from_ref(&file), progress)?.remove(0);
            (oid, file.size, None)
        }
        Content::Dir { files, .. } => {
            let bytes = files.iter().map(|f| f.size).sum();
            progress.begin("add", files.len() as u64, bytes);
            let oids = store_and_link(repo, state, &files, progress)?;
            let entries = files
                .iter()
                .zip(oids)
                .map(|(f, oid)| Entry {
                    relpath: f.relpath.clone(),
                    oid,
                })
                .collect();
            let manifest = Manifest::new(repo.algo(), entries);
            let oid = manifest.oid();
            // The files are durable before the manifest that lists them exists.
            repo.cache().flush()?;
            repo.cache().insert_bytes(&oid, &manifest.to_bytes())?;
            (oid, bytes, Some(files.len() as u64))
        }
    };
    progress.finish();
    repo.cache().flush()?;
    super::record_verified(repo, state)?;
    Ok(Output {
        path: output_name(output),
        oid,
        size,
        nfiles,
        push: true,
        remote: None,
        part: None,
    })
}

/// Stores files in the cache in parallel and links them back; returns the stored ids.
fn store_and_link(
    repo: &Repo,
    state: &mut StateDb,
    files: &[HashedFile],
    progress: &dyn Progress,
) -> Result<Vec<Oid>> {
    // The cache's copy is already a reflink wherever reflinks work: trying again would only
    // cost a failed clone per file where they do not.
    let relink: Vec<LinkType> = repo
        .link_types()?
        .into_iter()
        .take_while(|t| *t != LinkType::Copy)
        .filter(|t| *t != LinkType::Reflink)
        .collect();
    let falls_back_to_copy = repo.link_types()?.contains(&LinkType::Copy);
    let results: Vec<(Oid, Option<(String, FileKey)>)> = files
        .par_iter()
        .map(|file| {
            let oid = match file.stored {
                true => file.oid.clone(),
                false => repo
                    .cache()
                    .insert_file(&file.path, repo.algo(), Some(&file.oid))?,
            };
            let relinked = !relink.is_empty()
                && match link::place(
                    &repo.cache().object_path(&oid),
                    &oid,
                    &file.path,
                    &relink,
                    link::Verify::Skip,
                ) {
                    Ok(_) => true,
                    Err(_) if falls_back_to_copy => false,
                    Err(error) => return Err(error),
                };
            progress.file_done(file.size);
            let fresh = match relinked || oid != file.oid {
                true => Some(state_entry(file)?),
                false => None,
            };
            Ok((oid, fresh))
        })
        .collect::<Result<_>>()?;
    let fresh: Vec<_> = results
        .iter()
        .filter_map(|(oid, fresh)| {
            fresh
                .as_ref()
                .map(|(path, key)| (path.clone(), *key, oid.clone()))
        })
        .collect();
    state.record(&fresh)?;
    Ok(results.into_iter().map(|(oid, _)| oid).collect())
}

/// The name a pointer beside `path` records it by.
pub(super) fn output_name(path: &Path) -> String {
    (path.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The state database's entry for what `file` holds now.
fn state_entry(file: &HashedFile) -> Result<(String, FileKey)> {
    let metadata = std::fs::metadata(&file.path).map_err(Error::io("stat", &file.path))?;
    Ok((file.state_key.clone(), FileKey::of(&metadata)))
}

/// Writes (or updates, keeping its other keys) the pointer; whether it changed.
fn write_pointer(file: &Path, mut out: Output) -> Result<bool> {
    let mut pointer = match file.is_file() {
        true => Pointer::load(file)?,
        false => Pointer::new(file.to_owned(), out.clone()),
    };
    // Another name than the path's is a hand edit: its first output is the one meant.
    let index = (pointer.outs.iter().position(|o| o.path == out.path))
        .or_else(|| (!pointer.outs.is_empty() && pointer.unrecorded.is_empty()).then_some(0));
    let old = index.map(|index| &pointer.outs[index]);
    if let Some(old) = old {
        // `push: false` and `remote:` are the user's choices, kept across new content.
        out.push = old.push;
        out.remote = old.remote.clone();
    }
    let changed = old != Some(&out) || !file.is_file();
    if changed {
        match index {
            Some(index) => pointer.set_out(index, out),
            None => pointer.record(out),
        }
        pointer.save()?;
    }
    Ok(changed)
}
