//! Markdown to Word: `docgen` turns a GitHub-flavoured Markdown file, with an optional YAML
//! front matter, into a `.docx` whose paragraphs carry real styles named as pandoc names them
//! (`Title`, `Heading1`…`Heading6`, `BodyText`, `FirstParagraph`, `Compact`, `SourceCode`,
//! `BlockText`, `Hyperlink`, `Table`, `FootnoteText`), so the document looks made by hand and
//! a company template can restyle it.
//!
//! One comrak parse feeds one docx-rs document; what docx-rs cannot express (repeating table
//! header rows, image alt text, footnote numbers, core properties) is added to the package's
//! XML before it is zipped. The library never prints; the `docgen` binary is a thin shell.
//!
//! ```
//! let markdown = "---\ntitle: Week 48\nauthor: Ada\n---\n# Results\n\nLoss went **down**.\n";
//! let document = docgen::convert(markdown, &docgen::Options::default())?;
//! assert_eq!(document.metadata().title.as_deref(), Some("Week 48"));
//! let bytes: Vec<u8> = document.into_docx()?; // a complete .docx package
//! assert!(bytes.starts_with(b"PK"));
//! # Ok::<(), docgen::Error>(())
//! ```
//!
//! [`convert_file`] does the whole job the binary does: read, convert, refuse to overwrite
//! the input, write.

mod convert;
mod error;
mod front_matter;
mod images;
mod package;
mod styles;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use comrak::nodes::NodeValue;

pub use error::{Error, Result};
pub use front_matter::Metadata;

/// How to convert.
#[derive(Debug, Clone)]
pub struct Options {
    /// The folder image paths are relative to: the Markdown file's folder.
    pub base_dir: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            base_dir: PathBuf::from("."),
        }
    }
}

/// A converted document, ready to be written as `.docx`.
pub struct Document {
    docx: docx_rs::Docx,
    metadata: Metadata,
    alt_texts: Vec<String>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Document")
            .field("metadata", &self.metadata)
            .field("images", &self.alt_texts.len())
            .finish_non_exhaustive()
    }
}

impl Document {
    /// What the front matter said.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The `.docx` package's bytes.
    pub fn into_docx(self) -> Result<Vec<u8>> {
        let mut xml = self.docx.build();
        package::finish(&mut xml, &self.metadata, &self.alt_texts);
        let mut bytes = Cursor::new(Vec::new());
        xml.pack(&mut bytes)
            .map_err(|source| Error::Package { source })?;
        package::deflate(bytes.into_inner()).map_err(|source| Error::Package { source })
    }
}

/// Parses `markdown` (GFM: tables, strikethrough, autolinks, task lists, footnotes, and a
/// `---` YAML front matter) and builds the document. Images are read from disk here, so a
/// missing image is an error now rather than a hole later.
pub fn convert(markdown: &str, options: &Options) -> Result<Document> {
    let arena = comrak::Arena::new();
    let mut comrak_options = comrak::Options::default();
    comrak_options.extension.table = true;
    comrak_options.extension.strikethrough = true;
    comrak_options.extension.autolink = true;
    comrak_options.extension.tasklist = true;
    comrak_options.extension.footnotes = true;
    comrak_options.extension.front_matter_delimiter = Some("---".into());
    let root = comrak::parse_document(&arena, markdown, &comrak_options);

    let mut metadata = Metadata::default();
    for child in root.children() {
        if let NodeValue::FrontMatter(block) = &child.data().value {
            metadata = Metadata::parse(block)?;
        }
    }
    let mut builder = convert::Builder::new(options);
    builder.document(root, &metadata)?;
    let alt_texts = std::mem::take(&mut builder.alt_texts);
    Ok(Document {
        docx: builder.finish(),
        metadata,
        alt_texts,
    })
}

/// What [`convert_file`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The Markdown file read.
    pub input: PathBuf,
    /// The `.docx` written.
    pub output: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// The default output of `input`: the same name with a `.docx` extension, beside it.
pub fn default_output(input: &Path) -> PathBuf {
    input.with_extension("docx")
}

/// Reads `input`, converts it with images relative to its folder, and writes `output`,
/// refusing to overwrite the input itself.
pub fn convert_file(input: &Path, output: &Path) -> Result<Written> {
    let bytes = std::fs::read(input).map_err(|source| Error::ReadInput {
        path: input.to_path_buf(),
        source,
    })?;
    let markdown = String::from_utf8(bytes).map_err(|error| Error::NotUtf8 {
        path: input.to_path_buf(),
        offset: error.utf8_error().valid_up_to(),
    })?;
    if same_file(input, output) {
        return Err(Error::OutputIsInput {
            path: output.to_path_buf(),
        });
    }
    let options = Options {
        base_dir: convert::base_dir_of(input),
    };
    let docx = convert(&markdown, &options)?.into_docx()?;
    std::fs::write(output, &docx).map_err(|source| Error::WriteOutput {
        path: output.to_path_buf(),
        source,
    })?;
    Ok(Written {
        input: input.to_path_buf(),
        output: output.to_path_buf(),
        bytes: docx.len() as u64,
    })
}

fn same_file(input: &Path, output: &Path) -> bool {
    if input == output {
        return true;
    }
    match (input.canonicalize(), output.canonicalize()) {
        (Ok(input), Ok(output)) => input == output,
        _ => false,
    }
}
