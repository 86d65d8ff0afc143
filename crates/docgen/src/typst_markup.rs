//! comrak's tree as Typst markup, for the PDF.
//!
//! Escaping invariant: every character that came from the Markdown (text, code, URLs, alt
//! text, front matter, code block languages) is written inside a Typst string literal,
//! `#"…"`, through [`string`]; nothing the user wrote is ever parsed as markup or code. The
//! emitted body is therefore only `#`-expressions, closing brackets, labels docgen names, and
//! whitespace, which also keeps one expression from running into the next (a `[` or `.`
//! right after `#strong[…]` would otherwise continue it).

use std::collections::HashMap;
use std::fmt::Write as _;

use comrak::nodes::{AstNode, ListType, NodeValue, TableAlignment};

use crate::anchors::{Anchors, plain_text};
use crate::convert::MAX_TABLE_COLUMNS;
use crate::front_matter::Metadata;
use crate::images::{self, Images, Resolved};
use crate::{Options, PageSize, styles};

/// The look of the document: page, fonts, and how each element is drawn. Kept close to the
/// .docx styles (`styles.rs`) so the two outputs read as one document.
const STYLE: &str = r##"#set text(font: "Libertinus Serif", size: 11pt, hyphenate: false)
#set par(justify: false, leading: 0.62em, spacing: 1.05em)
#show heading: set text(fill: rgb("#1F3864"))
#show heading: set block(above: 1.5em, below: 0.8em)
#show heading.where(level: 1): set text(size: 17pt)
#show heading.where(level: 2): set text(size: 14.5pt)
#show heading.where(level: 3): set text(size: 13pt)
#show heading.where(level: 4): set text(size: 12pt)
#show heading.where(level: 5): set text(size: 11pt, style: "italic")
#show heading.where(level: 6): set text(size: 11pt, style: "italic")
#show raw: set text(font: "DejaVu Sans Mono")
#show raw.where(block: true): set block(fill: luma(242), inset: 8pt, radius: 2pt, width: 100%)
#show raw.where(block: false): highlight.with(fill: luma(236), extent: 1pt)
#show link: set text(fill: rgb("#0563C1"))
#show link: underline
#set list(marker: ([•], [◦], [▪]))
#set enum(numbering: "1.a.i.")
#set table(stroke: 0.5pt + luma(180), inset: 6pt, fill: (_, y) => if y == 0 { luma(242) })
#show table.cell.where(y: 0): strong
#show outline.entry: it => { show link: set text(fill: black); show link: it => it.body; it }
#let docgen-quote(body) = block(stroke: (left: 2pt + luma(190)), inset: (left: 10pt, y: 3pt), text(fill: luma(64), body))
#let docgen-alert(color, title, body) = block(stroke: (left: 3pt + color), inset: (left: 10pt, y: 3pt), width: 100%, [#text(fill: color, weight: "bold", title) \ #body])
#let docgen-rule = line(length: 100%, stroke: 0.5pt + luma(166))
"##;

/// The whole document: settings, title block, optional outline, then the body.
pub(crate) fn document<'a>(
    root: &'a AstNode<'a>,
    metadata: &Metadata,
    options: &Options,
    images: &Images,
    anchors: &Anchors,
) -> String {
    let mut emitter = Emitter::new(root, images, anchors, options.page_size);
    emitter.preamble(metadata, options.page_size);
    emitter.title_block(metadata);
    if options.toc {
        emitter.out.push_str("#outline()\n\n");
    }
    emitter.blocks(root);
    emitter.out
}

/// The width between the one-inch margins, in points.
fn text_width_points(page_size: PageSize) -> f64 {
    let page_width = match page_size {
        PageSize::A4 => 595.28,
        PageSize::Letter => 612.0,
    };
    page_width - 144.0
}

/// A Typst string literal holding exactly `text`.
pub(crate) fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            // Typst strings take newlines and other control characters only as escapes.
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Emitter<'a, 'i> {
    out: String,
    images: &'i Images,
    text_width_points: f64,
    footnote_definitions: HashMap<String, &'a AstNode<'a>>,
    /// The label number of each footnote already written, for repeated references.
    footnote_labels: HashMap<String, usize>,
    /// Footnotes being written now: a reference to one of them from inside itself is left
    /// out, as on the .docx side.
    open_footnotes: Vec<String>,
    anchors: &'i Anchors,
    /// A ☐/☒ for the next paragraph, from a task list item.
    pending_task: Option<bool>,
}

