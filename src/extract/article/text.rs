//! Plain text of article content, one line per block: what `preview` shows
//! and what the evaluation under `benches/` scores.

use ego_tree::iter::Edge;

use crate::extract::parse_fragment;
use crate::sanitize::collapse_whitespace;

/// Elements that end a line of text.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "br"
            | "li"
            | "dt"
            | "dd"
            | "tr"
            | "td"
            | "th"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "pre"
            | "figure"
            | "figcaption"
            | "table"
            | "ul"
            | "ol"
            | "dl"
            | "hr"
            | "caption"
    )
}

/// The text of an HTML fragment, blocks on lines of their own, whitespace
/// within a line collapsed, empty lines dropped.
pub fn article_text(html: &str) -> String {
    let fragment = parse_fragment(html);
    let mut raw = String::new();
    for edge in fragment.root_element().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                scraper::Node::Text(text) => raw.push_str(text),
                scraper::Node::Element(e) if is_block(e.name()) => raw.push('\n'),
                _ => {}
            },
            Edge::Close(node) => {
                if node
                    .value()
                    .as_element()
                    .is_some_and(|e| is_block(e.name()))
                {
                    raw.push('\n');
                }
            }
        }
    }
    raw.lines()
        .map(collapse_whitespace)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}
