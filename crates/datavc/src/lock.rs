//! The repository lock (`.dvc/tmp/datavc.lock`): commands that write take it exclusively,
//! read-only commands share it.
//!
//! It is an operating-system file lock, so a process that dies (even by SIGKILL) releases
//! it at once: a lock can never be stale. The file records the holder's pid and host so a
//! waiting command can say who it waits for.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long a command waits for another to finish before giving up.
const WAIT: Duration = Duration::from_secs(30);

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct RepoLock {
    _file: File,
}

/// Exclusive (writers) or shared (readers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// One writer, no readers.
    Write,
    /// Any number of readers, no writer.
    Read,
}

impl RepoLock {
    /// Takes the lock at `path`, waiting up to 30 s for the current holder.
    pub fn acquire(path: &Path, mode: LockMode) -> Result<RepoLock> {
        if let Some(parent) = path.parent() {
            crate::fsutil::create_dir_all(parent)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(Error::io("open the lock", path))?;
        let started = Instant::now();
        loop {
            let attempt = match mode {
                LockMode::Write => file.try_lock(),
                LockMode::Read => file.try_lock_shared(),
            };
            match attempt {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if started.elapsed() < WAIT => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = match holder.trim() {
                        "" => "another datavc process".to_owned(),
                        text => text.to_owned(),
                    };
                    return Err(Error::Locked { holder });
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::Io {
                        action: "lock",
                        path: path.to_owned(),
                        source: e,
                    });
                }
            }
        }
        if mode == LockMode::Write {
            let host = gethostname::gethostname().to_string_lossy().into_owned();
            let record = format!("pid {} on {host}\n", std::process::id());
            let written = file
                .set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(record.as_bytes()));
            written.map_err(Error::io("write the lock", path))?;
        }
        Ok(RepoLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_share_and_writers_exclude() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tmp/lock");
        let first = RepoLock::acquire(&path, LockMode::Read).unwrap();
        let second = RepoLock::acquire(&path, LockMode::Read).unwrap();
        drop((first, second));
        let writer = RepoLock::acquire(&path, LockMode::Write).unwrap();
        let mut other = File::open(&path).unwrap();
        assert!(matches!(
            other.try_lock_shared(),
            Err(TryLockError::WouldBlock)
        ));
        let mut text = String::new();
        other.read_to_string(&mut text).unwrap();
        assert!(
            text.starts_with(&format!("pid {} on ", std::process::id())),
            "{text}"
        );
        drop(writer);
        assert!(other.try_lock().is_ok());
    }
}
