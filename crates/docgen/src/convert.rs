//! The walk over comrak's tree that builds the docx-rs document: blocks become styled
//! paragraphs and tables, inlines become runs and hyperlinks.

use std::collections::HashMap;

use comrak::nodes::{AstNode, ListType, NodeValue, TableAlignment};
use docx_rs::{
    AbstractNumbering, AlignmentType, BreakType, Docx, Footer, Footnote, Hyperlink, HyperlinkType,
    IndentLevel, Level, LevelJc, LevelOverride, LevelText, NumPages, NumberFormat, Numbering,
    NumberingId, PageMargin, PageNum, Paragraph, Pic, Run, Shading, ShdType, Start, Table,
    TableCell, TableOfContents, TableOfContentsItem, TableRow, WidthType,
};

use crate::anchors::{Anchors, plain_text};
use crate::front_matter::Metadata;
use crate::highlight;
use crate::images::{Images, Resolved};
use crate::{Options, PageSize, Result, code, images, styles};

/// Width and height of the page in twentieths of a point.
fn page_twips(page_size: PageSize) -> (u32, u32) {
    match page_size {
        PageSize::A4 => (11906, 16838),
        PageSize::Letter => (12240, 15840),
    }
}

/// The width between the margins in twentieths of a point.
pub(crate) fn text_width_twips(page_size: PageSize) -> u32 {
    page_twips(page_size).0 - 2 * MARGIN as u32
}

/// One inch, in twentieths of a point: every margin.
const MARGIN: i32 = 1440;
const EMU_PER_TWIP: u32 = 635;
/// Word refuses tables wider than 63 columns; wider ones are written as rows of text.
pub(crate) const MAX_TABLE_COLUMNS: usize = 63;
/// The abstract numberings every list instance points at. docx-rs always writes its own
/// abstract numbering 1 and instance 1, so docgen's ids start at 2.
const BULLET_ABSTRACT: usize = 2;
const ORDERED_ABSTRACT: usize = 3;
const FIRST_LIST_INSTANCE: usize = 2;
const LIST_LEVELS: usize = 9;

/// Run formatting inherited from enclosing inline nodes.
#[derive(Clone, Copy, Default)]
struct Format {
    bold: bool,
    italic: bool,
    strike: bool,
}

/// One piece of a paragraph's content.
enum Piece {
    Run(Box<Run>),
    Link(Hyperlink),
}

/// The paragraph style and list placement a block is written with.
#[derive(Clone)]
struct Context {
    /// The style of ordinary paragraphs here (BodyText, Compact in tight lists, BlockText in quotes).
    body_style: &'static str,
    /// The list instance and level of the innermost enclosing list item, if any.
    list: Option<(usize, usize)>,
    /// Whether the next paragraph is the first of its list item (and so carries the marker).
    item_first: bool,
    /// A ☐/☒ prefix for the next paragraph, from a task list item.
    task: Option<bool>,
    /// Inside a footnote: hyperlinks and images are written as text there, because docx-rs
    /// only records relationships for the main document part.
    in_footnote: bool,
}

pub(crate) struct Builder<'o> {
    images: &'o Images,
    anchors: &'o Anchors,
    toc: bool,
    /// The width between the margins, in twentieths of a point.
    text_width: u32,
    docx: Docx,
    /// The next numbering instance id.
    next_list: usize,
    /// The next footnote id.
    next_footnote: usize,
    footnote_definitions: HashMap<String, &'o AstNode<'o>>,
    /// Alt text of every image in document order, for the package post-processing.
    pub(crate) alt_texts: Vec<String>,
    /// The code blocks written as placeholders, in the order of their indices.
    pub(crate) pending_code: Vec<code::Pending>,
    /// Whether the next body paragraph is the first after a heading or the title block.
    after_heading: bool,
}

