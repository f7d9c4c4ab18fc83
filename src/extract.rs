//! Extraction: a decoded listing page and its source's selectors in, raw items out.
//!
//! Pure: no I/O, no clock, no store. Everything here takes the page text and a
//! base URL so tests can feed fixture pages directly.

use std::collections::HashSet;
use std::sync::mpsc;

use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::identity::canonical_link;
use crate::sanitize::{collapse_whitespace, escape, sanitize_html};

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

/// `[source.article]`: what to read from each new item's own page.
#[derive(Debug, Clone)]
pub struct ArticleSelectors {
    /// Full text (sanitised HTML).
    pub content: Option<FieldSelector>,
    /// Publication date.
    pub date: Option<FieldSelector>,
    /// Byline.
    pub author: Option<FieldSelector>,
    /// Hosts besides the source's own that article links may point to.
    pub allow_hosts: Vec<String>,
}

/// What an article page yielded, before its date is parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawArticle {
    /// Sanitised HTML of the article body.
    pub content: Option<String>,
    /// The date text (or attribute value) as found on the page.
    pub date_text: Option<String>,
    /// Byline text.
    pub author: Option<String>,
}

/// Extracts the `[source.article]` fields from an article page.
pub fn extract_article(html: &str, base: &Url, selectors: &ArticleSelectors) -> RawArticle {
    let document = Html::parse_document(html);
    let root = document.root_element();
    RawArticle {
        content: selectors
            .content
            .as_ref()
            .and_then(|f| summary_html(f, root, base)),
        date_text: selectors.date.as_ref().and_then(|f| date_text(f, root)),
        author: selectors.author.as_ref().and_then(|f| f.value(root)),
    }
}

/// What one listing item yielded, before dates are parsed or the store is consulted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RawItem {
    /// Headline text, whitespace-collapsed.
    pub title: String,
    /// Absolute link to the article, as the page gave it.
    pub link: String,
    /// The item's identity, [`canonical_link`] of `link`: computed once here,
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
}

/// Extracts the items of a listing page.
pub fn extract(html: &str, base: &Url, selectors: &ItemSelectors) -> Extraction {
    let document = Html::parse_document(html);
    let mut out = Extraction {
        page_title: page_title(&document),
        ..Extraction::default()
    };
    let elements: Vec<ElementRef<'_>> = document.select(&selectors.item).collect();
    out.matched = elements.len();
    let mut seen = HashSet::new();
    for item in finish_items(&elements, base, selectors) {
        let Some(item) = item else {
            out.incomplete += 1;
            continue;
        };
        if seen.insert(item.canonical_link.clone()) {
            out.items.push(item);
        } else {
            out.duplicates += 1;
        }
    }
    out
}

/// Listings with at least this many items are finished on a second thread.
const PIPELINED_ITEMS: usize = 256;

