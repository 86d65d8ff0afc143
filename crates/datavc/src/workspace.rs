//! Reading the workspace: list a tracked path's files, and hash them on all cores, asking
//! the state database first so that unchanged files are only stat'ed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::iter::Either;
use rayon::prelude::*;

use crate::dvcignore::{self, FolderRules};
use crate::error::{Error, Result};
use crate::fsutil::{self, is_temp_name};
use crate::hash::{Oid, batches, hash_file, hash_small_files};
use crate::manifest::{Entry, Manifest};
use crate::repo::Repo;
use crate::scratch;
use crate::state::{FileKey, StateDb};

/// A workspace file and its hash.
#[derive(Debug, Clone)]
pub struct HashedFile {
    /// Path below the tracked folder (`/`-separated); the file name for a tracked file.
    pub relpath: String,
    /// Absolute path.
    pub path: PathBuf,
    /// Its path below the repository's root where it is tracked, which keys it in the
    /// state database.
    pub state_key: String,
    /// Its content's id.
    pub oid: Oid,
    /// Its size in bytes.
    pub size: u64,
    /// Whether this scan has just stored its bytes in the cache, under `oid`
    /// ([`scan_into_cache`]).
    pub stored: bool,
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
    /// As [`HashedFile::state_key`].
    state_key: String,
    key: FileKey,
}

impl Found {
    fn hashed(self, oid: Oid, stored: bool) -> HashedFile {
        HashedFile {
            relpath: self.relpath,
            path: self.path,
            state_key: self.state_key,
            oid,
            size: self.key.size(),
            stored,
        }
    }
}

/// Reads `path` (a tracked file or folder) and hashes what is there.
pub fn scan(repo: &Repo, state: &mut StateDb, path: &Path) -> Result<Content> {
    scan_with(repo, state, path, path, Hashing::Read)
}

/// Like [`scan`], but a file the state database does not know is copied into the cache
/// while it is hashed: `add` reads each new file once, not twice. `data` is read as the
/// output `output` (its `.dvcignore` rules, its keys in the state database): the same
/// path, or where an import renames the data once it is stored.
pub fn scan_into_cache(
    repo: &Repo,
    state: &mut StateDb,
    data: &Path,
    output: &Path,
) -> Result<Content> {
    scan_with(repo, state, data, output, Hashing::IntoCache)
}

/// How a scan hashes files the state database does not know.
#[derive(Debug, Clone, Copy)]
enum Hashing {
    /// Read them.
    Read,
    /// Copy them into the cache, hashing on the way.
    IntoCache,
}

/// Scans `path`, read as the output `output` (see [`scan_into_cache`]).
fn scan_with(
    repo: &Repo,
    state: &mut StateDb,
    path: &Path,
    output: &Path,
    hashing: Hashing,
) -> Result<Content> {
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
        let files = hash_all(repo, state, list_dir(repo, path, output)?, hashing)?;
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
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let found = Found {
        relpath: name,
        path: path.to_owned(),
        state_key: fsutil::relative_slash(output, repo.root()).unwrap_or_default(),
        key: FileKey::of(&metadata),
    };
    let mut files = hash_all(repo, state, vec![found], hashing)?;
    Ok(Content::File(files.remove(0)))
}

/// Deletes the temporary files a killed command left in and beside tracked paths: in an
/// output's folder (a file being placed), and in the folder holding it (its pointer, the
/// `.gitignore`), each folder listed once; and the temporary folders of killed imports
/// beside them ([`scratch`]). Call only under the write lock, which proves that no live
/// command is still writing the files; returns how many files and folders were removed.
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
    for output in outputs {
        removed += scratch::remove_abandoned(output)?;
    }
    Ok(removed)
}

