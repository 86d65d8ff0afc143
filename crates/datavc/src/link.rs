//! Putting cache objects into the workspace: reflink, copy, hardlink or symlink, as
//! DVC's `cache.type` lists them, always through a temporary name and a rename.

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::fsutil::{NewFile, copy_hashing, copy_plain, set_readonly, temp_beside};
use crate::hash::{Oid, hash_file};

/// How a workspace file shares bytes with its cache object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// A copy-on-write clone (btrfs, XFS, APFS); falls through where unsupported.
    Reflink,
    /// An independent copy: safe to edit, costs the space twice.
    Copy,
    /// A hard link: no extra space; the file is read-only until `unprotect`.
    Hardlink,
    /// A symbolic link to the cache object; read-only until `unprotect`.
    Symlink,
}

impl LinkType {
    /// Parses DVC's `cache.type` value, e.g. `reflink,copy`.
    pub fn parse_list(value: &str) -> Option<Vec<LinkType>> {
        value
            .split(',')
            .map(|name| match name.trim() {
                "reflink" => Some(LinkType::Reflink),
                "copy" => Some(LinkType::Copy),
                "hardlink" => Some(LinkType::Hardlink),
                "symlink" => Some(LinkType::Symlink),
                _ => None,
            })
            .collect()
    }

    /// DVC's default: a reflink where the filesystem can, else a copy.
    pub fn default_list() -> Vec<LinkType> {
        vec![LinkType::Reflink, LinkType::Copy]
    }

    /// Whether the workspace file shares its inode with the cache (and so must stay read-only).
    pub fn is_shared(self) -> bool {
        matches!(self, LinkType::Hardlink | LinkType::Symlink)
    }
}

/// How [`place`] checks the bytes it places against the object's id.
#[derive(Clone, Copy)]
pub enum Verify<'a> {
    /// It does not: verification is off, or the object was just stored from these bytes.
    Skip,
    /// It hashes them.
    Hash,
    /// It hashes them unless this says, before and after the copy, that the object is
    /// untouched since datavc wrote it verified (see [`crate::state::ObjectKey`]).
    UnlessVouched(&'a dyn Fn() -> bool),
}

