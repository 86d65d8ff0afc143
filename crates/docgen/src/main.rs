//! The `docgen` binary: parses arguments, calls [`docgen::plan_outputs`] and
//! [`docgen::convert_files`], prints, and maps the outcome to an exit code (0 written, 1
//! docgen failed on good input, 2 bad input, usage or paths).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use docgen::{Format, Input, Options, PageSize};
use spokes_cli::ColorChoice;

/// Markdown (GitHub-flavoured, with YAML front matter) to a styled Word .docx and a PDF.
#[derive(Parser)]
#[command(name = "docgen", version, about)]
struct Cli {
    /// The Markdown file, or `-` for standard input.
    input: PathBuf,
    /// Where to write; `.docx` or `.pdf` picks the format (default: INPUT.docx beside it).
    /// With `--to`, the stem the outputs are named after.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Formats to write, each beside the input (or named after `--output`'s stem).
    #[arg(long, value_name = "FORMATS", value_delimiter = ',')]
    to: Vec<Format>,
    /// A title that replaces the front matter's.
    #[arg(long)]
    title: Option<String>,
    /// Paper size: `a4` or `letter`.
    #[arg(long, value_name = "SIZE", default_value = "a4")]
    page_size: PageSize,
    /// Put a table of contents after the title block.
    #[arg(long)]
    toc: bool,
    /// Take the .docx's styles, page size, margins, header and footer from this Word file.
    #[arg(long, value_name = "FILE")]
    reference_doc: Option<PathBuf>,
    /// Convert again every time the Markdown file is saved (stop with Ctrl-C).
    #[arg(long)]
    watch: bool,
    /// Print `{"input", "outputs": [{"path", "format", "bytes"}], "warnings"}` on stdout.
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
    let input = if cli.input.as_os_str() == "-" {
        Input::Stdin
    } else {
        Input::Path(cli.input.clone())
    };
    let options = Options {
        base_dir: input.base_dir(),
        page_size: cli.page_size,
        title: cli.title.clone(),
        toc: cli.toc,
        reference_doc: cli.reference_doc.clone(),
    };
    let outputs = match docgen::plan_outputs(&input, cli.output.as_deref(), &cli.to) {
        Ok(outputs) => outputs,
        Err(error) => return fail(&cli, &error),
    };
    if cli.watch {
        let watched = docgen::watch(&input, &outputs, &options, |result| match result {
            Ok(report) => print_report(&cli, &report),
            Err(error) => {
                fail(&cli, &error);
            }
        });
        return match watched {
            Ok(never) => match never {},
            Err(error) => fail(&cli, &error),
        };
    }
    match docgen::convert_files(&input, &outputs, &options) {
        Ok(report) => {
            print_report(&cli, &report);
            ExitCode::SUCCESS
        }
        Err(error) => fail(&cli, &error),
    }
}

fn fail(cli: &Cli, error: &docgen::Error) -> ExitCode {
    spokes_cli::report_error(
        error,
        error.hint().as_deref(),
        cli.color.for_stderr(),
        cli.verbose,
    );
    ExitCode::from(error.exit_code())
}

fn print_report(cli: &Cli, report: &docgen::Report) {
    if !cli.quiet {
        for warning in &report.warnings {
            eprintln!("warning: {warning}");
        }
    }
    if cli.json {
        let outputs: Vec<serde_json::Value> = report
            .written
            .iter()
            .map(|written| {
                serde_json::json!({
                    "path": written.path,
                    "format": written.format.extension(),
                    "bytes": written.bytes,
                })
            })
            .collect();
        let warnings: Vec<String> = report.warnings.iter().map(ToString::to_string).collect();
        let json = serde_json::json!({
            "input": report.input.to_string(),
            "outputs": outputs,
            "warnings": warnings,
        });
        let _ = writeln!(std::io::stdout().lock(), "{json}");
    } else if !cli.quiet {
        for written in &report.written {
            eprintln!("wrote {} ({} bytes)", written.path.display(), written.bytes);
        }
    }
}
