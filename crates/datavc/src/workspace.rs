//! Reading the workspace: list a tracked path's files, and hash them on all cores, asking
//! the state database first so that unchanged files are only stat'ed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::dvcignore;
use crate::error::{Error, Result};
use crate::fsutil::{self, is_temp_name};
use crate::hash::{Oid, hash_file};
use crate::manifest::{Entry, Manifest};
use crate::repo::Repo;
use crate::state::{FileKey, StateDb};

/// A workspace file and its hash.
#[derive(Debug, Clone)]
pub struct HashedFile {
    /// Path below the tracked folder (`/`-separated); the file name for a tracked file.
    pub relpath: String,
    /// Absolute path.
    pub path: PathBuf,
    /// Its content's id.
    pub oid: Oid,
    /// Its size in bytes.
    pub size: u64,
}

/// What a tracked path holds now.
#[derive(Debug, Clone)]
pub enum Content {
    /// Nothing is there.
    Missing,
    /// A file.
    File(HashedFile),
    /// A folder, with its files and their manifest.
    Dir {
        /// Its files.
        files: Vec<HashedFile>,
        /// Their manifest (whose id is the folder's id).
        manifest: Manifest,
    },
}

impl Content {
    /// The id a pointer would record, if anything is there.
    pub fn oid(&self) -> Option<Oid> {
        match self {
            Content::Missing => None,
            Content::File(file) => Some(file.oid.clone()),
            Content::Dir { manifest, .. } => Some(manifest.oid()),
        }
    }
}

/// A file found by a scan, not hashed yet.
struct Found {
    relpath: String,
    path: PathBuf,
    key: FileKey,
}

/// Reads `path` (a tracked file or folder) and hashes what is there.
pub fn scan(repo: &Repo, state: &mut StateDb, path: &Path) -> Result<Content> {
    scan_with(repo, state, path, Hashing::Read)
}

/// Like [`scan`], but a file the state database does not know is copied into the cache
/// while it is hashed: `add` reads each new file once, not twice.
pub fn scan_into_cache(repo: &Repo, state: &mut StateDb, path: &Path) -> Result<Content> {
    scan_with(repo, state, path, Hashing::IntoCache)
}

/// How a scan hashes files the state database does not know.
#[derive(Debug, Clone, Copy)]
enum Hashing {
    /// Read them.
    Read,
    /// Copy them into the cache, hashing on the way.
    IntoCache,
}

fn scan_with(repo: &Repo, state: &mut StateDb, path: &Path, hashing: Hashing) -> Result<Content> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Content::Missing),
        Err(e) => {
            return Err(Error::Io {
                action: "stat",
                path: path.to_owned(),
                source: e,
            });
        }
    };
    if metadata.is_dir() {
        let files = hash_all(repo, state, list_dir(repo, path)?, hashing)?;
        let entries = files
            .iter()
            .map(|f| Entry {
                relpath: f.relpath.clone(),
                oid: f.oid.clone(),
            })
            .collect();
        let manifest = Manifest::new(repo.algo(), entries);
        return Ok(Content::Dir { files, manifest });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let found = Found {
        relpath: name,
        path: path.to_owned(),
        key: FileKey::of(&metadata),
    };
    let mut files = hash_all(repo, state, vec![found], hashing)?;
    Ok(Content::File(files.remove(0)))
}

