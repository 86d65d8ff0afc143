//! Interoperability with the real DVC (PyPI `dvc`, 3.x): a repository and remote written
//! by datavc in md5 mode are up to date for DVC and `dvc pull` restores them, and a
//! repository and remote written by DVC are read, checked out and pulled by datavc, both
//! read nested `.dvcignore` files alike, both share every level of DVC's config, both
//! push, keep and pull the outputs of DVC's pipeline stages alike, both send an output
//! with its own `remote:` there, both report the same `diff`, both pull a path inside a
//! tracked folder alone, both move the objects of all branches, tags or commits alike,
//! both `move` outputs alike, each `get`s from the other's data registry what its peer
//! would, both pull the outputs DVC imported from a registry alike, and both `gc` alike.
//!
//! DVC is found through `DATAVC_DVC`, else `dvc` on `PATH`; `.ci/run` installs it. Without
//! it these tests fail: compatibility is a promise, not an option.

mod harness;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use harness::md5_hex;

fn dvc_program() -> PathBuf {
    if let Some(path) = std::env::var_os("DATAVC_DVC") {
        return PathBuf::from(path);
    }
    let found = Command::new("dvc").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "DVC is needed: `pip install 'dvc[s3]==3.67.1'` and put it on PATH, or set DATAVC_DVC"
    );
    PathBuf::from("dvc")
}

fn run(program: &Path, args: &[&str], dir: &Path) -> String {
    run_env(program, args, dir, &[])
}

/// Like [`run`], with more environment variables.
fn run_env(program: &Path, args: &[&str], dir: &Path, env: &[(&str, &Path)]) -> String {
    let output: Output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .env("DVC_NO_ANALYTICS", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{} {args:?} failed:\n{}{}",
        program.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn datavc(args: &[&str], dir: &Path) -> String {
    run(Path::new(env!("CARGO_BIN_EXE_datavc")), args, dir)
}

fn git(args: &[&str], dir: &Path) {
    run(Path::new("git"), args, dir);
}

/// A new folder made a git repository and then a DVC repository by `dvc init`.
fn dvc_repo(dvc: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(&["init", "-q"], dir.path());
    run(dvc, &["init", "-q"], dir.path());
    dir
}

/// `dir/origin`, made a git repository and then a DVC repository by `dvc init`, for tests
/// that keep remotes and clones beside it.
fn dvc_origin(dvc: &Path, dir: &Path) -> PathBuf {
    let root = dir.join("origin");
    fs::create_dir(&root).unwrap();
    git(&["init", "-q"], &root);
    run(dvc, &["init", "-q"], &root);
    root
}

/// [`dvc_origin`] with a default folder remote `store` at `dir/remote`, which it returns too.
fn dvc_origin_with_remote(dvc: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let root = dvc_origin(dvc, dir);
    let remote = dir.join("remote");
    let url = remote.to_str().unwrap();
    run(dvc, &["remote", "add", "-d", "store", url], &root);
    (root, remote)
}

/// Writes each `(path, bytes)` below `root`, making folders as needed.
fn write_files<B: AsRef<[u8]>>(root: &Path, files: &[(&str, B)]) {
    for (path, bytes) in files {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
}

/// A git clone of `root`, beside it, named `name`.
fn clone_beside(root: &Path, name: &str) -> PathBuf {
    let clone = root.with_file_name(name);
    let (from, to) = (root.to_str().unwrap(), clone.to_str().unwrap());
    git(&["clone", "-q", from, to], root.parent().unwrap());
    clone
}

/// A copy of `root` beside it, named `name`: its data, cache and git history, for
/// running the other tool on the same start.
fn copy_beside(root: &Path, name: &str) -> PathBuf {
    let copy = root.with_file_name(name);
    let copied = Command::new("cp").arg("-a").arg(root).arg(&copy).status();
    assert!(copied.unwrap().success(), "cp -a {}", root.display());
    copy
}

/// Names that catch ordering and escaping differences in `.dir` manifests and `.gitignore`.
fn tricky_data(root: &Path) {
    let files: &[(&str, &[u8])] = &[
        ("data/a-b/x", b"1"),
        ("data/a.b", b"2"),
        ("data/a/b", b"3"),
        ("data/a/c/d", b"4"),
        ("data/a0", b"5"),
        ("data/A_upper", b"6"),
        ("data/crlf.txt", b"one\r\ntwo\r\n"),
        ("data/empty.txt", b""),
        ("data/h\u{e9}llo_\u{65e5}\u{672c}.txt", "ünï".as_bytes()),
        ("data/sub/deep/weights.bin", &[0u8, 1, 2, 255]),
        ("#hash [1].bin", b"odd name"),
        ("model.safetensors", b"weights"),
    ];
    write_files(root, files);
}

fn same_tree(a: &Path, b: &Path, paths: &[&str]) {
    for path in paths {
        let walk = |root: &Path| -> Vec<(String, Vec<u8>)> {
            let mut files: Vec<_> = walkdir(root.join(path))
                .into_iter()
                .map(|p| {
                    (
                        p.strip_prefix(root).unwrap().display().to_string(),
                        fs::read(&p).unwrap(),
                    )
                })
                .collect();
            files.sort();
            files
        };
        assert_eq!(walk(a), walk(b), "{path} differs");
    }
}

fn walkdir(path: PathBuf) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path];
    }
    fs::read_dir(&path)
        .unwrap()
        .flat_map(|e| walkdir(e.unwrap().path()))
        .collect()
}

/// Commits the origin's pointers and clones it beside itself: pointers and config, no data.
fn commit_and_clone(root: &Path) -> PathBuf {
    git(&["add", "-A"], root);
    git(&["commit", "-qm", "data"], root);
    clone_beside(root, "clone")
}

const OUTPUTS: [&str; 3] = ["data", "#hash [1].bin", "model.safetensors"];

#[test]
fn dvc_sees_a_datavc_repository_as_up_to_date_and_pulls_it() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let (root, remote) = (dir.path().join("origin"), dir.path().join("remote"));
    fs::create_dir(&root).unwrap();
    git(&["init", "-q"], &root);
    datavc(&["init", "--hash", "md5"], &root);
    tricky_data(&root);
    datavc(
        &["add", "data", "#hash [1].bin", "model.safetensors"],
        &root,
    );
    datavc(
        &["remote", "add", "-d", "shared", remote.to_str().unwrap()],
        &root,
    );
    datavc(&["push"], &root);
    assert_eq!(
        run(&dvc, &["status"], &root).trim(),
        "Data and pipelines are up to date."
    );
    assert_eq!(
        run(&dvc, &["status", "--cloud"], &root).trim(),
        "Cache and remote 'shared' are in sync."
    );
    let clone = commit_and_clone(&root);
    run(&dvc, &["pull"], &clone);
    same_tree(&root, &clone, &OUTPUTS);
    assert_eq!(
        run(&dvc, &["status"], &clone).trim(),
        "Data and pipelines are up to date."
    );
}

#[test]
fn datavc_reads_checks_out_and_pulls_a_dvc_repository() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let (root, remote) = (dvc_origin(&dvc, dir.path()), dir.path().join("remote"));
    tricky_data(&root);
    run(
        &dvc,
        &["add", "-q", "data", "#hash [1].bin", "model.safetensors"],
        &root,
    );
    run(
        &dvc,
        &["remote", "add", "-d", "shared", remote.to_str().unwrap()],
        &root,
    );
    run(&dvc, &["push", "-q"], &root);
    assert_eq!(datavc(&["status"], &root), "data is up to date\n");
    assert_eq!(
        datavc(&["status", "--cloud"], &root),
        "cache and remote are in sync\n"
    );
    let clone = commit_and_clone(&root);
    datavc(&["pull"], &clone);
    same_tree(&root, &clone, &OUTPUTS);
    assert_eq!(datavc(&["status"], &clone), "data is up to date\n");
    assert_eq!(
        run(&dvc, &["status"], &clone).trim(),
        "Data and pipelines are up to date."
    );

    // Both tools on one remote: what datavc adds and pushes, DVC pulls.
    fs::write(clone.join("data/added-by-datavc.txt"), b"new").unwrap();
    datavc(&["add", "data"], &clone);
    datavc(&["push"], &clone);
    git(&["add", "-A"], &clone);
    git(&["commit", "-qm", "more data"], &clone);
    git(&["pull", "-q", clone.to_str().unwrap()], &root);
    run(&dvc, &["pull"], &root);
    assert_eq!(
        fs::read(root.join("data/added-by-datavc.txt")).unwrap(),
        b"new"
    );

    // datavc's gc on the shared remote takes the old folder's manifest and nothing DVC
    // still needs: DVC finds the remote in sync, and a fresh clone pulls from it.
    let gc = datavc(&["gc", "--cloud", "--force", "--json"], &root);
    let gc: serde_json::Value = serde_json::from_str(&gc).unwrap();
    let pointer = fs::read_to_string(root.join("data.dvc")).unwrap();
    let unused = gc["cloud"]["unused"].as_array().unwrap();
    assert_eq!(unused.len(), 1, "{gc}");
    let unused = unused[0].as_str().unwrap();
    assert!(
        unused.ends_with(".dir") && !pointer.contains(unused),
        "{gc}"
    );
    assert_eq!(
        run(&dvc, &["status", "--cloud"], &root).trim(),
        "Cache and remote 'shared' are in sync."
    );
    let fresh = clone_beside(&clone, "fresh");
    run(&dvc, &["pull"], &fresh);
    same_tree(&clone, &fresh, &OUTPUTS);
}

