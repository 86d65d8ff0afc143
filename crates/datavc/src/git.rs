//! The little of git that `diff` and `gc --all-*` need: list revisions and read pointer
//! files as they were committed. It runs the `git` program, as the user would.

use std::path::Path;
use std::process::Command;

use crate::error::{Error, Result};
use crate::pointer::{POINTER_EXT, Pointer};

/// Which commits besides the workspace `gc` keeps data for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RevScope {
    /// The tip of every branch.
    pub all_branches: bool,
    /// Every tag.
    pub all_tags: bool,
    /// Every commit reachable from any ref.
    pub all_commits: bool,
}

impl RevScope {
    /// Whether any revision is asked for.
    pub fn any(self) -> bool {
        self.all_branches || self.all_tags || self.all_commits
    }
}

fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| Error::Git {
            args: args.join(" "),
            detail: e.to_string(),
        })?;
    if !output.status.success() {
        let detail = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        return Err(Error::Git {
            args: args.join(" "),
            detail,
        });
    }
    Ok(output.stdout)
}

fn lines(bytes: Vec<u8>) -> Vec<String> {
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The commits the scope names, without duplicates.
pub fn revisions(root: &Path, scope: RevScope) -> Result<Vec<String>> {
    let mut revs = Vec::new();
    if scope.all_commits {
        revs.extend(lines(git(root, &["rev-list", "--all"])?));
    }
    for (wanted, refs) in [
        (scope.all_branches, "refs/heads"),
        (scope.all_tags, "refs/tags"),
    ] {
        if wanted {
            revs.extend(lines(git(
                root,
                &["for-each-ref", "--format=%(objectname)^{commit}", refs],
            )?));
        }
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

/// The pointer files committed at `rev`, parsed as if they were in the workspace.
pub fn pointers_at(root: &Path, rev: &str) -> Result<Vec<Pointer>> {
    let listing = git(root, &["ls-tree", "-r", "-z", "--name-only", rev])?;
    let suffix = format!(".{POINTER_EXT}");
    let mut pointers = Vec::new();
    for name in listing.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name);
        if !name.ends_with(&suffix) || name.starts_with(".dvc/") {
            continue;
        }
        let text = git(root, &["show", &format!("{rev}:{name}")])?;
        let file = crate::fsutil::join_slash(root, &name);
        pointers.push(Pointer::parse(&file, &String::from_utf8_lossy(&text))?);
    }
    Ok(pointers)
}
