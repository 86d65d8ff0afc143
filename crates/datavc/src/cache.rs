//! The content-addressed cache (`.dvc/cache/files/<algo>/ab/cdef…`): objects are written,
//! read-only from the start, to a staging folder, flushed and renamed into place, so an
//! object that exists is complete.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::clone::Cloner;
use crate::error::{Error, Result};
use crate::fsutil::{self, NewFile, copy_hashing, create_dir_all, write_new};
use crate::hash::{HashAlgo, Oid, hash_file, hash_open};
use crate::manifest::Manifest;
use crate::state::ObjectKey;

/// The staging folder, a sibling of `files/` on the same filesystem.
const STAGING: &str = ".datavc-staging";

/// A cache folder.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    durable: bool,
    /// Clones files into the cache where the filesystem can; what it learns holds for one
    /// command, whose files all come from one place (the workspace, or one remote).
    cloner: Cloner,
    staging_ready: Arc<AtomicBool>,
    /// Objects committed since the last [`Cache::take_verified`], with their metadata
    /// right after the rename, for the state database.
    verified: Arc<Mutex<Vec<(Oid, ObjectKey)>>>,
}

impl Cache {
    /// The cache rooted at `root` (usually `.dvc/cache`); `durable` flushes objects to disk
    /// before anything names them (see [`crate::config::Settings::durable`]).
    pub fn new(root: PathBuf, durable: bool) -> Cache {
        Cache {
            root,
            durable,
            cloner: Cloner::default(),
            staging_ready: Arc::new(AtomicBool::new(false)),
            verified: Arc::default(),
        }
    }

    /// The cache's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where an object lives.
    pub fn object_path(&self, oid: &Oid) -> PathBuf {
        fsutil::join_slash(&self.root, &oid.key())
    }

    /// Whether the object is present.
    pub fn contains(&self, oid: &Oid) -> bool {
        self.object_path(oid).is_file()
    }

    /// A fresh staging path for an object being written.
    pub fn staging_path(&self) -> Result<PathBuf> {
        let staging = self.root.join(STAGING);
        if !self.staging_ready.load(Ordering::Relaxed) {
            create_dir_all(&staging)?;
            self.staging_ready.store(true, Ordering::Relaxed);
        }
        Ok(fsutil::temp_beside(&staging.join("object")))
    }

    /// Copies (or reflinks) a workspace file into the cache; returns the id of the bytes
    /// actually stored, which is the truth even if the file changed since it was hashed.
    pub fn insert_file(&self, source: &Path, algo: HashAlgo, known: Option<&Oid>) -> Result<Oid> {
        if let Some(oid) = known.filter(|oid| self.contains(oid)) {
            return Ok(oid.clone());
        }
        let staged = self.staging_path()?;
        match self.stage_copy(source, &staged, algo) {
            Ok(oid) => self.commit_staged(&staged, &oid).map(|()| oid),
            Err(error) => {
                let _ = fs::remove_file(&staged);
                Err(error)
            }
        }
    }

    /// Copies (or reflinks) `source` to the new read-only file `staged`, hashing it; the id
    /// is that of the bytes staged, whatever the source holds by the time the copy ends.
    pub fn stage_copy(&self, source: &Path, staged: &Path, algo: HashAlgo) -> Result<Oid> {
        match self.cloner.clone_file(source, staged)? {
            Some(clone) => clone.read(|file, path| hash_open(file, path, algo)),
            None => copy_hashing(source, staged, algo, NewFile::ReadOnly),
        }
    }

    /// Like [`Cache::insert_file`] for many small files at once: each is staged from
    /// memory (or reflinked and read back), then all are hashed together
    /// ([`HashAlgo::hash_many`]) and committed.
    pub fn insert_small_files(&self, sources: &[&Path], algo: HashAlgo) -> Result<Vec<Oid>> {
        self.insert_small(sources, |contents| Ok(hash_together(algo, contents)))
    }

    /// Like [`Cache::insert_small_files`] for objects whose ids are known (downloads from a
    /// folder remote): nothing is stored unless every file holds the bytes its id names;
    /// otherwise [`Error::Corrupt`], saying the bytes came from `origin`. Returns the
    /// objects' sizes.
    pub fn insert_small_objects(
        &self,
        sources: &[&Path],
        oids: &[Oid],
        origin: &str,
    ) -> Result<Vec<u64>> {
        let Some(algo) = oids.first().map(|oid| oid.algo) else {
            return Ok(Vec::new());
        };
        let mut sizes = Vec::new();
        self.insert_small(sources, |contents| {
            sizes = contents.iter().map(|bytes| bytes.len() as u64).collect();
            let actual = hash_together(algo, contents);
            match oids
                .iter()
                .zip(&actual)
                .find(|(oid, actual)| oid.hex != actual.hex)
            {
                Some((oid, actual)) => Err(Error::Corrupt {
                    origin: origin.to_owned(),
                    expected: oid.to_string(),
                    actual: actual.hex.clone(),
                }),
                None => Ok(oids.to_vec()),
            }
        })?;
        Ok(sizes)
    }

