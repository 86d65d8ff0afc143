//! The `datavc` binary: parses arguments, calls one `datavc::ops` function, prints its
//! report (text or `--json`), and maps the outcome to an exit code (0 done, 1 a failed
//! operation or, with `-q`, a dirty status, 2 bad input, 130 stopped by Ctrl-C).

mod cli;
mod print;
mod progress_bar;

use std::process::ExitCode;

// A clean `status` allocates a few small strings per file on every core; glibc's malloc
// spent an eighth of it in its arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Killed by Ctrl-C, a `get` or `import` would leave its temporary clone, data and all,
    // beside the user's files until the next one to that path. (Setting the handler fails
    // only where a handler is set already.)
    let _ = ctrlc::set_handler(|| {
        datavc::scratch::interrupt();
        std::process::exit(130);
    });
    let args = cli::Cli::parse_checked();
    match cli::run(&args) {
        Ok(code) => code,
        Err(error) => {
            spokes_cli::report_error(
                &error,
                error.hint().as_deref(),
                args.color.for_stderr(),
                args.verbose,
            );
            ExitCode::from(error.exit_code())
        }
    }
}
