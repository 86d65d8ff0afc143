//! The state database (`.dvc/tmp/datavc-state.db`, SQLite): the hash of each workspace file
//! keyed by path, inode, modification time and size, so an unchanged file is never hashed
//! twice and `status` on an unchanged tree only stats; and the metadata each cache object had
//! when datavc wrote it verified, so `push` and `checkout` need not hash an object nothing has
//! touched since.

use std::collections::HashMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, params};
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::hash::{HashAlgo, Oid};

/// What identifies a file version without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKey {
    inode: u64,
    mtime_ns: i64,
    size: u64,
}

impl FileKey {
    /// The key of a file's metadata.
    pub fn of(metadata: &Metadata) -> FileKey {
        let mtime_ns = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        FileKey {
            inode: inode(metadata),
            mtime_ns,
            size: metadata.len(),
        }
    }

    /// The file's size.
    pub fn size(&self) -> u64 {
        self.size
    }
}

#[cfg(unix)]
fn inode(metadata: &Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(metadata)
}

#[cfg(not(unix))]
fn inode(_: &Metadata) -> u64 {
    0
}

/// What a cache object looked like right after datavc wrote it, verified.
///
/// The inode change time is part of it because nothing can set it back: rewriting an
/// object and then resetting its modification time (`touch -d`) still changes the key.
/// What the key cannot see is a rewrite within one timestamp tick of datavc's own write
/// (about 4 ms on Linux) or damage below the filesystem (bit rot); the first needs a writer
/// racing datavc on a read-only file, and neither is caught by DVC, which never re-hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectKey {
    file: FileKey,
    ctime_ns: i64,
}

impl ObjectKey {
    /// The key of an object's metadata, or `None` where it would not prove the object
    /// unchanged: off Unix (no inode change time), and on filesystems with whole-second
    /// timestamps, where a rewrite in the same second keeps every field.
    pub fn of(metadata: &Metadata) -> Option<ObjectKey> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if metadata.ctime_nsec() == 0 && metadata.mtime_nsec() == 0 {
                return None;
            }
            let ctime_ns = metadata
                .ctime()
                .saturating_mul(1_000_000_000)
                .saturating_add(metadata.ctime_nsec());
            Some(ObjectKey {
                file: FileKey::of(metadata),
                ctime_ns,
            })
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            None
        }
    }

    /// Whether an object recorded with this key still has it, as `metadata` shows it now:
    /// nothing has touched it since datavc wrote it verified. `push` and `checkout` trust
    /// such an object without hashing it.
    pub fn still_matches(self, metadata: &Metadata) -> bool {
        ObjectKey::of(metadata) == Some(self)
    }

    /// Whether the file last changed so long before `now` that any write from `now` on
    /// must give it another key. Timestamps advance in ticks, so a write within the tick
    /// of the last change could leave every field as it was; a second is many ticks.
    pub fn settled_at(self, now: SystemTime) -> bool {
        let now_ns = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        now_ns.saturating_sub(self.ctime_ns) > SETTLE_NS
    }
}

/// How long ago a file must have last changed to count as settled (see
/// [`ObjectKey::settled_at`]).
const SETTLE_NS: i64 = 1_000_000_000;

/// Objects datavc wrote and verified, by algorithm and hash, with their metadata then.
pub type VerifiedObjects = HashMap<(HashAlgo, String), ObjectKey>;

/// The key `records` hold for object `oid`: what it looked like when datavc wrote it
/// verified, if it did.
pub fn recorded(records: &VerifiedObjects, oid: &Oid) -> Option<ObjectKey> {
    records.get(&(oid.algo, oid.hex.clone())).copied()
}

/// The state database. Its recorded hashes load on a thread of their own, so that a scan
/// lists and stats files meanwhile; they are written back in batches.
pub struct StateDb {
    path: PathBuf,
    connection: Mutex<Connection>,
    loading: Option<JoinHandle<rusqlite::Result<RecordedHashes>>>,
    hashes: RecordedHashes,
}

