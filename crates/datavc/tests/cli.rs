//! End-to-end tests of the `datavc` binary on real folders: the add/status/checkout cycle,
//! remotes, gc, remove, fsck, link types, `get` from a data registry, and bad input (clear
//! error, right exit code, no damage).

mod harness;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use datavc::HashAlgo;
use datavc::state::FileKey;

struct Repo {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Repo {
    fn new(hash: &str) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project");
        fs::create_dir(&root).unwrap();
        let repo = Repo { _dir: dir, root };
        repo.ok(&["init", "--hash", hash]);
        repo
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_datavc"))
            .args(args)
            .current_dir(&self.root)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "datavc {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs a command expected to fail with `code`; returns its stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        harness::fails(&self.root, args, code)
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.ok(&args)).unwrap()
    }

    fn write(&self, relpath: &str, bytes: &[u8]) {
        let path = self.root.join(relpath);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    fn read(&self, relpath: &str) -> Vec<u8> {
        fs::read(self.root.join(relpath)).unwrap()
    }

    /// Checks files out as hardlinks into the cache (`cache.type = hardlink`); only the
    /// Unix tests inspect links.
    #[cfg(unix)]
    fn use_hardlinks(&self) {
        fs::write(
            self.root.join(".dvc/config"),
            "[cache]\n    type = hardlink\n",
        )
        .unwrap();
    }

    #[track_caller]
    fn fsck_clean(&self) {
        harness::assert_fsck_clean(&self.root, "in the test repository");
    }
}

fn sample_data(repo: &Repo) {
    repo.write("data/train/a.csv", b"x,y\n1,2\n");
    repo.write("data/train/b.csv", b"x,y\n3,4\n");
    repo.write("data/test/c.csv", &vec![7u8; 300_000]);
    repo.write("weights.safetensors", b"weights v1");
}

#[test]
fn add_writes_pointers_and_gitignore_and_status_is_clean() {
    let repo = Repo::new("blake3");
    sample_data(&repo);
    let tracked = repo.json(&["add", "data", "weights.safetensors"]);
    assert_eq!(tracked[0]["nfiles"], 3);
    assert_eq!(tracked[0]["size"], 8 + 8 + 300_000);
    let pointer = fs::read_to_string(repo.root.join("data.dvc")).unwrap();
    assert!(
        pointer.starts_with("outs:\n- blake3: ")
            && pointer
                .contains(".dir\n  size: 300016\n  nfiles: 3\n  hash: blake3\n  path: data\n"),
        "{pointer}"
    );
    assert_eq!(
        fs::read_to_string(repo.root.join(".gitignore")).unwrap(),
        "/data\n/weights.safetensors\n"
    );
    assert_eq!(repo.ok(&["status"]), "data is up to date\n");
    assert!(repo.run(&["status", "-q"]).status.success());
    repo.fsck_clean();
    repo.write("models/m.bin", b"model");
    let added = repo.ok(&["add", "models/m.bin"]);
    assert!(
        added.ends_with("to record it in git: git add models/m.bin.dvc models/.gitignore\n"),
        "{added}"
    );
}

/// The data is git-ignored before its pointer is written, as DVC orders it: no kill
/// between the two leaves a pointer beside data that `git add` would commit.
#[test]
fn add_ignores_the_data_before_it_writes_the_pointer() {
    let repo = Repo::new("blake3");
    repo.write("weights.safetensors", b"weights");
    fs::create_dir(repo.root.join("weights.safetensors.dvc")).unwrap();
    let refused = repo.fails(&["add", "weights.safetensors"], 1);
    assert!(refused.contains("weights.safetensors.dvc"), "{refused}");
    assert_eq!(repo.read(".gitignore"), b"/weights.safetensors\n");
}

#[test]
fn status_names_changed_files_and_quiet_status_fails() {
    let repo = Repo::new("md5");
    sample_data(&repo);
    repo.ok(&["add", "data", "weights.safetensors"]);
    repo.write("data/train/a.csv", b"x,y\n9,9\n");
    repo.write("data/train/new.csv", b"x\n");
    fs::remove_file(repo.root.join("weights.safetensors")).unwrap();
    let status = repo.json(&["status"]);
    assert_eq!(status[0]["change"], "modified");
    assert_eq!(
        status[0]["files"],
        serde_json::json!({"train/a.csv": "modified", "train/new.csv": "added"})
    );
    assert_eq!(status[1]["change"], "deleted");
    assert_eq!(repo.run(&["status", "-q"]).status.code(), Some(1));
}

#[test]
fn unchanged_files_are_not_rehashed() {
    // The state database keys hashes by inode, mtime and size: a same-size edit with the
    // old mtime restored goes unnoticed, which proves status only stats unchanged files.
    // A tracked file, and a file in a tracked folder.
    let repo = Repo::new("md5");
    repo.write("f.bin", b"aaaa");
    repo.write("data/sub/g.bin", b"aaaa");
    repo.ok(&["add", "f.bin", "data"]);
    for relpath in ["f.bin", "data/sub/g.bin"] {
        let path = repo.root.join(relpath);
        let mtime = fs::metadata(&path).unwrap().modified().unwrap();
        fs::write(&path, b"bbbb").unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert_eq!(repo.ok(&["status"]), "data is up to date\n", "{relpath}");
    }
    fs::write(repo.root.join("data/sub/g.bin"), b"bbbbb").unwrap();
    assert_eq!(repo.json(&["status"])[0]["change"], "modified");
}

#[test]
fn add_stores_again_what_the_cache_lost() {
    // The state database still knows the files, so the second `add` does not hash them:
    // it must still see that their objects are gone and store them.
    let repo = Repo::new("md5");
    sample_data(&repo);
    repo.ok(&["add", "data"]);
    fs::remove_dir_all(repo.root.join(".dvc/cache/files")).unwrap();
    repo.ok(&["add", "data"]);
    fs::remove_dir_all(repo.root.join("data")).unwrap();
    repo.ok(&["checkout"]);
    assert_eq!(repo.read("data/train/a.csv"), b"x,y\n1,2\n");
    repo.fsck_clean();
}

