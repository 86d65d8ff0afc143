//! Path normalisation: every path in a verdict is repo-relative with `/`, whatever the
//! report wrote (absolute, `C:\...` from a Windows runner, `./src/...`).
//!
//! A path is made relative by stripping, in order, the configured prefixes
//! (`[reports] strip_prefixes`), the repository root, and a prefix detected from the
//! report itself: for an absolute path from another machine, the longest tail of it that
//! names a file under the root tells which head to strip from all of that report's paths.

use std::path::{Path, PathBuf};

use crate::model::{Coverage, Finding};

/// Turns report paths into repo-relative `/` paths.
#[derive(Debug, Clone)]
pub struct PathNormaliser {
    root: PathBuf,
    prefixes: Vec<String>,
}

fn slashes(path: &str) -> String {
    path.replace('\\', "/")
}

fn is_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    path.starts_with('/')
        || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
}

/// Strips `prefix` (a directory) from `path`, both with `/`. Drive-letter paths compare
/// case-insensitively, as Windows does.
fn strip_dir<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() || path.len() <= prefix.len() {
        return None;
    }
    let (head, tail) = path.split_at_checked(prefix.len())?;
    let same = if prefix.as_bytes().get(1) == Some(&b':') {
        head.eq_ignore_ascii_case(prefix)
    } else {
        head == prefix
    };
    (same && tail.starts_with('/')).then(|| tail.trim_start_matches('/'))
}

fn tidy(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "." => {}
            "" if !parts.is_empty() => {}
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

impl PathNormaliser {
    /// A normaliser for the repository at `root`, stripping `prefixes` first.
    pub fn new(root: &Path, prefixes: &[String]) -> Self {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        Self {
            root,
            prefixes: prefixes.iter().map(|p| slashes(p)).collect(),
        }
    }

    /// The repository root paths are made relative to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Normalises one path with the configured prefixes and the root.
    pub fn normalise(&self, raw: &str) -> String {
        self.normalise_with(raw, None)
    }

    fn normalise_with(&self, raw: &str, detected: Option<&str>) -> String {
        let path = slashes(raw.trim());
        let root = slashes(&self.root.to_string_lossy());
        let stripped = self
            .prefixes
            .iter()
            .map(String::as_str)
            .chain([root.as_str()])
            .chain(detected)
            .find_map(|prefix| strip_dir(&path, prefix))
            .unwrap_or(&path);
        tidy(stripped)
    }

    /// Finds the head to strip from absolute paths that are not under the root, by looking
    /// for the longest tail that names a file under the root.
    fn detect_prefix<'a>(&self, paths: impl Iterator<Item = &'a str>) -> Option<String> {
        for raw in paths {
            let normalised = self.normalise(raw);
            if !is_absolute(&normalised) {
                continue;
            }
            let parts: Vec<&str> = normalised.split('/').collect();
            for start in 1..parts.len() {
                let tail = parts[start..].join("/");
                if !tail.is_empty() && self.root.join(&tail).is_file() {
                    return Some(parts[..start].join("/"));
                }
            }
        }
        None
    }

    /// Normalises every path of a coverage report (records that become the same path merge).
    pub fn coverage(&self, coverage: Coverage) -> Coverage {
        let detected = self.detect_prefix(coverage.files.keys().map(String::as_str));
        let mut normalised = Coverage::default();
        for (path, file) in coverage.files {
            normalised.add_file(self.normalise_with(&path, detected.as_deref()), file);
        }
        normalised
    }

    /// Normalises the paths of findings.
    pub fn findings(&self, mut findings: Vec<Finding>) -> Vec<Finding> {
        let detected = self.detect_prefix(findings.iter().filter_map(|f| f.path.as_deref()));
        for finding in &mut findings {
            if let Some(path) = finding.path.take() {
                finding.path = Some(self.normalise_with(&path, detected.as_deref()));
            }
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(root: &str, prefixes: &[&str], raw: &str, expected: &str) {
        let prefixes: Vec<String> = prefixes.iter().map(|p| (*p).to_owned()).collect();
        let normaliser = PathNormaliser::new(Path::new(root), &prefixes);
        assert_eq!(normaliser.normalise(raw), expected, "{raw}");
    }

    #[test]
    fn normalises() {
        check(
            "/no/such/root",
            &[],
            "/no/such/root/src/lib.rs",
            "src/lib.rs",
        );
        check("/no/such/root", &[], "./src/./lib.rs", "src/lib.rs");
        check(
            "/no/such/root",
            &["D:\\a\\spokes\\spokes"],
            "d:\\a\\spokes\\spokes\\crates\\gate\\src\\lib.rs",
            "crates/gate/src/lib.rs",
        );
        check(
            "/no/such/root",
            &[],
            "C:\\elsewhere\\x.rs",
            "C:/elsewhere/x.rs",
        );
        check(
            "/no/such/root",
            &[],
            "/no/such/rootless/x.rs",
            "/no/such/rootless/x.rs",
        );
    }

    #[test]
    fn detects_a_foreign_prefix_from_files_on_disk() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(directory.path().join("src")).unwrap();
        std::fs::write(directory.path().join("src/lib.rs"), "").unwrap();
        let normaliser = PathNormaliser::new(directory.path(), &[]);
        let mut coverage = Coverage::default();
        coverage.add_file(
            "C:\\runner\\work\\proj\\src\\lib.rs".into(),
            Default::default(),
        );
        coverage.add_file(
            "C:\\runner\\work\\proj\\src\\gone.rs".into(),
            Default::default(),
        );
        let paths: Vec<String> = normaliser.coverage(coverage).files.into_keys().collect();
        assert_eq!(paths, ["src/gone.rs", "src/lib.rs"]);
    }
}
