//! Headings as link targets: each heading gets a number in document order, and GitHub's slug
//! of its text maps `[text](#slug)` links to that number. Both outputs name their targets
//! from these numbers (a Typst label, a Word bookmark), so a link to a heading works in both.

use std::collections::HashMap;

use comrak::nodes::{AstNode, NodeValue};

/// Every heading's number, by node and by slug.
#[derive(Default)]
pub(crate) struct Anchors {
    by_node: HashMap<usize, usize>,
    by_slug: HashMap<String, usize>,
}

impl Anchors {
    pub(crate) fn new<'a>(root: &'a AstNode<'a>) -> Anchors {
        let mut anchors = Anchors::default();
        let mut slug_counts: HashMap<String, usize> = HashMap::new();
        for node in root.descendants() {
            if let NodeValue::Heading(_) = node.data().value {
                let number = anchors.by_node.len();
                anchors.by_node.insert(address(node), number);
                let slug = unique_slug(&slug(&plain_text(node)), &mut slug_counts);
                anchors.by_slug.entry(slug).or_insert(number);
            }
        }
        anchors
    }

    /// The number of a heading node.
    pub(crate) fn of_heading(&self, node: &AstNode<'_>) -> Option<usize> {
        self.by_node.get(&address(node)).copied()
    }

    /// The number of the heading a `#fragment` link points at, if one has that slug.
    pub(crate) fn of_fragment(&self, url: &str) -> Option<usize> {
        self.by_slug.get(url.strip_prefix('#')?).copied()
    }
}

fn address(node: &AstNode<'_>) -> usize {
    std::ptr::from_ref(node) as usize
}

/// The text of a node's descendants, for alt text, slugs and table of contents entries.
pub(crate) fn plain_text<'a>(node: &'a AstNode<'a>) -> String {
    let mut text = String::new();
    for descendant in node.descendants() {
        match &descendant.data().value {
            NodeValue::Text(literal) => text.push_str(literal),
            NodeValue::Code(code) => text.push_str(&code.literal),
            NodeValue::SoftBreak | NodeValue::LineBreak => text.push(' '),
            _ => {}
        }
    }
    text
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn slug(text: &str) -> String {
    text.trim()
        .chars()
        .filter_map(|character| match character {
            ' ' => Some('-'),
            '-' | '_' => Some(character),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// GitHub's rule for repeated headings: the second `intro` is `intro-1`, and so on.
fn unique_slug(slug: &str, counts: &mut HashMap<String, usize>) -> String {
    let count = counts.entry(slug.to_owned()).or_insert(0);
    let unique = if *count == 0 {
        slug.to_owned()
    } else {
        format!("{slug}-{count}")
    };
    *count += 1;
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_github() {
        let mut counts = HashMap::new();
        assert_eq!(
            unique_slug(&slug("Big Results!"), &mut counts),
            "big-results"
        );
        assert_eq!(
            unique_slug(&slug("Big Results?"), &mut counts),
            "big-results-1"
        );
        assert_eq!(slug("API `v2` – Übersicht"), "api-v2--übersicht");
    }

    #[test]
    fn fragments_find_headings_in_order() {
        let arena = comrak::Arena::new();
        let root = comrak::parse_document(
            &arena,
            "# Intro\n\n## Intro\n\n## Next step\n",
            &comrak::Options::default(),
        );
        let anchors = Anchors::new(root);
        assert_eq!(anchors.of_fragment("#intro"), Some(0));
        assert_eq!(anchors.of_fragment("#intro-1"), Some(1));
        assert_eq!(anchors.of_fragment("#next-step"), Some(2));
        assert_eq!(anchors.of_fragment("#missing"), None);
        assert_eq!(anchors.of_fragment("intro"), None);
    }
}
