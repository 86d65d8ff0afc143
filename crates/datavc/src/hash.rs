//! Content hashes: DVC's `md5` (byte-compatible with DVC 3) and `blake3` (fast, datavc's
//! default for new repositories), and the object ids built from them.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use md5::Digest;

use crate::error::{Error, Result};
use crate::md5_lanes;

/// Files at least this large are hashed with blake3 on all cores through a memory map.
const PARALLEL_HASH_MIN: u64 = 4 << 20;
/// Read buffer for streaming hashes and copies.
pub(crate) const CHUNK: usize = 1 << 20;

/// Files up to this size are hashed in batches where the algorithm gains from it
/// ([`HashAlgo::batches_small_files`]): a batch holds its files whole, each no more than
/// a streaming copy's buffer.
pub(crate) const BATCH_FILE_MAX: u64 = CHUNK as u64;
/// A batch's limits, in bounded memory: two full rounds of md5's widest lanes (AVX-512)
/// for 100 KiB files. Four rounds' worth would be cut at 163 files by the byte bound,
/// leaving 29 of the 64 lanes idle in the third round.
pub(crate) const BATCH_FILES: usize = 2 * md5_lanes::MOST_LANES;
const BATCH_BYTES: u64 = 16 << 20;

/// A content hash algorithm, as named in pointer files (`hash: md5`) and cache paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgo {
    /// MD5, as DVC 3 computes it (no newline normalisation).
    Md5,
    /// BLAKE3.
    Blake3,
}

impl HashAlgo {
    /// The name used in pointer files and cache paths.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgo::Md5 => "md5",
            HashAlgo::Blake3 => "blake3",
        }
    }

    /// Parses a name written by [`HashAlgo::name`].
    pub fn from_name(name: &str) -> Option<HashAlgo> {
        match name {
            "md5" => Some(HashAlgo::Md5),
            "blake3" => Some(HashAlgo::Blake3),
            _ => None,
        }
    }

    fn hex_len(self) -> usize {
        match self {
            HashAlgo::Md5 => 32,
            HashAlgo::Blake3 => 64,
        }
    }

    /// A hasher for streaming input.
    pub fn hasher(self) -> Hasher {
        match self {
            HashAlgo::Md5 => Hasher::Md5(md5::Md5::new()),
            HashAlgo::Blake3 => Hasher::Blake3(Box::new(blake3::Hasher::new())),
        }
    }

    /// The object id of a byte string.
    pub fn hash_bytes(self, bytes: &[u8]) -> Oid {
        let mut hasher = self.hasher();
        hasher.update(bytes);
        hasher.finish()
    }

    /// Whether hashing many small files together ([`HashAlgo::hash_many`]) beats hashing
    /// them one by one: md5's lanes do, blake3 is already fast on one input.
    pub fn batches_small_files(self) -> bool {
        self == HashAlgo::Md5
    }

    /// The object ids of many byte strings, in their order (md5: up to 64 at a time, side by
    /// side in SIMD lanes).
    pub fn hash_many(self, messages: &[&[u8]]) -> Vec<Oid> {
        match self {
            HashAlgo::Md5 => md5_lanes::digests(messages)
                .iter()
                .map(|digest| Oid {
                    algo: self,
                    hex: hex::encode(digest),
                    dir: false,
                })
                .collect(),
            HashAlgo::Blake3 => messages.iter().map(|m| self.hash_bytes(m)).collect(),
        }
    }
}

impl fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A streaming hasher of either algorithm.
pub enum Hasher {
    /// MD5 state.
    Md5(md5::Md5),
    /// BLAKE3 state (boxed: it is large).
    Blake3(Box<blake3::Hasher>),
}

impl Hasher {
    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(bytes),
            Hasher::Blake3(h) => {
                h.update(bytes);
            }
        }
    }

    /// The id of everything fed so far, as a file object.
    pub fn finish(self) -> Oid {
        let (algo, hex) = match self {
            Hasher::Md5(h) => (HashAlgo::Md5, hex::encode(h.finalize())),
            Hasher::Blake3(h) => (HashAlgo::Blake3, h.finalize().to_hex().to_string()),
        };
        Oid {
            algo,
            hex,
            dir: false,
        }
    }
}

/// An object id: the content hash of a file, or of a directory's manifest (`dir`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid {
    /// The algorithm.
    pub algo: HashAlgo,
    /// Lower-case hex digest.
    pub hex: String,
    /// Whether this is a directory manifest (written with a `.dir` suffix).
    pub dir: bool,
}

