//! Hostile input through the real binary, to both formats: absurd nesting, absurd tables,
//! bytes that are not text, images that must not be read. Each must end in bounded time
//! with a written document or a clear error, never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Far more than any of these takes; a hang or a runaway layout would blow it.
const TIME_LIMIT: Duration = Duration::from_secs(60);

fn docgen(args: &[&str]) -> Output {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_docgen"))
        .args(args)
        .output()
        .expect("the docgen binary runs");
    assert!(
        started.elapsed() < TIME_LIMIT,
        "took {:?}",
        started.elapsed()
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    output
}

/// Writes `markdown` as `doc.md` and converts it to both formats, which must succeed.
fn convert_both(dir: &Path, markdown: &[u8]) -> (PathBuf, PathBuf, Output) {
    let input = dir.join("doc.md");
    std::fs::write(&input, markdown).unwrap();
    let output = docgen(&[input.to_str().unwrap(), "--to", "docx,pdf", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let docx = dir.join("doc.docx");
    let pdf = dir.join("doc.pdf");
    assert!(std::fs::read(&docx).unwrap().starts_with(b"PK"));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    (docx, pdf, output)
}

fn pdf_text(pdf: &Path) -> String {
    let output = Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn ten_thousand_nested_quotes_keep_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let markdown = format!("{}the bottom of the well\n", "> ".repeat(10_000));
    let (_docx, pdf, _) = convert_both(dir.path(), markdown.as_bytes());
    assert!(pdf_text(&pdf).contains("the bottom of the well"));
}

#[test]
fn ten_thousand_nested_lists_keep_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let markdown = format!("{}deepest item\n", "- ".repeat(10_000));
    let (_docx, pdf, _) = convert_both(dir.path(), markdown.as_bytes());
    assert!(pdf_text(&pdf).contains("deepest item"));
}

#[test]
fn quotes_and_lists_nested_in_turn_keep_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let markdown = format!("{}mixed bottom\n", "> 1. ".repeat(5_000));
    let (_docx, pdf, _) = convert_both(dir.path(), markdown.as_bytes());
    assert!(pdf_text(&pdf).contains("mixed bottom"));
}

#[test]
fn ten_thousand_nested_emphases_keep_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let markdown = format!("{}core{}\n", "*a ".repeat(10_000), " b*".repeat(10_000));
    let (_docx, pdf, _) = convert_both(dir.path(), markdown.as_bytes());
    assert!(pdf_text(&pdf).contains("core"));
}

#[test]
fn a_table_of_ten_thousand_columns_becomes_rows_of_text() {
    let dir = tempfile::tempdir().unwrap();
    let header: String = (0..10_000).map(|index| format!("| c{index} ")).collect();
    let rule = "|---".repeat(10_000);
    let row: String = (0..10_000).map(|index| format!("| v{index} ")).collect();
    let markdown = format!("{header}|\n{rule}|\n{row}|\n");
    let (docx, pdf, _) = convert_both(dir.path(), markdown.as_bytes());
    let text = pdf_text(&pdf);
    assert!(
        text.contains("c0 | c1 | c2"),
        "{}",
        &text[..200.min(text.len())]
    );
    assert!(text.contains("v9999"));
    let bytes = std::fs::read(docx).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    assert!(
        !xml.contains("<w:tbl>"),
        "Word cannot open a 10,000-column table"
    );
    assert!(xml.contains("v9999"));
}

#[test]
fn a_50_mb_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.md");
    let line = "A line of an enormous document, repeated until it is fifty megabytes.\n";
    std::fs::write(&input, line.repeat(50 * 1024 * 1024 / line.len())).unwrap();
    let started = Instant::now();
    let output = docgen(&[input.to_str().unwrap(), "--to", "docx,pdf"]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is larger than 2 MiB"), "{stderr}");
    assert!(!dir.path().join("doc.docx").exists());
}

#[test]
fn invalid_utf8_is_a_clear_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.md");
    std::fs::write(&input, b"# Title\n\ncaf\xe9 \xff\xfe\n").unwrap();
    let output = docgen(&[input.to_str().unwrap(), "--to", "docx,pdf"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is not UTF-8 text (invalid byte at offset 12)"),
        "{stderr}"
    );
    assert!(!dir.path().join("doc.docx").exists());
    assert!(!dir.path().join("doc.pdf").exists());
}

#[test]
fn images_outside_the_folder_and_urls_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("doc");
    std::fs::create_dir(&folder).unwrap();
    image::RgbImage::from_pixel(8, 8, image::Rgb([255, 0, 0]))
        .save(dir.path().join("secret.png"))
        .unwrap();
    let absolute = dir.path().join("secret.png");
    let markdown = format!(
        "![relative secret](../secret.png)\n\n![absolute secret]({})\n\n![remote](https://example.com/x.png)\n",
        absolute.display()
    );
    let (docx, pdf, output) = convert_both(&folder, markdown.as_bytes());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("`../secret.png` is outside the Markdown file's folder")
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: the image `../secret.png`"),
        "{stderr}"
    );
    let text = pdf_text(&pdf);
    assert!(text.contains("[image: relative secret]"), "{text}");
    assert!(text.contains("[image: absolute secret]"), "{text}");
    assert!(text.contains("remote"), "{text}");
    let archive = zip::ZipArchive::new(std::fs::File::open(docx).unwrap()).unwrap();
    assert!(
        !archive
            .file_names()
            .any(|name| name.starts_with("word/media/")),
        "no image embedded"
    );
    let listing = Command::new("pdfimages")
        .args(["-list", pdf.to_str().unwrap()])
        .output()
        .expect("pdfimages runs (apt-get install poppler-utils)");
    let listing = String::from_utf8(listing.stdout).unwrap();
    assert_eq!(listing.lines().count(), 2, "only the header: {listing}");
}
