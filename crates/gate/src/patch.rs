//! Patch coverage: which lines changed since a git base, like diff-cover.
//!
//! The changed lines are the added side of `git diff --unified=0 --merge-base BASE`, run
//! in the project root with `--relative`, so the diff covers committed, staged and
//! unstaged changes since the branch left `BASE`, with paths relative to the root as the
//! coverage paths are. Of those lines, only the ones the coverage report instruments count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::error::{Error, Result};

/// Added or modified lines by repo-relative path.
pub type ChangedLines = BTreeMap<String, BTreeSet<u32>>;

/// Runs git in `root` and returns the lines changed since `base`.
pub fn changed_lines(root: &Path, base: &str) -> Result<ChangedLines> {
    let output = Command::new("git")
        .args([
            "diff",
            "--unified=0",
            "--no-color",
            "--no-ext-diff",
            "--relative",
            "--merge-base",
            base,
            "--",
        ])
        .current_dir(root)
        .output()
        .map_err(|error| Error::Git {
            base: base.to_owned(),
            detail: format!("cannot run git: {error}"),
        })?;
    if !output.status.success() {
        return Err(Error::Git {
            base: base.to_owned(),
            detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(parse_diff(&String::from_utf8_lossy(&output.stdout)))
}

/// Parses a unified diff with zero context into added lines per new path.
pub fn parse_diff(diff: &str) -> ChangedLines {
    let mut changed = ChangedLines::new();
    let mut current: Option<String> = None;
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ ") {
            current = match path {
                "/dev/null" => None,
                _ => Some(unquote(path.strip_prefix("b/").unwrap_or(path))),
            };
        } else if let (Some(path), Some(hunk)) = (&current, line.strip_prefix("@@ ")) {
            // `@@ -a[,b] +c[,d] @@`: d lines starting at c were added (d defaults to 1).
            let Some(added) = hunk
                .split_whitespace()
                .find_map(|part| part.strip_prefix('+'))
            else {
                continue;
            };
            let (start, count) = match added.split_once(',') {
                Some((start, count)) => (start.parse::<u32>().ok(), count.parse::<u32>().ok()),
                None => (added.parse::<u32>().ok(), Some(1)),
            };
            if let (Some(start), Some(count)) = (start, count) {
                let lines = changed.entry(path.clone()).or_default();
                lines.extend(start..start.saturating_add(count));
            }
        }
    }
    changed
}

/// Git quotes paths with unusual characters (`"a\tb"`); undo the common escapes.
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_owned();
    };
    inner
        .replace("\\\"", "\"")
        .replace("\\t", "\t")
        .replace("\\\\", "\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_per_file() {
        let diff = "diff --git a/src/a.rs b/src/a.rs\n--- a/src/a.rs\n+++ b/src/a.rs\n@@ -3,0 +4,2 @@ fn x\n+a\n+b\n@@ -10 +12 @@\n-x\n+y\n@@ -20,3 +22,0 @@\n-gone\ndiff --git a/old.rs b/old.rs\n--- a/old.rs\n+++ /dev/null\n@@ -1,2 +0,0 @@\n";
        let changed = parse_diff(diff);
        assert_eq!(changed.len(), 1);
        assert_eq!(
            changed["src/a.rs"].iter().copied().collect::<Vec<_>>(),
            [4, 5, 12]
        );
    }
}
