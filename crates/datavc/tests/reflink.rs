//! `add`, `checkout`, `push` and `pull` on a filesystem with reflinks (XFS, Btrfs): the
//! workspace, the cache and a folder remote share their blocks instead of holding the data
//! twice, and an edit of a workspace file still leaves its cache object whole. ext4, where
//! the other tests run, has no reflinks, so without this file the clone path would go
//! untested.
//!
//! The tests work below `DATAVC_REFLINK_DIR`, which must name a folder on such a
//! filesystem (`.ci/run` loop-mounts an XFS image for them); without it they fail. They read
//! block maps with `filefrag` (e2fsprogs).

#![cfg(target_os = "linux")]

mod harness;

use std::fs;
use std::path::Path;
use std::process::Command;

use harness::{Lcg, assert_fsck_clean, files_below, md5_hex, object_key, ok};

/// A fresh folder on the reflink filesystem.
fn reflink_tempdir() -> tempfile::TempDir {
    let root = std::env::var_os("DATAVC_REFLINK_DIR").expect(
        "DATAVC_REFLINK_DIR must name a folder on a filesystem with reflinks (XFS or Btrfs); \
         .ci/run mounts one",
    );
    tempfile::tempdir_in(root).unwrap()
}

/// The physical extents of a file's blocks, as `filefrag -v` lists them after a `sync`
/// (so that written data has its blocks).
fn physical_extents(path: &Path) -> Vec<String> {
    assert!(Command::new("sync").status().unwrap().success());
    let output = Command::new("filefrag")
        .arg("-v")
        .arg(path)
        .output()
        .unwrap();
    assert!(output.status.success(), "filefrag {}", path.display());
    // Rows look like `   0:        0..    2047:         24..      2071:   2048:   last,shared,eof`.
    let extents: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|line| line.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .map(|line| line.split(':').nth(2).unwrap().trim().to_owned())
        .collect();
    assert!(!extents.is_empty(), "{} has no blocks", path.display());
    extents
}

fn assert_shares_blocks(copy: &Path, original: &Path) {
    assert_eq!(
        physical_extents(copy),
        physical_extents(original),
        "{} is not a clone of {}",
        copy.display(),
        original.display()
    );
}

fn is_readonly(path: &Path) -> bool {
    fs::metadata(path).unwrap().permissions().readonly()
}

#[test]
fn add_and_checkout_clone_instead_of_copying_and_edits_stay_private() {
    let dir = reflink_tempdir();
    let root = dir.path();
    let mut random = Lcg::new(41);
    let weights = random.bytes(3 << 20);
    // Small files take `add`'s batched path, the big one its streaming path.
    let small: Vec<Vec<u8>> = (0..12).map(|_| random.bytes(9_000)).collect();
    let write_images = |images: &[Vec<u8>]| {
        for (i, bytes) in images.iter().enumerate() {
            fs::write(root.join(format!("images/{i}.png")), bytes).unwrap();
        }
    };
    fs::write(root.join("weights.bin"), &weights).unwrap();
    fs::create_dir(root.join("images")).unwrap();
    write_images(&small);
    // `add` hashes a clone's source, in memory, where the source has settled (last
    // changed over a second ago), and reads the clone back where it was just written.
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    write_images(&small[..4]);
    ok(root, &["init", "--hash", "md5"]);
    ok(root, &["add", "weights.bin", "images"]);

    let object = |bytes: &[u8]| root.join(".dvc/cache").join(object_key(&md5_hex(bytes)));
    assert_shares_blocks(&root.join("weights.bin"), &object(&weights));
    for (i, bytes) in small.iter().enumerate() {
        assert_shares_blocks(&root.join(format!("images/{i}.png")), &object(bytes));
    }
    assert!(is_readonly(&object(&weights)));
    assert!(!is_readonly(&root.join("weights.bin")));

    // A clone shares blocks only until written: the edit copies them, the object stays whole.
    let mut edited = weights.clone();
    edited[1 << 20] ^= 0xff;
    fs::write(root.join("weights.bin"), &edited).unwrap();
    assert_ne!(
        physical_extents(&root.join("weights.bin")),
        physical_extents(&object(&weights))
    );
    let changes = harness::json(&ok(root, &["status", "--json"]));
    let change_of = |path: &str| {
        let entry = changes
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == path);
        entry.unwrap()["change"].as_str().unwrap().to_owned()
    };
    assert_eq!(change_of("weights.bin"), "modified");
    assert_eq!(change_of("images"), "clean");
    assert_fsck_clean(root, "after editing a clone");

    fs::remove_dir_all(root.join("images")).unwrap();
    // Without the state database (as in a fresh clone) nothing vouches for the objects, so
    // checkout clones each and re-hashes the clone. Where it would rather copy a vouched
    // object, `copy_file_range` clones on XFS anyway.
    fs::remove_file(root.join(".dvc/tmp/datavc-state.db")).unwrap();
    ok(root, &["checkout", "--force"]);
    assert_eq!(fs::read(root.join("weights.bin")).unwrap(), weights);
    assert_shares_blocks(&root.join("weights.bin"), &object(&weights));
    assert_shares_blocks(&root.join("images/3.png"), &object(&small[3]));
    assert!(!is_readonly(&root.join("weights.bin")));
}