#[test]
fn checkout_refuses_to_lose_unsaved_data_then_forces() {
    let repo = Repo::new("blake3");
    sample_data(&repo);
    repo.ok(&["add", "data"]);
    repo.write("data/train/a.csv", b"precious unsaved edit");
    repo.write("data/train/extra.csv", b"also unsaved");
    let stderr = repo.fails(&["checkout"], 1);
    assert!(
        stderr.contains("would overwrite 2 modified path(s)") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(repo.read("data/train/a.csv"), b"precious unsaved edit");
    let report = repo.json(&["checkout", "--force"]);
    assert_eq!(report["written"], serde_json::json!(["data/train/a.csv"]));
    assert_eq!(
        report["removed"],
        serde_json::json!(["data/train/extra.csv"])
    );
    assert_eq!(repo.read("data/train/a.csv"), b"x,y\n1,2\n");
    assert_eq!(repo.ok(&["status"]), "data is up to date\n");
}

/// After `cache.type` changes, files already right stay as they were until `checkout
/// --relink` places them again, as the new type makes them.
#[cfg(unix)]
#[test]
fn checkout_relink_places_files_already_right_as_the_new_link_type() {
    use std::os::unix::fs::MetadataExt;
    let repo = Repo::new("blake3");
    repo.write("data/a.bin", b"a");
    repo.write("weights.bin", b"w");
    repo.ok(&["add", "data", "weights.bin"]);
    let links = |path: &str| fs::metadata(repo.root.join(path)).unwrap().nlink();
    repo.ok(&["config", "cache.type", "hardlink"]);
    assert_eq!(repo.json(&["checkout"])["unchanged"], 2);
    assert_eq!(links("weights.bin"), 1);
    let relinked = repo.json(&["checkout", "--relink"]);
    assert_eq!(
        relinked["written"],
        serde_json::json!(["data/a.bin", "weights.bin"])
    );
    assert_eq!((links("data/a.bin"), links("weights.bin")), (2, 2));
    repo.ok(&["config", "cache.type", "symlink"]);
    repo.ok(&["checkout", "--relink", "weights.bin"]);
    let kind = |path: &str| {
        fs::symlink_metadata(repo.root.join(path))
            .unwrap()
            .file_type()
    };
    assert!(kind("weights.bin").is_symlink() && !kind("data/a.bin").is_symlink());
    assert_eq!(repo.read("weights.bin"), b"w");
    assert_eq!(repo.ok(&["status"]), "data is up to date\n");
    repo.fsck_clean();

    // Copies again; what the cache then drops, being on the remote, is left as it is.
    repo.ok(&["config", "cache.type", "copy"]);
    repo.ok(&["checkout", "--relink"]);
    repo.ok(&["remote", "add", "-d", "store", "../remote"]);
    repo.ok(&["push"]);
    let dropped = repo.json(&["gc", "--not-in-remote", "--force"]);
    assert_eq!(dropped["unused"].as_array().unwrap().len(), 3, "{dropped}");
    assert_eq!(repo.json(&["checkout", "--relink"])["unchanged"], 2);
    // Nothing is lost: push finds it all on the remote, and pull brings it back.
    let pushed = repo.json(&["push"]);
    let counts = (pushed["transferred"].as_u64(), pushed["skipped"].as_u64());
    assert_eq!(counts, (Some(0), Some(2)), "{pushed}");
    assert_eq!(repo.json(&["pull"])["fetch"]["transferred"], 3);
    assert_eq!(repo.ok(&["status"]), "data is up to date\n");
    assert_eq!(
        (repo.read("data/a.bin"), repo.read("weights.bin")),
        (b"a".to_vec(), b"w".to_vec())
    );
}

#[test]
fn checkout_of_an_older_pointer_restores_the_older_bytes() {
    let repo = Repo::new("md5");
    sample_data(&repo);
    repo.ok(&["add", "data", "weights.safetensors"]);
    let v1 = fs::read_to_string(repo.root.join("weights.safetensors.dvc")).unwrap();
    repo.write("weights.safetensors", b"weights v2");
    let committed = repo.json(&["commit"]);
    assert_eq!(committed[1]["changed"], true);
    fs::write(repo.root.join("weights.safetensors.dvc"), v1).unwrap();
    repo.ok(&["checkout", "weights.safetensors"]);
    assert_eq!(repo.read("weights.safetensors"), b"weights v1");
}

/// With `-R`, a folder stands for the outputs whose pointer files lie below it, as in DVC;
/// without it, a folder that is no output is no target.
#[test]
fn recursive_targets_stand_for_the_outputs_below_a_folder() {
    let repo = Repo::new("blake3");
    repo.write("data/a.bin", b"a");
    repo.write("data/x/b.bin", b"b");
    repo.write("other.bin", b"o");
    repo.ok(&["add", "data/a.bin", "data/x/b.bin", "other.bin"]);
    repo.ok(&["remote", "add", "-d", "store", "../remote"]);
    assert_eq!(repo.json(&["push", "-R", "data/x"])["transferred"], 1);
    assert_eq!(
        repo.json(&["push", "--recursive", "data"])["transferred"],
        1
    );
    fs::remove_file(repo.root.join("data/a.bin")).unwrap();
    fs::remove_file(repo.root.join("other.bin")).unwrap();
    let status = repo.json(&["status", "-R", "data"]);
    let paths: Vec<&str> = (status.as_array().unwrap().iter())
        .map(|output| output["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["data/a.bin", "data/x/b.bin"], "{status}");
    let checked_out = repo.json(&["checkout", "-R", "data"]);
    assert_eq!(checked_out["written"], serde_json::json!(["data/a.bin"]));
    assert!(!repo.root.join("other.bin").exists());
    let refused = repo.fails(&["status", "data"], 2);
    assert!(refused.contains("is not tracked"), "{refused}");

    // A pipeline with no outputs yet is passed over; `commit -R` records the outputs
    // below and leaves pipelines to DVC.
    repo.write("data/dvc.yaml", b"stages: {}\n");
    repo.write("data/a.bin", b"a2");
    repo.write("other.bin", b"o2");
    assert_eq!(
        repo.json(&["status", "-R", "data"])[0]["change"],
        "modified"
    );
    let committed = repo.json(&["commit", "-R", "data"]);
    let changed: Vec<&str> = (committed.as_array().unwrap().iter())
        .filter(|output| output["changed"] == true)
        .map(|output| output["path"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["data/a.bin"], "{committed}");
    assert_eq!(repo.json(&["status", "other.bin"])[0]["change"], "modified");
}

#[test]
fn push_and_pull_move_only_missing_objects() {
    let repo = Repo::new("md5");
    sample_data(&repo);
    repo.ok(&["add", "data", "weights.safetensors"]);
    repo.ok(&["remote", "add", "-d", "store", "../remote"]);
    assert!(
        fs::read_to_string(repo.root.join(".dvc/config"))
            .unwrap()
            .contains("url = ../../remote")
    );
    let pushed = repo.json(&["push"]);
    assert_eq!(
        (pushed["transferred"].as_u64(), pushed["skipped"].as_u64()),
        (Some(5), Some(0))
    );
    assert_eq!(repo.json(&["push"])["transferred"], 0);
    assert_eq!(repo.json(&["status", "--cloud"]), serde_json::json!([]));

    let clone = clone_pointers(&repo);
    let pulled = clone.json(&["pull"]);
    assert_eq!(pulled["fetch"]["transferred"], 5);
    assert_eq!(pulled["fetch"]["skipped"], 0);
    for path in ["data/train/a.csv", "data/test/c.csv", "weights.safetensors"] {
        assert_eq!(clone.read(path), repo.read(path), "{path}");
    }
    assert_eq!(clone.json(&["pull"])["fetch"]["transferred"], 0);
    repo.write("late.bin", b"not pushed");
    repo.ok(&["add", "late.bin"]);
    let cloud = repo.json(&["status", "--cloud"]);
    assert_eq!(
        cloud,
        serde_json::json!([{"path": "late.bin", "oid": cloud[0]["oid"], "state": "new"}])
    );
}

/// A second checkout of the project: its pointers and config, no cache, no data.
fn clone_pointers(repo: &Repo) -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    fs::create_dir_all(root.join(".dvc")).unwrap();
    for name in [
        ".dvc/config",
        ".dvc/datavc.toml",
        "data.dvc",
        "weights.safetensors.dvc",
    ] {
        if repo.root.join(name).exists() {
            fs::copy(repo.root.join(name), root.join(name)).unwrap();
        }
    }
    // The remote path is relative to .dvc/: keep the same depth.
    let remote = repo.root.parent().unwrap().join("remote");
    let clone = Repo { _dir: dir, root };
    clone.ok(&["remote", "modify", "store", "url", remote.to_str().unwrap()]);
    clone
}

#[test]
fn gc_lists_before_it_deletes_and_keeps_what_pointers_need() {
    let repo = Repo::new("md5");
    repo.write("model.bin", b"v1");
    repo.ok(&["add", "model.bin"]);
    repo.write("model.bin", b"v2");
    repo.ok(&["add", "model.bin"]);
    let dry = repo.json(&["gc"]);
    let v1 = "6654c734ccab8f440ff0825eb443dc7f";
    assert_eq!(dry["unused"], serde_json::json!([v1]));
    assert_eq!(dry["deleted"], false);
    assert!(
        repo.root
            .join(".dvc/cache/files/md5/66/54c734ccab8f440ff0825eb443dc7f")
            .is_file()
    );
    let done = repo.json(&["gc", "--force"]);
    assert_eq!(
        (done["deleted"].as_bool(), done["kept"].as_u64()),
        (Some(true), Some(1))
    );
    assert!(
        !repo
            .root
            .join(".dvc/cache/files/md5/66/54c734ccab8f440ff0825eb443dc7f")
            .exists()
    );
    assert_eq!(repo.ok(&["status"]), "data is up to date\n");
}

#[test]
fn gc_all_commits_keeps_what_git_history_references() {
    let repo = Repo::new("md5");
    let git = |args: &[&str]| harness::git(&repo.root, args);
    git(&["init", "-q"]);
    repo.write("model.bin", b"v1");
    repo.ok(&["add", "model.bin"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "v1"]);
    repo.write("model.bin", b"v2");
    repo.ok(&["add", "model.bin"]);
    assert_eq!(
        repo.json(&["gc", "--all-commits"])["unused"],
        serde_json::json!([])
    );
    assert_eq!(repo.json(&["gc"])["unused"].as_array().unwrap().len(), 1);
    let diff = repo.json(&["diff"]);
    assert_eq!(diff["modified"][0]["path"], "model.bin");

    // A commit whose pointer cannot be read stops gc over all commits before it deletes
    // anything, unless --skip-failed, which names it.
    let good = fs::read(repo.root.join("model.bin.dvc")).unwrap();
    repo.write("model.bin.dvc", b"outs: [unclosed");
    git(&["commit", "-qam", "broken"]);
    fs::write(repo.root.join("model.bin.dvc"), good).unwrap();
    git(&["commit", "-qam", "v2"]);
    let refused = repo.fails(&["gc", "-A", "--force"], 2);
    assert!(refused.contains("in revision"), "{refused}");
    let skipping = repo.json(&["gc", "-A", "--skip-failed"]);
    let skipped = skipping["skipped_revisions"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipping}");
    assert_eq!(skipping["unused"], serde_json::json!([]), "{skipping}");
}

/// Two projects share one cache: `gc` in one would delete what only the other
/// references, unless `-p` names the other, as DVC's `gc -p`.
#[test]
fn gc_keeps_what_the_projects_sharing_the_cache_reference() {
    let (a, b) = (Repo::new("md5"), Repo::new("md5"));
    let shared = a.root.with_file_name("shared-cache");
    for (project, name) in [(&a, "a.bin"), (&b, "b.bin")] {
        project.ok(&["config", "cache.dir", shared.to_str().unwrap()]);
        project.write(name, name.as_bytes());
        project.ok(&["add", name]);
    }
    let only_b = harness::md5_hex(b"b.bin");
    assert_eq!(a.json(&["gc"])["unused"], serde_json::json!([only_b]));
    let b_root = b.root.to_str().unwrap();
    let kept = a.json(&["gc", "-p", b_root, "--force"]);
    assert_eq!(kept["unused"], serde_json::json!([]), "{kept}");
    fs::remove_file(b.root.join("b.bin")).unwrap();
    b.ok(&["checkout"]);
    assert_eq!(b.read("b.bin"), b"b.bin");
    let refused = a.fails(&["gc", "-p", shared.to_str().unwrap()], 2);
    assert!(refused.contains("not a datavc repository"), "{refused}");
}

#[test]
fn gc_takes_dvcs_flags_and_refuses_contradictions() {
    let repo = Repo::new("md5");
    repo.write("model.bin", b"v1");
    repo.ok(&["add", "model.bin"]);
    repo.write("model.bin", b"v2");
    repo.ok(&["add", "model.bin"]);
    // DVC asks for one of these; here the workspace is always kept, and nothing goes
    // without --force.
    let dry = repo.json(&["gc", "-w", "--dry"]);
    assert_eq!(
        (dry["deleted"].as_bool(), dry["kept"].as_u64()),
        (Some(false), Some(1))
    );
    assert_eq!(dry["unused"].as_array().unwrap().len(), 1, "{dry}");
    for (args, says) in [
        (&["gc", "-n", "2"][..], "--rev"),
        (&["gc", "--date", "2024-02-30"], "YYYY-MM-DD"),
        (&["gc", "--dry", "--force"], "--dry"),
        (&["gc", "-r", "store"], "--cloud"),
        (&["gc", "--cloud", "--not-in-remote"], "--not-in-remote"),
    ] {
        let stderr = repo.fails(args, 2);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn fsck_and_checkout_catch_a_corrupt_object() {
    let repo = Repo::new("blake3");
    repo.write("model.bin", b"good weights");
    let oid = repo.json(&["add", "model.bin"])[0]["oid"]
        .as_str()
        .unwrap()
        .to_owned();
    let object = repo.root.join(format!(
        ".dvc/cache/files/blake3/{}/{}",
        &oid[..2],
        &oid[2..]
    ));
    harness::make_writable(&object);
    fs::write(&object, b"bit rot").unwrap();
    let report = repo.run(&["fsck", "--json"]);
    assert_eq!(report.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["corrupt"][0]["oid"], oid);
    fs::remove_file(repo.root.join("model.bin")).unwrap();
    let stderr = repo.fails(&["checkout"], 1);
    assert!(
        stderr.contains("is corrupt") && stderr.contains("datavc fsck"),
        "{stderr}"
    );
    assert!(
        !repo.root.join("model.bin").exists(),
        "a corrupt object is never checked out"
    );
}

/// How a cache object is damaged after `add` verified it: always in place, same size.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// Rewritten: its modification time moves on.
    Rewritten,
    /// Rewritten, then its modification time and permissions set back as they were.
    RewrittenAndCovered,
}

/// `push` and `checkout` trust a cache object without hashing it only while nothing has
/// touched it since datavc wrote it; a damaged object is refused, whichever way it was
/// damaged and whichever path (one request or parts above 16 MiB, a small or a pipelined
/// copy above 8 MiB) it takes.
#[test]
fn push_and_checkout_refuse_an_object_damaged_after_it_was_cached() {
    for (size, damage) in [
        (100_000, Damage::Rewritten),
        (100_000, Damage::RewrittenAndCovered),
        (17 << 20, Damage::Rewritten),
        (17 << 20, Damage::RewrittenAndCovered),
    ] {
        let repo = Repo::new("md5");
        let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        repo.write("weights.safetensors", &bytes);
        let oid = repo.json(&["add", "weights.safetensors"])[0]["oid"]
            .as_str()
            .unwrap()
            .to_owned();
        let object_key = format!("files/md5/{}/{}", &oid[..2], &oid[2..]);
        // A push first, as a user would: the object is trusted, and uploads fine.
        repo.ok(&["remote", "add", "-d", "store", "../remote"]);
        assert_eq!(repo.json(&["push"])["transferred"], 1);

        let object = repo.root.join(".dvc/cache").join(&object_key);
        let before = fs::metadata(&object).unwrap();
        harness::make_writable(&object);
        // Make sure the clock has moved past the object's timestamps.
        std::thread::sleep(std::time::Duration::from_millis(20));
        {
            use std::io::{Seek, Write};
            let mut file = fs::OpenOptions::new().write(true).open(&object).unwrap();
            file.seek(std::io::SeekFrom::Start(size as u64 / 2))
                .unwrap();
            file.write_all(b"bit rot").unwrap();
            if let Damage::RewrittenAndCovered = damage {
                file.set_modified(before.modified().unwrap()).unwrap();
            }
        }
        if let Damage::RewrittenAndCovered = damage {
            fs::set_permissions(&object, before.permissions()).unwrap();
        }
        let after = fs::metadata(&object).unwrap();
        assert_eq!(after.len(), before.len(), "{damage:?}");
        if let Damage::RewrittenAndCovered = damage {
            assert_eq!(after.modified().unwrap(), before.modified().unwrap());
        }

        repo.ok(&["remote", "add", "fresh", "../fresh"]);
        let stderr = repo.fails(&["push", "-r", "fresh"], 1);
        assert!(
            stderr.contains(&format!("object {oid} from the cache is corrupt")),
            "{size} {damage:?}: {stderr}"
        );
        let fresh = repo.root.parent().unwrap().join("fresh");
        assert!(
            !fresh.join(&object_key).exists(),
            "{size} {damage:?}: a damaged object was uploaded under its hash"
        );
        fs::remove_file(repo.root.join("weights.safetensors")).unwrap();
        let stderr = repo.fails(&["checkout"], 1);
        assert!(stderr.contains("is corrupt"), "{size} {damage:?}: {stderr}");
        assert!(!repo.root.join("weights.safetensors").exists());
    }
}

/// The other side of the above: an untouched object pushes (unhashed) and arrives whole.
#[test]
fn pushed_objects_arrive_whole_in_a_clone() {
    let repo = Repo::new("md5");
    let big: Vec<u8> = (0..17u32 << 20).map(|i| (i % 253) as u8).collect();
    repo.write("weights.safetensors", &big);
    repo.write("data/a.bin", &vec![1u8; 100_000]);
    repo.write("data/b.bin", b"small");
    repo.ok(&["add", "data", "weights.safetensors"]);
    repo.ok(&["remote", "add", "-d", "store", "../remote"]);
    assert_eq!(repo.json(&["push"])["transferred"], 4);
    let clone = clone_pointers(&repo);
    assert_eq!(clone.json(&["pull"])["fetch"]["transferred"], 4);
    clone.fsck_clean();
    for path in ["weights.safetensors", "data/a.bin", "data/b.bin"] {
        assert_eq!(clone.read(path), repo.read(path), "{path}");
    }
    // What the clone fetched was verified on arrival: it pushes on, to a fresh remote.
    clone.ok(&["remote", "add", "fresh", "../fresh"]);
    assert_eq!(clone.json(&["push", "-r", "fresh"])["transferred"], 4);
}

/// Objects are verified as they arrive, whether they come alone (a large file) or small
/// ones together (md5 from a folder remote): a damaged one never enters the cache.
#[test]
fn pull_refuses_objects_damaged_on_the_remote() {
    let repo = Repo::new("md5");
    let big: Vec<u8> = (0..2u32 << 20).map(|i| (i % 251) as u8).collect();
    repo.write("weights.safetensors", &big);
    for name in ["a", "b", "c", "d"] {
        repo.write(&format!("data/{name}.bin"), name.repeat(50_000).as_bytes());
    }
    repo.ok(&["add", "data", "weights.safetensors"]);
    repo.ok(&["remote", "add", "-d", "store", "../remote"]);
    assert_eq!(repo.json(&["push"])["transferred"], 6);
    for damaged in [repo.read("data/c.bin"), big] {
        let oid = harness::md5_hex(&damaged);
        let key = harness::object_key(&oid);
        let object = repo.root.join("../remote").join(&key);
        harness::flip_middle_byte(&object);

        let clone = clone_pointers(&repo);
        let stderr = clone.fails(&["pull"], 1);
        assert!(
            stderr.contains(&format!("object {oid} from remote `store` is corrupt")),
            "{stderr}"
        );
        let cached = clone.root.join(".dvc/cache").join(&key);
        assert!(!cached.exists(), "a damaged object entered the cache");
        clone.fsck_clean();

        fs::write(&object, &damaged).unwrap();
        clone.ok(&["pull"]);
        assert!(
            cached.exists(),
            "the mended object is where the check looked"
        );
        clone.fsck_clean();
        assert_eq!(clone.read("data/c.bin"), repo.read("data/c.bin"));
        assert_eq!(
            clone.read("weights.safetensors"),
            repo.read("weights.safetensors")
        );
    }
}

#[cfg(unix)]
#[test]
fn hardlinks_share_the_cache_until_unprotected() {
    use std::os::unix::fs::MetadataExt;
    let repo = Repo::new("md5");
    repo.use_hardlinks();
    repo.write("big.bin", b"linked bytes");
    let oid = repo.json(&["add", "big.bin"])[0]["oid"]
        .as_str()
        .unwrap()
        .to_owned();
    let object = repo
        .root
        .join(format!(".dvc/cache/files/md5/{}/{}", &oid[..2], &oid[2..]));
    let inode = |path: &std::path::Path| fs::metadata(path).unwrap().ino();
    assert_eq!(inode(&repo.root.join("big.bin")), inode(&object));
    assert!(
        fs::metadata(repo.root.join("big.bin"))
            .unwrap()
            .permissions()
            .readonly()
    );
    repo.ok(&["unprotect", "big.bin"]);
    assert_ne!(inode(&repo.root.join("big.bin")), inode(&object));
    fs::write(repo.root.join("big.bin"), b"edited").unwrap();
    assert_eq!(fs::read(&object).unwrap(), b"linked bytes");
}

/// `remove` stops tracking but keeps the data: hardlinks into the cache become copies, so
/// the `gc` that follows deletes cache objects without touching the workspace.
#[cfg(unix)]
#[test]
fn remove_untracks_and_leaves_the_data_as_plain_files_gc_cannot_touch() {
    use std::os::unix::fs::MetadataExt;
    let repo = Repo::new("md5");
    repo.use_hardlinks();
    sample_data(&repo);
    fs::write(repo.root.join(".gitignore"), "target/\n").unwrap();
    repo.ok(&["add", "data", "weights.safetensors"]);
    assert_eq!(repo.run(&["remove", "missing.bin"]).status.code(), Some(2));

    let removed = repo.json(&["remove", "data.dvc"]);
    let expected = serde_json::json!([
        {"pointer": "data.dvc", "outputs": ["data"], "gitignores": [".gitignore"], "deleted": false}
    ]);
    assert_eq!(removed, expected);
    assert!(!repo.root.join("data.dvc").exists());
    assert_eq!(
        fs::read_to_string(repo.root.join(".gitignore")).unwrap(),
        "target/\n/weights.safetensors\n"
    );
    let gc = repo.json(&["gc", "--force"]);
    assert_eq!(gc["unused"].as_array().unwrap().len(), 4, "{gc}");
    assert_eq!(repo.read("data/train/a.csv"), b"x,y\n1,2\n");
    assert_eq!(repo.read("data/test/c.csv"), vec![7u8; 300_000]);
    let a = fs::metadata(repo.root.join("data/train/a.csv")).unwrap();
    assert_eq!(a.nlink(), 1, "still linked into the cache");
    assert!(!a.permissions().readonly());

    let text = repo.ok(&["remove", "weights.safetensors"]);
    assert!(
        text.ends_with("git add weights.safetensors.dvc .gitignore\n"),
        "{text}"
    );
    assert_eq!(
        fs::read_to_string(repo.root.join(".gitignore")).unwrap(),
        "target/\n"
    );
    assert_eq!(repo.json(&["status"]), serde_json::json!([]));
    assert_eq!(repo.read("weights.safetensors"), b"weights v1");
}

#[test]
fn bad_input_is_a_clear_error_and_changes_nothing() {
    let repo = Repo::new("md5");
    repo.write("model.bin", b"v1");
    repo.ok(&["add", "model.bin"]);

    let outside = repo.root.parent().unwrap().join("outside.bin");
    fs::write(&outside, b"x").unwrap();
    assert!(
        repo.fails(&["add", outside.to_str().unwrap()], 2)
            .contains("is outside the repository")
    );
    assert!(
        repo.fails(&["add", "missing.bin"], 2)
            .contains("does not exist")
    );
    assert!(
        repo.fails(&["add", ".dvc/config"], 2)
            .contains("inside .dvc")
    );
    assert!(repo.fails(&["push"], 2).contains("hint: pass `-r NAME`"));
    assert!(
        repo.fails(&["push", "-r", "nope"], 2)
            .contains("no remote named `nope`")
    );

    fs::write(repo.root.join("broken.dvc"), "outs: [\n").unwrap();
    let stderr = repo.fails(&["status"], 2);
    assert!(
        stderr.contains("broken.dvc is not a valid DVC file"),
        "{stderr}"
    );
    fs::write(
        repo.root.join("broken.dvc"),
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  hash: md5\n  path: ghost\n",
    )
    .unwrap();
    let stderr = repo.fails(&["checkout"], 1);
    assert!(
        stderr.contains("missing from the cache") && stderr.contains("datavc fetch"),
        "{stderr}"
    );
    fs::remove_file(repo.root.join("broken.dvc")).unwrap();

    fs::write(repo.root.join("remote-file"), b"not a folder").unwrap();
    repo.ok(&["remote", "add", "bad", "../project/remote-file"]);
    let stderr = repo.fails(&["push", "-r", "bad"], 1);
    assert!(stderr.contains("remote-file"), "{stderr}");
    let stderr = repo.fails(&["remote", "add", "bad", "../elsewhere"], 2);
    assert!(stderr.contains("remote add --force bad"), "{stderr}");
    repo.ok(&["remote", "add", "--force", "bad", "../elsewhere"]);
    let listed = repo.ok(&["remote", "list"]);
    assert!(
        listed
            .lines()
            .any(|line| line.starts_with("bad\t") && line.ends_with("/elsewhere")),
        "--force did not replace the URL:\n{listed}"
    );

    let elsewhere = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_datavc"))
        .arg("status")
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("hint: run `datavc init`"));

    assert_eq!(repo.read("model.bin"), b"v1");
    assert_eq!(repo.ok(&["status"]), "data is up to date\n");
    repo.fsck_clean();
}

#[cfg(unix)]
#[test]
fn a_full_disk_leaves_no_partial_object() {
    let repo = Repo::new("md5");
    repo.write("big.bin", &vec![1u8; 1 << 20]);
    let stderr = run_with_file_size_limit(&repo, "add big.bin");
    assert!(
        stderr.contains("big.bin") || stderr.contains("cache"),
        "{stderr}"
    );
    assert!(!repo.root.join("big.bin.dvc").exists());
    assert_eq!(repo.json(&["fsck"])["checked"], 0);
    let staging = repo.root.join(".dvc/cache/.datavc-staging");
    assert!(
        fs::read_dir(&staging).map_or(true, |mut d| d.next().is_none()),
        "staging is empty"
    );
    assert_eq!(repo.read("big.bin").len(), 1 << 20);
}

/// A checkout that runs out of space names the workspace file it could not write, and
/// leaves neither it nor a partial copy behind.
#[cfg(unix)]
#[test]
fn a_full_disk_during_checkout_names_the_file_and_leaves_no_partial_copy() {
    let repo = Repo::new("md5");
    repo.write("big.bin", &vec![7u8; 1 << 20]);
    repo.ok(&["add", "big.bin"]);
    fs::remove_file(repo.root.join("big.bin")).unwrap();
    let stderr = run_with_file_size_limit(&repo, "checkout");
    assert!(
        stderr.contains("cannot write") && stderr.contains("big.bin"),
        "{stderr}"
    );
    let left: Vec<_> = fs::read_dir(&repo.root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("big.bin") && !name.ends_with(".dvc"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    repo.ok(&["checkout"]);
    assert_eq!(repo.read("big.bin"), vec![7u8; 1 << 20]);
}

/// Runs `datavc COMMAND` with writes past 64 KiB failing (EFBIG, as a full disk would fail
/// them); fails the test unless it exits 1, and returns its stderr.
#[cfg(unix)]
fn run_with_file_size_limit(repo: &Repo, command: &str) -> String {
    let script = format!(
        "trap '' XFSZ; ulimit -f 64; exec '{}' {command}",
        env!("CARGO_BIN_EXE_datavc")
    );
    // The limit would also truncate a coverage profile (under cargo llvm-cov), which then
    // spoils the merge of all of them: this one goes beside the test data.
    let profile = repo.root.with_file_name("full-disk-%p.profraw");
    let output = Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("LLVM_PROFILE_FILE", profile)
        .current_dir(&repo.root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    stderr
}

#[test]
fn durable_mode_flushes_and_still_round_trips() {
    let repo = Repo::new("md5");
    let settings = repo.root.join(".dvc/datavc.toml");
    let text = fs::read_to_string(&settings)
        .unwrap()
        .replace("durable = false", "durable = true");
    fs::write(&settings, text).unwrap();
    sample_data(&repo);
    repo.ok(&["add", "data", "weights.safetensors"]);
    repo.ok(&["remote", "add", "-d", "store", "../remote"]);
    assert_eq!(repo.json(&["push"])["transferred"], 5);
    let clone = clone_pointers(&repo);
    fs::copy(&settings, clone.root.join(".dvc/datavc.toml")).unwrap();
    clone.ok(&["pull"]);
    assert_eq!(clone.read("data/test/c.csv"), repo.read("data/test/c.csv"));
}

#[test]
fn ls_lists_outputs_and_with_files_their_contents() {
    let repo = Repo::new("md5");
    sample_data(&repo);
    repo.ok(&["add", "data", "weights.safetensors"]);
    let listed = repo.json(&["ls"]);
    let paths: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["data", "weights.safetensors"]);
    assert_eq!(
        (listed[0]["nfiles"].as_u64(), listed[0]["cached"].as_bool()),
        (Some(3), Some(true))
    );
    let files = repo.json(&["ls", "--files"]);
    let paths: Vec<&str> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "data",
            "data/test/c.csv",
            "data/train/a.csv",
            "data/train/b.csv",
            "weights.safetensors"
        ]
    );
    assert_eq!(files[1]["size"], 300_000);
    fs::remove_dir_all(repo.root.join(".dvc/cache")).unwrap();
    assert_eq!(repo.json(&["ls"])[1]["cached"], false);
}

/// A git clone of `repo` beside it, named `name`: pointers and config, no cache.
fn git_clone(repo: &Repo, name: &str) -> Repo {
    let root = repo.root.with_file_name(name);
    let (from, to) = (repo.root.to_str().unwrap(), root.to_str().unwrap());
    harness::git(repo.root.parent().unwrap(), &["clone", "-q", from, to]);
    Repo {
        _dir: tempfile::tempdir().unwrap(),
        root,
    }
}

#[test]
fn diff_of_folders_fetches_their_manifests_or_says_why_it_cannot() {
    let repo = Repo::new("md5");
    let remote = repo.root.with_file_name("remote");
    harness::git(&repo.root, &["init", "-q"]);
    repo.ok(&["remote", "add", "-d", "store", remote.to_str().unwrap()]);
    repo.write("data/x", b"x");
    repo.write("data/y", b"y1");
    repo.ok(&["add", "data"]);
    repo.ok(&["push"]);
    harness::git(&repo.root, &["add", "-A"]);
    harness::git(&repo.root, &["commit", "-qm", "v1"]);
    repo.write("data/y", b"y2");
    repo.write("data/z", b"z");
    repo.ok(&["add", "data"]);
    repo.ok(&["push"]);
    harness::git(&repo.root, &["add", "-A"]);
    harness::git(&repo.root, &["commit", "-qm", "v2"]);

    // A clone's cache is empty; diff fetches both manifests from the default remote.
    let clone = git_clone(&repo, "clone");
    let diff = clone.json(&["diff", "HEAD~1", "HEAD"]);
    let paths = |kind: &str| -> Vec<String> {
        (diff[kind].as_array().unwrap().iter())
            .map(|entry| entry["path"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(paths("modified"), ["data/", "data/y"], "{diff}");
    assert_eq!(paths("added"), ["data/z"], "{diff}");
    assert!(diff.get("unexpanded").is_none(), "{diff}");

    // Without a remote the folder is compared whole, and the report says why.
    let offline = git_clone(&repo, "offline");
    offline.ok(&["remote", "remove", "store"]);
    let diff = offline.json(&["diff", "HEAD~1", "HEAD"]);
    assert_eq!(
        diff["modified"],
        serde_json::json!([{"path": "data/"}]),
        "{diff}"
    );
    let reason = diff["unexpanded"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("no default remote"), "{diff}");
    let output = offline.run(&["diff", "HEAD~1", "HEAD"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(stdout, "Modified:\n    data/\n\n", "{stderr}");
    assert!(
        stderr.contains("note: data/ is reported as a whole: its manifest is not in the cache"),
        "{stderr}"
    );

    // With a remote that lacks the old manifest, the note names the remote.
    let shown = Command::new("git")
        .args(["show", "HEAD~1:data.dvc"])
        .current_dir(&repo.root)
        .output()
        .unwrap();
    let old_pointer = String::from_utf8(shown.stdout).unwrap();
    let old_manifest = old_pointer
        .lines()
        .find_map(|line| line.trim_start_matches("- ").strip_prefix("md5: "))
        .unwrap_or_else(|| panic!("no md5 in {old_pointer}"))
        .trim()
        .to_owned();
    let stale = git_clone(&repo, "stale");
    let object = remote.join(format!(
        "files/md5/{}/{}",
        &old_manifest[..2],
        &old_manifest[2..]
    ));
    fs::remove_file(&object).unwrap();
    let diff = stale.json(&["diff", "HEAD~1", "HEAD"]);
    // The new side's files are not compared with an old side that cannot be listed.
    assert_eq!(
        diff["modified"],
        serde_json::json!([{"path": "data/"}]),
        "{diff}"
    );
    assert_eq!(diff["added"], serde_json::json!([]), "{diff}");
    assert_eq!(diff["unexpanded"][0]["path"], "data/", "{diff}");
    let reason = diff["unexpanded"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("remote `store`"), "{diff}");
}

/// As in DVC, a repository without commits has no differences; an unknown revision and
/// an untracked target are named.
#[test]
fn diff_names_what_it_cannot_compare() {
    let repo = Repo::new("md5");
    harness::git(&repo.root, &["init", "-q"]);
    repo.write("model.bin", b"v1");
    repo.ok(&["add", "model.bin"]);
    assert_eq!(repo.json(&["diff"]), serde_json::json!({}));
    assert_eq!(repo.ok(&["diff"]), "");
    harness::git(&repo.root, &["add", "-A"]);
    harness::git(&repo.root, &["commit", "-qm", "v1"]);
    let stderr = repo.fails(&["diff", "nosuch"], 1);
    assert!(stderr.contains("unknown git revision `nosuch`"), "{stderr}");
    let stderr = repo.fails(&["diff", "--targets", "other.bin"], 2);
    assert!(stderr.contains("other.bin is not tracked"), "{stderr}");
    repo.write("model.bin", b"v2");
    let table = repo.ok(&["diff", "--md", "--targets", "model.bin"]);
    let expected =
        "| Status   | Path      |\n|----------|-----------|\n| modified | model.bin |\n\n";
    assert_eq!(table, expected);

    // A pointer broken in a commit is named with the commit, and no hint offers to
    // overwrite the workspace's good copy with it.
    let good = fs::read(repo.root.join("model.bin.dvc")).unwrap();
    repo.write("model.bin.dvc", b"outs: [");
    harness::git(&repo.root, &["commit", "-qam", "broken"]);
    repo.write("model.bin.dvc", &good);
    let stderr = repo.fails(&["diff", "HEAD"], 2);
    assert!(stderr.contains("in revision `HEAD`: "), "{stderr}");
    assert!(stderr.contains("is not a valid DVC file"), "{stderr}");
    assert!(!stderr.contains("git checkout"), "{stderr}");
}

/// A stage output `dvc.lock` has no hash for (the stage never ran, or its lock was not
/// committed) cannot be restored: as in DVC, `status` shows it, and `checkout` restores
/// everything else and then fails naming it.
#[test]
fn a_stage_output_without_a_lock_entry_is_named() {
    let repo = Repo::new("md5");
    repo.write("model.bin", b"weights");
    repo.ok(&["add", "model.bin"]);
    let stage = "stages:\n  gen:\n    cmd: echo o > out.txt\n    outs:\n    - out.txt\n    - log.txt:\n        cache: false\n";
    repo.write("dvc.yaml", stage.as_bytes());
    let status = repo.json(&["status"]);
    // Outputs kept out of the cache count too, as in DVC's status.
    let expected = serde_json::json!([
        {"pointer": "model.bin.dvc", "path": "model.bin", "change": "clean"},
        {"pointer": "dvc.yaml", "path": "log.txt", "change": "unrecorded"},
        {"pointer": "dvc.yaml", "path": "out.txt", "change": "unrecorded"},
    ]);
    assert_eq!(status, expected);
    assert_eq!(repo.ok(&["status", "out.txt"]), " not recorded: out.txt\n");
    assert_eq!(repo.ok(&["status", "log.txt"]), " not recorded: log.txt\n");
    // Nothing can restore it, and nothing needs to: checkout leaves it alone.
    repo.ok(&["checkout", "log.txt"]);
    fs::remove_file(repo.root.join("model.bin")).unwrap();
    let stderr = repo.fails(&["checkout"], 1);
    assert!(
        stderr
            .contains("1 pipeline output(s) have no hash in dvc.lock, first out.txt (stage `gen`)"),
        "{stderr}"
    );
    assert!(stderr.contains("`dvc repro gen`"), "{stderr}");
    assert_eq!(repo.read("model.bin"), b"weights");
    for target in ["out.txt", "gen", "dvc.yaml:gen", "dvc.yaml"] {
        let stderr = repo.fails(&["checkout", target], 1);
        assert!(
            stderr.contains("first out.txt (stage `gen`)"),
            "{target}: {stderr}"
        );
    }
    repo.ok(&["checkout", "model.bin"]);
    // `dvc repro` takes a stage of another folder's dvc.yaml by its file.
    repo.write(
        "sub/dvc.yaml",
        b"stages:\n  s:\n    cmd: x\n    outs:\n    - o.txt\n",
    );
    let stderr = repo.fails(&["checkout", "sub/o.txt"], 1);
    assert!(stderr.contains("`dvc repro sub/dvc.yaml:s`"), "{stderr}");
    fs::remove_dir_all(repo.root.join("sub")).unwrap();
    let remote = repo.root.with_file_name("remote");
    repo.ok(&["remote", "add", "-d", "store", remote.to_str().unwrap()]);
    repo.ok(&["push"]);
    let stderr = repo.fails(&["pull"], 1);
    assert!(stderr.contains("first out.txt (stage `gen`)"), "{stderr}");
}

/// A target inside a tracked folder moves and places only that part. Its push leaves the
/// folder's manifest for a push of the whole folder: a remote never lists a folder before
/// it holds all of its files.
#[test]
fn a_part_of_a_tracked_folder_is_pushed_and_checked_out_alone() {
    let repo = Repo::new("blake3");
    let remote = repo.root.with_file_name("remote");
    repo.ok(&["remote", "add", "-d", "store", remote.to_str().unwrap()]);
    repo.write("data/a", b"a");
    repo.write("data/sub/b", b"b");
    repo.ok(&["add", "data"]);
    let pushed = repo.json(&["push", "data/sub"]);
    assert_eq!(pushed["transferred"], 1, "{pushed}");
    let cloud = repo.json(&["status", "--cloud"]);
    let new: Vec<&str> = (cloud.as_array().unwrap().iter())
        .map(|entry| entry["path"].as_str().unwrap())
        .collect();
    assert_eq!(new, ["data", "data/a"], "{cloud}");
    assert_eq!(
        repo.json(&["status", "--cloud", "data/sub/b"]),
        serde_json::json!([])
    );

    fs::remove_dir_all(repo.root.join("data")).unwrap();
    repo.ok(&["checkout", "data/sub/b"]);
    assert!(!repo.root.join("data/a").exists());
    assert_eq!(repo.read("data/sub/b"), b"b");
    repo.write("data/sub/new", b"unsaved");
    let stderr = repo.fails(&["checkout", "data/sub"], 1);
    assert!(stderr.contains("would overwrite"), "{stderr}");
    for command in ["checkout", "status"] {
        let stderr = repo.fails(&[command, "data/nope"], 2);
        assert!(
            stderr.contains("data/nope is not in tracked folder data"),
            "{stderr}"
        );
    }

    // A folder where a file goes is replaced once its content is discarded.
    repo.ok(&["checkout", "--force", "data"]);
    fs::remove_file(repo.root.join("data/sub/b")).unwrap();
    repo.write("data/sub/b/deep/x", b"in the way");
    repo.fails(&["checkout", "data/sub/b"], 1);
    let forced = repo.json(&["checkout", "--force", "data/sub/b", "data/sub/b"]);
    assert_eq!(
        forced["written"],
        serde_json::json!(["data/sub/b"]),
        "{forced}"
    );
    assert_eq!(repo.read("data/sub/b"), b"b");

    // A pointer file need not be named after its output, as in DVC.
    fs::rename(repo.root.join("data.dvc"), repo.root.join("dataset.dvc")).unwrap();
    fs::remove_dir_all(repo.root.join("data")).unwrap();
    repo.ok(&["checkout", "data/sub"]);
    assert_eq!(repo.read("data/sub/b"), b"b");
    repo.ok(&["checkout", "data"]);
    assert_eq!(repo.read("data/a"), b"a");
}

/// After pulling part of a folder, `push` sends what the cache has and then names what
/// it lacks; the folder's manifest stays back, since the remote lacks some of its files.
#[test]
fn push_sends_what_the_cache_has_then_names_what_it_lacks() {
    let repo = Repo::new("md5");
    harness::git(&repo.root, &["init", "-q"]);
    let remote = repo.root.with_file_name("remote");
    repo.ok(&["remote", "add", "-d", "store", remote.to_str().unwrap()]);
    repo.write("data/a", b"a");
    repo.write("data/sub/b", b"b");
    repo.ok(&["add", "data"]);
    repo.ok(&["push"]);
    harness::git(&repo.root, &["add", "-A"]);
    harness::git(&repo.root, &["commit", "-qm", "data"]);

    let clone = git_clone(&repo, "clone");
    clone.ok(&["pull", "data/sub/b"]);
    clone.write("model.bin", b"new weights");
    clone.ok(&["add", "model.bin"]);
    let other = clone.root.with_file_name("other");
    clone.ok(&["remote", "add", "other", other.to_str().unwrap()]);
    let stderr = clone.fails(&["push", "-r", "other"], 1);
    assert!(
        stderr.contains("1 object(s) missing from the cache, first data/a"),
        "{stderr}"
    );
    let sent: Vec<_> = walkdir::WalkDir::new(&other)
        .into_iter()
        .filter_map(|entry| entry.ok().filter(|e| e.file_type().is_file()))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        sent.len(),
        2,
        "model.bin and data/sub/b, no manifest: {sent:?}"
    );
    assert!(sent.iter().all(|name| !name.ends_with(".dir")), "{sent:?}");
}

/// `remove --outs` deletes the data too, but only what the cache holds: the first try
/// meets an edit that was never added and changes nothing; `--force` deletes it.
#[test]
fn remove_outs_deletes_only_data_the_cache_holds_unless_forced() {
    let repo = Repo::new("md5");
    sample_data(&repo);
    repo.ok(&["add", "data", "weights.safetensors"]);
    repo.write("data/train/a.csv", b"an edit saved nowhere");

    let stderr = repo.fails(&["remove", "--outs", "data.dvc", "weights.safetensors"], 1);
    assert!(stderr.contains("data/train/a.csv"), "{stderr}");
    assert!(repo.root.join("data.dvc").is_file());
    assert!(repo.root.join("weights.safetensors.dvc").is_file());
    assert_eq!(repo.read("data/train/a.csv"), b"an edit saved nowhere");

    let removed = repo.json(&["remove", "--outs", "weights.safetensors"]);
    assert_eq!(removed[0]["deleted"], true);
    assert!(!repo.root.join("weights.safetensors").exists());
    assert!(!repo.root.join("weights.safetensors.dvc").exists());
    let object = harness::object_key(&harness::md5_hex(b"weights v1"));
    assert!(repo.root.join(".dvc/cache").join(object).is_file());

    // What `.dvcignore` keeps out of the cache is not datavc's to delete.
    fs::write(repo.root.join(".dvcignore"), "*.log\n").unwrap();
    repo.write("data/test/run.log", b"kept");
    repo.ok(&["remove", "--outs", "--force", "data"]);
    assert_eq!(harness::files_below(&repo.root.join("data")).len(), 1);
    assert_eq!(repo.read("data/test/run.log"), b"kept");
    assert!(!repo.root.join("data.dvc").exists());
    assert_eq!(repo.json(&["status"]), serde_json::json!([]));
}

/// `config` and `remote modify` refuse what DVC would then refuse to load, and leave the
/// config file as it was.
#[test]
fn config_refuses_options_datavc_does_not_read() {
    let repo = Repo::new("md5");
    repo.ok(&["remote", "add", "store", "../store"]);
    let config = repo.root.join(".dvc/config");
    let before = fs::read(&config).unwrap();
    let stderr = repo.fails(&["remote", "modify", "store", "region", "eu-west-1"], 2);
    assert!(
        stderr.contains("`remote.store.region`; it sets url"),
        "{stderr}"
    );
    let stderr = repo.fails(&["config", "core.check_update", "false"], 2);
    assert!(stderr.contains("dvc config"), "{stderr}");
    repo.fails(&["config", "cache.type", "teleport"], 2);
    repo.fails(&["config", "store.url"], 1);
    repo.fails(&["config", "remote.url", "x"], 2);
    repo.fails(&["config", "--unset", "cache.dir"], 1);
    assert_eq!(fs::read(&config).unwrap(), before);

    repo.ok(&["config", "cache.type", "hardlink"]);
    repo.write("big.bin", b"linked bytes");
    repo.ok(&["add", "big.bin"]);
    assert!(
        fs::metadata(repo.root.join("big.bin"))
            .unwrap()
            .permissions()
            .readonly(),
        "cache.type = hardlink took effect"
    );
}

#[test]
fn move_renames_an_output_with_its_pointer_and_never_clobbers() {
    let repo = Repo::new("blake3");
    sample_data(&repo);
    repo.ok(&["add", "data", "weights.safetensors"]);
    let pointer = String::from_utf8(repo.read("data.dvc")).unwrap();
    let text = repo.ok(&["move", "data", "dataset"]);
    assert!(text.starts_with("moved data to dataset\n"), "{text}");
    assert!(
        text.contains("git add dataset.dvc data.dvc .gitignore"),
        "{text}"
    );
    assert!(!repo.root.join("data").exists() && !repo.root.join("data.dvc").exists());
    assert_eq!(repo.read("dataset/train/a.csv"), b"x,y\n1,2\n");
    let moved = pointer.replace("path: data\n", "path: dataset\n");
    assert_eq!(String::from_utf8(repo.read("dataset.dvc")).unwrap(), moved);
    assert_eq!(repo.read(".gitignore"), b"/weights.safetensors\n/dataset\n");
    assert_eq!(repo.ok(&["status"]), "data is up to date\n");

    // The state database's records move with the file: a same-size edit with its time
    // restored goes unnoticed after the move too, so nothing was hashed again.
    let path = repo.root.join("weights.safetensors");
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();
    fs::write(&path, b"weights v2").unwrap();
    let file = fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(mtime).unwrap();
    repo.write("models/readme", b"r");
    repo.ok(&["mv", "weights.safetensors", "models"]);
    assert_eq!(repo.read("models/weights.safetensors"), b"weights v2");
    assert_eq!(repo.ok(&["status"]), "data is up to date\n");
    assert_eq!(repo.read("models/.gitignore"), b"/weights.safetensors\n");
    assert_eq!(repo.read(".gitignore"), b"/dataset\n");
    let report = repo.json(&["move", "models/weights.safetensors", "w.safetensors"]);
    assert_eq!(
        report,
        serde_json::json!({
            "from": "models/weights.safetensors", "to": "w.safetensors",
            "pointer": "w.safetensors.dvc", "old_pointer": "models/weights.safetensors.dvc",
            "data": true, "gitignores": [".gitignore", "models/.gitignore"],
        })
    );
    assert!(!repo.root.join("models/.gitignore").exists());

    // Nothing is overwritten, nothing moves.
    repo.write("taken", b"mine");
    let refusals = [
        ("taken", "`taken` already exists"),
        ("dataset/inner", "is where it is, or inside it"),
        (
            "w.safetensors",
            "overlaps the tracked output `w.safetensors`",
        ),
        (".dvc/x", "inside .dvc or .git"),
    ];
    for (to, reason) in refusals {
        let stderr = repo.fails(&["move", "dataset", to], 2);
        assert!(stderr.contains(reason), "{to}: {stderr}");
    }
    assert!(
        repo.fails(&["move", "nothing", "x"], 2)
            .contains("is not tracked")
    );
    assert_eq!(repo.read("taken"), b"mine");
    assert_eq!(repo.ok(&["status"]), "data is up to date\n");

    // Killed after the rename: the same command finishes the move.
    fs::rename(repo.root.join("dataset"), repo.root.join("ds")).unwrap();
    let text = repo.ok(&["move", "dataset", "ds"]);
    assert_eq!(text.lines().next(), Some("moved dataset to ds"));
    assert!(repo.root.join("ds.dvc").is_file() && !repo.root.join("dataset.dvc").exists());
    assert_eq!(repo.read(".gitignore"), b"/w.safetensors\n/ds\n");
    assert_eq!(repo.ok(&["status"]), "data is up to date\n");

    // Killed after the new pointer was written: the same command finishes the move.
    fs::rename(repo.root.join("ds"), repo.root.join("ds1")).unwrap();
    let pointer = String::from_utf8(repo.read("ds.dvc")).unwrap();
    repo.write(
        "ds1.dvc",
        pointer.replace("path: ds\n", "path: ds1\n").as_bytes(),
    );
    repo.ok(&["move", "ds", "ds1"]);
    assert!(!repo.root.join("ds.dvc").exists());
    assert_eq!(repo.read(".gitignore"), b"/w.safetensors\n/ds1\n");

    // Not in the workspace: only the pointer moves; checkout brings the data.
    fs::remove_dir_all(repo.root.join("ds1")).unwrap();
    let text = repo.ok(&["move", "ds1", "ds2"]);
    assert!(text.contains("only its .dvc file changed"), "{text}");
    repo.ok(&["checkout"]);
    assert_eq!(repo.read("ds2/test/c.csv"), vec![7u8; 300_000]);

    // A pointer not named after its output keeps its name, and its folder.
    fs::rename(repo.root.join("ds2.dvc"), repo.root.join("set.dvc")).unwrap();
    repo.ok(&["move", "ds2", "ds3"]);
    let set = String::from_utf8(repo.read("set.dvc")).unwrap();
    assert!(set.contains("path: ds3\n"), "{set}");
    repo.ok(&["move", "ds3", "sub/ds3"]);
    let set = String::from_utf8(repo.read("set.dvc")).unwrap();
    assert!(set.contains("path: sub/ds3\n"), "{set}");
    repo.write("sub/w.bin", b"w");
    repo.ok(&["add", "sub/w.bin"]);
    fs::rename(repo.root.join("sub/w.bin.dvc"), repo.root.join("sub/w.dvc")).unwrap();
    let stderr = repo.fails(&["move", "sub/w.bin", "w.bin"], 2);
    assert!(stderr.contains("stays in its folder"), "{stderr}");
    let stderr = repo.fails(&["move", "ds3", "newd/"], 2);
    assert!(stderr.contains("`newd/` is not a folder"), "{stderr}");
    let stderr = repo.fails(&["move", "set.dvc", "x"], 2);
    assert!(stderr.contains("name the output it tracks"), "{stderr}");
    assert_eq!(repo.ok(&["status"]), "data is up to date\n");
    repo.fsck_clean();
}

#[test]
fn add_refuses_what_git_tracks_or_ignores_as_dvc_does() {
    let repo = Repo::new("md5");
    harness::git(&repo.root, &["init", "-q"]);
    repo.write("data/a.csv", b"a");
    repo.write("model.bin", b"m");
    repo.write("sub/sp dir/x", b"x");
    harness::git(&repo.root, &["add", "data/a.csv", "sub/sp dir/x"]);
    let stderr = repo.fails(&["add", "model.bin", "data"], 2);
    assert!(
        stderr.contains("data is tracked by git") && stderr.contains("git rm -r --cached data`"),
        "{stderr}"
    );
    assert!(!repo.root.join("model.bin.dvc").exists() && !repo.root.join("data.dvc").exists());
    // From a subfolder, the hint names the path as typed there, quoted for the shell.
    let stderr = harness::fails(&repo.root.join("sub"), &["add", "sp dir"], 2);
    assert!(stderr.contains("git rm -r --cached 'sp dir'`"), "{stderr}");

    repo.write(".gitignore", b"ig/\n");
    repo.write("ig/x", b"x");
    let stderr = repo.fails(&["add", "ig/x"], 2);
    assert!(
        stderr.contains("ig/x.dvc would be ignored by git"),
        "{stderr}"
    );
    assert!(!repo.root.join("ig/x.dvc").exists() && !repo.root.join("ig/.gitignore").exists());

    harness::git(&repo.root, &["rm", "-r", "-q", "--cached", "data"]);
    repo.ok(&["add", "model.bin", "data"]);
    assert_eq!(repo.ok(&["status"]), "data is up to date\n");
    repo.write("model.bin", b"m2");
    repo.ok(&["commit", "-f"]);
    let added = harness::ok(&repo.root.join("sub"), &["add", "../ig"]);
    let added = String::from_utf8(added.stdout).unwrap();
    assert!(
        added.ends_with("git add ../ig.dvc ../.gitignore\n"),
        "{added}"
    );
}

/// `dvc init --no-scm`: nothing touches git, even a git repository around the project.
#[test]
fn a_repository_without_scm_leaves_git_alone() {
    let repo = Repo::new("md5");
    let outer = repo.root.parent().unwrap();
    harness::git(outer, &["init", "-q"]);
    fs::write(repo.root.join(".dvc/config"), "[core]\n    no_scm = True\n").unwrap();
    repo.ok(&["config", "core.autostage", "true"]);
    repo.write("model.bin", b"m");
    let added = repo.json(&["add", "model.bin"]);
    assert_eq!(added[0].get("gitignore"), None, "{added}");
    assert!(!repo.root.join(".gitignore").exists());
    let moved = repo.ok(&["move", "model.bin", "weights.bin"]);
    assert_eq!(moved, "moved model.bin to weights.bin\n");
    let staged = Command::new("git")
        .args(["diff", "--cached", "--name-only"])
        .current_dir(outer)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&staged.stdout), "");
    repo.ok(&["remote", "add", "-d", "store", "../store"]);
    assert_eq!(repo.json(&["push", "-A"])["transferred"], 1);
}

/// A data registry beside a `user` folder: a git repository whose data is pushed to the
/// folder remote `store` beside it, `weights.safetensors` "weights v1" at tag `v1` and
/// "weights v2" at the tip, an empty tracked folder `empty`, and a `README` git tracks.
fn registry() -> (Repo, PathBuf) {
    let registry = Repo::new("md5");
    harness::git(&registry.root, &["init", "-q"]);
    sample_data(&registry);
    registry.write("README", b"registry\n");
    fs::create_dir(registry.root.join("empty")).unwrap();
    registry.ok(&[
        "add",
        "data/train",
        "data/test",
        "weights.safetensors",
        "empty",
    ]);
    let store = registry.root.with_file_name("store");
    registry.ok(&["remote", "add", "-d", "store", store.to_str().unwrap()]);
    registry.ok(&["push"]);
    harness::git(&registry.root, &["add", "-A"]);
    harness::git(&registry.root, &["commit", "-qm", "v1"]);
    harness::git(&registry.root, &["tag", "v1"]);
    registry.write("weights.safetensors", b"weights v2");
    registry.ok(&["add", "weights.safetensors"]);
    registry.ok(&["push"]);
    harness::git(&registry.root, &["commit", "-qam", "v2"]);
    let user = registry.root.with_file_name("user");
    fs::create_dir(&user).unwrap();
    (registry, user)
}

/// The names in `dir`, to show that `get` leaves nothing temporary behind.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = (fs::read_dir(dir).unwrap())
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn get_copies_a_registrys_data_from_its_cache_or_its_remote() {
    let (registry, user) = registry();
    let get = |args: &[&str]| harness::ok(&user, &[&["get", "../project"], args].concat());
    get(&["data/train"]);
    assert_eq!(fs::read(user.join("train/b.csv")).unwrap(), b"x,y\n3,4\n");
    get(&[
        "weights.safetensors",
        "--rev",
        "v1",
        "-o",
        "old.safetensors",
    ]);
    assert_eq!(
        fs::read(user.join("old.safetensors")).unwrap(),
        b"weights v1"
    );
    get(&["weights.safetensors"]);
    assert_eq!(
        fs::read(user.join("weights.safetensors")).unwrap(),
        b"weights v2"
    );
    get(&["./README"]);
    assert_eq!(fs::read(user.join("README")).unwrap(), b"registry\n");
    get(&["empty"]);
    assert_eq!(names_in(&user.join("empty")), Vec::<String>::new());
    get(&["data/test/c.csv"]);
    assert_eq!(fs::read(user.join("c.csv")).unwrap(), vec![7u8; 300_000]);

    // With the registry's cache gone, the objects come from its remote; a folder holding
    // `.dvc` files arrives without them, as `dvc get` leaves them out.
    fs::remove_dir_all(registry.root.join(".dvc/cache")).unwrap();
    fs::create_dir(user.join("copies")).unwrap();
    let got = harness::json(&get(&["data", "-o", "copies", "--json"]));
    assert_eq!(got["fetched"][0]["remote"], "source-cache", "{got}");
    assert_eq!(got["fetched"][1]["remote"], "store", "{got}");
    assert_eq!(got["fetched"][1]["transferred"], 5, "{got}");
    let copied: Vec<String> = harness::files_below(&user.join("copies/data"))
        .into_keys()
        .collect();
    assert_eq!(
        copied,
        [".gitignore", "test/c.csv", "train/a.csv", "train/b.csv"]
    );
    let tip = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&registry.root)
        .output()
        .unwrap();
    assert_eq!(got["rev"], String::from_utf8_lossy(&tip.stdout).trim());
    assert_eq!(
        names_in(&user),
        [
            "README",
            "c.csv",
            "copies",
            "empty",
            "old.safetensors",
            "train",
            "weights.safetensors"
        ]
    );
}

#[test]
fn get_refuses_what_it_cannot_do_whole_and_leaves_the_destination_alone() {
    let (registry, user) = registry();
    let mine = user.join("weights.safetensors");
    fs::write(&mine, b"mine").unwrap();
    let get = ["get", "../project", "weights.safetensors"];
    let refused = harness::fails(&user, &get, 2);
    assert!(refused.contains("already exists"), "{refused}");
    assert_eq!(fs::read(&mine).unwrap(), b"mine");
    harness::ok(&user, &[&get[..], &["--force"]].concat());
    assert_eq!(fs::read(&mine).unwrap(), b"weights v2");

    for (path, says) in [
        ("nothere", "not in ../project"),
        ("../project/README", "not in ../project"),
        ("weights.safetensors.dvc", "named like a DVC file"),
    ] {
        let refused = harness::fails(&user, &["get", "../project", path], 2);
        assert!(refused.contains(says), "{path}: {refused}");
    }
    let refused = harness::fails(&user, &["get", "../project", "README", "--rev", "v9"], 1);
    assert!(refused.contains("unknown git revision `v9`"), "{refused}");

    // Data that neither the registry's cache nor its remote holds: nothing arrives.
    fs::remove_dir_all(registry.root.join(".dvc/cache")).unwrap();
    fs::remove_dir_all(registry.root.with_file_name("store")).unwrap();
    let refused = harness::fails(&user, &["get", "../project", "data/train"], 1);
    assert!(
        refused.contains("missing from the cache and the default remote"),
        "{refused}"
    );
    assert_eq!(names_in(&user), ["weights.safetensors"]);
}

/// A killed `get` leaves its temporary folder beside the destination; the next `get` there
/// removes it, but not the folder of a `get` still running (its lock is held).
#[test]
fn get_removes_what_a_killed_get_left_beside_the_destination() {
    let (_registry, user) = registry();
    let abandoned = user.join(".README.datavc-tmp-999999-0");
    let running = user.join(".README.datavc-tmp-999999-1");
    for folder in [&abandoned, &running] {
        fs::create_dir_all(folder.join("repo/data")).unwrap();
        fs::write(folder.join("in-use.lock"), b"").unwrap();
    }
    let held = fs::File::open(running.join("in-use.lock")).unwrap();
    held.try_lock().unwrap();
    harness::ok(&user, &["get", "../project", "README"]);
    assert_eq!(names_in(&user), [".README.datavc-tmp-999999-1", "README"]);
}

/// A repository whose DVC project is in a subfolder (`dvc init --subdir`): its data is got
/// through that project, and a copied project leaves its `.dvc` folder behind. A path
/// through a committed symbolic link is refused: it could lead anywhere on this machine.
#[cfg(unix)]
#[test]
fn get_reads_a_project_in_a_subfolder_and_follows_no_links() {
    let dir = tempfile::tempdir().unwrap();
    let mono = dir.path().join("mono");
    let project = mono.join("project");
    fs::create_dir_all(project.join("d")).unwrap();
    harness::git(&mono, &["init", "-q"]);
    harness::ok(&project, &["init", "--hash", "md5"]);
    fs::write(project.join("d/x"), b"x").unwrap();
    harness::ok(&project, &["add", "d"]);
    let store = dir.path().join("store");
    harness::ok(
        &project,
        &["remote", "add", "-d", "s", store.to_str().unwrap()],
    );
    harness::ok(&project, &["push"]);
    std::os::unix::fs::symlink(dir.path(), mono.join("outside")).unwrap();
    harness::git(&mono, &["add", "-A"]);
    harness::git(&mono, &["commit", "-qm", "mono"]);
    fs::remove_dir_all(project.join(".dvc/cache")).unwrap();

    let user = dir.path().join("user");
    fs::create_dir(&user).unwrap();
    harness::ok(&user, &["get", "../mono", "project/d"]);
    assert_eq!(fs::read(user.join("d/x")).unwrap(), b"x");
    harness::ok(&user, &["get", "../mono", "project", "-o", "whole"]);
    let copied: Vec<String> = harness::files_below(&user.join("whole"))
        .into_keys()
        .collect();
    assert_eq!(copied, [".gitignore", "d/x"]);
    let refused = harness::fails(&user, &["get", "../mono", "outside/store"], 2);
    assert!(refused.contains("not in ../mono"), "{refused}");
    assert_eq!(names_in(&user), ["d", "whole"]);
}

/// The registry's tip commit, or that of `rev`.
fn commit_of(registry: &Repo, rev: &str) -> String {
    let output = Command::new("git")
        .args(["rev-parse", &format!("{rev}^{{commit}}")])
        .current_dir(&registry.root)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn import_tracks_a_registrys_data_and_update_follows_it_without_losing_edits() {
    let (registry, user) = registry();
    harness::git(&registry.root, &["branch", "dev"]);
    // A blake3 project importing from an md5 registry: the data is stored under blake3.
    harness::git(&user, &["init", "-q"]);
    harness::ok(&user, &["init", "--hash", "blake3"]);
    let import = |args: &[&str]| {
        harness::json(&harness::ok(
            &user,
            &[&["import", "../project"], args, &["--json"]].concat(),
        ))
    };
    let old = import(&["weights.safetensors", "--rev", "v1", "-o", "models/w.bin"]);
    assert_eq!(old["path"], "models/w.bin", "{old}");
    assert_eq!(old["rev"], commit_of(&registry, "v1"), "{old}");
    assert_eq!(fs::read(user.join("models/w.bin")).unwrap(), b"weights v1");
    let pointer = fs::read_to_string(user.join("models/w.bin.dvc")).unwrap();
    for line in [
        "frozen: true\n",
        "- path: weights.safetensors\n",
        "    url: ../project\n",
        "    rev: v1\n",
        "  hash: blake3\n",
        "  path: w.bin\n",
    ] {
        assert!(pointer.contains(line), "{line:?} not in\n{pointer}");
    }
    assert_eq!(
        fs::read_to_string(user.join("models/.gitignore")).unwrap(),
        "/w.bin\n"
    );
    // The data is stored before it is renamed into place, as what lies there: the rules
    // of this repository's `.dvcignore` for that path apply.
    fs::write(user.join(".dvcignore"), "/train/b.csv\n").unwrap();
    let train = import(&["data/train"]);
    assert_eq!(train["nfiles"], 1, "{train}");
    assert_eq!(fs::read(user.join("train/b.csv")).unwrap(), b"x,y\n3,4\n");
    let status = harness::ok(&user, &["status"]);
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        "data is up to date\n"
    );
    // What a killed import leaves (a clone of the registry, its lock no longer held) is
    // not this repository's; `checkout` removes it.
    let left = user.join(".train.datavc-tmp-1-0/repo");
    fs::create_dir_all(&left).unwrap();
    fs::write(left.with_file_name("in-use.lock"), b"").unwrap();
    fs::copy(user.join("train.dvc"), left.join("train.dvc")).unwrap();
    let status = harness::ok(&user, &["status"]);
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        "data is up to date\n"
    );
    harness::ok(&user, &["checkout"]);
    assert!(!left.parent().unwrap().exists());

    // An import never replaces what is there without --force.
    let refused = harness::fails(&user, &["import", "../project", "data/train"], 2);
    assert!(refused.contains("already exists"), "{refused}");
    // A failed import leaves no `.gitignore` line behind.
    let refused = harness::fails(&user, &["import", "../project", "nothere"], 2);
    assert!(refused.contains("not in ../project"), "{refused}");
    assert_eq!(
        fs::read_to_string(user.join(".gitignore")).unwrap(),
        "/train\n"
    );

    // `update` follows the revision recorded: v1 is a tag, so nothing changes.
    let same = harness::json(&harness::ok(&user, &["update", "--json"]));
    assert_eq!(same[0]["changed"], false, "{same}");
    assert_eq!(same[1]["changed"], false, "{same}");
    let moved = harness::json(&harness::ok(
        &user,
        &["update", "models/w.bin", "--rev", "dev", "--json"],
    ));
    assert_eq!(moved[0]["changed"], true, "{moved}");
    assert_eq!(moved[0]["rev"], commit_of(&registry, "dev"), "{moved}");
    assert_eq!(fs::read(user.join("models/w.bin")).unwrap(), b"weights v2");
    let pointer = fs::read_to_string(user.join("models/w.bin.dvc")).unwrap();
    assert!(pointer.contains("    rev: dev\n"), "{pointer}");

    // The registry moves on while the data was edited here: the edit is kept unless
    // --force.
    harness::git(&registry.root, &["checkout", "-q", "dev"]);
    registry.write("weights.safetensors", b"weights v3");
    registry.ok(&["add", "weights.safetensors"]);
    harness::git(&registry.root, &["commit", "-qam", "v3"]);
    fs::remove_file(user.join("models/w.bin")).unwrap();
    fs::write(user.join("models/w.bin"), b"my edit").unwrap();
    let refused = harness::fails(&user, &["update", "models/w.bin.dvc"], 1);
    assert!(refused.contains("w.bin"), "{refused}");
    assert_eq!(fs::read(user.join("models/w.bin")).unwrap(), b"my edit");
    harness::ok(&user, &["update", "--force"]);
    assert_eq!(fs::read(user.join("models/w.bin")).unwrap(), b"weights v3");

    // Push leaves imports out; a clone (which has no remote: it was added after the
    // commit) pulls them from the registry (its cache here), hashing them under its own
    // algorithm.
    harness::git(&user, &["add", "-A"]);
    harness::git(&user, &["commit", "-qm", "imports"]);
    let store = user.with_file_name("user-store");
    harness::ok(
        &user,
        &["remote", "add", "-d", "own", store.to_str().unwrap()],
    );
    let pushed = harness::json(&harness::ok(&user, &["push", "--json"]));
    assert_eq!(pushed["transferred"], 0, "{pushed}");
    let clone = user.with_file_name("user-clone");
    harness::git(
        user.parent().unwrap(),
        &[
            "clone",
            "-q",
            user.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    let pulled = harness::json(&harness::ok(&clone, &["pull", "--json"]));
    assert_eq!(pulled["fetch"]["remote"], "../project", "{pulled}");
    assert_eq!(fs::read(clone.join("models/w.bin")).unwrap(), b"weights v3");
    assert_eq!(fs::read(clone.join("train/a.csv")).unwrap(), b"x,y\n1,2\n");
    harness::assert_fsck_clean(&clone, "after pulling imports");
    let status = harness::ok(&clone, &["status"]);
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        "data is up to date\n"
    );

    // `update` refreshes only imports.
    fs::write(user.join("mine.txt"), b"mine").unwrap();
    harness::ok(&user, &["add", "mine.txt"]);
    let refused = harness::fails(&user, &["update", "mine.txt"], 2);
    assert!(refused.contains("does not record an import"), "{refused}");
    // A new revision is for the imports named, not all of them at once.
    let refused = harness::fails(&user, &["update", "--rev", "v1"], 2);
    assert!(refused.contains("TARGETS"), "{refused}");

    // The registry stops tracking the file: the update says so and keeps the data.
    harness::git(&registry.root, &["rm", "-q", "weights.safetensors.dvc"]);
    harness::git(&registry.root, &["commit", "-qm", "gone"]);
    let refused = harness::fails(&user, &["update", "models/w.bin.dvc"], 1);
    assert!(
        refused.contains("weights.safetensors is no longer in ../project at"),
        "{refused}"
    );
    assert_eq!(fs::read(user.join("models/w.bin")).unwrap(), b"weights v3");
}

/// As `add` does, an import ignores its data before it saves the pointer, and renames new
/// data into place only after that: whether it checks the registry's objects out (md5,
/// as the registry hashes) or stores a copy (blake3).
#[test]
fn import_ignores_the_data_before_it_saves_the_pointer() {
    for hash in ["md5", "blake3"] {
        let (_registry, user) = registry();
        harness::git(&user, &["init", "-q"]);
        harness::ok(&user, &["init", "--hash", hash]);
        fs::create_dir(user.join("weights.safetensors.dvc")).unwrap();
        let import = ["import", "../project", "weights.safetensors"];
        let refused = harness::fails(&user, &import, 1);
        assert!(
            refused.contains("weights.safetensors.dvc"),
            "{hash}: {refused}"
        );
        assert_eq!(
            fs::read_to_string(user.join(".gitignore")).unwrap(),
            "/weights.safetensors\n",
            "{hash}"
        );
        assert!(!user.join("weights.safetensors").exists(), "{hash}");
    }
}

#[test]
fn import_of_an_output_hashed_alike_checks_it_out_from_this_cache_replacing_what_is_there() {
    let (registry, user) = registry();
    // An md5 project importing a whole output of an md5 registry takes its objects as they
    // are.
    harness::git(&user, &["init", "-q"]);
    harness::ok(&user, &["init", "--hash", "md5"]);
    harness::ok(&user, &["import", "../project", "data/train"]);
    // Checked out whole in a temporary folder and renamed into place, its files keep the
    // hashes the checkout recorded; the objects the fetch verified are known verified here.
    let repo = datavc::Repo::discover(&user).unwrap();
    let mut state = repo.state().unwrap();
    let verified = state.verified_objects().unwrap();
    for name in ["a.csv", "b.csv"] {
        let path = user.join("train").join(name);
        let key = FileKey::of(&fs::metadata(&path).unwrap());
        let recorded = state.hashes().unwrap().get(&format!("train/{name}"), key);
        assert!(recorded.is_some(), "no hash recorded for train/{name}");
        let object = (HashAlgo::Md5, harness::md5_hex(&fs::read(&path).unwrap()));
        assert!(
            verified.contains_key(&object),
            "{object:?} is not known verified"
        );
    }
    drop(state);
    fs::remove_dir_all(user.join("train")).unwrap();
    fs::write(user.join("train"), b"a file where the folder goes").unwrap();
    harness::fails(&user, &["import", "../project", "data/train"], 2);
    let imported = harness::json(&harness::ok(
        &user,
        &["import", "../project", "data/train", "-f", "--json"],
    ));
    let recorded = fs::read_to_string(registry.root.join("data/train.dvc")).unwrap();
    let md5 = imported["oid"].as_str().unwrap();
    assert!(
        recorded.contains(&format!("md5: {md5}\n")),
        "{md5} not in\n{recorded}"
    );
    assert_eq!(names_in(&user.join("train")), ["a.csv", "b.csv"]);
    // Replaced again over an edit and a stray file: the folder is the registry's exactly.
    fs::write(user.join("train/extra.txt"), b"stray").unwrap();
    fs::remove_file(user.join("train/a.csv")).unwrap();
    fs::write(user.join("train/a.csv"), b"edited").unwrap();
    harness::ok(&user, &["import", "../project", "data/train", "-f"]);
    assert_eq!(names_in(&user.join("train")), ["a.csv", "b.csv"]);
    assert_eq!(fs::read(user.join("train/a.csv")).unwrap(), b"x,y\n1,2\n");
    assert_eq!(
        names_in(&user),
        [
            ".dvc",
            ".dvcignore",
            ".git",
            ".gitignore",
            "train",
            "train.dvc"
        ]
    );
    harness::assert_fsck_clean(&user, "after importing objects as they are");
    let status = harness::ok(&user, &["status"]);
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        "data is up to date\n"
    );
}

/// Ctrl-C during a `get` removes the temporary clone, and the data in it, at once.
#[cfg(unix)]
#[test]
fn ctrl_c_during_a_get_leaves_nothing_behind() {
    use std::os::unix::process::CommandExt;

    // Data only on the registry's remote: `get` fetches and verifies 256 MiB, long enough
    // to be interrupted.
    let registry = Repo::new("md5");
    harness::git(&registry.root, &["init", "-q"]);
    registry.write("big.bin", &vec![7; 256 << 20]);
    registry.ok(&["add", "big.bin"]);
    let store = registry.root.with_file_name("store");
    registry.ok(&["remote", "add", "-d", "store", store.to_str().unwrap()]);
    registry.ok(&["push"]);
    harness::git(&registry.root, &["add", "-A"]);
    harness::git(&registry.root, &["commit", "-qm", "big"]);
    fs::remove_dir_all(registry.root.join(".dvc/cache")).unwrap();
    let user = registry.root.with_file_name("user");
    fs::create_dir(&user).unwrap();
    // A terminal's Ctrl-C signals the whole process group: `git clone` too, which would
    // otherwise go on and recreate the folder it clones into.
    let mut get = harness::datavc(&user)
        .args(["get", "../project", "big.bin"])
        .process_group(0)
        .spawn()
        .unwrap();
    while names_in(&user).is_empty() {
        let finished = get.try_wait().unwrap();
        assert!(finished.is_none(), "get ended ({finished:?}) before Ctrl-C");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let group = format!("-{}", get.id());
    let kill = Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .unwrap();
    assert!(kill.success());
    // 130 from the handler, or 1 where the failed clone ended the command first.
    let code = get.wait().unwrap().code();
    assert!(matches!(code, Some(130 | 1)), "get exited with {code:?}");
    assert_eq!(names_in(&user), Vec::<String>::new());
}

#[test]
fn list_shows_a_registrys_files_and_outputs_or_says_what_is_wrong() {
    let (registry, user) = registry();
    let list = |args: &[&str]| {
        let output = harness::ok(&user, &[&["list", "../project"], args].concat());
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(
        list(&[]),
        ".dvcignore\n.gitignore\nREADME\ndata\nempty\nempty.dvc\nweights.safetensors\nweights.safetensors.dvc\n"
    );
    assert_eq!(list(&["data", "--dvc-only"]), "test\ntrain\n");
    assert_eq!(
        list(&["data", "-R"]),
        ".gitignore\ntest.dvc\ntest/c.csv\ntrain.dvc\ntrain/a.csv\ntrain/b.csv\n"
    );
    let refused = harness::fails(&user, &["list", "../project", "nothere"], 2);
    assert!(
        refused.contains("nothere is not in ../project"),
        "{refused}"
    );
    let refused = harness::fails(&user, &["list", "../project", "--rev", "nope"], 1);
    assert!(refused.contains("unknown git revision"), "{refused}");
    assert_eq!(list(&["/data/train"]), "a.csv\nb.csv\n");

    // A folder whose manifest neither the registry's cache nor its remote has is an
    // error, not an empty folder.
    fs::remove_dir_all(registry.root.join(".dvc/cache")).unwrap();
    registry.ok(&["remote", "modify", "store", "url", "/nowhere"]);
    harness::git(&registry.root, &["commit", "-qam", "remote gone"]);
    let refused = harness::fails(&user, &["list", "../project", "data/train"], 1);
    assert!(refused.contains("data/train ("), "{refused}");

    // A blake3 registry's outputs carry their blake3.
    let blake3 = Repo::new("blake3");
    harness::git(&blake3.root, &["init", "-q"]);
    blake3.write("d/x", b"x");
    blake3.ok(&["add", "d"]);
    blake3.write("run.sh", b"#!/bin/sh\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let script = blake3.root.join("run.sh");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    }
    harness::git(&blake3.root, &["add", "-A"]);
    harness::git(&blake3.root, &["commit", "-qm", "d"]);
    let url = blake3.root.to_str().unwrap();
    let listed = harness::json(&harness::ok(&user, &["list", url, "d", "--json"]));
    assert_eq!(listed[0]["path"], "x", "{listed}");
    assert_eq!(listed[0]["md5"], serde_json::Value::Null, "{listed}");
    assert_eq!(
        listed[0]["blake3"].as_str().map(str::len),
        Some(64),
        "{listed}"
    );
    let listed = harness::json(&harness::ok(&user, &["list", url, "--json"]));
    let run = (listed.as_array().unwrap().iter())
        .find(|entry| entry["path"] == "run.sh")
        .unwrap();
    assert_eq!(run["isexec"], cfg!(unix), "{listed}");
}