impl Oid {
    /// Parses the value of a pointer's hash field (`abc…` or `abc….dir`).
    pub fn parse(algo: HashAlgo, value: &str) -> Option<Oid> {
        let (hex, dir) = match value.strip_suffix(".dir") {
            Some(hex) => (hex, true),
            None => (value, false),
        };
        let valid = hex.len() == algo.hex_len()
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| Oid {
            algo,
            hex: hex.to_owned(),
            dir,
        })
    }

    /// The same hash marked as a directory manifest.
    pub fn into_dir(self) -> Oid {
        Oid { dir: true, ..self }
    }

    /// The object's key below a cache or remote root: `files/<algo>/ab/cdef…[.dir]`.
    pub fn key(&self) -> String {
        format!(
            "files/{}/{}/{}",
            self.algo,
            &self.hex[..2],
            self.value_tail()
        )
    }

    fn value_tail(&self) -> String {
        match self.dir {
            true => format!("{}.dir", &self.hex[2..]),
            false => self.hex[2..].to_owned(),
        }
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex)?;
        if self.dir {
            f.write_str(".dir")?;
        }
        Ok(())
    }
}

/// Hashes a file's content.
pub fn hash_file(path: &Path, algo: HashAlgo) -> Result<Oid> {
    let file = File::open(path).map_err(Error::io("hash", path))?;
    hash_open(&file, path, algo)
}

/// Hashes the open file `file`, which `path` names: large files are hashed through a
/// memory map of the path.
pub fn hash_open(file: &File, path: &Path, algo: HashAlgo) -> Result<Oid> {
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if algo == HashAlgo::Blake3 && size >= PARALLEL_HASH_MIN {
        let mut hasher = blake3::Hasher::new();
        hasher
            .update_mmap_rayon(path)
            .map_err(Error::io("hash", path))?;
        return Ok(Oid {
            algo,
            hex: hasher.finalize().to_hex().to_string(),
            dir: false,
        });
    }
    hash_reader(file, algo).map_err(Error::io("hash", path))
}

/// Hashes small files whole, together (see [`HashAlgo::hash_many`]).
pub fn hash_small_files(paths: &[&Path], algo: HashAlgo) -> Result<Vec<Oid>> {
    let contents = paths
        .iter()
        .map(|path| std::fs::read(path).map_err(Error::io("hash", path)))
        .collect::<Result<Vec<_>>>()?;
    let messages: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
    Ok(algo.hash_many(&messages))
}

/// Groups files to hash, in their order: small files in batches where `algo` gains from
/// it (for [`hash_small_files`] and the like), every other file alone.
pub fn batches<T>(algo: HashAlgo, files: Vec<T>, size: impl Fn(&T) -> u64) -> Vec<Vec<T>> {
    let mut batches = Vec::new();
    let mut batch = Vec::new();
    let mut bytes = 0;
    for file in files {
        let size = size(&file);
        if !algo.batches_small_files() || size > BATCH_FILE_MAX {
            batches.push(vec![file]);
            continue;
        }
        if batch.len() == BATCH_FILES || bytes + size > BATCH_BYTES {
            batches.push(std::mem::take(&mut batch));
            bytes = 0;
        }
        bytes += size;
        batch.push(file);
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

/// Hashes everything a reader yields.
pub fn hash_reader(mut reader: impl Read, algo: HashAlgo) -> std::io::Result<Oid> {
    let mut hasher = algo.hasher();
    with_buffer(|buffer| {
        loop {
            match reader.read(buffer) {
                Ok(0) => return Ok(hasher.finish()),
                Ok(n) => hasher.update(&buffer[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    })
}

/// Runs `f` with this thread's read buffer. A fresh megabyte per file cost more than the
/// copy itself when adding thousands of small files: each one was a new mapping, zeroed
/// and faulted in page by page (measured: 11 s of system time to check out 10,000 files).
pub(crate) fn with_buffer<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; CHUNK]);
    }
    BUFFER.with_borrow_mut(|buffer| f(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            HashAlgo::Md5.hash_bytes(b"abc").hex,
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            HashAlgo::Blake3.hash_bytes(b"abc").hex,
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
    }

    #[test]
    fn keys_split_the_hex_like_dvc() {
        let oid = Oid::parse(HashAlgo::Md5, "900150983cd24fb0d6963f7d28e17f72.dir").unwrap();
        assert!(oid.dir);
        assert_eq!(oid.key(), "files/md5/90/0150983cd24fb0d6963f7d28e17f72.dir");
        assert_eq!(oid.to_string(), "900150983cd24fb0d6963f7d28e17f72.dir");
    }

    #[test]
    fn parse_rejects_wrong_length_and_case() {
        assert!(Oid::parse(HashAlgo::Md5, "abc").is_none());
        assert!(Oid::parse(HashAlgo::Md5, "900150983CD24FB0D6963F7D28E17F72").is_none());
        assert!(Oid::parse(HashAlgo::Blake3, "900150983cd24fb0d6963f7d28e17f72").is_none());
    }

    #[test]
    fn large_files_hash_the_same_in_parallel() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let bytes: Vec<u8> = (0..(PARALLEL_HASH_MIN as usize + 12345))
            .map(|i| (i * 7) as u8)
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(
            hash_file(&path, HashAlgo::Blake3).unwrap(),
            HashAlgo::Blake3.hash_bytes(&bytes)
        );
        assert_eq!(
            hash_file(&path, HashAlgo::Md5).unwrap(),
            HashAlgo::Md5.hash_bytes(&bytes)
        );
    }
}