/// The hash recorded for each workspace file with one algorithm, with the key the file
/// had then.
#[derive(Debug)]
pub struct RecordedHashes {
    algo: HashAlgo,
    by_path: FxHashMap<String, (FileKey, String)>,
}

impl RecordedHashes {
    fn none(algo: HashAlgo) -> RecordedHashes {
        RecordedHashes {
            algo,
            by_path: FxHashMap::default(),
        }
    }

    /// The recorded hash of `relpath` if the file still has this key.
    pub fn get(&self, relpath: &str, key: FileKey) -> Option<Oid> {
        let (recorded, hex) = self.by_path.get(relpath)?;
        (*recorded == key).then(|| Oid {
            algo: self.algo,
            hex: hex.clone(),
            dir: false,
        })
    }
}

/// How long a connection waits for another's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

impl StateDb {
    /// Opens (creating) the database at `path`, and starts loading the hashes it records
    /// with `algo`.
    pub fn open(path: &Path, algo: HashAlgo) -> Result<StateDb> {
        let fail = |source| Error::State {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent() {
            crate::fsutil::create_dir_all(parent)?;
        }
        let connection = Connection::open(path).map_err(fail)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        // A write-ahead log without a flush per commit (what DVC's own state cache uses):
        // on XFS that flush forced out the log of every file an `add` had just created,
        // about 65 ms for 10,000 files. A power cut can lose the last records, never
        // corrupt the database, and a lost record only means that a file is hashed again.
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                CREATE TABLE IF NOT EXISTS state (
                    path TEXT NOT NULL, algo TEXT NOT NULL, inode INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, hash TEXT NOT NULL,
                    PRIMARY KEY (path, algo)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS verified_objects (
                    algo TEXT NOT NULL, hash TEXT NOT NULL, inode INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
                    size INTEGER NOT NULL, PRIMARY KEY (algo, hash)) WITHOUT ROWID;",
            )
            .map_err(fail)?;
        let loader = path.to_owned();
        let loading = std::thread::Builder::new()
            .name("datavc-state".into())
            .spawn(move || {
                // Only this thread uses the connection, so SQLite's own locking (a third
                // of the load's time) is left out.
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let connection = Connection::open_with_flags(loader, flags)?;
                // A write this process makes meanwhile holds the read up, not fails it.
                connection.busy_timeout(BUSY_TIMEOUT)?;
                load(&connection, algo)
            })
            .map_err(Error::io("read", path))?;
        Ok(StateDb {
            path: path.to_owned(),
            connection: Mutex::new(connection),
            loading: Some(loading),
            hashes: RecordedHashes::none(algo),
        })
    }

    /// The recorded hashes, once they have loaded.
    pub fn hashes(&mut self) -> Result<&RecordedHashes> {
        if let Some(loading) = self.loading.take() {
            let loaded = loading
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            self.hashes = loaded.map_err(|source| Error::State {
                path: self.path.clone(),
                source,
            })?;
        }
        Ok(&self.hashes)
    }

    /// Records hashes in one transaction.
    pub fn record(&mut self, entries: &[(String, FileKey, Oid)]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        // Loaded rows must not overwrite these in memory.
        self.hashes()?;
        let sql = "INSERT OR REPLACE INTO state VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
        self.in_transaction(sql, |insert| {
            for (relpath, key, oid) in entries {
                insert.execute(params![
                    relpath,
                    oid.algo.name(),
                    key.inode as i64,
                    key.mtime_ns,
                    key.size as i64,
                    oid.hex
                ])?;
            }
            Ok(())
        })?;
        let recorded = &mut self.hashes;
        for (relpath, key, oid) in entries.iter().filter(|(.., oid)| oid.algo == recorded.algo) {
            recorded
                .by_path
                .insert(relpath.clone(), (*key, oid.hex.clone()));
        }
        Ok(())
    }

    /// Moves the hashes recorded for `from` (a file, or a folder and all below it) to `to`,
    /// where a rename took the files, so that they are not hashed again. The rows move in
    /// the database itself: another connection (a checkout's) may have recorded them.
    pub fn moved(&mut self, from: &str, to: &str) -> Result<()> {
        // Loaded rows must not bring the old paths back in memory.
        self.hashes()?;
        let sql = "UPDATE OR REPLACE state SET path = ?2 || substr(path, length(?1) + 1)
            WHERE path = ?1 OR substr(path, 1, length(?1) + 1) = ?1 || '/'";
        self.in_transaction(sql, |update| update.execute(params![from, to]).map(drop))?;
        let by_path = &mut self.hashes.by_path;
        let below = format!("{from}/");
        let moving: Vec<String> = (by_path.keys())
            .filter(|path| *path == from || path.starts_with(&below))
            .cloned()
            .collect();
        for path in moving {
            if let Some(entry) = by_path.remove(&path) {
                by_path.insert(format!("{to}{}", &path[from.len()..]), entry);
            }
        }
        Ok(())
    }

    /// Records cache objects datavc just wrote, verified, in one transaction.
    pub fn record_verified(&mut self, objects: &[(Oid, ObjectKey)]) -> Result<()> {
        if objects.is_empty() {
            return Ok(());
        }
        let sql = "INSERT OR REPLACE INTO verified_objects VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
        self.in_transaction(sql, |insert| {
            for (oid, key) in objects {
                insert.execute(params![
                    oid.algo.name(),
                    oid.hex,
                    key.file.inode as i64,
                    key.file.mtime_ns,
                    key.ctime_ns,
                    key.file.size as i64
                ])?;
            }
            Ok(())
        })
    }

    /// Forgets cache objects that were deleted, in one transaction.
    pub fn forget_verified(&mut self, objects: &[Oid]) -> Result<()> {
        let sql = "DELETE FROM verified_objects WHERE algo = ?1 AND hash = ?2";
        self.in_transaction(sql, |delete| {
            for oid in objects {
                delete.execute(params![oid.algo.name(), oid.hex])?;
            }
            Ok(())
        })
    }

    /// Prepares `sql` and lets `write` run it for each row, all in one transaction.
    fn in_transaction(
        &self,
        sql: &str,
        write: impl FnOnce(&mut rusqlite::CachedStatement<'_>) -> rusqlite::Result<()>,
    ) -> Result<()> {
        let fail = |source| Error::State {
            path: self.path.clone(),
            source,
        };
        let mut connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let tx = connection.transaction().map_err(fail)?;
        {
            let mut statement = tx.prepare_cached(sql).map_err(fail)?;
            write(&mut statement).map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }

    /// Every recorded verified object (read on demand: only `push` and `checkout` need them).
    pub fn verified_objects(&self) -> Result<VerifiedObjects> {
        let fail = |source| Error::State {
            path: self.path.clone(),
            source,
        };
        let connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        load_verified(&connection).map_err(fail)
    }
}

fn load_verified(connection: &Connection) -> rusqlite::Result<VerifiedObjects> {
    let mut select = connection
        .prepare("SELECT algo, hash, inode, mtime_ns, ctime_ns, size FROM verified_objects")?;
    let rows = select.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            ObjectKey {
                file: FileKey {
                    inode: row.get::<_, i64>(2)? as u64,
                    mtime_ns: row.get(3)?,
                    size: row.get::<_, i64>(5)? as u64,
                },
                ctime_ns: row.get(4)?,
            },
        ))
    })?;
    let mut verified = HashMap::new();
    for row in rows {
        let (algo, hash, key) = row?;
        if let Some(algo) = HashAlgo::from_name(&algo) {
            verified.insert((algo, hash), key);
        }
    }
    Ok(verified)
}