impl<'a, 'i> Emitter<'a, 'i> {
    fn new(
        root: &'a AstNode<'a>,
        images: &'i Images,
        anchors: &'i Anchors,
        page_size: PageSize,
    ) -> Self {
        let mut emitter = Emitter {
            out: String::new(),
            images,
            text_width_points: text_width_points(page_size),
            footnote_definitions: HashMap::new(),
            footnote_labels: HashMap::new(),
            open_footnotes: Vec::new(),
            anchors,
            pending_task: None,
        };
        for node in root.descendants() {
            if let NodeValue::FootnoteDefinition(definition) = &node.data().value {
                emitter
                    .footnote_definitions
                    .insert(definition.name.clone(), node);
            }
        }
        emitter
    }

    fn preamble(&mut self, metadata: &Metadata, page_size: PageSize) {
        let paper = match page_size {
            PageSize::A4 => "a4",
            PageSize::Letter => "us-letter",
        };
        let _ = writeln!(
            self.out,
            "#set page(paper: \"{paper}\", margin: 1in, footer: context align(center, \
             text(size: 9pt, fill: luma(90))[Page #counter(page).display() of \
             #counter(page).final().first()]))"
        );
        let title = metadata.title.as_deref().map(string);
        let authors: Vec<String> = metadata.authors.iter().map(|a| string(a)).collect();
        let _ = writeln!(
            self.out,
            "#set document(title: {}, author: ({}))",
            title.as_deref().unwrap_or("none"),
            authors.iter().map(|a| format!("{a},")).collect::<String>()
        );
        self.out.push_str(STYLE);
    }

    fn title_block(&mut self, metadata: &Metadata) {
        let mut lines = Vec::new();
        if let Some(title) = &metadata.title {
            lines.push(format!(
                "#text(size: 24pt, weight: \"bold\", {})",
                string(title)
            ));
        }
        if let Some(subtitle) = &metadata.subtitle {
            lines.push(format!("#text(size: 15pt, {})", string(subtitle)));
        }
        if !metadata.authors.is_empty() {
            lines.push(format!("#{}", string(&metadata.authors.join(", "))));
        }
        if let Some(date) = &metadata.date {
            lines.push(format!("#{}", string(date)));
        }
        if !lines.is_empty() {
            let _ = writeln!(self.out, "#align(center)[\n{}\n]\n", lines.join("\n\n"));
        }
        if let Some(summary) = &metadata.summary {
            let _ = writeln!(
                self.out,
                "#block(inset: (x: 3em, y: 0.6em), text(size: 10pt)[#align(center, \
                 strong[Abstract])\n\n#{}])\n",
                string(summary)
            );
        }
    }

    /// The children of a container, one paragraph break apart.
    fn blocks(&mut self, node: &'a AstNode<'a>) {
        for (index, child) in node.children().enumerate() {
            if index > 0 {
                self.out.push_str("\n\n");
            }
            self.block(child);
        }
    }

    fn block(&mut self, node: &'a AstNode<'a>) {
        let value = node.data().value.clone();
        match value {
            NodeValue::FrontMatter(_)
            | NodeValue::FootnoteDefinition(_)
            | NodeValue::HtmlBlock(_) => {}
            NodeValue::Heading(heading) => {
                let _ = write!(self.out, "#heading(level: {})[", heading.level.clamp(1, 6));
                self.inlines(node);
                self.out.push(']');
                if let Some(number) = self.anchors.of_heading(node) {
                    let _ = write!(self.out, "<docgen-heading-{number}>");
                }
            }
            NodeValue::Paragraph => {
                if let Some(checked) = self.pending_task.take() {
                    // The box glyphs come from DejaVu, which draws them small beside
                    // Libertinus' letters.
                    let mark = string(if checked { "☒" } else { "☐" });
                    let _ = write!(self.out, "#text(size: 1.3em, {mark})#\" \"");
                }
                self.inlines(node);
            }
            NodeValue::CodeBlock(code) => {
                let language = code.info.split_whitespace().next().unwrap_or("");
                self.out.push_str("#raw(block: true, ");
                if !language.is_empty() {
                    let _ = write!(self.out, "lang: {}, ", string(language));
                }
                let literal = code.literal.strip_suffix('\n').unwrap_or(&code.literal);
                let _ = write!(self.out, "{})", string(literal));
            }
            NodeValue::ThematicBreak => self.out.push_str("#docgen-rule"),
            NodeValue::BlockQuote | NodeValue::MultilineBlockQuote(_) => {
                self.out.push_str("#docgen-quote[");
                self.blocks(node);
                self.out.push(']');
            }
            NodeValue::Alert(alert) => {
                let title = alert
                    .title
                    .as_deref()
                    .unwrap_or(alert.alert_type.default_title());
                let color = styles::Alert::of(alert.alert_type).color();
                let _ = write!(
                    self.out,
                    "#docgen-alert(rgb(\"#{color}\"), {})[",
                    string(title)
                );
                self.blocks(node);
                self.out.push(']');
            }
            NodeValue::List(list) => self.list(node, &list),
            NodeValue::Table(table) if table.alignments.len() > MAX_TABLE_COLUMNS => {
                self.table_as_text(node);
            }
            NodeValue::Table(table) => self.table(node, &table.alignments),
            _ => self.blocks(node),
        }
    }