    /// Stages copies of `sources`, asks `ids` for the object id each holds and commits them
    /// under those ids; on any failure removes what it staged and commits nothing more.
    fn insert_small(
        &self,
        sources: &[&Path],
        ids: impl FnOnce(&[Vec<u8>]) -> Result<Vec<Oid>>,
    ) -> Result<Vec<Oid>> {
        let mut staged = Vec::with_capacity(sources.len());
        let result = self.stage_whole(sources, &mut staged).and_then(|contents| {
            let oids = ids(&contents)?;
            staged
                .iter()
                .zip(&oids)
                .try_for_each(|(path, oid)| self.commit_staged(path, oid))
                .map(|()| oids)
        });
        if result.is_err() {
            // Committed files were renamed away; the rest are removed.
            for path in &staged {
                let _ = fs::remove_file(path);
            }
        }
        result
    }

    /// Copies each source to a fresh staging path, listed in `staged` before it is written
    /// so that a failure can remove it; returns the bytes each copy holds.
    fn stage_whole(&self, sources: &[&Path], staged: &mut Vec<PathBuf>) -> Result<Vec<Vec<u8>>> {
        let mut contents = Vec::with_capacity(sources.len());
        for source in sources {
            let path = self.staging_path()?;
            staged.push(path.clone());
            let bytes = match self.cloner.clone_file(source, &path)? {
                Some(clone) => clone.read(read_whole)?,
                None => {
                    let bytes = fs::read(source).map_err(Error::io("read", source))?;
                    write_new(&path, &bytes, NewFile::ReadOnly)?;
                    bytes
                }
            };
            contents.push(bytes);
        }
        Ok(contents)
    }

    /// Stores bytes (a manifest) under their id.
    pub fn insert_bytes(&self, oid: &Oid, bytes: &[u8]) -> Result<()> {
        if self.contains(oid) {
            return Ok(());
        }
        let staged = self.staging_path()?;
        write_new(&staged, bytes, NewFile::ReadOnly)
            .and_then(|()| self.commit_staged(&staged, oid))
            .inspect_err(|_| {
                let _ = fs::remove_file(&staged);
            })
    }

