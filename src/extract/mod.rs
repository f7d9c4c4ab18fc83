//! Extraction: a decoded listing page and its source's selectors in, raw items out.
//!
//! Pure: no I/O, no clock, no store. Everything here takes the page text and a
//! base URL so tests can feed fixture pages directly. A page is untrusted: it
//! is parsed with its nesting bounded ([`parse_html`]) and what it yields is
//! held to the [`Limits`], with what was cut counted in [`Cut`].

/// A static [`scraper::Selector`] compiled on first use.
macro_rules! selector {
    ($css:literal) => {{
        static SELECTOR: std::sync::LazyLock<scraper::Selector> = std::sync::LazyLock::new(|| {
            scraper::Selector::parse($css)
                .unwrap_or_else(|e| unreachable!("constant selector {}: {e}", $css))
        });
        &*SELECTOR
    }};
}
pub(crate) use selector;

mod article;
mod image;
mod items;
mod parse;

use std::fmt;

use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::config::Limits;
use crate::sanitize::collapse_whitespace;
pub use article::{
    ArticleField, ArticleSelectors, DateOrigin, Found, FoundBy, RawArticle, article_text,
    extract_article,
};
pub use image::image_source;
pub(crate) use items::{FieldBound, KeptItems};
use items::{ItemFields, collect_items};
pub(crate) use parse::shallow_markup;
pub use parse::{MAX_DEPTH, parse_fragment, parse_html};

/// One field selector from the config: `"css"` or `"css @attr"`.
///
/// An empty CSS part (`"@href"`) means the item element itself, which is what a
/// card that *is* an `<a>` needs.
#[derive(Debug, Clone)]
pub struct FieldSelector {
    css: Option<Selector>,
    attr: Option<String>,
    source: String,
}

impl FieldSelector {
    /// Parses the selector grammar; the error says what is wrong with the CSS or attribute.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let (css_text, attr) = split_attr(trimmed);
        if let Some(attr) = &attr
            && !is_attr_name(attr)
        {
            return Err(format!("\"{attr}\" is not an attribute name"));
        }
        let css = if css_text.is_empty() {
            if attr.is_none() {
                return Err("empty selector".to_string());
            }
            None
        } else {
            Some(parse_css(css_text)?)
        };
        Ok(Self {
            css,
            attr,
            source: trimmed.to_string(),
        })
    }

    /// The selector as the user wrote it, for messages.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The attribute to read instead of the text, if any.
    pub fn attr(&self) -> Option<&str> {
        self.attr.as_deref()
    }

    /// The first element this selector designates within `scope`.
    pub fn first<'a>(&self, scope: ElementRef<'a>) -> Option<ElementRef<'a>> {
        match &self.css {
            Some(css) => scope.select(css).next(),
            None => Some(scope),
        }
    }

    /// How many elements the CSS part matches within `scope` (1 for the item itself).
    pub fn count(&self, scope: ElementRef<'_>) -> usize {
        match &self.css {
            Some(css) => scope.select(css).count(),
            None => 1,
        }
    }

    /// The first non-empty value within `scope`: the attribute if one is named, else the text.
    pub fn value(&self, scope: ElementRef<'_>) -> Option<String> {
        let element = self.first(scope)?;
        let value = match &self.attr {
            Some(attr) => collapse_whitespace(element.value().attr(attr)?),
            None => element_text(element),
        };
        (!value.is_empty()).then_some(value)
    }
}

/// Parses a CSS selector, turning the parser's error into one readable line.
pub fn parse_css(text: &str) -> Result<Selector, String> {
    Selector::parse(text).map_err(|e| format!("invalid CSS selector \"{text}\": {e}"))
}

/// Splits `"css @attr"` at the last ` @`; an escaped `\@` inside a class name stays CSS.
fn split_attr(text: &str) -> (&str, Option<String>) {
    if let Some(rest) = text.strip_prefix('@') {
        return ("", Some(rest.trim().to_string()));
    }
    match text.rfind(" @") {
        Some(at) => (
            text[..at].trim_end(),
            Some(text[at + 2..].trim().to_string()),
        ),
        None => (text, None),
    }
}

fn is_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

/// The selectors of one html source, compiled once at config load.
#[derive(Debug, Clone)]
pub struct ItemSelectors {
    /// Every match is one item.
    pub item: Selector,
    /// The `item` selector as written, for messages.
    pub item_source: String,
    /// Headline; default: text of the first `a[href]`.
    pub title: Option<FieldSelector>,
    /// Article URL; default: the first `a[href]`.
    pub link: Option<FieldSelector>,
    /// Publication date text or attribute.
    pub date: Option<FieldSelector>,
    /// Teaser; HTML is sanitised.
    pub summary: Option<FieldSelector>,
    /// Thumbnail URL.
    pub image: Option<FieldSelector>,
}

