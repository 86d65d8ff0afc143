//! A quality gate for CI and git hooks: reads coverage reports (LCOV, Cobertura XML,
//! llvm-cov JSON) and security reports (bandit, safety, pip-audit, cargo-audit, SARIF),
//! audits `Cargo.lock` files against a RustSec advisory database offline, and judges
//! everything against the thresholds of a `gate.toml` into one [`Verdict`]: pass, a rule
//! failed, or — as an [`Error`] — could not judge. It fails closed: a missing, empty or
//! garbled input is never a pass.
//!
//! ```
//! use gate::{CheckOptions, Config};
//!
//! # fn main() -> gate::Result<()> {
//! # let directory = tempfile::tempdir().unwrap();
//! # let root = directory.path().to_path_buf();
//! std::fs::write(root.join("lcov.info"), "SF:src/lib.rs\nDA:1,3\nDA:2,0\nend_of_record\n").unwrap();
//! let config = Config::parse(
//!     "[coverage]\nmin_lines = 60\n[reports]\nfiles = [{ path = \"lcov.info\" }]\n",
//!     "gate.toml".as_ref(),
//! )?;
//! let verdict = gate::check(&CheckOptions::new(config, root))?;
//! assert!(!verdict.passed); // 1 of 2 lines is 50 %, under 60 %
//! assert_eq!(verdict.rules[0].rule, "coverage.lines");
//! print!("{}", gate::render::terminal(&verdict, Default::default()));
//! # Ok(())
//! # }
//! ```
//!
//! Modules: [`config`] is `gate.toml`; [`report`] detects formats and reads them into the
//! [`model`]; [`paths`] makes report paths repo-relative; [`audit`] is the RustSec audit;
//! [`verdict`] gathers and judges; [`render`] turns a verdict into terminal text, JSON,
//! GitHub annotations, a Markdown summary or SARIF; [`patch`] finds the lines changed since
//! a git base; [`baseline`] is the coverage ratchet; [`run`], [`hook`] and [`init`] back
//! the `gate run`, `gate hook` and `gate init` commands. Nothing here prints.

pub mod audit;
pub mod baseline;
pub mod config;
pub mod cvss;
mod error;
pub mod hook;
pub mod init;
pub mod model;
pub mod patch;
pub mod paths;
pub mod render;
pub mod report;
pub mod run;
pub mod verdict;

pub use config::{Config, Date, today};
pub use error::{Error, ParseError, Result};
pub use model::{Coverage, Finding, Report, Severity};
pub use report::Format;
pub use verdict::{CheckOptions, Evidence, Verdict, check, gather, judge};

/// `gate run`: runs the configured producers, then judges. A producer that fails is a
/// failing rule; if reading the reports then fails too, the verdict carries the failed
/// producers and the read error as a note (exit 1, the producer's failure, rather than
/// exit 2 for a report it never got to write).
pub fn run_and_check(options: &CheckOptions) -> Result<Verdict> {
    let producers = run::run_producers(&options.config.run.commands, &options.root)?;
    let any_failed = producers.iter().any(|(_, status)| *status != Some(0));
    let mut evidence = match gather(options) {
        Ok(evidence) => evidence,
        Err(error) if any_failed => {
            let evidence = Evidence {
                producers,
                ..Evidence::default()
            };
            let mut verdict = judge(&Config::default(), &evidence, options.today)?;
            verdict.notes.push(format!(
                "after the failed producer, the reports could not be read: {error}"
            ));
            return Ok(verdict);
        }
        Err(error) => return Err(error),
    };
    evidence.producers = producers;
    judge(&options.config, &evidence, options.today)
}

/// Appends the Markdown summary of `verdict` to `path` (GitHub's `$GITHUB_STEP_SUMMARY`).
pub fn append_step_summary(path: &std::path::Path, verdict: &Verdict) -> Result<()> {
    use std::io::Write as _;
    let write_error = |source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(write_error)?;
    file.write_all(render::markdown_summary(verdict).as_bytes())
        .map_err(write_error)
}
