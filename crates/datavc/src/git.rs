//! The little of git that datavc needs: list revisions and read pointer and pipeline files
//! as they were committed (`diff`, the `--all-*` flags), ask what git tracks or ignores,
//! stage files, and clone another repository (`get`). It runs the `git` program, as the
//! user would.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::error::{Error, Result};
use crate::pointer::{POINTER_EXT, Pointer};
use crate::stages;

/// Which commits besides the workspace `gc` keeps data for, and `push`, `fetch`, `pull`
/// and `status --cloud` cover.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevScope {
    /// The tip of every branch (with `num`, its last commits).
    pub all_branches: bool,
    /// Every tag.
    pub all_tags: bool,
    /// Every commit reachable from any ref.
    pub all_commits: bool,
    /// A commit (with `num`, its last commits): `gc --rev`.
    pub rev: Option<String>,
    /// How many commits `rev` and each branch tip stand for, counting back along first
    /// parents, as DVC's `gc -n` counts (`None`: 1).
    pub num: Option<usize>,
    /// Every commit reachable from any ref and committed since then: `gc --date`.
    pub since: Option<jiff::Timestamp>,
}

impl RevScope {
    /// Whether any revision is asked for.
    pub fn any(&self) -> bool {
        self.all_branches
            || self.all_tags
            || self.all_commits
            || self.rev.is_some()
            || self.since.is_some()
    }
}

fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let output = run(root, args)?;
    match output.status.success() {
        true => Ok(output.stdout),
        false => Err(failed(args, &output)),
    }
}

/// Runs git in `root`, whatever its exit status.
fn run(root: &Path, args: &[&str]) -> Result<Output> {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| Error::Git {
            args: args.join(" "),
            detail: e.to_string(),
        })
}

fn failed(args: &[&str], output: &Output) -> Error {
    Error::Git {
        args: args.join(" "),
        detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    }
}

/// Whether the repository has any commit (DVC compares nothing before the first).
pub fn has_commits(root: &Path) -> Result<bool> {
    verify(root, "HEAD").map(|commit| commit.is_some())
}

/// The commit `rev` names.
pub fn commit(root: &Path, rev: &str) -> Result<String> {
    verify(root, rev)?.ok_or_else(|| Error::UnknownRevision {
        rev: rev.to_owned(),
    })
}

/// The commit `rev` names, or `None` where git knows no such commit; other failures (not
/// a git repository) are errors.
fn verify(root: &Path, rev: &str) -> Result<Option<String>> {
    let commit = format!("{rev}^{{commit}}");
    let args = [
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        &commit,
    ];
    let output = run(root, &args)?;
    match (output.status.code(), output.stderr.is_empty()) {
        (Some(0), _) => Ok(lines(output.stdout).into_iter().next()),
        (Some(1), true) => Ok(None),
        _ => Err(failed(&args, &output)),
    }
}

fn lines(bytes: Vec<u8>) -> Vec<String> {
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `word` as a POSIX shell reads it back, for the git commands hints suggest: in single
/// quotes unless every character is safe.
pub fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "._/-+@%:=,".contains(c);
    match !word.is_empty() && word.chars().all(safe) {
        true => word.to_owned(),
        false => format!("'{}'", word.replace('\'', "'\\''")),
    }
}

/// The absolute path of `name` in the repository's git folder (`hooks`, `rebase-merge`),
/// as git resolves it: `core.hooksPath` and worktrees included.
pub fn git_path(root: &Path, name: &str) -> Result<PathBuf> {
    let path = git(
        root,
        &["rev-parse", "--path-format=absolute", "--git-path", name],
    )?;
    Ok(PathBuf::from(
        String::from_utf8_lossy(&path).trim_end_matches(['\n', '\r']),
    ))
}

/// Whether `root` is in a git work tree.
pub fn in_work_tree(root: &Path) -> Result<bool> {
    Ok(run(root, &["rev-parse", "--is-inside-work-tree"])?
        .status
        .success())
}

