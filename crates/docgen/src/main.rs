//! The `docgen` binary: parses arguments, calls [`docgen::convert_file`], prints, and maps the
//! outcome to an exit code (0 written, 1 docgen failed on good input, 2 bad input or paths).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Markdown (GitHub-flavoured, with YAML front matter) to a styled Word .docx.
#[derive(Parser)]
#[command(name = "docgen", version, about)]
struct Cli {
    /// The Markdown file.
    input: PathBuf,
    /// Where to write the .docx (default: INPUT with a .docx extension, beside it).
    #[arg(short, long, value_name = "FILE.docx")]
    output: Option<PathBuf>,
    /// Print `{"input", "output", "bytes"}` as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Print nothing on success.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Show error details.
    #[arg(short, long)]
    verbose: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let output = cli
        .output
        .clone()
        .unwrap_or_else(|| docgen::default_output(&cli.input));
    match docgen::convert_file(&cli.input, &output) {
        Ok(written) => {
            if cli.json {
                let json = serde_json::json!({
                    "input": written.input,
                    "output": written.output,
                    "bytes": written.bytes,
                });
                let _ = writeln!(std::io::stdout().lock(), "{json}");
            } else if !cli.quiet {
                eprintln!(
                    "wrote {} ({} bytes)",
                    written.output.display(),
                    written.bytes
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            report_error(&error, cli.verbose);
            ExitCode::from(error.exit_code())
        }
    }
}

/// The one place errors are printed.
fn report_error(error: &docgen::Error, verbose: bool) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let _ = writeln!(stderr, "caused by: {cause}");
        source = cause.source();
    }
    if let Some(hint) = error.hint() {
        let _ = writeln!(stderr, "hint: {hint}");
    }
    if verbose {
        let _ = writeln!(stderr, "\ndetails: {error:?}");
    }
}
