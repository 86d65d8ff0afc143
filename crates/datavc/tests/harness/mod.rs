//! Helpers shared by the end-to-end tests that drive the real `datavc` binary: running
//! it and git, deterministic test data, md5 of bytes and files, walking folders, the Python servers
//! beside the tests, and plain HTTP requests to the local servers some tests start.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use md5::{Digest, Md5};

/// A `datavc` command run in `dir`, with no cloud settings or shared DVC config leaking in
/// from the caller.
pub fn datavc(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_datavc"));
    command.current_dir(dir).env("NO_COLOR", "1");
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_ENDPOINT",
        "AWS_ENDPOINT_URL",
        "AWS_PROFILE",
        "GOOGLE_SERVICE_ACCOUNT",
        "GOOGLE_SERVICE_ACCOUNT_PATH",
        "GOOGLE_SERVICE_ACCOUNT_KEY",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "AZURE_STORAGE_CONNECTION_STRING",
        "AZURE_STORAGE_ACCOUNT",
        "AZURE_STORAGE_KEY",
        "AZURE_STORAGE_SAS_TOKEN",
    ] {
        command.env_remove(name);
    }
    // Neither this machine's nor its user's DVC config has a say (a folder never made).
    let no_shared_config = std::env::temp_dir().join("datavc-tests-no-shared-config");
    for name in ["DVC_GLOBAL_CONFIG_DIR", "DVC_SYSTEM_CONFIG_DIR"] {
        command.env(name, &no_shared_config);
    }
    command
}

/// Runs `datavc ARGS` in `dir` and returns its output, failing the test unless it succeeds.
pub fn ok(dir: &Path, args: &[&str]) -> Output {
    run_ok(datavc(dir).args(args))
}

/// Runs `datavc ARGS` in `dir`, fails the test unless it exits with `code` (and without a
/// panic), and returns its stderr.
pub fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    let output = datavc(dir)
        .args(args)
        .output()
        .expect("the datavc binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "datavc {args:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// Runs a prepared command, failing the test (with its output) unless it succeeds.
pub fn run_ok(command: &mut Command) -> Output {
    let output = command.output().expect("the program runs");
    assert!(
        output.status.success(),
        "{command:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `git ARGS` in `dir` with a throwaway identity, failing the test if git fails.
pub fn git(dir: &Path, args: &[&str]) -> Output {
    run_ok(&mut git_command(dir, args))
}

/// `git ARGS` in `dir` with a throwaway identity, to run.
pub fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir);
    command
}

/// The stdout of a `--json` run, parsed.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Fails the test unless `datavc fsck` in `dir` finds every cache object whole and every
/// object in the repository's default cache is read-only; `when` says at what point of
/// the test, for the failure message. Returns fsck's report.
#[track_caller]
pub fn assert_fsck_clean(dir: &Path, when: &str) -> serde_json::Value {
    let writable: Vec<String> = files_below(&dir.join(".dvc/cache/files"))
        .into_iter()
        .filter(|(_, path)| !std::fs::metadata(path).unwrap().permissions().readonly())
        .map(|(relpath, _)| relpath)
        .collect();
    assert!(
        writable.is_empty(),
        "cache objects {when} are writable: {writable:?}"
    );
    let output = datavc(dir)
        .args(["fsck", "--json"])
        .output()
        .expect("the datavc binary runs");
    let report = json(&output);
    assert!(
        output.status.success() && report["corrupt"] == serde_json::json!([]),
        "fsck {when} exited with {}: {report}",
        output.status
    );
    report
}

/// The md5 of `bytes`, in hex.
pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// The key of an md5 object below a remote or cache root: `files/md5/ab/cdef…`.
pub fn object_key(hex: &str) -> String {
    format!("files/md5/{}/{}", &hex[..2], &hex[2..])
}

/// A tiny linear congruential generator: deterministic data and delays without a crate.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next(&mut self) -> u64 {
        // Knuth's MMIX constants; the high bits are the good ones.
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    /// `len` pseudo-random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(len + 8);
        while bytes.len() < len {
            bytes.extend_from_slice(&self.next().to_le_bytes());
        }
        bytes.truncate(len);
        bytes
    }
}

/// Every file below `root` (following no links), by `/`-separated relative path.
pub fn files_below(root: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("cannot list {}: {e}", dir.display()),
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                pending.push(path);
            } else {
                let relpath = path
                    .strip_prefix(root)
                    .unwrap()
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                found.insert(relpath, path);
            }
        }
    }
    found
}