/// The files below `dir`, minus ignored paths and datavc's own temporary files, sorted by
/// their path below `dir`; `dir` is read as the output `output` (see [`scan_into_cache`]).
fn list_dir(repo: &Repo, dir: &Path, output: &Path) -> Result<Vec<Found>> {
    // The walk asks about each entry alone, so the folder itself is asked about here.
    let dir_key = fsutil::relative_slash(output, repo.root());
    if repo.is_ignored(dir_key.as_deref().unwrap_or_default(), true)? {
        return Ok(Vec::new());
    }
    let top = Folder {
        path: dir.to_owned(),
        relpath: String::new(),
        state_key: dir_key,
    };
    let mut found = list_folder(repo, top)?;
    found.par_sort_unstable_by(|a, b| a.relpath.cmp(&b.relpath));
    Ok(found)
}

/// A folder met by [`list_dir`]'s walk.
struct Folder {
    path: PathBuf,
    /// Its path below the listed folder (`""` for that folder).
    relpath: String,
    /// Its path below the repository's root, if it is below it.
    state_key: Option<String>,
}

impl Folder {
    /// The paths of the entry `name` in this folder: below the listed folder, below the root.
    fn child(&self, name: &str) -> (String, Option<String>) {
        let join = |base: &str| match base {
            "" => name.to_owned(),
            _ => format!("{base}/{name}"),
        };
        (join(&self.relpath), self.state_key.as_deref().map(join))
    }
}

/// Lists `folder`'s files, then its subfolders', each on any core. Each file is stat'ed
/// relative to its open folder, which spares the kernel a walk down the whole path: on an
/// unchanged tree the stats are most of `status`'s work. A folder is closed before its
/// subfolders are opened, so a deep tree holds few folders open.
fn list_folder(repo: &Repo, folder: Folder) -> Result<Vec<Found>> {
    let list_error = |source| Error::Io {
        action: "list",
        path: folder.path.clone(),
        source,
    };
    let rules = match &folder.state_key {
        Some(key) => Some(repo.ignore_rules_in(key)?),
        // Outside the repository's root no `.dvcignore` has a say.
        None => None,
    };
    let mut files = Vec::new();
    let mut subfolders = Vec::new();
    for entry in std::fs::read_dir(&folder.path).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        // A UTF-8 name (nearly every one) converts without a copy.
        let name = entry
            .file_name()
            .into_string()
            .unwrap_or_else(|name| name.to_string_lossy().into_owned());
        let file_type = entry.file_type().map_err(Error::io("stat", entry.path()))?;
        let is_dir = file_type.is_dir();
        let (relpath, state_key) = folder.child(&name);
        if skipped(rules.as_ref(), &name, is_dir) {
            continue;
        }
        if is_dir {
            subfolders.push(Folder {
                path: entry.path(),
                relpath,
                state_key,
            });
            continue;
        }
        if name == dvcignore::FILE_NAME {
            // DVC refuses to track a folder holding one; agreeing keeps both tools able to
            // read the repository, and the patterns would not apply as the user meant.
            return Err(Error::IgnoreFileInOutput {
                path: entry.path(),
                output: folder.path.clone(),
            });
        }
        files.push((entry, file_type.is_symlink(), relpath, state_key));
    }
    let mut found: Vec<Found> = files
        .into_par_iter()
        .map(|(entry, is_symlink, relpath, state_key)| {
            let path = entry.path();
            // Symlinks (checked out with cache.type = symlink) count as the file they point to.
            let metadata = match is_symlink {
                true => std::fs::metadata(&path),
                false => entry.metadata(),
            };
            let metadata = metadata.map_err(Error::io("stat", &path))?;
            Ok((!metadata.is_dir()).then(|| Found {
                relpath,
                path,
                state_key: state_key.unwrap_or_default(),
                key: FileKey::of(&metadata),
            }))
        })
        .filter_map(Result::transpose)
        .collect::<Result<_>>()?;
    let nested: Vec<Vec<Found>> = subfolders
        .into_par_iter()
        .map(|subfolder| list_folder(repo, subfolder))
        .collect::<Result<_>>()?;
    found.extend(nested.into_iter().flatten());
    Ok(found)
}

/// Whether a walk leaves out the entry `name` of a folder with these rules (and, for a
/// folder, all below it).
fn skipped(rules: Option<&FolderRules>, name: &str, is_dir: bool) -> bool {
    is_temp_name(name)
        || (is_dir && matches!(name, ".git" | ".dvc"))
        || rules.is_some_and(|rules| rules.exclude(name, is_dir))
}