/// Places cache object `object` (id `oid`) at `dest`, trying `types` in order.
///
/// Bytes that `verify` finds wrong are an error, leaving `dest` untouched. Returns the
/// link type used.
pub fn place(
    object: &Path,
    oid: &Oid,
    dest: &Path,
    types: &[LinkType],
    verify: Verify<'_>,
) -> Result<LinkType> {
    let temp = temp_beside(dest);
    let result = place_at_temp(object, oid, &temp, types, verify).and_then(|used| {
        fs::rename(&temp, dest).map_err(Error::io("replace", dest))?;
        Ok(used)
    });
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn place_at_temp(
    object: &Path,
    oid: &Oid,
    temp: &Path,
    types: &[LinkType],
    verify: Verify<'_>,
) -> Result<LinkType> {
    let trusted = match verify {
        Verify::Skip => true,
        Verify::Hash => false,
        Verify::UnlessVouched(vouched) => vouched(),
    };
    let mut last_error = None;
    for &link in types {
        let made = match link {
            LinkType::Copy if !trusted => {
                copy_hashing(object, temp, oid.algo, NewFile::Writable).map(Some)
            }
            LinkType::Copy => copy_plain(object, temp).map(|()| None),
            LinkType::Reflink => reflink_copy::reflink(object, temp)
                .map(|()| None)
                .map_err(Error::io("reflink", temp)),
            LinkType::Hardlink => fs::hard_link(object, temp)
                .map(|()| None)
                .map_err(Error::io("hardlink", temp)),
            LinkType::Symlink => symlink(object, temp)
                .map(|()| None)
                .map_err(Error::io("symlink", temp)),
        };
        let copied_oid = match made {
            Ok(copied_oid) => copied_oid,
            Err(error) => {
                let _ = fs::remove_file(temp);
                last_error = Some(error);
                continue;
            }
        };
        let touched = matches!(verify, Verify::UnlessVouched(vouched) if trusted && !vouched());
        if !trusted || touched {
            let actual = match copied_oid {
                Some(actual) => actual,
                None => hash_file(temp, oid.algo)?,
            };
            if actual.hex != oid.hex {
                return Err(Error::Corrupt {
                    origin: "the cache".into(),
                    expected: oid.to_string(),
                    actual: actual.hex,
                });
            }
        }
        if matches!(link, LinkType::Copy | LinkType::Reflink) {
            set_readonly(temp, false)?;
        }
        return Ok(link);
    }
    Err(last_error.unwrap_or_else(|| Error::BadConfig {
        path: "cache.type".into(),
        detail: "no link type configured".into(),
    }))
}

#[cfg(unix)]
fn symlink(object: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(object, link)
}

#[cfg(windows)]
fn symlink(object: &Path, link: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_file(object, link)
}

/// Makes a workspace file independent of the cache at the least cost: a symlink or
/// hardlink is replaced by a copy, a read-only copy only made writable (a reflink already
/// shares no writes with the cache).
pub fn detach(path: &Path) -> Result<()> {
    let metadata = fs::symlink_metadata(path).map_err(Error::io("stat", path))?;
    if metadata.file_type().is_symlink() || is_hardlinked(&metadata) {
        return unprotect(path);
    }
    set_readonly(path, false)
}

#[cfg(unix)]
fn is_hardlinked(metadata: &fs::Metadata) -> bool {
    std::os::unix::fs::MetadataExt::nlink(metadata) > 1
}

/// Without a stable link count, every file is taken for a link: copied, never shared.
#[cfg(not(unix))]
fn is_hardlinked(_: &fs::Metadata) -> bool {
    true
}

/// Replaces a linked or read-only workspace file by a private, writable copy.
pub fn unprotect(path: &Path) -> Result<()> {
    let temp = temp_beside(path);
    let result = fs::copy(path, &temp)
        .map_err(Error::io("copy", path))
        .and_then(|_| set_readonly(&temp, false))
        .and_then(|()| fs::rename(&temp, path).map_err(Error::io("replace", path)));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::HashAlgo;

    #[test]
    fn parses_dvc_cache_types() {
        assert_eq!(
            LinkType::parse_list("reflink,copy"),
            Some(LinkType::default_list())
        );
        assert_eq!(
            LinkType::parse_list("hardlink, symlink"),
            Some(vec![LinkType::Hardlink, LinkType::Symlink])
        );
        assert_eq!(LinkType::parse_list("teleport"), None);
    }

    /// A folder holding one cache object, `object`, with these bytes.
    fn object_holding(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let object = dir.path().join("object");
        fs::write(&object, bytes).unwrap();
        (dir, object)
    }

    #[test]
    fn every_type_places_the_bytes_and_verify_catches_corruption() {
        let (dir, object) = object_holding(b"weights");
        let oid = HashAlgo::Md5.hash_bytes(b"weights");
        for types in [
            vec![LinkType::Copy],
            vec![LinkType::Hardlink],
            vec![LinkType::Symlink],
            LinkType::default_list(),
        ] {
            let dest = dir.path().join(format!("{types:?}"));
            place(&object, &oid, &dest, &types, Verify::Hash).unwrap();
            assert_eq!(fs::read(&dest).unwrap(), b"weights");
        }
        let wrong = HashAlgo::Md5.hash_bytes(b"other");
        let dest = dir.path().join("never");
        assert!(matches!(
            place(&object, &wrong, &dest, &[LinkType::Copy], Verify::Hash),
            Err(Error::Corrupt { .. })
        ));
        assert!(!dest.exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            5,
            "no temporary file left"
        );
    }

    #[test]
    fn a_vouched_object_is_hashed_only_if_touched_during_the_copy() {
        let (dir, object) = object_holding(b"rotten");
        let claimed = HashAlgo::Md5.hash_bytes(b"weights");
        let place_with = |answers: [bool; 2]| {
            let asked = std::cell::Cell::new(0);
            let vouched = || {
                asked.set(asked.get() + 1);
                answers[asked.get() - 1]
            };
            let dest = dir.path().join("dest");
            let placed = place(
                &object,
                &claimed,
                &dest,
                &[LinkType::Copy],
                Verify::UnlessVouched(&vouched),
            );
            (placed, asked.get())
        };
        // Vouched for throughout: trusted, as `push` trusts it (the records would be wrong).
        assert!(matches!(place_with([true, true]), (Ok(LinkType::Copy), 2)));
        assert!(matches!(
            place_with([false, false]),
            (Err(Error::Corrupt { .. }), 1)
        ));
        assert!(matches!(
            place_with([true, false]),
            (Err(Error::Corrupt { .. }), 2)
        ));
    }

    #[test]
    fn unprotect_breaks_a_hardlink() {
        let (dir, object) = object_holding(b"x");
        set_readonly(&object, true).unwrap();
        let dest = dir.path().join("work");
        let oid = HashAlgo::Md5.hash_bytes(b"x");
        place(&object, &oid, &dest, &[LinkType::Hardlink], Verify::Skip).unwrap();
        unprotect(&dest).unwrap();
        fs::write(&dest, b"edited").unwrap();
        assert_eq!(fs::read(&object).unwrap(), b"x");
    }

    #[cfg(unix)]
    #[test]
    fn detach_copies_links_and_only_unlocks_a_private_copy() {
        use std::os::unix::fs::MetadataExt;
        let (dir, object) = object_holding(b"x");
        set_readonly(&object, true).unwrap();
        let oid = HashAlgo::Md5.hash_bytes(b"x");
        for link in [LinkType::Symlink, LinkType::Copy] {
            let dest = dir.path().join(format!("{link:?}"));
            place(&object, &oid, &dest, &[link], Verify::Skip).unwrap();
            set_readonly(&dest, true).unwrap();
            let inode = fs::metadata(&dest).unwrap().ino();
            detach(&dest).unwrap();
            let detached = fs::symlink_metadata(&dest).unwrap();
            assert!(detached.file_type().is_file(), "{link:?}");
            assert!(!detached.permissions().readonly(), "{link:?}");
            assert_eq!(detached.ino() == inode, link == LinkType::Copy, "{link:?}");
            fs::write(&dest, b"edited").unwrap();
        }
        assert_eq!(fs::read(&object).unwrap(), b"x");
    }
}
