//! Markdown to Word and PDF: `docgen` turns a GitHub-flavoured Markdown file, with an optional
//! YAML front matter, into a `.docx` whose paragraphs carry real styles named as pandoc names
//! them (`Title`, `Heading1`…`Heading6`, `BodyText`, `FirstParagraph`, `Compact`,
//! `SourceCode`, `BlockText`, `Hyperlink`, `Table`, `FootnoteText`), so the document looks
//! made by hand and a company template can restyle it ([`Options::reference_doc`] applies one
//! as pandoc's `--reference-doc` does); and, with the `pdf` feature (on by
//! default), into a PDF typeset inside the process by typst, with embedded fonts, headings
//! as bookmarks, working links and "Page X of Y" footers.
//!
//! One comrak parse feeds both outputs. The docx side builds a docx-rs document; what docx-rs
//! cannot express (repeating table header rows, image alt text, footnote numbers, core
//! properties) is added to the package's XML before it is zipped. The PDF side writes Typst
//! markup in which every character the user wrote sits inside a Typst string literal, and
//! compiles it against a closed world: the generated file, typst's bundled fonts (and the
//! system's, only for characters those lack, such as emoji) and the images already read for
//! the document; nothing else on disk or on the network. The library
//! never prints; the `docgen` binary is a thin shell.
//!
//! ```
//! let markdown = "---\ntitle: Week 48\nauthor: Ada\n---\n# Results\n\nLoss went **down**.\n";
//! let document = docgen::convert(markdown, &docgen::Options::default())?;
//! assert_eq!(document.metadata().title.as_deref(), Some("Week 48"));
//! let docx: Vec<u8> = document.to_docx()?; // a complete .docx package
//! assert!(docx.starts_with(b"PK"));
//! # #[cfg(feature = "pdf")]
//! let pdf: Vec<u8> = document.to_pdf()?; // the same document typeset as PDF
//! # #[cfg(feature = "pdf")]
//! assert!(pdf.starts_with(b"%PDF"));
//! # Ok::<(), docgen::Error>(())
//! ```
//!
//! [`plan_outputs`] turns the command line's choices into output paths and [`convert_files`]
//! does the whole job the binary does: read, convert, refuse to overwrite the input, write;
//! [`watch`] does it again on every save.

mod anchors;
mod code;
mod convert;
mod depth;
mod error;
mod front_matter;
mod highlight;
mod images;
mod output;
mod package;
#[cfg(feature = "pdf")]
mod pdf;
mod reference;
mod styles;
#[cfg(feature = "pdf")]
mod typst_markup;
mod watch;

use std::io::Cursor;
use std::path::PathBuf;

use comrak::nodes::NodeValue;

pub use error::{Error, Result};
pub use front_matter::Metadata;
pub use output::{
    Format, Input, MAX_INPUT_BYTES, Report, Written, convert_files, plan_outputs, read_markdown,
};
pub use watch::watch;

/// How to convert.
#[derive(Debug, Clone)]
pub struct Options {
    /// The folder image paths are relative to: the Markdown file's folder. Images outside
    /// it are never read.
    pub base_dir: PathBuf,
    /// The paper both outputs are laid out on.
    pub page_size: PageSize,
    /// A title that replaces the front matter's.
    pub title: Option<String>,
    /// Whether to put a table of contents after the title block.
    pub toc: bool,
    /// A Word document whose styles, theme, page size, margins, header and footer the .docx
    /// takes, as pandoc's `--reference-doc` (the PDF keeps docgen's own look).
    pub reference_doc: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            base_dir: PathBuf::from("."),
            page_size: PageSize::A4,
            title: None,
            toc: false,
            reference_doc: None,
        }
    }
}

/// The paper size, with one-inch margins on every side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PageSize {
    /// 210 × 297 mm.
    #[default]
    A4,
    /// 8.5 × 11 in.
    Letter,
}

impl std::str::FromStr for PageSize {
    type Err = Error;

    fn from_str(name: &str) -> Result<PageSize> {
        match name.to_ascii_lowercase().as_str() {
            "a4" => Ok(PageSize::A4),
            "letter" => Ok(PageSize::Letter),
            _ => Err(Error::UnknownPageSize { name: name.into() }),
        }
    }
}

/// Something worth telling the user that did not stop the conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// An image given by URL, left as a link because docgen never fetches.
    RemoteImage {
        /// The URL.
        url: String,
    },
    /// An image whose path leaves the Markdown file's folder, left out of the document.
    ImageOutsideFolder {
        /// The path as written in the Markdown.
        path: String,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::RemoteImage { url } => {
                write!(formatter, "the image `{url}` is a URL: linked, not fetched")
            }
            Warning::ImageOutsideFolder { path } => write!(
                formatter,
                "the image `{path}` is outside the Markdown file's folder: left out"
            ),
        }
    }
}

