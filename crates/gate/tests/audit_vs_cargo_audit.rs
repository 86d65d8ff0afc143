//! The built-in audit must agree with the real `cargo audit --db PATH --no-fetch` on the
//! same lockfile and database. These tests run the installed `cargo-audit` and FAIL when it
//! is missing (`cargo install cargo-audit --locked`): skipping would hide a disagreement.
//! The database is the read-only snapshot at `../shared/data/rustsec-advisory-db` from the
//! repository root, or `$GATE_ADVISORY_DB`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

type Key = (String, String, String, String);

fn advisory_db() -> PathBuf {
    if let Some(path) = std::env::var_os("GATE_ADVISORY_DB") {
        return PathBuf::from(path);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    workspace.join("../shared/data/rustsec-advisory-db")
}

/// (kind, advisory id, package, version) from `cargo audit --json`; kind is
/// `vulnerability` or the warning kind. Yanked warnings need the registry index, which
/// gate does not read, and are left out.
fn cargo_audit(lockfile: &Path, db: &Path) -> BTreeSet<Key> {
    let output = Command::new("cargo")
        .args(["audit", "--db"])
        .arg(db)
        .args(["--no-fetch", "--json", "-f"])
        .arg(lockfile)
        .output()
        .expect("cannot run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.trim().is_empty(),
        "`cargo audit` produced no JSON; is cargo-audit installed? (`cargo install cargo-audit --locked`)\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("cargo audit wrote JSON");
    let mut keys = BTreeSet::new();
    let key = |kind: &str, entry: &serde_json::Value| -> Key {
        (
            kind.to_owned(),
            entry["advisory"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            entry["package"]["name"].as_str().unwrap().to_owned(),
            entry["package"]["version"].as_str().unwrap().to_owned(),
        )
    };
    for entry in report["vulnerabilities"]["list"].as_array().unwrap() {
        keys.insert(key("vulnerability", entry));
    }
    if let Some(warnings) = report["warnings"].as_object() {
        for (kind, entries) in warnings {
            if kind == "yanked" {
                continue;
            }
            for entry in entries.as_array().unwrap() {
                keys.insert(key(kind, entry));
            }
        }
    }
    keys
}

fn gate_audit(lockfile: &Path, db: &Path) -> BTreeSet<Key> {
    let lockfile = gate::audit::Lockfile::read(lockfile).unwrap();
    let db = gate::audit::AdvisoryDb::open(db).unwrap();
    gate::audit::audit(&lockfile, &db, "Cargo.lock")
        .unwrap()
        .into_iter()
        .map(|finding| {
            let package = finding.package.unwrap();
            let kind = finding
                .informational
                .unwrap_or_else(|| "vulnerability".to_owned());
            (kind, finding.id, package.name, package.version)
        })
        .collect()
}

fn check(lockfile: &Path) -> BTreeSet<Key> {
    let db = advisory_db();
    assert!(
        db.join("crates").is_dir(),
        "the advisory database is missing at {}",
        db.display()
    );
    let expected = cargo_audit(lockfile, &db);
    let actual = gate_audit(lockfile, &db);
    assert_eq!(
        actual,
        expected,
        "gate (left) and cargo audit (right) disagree on {}",
        lockfile.display()
    );
    actual
}

#[test]
fn agrees_on_a_lockfile_of_known_vulnerable_versions() {
    let lockfile =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rust-vulnerable/Cargo.lock");
    let found = check(&lockfile);
    let vulnerabilities = found.iter().filter(|key| key.0 == "vulnerability").count();
    // Guard against agreeing on nothing: the fixture was built to have these.
    assert!(vulnerabilities >= 3, "{found:?}");
    assert!(found.iter().any(|key| key.0 == "unmaintained"), "{found:?}");
    assert!(found.iter().any(|key| key.0 == "unsound"), "{found:?}");
}

#[test]
fn agrees_on_the_workspace_lockfile() {
    let lockfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    check(&lockfile);
}