    fn list(&mut self, node: &'a AstNode<'a>, list: &comrak::nodes::NodeList) {
        let tasks = node
            .children()
            .all(|item| matches!(item.data().value, NodeValue::TaskItem(_)));
        if list.list_type == ListType::Ordered {
            let _ = write!(
                self.out,
                "#enum(tight: {}, start: {}",
                list.tight, list.start
            );
        } else {
            let _ = write!(self.out, "#list(tight: {}", list.tight);
            if tasks {
                // GitHub shows a task list's boxes instead of bullets.
                self.out.push_str(", marker: none");
            }
        }
        for item in node.children() {
            self.out.push_str(", [");
            if let NodeValue::TaskItem(task) = &item.data().value {
                self.pending_task = Some(task.symbol.is_some());
            }
            self.blocks(item);
            self.pending_task = None;
            self.out.push(']');
        }
        self.out.push(')');
    }

    fn table(&mut self, node: &'a AstNode<'a>, alignments: &[TableAlignment]) {
        let columns = alignments.len().max(1);
        let align: Vec<&str> = (0..columns)
            .map(|index| match alignments.get(index) {
                Some(TableAlignment::Center) => "center",
                Some(TableAlignment::Right) => "right",
                _ => "left",
            })
            .collect();
        let _ = write!(
            self.out,
            "#table(columns: {columns}, align: ({},)",
            align.join(", ")
        );
        for row in node.children() {
            let header = matches!(row.data().value, NodeValue::TableRow(true));
            self.out
                .push_str(if header { ", table.header(" } else { ", " });
            let cells: Vec<_> = row.children().take(columns).collect();
            for index in 0..columns {
                if index > 0 {
                    self.out.push_str(", ");
                }
                self.out.push('[');
                if let Some(cell) = cells.get(index) {
                    self.inlines(cell);
                }
                self.out.push(']');
            }
            if header {
                self.out.push(')');
            }
        }
        self.out.push(')');
    }

    /// A table too wide for any page, as one line of text per row (as on the .docx side).
    fn table_as_text(&mut self, node: &'a AstNode<'a>) {
        for (row_index, row) in node.children().enumerate() {
            if row_index > 0 {
                self.out.push_str("\n\n");
            }
            for (index, cell) in row.children().enumerate() {
                if index > 0 {
                    self.text(" | ");
                }
                self.inlines(cell);
            }
        }
    }

    fn inlines(&mut self, node: &'a AstNode<'a>) {
        for child in node.children() {
            self.inline(child);
        }
    }

    fn wrapped(&mut self, function: &str, node: &'a AstNode<'a>) {
        let _ = write!(self.out, "#{function}[");
        self.inlines(node);
        self.out.push(']');
    }

    fn inline(&mut self, node: &'a AstNode<'a>) {
        let value = node.data().value.clone();
        match value {
            NodeValue::Text(text) => self.text(&text),
            NodeValue::SoftBreak => self.text(" "),
            NodeValue::LineBreak => self.out.push_str("#linebreak()"),
            NodeValue::Code(code) => {
                let _ = write!(self.out, "#raw({})", string(&code.literal));
            }
            NodeValue::Emph => self.wrapped("emph", node),
            NodeValue::Strong => self.wrapped("strong", node),
            NodeValue::Strikethrough => self.wrapped("strike", node),
            NodeValue::Link(link) => self.link(node, &link.url),
            NodeValue::Image(link) => self.image(node, &link.url),
            NodeValue::FootnoteReference(reference) => self.footnote(&reference.name),
            NodeValue::HtmlInline(_) => {}
            _ => self.inlines(node),
        }
    }

    fn text(&mut self, text: &str) {
        self.out.push('#');
        self.out.push_str(&string(text));
    }

    fn link(&mut self, node: &'a AstNode<'a>, url: &str) {
        if url.starts_with('#') {
            match self.anchors.of_fragment(url) {
                Some(number) => {
                    let _ = write!(self.out, "#link(<docgen-heading-{number}>)[");
                    self.inlines(node);
                    self.out.push(']');
                }
                // An anchor no heading has: keep the words, drop the dead link.
                None => self.inlines(node),
            }
        } else if url.is_empty() {
            self.inlines(node);
        } else {
            let _ = write!(self.out, "#link({})[", string(url));
            self.inlines(node);
            self.out.push(']');
        }
    }