impl Drop for StateDb {
    /// Waits for a load nobody asked for, so that the database is closed when this returns.
    fn drop(&mut self) {
        if let Some(loading) = self.loading.take() {
            let _ = loading.join();
        }
    }
}

fn load(connection: &Connection, algo: HashAlgo) -> rusqlite::Result<RecordedHashes> {
    let mut select = connection
        .prepare("SELECT path, inode, mtime_ns, size, hash FROM state WHERE algo = ?1")?;
    let rows = select.query_map([algo.name()], |row| {
        let key = FileKey {
            inode: row.get::<_, i64>(1)? as u64,
            mtime_ns: row.get(2)?,
            size: row.get::<_, i64>(3)? as u64,
        };
        Ok((row.get::<_, String>(0)?, (key, row.get::<_, String>(4)?)))
    })?;
    let mut recorded = RecordedHashes::none(algo);
    for row in rows {
        let (path, entry) = row?;
        recorded.by_path.insert(path, entry);
    }
    Ok(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_file_settles_a_second_after_its_last_change() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"abc").unwrap();
        let key = ObjectKey::of(&std::fs::metadata(&file).unwrap()).unwrap();
        let now = SystemTime::now();
        assert!(!key.settled_at(now));
        assert!(!key.settled_at(now + Duration::from_millis(500)));
        assert!(key.settled_at(now + Duration::from_millis(1_100)));
    }

    /// A file's key and md5, in a folder that also holds the path for a database.
    fn file_and_database() -> (tempfile::TempDir, FileKey, Oid, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"abc").unwrap();
        let key = FileKey::of(&std::fs::metadata(&file).unwrap());
        let oid = HashAlgo::Md5.hash_bytes(b"abc");
        let db_path = dir.path().join("tmp/state.db");
        (dir, key, oid, db_path)
    }

    #[test]
    fn remembers_across_opens_and_forgets_on_change() {
        let (_dir, key, oid, db_path) = file_and_database();
        StateDb::open(&db_path, HashAlgo::Md5)
            .unwrap()
            .record(&[("f".into(), key, oid.clone())])
            .unwrap();
        let mut db = StateDb::open(&db_path, HashAlgo::Md5).unwrap();
        let hashes = db.hashes().unwrap();
        assert_eq!(hashes.get("f", key), Some(oid));
        let changed = FileKey { size: 4, ..key };
        assert_eq!(hashes.get("f", changed), None);
        let mut other_algo = StateDb::open(&db_path, HashAlgo::Blake3).unwrap();
        assert_eq!(other_algo.hashes().unwrap().get("f", key), None);
    }

    #[test]
    fn a_move_carries_the_hashes_another_connection_recorded() {
        let (_dir, key, oid, db_path) = file_and_database();
        let mut db = StateDb::open(&db_path, HashAlgo::Md5).unwrap();
        db.hashes().unwrap();
        let recorded = ["tmp/a/f", "tmp/a/sub/g", "tmp/ab/h", "tmp/a"];
        let entries: Vec<_> = (recorded.iter())
            .map(|path| (path.to_string(), key, oid.clone()))
            .collect();
        StateDb::open(&db_path, HashAlgo::Md5)
            .unwrap()
            .record(&entries)
            .unwrap();
        db.record(&[("tmp/a/f".into(), key, oid.clone())]).unwrap();
        db.moved("tmp/a", "data").unwrap();
        assert_eq!(db.hashes().unwrap().get("data/f", key), Some(oid.clone()));
        assert_eq!(db.hashes().unwrap().get("tmp/a/f", key), None);
        let mut reopened = StateDb::open(&db_path, HashAlgo::Md5).unwrap();
        let hashes = reopened.hashes().unwrap();
        for (path, moved) in [
            ("data/f", true),
            ("data/sub/g", true),
            ("data", true),
            ("tmp/ab/h", true),
            ("tmp/a/f", false),
            ("tmp/a/sub/g", false),
            ("tmp/a", false),
        ] {
            assert_eq!(hashes.get(path, key).is_some(), moved, "{path}");
        }
    }
}
