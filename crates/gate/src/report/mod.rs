//! Report readers: format detection from content, and one reader per format.
//!
//! Every reader takes bytes and returns a [`Report`] or a [`ParseError`]; none panics on
//! any input (the property tests in `tests/no_panic.rs` feed them arbitrary bytes and
//! mutated real reports). Paths come out as the report wrote them; [`crate::paths`]
//! makes them repo-relative afterwards.

mod cobertura;
mod json;
mod lcov;
mod llvm_cov;
mod scanners;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ParseError;
use crate::model::Report;

/// A report format gate can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// LCOV tracefile (`lcov.info`), as lcov, cargo-llvm-cov `--lcov` and coverage.py write it.
    Lcov,
    /// Cobertura XML, as coverage.py / pytest-cov and cargo-tarpaulin write it.
    Cobertura,
    /// `llvm-cov export` JSON, as `cargo llvm-cov --json` writes it.
    LlvmCovJson,
    /// `bandit -f json`.
    Bandit,
    /// `safety check --json` (the current object form and the legacy list form).
    Safety,
    /// `pip-audit -f json`.
    PipAudit,
    /// `cargo audit --json`.
    CargoAudit,
    /// SARIF 2.1.0, from any static analyser.
    Sarif,
}

impl Format {
    /// Every format, in the order detection tries them.
    pub const ALL: [Format; 8] = [
        Format::Lcov,
        Format::Cobertura,
        Format::LlvmCovJson,
        Format::Bandit,
        Format::Safety,
        Format::PipAudit,
        Format::CargoAudit,
        Format::Sarif,
    ];

    /// The name used on the command line and in `gate.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Lcov => "lcov",
            Format::Cobertura => "cobertura",
            Format::LlvmCovJson => "llvm-cov-json",
            Format::Bandit => "bandit",
            Format::Safety => "safety",
            Format::PipAudit => "pip-audit",
            Format::CargoAudit => "cargo-audit",
            Format::Sarif => "sarif",
        }
    }

    /// Whether this format carries coverage (rather than findings).
    pub fn is_coverage(self) -> bool {
        matches!(self, Format::Lcov | Format::Cobertura | Format::LlvmCovJson)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = crate::Error;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| crate::Error::UnknownFormatName {
                name: name.to_owned(),
            })
    }
}

/// Strips a UTF-8 byte-order mark and leading whitespace.
fn trim_start(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// Recognises the format of a report from its content, or `None`.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let content = trim_start(bytes);
    match content.first()? {
        b'<' => {
            // Cobertura's root is `<coverage`; look past the XML declaration, comments and DOCTYPE.
            let head = &content[..content.len().min(4096)];
            let head = String::from_utf8_lossy(head);
            head.contains("<coverage").then_some(Format::Cobertura)
        }
        b'{' | b'[' => {
            let value: serde_json::Value = serde_json::from_slice(content).ok()?;
            json::detect(&value)
        }
        _ => {
            let text = std::str::from_utf8(content).ok()?;
            let first = text.lines().map(str::trim).find(|line| !line.is_empty())?;
            let key = first.split(':').next()?;
            matches!(key, "TN" | "SF" | "VER").then_some(Format::Lcov)
        }
    }
}

/// Reads a report, detecting its format unless `format` is given.
pub fn read(bytes: &[u8], format: Option<Format>) -> Result<Report, ParseError> {
    let format = match format {
        Some(format) => format,
        None => detect(bytes).ok_or_else(|| ParseError {
            format: None,
            detail: "the content matches none of the known formats".into(),
        })?,
    };
    let content = trim_start(bytes);
    let json = || {
        serde_json::from_slice::<serde_json::Value>(content)
            .map_err(|error| ParseError::new(format, format!("not valid JSON: {error}")))
    };
    match format {
        Format::Lcov => lcov::read(content).map(Report::Coverage),
        Format::Cobertura => cobertura::read(content).map(Report::Coverage),
        Format::LlvmCovJson => llvm_cov::read(&json()?).map(Report::Coverage),
        Format::Bandit => scanners::bandit(&json()?).map(Report::Findings),
        Format::Safety => scanners::safety(&json()?).map(Report::Findings),
        Format::PipAudit => scanners::pip_audit(&json()?).map(Report::Findings),
        Format::CargoAudit => scanners::cargo_audit(&json()?).map(Report::Findings),
        Format::Sarif => scanners::sarif(&json()?).map(Report::Findings),
    }
}
