//! Data and model-weight versioning outside git: `datavc` gives DVC's workflow and on-disk
//! formats (pointer files, cache and remote layout, `.dvc/config`) a fast, crash-safe core,
//! so a team can use both tools on one repository and one remote.
//!
//! Data is hashed (md5 for DVC compatibility, or blake3), stored once in a
//! content-addressed cache under `.dvc/cache`, and replaced in git by a small YAML pointer
//! (`data.dvc`). Remotes are object stores (a folder, S3, GCS, Azure, HTTP). The outputs
//! of DVC pipelines, declared in `dvc.yaml` and recorded in `dvc.lock`, are read as
//! pointers too ([`stages`]).
//!
//! ```
//! use datavc::{HashAlgo, Repo, progress::Silent};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("weights.bin"), b"0123")?;
//! let repo = Repo::init(dir.path(), HashAlgo::Md5)?;
//! let tracked = datavc::ops::add::add(&repo, &[dir.path().join("weights.bin")], &Silent)?;
//! assert_eq!(tracked[0].oid, "eb62f6b9306db575c2d596b1279627a4");
//! assert!(dir.path().join("weights.bin.dvc").is_file());
//! let status = datavc::ops::status::status(&repo, &[])?;
//! assert_eq!(status[0].change, datavc::ops::status::Change::Clean);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every command is a function in [`ops`] that takes a [`Repo`] and returns a report;
//! nothing here prints. Writes go through a temporary file and a rename, objects are
//! verified as they move (an upload or a checkout trusts, unhashed, only an object whose
//! metadata is unchanged since datavc wrote it verified), and a repository lock keeps two
//! writers apart, so a killed command leaves nothing corrupt and the next one completes the
//! work.

pub mod cache;
mod clone;
pub mod config;
pub mod dvcignore;
mod error;
mod fsutil;
pub mod git;
mod gitignore;
pub mod hash;
pub mod link;
pub mod lock;
pub mod manifest;
mod md5_lanes;
pub mod ops;
pub mod pointer;
pub mod progress;
mod pyjson;
pub mod remote;
pub mod repo;
pub mod scratch;
pub mod stages;
pub mod state;
mod templates;
pub mod workspace;

pub use error::{Error, Result};
pub use hash::{HashAlgo, Oid};
pub use repo::Repo;