/// A tree with `.dvcignore` files at the root and in `ws/`, above the tracked `ws/data`:
/// negation, anchoring to the file's folder, folder patterns, and a pattern with a slash.
fn nested_ignore_tree(root: &Path) {
    let files: &[(&str, &str)] = &[
        (".dvcignore", "*.bak\n"),
        (
            "ws/.dvcignore",
            "*.log\n!keep.log\ntmp/\n/data/anchored.txt\ndata/sub/deep\n",
        ),
        ("ws/data/a.log", "a"),
        ("ws/data/sub/keep.log", "k"),
        ("ws/data/sub/c.txt", "c"),
        ("ws/data/sub/deep/d.txt", "d"),
        ("ws/data/tmp/t", "t"),
        ("ws/data/x/tmp/t2", "t2"),
        ("ws/data/anchored.txt", "an"),
        ("ws/data/x/anchored.txt", "an2"),
        ("ws/data/z.bak", "bak"),
        ("ws/data/y", "y"),
    ];
    write_files(root, files);
}

/// The bytes of the `.dir` manifest that `pointer`'s output names, from `root`'s cache.
fn cached_manifest(root: &Path, pointer: &str) -> (String, Vec<u8>) {
    let text = fs::read_to_string(root.join(pointer)).unwrap();
    let oid = text
        .lines()
        .find_map(|line| line.trim_start_matches("- ").strip_prefix("md5: "))
        .unwrap_or_else(|| panic!("no md5 in {pointer}:\n{text}"))
        .trim()
        .to_owned();
    let path = root
        .join(".dvc/cache/files/md5")
        .join(&oid[..2])
        .join(&oid[2..]);
    (oid, fs::read(path).unwrap())
}

#[test]
fn nested_dvcignore_files_exclude_what_dvc_excludes() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let (by_dvc, by_datavc) = (dir.path().join("dvc"), dir.path().join("datavc"));
    for root in [&by_dvc, &by_datavc] {
        fs::create_dir(root).unwrap();
        git(&["init", "-q"], root);
    }
    run(&dvc, &["init", "-q"], &by_dvc);
    datavc(&["init", "--hash", "md5"], &by_datavc);
    for root in [&by_dvc, &by_datavc] {
        nested_ignore_tree(root);
    }
    run(&dvc, &["add", "-q", "ws/data"], &by_dvc);
    datavc(&["add", "ws/data"], &by_datavc);
    let (dvc_oid, dvc_manifest) = cached_manifest(&by_dvc, "ws/data.dvc");
    let (oid, manifest) = cached_manifest(&by_datavc, "ws/data.dvc");
    assert_eq!(
        String::from_utf8_lossy(&manifest),
        String::from_utf8_lossy(&dvc_manifest)
    );
    assert_eq!(oid, dvc_oid);
    let listed = String::from_utf8(manifest).unwrap();
    for kept in ["sub/c.txt", "sub/keep.log", "x/anchored.txt", "\"y\""] {
        assert!(listed.contains(kept), "{kept} missing from {listed}");
    }
    assert_eq!(listed.matches("relpath").count(), 4, "{listed}");

    // Each tool's result reads as up to date for the other.
    assert_eq!(datavc(&["status"], &by_dvc), "data is up to date\n");
    assert_eq!(
        run(&dvc, &["status"], &by_datavc).trim(),
        "Data and pipelines are up to date."
    );
}

#[test]
fn a_dvcignore_inside_a_tracked_folder_is_refused_as_dvc_refuses_it() {
    let dvc = dvc_program();
    let dir = dvc_repo(&dvc);
    let root = dir.path();
    for (path, text) in [("data/keep", "k"), ("data/sub/.dvcignore", "*.tmp\n")] {
        fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
        fs::write(root.join(path), text).unwrap();
    }
    let by_dvc = Command::new(&dvc)
        .args(["add", "data"])
        .current_dir(root)
        .env("DVC_NO_ANALYTICS", "1")
        .output()
        .unwrap();
    assert!(!by_dvc.status.success(), "DVC tracked it after all");
    let refused = Command::new(env!("CARGO_BIN_EXE_datavc"))
        .args(["add", "data"])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("data/sub/.dvcignore"), "{stderr}");
    assert!(stderr.contains("inside the tracked folder"), "{stderr}");
    assert!(!root.join("data.dvc").exists());
    assert!(
        !root.join(".dvc/cache/files").exists(),
        "add cached data it refused"
    );
}

/// `config` writes options DVC reads back, with DVC's own names, and reads what `dvc config`
/// wrote: both tools share `.dvc/config` and `.dvc/config.local`.
#[test]
fn config_options_are_shared_with_dvc_config() {
    let dvc = dvc_program();
    let dir = dvc_repo(&dvc);
    let root = dir.path();
    datavc(&["remote", "add", "store", "s3://bucket/store"], root);
    datavc(&["config", "core.remote", "store"], root);
    datavc(&["config", "cache.type", "hardlink,symlink"], root);
    datavc(&["config", "remote.store.region", "eu-west-1"], root);
    datavc(
        &[
            "config",
            "--local",
            "remote.store.secret_access_key",
            "s3cr3t",
        ],
        root,
    );
    datavc(&["config", "remote.backup.url", "/srv/backup"], root);
    let listed = run(&dvc, &["config", "--list"], root);
    for line in [
        "core.remote=store",
        // DVC lists the link types it parsed out of the value.
        "cache.type=['hardlink', 'symlink']",
        "remote.store.url=s3://bucket/store",
        "remote.store.region=eu-west-1",
        "remote.store.secret_access_key=s3cr3t",
        "remote.backup.url=/srv/backup",
    ] {
        assert!(listed.lines().any(|l| l == line), "{line} in:\n{listed}");
    }

    // Both store a relative folder given on the command line relative to `.dvc/`.
    run(&dvc, &["config", "cache.dir", "../dvc-cache"], root);
    run(&dvc, &["config", "--unset", "remote.store.region"], root);
    assert_eq!(datavc(&["config", "cache.dir"], root), "../../dvc-cache\n");
    datavc(&["config", "cache.dir", "../datavc-cache"], root);
    datavc(&["config", "--unset", "cache.type"], root);
    // DVC prints the folder it resolved.
    let resolved = root.parent().unwrap().join("datavc-cache");
    assert_eq!(
        run(&dvc, &["config", "cache.dir"], root),
        format!("{}\n", resolved.display())
    );
    let ours = datavc(&["config", "--list"], root);
    assert!(
        ours.contains("remote.store.secret_access_key=***\n"),
        "{ours}"
    );
    assert!(
        !ours.contains("region") && !ours.contains("cache.type"),
        "{ours}"
    );
    assert_eq!(
        datavc(&["config", "remote.store.secret_access_key"], root),
        "s3cr3t\n"
    );

    // A rename takes the options set `--local` (credentials) along, and the default.
    datavc(&["remote", "rename", "store", "team"], root);
    let listed = run(&dvc, &["config", "--list"], root);
    for line in [
        "core.remote=team",
        "remote.team.url=s3://bucket/store",
        "remote.team.secret_access_key=s3cr3t",
    ] {
        assert!(listed.lines().any(|l| l == line), "{line} in:\n{listed}");
    }
    assert!(!listed.contains("remote.store."), "{listed}");
}

