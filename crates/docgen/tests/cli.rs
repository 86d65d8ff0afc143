//! End-to-end tests: run the real `docgen` binary on Markdown files and read the .docx it
//! writes back with the `zip` crate, asserting on the package's XML parts.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{docgen, fixture_dir};

/// A4 width minus two one-inch margins, in EMU: the widest an image may be.
const TEXT_WIDTH_EMU: u64 = (11906 - 2 * 1440) * 635;

fn part(docx: &Path, name: &str) -> String {
    let file = std::fs::File::open(docx).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let mut entry = archive
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} is in the package"));
    let mut text = String::new();
    entry.read_to_string(&mut text).unwrap();
    text
}

fn part_names(docx: &Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::fs::File::open(docx).unwrap()).unwrap();
    archive.file_names().map(str::to_owned).collect()
}

/// Converts the fixture with the default output path and returns it.
fn converted() -> (tempfile::TempDir, PathBuf) {
    let dir = fixture_dir();
    let input = dir.path().join("summary.md");
    let output = docgen(&[input.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let docx = dir.path().join("summary.docx");
    assert!(docx.is_file(), "the default output sits beside the input");
    (dir, docx)
}

/// The value of attribute `name` in every element that starts with `element`.
fn attribute_values(xml: &str, element: &str, name: &str) -> Vec<String> {
    xml.match_indices(element)
        .filter_map(|(position, _)| {
            let rest = &xml[position..];
            let end = rest.find('>')?;
            let tag = &rest[..end];
            let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
            let value_end = tag[start..].find('"')? + start;
            Some(tag[start..value_end].to_owned())
        })
        .collect()
}

#[test]
fn every_paragraph_style_is_used_and_defined() {
    let (_dir, docx) = converted();
    let document = part(&docx, "word/document.xml");
    let styles = part(&docx, "word/styles.xml");
    let used = attribute_values(&document, "<w:pStyle ", "w:val");
    for style in [
        "Title",
        "Subtitle",
        "Author",
        "Date",
        "Heading1",
        "Heading2",
        "Heading3",
        "Heading4",
        "Heading5",
        "Heading6",
        "FirstParagraph",
        "BodyText",
        "Compact",
        "SourceCode",
        "BlockText",
        "AlertWarning",
        "HorizontalRule",
    ] {
        assert!(
            used.iter().any(|id| id == style),
            "no paragraph styled {style}: {used:?}"
        );
        assert!(
            styles.contains(&format!("w:styleId=\"{style}\"")),
            "styles.xml lacks {style}"
        );
    }
    for style in [
        "Hyperlink",
        "VerbatimChar",
        "Table",
        "FootnoteText",
        "FootnoteReference",
    ] {
        assert!(
            styles.contains(&format!("w:styleId=\"{style}\"")),
            "styles.xml lacks {style}"
        );
    }
    // The first paragraph after the title block and after a heading is FirstParagraph;
    // the next one is BodyText.
    let first = used.iter().position(|id| id == "Heading1").unwrap();
    assert_eq!(used[first + 1], "FirstParagraph");
    assert_eq!(used[first + 2], "BodyText");
}

#[test]
fn inline_formatting_reaches_the_runs() {
    let (_dir, docx) = converted();
    let document = part(&docx, "word/document.xml");
    for element in [
        "<w:b />",
        "<w:i />",
        "<w:strike />",
        "<w:br w:type=\"textWrapping\" />",
    ] {
        assert!(document.contains(element), "no {element} in document.xml");
    }
    let run_styles = attribute_values(&document, "<w:rStyle ", "w:val");
    for style in ["VerbatimChar", "Hyperlink", "FootnoteReference"] {
        assert!(
            run_styles.iter().any(|id| id == style),
            "no run styled {style}"
        );
    }
    assert!(document.contains("☐ "), "open task box");
    assert!(document.contains("☒ "), "ticked task box");
    // The code keeps every character, split into coloured tokens.
    let code_start = document.find(r#"<w:pStyle w:val="SourceCode" />"#).unwrap();
    let code = &document[code_start..code_start + document[code_start..].find("</w:p>").unwrap()];
    let text: String = code
        .split("<w:t xml:space=\"preserve\">")
        .skip(1)
        .map(|rest| &rest[..rest.find("</w:t>").unwrap()])
        .collect();
    assert_eq!(text, "fn main() {    println!(&quot;hello&quot;);}");
    assert!(code.matches("<w:color ").count() >= 3, "{code}");
}

#[test]
fn links_are_external_hyperlink_relationships() {
    let (_dir, docx) = converted();
    let document = part(&docx, "word/document.xml");
    let rels = part(&docx, "word/_rels/document.xml.rels");
    for url in ["https://example.com/docs", "https://example.org/auto"] {
        let ids: Vec<String> = attribute_values(&rels, "<Relationship ", "Target")
            .into_iter()
            .zip(attribute_values(&rels, "<Relationship ", "Id"))
            .filter(|(target, _)| target == url)
            .map(|(_, id)| id)
            .collect();
        assert_eq!(ids.len(), 1, "one relationship to {url} in {rels}");
        assert!(
            document.contains(&format!("<w:hyperlink r:id=\"{}\"", ids[0])),
            "a hyperlink uses {}",
            ids[0]
        );
    }
    assert!(rels.contains("TargetMode=\"External\""));
}

#[test]
fn each_list_is_its_own_numbering_instance_with_its_start() {
    let (_dir, docx) = converted();
    let document = part(&docx, "word/document.xml");
    let numbering = part(&docx, "word/numbering.xml");
    // In document order: bullets (3 levels), ordered 1-2, nested ordered, ordered from 3, tasks.
    let ids = attribute_values(&document, "<w:numId ", "w:val");
    let levels = attribute_values(&document, "<w:ilvl ", "w:val");
    assert_eq!(
        levels,
        ["0", "1", "2", "0", "0", "0", "1", "0", "0", "0", "0"]
    );
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 7, "seven lists, seven instances: {ids:?}");
    assert_eq!(
        ids[0], ids[3],
        "the outer bullet list resumes after its nested lists"
    );
    // The list that starts at 3 restarts there; the first ordered list at 1.
    let first_ordered = &ids[4];
    let second_ordered = &ids[7];
    assert_eq!(ids[4], ids[5], "items of one list share its instance");
    assert_ne!(first_ordered, second_ordered);
    let start_of = |id: &str| -> String {
        let at = numbering
            .find(&format!("<w:num w:numId=\"{id}\""))
            .unwrap_or_else(|| panic!("num {id} in {numbering}"));
        let rest = &numbering[at..];
        let rest = &rest[..rest.find("</w:num>").unwrap()];
        attribute_values(rest, "<w:startOverride ", "w:val")
            .pop()
            .unwrap_or_else(|| panic!("a startOverride in {rest}"))
    };
    assert_eq!(start_of(first_ordered), "1");
    assert_eq!(start_of(second_ordered), "3");
    // Every paragraph's marker, resolved through its instance and abstract numbering.
    let instances = attribute_values(&numbering, "<w:num ", "w:numId");
    let mut unique = instances.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        instances.len(),
        "instance ids are unique: {instances:?}"
    );
    let abstracts = attribute_values(&numbering, "<w:abstractNum ", "w:abstractNumId");
    let mut unique = abstracts.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        abstracts.len(),
        "abstract ids are unique: {abstracts:?}"
    );
    let format_of = |id: &str, level: &str| -> String {
        let at = numbering.find(&format!("<w:num w:numId=\"{id}\"")).unwrap();
        let abstract_id = attribute_values(&numbering[at..], "<w:abstractNumId ", "w:val")
            .into_iter()
            .next()
            .unwrap();
        let at = numbering
            .find(&format!("<w:abstractNum w:abstractNumId=\"{abstract_id}\""))
            .unwrap();
        let definition = &numbering[at..];
        let definition = &definition[..definition.find("</w:abstractNum>").unwrap()];
        let at = definition
            .find(&format!("<w:lvl w:ilvl=\"{level}\""))
            .unwrap();
        attribute_values(&definition[at..], "<w:numFmt ", "w:val")
            .into_iter()
            .next()
            .unwrap()
    };
    let formats: Vec<String> = ids
        .iter()
        .zip(&levels)
        .map(|(id, level)| format_of(id, level))
        .collect();
    assert_eq!(
        formats,
        [
            "bullet",
            "bullet",
            "bullet",
            "bullet",
            "decimal",
            "decimal",
            "lowerLetter",
            "decimal",
            "decimal",
            "bullet",
            "bullet"
        ]
    );
}

