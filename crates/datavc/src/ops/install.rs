//! `install`: git hooks that keep the data in step with git, as `dvc install` installs them.
//!
//! After git checks out a branch or a commit, `datavc checkout`; before a commit, `datavc
//! status`, to show what is not recorded yet; before a push, `datavc push`, so that no
//! commit reaches the team without its data. Each hook only calls `datavc git-hook NAME`,
//! which decides what to run ([`hook_action`]): a newer datavc changes what the hooks do
//! without installing them again.
//!
//! A hook that datavc did not write is the user's (or another tool's, such as gate's
//! `pre-push`): `install` refuses to touch it, or with `force` renames it
//! `NAME.datavc-chained`, which datavc's hook runs first.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::fsutil::{self, write_program_atomic};
use crate::git;
use crate::repo::Repo;

/// The line that marks a hook as written by `datavc install`.
const MARKER: &str = "# installed by `datavc install`";

/// The suffix a kept hook gets (`pre-push.datavc-chained`).
const CHAINED: &str = "datavc-chained";

/// A git hook datavc installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Runs after `git checkout` and `git switch`.
    PostCheckout,
    /// Runs before `git commit` records the commit.
    PreCommit,
    /// Runs before `git push` sends anything.
    PrePush,
}

impl Hook {
    /// Every hook, in the order `install` writes them.
    pub const ALL: [Hook; 3] = [Hook::PostCheckout, Hook::PreCommit, Hook::PrePush];

    /// Git's name for the hook, its file name.
    pub fn name(self) -> &'static str {
        match self {
            Hook::PostCheckout => "post-checkout",
            Hook::PreCommit => "pre-commit",
            Hook::PrePush => "pre-push",
        }
    }

    /// The hook git calls `name`.
    pub fn from_name(name: &str) -> Option<Hook> {
        Hook::ALL.into_iter().find(|hook| hook.name() == name)
    }

    /// The hook file's text: run the kept hook, if any, then `datavc git-hook NAME`.
    fn script(self) -> String {
        let name = self.name();
        format!(
            "#!/bin/sh\n\
             {MARKER}: keeps DVC-tracked data in step with git\n\
             chained=\"$(dirname \"$0\")/{name}.{CHAINED}\"\n\
             if [ -x \"$chained\" ]; then \"$chained\" \"$@\" || exit $?; fi\n\
             command -v datavc >/dev/null 2>&1 || {{\n\
             \x20 echo \"datavc is not on PATH; this repository's {name} hook runs it\" >&2\n\
             \x20 exit 1\n\
             }}\n\
             exec datavc git-hook {name} \"$@\"\n"
        )
    }
}

/// What `install` did with one hook.
#[derive(Debug, Clone, Serialize)]
pub struct InstalledHook {
    /// Git's name for the hook.
    pub hook: &'static str,
    /// The hook file.
    pub path: PathBuf,
    /// Whether the file was written (false: datavc's hook was there already).
    pub written: bool,
    /// Where the hook that was there before now lies, run first by datavc's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chained: Option<PathBuf>,
}

/// Installs datavc's git hooks; with `force`, keeps each hook that is in the way by
/// chaining it, else refuses before writing anything.
pub fn install(repo: &Repo, force: bool) -> Result<Vec<InstalledHook>> {
    let root = repo.root();
    if !super::uses_git(repo)? {
        return Err(Error::NoGit {
            root: root.to_owned(),
        });
    }
    let dir = git::git_path(root, "hooks")?;
    let found = Hook::ALL
        .into_iter()
        .map(|hook| Found::read(&dir, hook))
        .collect::<Result<Vec<_>>>()?;
    for found in found.iter().filter(|found| found.foreign()) {
        if !force {
            return Err(Error::ForeignHook {
                path: found.path.clone(),
                hook: found.hook.name(),
            });
        }
        if fsutil::exists(&found.chained) {
            return Err(Error::Exists {
                path: found.chained.clone(),
            });
        }
    }
    fsutil::create_dir_all(&dir)?;
    found.into_iter().map(Found::install).collect()
}

/// A hook file as `install` found it.
struct Found {
    hook: Hook,
    path: PathBuf,
    chained: PathBuf,
    text: Option<String>,
}

impl Found {
    fn read(dir: &Path, hook: Hook) -> Result<Found> {
        let path = dir.join(hook.name());
        let text = match std::fs::read(&path) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => {
                return Err(Error::Io {
                    action: "read",
                    path,
                    source: e,
                });
            }
        };
        Ok(Found {
            hook,
            chained: dir.join(format!("{}.{CHAINED}", hook.name())),
            path,
            text,
        })
    }

    fn foreign(&self) -> bool {
        self.text
            .as_ref()
            .is_some_and(|text| !text.contains(MARKER))
    }

    fn install(self) -> Result<InstalledHook> {
        let script = self.hook.script();
        let chained = self.foreign().then_some(self.chained);
        if let Some(chained) = &chained {
            std::fs::rename(&self.path, chained).map_err(Error::io("rename", &self.path))?;
        }
        let written = self.text.as_deref() != Some(script.as_str());
        if written {
            write_program_atomic(&self.path, script.as_bytes())?;
        }
        Ok(InstalledHook {
            hook: self.hook.name(),
            path: self.path,
            written,
            chained,
        })
    }
}

/// What a hook runs when git calls it with `args`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookAction {
    /// `datavc checkout`.
    Checkout,
    /// `datavc status`.
    Status,
    /// `datavc push`.
    Push,
    /// Nothing.
    Nothing,
}

/// What `hook` runs in the repository at `root`, called by git with `args`.
pub fn hook_action(root: &Path, hook: Hook, args: &[String]) -> Result<HookAction> {
    Ok(match hook {
        Hook::PreCommit => HookAction::Status,
        Hook::PrePush => HookAction::Push,
        // Git passes the old HEAD, the new one, and 1 for a branch or commit checkout, 0
        // for files checked out of the index, which moves no pointer.
        Hook::PostCheckout if args.get(2).map(String::as_str) != Some("1") => HookAction::Nothing,
        // A rebase checks commits out one by one; a failed checkout would stop it midway.
        Hook::PostCheckout if rebasing(root)? => HookAction::Nothing,
        Hook::PostCheckout => HookAction::Checkout,
    })
}

fn rebasing(root: &Path) -> Result<bool> {
    for state in ["rebase-merge", "rebase-apply"] {
        if git::git_path(root, state)?.exists() {
            return Ok(true);
        }
    }
    Ok(false)
}
