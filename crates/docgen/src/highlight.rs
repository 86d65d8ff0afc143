//! Syntax highlighting of fenced code for the .docx, with syntect and the syntax definitions
//! bat and typst ship (two-face), so a ```` ```python ```` block is coloured the same way in
//! both outputs without any outside tool. (The PDF is highlighted by typst itself, through
//! the same syntect.) A language costs a few milliseconds the first time a document uses it,
//! to compile its grammar's regexes.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::thread::JoinHandle;

use comrak::nodes::{AstNode, NodeCodeBlock, NodeValue};

use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme};
use syntect::parsing::SyntaxSet;
use two_face::theme::EmbeddedThemeName;

use crate::code;

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

/// One line of a code block: styled byte ranges of the block's text.
pub(crate) type Line = Vec<(TokenStyle, Range<usize>)>;

/// A code block's language (its info string's first word) and its text without the final
/// line end: the key a block is highlighted under.
pub(crate) fn key(code: &NodeCodeBlock) -> (&str, &str) {
    let language = code.info.split_whitespace().next().unwrap_or("");
    let literal = code.literal.strip_suffix('\n').unwrap_or(&code.literal);
    (language, literal)
}

/// Starts loading the syntax definitions on another thread when `markdown` seems to hold
/// fenced code, so they load while the document is parsed.
pub(crate) fn preload(markdown: &str) {
    if markdown.contains("```") || markdown.contains("~~~") {
        std::thread::spawn(|| LazyLock::force(&SYNTAXES));
    }
}

/// Whether a block is highlighted at all: it names a language and is not huge.
pub(crate) fn wanted(language: &str, literal: &str) -> bool {
    !language.is_empty() && literal.len() <= MAX_HIGHLIGHTED_BYTES
}

/// A language still to be highlighted, with its document's distinct blocks in it.
type Language = (String, HashSet<String>);
/// The languages no one has started on yet.
type Queue = Mutex<Vec<Language>>;
/// A highlighted block: its language and text, and the XML of its runs.
type Entry = ((String, String), String);

/// Highlighting running on other threads, waited for when its result is first needed.
#[derive(Debug)]
pub(crate) struct Highlighting {
    queue: Arc<Queue>,
    workers: Mutex<Vec<JoinHandle<Vec<Entry>>>>,
    done: OnceLock<Highlighted>,
}

impl Highlighting {
    /// Starts highlighting `root`'s code blocks on other threads, a language at a time,
    /// while the caller goes on building the document. Compiling a grammar's regexes is
    /// most of the cost, and the onig crate compiles one regex at a time per process (a
    /// global lock), so there is one worker per core left over by the caller, not more.
    pub(crate) fn start<'a>(root: &'a AstNode<'a>) -> Highlighting {
        let mut by_language: HashMap<String, HashSet<String>> = HashMap::new();
        for node in root.descendants() {
            if let NodeValue::CodeBlock(code) = &node.data().value {
                let (language, literal) = key(code);
                if wanted(language, literal) {
                    by_language
                        .entry(language.to_owned())
                        .or_default()
                        .insert(literal.to_owned());
                }
            }
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = cores.saturating_sub(1).max(1).min(by_language.len());
        let queue = Arc::new(Mutex::new(by_language.into_iter().collect::<Vec<_>>()));
        let workers = (0..workers)
            .map(|_| {
                let queue = Arc::clone(&queue);
                std::thread::spawn(move || highlight_queued(&queue))
            })
            .collect();
        Highlighting {
            queue,
            workers: Mutex::new(workers),
            done: OnceLock::new(),
        }
    }

    /// The highlighted blocks, once all are done. The caller highlights the languages no
    /// worker has started on rather than wait idle. A grammar that panics leaves its
    /// language's blocks plain rather than failing the document.
    pub(crate) fn wait(&self) -> &Highlighted {
        self.done.get_or_init(|| {
            let mut entries =
                std::panic::catch_unwind(AssertUnwindSafe(|| highlight_queued(&self.queue)))
                    .unwrap_or_default();
            let workers = self
                .workers
                .lock()
                .map(|mut workers| std::mem::take(&mut *workers))
                .unwrap_or_default();
            for worker in workers {
                entries.extend(worker.join().unwrap_or_default());
            }
            Highlighted(entries.into_iter().collect())
        })
    }
}

/// Every highlighted code block of a document, by language and text, as the XML of its
/// runs: the workers serialise them too, so that little is left to do once they are done.
#[derive(Debug, Default)]
pub(crate) struct Highlighted(HashMap<(String, String), String>);

impl Highlighted {
    /// The XML of a block's runs, or `None` when it stays plain.
    pub(crate) fn runs_xml(&self, language: &str, literal: &str) -> Option<&str> {
        self.0
            .get(&(language.to_owned(), literal.to_owned()))
            .map(String::as_str)
    }
}

/// Highlights languages taken from `queue` until none is left.
fn highlight_queued(queue: &Queue) -> Vec<Entry> {
    let mut out = Vec::new();
    while let Some((language, literals)) = queue.lock().ok().and_then(|mut queue| queue.pop()) {
        for literal in literals {
            if let Some(lines) = lines(&language, &literal) {
                let xml = code::runs_xml(styled(&lines, &literal));
                out.push(((language.clone(), literal), xml));
            }
        }
    }
    out
}

