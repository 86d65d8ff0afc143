//! The demo's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the demo, with the context needed to act on it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model or training setting is out of range (depth 0, unknown activation, …).
    #[error("invalid setting `{name}`: {reason}")]
    InvalidConfig {
        /// The setting, as spelled on the command line.
        name: &'static str,
        /// Why the value was refused.
        reason: String,
    },
    /// A tensor operation failed (shape mismatch, device error, …).
    #[error("tensor computation failed")]
    Tensor(#[from] candle_core::Error),
    /// The tracker store refused a write or could not be opened.
    #[error(transparent)]
    Tracker(#[from] tracker::Error),
    /// The gradient watcher failed.
    #[error(transparent)]
    Watch(#[from] tracker::watch::WatchError),
    /// The output folder or one of its files could not be written.
    #[error("cannot write `{}`", path.display())]
    Write {
        /// The file or folder that could not be written.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A plot could not be drawn.
    #[error("cannot draw plot `{}`: {message}", path.display())]
    Plot {
        /// The image being drawn.
        path: PathBuf,
        /// What the plotting backend reported.
        message: String,
    },
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            name,
            reason: reason.into(),
        }
    }
}