/// Deletes the temporary files a killed command left in and beside tracked paths: in an
/// output's folder (a file being placed), and in the folder holding it (its pointer, the
/// `.gitignore`), each folder listed once. Call only under the write lock, which proves
/// that no live command is still writing them; returns how many were removed.
pub fn sweep_temp_files(outputs: &[PathBuf]) -> Result<usize> {
    let parents: BTreeSet<&Path> = outputs.iter().filter_map(|path| path.parent()).collect();
    let beside = parents
        .into_iter()
        .flat_map(|parent| walkdir::WalkDir::new(parent).min_depth(1).max_depth(1));
    let within = outputs
        .iter()
        .flat_map(|path| walkdir::WalkDir::new(path).min_depth(1));
    let mut removed = 0;
    for entry in beside.chain(within) {
        let entry = match entry {
            Ok(entry) => entry,
            // An output that does not exist (yet) has nothing to sweep.
            Err(e) if e.io_error().map(|io| io.kind()) == Some(std::io::ErrorKind::NotFound) => {
                continue;
            }
            Err(e) => {
                let path = e.path().map(Path::to_owned).unwrap_or_default();
                return Err(Error::Io {
                    action: "list",
                    path,
                    source: e.into(),
                });
            }
        };
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_dir() && is_temp_name(&name) {
            fsutil::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The files below `dir`, minus ignored paths and datavc's own temporary files.
fn list_dir(repo: &Repo, dir: &Path) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    // The walk asks about each entry alone, so the folder itself is asked about here.
    let relpath = fsutil::relative_slash(dir, repo.root()).unwrap_or_default();
    if repo.is_ignored(&relpath, true)? {
        return Ok(found);
    }
    let mut walk = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_owned();
            Error::Io {
                action: "list",
                path,
                source: e.into(),
            }
        })?;
        let is_dir = entry.file_type().is_dir();
        if skipped(repo, &entry, is_dir)? {
            if is_dir {
                walk.skip_current_dir();
            }
            continue;
        }
        if is_dir {
            continue;
        }
        if entry.file_name() == dvcignore::FILE_NAME {
            // DVC refuses to track a folder holding one; agreeing keeps both tools able to
            // read the repository, and the patterns would not apply as the user meant.
            return Err(Error::IgnoreFileInOutput {
                path: entry.into_path(),
                output: dir.to_owned(),
            });
        }
        // Symlinks (checked out with cache.type = symlink) count as the file they point to.
        let metadata = std::fs::metadata(entry.path()).map_err(Error::io("stat", entry.path()))?;
        if metadata.is_dir() {
            continue;
        }
        let relpath = fsutil::relative_slash(entry.path(), dir).unwrap_or_default();
        found.push(Found {
            relpath,
            path: entry.into_path(),
            key: FileKey::of(&metadata),
        });
    }
    Ok(found)
}

/// Whether a walk leaves out `entry` (and, for a folder, all below it).
fn skipped(repo: &Repo, entry: &walkdir::DirEntry, is_dir: bool) -> Result<bool> {
    let name = entry.file_name().to_string_lossy();
    if is_temp_name(&name) || (is_dir && matches!(name.as_ref(), ".git" | ".dvc")) {
        return Ok(true);
    }
    match fsutil::relative_slash(entry.path(), repo.root()) {
        Some(relpath) => repo.is_ignored_in_walk(&relpath, is_dir),
        None => Ok(false),
    }
}

/// Hashes files in parallel, reusing and then updating the state database.
fn hash_all(
    repo: &Repo,
    state: &mut StateDb,
    found: Vec<Found>,
    hashing: Hashing,
) -> Result<Vec<HashedFile>> {
    let algo = repo.algo();
    let state_key = |path: &Path| fsutil::relative_slash(path, repo.root()).unwrap_or_default();
    let hashed: Vec<(HashedFile, Option<(String, FileKey)>)> = found
        .into_par_iter()
        .map(|file| {
            let key_path = state_key(&file.path);
            let (oid, fresh) = match state.get(&key_path, file.key, algo) {
                Some(oid) => (oid, None),
                None => {
                    let oid = match hashing {
                        Hashing::Read => hash_file(&file.path, algo)?,
                        Hashing::IntoCache => repo.cache().insert_file(&file.path, algo, None)?,
                    };
                    (oid, Some((key_path, file.key)))
                }
            };
            let size = file.key.size();
            Ok((
                HashedFile {
                    relpath: file.relpath,
                    path: file.path,
                    oid,
                    size,
                },
                fresh,
            ))
        })
        .collect::<Result<_>>()?;
    let fresh: Vec<_> = hashed
        .iter()
        .filter_map(|(file, fresh)| {
            fresh
                .as_ref()
                .map(|(path, key)| (path.clone(), *key, file.oid.clone()))
        })
        .collect();
    state.record(&fresh)?;
    Ok(hashed.into_iter().map(|(file, _)| file).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_removes_temp_files_in_and_beside_the_path_only() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("sub")).unwrap();
        let temp = |name: &str| format!(".{name}{}7-0", fsutil::TEMP_MARK);
        for file in [
            data.join("sub").join(temp("f")),
            data.join(temp("g")),
            dir.path().join(temp("data.dvc")),
            dir.path().join(temp(".gitignore")),
        ] {
            std::fs::write(file, b"partial").unwrap();
        }
        std::fs::write(data.join("sub/f"), b"kept").unwrap();
        std::fs::write(dir.path().join("data.dvc"), b"kept").unwrap();
        let outputs = [data.clone(), dir.path().join("data.dvc")];
        assert_eq!(sweep_temp_files(&outputs).unwrap(), 4);
        assert_eq!(sweep_temp_files(&[dir.path().join("missing")]).unwrap(), 0);
        let mut left: Vec<_> = walkdir::WalkDir::new(dir.path())
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["data.dvc", "f"]);
    }
}