impl<'o> Builder<'o> {
    /// `text_width` is the width between the margins in twentieths of a point: tables and
    /// images are sized to it.
    pub(crate) fn new(
        options: &Options,
        text_width: u32,
        images: &'o Images,
        anchors: &'o Anchors,
    ) -> Self {
        let (page_width, page_height) = page_twips(options.page_size);
        let mut docx = Docx::new()
            .page_size(page_width, page_height)
            .page_margin(
                PageMargin::new()
                    .top(MARGIN)
                    .bottom(MARGIN)
                    .left(MARGIN)
                    .right(MARGIN)
                    .header(720)
                    .footer(720),
            )
            .default_size(22)
            .footer(page_x_of_y());
        for style in styles::all() {
            docx = docx.add_style(style);
        }
        docx = docx
            .add_abstract_numbering(list_levels(BULLET_ABSTRACT, false))
            .add_abstract_numbering(list_levels(ORDERED_ABSTRACT, true));
        Builder {
            images,
            anchors,
            toc: options.toc,
            text_width,
            docx,
            next_list: FIRST_LIST_INSTANCE,
            next_footnote: 1,
            footnote_definitions: HashMap::new(),
            alt_texts: Vec::new(),
            pending_code: Vec::new(),
            after_heading: true,
        }
    }

    pub(crate) fn finish(self) -> Docx {
        self.docx
    }

    /// Converts the whole document; `metadata` is the already-parsed front matter.
    pub(crate) fn document(&mut self, root: &'o AstNode<'o>, metadata: &Metadata) -> Result<()> {
        for child in root.children() {
            if let NodeValue::FootnoteDefinition(definition) = &child.data().value {
                self.footnote_definitions
                    .insert(definition.name.clone(), child);
            }
        }
        self.title_block(metadata);
        if self.toc {
            self.table_of_contents(root);
        }
        let context = Context {
            body_style: "BodyText",
            list: None,
            item_first: false,
            task: None,
            in_footnote: false,
        };
        for child in root.children() {
            for paragraph_or_table in self.block(child, &context)? {
                let docx = std::mem::take(&mut self.docx);
                self.docx = match paragraph_or_table {
                    Block::Paragraph(paragraph) => docx.add_paragraph(*paragraph),
                    Block::Table(table) => docx.add_table(*table),
                };
            }
        }
        Ok(())
    }

    fn title_block(&mut self, metadata: &Metadata) {
        let mut lines: Vec<(&str, String)> = Vec::new();
        if let Some(title) = &metadata.title {
            lines.push(("Title", title.clone()));
        }
        if let Some(subtitle) = &metadata.subtitle {
            lines.push(("Subtitle", subtitle.clone()));
        }
        for author in &metadata.authors {
            lines.push(("Author", author.clone()));
        }
        if let Some(date) = &metadata.date {
            lines.push(("Date", date.clone()));
        }
        if let Some(summary) = &metadata.summary {
            lines.push(("Abstract", summary.clone()));
        }
        for (style, text) in lines {
            let paragraph = Paragraph::new()
                .style(style)
                .add_run(Run::new().add_text(text));
            self.docx = std::mem::take(&mut self.docx).add_paragraph(paragraph);
        }
    }

    /// A table of contents already filled with the headings (levels 1 to 3), linked to
    /// their bookmarks. Page numbers are left for Word to fill: the field is marked dirty, so
    /// Word updates it on opening, and LibreOffice shows the entries as they are.
    fn table_of_contents(&mut self, root: &'o AstNode<'o>) {
        let mut toc = TableOfContents::new()
            .heading_styles_range(1, 3)
            .hyperlink()
            .alias("Table of Contents")
            .dirty()
            .add_before_paragraph(
                Paragraph::new()
                    .style("TOCHeading")
                    .add_run(Run::new().add_text("Contents")),
            );
        for node in root.descendants() {
            if let NodeValue::Heading(heading) = &node.data().value {
                let Some(number) = self.anchors.of_heading(node) else {
                    continue;
                };
                if heading.level <= 3 {
                    toc = toc.add_item(
                        TableOfContentsItem::new()
                            .text(plain_text(node))
                            .toc_key(bookmark(number))
                            .level(usize::from(heading.level))
                            .page_ref(""),
                    );
                }
            }
        }
        self.docx = std::mem::take(&mut self.docx).add_table_of_contents(toc);
    }