/// Reads and finishes every matched item, in page order. On a long listing
/// the DOM is read on this thread (it cannot leave it) while a second one
/// finishes what was read (collapsing, escaping, sanitising, resolving URLs).
fn finish_items(
    elements: &[ElementRef<'_>],
    base: &Url,
    selectors: &ItemSelectors,
) -> Vec<Option<RawItem>> {
    if elements.len() < PIPELINED_ITEMS {
        return elements
            .iter()
            .map(|e| ItemFields::read(*e, selectors).finish(base))
            .collect();
    }
    std::thread::scope(|scope| {
        let (batches, received) = mpsc::sync_channel::<Vec<ItemFields>>(4);
        let finisher = scope.spawn(move || {
            received
                .into_iter()
                .flatten()
                .map(|fields| fields.finish(base))
                .collect::<Vec<_>>()
        });
        for batch in elements.chunks(64) {
            let fields = batch
                .iter()
                .map(|e| ItemFields::read(*e, selectors))
                .collect();
            if batches.send(fields).is_err() {
                break;
            }
        }
        drop(batches);
        finisher
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// An item's fields as the DOM holds them, copied out so that finishing them
/// needs no DOM (which cannot leave the thread that parsed it).
struct ItemFields {
    title: Option<String>,
    href: Option<String>,
    date_text: Option<String>,
    summary: Option<Teaser>,
    image: Option<String>,
}

/// A teaser before escaping or sanitising.
enum Teaser {
    /// An attribute's value: escaped as it is.
    Attribute(String),
    /// An element holding only text: collapsed and escaped.
    Text(String),
    /// An element with markup inside: sanitised.
    Html(String),
}

impl Teaser {
    fn read(field: &FieldSelector, element: ElementRef<'_>) -> Option<Self> {
        if field.attr().is_some() {
            return field.value(element).map(Teaser::Attribute);
        }
        let target = field.first(element)?;
        Some(match plain_text(target) {
            Some(text) => Teaser::Text(text),
            None => Teaser::Html(target.inner_html()),
        })
    }

    fn finish(self, base: &Url) -> Option<String> {
        let html = match self {
            Teaser::Attribute(value) => escape(&value),
            Teaser::Text(text) => escape(&collapse_whitespace(&text)),
            Teaser::Html(html) => sanitize_html(&html, base),
        };
        let html = html.trim();
        (!html.is_empty()).then(|| html.to_string())
    }
}

impl ItemFields {
    fn read(element: ElementRef<'_>, selectors: &ItemSelectors) -> Self {
        ItemFields {
            title: match &selectors.title {
                Some(field) => field.value(element),
                None => first_link(element).map(element_text),
            },
            href: item_link(element, selectors.link.as_ref()),
            date_text: selectors.date.as_ref().and_then(|f| date_text(f, element)),
            summary: selectors
                .summary
                .as_ref()
                .and_then(|f| Teaser::read(f, element)),
            image: selectors
                .image
                .as_ref()
                .and_then(|f| image_value(f, element)),
        }
    }

    /// The item, or `None` without a title or a usable link.
    fn finish(self, base: &Url) -> Option<RawItem> {
        let title = self.title.filter(|t| !t.is_empty())?;
        let link = resolve_http_url(base, &self.href?)?;
        Some(RawItem {
            title,
            canonical_link: canonical_link(&link),
            link,
            date_text: self.date_text,
            summary: self.summary.and_then(|t| t.finish(base)),
            image: self
                .image
                .and_then(|raw| resolve_http_url(base, raw.trim())),
        })
    }
}

fn extract_item(element: ElementRef<'_>, base: &Url, selectors: &ItemSelectors) -> Option<RawItem> {
    ItemFields::read(element, selectors).finish(base)
}

/// Explains what a listing's selectors do that a user should look at: fields
/// whose selector matches several elements in an item (the first is used) and
/// the first matches that yield no title or no link. Only `preview` needs this,
/// so it is not part of [`extract`]'s hot path.
pub fn diagnose(html: &str, base: &Url, selectors: &ItemSelectors) -> Vec<String> {
    let document = Html::parse_document(html);
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
        if incomplete_shown < 3 && extract_item(element, base, selectors).is_none() {
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
    let selector = Selector::parse("title").ok()?;
    let title = collapse_whitespace(&element_text(document.select(&selector).next()?));
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

fn summary_html(field: &FieldSelector, element: ElementRef<'_>, base: &Url) -> Option<String> {
    Teaser::read(field, element)?.finish(base)
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

fn image_source(element: ElementRef<'_>) -> Option<String> {
    let img = if element.value().name() == "img" {
        Some(element)
    } else {
        element
            .descendants()
            .filter_map(ElementRef::wrap)
            .find(|e| e.value().name() == "img")
    };
    if let Some(img) = img {
        let attrs = img.value();
        let lazy = ["data-src", "data-lazy-src", "data-original"]
            .iter()
            .find_map(|a| attrs.attr(a).filter(|v| !v.trim().is_empty()));
        return match attrs.attr("src").filter(|s| !is_placeholder(s)) {
            Some(src) => Some(src.to_string()),
            None => lazy.map(str::to_string),
        };
    }
    element
        .value()
        .attr("style")
        .and_then(css_url)
        .map(str::to_string)
}

/// A `src` that only stands in until a script loads the real image.
fn is_placeholder(src: &str) -> bool {
    let src = src.trim();
    src.is_empty() || src.starts_with("data:") || src.ends_with("blank.gif")
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

fn collect_text(node: ego_tree::NodeRef<'_, scraper::Node>, out: &mut String) {
    for child in node.children() {
        match child.value() {
            scraper::Node::Text(text) => out.push_str(text),
            scraper::Node::Element(e)
                if matches!(e.name(), "script" | "style" | "noscript" | "template") => {}
            scraper::Node::Element(_) => collect_text(child, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selectors(item: &str, fields: [Option<&str>; 5]) -> ItemSelectors {
        let f = |s: Option<&str>| s.map(|s| FieldSelector::parse(s).expect("valid selector"));
        ItemSelectors {
            item: parse_css(item).expect("valid item"),
            item_source: item.to_string(),
            title: f(fields[0]),
            link: f(fields[1]),
            date: f(fields[2]),
            summary: f(fields[3]),
            image: f(fields[4]),
        }
    }

    fn base() -> Url {
        Url::parse("https://example.mn/news/").expect("valid url")
    }

    #[test]
    fn splits_attribute_from_css() {
        let s = FieldSelector::parse("meta[property='og:title'] @content").expect("parses");
        assert_eq!(s.attr(), Some("content"));
        let s = FieldSelector::parse(r".article-list.uk-hidden\@m a").expect("parses");
        assert_eq!(s.attr(), None);
        let s = FieldSelector::parse("@href").expect("parses");
        assert_eq!(s.attr(), Some("href"));
        assert!(FieldSelector::parse("div[").is_err());
        assert!(FieldSelector::parse("a @").is_err());
        assert!(FieldSelector::parse("a @1x").is_err());
    }

    #[test]
    fn defaults_take_first_link_and_its_text() {
        let html = r#"<ul><li><a href="/a/1"> First
            story </a></li><li><a href="https://other.mn/b">Second</a></li><li>no link</li></ul>"#;
        let out = extract(html, &base(), &selectors("li", [None; 5]));
        assert_eq!(out.matched, 3);
        assert_eq!(out.incomplete, 1);
        assert_eq!(out.items[0].title, "First story");
        assert_eq!(out.items[0].link, "https://example.mn/a/1");
        assert_eq!(out.items[1].link, "https://other.mn/b");
    }

    #[test]
    fn repeated_links_on_a_page_are_one_item() {
        let html = r#"<div class="i"><a href="/r/abc">One</a></div>
            <div class="i"><a href="/r/abc#top">One again</a></div>"#;
        let out = extract(html, &base(), &selectors(".i", [None; 5]));
        assert_eq!(out.items.len(), 1);
        assert_eq!(out.duplicates, 1);
    }

    #[test]
    fn images_come_from_style_url_and_lazy_attributes() {
        let html = r#"<div class="i"><a href="/1">T</a>
              <div class="bg" style="background-image: url('/files/medium/x.jpeg')"></div></div>
            <div class="i"><a href="/2">U</a>
              <img src="data:image/svg+xml,%3Csvg%3E" data-lazy-src="/up/y.jpg"></div>"#;
        let style = extract(
            html,
            &base(),
            &selectors(".i", [None, None, None, None, Some(".bg @style")]),
        );
        assert_eq!(
            style.items[0].image.as_deref(),
            Some("https://example.mn/files/medium/x.jpeg")
        );
        let lazy = extract(
            html,
            &base(),
            &selectors(".i", [None, None, None, None, Some("img")]),
        );
        assert_eq!(
            lazy.items[1].image.as_deref(),
            Some("https://example.mn/up/y.jpg")
        );
    }

    #[test]
    fn time_datetime_is_preferred_over_its_text() {
        let html =
            r#"<p><a href="/1">T</a><time datetime="2024-12-20T10:00:00Z">Friday</time></p>"#;
        let out = extract(
            html,
            &base(),
            &selectors("p", [None, None, Some("time"), None, None]),
        );
        assert_eq!(
            out.items[0].date_text.as_deref(),
            Some("2024-12-20T10:00:00Z")
        );
    }

    #[test]
    fn summary_is_sanitised_and_non_http_links_are_dropped() {
        let html = r#"<p><a href="javascript:alert(1)">Bad</a></p>
            <p><a href="/ok">Good</a><span class="s"><b>Bold</b><script>alert(1)</script>
            <img src="/i.png" onerror="x()"></span></p>"#;
        let out = extract(
            html,
            &base(),
            &selectors("p", [None, None, None, Some(".s"), None]),
        );
        assert_eq!(out.items.len(), 1);
        let summary = out.items[0].summary.as_deref().expect("summary");
        assert!(summary.contains("<b>Bold</b>"));
        assert!(!summary.contains("script"));
        assert!(!summary.contains("onerror"));
        assert!(summary.contains("https://example.mn/i.png"));
    }

    #[test]
    fn plain_teaser_is_escaped_and_collapsed_without_sanitising() {
        let html = "<div><a href=\"/r/1\">Title</a><p class=\"s\">\n  Coal &amp; copper &lt;up&gt; ]]&gt;\u{1}\n  again  </p></div>";
        let out = extract(
            html,
            &base(),
            &selectors("div", [None, None, None, Some(".s"), None]),
        );
        assert_eq!(
            out.items[0].summary.as_deref(),
            Some("Coal &amp; copper &lt;up&gt; ]]&gt; again")
        );
    }

    #[test]
    fn a_long_listing_finished_on_a_second_thread_keeps_order_and_counts() {
        let html: String = (0..300)
            .map(|i| {
                let title = if i == 5 { String::new() } else { format!("Мэдээ {i}") };
                format!(
                    "<div><a href=\"/r/{}\">{title}</a><p class=\"s\">A &amp; <b>B</b> {i}</p></div>",
                    i % 290
                )
            })
            .collect();
        let out = extract(
            &html,
            &base(),
            &selectors("div", [None, None, None, Some(".s"), None]),
        );
        // Item 5 has no title, so item 295 is the first usable /r/5.
        assert_eq!((out.matched, out.incomplete, out.duplicates), (300, 1, 9));
        let expected: Vec<usize> = (0..290).filter(|&i| i != 5).chain([295]).collect();
        assert_eq!(out.items.len(), expected.len());
        for (item, i) in out.items.iter().zip(expected) {
            assert_eq!(item.title, format!("Мэдээ {i}"));
            assert_eq!(item.link, format!("https://example.mn/r/{}", i % 290));
            assert_eq!(
                item.summary.as_deref(),
                Some(format!("A &amp; <b>B</b> {i}").as_str())
            );
        }
    }

    #[test]
    fn css_url_reads_quoted_and_bare_forms() {
        assert_eq!(css_url("background-image: url('/a.jpg')"), Some("/a.jpg"));
        assert_eq!(
            css_url("background:url(\"b.png\") no-repeat"),
            Some("b.png")
        );
        assert_eq!(css_url("background:url( c.gif )"), Some("c.gif"));
        assert_eq!(css_url("color: red"), None);
    }
}
