//! The document's styles, named as pandoc names them (`Heading1`, `BodyText`, `SourceCode`, …)
//! so that a company template that restyles pandoc output restyles docgen output too. Every
//! look lives here, in a style, rather than as direct formatting on paragraphs.

use comrak::nodes::AlertType;
use docx_rs::{
    AlignmentType, BorderType, LineSpacing, ParagraphBorder, ParagraphBorderPosition,
    ParagraphBorders, RunFonts, Shading, ShdType, SpecialIndentType, Style, StyleType,
    VertAlignType,
};

/// The monospace font of code, with fallbacks Word and LibreOffice both know.
pub(crate) const MONOSPACE: &str = "Consolas";
/// The light grey behind code blocks and table header rows.
pub(crate) const SHADE: &str = "F2F2F2";

/// Every style the converter refers to, in the order they appear in `styles.xml`.
pub(crate) fn all() -> Vec<Style> {
    let mut styles = vec![
        paragraph("BodyText", "Body Text").line_spacing(spacing(180, 180)),
        paragraph("FirstParagraph", "First Paragraph").based_on("BodyText"),
        paragraph("Compact", "Compact")
            .based_on("BodyText")
            .line_spacing(spacing(36, 36)),
        paragraph("Title", "Title")
            .based_on("BodyText")
            .next("BodyText")
            .bold()
            .size(56)
            .align(AlignmentType::Center)
            .line_spacing(spacing(480, 240)),
        paragraph("Subtitle", "Subtitle")
            .based_on("Title")
            .next("BodyText")
            .size(30)
            .line_spacing(spacing(240, 240)),
        paragraph("Author", "Author")
            .next("BodyText")
            .align(AlignmentType::Center),
        paragraph("Date", "Date")
            .next("BodyText")
            .align(AlignmentType::Center),
        paragraph("Abstract", "Abstract")
            .next("BodyText")
            .size(20)
            .indent(Some(720), None, Some(720), None)
            .line_spacing(spacing(300, 300)),
        paragraph("BlockText", "Block Text")
            .based_on("BodyText")
            .next("BodyText")
            .indent(Some(480), None, Some(480), None)
            .color("404040"),
        paragraph("SourceCode", "Source Code")
            .fonts(monospace())
            .size(19)
            .line_spacing(spacing(0, 0)),
        paragraph("TOCHeading", "TOC Heading")
            .based_on("Heading1")
            .next("BodyText"),
        paragraph("ToC1", "toc 1").line_spacing(spacing(60, 60)),
        paragraph("ToC2", "toc 2")
            .indent(Some(240), None, None, None)
            .line_spacing(spacing(0, 40)),
        paragraph("ToC3", "toc 3")
            .indent(Some(480), None, None, None)
            .line_spacing(spacing(0, 40)),
        paragraph("Footer", "footer").size(18).color("595959"),
        paragraph("FootnoteText", "Footnote Text")
            .based_on("Normal")
            .size(18),
        paragraph("HorizontalRule", "Horizontal Rule").line_spacing(spacing(120, 120)),
        character("Hyperlink", "Hyperlink")
            .color("0563C1")
            .underline("single"),
        character("VerbatimChar", "Verbatim Char")
            .fonts(monospace())
            .size(19),
        character("FootnoteReference", "Footnote Reference"),
        Style::new("Table", StyleType::Table).name("Table"),
    ];
    let heading_sizes = [32, 28, 26, 24, 22, 22];
    for (index, size) in heading_sizes.into_iter().enumerate() {
        let level = index + 1;
        let mut heading = paragraph(&format!("Heading{level}"), &format!("heading {level}"))
            .based_on("Normal")
            .next("FirstParagraph")
            .bold()
            .size(size)
            .color("1F3864")
            .outline_lvl(index)
            .line_spacing(spacing(if level <= 2 { 480 } else { 240 }, 120));
        heading.paragraph_property = heading.paragraph_property.keep_next(true);
        if level >= 5 {
            heading = heading.italic();
        }
        styles.push(heading);
    }
    // Shading and borders have no builder on `Style`; they are set on its public property.
    for style in &mut styles {
        match style.style_id.as_str() {
            "SourceCode" => {
                style.paragraph_property = style.paragraph_property.clone().shading(
                    Shading::new()
                        .shd_type(ShdType::Clear)
                        .fill(SHADE)
                        .color("auto"),
                );
            }
            "HorizontalRule" => {
                style.paragraph_property = style.paragraph_property.clone().set_borders(one_side(
                    ParagraphBorder::new(ParagraphBorderPosition::Bottom)
                        .val(BorderType::Single)
                        .size(6)
                        .space(1)
                        .color("A6A6A6"),
                ));
            }
            "FootnoteReference" => {
                style.run_property = style
                    .run_property
                    .clone()
                    .vert_align(VertAlignType::SuperScript);
            }
            "BlockText" => {
                style.paragraph_property = style.paragraph_property.clone().set_borders(one_side(
                    ParagraphBorder::new(ParagraphBorderPosition::Left)
                        .val(BorderType::Single)
                        .size(18)
                        .space(8)
                        .color("BFBFBF"),
                ));
            }
            _ => {}
        }
    }
    styles.extend(Alert::ALL.map(Alert::style));
    styles
}

