//! MLflow's validation rules (`mlflow/utils/validation.py`), so that anything this
//! store accepts an MLflow server would accept too.

use crate::error::{Error, Result};

/// The longest metric, param or tag key.
pub const MAX_KEY_LENGTH: usize = 250;
/// The longest param value.
pub const MAX_PARAM_VALUE_LENGTH: usize = 6000;
/// The longest tag value.
pub const MAX_TAG_VALUE_LENGTH: usize = 8000;
/// The longest run name (MLflow's `runs.name` column).
pub const MAX_RUN_NAME_LENGTH: usize = 250;
/// The longest experiment name (MLflow's `experiments.name` column).
pub const MAX_EXPERIMENT_NAME_LENGTH: usize = 256;

/// Checks a metric name.
pub fn metric_key(key: &str) -> Result<()> {
    entity_key("metric", key)
}

/// Checks a param name and value.
pub fn param(key: &str, value: &str) -> Result<()> {
    entity_key("param", key)?;
    value_length("param", key, value, MAX_PARAM_VALUE_LENGTH)
}

/// Checks a tag name and value.
pub fn tag(key: &str, value: &str) -> Result<()> {
    entity_key("tag", key)?;
    value_length("tag", key, value, MAX_TAG_VALUE_LENGTH)
}

/// Checks a histogram name; histograms follow the metric rules.
pub fn histogram_key(key: &str) -> Result<()> {
    entity_key("histogram", key)
}

/// Checks an experiment name: not blank, at most [`MAX_EXPERIMENT_NAME_LENGTH`] characters.
pub fn experiment_name(name: &str) -> Result<()> {
    display_name("experiment", name, MAX_EXPERIMENT_NAME_LENGTH)
}

/// Checks a run name: not blank, at most [`MAX_RUN_NAME_LENGTH`] characters.
pub fn run_name(name: &str) -> Result<()> {
    display_name("run", name, MAX_RUN_NAME_LENGTH)
}