    fn block(&mut self, node: &'o AstNode<'o>, context: &Context) -> Result<Vec<Block>> {
        let value = node.data().value.clone();
        let mut out = Vec::new();
        match value {
            NodeValue::FrontMatter(_) | NodeValue::FootnoteDefinition(_) => {}
            NodeValue::Heading(heading) => {
                let level = heading.level.clamp(1, 6);
                let mut paragraph = Paragraph::new().style(&format!("Heading{level}"));
                let number = self
                    .anchors
                    .of_heading(node)
                    .filter(|_| !context.in_footnote);
                if let Some(number) = number {
                    paragraph = paragraph.add_bookmark_start(number, bookmark(number));
                }
                paragraph = self.inline_children(node, paragraph, context)?;
                if let Some(number) = number {
                    paragraph = paragraph.add_bookmark_end(number);
                }
                out.push(Block::paragraph(paragraph));
                self.after_heading = true;
            }
            NodeValue::Paragraph => {
                // pandoc's convention: the paragraph right after a heading (or the title
                // block) is FirstParagraph, so a template can drop its first-line indent.
                let style = if context.body_style == "BodyText"
                    && context.list.is_none()
                    && self.after_heading
                {
                    "FirstParagraph"
                } else {
                    context.body_style
                };
                self.after_heading = false;
                let mut paragraph = self.list_placement(Paragraph::new().style(style), context);
                if let Some(checked) = context.task {
                    let mark = if checked { "☒ " } else { "☐ " };
                    paragraph = paragraph.add_run(Run::new().add_text(mark));
                }
                out.push(Block::paragraph(
                    self.inline_children(node, paragraph, context)?,
                ));
            }
            NodeValue::CodeBlock(code) => {
                self.after_heading = false;
                let mut paragraph =
                    self.list_placement(Paragraph::new().style("SourceCode"), context);
                let (language, literal) = highlight::key(&code);
                if highlight::wanted(language, literal) {
                    paragraph = paragraph.add_run(code::placeholder(self.pending_code.len()));
                    self.pending_code
                        .push((language.to_owned(), literal.to_owned()));
                } else {
                    for run in code::runs(code::plain(literal)) {
                        paragraph = paragraph.add_run(run);
                    }
                }
                out.push(Block::paragraph(paragraph));
            }
            NodeValue::HtmlBlock(_) => {
                // Raw HTML has no meaning in Word; pandoc drops it from .docx output too.
            }
            NodeValue::ThematicBreak => {
                out.push(Block::paragraph(Paragraph::new().style("HorizontalRule")));
            }
            NodeValue::BlockQuote | NodeValue::MultilineBlockQuote(_) => {
                let inner = Context {
                    body_style: "BlockText",
                    ..context.clone()
                };
                out.extend(self.blocks(node, inner)?);
            }
            NodeValue::Alert(alert) => {
                let kind = styles::Alert::of(alert.alert_type);
                let title = alert
                    .title
                    .as_deref()
                    .unwrap_or(alert.alert_type.default_title());
                // The title's colour is the alert's identity, as on GitHub, so it is
                // direct formatting rather than a style of its own.
                let title_run = run(title, Format::default()).bold().color(kind.color());
                let paragraph =
                    self.list_placement(Paragraph::new().style(kind.style_id()), context);
                out.push(Block::paragraph(paragraph.add_run(title_run)));
                let inner = Context {
                    body_style: kind.style_id(),
                    item_first: false,
                    task: None,
                    ..context.clone()
                };
                out.extend(self.blocks(node, inner)?);
            }
            NodeValue::List(list) => {
                let instance = self.next_list;
                self.next_list += 1;
                let level = context
                    .list
                    .map_or(0, |(_, level)| level + 1)
                    .min(LIST_LEVELS - 1);
                let ordered = list.list_type == ListType::Ordered;
                let abstract_id = if ordered {
                    ORDERED_ABSTRACT
                } else {
                    BULLET_ABSTRACT
                };
                // Each list is its own numbering instance, so every ordered list restarts at
                // its own start number instead of continuing the previous list's count.
                let mut numbering = Numbering::new(instance, abstract_id);
                if ordered {
                    numbering = numbering.add_override(LevelOverride::new(level).start(list.start));
                }
                self.docx = std::mem::take(&mut self.docx).add_numbering(numbering);
                let body_style = if list.tight { "Compact" } else { "BodyText" };
                for item in node.children() {
                    let task = match &item.data().value {
                        NodeValue::TaskItem(task) => Some(task.symbol.is_some()),
                        _ => None,
                    };
                    let item_context = Context {
                        body_style,
                        list: Some((instance, level)),
                        item_first: true,
                        task,
                        in_footnote: context.in_footnote,
                    };
                    out.extend(self.blocks(item, item_context)?);
                }
                self.after_heading = false;
            }
            NodeValue::Table(table) if table.alignments.len() > MAX_TABLE_COLUMNS => {
                for row in node.children() {
                    let mut pieces = Vec::new();
                    for (index, cell) in row.children().enumerate() {
                        if index > 0 {
                            pieces.push(Piece::run(run(" | ", Format::default())));
                        }
                        self.inlines(cell, Format::default(), context, &mut pieces)?;
                    }
                    let paragraph = add_pieces(Paragraph::new().style("Compact"), pieces);
                    out.push(Block::paragraph(paragraph));
                }
                self.after_heading = false;
            }
            NodeValue::Table(table) => {
                let table = self.table(node, &table.alignments, context)?;
                out.push(Block::Table(Box::new(table)));
                self.after_heading = false;
            }
            _ => {
                // Containers comrak may add with extensions docgen does not enable: keep
                // their content rather than lose it.
                out.extend(self.blocks(node, context.clone())?);
            }
        }
        Ok(out)
    }