#[test]
fn the_table_header_row_repeats_and_cells_are_aligned() {
    let (_dir, docx) = converted();
    let document = part(&docx, "word/document.xml");
    assert_eq!(
        document.matches("<w:tblHeader />").count(),
        1,
        "exactly the header row"
    );
    let table = &document[document.find("<w:tbl>").unwrap()..document.find("</w:tbl>").unwrap()];
    let header = &table[table.find("<w:tr>").unwrap()..table.find("</w:tr>").unwrap()];
    assert!(header.contains("<w:tblHeader />"));
    assert!(header.contains("w:fill=\"F2F2F2\""), "shaded header");
    assert!(header.contains("<w:b />"), "bold header");
    let alignments = attribute_values(header, "<w:jc ", "w:val");
    assert_eq!(alignments, ["left", "center", "right"]);
    assert!(table.contains("w:val=\"Table\""), "table style");
}

#[test]
fn images_are_embedded_scaled_and_described() {
    let (_dir, docx) = converted();
    let document = part(&docx, "word/document.xml");
    let rels = part(&docx, "word/_rels/document.xml.rels");
    let media: Vec<String> = part_names(&docx)
        .into_iter()
        .filter(|name| name.starts_with("word/media/") && name.ends_with(".png"))
        .collect();
    assert_eq!(media.len(), 2, "{media:?}");
    for name in &media {
        let target = name.trim_start_matches("word/");
        assert!(rels.contains(target), "{target} has a relationship");
    }
    let widths = attribute_values(&document, "<wp:extent ", "cx");
    let heights = attribute_values(&document, "<wp:extent ", "cy");
    let width: u64 = widths[0].parse().unwrap();
    let height: u64 = heights[0].parse().unwrap();
    assert_eq!(width, TEXT_WIDTH_EMU, "the wide image fills the text width");
    assert_eq!(height, TEXT_WIDTH_EMU / 4, "and keeps its 4:1 aspect");
    assert_eq!(
        widths[1],
        (120 * 9525).to_string(),
        "the small image keeps its size"
    );
    assert_eq!(heights[1], (90 * 9525).to_string());
    let descriptions = attribute_values(&document, "<wp:docPr ", "descr");
    assert_eq!(descriptions, ["A wide chart", "A small photo"]);
    let ids = attribute_values(&document, "<wp:docPr ", "id");
    assert_eq!(ids, ["1", "2"]);
}

