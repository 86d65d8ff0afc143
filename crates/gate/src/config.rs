//! `gate.toml`: what to read, what to run and which thresholds to hold.
//!
//! ```toml
//! [coverage]
//! min_lines = 60            # percent of instrumented lines executed
//! min_branches = 50         # optional
//! min_functions = 70        # optional
//! worst_files = 10          # files listed in the verdict (default 10)
//!
//! [[coverage.paths]]        # stricter or looser rules for some files
//! glob = "crates/gate/**"
//! min_lines = 80
//!
//! [coverage.patch]         # lines changed since a git base (`--base` overrides `base`)
//! min_lines = 80
//! min_changed_lines = 5     # fewer changed instrumented lines: not judged
//! base = "origin/main"
//!
//! [coverage.ratchet]        # `gate baseline` records .gate-baseline.toml
//! tolerance = 0.5           # percentage points coverage may drop
//!
//! [security]
//! fail_on = "medium"        # low | medium | high | critical
//!
//! [[security.allow]]        # an expired entry fails the gate
//! id = "RUSTSEC-2024-0001"
//! reason = "not reachable: we never call the affected function"
//! expires = "2026-06-30"
//!
//! [audit]
//! lockfiles = ["Cargo.lock"]
//! advisory_db = "../advisory-db"
//! informational = "warn"    # warn | deny | ignore (unmaintained, unsound, notice)
//!
//! [reports]
//! files = [{ path = "target/lcov.info" }, { path = "bandit.json", format = "bandit" }]
//! strip_prefixes = ["/home/runner/work/proj/proj"]
//!
//! [run]
//! commands = ["cargo llvm-cov --lcov --output-path target/lcov.info"]
//! ```
//!
//! Unknown keys are errors that name the key. Relative paths are relative to the
//! directory holding `gate.toml`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Severity;
use crate::report::Format;

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Coverage thresholds.
    #[serde(default)]
    pub coverage: CoverageConfig,
    /// Security finding thresholds and the allow-list.
    #[serde(default)]
    pub security: SecurityConfig,
    /// The built-in RustSec audit.
    #[serde(default)]
    pub audit: AuditConfig,
    /// Report files to read.
    #[serde(default)]
    pub reports: ReportsConfig,
    /// Producers `gate run` runs before judging.
    #[serde(default)]
    pub run: RunConfig,
}

/// `[coverage]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CoverageConfig {
    /// Minimum line coverage in percent.
    pub min_lines: Option<f64>,
    /// Minimum branch coverage in percent.
    pub min_branches: Option<f64>,
    /// Minimum function coverage in percent.
    pub min_functions: Option<f64>,
    /// How many of the least covered files the verdict lists (default 10).
    pub worst_files: Option<usize>,
    /// Per-path thresholds.
    #[serde(default)]
    pub paths: Vec<PathRule>,
    /// Coverage of the lines changed since a git base.
    pub patch: Option<PatchConfig>,
    /// The ratchet against a recorded baseline.
    pub ratchet: Option<RatchetConfig>,
}

/// `[coverage.patch]`: coverage of the lines changed since a git base, like diff-cover.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PatchConfig {
    /// Minimum coverage of the changed, instrumented lines, in percent.
    pub min_lines: f64,
    /// Below this many changed instrumented lines the rule is not judged (default 1).
    pub min_changed_lines: Option<u64>,
    /// The base revision (`origin/main`); `--base` overrides it.
    pub base: Option<String>,
}

/// `[coverage.ratchet]`: fail when line coverage drops below the recorded baseline.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RatchetConfig {
    /// Percentage points coverage may drop below the baseline (default 0).
    pub tolerance: Option<f64>,
    /// The baseline file (default `.gate-baseline.toml`).
    pub file: Option<PathBuf>,
}

/// `[[coverage.paths]]`: a line threshold for the files a glob matches.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PathRule {
    /// A glob over repo-relative paths with `/` (`crates/gate/**`, `**/*.py`).
    pub glob: String,
    /// Minimum line coverage of the matching files together, in percent.
    pub min_lines: f64,
}

