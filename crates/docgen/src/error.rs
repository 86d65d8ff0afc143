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
    /// Standard input could not be read.
    #[error("cannot read the Markdown from standard input")]
    ReadStdin {
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The Markdown is larger than docgen converts.
    #[error("{input} is larger than {} MiB", limit / (1024 * 1024))]
    InputTooLarge {
        /// The Markdown file, or `-` for standard input.
        input: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The Markdown is not UTF-8 text.
    #[error("{input} is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 {
        /// The Markdown file, or `-` for standard input.
        input: String,
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// The output path names the input file.
    #[error("refusing to overwrite the input {}", path.display())]
    OutputIsInput {
        /// The path given as both input and output.
        path: PathBuf,
    },
    /// Standard input was given without saying where the output goes.
    #[error("reading Markdown from standard input needs an output path")]
    StdinNeedsOutput,
    /// An output format name other than `docx` or `pdf`.
    #[error("unknown output format `{name}`")]
    UnknownFormat {
        /// The name given.
        name: String,
    },
    /// An output path whose extension names no format docgen writes.
    #[error("cannot tell the output format of {} from its extension", path.display())]
    UnknownOutputFormat {
        /// The output path.
        path: PathBuf,
    },
    /// A page size other than `a4` or `letter`.
    #[error("unknown page size `{name}`")]
    UnknownPageSize {
        /// The name given.
        name: String,
    },
    /// The reference document could not be read.
    #[error("cannot read the reference document {}", path.display())]
    ReadReference {
        /// The reference document.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The reference document is not a Word document docgen can take styles from.
    #[error("{} is not a usable reference document: {reason}", path.display())]
    InvalidReference {
        /// The reference document.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `--watch` was given standard input, which cannot change.
    #[error("watching needs a Markdown file, not standard input")]
    WatchNeedsFile,
    /// The file system watch could not be set up or broke.
    #[error("cannot watch {} for changes", path.display())]
    Watch {
        /// The Markdown file.
        path: PathBuf,
        /// The watcher's error.
        #[source]
        source: notify::Error,
    },
    /// PDF was asked of a docgen built without its `pdf` feature.
    #[error("this docgen was built without PDF output")]
    PdfNotBuilt,
    /// typst refused the markup docgen generated (a bug in docgen, not in the input).
    #[error("cannot typeset the PDF: {message}")]
    Typeset {
        /// typst's diagnostics, one per line.
        message: String,
    },
    /// The output could not be written.
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
            Error::InputTooLarge { .. } => {
                Some("split the document; a session summary is far smaller".into())
            }
            Error::ReadStdin { .. } => None,
            Error::OutputIsInput { .. } => Some("pass `--output FILE.docx` with another name".into()),
            Error::StdinNeedsOutput => Some(
                "pass `-o FILE.docx` or `-o FILE.pdf`, or `--to docx,pdf -o STEM`".into(),
            ),
            Error::UnknownFormat { .. } | Error::UnknownOutputFormat { .. } => {
                Some("docgen writes `docx` and `pdf`; name the output `.docx` or `.pdf`, or pass `--to docx,pdf`".into())
            }
            Error::UnknownPageSize { .. } => Some("use `a4` or `letter`".into()),
            Error::ReadReference { .. } => {
                Some("check the path given to `--reference-doc`".into())
            }
            Error::InvalidReference { .. } => Some(
                "use a .docx saved by Word or LibreOffice, e.g. `pandoc -o reference.docx --print-default-data-file reference.docx`".into(),
            ),
            Error::WatchNeedsFile => Some("save the Markdown to a file and watch that".into()),
            Error::Watch { .. } => Some(
                "on Linux, raise fs.inotify.max_user_watches or close other watching programs"
                    .into(),
            ),
            Error::PdfNotBuilt => {
                Some("build docgen with its default features (`pdf`), or ask for `docx`".into())
            }
            Error::Typeset { .. } => Some("please report this with the Markdown that caused it".into()),
            Error::WriteOutput { .. } => {
                Some("check that the folder exists and is writable, and that the file is not open in Word".into())
            }
            Error::FrontMatterSyntax { .. } | Error::FrontMatterShape { .. } => Some(
                "the block between the first two `---` lines must be YAML with string values for `title`, `subtitle`, `author` (or a list of them), `date` and `abstract`".into(),
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
            Error::Package { .. } | Error::Typeset { .. } | Error::Watch { .. } => 1,
            _ => 2,
        }
    }
}