/// DVC's user-wide (`--global`) and machine-wide (`--system`) config files are read and
/// written as DVC reads and writes them: remotes and `cache.dir` set there by either tool
/// serve both, a relative path in them starts from the file's own folder, the
/// repository's files shadow them, and only a flag lets `remote remove` touch them.
#[test]
fn global_and_system_configs_are_shared_with_dvc() {
    let dvc = dvc_program();
    let datavc_exe = PathBuf::from(env!("CARGO_BIN_EXE_datavc"));
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("repo");
    fs::create_dir(&root).unwrap();
    // Deeper than the repository, so that a path resolved from the wrong folder misses.
    let global = base.path().join("home/.config/dvc");
    let system = base.path().join("etc/xdg/dvc");
    let env = [
        ("DVC_GLOBAL_CONFIG_DIR", global.as_path()),
        ("DVC_SYSTEM_CONFIG_DIR", system.as_path()),
    ];
    let dvc = |args: &[&str]| run_env(&dvc, args, &root, &env);
    let datavc = |args: &[&str]| run_env(&datavc_exe, args, &root, &env);
    git(&["init", "-q"], &root);
    dvc(&["init", "-q"]);
    dvc(&["cache", "dir", "--global", "../shared-cache"]);
    dvc(&["remote", "add", "--system", "site", "../site-store"]);
    dvc(&["remote", "add", "--global", "-d", "shared", "../store"]);
    assert!(
        fs::read_to_string(global.join("config"))
            .unwrap()
            .contains("../../../store")
    );

    fs::write(root.join("weights.bin"), b"shared weights").unwrap();
    let added = datavc(&["add", "weights.bin", "--json"]);
    let oid = serde_json::from_str::<serde_json::Value>(&added).unwrap()[0]["oid"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = format!("files/md5/{}/{}", &oid[..2], &oid[2..]);
    assert!(
        base.path().join("shared-cache").join(&key).is_file(),
        "cache.dir --global"
    );
    let remotes: serde_json::Value =
        serde_json::from_str(&datavc(&["remote", "list", "--json"])).unwrap();
    let url_of = |name: &str| {
        let remotes = remotes.as_array().unwrap().iter();
        let remote = remotes.into_iter().find(|r| r["name"] == name).unwrap();
        PathBuf::from(remote["url"].as_str().unwrap())
    };
    assert_eq!(url_of("shared"), base.path().join("store"));
    assert_eq!(url_of("site"), base.path().join("site-store"));
    datavc(&["push"]);
    assert!(
        base.path().join("store").join(&key).is_file(),
        "pushed to the global default"
    );
    assert_eq!(
        dvc(&["status", "--cloud"]).trim(),
        "Cache and remote 'shared' are in sync."
    );

    // The project's file shadows the shared ones, for both tools.
    datavc(&["remote", "default", "site"]);
    assert_eq!(dvc(&["remote", "default"]).trim(), "site");
    datavc(&["push"]);
    assert!(base.path().join("site-store").join(&key).is_file());

    // datavc writes the user's file as DVC does, relative to its folder.
    datavc(&["remote", "add", "--global", "backup", "../backup"]);
    let listed = dvc(&["remote", "list", "--global"]);
    let backup = base.path().join("backup");
    let backup_line = format!("backup {}", backup.display());
    assert!(
        listed
            .lines()
            .any(|line| line.split_whitespace().collect::<Vec<_>>().join(" ") == backup_line),
        "{listed}"
    );
    datavc(&["push", "-r", "backup"]);
    assert!(backup.join(&key).is_file());
    let refused = |args: &[&str]| {
        let output = Command::new(&datavc_exe)
            .args(args)
            .current_dir(&root)
            .envs(env)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        stderr
    };
    let stderr = refused(&["remote", "remove", "backup"]);
    assert!(stderr.contains("remote remove --global backup"), "{stderr}");
    datavc(&["remote", "remove", "--global", "backup"]);
    assert!(!dvc(&["remote", "list"]).contains("backup"));

    // A rename, as `dvc remote rename`: the section, and the default where it was one.
    datavc(&["remote", "rename", "site", "mirror", "--system"]);
    assert_eq!(dvc(&["remote", "default"]).trim(), "mirror");
    let listed = dvc(&["remote", "list"]);
    assert!(
        listed.contains("mirror") && !listed.contains("site\t"),
        "{listed}"
    );
    assert!(listed.contains("site-store"), "{listed}");
    let stderr = refused(&["remote", "rename", "--system", "mirror", "shared"]);
    assert!(
        stderr.contains("remote `shared` already exists"),
        "{stderr}"
    );
    let stderr = refused(&["remote", "rename", "shared", "team"]);
    assert!(
        stderr.contains("remote rename --global shared team"),
        "{stderr}"
    );
}

/// A DVC pipeline: a folder output, an output above its stage's `wdir`, a metric and a
/// templated output kept out of the cache, `foreach` outputs over `params.yaml` kept off
/// remotes, an output named by a float and by vars merged from two files, and a `foreach`
/// stage whose `wdir` is its item.
const PIPELINE: &str = "vars:
- scratch: scratch.json
- more.yaml
stages:
  prep:
    cmd: mkdir -p prepared && cp raw.txt prepared/a && echo b > prepared/b
    deps: [raw.txt]
    outs: [prepared]
  train:
    cmd: echo model > ../model.bin && echo 1 > metrics.json
    wdir: src
    deps: [../prepared]
    outs: [../model.bin]
    metrics:
    - metrics.json:
        cache: false
  build:
    cmd: echo s > ${scratch} && echo final > final.csv
    outs:
    - ${scratch}:
        cache: false
    - final.csv
  each:
    foreach: ${letters}
    do:
      cmd: echo ${item} > out-${item}.txt
      outs:
      - out-${item}.txt:
          push: false
  tune:
    cmd: echo t > tuned-${model.lr}-${model.tag}.txt
    outs:
    - tuned-${model.lr}-${model.tag}.txt
  per_dir:
    foreach: [w1]
    do:
      wdir: ${item}
      cmd: echo w > out.txt
      outs: [out.txt]
";

/// The pipeline's `params.yaml`, once its `foreach` has lost item `y`.
const PARAMS: &str = "letters: [x]\nmodel: {lr: 0.00001}\n";

/// Runs datavc where it should fail with `code`; returns its stderr.
fn datavc_fails(args: &[&str], dir: &Path, code: i32) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_datavc"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "datavc {args:?}: {stderr}"
    );
    stderr
}

/// The files below `root`, as `/`-separated paths relative to it, sorted.
fn relative_files(root: &Path) -> Vec<String> {
    let mut files: Vec<String> = walkdir(root.to_owned())
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect();
    files.sort();
    files
}

/// [`relative_files`] outside `.dvc/` and `.git/`.
fn workspace_files(root: &Path) -> Vec<String> {
    let files = relative_files(root).into_iter();
    files
        .filter(|f| !f.starts_with(".dvc/") && !f.starts_with(".git/"))
        .collect()
}

