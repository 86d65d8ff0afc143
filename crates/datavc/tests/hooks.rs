//! `datavc install`: the git hooks it writes, run by the real git. A branch switch checks
//! the data out, a push pushes it first, and hooks datavc did not write are never lost.

mod harness;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A git work tree that is a datavc repository, with a bare `origin` beside it.
struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
    origin: PathBuf,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project");
        let origin = dir.path().join("origin.git");
        fs::create_dir(&root).unwrap();
        let project = Project {
            _dir: dir,
            root,
            origin,
        };
        project.git(&["init", "-q", "-b", "main"]);
        harness::git(
            project.root.parent().unwrap(),
            &["init", "-q", "--bare", "origin.git"],
        );
        let origin = project.origin.to_str().unwrap().to_owned();
        project.git(&["remote", "add", "origin", &origin]);
        harness::ok(&project.root, &["init", "--hash", "md5"]);
        project
    }

    /// Git, run as a user would, with datavc on PATH for the hooks.
    fn git_command(&self, args: &[&str]) -> Command {
        let binary = PathBuf::from(env!("CARGO_BIN_EXE_datavc"));
        let mut path = vec![binary.parent().unwrap().to_owned()];
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let datavc = harness::datavc(&self.root);
        let mut command = harness::git_command(&self.root, args);
        command.env("PATH", std::env::join_paths(path).unwrap());
        // The same environment as the tests' own datavc runs.
        for (name, value) in datavc.get_envs() {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        command
    }

    fn git_output(&self, args: &[&str]) -> Output {
        self.git_command(args).output().expect("git is installed")
    }

    #[track_caller]
    fn git(&self, args: &[&str]) -> String {
        let output = self.git_output(args);
        assert!(
            output.status.success(),
            "git {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn datavc(&self, args: &[&str]) -> String {
        String::from_utf8(harness::ok(&self.root, args).stdout).unwrap()
    }

    fn write(&self, relpath: &str, bytes: &[u8]) {
        fs::write(self.root.join(relpath), bytes).unwrap();
    }

    fn read(&self, relpath: &str) -> Vec<u8> {
        fs::read(self.root.join(relpath)).unwrap()
    }

    /// Adds `model.bin` holding `bytes` and commits it.
    fn commit_model(&self, bytes: &[u8], message: &str) {
        self.write("model.bin", bytes);
        self.datavc(&["add", "model.bin"]);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-qm", message]);
    }

    fn hook(&self, name: &str) -> PathBuf {
        self.root.join(".git/hooks").join(name)
    }

    /// Objects on the datavc remote `store` (a folder beside the project).
    fn remote_objects(&self) -> usize {
        harness::files_below(&self.root.with_file_name("store")).len()
    }

    fn use_store(&self) {
        self.datavc(&["remote", "add", "-d", "store", "../store"]);
    }
}

#[test]
fn a_branch_switch_checks_the_data_out_and_a_push_pushes_it_first() {
    let project = Project::new();
    let installed = harness::json(&harness::ok(&project.root, &["install", "--json"]));
    let written: Vec<_> = installed
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hook"].clone())
        .collect();
    assert_eq!(
        written,
        ["post-checkout", "pre-commit", "pre-push"],
        "{installed}"
    );
    project.commit_model(b"weights v1", "v1");
    project.git(&["checkout", "-qb", "side"]);
    project.commit_model(b"weights v2", "v2");

    // A commit shows what datavc has not recorded (git shows hooks' output on stderr).
    project.write("model.bin", b"weights v3, not added");
    let committed = project.git_output(&["commit", "-q", "--allow-empty", "-m", "note"]);
    assert!(committed.status.success());
    let said = String::from_utf8_lossy(&committed.stderr);
    assert!(said.contains("modified: model.bin"), "{said}");
    project.write("model.bin", b"weights v2");

    project.git(&["checkout", "-q", "main"]);
    assert_eq!(project.read("model.bin"), b"weights v1");
    project.git(&["switch", "-q", "side"]);
    assert_eq!(project.read("model.bin"), b"weights v2");

    // Checking files out of the index moves no branch: the hook leaves the data alone
    // (here unsaved work, which a checkout would refuse to overwrite).
    project.write("model.bin", b"unsaved");
    project.git(&["checkout", "main", "--", "model.bin.dvc"]);
    assert_eq!(project.read("model.bin"), b"unsaved");
    project.git(&["checkout", "side", "--", "model.bin.dvc"]);
    project.write("model.bin", b"weights v2");

    // No remote yet: the push stops before git sends anything.
    let refused = project.git_output(&["push", "-q", "origin", "side"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("no default remote"), "{said}");
    let origin_branches = harness::git(&project.origin, &["branch", "--list"]);
    assert!(
        origin_branches.stdout.is_empty(),
        "git pushed without the data"
    );

    project.use_store();
    project.git(&["push", "-q", "origin", "side"]);
    assert_eq!(project.remote_objects(), 1);
    assert_eq!(
        harness::json(&harness::ok(
            &project.root,
            &["status", "--cloud", "--json"]
        )),
        serde_json::json!([])
    );
    let again = harness::json(&harness::ok(&project.root, &["install", "--json"]));
    assert!(
        again
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["written"] == false),
        "{again}"
    );
}

/// During a rebase git checks out commit after commit; the hook waits for the end.
#[test]
fn the_checkout_hook_stays_out_of_a_rebase() {
    let project = Project::new();
    project.commit_model(b"weights v1", "v1");
    project.write("model.bin", b"unsaved");
    let checkout = ["git-hook", "post-checkout", "0000", "1111", "1"];
    let rebase = project.root.join(".git/rebase-merge");
    fs::create_dir(&rebase).unwrap();
    harness::ok(&project.root, &checkout);
    fs::remove_dir(&rebase).unwrap();
    let refused = harness::fails(&project.root, &checkout, 1);
    assert!(refused.contains("would overwrite"), "{refused}");
    assert_eq!(project.read("model.bin"), b"unsaved");

    // Outside a datavc repository the hooks do nothing, as DVC's.
    let plain = tempfile::tempdir().unwrap();
    harness::git(plain.path(), &["init", "-q"]);
    harness::ok(plain.path(), &["git-hook", "pre-push", "origin", "url"]);
}

#[test]
fn a_hook_datavc_did_not_write_is_refused_or_kept_and_run_first() {
    let project = Project::new();
    project.commit_model(b"weights v1", "v1");
    project.use_store();
    // Git runs hooks at the top of the work tree.
    let theirs = "#!/bin/sh\necho ran >> ../their-hook.log\nexit \"$(cat ../their-exit)\"\n";
    fs::create_dir_all(project.hook("")).unwrap();
    fs::write(project.hook("pre-push"), theirs).unwrap();
    make_executable(&project.hook("pre-push"));
    fs::write(project.root.with_file_name("their-exit"), "0").unwrap();

    let refused = harness::fails(&project.root, &["install"], 1);
    assert!(
        refused.contains("pre-push exists and was not written by datavc"),
        "{refused}"
    );
    assert!(refused.contains("--force"), "{refused}");
    assert!(
        !project.hook("post-checkout").exists(),
        "refused, yet wrote a hook"
    );
    assert_eq!(
        fs::read_to_string(project.hook("pre-push")).unwrap(),
        theirs
    );

    let forced = harness::json(&harness::ok(
        &project.root,
        &["install", "--force", "--json"],
    ));
    let chained = project.hook("pre-push.datavc-chained");
    assert_eq!(forced[2]["chained"], chained.to_str().unwrap(), "{forced}");
    assert_eq!(fs::read_to_string(&chained).unwrap(), theirs);

    // Their hook runs first and can stop the push; then datavc's pushes the data.
    fs::write(project.root.with_file_name("their-exit"), "3").unwrap();
    assert!(
        !project
            .git_output(&["push", "-q", "origin", "main"])
            .status
            .success()
    );
    assert_eq!(project.remote_objects(), 0);
    fs::write(project.root.with_file_name("their-exit"), "0").unwrap();
    project.git(&["push", "-q", "origin", "main"]);
    assert_eq!(project.remote_objects(), 1);
    let log = fs::read_to_string(project.root.with_file_name("their-hook.log")).unwrap();
    assert_eq!(log, "ran\nran\n");

    // A second --force finds only datavc's hooks: nothing is renamed again.
    let again = harness::json(&harness::ok(
        &project.root,
        &["install", "--force", "--json"],
    ));
    assert!(again[2].get("chained").is_none(), "{again}");
    assert_eq!(fs::read_to_string(&chained).unwrap(), theirs);
}

#[test]
fn hooks_go_where_git_looks_for_them_and_need_git() {
    let project = Project::new();
    project.git(&["config", "core.hooksPath", "githooks"]);
    harness::ok(&project.root, &["install"]);
    assert!(project.root.join("githooks/pre-push").is_file());
    assert!(!project.hook("pre-push").exists());

    let no_git = tempfile::tempdir().unwrap();
    harness::ok(no_git.path(), &["init"]);
    let refused = harness::fails(no_git.path(), &["install"], 2);
    assert!(refused.contains("not in a git work tree"), "{refused}");
}

fn make_executable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let _ = path;
}
