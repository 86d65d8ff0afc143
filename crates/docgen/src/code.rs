//! Code blocks in the .docx. Highlighting is the slowest part of a conversion, so the
//! document is built and serialised while it still runs: a code block to be highlighted is
//! written as an empty placeholder run, and [`splice`] puts the block's runs in its place once
//! highlighting is done. A placeholder is marked by a run style only docgen writes: whatever
//! a user writes is escaped text inside `<w:t>`, so nothing in the input can pass for one.

use docx_rs::{BreakType, BuildXML, Run, XMLDocx};

use crate::highlight::{Highlighted, TokenStyle};

/// The run style naming a placeholder, followed by the block's index.
const PLACEHOLDER_STYLE: &str = "docgenCode";
/// How docx-rs writes that style, up to the index.
const PLACEHOLDER_MARK: &str = r#"<w:rStyle w:val="docgenCode"#;
const RUN_START: &str = "<w:r>";
const RUN_END: &str = "</w:r>";

/// Code outside any highlighted language: the style's own colour.
const PLAIN: TokenStyle = TokenStyle {
    color: [0, 0, 0],
    bold: false,
    italic: false,
};

/// A code block waiting for its highlighting: its language and its text.
pub(crate) type Pending = (String, String);

/// The run that stands for pending block `index` until [`splice`] replaces it.
pub(crate) fn placeholder(index: usize) -> Run {
    Run::new().style(&format!("{PLACEHOLDER_STYLE}{index}"))
}

/// The lines of a block that is not highlighted, each one plain token.
pub(crate) fn plain(literal: &str) -> impl Iterator<Item = Vec<(TokenStyle, &str)>> {
    literal.split('\n').map(|line| vec![(PLAIN, line)])
}

/// The runs of a code block: one per token, with a line break between lines.
pub(crate) fn runs<'c>(lines: impl Iterator<Item = Vec<(TokenStyle, &'c str)>>) -> Vec<Run> {
    let mut runs = Vec::new();
    for (index, tokens) in lines.enumerate() {
        if index > 0 {
            runs.push(Run::new().add_break(BreakType::TextWrapping));
        }
        runs.extend(
            tokens
                .into_iter()
                .map(|(style, text)| token_run(style, text)),
        );
    }
    runs
}

/// The XML of [`runs`], as it stands in the document.
pub(crate) fn runs_xml<'c>(lines: impl Iterator<Item = Vec<(TokenStyle, &'c str)>>) -> String {
    let xml: Vec<u8> = runs(lines).iter().flat_map(BuildXML::build).collect();
    String::from_utf8_lossy(&xml).into_owned()
}

/// One token. The colours are direct formatting: they come from the highlighting theme,
/// not from a style a template could sensibly restyle.
fn token_run(style: TokenStyle, text: &str) -> Run {
    let mut run = Run::new().add_text(text);
    if style != PLAIN {
        run = run.color(style.hex());
    }
    if style.bold {
        run = run.bold();
    }
    if style.italic {
        run = run.italic();
    }
    run
}

/// Replaces the placeholders in the document and its footnotes with the runs of
/// `pending[index]`, highlighted where `highlighted` has the block and plain otherwise.
pub(crate) fn splice(xml: &mut XMLDocx, pending: &[Pending], highlighted: &Highlighted) {
    if pending.is_empty() {
        return;
    }
    for part in [&mut xml.document, &mut xml.footnotes] {
        let text = String::from_utf8_lossy(part);
        if text.contains(PLACEHOLDER_MARK) {
            *part = splice_part(&text, pending, highlighted).into_bytes();
        }
    }
}

fn splice_part(part: &str, pending: &[Pending], highlighted: &Highlighted) -> String {
    let mut out = String::with_capacity(part.len());
    let mut rest = part;
    while let Some((before, index, after)) = next_placeholder(rest) {
        out.push_str(before);
        if let Some((language, literal)) = pending.get(index) {
            match highlighted.runs_xml(language, literal) {
                Some(xml) => out.push_str(xml),
                None => out.push_str(&runs_xml(plain(literal))),
            }
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The text before the first placeholder run in `part`, the run's block index, and the
/// text after the run.
fn next_placeholder(part: &str) -> Option<(&str, usize, &str)> {
    let mark = part.find(PLACEHOLDER_MARK)?;
    let start = part[..mark].rfind(RUN_START)?;
    let digits = &part[mark + PLACEHOLDER_MARK.len()..];
    let index = digits[..digits.find('"')?].parse().ok()?;
    let end = mark + part[mark..].find(RUN_END)? + RUN_END.len();
    Some((&part[..start], index, &part[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_run_is_found_whole() {
        let run = String::from_utf8(placeholder(12).build()).unwrap();
        let part = format!("<w:p>{run}<w:r><w:t>after</w:t></w:r></w:p>");
        let (before, index, after) = next_placeholder(&part).unwrap();
        assert_eq!(
            (before, index, after),
            ("<w:p>", 12, "<w:r><w:t>after</w:t></w:r></w:p>")
        );
    }

    #[test]
    fn lines_are_joined_by_breaks() {
        let xml: Vec<String> = runs(plain("a\nb"))
            .iter()
            .map(|run| String::from_utf8(run.build()).unwrap())
            .collect();
        assert_eq!(xml.len(), 3);
        assert!(xml[0].contains(">a</w:t>") && xml[2].contains(">b</w:t>"));
        assert!(
            xml[1].contains(r#"<w:br w:type="textWrapping" />"#),
            "{}",
            xml[1]
        );
    }
}