    /// Converts the children of a container, passing the list marker to the first only.
    fn blocks(&mut self, node: &'o AstNode<'o>, mut context: Context) -> Result<Vec<Block>> {
        let mut out = Vec::new();
        for child in node.children() {
            out.extend(self.block(child, &context)?);
            context.item_first = false;
            context.task = None;
        }
        Ok(out)
    }

    /// Numbers the first paragraph of a list item, and indents its later paragraphs to match.
    fn list_placement(&self, paragraph: Paragraph, context: &Context) -> Paragraph {
        match context.list {
            Some((instance, level)) if context.item_first => {
                paragraph.numbering(NumberingId::new(instance), IndentLevel::new(level))
            }
            Some((_, level)) => {
                let (left, _) = styles::list_indent(level);
                paragraph.indent(Some(left), None, None, None)
            }
            None => paragraph,
        }
    }

    fn table(
        &mut self,
        node: &'o AstNode<'o>,
        alignments: &[TableAlignment],
        context: &Context,
    ) -> Result<Table> {
        let columns = alignments.len().max(1);
        let column_width = (self.text_width as usize) / columns;
        let mut rows = Vec::new();
        for row in node.children() {
            let header = matches!(row.data().value, NodeValue::TableRow(true));
            let mut cells = Vec::new();
            for (index, cell) in row.children().enumerate() {
                let mut paragraph = Paragraph::new().style("Compact");
                paragraph = match alignments.get(index) {
                    Some(TableAlignment::Left) => paragraph.align(AlignmentType::Left),
                    Some(TableAlignment::Center) => paragraph.align(AlignmentType::Center),
                    Some(TableAlignment::Right) => paragraph.align(AlignmentType::Right),
                    _ => paragraph,
                };
                let cell_context = Context {
                    list: None,
                    item_first: false,
                    task: None,
                    ..context.clone()
                };
                let format = Format {
                    bold: header,
                    ..Format::default()
                };
                let mut pieces = Vec::new();
                self.inlines(cell, format, &cell_context, &mut pieces)?;
                let paragraph = add_pieces(paragraph, pieces);
                let mut table_cell = TableCell::new()
                    .add_paragraph(paragraph)
                    .width(column_width, WidthType::Dxa);
                if header {
                    table_cell = table_cell.shading(
                        Shading::new()
                            .shd_type(ShdType::Clear)
                            .color("auto")
                            .fill(styles::SHADE),
                    );
                }
                cells.push(table_cell);
            }
            let mut table_row = TableRow::new(cells);
            if header {
                // `cantSplit` marks header rows for the package step, which adds the
                // `tblHeader` docx-rs has no builder for; a header row should not split anyway.
                table_row = table_row.cant_split();
            }
            rows.push(table_row);
        }
        Ok(Table::new(rows)
            .style("Table")
            .set_grid(vec![column_width; columns])
            .width(self.text_width as usize, WidthType::Dxa))
    }

