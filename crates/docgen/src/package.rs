//! What docx-rs cannot say, said by editing the XML parts it produced before they are zipped:
//! table header rows that repeat across pages (`w:tblHeader`), image alt text and unique
//! drawing ids (`wp:docPr`), the footnote number inside each footnote (`w:footnoteRef`), the
//! core properties title and creator, the table of contents' right tab and nesting, and the
//! order of the hyperlink relationships. Each edit is upstream-worthy in docx-rs. Last, the
//! package is re-zipped with its XML deflated ([`deflate`]).

use std::io::{Cursor, Read, Write};

use docx_rs::XMLDocx;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::front_matter::Metadata;

/// docx-rs writes `<w:cantSplit />` only where docgen asked for it, which is on header rows.
const HEADER_ROW_MARK: &str = "<w:cantSplit />";
/// docx-rs gives every drawing this id and name.
const DRAWING_PROPERTIES: &str = r#"<wp:docPr id="1" name="Figure" />"#;

/// How docx-rs writes each package relationship, and the end of the list.
const RELATIONSHIP_START: &str = "<Relationship ";
const RELATIONSHIPS_END: &str = "</Relationships>";

/// docx-rs puts the page numbers of table of contents entries at a fixed right tab far
/// off the page (its source says "for now"); the edit moves it to the right margin.
const TOC_TAB: &str = r#"w:pos="80000""#;

/// docx-rs wraps the entries of a filled table of contents in a second `w:sdt` inside the
/// table of contents' own; LibreOffice then shows the TOC field's codes as text in the first
/// entry. The edit unwraps the inner one.
const NESTED_SDT_START: &str = "<w:sdt><w:sdtPr /><w:sdtContent>";
const SDT_END: &str = "</w:sdtContent></w:sdt>";

/// Applies every edit to the built package; `text_width` is in twentieths of a point.
pub(crate) fn finish(
    xml: &mut XMLDocx,
    metadata: &Metadata,
    alt_texts: &[String],
    text_width: u32,
) {
    let document = String::from_utf8_lossy(&xml.document).into_owned();
    let document = document
        .replace(
            HEADER_ROW_MARK,
            &format!("{HEADER_ROW_MARK}<w:tblHeader />"),
        )
        .replace(TOC_TAB, &format!(r#"w:pos="{text_width}""#));
    let document = unwrap_nested_sdt(&document);
    xml.document = describe_drawings(&document, alt_texts).into_bytes();
    xml.footnotes = number_footnotes(&String::from_utf8_lossy(&xml.footnotes)).into_bytes();
    xml.document_rels = sort_hyperlinks(&String::from_utf8_lossy(&xml.document_rels)).into_bytes();
    xml.doc_props.core = core_properties(metadata).into_bytes();
}

/// Parts smaller than this are stored: deflating them saves a few hundred bytes at most,
/// and every deflate stream sets up (and zeroes) a state of about 300 KB first, which made
/// the small parts a tenth of a short document's conversion time.
const SMALLEST_DEFLATED_PART: usize = 4096;

/// Rewrites a package with its XML parts deflated: docx-rs stores every part uncompressed,
/// which makes a 50-page document thirty times larger than pandoc's. Images are already
/// compressed and stay stored, and so do parts too small to gain.
/// `added` are parts to put in the package as well (from a reference document).
pub(crate) fn deflate(
    stored: Vec<u8>,
    added: &[(String, Vec<u8>)],
) -> zip::result::ZipResult<Vec<u8>> {
    let mut archive = ZipArchive::new(Cursor::new(stored))?;
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let options = |name: &str, bytes: &[u8]| {
        if name.ends_with(".png") || bytes.len() < SMALLEST_DEFLATED_PART {
            stored
        } else {
            deflated
        }
    };
    let mut bytes = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index)?;
        let name = entry.name().to_owned();
        if entry.is_dir() {
            writer.add_directory(name, stored)?;
            continue;
        }
        bytes.clear();
        entry.read_to_end(&mut bytes)?;
        writer.start_file(name.as_str(), options(&name, &bytes))?;
        writer.write_all(&bytes)?;
    }
    for (name, bytes) in added {
        writer.start_file(name.as_str(), options(name, bytes))?;
        writer.write_all(bytes)?;
    }
    Ok(writer.finish()?.into_inner())
}