/// What the remote tests push and pull: a folder `data/` (nested, an empty file, and
/// `data/big.bin` of `big` bytes) and a file `model.bin`, by relative path.
pub fn remote_test_files(seed: u64, big: usize) -> BTreeMap<String, Vec<u8>> {
    let mut random = Lcg::new(seed);
    [
        ("data/a.txt", random.bytes(10)),
        ("data/sub/b.bin", random.bytes(70_000)),
        ("data/sub/deep/c.txt", b"deep\n".to_vec()),
        ("data/big.bin", random.bytes(big)),
        ("data/empty", Vec::new()),
        ("model.bin", random.bytes(1_000)),
    ]
    .into_iter()
    .map(|(path, bytes)| (path.to_owned(), bytes))
    .collect()
}

/// A new md5 repository holding [`remote_test_files`], with `data` and `model.bin` added:
/// what each remote test starts from.
pub fn repo_with_remote_test_files(
    seed: u64,
    big: usize,
) -> (tempfile::TempDir, BTreeMap<String, Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let files = remote_test_files(seed, big);
    write_tree(dir.path(), &files);
    ok(dir.path(), &["init", "--hash", "md5"]);
    ok(dir.path(), &["add", "data", "model.bin"]);
    (dir, files)
}

/// Fails the test unless every one of `files` (relative path → bytes) is below `root`,
/// whole: what a pull must have restored.
pub fn assert_restored(root: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (relpath, bytes) in files {
        let restored = std::fs::read(root.join(relpath)).unwrap();
        assert!(restored == *bytes, "{relpath} differs after pull");
    }
}

/// Lets a test damage an object datavc stored read-only.
pub fn make_writable(path: &Path) {
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(path, permissions).unwrap();
}

/// Damages a file datavc stored read-only without changing its size: one bit of its
/// middle byte flips.
pub fn flip_middle_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    make_writable(path);
    std::fs::write(path, &bytes).unwrap();
}

/// Writes `files` (relative path → bytes) below `root`, creating folders.
pub fn write_tree(root: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (relpath, bytes) in files {
        let path = root.join(relpath);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
}

/// Copies the files a git clone would have (`.dvc/config` and every `*.dvc` pointer) from
/// `from` into a new repository folder `to`: no cache, no data.
pub fn clone_pointers(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join(".dvc")).unwrap();
    std::fs::copy(from.join(".dvc/config"), to.join(".dvc/config")).unwrap();
    for (relpath, path) in files_below(from) {
        if relpath.ends_with(".dvc") && !relpath.starts_with(".dvc/") {
            let target = to.join(&relpath);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(path, target).unwrap();
        }
    }
}

/// The `md5: …` value of a pointer file's first output.
pub fn pointer_oid(pointer: &Path) -> String {
    let text = std::fs::read_to_string(pointer).unwrap();
    text.lines()
        .find_map(|line| line.trim_start_matches("- ").strip_prefix("md5: "))
        .unwrap_or_else(|| panic!("no md5 in {}:\n{text}", pointer.display()))
        .trim()
        .to_owned()
}

/// A port no one listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A Python server from this folder (`tests/NAME`) on a free port of loopback, started
/// as `NAME PORT ARGS…` once it prints `ready`, and stopped when dropped.
pub struct PythonServer {
    child: Child,
    /// The port it listens on.
    pub port: u16,
}

impl PythonServer {
    pub fn start(name: &str, args: &[&str]) -> PythonServer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join(name);
        let port = free_port();
        // Windows' virtual environments name their interpreter `python` only.
        let mut child = ["python3", "python"]
            .into_iter()
            .find_map(|python| {
                Command::new(python)
                    .arg(&script)
                    .arg(port.to_string())
                    .args(args)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .spawn()
                    .ok()
            })
            .unwrap_or_else(|| panic!("this test needs python3 (or python) to run {name}"));
        let mut first = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout).read_line(&mut first).unwrap();
        assert_eq!(first.trim(), "ready", "{name} did not start");
        PythonServer { child, port }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to a server on `127.0.0.1:port`, unauthenticated (the local test
/// servers check no signatures); its status and body.
pub fn http(port: u16, method: &str, target: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line in {head}")))?;
    Ok((status, response[split + 4..].to_vec()))
}

/// [`http`], failing the test unless the server answers 2xx; the body.
pub fn http_ok(port: u16, method: &str, target: &str, body: &[u8]) -> Vec<u8> {
    let (status, answer) = http(port, method, target, body).unwrap();
    assert!(
        (200..300).contains(&status),
        "{method} {target}: HTTP {status}\n{}",
        String::from_utf8_lossy(&answer)
    );
    answer
}
