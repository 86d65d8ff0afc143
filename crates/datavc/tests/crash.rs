//! Crash safety, end to end: `add`, `push`, `pull`, `checkout` and `import` are SIGKILLed
//! at seeded pseudo-random moments, and after each kill the workspace, cache and remote
//! must hold only whole files, and rerunning the command must finish the work.
//!
//! After every kill: (a) each workspace file is byte-identical to its version before or
//! after the command (or absent where one of them lacks it), never partial; (b) the same
//! command, run again, succeeds, and `status -q` then says clean; (c) `fsck` finds no
//! corrupt cache object, every object in the remote folder hashes to its name, and no
//! `.datavc-tmp-` file is left in the repository after a write command completes.

#![cfg(unix)]

mod harness;

use std::collections::{BTreeMap, HashMap};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use harness::{Lcg, assert_fsck_clean, datavc, files_below, md5_hex, ok, run_ok};

/// Files in the tracked folder.
const FILES: usize = 300;
/// Killed runs of each command.
const ITERATIONS: usize = 25;
/// What datavc's temporary files have in their names.
const TEMP_MARK: &str = ".datavc-tmp-";

/// One version of `data/`: relative path → md5 of its bytes, plus the pointer that
/// records it.
#[derive(Clone, Default)]
struct Version {
    files: BTreeMap<String, String>,
    pointer: Vec<u8>,
}

/// Generates the data and its successive versions, deterministically.
struct Data {
    random: Lcg,
    current: Version,
    /// A counter that makes every rewritten file's bytes new.
    generation: u64,
}

impl Data {
    fn new(seed: u64) -> Data {
        Data {
            random: Lcg::new(seed),
            current: Version::default(),
            generation: 0,
        }
    }

    fn relpath(index: usize) -> String {
        match index % 4 {
            0 => format!("f{index:03}.bin"),
            1 => format!("d{}/f{index:03}.bin", index % 7),
            2 => format!("d{}/sub/f{index:03}.txt", index % 5),
            _ => format!("deep/a/b/c{}/f{index:03}.dat", index % 3),
        }
    }

    /// Sizes vary from empty to a few KiB; every 60th file is 1–4 MiB.
    fn bytes(&mut self, index: usize) -> Vec<u8> {
        self.generation += 1;
        let len = match index % 60 {
            0 => (1 << 20) + self.random.below(3 << 20) as usize,
            _ => self.random.below(8 << 10) as usize,
        };
        let mut bytes = self.random.bytes(len);
        // Two generations never collide, even for tiny files.
        bytes.extend_from_slice(format!("{}", self.generation).as_bytes());
        bytes
    }

    /// Writes the first version into `data`.
    fn write_first(&mut self, data: &Path) {
        let indexes: Vec<usize> = (0..FILES).collect();
        self.rewrite(data, &indexes);
    }

    /// Writes a new version into `data`: one large and twenty small files rewritten, and
    /// one file added, so that checking out an older version also deletes.
    fn write_next(&mut self, data: &Path, version: usize) {
        let big = 60 * (version % (FILES / 60));
        let mut indexes = vec![big];
        indexes.extend((0..20).map(|_| 1 + self.random.below(FILES as u64 - 1) as usize));
        indexes.retain(|index| index % 60 != 0 || *index == big);
        indexes.push(FILES + version);
        self.rewrite(data, &indexes);
    }

    fn rewrite(&mut self, data: &Path, indexes: &[usize]) {
        for &index in indexes {
            let bytes = self.bytes(index);
            let path = data.join(Data::relpath(index));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            self.current
                .files
                .insert(Data::relpath(index), md5_hex(&bytes));
        }
        self.current.pointer.clear();
    }
}

/// The workspace's files under `data` (temporary files aside, which are counted), hashed.
fn workspace(data: &Path) -> (BTreeMap<String, String>, Vec<String>) {
    let mut files = BTreeMap::new();
    let mut temps = Vec::new();
    for (relpath, path) in files_below(data) {
        if relpath.contains(TEMP_MARK) {
            temps.push(relpath);
        } else {
            files.insert(relpath, md5_hex(&std::fs::read(path).unwrap()));
        }
    }
    (files, temps)
}

/// (a): every file is whole: as in one of `versions`, or absent where one lacks it.
fn assert_whole(data: &Path, versions: &[&BTreeMap<String, String>], what: &str) {
    let (files, _) = workspace(data);
    let mut paths: Vec<&String> = files.keys().collect();
    paths.extend(versions.iter().flat_map(|v| v.keys()));
    paths.sort();
    paths.dedup();
    for path in paths {
        let now = files.get(path);
        let allowed: Vec<Option<&String>> = versions.iter().map(|v| v.get(path)).collect();
        assert!(
            allowed.contains(&now),
            "after a killed {what}: {path} is {now:?}, expected one of {allowed:?}"
        );
    }
}