#[test]
fn pipeline_outputs_are_pushed_kept_and_pulled_as_dvc_does() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let root = dvc_origin(&dvc, dir.path());
    let (ours, theirs) = (dir.path().join("ours"), dir.path().join("theirs"));
    fs::create_dir(root.join("src")).unwrap();
    fs::create_dir(root.join("w1")).unwrap();
    fs::write(root.join("raw.txt"), "raw\n").unwrap();
    fs::write(root.join("params.yaml"), PARAMS.replace("[x]", "[x, y]")).unwrap();
    fs::write(root.join("more.yaml"), "model: {tag: t}\n").unwrap();
    fs::write(root.join("dvc.yaml"), PIPELINE).unwrap();
    run(&dvc, &["repro", "-q"], &root);
    assert_eq!(datavc(&["status"], &root), "data is up to date\n");
    let listed: serde_json::Value =
        serde_json::from_str(&datavc(&["ls", "--json"], &root)).unwrap();
    let mut listed: Vec<&str> = (listed.as_array().unwrap().iter())
        .map(|entry| entry["path"].as_str().unwrap())
        .collect();
    listed.sort();
    let outputs = [
        "final.csv",
        "model.bin",
        "out-x.txt",
        "out-y.txt",
        "prepared",
        "tuned-1e-05-t.txt",
        "w1/out.txt",
    ];
    assert_eq!(listed, outputs);
    fs::write(root.join("model.bin"), "edited\n").unwrap();
    assert_eq!(datavc(&["status"], &root), "     modified: model.bin\n");
    datavc(&["checkout", "--force", "model.bin"], &root);
    assert_eq!(
        fs::read_to_string(root.join("model.bin")).unwrap(),
        "model\n"
    );
    // Outputs kept out of the cache are compared, as DVC compares them, and left alone.
    fs::write(root.join("src/metrics.json"), "2\n").unwrap();
    fs::remove_file(root.join("scratch.json")).unwrap();
    let dvc_status = run(&dvc, &["status", "--json"], &root);
    let dvc_status: serde_json::Value = serde_json::from_str(&dvc_status).unwrap();
    assert_eq!(
        dvc_status,
        serde_json::json!({
            "train": [{"changed outs": {"src/metrics.json": "modified"}}],
            "build": [{"changed outs": {"scratch.json": "deleted"}}],
        })
    );
    let changes = |args: &[&str]| -> Vec<(String, String)> {
        let args = [&["status", "--json"], args].concat();
        let report: serde_json::Value = serde_json::from_str(&datavc(&args, &root)).unwrap();
        let entries = report.as_array().unwrap().iter();
        let changed = entries.filter(|e| e["change"] != "clean");
        changed
            .map(|e| {
                (
                    e["path"].as_str().unwrap().into(),
                    e["change"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let both = [
        ("scratch.json", "deleted"),
        ("src/metrics.json", "modified"),
    ];
    let both = both.map(|(path, change)| (path.to_owned(), change.to_owned()));
    let mut all = changes(&[]);
    all.sort();
    assert_eq!(all, both);
    assert_eq!(changes(&["src/metrics.json"]), both[1..]);
    assert_eq!(changes(&["train"]), both[1..]);
    assert_eq!(changes(&["dvc.yaml:build"]), both[..1]);
    datavc(&["checkout"], &root);
    datavc(&["checkout", "src/metrics.json"], &root);
    assert!(!root.join("scratch.json").exists());
    assert_eq!(
        fs::read_to_string(root.join("src/metrics.json")).unwrap(),
        "2\n"
    );
    fs::write(root.join("src/metrics.json"), "1\n").unwrap();
    fs::write(root.join("scratch.json"), "s\n").unwrap();
    assert_eq!(datavc(&["status"], &root), "data is up to date\n");

    for output in ["prepared/a", "scratch.json", "src"] {
        let stderr = datavc_fails(&["add", output], &root, 2);
        assert!(stderr.contains("pipeline stage (dvc.yaml)"), "{stderr}");
    }
    run(
        &dvc,
        &["remote", "add", "theirs", theirs.to_str().unwrap()],
        &root,
    );
    datavc(
        &["remote", "add", "-d", "ours", ours.to_str().unwrap()],
        &root,
    );

    // The same objects reach the remote from either tool: outputs of every stage, not
    // the metric and scratch file DVC never cached, nor the outputs marked `push: false`.
    datavc(&["push"], &root);
    run(&dvc, &["push", "-q", "-r", "theirs"], &root);
    assert_eq!(relative_files(&ours), relative_files(&theirs));
    assert_eq!(
        relative_files(&ours).len(),
        7,
        "{:?}",
        relative_files(&ours)
    );
    assert_eq!(
        datavc(&["status", "--cloud"], &root),
        "cache and remote are in sync\n"
    );

    // gc keeps every stage's outputs and lists just what DVC's gc deletes: the object no
    // pointer references, and the metric that DVC's run cache alone stored.
    fs::write(root.join("junk"), "junk").unwrap();
    let added: serde_json::Value =
        serde_json::from_str(&datavc(&["add", "junk", "--json"], &root)).unwrap();
    fs::remove_file(root.join("junk.dvc")).unwrap();
    fs::remove_file(root.join("junk")).unwrap();
    let listed = gc_like_dvc(&dvc, &root, &[], &["-w"]);
    assert!(
        listed.contains(&added[0]["oid"].as_str().unwrap().to_owned()),
        "{listed:?}"
    );
    assert_eq!(
        run(&dvc, &["status"], &root).trim(),
        "Data and pipelines are up to date."
    );

    // A clone pulls what was pushed, then fails naming what was kept local, as DVC does;
    // checkout too restores what the cache has before it names what it lacks.
    let clone = commit_and_clone(&root);
    let stderr = datavc_fails(&["pull"], &clone, 1);
    assert!(
        stderr.contains("2 object(s) missing") && stderr.contains("out-"),
        "{stderr}"
    );
    let pushed = ["prepared", "model.bin", "final.csv", "w1/out.txt"];
    same_tree(&root, &clone, &pushed);
    fs::remove_dir_all(clone.join("prepared")).unwrap();
    fs::remove_file(clone.join("model.bin")).unwrap();
    let stderr = datavc_fails(&["checkout"], &clone, 1);
    assert!(stderr.contains("2 object(s) missing"), "{stderr}");
    same_tree(&root, &clone, &pushed);
    fs::remove_file(clone.join("model.bin")).unwrap();
    datavc(&["pull", "model.bin"], &clone);
    same_tree(&root, &clone, &["model.bin"]);

    // Stages are targets too, as DVC names them: `NAME`, `dvc.yaml:NAME` (every item of a
    // foreach), `dvc.yaml`.
    fs::remove_file(clone.join("model.bin")).unwrap();
    fs::remove_dir_all(clone.join("prepared")).unwrap();
    datavc(&["checkout", "train", "dvc.yaml:prep"], &clone);
    same_tree(&root, &clone, &["model.bin", "prepared"]);
    let stderr = datavc_fails(&["checkout", "dvc.yaml:each"], &clone, 1);
    assert!(stderr.contains("2 object(s) missing"), "{stderr}");

    // `--allow-missing` places what there is and succeeds, listing the rest; so does
    // DVC's, in a clone of its own.
    fs::remove_file(clone.join("model.bin")).unwrap();
    let pulled = datavc(&["pull", "--allow-missing", "--json"], &clone);
    let pulled: serde_json::Value = serde_json::from_str(&pulled).unwrap();
    let missing = pulled["checkout"]["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 2, "{pulled}");
    assert!(missing.iter().all(|m| m.as_str().unwrap().contains("out-")));
    let by_dvc = clone_beside(&root, "by-dvc");
    run(&dvc, &["pull", "-q", "--allow-missing"], &by_dvc);
    same_tree(&by_dvc, &clone, &pushed);
    assert_eq!(workspace_files(&by_dvc), workspace_files(&clone));
    fs::remove_file(clone.join("model.bin")).unwrap();
    let text = datavc(&["checkout", "--allow-missing"], &clone);
    assert!(text.contains("missing, left as it is: "), "{text}");
    same_tree(&root, &clone, &["model.bin"]);

    let stderr = datavc_fails(&["checkout", "dvc.yaml:nosuch"], &clone, 2);
    assert!(stderr.contains("is not tracked"), "{stderr}");
    let status = datavc(&["status", "dvc.yaml"], &clone);
    assert!(
        status.contains("out-x.txt") && status.contains("out-y.txt"),
        "{status}"
    );

    // What dvc.lock keeps of an item dvc.yaml no longer makes is ignored, as DVC ignores it.
    fs::write(root.join("params.yaml"), PARAMS).unwrap();
    fs::write(root.join("raw.txt"), "raw, again\n").unwrap();
    run(&dvc, &["repro", "-q"], &root);
    fs::remove_file(root.join("out-y.txt")).unwrap();
    assert_eq!(datavc(&["status"], &root), "data is up to date\n");
    assert_eq!(
        run(&dvc, &["status"], &root).trim(),
        "Data and pipelines are up to date."
    );

    // Over all commits, gc also keeps what the committed dvc.lock records.
    let listed = gc_like_dvc(&dvc, &root, &["-A"], &["-A"]);
    assert!(
        listed.iter().all(|oid| !oid.ends_with(".dir")),
        "{listed:?}"
    );
}

/// `gc` keeps what `dvc gc` keeps for DVC's other scopes: a commit and its first-parent
/// ancestors (`--rev`, `-n`), each branch's last commits (`-a -n`), the commits made since
/// a day (`--date`); and with `--not-in-remote` it drops what the remote holds.
#[test]
fn gc_keeps_what_dvc_gc_keeps_by_revision_date_and_remote() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let (root, _remote) = dvc_origin_with_remote(&dvc, dir.path());
    // model.bin v1 to v4 on the default branch, a year apart from 2020 on; v5 on `side`,
    // branched at v2, in 2024. Only v2 is pushed.
    let commit = |version: &str, year: u32| {
        fs::write(root.join("model.bin"), version).unwrap();
        run(&dvc, &["add", "-q", "model.bin"], &root);
        git(&["add", "-A"], &root);
        let date = format!("{year}-01-01T12:00:00+0000");
        let committed = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(["commit", "-qm", version])
            .env("GIT_COMMITTER_DATE", &date)
            .current_dir(&root)
            .status();
        assert!(committed.unwrap().success(), "git commit {version}");
    };
    commit("v1", 2020);
    commit("v2", 2021);
    run(&dvc, &["push", "-q"], &root);
    git(&["branch", "side"], &root);
    commit("v3", 2022);
    commit("v4", 2023);
    git(&["checkout", "-q", "side"], &root);
    commit("v5", 2024);
    git(&["checkout", "-q", "-"], &root);
    run(&dvc, &["checkout", "-q"], &root);
    let md5 = |version: &str| md5_hex(version.as_bytes());

    let cases: [(&str, &[&str], &[&str]); 4] = [
        ("rev", &["--rev", "side", "-n", "2"], &["v1", "v3"]),
        ("branches", &["-a", "-n", "2"], &["v1"]),
        ("date", &["--date", "2022-01-01"], &["v1", "v2"]),
        ("pushed", &["-A", "--not-in-remote"], &["v2"]),
    ];
    for (name, flags, deleted) in cases {
        let copy = copy_beside(&root, name);
        let listed = gc_like_dvc(&dvc, &copy, flags, flags);
        let mut expected: Vec<String> = deleted.iter().map(|version| md5(version)).collect();
        expected.sort();
        assert_eq!(listed, expected, "gc {flags:?}");
    }
}

/// Lists what `datavc gc DATAVC_FLAGS` would delete, checks that `dvc gc DVC_FLAGS`
/// deletes just that from the cache and that datavc then finds nothing unused; returns
/// the list.
fn gc_like_dvc(dvc: &Path, root: &Path, datavc_flags: &[&str], dvc_flags: &[&str]) -> Vec<String> {
    let unused = |root: &Path| -> Vec<String> {
        let args = [&["gc", "--json"], datavc_flags].concat();
        let report: serde_json::Value = serde_json::from_str(&datavc(&args, root)).unwrap();
        let unused = report["unused"].as_array().unwrap().iter();
        unused.map(|oid| oid.as_str().unwrap().to_owned()).collect()
    };
    let listed = unused(root);
    let cache = root.join(".dvc/cache/files/md5");
    let before = relative_files(&cache);
    run(dvc, &[&["gc", "-f"], dvc_flags].concat(), root);
    let after = relative_files(&cache);
    let removed: Vec<String> = (before.iter())
        .filter(|object| !after.contains(object))
        .map(|object| object.replace('/', ""))
        .collect();
    assert_eq!(
        listed, removed,
        "datavc gc {datavc_flags:?} against dvc gc {dvc_flags:?}"
    );
    assert_eq!(unused(root), Vec::<String>::new());
    listed
}

#[test]
fn outputs_go_to_their_own_remote_as_in_dvc() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let root = dvc_origin(&dvc, dir.path());
    let (main, side) = (dir.path().join("main"), dir.path().join("side"));
    fs::write(root.join("a.txt"), "a").unwrap();
    fs::write(root.join("b.txt"), "b").unwrap();
    run(&dvc, &["add", "-q", "a.txt", "b.txt"], &root);
    let pointer = fs::read_to_string(root.join("b.txt.dvc")).unwrap();
    fs::write(root.join("b.txt.dvc"), pointer + "  remote: side\n").unwrap();
    let stage =
        "stages:\n  c:\n    cmd: echo c > c.txt\n    outs:\n    - c.txt:\n        remote: side\n";
    fs::write(root.join("dvc.yaml"), stage).unwrap();
    run(&dvc, &["repro", "-q"], &root);
    run(
        &dvc,
        &["remote", "add", "-d", "main", main.to_str().unwrap()],
        &root,
    );
    run(
        &dvc,
        &["remote", "add", "side", side.to_str().unwrap()],
        &root,
    );

    // Each tool puts the same objects on each remote.
    datavc(&["push"], &root);
    let ours = (relative_files(&main), relative_files(&side));
    assert_eq!((ours.0.len(), ours.1.len()), (1, 2), "{ours:?}");
    assert_eq!(
        datavc(&["status", "--cloud"], &root),
        "cache and remote are in sync\n"
    );
    fs::remove_dir_all(&main).unwrap();
    fs::remove_dir_all(&side).unwrap();
    run(&dvc, &["push", "-q"], &root);
    assert_eq!((relative_files(&main), relative_files(&side)), ours);

    // A clone pulls each output from its remote.
    let clone = commit_and_clone(&root);
    datavc(&["pull"], &clone);
    same_tree(&root, &clone, &["a.txt", "b.txt", "c.txt"]);
}

/// `datavc diff` says what `dvc diff` says, in JSON (hashes or not), text and Markdown:
/// renames (`dvc mv` of a file and of a folder, a move inside a folder, duplicate content),
/// folder lines, a file become a folder, an empty folder, pipeline outputs, targets given
/// from a subfolder, the workspace, and in a clone what the cache lacks, with the folders'
/// manifests on the remote and with the remote gone.
#[test]
fn diff_says_what_dvc_diff_says() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let (root, remote) = dvc_origin_with_remote(&dvc, dir.path());
    let write = |path: &str, text: &str| write_files(&root, &[(path, text)]);
    write_files(
        &root,
        &[
            ("t", "t"),
            ("d/s/a", "1"),
            ("d/b", "1"),
            ("d/p", "p"),
            ("dup1", "same"),
            ("dup2", "same"),
            ("f1", "f1"),
            ("f2", "f2"),
        ],
    );
    fs::create_dir(root.join("e")).unwrap();
    let add = |paths: &[&str]| run(&dvc, &[&["add", "-q"], paths].concat(), &root);
    add(&["t", "d", "e", "dup1", "dup2", "f1", "f2"]);
    git(&["add", "-A"], &root);
    git(&["commit", "-qm", "v1"], &root);

    run(&dvc, &["remove", "-q", "t.dvc"], &root);
    fs::remove_file(root.join("t")).unwrap();
    write("t/f", "in");
    run(&dvc, &["mv", "-q", "f1", "f1moved"], &root);
    run(&dvc, &["mv", "-q", "d", "d3"], &root);
    fs::remove_file(root.join("d3/p")).unwrap();
    write("d3/s2/p2", "p");
    write("d3/z", "z");
    write("f2", "f2, again");
    write("sub/dup3", "same");
    git(&["rm", "-q", "dup1.dvc"], &root);
    add(&["t", "d3", "f2", "sub/dup3"]);
    let stage = "stages:\n  gen:\n    cmd: mkdir -p out && echo o > out/o && echo m > model.bin\n    outs:\n    - out\n    - model.bin\n";
    fs::write(root.join("dvc.yaml"), stage).unwrap();
    run(&dvc, &["repro", "-q"], &root);
    run(&dvc, &["push", "-q"], &root);
    git(&["add", "-A"], &root);
    git(&["commit", "-qm", "v2"], &root);
    write("d3/b", "changed in the workspace");
    fs::remove_file(root.join("f2")).unwrap();

    same_diff(&dvc, &root, &["HEAD~1", "HEAD"]);
    same_diff(&dvc, &root, &["HEAD~1"]);
    same_diff(&dvc, &root, &[]);
    let targets = ["HEAD~1", "HEAD", "--targets", "dup3", "../d3/s2"];
    same_diff(&dvc, &root.join("sub"), &targets);

    // A clone's cache is empty: the manifests come from the remote, and then not at all.
    same_diff(&dvc, &clone_beside(&root, "clone"), &[]);
    fs::rename(&remote, dir.path().join("gone")).unwrap();
    let offline = clone_beside(&root, "offline");
    same_diff(&dvc, &offline, &[]);
    same_diff(&dvc, &offline, &["HEAD~1", "HEAD"]);
}

/// Runs `diff ARGS` in `dir` with both tools, in each output style, and compares.
fn same_diff(dvc: &Path, dir: &Path, args: &[&str]) {
    for style in [
        &["--json", "--show-hash"][..],
        &["--json"],
        &[],
        &["--show-hash"],
        &["--md", "--show-hash"],
    ] {
        let args = [&["diff"], style, args].concat();
        let (theirs, ours) = (run(dvc, &args, dir), datavc(&args, dir));
        match style.first() == Some(&"--json") {
            true => {
                let mut ours: serde_json::Value = serde_json::from_str(&ours).unwrap();
                // datavc's addition: folders it could not look into, and why.
                ours.as_object_mut().unwrap().remove("unexpanded");
                let theirs: serde_json::Value = serde_json::from_str(&theirs).unwrap();
                assert_eq!(ours, theirs, "{args:?} in {}", dir.display());
            }
            false => assert_eq!(ours, theirs, "{args:?} in {}", dir.display()),
        }
    }
}

/// A target inside a tracked folder (DVC's granular targets) is fetched, pulled and
/// checked out alone, as `dvc pull data/sub/b` does, in a folder DVC pushed and in a
/// pipeline stage's folder output.
#[test]
fn paths_inside_tracked_folders_are_pulled_as_dvc_pulls_them() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let (root, _remote) = dvc_origin_with_remote(&dvc, dir.path());
    let files = [
        ("data/a", "a"),
        ("data/sub/b", "b"),
        ("data/sub/c", "c"),
        ("data/sub/deep/d", "d"),
    ];
    write_files(&root, &files);
    run(&dvc, &["add", "-q", "data"], &root);
    let stage = "stages:\n  gen:\n    cmd: mkdir -p out && echo o > out/o && echo p > out/p\n    outs:\n    - out\n";
    fs::write(root.join("dvc.yaml"), stage).unwrap();
    run(&dvc, &["repro", "-q"], &root);
    run(&dvc, &["push", "-q"], &root);
    git(&["add", "-A"], &root);
    git(&["commit", "-qm", "data"], &root);
    let clone = |name: &str| clone_beside(&root, name);
    for targets in [&["data/sub/b"][..], &["data/sub", "out/p"]] {
        let (theirs, ours) = (clone("theirs"), clone("ours"));
        run(&dvc, &[&["pull", "-q"], targets].concat(), &theirs);
        datavc(&[&["pull"], targets].concat(), &ours);
        let files = |root: &Path, folder: &str| match root.join(folder).exists() {
            true => relative_files(&root.join(folder)),
            false => Vec::new(),
        };
        for folder in ["data", "out"] {
            assert_eq!(files(&ours, folder), files(&theirs, folder), "{targets:?}");
        }
        fs::remove_dir_all(theirs).unwrap();
        fs::remove_dir_all(ours).unwrap();
    }
    let ours = clone("ours");
    datavc(&["fetch", "data/sub/deep/d"], &ours);
    datavc(&["checkout", "data/sub/deep"], &ours);
    assert_eq!(relative_files(&ours.join("data")), ["sub/deep/d"]);
    let stderr = datavc_fails(&["pull", "data/sub/e"], &ours, 2);
    assert!(
        stderr.contains("data/sub/e is not in tracked folder data"),
        "{stderr}"
    );
}

/// `push`, `fetch` and `pull` with `-a`, `-T` and `-A` move the objects DVC's do: the
/// workspace's (here an uncommitted version), every branch's, every tag's or every
/// commit's, and with a target only that output's versions.
#[test]
fn all_branches_tags_and_commits_move_what_dvc_moves() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let root = dvc_origin(&dvc, dir.path());
    // DVC reads each revision's own config: the remotes must be in every commit.
    let remote = |name: &str| dir.path().join(name);
    let cases: [&[&str]; 5] = [&[], &["-a"], &["-T"], &["-A"], &["-A", "model.bin"]];
    let names = |i: usize| (format!("ours{i}"), format!("theirs{i}"));
    for (ours, theirs) in (0..cases.len()).map(names) {
        for name in [ours, theirs] {
            let url = remote(&name);
            run(
                &dvc,
                &["remote", "add", &name, url.to_str().unwrap()],
                &root,
            );
        }
    }
    for name in ["fresh-ours", "fresh-theirs"] {
        let url = remote(name);
        run(&dvc, &["remote", "add", name, url.to_str().unwrap()], &root);
    }
    let store = remote("store");
    run(
        &dvc,
        &["remote", "add", "-d", "store", store.to_str().unwrap()],
        &root,
    );
    let version = |name: &str, model: &str| {
        fs::write(root.join("model.bin"), model).unwrap();
        write_files(&root, &[(format!("data/{name}").as_str(), name)]);
        run(&dvc, &["add", "-q", "model.bin", "data"], &root);
        git(&["add", "-A"], &root);
        git(&["commit", "-qm", name], &root);
    };
    version("tagged", "m-tagged");
    git(&["tag", "v0"], &root);
    version("history", "m-history");
    version("main", "m-main");
    git(&["checkout", "-q", "-b", "exp"], &root);
    version("exp", "m-exp");
    git(&["checkout", "-q", "-"], &root);
    run(&dvc, &["checkout", "-q", "--force"], &root);
    fs::write(root.join("model.bin"), "m-workspace").unwrap();
    run(&dvc, &["add", "-q", "model.bin"], &root);

    for (i, flags) in cases.iter().enumerate() {
        let (ours, theirs) = names(i);
        datavc(&[&["push", "-r", &ours], *flags].concat(), &root);
        run(
            &dvc,
            &[&["push", "-q", "-r", &theirs], *flags].concat(),
            &root,
        );
        let sent = relative_files(&remote(&ours));
        assert_eq!(sent, relative_files(&remote(&theirs)), "push {flags:?}");
        let status: serde_json::Value = serde_json::from_str(&datavc(
            &[&["status", "--json", "-r", &theirs], *flags].concat(),
            &root,
        ))
        .unwrap();
        assert_eq!(status, serde_json::json!([]), "status -r {flags:?}");
    }
    // Everything: 5 models (4 commits and the workspace), 4 files and 4 folder manifests.
    assert_eq!(relative_files(&remote("ours3")).len(), 13);

    // A clone fetches (and pulls) what DVC's clone does; it has `exp` as a remote branch.
    datavc(&["push", "-A"], &root);
    git(&["add", "-A"], &root);
    git(&["commit", "-qm", "workspace"], &root);
    for flags in [&["-a"][..], &["-T"], &["-A"]] {
        let (ours, theirs) = (clone_beside(&root, "ours"), clone_beside(&root, "theirs"));
        datavc(&[&["pull"], flags].concat(), &ours);
        run(&dvc, &[&["pull", "-q"], flags].concat(), &theirs);
        let cache = |clone: &Path| relative_files(&clone.join(".dvc/cache"));
        assert_eq!(cache(&ours), cache(&theirs), "pull {flags:?}");
        same_tree(&ours, &theirs, &["model.bin", "data"]);
        fs::remove_dir_all(ours).unwrap();
        fs::remove_dir_all(theirs).unwrap();
    }
    let stderr = datavc_fails(&["status", "-a"], &root, 2);
    assert!(stderr.contains("need --cloud or --remote"), "{stderr}");

    // A revision with a broken pointer is skipped by transfers, and named, as DVC skips
    // it; `gc` and `status --cloud` cannot know what it needs, and fail.
    git(&["checkout", "-q", "-b", "broken"], &root);
    fs::write(root.join("bad.dvc"), "outs: [ {md5: zz").unwrap();
    git(&["add", "-A"], &root);
    git(&["commit", "-qm", "broken"], &root);
    git(&["checkout", "-q", "-"], &root);
    let (ours, theirs) = ("fresh-ours", "fresh-theirs");
    let text = datavc(&["push", "-A", "-r", ours], &root);
    assert!(text.contains("skipped, unreadable: in revision "), "{text}");
    run(&dvc, &["push", "-q", "-A", "-r", theirs], &root);
    assert_eq!(
        relative_files(&remote(ours)),
        relative_files(&remote(theirs))
    );
    for args in [&["gc", "-A"][..], &["status", "-c", "-A"]] {
        let stderr = datavc_fails(args, &root, 2);
        assert!(
            stderr.contains("bad.dvc is not a valid DVC file"),
            "{stderr}"
        );
    }
}

