//! End-to-end tests of S3 remotes against a local moto server: push (single and multipart
//! uploads), the remote's key layout, `status --cloud`, pull into a fresh clone, `gc
//! --cloud`, how a missing bucket is reported, and credentials kept in `.dvc/config.local`.
//!
//! They need moto's server: `pip install 'moto[server]'`, then put `moto_server` on PATH
//! or point `MOTO_SERVER` at it. Without it the tests fail; they never skip.

mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::{
    Lcg, clone_pointers, datavc, files_below, free_port, http, http_ok, json, md5_hex, object_key,
    run_ok,
};

/// Where the venv made for these tests keeps moto, used when PATH has none.
const VENV_MOTO: &str = "/var/tmp/dvc-venv/bin/moto_server";

/// A moto S3 server on a free local port, stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start() -> Moto {
        let candidates: Vec<PathBuf> = match std::env::var_os("MOTO_SERVER") {
            Some(path) => vec![path.into()],
            None => vec!["moto_server".into(), VENV_MOTO.into()],
        };
        let mut tried = Vec::new();
        for program in &candidates {
            match Moto::start_with(program) {
                Ok(moto) => return moto,
                Err(why) => tried.push(format!("{}: {why}", program.display())),
            }
        }
        panic!(
            "these tests need moto's S3 server; install it with `pip install 'moto[server]'` \
             and put `moto_server` on PATH or set MOTO_SERVER to its path (tried {})",
            tried.join("; ")
        );
    }

    fn start_with(program: &Path) -> Result<Moto, String> {
        let port = free_port();
        let child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut moto = Moto { child, port };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(status)) = moto.child.try_wait() {
                return Err(format!("exited with {status} before answering"));
            }
            if http(port, "GET", "/", b"").is_ok() {
                return Ok(moto);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("did not answer within 30 s".into())
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn request(&self, method: &str, target: &str) -> Vec<u8> {
        http_ok(self.port, method, target, b"")
    }

    fn create_bucket(&self, bucket: &str) {
        self.request("PUT", &format!("/{bucket}"));
    }

    /// The keys below `prefix` (ListObjectsV2), read crudely from the XML.
    fn keys(&self, bucket: &str, prefix: &str) -> BTreeSet<String> {
        let body = self.request("GET", &format!("/{bucket}?list-type=2&prefix={prefix}"));
        let xml = String::from_utf8(body).unwrap();
        assert!(xml.contains("<IsTruncated>false</IsTruncated>"), "{xml}");
        xml.split("<Key>")
            .skip(1)
            .map(|rest| rest.split("</Key>").next().unwrap().to_owned())
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `datavc ARGS` in `dir` with moto's test credentials (set on the child only).
fn with_creds(dir: &Path, args: &[&str]) -> Command {
    let mut command = datavc(dir);
    command
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1");
    command
}

/// A repository with a folder `data/` (nested, one file over the 16 MiB single-PUT limit)
/// and a file `model.bin`, both added, and remote `s3` at `url` on `moto`, the default.
fn repo_with_data(moto: &Moto, url: &str) -> (tempfile::TempDir, BTreeMap<String, Vec<u8>>) {
    let (dir, files) = harness::repo_with_remote_test_files(7, (17 << 20) + 12_345);
    let root = dir.path();
    harness::ok(root, &["remote", "add", "-d", "s3", url]);
    harness::ok(
        root,
        &["remote", "modify", "s3", "endpointurl", &moto.endpoint()],
    );
    (dir, files)
}

#[test]
fn push_lays_out_keys_like_dvc_and_pull_restores_the_bytes() {
    let moto = Moto::start();
    moto.create_bucket("bucket");
    let (dir, files) = repo_with_data(&moto, "s3://bucket/prefix");
    let root = dir.path();

    // Five distinct file contents plus the folder's manifest.
    let manifest = harness::pointer_oid(&root.join("data.dvc"));
    let mut expected: BTreeSet<String> = files
        .values()
        .map(|bytes| format!("prefix/{}", object_key(&md5_hex(bytes))))
        .collect();
    expected.insert(format!("prefix/{}", object_key(&manifest)));
    assert_eq!(expected.len(), 7);

    let pushed = json(&run_ok(&mut with_creds(root, &["push", "--json"])));
    assert_eq!(pushed["remote"], "s3");
    assert_eq!(pushed["transferred"], 7, "{pushed}");
    assert_eq!(moto.keys("bucket", "prefix/"), expected);
    let big = moto.request(
        "GET",
        &format!(
            "/bucket/prefix/{}",
            object_key(&md5_hex(&files["data/big.bin"]))
        ),
    );
    assert!(
        big == files["data/big.bin"],
        "the multipart upload stored other bytes"
    );

    let cloud = json(&run_ok(&mut with_creds(
        root,
        &["status", "--cloud", "--json"],
    )));
    assert_eq!(cloud, serde_json::json!([]));
    let again = json(&run_ok(&mut with_creds(root, &["push", "--json"])));
    assert_eq!(again["transferred"], 0, "{again}");
    assert_eq!(again["skipped"], 7, "{again}");

    let clone = tempfile::tempdir().unwrap();
    clone_pointers(root, clone.path());
    let pulled = json(&run_ok(&mut with_creds(clone.path(), &["pull", "--json"])));
    assert_eq!(pulled["fetch"]["transferred"], 7, "{pulled}");
    harness::assert_restored(clone.path(), &files);
    let data_files: Vec<String> = files_below(&clone.path().join("data"))
        .into_keys()
        .collect();
    assert_eq!(
        data_files,
        ["a.txt", "big.bin", "empty", "sub/b.bin", "sub/deep/c.txt"]
    );
    run_ok(datavc(clone.path()).args(["status", "-q"]));

    std::fs::write(root.join("extra.txt"), b"not pushed yet").unwrap();
    harness::ok(root, &["add", "extra.txt"]);
    let cloud = json(&run_ok(&mut with_creds(
        root,
        &["status", "--cloud", "--json"],
    )));
    assert_eq!(
        cloud,
        serde_json::json!([{
            "path": "extra.txt",
            "oid": md5_hex(b"not pushed yet"),
            "state": "new",
        }])
    );
    let quiet = with_creds(root, &["status", "--cloud", "-q"])
        .output()
        .unwrap();
    assert_eq!(quiet.status.code(), Some(1), "a dirty cloud status exits 1");
}

#[test]
fn a_push_that_fails_midway_aborts_its_multipart_upload() {
    let moto = Moto::start();
    moto.create_bucket("bucket");
    let (dir, files) = repo_with_data(&moto, "s3://bucket/prefix");
    let root = dir.path();
    // Damage the big object in the cache, keeping its size: parts are sent before the
    // hash, complete only at the end of the file, can tell the bytes are wrong.
    let key = object_key(&md5_hex(&files["data/big.bin"]));
    let cached = root.join(".dvc/cache").join(&key);
    harness::flip_middle_byte(&cached);

    let output = with_creds(root, &["push"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is corrupt"), "{stderr}");
    let stored = moto.keys("bucket", "prefix/");
    assert!(!stored.contains(&format!("prefix/{key}")), "{stored:?}");
    // S3 keeps (and bills) the parts of an upload that is neither completed nor aborted.
    let uploads = String::from_utf8(moto.request("GET", "/bucket?uploads")).unwrap();
    assert!(!uploads.contains("<Upload>"), "{uploads}");
}

#[test]
fn gc_cloud_deletes_from_the_bucket_only_what_no_kept_pointer_references() {
    let moto = Moto::start();
    moto.create_bucket("bucket");
    let (dir, files) = repo_with_data(&moto, "s3://bucket/prefix");
    let root = dir.path();
    run_ok(&mut with_creds(root, &["push"]));
    std::fs::remove_file(root.join("model.bin")).unwrap();
    std::fs::write(root.join("model.bin"), b"retrained").unwrap();
    harness::ok(root, &["add", "model.bin"]);
    run_ok(&mut with_creds(root, &["push"]));
    // Keys datavc cannot name are someone else's: gc leaves them alone.
    moto.request("PUT", "/bucket/prefix/files/md5/notes.txt");
    moto.request("PUT", "/bucket/prefix/files/md5/ab/not-a-hash");
    let before = moto.keys("bucket", "prefix/");
    let old_model = md5_hex(&files["model.bin"]);
    let stale = format!("prefix/{}", object_key(&old_model));
    assert!(before.contains(&stale), "{before:?}");

    let listed = json(&run_ok(&mut with_creds(root, &["gc", "--cloud", "--json"])));
    let expected = serde_json::json!({
        "remote": "s3",
        "unused": [old_model],
        "bytes": files["model.bin"].len(),
    });
    assert_eq!(listed["cloud"], expected, "{listed}");
    assert_eq!(listed["unused"], serde_json::json!([old_model]), "{listed}");
    assert_eq!(
        moto.keys("bucket", "prefix/"),
        before,
        "a dry run deletes nothing"
    );

    let deleted = json(&run_ok(&mut with_creds(
        root,
        &["gc", "--cloud", "--force", "--json"],
    )));
    assert_eq!(deleted["deleted"], true, "{deleted}");
    let mut expected_keys = before;
    expected_keys.remove(&stale);
    assert_eq!(moto.keys("bucket", "prefix/"), expected_keys);

    let clone = tempfile::tempdir().unwrap();
    clone_pointers(root, clone.path());
    run_ok(&mut with_creds(clone.path(), &["pull"]));
    assert_eq!(
        std::fs::read(clone.path().join("model.bin")).unwrap(),
        b"retrained"
    );
    for (relpath, bytes) in files.iter().filter(|(path, _)| path.starts_with("data/")) {
        let restored = std::fs::read(clone.path().join(relpath)).unwrap();
        assert!(restored == *bytes, "{relpath} differs after gc and pull");
    }
}

/// Runs `datavc ARGS` with credentials and asserts it fails with exit code 1, saying that
/// remote `s3`'s bucket `no-such-bucket` does not exist.
fn fails_on_missing_bucket(dir: &Path, args: &[&str]) {
    let output = with_creds(dir, args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{args:?}, stderr:\n{stderr}");
    assert!(
        stderr.contains("remote `s3`: bucket `no-such-bucket` does not exist"),
        "{args:?}, stderr:\n{stderr}"
    );
    assert!(output.stdout.is_empty(), "{args:?} printed a report");
}

#[test]
fn a_missing_bucket_is_an_error_naming_remote_and_bucket_not_an_empty_remote() {
    let moto = Moto::start();
    let (dir, _) = repo_with_data(&moto, "s3://no-such-bucket/prefix");
    let root = dir.path();

    // S3 answers 404 for a missing bucket's objects as for missing objects; without a
    // check of the bucket, every object would read as `new`, or as missing on the remote.
    fails_on_missing_bucket(root, &["status", "--cloud", "--json"]);
    fails_on_missing_bucket(root, &["push"]);
    let clone = tempfile::tempdir().unwrap();
    clone_pointers(root, clone.path());
    fails_on_missing_bucket(clone.path(), &["fetch"]);
    fails_on_missing_bucket(clone.path(), &["pull"]);
    let cached = files_below(&clone.path().join(".dvc/cache"));
    assert!(cached.is_empty(), "the cache holds {cached:?}");
    assert!(!clone.path().join("data").exists());

    // Once the bucket exists the same repository pushes.
    moto.create_bucket("no-such-bucket");
    let pushed = json(&run_ok(&mut with_creds(root, &["push", "--json"])));
    assert_eq!(pushed["transferred"], 7, "{pushed}");
}

/// `datavc ARGS` in `dir` with no `AWS_*` variable at all in its environment, so that
/// whatever reaches S3 came from the repository's config files.
fn without_aws_env(dir: &Path, args: &[&str]) -> Command {
    let mut command = datavc(dir);
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command
}

/// Sets remote `s3`'s endpoint and moto's credentials in `.dvc/config.local` only.
fn configure_locally(root: &Path, moto: &Moto) {
    for (option, value) in [
        ("endpointurl", moto.endpoint()),
        ("access_key_id", "testing".to_owned()),
        ("secret_access_key", "testing".to_owned()),
    ] {
        harness::ok(root, &["remote", "modify", "--local", "s3", option, &value]);
    }
}

#[test]
fn credentials_and_endpoint_from_the_local_config_alone_reach_s3() {
    let moto = Moto::start();
    moto.create_bucket("private");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let files: BTreeMap<String, Vec<u8>> = [
        ("data/x.bin", Lcg::new(3).bytes(5_000)),
        ("data/y.txt", b"why\n".to_vec()),
    ]
    .into_iter()
    .map(|(path, bytes)| (path.to_owned(), bytes))
    .collect();
    harness::write_tree(root, &files);
    run_ok(Command::new("git").args(["init", "-q"]).current_dir(root));
    harness::ok(root, &["init", "--hash", "md5"]);
    harness::ok(root, &["add", "data"]);
    harness::ok(root, &["remote", "add", "-d", "s3", "s3://private/store"]);
    configure_locally(root, &moto);

    // The committed config names the bucket; the secret stays in the git-ignored file.
    let committed = std::fs::read_to_string(root.join(".dvc/config")).unwrap();
    assert!(!committed.contains("testing"), "{committed}");
    assert!(!committed.contains("endpointurl"), "{committed}");
    let local = std::fs::read_to_string(root.join(".dvc/config.local")).unwrap();
    assert!(local.contains("secret_access_key = testing"), "{local}");
    let check = Command::new("git")
        .args(["check-ignore", "-q", ".dvc/config.local"])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(check.success(), "git would commit .dvc/config.local");
    let listed = json(&harness::ok(root, &["remote", "list", "--json"]));
    assert_eq!(listed[0]["options"]["secret_access_key"], "***", "{listed}");

    let pushed = json(&run_ok(&mut without_aws_env(root, &["push", "--json"])));
    assert_eq!(pushed["transferred"], 3, "{pushed}");
    assert_eq!(moto.keys("private", "store/").len(), 3);

    // A clone has no config.local (git does not carry it) until its owner writes one.
    let clone = tempfile::tempdir().unwrap();
    clone_pointers(root, clone.path());
    assert!(!clone.path().join(".dvc/config.local").exists());
    configure_locally(clone.path(), &moto);
    let pulled = json(&run_ok(&mut without_aws_env(
        clone.path(),
        &["pull", "--json"],
    )));
    assert_eq!(pulled["fetch"]["transferred"], 3, "{pulled}");
    harness::assert_restored(clone.path(), &files);
}
