//! A bound on how deeply the document nests, applied to comrak's tree before either output
//! walks it. Both walks recurse once per level, and neither Word (nine list levels) nor a
//! page has room for a thousand; so a container deeper than [`MAX_DEPTH`] is dissolved into
//! its parent, keeping every word of its content at the deepest level shown.

use comrak::nodes::{AstNode, NodeValue};

/// The deepest a node may sit below the document. Lists take two levels each (list, item),
/// so this allows 12 nested lists (Word shows 9) or 24 nested quotes: beyond any real
/// document, and within typst's own layout depth limit (72 nested layouts, of which each
/// quote or list level uses more than one).
pub(crate) const MAX_DEPTH: usize = 24;

/// Dissolves every container below [`MAX_DEPTH`] into its parent, without recursion (the
/// input may nest ten thousand levels).
pub(crate) fn limit<'a>(root: &'a AstNode<'a>) {
    let mut stack = vec![(root, 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth >= MAX_DEPTH {
            flatten_children(node);
        }
        for child in node.children() {
            stack.push((child, depth + 1));
        }
    }
}

/// Replaces each container child of `node` by its own children until none is left, so the
/// content stays in document order one level down.
fn flatten_children<'a>(node: &'a AstNode<'a>) {
    let mut next = node.first_child();
    while let Some(child) = next {
        if is_dissolvable(&child.data().value) {
            let grandchildren: Vec<_> = child.children().collect();
            for grandchild in &grandchildren {
                child.insert_before(grandchild);
            }
            next = grandchildren.first().copied().or(child.next_sibling());
            child.detach();
        } else {
            next = child.next_sibling();
        }
    }
}

/// Containers whose meaning is only their nesting: quotes, lists and inline emphasis. Tables,
/// paragraphs, links' targets and the like are kept, since they bound their own depth.
fn is_dissolvable(value: &NodeValue) -> bool {
    matches!(
        value,
        NodeValue::BlockQuote
            | NodeValue::MultilineBlockQuote(_)
            | NodeValue::Alert(_)
            | NodeValue::List(_)
            | NodeValue::Item(_)
            | NodeValue::TaskItem(_)
            | NodeValue::Emph
            | NodeValue::Strong
            | NodeValue::Strikethrough
            | NodeValue::Link(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_and_limit(markdown: &str) -> (usize, String) {
        let arena = comrak::Arena::new();
        let root = comrak::parse_document(&arena, markdown, &comrak::Options::default());
        limit(root);
        let mut deepest = 0;
        let mut text = String::new();
        let mut stack = vec![(root, 0usize)];
        while let Some((node, depth)) = stack.pop() {
            deepest = deepest.max(depth);
            if let NodeValue::Text(literal) = &node.data().value {
                text.push_str(literal);
            }
            for child in node.reverse_children() {
                stack.push((child, depth + 1));
            }
        }
        (deepest, text)
    }

    #[test]
    fn ten_thousand_quotes_are_cut_to_the_limit_keeping_the_text() {
        let markdown = format!("{}deep\n", "> ".repeat(10_000));
        let (deepest, text) = parse_and_limit(&markdown);
        assert!(deepest <= MAX_DEPTH + 3, "{deepest}");
        assert_eq!(text, "deep");
    }

    #[test]
    fn deep_lists_keep_every_item_in_order() {
        let mut markdown = String::new();
        for level in 0..200 {
            markdown.push_str(&format!("{}- i{level}\n", "  ".repeat(level)));
        }
        let (deepest, text) = parse_and_limit(&markdown);
        assert!(deepest <= MAX_DEPTH + 3, "{deepest}");
        let expected: String = (0..200).map(|level| format!("i{level}")).collect();
        assert_eq!(text, expected);
    }

    #[test]
    fn shallow_documents_are_untouched() {
        let (deepest, text) = parse_and_limit("> a\n>\n> - b\n>   - *c*\n");
        // document, quote, list, item, list, item, paragraph, emphasis, text.
        assert_eq!(deepest, 8);
        assert_eq!(text, "abc");
    }
}