/// `move` leaves what `dvc move` leaves: the data, pointer files and `.gitignore` files,
/// for a folder renamed, a file moved into a folder, and a file whose pointer is not
/// named after it; DVC then sees the repository as up to date. A stage's output is
/// refused, as DVC refuses it.
#[test]
fn move_leaves_what_dvc_move_leaves() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let root = dvc_origin(&dvc, dir.path());
    write_files(
        &root,
        &[
            ("data/a", "a"),
            ("data/sub/b", "b"),
            ("model.bin", "m"),
            ("w.bin", "w"),
        ],
    );
    write_files(&root, &[("models/readme", "r"), ("sub/keep", "k")]);
    run(&dvc, &["add", "-q", "data", "model.bin", "w.bin"], &root);
    fs::rename(root.join("w.bin.dvc"), root.join("weights.dvc")).unwrap();
    let stage = "stages:\n  gen:\n    cmd: echo g > g.txt\n    outs:\n    - g.txt\n";
    fs::write(root.join("dvc.yaml"), stage).unwrap();
    run(&dvc, &["repro", "-q"], &root);
    git(&["add", "-A"], &root);
    git(&["commit", "-qm", "data"], &root);
    let theirs = copy_beside(&root, "theirs");

    let moves: [[&str; 2]; 3] = [
        ["data", "dataset"],
        ["model.bin", "models"],
        ["w.bin", "w2.bin"],
    ];
    for [from, to] in moves {
        datavc(&["move", from, to], &root);
        run(&dvc, &["move", from, to], &theirs);
    }
    let files = workspace_files(&root);
    assert_eq!(files, workspace_files(&theirs));
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    same_tree(&root, &theirs, &files);
    assert!(run(&dvc, &["status"], &root).contains("up to date"));
    assert_eq!(datavc(&["status"], &theirs), "data is up to date\n");

    let stderr = datavc_fails(&["move", "g.txt", "h.txt"], &root, 2);
    assert!(stderr.contains("pipeline stage's output"), "{stderr}");
    assert_eq!(fs::read_to_string(root.join("g.txt")).unwrap(), "g\n");
}

