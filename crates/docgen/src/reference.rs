//! `--reference-doc`: a company's `reference.docx` restyles the output, as with pandoc. Taken
//! from it: the style sheet (with docgen's own styles added only where it lacks one), the
//! theme its fonts and colours may point at, the page size and margins, and the default
//! header and footer (with the pictures they show). Its body text is ignored.

use std::collections::{BTreeMap, HashSet};
use std::io::{Cursor, Read};
use std::path::Path;

use docx_rs::XMLDocx;
use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;

use crate::{Error, Result};

const RELATIONSHIP_TYPES: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const CONTENT_TYPES: &str = "application/vnd.openxmlformats-officedocument";

/// What docgen takes from a reference document, read once before conversion.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    styles: String,
    /// The raw `<w:pgSz …/>` and `<w:pgMar …/>` elements of its last section.
    page_size: Option<String>,
    margins: Option<String>,
    /// The width between the margins in twentieths of a point, when the page says.
    text_width: Option<u32>,
    parts: Vec<Part>,
}

/// A part copied over: the theme, a header or a footer, with the media it refers to.
#[derive(Debug, Clone)]
struct Part {
    kind: PartKind,
    xml: Vec<u8>,
    /// Its own relationships with targets renamed to the copied media, if it has any.
    rels: Option<Vec<u8>>,
    media: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartKind {
    Theme,
    Header,
    Footer,
}

impl PartKind {
    /// The name it gets in docgen's package; prefixed so it never meets docx-rs's own parts.
    fn file_name(self) -> &'static str {
        match self {
            PartKind::Theme => "theme/reference-theme.xml",
            PartKind::Header => "reference-header.xml",
            PartKind::Footer => "reference-footer.xml",
        }
    }

    fn relationship_id(self) -> &'static str {
        match self {
            PartKind::Theme => "rIdReferenceTheme",
            PartKind::Header => "rIdReferenceHeader",
            PartKind::Footer => "rIdReferenceFooter",
        }
    }

    fn relationship_type(self) -> &'static str {
        match self {
            PartKind::Theme => "theme",
            PartKind::Header => "header",
            PartKind::Footer => "footer",
        }
    }

    fn content_type(self) -> String {
        match self {
            PartKind::Theme => format!("{CONTENT_TYPES}.theme+xml"),
            PartKind::Header => format!("{CONTENT_TYPES}.wordprocessingml.header+xml"),
            PartKind::Footer => format!("{CONTENT_TYPES}.wordprocessingml.footer+xml"),
        }
    }
}

impl Reference {
    /// Reads `path`, which must be a Word document with a style sheet.
    pub(crate) fn read(path: &Path) -> Result<Reference> {
        let bytes = std::fs::read(path).map_err(|source| Error::ReadReference {
            path: path.to_owned(),
            source,
        })?;
        let invalid = |reason: String| Error::InvalidReference {
            path: path.to_owned(),
            reason,
        };
        let mut package = Package::open(bytes).map_err(|e| invalid(e.to_string()))?;
        let styles = package
            .text("word/styles.xml")
            .ok_or_else(|| invalid("it has no style sheet (word/styles.xml)".into()))?;
        let document = package
            .text("word/document.xml")
            .ok_or_else(|| invalid("it has no word/document.xml".into()))?;
        let section = last_section(&document).map_err(|e| invalid(e.to_string()))?;
        let targets = package
            .text("word/_rels/document.xml.rels")
            .map(|rels| relationship_targets(&rels))
            .transpose()
            .map_err(|e| invalid(e.to_string()))?
            .unwrap_or_default();
        let mut parts = Vec::new();
        let theme = targets.values().find(|target| target.starts_with("theme/"));
        let wanted = [
            (PartKind::Theme, theme.cloned()),
            (
                PartKind::Header,
                section.header.and_then(|id| targets.get(&id).cloned()),
            ),
            (
                PartKind::Footer,
                section.footer.and_then(|id| targets.get(&id).cloned()),
            ),
        ];
        for (kind, target) in wanted {
            if let Some(target) = target {
                parts.push(
                    package
                        .part(kind, &target)
                        .map_err(|e| invalid(e.to_string()))?,
                );
            }
        }
        Ok(Reference {
            styles,
            text_width: section.text_width,
            page_size: section.page_size,
            margins: section.margins,
            parts,
        })
    }