#[test]
fn footnotes_hold_their_text_and_number() {
    let (_dir, docx) = converted();
    let document = part(&docx, "word/document.xml");
    let footnotes = part(&docx, "word/footnotes.xml");
    let references = attribute_values(&document, "<w:footnoteReference ", "w:id");
    assert_eq!(references.len(), 1);
    assert!(footnotes.contains(&format!("w:id=\"{}\"", references[0])));
    assert!(
        footnotes.contains("The footnote&apos;s text.")
            || footnotes.contains("The footnote's text.")
    );
    assert!(footnotes.contains("<w:footnoteRef />"));
    assert!(footnotes.contains("w:val=\"FootnoteText\""));
}

#[test]
fn front_matter_fills_the_title_block_and_core_properties() {
    let (_dir, docx) = converted();
    let core = part(&docx, "docProps/core.xml");
    assert!(
        core.contains("<dc:title>Session summary</dc:title>"),
        "{core}"
    );
    assert!(
        core.contains("<dc:creator>Ada Lovelace; Grace Hopper</dc:creator>"),
        "{core}"
    );
    let document = part(&docx, "word/document.xml");
    assert!(document.contains("Week 48"));
    assert!(document.contains("2026-11-26"));
    assert!(
        !document.contains("subtitle:"),
        "the YAML itself is not printed"
    );
}

#[test]
fn xml_parts_worth_compressing_are_compressed() {
    let (_dir, docx) = converted();
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&docx).unwrap()).unwrap();
    let mut deflated = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index(index).unwrap();
        if entry.compression() == zip::CompressionMethod::Deflated {
            deflated.push(entry.name().to_owned());
        } else if entry.name().ends_with(".xml") {
            assert!(entry.size() < 4096, "{} is stored", entry.name());
        }
    }
    for part in ["word/document.xml", "word/styles.xml"] {
        assert!(
            deflated.iter().any(|name| name == part),
            "{part}: {deflated:?}"
        );
    }
}

