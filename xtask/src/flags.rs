//! Every `cargo xtask` subcommand, declared in one place.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Automation for the spokes workspace.
#[derive(Parser)]
#[command(name = "cargo xtask")]
pub struct Xtask {
    #[command(subcommand)]
    pub command: Task,
}

#[derive(Subcommand)]
pub enum Task {
    /// Run the vanishing-gradient grid on CPU, write plots and a summary, list the runs.
    Demo {
        /// Folder for plots and the summary.
        #[arg(long, default_value = "out/demo")]
        out: PathBuf,
        /// Extra arguments for `vanishing-demo grid` (e.g. `-- --steps 100`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// The quality gate, as the pre-push hook runs it: format check, clippy with warnings
    /// denied, every test once under coverage, then `gate check` (line coverage ≥ 60 %,
    /// no vulnerable dependency).
    Ci,
    /// Everything CI checks: `ci`, plus a check of the Windows build and a lint of the
    /// GitHub workflows.
    Test,
    /// The criterion benchmarks.
    Bench,
    /// Render the session summary as .docx and PDF beside it, with docgen.
    Report {
        /// The Markdown summary.
        #[arg(default_value = "SESSION_SUMMARY.md")]
        file: PathBuf,
    },
}
