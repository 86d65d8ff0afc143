//! Proofs by independent readers: the `docgen` binary's PDF read back by poppler
//! (`pdftotext`, `pdfinfo`, `pdffonts`) and its .docx opened by python-docx. These tools are
//! part of the test environment (`.ci/run` installs them): a missing tool fails the test
//! with the install command, it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{docgen, fixture_dir};

/// Runs an external tool, failing with how to install it when it is missing.
fn tool(program: &str, args: &[&str], install: &str) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run `{program}` ({error}); install it: {install}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the tool prints UTF-8")
}

fn poppler(program: &str, args: &[&str]) -> String {
    tool(program, args, "apt-get install poppler-utils")
}

/// The fixture beside its two images, converted to both formats.
fn converted(extra: &[&str]) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = fixture_dir();
    let input = dir.path().join("summary.md");
    let mut args = vec![input.to_str().unwrap(), "--to", "docx,pdf"];
    args.extend_from_slice(extra);
    let output = docgen(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let docx = dir.path().join("summary.docx");
    let pdf = dir.path().join("summary.pdf");
    (dir, docx, pdf)
}

/// Asserts that `needles` occur in `text` in this order.
fn assert_in_order(text: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        match text[from..].find(needle) {
            Some(at) => from += at + needle.len(),
            None => panic!("{needle:?} not found after byte {from} in:\n{text}"),
        }
    }
}

fn pdf_text(pdf: &Path) -> String {
    poppler("pdftotext", &[pdf.to_str().unwrap(), "-"])
}

#[test]
fn pdftotext_reads_every_construct_in_order() {
    let (_dir, _docx, pdf) = converted(&[]);
    let text = pdf_text(&pdf);
    assert_in_order(
        &text,
        &[
            "Session summary",
            "Week 48",
            "Ada Lovelace, Grace Hopper",
            "2026-11-26",
            "Heading one",
            "The first paragraph after a heading, with bold, italic, struck, inline code,",
            "external link",
            "https://example.org/auto",
            "A second paragraph with a hard break here\nand a footnote reference.",
            "Heading two",
            "Heading six",
            "bullet one",
            "nested bullet",
            "deeper bullet",
            "bullet two",
            "1.",
            "first ordered",
            "second ordered",
            "a.",
            "nested ordered",
            "Between the lists.",
            "3.",
            "starts at three",
            "☐",
            "open task",
            "☒",
            "done task",
            "left",
            "centre",
            "right",
            "fn main() {",
            "println!(\"hello\");",
            // Page 1 ends with the code block, then its footnote and footer.
            "The footnote's text.",
            "Page 1 of 2",
            "A block quote that says something wise.",
            "Warning",
            "Check the learning rate before the next run.",
            "Page 2 of 2",
        ],
    );
}

#[test]
fn pdfinfo_counts_pages_and_reads_the_metadata() {
    let (_dir, _docx, pdf) = converted(&[]);
    let info = poppler("pdfinfo", &[pdf.to_str().unwrap()]);
    let field = |name: &str| -> String {
        info.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} in {info}"))
            .trim()
            .to_owned()
    };
    assert_eq!(field("Pages"), "2");
    assert_eq!(field("Title"), "Session summary");
    assert_eq!(field("Author"), "Ada Lovelace, Grace Hopper");
    assert_eq!(field("Creator"), "docgen");
    assert!(
        field("Page size").contains("595.276 x 841.89 pts (A4)"),
        "A4"
    );
    let text = pdf_text(&pdf);
    assert!(text.contains("Page 2 of 2"), "{text}");
}

#[test]
fn letter_paper_is_letter() {
    let (_dir, _docx, pdf) = converted(&["--page-size", "letter"]);
    let info = poppler("pdfinfo", &[pdf.to_str().unwrap()]);
    assert!(info.contains("612 x 792 pts (letter)"), "{info}");
}