    fn image(&mut self, node: &'a AstNode<'a>, url: &str) {
        let alt = plain_text(node);
        match self.images.get(url) {
            Some(Resolved::Embedded(picture)) => {
                // 96 pixels to the inch, as on the .docx side; never wider than the text.
                let natural = f64::from(picture.width) * 0.75;
                let width = natural.min(self.text_width_points);
                let _ = write!(
                    self.out,
                    "#box(image({}, width: {width:.2}pt, alt: {}))",
                    string(&format!("/images/{}.png", picture.index)),
                    string(&alt)
                );
            }
            Some(Resolved::Remote) => {
                let label = if alt.is_empty() { url } else { &alt };
                let _ = write!(self.out, "#link({})[", string(url));
                self.text(label);
                self.out.push(']');
            }
            Some(Resolved::Outside) | None => self.text(&images::placeholder(&alt, url)),
        }
    }

    fn footnote(&mut self, name: &str) {
        if self.open_footnotes.iter().any(|open| open == name) {
            return;
        }
        if let Some(number) = self.footnote_labels.get(name) {
            let _ = write!(self.out, "#footnote(<docgen-footnote-{number}>)");
            return;
        }
        let Some(definition) = self.footnote_definitions.get(name).copied() else {
            return;
        };
        let number = self.footnote_labels.len();
        self.footnote_labels.insert(name.to_owned(), number);
        self.open_footnotes.push(name.to_owned());
        let task = self.pending_task.take();
        self.out.push_str("#footnote[");
        self.blocks(definition);
        let _ = write!(self.out, "]<docgen-footnote-{number}>");
        self.pending_task = task;
        self.open_footnotes.pop();
    }
}

#[cfg(test)]
mod tests {
    //! The markup itself: escaping, and the shapes each construct takes.

    use super::*;

    fn body(markdown: &str) -> String {
        let arena = comrak::Arena::new();
        let root = comrak::parse_document(&arena, markdown, &crate::markdown_options());
        let images = Images::default();
        let anchors = Anchors::new(root);
        let markup = document(
            root,
            &Metadata::default(),
            &crate::Options::default(),
            &images,
            &anchors,
        );
        let start = markup.find("#let docgen-rule").unwrap();
        let start = start + markup[start..].find('\n').unwrap() + 1;
        markup[start..].trim().to_owned()
    }

    #[test]
    fn alerts_carry_their_colour_and_an_escaped_title() {
        assert_eq!(
            body("> [!WARNING]\n> Mind the *gap*.\n"),
            r##"#docgen-alert(rgb("#9A6700"), "Warning")[#"Mind the "#emph[#"gap"]#"."]"##
        );
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_control_characters() {
        assert_eq!(string(r##"a"b\c"##), r##""a\"b\\c""##);
        assert_eq!(string("x\ny\u{7}"), r##""x\u{a}y\u{7}""##);
        assert_eq!(string("#[*_`$<@>]"), "\"#[*_`$<@>]\"");
    }

    #[test]
    fn markup_characters_in_text_stay_inside_strings() {
        assert_eq!(body("a #b *c* $d$\n"), r##"#"a #b "#emph[#"c"]#" $d$""##);
    }

    #[test]
    fn links_to_headings_use_labels_and_unknown_anchors_keep_their_text() {
        let markup = body("# Big Results!\n\nsee [it](#big-results) and [gone](#nope)\n");
        assert!(markup.contains("]<docgen-heading-0>"), "{markup}");
        assert!(
            markup.contains(r##"#link(<docgen-heading-0>)[#"it"]"##),
            "{markup}"
        );
        assert!(
            markup.contains(r##"#"gone""##) && !markup.contains("nope"),
            "{markup}"
        );
    }

    #[test]
    fn ordered_lists_keep_their_start_and_tasks_drop_the_bullet() {
        let markup = body("3. a\n4. b\n\n- [ ] open\n- [x] done\n");
        assert!(
            markup.starts_with(r##"#enum(tight: true, start: 3, [#"a"], [#"b"])"##),
            "{markup}"
        );
        assert!(
            markup.contains(
                r##"#list(tight: true, marker: none, [#text(size: 1.3em, "☐")#" "#"open"], [#text(size: 1.3em, "☒")#" "#"done"])"##
            ),
            "{markup}"
        );
    }

    #[test]
    fn tables_pad_short_rows_and_put_the_header_first() {
        let markup = body("| a | b |\n|:-|-:|\n| 1 |\n");
        assert_eq!(
            markup,
            r##"#table(columns: 2, align: (left, right,), table.header([#"a"], [#"b"]), [#"1"], [])"##
        );
    }

    #[test]
    fn a_repeated_footnote_refers_to_the_first_and_a_self_reference_ends() {
        let markup = body("a[^n] b[^n]\n\n[^n]: note[^n]\n");
        assert_eq!(markup.matches("#footnote[").count(), 1, "{markup}");
        assert!(
            markup.contains("#footnote(<docgen-footnote-0>)"),
            "{markup}"
        );
    }
}