fn display_name(kind: &'static str, name: &str, limit: usize) -> Result<()> {
    let invalid = |reason: String| Error::InvalidName {
        kind,
        name: name.to_owned(),
        reason,
    };
    if name.trim().is_empty() {
        return Err(invalid("it must not be empty".into()));
    }
    let length = name.chars().count();
    if length > limit {
        return Err(invalid(format!(
            "it is {length} characters long, the limit is {limit}"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("it must not contain control characters".into()));
    }
    Ok(())
}

/// MLflow's `_VALID_PARAM_AND_METRIC_NAMES` is `^[/\w.\- :]*$` with Python's Unicode `\w`.
fn allowed_key_char(character: char) -> bool {
    character.is_alphanumeric() || matches!(character, '_' | '-' | '.' | ' ' | '/' | ':')
}

fn entity_key(kind: &'static str, key: &str) -> Result<()> {
    let invalid = |reason: String| Error::InvalidKey {
        kind,
        key: key.to_owned(),
        reason,
    };
    if key.is_empty() {
        return Err(invalid("it must not be empty".into()));
    }
    let length = key.chars().count();
    if length > MAX_KEY_LENGTH {
        return Err(invalid(format!(
            "it is {length} characters long, the limit is {MAX_KEY_LENGTH}"
        )));
    }
    if let Some(bad) = key.chars().find(|&character| !allowed_key_char(character)) {
        return Err(invalid(format!("it contains the character {bad:?}")));
    }
    // MLflow's `path_not_unique`: a key may become a file name, so it must not resolve
    // to another name, to `.` or `..`, or to an absolute path.
    let normalized = normalize_posix(key);
    if normalized != key || normalized == "." || normalized.starts_with("..") {
        return Err(invalid(format!(
            "as a path it would resolve to `{normalized}`; names must not contain empty, `.` or `..` segments"
        )));
    }
    if key.starts_with('/') {
        return Err(invalid("it must not start with `/`".into()));
    }
    Ok(())
}

fn value_length(kind: &'static str, key: &str, value: &str, limit: usize) -> Result<()> {
    // MLflow counts Python string length, i.e. characters; bytes would be stricter for
    // non-ASCII text. Counting bytes first skips the character walk for short values.
    if value.len() <= limit {
        return Ok(());
    }
    let length = value.chars().count();
    if length > limit {
        return Err(Error::ValueTooLong {
            kind,
            key: key.to_owned(),
            length,
            limit,
        });
    }
    Ok(())
}

/// Python's `posixpath.normpath`.
fn normalize_posix(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let leading_slashes = match path.bytes().take_while(|&byte| byte == b'/').count() {
        // POSIX keeps exactly two leading slashes, and folds three or more into one.
        2 => 2,
        0 => 0,
        _ => 1,
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if leading_slashes == 0 {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = format!("{}{}", "/".repeat(leading_slashes), parts.join("/"));
    if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_key(key: &str, expected_reason: Option<&str>) {
        match (metric_key(key), expected_reason) {
            (Ok(()), None) => {}
            (
                Err(Error::InvalidKey {
                    key: named, reason, ..
                }),
                Some(expected),
            ) => {
                assert_eq!(named, key);
                assert!(
                    reason.contains(expected),
                    "reason for {key:?} was {reason:?}, expected it to mention {expected:?}"
                );
            }
            (outcome, expected) => panic!("{key:?}: got {outcome:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn keys_accept_mlflow_characters() {
        check_key("loss", None);
        check_key("train/loss", None);
        check_key("layer 1.grad-norm:mean_abs", None);
        check_key("übung/ß", None);
        check_key(&"k".repeat(MAX_KEY_LENGTH), None);
    }

    #[test]
    fn keys_reject_other_characters() {
        check_key("loss!", Some("'!'"));
        check_key("a,b", Some("','"));
        check_key("tab\there", Some("'\\t'"));
        check_key("x=1", Some("'='"));
    }

    #[test]
    fn keys_reject_empty_and_too_long() {
        check_key("", Some("empty"));
        check_key(&"k".repeat(MAX_KEY_LENGTH + 1), Some("251 characters"));
    }

    #[test]
    fn keys_reject_paths_that_resolve_elsewhere() {
        check_key("..", Some("resolve"));
        check_key("../loss", Some("resolve"));
        check_key("a/../b", Some("resolve"));
        check_key("a//b", Some("resolve"));
        check_key("./a", Some("resolve"));
        check_key("a/", Some("resolve"));
        check_key(".", Some("resolve"));
        check_key("/abs", Some("start with `/`"));
        check_key("a..b", None);
        check_key("..a", Some("resolve"));
    }

    #[test]
    fn normalize_matches_python_posixpath() {
        for (input, expected) in [
            ("", "."),
            ("a/b", "a/b"),
            ("a//b/./c/..", "a/b"),
            ("/../a", "/a"),
            ("//a", "//a"),
            ("///a", "/a"),
            ("../../a", "../../a"),
            ("a/../..", ".."),
        ] {
            assert_eq!(normalize_posix(input), expected, "normpath({input:?})");
        }
    }

    #[test]
    fn values_have_mlflow_length_limits() {
        assert!(param("lr", &"x".repeat(MAX_PARAM_VALUE_LENGTH)).is_ok());
        match param("lr", &"x".repeat(MAX_PARAM_VALUE_LENGTH + 1)) {
            Err(Error::ValueTooLong {
                kind: "param",
                key,
                length: 6001,
                limit: 6000,
            }) => assert_eq!(key, "lr"),
            other => panic!("unexpected {other:?}"),
        }
        // The limit counts characters, not bytes.
        assert!(param("lr", &"é".repeat(MAX_PARAM_VALUE_LENGTH)).is_ok());
        assert!(tag("note", &"x".repeat(MAX_TAG_VALUE_LENGTH)).is_ok());
        assert!(matches!(
            tag("note", &"x".repeat(MAX_TAG_VALUE_LENGTH + 1)),
            Err(Error::ValueTooLong { kind: "tag", .. })
        ));
        assert!(matches!(
            tag("bad key!", "v"),
            Err(Error::InvalidKey { kind: "tag", .. })
        ));
    }

    #[test]
    fn names_must_be_present_short_and_printable() {
        assert!(experiment_name("vanishing gradients").is_ok());
        assert!(run_name("sigmoid/xavier #3").is_ok());
        for bad in ["", "   ", "a\nb"] {
            assert!(matches!(
                run_name(bad),
                Err(Error::InvalidName { kind: "run", .. })
            ));
        }
        assert!(experiment_name(&"e".repeat(MAX_EXPERIMENT_NAME_LENGTH)).is_ok());
        assert!(matches!(
            experiment_name(&"e".repeat(MAX_EXPERIMENT_NAME_LENGTH + 1)),
            Err(Error::InvalidName {
                kind: "experiment",
                ..
            })
        ));
        assert!(run_name(&"r".repeat(MAX_RUN_NAME_LENGTH + 1)).is_err());
    }
}