/// Temporary files anywhere in the repository (`.dvc/` included).
fn temp_files(root: &Path) -> Vec<String> {
    files_below(root)
        .into_keys()
        .filter(|relpath| relpath.contains(TEMP_MARK))
        .collect()
}

/// (b) and (c) after a write command's rerun: clean status, clean fsck, no temp files.
fn assert_consistent(root: &Path, what: &str) {
    let status = datavc(root).args(["status", "-q"]).output().unwrap();
    assert!(
        status.status.success(),
        "status is not clean after rerunning {what}: {:?}",
        String::from_utf8_lossy(&datavc(root).arg("status").output().unwrap().stdout)
    );
    assert_fsck_clean(root, &format!("after {what}"));
    let temps = temp_files(root);
    assert!(
        temps.is_empty(),
        "temporary files left after rerunning {what}: {temps:?}"
    );
}

/// Checks the remote folder: every object hashes to its name. Objects are immutable, so
/// one already verified (same size and mtime) is not hashed again. Returns how many
/// staging files of interrupted uploads are there: object_store's (`<key>#<n>`, which
/// listings skip) and, where uploads are clones, datavc's own.
struct RemoteCheck {
    root: PathBuf,
    verified: HashMap<String, (u64, SystemTime)>,
}

impl RemoteCheck {
    fn check(&mut self) -> usize {
        let mut staging = 0;
        for (relpath, path) in files_below(&self.root.join("files/md5")) {
            let (name, suffix) = relpath.split_once('#').unwrap_or((&relpath, ""));
            let numbered = !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit());
            if numbered || relpath.contains(TEMP_MARK) {
                staging += 1;
                continue;
            }
            let metadata = std::fs::metadata(&path).unwrap();
            let key = (metadata.len(), metadata.modified().unwrap());
            if self.verified.get(&relpath) == Some(&key) {
                continue;
            }
            let expected = name.replace('/', "");
            let expected = expected.strip_suffix(".dir").unwrap_or(&expected);
            let actual = md5_hex(&std::fs::read(&path).unwrap());
            assert_eq!(actual, expected, "remote object {relpath} is corrupt");
            self.verified.insert(relpath, key);
        }
        staging
    }
}

