//! The one error type of the crate: everything that keeps a Markdown file from becoming a
//! document. Messages describe this layer; causes hang off [`std::error::Error::source`].

use std::path::PathBuf;

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a conversion failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Markdown file could not be read.
    #[error("cannot read {}", path.display())]
    ReadInput {
        /// The Markdown file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The Markdown file is not UTF-8 text.
    #[error("{} is not UTF-8 text (invalid byte at offset {offset})", path.display())]
    NotUtf8 {
        /// The Markdown file.
        path: PathBuf,
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// The output path names the input file.
    #[error("refusing to overwrite the input {}", path.display())]
    OutputIsInput {
        /// The path given as both input and output.
        path: PathBuf,
    },
    /// The .docx could not be written.
    #[error("cannot write {}", path.display())]
    WriteOutput {
        /// The output file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The `---` front matter is not valid YAML.
    #[error("the front matter is not valid YAML")]
    FrontMatterSyntax {
        /// The YAML error, with its line and column.
        #[source]
        source: serde_norway::Error,
    },
    /// The front matter parsed but a key has the wrong shape.
    #[error("front matter: {reason}")]
    FrontMatterShape {
        /// What is wrong, naming the key.
        reason: String,
    },
    /// An image the Markdown refers to could not be read.
    #[error("cannot read the image {}", path.display())]
    ReadImage {
        /// The image file, resolved against the Markdown file's folder.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// An image file is not a PNG or JPEG that can be decoded.
    #[error("cannot decode the image {} (PNG and JPEG are supported)", path.display())]
    DecodeImage {
        /// The image file.
        path: PathBuf,
        /// The decoder's complaint.
        #[source]
        source: image::ImageError,
    },
    /// The .docx package could not be assembled (a bug in docgen or docx-rs, not in the input).
    #[error("cannot assemble the .docx package")]
    Package {
        /// The zip writer's error.
        #[source]
        source: zip::result::ZipError,
    },
}

impl Error {
    /// A suggestion of what to do next, when there is one worth saying.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::ReadInput { .. } => Some("check the path and that the file is readable".into()),
            Error::NotUtf8 { .. } => Some("save the file as UTF-8".into()),
            Error::OutputIsInput { .. } => Some("pass `--output FILE.docx` with another name".into()),
            Error::WriteOutput { .. } => {
                Some("check that the folder exists and is writable, and that the file is not open in Word".into())
            }
            Error::FrontMatterSyntax { .. } | Error::FrontMatterShape { .. } => Some(
                "the block between the first two `---` lines must be YAML with string values for `title`, `subtitle`, `author` (or a list of them) and `date`".into(),
            ),
            Error::ReadImage { .. } => {
                Some("image paths are relative to the Markdown file's folder".into())
            }
            Error::DecodeImage { .. } => Some("convert the image to PNG or JPEG".into()),
            Error::Package { .. } => None,
        }
    }

    /// The process exit code this error maps to: 2 when the input or the paths were wrong,
    /// 1 when docgen itself failed on good input.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Package { .. } => 1,
            _ => 2,
        }
    }
}
