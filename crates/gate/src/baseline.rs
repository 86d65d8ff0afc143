//! The coverage ratchet: `gate baseline` records coverage in a committed file
//! (`.gate-baseline.toml` by default); later runs fail if line coverage drops more than
//! `[coverage.ratchet] tolerance` below it. Raising the baseline needs no flag; lowering
//! it needs `--lower` and a reason, which is kept in the file for review.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Coverage;

/// The default baseline file, relative to the project root.
pub const DEFAULT_FILE: &str = ".gate-baseline.toml";

/// What the baseline file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Line coverage in percent.
    pub lines: f64,
    /// Why the baseline was last lowered, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lowered_because: Option<String>,
    /// Line coverage of each file, to name the files that lost coverage.
    #[serde(default)]
    pub files: BTreeMap<String, f64>,
}

impl Baseline {
    /// The baseline of a coverage report.
    pub fn of(coverage: &Coverage) -> Option<Baseline> {
        let lines = coverage.totals().lines.percent()?;
        let files = coverage
            .files
            .iter()
            .filter_map(|(path, file)| Some((path.clone(), round(file.totals().lines.percent()?))))
            .collect();
        Some(Baseline {
            lines: round(lines),
            lowered_because: None,
            files,
        })
    }

    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Baseline> {
        let error = |detail: String| Error::ReadBaseline {
            path: path.to_path_buf(),
            detail,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        toml::from_str(&text).map_err(|e| error(e.to_string().trim().to_owned()))
    }
}

/// Two decimals are plenty, and keep the committed file's diffs readable.
fn round(percent: f64) -> f64 {
    (percent * 100.0).round() / 100.0
}

/// What `gate baseline` did.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineUpdate {
    /// The line coverage recorded before, if there was a baseline.
    pub previous: Option<f64>,
    /// The line coverage recorded now.
    pub current: f64,
}

/// Writes the baseline of `coverage` to `path`. Lowering an existing baseline is refused
/// unless `lower_because` gives a reason.
pub fn record(
    path: &Path,
    coverage: &Coverage,
    lower_because: Option<&str>,
) -> Result<BaselineUpdate> {
    let mut baseline = Baseline::of(coverage).ok_or_else(|| Error::NoData {
        rule: "baseline".into(),
        reason: "the coverage reports instrument no line".into(),
    })?;
    let previous = if path.exists() {
        Some(Baseline::read(path)?)
    } else {
        None
    };
    let lowering = previous
        .as_ref()
        .filter(|previous| baseline.lines < previous.lines);
    if let Some(previous) = lowering {
        match lower_because
            .map(str::trim)
            .filter(|reason| !reason.is_empty())
        {
            Some(reason) => baseline.lowered_because = Some(reason.to_owned()),
            None => {
                return Err(Error::WouldLowerBaseline {
                    recorded: previous.lines,
                    current: baseline.lines,
                });
            }
        }
    }
    let text = format!(
        "# Coverage ratchet written by `gate baseline`; commit it. Raise it freely; lowering\n# it needs `gate baseline --lower --reason \"...\"`.\n{}",
        toml::to_string(&baseline).unwrap_or_default()
    );
    std::fs::write(path, text).map_err(|source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(BaselineUpdate {
        previous: previous.map(|p| p.lines),
        current: baseline.lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coverage(hits: &[u64]) -> Coverage {
        let mut coverage = Coverage::default();
        let mut file = crate::model::FileCoverage::default();
        for (line, hit) in hits.iter().enumerate() {
            file.lines.insert(line as u32 + 1, *hit);
        }
        coverage.add_file("src/a.rs".into(), file);
        coverage
    }

    #[test]
    fn raising_is_free_and_lowering_needs_a_reason() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join(DEFAULT_FILE);
        assert_eq!(
            record(&path, &coverage(&[1, 0]), None).unwrap().current,
            50.0
        );
        assert_eq!(
            record(&path, &coverage(&[1, 1]), None).unwrap().previous,
            Some(50.0)
        );
        assert!(matches!(
            record(&path, &coverage(&[1, 0, 0]), None),
            Err(Error::WouldLowerBaseline { .. })
        ));
        record(&path, &coverage(&[1, 0, 0]), Some("removed dead tests")).unwrap();
        let baseline = Baseline::read(&path).unwrap();
        assert_eq!(
            (baseline.lines, baseline.lowered_because.as_deref()),
            (33.33, Some("removed dead tests"))
        );
        assert_eq!(baseline.files["src/a.rs"], 33.33);
    }
}