    /// The width between the reference's margins, in twentieths of a point.
    pub(crate) fn text_width(&self) -> Option<u32> {
        self.text_width
    }

    /// Restyles docgen's package; returns the parts to add to it.
    pub(crate) fn apply(&self, xml: &mut XMLDocx) -> Vec<(String, Vec<u8>)> {
        xml.styles = merge_styles(&self.styles, &String::from_utf8_lossy(&xml.styles)).into_bytes();
        let mut document = String::from_utf8_lossy(&xml.document).into_owned();
        if let Some(size) = &self.page_size {
            document = replace_element(&document, "<w:pgSz ", size);
        }
        if let Some(margins) = &self.margins {
            document = replace_element(&document, "<w:pgMar ", margins);
        }
        let mut rels = String::from_utf8_lossy(&xml.document_rels).into_owned();
        let mut content_types = String::from_utf8_lossy(&xml.content_type).into_owned();
        let mut added = Vec::new();
        // Every part is added beside docx-rs's own (which include no theme); only the
        // section's header and footer references are switched over to the added ones.
        for part in &self.parts {
            let name = part.kind.file_name();
            let id = part.kind.relationship_id();
            document = point_section_at(&document, part.kind, id);
            insert_before(
                &mut rels,
                "</Relationships>",
                &format!(
                    r#"<Relationship Id="{id}" Type="{RELATIONSHIP_TYPES}/{}" Target="{name}"/>"#,
                    part.kind.relationship_type()
                ),
            );
            insert_before(
                &mut content_types,
                "</Types>",
                &format!(
                    r#"<Override PartName="/word/{name}" ContentType="{}"/>"#,
                    part.kind.content_type()
                ),
            );
            added.push((format!("word/{name}"), part.xml.clone()));
            if let Some(part_rels) = &part.rels {
                let (folder, file) = name.rsplit_once('/').unwrap_or(("", name));
                let rels_name = if folder.is_empty() {
                    format!("word/_rels/{file}.rels")
                } else {
                    format!("word/{folder}/_rels/{file}.rels")
                };
                added.push((rels_name, part_rels.clone()));
            }
            for (media_name, bytes) in &part.media {
                declare_extension(&mut content_types, media_name);
                added.push((format!("word/{media_name}"), bytes.clone()));
            }
        }
        xml.document = document.into_bytes();
        xml.document_rels = rels.into_bytes();
        xml.content_type = content_types.into_bytes();
        added
    }
}

/// The parts of a zipped package, read on demand.
struct Package {
    archive: ZipArchive<Cursor<Vec<u8>>>,
}

impl Package {
    fn open(bytes: Vec<u8>) -> zip::result::ZipResult<Package> {
        Ok(Package {
            archive: ZipArchive::new(Cursor::new(bytes))?,
        })
    }