#[test]
fn json_reports_input_output_and_size() {
    let dir = fixture_dir();
    let input = dir.path().join("summary.md");
    let out = dir.path().join("custom.docx");
    let output = docgen(&[
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["input"], input.to_str().unwrap());
    assert_eq!(json["outputs"].as_array().unwrap().len(), 1);
    assert_eq!(json["outputs"][0]["path"], out.to_str().unwrap());
    assert_eq!(json["outputs"][0]["format"], "docx");
    assert_eq!(
        json["outputs"][0]["bytes"],
        std::fs::metadata(&out).unwrap().len()
    );
    assert_eq!(json["warnings"], serde_json::json!([]));
}

fn assert_fails_with(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    assert!(stderr.contains("hint: "), "{stderr}");
}

#[test]
fn a_missing_image_is_an_error_naming_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.md");
    std::fs::write(&input, "![gone](img/missing.png)\n").unwrap();
    let output = docgen(&[input.to_str().unwrap()]);
    assert_fails_with(&output, "missing.png");
    assert!(String::from_utf8_lossy(&output.stderr).contains("caused by: "));
    assert!(
        !dir.path().join("doc.docx").exists(),
        "nothing is written on failure"
    );
}

#[test]
fn bad_front_matter_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.md");
    std::fs::write(&input, "---\ntitle: [unclosed\n---\n# Hi\n").unwrap();
    assert_fails_with(&docgen(&[input.to_str().unwrap()]), "front matter");
}

#[test]
fn unreadable_input_and_unwritable_output_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.md");
    assert_fails_with(&docgen(&[missing.to_str().unwrap()]), "nope.md");
    let input = dir.path().join("doc.md");
    std::fs::write(&input, "# Hi\n").unwrap();
    let unwritable = dir.path().join("no/such/folder/out.docx");
    assert_fails_with(
        &docgen(&[input.to_str().unwrap(), "-o", unwritable.to_str().unwrap()]),
        "out.docx",
    );
    std::fs::write(&input, b"# caf\xe9\n").unwrap();
    assert_fails_with(&docgen(&[input.to_str().unwrap()]), "UTF-8");
}

#[test]
fn the_input_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.md");
    std::fs::write(&input, "# Hi\n").unwrap();
    assert_fails_with(
        &docgen(&[input.to_str().unwrap(), "-o", input.to_str().unwrap()]),
        "cannot tell the output format",
    );
    // A Markdown file that happens to be named like an output.
    let named_like_output = dir.path().join("notes.pdf");
    std::fs::write(&named_like_output, "# Hi\n").unwrap();
    assert_fails_with(
        &docgen(&[named_like_output.to_str().unwrap(), "--to", "docx,pdf"]),
        "refusing to overwrite",
    );
    assert_eq!(std::fs::read_to_string(&input).unwrap(), "# Hi\n");
    assert_eq!(
        std::fs::read_to_string(&named_like_output).unwrap(),
        "# Hi\n"
    );
    assert!(
        !dir.path().join("notes.docx").exists(),
        "nothing is written when one output is refused"
    );
}