/// Starts `datavc ARGS` in `root` and SIGKILLs it after `delay`; `None` if it was killed,
/// else how long it took to finish first.
fn kill_after(root: &Path, args: &[&str], delay: Duration) -> Option<Duration> {
    // Under cargo-llvm-cov a killed process leaves a half-written coverage profile that
    // would make the whole merge fail; killed runs write theirs beside the test data.
    let profile = root.with_file_name("killed-%p.profraw");
    let started = Instant::now();
    let mut child = datavc(root)
        .args(args)
        .env("LLVM_PROFILE_FILE", profile)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() >= delay {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    if status.signal() == Some(9) {
        return None;
    }
    assert!(
        status.success(),
        "datavc {args:?} failed on its own: {status}"
    );
    Some(started.elapsed())
}

/// A folder for the repositories: in `DATAVC_TEST_TMPDIR`, else on tmpfs where there is
/// one. datavc flushes every file it writes, which on a disk makes this test about five
/// times slower, and a SIGKILL (unlike a power cut) loses nothing the kernel has
/// accepted, so the disk adds nothing to what is tested.
fn scratch_dir() -> tempfile::TempDir {
    let parent = match std::env::var_os("DATAVC_TEST_TMPDIR") {
        Some(dir) => PathBuf::from(dir),
        None => [Path::new("/dev/shm")]
            .into_iter()
            .find(|dir| dir.is_dir() && tempfile::tempdir_in(dir).is_ok())
            .map_or_else(std::env::temp_dir, Path::to_owned),
    };
    tempfile::Builder::new()
        .prefix("datavc-crash-")
        .tempdir_in(&parent)
        .unwrap_or_else(|e| panic!("cannot create a folder in {}: {e}", parent.display()))
}

/// Per command (its first argument): kills that landed while it ran, runs in all, and
/// how long a run takes.
#[derive(Default)]
struct Tally(BTreeMap<&'static str, Runs>);

#[derive(Debug, Default)]
struct Runs {
    killed: usize,
    runs: usize,
    typical: Duration,
}

impl Tally {
    /// Runs `datavc ARGS` to completion, to learn how long the command takes.
    fn time(&mut self, root: &Path, args: &[&'static str]) {
        let started = Instant::now();
        run_ok(datavc(root).args(args));
        self.0.entry(args[0]).or_default().typical = started.elapsed();
    }

    /// Runs `datavc ARGS` and SIGKILLs it at a seeded moment within (and a little past) the
    /// command's typical duration. A run that finishes first sets that duration: the first
    /// timing may be slow by chance, and then most moments would come after the end.
    fn kill(&mut self, root: &Path, args: &[&'static str], random: &mut Lcg) {
        let runs = self.0.entry(args[0]).or_default();
        let span = runs.typical.as_micros() as u64 * 5 / 4;
        let finished = kill_after(root, args, Duration::from_micros(random.below(span)));
        runs.runs += 1;
        match finished {
            None => runs.killed += 1,
            Some(took) => runs.typical = took,
        }
    }
}

#[test]
fn killed_commands_leave_whole_files_and_reruns_finish() {
    let started = Instant::now();
    let base = scratch_dir();
    let (root, remote) = (base.path().join("repo"), base.path().join("remote"));
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    ok(&root, &["init", "--hash", "md5"]);
    ok(
        &root,
        &["remote", "add", "-d", "store", remote.to_str().unwrap()],
    );
    let mut remote_check = RemoteCheck {
        root: remote.clone(),
        verified: HashMap::new(),
    };
    let mut data_gen = Data::new(42);
    let mut delays = Lcg::new(2024);
    let mut tally = Tally::default();
    let mut versions: Vec<Version> = Vec::new();

    // Version 0, and version 1 to time a typical `add` and `push` of a new version.
    data_gen.write_first(&data);
    ok(&root, &["add", "data"]);
    ok(&root, &["push"]);
    data_gen.current.pointer = std::fs::read(root.join("data.dvc")).unwrap();
    versions.push(data_gen.current.clone());
    data_gen.write_next(&data, 1);
    tally.time(&root, &["add", "data"]);
    tally.time(&root, &["push"]);
    data_gen.current.pointer = std::fs::read(root.join("data.dvc")).unwrap();
    versions.push(data_gen.current.clone());

    for version in 2..2 + ITERATIONS {
        let old = versions.last().unwrap().clone();
        data_gen.write_next(&data, version);
        let new_files = data_gen.current.files.clone();

        tally.kill(&root, &["add", "data"], &mut delays);
        assert_whole(&data, &[&new_files], "add");
        let pointer_after_kill = std::fs::read(root.join("data.dvc")).unwrap();
        remote_check.check();
        ok(&root, &["add", "data"]);
        data_gen.current.pointer = std::fs::read(root.join("data.dvc")).unwrap();
        assert!(
            pointer_after_kill == old.pointer || pointer_after_kill == data_gen.current.pointer,
            "a killed add left a pointer that is neither the old nor the new one:\n{}",
            String::from_utf8_lossy(&pointer_after_kill)
        );
        assert_consistent(&root, "add");
        versions.push(data_gen.current.clone());

        tally.kill(&root, &["push"], &mut delays);
        remote_check.check();
        ok(&root, &["push"]);
        remote_check.check();
        run_ok(datavc(&root).args(["status", "--cloud", "-q"]));
        assert_consistent(&root, "push");
    }

    // Pull into a clone with an empty cache, again and again.
    let clone = base.path().join("clone");
    harness::clone_pointers(&root, &clone);
    let latest = versions.last().unwrap().files.clone();
    tally.time(&clone, &["pull"]);
    for _ in 0..ITERATIONS {
        for stale in [".dvc/cache", ".dvc/tmp", "data"] {
            let path = clone.join(stale);
            if path.exists() {
                std::fs::remove_dir_all(&path).unwrap();
            }
        }
        tally.kill(&clone, &["pull"], &mut delays);
        assert_whole(&clone.join("data"), &[&BTreeMap::new(), &latest], "pull");
        ok(&clone, &["pull"]);
        assert_eq!(workspace(&clone.join("data")).0, latest, "after pull");
        assert_consistent(&clone, "pull");
    }

    // Check out older versions by switching the pointer, as `git checkout` would.
    let mut current = versions.len() - 1;
    for iteration in 0..=ITERATIONS {
        let target =
            (current + 1 + delays.below(versions.len() as u64 - 1) as usize) % versions.len();
        std::fs::write(root.join("data.dvc"), &versions[target].pointer).unwrap();
        // The first switch is not killed: it times a typical checkout.
        if iteration == 0 {
            tally.time(&root, &["checkout"]);
        } else {
            tally.kill(&root, &["checkout"], &mut delays);
            assert_whole(
                &data,
                &[&versions[current].files, &versions[target].files],
                "checkout",
            );
            ok(&root, &["checkout"]);
        }
        assert_eq!(
            workspace(&data).0,
            versions[target].files,
            "after checkout {iteration}"
        );
        assert_consistent(&root, "checkout");
        current = target;
    }

    let staging = remote_check.check();
    eprintln!(
        "runs per command: {:?}; upload staging files left in the remote: {staging}; \
         {:?} in all",
        tally.0,
        started.elapsed()
    );
    for (command, Runs { killed, runs, .. }) in &tally.0 {
        assert!(
            // Under load some runs finish before their moment; most must not.
            killed * 4 >= *runs,
            "only {killed} of {runs} `{command}` runs were killed before they finished"
        );
    }
}

/// An import checks its folder out in a temporary folder (from this repository's cache
/// where the registry hashes alike, else copied out of the clone and stored), saves its
/// pointer and renames the folder into place: after a kill the data is there whole with
/// its pointer (and `checkout` removes the clone the kill left), or not at all (and the
/// import runs again as if it had never started). Its pointer never stands beside data
/// that git does not ignore.
#[test]
fn killed_imports_leave_nothing_or_everything() {
    let base = scratch_dir();
    let registry = base.path().join("registry");
    let store = base.path().join("store");
    std::fs::create_dir_all(registry.join("data")).unwrap();
    harness::git(&registry, &["init", "-q"]);
    ok(&registry, &["init", "--hash", "md5"]);
    ok(
        &registry,
        &["remote", "add", "-d", "store", store.to_str().unwrap()],
    );
    let mut data_gen = Data::new(7);
    data_gen.write_first(&registry.join("data"));
    let files = data_gen.current.files;
    ok(&registry, &["add", "data"]);
    ok(&registry, &["push"]);
    harness::git(&registry, &["add", "-A"]);
    harness::git(&registry, &["commit", "-qm", "data"]);
    // An md5 repository checks the registry's objects out; a blake3 one stores a copy.
    for (hash, seed) in [("md5", 99), ("blake3", 100)] {
        let user = base.path().join(format!("user-{hash}"));
        std::fs::create_dir(&user).unwrap();
        harness::git(&user, &["init", "-q"]);
        ok(&user, &["init", "--hash", hash]);
        kill_imports(&user, &files, seed);
    }
}

/// Imports the registry's `data` into `user` again and again, killing each import at a
/// moment `seed` picks, and checks what each kill left.
fn kill_imports(user: &Path, files: &BTreeMap<String, String>, seed: u64) {
    let import = ["import", "../registry", "data", "-o", "imported"];
    let mut delays = Lcg::new(seed);
    let mut tally = Tally::default();
    let imported = user.join("imported");
    let mut whole = 0;
    for iteration in 0..=ITERATIONS {
        for stale in [".dvc/cache", ".dvc/tmp", "imported"] {
            let path = user.join(stale);
            if path.exists() {
                std::fs::remove_dir_all(&path).unwrap();
            }
        }
        for stale in ["imported.dvc", ".gitignore"] {
            let _ = std::fs::remove_file(user.join(stale));
        }
        // The first import is not killed: it times a typical one.
        if iteration == 0 {
            tally.time(user, &import);
            continue;
        }
        tally.kill(user, &import, &mut delays);
        if user.join("imported.dvc").exists() {
            let ignored = std::fs::read_to_string(user.join(".gitignore")).unwrap_or_default();
            assert!(
                ignored.lines().any(|line| line == "/imported"),
                "a killed import left its pointer without the .gitignore line"
            );
        }
        let now = workspace(&imported).0;
        match now.is_empty() {
            true => {
                ok(user, &import);
            }
            false => {
                assert!(now == *files, "a killed import left a part of its data");
                assert!(
                    user.join("imported.dvc").is_file(),
                    "a killed import left its data without a pointer"
                );
                whole += 1;
                // Checking the data out removes the clone the kill left.
                ok(user, &["checkout"]);
            }
        }
        assert_eq!(workspace(&imported).0, *files, "after import {iteration}");
        assert_consistent(user, "import");
    }
    let Runs { killed, runs, .. } = &tally.0["import"];
    let user = user.display();
    eprintln!("imports into {user} killed: {killed} of {runs}, {whole} of them after the rename");
    assert!(
        killed * 4 >= *runs,
        "only {killed} of {runs} imports into {user} were killed before they finished"
    );
}