/// Hashes files in parallel, reusing and then updating the state database; returns them
/// sorted by relative path, the order [`list_dir`] gives.
fn hash_all(
    repo: &Repo,
    state: &mut StateDb,
    found: Vec<Found>,
    hashing: Hashing,
) -> Result<Vec<HashedFile>> {
    let algo = repo.algo();
    let hashes = state.hashes()?;
    let (known, unknown): (Vec<(Found, Oid)>, Vec<Found>) =
        found
            .into_par_iter()
            .partition_map(|file| match hashes.get(&file.state_key, file.key) {
                Some(oid) => Either::Left((file, oid)),
                None => Either::Right(file),
            });
    let hashed: Vec<(Found, Oid)> = batches(algo, unknown, |file| file.key.size())
        .into_par_iter()
        .map(|batch| hash_batch(repo, hashing, batch))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    let fresh: Vec<_> = hashed
        .iter()
        .map(|(file, oid)| (file.state_key.clone(), file.key, oid.clone()))
        .collect();
    state.record(&fresh)?;
    let stored = matches!(hashing, Hashing::IntoCache);
    let hashed = hashed
        .into_iter()
        .map(|(file, oid)| file.hashed(oid, stored));
    let mut files: Vec<HashedFile> = known
        .into_iter()
        .map(|(file, oid)| file.hashed(oid, false))
        .chain(hashed)
        .collect();
    files.sort_unstable_by(|a, b| a.relpath.cmp(&b.relpath));
    Ok(files)
}