/// What one listing item yielded, before dates are parsed or the store is consulted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RawItem {
    /// Headline text, whitespace-collapsed.
    pub title: String,
    /// Absolute link to the article, as the page gave it.
    pub link: String,
    /// The item's identity, [`crate::identity::canonical_link`] of `link`: computed once here,
    /// where in-page dedupe needs it, and reused by the store.
    #[serde(skip)]
    pub canonical_link: String,
    /// The date text (or attribute value) as found on the page.
    pub date_text: Option<String>,
    /// Sanitised HTML teaser.
    pub summary: Option<String>,
    /// Absolute image URL.
    pub image: Option<String>,
}

/// Everything a listing page produced, with the counts `preview` and change detection need.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    /// Items with both a title and a link, first occurrence of each link only.
    pub items: Vec<RawItem>,
    /// How many elements `item` matched.
    pub matched: usize,
    /// Matches dropped because they had no title or no usable link.
    pub incomplete: usize,
    /// Matches dropped because their link repeated an earlier one on the page.
    pub duplicates: usize,
    /// The page's `<title>`, to help say what a page that matched nothing was.
    pub page_title: Option<String>,
    /// What the limits cut from the page.
    pub cut: Cut,
}

/// What a page's limits cut, so that the caller can say so once per source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cut {
    /// Matches not read because `page_items` items were kept before them.
    pub items: usize,
    /// Fields cut to `field_bytes` (article content to `content_bytes`), and
    /// URLs longer than that left out.
    pub fields: usize,
    /// Tags dropped for lying more than [`MAX_DEPTH`] levels deep (their text is kept).
    pub deep_tags: usize,
}

impl Cut {
    /// Whether nothing was cut.
    pub fn is_empty(&self) -> bool {
        *self == Cut::default()
    }
}

impl fmt::Display for Cut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} items past the page's item limit, {} fields cut to the size limit, {} tags nested deeper than {MAX_DEPTH} levels dropped",
            self.items, self.fields, self.deep_tags
        )
    }
}

/// Extracts the items of a listing page: at most `limits.page_items`, each
/// field within `limits.field_bytes`.
pub fn extract(html: &str, base: &Url, selectors: &ItemSelectors, limits: &Limits) -> Extraction {
    let parsed = parse::parse(html, parse::Kind::Document, MAX_DEPTH);
    let document = &parsed.html;
    let mut out = Extraction {
        page_title: page_title(document),
        cut: Cut {
            deep_tags: parsed.dropped_tags,
            ..Cut::default()
        },
        ..Extraction::default()
    };
    let elements: Vec<ElementRef<'_>> = document.select(&selectors.item).collect();
    out.matched = elements.len();
    collect_items(&elements, base, selectors, limits, &mut out);
    out
}

fn extract_item(
    element: ElementRef<'_>,
    base: &Url,
    selectors: &ItemSelectors,
    limits: &Limits,
) -> Option<RawItem> {
    ItemFields::read(element, selectors)
        .finish(base, limits)
        .item
}

/// Explains what a listing's selectors do that a user should look at: fields
/// whose selector matches several elements in an item (the first is used) and
/// the first matches that yield no title or no link. Only `preview` needs this,
/// so it is not part of [`extract`]'s hot path.
pub fn diagnose(html: &str, base: &Url, selectors: &ItemSelectors, limits: &Limits) -> Vec<String> {
    let document = parse_html(html);
    let fields = [
        ("title", &selectors.title),
        ("link", &selectors.link),
        ("date", &selectors.date),
        ("summary", &selectors.summary),
        ("image", &selectors.image),
    ];
    let mut several = [0usize; 5];
    let mut warnings = Vec::new();
    let mut incomplete_shown = 0;
    for (index, element) in document.select(&selectors.item).enumerate() {
        for (slot, (_, field)) in fields.iter().enumerate() {
            if field.as_ref().is_some_and(|f| f.count(element) > 1) {
                several[slot] += 1;
            }
        }
        if incomplete_shown < 3 && extract_item(element, base, selectors, limits).is_none() {
            incomplete_shown += 1;
            let text = element_text(element);
            let shown: String = text.chars().take(60).collect();
            warnings.push(format!(
                "item {}: no title or no usable link (text: {shown:?})",
                index + 1
            ));
        }
    }
    for (slot, (name, field)) in fields.iter().enumerate() {
        if let (Some(field), n @ 1..) = (field, several[slot]) {
            warnings.push(format!(
                "{name} selector {:?} matches several elements in {n} items; the first is used",
                field.as_str()
            ));
        }
    }
    warnings
}