/// `[security]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// The lowest severity that fails the gate (default `low`: every finding fails).
    pub fail_on: Option<FailOn>,
    /// Findings accepted for a while.
    #[serde(default)]
    pub allow: Vec<AllowEntry>,
}

/// Severity levels `fail_on` accepts.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only (and unknown severities, which always fail).
    Critical,
}

impl FailOn {
    /// The severity this level starts at.
    pub fn severity(self) -> Severity {
        match self {
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
        }
    }
}

/// `[[security.allow]]`: a finding accepted until a date.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AllowEntry {
    /// Finding id or alias (`RUSTSEC-2020-0071`, `CVE-2023-1234`, `B602`).
    pub id: String,
    /// Why it is accepted; required so the reason is reviewed with the entry.
    pub reason: String,
    /// Last day the entry holds (`YYYY-MM-DD`, a string or a TOML date).
    pub expires: toml::Value,
}

/// `[audit]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Lockfiles to audit.
    #[serde(default)]
    pub lockfiles: Vec<PathBuf>,
    /// The RustSec advisory-db directory.
    pub advisory_db: Option<PathBuf>,
    /// What informational advisories do (default `warn`).
    pub informational: Option<Informational>,
}

/// Treatment of informational advisories (unmaintained, unsound, notice).
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Informational {
    /// Listed as warnings; they do not fail the gate.
    #[default]
    Warn,
    /// They fail the gate.
    Deny,
    /// Left out.
    Ignore,
}

/// `[reports]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReportsConfig {
    /// Report files.
    #[serde(default)]
    pub files: Vec<ReportSpec>,
    /// Path prefixes stripped from report paths before the repository root is.
    #[serde(default)]
    pub strip_prefixes: Vec<String>,
}

/// One report file, with an optional format (detected from content otherwise).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    /// The file.
    pub path: PathBuf,
    /// Its format, overriding detection.
    pub format: Option<Format>,
}

impl ReportSpec {
    /// Parses `PATH[:FORMAT]`. The suffix is a format only if it names one, so Windows
    /// paths (`C:\x\lcov.info`) keep their colon.
    pub fn from_argument(argument: &str) -> Result<ReportSpec> {
        if let Some((path, suffix)) = argument.rsplit_once(':') {
            if let Ok(format) = suffix.parse::<Format>() {
                return Ok(ReportSpec {
                    path: PathBuf::from(path),
                    format: Some(format),
                });
            }
            // `report.json:banditt` is a typo of a format; `C:\x\lcov.info` is a drive letter.
            let is_word = !suffix.is_empty()
                && suffix
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            let is_drive = path.len() == 1 && path.as_bytes()[0].is_ascii_alphabetic();
            if is_word && !path.is_empty() && !is_drive {
                return Err(Error::UnknownFormatName {
                    name: suffix.to_owned(),
                });
            }
        }
        Ok(ReportSpec {
            path: PathBuf::from(argument),
            format: None,
        })
    }
}

/// `[run]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Shell command lines run in order by `gate run` (`sh -c`, `cmd /C` on Windows).
    #[serde(default)]
    pub commands: Vec<String>,
}

/// A calendar date, for allow-list expiry.
pub type Date = jiff::civil::Date;

/// Today's date in UTC, so a gate gives the same verdict on every machine on one day.
pub fn today() -> Date {
    jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date()
}

impl AllowEntry {
    /// The expiry date; `None` if `expires` is not a date (rejected by [`Config::validate`]).
    pub fn expiry(&self) -> Option<Date> {
        match &self.expires {
            toml::Value::String(text) => text.trim().parse().ok(),
            toml::Value::Datetime(datetime) => {
                let date = datetime.date?;
                Date::new(
                    i16::try_from(date.year).ok()?,
                    i8::try_from(date.month).ok()?,
                    i8::try_from(date.day).ok()?,
                )
                .ok()
            }
            _ => None,
        }
    }
}

