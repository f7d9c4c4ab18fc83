//! `content = "auto"`: the main text block of an article page.
//!
//! Readability's idea, measured on the article corpora (see `benches/articles.py`):
//! every paragraph-like block scores by its length and commas, and hands its
//! score to its parent and, diminishing, to the ancestors above; the element
//! that collects the most, discounted by how much of its text is link text,
//! holds the article. Its siblings that score nearly as well (a body split
//! into several `<div>`s) join it. Navigation, share bars, related-article
//! lists and comments are recognised by their tags and class names and left
//! out before scoring, and link lists inside the winner are dropped when it
//! is written out.

use std::collections::HashMap;
use std::sync::LazyLock;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use regex::Regex;
use scraper::{ElementRef, Html, Node};

use super::{class_and_id, is_hidden};
use crate::extract::image_source;
use crate::sanitize::escape;

/// A block of text shorter than this (characters) is not a paragraph.
const MIN_PARAGRAPH: usize = 25;

/// Tags whose content is never article text.
fn is_skipped_tag(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "svg"
            | "nav"
            | "footer"
            | "aside"
            | "form"
            | "button"
            | "select"
            | "textarea"
            | "input"
            | "iframe"
            | "object"
            | "embed"
            | "canvas"
            | "dialog"
            | "menu"
            | "head"
            | "title"
    )
}

/// Class and id words of page furniture (Readability's "unlikely candidates", extended).
static UNLIKELY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)-ad-|^ads?$|^ad[-_]|advert|agegate|banner|breadcrumb|combx|comment|community|consent|cookie|disqus|extra|foot|gdpr|header|legends|menu|modal|newsletter|outbrain|pager|pagination|paywall|popup|promo|recommend|related|remark|replies|rss|share|sharing|shoutbox|sidebar|skyscraper|social|sponsor|subscri|supplemental|taboola|teaser|toolbar|tooltip|widget|yom-remote",
    )
    .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// Words that keep an otherwise unlikely element (`article-header`, `main-sidebar-content`).
static MAYBE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)and|article|body|column|content|main|shadow|story|entry|post-text")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// Words no article wrapper carries, even one that also says `article` or `content`.
static NEVER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)comment|disqus|related|share|sharing|social|newsletter|recommend|outbrain|taboola|breadcrumb|cookie|consent")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

static POSITIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

static NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|foot|footer|footnote|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// Whether an element and everything in it is left out of the article.
pub(super) fn is_furniture(element: ElementRef<'_>) -> bool {
    let value = element.value();
    let name = value.name();
    if is_skipped_tag(name) || is_hidden(element) {
        return true;
    }
    if matches!(name, "html" | "body" | "article" | "main" | "a") {
        return false;
    }
    if value.attr("role").is_some_and(|r| {
        matches!(
            r,
            "navigation" | "complementary" | "contentinfo" | "menu" | "banner" | "dialog"
        )
    }) {
        return true;
    }
    let words = class_and_id(element);
    if words.is_empty() {
        return false;
    }
    NEVER.is_match(&words) || (UNLIKELY.is_match(&words) && !MAYBE.is_match(&words))
}

/// How a class or id speaks for or against an element holding the article.
fn class_weight(element: ElementRef<'_>) -> f64 {
    let mut weight = 0.0;
    for word in [element.value().attr("class"), element.value().attr("id")]
        .into_iter()
        .flatten()
    {
        if NEGATIVE.is_match(word) {
            weight -= 25.0;
        }
        if POSITIVE.is_match(word) {
            weight += 25.0;
        }
    }
    weight
}

/// Text lengths of one element, furniture left out.
#[derive(Debug, Clone, Copy, Default)]
struct Lengths {
    /// Characters of visible text.
    text: usize,
    /// Of which inside links.
    link: usize,
    /// Commas (Latin, CJK and Arabic), a sign of prose.
    commas: usize,
    /// Characters of text directly inside (not in a child block).
    own: usize,
}

impl Lengths {
    fn link_density(&self) -> f64 {
        if self.text == 0 {
            0.0
        } else {
            self.link as f64 / self.text as f64
        }
    }
}

/// The page measured once: lengths per element, and which subtrees are furniture.
struct Measure {
    lengths: HashMap<NodeId, Lengths>,
    furniture: std::collections::HashSet<NodeId>,
}

fn is_comma(c: char) -> bool {
    matches!(c, ',' | '，' | '、' | '،' | '。')
}

