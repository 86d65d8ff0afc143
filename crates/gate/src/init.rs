//! `gate init`: a starter `gate.toml` and `.github/workflows/gate.yml` for a project,
//! Rust (a `Cargo.toml`) or Python (`pyproject.toml`, `setup.py` or `requirements.txt`)
//! or, failing both, a neutral one. Existing files are never overwritten.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The kind of project the starter files are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectKind {
    /// A Cargo project.
    Rust,
    /// A Python project.
    Python,
    /// Anything else: thresholds only, reports to fill in.
    Other,
}

impl ProjectKind {
    /// Guesses the kind from the files in `root`.
    pub fn detect(root: &Path) -> ProjectKind {
        if root.join("Cargo.toml").is_file() {
            ProjectKind::Rust
        } else if [
            "pyproject.toml",
            "setup.py",
            "setup.cfg",
            "requirements.txt",
        ]
        .iter()
        .any(|f| root.join(f).is_file())
        {
            ProjectKind::Python
        } else {
            ProjectKind::Other
        }
    }
}

const HEADER: &str = "# gate: the quality gate CI and the pre-push hook (`gate hook install`) both run.\n# `gate run` runs [run] commands, then judges; `gate check` only judges.\n";

fn config_text(kind: ProjectKind) -> String {
    let body = match kind {
        ProjectKind::Rust => {
            r#"
[coverage]
min_lines = 60

[security]
fail_on = "medium"

[audit]
lockfiles = ["Cargo.lock"]
# A clone of github.com/rustsec/advisory-db; the workflow clones one here.
advisory_db = "target/advisory-db"
informational = "warn"

[reports]
files = [{ path = "target/lcov.info", format = "lcov" }]

[run]
commands = ["cargo llvm-cov --workspace --lcov --output-path target/lcov.info"]
"#
        }
        ProjectKind::Python => {
            r#"
[coverage]
min_lines = 60

[security]
fail_on = "medium"

[reports]
files = [{ path = "coverage.xml" }, { path = "bandit.json" }, { path = "pip-audit.json" }]

[run]
commands = [
  "python -m pytest --cov --cov-branch --cov-report=xml",
  "bandit -r . -x ./.venv,./tests -f json -o bandit.json --exit-zero",
  # pip-audit exits 1 when it finds something; the gate judges the report instead.
  "pip-audit -f json -o pip-audit.json || test -s pip-audit.json",
]
"#
        }
        ProjectKind::Other => {
            r#"
[coverage]
min_lines = 60

[security]
fail_on = "medium"

[reports]
# LCOV, Cobertura XML, llvm-cov JSON, bandit, safety, pip-audit, cargo-audit or SARIF.
files = [{ path = "coverage/lcov.info" }]

[run]
commands = []
"#
        }
    };
    format!("{HEADER}{body}")
}

fn workflow_text(kind: ProjectKind) -> String {
    let setup = match kind {
        ProjectKind::Rust => {
            "      - uses: Swatinem/rust-cache@v2.7.8\n      - run: rustup component add llvm-tools-preview\n      - run: cargo install cargo-llvm-cov --locked\n      - run: git clone --depth 1 https://github.com/rustsec/advisory-db target/advisory-db\n"
        }
        ProjectKind::Python => {
            "      - uses: actions/setup-python@v5.6.0\n        with:\n          python-version: \"3.12\"\n      - run: python -m pip install . pytest pytest-cov bandit pip-audit\n"
        }
        ProjectKind::Other => "",
    };
    format!(
        r#"name: gate
on:
  push:
    branches: [main]
  pull_request:
permissions:
  contents: read
jobs:
  gate:
    strategy:
      fail-fast: false
      matrix:
        os: [ubuntu-latest, windows-latest]
    runs-on: ${{{{ matrix.os }}}}
    defaults:
      run:
        shell: bash
    steps:
      - uses: actions/checkout@v4.2.2
        with:
          persist-credentials: false
{setup}      - run: cargo install --locked --git https://github.com/spokes-ml/spokes gate
      # Red gate, red workflow: annotations on the diff and a step summary come with it.
      - run: gate run
"#
    )
}

/// Writes `gate.toml` and `.github/workflows/gate.yml` under `root`; refuses before
/// writing anything if either exists. Returns the files written.
pub fn init(root: &Path, kind: ProjectKind) -> Result<Vec<PathBuf>> {
    let config_path = root.join("gate.toml");
    let workflow_path = root.join(".github").join("workflows").join("gate.yml");
    for path in [&config_path, &workflow_path] {
        if path.exists() {
            return Err(Error::WouldOverwrite { path: path.clone() });
        }
    }
    let write = |path: &Path, text: String| -> Result<()> {
        let write_error = |source| Error::WriteFile {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write_error)?;
        }
        std::fs::write(path, text).map_err(write_error)
    };
    write(&config_path, config_text(kind))?;
    write(&workflow_path, workflow_text(kind))?;
    Ok(vec![config_path, workflow_path])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_configs_parse() {
        for kind in [ProjectKind::Rust, ProjectKind::Python, ProjectKind::Other] {
            crate::config::Config::parse(&config_text(kind), Path::new("gate.toml")).unwrap();
            assert!(workflow_text(kind).contains("${{ matrix.os }}"));
        }
    }
}