/// Which of `paths` (relative to `root`, in a git work tree) git tracks, or tracks files
/// below.
pub fn tracked(root: &Path, paths: &[&str]) -> Result<Vec<String>> {
    let listed = git(root, &[&["ls-files", "-z", "--"], paths].concat())?;
    let listed: Vec<&[u8]> = listed
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .collect();
    let holds = |path: &str| {
        let folder = format!("{path}/");
        (listed.iter()).any(|name| *name == path.as_bytes() || name.starts_with(folder.as_bytes()))
    };
    Ok(paths
        .iter()
        .filter(|p| holds(p))
        .map(|p| (*p).to_owned())
        .collect())
}

/// Which of `paths` (relative to `root`, in a git work tree) git's ignore rules exclude.
pub fn ignored(root: &Path, paths: &[&str]) -> Result<Vec<String>> {
    let mut ignored = Vec::new();
    for path in paths {
        let args = ["check-ignore", "--quiet", "--", path];
        let output = run(root, &args)?;
        // 0: ignored; 1: not ignored.
        match output.status.code() {
            Some(0) => ignored.push((*path).to_owned()),
            Some(1) => {}
            _ => return Err(failed(&args, &output)),
        }
    }
    Ok(ignored)
}

/// Stages `paths` (relative to `root`, in a git work tree), a deleted one as a deletion.
pub fn stage(root: &Path, paths: &[&str]) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let (present, gone): (Vec<&str>, Vec<&str>) = paths
        .iter()
        .partition(|path| crate::fsutil::join_slash(root, path).exists());
    if !present.is_empty() {
        git(root, &[&["add", "--"], &present[..]].concat())?;
    }
    if !gone.is_empty() {
        let remove = ["rm", "--cached", "--quiet", "--ignore-unmatch", "--"];
        git(root, &[&remove[..], &gone[..]].concat())?;
    }
    Ok(())
}

/// Clones `url` (a git URL, or a folder relative to the working folder) into the new
/// folder `dest`, without checking anything out.
pub fn clone(url: &str, dest: &Path) -> Result<()> {
    let dest = dest.to_string_lossy();
    let args = ["clone", "--quiet", "--no-checkout", "--", url, &dest];
    let output = Command::new("git")
        .args(args)
        .output()
        .map_err(|e| Error::Git {
            args: args.join(" "),
            detail: e.to_string(),
        })?;
    match output.status.success() {
        true => Ok(()),
        false => Err(failed(&args, &output)),
    }
}

/// Checks out in the clone at `root` the commit `rev` names (a branch of the repository
/// it was cloned from counts too), detached; returns the commit.
pub fn checkout_detached(root: &Path, rev: &str) -> Result<String> {
    let commit = match verify(root, rev)? {
        Some(commit) => commit,
        None => commit(root, &format!("origin/{rev}")).map_err(|_| Error::UnknownRevision {
            rev: rev.to_owned(),
        })?,
    };
    git(root, &["checkout", "--quiet", "--detach", &commit])?;
    Ok(commit)
}

/// The commits the scope names, without duplicates.
pub fn revisions(root: &Path, scope: &RevScope) -> Result<Vec<String>> {
    let num = scope.num.unwrap_or(1).to_string();
    let last_commits = |tip: &str| {
        git(
            root,
            &["rev-list", "--first-parent", "--max-count", &num, tip],
        )
        .map(lines)
    };
    let mut revs = Vec::new();
    if let Some(rev) = &scope.rev {
        revs.extend(last_commits(&commit(root, rev)?)?);
    }
    if scope.all_commits {
        revs.extend(lines(git(root, &["rev-list", "--all"])?));
    }
    if scope.all_branches {
        for tip in refs(root, "refs/heads")? {
            revs.extend(last_commits(&tip)?);
        }
    }
    if scope.all_tags {
        revs.extend(refs(root, "refs/tags")?);
    }
    if let Some(since) = scope.since {
        revs.extend(committed_since(root, since)?);
    }
    let mut resolved = Vec::new();
    for rev in revs {
        let commit = lines(git(root, &["rev-parse", "--verify", "--quiet", &rev])?).concat();
        if !resolved.contains(&commit) {
            resolved.push(commit);
        }
    }
    Ok(resolved)
}