fn measure(document: &Html) -> Measure {
    let mut lengths: HashMap<NodeId, Lengths> = HashMap::new();
    let mut furniture = std::collections::HashSet::new();
    let mut skipping: Option<NodeId> = None;
    let mut stack: Vec<(NodeId, Lengths, bool)> = Vec::new();
    for edge in document.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(_) => {
                        let Some(element) = ElementRef::wrap(node) else {
                            continue;
                        };
                        if is_furniture(element) {
                            furniture.insert(node.id());
                            skipping = Some(node.id());
                            continue;
                        }
                        let in_link = element.value().name() == "a"
                            || stack.last().is_some_and(|(_, _, link)| *link);
                        stack.push((node.id(), Lengths::default(), in_link));
                    }
                    Node::Text(text) => {
                        let chars = text.chars().filter(|c| !c.is_whitespace()).count();
                        let commas = text.chars().filter(|c| is_comma(*c)).count();
                        if let Some((_, top, in_link)) = stack.last_mut() {
                            top.text += chars;
                            top.own += chars;
                            top.commas += commas;
                            if *in_link {
                                top.link += chars;
                            }
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                    continue;
                }
                if skipping.is_some() || !node.value().is_element() {
                    continue;
                }
                if let Some((id, done, _)) = stack.pop() {
                    if let Some((_, parent, _)) = stack.last_mut() {
                        parent.text += done.text;
                        parent.link += done.link;
                        parent.commas += done.commas;
                        if is_inline(node.value()) {
                            parent.own += done.text;
                        }
                    }
                    lengths.insert(id, done);
                }
            }
        }
    }
    Measure { lengths, furniture }
}

fn is_inline(node: &Node) -> bool {
    node.as_element().is_some_and(|e| {
        matches!(
            e.name(),
            "a" | "span"
                | "em"
                | "strong"
                | "b"
                | "i"
                | "u"
                | "font"
                | "small"
                | "sup"
                | "sub"
                | "mark"
                | "q"
                | "cite"
                | "abbr"
                | "time"
                | "code"
                | "br"
                | "s"
                | "ins"
                | "del"
                | "bdi"
                | "bdo"
                | "var"
                | "kbd"
                | "label"
        )
    })
}

/// Whether an element is a paragraph for scoring: a paragraph tag, or a
/// container with enough text of its own (sites that write `<div>` for `<p>`).
fn is_paragraph(element: ElementRef<'_>, lengths: &Lengths) -> bool {
    match element.value().name() {
        "p" | "pre" | "blockquote" | "td" | "dd" => lengths.text >= MIN_PARAGRAPH,
        "div" | "section" | "article" | "span" | "font" | "li" => lengths.own >= MIN_PARAGRAPH,
        _ => false,
    }
}

fn paragraph_score(lengths: &Lengths) -> f64 {
    1.0 + lengths.commas as f64 + (lengths.text as f64 / 100.0).min(3.0)
}

/// The elements that hold the article, in page order: the best-scoring
/// container and the siblings that belong with it.
pub(super) fn main_blocks(document: &Html) -> Option<(Vec<ElementRef<'_>>, Furniture)> {
    let measure = measure(document);
    let mut scores: HashMap<NodeId, f64> = HashMap::new();
    for element in document
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
    {
        let Some(lengths) = measure.lengths.get(&element.id()) else {
            continue;
        };
        if !is_paragraph(element, lengths) {
            continue;
        }
        let score = paragraph_score(lengths);
        for (level, ancestor) in element
            .ancestors()
            .filter_map(ElementRef::wrap)
            .take(5)
            .enumerate()
        {
            let share = match level {
                0 => score,
                1 => score / 2.0,
                n => score / (n as f64 * 3.0),
            };
            *scores
                .entry(ancestor.id())
                .or_insert_with(|| class_weight(ancestor)) += share;
        }
    }
    let final_score = |id: NodeId, score: f64| {
        let density = measure.lengths.get(&id).map_or(0.0, Lengths::link_density);
        score * (1.0 - density)
    };
    let (best_id, best) = scores
        .iter()
        .map(|(id, score)| (*id, final_score(*id, *score)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let top = ElementRef::wrap(document.tree.get(best_id)?)?;
    let top = widen(top, &measure, &scores);
    let threshold = (best * 0.2).max(10.0);
    let mut blocks = Vec::new();
    match top.parent().and_then(ElementRef::wrap) {
        Some(parent) if top.value().name() != "body" => {
            for sibling in parent.children().filter_map(ElementRef::wrap) {
                if sibling == top
                    || belongs_with(sibling, &measure, &scores, threshold, &final_score)
                {
                    blocks.push(sibling);
                }
            }
        }
        _ => blocks.push(top),
    }
    Some((blocks, Furniture(measure)))
}

/// A container that wraps only the winner (plus furniture) says the same and
/// may carry the body's siblings (a lead paragraph before the body `<div>`):
/// climb while the parent's text is hardly more than the winner's.
fn widen<'a>(
    top: ElementRef<'a>,
    measure: &Measure,
    _scores: &HashMap<NodeId, f64>,
) -> ElementRef<'a> {
    let mut current = top;
    while let Some(parent) = current.parent().and_then(ElementRef::wrap) {
        if matches!(parent.value().name(), "body" | "html") {
            break;
        }
        let (Some(inner), Some(outer)) = (
            measure.lengths.get(&current.id()),
            measure.lengths.get(&parent.id()),
        ) else {
            break;
        };
        if outer.text as f64 > inner.text as f64 * 1.1 + 20.0 {
            break;
        }
        current = parent;
    }
    current
}

