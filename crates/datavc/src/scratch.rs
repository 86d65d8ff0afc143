//! Temporary folders that hold clones of other repositories (for `get`, `import`, `update`,
//! `list`, and `pull` of imports), with the data copied out of them: gigabytes, at times,
//! beside the user's files. Each is removed when it is done with; a folder a killed command
//! left is removed by the next command that makes one beside the same path or that writes
//! that path (`add`, `commit`, `checkout`, `pull`): a live command holds a lock on a file
//! in its folder, and a folder still without that file a minute after it was made is one
//! whose command was killed first. A program stopped by Ctrl-C removes those in use with
//! [`interrupt`] before it exits.
//!
//! Data that is being moved into place passes through such a folder (what the destination
//! held goes there first), so [`moving`] keeps [`interrupt`] out while it does.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::fsutil;

/// The folders in use, and whether [`interrupt`] has run.
struct InUse {
    folders: Vec<PathBuf>,
    interrupted: bool,
}

static IN_USE: Mutex<InUse> = Mutex::new(InUse {
    folders: Vec::new(),
    interrupted: false,
});

fn in_use() -> MutexGuard<'static, InUse> {
    IN_USE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes every temporary folder in use, and makes any later attempt to create one fail
/// with [`Error::Interrupted`]. For a program's Ctrl-C handler, which then exits: the
/// commands using the folders go on until then, and fail.
pub fn interrupt() {
    let mut in_use = in_use();
    in_use.interrupted = true;
    for folder in in_use.folders.drain(..) {
        let _ = remove_while_children_die(&folder);
    }
}

/// Removes `folder`, trying again for a second while that fails; returns whether it is
/// gone. A `git clone` the command started may still write into the folder: a terminal's
/// Ctrl-C reaches it too, but it takes a moment to die, and one whose command was killed
/// alone runs on to its end.
fn remove_while_children_die(folder: &Path) -> bool {
    for _ in 0..20 {
        if fs::remove_dir_all(folder).is_ok() || !folder.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Runs `move_data`, which moves data through temporary folders, with [`interrupt`] held
/// off until it is done: no folder is removed while it holds what a destination held.
pub(crate) fn moving<T>(move_data: impl FnOnce() -> T) -> T {
    let _held = in_use();
    move_data()
}

/// A temporary folder, removed with all it holds when dropped. A file in it stays locked
/// while it is in use, so that a later command can tell the folder of one that was killed
/// (the system released its lock) from one still running.
pub(crate) struct TempFolder {
    pub path: PathBuf,
    lock: Option<File>,
}

/// The locked file in a [`TempFolder`].
pub(crate) const LOCK_FILE: &str = "in-use.lock";

impl TempFolder {
    /// A new folder beside `near`, after removing those killed commands left there.
    pub(crate) fn beside(near: &Path) -> Result<TempFolder> {
        remove_abandoned(near)?;
        let path = fsutil::temp_beside(near);
        let mut in_use = in_use();
        if in_use.interrupted {
            return Err(Error::Interrupted);
        }
        fs::create_dir(&path).map_err(Error::io("create folder", &path))?;
        in_use.folders.push(path.clone());
        drop(in_use);
        let lock_path = path.join(LOCK_FILE);
        // Dropped on failure, it removes the folder again.
        let mut folder = TempFolder { path, lock: None };
        let lock = File::create(&lock_path).map_err(Error::io("create", &lock_path))?;
        lock.try_lock()
            .map_err(|e| Error::io("lock", &lock_path)(e.into()))?;
        folder.lock = Some(lock);
        Ok(folder)
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        // Windows deletes no file that is still open.
        drop(self.lock.take());
        let mut in_use = in_use();
        in_use.folders.retain(|folder| *folder != self.path);
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Removes the temporary folders that killed commands left beside `near`; returns how
/// many.
pub(crate) fn remove_abandoned(near: &Path) -> Result<usize> {
    let (Some(parent), Some(name)) = (near.parent(), near.file_name()) else {
        return Ok(0);
    };
    let prefix = format!(".{}{}", name.to_string_lossy(), fsutil::TEMP_MARK);
    let entries = match fs::read_dir(parent) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::io("list", parent)(e)),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let abandoned = entry.file_name().to_string_lossy().starts_with(&prefix)
            && entry.file_type().is_ok_and(|kind| kind.is_dir())
            && abandoned(&entry.path());
        if abandoned && remove_while_children_die(&entry.path()) {
            removed += 1;
        }
    }
    Ok(removed)
}

/// How long a folder may lack its lock file before it counts as abandoned: a command
/// creates the file right after the folder, so only a killed one leaves it out for long.
const UNLOCKED_GRACE: Duration = Duration::from_secs(60);

/// Whether the temporary folder `folder` is a killed command's: no one holds its lock
/// file, or it was killed before it made one.
fn abandoned(folder: &Path) -> bool {
    match File::open(folder.join(LOCK_FILE)) {
        Ok(lock) => lock.try_lock().is_ok(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fs::metadata(folder)
            .and_then(|metadata| metadata.modified())
            .is_ok_and(|made| made.elapsed().is_ok_and(|age| age > UNLOCKED_GRACE)),
        Err(_) => false,
    }
}

// Windows opens no folder as a file, to set its modification time.
#[cfg(all(test, unix))]
mod tests {
    use std::time::SystemTime;

    use super::*;

    #[test]
    fn a_folder_without_its_lock_file_counts_as_abandoned_once_a_minute_old() {
        let dir = tempfile::tempdir().unwrap();
        let near = dir.path().join("data");
        let folder = |n| dir.path().join(format!(".data{}{n}-0", fsutil::TEMP_MARK));
        let (young, old) = (folder(1), folder(2));
        let live = TempFolder::beside(&near).unwrap();
        fs::create_dir(&young).unwrap();
        fs::create_dir(&old).unwrap();
        let made = SystemTime::now() - 2 * UNLOCKED_GRACE;
        for folder in [&old, &live.path] {
            File::open(folder).unwrap().set_modified(made).unwrap();
        }

        assert_eq!(remove_abandoned(&near).unwrap(), 1);
        assert!(young.is_dir() && !old.exists() && live.path.is_dir());
    }
}