/// A shared cache on another disk cannot hold clones: `add` and `checkout` fall back to
/// copies.
#[test]
fn a_cache_on_another_filesystem_gets_copies() {
    let dir = reflink_tempdir();
    let root = dir.path();
    // The system's temporary folder is not on the loop-mounted reflink filesystem.
    let elsewhere = tempfile::tempdir().unwrap();
    let bytes = Lcg::new(42).bytes(1 << 20);
    fs::write(root.join("weights.bin"), &bytes).unwrap();
    ok(root, &["init", "--hash", "md5"]);
    let config = root.join(".dvc/config");
    let setting = format!("[cache]\n    dir = {}\n", elsewhere.path().display());
    fs::write(&config, setting).unwrap();
    ok(root, &["add", "weights.bin"]);

    let object = elsewhere.path().join(object_key(&md5_hex(&bytes)));
    assert_eq!(fs::read(&object).unwrap(), bytes);
    fs::remove_file(root.join("weights.bin")).unwrap();
    ok(root, &["checkout"]);
    assert_eq!(fs::read(root.join("weights.bin")).unwrap(), bytes);
    assert!(!is_readonly(&root.join("weights.bin")));
    fs::write(root.join("weights.bin"), b"edited").unwrap();
    assert_eq!(fs::read(&object).unwrap(), bytes);
    assert_fsck_clean(root, "after editing a checked-out copy");
}

/// A folder remote on the same filesystem holds clones of the cache's objects after
/// `push`, and the cache clones of the remote's after `pull`, one object at a time (the
/// large file, every blake3 object) or small md5 objects together; a damaged object is
/// still refused on either side, and no temporary file is left behind.
#[test]
fn push_and_pull_clone_between_the_cache_and_a_folder_remote() {
    for hash in ["md5", "blake3"] {
        let dir = reflink_tempdir();
        let (root, remote) = (dir.path().join("repo"), dir.path().join("remote"));
        let cache = root.join(".dvc/cache");
        let files = harness::remote_test_files(43, 3 << 20);
        harness::write_tree(&root, &files);
        ok(&root, &["init", "--hash", hash]);
        ok(&root, &["add", "data", "model.bin"]);
        ok(&root, &["remote", "add", "-d", "store", "../remote"]);
        let pushed = harness::json(&ok(&root, &["push", "--json"]));
        assert_eq!(pushed["transferred"], 7, "{hash}");
        assert_clones_of(&remote, &cache);

        // A damaged cache object is refused, and leaves nothing on the remote.
        let model = object_holding(&cache, &files["model.bin"]).unwrap();
        harness::flip_middle_byte(&cache.join(&model));
        ok(&root, &["remote", "add", "fresh", "../fresh"]);
        let stderr = harness::fails(&root, &["push", "-r", "fresh"], 1);
        assert!(
            stderr.contains("from the cache is corrupt"),
            "{hash}: {stderr}"
        );
        let cached = files_below(&cache);
        let uploaded = files_below(&dir.path().join("fresh"));
        assert!(
            uploaded
                .keys()
                .all(|key| cached.contains_key(key) && *key != model),
            "{hash}: the damaged object or a temporary file is on the remote: {uploaded:?}"
        );

        // A fresh start, as in a new clone: no cache, no state, no data.
        fs::remove_dir_all(&cache).unwrap();
        fs::remove_file(root.join(".dvc/tmp/datavc-state.db")).unwrap();
        fs::remove_dir_all(root.join("data")).unwrap();
        fs::remove_file(root.join("model.bin")).unwrap();
        let big = remote.join(object_holding(&remote, &files["data/big.bin"]).unwrap());
        harness::flip_middle_byte(&big);
        let stderr = harness::fails(&root, &["pull"], 1);
        assert!(
            stderr.contains("remote `store` is corrupt"),
            "{hash}: {stderr}"
        );
        assert_eq!(
            object_holding(&cache, &files["data/big.bin"]),
            None,
            "{hash}"
        );
        fs::write(&big, &files["data/big.bin"]).unwrap();
        ok(&root, &["pull"]);
        harness::assert_restored(&root, &files);
        assert_clones_of(&cache, &remote);
        assert_fsck_clean(&root, "after pulling clones");
    }
}

/// The path below `store` (a cache or a folder remote) of the object holding `bytes`.
fn object_holding(store: &Path, bytes: &[u8]) -> Option<String> {
    let mut objects = files_below(store).into_iter();
    objects
        .find(|(_, path)| fs::read(path).unwrap() == bytes)
        .map(|(relpath, _)| relpath)
}

/// Fails unless every non-empty object in `copies` (a cache or a folder remote) shares its
/// blocks with the object of the same name in `originals`, and `copies` holds nothing else:
/// no temporary files.
fn assert_clones_of(copies: &Path, originals: &Path) {
    let copied = files_below(&copies.join("files"));
    let original = files_below(&originals.join("files"));
    assert_eq!(
        copied.keys().collect::<Vec<_>>(),
        original.keys().collect::<Vec<_>>()
    );
    for (relpath, copy) in &copied {
        if fs::metadata(copy).unwrap().len() > 0 {
            assert_shares_blocks(copy, &original[relpath]);
        }
    }
}
