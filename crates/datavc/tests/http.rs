//! End-to-end tests of HTTP remotes against a real static server (`python3 -m
//! http.server`): it can neither list nor take writes, so `pull` and `status --cloud` must
//! work one object at a time, and `push` must fail clearly without writing anything.

mod harness;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::{Lcg, clone_pointers, datavc, files_below, free_port, json, ok};

/// Python's static file server on a free local port, serving one folder; stopped when
/// dropped.
struct StaticServer {
    child: Child,
    port: u16,
}

impl StaticServer {
    fn serve(folder: &Path) -> StaticServer {
        let port = free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .current_dir(folder)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("these tests need python3 on PATH for its http.server");
        let mut server = StaticServer { child, port };
        let started = Instant::now();
        while !server.answers() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("python3 -m http.server exited with {status} before answering");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "python3 -m http.server did not answer within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let request = format!("HEAD / HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port);
        let mut reply = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut reply).is_ok()
            && reply.starts_with("HTTP/1.0 200")
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bytes of every file below `folder`, by relative path.
fn contents(folder: &Path) -> BTreeMap<String, Vec<u8>> {
    files_below(folder)
        .into_iter()
        .map(|(relpath, path)| (relpath, std::fs::read(path).unwrap()))
        .collect()
}

#[test]
fn pull_from_a_static_http_server_restores_the_data_and_push_to_it_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (root, served) = (dir.path().join("origin"), dir.path().join("served"));
    let mut random = Lcg::new(11);
    let files: BTreeMap<String, Vec<u8>> = [
        ("data/a.bin", random.bytes(200_000)),
        ("data/sub/b.txt", b"bee\n".to_vec()),
        ("data/empty", Vec::new()),
        ("model.bin", random.bytes(3_000)),
    ]
    .into_iter()
    .map(|(path, bytes)| (path.to_owned(), bytes))
    .collect();
    harness::write_tree(&root, &files);
    ok(&root, &["init", "--hash", "md5"]);
    ok(&root, &["add", "data", "model.bin"]);
    ok(
        &root,
        &["remote", "add", "-d", "folder", served.to_str().unwrap()],
    );
    ok(&root, &["push"]);

    let server = StaticServer::serve(&served);
    let clone = dir.path().join("clone");
    clone_pointers(&root, &clone);
    ok(&clone, &["remote", "add", "web", &server.url()]);

    // Nothing is cached yet: status asks the server object by object (HEAD).
    let cloud = json(&ok(&clone, &["status", "--cloud", "-r", "web", "--json"]));
    let states: Vec<&str> = cloud
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["deleted"; 5], "{cloud}");

    let pulled = json(&ok(&clone, &["pull", "-r", "web", "--json"]));
    assert_eq!(pulled["fetch"]["remote"], "web");
    assert_eq!(pulled["fetch"]["transferred"], 5, "{pulled}");
    harness::assert_restored(&clone, &files);
    let fsck = harness::assert_fsck_clean(&clone, "after pulling over HTTP");
    assert_eq!(fsck["checked"], 5, "{fsck}");
    let cloud = json(&ok(&clone, &["status", "--cloud", "-r", "web", "--json"]));
    assert_eq!(cloud, serde_json::json!([]));

    // The server takes no writes: push fails naming the remote and leaves it untouched.
    let before = contents(&served);
    std::fs::write(clone.join("data/new.txt"), b"not on the server").unwrap();
    ok(&clone, &["add", "data"]);
    let pushed = datavc(&clone).args(["push", "-r", "web"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&pushed.stderr);
    assert_eq!(pushed.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(
        stderr.contains("remote `web`: cannot upload files/md5/"),
        "{stderr}"
    );
    assert!(
        stderr.contains("501"),
        "the server's refusal is shown:\n{stderr}"
    );
    assert!(stderr.contains("accepts PUT"), "no hint:\n{stderr}");
    assert!(
        contents(&served) == before,
        "push changed the served folder"
    );
}
