//! Article pages: `[source.article]`'s content, date and author from one page,
//! each by its selector or found automatically (`"auto"`).
//!
//! A selector that finds nothing falls back to the automatic finder, so a
//! changed article template degrades to `auto` instead of losing the field.

mod author;
mod date;
mod jsonld;
mod text;

use std::cell::OnceCell;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html};
use url::Url;

use super::items::{FieldBound, Teaser};
use super::{Cut, FieldSelector, MAX_DEPTH, date_text, parse};
use crate::config::Limits;
use crate::dates::DateContext;
use crate::sanitize::{escape, sanitize_html};
pub use date::DateOrigin;
use jsonld::JsonLd;
pub use text::article_text;

/// How one `[source.article]` field is read.
#[derive(Debug, Clone, Default)]
pub enum ArticleField {
    /// Not read.
    #[default]
    Off,
    /// Found automatically (`"auto"`).
    Auto,
    /// By this selector, automatically when it finds nothing.
    Selector(FieldSelector),
}

/// `[source.article]`: what to read from each new item's own page.
#[derive(Debug, Clone, Default)]
pub struct ArticleSelectors {
    /// Full text (sanitised HTML).
    pub content: ArticleField,
    /// Publication date.
    pub date: ArticleField,
    /// Byline.
    pub author: ArticleField,
    /// Hosts besides the source's own that article links may point to.
    pub allow_hosts: Vec<String>,
}

impl ArticleSelectors {
    /// Every field found automatically (`auto = true` and nothing else).
    pub fn auto() -> Self {
        Self {
            content: ArticleField::Auto,
            date: ArticleField::Auto,
            author: ArticleField::Auto,
            allow_hosts: Vec::new(),
        }
    }
}

/// How a field's value was found, for `preview`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Found {
    /// By the configured selector.
    Selector,
    /// Automatically, as configured.
    Auto,
    /// Automatically, because the configured selector found nothing.
    Fallback,
}

/// How each field of a [`RawArticle`] was found (`None`: not found).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FoundBy {
    /// The content.
    pub content: Option<Found>,
    /// The date.
    pub date: Option<Found>,
    /// Where on the page an automatic date was.
    pub date_origin: Option<DateOrigin>,
    /// The author.
    pub author: Option<Found>,
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
    /// How each field was found.
    pub found: FoundBy,
    /// What the limits cut from the page.
    pub cut: Cut,
}

/// The page parsed once, with its JSON-LD read on first need.
struct ArticlePage<'a> {
    document: &'a Html,
    base: &'a Url,
    jsonld: OnceCell<JsonLd>,
}

impl ArticlePage<'_> {
    fn jsonld(&self) -> &JsonLd {
        self.jsonld.get_or_init(|| JsonLd::read(self.document))
    }

    fn root(&self) -> ElementRef<'_> {
        self.document.root_element()
    }
}

/// Reads one field: the selector's value when it has one, else the automatic finder's.
fn read_field<T>(
    field: &ArticleField,
    by_selector: impl FnOnce(&FieldSelector) -> Option<T>,
    auto: impl FnOnce() -> Option<T>,
) -> Option<(T, Found)> {
    match field {
        ArticleField::Off => None,
        ArticleField::Auto => auto().map(|v| (v, Found::Auto)),
        ArticleField::Selector(selector) => by_selector(selector)
            .map(|v| (v, Found::Selector))
            .or_else(|| auto().map(|v| (v, Found::Fallback))),
    }
}

/// Extracts the `[source.article]` fields from an article page: the content
/// within `limits.content_bytes`, the date and byline within `limits.field_bytes`.
/// `ctx` is what an automatic date must be readable with.
pub fn extract_article(
    html: &str,
    base: &Url,
    selectors: &ArticleSelectors,
    limits: &Limits,
    ctx: &DateContext<'_>,
) -> RawArticle {
    let parsed = parse::parse(html, parse::Kind::Document, MAX_DEPTH);
    let page = ArticlePage {
        document: &parsed.html,
        base,
        jsonld: OnceCell::new(),
    };
    let mut content_bound = FieldBound::new(limits.content_bytes);
    let mut field_bound = FieldBound::new(limits.field_bytes);
    let mut found = FoundBy::default();
    let content = read_field(
        &selectors.content,
        |f| Teaser::read(f, page.root())?.finish(base),
        || auto_content(&page, html, parsed.dropped_tags == 0),
    )
    .map(|(c, how)| {
        found.content = Some(how);
        content_bound.html(c)
    });
    let mut date_origin = None;
    let date_text = read_field(
        &selectors.date,
        |f| date_text(f, page.root()),
        || {
            date::find_date(page.document, page.jsonld(), page.base, ctx).map(|d| {
                date_origin = Some(d.origin);
                d.text
            })
        },
    )
    .map(|(d, how)| {
        found.date = Some(how);
        field_bound.text(d)
    });
    found.date_origin = date_origin;
    let author = read_field(
        &selectors.author,
        |f| f.value(page.root()),
        || author::find_author(page.document, page.jsonld()),
    )
    .map(|(a, how)| {
        found.author = Some(how);
        field_bound.text(a)
    });
    RawArticle {
        content,
        date_text,
        author,
        found,
        cut: Cut {
            items: 0,
            fields: content_bound.cut + field_bound.cut,
            deep_tags: parsed.dropped_tags,
        },
    }
}

