//! The one error type of the crate. Every variant means "the gate could not judge"
//! (exit code 2); a rule that fails is not an error but part of the [`Verdict`](crate::Verdict).

use std::path::PathBuf;

use crate::report::Format;

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a report's bytes could not be read as a report of some format.
///
/// Readers return this without knowing where the bytes came from; [`Error::ParseReport`]
/// adds the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ParseError {
    /// The format the bytes were read as, if one was settled on.
    pub format: Option<Format>,
    /// What was wrong, with a line number where the format has lines.
    pub detail: String,
}

impl ParseError {
    pub(crate) fn new(format: Format, detail: impl Into<String>) -> Self {
        Self {
            format: Some(format),
            detail: detail.into(),
        }
    }
}

/// Everything that keeps the gate from judging.
///
/// Messages describe this layer only; the cause is reachable through
/// [`std::error::Error::source`], and [`Error::hint`] suggests what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration file could not be read.
    #[error("cannot read the configuration {}", path.display())]
    ReadConfig {
        /// The configuration file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is not valid TOML or has an unknown or mistyped key.
    #[error("invalid configuration {}", path.display())]
    ParseConfig {
        /// The configuration file.
        path: PathBuf,
        /// The TOML error, which names the key and line.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A configuration value parsed but makes no sense.
    #[error("invalid configuration {}: `{key}` {reason}", path.display())]
    InvalidConfig {
        /// The configuration file.
        path: PathBuf,
        /// The dotted key, e.g. `coverage.paths[0].glob`.
        key: String,
        /// What is wrong with its value.
        reason: String,
    },
    /// A `--report PATH[:FORMAT]` argument or `[[reports]]` entry names an unknown format.
    #[error("unknown report format `{name}`")]
    UnknownFormatName {
        /// The name as given.
        name: String,
    },
    /// A report file could not be read.
    #[error("cannot read the report {}", path.display())]
    ReadReport {
        /// The report file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A report file is empty (or only whitespace).
    #[error("the report {} is empty", path.display())]
    EmptyReport {
        /// The report file.
        path: PathBuf,
    },
    /// The format of a report could not be recognised from its content.
    #[error("cannot tell the format of the report {}", path.display())]
    UndetectedFormat {
        /// The report file.
        path: PathBuf,
    },
    /// A report is garbled or not of the format it was read as.
    #[error("cannot read the report {} as {}", path.display(), source.format.map_or("any known format", Format::name))]
    ParseReport {
        /// The report file.
        path: PathBuf,
        /// What the reader found wrong.
        #[source]
        source: ParseError,
    },
    /// A coverage rule is configured but no report gave the data it needs.
    #[error("cannot judge `{rule}`: {reason}")]
    NoData {
        /// The rule, e.g. `coverage.branches`.
        rule: String,
        /// What is missing.
        reason: String,
    },
    /// A lockfile could not be read.
    #[error("cannot read the lockfile {}", path.display())]
    ReadLockfile {
        /// The lockfile.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A lockfile is not a valid `Cargo.lock`.
    #[error("cannot parse the lockfile {}: {detail}", path.display())]
    ParseLockfile {
        /// The lockfile.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// The advisory database directory is missing or is not a RustSec advisory database.
    #[error("{} is not a RustSec advisory database: {reason}", path.display())]
    NotAdvisoryDb {
        /// The directory given.
        path: PathBuf,
        /// What was expected and not found.
        reason: String,
    },
    /// One advisory in the database could not be parsed.
    #[error("cannot parse the advisory {}: {detail}", path.display())]
    ParseAdvisory {
        /// The advisory file.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// A producer command of `gate run` could not be started.
    #[error("cannot start the producer `{command}`")]
    StartProducer {
        /// The command line from `[run] commands`.
        command: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// `git` could not locate the repository's hooks directory.
    #[error("cannot find the git hooks directory under {}: {detail}", path.display())]
    NotGitRepository {
        /// The directory `git` was asked about.
        path: PathBuf,
        /// What git said.
        detail: String,
    },
    /// A hook exists that `gate` did not install.
    #[error("{} exists and was not installed by gate", path.display())]
    ForeignHook {
        /// The hook file.
        path: PathBuf,
    },
    /// `gate init` would overwrite an existing file.
    #[error("{} already exists; gate init does not overwrite", path.display())]
    WouldOverwrite {
        /// The existing file.
        path: PathBuf,
    },
    /// `git diff` against the patch-coverage base failed.
    #[error("cannot diff against the base `{base}`: {detail}")]
    Git {
        /// The base revision.
        base: String,
        /// What git said.
        detail: String,
    },
    /// The ratchet baseline could not be read or parsed.
    #[error("cannot read the coverage baseline {}: {detail}", path.display())]
    ReadBaseline {
        /// The baseline file.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// `gate baseline` would lower the recorded coverage without `--lower --reason`.
    #[error(
        "coverage {current:.2}% is below the baseline {recorded:.2}%; lowering it needs --lower --reason \"...\""
    )]
    WouldLowerBaseline {
        /// The recorded line coverage.
        recorded: f64,
        /// The current line coverage.
        current: f64,
    },
    /// A file the gate writes (SARIF, step summary, hook, starter files) could not be written.
    #[error("cannot write {}", path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A suggestion of what to do about this error, if there is a useful one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::ReadConfig { .. } => {
                Some("pass --config PATH, or run `gate init` to write a starter gate.toml".into())
            }
            Error::ParseConfig { .. } | Error::InvalidConfig { .. } => {
                Some("the keys gate.toml accepts are listed in the crate documentation of `gate::config`".into())
            }
            Error::UnknownFormatName { .. } => Some(format!(
                "known formats: {}",
                Format::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
            )),
            Error::ReadReport { .. } | Error::EmptyReport { .. } => {
                Some("run the producer first (`gate run` runs the commands in [run]), or fix the path".into())
            }
            Error::UndetectedFormat { .. } | Error::ParseReport { .. } => Some(
                "name the format with --report PATH:FORMAT or `format = ...` in [[reports]] if detection picked the wrong one".into(),
            ),
            Error::NoData { .. } => Some("add a report that carries this data, or remove the threshold".into()),
            Error::ParseLockfile { .. } => Some("regenerate it with `cargo generate-lockfile`".into()),
            Error::NotAdvisoryDb { .. } => Some(
                "point --advisory-db at a clone of github.com/rustsec/advisory-db (it has a `crates/` folder)".into(),
            ),
            Error::ForeignHook { .. } => Some("pass --force to move the existing hook aside to `pre-push.gate-backup`".into()),
            Error::NotGitRepository { .. } => Some("run the command inside a git work tree".into()),
            Error::Git { .. } => Some("fetch the base first (`git fetch origin main`), or pass another --base".into()),
            Error::ReadBaseline { .. } => Some("record one with `gate baseline`".into()),
            Error::WouldLowerBaseline { .. } => Some("add tests instead, or record why: `gate baseline --lower --reason \"...\"`".into()),
            _ => None,
        }
    }
}