    fn inline_children(
        &mut self,
        node: &'o AstNode<'o>,
        paragraph: Paragraph,
        context: &Context,
    ) -> Result<Paragraph> {
        let mut pieces = Vec::new();
        self.inlines(node, Format::default(), context, &mut pieces)?;
        Ok(add_pieces(paragraph, pieces))
    }

    fn inlines(
        &mut self,
        node: &'o AstNode<'o>,
        format: Format,
        context: &Context,
        out: &mut Vec<Piece>,
    ) -> Result<()> {
        for child in node.children() {
            self.inline(child, format, context, out)?;
        }
        Ok(())
    }

    fn inline(
        &mut self,
        node: &'o AstNode<'o>,
        format: Format,
        context: &Context,
        out: &mut Vec<Piece>,
    ) -> Result<()> {
        let value = node.data().value.clone();
        match value {
            NodeValue::Text(text) => out.push(Piece::run(run(&text, format))),
            NodeValue::SoftBreak => out.push(Piece::run(run(" ", format))),
            NodeValue::LineBreak => {
                out.push(Piece::run(Run::new().add_break(BreakType::TextWrapping)))
            }
            NodeValue::Code(code) => {
                out.push(Piece::run(run(&code.literal, format).style("VerbatimChar")))
            }
            NodeValue::Emph => self.inlines(
                node,
                Format {
                    italic: true,
                    ..format
                },
                context,
                out,
            )?,
            NodeValue::Strong => self.inlines(
                node,
                Format {
                    bold: true,
                    ..format
                },
                context,
                out,
            )?,
            NodeValue::Strikethrough => self.inlines(
                node,
                Format {
                    strike: true,
                    ..format
                },
                context,
                out,
            )?,
            NodeValue::Link(link) => {
                let mut inner = Vec::new();
                self.inlines(node, format, context, &mut inner)?;
                let heading = self.anchors.of_fragment(&link.url);
                if let (Some(number), false) = (heading, context.in_footnote) {
                    let mut hyperlink = Hyperlink::new(bookmark(number), HyperlinkType::Anchor);
                    for piece in inner {
                        if let Piece::Run(run) = piece {
                            hyperlink = hyperlink.add_run(run.style("Hyperlink"));
                        }
                    }
                    out.push(Piece::Link(hyperlink));
                } else if link.url.starts_with('#') || link.url.is_empty() || context.in_footnote {
                    // An anchor no heading has, and footnotes, which cannot hold links through
                    // docx-rs: keep the text.
                    out.extend(inner);
                    if context.in_footnote && !link.url.starts_with('#') && !link.url.is_empty() {
                        out.push(Piece::run(run(&format!(" <{}>", link.url), format)));
                    }
                } else {
                    let mut hyperlink = Hyperlink::new(&link.url, HyperlinkType::External);
                    for piece in inner {
                        match piece {
                            Piece::Run(run) => {
                                hyperlink = hyperlink.add_run(run.style("Hyperlink"))
                            }
                            // A link inside a link is not valid Markdown output from comrak.
                            Piece::Link(_) => {}
                        }
                    }
                    out.push(Piece::Link(hyperlink));
                }
            }
            NodeValue::Image(link) => {
                let alt = plain_text(node);
                match self.images.get(&link.url) {
                    Some(Resolved::Embedded(picture)) if !context.in_footnote => {
                        let max_width = self.text_width * EMU_PER_TWIP;
                        let (width, height) = images::fit(picture.width, picture.height, max_width);
                        let pic =
                            Pic::new_with_dimensions(picture.png.clone(), 1, 1).size(width, height);
                        self.alt_texts.push(alt);
                        out.push(Piece::run(Run::new().add_image(pic)));
                    }
                    Some(Resolved::Remote) if !context.in_footnote => {
                        // Never fetched: a remote image stays a link to it.
                        let label = if alt.is_empty() {
                            link.url.clone()
                        } else {
                            alt
                        };
                        out.push(Piece::Link(
                            Hyperlink::new(&link.url, HyperlinkType::External)
                                .add_run(run(&label, format).style("Hyperlink")),
                        ));
                    }
                    // Footnotes cannot hold drawings or links through docx-rs, and an image
                    // outside the document's folder is never read: its alt text stands in.
                    _ => out.push(Piece::run(run(
                        &images::placeholder(&alt, &link.url),
                        format,
                    ))),
                }
            }
            // A reference inside a footnote could point back at its own footnote; Word has
            // no footnotes within footnotes, so such references are left out.
            NodeValue::FootnoteReference(_) if context.in_footnote => {}
            NodeValue::FootnoteReference(reference) => {
                if let Some(definition) = self.footnote_definitions.get(&reference.name).copied() {
                    let id = self.next_footnote;
                    self.next_footnote += 1;
                    let footnote_context = Context {
                        body_style: "FootnoteText",
                        list: None,
                        item_first: false,
                        task: None,
                        in_footnote: true,
                    };
                    let saved = self.after_heading;
                    let mut content = Vec::new();
                    for block in self.blocks(definition, footnote_context)? {
                        // A table inside a footnote is flattened to nothing by docx-rs's
                        // footnote model (paragraphs only); tables there are rare.
                        if let Block::Paragraph(paragraph) = block {
                            content.push(*paragraph);
                        }
                    }
                    self.after_heading = saved;
                    if content.is_empty() {
                        content.push(Paragraph::new().style("FootnoteText"));
                    }
                    let footnote = Footnote { id, content };
                    out.push(Piece::run(
                        Run::new()
                            .style("FootnoteReference")
                            .add_footnote_reference(footnote),
                    ));
                }
            }
            NodeValue::HtmlInline(_) => {}
            _ => self.inlines(node, format, context, out)?,
        }
        Ok(())
    }
}

