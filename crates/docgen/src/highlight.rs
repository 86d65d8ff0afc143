//! Syntax highlighting of fenced code for the .docx, with syntect and the syntax definitions
//! bat and typst ship (two-face), so a ```` ```python ```` block is coloured the same way in
//! both outputs without any outside tool. (The PDF is highlighted by typst itself, through
//! the same syntect.) A language costs a few milliseconds the first time a document uses it,
//! to compile its grammar's regexes.

use std::sync::LazyLock;

use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme};
use syntect::parsing::SyntaxSet;
use two_face::theme::EmbeddedThemeName;

/// Larger blocks are left plain: highlighting is linear but slow per byte, and a generated
/// dump pasted into a summary should not cost seconds.
const MAX_HIGHLIGHTED_BYTES: usize = 64 * 1024;

/// Loaded on the first highlighted block only: a document without code never pays for it.
static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(two_face::syntax::extra_newlines);
/// GitHub's light colours, which read well on the code blocks' light grey shading.
static THEME: LazyLock<Theme> = LazyLock::new(|| {
    two_face::theme::extra()
        .get(EmbeddedThemeName::Github)
        .clone()
});

/// The look of one highlighted token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenStyle {
    /// `RRGGBB`.
    pub(crate) color: [u8; 3],
    pub(crate) bold: bool,
    pub(crate) italic: bool,
}

impl TokenStyle {
    pub(crate) fn hex(&self) -> String {
        let [r, g, b] = self.color;
        format!("{r:02X}{g:02X}{b:02X}")
    }
}

/// The lines of `code` (without their line ends) split into styled tokens, or `None` when
/// the language is unknown or the block too large, so the caller writes it plain.
pub(crate) fn lines<'c>(language: &str, code: &'c str) -> Option<Vec<Vec<(TokenStyle, &'c str)>>> {
    if language.is_empty() || code.len() > MAX_HIGHLIGHTED_BYTES {
        return None;
    }
    let syntaxes = &*SYNTAXES;
    let syntax = syntaxes.find_syntax_by_token(language)?;
    let mut highlighter = HighlightLines::new(syntax, &THEME);
    let mut out = Vec::new();
    for line in code.split_inclusive('\n') {
        // A grammar that fails on odd input leaves the whole block plain rather than half done.
        let regions = highlighter.highlight_line(line, syntaxes).ok()?;
        let tokens = regions
            .into_iter()
            .map(|(style, text)| {
                let style = TokenStyle {
                    color: [style.foreground.r, style.foreground.g, style.foreground.b],
                    bold: style.font_style.contains(FontStyle::BOLD),
                    italic: style.font_style.contains(FontStyle::ITALIC),
                };
                (style, text.trim_end_matches(['\n', '\r']))
            })
            .filter(|(_, text)| !text.is_empty())
            .collect();
        out.push(tokens);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_strings_get_different_colours() {
        let lines = lines("python", "def f():\n    return \"x\"\n").unwrap();
        assert_eq!(lines.len(), 2);
        let def = lines[0].iter().find(|(_, text)| *text == "def").unwrap().0;
        let string = lines[1]
            .iter()
            .find(|(_, text)| text.contains('x'))
            .unwrap()
            .0;
        assert_ne!(def.color, string.color);
        let text: String = lines[1].iter().map(|(_, text)| *text).collect();
        assert_eq!(text, "    return \"x\"");
    }

    #[test]
    fn common_languages_are_known_by_their_fence_names() {
        for language in [
            "rust", "python", "py", "sh", "bash", "json", "yaml", "toml", "c",
        ] {
            assert!(lines(language, "x\n").is_some(), "{language}");
        }
    }

    #[test]
    fn unknown_languages_and_huge_blocks_stay_plain() {
        assert!(lines("no-such-language", "x\n").is_none());
        assert!(lines("", "x\n").is_none());
        let huge = "x = 1\n".repeat(MAX_HIGHLIGHTED_BYTES);
        assert!(lines("python", &huge).is_none());
    }
}