/// The five kinds of GitHub alert (`> [!NOTE]` …), each a paragraph style with a left rule
/// in GitHub's colour for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alert {
    Note,
    Tip,
    Important,
    Warning,
    Caution,
}

impl Alert {
    const ALL: [Alert; 5] = [
        Alert::Note,
        Alert::Tip,
        Alert::Important,
        Alert::Warning,
        Alert::Caution,
    ];

    pub(crate) fn of(kind: AlertType) -> Alert {
        match kind {
            AlertType::Note => Alert::Note,
            AlertType::Tip => Alert::Tip,
            AlertType::Important => Alert::Important,
            AlertType::Warning => Alert::Warning,
            AlertType::Caution => Alert::Caution,
        }
    }

    pub(crate) fn style_id(self) -> &'static str {
        match self {
            Alert::Note => "AlertNote",
            Alert::Tip => "AlertTip",
            Alert::Important => "AlertImportant",
            Alert::Warning => "AlertWarning",
            Alert::Caution => "AlertCaution",
        }
    }

    fn style_name(self) -> &'static str {
        match self {
            Alert::Note => "Alert Note",
            Alert::Tip => "Alert Tip",
            Alert::Important => "Alert Important",
            Alert::Warning => "Alert Warning",
            Alert::Caution => "Alert Caution",
        }
    }

    /// GitHub's colour for the kind, `RRGGBB`.
    pub(crate) fn color(self) -> &'static str {
        match self {
            Alert::Note => "0969DA",
            Alert::Tip => "1A7F37",
            Alert::Important => "8250DF",
            Alert::Warning => "9A6700",
            Alert::Caution => "CF222E",
        }
    }

    fn style(self) -> Style {
        let mut style = paragraph(self.style_id(), self.style_name())
            .based_on("BodyText")
            .next("BodyText")
            .indent(Some(480), None, Some(480), None);
        style.paragraph_property = style.paragraph_property.clone().set_borders(one_side(
            ParagraphBorder::new(ParagraphBorderPosition::Left)
                .val(BorderType::Single)
                .size(24)
                .space(8)
                .color(self.color()),
        ));
        style
    }
}

/// Indentation of list level `level` (0-based): the text starts at `left`, the marker hangs.
pub(crate) fn list_indent(level: usize) -> (i32, SpecialIndentType) {
    let left = 480 * (level as i32 + 1);
    (left, SpecialIndentType::Hanging(360))
}

fn paragraph(id: &str, name: &str) -> Style {
    Style::new(id, StyleType::Paragraph)
        .name(name)
        .q_format(true)
}

fn character(id: &str, name: &str) -> Style {
    Style::new(id, StyleType::Character).name(name)
}

/// A border on one side only: docx-rs's `set_border` starts from borders on all four sides,
/// which drew quotes, alerts and rules as boxes.
fn one_side(border: ParagraphBorder) -> ParagraphBorders {
    ParagraphBorders::with_empty().set(border)
}

fn spacing(before: u32, after: u32) -> LineSpacing {
    LineSpacing::new().before(before).after(after)
}

pub(crate) fn monospace() -> RunFonts {
    RunFonts::new()
        .ascii(MONOSPACE)
        .hi_ansi(MONOSPACE)
        .cs(MONOSPACE)
        .east_asia(MONOSPACE)
}

#[cfg(test)]
mod tests {
    use docx_rs::BuildXML;

    use super::*;

    #[test]
    fn quotes_alerts_and_rules_have_a_border_on_one_side_only() {
        for (id, side) in [
            ("BlockText", "left"),
            ("AlertWarning", "left"),
            ("HorizontalRule", "bottom"),
        ] {
            let style = all()
                .into_iter()
                .find(|style| style.style_id == id)
                .unwrap();
            let xml = String::from_utf8(style.build()).unwrap();
            let borders = &xml[xml.find("<w:pBdr>").unwrap()..xml.find("</w:pBdr>").unwrap()];
            let sides: Vec<&str> = ["left", "right", "top", "bottom"]
                .into_iter()
                .filter(|side| borders.contains(&format!("<w:{side} ")))
                .collect();
            assert_eq!(sides, [side], "{id}: {borders}");
        }
    }
}