impl Piece {
    fn run(run: Run) -> Piece {
        Piece::Run(Box::new(run))
    }
}

impl Block {
    fn paragraph(paragraph: Paragraph) -> Block {
        Block::Paragraph(Box::new(paragraph))
    }
}

/// A block-level result: docx-rs keeps paragraphs and tables apart.
enum Block {
    Paragraph(Box<Paragraph>),
    Table(Box<Table>),
}

fn run(text: &str, format: Format) -> Run {
    let mut run = Run::new().add_text(text);
    if format.bold {
        run = run.bold();
    }
    if format.italic {
        run = run.italic();
    }
    if format.strike {
        run = run.strike();
    }
    run
}

fn add_pieces(mut paragraph: Paragraph, pieces: Vec<Piece>) -> Paragraph {
    for piece in pieces {
        paragraph = match piece {
            Piece::Run(run) => paragraph.add_run(*run),
            Piece::Link(link) => paragraph.add_hyperlink(link),
        };
    }
    paragraph
}

/// "Page X of Y", centred, as PAGE and NUMPAGES fields Word and LibreOffice fill in.
fn page_x_of_y() -> Footer {
    Footer::new().add_paragraph(
        Paragraph::new()
            .style("Footer")
            .align(AlignmentType::Center)
            .add_run(Run::new().add_text("Page "))
            .add_page_num(PageNum::new())
            .add_run(Run::new().add_text(" of "))
            .add_num_pages(NumPages::new()),
    )
}

/// The Word bookmark on heading `number`; the `_Toc` prefix hides it from Word's bookmark
/// list, as Word's own heading bookmarks are hidden.
fn bookmark(number: usize) -> String {
    format!("_Toc_docgen_{number}")
}