impl Config {
    /// Reads and validates `gate.toml`.
    pub fn read(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadConfig {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parses and validates configuration text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|source| Error::ParseConfig {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let invalid = |key: String, reason: String| Error::InvalidConfig {
            path: path.to_path_buf(),
            key,
            reason,
        };
        let percent = |key: &str, value: Option<f64>| match value {
            Some(value) if !(0.0..=100.0).contains(&value) => Err(invalid(
                key.to_owned(),
                format!("is {value}, not a percentage between 0 and 100"),
            )),
            _ => Ok(()),
        };
        percent("coverage.min_lines", self.coverage.min_lines)?;
        percent("coverage.min_branches", self.coverage.min_branches)?;
        percent("coverage.min_functions", self.coverage.min_functions)?;
        if let Some(patch) = &self.coverage.patch {
            percent("coverage.patch.min_lines", Some(patch.min_lines))?;
        }
        if let Some(tolerance) = self.coverage.ratchet.as_ref().and_then(|r| r.tolerance) {
            percent("coverage.ratchet.tolerance", Some(tolerance))?;
        }
        for (index, rule) in self.coverage.paths.iter().enumerate() {
            percent(
                &format!("coverage.paths[{index}].min_lines"),
                Some(rule.min_lines),
            )?;
            globset::Glob::new(&rule.glob).map_err(|error| {
                invalid(
                    format!("coverage.paths[{index}].glob"),
                    format!("is not a valid glob: {error}"),
                )
            })?;
        }
        for (index, entry) in self.security.allow.iter().enumerate() {
            if entry.id.trim().is_empty() {
                return Err(invalid(
                    format!("security.allow[{index}].id"),
                    "is empty".into(),
                ));
            }
            if entry.reason.trim().is_empty() {
                return Err(invalid(
                    format!("security.allow[{index}].reason"),
                    "is empty: say why the finding is accepted".into(),
                ));
            }
            if entry.expiry().is_none() {
                return Err(invalid(
                    format!("security.allow[{index}].expires"),
                    "is not a date `YYYY-MM-DD`".into(),
                ));
            }
        }
        for (index, command) in self.run.commands.iter().enumerate() {
            if command.trim().is_empty() {
                return Err(invalid(format!("run.commands[{index}]"), "is empty".into()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        let error = Config::parse(text, Path::new("gate.toml")).unwrap_err();
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(&format!(" | {cause}"));
            source = cause.source();
        }
        message
    }

    #[test]
    fn unknown_keys_are_named() {
        assert!(error_of("[coverage]\nmin_line = 60\n").contains("min_line"));
        assert!(error_of("[covrage]\n").contains("covrage"));
        assert!(error_of("[security]\nfail_on = \"severe\"\n").contains("severe"));
    }

    #[test]
    fn values_are_checked() {
        assert!(error_of("[coverage]\nmin_lines = 160\n").contains("coverage.min_lines"));
        assert!(
            error_of("[[coverage.paths]]\nglob = \"a/[\"\nmin_lines = 1\n")
                .contains("coverage.paths[0].glob")
        );
        assert!(
            error_of("[[security.allow]]\nid = \"X\"\nreason = \"r\"\nexpires = \"soon\"\n")
                .contains("expires")
        );
    }

    #[test]
    fn dates() {
        let config = Config::parse(
            "[[security.allow]]\nid = \"X\"\nreason = \"r\"\nexpires = 2026-01-31\n",
            Path::new("g"),
        )
        .unwrap();
        assert_eq!(
            config.security.allow[0].expiry(),
            Some(jiff::civil::date(2026, 1, 31))
        );
    }

    #[test]
    fn report_arguments() {
        let spec = ReportSpec::from_argument("C:\\x\\lcov.info:lcov").unwrap();
        assert_eq!(
            (spec.path, spec.format),
            (PathBuf::from("C:\\x\\lcov.info"), Some(Format::Lcov))
        );
        assert_eq!(
            ReportSpec::from_argument("C:\\x\\lcov.info")
                .unwrap()
                .format,
            None
        );
        assert!(ReportSpec::from_argument("out.json:banditt").is_err());
    }
}