/// Text shorter than this (characters) from the page's markup gives way to
/// a longer JSON-LD `articleBody`: the page renders its text with a script.
const SCRIPTED_BODY: usize = 500;

/// The main text block by Readability's algorithm (measured against medee's
/// own paragraph scoring on the article corpora: token F1 0.948 against
/// 0.901, see `benches/articles.py`), sanitised; JSON-LD's `articleBody`
/// when the markup holds little text.
fn auto_content(page: &ArticlePage<'_>, html: &str, shallow: bool) -> Option<String> {
    let (markup_chars, from_markup) = readability(page, html, shallow)
        .map(|html| sanitize_html(&html, page.base))
        .map(|html| (article_text(&html).chars().count(), html))
        .filter(|(chars, _)| *chars > 0)
        .map_or((0, None), |(chars, html)| (chars, Some(html)));
    if markup_chars < SCRIPTED_BODY
        && let Some(body) = page.jsonld().body()
        && body.chars().count() > markup_chars
    {
        return Some(paragraphs(body));
    }
    from_markup
}

/// Elements beyond which a page gets no automatic content. Readability's
/// cost grows faster than the page: 110,000 small elements (5 MB, within
/// `max_body`) took 11 s and 340 MB; the largest article page of the corpora
/// has under 4,000 elements.
const MAX_READABILITY_ELEMENTS: usize = 30_000;

/// Readability (the `dom_smoothie` crate) over the page. A page whose nesting
/// the bounded parser had to cut is given as that parser left it, so the
/// crate's own parse stays as shallow as every other.
fn readability(page: &ArticlePage<'_>, html: &str, shallow: bool) -> Option<String> {
    let bounded;
    let input = if shallow {
        html
    } else {
        bounded = page.document.html();
        bounded.as_str()
    };
    let config = dom_smoothie::Config {
        max_elements_to_parse: MAX_READABILITY_ELEMENTS,
        ..dom_smoothie::Config::default()
    };
    let mut reader =
        dom_smoothie::Readability::new(input, Some(page.base.as_str()), Some(config)).ok()?;
    let article = reader.parse().ok()?;
    Some(article.content.to_string())
}

/// Plain text as escaped `<p>` paragraphs, one per line.
fn paragraphs(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("<p>{}</p>", escape(l)))
        .collect()
}

/// The `content` of the `<meta>` elements named one of `names` (the name
/// read from the first of `attrs` the element has), in the order of `names`,
/// then of the page.
fn meta_values(document: &Html, names: &[&str], attrs: &[&str]) -> Vec<String> {
    let mut found: Vec<(usize, String)> = document
        .select(selector!("meta[content]"))
        .filter_map(|meta| {
            let value = meta.value();
            let name = attrs
                .iter()
                .find_map(|attr| value.attr(attr))?
                .trim()
                .to_ascii_lowercase();
            let rank = names.iter().position(|n| *n == name)?;
            Some((rank, value.attr("content")?.to_string()))
        })
        .collect();
    found.sort_by_key(|(rank, _)| *rank);
    found.into_iter().map(|(_, content)| content).collect()
}

/// The class and id of an element, space-separated, for pattern tests.
fn class_and_id(element: ElementRef<'_>) -> String {
    let value = element.value();
    match (value.attr("class"), value.attr("id")) {
        (Some(class), Some(id)) => format!("{class} {id}"),
        (Some(one), None) | (None, Some(one)) => one.to_string(),
        (None, None) => String::new(),
    }
}

/// Words of a class or id that name an edit's date rather than the publication's.
const EDIT_WORDS: &str = "update|modif|edited|revis";

