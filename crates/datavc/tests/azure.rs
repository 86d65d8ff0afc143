//! End-to-end tests of an Azure remote: push (single and block uploads), `status --cloud`,
//! pull into a fresh clone, `gc --cloud`, with the account given as DVC users give it, by a
//! connection string in `.dvc/config.local` or in `AZURE_STORAGE_CONNECTION_STRING`.
//!
//! No Azure emulator can be installed here (Azurite comes from npm), so the server is
//! `azure_blob_fake.py` beside this file: the Blob REST calls an object store makes, in
//! memory, with every request's Shared Key signature checked as Azure checks it. It needs
//! only Python 3; without it the tests fail, they never skip.

mod harness;

use std::collections::BTreeMap;
use std::path::Path;

use harness::{PythonServer, clone_pointers, datavc, json, md5_hex, run_ok};

const ACCOUNT: &str = "devstoreaccount1";
/// Azurite's published development key; the fake accepts whatever key it is started with.
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// The fake Blob service with one container, `container`, stopped when dropped.
struct FakeAzure(PythonServer);

impl FakeAzure {
    fn start() -> FakeAzure {
        FakeAzure(PythonServer::start(
            "azure_blob_fake.py",
            &[ACCOUNT, KEY, "container"],
        ))
    }

    /// A connection string as the Azure portal or Azurite gives one, signing with `key`.
    fn connection_string(&self, key: &str) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};\
             BlobEndpoint=http://127.0.0.1:{}/{ACCOUNT};",
            self.0.port
        )
    }
}

/// A repository with `data/` (one file over the 16 MiB single-upload limit) and
/// `model.bin` added, and the default remote `az` in `container/prefix`, its connection
/// string in `.dvc/config.local`.
fn repo_with_data(connection_string: &str) -> (tempfile::TempDir, BTreeMap<String, Vec<u8>>) {
    let (dir, files) = harness::repo_with_remote_test_files(11, (17 << 20) + 99);
    let remote = ["remote", "add", "-d", "az", "azure://container/prefix"];
    harness::ok(dir.path(), &remote);
    set_connection_string(dir.path(), connection_string);
    (dir, files)
}

fn set_connection_string(root: &Path, value: &str) {
    let modify = [
        "remote",
        "modify",
        "--local",
        "az",
        "connection_string",
        value,
    ];
    harness::ok(root, &modify);
}

fn unused_on_remote(root: &Path) -> serde_json::Value {
    let report = json(&run_ok(datavc(root).args(["gc", "--cloud", "--json"])));
    report["cloud"]["unused"].clone()
}

#[test]
fn push_pull_and_gc_through_a_connection_string() {
    let azure = FakeAzure::start();
    let (dir, files) = repo_with_data(&azure.connection_string(KEY));
    let root = dir.path();

    let pushed = json(&run_ok(datavc(root).args(["push", "--json"])));
    assert_eq!(pushed["remote"], "az");
    assert_eq!(pushed["transferred"], 7, "{pushed}");
    let cloud = json(&run_ok(datavc(root).args(["status", "--cloud", "--json"])));
    assert_eq!(cloud, serde_json::json!([]));
    let again = json(&run_ok(datavc(root).args(["push", "--json"])));
    assert_eq!(again["transferred"], 0, "{again}");

    // The clone has no config.local: the environment variable DVC reads says the same.
    let clone = tempfile::tempdir().unwrap();
    clone_pointers(root, clone.path());
    let mut pull = datavc(clone.path());
    pull.args(["pull", "--json"]).env(
        "AZURE_STORAGE_CONNECTION_STRING",
        azure.connection_string(KEY),
    );
    let pulled = json(&run_ok(&mut pull));
    assert_eq!(pulled["fetch"]["transferred"], 7, "{pulled}");
    harness::assert_restored(clone.path(), &files);
    run_ok(datavc(clone.path()).args(["status", "-q"]));

    std::fs::remove_file(root.join("model.bin")).unwrap();
    std::fs::write(root.join("model.bin"), b"retrained").unwrap();
    harness::ok(root, &["add", "model.bin"]);
    run_ok(datavc(root).args(["push"]));
    let old_model = md5_hex(&files["model.bin"]);
    assert_eq!(unused_on_remote(root), serde_json::json!([old_model]));
    run_ok(datavc(root).args(["gc", "--cloud", "--force"]));
    assert_eq!(unused_on_remote(root), serde_json::json!([]));
}

#[test]
fn a_wrong_key_or_a_broken_connection_string_is_a_clear_error() {
    let azure = FakeAzure::start();
    let wrong_key = "d3Jvbmcga2V5";
    let (dir, _) = repo_with_data(&azure.connection_string(wrong_key));
    let root = dir.path();
    let stderr = harness::fails(root, &["push"], 1);
    assert!(stderr.contains("AuthenticationFailed"), "{stderr}");

    set_connection_string(root, "AccountName");
    let stderr = harness::fails(root, &["push"], 2);
    assert!(
        stderr.contains("`AccountName` is not Key=Value"),
        "{stderr}"
    );
}