fn belongs_with(
    sibling: ElementRef<'_>,
    measure: &Measure,
    scores: &HashMap<NodeId, f64>,
    threshold: f64,
    final_score: &dyn Fn(NodeId, f64) -> f64,
) -> bool {
    if measure.furniture.contains(&sibling.id()) {
        return false;
    }
    if let Some(score) = scores.get(&sibling.id())
        && final_score(sibling.id(), *score) >= threshold
    {
        return true;
    }
    let Some(lengths) = measure.lengths.get(&sibling.id()) else {
        return false;
    };
    if sibling.value().name() != "p" {
        return false;
    }
    let density = lengths.link_density();
    (lengths.text > 80 && density < 0.25)
        || (lengths.text > 0 && density == 0.0 && sentence_end(sibling))
}

fn sentence_end(element: ElementRef<'_>) -> bool {
    let text: String = element.text().collect();
    text.trim_end().ends_with(['.', '!', '?', '。'])
}

/// The page's measurements, kept to write the winner out without its furniture.
pub(super) struct Furniture(Measure);

/// Markup tags written out as they are; other elements give only their content.
fn kept_tag(name: &str) -> bool {
    matches!(
        name,
        "p" | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "ul"
            | "ol"
            | "li"
            | "dl"
            | "dt"
            | "dd"
            | "blockquote"
            | "pre"
            | "code"
            | "em"
            | "strong"
            | "b"
            | "i"
            | "u"
            | "s"
            | "sub"
            | "sup"
            | "q"
            | "cite"
            | "br"
            | "hr"
            | "figure"
            | "figcaption"
            | "table"
            | "thead"
            | "tbody"
            | "tr"
            | "td"
            | "th"
            | "caption"
            | "a"
            | "img"
            | "div"
            | "section"
    )
}

/// Whether a block inside the article is a list of links (related stories,
/// tags, a table of contents) rather than text.
fn is_link_list(element: ElementRef<'_>, lengths: &Lengths) -> bool {
    matches!(
        element.value().name(),
        "ul" | "ol" | "div" | "section" | "table" | "p" | "dl"
    ) && lengths.text > 0
        && lengths.link_density() > 0.5
        && !(element.value().name() == "p" && lengths.text > 200)
}

/// Writes the blocks as HTML (unsanitised: the caller sanitises), leaving out
/// furniture, link lists and the headline.
pub(super) fn write_blocks(blocks: &[ElementRef<'_>], furniture: &Furniture) -> String {
    let mut out = String::new();
    for block in blocks {
        write_element(*block, &furniture.0, &mut out);
    }
    out
}

fn write_element(root: ElementRef<'_>, measure: &Measure, out: &mut String) {
    let mut skipped: Option<NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipped.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(text) => out.push_str(&escape(text)),
                    Node::Element(e) => {
                        let Some(element) = ElementRef::wrap(node) else {
                            continue;
                        };
                        let dropped = measure.furniture.contains(&node.id())
                            || e.name() == "h1"
                            || measure
                                .lengths
                                .get(&node.id())
                                .is_none_or(|l| is_link_list(element, l) && node != *root);
                        if dropped && node != *root {
                            skipped = Some(node.id());
                        } else if kept_tag(e.name()) {
                            open_tag(element, out);
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipped == Some(node.id()) {
                    skipped = None;
                } else if skipped.is_none()
                    && let Some(e) = node.value().as_element()
                    && kept_tag(e.name())
                    && !matches!(e.name(), "br" | "hr" | "img")
                {
                    out.push_str("</");
                    out.push_str(e.name());
                    out.push('>');
                }
            }
        }
    }
}

fn open_tag(element: ElementRef<'_>, out: &mut String) {
    let name = element.value().name();
    out.push('<');
    out.push_str(name);
    let attr = match name {
        "a" => element
            .value()
            .attr("href")
            .map(|v| ("href", v.to_string())),
        "img" => image_source(element).map(|v| ("src", v)),
        _ => None,
    };
    if let Some((key, value)) = attr {
        out.push(' ');
        out.push_str(key);
        out.push_str("=\"");
        out.push_str(&escape(&value));
        out.push('"');
    }
    if name == "img"
        && let Some(alt) = element.value().attr("alt")
    {
        out.push_str(" alt=\"");
        out.push_str(&escape(alt));
        out.push('"');
    }
    out.push('>');
}
