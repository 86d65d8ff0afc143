//! `.dvcignore` files as DVC reads them: one at the root and any number in subfolders,
//! each with gitignore patterns relative to the folder that holds it. The nearest file
//! with a say about a path decides (so a deeper `!pattern` can re-include), and an ignored
//! folder hides everything below it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::error::{Error, Result};

/// The file name DVC reads ignore patterns from.
pub const FILE_NAME: &str = ".dvcignore";

/// The `.dvcignore` files of one repository, each read the first time a path below its
/// folder is asked about.
#[derive(Debug)]
pub struct DvcIgnore {
    root: PathBuf,
    /// By root-relative folder (`""` for the root): its matcher, or `None` without a file.
    loaded: Mutex<HashMap<String, Option<Arc<Gitignore>>>>,
}

impl DvcIgnore {
    /// Reads the root's `.dvcignore` now, so a broken one is reported by every command.
    pub fn new(root: &Path) -> Result<DvcIgnore> {
        let ignore = DvcIgnore {
            root: root.to_owned(),
            loaded: Mutex::new(HashMap::new()),
        };
        ignore.matcher("")?;
        Ok(ignore)
    }

    /// Whether `relpath` (root-relative, `/`-separated) is ignored, itself or through a
    /// folder above it.
    pub fn is_ignored(&self, relpath: &str, is_dir: bool) -> Result<bool> {
        let parts: Vec<&str> = relpath.split('/').filter(|p| !p.is_empty()).collect();
        // Outermost first: an ignored folder hides its contents whatever they match.
        for (depth, name) in parts.iter().enumerate() {
            let as_dir = depth + 1 < parts.len() || is_dir;
            if self
                .rules_in(&parts[..depth].join("/"))?
                .exclude(name, as_dir)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The rules for the entries of `folder` (root-relative, `/`-separated), for walks,
    /// which ask once per folder and never enter an ignored one.
    pub fn rules_in(&self, folder: &str) -> Result<FolderRules> {
        let parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
        let mut rules = Vec::new();
        for depth in (0..=parts.len()).rev() {
            if let Some(matcher) = self.matcher(&parts[..depth].join("/"))? {
                rules.push((parts[depth..].join("/"), matcher));
            }
        }
        Ok(FolderRules { rules })
    }

    fn matcher(&self, folder: &str) -> Result<Option<Arc<Gitignore>>> {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(matcher) = loaded.get(folder) {
            return Ok(matcher.clone());
        }
        let matcher = load(&self.root.join(folder))?.map(Arc::new);
        loaded.insert(folder.to_owned(), matcher.clone());
        Ok(matcher)
    }
}

/// The `.dvcignore` files that have a say about the entries of one folder.
#[derive(Debug)]
pub struct FolderRules {
    /// Nearest first: each matcher, with the folder's path below the matcher's folder.
    rules: Vec<(String, Arc<Gitignore>)>,
}

impl FolderRules {
    /// Whether the entry `name` of the folder is excluded: the nearest file that matches
    /// it decides.
    pub fn exclude(&self, name: &str, is_dir: bool) -> bool {
        for (folder, matcher) in &self.rules {
            let path = match folder.as_str() {
                "" => matcher.matched(name, is_dir),
                folder => matcher.matched(format!("{folder}/{name}"), is_dir),
            };
            match path {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }
}

/// The matcher of `folder`'s `.dvcignore`, if it has one.
fn load(folder: &Path) -> Result<Option<Gitignore>> {
    let file = folder.join(FILE_NAME);
    if !file.is_file() {
        return Ok(None);
    }
    let bad = |e: ignore::Error| Error::BadConfig {
        path: file.clone(),
        detail: e.to_string(),
    };
    let mut builder = GitignoreBuilder::new(folder);
    if let Some(error) = builder.add(&file) {
        return Err(bad(error));
    }
    // A file of comments only, such as the one `init` writes, has no say about anything.
    let matcher = builder.build().map_err(bad)?;
    Ok((!matcher.is_empty()).then_some(matcher))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_files_match_relative_to_their_folder_and_the_nearest_decides() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("ws/data/sub")).unwrap();
        std::fs::write(root.join(FILE_NAME), "*.bak\n!keep.log\n").unwrap();
        std::fs::write(root.join("ws").join(FILE_NAME), "*.log\n/top\ndata/sub\n").unwrap();
        std::fs::write(root.join("ws/data").join(FILE_NAME), "!keep.log\n").unwrap();
        let ignore = DvcIgnore::new(root).unwrap();
        let ignored = |path: &str| ignore.is_ignored(path, false).unwrap();
        assert!(ignored("ws/data/x.bak"), "the root's pattern reaches down");
        assert!(ignored("ws/data/a.log"), "ws's pattern applies below ws");
        assert!(!ignored("a.log"), "ws's pattern does not apply above ws");
        assert!(!ignored("ws/data/keep.log"), "the nearest file re-includes");
        assert!(
            ignored("ws/keep.log"),
            "ws's `*.log` outranks the root's `!keep.log`"
        );
        assert!(
            ignored("ws/top") && !ignored("ws/data/top"),
            "anchored to ws"
        );
        assert!(
            ignored("ws/data/sub/keep.log"),
            "an ignored folder hides its files"
        );
        assert!(!ignored("data/sub/file"), "anchored to ws, not to the root");
        // A walk never enters ws/data/sub, so it asks only about the entry itself.
        let in_walk = |folder, name, is_dir| ignore.rules_in(folder).unwrap().exclude(name, is_dir);
        assert!(in_walk("ws/data", "sub", true) && !in_walk("ws/data/sub", "keep.log", false));
        assert!(in_walk("ws/data", "a.log", false) && !in_walk("ws/data", "keep.log", false));
    }

    #[test]
    fn a_bad_pattern_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a").join(FILE_NAME), "{unclosed\n").unwrap();
        let ignore = DvcIgnore::new(dir.path()).unwrap();
        let error = ignore.is_ignored("a/b", false).unwrap_err();
        assert!(error.to_string().contains(".dvcignore"), "{error}");
    }
}
