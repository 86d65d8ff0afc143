//! File operations that never leave a half-written file behind: everything is written to
//! a temporary name in the destination's folder, flushed, then renamed over the target.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::hash::{HashAlgo, Hasher, Oid, with_buffer};

/// Marks datavc's temporary files; scans skip them and write commands sweep them away.
pub const TEMP_MARK: &str = ".datavc-tmp-";

/// A fresh temporary path beside `target` (same folder, so the final rename is atomic).
pub fn temp_beside(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    target.with_file_name(format!(".{name}{TEMP_MARK}{}-{unique}", std::process::id()))
}

/// Whether a file name is one of datavc's temporary files.
pub fn is_temp_name(name: &str) -> bool {
    name.contains(TEMP_MARK)
}

/// Flushes everything written so far on the filesystem holding `path` to disk.
///
/// On Linux one `syncfs` replaces thousands of per-file `fsync`s, each a journal commit;
/// elsewhere there is no such call and durable writes flush file by file instead
/// ([`FLUSH_EACH_FILE`]).
pub fn flush_filesystem(path: &Path) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        let folder = File::open(path).map_err(Error::io("open", path))?;
        rustix::fs::syncfs(&folder).map_err(|e| Error::Io {
            action: "flush",
            path: path.to_owned(),
            source: e.into(),
        })?;
    }
    let _ = path;
    Ok(())
}

/// Whether durable writes must flush each file (no whole-filesystem flush here).
pub const FLUSH_EACH_FILE: bool = !cfg!(target_os = "linux");

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let temp = temp_beside(path);
    let result = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    result.map_err(|source| {
        let _ = fs::remove_file(&temp);
        Error::Io {
            action: "write",
            path: path.to_owned(),
            source,
        }
    })
}

/// The permissions a new file is created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewFile {
    /// Read-only from the start (cache objects), sparing a `chmod` per file.
    ReadOnly,
    /// Writable (workspace files).
    Writable,
}

/// Copies `from` to a new file `to` while hashing it, in one read pass.
pub fn copy_hashing(from: &Path, to: &Path, algo: HashAlgo, access: NewFile) -> Result<Oid> {
    let mut source = File::open(from).map_err(Error::io("read", from))?;
    let mut options = File::options();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if access == NewFile::ReadOnly {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o444);
    }
    let _ = access;
    let mut sink = options.open(to).map_err(Error::io("write", to))?;
    let mut hasher = algo.hasher();
    with_buffer(|buffer| copy_loop(&mut source, &mut sink, &mut hasher, buffer, from, to))?;
    Ok(hasher.finish())
}

fn copy_loop(
    source: &mut File,
    sink: &mut File,
    hasher: &mut Hasher,
    buffer: &mut [u8],
    from: &Path,
    to: &Path,
) -> Result<()> {
    loop {
        let n = match source.read(buffer) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::Io {
                    action: "read",
                    path: from.to_owned(),
                    source: e,
                });
            }
        };
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        sink.write_all(&buffer[..n])
            .map_err(Error::io("write", to))?;
    }
    Ok(())
}

/// Sets or clears the read-only flag.
pub fn set_readonly(path: &Path, readonly: bool) -> Result<()> {
    let mut permissions = fs::metadata(path)
        .map_err(Error::io("stat", path))?
        .permissions();
    if permissions.readonly() != readonly {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = permissions.mode();
            permissions.set_mode(if readonly {
                mode & !0o222
            } else {
                mode | 0o200
            });
        }
        #[cfg(not(unix))]
        permissions.set_readonly(readonly);
        fs::set_permissions(path, permissions).map_err(Error::io("chmod", path))?;
    }
    Ok(())
}

/// Creates a folder and its parents.
pub fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(Error::io("create folder", path))
}

/// Removes a file, treating "already gone" as done.
pub fn remove_file(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io {
            action: "remove",
            path: path.to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// A path's `/`-separated form relative to `base`, if it lies below it.
pub fn relative_slash(path: &Path, base: &Path) -> Option<String> {
    let rel = path.strip_prefix(base).ok()?;
    let parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    Some(parts.join("/"))
}

/// Joins a `/`-separated relative path onto `base`.
pub fn join_slash(base: &Path, relpath: &str) -> PathBuf {
    relpath
        .split('/')
        .fold(base.to_owned(), |path, part| path.join(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn failed_write_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let error = write_atomic(&dir.path().join("missing/f"), b"x").unwrap_err();
        assert!(error.to_string().contains("missing"), "{error}");
    }

    #[test]
    fn copy_hashing_copies_and_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&from, b"abc").unwrap();
        let oid = copy_hashing(&from, &to, HashAlgo::Md5, NewFile::Writable).unwrap();
        assert_eq!(oid.hex, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(fs::read(&to).unwrap(), b"abc");
    }
}