/// A block's lines as styled text.
fn styled<'c>(
    lines: &[Line],
    literal: &'c str,
) -> impl Iterator<Item = Vec<(TokenStyle, &'c str)>> {
    lines.iter().map(move |line| {
        line.iter()
            .map(|(style, range)| (*style, &literal[range.clone()]))
            .collect()
    })
}

/// The lines of `code` (without their line ends) split into styled tokens, or `None` when
/// the language is unknown, so the caller writes it plain.
fn lines(language: &str, code: &str) -> Option<Vec<Line>> {
    let syntaxes = &*SYNTAXES;
    let syntax = syntaxes.find_syntax_by_token(language)?;
    let mut highlighter = HighlightLines::new(syntax, &THEME);
    let mut out = Vec::new();
    let mut line_start = 0;
    for line in code.split_inclusive('\n') {
        // A grammar that fails on odd input leaves the whole block plain rather than half done.
        let regions = highlighter.highlight_line(line, syntaxes).ok()?;
        let mut tokens = Vec::new();
        let mut start = line_start;
        for (style, text) in regions {
            let end = start + text.len();
            let visible = start..start + text.trim_end_matches(['\n', '\r']).len();
            if !visible.is_empty() {
                push_token(&mut tokens, token_style(style), visible, code);
            }
            start = end;
        }
        line_start += line.len();
        out.push(tokens);
    }
    Some(out)
}

/// Adds a token to a line, merged into the one before when the two look the same: each
/// token becomes a run in the .docx, and grammars split a line far more finely than its
/// colours change. Blanks look the same in any colour, so they join their neighbour.
fn push_token(tokens: &mut Line, style: TokenStyle, range: Range<usize>, code: &str) {
    let blank = |range: &Range<usize>| code[range.clone()].trim().is_empty();
    match tokens.last_mut() {
        Some((last_style, last))
            if last.end == range.start
                && (*last_style == style || blank(last) || blank(&range)) =>
        {
            if blank(last) {
                *last_style = style;
            }
            last.end = range.end;
        }
        _ => tokens.push((style, range)),
    }
}

fn token_style(style: syntect::highlighting::Style) -> TokenStyle {
    TokenStyle {
        color: [style.foreground.r, style.foreground.g, style.foreground.b],
        bold: style.font_style.contains(FontStyle::BOLD),
        italic: style.font_style.contains(FontStyle::ITALIC),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn highlighted(markdown: &str) -> Highlighting {
        let arena = comrak::Arena::new();
        let root = comrak::parse_document(&arena, markdown, &crate::markdown_options());
        Highlighting::start(root)
    }

    fn tokens<'c>(language: &str, code: &'c str) -> Vec<Vec<(TokenStyle, &'c str)>> {
        styled(&lines(language, code).unwrap(), code).collect()
    }

    #[test]
    fn keywords_and_strings_get_different_colours() {
        let code = "def f():\n    return \"x\"";
        let lines = tokens("python", code);
        assert_eq!(lines.len(), 2);
        let def = lines[0]
            .iter()
            .find(|(_, text)| text.trim() == "def")
            .unwrap()
            .0;
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
    fn neighbours_that_look_the_same_share_one_token() {
        let code = "    let total = compute(a, b) + 1; // sum\n\n\tx";
        let lines = tokens("rust", code);
        let text: Vec<String> = lines
            .iter()
            .map(|line| line.iter().map(|(_, text)| *text).collect())
            .collect();
        assert_eq!(text, code.split('\n').collect::<Vec<_>>());
        for line in &lines {
            for pair in line.windows(2) {
                assert_ne!(pair[0].0, pair[1].0, "same look, two tokens: {line:?}");
            }
            assert!(
                line.len() <= 1 || line.iter().all(|(_, text)| !text.trim().is_empty()),
                "a blank token of its own: {line:?}"
            );
        }
        assert!(lines[1].is_empty() && lines[2].len() == 1, "{lines:?}");
    }

    #[test]
    fn common_languages_are_known_by_their_fence_names() {
        let languages = [
            "rust", "python", "py", "sh", "bash", "json", "yaml", "toml", "c",
        ];
        let markdown: String = languages
            .iter()
            .map(|language| format!("```{language}\nx\n```\n\n"))
            .collect();
        let found = highlighted(&markdown);
        for language in languages {
            assert!(found.wait().runs_xml(language, "x").is_some(), "{language}");
        }
    }

    #[test]
    fn the_waiting_caller_highlights_what_no_worker_took() {
        let code = "fn f() {}";
        let queued = vec![("rust".to_owned(), HashSet::from([code.to_owned()]))];
        let highlighting = Highlighting {
            queue: Arc::new(Mutex::new(queued)),
            workers: Mutex::new(Vec::new()),
            done: OnceLock::new(),
        };
        let xml = highlighting.wait().runs_xml("rust", code).unwrap();
        assert!(xml.contains("<w:color w:val="), "{xml}");
    }

    #[test]
    fn unknown_languages_and_huge_blocks_stay_plain() {
        let huge = "x = 1\n".repeat(MAX_HIGHLIGHTED_BYTES);
        let found = highlighted(&format!(
            "```no-such-language\nx\n```\n\n```\nx\n```\n\n```python\n{huge}```\n"
        ));
        assert!(found.wait().runs_xml("no-such-language", "x").is_none());
        assert!(found.wait().runs_xml("", "x").is_none());
        assert!(found.wait().runs_xml("python", huge.trim_end()).is_none());
    }
}
