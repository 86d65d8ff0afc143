//! The command-line conventions every spokes binary shares, so that six tools read as one
//! (`../shared/JOURNEY.md`, "One tool, not six"): the `--color auto|always|never` choice
//! and the one way an error is printed.
//!
//! ```
//! use spokes_cli::render_error;
//!
//! let error = std::io::Error::other("disk full");
//! let text = render_error(&error, Some("free some space"), false, false);
//! assert_eq!(text, "error: disk full\nhint: free some space\n");
//! ```
//!
//! This crate has no binary: it is the part of each binary that would otherwise be copied.

use std::error::Error;
use std::fmt::Write as _;
use std::io::IsTerminal;

/// The `--color` flag of every binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether to colour standard output.
    pub fn for_stdout(self) -> bool {
        self.resolve(std::io::stdout().is_terminal())
    }

    /// Whether to colour standard error (where errors and progress go).
    pub fn for_stderr(self) -> bool {
        self.resolve(std::io::stderr().is_terminal())
    }

    fn resolve(self, is_terminal: bool) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

/// The text of an error: `error:` with the message, one `caused by:` line per source,
/// a `hint:` line when there is one, and the debug form when `verbose`.
///
/// A source whose text the line above already holds gets no line of its own: some
/// libraries (object_store, for one) print their source inside their own message too,
/// which would otherwise repeat one HTTP failure four times.
pub fn render_error(error: &dyn Error, hint: Option<&str>, color: bool, verbose: bool) -> String {
    let paint = |text: &str, code: &str| match color {
        true => format!("\x1b[{code}m{text}\x1b[0m"),
        false => text.to_owned(),
    };
    let mut out = format!("{}: {error}\n", paint("error", "1;31"));
    let mut shown = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !shown.contains(&text) {
            let _ = writeln!(out, "  caused by: {text}");
            shown = text;
        }
        source = cause.source();
    }
    if let Some(hint) = hint {
        let _ = writeln!(out, "{}: {hint}", paint("hint", "1;36"));
    }
    if verbose {
        let _ = writeln!(out, "debug: {error:?}");
    }
    out
}

/// Prints [`render_error`] on standard error: the one place a binary reports an error.
pub fn report_error(error: &dyn Error, hint: Option<&str>, color: bool, verbose: bool) {
    eprint!("{}", render_error(error, hint, color, verbose));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("cannot read `notes.md`")
        }
    }

    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn every_cause_gets_a_line_and_the_hint_comes_last() {
        let error = Outer(std::io::Error::other("permission denied"));
        let text = render_error(&error, Some("check the file's mode"), false, false);
        assert_eq!(
            text,
            "error: cannot read `notes.md`\n  caused by: permission denied\nhint: check the file's mode\n"
        );
    }

    /// An error that prints its source in its own message, and also returns it.
    #[derive(Debug)]
    struct Repeating(&'static str, Box<dyn Error + Send + Sync + 'static>);

    impl std::fmt::Display for Repeating {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}: {}", self.0, self.1)
        }
    }

    impl Error for Repeating {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(self.1.as_ref())
        }
    }

    #[test]
    fn a_cause_the_line_above_already_shows_is_not_repeated() {
        let http = std::io::Error::other("HTTP 500: no bucket named x");
        let request = Repeating("GET /x failed", Box::new(http));
        let client = Repeating("list request", Box::new(request));
        let error = Outer(std::io::Error::other(client));
        let text = render_error(&error, None, false, false);
        assert_eq!(
            text,
            "error: cannot read `notes.md`\n  caused by: list request: GET /x failed: HTTP 500: no bucket named x\n"
        );
    }

    #[test]
    fn colour_and_verbosity_are_opt_in() {
        let error = std::io::Error::other("boom");
        let coloured = render_error(&error, None, true, false);
        assert!(
            coloured.starts_with("\x1b[1;31merror\x1b[0m: boom"),
            "{coloured:?}"
        );
        assert!(render_error(&error, None, false, true).contains("debug: Custom"));
        assert!(!render_error(&error, None, false, false).contains("debug"));
    }

    #[test]
    fn explicit_choices_ignore_the_terminal() {
        assert!(ColorChoice::Always.resolve(false));
        assert!(!ColorChoice::Never.resolve(true));
    }
}