fn hash_batch(repo: &Repo, hashing: Hashing, batch: Vec<Found>) -> Result<Vec<(Found, Oid)>> {
    let algo = repo.algo();
    let paths: Vec<&Path> = batch.iter().map(|file| file.path.as_path()).collect();
    let oids = match (hashing, paths.as_slice()) {
        (Hashing::Read, [one]) => vec![hash_file(one, algo)?],
        (Hashing::IntoCache, [one]) => vec![repo.cache().insert_file(one, algo, None)?],
        (Hashing::Read, many) => hash_small_files(many, algo)?,
        (Hashing::IntoCache, many) => repo.cache().insert_small_files(many, algo)?,
    };
    Ok(batch.into_iter().zip(oids).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{BATCH_FILE_MAX, BATCH_FILES, HashAlgo};

    #[test]
    fn sweep_removes_temp_files_in_and_beside_the_path_and_abandoned_clones_only() {
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
        // A live import's clone, and a killed one's (its lock file no longer held).
        let live = scratch::TempFolder::beside(&data).unwrap();
        std::fs::write(live.path.join("data.dvc"), b"in use").unwrap();
        let abandoned = dir.path().join(temp("data")).join("repo");
        std::fs::create_dir_all(&abandoned).unwrap();
        std::fs::write(abandoned.with_file_name(scratch::LOCK_FILE), b"").unwrap();
        std::fs::write(abandoned.join("data.dvc"), b"the registry's").unwrap();
        let outputs = [data.clone(), dir.path().join("data.dvc")];
        assert_eq!(sweep_temp_files(&outputs).unwrap(), 5);
        assert_eq!(sweep_temp_files(&[dir.path().join("missing")]).unwrap(), 0);
        let mut left: Vec<_> = walkdir::WalkDir::new(dir.path())
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["data.dvc", "data.dvc", "f", scratch::LOCK_FILE]);
        assert!(live.path.join("data.dvc").is_file());
    }

    #[test]
    fn a_folders_files_are_recorded_under_their_path_below_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data").join("sub").join("g.bin");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, b"weights").unwrap();
        let repo = Repo::init(dir.path(), HashAlgo::Md5).unwrap();
        scan(&repo, &mut repo.state().unwrap(), &dir.path().join("data")).unwrap();
        let key = FileKey::of(&std::fs::metadata(&file).unwrap());
        let mut state = repo.state().unwrap();
        let recorded = state.hashes().unwrap().get("data/sub/g.bin", key);
        assert_eq!(recorded, Some(HashAlgo::Md5.hash_bytes(b"weights")));
    }

    /// A folder of files small enough to batch, several batches' worth with an empty one
    /// among them, and a file too large for a batch.
    fn mixed_folder(root: &Path) -> PathBuf {
        let data = root.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let sizes = (0..2 * BATCH_FILES + 3)
            .map(|i| i * 997 % 5000)
            .chain([BATCH_FILE_MAX as usize + 1]);
        for (i, size) in sizes.enumerate() {
            let bytes: Vec<u8> = (0..size).map(|j| (j * 31 + i) as u8).collect();
            std::fs::write(data.join(format!("f{i:03}")), bytes).unwrap();
        }
        data
    }

    fn scanned_files(content: Content) -> Vec<HashedFile> {
        match content {
            Content::Dir { files, .. } => files,
            other => panic!("not a folder: {other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_listing_holds_nested_files_sorted_with_linked_files_as_their_targets() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let write = |relpath: &str, bytes: &[u8]| {
            let path = fsutil::join_slash(&data, relpath);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        };
        write("b/c/deep.bin", b"deep");
        write("a.bin", b"a");
        write("b/z.bin", b"zz");
        write(&format!("b/.x{}1-0", fsutil::TEMP_MARK), b"partial");
        write(".git/HEAD", b"ref");
        std::fs::write(dir.path().join("outside.bin"), b"twelve bytes").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside.bin"), data.join("b/link.bin"))
            .unwrap();
        std::os::unix::fs::symlink(data.join("b/c"), data.join("folder-link")).unwrap();
        let repo = Repo::init(dir.path(), HashAlgo::Md5).unwrap();
        let listed: Vec<(String, String, u64)> = list_dir(&repo, &data, &data)
            .unwrap()
            .into_iter()
            .map(|f| (f.relpath, f.state_key, f.key.size()))
            .collect();
        let expected = [
            ("a.bin", 1),
            ("b/c/deep.bin", 4),
            ("b/link.bin", 12),
            ("b/z.bin", 2),
        ]
        .map(|(relpath, size)| (relpath.to_owned(), format!("data/{relpath}"), size));
        assert_eq!(listed, expected);
    }

    #[test]
    fn small_md5_files_are_batched_and_the_rest_hashed_alone() {
        let dir = tempfile::tempdir().unwrap();
        let data = mixed_folder(dir.path());
        let repo = Repo::init(dir.path(), HashAlgo::Md5).unwrap();
        let batch_sizes = |algo| {
            let mut sizes: Vec<usize> =
                batches(algo, list_dir(&repo, &data, &data).unwrap(), |f| {
                    f.key.size()
                })
                .iter()
                .map(Vec::len)
                .collect();
            sizes.sort_unstable();
            sizes
        };
        assert_eq!(batch_sizes(HashAlgo::Md5), [1, 3, BATCH_FILES, BATCH_FILES]);
        assert_eq!(batch_sizes(HashAlgo::Blake3), vec![1; 2 * BATCH_FILES + 4]);
    }

    #[test]
    fn batched_and_lone_files_each_get_their_own_content_id() {
        for algo in [HashAlgo::Md5, HashAlgo::Blake3] {
            for into_cache in [false, true] {
                let dir = tempfile::tempdir().unwrap();
                let data = mixed_folder(dir.path());
                let repo = Repo::init(dir.path(), algo).unwrap();
                let mut state = repo.state().unwrap();
                let files = scanned_files(match into_cache {
                    true => scan_into_cache(&repo, &mut state, &data, &data).unwrap(),
                    false => scan(&repo, &mut state, &data).unwrap(),
                });
                assert_eq!(files.len(), 2 * BATCH_FILES + 4);
                for file in &files {
                    let bytes = std::fs::read(&file.path).unwrap();
                    assert_eq!(file.oid, algo.hash_bytes(&bytes), "{}", file.relpath);
                    assert_eq!(file.size, bytes.len() as u64);
                    let object = std::fs::read(repo.cache().object_path(&file.oid));
                    assert_eq!(object.ok(), into_cache.then_some(bytes));
                }
            }
        }
    }
}