/// Nine levels of bullets or of numbers, each level indented further.
fn list_levels(id: usize, ordered: bool) -> AbstractNumbering {
    let mut numbering = AbstractNumbering::new(id);
    for level in 0..LIST_LEVELS {
        let (format, text) = if ordered {
            let format = ["decimal", "lowerLetter", "lowerRoman"][level % 3];
            (format, format!("%{}.", level + 1))
        } else {
            ("bullet", ["•", "◦", "▪"][level % 3].to_string())
        };
        let (left, hanging) = styles::list_indent(level);
        numbering = numbering.add_level(
            Level::new(
                level,
                Start::new(1),
                NumberFormat::new(format),
                LevelText::new(text),
                LevelJc::new("left"),
            )
            .indent(Some(left), Some(hanging), None, None),
        );
    }
    numbering
}

#[cfg(test)]
mod tests {
    //! Markdown in, the sequence of paragraph styles (and other facts of document.xml) out.

    use std::io::Read;

    use crate::Options;

    fn document_xml(markdown: &str) -> String {
        part_xml(markdown, "word/document.xml")
    }

    fn part_xml(markdown: &str, name: &str) -> String {
        let bytes = crate::convert(markdown, &Options::default())
            .and_then(|document| document.to_docx())
            .unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        xml
    }