    /// Moves a complete, verified staged file into place as object `oid`. An existing
    /// object is replaced: its bytes are the same, or it was corrupt.
    pub fn commit_staged(&self, staged: &Path, oid: &Oid) -> Result<()> {
        let target = self.object_path(oid);
        if self.durable && fsutil::FLUSH_EACH_FILE {
            fs::File::open(staged)
                .and_then(|f| f.sync_all())
                .map_err(Error::io("flush", staged))?;
        }
        // Elsewhere files are created read-only (see `fsutil::create`).
        #[cfg(not(unix))]
        fsutil::set_readonly(staged, true)?;
        // Most objects land in an existing folder: try the rename before creating folders.
        let renamed = fs::rename(staged, &target).or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                fs::create_dir_all(target.parent().expect("object paths have a parent"))?;
                fs::rename(staged, &target)
            }
            _ => Err(e),
        });
        match renamed {
            Ok(()) => {
                // Stat at once: a rewrite from here on changes the key (see `ObjectKey`).
                let key = fs::metadata(&target).ok().and_then(|m| ObjectKey::of(&m));
                if let Some(key) = key {
                    let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
                    verified.push((oid.clone(), key));
                }
                Ok(())
            }
            // Windows will not replace a read-only file; the object is already there.
            Err(_) if target.is_file() => fsutil::remove_file(staged),
            Err(e) => Err(Error::Io {
                action: "store",
                path: target,
                source: e,
            }),
        }
    }

    /// The objects committed (and so verified) since the last call, with their metadata then;
    /// record them in the state database once the cache is flushed, so that `push` can
    /// trust an object whose metadata has not changed since.
    pub fn take_verified(&self) -> Vec<(Oid, ObjectKey)> {
        std::mem::take(&mut *self.verified.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Reads and parses a directory manifest, checking its hash.
    pub fn manifest(&self, oid: &Oid) -> Result<Manifest> {
        let path = self.object_path(oid);
        let bytes = fs::read(&path).map_err(Error::io("read", &path))?;
        Manifest::parse_verified(oid, &bytes, "the cache")
    }

    /// Re-hashes an object; `Ok(Some(actual))` when it does not match its id.
    pub fn check(&self, oid: &Oid) -> Result<Option<String>> {
        let actual = hash_file(&self.object_path(oid), oid.algo)?;
        Ok((actual.hex != oid.hex).then_some(actual.hex))
    }

    /// Every object in the cache, of every algorithm.
    pub fn objects(&self) -> Result<Vec<Oid>> {
        let mut found = Vec::new();
        for algo in [HashAlgo::Md5, HashAlgo::Blake3] {
            let base = self.root.join("files").join(algo.name());
            for prefix in read_dir_names(&base)? {
                for rest in read_dir_names(&base.join(&prefix))? {
                    if let Some(oid) = Oid::parse(algo, &format!("{prefix}{rest}")) {
                        found.push(oid);
                    }
                }
            }
        }
        Ok(found)
    }

    /// Makes every object written so far durable (when the cache is durable); call before
    /// anything names them.
    pub fn flush(&self) -> Result<()> {
        if !self.durable || fsutil::FLUSH_EACH_FILE {
            return Ok(());
        }
        create_dir_all(&self.root)?;
        fsutil::flush_filesystem(&self.root)
    }

    /// Deletes an object.
    pub fn remove(&self, oid: &Oid) -> Result<()> {
        let path = self.object_path(oid);
        // Windows refuses to delete read-only files.
        #[cfg(windows)]
        let _ = fsutil::set_readonly(&path, false);
        fsutil::remove_file(&path)
    }

    /// Deletes staging files left by interrupted commands; call only under the write lock.
    pub fn sweep_staging(&self) -> Result<usize> {
        let staging = self.root.join(STAGING);
        let names = read_dir_names(&staging)?;
        for name in &names {
            fsutil::remove_file(&staging.join(name))?;
        }
        Ok(names.len())
    }
}

/// All of an open file's bytes.
fn read_whole(mut file: &File, path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(Error::io("read", path))?;
    Ok(bytes)
}

/// The object ids of whole files' bytes, hashed together where the algorithm gains.
fn hash_together(algo: HashAlgo, contents: &[Vec<u8>]) -> Vec<Oid> {
    let messages: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
    algo.hash_many(&messages)
}

/// The names in a folder; none if it does not exist.
fn read_dir_names(dir: &Path) -> Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::Io {
                action: "list",
                path: dir.to_owned(),
                source: e,
            });
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io("list", dir))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_is_idempotent_and_listed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("cache"), false);
        let file = dir.path().join("f");
        fs::write(&file, b"abc").unwrap();
        let oid = cache.insert_file(&file, HashAlgo::Md5, None).unwrap();
        assert_eq!(
            cache.insert_file(&file, HashAlgo::Md5, Some(&oid)).unwrap(),
            oid
        );
        assert_eq!(cache.objects().unwrap(), vec![oid.clone()]);
        assert!(
            fs::metadata(cache.object_path(&oid))
                .unwrap()
                .permissions()
                .readonly()
        );
        assert_eq!(cache.check(&oid).unwrap(), None);
        assert_eq!(cache.sweep_staging().unwrap(), 0);
    }

    #[test]
    fn stored_id_is_what_was_copied_not_what_was_claimed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("cache"), false);
        let file = dir.path().join("f");
        fs::write(&file, b"new bytes").unwrap();
        let stale = HashAlgo::Md5.hash_bytes(b"old bytes");
        let oid = cache
            .insert_file(&file, HashAlgo::Md5, Some(&stale))
            .unwrap();
        assert_eq!(oid, HashAlgo::Md5.hash_bytes(b"new bytes"));
    }

    #[test]
    fn small_files_are_stored_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("cache"), false);
        let names = ["a", "b", "missing", "c"];
        for name in ["a", "b", "c"] {
            fs::write(dir.path().join(name), name.repeat(100)).unwrap();
        }
        let paths: Vec<PathBuf> = names.iter().map(|n| dir.path().join(n)).collect();
        let sources: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();

        let failed = cache.insert_small_files(&sources, HashAlgo::Md5);
        assert!(failed.unwrap_err().to_string().contains("missing"));
        assert!(cache.objects().unwrap().is_empty());
        assert_eq!(cache.sweep_staging().unwrap(), 0, "staged copies were left");

        let present = [sources[0], sources[1], sources[3]];
        let oids = cache.insert_small_files(&present, HashAlgo::Md5).unwrap();
        for (path, oid) in present.iter().zip(&oids) {
            let bytes = fs::read(path).unwrap();
            assert_eq!(*oid, HashAlgo::Md5.hash_bytes(&bytes));
            assert_eq!(cache.check(oid).unwrap(), None);
            let object = fs::metadata(cache.object_path(oid)).unwrap();
            assert!(object.permissions().readonly());
        }
    }
}