/// With `core.autostage` (set by either tool), `add`, `move` and `remove` stage in git
/// the files DVC's stage.
#[test]
fn autostage_stages_what_dvc_stages() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let root = dvc_origin(&dvc, dir.path());
    datavc(&["config", "core.autostage", "true"], &root);
    assert_eq!(
        run(&dvc, &["config", "core.autostage"], &root).trim(),
        "true"
    );
    let stderr = datavc_fails(&["config", "core.autostage", "maybe"], &root, 2);
    assert!(stderr.contains("neither true nor false"), "{stderr}");
    git(&["add", "-A"], &root);
    git(&["commit", "-qm", "start"], &root);
    write_files(
        &root,
        &[("data/a", "a"), ("model.bin", "m"), ("w.bin", "w")],
    );
    let theirs = copy_beside(&root, "theirs");

    let staged = |root: &Path| {
        run(
            Path::new("git"),
            &["diff", "--cached", "--name-status"],
            root,
        )
    };
    let steps: [&[&str]; 3] = [
        &["add", "data", "model.bin", "w.bin"],
        &["move", "data", "dataset"],
        &["remove", "model.bin.dvc"],
    ];
    for step in steps {
        let text = datavc(step, &root);
        assert!(text.contains("staged in git: "), "{text}");
        run(&dvc, step, &theirs);
        let mut by_dvc = staged(&theirs);
        if step[0] == "remove" {
            // DVC leaves the removed pointer staged, to be committed though it is gone.
            by_dvc = by_dvc.replace("A\tmodel.bin.dvc\n", "");
        }
        assert_eq!(staged(&root), by_dvc, "after {step:?}");
    }
    assert!(staged(&root).contains("dataset.dvc"));
}

