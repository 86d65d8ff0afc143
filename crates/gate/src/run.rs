//! `gate run`: the producer commands of `[run] commands`, run in order before judging.
//!
//! Each runs through the platform shell (`sh -c`, or `cmd /C` on Windows) in the project
//! root. Their standard output is sent to standard error, so that `gate run --json` keeps
//! standard output for the verdict. A producer that exits non-zero becomes a failing
//! rule; later producers still run, so that every report that can be made is made.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Runs the producers and returns each command with its exit code (`None`: killed by a
/// signal). Fails only if a command cannot be started at all.
pub fn run_producers(commands: &[String], root: &Path) -> Result<Vec<(String, Option<i32>)>> {
    let mut outcomes = Vec::with_capacity(commands.len());
    for command in commands {
        let mut process = if cfg!(windows) {
            let mut process = Command::new("cmd");
            process.arg("/C").arg(command);
            process
        } else {
            let mut process = Command::new("sh");
            process.arg("-c").arg(command);
            process
        };
        let status = process
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::io::stderr()))
            .status()
            .map_err(|source| Error::StartProducer {
                command: command.clone(),
                source,
            })?;
        outcomes.push((command.clone(), status.code()));
    }
    Ok(outcomes)
}