/// Puts the hyperlink relationships in the order of their ids. docx-rs lists them in
/// hash-map order, so two conversions of the same Markdown gave different bytes; a
/// document versioned with datavc or git then changed on every conversion.
fn sort_hyperlinks(rels: &str) -> String {
    let (Some(start), Some(end)) = (rels.find(RELATIONSHIP_START), rels.rfind(RELATIONSHIPS_END))
    else {
        return rels.to_owned();
    };
    // docx-rs escapes `>` in attribute values, so `/>` only ends an element.
    let mut relationships: Vec<&str> = rels[start..end].split_inclusive("/>").collect();
    relationships.sort_by_key(|relationship| {
        relationship
            .split_once(r#"Id="rIdHyperlink"#)
            .and_then(|(_, rest)| rest.split_once('"'))
            .and_then(|(number, _)| number.parse::<u64>().ok())
    });
    [&rels[..start], &relationships.concat(), &rels[end..]].concat()
}

/// Removes the first `w:sdt` with empty properties, keeping its content.
fn unwrap_nested_sdt(document: &str) -> String {
    let Some(start) = document.find(NESTED_SDT_START) else {
        return document.to_owned();
    };
    let content = start + NESTED_SDT_START.len();
    let Some(length) = document[content..].find(SDT_END) else {
        return document.to_owned();
    };
    let end = content + length;
    [
        &document[..start],
        &document[content..end],
        &document[end + SDT_END.len()..],
    ]
    .concat()
}

/// Gives the n-th drawing the id n and the n-th alt text as its description.
fn describe_drawings(document: &str, alt_texts: &[String]) -> String {
    let mut out = String::with_capacity(document.len() + alt_texts.len() * 64);
    let mut rest = document;
    let mut index = 0;
    while let Some(position) = rest.find(DRAWING_PROPERTIES) {
        out.push_str(&rest[..position]);
        let alt = alt_texts.get(index).map(String::as_str).unwrap_or("");
        index += 1;
        out.push_str(&format!(
            r#"<wp:docPr id="{index}" name="Picture {index}" descr="{}" />"#,
            escape(alt)
        ));
        rest = &rest[position + DRAWING_PROPERTIES.len()..];
    }
    out.push_str(rest);
    out
}

/// Puts `w:footnoteRef` (the number shown at the foot of the page) at the start of each
/// footnote's first paragraph, after its paragraph properties.
fn number_footnotes(footnotes: &str) -> String {
    const REFERENCE: &str = r#"<w:r><w:rPr><w:rStyle w:val="FootnoteReference" /></w:rPr><w:footnoteRef /></w:r><w:r><w:t xml:space="preserve"> </w:t></w:r>"#;
    let mut out = String::with_capacity(footnotes.len() + 256);
    let mut rest = footnotes;
    while let Some(start) = rest.find("<w:footnote ") {
        let after_start = start + "<w:footnote ".len();
        out.push_str(&rest[..after_start]);
        rest = &rest[after_start..];
        let footnote_end = rest.find("</w:footnote>").unwrap_or(rest.len());
        if let Some(end) = rest[..footnote_end].find("</w:pPr>") {
            let end = end + "</w:pPr>".len();
            out.push_str(&rest[..end]);
            out.push_str(REFERENCE);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

fn core_properties(metadata: &Metadata) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
    );
    if let Some(title) = &metadata.title {
        xml.push_str(&format!("<dc:title>{}</dc:title>", escape(title)));
    }
    if let Some(subtitle) = &metadata.subtitle {
        xml.push_str(&format!("<dc:subject>{}</dc:subject>", escape(subtitle)));
    }
    if !metadata.authors.is_empty() {
        xml.push_str(&format!(
            "<dc:creator>{}</dc:creator>",
            escape(&metadata.authors.join("; "))
        ));
    }
    xml.push_str("<cp:lastModifiedBy>docgen</cp:lastModifiedBy></cp:coreProperties>");
    xml
}

/// Escapes text for an XML attribute or element.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newlines are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawings_get_unique_ids_and_their_alt_text() {
        let document = format!("<a>{DRAWING_PROPERTIES}</a><b>{DRAWING_PROPERTIES}</b>");
        let out = describe_drawings(&document, &["first \"one\"".into(), "second".into()]);
        assert!(
            out.contains(r#"id="1" name="Picture 1" descr="first &quot;one&quot;""#),
            "{out}"
        );
        assert!(
            out.contains(r#"id="2" name="Picture 2" descr="second""#),
            "{out}"
        );
    }

    #[test]
    fn the_nested_table_of_contents_sdt_is_unwrapped() {
        let document = format!(
            "<w:sdt><w:sdtPr><w:alias w:val=\"T\" /></w:sdtPr><w:sdtContent><w:p>h</w:p>{NESTED_SDT_START}<w:p>a</w:p><w:p>b</w:p>{SDT_END}{SDT_END}<w:p>body</w:p>"
        );
        assert_eq!(
            unwrap_nested_sdt(&document),
            "<w:sdt><w:sdtPr><w:alias w:val=\"T\" /></w:sdtPr><w:sdtContent><w:p>h</w:p><w:p>a</w:p><w:p>b</w:p></w:sdtContent></w:sdt><w:p>body</w:p>"
        );
        assert_eq!(unwrap_nested_sdt("<w:p>x</w:p>"), "<w:p>x</w:p>");
    }

    #[test]
    fn hyperlinks_are_listed_in_the_order_of_their_ids() {
        let rels = r#"<?xml version="1.0"?><Relationships><Relationship Id="rId1" Target="styles.xml" /><Relationship Id="rIdHyperlink10" Target="https://x/10" TargetMode="External" /><Relationship Id="rIdHyperlink2" Target="https://x/2?a=1&amp;b=&gt;" TargetMode="External" /><Relationship Id="rIdImage1" Target="media/a.png" /></Relationships>"#;
        let sorted = sort_hyperlinks(rels);
        let order: Vec<usize> = ["rId1", "rIdImage1", "rIdHyperlink2", "rIdHyperlink10"]
            .iter()
            .map(|id| sorted.find(&format!(r#"Id="{id}""#)).unwrap())
            .collect();
        assert!(order.is_sorted(), "{sorted}");
        assert_eq!(sorted.len(), rels.len());
        assert!(sorted.ends_with("/></Relationships>"), "{sorted}");
    }

    #[test]
    fn every_footnote_starts_with_its_number() {
        let xml = r#"<w:footnotes><w:footnote w:id="1"><w:p><w:pPr><w:pStyle w:val="FootnoteText" /></w:pPr><w:r><w:t>a</w:t></w:r></w:p></w:footnote><w:footnote w:id="2"><w:p><w:pPr /></w:p></w:footnote></w:footnotes>"#;
        let out = number_footnotes(xml);
        assert_eq!(out.matches("<w:footnoteRef />").count(), 1, "{out}");
        assert!(out.find("<w:footnoteRef />").unwrap() < out.find("<w:t>a</w:t>").unwrap());
    }

    #[test]
    fn core_properties_carry_title_and_authors_escaped() {
        let metadata = Metadata {
            title: Some("R&D".into()),
            authors: vec!["Ada".into(), "Grace".into()],
            ..Metadata::default()
        };
        let xml = core_properties(&metadata);
        assert!(xml.contains("<dc:title>R&amp;D</dc:title>"));
        assert!(xml.contains("<dc:creator>Ada; Grace</dc:creator>"));
    }
}