/// [`dvc_origin_with_remote`] as a data registry DVC made: [`tricky_data`] and
/// `sub/inner` added and pushed, uncommitted, beside the git file `sub/notes.txt`.
fn dvc_registry(dvc: &Path, dir: &Path) -> PathBuf {
    let (registry, _) = dvc_origin_with_remote(dvc, dir);
    tricky_data(&registry);
    write_files(
        &registry,
        &[("sub/inner/w.bin", b"w"), ("sub/notes.txt", b"n")],
    );
    run(
        dvc,
        &["add", "data", "model.safetensors", "sub/inner"],
        &registry,
    );
    run(dvc, &["push"], &registry);
    registry
}

/// Data registries: `datavc get` copies from one DVC made what `dvc get` copies, and `dvc
/// get` reads one datavc made. Both caches are emptied first, so the data comes from the
/// registries' remotes; `sub` holds a `.dvc` file, which neither tool copies.
#[test]
fn get_copies_what_dvc_get_copies() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let by_dvc = dvc_registry(&dvc, dir.path());

    let by_datavc = dir.path().join("by-datavc");
    fs::create_dir(&by_datavc).unwrap();
    git(&["init", "-q"], &by_datavc);
    datavc(&["init", "--hash", "md5"], &by_datavc);
    tricky_data(&by_datavc);
    write_files(
        &by_datavc,
        &[("sub/inner/w.bin", b"w"), ("sub/notes.txt", b"n")],
    );
    datavc(
        &["add", "data", "model.safetensors", "sub/inner"],
        &by_datavc,
    );
    let store = dir.path().join("datavc-remote");
    datavc(
        &["remote", "add", "-d", "store", store.to_str().unwrap()],
        &by_datavc,
    );
    datavc(&["push"], &by_datavc);

    for registry in [&by_dvc, &by_datavc] {
        git(&["add", "-A"], registry);
        git(&["commit", "-qm", "data"], registry);
        fs::remove_dir_all(registry.join(".dvc/cache")).unwrap();
        let url = registry.to_str().unwrap();
        let name = registry.file_name().unwrap().to_str().unwrap();
        let [ours, theirs] = [format!("{name}-datavc"), format!("{name}-dvc")].map(|user| {
            let user = dir.path().join(user);
            fs::create_dir(&user).unwrap();
            user
        });
        for path in ["data", "model.safetensors", "sub", "data/a/c/d"] {
            datavc(&["get", url, path], &ours);
            run(&dvc, &["get", url, path], &theirs);
        }
        same_tree(&ours, &theirs, &["data", "model.safetensors", "sub", "d"]);
        assert_eq!(relative_files(&ours), relative_files(&theirs), "{name}");
    }
    assert!(relative_files(&dir.path().join("origin-dvc")).contains(&"sub/notes.txt".into()));
}

/// Outputs `dvc import`ed from a registry: DVC pushes none of them, so `datavc pull` in a
/// clone of the project fetches them from the registry, at the commit the import
/// recorded, as `dvc pull` does; `datavc push` and `status --cloud` leave them out, as
/// DVC's do.
#[test]
fn imported_outputs_are_pulled_from_their_registry_as_dvc_pulls_them() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let (registry, registry_remote) = dvc_origin_with_remote(&dvc, dir.path());
    let v1: &[(&str, &[u8])] = &[
        ("images/a.png", b"a1"),
        ("images/sub/b.png", b"b1"),
        ("model.bin", b"m1"),
    ];
    write_files(&registry, v1);
    run(&dvc, &["add", "images", "model.bin"], &registry);
    run(&dvc, &["push"], &registry);
    git(&["add", "-A"], &registry);
    git(&["commit", "-qm", "v1"], &registry);

    let project = dir.path().join("project");
    fs::create_dir(&project).unwrap();
    git(&["init", "-q"], &project);
    run(&dvc, &["init", "-q"], &project);
    let own = dir.path().join("own-remote");
    run(
        &dvc,
        &["remote", "add", "-d", "own", own.to_str().unwrap()],
        &project,
    );
    run(
        &dvc,
        &["import", "../origin", "images", "-o", "imgs"],
        &project,
    );
    run(&dvc, &["import", "../origin", "model.bin"], &project);
    git(&["add", "-A"], &project);
    git(&["commit", "-qm", "imports"], &project);
    // The registry moves on; a pull takes what the import recorded.
    write_files(&registry, &[("model.bin", b"m2")]);
    run(&dvc, &["add", "model.bin"], &registry);
    run(&dvc, &["push"], &registry);
    git(&["commit", "-qam", "v2"], &registry);

    let pushed: serde_json::Value =
        serde_json::from_str(&datavc(&["push", "--json"], &project)).unwrap();
    assert_eq!(pushed["transferred"], 0, "{pushed}");
    assert_eq!(
        datavc(&["status", "--cloud", "--json"], &project).trim(),
        "[]"
    );

    let ours = clone_beside(&project, "ours");
    let theirs = clone_beside(&project, "theirs");
    datavc(&["pull"], &ours);
    run(&dvc, &["pull"], &theirs);
    same_tree(&ours, &theirs, &["imgs", "model.bin"]);
    assert_eq!(fs::read(ours.join("model.bin")).unwrap(), b"m1");
    assert_eq!(
        relative_files(&ours.join(".dvc/tmp")).len(),
        2,
        "temporary files left"
    );
    // DVC sees both workspaces alike (each import with an update available).
    assert_eq!(
        run(&dvc, &["status"], &ours),
        run(&dvc, &["status"], &theirs)
    );

    // With the registry's cache and remote gone too, the pull names what is missing.
    fs::remove_dir_all(registry.join(".dvc/cache")).unwrap();
    fs::remove_dir_all(&registry_remote).unwrap();
    let third = clone_beside(&project, "third");
    let refused = datavc_fails(&["pull"], &third, 1);
    assert!(
        refused.contains("missing from the cache and from remote `../origin`"),
        "{refused}"
    );
}