#[cfg(feature = "pdf")]
#[test]
fn to_writes_both_formats_beside_the_input_or_the_output_stem() {
    let dir = fixture_dir();
    let input = dir.path().join("summary.md");
    let output = docgen(&[input.to_str().unwrap(), "--to", "docx,pdf", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let paths: Vec<&str> = json["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|written| written["path"].as_str().unwrap())
        .collect();
    let docx = dir.path().join("summary.docx");
    let pdf = dir.path().join("summary.pdf");
    assert_eq!(paths, [docx.to_str().unwrap(), pdf.to_str().unwrap()]);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    assert_eq!(json["outputs"][1]["format"], "pdf");
    assert_eq!(
        json["outputs"][1]["bytes"],
        std::fs::metadata(&pdf).unwrap().len()
    );

    let stem = dir.path().join("out/report");
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let output = docgen(&[
        input.to_str().unwrap(),
        "--to",
        "pdf,docx",
        "-o",
        stem.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("out/report.pdf").is_file());
    assert!(dir.path().join("out/report.docx").is_file());
}

#[cfg(feature = "pdf")]
#[test]
fn an_output_path_ending_in_pdf_writes_only_a_pdf() {
    let dir = fixture_dir();
    let input = dir.path().join("summary.md");
    let pdf = dir.path().join("x.pdf");
    let output = docgen(&[input.to_str().unwrap(), "-o", pdf.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    assert!(!dir.path().join("summary.docx").exists());
    assert!(!dir.path().join("x.docx").exists());
}

#[cfg(feature = "pdf")]
#[test]
fn stdin_is_read_with_dash_and_needs_an_output() {
    use std::io::Write;

    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_docgen"))
            .args(args)
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // docgen does not read stdin when the arguments are wrong, so the pipe may close.
        let _ = child
            .stdin
            .take()
            .unwrap()
            .write_all(b"# From stdin\n\nHello.\n");
        child.wait_with_output().unwrap()
    };
    let output = run(&["-", "-o", "piped.docx", "--title", "Overridden"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let core = part(&dir.path().join("piped.docx"), "docProps/core.xml");
    assert!(core.contains("<dc:title>Overridden</dc:title>"), "{core}");
    let output = run(&["-", "--to", "pdf,docx", "-o", "both"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("both.pdf").is_file() && dir.path().join("both.docx").is_file());
    let output = run(&["-", "--to", "pdf"]);
    assert_fails_with(&output, "standard input needs an output path");
}

#[cfg(not(feature = "pdf"))]
#[test]
fn without_the_pdf_feature_pdf_is_a_clear_error() {
    let dir = fixture_dir();
    let input = dir.path().join("summary.md");
    let output = docgen(&[input.to_str().unwrap(), "--to", "docx,pdf"]);
    assert_fails_with(&output, "built without PDF output");
    assert!(!dir.path().join("summary.docx").exists());
}

#[test]
fn bad_flags_are_exit_2_with_the_choices() {
    let dir = fixture_dir();
    let input = dir.path().join("summary.md");
    let output = docgen(&[input.to_str().unwrap(), "--to", "odt"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown output format `odt`"));
    let output = docgen(&[input.to_str().unwrap(), "--page-size", "a5"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown page size `a5`"));
}

#[test]
fn a_reference_doc_that_is_missing_or_not_word_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.md");
    std::fs::write(&input, "# Hi\n").unwrap();
    let missing = dir.path().join("nope.docx");
    assert_fails_with(
        &docgen(&[
            input.to_str().unwrap(),
            "--reference-doc",
            missing.to_str().unwrap(),
        ]),
        "cannot read the reference document",
    );
    let not_word = dir.path().join("notes.docx");
    std::fs::write(&not_word, "plain text, not a zip").unwrap();
    assert_fails_with(
        &docgen(&[
            input.to_str().unwrap(),
            "--reference-doc",
            not_word.to_str().unwrap(),
        ]),
        "is not a usable reference document",
    );
    assert!(!dir.path().join("doc.docx").exists());
}

#[test]
fn a_reference_doc_made_by_docgen_keeps_every_style_defined_once() {
    let (dir, reference) = converted();
    let input = dir.path().join("again.md");
    std::fs::write(&input, "# Again\n\n> [!TIP]\n> tip\n").unwrap();
    let output = docgen(&[
        input.to_str().unwrap(),
        "--reference-doc",
        reference.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{output:?}");
    let styles = part(&dir.path().join("again.docx"), "word/styles.xml");
    for id in ["Heading1", "AlertTip", "SourceCode"] {
        assert_eq!(
            styles.matches(&format!("w:styleId=\"{id}\"")).count(),
            1,
            "{id}"
        );
    }
}

/// The text of `docx`'s body, or `None` while it is absent or half written.
fn body_text(docx: &Path) -> Option<String> {
    let file = std::fs::File::open(docx).ok()?;
    let mut archive = zip::ZipArchive::new(file).ok()?;
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .ok()?
        .read_to_string(&mut xml)
        .ok()?;
    Some(xml)
}

/// Polls until `done` holds; a watcher reacts in well under a second, the bound is for
/// a loaded CI machine.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Kills the watching docgen even when an assertion fails.
struct Watching(std::process::Child);

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn watch_converts_again_on_every_save_and_survives_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("notes.md");
    let docx = dir.path().join("notes.docx");
    std::fs::write(&input, "# First draft\n").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_docgen"))
        .args([input.to_str().unwrap(), "--watch", "--json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _watching = Watching(child);
    wait_for("the first conversion", || {
        body_text(&docx).is_some_and(|xml| xml.contains("First draft"))
    });
    // An editor's save: a new file renamed over the old one.
    let saved = dir.path().join(".notes.md.swp");
    std::fs::write(&saved, "# Second draft\n").unwrap();
    std::fs::rename(&saved, &input).unwrap();
    wait_for("the conversion after a rename", || {
        body_text(&docx).is_some_and(|xml| xml.contains("Second draft"))
    });
    // A save that does not convert is reported and the watch goes on.
    std::fs::write(&input, "---\ntitle: [unclosed\n---\n# Broken\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::fs::write(&input, "# Third draft\n").unwrap();
    wait_for("the conversion after a plain write", || {
        body_text(&docx).is_some_and(|xml| xml.contains("Third draft"))
    });
    assert!(!body_text(&docx).unwrap().contains("Broken"));
}

#[test]
fn watch_refuses_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.docx");
    assert_fails_with(
        &docgen(&["-", "--watch", "-o", out.to_str().unwrap()]),
        "standard input",
    );
}
