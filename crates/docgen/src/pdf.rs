//! The PDF: typst compiles the generated markup against a closed world and writes the pages.
//!
//! The world serves exactly three things: the generated main file, fonts, and the images
//! the converter already read, under `/images/N.png`. It has no file system and no network
//! behind it, so a document cannot make typst read anything else, whatever its text says.
//!
//! The fonts are typst's bundled ones (Libertinus Serif, New Computer Modern, DejaVu Sans
//! Mono), and, only for a document with characters those lack (emoji, CJK, …), the
//! system's too, as fallbacks: without them such characters would come out blank.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Smart};
use typst::syntax::{FileId, RootedPath, Source as TypstSource, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_kit::fonts::FontStore;
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use crate::images::{Images, Picture};
use crate::{Error, Result};

/// The standard library, built once per process.
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));
/// typst's bundled fonts, parsed once per process: parsing them costs more than typesetting
/// a short document.
static BUNDLED: LazyLock<FontStore> = LazyLock::new(|| {
    let mut store = FontStore::new();
    store.extend(typst_kit::fonts::embedded());
    store
});
/// The bundled fonts, then the system's as fallbacks. Scanning the system's fonts took
/// about 30 ms on a machine with 132 of them, so only documents that need them pay for it.
static WITH_SYSTEM: LazyLock<FontStore> = LazyLock::new(|| {
    let mut store = FontStore::new();
    store.extend(typst_kit::fonts::embedded());
    store.extend(typst_kit::fonts::system());
    store
});

/// The fonts for `text`: the bundled ones, unless some character needs the system's.
fn fonts_for(text: &str) -> &'static FontStore {
    let unusual: std::collections::BTreeSet<char> =
        text.chars().filter(|c| !c.is_ascii()).collect();
    let book = BUNDLED.book();
    let covered = |c: char| {
        (0..)
            .map_while(|index| book.info(index))
            .any(|info| info.coverage.contains(u32::from(c)))
    };
    match unusual.into_iter().all(|c| is_invisible(c) || covered(c)) {
        true => &BUNDLED,
        false => &WITH_SYSTEM,
    }
}

/// Characters that shape other characters rather than show a glyph of their own, and that
/// fonts need not cover: joiners and variation selectors, as in emoji sequences.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0020}'..='\u{E007F}')
}

/// The generated markup and the images it names, ready to compile. The markup is parsed
/// only when a PDF is asked for, so a .docx-only conversion does not pay for it.
pub(crate) struct Source {
    markup: String,
    files: HashMap<FileId, Bytes>,
}

/// What typst sees while compiling one [`Source`].
struct Closed<'s> {
    main: TypstSource,
    files: &'s HashMap<FileId, Bytes>,
    fonts: &'static FontStore,
}

/// An embedded image's PNG bytes, shared with the .docx side rather than copied.
struct Png(Arc<Picture>);

impl AsRef<[u8]> for Png {
    fn as_ref(&self) -> &[u8] {
        &self.0.png
    }
}

fn file_id(path: &str) -> FileId {
    let path = VirtualPath::new(path).expect("docgen's own virtual paths are valid");
    FileId::new(RootedPath::new(VirtualRoot::Project, path))
}

impl Source {
    pub(crate) fn new(markup: String, images: &Images) -> Source {
        let files = images
            .embedded()
            .iter()
            .map(|picture| {
                let id = file_id(&format!("/images/{}.png", picture.index));
                (id, Bytes::new(Png(Arc::clone(picture))))
            })
            .collect();
        Source { markup, files }
    }

    /// The generated Typst markup.
    #[cfg(test)]
    pub(crate) fn markup(&self) -> &str {
        &self.markup
    }

    /// Lays the document out into pages.
    pub(crate) fn compile(&self) -> Result<PagedDocument> {
        let world = Closed {
            main: TypstSource::new(file_id("/main.typ"), self.markup.clone()),
            files: &self.files,
            fonts: fonts_for(&self.markup),
        };
        let document = typst::compile::<PagedDocument>(&world).output;
        // typst memoises across compilations; a one-shot converter keeps none of it, so a
        // long-running embedder's memory does not grow with every document.
        typst::comemo::evict(0);
        document.map_err(|diagnostics| Error::Typeset {
            message: describe(&diagnostics),
        })
    }

    pub(crate) fn to_pdf(&self) -> Result<Vec<u8>> {
        let document = self.compile()?;
        let options = PdfOptions {
            creator: Smart::Custom(Some("docgen".into())),
            ..PdfOptions::default()
        };
        typst_pdf::pdf(&document, &options).map_err(|diagnostics| Error::Typeset {
            message: describe(&diagnostics),
        })
    }
}