/// Words of a class or id that name another date than the publication's, or
/// a part of the page whose dates and names belong to other articles or to readers.
static ELSEWHERE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("(?i){EDIT_WORDS}|comment|reply|replies|expir|related|recommend|sidebar|widget|newsletter|footer|calendar|profile"))
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// Whether an element lies where dates and bylines are not the article's:
/// navigation, the site's header (it shows today's date) and footer,
/// sidebars (an `<article>` element's own header, footer and sidebar are the
/// article's), scripts, hidden parts, comments, related lists, quoted or
/// embedded posts (`blockquote`), readers' profiles, or an element named
/// for another date.
pub(super) fn is_elsewhere(element: ElementRef<'_>) -> bool {
    let lineage: Vec<ElementRef<'_>> = std::iter::once(element)
        .chain(element.ancestors().filter_map(ElementRef::wrap))
        .collect();
    let article_level = lineage.iter().position(|e| e.value().name() == "article");
    lineage.iter().enumerate().any(|(level, e)| {
        let within_article = article_level.is_some_and(|article| level < article);
        let holds_headline =
            e.value().name() == "header" && e.select(selector!("h1")).next().is_some();
        is_elsewhere_element(e.value().name(), within_article, holds_headline)
            || is_hidden(*e)
            || (level < NAMED_LEVELS && names_elsewhere(*e, within_article))
    })
}

/// Elements whose content is not the article's. An `<article>`'s own
/// `<footer>` and `<header>` are the article's, the page's are not (a site
/// header shows today's date), but for a `<header>` that holds the `<h1>`.
fn is_elsewhere_element(name: &str, within_article: bool, holds_headline: bool) -> bool {
    match name {
        "footer" => !within_article,
        "header" => !within_article && !holds_headline,
        "nav" | "aside" | "script" | "style" | "template" | "noscript" | "select" | "option"
        | "blockquote" => true,
        _ => false,
    }
}

/// Class or id words of a date element that name the publication: hAtom
/// and WordPress mark the published date `updated` as well
/// (`entry-date published updated`), which then does not make it an edit's date.
static PUBLICATION_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)publish|pubdate|post[-_]?date|entry[-_]?date|posted|created")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// [`EDIT_WORDS`] alone.
static EDIT_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("(?i){EDIT_WORDS}")).unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// An article's own footer (`entry-footer`, `post-footer`, `asset-footer`),
/// where blogs print the date and author, unlike the site's footer.
static OWN_FOOTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(entry|post|article|asset|story)[-_]?footer$")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// Parts that an `<article>` element may have of its own, holding its date
/// and byline: its sidebar (`podcast-description__sidebar`) and footer.
static ARTICLE_PART: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)sidebar|footer").unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// How far up class and id names are read: a page's outer layout
/// (`layout has-sidebar`) says nothing about a date deep inside it.
const NAMED_LEVELS: usize = 6;

/// Whether a class or id word of the element names a part that is not the
/// article's own (`has-sidebar`, which describes a layout, does not count,
/// nor a word that names the publication itself, `ArticleHeaderComment_publishDate`).
fn names_elsewhere(element: ElementRef<'_>, within_article: bool) -> bool {
    let names = class_and_id(element);
    let names_publication = PUBLICATION_NAME.is_match(&names);
    names.split_whitespace().any(|word| {
        ELSEWHERE.is_match(word) && !is_the_articles_own(word, within_article, names_publication)
    })
}

/// Whether a word that [`ELSEWHERE`] matches still names the article's own
/// part: a layout (`has-sidebar`), the article's footer or, inside an
/// `<article>`, its sidebar, a publication date, an edit's mark on an
/// element also named for the publication, or the author's profile box
/// (`author-profile`), where the byline is.
fn is_the_articles_own(word: &str, within_article: bool, names_publication: bool) -> bool {
    let lower = word.to_ascii_lowercase();
    word.starts_with("has-")
        || (lower.contains("profile") && lower.contains("author"))
        || OWN_FOOTER.is_match(word)
        || PUBLICATION_NAME.is_match(word)
        || (within_article && ARTICLE_PART.is_match(word))
        || (names_publication && EDIT_NAME.is_match(word))
}

/// Hidden by attribute or inline style: not shown, so not the article.
fn is_hidden(element: ElementRef<'_>) -> bool {
    let value = element.value();
    value.attr("hidden").is_some()
        || value.attr("aria-hidden") == Some("true")
        || value.attr("style").is_some_and(|s| {
            let s = s.replace(' ', "").to_ascii_lowercase();
            s.contains("display:none") || s.contains("visibility:hidden")
        })
}

#[cfg(test)]
mod tests;
