//! The `docgen` binary: parses arguments, calls [`docgen::convert_file`], prints, and maps the
//! outcome to an exit code (0 written, 1 docgen failed on good input, 2 bad input or paths).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use spokes_cli::ColorChoice;

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
    /// Colour in error messages.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
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
            spokes_cli::report_error(
                &error,
                error.hint().as_deref(),
                cli.color.for_stderr(),
                cli.verbose,
            );
            ExitCode::from(error.exit_code())
        }
    }
}