    fn check(markdown: &str, expected: &[&str]) {
        let xml = document_xml(markdown);
        let styles: Vec<&str> = xml
            .split("<w:pStyle w:val=\"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect();
        assert_eq!(styles, expected, "for {markdown:?}");
    }

    #[test]
    fn the_paragraph_after_a_heading_is_first_paragraph() {
        check(
            "# A\n\none\n\ntwo\n\n## B\n\nthree\n",
            &[
                "Heading1",
                "FirstParagraph",
                "BodyText",
                "Heading2",
                "FirstParagraph",
            ],
        );
    }

    #[test]
    fn list_paragraphs_are_compact_when_tight_and_body_text_when_loose() {
        check("# A\n\n- a\n- b\n", &["Heading1", "Compact", "Compact"]);
        check("# A\n\n- a\n\n- b\n", &["Heading1", "BodyText", "BodyText"]);
    }

    #[test]
    fn quotes_code_and_rules_have_their_styles() {
        check(
            "> quoted\n\n```\ncode\n```\n\n***\n",
            &["BlockText", "SourceCode", "HorizontalRule"],
        );
    }

    #[test]
    fn a_remote_image_is_left_as_a_link_and_not_fetched() {
        let xml = document_xml("![logo](https://example.com/logo.png)\n");
        assert!(!xml.contains("<w:drawing>"));
        assert!(xml.contains("<w:hyperlink"));
        assert!(xml.contains(">logo</w:t>"));
    }

    #[test]
    fn links_to_headings_point_at_their_bookmark() {
        let xml = document_xml("see [below](#below) and [gone](#gone)\n\n# Below\n");
        assert!(
            xml.contains(r#"<w:bookmarkStart w:id="0" w:name="_Toc_docgen_0" />"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<w:hyperlink w:anchor="_Toc_docgen_0""#),
            "{xml}"
        );
        assert_eq!(xml.matches("<w:hyperlink").count(), 1, "{xml}");
        assert!(xml.contains(">gone</w:t>"));
    }

    #[test]
    fn the_table_of_contents_lists_the_headings() {
        let bytes = crate::convert(
            "# One\n\n## Two\n\n#### Four\n",
            &Options {
                toc: true,
                ..Options::default()
            },
        )
        .and_then(|document| document.to_docx())
        .unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        archive
            .by_name("word/document.xml")
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        let toc = &xml[..xml.find("w:val=\"Heading1\"").unwrap()];
        assert!(
            toc.contains("TOC \\o &quot;1-3&quot;") || toc.contains("TOC \\o \"1-3\""),
            "{toc}"
        );
        assert!(
            toc.contains(">One</w:t>") && toc.contains(">Two</w:t>"),
            "{toc}"
        );
        assert!(!toc.contains(">Four</w:t>"), "{toc}");
        assert!(toc.contains(r#"w:anchor="_Toc_docgen_1""#), "{toc}");
        assert_eq!(
            toc.matches("<w:sdt>").count(),
            1,
            "one content control: {toc}"
        );
    }

    #[test]
    fn a_footnote_that_cites_itself_ends() {
        let xml = document_xml("text[^a]\n\n[^a]: see[^a]\n");
        assert_eq!(xml.matches("<w:footnoteReference").count(), 1);
    }

    #[test]
    fn the_footer_says_page_x_of_y() {
        let bytes = crate::convert("text\n", &Options::default())
            .and_then(|document| document.to_docx())
            .unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut footer = String::new();
        archive
            .by_name("word/footer1.xml")
            .unwrap()
            .read_to_string(&mut footer)
            .unwrap();
        let page = footer.find("PAGE").unwrap();
        let pages = footer.find("NUMPAGES").unwrap();
        assert!(footer.find(">Page </w:t>").unwrap() < page, "{footer}");
        assert!(page < footer.find("> of </w:t>").unwrap(), "{footer}");
        assert!(footer.find("> of </w:t>").unwrap() < pages, "{footer}");
    }

    #[test]
    fn alerts_have_a_coloured_title_and_their_own_style() {
        check(
            "> [!TIP]\n> Use `--toc`.\n\n> [!CAUTION] Careful now\n> a\n>\n> b\n",
            &[
                "AlertTip",
                "AlertTip",
                "AlertCaution",
                "AlertCaution",
                "AlertCaution",
            ],
        );
        let xml = document_xml("> [!NOTE] Heads up\n> body\n");
        assert!(xml.contains(r#"<w:color w:val="0969DA" />"#), "{xml}");
        assert!(xml.contains(">Heads up</w:t>"), "{xml}");
    }

    #[test]
    fn code_in_a_known_language_is_coloured_and_unknown_code_is_plain() {
        let xml = document_xml("```rust\nfn main() {}\n```\n");
        // The keyword and the blank after it share a run.
        assert!(xml.contains(">fn </w:t>"), "{xml}");
        assert!(xml.contains("<w:color w:val="), "{xml}");
        let xml = document_xml("```\nfn main() {}\n```\n");
        assert!(xml.contains(">fn main() {}</w:t>"), "{xml}");
        assert!(!xml.contains("<w:color w:val="), "{xml}");
    }

    #[test]
    fn highlighted_code_fills_every_placeholder_in_the_body_and_the_footnotes() {
        let markdown = "```python\nx = 1\n```\n\n- item\n\n  ```python\n  x = 1\n  ```\n\n\
                        Note.[^a]\n\n[^a]: See:\n\n    ```rust\n    let y = 2;\n    ```\n";
        let document = document_xml(markdown);
        let footnotes = part_xml(markdown, "word/footnotes.xml");
        for xml in [&document, &footnotes] {
            assert!(!xml.contains("docgenCode"), "a placeholder is left: {xml}");
            assert!(xml.contains("<w:color w:val="), "{xml}");
        }
        assert_eq!(document.matches(">1</w:t>").count(), 2, "{document}");
        assert!(footnotes.contains(">let</w:t>"), "{footnotes}");
    }

    #[test]
    fn text_that_spells_a_placeholder_stays_text() {
        let forged = r#"<w:r><w:rPr><w:rStyle w:val="docgenCode0" /></w:rPr></w:r>"#;
        let xml = document_xml(&format!("`{forged}`\n\n```rust\nfn main() {{}}\n```\n"));
        assert!(xml.contains("&lt;w:rStyle w:val="), "{xml}");
        assert_eq!(xml.matches(">fn </w:t>").count(), 1, "{xml}");
    }

    #[test]
    fn the_same_markdown_gives_the_same_relationships() {
        let markdown: String = (0..12)
            .map(|n| format!("[link {n}](https://example.com/{n})\n\n"))
            .collect();
        let rels = part_xml(&markdown, "word/_rels/document.xml.rels");
        let targets: Vec<usize> = (0..12)
            .map(|n| rels.find(&format!("https://example.com/{n}\"")).unwrap())
            .collect();
        assert!(targets.is_sorted(), "{rels}");
    }

    #[test]
    fn a_code_block_keeps_its_lines_as_breaks() {
        let xml = document_xml("```\none\ntwo\n```\n");
        assert!(xml.contains(">one</w:t>"));
        assert!(xml.contains("<w:br w:type=\"textWrapping\" />"));
        assert!(xml.contains(">two</w:t>"));
    }
}
