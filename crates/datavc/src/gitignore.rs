//! The `.gitignore` lines that keep tracked outputs out of git: `/name`, escaped as DVC
//! writes it, in the `.gitignore` of the folder holding the output.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil::{self, write_atomic};

/// Adds `/name` to the `.gitignore` in `dir` unless it is there; returns that file.
pub fn ignore(dir: &Path, name: &str) -> Result<PathBuf> {
    let file = dir.join(".gitignore");
    let line = line(name);
    let mut text = read(&file)?;
    if text.lines().any(|l| l.trim_end() == line) {
        return Ok(file);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&line);
    text.push('\n');
    write_atomic(&file, text.as_bytes())?;
    Ok(file)
}

/// Removes `/name` from the `.gitignore` in `dir`, and the file once nothing else is in
/// it, as DVC does; returns that file if it changed.
pub fn unignore(dir: &Path, name: &str) -> Result<Option<PathBuf>> {
    let file = dir.join(".gitignore");
    let line = line(name);
    let text = read(&file)?;
    if !text.lines().any(|l| l.trim_end() == line) {
        return Ok(None);
    }
    let kept: String = text
        .lines()
        .filter(|l| l.trim_end() != line)
        .map(|l| format!("{l}\n"))
        .collect();
    match kept.trim().is_empty() {
        true => fsutil::remove_file(&file)?,
        false => write_atomic(&file, kept.as_bytes())?,
    }
    Ok(Some(file))
}

fn read(file: &Path) -> Result<String> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(source) => Err(Error::Io {
            action: "read",
            path: file.to_owned(),
            source,
        }),
    }
}

/// `/name` with git's pattern characters escaped, as DVC writes it.
fn line(name: &str) -> String {
    let mut line = String::from("/");
    for c in name.chars() {
        if matches!(c, '\\' | '[' | ']' | '!' | '*' | '#' | '?') {
            line.push('\\');
        }
        line.push(c);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_escape_like_dvc() {
        assert_eq!(line("data"), "/data");
        assert_eq!(line("#hash [1]*?!"), "/\\#hash \\[1\\]\\*\\?\\!");
    }

    #[test]
    fn a_line_is_added_once_and_removed_keeping_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".gitignore");
        std::fs::write(&file, "target").unwrap();
        ignore(dir.path(), "data").unwrap();
        ignore(dir.path(), "data").unwrap();
        ignore(dir.path(), "w[1]").unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "target\n/data\n/w\\[1\\]\n"
        );
        assert_eq!(unignore(dir.path(), "data").unwrap(), Some(file.clone()));
        assert_eq!(unignore(dir.path(), "data").unwrap(), None);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "target\n/w\\[1\\]\n"
        );
    }

    #[test]
    fn a_gitignore_left_empty_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        ignore(dir.path(), "data").unwrap();
        unignore(dir.path(), "data").unwrap();
        assert!(!dir.path().join(".gitignore").exists());
        unignore(dir.path(), "data").unwrap();
    }
}