    fn bytes(&mut self, name: &str) -> Option<Vec<u8>> {
        let mut entry = self.archive.by_name(name).ok()?;
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).ok()?;
        Some(bytes)
    }

    fn text(&mut self, name: &str) -> Option<String> {
        self.bytes(name)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads `word/{target}` with its relationships and the media they point at, renaming
    /// the media so they cannot collide with docgen's own images.
    fn part(&mut self, kind: PartKind, target: &str) -> std::result::Result<Part, PartError> {
        let path = format!("word/{}", target.trim_start_matches('/'));
        let xml = self.bytes(&path).ok_or(PartError::Missing(path.clone()))?;
        let (folder, file) = path.rsplit_once('/').unwrap_or(("", &path));
        let mut media = Vec::new();
        let rels = match self.text(&format!("{folder}/_rels/{file}.rels")) {
            None => None,
            Some(mut rels) => {
                for target in relationship_targets(&rels)?.into_values() {
                    let Some(file_name) = target.strip_prefix("media/") else {
                        continue;
                    };
                    let source = format!("{folder}/{target}");
                    let bytes = self.bytes(&source).ok_or(PartError::Missing(source))?;
                    let renamed = format!("media/reference-{file_name}");
                    // A theme part lives one folder down; its media paths climb back up.
                    let from_part = match kind {
                        PartKind::Theme => format!("../{renamed}"),
                        PartKind::Header | PartKind::Footer => renamed.clone(),
                    };
                    rels = rels.replace(
                        &format!(r#"Target="{target}""#),
                        &format!(r#"Target="{from_part}""#),
                    );
                    media.push((renamed, bytes));
                }
                Some(rels.into_bytes())
            }
        };
        Ok(Part {
            kind,
            xml,
            rels,
            media,
        })
    }
}

#[derive(Debug, thiserror::Error)]
enum PartError {
    #[error("{0} is referred to but missing")]
    Missing(String),
    #[error("malformed XML: {0}")]
    Xml(#[from] quick_xml::Error),
}

/// What the body's last `w:sectPr` says about the page.
#[derive(Debug, Default)]
struct Section {
    page_size: Option<String>,
    margins: Option<String>,
    text_width: Option<u32>,
    header: Option<String>,
    footer: Option<String>,
}

fn last_section(document: &str) -> std::result::Result<Section, PartError> {
    let mut reader = quick_xml::Reader::from_str(document);
    let mut section = Section::default();
    let (mut width, mut left, mut right) = (None, None, None);
    loop {
        let start = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(PartError::Xml)?;
        let end = reader.buffer_position() as usize;
        let element = match &event {
            Event::Start(element) | Event::Empty(element) => element,
            Event::Eof => break,
            _ => continue,
        };
        match element.name().as_ref() {
            // A later section replaces an earlier one: the body's own comes last.
            "w:sectPr" => {
                section = Section::default();
                (width, left, right) = (None, None, None);
            }
            "w:pgSz" => {
                section.page_size = Some(document[start..end].to_owned());
                width = number(element, "w:w");
            }
            "w:pgMar" => {
                section.margins = Some(document[start..end].to_owned());
                left = number(element, "w:left");
                right = number(element, "w:right");
            }
            "w:headerReference" if attribute(element, "w:type").as_deref() == Some("default") => {
                section.header = attribute(element, "r:id");
            }
            "w:footerReference" if attribute(element, "w:type").as_deref() == Some("default") => {
                section.footer = attribute(element, "r:id");
            }
            _ => {}
        }
        if let (Some(width), Some(left), Some(right)) = (width, left, right) {
            section.text_width = width.checked_sub(left + right).filter(|&text| text > 0);
        }
    }
    Ok(section)
}

/// Relationship id → target of a `.rels` part.
fn relationship_targets(rels: &str) -> std::result::Result<BTreeMap<String, String>, PartError> {
    let mut reader = quick_xml::Reader::from_str(rels);
    let mut targets = BTreeMap::new();
    loop {
        match reader.read_event().map_err(PartError::Xml)? {
            Event::Start(element) | Event::Empty(element)
                if element.name().as_ref() == "Relationship" =>
            {
                let external = attribute(&element, "TargetMode").as_deref() == Some("External");
                if let (Some(id), Some(target), false) = (
                    attribute(&element, "Id"),
                    attribute(&element, "Target"),
                    external,
                ) {
                    targets.insert(id, target);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(targets)
}

fn attribute(element: &BytesStart, name: &str) -> Option<String> {
    let value = element.try_get_attribute(name).ok()??;
    // Word parts are XML 1.0 whether or not they say so.
    let value = value
        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .ok()?;
    Some(value.into_owned())
}

fn number(element: &BytesStart, name: &str) -> Option<u32> {
    attribute(element, name)?.parse().ok()
}

/// The reference's style sheet, plus every docgen style whose id it lacks, so a minimal
/// template still gets code, alerts and the title block styled.
fn merge_styles(reference: &str, ours: &str) -> String {
    let known: HashSet<&str> = styles_by_id(reference)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let missing: String = styles_by_id(ours)
        .into_iter()
        .filter(|(id, _)| !known.contains(id))
        .map(|(_, xml)| xml)
        .collect();
    let mut merged = reference.to_owned();
    insert_before(&mut merged, "</w:styles>", &missing);
    merged
}

/// Each `w:style` element's id and raw XML, in order.
fn styles_by_id(styles: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = styles;
    let mut offset = 0;
    while let Some(start) = rest.find("<w:style ") {
        let Some(length) = rest[start..].find("</w:style>") else {
            break;
        };
        let end = start + length + "</w:style>".len();
        let element = &styles[offset + start..offset + end];
        let head = &element[..element.find('>').unwrap_or(element.len())];
        if let Some(id) = head
            .split("w:styleId=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        {
            out.push((id, element));
        }
        offset += end;
        rest = &styles[offset..];
    }
    out
}

/// Replaces the first self-closing element that starts with `opening` by `replacement`.
fn replace_element(xml: &str, opening: &str, replacement: &str) -> String {
    let Some(start) = xml.find(opening) else {
        return xml.to_owned();
    };
    let Some(length) = xml[start..].find("/>") else {
        return xml.to_owned();
    };
    let end = start + length + "/>".len();
    [&xml[..start], replacement, &xml[end..]].concat()
}

/// Makes the body's section use relationship `id` as its default header or footer.
fn point_section_at(document: &str, kind: PartKind, id: &str) -> String {
    let tag = match kind {
        PartKind::Header => "w:headerReference",
        PartKind::Footer => "w:footerReference",
        PartKind::Theme => return document.to_owned(),
    };
    let reference = format!(r#"<{tag} w:type="default" r:id="{id}" />"#);
    let mut document = document.to_owned();
    while let Some(start) = document.find(&format!("<{tag} ")) {
        let Some(length) = document[start..].find("/>") else {
            break;
        };
        document.replace_range(start..start + length + 2, "");
    }
    // References come first in a section's properties.
    if let Some(start) = document.rfind("<w:sectPr")
        && let Some(length) = document[start..].find('>')
    {
        document.insert_str(start + length + 1, &reference);
    }
    document
}

fn insert_before(xml: &mut String, closing: &str, insertion: &str) {
    if let Some(position) = xml.rfind(closing) {
        xml.insert_str(position, insertion);
    }
}

/// Adds a `Default` content type for a media file's extension if the package lacks one.
fn declare_extension(content_types: &mut String, media_name: &str) {
    let Some((_, extension)) = media_name.rsplit_once('.') else {
        return;
    };
    let extension = extension.to_ascii_lowercase();
    if content_types.contains(&format!(r#"Extension="{extension}""#)) {
        return;
    }
    let mime = match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "emf" => "image/x-emf",
        "wmf" => "image/x-wmf",
        "svg" => "image/svg+xml",
        _ => "image/png",
    };
    insert_before(
        content_types,
        "</Types>",
        &format!(r#"<Default Extension="{extension}" ContentType="{mime}"/>"#),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_styles_win_and_missing_ones_are_added() {
        let reference = r#"<w:styles><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:rPr><w:color w:val="FF0000"/></w:rPr></w:style></w:styles>"#;
        let ours = r#"<w:styles><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1" /></w:style><w:style w:type="paragraph" w:styleId="SourceCode"><w:name w:val="Source Code" /></w:style></w:styles>"#;
        let merged = merge_styles(reference, ours);
        assert_eq!(merged.matches("w:styleId=\"Heading1\"").count(), 1);
        assert!(merged.contains("FF0000"));
        assert!(merged.contains("w:styleId=\"SourceCode\""));
        assert!(merged.ends_with("</w:styles>"));
    }

    #[test]
    fn the_last_section_gives_page_margins_and_default_header() {
        let document = r#"<w:document><w:body><w:p><w:pPr><w:sectPr><w:pgSz w:w="100" w:h="200"/></w:sectPr></w:pPr></w:p><w:sectPr><w:headerReference w:type="first" r:id="rId8"/><w:headerReference w:type="default" r:id="rId9"/><w:pgSz w:w="12240" w:h="15840" w:orient="portrait"/><w:pgMar w:top="720" w:right="1000" w:bottom="720" w:left="1240" w:header="0" w:footer="0" w:gutter="0"/></w:sectPr></w:body></w:document>"#;
        let section = last_section(document).unwrap();
        assert_eq!(section.header.as_deref(), Some("rId9"));
        assert_eq!(section.footer, None);
        assert_eq!(section.text_width, Some(12240 - 2240));
        assert_eq!(
            section.page_size.as_deref(),
            Some(r#"<w:pgSz w:w="12240" w:h="15840" w:orient="portrait"/>"#)
        );
    }

    #[test]
    fn the_section_points_at_the_new_footer_only() {
        let document = r#"<w:sectPr><w:footerReference w:type="default" r:id="rId5" /><w:pgSz w:w="1" /></w:sectPr>"#;
        let out = point_section_at(document, PartKind::Footer, "rIdReferenceFooter");
        assert_eq!(
            out,
            r#"<w:sectPr><w:footerReference w:type="default" r:id="rIdReferenceFooter" /><w:pgSz w:w="1" /></w:sectPr>"#
        );
    }
}
