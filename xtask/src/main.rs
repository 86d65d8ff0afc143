//! `cargo xtask`: the workspace's own automation, in Rust so it runs wherever cargo does.
//!
//! Every subcommand is a plain function that runs cargo (and the workspace's binaries) with
//! the right arguments; nothing here is needed by the crates themselves.

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
        flags::Task::Test => test(&root),
        flags::Task::Bench => bench(&root),
    }
}

fn workspace_root() -> PathBuf {
    // xtask lives one folder below the root; CARGO_MANIFEST_DIR is set at compile time.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Runs `cargo ARGS` in the workspace root and fails if it does.
fn cargo(root: &Path, args: &[&str]) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .current_dir(root)
        .status()
        .with_context(|| format!("cannot start `cargo {}`", args.join(" ")))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// The main job on embedded defaults: data, the gradient grid, plots, and the runs listed.
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
    )
}

/// Formatting, lints with warnings denied, then every test of the workspace.
fn test(root: &Path) -> Result<()> {
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
    cargo(root, &["test", "--workspace", "--locked"])
}

/// The criterion benchmarks: tracker ingest and one demo training step.
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
    )
}