/// The page's `<title>`, whitespace-collapsed.
pub fn page_title(document: &Html) -> Option<String> {
    let title = collapse_whitespace(&element_text(document.select(selector!("title")).next()?));
    (!title.is_empty()).then_some(title)
}

fn item_link(element: ElementRef<'_>, field: Option<&FieldSelector>) -> Option<String> {
    match field {
        Some(field) if field.attr().is_some() => field.value(element),
        Some(field) => {
            let target = field.first(element)?;
            let anchor = if target.value().attr("href").is_some() {
                Some(target)
            } else {
                first_link(target)
            };
            anchor
                .and_then(|a| a.value().attr("href"))
                .map(str::to_string)
        }
        None => first_link(element)
            .and_then(|a| a.value().attr("href"))
            .map(str::to_string),
    }
}

/// The element itself if it is a link, else its first descendant `a[href]`.
fn first_link(element: ElementRef<'_>) -> Option<ElementRef<'_>> {
    if element.value().name() == "a" && element.value().attr("href").is_some() {
        return Some(element);
    }
    element
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "a" && e.value().attr("href").is_some())
}

/// A `<time datetime>` carries a machine-readable date: prefer it over its text.
fn date_text(field: &FieldSelector, element: ElementRef<'_>) -> Option<String> {
    if field.attr().is_none()
        && let Some(datetime) = field
            .first(element)
            .and_then(|e| e.value().attr("datetime"))
            .map(collapse_whitespace)
            .filter(|d| !d.is_empty())
    {
        return Some(datetime);
    }
    field.value(element)
}

/// The element's text when it holds nothing but text, as most teasers do:
/// such a teaser needs neither serialising nor sanitising, only escaping.
fn plain_text(element: ElementRef<'_>) -> Option<String> {
    let mut text = String::new();
    for child in element.children() {
        match child.value() {
            scraper::Node::Text(t) => text.push_str(t),
            _ => return None,
        }
    }
    Some(text)
}

/// The image reference, unresolved: a named attribute (a `style` yields its
/// `url(...)`), else the element's real image source, looking past
/// lazy-loading placeholders. [`ItemFields::finish`] resolves it.
fn image_value(field: &FieldSelector, element: ElementRef<'_>) -> Option<String> {
    let target = field.first(element)?;
    match field.attr() {
        Some(attr) => {
            let value = target.value().attr(attr)?;
            Some(css_url(value).unwrap_or(value).to_string())
        }
        None => image_source(target),
    }
}

/// The URL inside the first `url(...)` of a CSS declaration, quotes removed.
pub fn css_url(style: &str) -> Option<&str> {
    let start = style.find("url(")? + 4;
    let end = start + style[start..].find(')')?;
    let inner = style[start..end].trim().trim_matches(['\'', '"']).trim();
    (!inner.is_empty()).then_some(inner)
}

/// Resolves `href` against the page and keeps it only if it is http(s):
/// `javascript:`, `mailto:` and `data:` links are not articles.
pub fn resolve_http_url(base: &Url, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let url = base.join(href).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// The text content of an element, whitespace-collapsed, without the text of
/// `script`, `style`, `noscript` and `template` (a lazy-loading `<noscript>`
/// holds markup as text, which is never part of a headline).
pub fn element_text(element: ElementRef<'_>) -> String {
    let mut text = String::new();
    collect_text(*element, &mut text);
    collapse_whitespace(&text)
}

/// A walk, not a recursion: however deep the tree, the stack stays flat.
fn collect_text(node: ego_tree::NodeRef<'_, scraper::Node>, out: &mut String) {
    let mut skipped: Option<ego_tree::NodeId> = None;
    for edge in node.traverse() {
        match (edge, skipped) {
            (ego_tree::iter::Edge::Close(n), Some(id)) if n.id() == id => skipped = None,
            (_, Some(_)) => {}
            (ego_tree::iter::Edge::Open(n), None) => match n.value() {
                scraper::Node::Text(text) => out.push_str(text),
                scraper::Node::Element(e)
                    if n != node
                        && matches!(e.name(), "script" | "style" | "noscript" | "template") =>
                {
                    skipped = Some(n.id());
                }
                _ => {}
            },
            (ego_tree::iter::Edge::Close(_), None) => {}
        }
    }
}

#[cfg(test)]
mod tests;