/// `datavc import` and `update` write, byte for byte, the pointers (stage `md5` included)
/// and `.gitignore` lines that `dvc import` and `dvc update` write, and each tool updates
/// the other's imports alike.
#[test]
fn import_and_update_write_what_dvc_writes() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let (registry, _) = dvc_origin_with_remote(&dvc, dir.path());
    let v1: &[(&str, &[u8])] = &[
        ("images/a.png", b"a1"),
        ("images/sub/b.png", b"b1"),
        ("model.bin", b"m1"),
        ("notes.md", b"git only"),
    ];
    write_files(&registry, v1);
    run(&dvc, &["add", "images", "model.bin"], &registry);
    run(&dvc, &["push"], &registry);
    git(&["add", "-A"], &registry);
    git(&["commit", "-qm", "v1"], &registry);
    git(&["tag", "v1"], &registry);

    let [ours, theirs] = ["ours", "theirs"].map(|name| {
        let project = dir.path().join(name);
        fs::create_dir_all(project.join("sub")).unwrap();
        git(&["init", "-q"], &project);
        run(&dvc, &["init", "-q"], &project);
        project
    });
    // Whole outputs, and what the import itself hashes: a part of a tracked folder and a
    // file only git tracks.
    let imports: [&[&str]; 5] = [
        &["images", "-o", "imgs"],
        &["model.bin", "--rev", "v1", "-o", "sub/m.bin"],
        &["images/sub/b.png"],
        &["images/sub", "-o", "part"],
        &["notes.md"],
    ];
    for args in imports {
        datavc(&[&["import", "../origin"], args].concat(), &ours);
        run(&dvc, &[&["import", "../origin"], args].concat(), &theirs);
    }
    let written = [
        "imgs.dvc",
        "sub/m.bin.dvc",
        "b.png.dvc",
        "part.dvc",
        "notes.md.dvc",
        ".gitignore",
        "sub/.gitignore",
    ];
    let same_files = |what: &str| {
        for file in written {
            assert_eq!(
                fs::read_to_string(ours.join(file)).unwrap(),
                fs::read_to_string(theirs.join(file)).unwrap(),
                "{file} {what}"
            );
        }
        same_tree(
            &ours,
            &theirs,
            &["imgs", "sub/m.bin", "b.png", "part", "notes.md"],
        );
    };
    same_files("after import");
    // A clone, with no remote, pulls all of them from the registry.
    git(&["add", "-A"], &ours);
    git(&["commit", "-qm", "imports"], &ours);
    let clone = clone_beside(&ours, "ours-clone");
    datavc(&["pull"], &clone);
    same_tree(
        &clone,
        &theirs,
        &["imgs", "sub/m.bin", "b.png", "part", "notes.md"],
    );
    assert_eq!(fs::read(ours.join("sub/m.bin")).unwrap(), b"m1");
    assert_eq!(
        run(&dvc, &["status"], &ours),
        run(&dvc, &["status"], &theirs)
    );

    // The registry moves on, on a branch; each tool updates the other's imports.
    git(&["checkout", "-qb", "dev"], &registry);
    let v2: &[(&str, &[u8])] = &[("model.bin", b"m2"), ("images/c.png", b"c")];
    write_files(&registry, v2);
    run(&dvc, &["add", "images", "model.bin"], &registry);
    run(&dvc, &["push"], &registry);
    git(&["commit", "-qam", "v2"], &registry);
    git(&["add", "-A"], &theirs);
    git(&["commit", "-qm", "imports"], &theirs);
    datavc(&["update", "sub/m.bin.dvc", "--rev", "dev"], &theirs);
    run(&dvc, &["update", "sub/m.bin.dvc", "--rev", "dev"], &ours);
    datavc(&["update", "imgs.dvc", "--rev", "dev"], &theirs);
    run(&dvc, &["update", "imgs.dvc", "--rev", "dev"], &ours);
    same_files("after update");
    assert_eq!(fs::read(theirs.join("sub/m.bin")).unwrap(), b"m2");
    assert_eq!(fs::read(theirs.join("imgs/c.png")).unwrap(), b"c");
    // Nothing new: neither tool changes anything.
    datavc(&["update", "imgs.dvc", "sub/m.bin.dvc"], &theirs);
    run(&dvc, &["update", "imgs.dvc", "sub/m.bin.dvc"], &ours);
    same_files("after an update with nothing new");
    assert_eq!(
        run(&dvc, &["status"], &ours),
        run(&dvc, &["status"], &theirs)
    );

    // Imports DVC wrote without data (`--no-download`) or without even a commit
    // (`--no-exec`) are reported, and recorded by an update, as DVC records them.
    for project in [&ours, &theirs] {
        let no_download = [
            "import",
            "../origin",
            "model.bin",
            "-o",
            "nd.bin",
            "--no-download",
        ];
        run(&dvc, &no_download, project);
        let no_exec = ["import", "../origin", "images", "-o", "ne", "--no-exec"];
        run(&dvc, &no_exec, project);
    }
    let status = datavc(&["status"], &ours);
    assert!(
        status.contains("not recorded: nd.bin") && status.contains("not recorded: ne"),
        "{status}"
    );
    datavc(&["update", "nd.bin.dvc", "ne.dvc"], &ours);
    run(&dvc, &["update", "nd.bin.dvc", "ne.dvc"], &theirs);
    for file in ["nd.bin.dvc", "ne.dvc", ".gitignore"] {
        assert_eq!(
            fs::read_to_string(ours.join(file)).unwrap(),
            fs::read_to_string(theirs.join(file)).unwrap(),
            "{file} after recording"
        );
    }
    same_tree(&ours, &theirs, &["nd.bin", "ne"]);
}

/// `datavc list` shows what `dvc list` shows of a registry DVC made, git's files and
/// DVC's outputs, at the root, inside tracked folders, recursively, only DVC's, at a tag,
/// and with the registry's cache gone (manifests then come from its remote).
#[test]
fn list_shows_what_dvc_list_shows() {
    let dvc = dvc_program();
    let dir = tempfile::tempdir().unwrap();
    let registry = dvc_registry(&dvc, dir.path());
    git(&["add", "-A"], &registry);
    git(&["commit", "-qm", "v1"], &registry);
    git(&["tag", "v1"], &registry);
    write_files(
        &registry,
        &[("model.safetensors", &b"v2"[..]), ("data/new", b"n")],
    );
    run(&dvc, &["add", "data", "model.safetensors"], &registry);
    run(&dvc, &["push"], &registry);
    git(&["commit", "-qam", "v2"], &registry);
    fs::remove_dir_all(registry.join(".dvc/cache")).unwrap();
    let user = dir.path().join("user");
    fs::create_dir(&user).unwrap();

    let cases: [&[&str]; 11] = [
        &[],
        &["data"],
        &["data/a"],
        &["data/a/c/d"],
        &["sub"],
        &["sub/inner/w.bin"],
        &["-R"],
        &["--dvc-only"],
        &["-R", "--dvc-only"],
        &["data", "-R"],
        &["data", "--rev", "v1"],
    ];
    for args in cases {
        let args = [&["list", "../origin"], args].concat();
        assert_eq!(datavc(&args, &user), run(&dvc, &args, &user), "{args:?}");
    }
    // The JSON fields DVC gives, for outputs, files in tracked folders, folders and git's
    // files alike.
    let fields = |text: &str| -> Vec<(String, bool, bool, Option<String>)> {
        let listed: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
        (listed.iter())
            .map(|e| {
                let flag = |key: &str| e[key].as_bool().unwrap();
                let md5 = e["md5"].as_str().map(str::to_owned);
                (
                    e["path"].as_str().unwrap().to_owned(),
                    flag("isout"),
                    flag("isdir"),
                    md5,
                )
            })
            .collect()
    };
    for place in [".", "data", "sub"] {
        let args = ["list", "../origin", place, "--json"];
        assert_eq!(
            fields(&datavc(&args, &user)),
            fields(&run(&dvc, &args, &user)),
            "{place}"
        );
    }
}
