//! Copy-on-write clones (reflinks) of whole files, for copies between the workspace, the
//! cache and a folder remote: where the filesystem can, a clone costs a few metadata
//! writes instead of a copy of every byte.

use std::fs::{self, File};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::SystemTime;

use crate::error::{Error, Result};
use crate::fsutil::{self, NewFile};
use crate::state::ObjectKey;

const UNKNOWN: u8 = 0;
const WORKS: u8 = 1;
const UNSUPPORTED: u8 = 2;

/// Clones files from one folder to another, learning from the first attempt whether the
/// filesystems can: a failed attempt costs three system calls per file, each slow on
/// some filesystems. Use one per pair of folders (copies of it share what it learnt).
#[derive(Debug, Clone, Default)]
pub struct Cloner {
    learnt: Arc<AtomicU8>,
}

impl Cloner {
    /// Clones `source` to a new read-only file `staged` if this filesystem can; `None`
    /// (and nothing at `staged`) if it cannot.
    pub fn clone_file<'a>(&self, source: &'a Path, staged: &'a Path) -> Result<Option<Cloned<'a>>> {
        if self.unsupported() {
            return Ok(None);
        }
        let from = File::open(source).map_err(Error::io("read", source))?;
        let settled = from
            .metadata()
            .ok()
            .and_then(|metadata| ObjectKey::of(&metadata))
            .filter(|key| key.settled_at(SystemTime::now()));
        let to = fsutil::create(staged, NewFile::ReadOnly)?;
        let cloned = reflink_copy::reflink_file(&from, &to).is_ok();
        self.learn(cloned);
        if !cloned {
            drop(to);
            fsutil::remove_file(staged)?;
            return Ok(None);
        }
        Ok(Some(Cloned {
            source: from,
            source_path: source,
            settled,
            clone: to,
            clone_path: staged,
        }))
    }

    /// Whether clones are known not to work here.
    pub fn unsupported(&self) -> bool {
        self.learnt.load(Ordering::Relaxed) == UNSUPPORTED
    }

    /// Remembers whether the first clone worked, the answer for all files.
    fn learn(&self, cloned: bool) {
        let learnt = if cloned { WORKS } else { UNSUPPORTED };
        let _ = self
            .learnt
            .compare_exchange(UNKNOWN, learnt, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// A fresh clone of a source file, both open.
pub struct Cloned<'a> {
    source: File,
    source_path: &'a Path,
    /// The source's key before the clone, if it had settled then (see [`Cloned::read`]).
    settled: Option<ObjectKey>,
    clone: File,
    clone_path: &'a Path,
}

impl Cloned<'_> {
    /// What `read` gets from the clone. A clone shares its source's blocks but not its page
    /// cache, so reading it back goes to the disk, while the source (just written, often) is
    /// still in memory: `read` reads the source instead when the source had settled before
    /// the clone and its path still shows that key after the read, which proves that no
    /// write came between the clone and the read. (The path, not the handle, because large
    /// files are read through their path; the key's inode ties the two together.)
    pub fn read<T>(&self, read: impl Fn(&File, &Path) -> Result<T>) -> Result<T> {
        if let Some(key) = self.settled
            && let Ok(value) = read(&self.source, self.source_path)
            && fs::metadata(self.source_path).is_ok_and(|metadata| key.still_matches(&metadata))
        {
            return Ok(value);
        }
        read(&self.clone, self.clone_path)
    }

    /// The clone's size.
    pub fn size(&self) -> Result<u64> {
        let metadata = self.clone.metadata();
        Ok(metadata.map_err(Error::io("stat", self.clone_path))?.len())
    }

    /// Whether the source, as it is now, still has `key`: then the clone, taken before,
    /// holds the bytes the source had when it was given that key.
    pub fn source_still_matches(&self, key: ObjectKey) -> bool {
        self.source
            .metadata()
            .is_ok_and(|metadata| key.still_matches(&metadata))
    }
}
