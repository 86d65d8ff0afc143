//! Where the store lives: an explicit path, `SPOKES_TRACKER_URI`, or
//! `.spokes/tracker.db` under the project root.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The environment variable that names the store, as a path or an `sqlite:///` URI.
pub const ENV_TRACKER_URI: &str = "SPOKES_TRACKER_URI";

/// The store's path relative to the project root.
pub const PROJECT_STORE: &str = ".spokes/tracker.db";

/// Picks the store file: `flag` if given, else [`ENV_TRACKER_URI`] (a path or an
/// `sqlite:///` URI), else `.spokes/tracker.db` under the project root, the first
/// directory upwards from the current one that contains `.spokes/` or `.git`
/// (falling back to the current directory).
///
/// A URI with another scheme is returned unchanged as a path;
/// [`Tracker::open`](crate::Tracker::open) then refuses it with a clear error.
pub fn default_location(flag: Option<&Path>) -> PathBuf {
    if let Some(flag) = flag {
        return flag.to_path_buf();
    }
    if let Some(uri) = std::env::var_os(ENV_TRACKER_URI).filter(|uri| !uri.is_empty()) {
        return match uri.to_str() {
            Some(text) => path_from_uri(text).unwrap_or_else(|_| PathBuf::from(text)),
            None => PathBuf::from(uri),
        };
    }
    let current = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    project_root(&current).join(PROJECT_STORE)
}

/// The first directory from `start` upwards that contains `.spokes/` or `.git`, or
/// `start` itself when none does.
pub fn project_root(start: &Path) -> PathBuf {
    start
        .ancestors()
        .find(|directory| directory.join(".spokes").is_dir() || directory.join(".git").exists())
        .unwrap_or(start)
        .to_path_buf()
}

/// Turns a tracking URI into a file path.
///
/// `sqlite:` URIs follow SQLAlchemy, as MLflow does: `sqlite:///relative.db` is
/// relative to the current directory and `sqlite:////abs/path.db` is absolute. Text
/// without a scheme is a plain path; any other scheme is an error.
pub fn path_from_uri(uri: &str) -> Result<PathBuf> {
    if let Some(rest) = uri.strip_prefix("sqlite:///") {
        if rest.is_empty() {
            return Err(Error::UnsupportedUri { uri: uri.into() });
        }
        return Ok(PathBuf::from(rest));
    }
    if looks_like_uri(uri) {
        return Err(Error::UnsupportedUri { uri: uri.into() });
    }
    Ok(PathBuf::from(uri))
}

/// Whether `text` starts with a URI scheme such as `http:` or `sqlite:`. A Windows
/// drive letter (`C:\`) is a single character and is not a scheme.
pub(crate) fn looks_like_uri(text: &str) -> bool {
    match text.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme.starts_with(|character: char| character.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|character| character.is_ascii_alphanumeric() || "+-.".contains(character))
        }
        None => false,
    }
}

/// A `file://` URI for an absolute local path, as MLflow stores artifact locations.
pub(crate) fn file_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    if text.starts_with('/') {
        format!("file://{text}")
    } else {
        format!("file:///{text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_uris_follow_sqlalchemy() {
        assert_eq!(
            path_from_uri("sqlite:////tmp/t.db").unwrap(),
            PathBuf::from("/tmp/t.db")
        );
        assert_eq!(
            path_from_uri("sqlite:///mlflow.db").unwrap(),
            PathBuf::from("mlflow.db")
        );
        assert_eq!(
            path_from_uri("runs/t.db").unwrap(),
            PathBuf::from("runs/t.db")
        );
        assert_eq!(
            path_from_uri(r"C:\runs\t.db").unwrap(),
            PathBuf::from(r"C:\runs\t.db")
        );
        for bad in [
            "postgresql://host/db",
            "http://localhost:5000",
            "sqlite:///",
        ] {
            assert!(
                matches!(path_from_uri(bad), Err(Error::UnsupportedUri { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn flag_wins_and_project_root_is_found_upwards() {
        assert_eq!(
            default_location(Some(Path::new("x.db"))),
            PathBuf::from("x.db")
        );
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::create_dir(root.path().join(".spokes")).unwrap();
        assert_eq!(project_root(&nested), root.path());
        let lonely = tempfile::tempdir().unwrap();
        // A temp dir may sit under a repository on some machines; only check that the
        // answer is an ancestor of the start.
        assert!(lonely.path().starts_with(project_root(lonely.path())));
    }

    #[test]
    fn file_uris_are_absolute() {
        assert_eq!(file_uri(Path::new("/a/b")), "file:///a/b");
        assert_eq!(file_uri(Path::new(r"C:\a\b")), "file:///C:/a/b");
    }
}