/// A converted document, ready to be written as `.docx` or PDF.
pub struct Document {
    docx: docx_rs::Docx,
    metadata: Metadata,
    alt_texts: Vec<String>,
    /// Code blocks written as placeholders, filled in from `highlighting` when packed.
    pending_code: Vec<code::Pending>,
    highlighting: highlight::Highlighting,
    warnings: Vec<Warning>,
    /// The width between the margins, in twentieths of a point.
    text_width: u32,
    reference: Option<reference::Reference>,
    #[cfg(feature = "pdf")]
    typst: pdf::Source,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Document")
            .field("metadata", &self.metadata)
            .field("images", &self.alt_texts.len())
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl Document {
    /// What the front matter said, with [`Options::title`] applied.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// What was degraded rather than refused (images not embedded).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The `.docx` package's bytes.
    pub fn to_docx(&self) -> Result<Vec<u8>> {
        self.pack_docx(self.docx.clone())
    }

    /// The bytes of every format asked for, in order, consuming the document: the .docx is
    /// built from the document's own tree instead of a copy, and what is left is dropped on
    /// another thread. Both matter on large input, where copying and freeing docx-rs's tree
    /// took a quarter of the time of a conversion to .docx (measured with perf).
    pub(crate) fn into_formats(mut self, formats: &[Format]) -> Result<Vec<Vec<u8>>> {
        let mut rendered = Vec::with_capacity(formats.len());
        let docx_wanted = formats.contains(&Format::Docx);
        for &format in formats {
            rendered.push(match format {
                Format::Docx => Vec::new(),
                Format::Pdf => self.to_format(Format::Pdf)?,
            });
        }
        if docx_wanted {
            let docx = std::mem::take(&mut self.docx);
            let bytes = self.pack_docx(docx)?;
            for (slot, _) in rendered
                .iter_mut()
                .zip(formats)
                .filter(|(_, format)| **format == Format::Docx)
            {
                *slot = bytes.clone();
            }
        }
        std::thread::spawn(move || drop(self));
        Ok(rendered)
    }

    fn pack_docx(&self, docx: docx_rs::Docx) -> Result<Vec<u8>> {
        let mut xml = docx.build();
        package::finish(&mut xml, &self.metadata, &self.alt_texts, self.text_width);
        code::splice(&mut xml, &self.pending_code, self.highlighting.wait());
        let added = match &self.reference {
            Some(reference) => reference.apply(&mut xml),
            None => Vec::new(),
        };
        let mut bytes = Cursor::new(Vec::new());
        xml.pack(&mut bytes)
            .map_err(|source| Error::Package { source })?;
        package::deflate(bytes.into_inner(), &added).map_err(|source| Error::Package { source })
    }

    /// The PDF's bytes, typeset by typst with the fonts it used embedded.
    #[cfg(feature = "pdf")]
    pub fn to_pdf(&self) -> Result<Vec<u8>> {
        self.typst.to_pdf()
    }

    /// The bytes of the document in `format`.
    pub fn to_format(&self, format: Format) -> Result<Vec<u8>> {
        match format {
            Format::Docx => self.to_docx(),
            #[cfg(feature = "pdf")]
            Format::Pdf => self.to_pdf(),
            #[cfg(not(feature = "pdf"))]
            Format::Pdf => Err(Error::PdfNotBuilt),
        }
    }
}

/// Parses `markdown` (GFM: tables, strikethrough, autolinks, task lists, footnotes, alerts,
/// and a `---` YAML front matter) and builds the document. Images are read from disk here, once
/// for both outputs, so a missing image is an error now rather than a hole later.
pub fn convert(markdown: &str, options: &Options) -> Result<Document> {
    highlight::preload(markdown);
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, markdown, &markdown_options());
    depth::limit(root);
    let highlighting = highlight::Highlighting::start(root);

    let mut metadata = Metadata::default();
    for child in root.children() {
        if let NodeValue::FrontMatter(block) = &child.data().value {
            metadata = Metadata::parse(block)?;
        }
    }
    if let Some(title) = &options.title {
        metadata.title = Some(title.clone());
    }
    let (images, warnings) = resolve_images(root, options)?;
    let anchors = anchors::Anchors::new(root);
    let reference = options
        .reference_doc
        .as_deref()
        .map(reference::Reference::read)
        .transpose()?;
    let text_width = reference
        .as_ref()
        .and_then(reference::Reference::text_width)
        .unwrap_or_else(|| convert::text_width_twips(options.page_size));
    // Both outputs are built while the code is still being highlighted: the .docx waits for
    // it only when it is packed (see `code`).
    #[cfg(feature = "pdf")]
    let typst = pdf::Source::new(
        typst_markup::document(root, &metadata, options, &images, &anchors),
        &images,
    );
    let mut builder = convert::Builder::new(options, text_width, &images, &anchors);
    builder.document(root, &metadata)?;
    let alt_texts = std::mem::take(&mut builder.alt_texts);
    let pending_code = std::mem::take(&mut builder.pending_code);
    Ok(Document {
        docx: builder.finish(),
        #[cfg(feature = "pdf")]
        typst,
        metadata,
        alt_texts,
        pending_code,
        highlighting,
        warnings,
        text_width,
        reference,
    })
}

/// The Markdown dialect: GFM (tables, strikethrough, autolinks, task lists, footnotes,
/// alerts) with a `---` YAML front matter.
pub(crate) fn markdown_options() -> comrak::Options<'static> {
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    options.extension.footnotes = true;
    options.extension.alerts = true;
    options.extension.front_matter_delimiter = Some("---".into());
    options
}

/// Reads every local image once, and notes the ones that will not be embedded.
fn resolve_images<'a>(
    root: &'a comrak::nodes::AstNode<'a>,
    options: &Options,
) -> Result<(images::Images, Vec<Warning>)> {
    let mut images = images::Images::default();
    let mut warnings = Vec::new();
    for node in root.descendants() {
        let NodeValue::Image(link) = &node.data().value else {
            continue;
        };
        if images.get(&link.url).is_some() {
            continue;
        }
        match images.resolve(&options.base_dir, &link.url)? {
            images::Resolved::Embedded(_) => {}
            images::Resolved::Remote => warnings.push(Warning::RemoteImage {
                url: link.url.clone(),
            }),
            images::Resolved::Outside => warnings.push(Warning::ImageOutsideFolder {
                path: link.url.clone(),
            }),
        }
    }
    Ok((images, warnings))
}
