//! `gate hook install|uninstall`: a `pre-push` git hook that runs `gate run`, so a push
//! gets the same verdict locally as in CI.
//!
//! The hook is recognised as ours by a marker line. An existing hook that is not ours is
//! never overwritten silently: install refuses, and with `force` moves it aside to
//! `pre-push.gate-backup`, which uninstall puts back.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// The line that marks a hook as installed by gate.
pub const MARKER: &str = "# installed by `gate hook install`; remove with `gate hook uninstall`";

/// What an install or uninstall did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookOutcome {
    /// The hook was written.
    Installed {
        /// The hook file.
        path: PathBuf,
        /// Where a foreign hook was moved, if one was.
        backup: Option<PathBuf>,
    },
    /// Our hook was already there and is unchanged.
    AlreadyInstalled {
        /// The hook file.
        path: PathBuf,
    },
    /// Our hook was removed.
    Removed {
        /// The hook file.
        path: PathBuf,
        /// A backed-up hook that was put back, if one was.
        restored: Option<PathBuf>,
    },
    /// There was no hook of ours to remove.
    NotInstalled {
        /// Where it would be.
        path: PathBuf,
    },
}

/// The hooks directory of the repository containing `directory` (honours
/// `core.hooksPath` and worktrees by asking git).
pub fn hooks_dir(directory: &Path) -> Result<PathBuf> {
    let output = Command::new("git")
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .current_dir(directory)
        .output()
        .map_err(|error| Error::NotGitRepository {
            path: directory.to_path_buf(),
            detail: format!("cannot run git: {error}"),
        })?;
    if !output.status.success() {
        return Err(Error::NotGitRepository {
            path: directory.to_path_buf(),
            detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim(),
    ))
}

/// The default hook command: `gate run` with the given configuration file, quoted for `sh`.
pub fn default_command(config: &str) -> String {
    format!("gate run --config '{}'", config.replace('\'', "'\\''"))
}

/// The hook script running `command` (a `sh` command line).
pub fn script(command: &str) -> String {
    format!(
        "#!/bin/sh\n{MARKER}\n# Runs the same gate as CI before every push; `git push --no-verify` skips it.\nexec {command}\n"
    )
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| text.contains(MARKER))
}

fn write_executable(path: &Path, contents: &str) -> Result<()> {
    let write_error = |source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(write_error)?;
    }
    std::fs::write(path, contents).map_err(write_error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(write_error)?;
    }
    Ok(())
}

/// Installs the `pre-push` hook running `command` in `hooks_dir`.
pub fn install(hooks_dir: &Path, command: &str, force: bool) -> Result<HookOutcome> {
    let path = hooks_dir.join("pre-push");
    let contents = script(command);
    let mut backup = None;
    if path.exists() {
        if is_ours(&path) {
            if std::fs::read_to_string(&path).is_ok_and(|text| text == contents) {
                return Ok(HookOutcome::AlreadyInstalled { path });
            }
        } else if force {
            let backup_path = hooks_dir.join("pre-push.gate-backup");
            if backup_path.exists() {
                return Err(Error::WouldOverwrite { path: backup_path });
            }
            std::fs::rename(&path, &backup_path).map_err(|source| Error::WriteFile {
                path: backup_path.clone(),
                source,
            })?;
            backup = Some(backup_path);
        } else {
            return Err(Error::ForeignHook { path });
        }
    }
    write_executable(&path, &contents)?;
    Ok(HookOutcome::Installed { path, backup })
}

/// Removes our `pre-push` hook and restores a backed-up one.
pub fn uninstall(hooks_dir: &Path) -> Result<HookOutcome> {
    let path = hooks_dir.join("pre-push");
    if !path.exists() {
        return Ok(HookOutcome::NotInstalled { path });
    }
    if !is_ours(&path) {
        return Err(Error::ForeignHook { path });
    }
    std::fs::remove_file(&path).map_err(|source| Error::WriteFile {
        path: path.clone(),
        source,
    })?;
    let backup_path = hooks_dir.join("pre-push.gate-backup");
    let restored = if backup_path.exists() {
        std::fs::rename(&backup_path, &path).map_err(|source| Error::WriteFile {
            path: path.clone(),
            source,
        })?;
        Some(backup_path)
    } else {
        None
    };
    Ok(HookOutcome::Removed { path, restored })
}