/// The commits the refs below `prefix` (`refs/heads`) point to.
fn refs(root: &Path, prefix: &str) -> Result<Vec<String>> {
    let format = "--format=%(objectname)^{commit}";
    git(root, &["for-each-ref", format, prefix]).map(lines)
}

/// The commits reachable from any ref whose commit time is `since` or later. Each commit's
/// own time decides, as in DVC: git's `--since` stops at the first older commit it meets.
fn committed_since(root: &Path, since: jiff::Timestamp) -> Result<Vec<String>> {
    let listed = lines(git(root, &["log", "--all", "--format=%H %ct"])?);
    Ok((listed.into_iter())
        .filter_map(|line| {
            let (commit, time) = line.split_once(' ')?;
            let recent = time.parse::<i64>().ok()? >= since.as_second();
            recent.then(|| commit.to_owned())
        })
        .collect())
}

/// The outputs recorded at `rev`, by pointer files and pipeline stages, parsed as if
/// their files were in the workspace.
pub fn outputs_at(root: &Path, rev: &str) -> Result<Vec<Pointer>> {
    committed_outputs(root, rev).map_err(|error| match error {
        Error::BadPointer { .. } | Error::StageTemplate { .. } | Error::UnknownHash { .. } => {
            Error::AtRevision {
                rev: rev.to_owned(),
                source: Box::new(error),
            }
        }
        other => other,
    })
}

fn committed_outputs(root: &Path, rev: &str) -> Result<Vec<Pointer>> {
    let listing = git(root, &["ls-tree", "-r", "-z", "--name-only", rev])?;
    let names: BTreeSet<String> = listing
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty() && !n.starts_with(b".dvc/"))
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let show = |name: &str| -> Result<String> {
        let text = git(root, &["show", &format!("{rev}:{name}")])?;
        Ok(String::from_utf8_lossy(&text).into_owned())
    };
    let suffix = format!(".{POINTER_EXT}");
    let mut outputs = Vec::new();
    for name in &names {
        let file = crate::fsutil::join_slash(root, name);
        if name.ends_with(&suffix) {
            outputs.push(Pointer::parse(&file, &show(name)?)?);
        } else if let Some(folder) = name.strip_suffix(stages::STAGES_FILE)
            && (folder.is_empty() || folder.ends_with('/'))
        {
            let lock_name = format!("{folder}{}", stages::LOCK_FILE);
            let lock = match names.contains(&lock_name) {
                true => Some(show(&lock_name)?),
                false => None,
            };
            // Templates read the files committed with the pipeline.
            let read = |path: &Path| -> std::result::Result<Option<String>, String> {
                let path = crate::repo::absolute(path).map_err(|e| e.to_string())?;
                let Some(name) = crate::fsutil::relative_slash(&path, root) else {
                    return Ok(None);
                };
                match names.contains(&name) {
                    true => show(&name).map(Some).map_err(|e| e.to_string()),
                    false => Ok(None),
                }
            };
            let pipeline = stages::parse(root, &file, &show(name)?, lock.as_deref(), &read)?;
            outputs.extend(pipeline.outputs);
        }
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_are_quoted_only_where_a_shell_needs_it() {
        assert_eq!(super::shell_word("data/a-b_1.dvc"), "data/a-b_1.dvc");
        assert_eq!(super::shell_word("my data.dvc"), "'my data.dvc'");
        assert_eq!(super::shell_word("it's.dvc"), r"'it'\''s.dvc'");
        assert_eq!(super::shell_word("h\u{e9}.dvc"), "'h\u{e9}.dvc'");
    }
}