fn describe(diagnostics: &[SourceDiagnostic]) -> String {
    diagnostics
        .iter()
        .map(|diagnostic| diagnostic.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

impl World for Closed<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        self.fonts.book()
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<TypstSource> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.text().to_owned()));
        }
        self.files.get(&id).cloned().ok_or(FileError::AccessDenied)
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.font(index)
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        // The PDF carries no "today": the same Markdown gives the same bytes.
        None
    }
}

/// The text of a laid-out document, page by page, in layout order.
#[cfg(test)]
pub(crate) fn page_texts(document: &PagedDocument) -> Vec<String> {
    use typst::layout::{Frame, FrameItem};

    fn collect(frame: &Frame, out: &mut String) {
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(group) => collect(&group.frame, out),
                FrameItem::Text(text) => out.push_str(&text.text),
                _ => {}
            }
        }
    }
    document
        .pages()
        .iter()
        .map(|page| {
            let mut text = String::new();
            collect(&page.frame, &mut text);
            text
        })
        .collect()
}

#[cfg(test)]
mod tests {
    //! Typesetting real markup: the escaping property, and what the PDF carries.

    use proptest::prelude::*;

    use crate::Options;

    #[test]
    fn only_characters_the_bundled_fonts_lack_bring_in_the_system_fonts() {
        use super::{BUNDLED, WITH_SYSTEM, fonts_for};
        let bundled = &*BUNDLED;
        assert!(std::ptr::eq(fonts_for("Plain, déjà vu, Ωμέγα, ∑"), bundled));
        assert!(std::ptr::eq(fonts_for("a\u{FE0F}b"), bundled));
        let flag = fonts_for("flag 🏳\u{FE0F}\u{200D}🌈");
        assert!(std::ptr::eq(flag, &*WITH_SYSTEM));
    }

    fn typeset(markdown: &str) -> Vec<String> {
        let document = crate::convert(markdown, &Options::default()).unwrap();
        let laid_out = document
            .typst
            .compile()
            .unwrap_or_else(|error| panic!("{error}\n{}", document.typst.markup()));
        super::page_texts(&laid_out)
    }

    /// Every character with a meaning in Typst markup or code, and some plain ones.
    const HOSTILE: &str = "\\*_`$#[]<>@=-+/~\"':;.,(){}|^&%!?\u{a0}abcXYZ019 éß→☒";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]

        #[test]
        fn any_text_comes_out_as_exactly_that_text(
            characters in proptest::collection::vec(
                proptest::sample::select(HOSTILE.chars().collect::<Vec<_>>()), 1..24)
        ) {
            let text: String = characters.into_iter().collect();
            let expected = text.trim_matches(' ');
            // Straight through the escaper: one string literal in otherwise empty markup.
            let source = super::Source::new(
                format!("#{}", super::super::typst_markup::string(&text)),
                &crate::images::Images::default(),
            );
            let laid_out = source.compile().unwrap();
            let pages = super::page_texts(&laid_out);
            prop_assert_eq!(pages[0].trim_matches(' '), expected, "text {:?}", text);
            // And end to end: inline code carries any text verbatim through Markdown.
            let fence = "`".repeat(text.matches('`').count() + 1);
            let markdown = format!("{fence} {text} {fence}\n");
            let pages = typeset(&markdown);
            let body = pages[0].split("Page").next().unwrap_or_default();
            prop_assert_eq!(body.trim_matches(' '), expected, "markdown {:?}", markdown);
        }
    }

    #[test]
    fn markdown_text_with_markup_characters_survives() {
        // `\<g>` because a bare `<g>` is inline HTML to Markdown, which docgen drops.
        let pages = typeset("# #set page(width: 1pt)\n\nA [b] c *d* $e$ @f \\<g> \\\\ h // i\n");
        assert!(pages[0].starts_with("#set page(width: 1pt)"), "{pages:?}");
        assert!(
            pages[0].contains("A [b] c d $e$ @f <g> \\ h // i"),
            "{pages:?}"
        );
    }

    #[test]
    fn the_footer_counts_pages() {
        let long: String = (0..120)
            .map(|index| format!("Paragraph {index}.\n\n"))
            .collect();
        let pages = typeset(&long);
        assert!(pages.len() >= 2, "{}", pages.len());
        let last = pages.len();
        assert!(
            pages[0].ends_with(&format!("Page 1 of {last}")),
            "{}",
            pages[0]
        );
        assert!(pages[last - 1].ends_with(&format!("Page {last} of {last}")));
    }

    #[test]
    fn the_pdf_names_its_title_and_embeds_fonts() {
        let markdown = "---\ntitle: Week 48\nauthor: Ada\n---\n# Results\n\ntext\n";
        let pdf = crate::convert(markdown, &Options::default())
            .unwrap()
            .to_pdf()
            .unwrap();
        let raw = String::from_utf8_lossy(&pdf);
        assert!(raw.starts_with("%PDF-"));
        assert!(raw.contains("FontFile"), "fonts are embedded");
        assert!(raw.contains("/Outlines"), "headings become bookmarks");
    }
}