#[test]
fn pdffonts_shows_every_font_embedded() {
    let (_dir, _docx, pdf) = converted(&[]);
    let fonts = poppler("pdffonts", &[pdf.to_str().unwrap()]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(rows.len() >= 3, "body, bold and monospace fonts: {fonts}");
    for row in &rows {
        // Columns: name, type, encoding, emb, sub, uni, object, id.
        let columns: Vec<&str> = row.split_whitespace().collect();
        let embedded = columns[columns.len() - 5];
        assert_eq!(embedded, "yes", "not embedded: {row}");
    }
    assert!(fonts.contains("LibertinusSerif"), "{fonts}");
    assert!(fonts.contains("DejaVuSansMono"), "{fonts}");
}

/// Emoji are in none of typst's bundled fonts: the system's emoji font (Debian's
/// fonts-noto-color-emoji, which `.ci/run` installs) draws them, where they used to be blank.
#[test]
fn emoji_come_from_the_system_emoji_font() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("launch.md");
    std::fs::write(&input, "# Launch 🚀\n\nShipped 🎉 on time.\n").unwrap();
    let output = docgen(&[input.to_str().unwrap(), "--to", "pdf"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pdf = dir.path().join("launch.pdf");
    // Colour emoji are pictures: typst embeds them as a Type 3 font, with their text kept.
    let fonts = poppler("pdffonts", &[pdf.to_str().unwrap()]);
    assert!(
        fonts.contains("Type 3"),
        "no emoji drawn (apt-get install fonts-noto-color-emoji): {fonts}"
    );
    let text = poppler("pdftotext", &["-raw", pdf.to_str().unwrap(), "-"]);
    assert_in_order(&text, &["Launch 🚀", "Shipped 🎉"]);
}

#[test]
fn the_table_of_contents_and_bookmarks_name_the_headings() {
    let (_dir, _docx, pdf) = converted(&["--toc"]);
    let text = pdf_text(&pdf);
    assert_in_order(
        &text,
        &["Contents", "Heading one", "Heading two", "Heading one"],
    );
    // pdfinfo -dests lists the named destinations the outline and links point at.
    let destinations = poppler("pdfinfo", &["-dests", pdf.to_str().unwrap()]);
    assert!(destinations.contains("docgen-heading-0"), "{destinations}");
}

#[test]
fn the_bookmarks_are_the_headings_nested_by_level() {
    let (_dir, _docx, pdf) = converted(&[]);
    // pdftohtml -xml writes the PDF's outline (its bookmarks) as nested <outline> lists.
    let xml = poppler(
        "pdftohtml",
        &["-xml", "-stdout", "-i", "-q", pdf.to_str().unwrap()],
    );
    let outline = &xml[xml.find("<outline>").expect("the PDF has bookmarks")..];
    let mut depth = 0;
    let mut bookmarks = Vec::new();
    for line in outline.lines() {
        if line.starts_with("<outline>") {
            depth += 1;
        } else if line.starts_with("</outline>") {
            depth -= 1;
        } else if let Some(item) = line.strip_prefix("<item page=\"") {
            let text = &item[item.find('>').unwrap() + 1..item.find("</item>").unwrap()];
            bookmarks.push((depth, text.to_owned()));
        }
    }
    let expected: Vec<(i32, String)> = ["one", "two", "three", "four", "five", "six"]
        .iter()
        .enumerate()
        .map(|(index, name)| (index as i32 + 1, format!("Heading {name}")))
        .collect();
    assert_eq!(bookmarks, expected);
}

const PYTHON_DOCX: &str = r#"
import json, sys
import docx
from docx.oxml.ns import qn
document = docx.Document(sys.argv[1])
paragraphs = [p for p in document.paragraphs]
table = document.tables[0]
print(json.dumps({
    "styles": [p.style.name for p in paragraphs
               if p.text.strip() or p._p.xpath(".//w:drawing") or p.style.name == "Horizontal Rule"],
    # Every paragraph of the body, including those inside content controls (the TOC).
    "texts": ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in document.element.body.iter(qn("w:p"))],
    "cells": [[cell.text for cell in row.cells] for row in table.rows],
    "links": [[link.address, link.text] for p in paragraphs for link in p.hyperlinks],
    "title": document.core_properties.title,
    "author": document.core_properties.author,
    "images": len(document.inline_shapes),
}))
"#;

fn python_docx(docx: &Path) -> serde_json::Value {
    // Windows installs Python as `python`; elsewhere `python` may be Python 2 or absent.
    let python = if cfg!(windows) { "python" } else { "python3" };
    let json = tool(
        python,
        &["-c", PYTHON_DOCX, docx.to_str().unwrap()],
        "python3 -m pip install python-docx==1.2.0",
    );
    serde_json::from_str(&json).unwrap()
}

#[test]
fn python_docx_reads_styles_cells_links_and_properties() {
    let (_dir, docx, _pdf) = converted(&[]);
    let read = python_docx(&docx);
    let styles: Vec<&str> = read["styles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|style| style.as_str().unwrap())
        .collect();
    assert_eq!(
        styles,
        [
            "Title",
            "Subtitle",
            "Author",
            "Author",
            "Date",
            "Heading 1",
            "First Paragraph",
            "Body Text",
            "Heading 2",
            "Heading 3",
            "Heading 4",
            "Heading 5",
            "Heading 6",
            "Compact",
            "Compact",
            "Compact",
            "Compact",
            "Compact",
            "Compact",
            "Compact",
            "Body Text",
            "Compact",
            "Compact",
            "Compact",
            "Compact",
            "Source Code",
            "Block Text",
            "Alert Warning",
            "Alert Warning",
            "Horizontal Rule",
            "Body Text",
            "Body Text",
        ]
    );
    assert_eq!(
        read["cells"],
        serde_json::json!([
            ["left", "centre", "right"],
            ["a", "b", "c"],
            ["d", "e", "f"]
        ])
    );
    assert_eq!(
        read["links"],
        serde_json::json!([
            ["https://example.com/docs", "external link"],
            ["https://example.org/auto", "https://example.org/auto"]
        ])
    );
    assert_eq!(read["title"], "Session summary");
    assert_eq!(read["author"], "Ada Lovelace; Grace Hopper");
    assert_eq!(read["images"], 2);
}

#[test]
fn python_docx_sees_a_filled_table_of_contents() {
    let (_dir, docx, _pdf) = converted(&["--toc"]);
    let read = python_docx(&docx);
    let texts: Vec<&str> = read["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|text| text.as_str().unwrap())
        .collect();
    let contents = texts.iter().position(|text| *text == "Contents").unwrap();
    assert!(texts[contents + 1].starts_with("Heading one"), "{texts:?}");
    assert!(texts[contents + 2].starts_with("Heading two"), "{texts:?}");
    assert!(
        texts[contents + 3].starts_with("Heading three"),
        "{texts:?}"
    );
}

fn pandoc(args: &[&str]) -> String {
    tool("pandoc", args, "apt-get install pandoc")
}

/// The structure of a Markdown document, as comrak parses it: what a reader of the
/// .docx must find again, whatever Markdown spelling the round trip chose.
fn outline(markdown: &str) -> Vec<String> {
    use comrak::nodes::NodeValue;
    let arena = comrak::Arena::new();
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.footnotes = true;
    options.extension.autolink = true;
    options.extension.front_matter_delimiter = Some("---".into());
    let root = comrak::parse_document(&arena, markdown, &options);
    fn text<'a>(node: &'a comrak::nodes::AstNode<'a>) -> String {
        let mut text = String::new();
        for descendant in node.descendants() {
            match &descendant.data().value {
                NodeValue::Text(t) => text.push_str(t),
                NodeValue::Code(code) => text.push_str(&code.literal),
                NodeValue::SoftBreak | NodeValue::LineBreak => text.push(' '),
                _ => {}
            }
        }
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
    let mut out = Vec::new();
    for node in root.descendants() {
        let depth = node
            .ancestors()
            .filter(|a| matches!(a.data().value, NodeValue::List(_)))
            .count();
        match &node.data().value {
            NodeValue::Heading(heading) => out.push(format!("h{} {}", heading.level, text(node))),
            NodeValue::Item(_) | NodeValue::TaskItem(_) => {
                let first = node.first_child().map(text).unwrap_or_default();
                // GFM's `[ ]` and the ☐ docgen writes in Word are the same task.
                let first = ["[ ]", "[x]", "☐", "☒"]
                    .iter()
                    .fold(first.as_str(), |rest, mark| rest.trim_start_matches(mark))
                    .trim_start();
                out.push(format!("item{depth} {first}"));
            }
            NodeValue::TableCell => out.push(format!("cell {}", text(node))),
            NodeValue::CodeBlock(code) => out.push(format!("code {}", code.literal.trim_end())),
            NodeValue::Link(link) => out.push(format!("link {}", link.url)),
            NodeValue::FootnoteDefinition(_) => out.push(format!("footnote {}", text(node))),
            _ => {}
        }
    }
    out
}

#[test]
fn pandoc_reads_the_docx_back_as_the_source_structure() {
    let (dir, docx, _pdf) = converted(&[]);
    let markdown = pandoc(&["-f", "docx", "-t", "gfm", docx.to_str().unwrap()]);
    let source = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    let (expected, actual) = (outline(&source), outline(&markdown));
    assert!(expected.len() > 20, "{expected:#?}");
    assert_eq!(actual, expected, "pandoc read back:\n{markdown}");
}

const MAKE_REFERENCE: &str = r#"
import sys
import docx
from docx.shared import Pt, RGBColor, Twips
document = docx.Document(sys.argv[1])
heading = next(s for s in document.styles if s.style_id == "Heading1")
heading.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
heading.font.size = Pt(30)
section = document.sections[-1]
section.page_width, section.page_height = Twips(15840), Twips(12240)
section.left_margin = section.right_margin = Twips(720)
section.header.is_linked_to_previous = False
section.header.paragraphs[0].text = "ACME Confidential"
document.save(sys.argv[2])
"#;

const READ_RESTYLED: &str = r#"
import json, sys
import docx
document = docx.Document(sys.argv[1])
heading = next(s for s in document.styles if s.style_id == "Heading1")
section = document.sections[-1]
print(json.dumps({
    "heading_color": str(heading.font.color.rgb),
    "heading_size": heading.font.size.pt,
    "page": [section.page_width.emu // 635, section.page_height.emu // 635],
    "margins": [section.left_margin.emu // 635, section.right_margin.emu // 635],
    "header": [p.text for p in section.header.paragraphs],
    "footer": ["".join(t.text or "" for t in p._p.iter(docx.oxml.ns.qn("w:t"))) for p in section.footer.paragraphs],
    "image_width": document.inline_shapes[0].width.emu // 635,
    "styles": sorted({p.style.name for p in document.paragraphs}),
}))
"#;

#[test]
fn a_reference_doc_gives_styles_page_and_header_as_with_pandoc() {
    let dir = fixture_dir();
    let base = dir.path().join("pandoc-reference.docx");
    let reference = dir.path().join("acme.docx");
    // pandoc's own reference.docx, restyled the way a company template would be.
    std::fs::write(
        &base,
        std::process::Command::new("pandoc")
            .args(["--print-default-data-file", "reference.docx"])
            .output()
            .expect("pandoc runs (apt-get install pandoc)")
            .stdout,
    )
    .unwrap();
    let python = if cfg!(windows) { "python" } else { "python3" };
    let install = "python3 -m pip install python-docx==1.2.0";
    let paths = |a: &Path, b: &Path| {
        [
            a.to_str().unwrap().to_owned(),
            b.to_str().unwrap().to_owned(),
        ]
    };
    let [base_arg, reference_arg] = paths(&base, &reference);
    tool(
        python,
        &["-c", MAKE_REFERENCE, &base_arg, &reference_arg],
        install,
    );
    let input = dir.path().join("summary.md");
    let output = docgen(&[
        input.to_str().unwrap(),
        "--reference-doc",
        reference.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{output:?}");
    let docx = dir.path().join("summary.docx");
    let read: serde_json::Value = serde_json::from_str(&tool(
        python,
        &["-c", READ_RESTYLED, docx.to_str().unwrap()],
        install,
    ))
    .unwrap();
    assert_eq!(read["heading_color"], "C00000");
    assert_eq!(read["heading_size"], 30.0);
    assert_eq!(read["page"], serde_json::json!([15840, 12240]));
    assert_eq!(read["margins"], serde_json::json!([720, 720]));
    assert_eq!(read["header"], serde_json::json!(["ACME Confidential"]));
    // pandoc's reference has no footer, so docgen's page numbers stay.
    assert_eq!(read["footer"], serde_json::json!(["Page 1 of 1"]));
    // The wide image fills the reference's wider text column.
    assert_eq!(read["image_width"], 15840 - 2 * 720);
    let styles = read["styles"].to_string();
    for style in ["Heading 1", "Source Code", "Alert Warning", "Title"] {
        assert!(styles.contains(style), "{style} missing from {styles}");
    }
}
