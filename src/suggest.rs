//! Selector suggestion: find the repeated blocks of a listing page that are
//! news items and derive short, robust selectors for them.
//!
//! Every same-site link votes for its ancestors. Ancestors are grouped by their
//! path of tags and stable classes from the root, so the cards of one list fall
//! into one group even when each sits in its own grid cell. A group is a
//! candidate when it repeats (at least three members), when most members hold
//! exactly one article-like link with headline-length text, and its score
//! rewards size, distinct links, headline text, semantic names (`article`,
//! `li`, `…news…`, `…item…`) and punishes navigation, headers, footers, asides
//! and "most read" blocks. Selectors use element names and classes, never
//! `nth-child`, and skip classes that look generated or layout-only.
//!
//! Pure: page text, base URL and clock in; candidates and TOML out.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::dates::{DateContext, parse_date};
use crate::extract::{css_url, element_text, resolve_http_url};

static ANCHORS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a[href]").expect("static selector"));

/// A group of repeated blocks that may be the news items.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Candidate {
    /// CSS selector matching the blocks.
    pub item: String,
    /// Blocks with a headline and an article link.
    pub items: usize,
    /// Higher is more likely the news list.
    pub score: f64,
    /// The first few headlines, to recognise the list.
    pub sample: Vec<String>,
    /// Field selectors derived within the blocks.
    pub fields: Fields,
}

/// Field selectors within one item, relative to it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Fields {
    /// Headline.
    pub title: Option<String>,
    /// Article link.
    pub link: Option<String>,
    /// Date text or attribute.
    pub date: Option<String>,
    /// Teaser.
    pub summary: Option<String>,
    /// Thumbnail.
    pub image: Option<String>,
}

/// Page facts the TOML block needs.
#[derive(Debug, Clone, Default)]
pub struct PageInfo {
    /// `<title>`.
    pub title: Option<String>,
    /// Primary subtag of `<html lang>`.
    pub language: Option<String>,
}

/// Ranks the candidate item groups of a listing page, best first.
pub fn candidates(html: &str, base: &Url, now: DateTime<Utc>) -> (Vec<Candidate>, PageInfo) {
    let document = crate::extract::parse_html(html);
    let info = page_info(&document);
    let groups = group_link_ancestors(&document, base);
    let mut ranked: Vec<Candidate> = Vec::new();
    let mut seen_link_sets: Vec<HashSet<String>> = Vec::new();
    let mut scored: Vec<(f64, Group<'_>)> = groups
        .into_values()
        .filter_map(|g| score_group(&g, base).map(|s| (s, g)))
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.first_position.cmp(&b.1.first_position))
    });
    for (score, group) in scored {
        let links: HashSet<String> = group.main_links(base);
        // The same list seen through a wrapper, a cell or a second copy: keep the best view.
        if seen_link_sets.iter().any(|s| overlap(s, &links) > 0.8) {
            continue;
        }
        let Some(item) = item_selector(&document, &group, base) else {
            continue;
        };
        let valid: Vec<ElementRef<'_>> = group
            .members
            .iter()
            .copied()
            .filter(|m| is_item(*m, base))
            .collect();
        let sample = valid
            .iter()
            .take(3)
            .filter_map(|m| headline(*m, base))
            .collect();
        let fields = derive_fields(&valid, base, now);
        seen_link_sets.push(links);
        ranked.push(Candidate {
            item,
            items: valid.len(),
            score: (score * 10.0).round() / 10.0,
            sample,
            fields,
        });
    }
    (ranked, info)
}

fn overlap(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    let smaller = a.len().min(b.len()).max(1);
    a.intersection(b).count() as f64 / smaller as f64
}

fn page_info(document: &Html) -> PageInfo {
    let language = Selector::parse("html")
        .ok()
        .and_then(|s| document.select(&s).next())
        .and_then(|h| h.value().attr("lang"))
        .and_then(|l| l.split(['-', '_']).next())
        .map(str::to_ascii_lowercase)
        .filter(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    PageInfo {
        title: crate::extract::page_title(document),
        language,
    }
}

struct Group<'a> {
    members: Vec<ElementRef<'a>>,
    first_position: usize,
}

impl Group<'_> {
    /// The main article link of each member.
    fn main_links(&self, base: &Url) -> HashSet<String> {
        self.members
            .iter()
            .filter_map(|m| main_link(*m, base))
            .map(|(l, _)| l)
            .collect()
    }
}

/// Groups every ancestor (up to six levels) of every same-site link by its tag/class path.
fn group_link_ancestors<'a>(document: &'a Html, base: &Url) -> HashMap<String, Group<'a>> {
    let mut groups: HashMap<String, Group<'a>> = HashMap::new();
    let mut member_ids: HashMap<String, HashSet<ego_tree::NodeId>> = HashMap::new();
    for (position, anchor) in document.select(&ANCHORS).enumerate() {
        if article_link(anchor, base).is_none() {
            continue;
        }
        let chain = std::iter::once(anchor).chain(anchor.ancestors().filter_map(ElementRef::wrap));
        for element in chain.take(6) {
            if matches!(element.value().name(), "body" | "html" | "main") {
                break;
            }
            let path = path_signature(element);
            if member_ids
                .entry(path.clone())
                .or_default()
                .insert(element.id())
            {
                let group = groups.entry(path).or_insert_with(|| Group {
                    members: Vec::new(),
                    first_position: position,
                });
                group.members.push(element);
            }
        }
    }
    groups
}

/// `body>div.container>div#left>div.news-box`: tags with stable classes from the root.
fn path_signature(element: ElementRef<'_>) -> String {
    let mut parts: Vec<String> = std::iter::once(element)
        .chain(element.ancestors().filter_map(ElementRef::wrap))
        .map(|e| {
            let mut part = e.value().name().to_string();
            for class in stable_classes(e) {
                part.push('.');
                part.push_str(&class);
            }
            part
        })
        .collect();
    parts.reverse();
    parts.join(">")
}

/// Classes worth naming in a selector: not generated hashes, not grid/layout or state classes.
fn stable_classes(element: ElementRef<'_>) -> Vec<String> {
    let mut classes: Vec<String> = element
        .value()
        .classes()
        .filter(|c| is_stable_class(c))
        .map(str::to_string)
        .collect();
    classes.sort();
    classes
}

fn is_stable_class(class: &str) -> bool {
    let digits = class.bytes().filter(u8::is_ascii_digit).count();
    let generated = class.starts_with("css-")
        || class.starts_with("sc-")
        || class.starts_with("jsx-")
        || (digits >= 3 && class.len() >= 6)
        || class.len() > 40;
    let layout = matches!(
        class,
        "row"
            | "clearfix"
            | "active"
            | "current"
            | "selected"
            | "first"
            | "last"
            | "odd"
            | "even"
            | "container"
    ) || class.starts_with("col-")
        || class.starts_with("col_")
        || class.starts_with("mb-")
        || class.starts_with("mt-")
        || class.starts_with("my-")
        || class.starts_with("p-")
        || class.starts_with("px-")
        || class.starts_with("py-")
        || class.starts_with("uk-width")
        || class.starts_with("uk-margin")
        || class.starts_with("uk-padding");
    !generated && !layout
}

/// The absolute URL of a same-site link that looks like an article, with its text.
fn article_link(anchor: ElementRef<'_>, base: &Url) -> Option<(String, String)> {
    let href = anchor.value().attr("href")?;
    let url = Url::parse(&resolve_http_url(base, href)?).ok()?;
    let bare = |h: &str| h.trim_start_matches("www.").to_ascii_lowercase();
    if url.host_str().map(bare) != base.host_str().map(bare) {
        return None;
    }
    let mut page = base.clone();
    page.set_fragment(None);
    let mut target = url.clone();
    target.set_fragment(None);
    if target == page || !looks_like_article(&url) {
        return None;
    }
    Some((
        crate::identity::canonical_link(url.as_str()),
        element_text(anchor),
    ))
}

/// Article URLs carry an id or a slug: `/mn/read/398211`, `/r/n7k2qa`, `/2024/07/a-long-slug/`.
fn looks_like_article(url: &Url) -> bool {
    let segments: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
    let Some(last) = segments.last() else {
        return url
            .query()
            .is_some_and(|q| q.bytes().any(|b| b.is_ascii_digit()));
    };
    let lower = last.to_ascii_lowercase();
    let listing_word = matches!(
        lower.as_str(),
        "category"
            | "tag"
            | "tags"
            | "page"
            | "author"
            | "search"
            | "about"
            | "contact"
            | "news"
            | "feed"
    ) || segments.iter().any(|s| {
        matches!(*s, "page" | "angilal" | "more" | "i" | "c")
            || ["author", "category", "tag"]
                .iter()
                .any(|w| s.to_ascii_lowercase().contains(w))
    });
    let has_id = last.bytes().filter(u8::is_ascii_digit).count() >= 3
        || (last.len() >= 5
            && last.bytes().any(|b| b.is_ascii_digit())
            && last.bytes().any(|b| b.is_ascii_alphabetic()));
    let slug = last.matches('-').count() >= 2;
    !listing_word && (has_id || slug || segments.len() >= 3)
}

/// The article links of an element (itself included when it is a link), with their text.
fn article_links<'a>(
    element: ElementRef<'a>,
    base: &'a Url,
) -> impl Iterator<Item = (String, String)> + 'a {
    let own = (element.value().name() == "a").then_some(element);
    own.into_iter()
        .chain(element.select(&ANCHORS))
        .filter_map(move |a| article_link(a, base))
}

/// The item's main link: the article link with the longest text (image links have none).
fn main_link(element: ElementRef<'_>, base: &Url) -> Option<(String, String)> {
    article_links(element, base).max_by_key(|(_, text)| text.chars().count())
}

fn distinct_article_links(element: ElementRef<'_>, base: &Url) -> usize {
    article_links(element, base)
        .map(|(link, _)| without_query(&link))
        .collect::<HashSet<_>>()
        .len()
}

/// The same article linked with and without a tracker (`?c=…`) is one article.
fn without_query(link: &str) -> String {
    link.split(['?', '#']).next().unwrap_or(link).to_string()
}

/// A headline: a heading's text if the item has one, else the main link's text.
fn headline(element: ElementRef<'_>, base: &Url) -> Option<String> {
    [
        "h1, h2, h3, h4, h5, h6",
        "[class*=title], [class*=headline], [class*=heading]",
    ]
    .iter()
    .filter_map(|s| Selector::parse(s).ok())
    .find_map(|s| {
        element
            .select(&s)
            .map(element_text)
            .find(|t| t.chars().count() >= 10)
    })
    .or_else(|| main_link(element, base).map(|(_, text)| text))
}

/// One news item: exactly one article (allowing an image link to the same URL)
/// and a headline of plausible length.
fn is_item(element: ElementRef<'_>, base: &Url) -> bool {
    distinct_article_links(element, base) == 1
        && headline(element, base).is_some_and(|h| {
            (10..=300).contains(&h.chars().count()) && h.split_whitespace().count() >= 2
        })
}

const BOILERPLATE_WORDS: &[&str] = &[
    "nav",
    "menu",
    "footer",
    "header",
    "sidebar",
    "breadcrumb",
    "widget",
    "most",
    "popular",
    "related",
    "share",
    "social",
    "trending",
    "tags",
    "submenu",
    "top-news",
    "toplist",
];

/// Whether the element sits in navigation, header, footer, aside or a "most read" block.
fn in_boilerplate(element: ElementRef<'_>) -> bool {
    std::iter::once(element)
        .chain(element.ancestors().filter_map(ElementRef::wrap))
        .any(|e| {
            let v = e.value();
            matches!(v.name(), "nav" | "header" | "footer" | "aside")
                || v.attr("role").is_some_and(|r| r == "navigation")
                || v.classes().chain(v.id()).any(|c| {
                    let c = c.to_ascii_lowercase();
                    BOILERPLATE_WORDS.iter().any(|w| c.contains(w))
                })
        })
}

fn is_semantic(element: ElementRef<'_>) -> bool {
    matches!(element.value().name(), "article" | "li" | "tr")
        || element.value().classes().any(is_semantic_word)
}

fn is_semantic_word(class: &str) -> bool {
    let class = class.to_ascii_lowercase();
    [
        "item", "post", "news", "article", "entry", "story", "card", "teaser", "box",
    ]
    .iter()
    .any(|w| class.contains(w))
}

fn score_group(group: &Group<'_>, base: &Url) -> Option<f64> {
    let members = &group.members;
    if members.len() < 3 {
        return None;
    }
    let valid: Vec<ElementRef<'_>> = members
        .iter()
        .copied()
        .filter(|m| is_item(*m, base))
        .collect();
    if valid.len() < 3 || valid.len() * 10 < members.len() * 6 {
        return None;
    }
    let links: HashSet<String> = valid
        .iter()
        .filter_map(|m| main_link(*m, base))
        .map(|(l, _)| l)
        .collect();
    let distinct = links.len() as f64 / valid.len() as f64;
    if distinct < 0.8 {
        return None;
    }
    let words: f64 = valid
        .iter()
        .filter_map(|m| headline(*m, base))
        .map(|h| h.split_whitespace().count() as f64)
        .sum::<f64>()
        / valid.len() as f64;
    let text_factor = if (3.0..=30.0).contains(&words) {
        1.0
    } else {
        0.5
    };
    let boilerplate = valid.iter().filter(|m| in_boilerplate(**m)).count() * 2 > valid.len();
    let position_factor = if boilerplate { 0.2 } else { 1.0 };
    let semantic_factor = if valid.iter().all(|m| is_semantic(*m)) {
        1.3
    } else {
        1.0
    };
    let wrapper_factor = if valid.iter().all(|m| m.value().name() == "a") {
        0.95
    } else {
        1.0
    };
    Some(
        links.len() as f64
            * distinct
            * text_factor
            * position_factor
            * semantic_factor
            * wrapper_factor,
    )
}

/// A selector matching the group's members (and at most copies of their links):
/// the element's tag and stable classes, qualified by ancestors only when needed.
fn item_selector(document: &Html, group: &Group<'_>, base: &Url) -> Option<String> {
    let first = *group.members.first()?;
    let wanted: HashSet<String> = group.main_links(base);
    // The shortest form that still picks exactly this list: `tag`, then one class, then all.
    let tag = first.value().name().to_string();
    let mut classes = stable_classes(first);
    classes.sort_by_key(|c| !is_semantic_word(c));
    let shortest = std::iter::once(tag.clone())
        .chain(classes.iter().map(|c| format!("{tag}.{}", css_escape(c))))
        .find(|s| matches_only(document, s, group, &wanted, base));
    if let Some(selector) = shortest {
        return Some(selector);
    }
    let own = simple_selector(first);
    let mut qualifiers: Vec<String> = Vec::new();
    for ancestor in first.ancestors().filter_map(ElementRef::wrap).take(6) {
        if matches!(ancestor.value().name(), "html") {
            break;
        }
        let candidate = if qualifiers.is_empty() {
            own.clone()
        } else {
            format!("{} {own}", qualifiers.join(" "))
        };
        if matches_only(document, &candidate, group, &wanted, base) {
            return Some(candidate);
        }
        let id = ancestor
            .value()
            .id()
            .filter(|id| is_stable_class(id))
            .map(|id| format!("#{}", css_escape(id)));
        let qualifier = id.unwrap_or_else(|| simple_selector(ancestor));
        if qualifier != ancestor.value().name() || qualifiers.is_empty() {
            qualifiers.insert(0, qualifier);
        }
    }
    let candidate = format!("{} {own}", qualifiers.join(" "));
    matches_only(document, &candidate, group, &wanted, base).then_some(candidate)
}

/// True when `selector` matches at least `count` elements and every match's main link is wanted.
fn matches_only(
    document: &Html,
    selector: &str,
    group: &Group<'_>,
    wanted: &HashSet<String>,
    base: &Url,
) -> bool {
    let Ok(parsed) = Selector::parse(selector) else {
        return false;
    };
    let members: HashSet<ego_tree::NodeId> = group.members.iter().map(|m| m.id()).collect();
    let has_links =
        |m: ElementRef<'_>| m.value().name() == "a" || m.select(&ANCHORS).next().is_some();
    let matched: Vec<ElementRef<'_>> = document.select(&parsed).collect();
    // Besides the group itself, matches may be copies of the list or link-less
    // rows (a table header), never blocks that link elsewhere (a menu of the
    // same shape) or containers holding several articles.
    matched.len() >= group.members.len()
        && matched
            .iter()
            .filter(|m| !members.contains(&m.id()))
            .all(|m| match main_link(*m, base) {
                Some((link, _)) => wanted.contains(&link) && distinct_article_links(*m, base) == 1,
                None => !has_links(*m),
            })
}

/// `tag.class1.class2` with CSS escaping.
fn simple_selector(element: ElementRef<'_>) -> String {
    let mut out = element.value().name().to_string();
    for class in stable_classes(element) {
        out.push('.');
        out.push_str(&css_escape(&class));
    }
    out
}

/// Escapes a CSS identifier: anything but letters, digits, `-` and `_` gets a backslash.
pub fn css_escape(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len());
    for c in ident.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' || !c.is_ascii() {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

/// Derives the field selectors that work for most of the items.
fn derive_fields(items: &[ElementRef<'_>], base: &Url, now: DateTime<Utc>) -> Fields {
    let title = title_selector(items, base);
    Fields {
        link: link_selector(items, base),
        date: date_selector(items, now),
        summary: summary_selector(items, base),
        image: image_selector(items),
        title,
    }
}

/// Relative selector candidates for an element inside an item: `.class`, `tag.class`, `tag`.
fn relative_selectors(element: ElementRef<'_>) -> Vec<String> {
    let tag = element.value().name().to_string();
    let classes = stable_classes(element);
    let mut out: Vec<String> = classes
        .iter()
        .map(|c| format!(".{}", css_escape(c)))
        .collect();
    out.extend(classes.iter().map(|c| format!("{tag}.{}", css_escape(c))));
    if classes.is_empty()
        && let Some(parent) = element.parent().and_then(ElementRef::wrap)
    {
        out.extend(
            stable_classes(parent)
                .iter()
                .map(|c| format!(".{} {tag}", css_escape(c))),
        );
    }
    out.push(tag);
    out
}

/// The first candidate selector that, in at least `share` of the items, selects
/// a first element for which `check` holds.
fn best_selector(
    items: &[ElementRef<'_>],
    candidates: impl IntoIterator<Item = String>,
    share: f64,
    check: impl Fn(ElementRef<'_>, ElementRef<'_>) -> bool,
) -> Option<String> {
    let needed = ((items.len() as f64 * share).ceil() as usize).max(1);
    let mut tried = HashSet::new();
    let candidates: Vec<String> = candidates
        .into_iter()
        .filter(|c| tried.insert(c.clone()))
        .collect();
    let fitting = |candidate: &String, unique: bool| {
        let Ok(selector) = Selector::parse(candidate) else {
            return 0;
        };
        let fits = |item: &&ElementRef<'_>| {
            let mut found = item.select(&selector);
            let first = found.next();
            first.is_some_and(|f| check(**item, f)) && (!unique || found.next().is_none())
        };
        items.iter().filter(fits).count()
    };
    // A selector that picks exactly one element per item says what it means;
    // one that picks several only works by being first. Among those, the one
    // that fits the most items wins; ties go to the earlier (simpler) one.
    let best = |unique: bool| {
        candidates
            .iter()
            .map(|c| (fitting(c, unique), c))
            .filter(|(n, _)| *n >= needed)
            .fold(None, |best: Option<(usize, &String)>, (n, c)| match best {
                Some((m, _)) if m >= n => best,
                _ => Some((n, c)),
            })
            .map(|(_, c)| c.clone())
    };
    best(true).or_else(|| best(false))
}

fn title_selector(items: &[ElementRef<'_>], base: &Url) -> Option<String> {
    let sample = items.first()?;
    let expected = |item: ElementRef<'_>| headline(item, base).unwrap_or_default();
    let headings = Selector::parse(
        "h1, h2, h3, h4, h5, h6, [class*=title], [class*=headline], [class*=heading]",
    )
    .ok()?;
    let mut candidates: Vec<String> = sample
        .select(&headings)
        .flat_map(relative_selectors)
        .collect();
    if let Some(a) = sample
        .select(&ANCHORS)
        .find(|a| element_text(*a).chars().count() >= 10)
    {
        candidates.extend(relative_selectors(a));
    }
    best_selector(items, candidates, 0.9, |item, found| {
        let text = element_text(found);
        !text.is_empty()
            && (text == expected(item)
                || expected(item).contains(&text) && text.chars().count() >= 10)
    })
}

fn link_selector(items: &[ElementRef<'_>], base: &Url) -> Option<String> {
    let sample = *items.first()?;
    if sample.value().name() == "a" {
        return Some("@href".to_string());
    }
    let first_is_main = |item: ElementRef<'_>| {
        let first = item
            .select(&ANCHORS)
            .next()
            .and_then(|a| article_link(a, base))
            .map(|(l, _)| l);
        first.is_some() && first == main_link(item, base).map(|(l, _)| l)
    };
    if items.iter().filter(|i| first_is_main(**i)).count() * 10 >= items.len() * 9 {
        return Some("a @href".to_string());
    }
    let main_anchor = sample
        .select(&ANCHORS)
        .max_by_key(|a| article_link(*a, base).map_or(0, |(_, t)| t.chars().count()))?;
    let parent = main_anchor.parent().and_then(ElementRef::wrap)?;
    let candidates = relative_selectors(parent)
        .into_iter()
        .map(|p| format!("{p} a"));
    best_selector(items, candidates, 0.9, |item, found| {
        found
            .value()
            .attr("href")
            .and_then(|h| resolve_http_url(base, h))
            .map(|l| crate::identity::canonical_link(&l))
            == main_link(item, base).map(|(l, _)| l)
    })
    .map(|s| format!("{s} @href"))
}

fn date_selector(items: &[ElementRef<'_>], now: DateTime<Utc>) -> Option<String> {
    let ctx = DateContext::plain(now);
    let parses = |e: ElementRef<'_>| {
        let text = e
            .value()
            .attr("datetime")
            .map_or_else(|| element_text(e), str::to_string);
        text.chars().count() <= 80 && parse_date(&text, &ctx).is_some()
    };
    let sample = *items.first()?;
    let mut dated: Vec<(bool, usize, ElementRef<'_>)> = sample
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| parses(*e))
        .map(|e| {
            (
                e.value().name() != "time",
                element_text(e).chars().count(),
                e,
            )
        })
        .collect();
    dated.sort_by_key(|(not_time, len, _)| (*not_time, *len));
    let candidates = dated
        .into_iter()
        .flat_map(|(_, _, e)| relative_selectors(e));
    best_selector(items, candidates, 0.6, |_, found| parses(found))
}

fn summary_selector(items: &[ElementRef<'_>], base: &Url) -> Option<String> {
    let sample = *items.first()?;
    let title = headline(sample, base).unwrap_or_default();
    let blocks =
        Selector::parse("p, div, span, [class*=summary], [class*=excerpt], [class*=lead]").ok()?;
    let long = |e: ElementRef<'_>, title: &str| {
        let text = element_text(e);
        text.chars().count() >= 40 && !text.contains(title) && !title.contains(&text)
    };
    let mut candidates: Vec<(usize, String)> = sample
        .select(&blocks)
        .filter(|e| long(*e, &title))
        .flat_map(|e| {
            let len = element_text(e).chars().count();
            relative_selectors(e).into_iter().map(move |s| (len, s))
        })
        .collect();
    candidates.sort_by_key(|(len, _)| *len);
    best_selector(
        items,
        candidates.into_iter().map(|(_, s)| s),
        0.5,
        |item, found| long(found, &headline(item, base).unwrap_or_default()),
    )
}

fn image_selector(items: &[ElementRef<'_>]) -> Option<String> {
    let has_img = |e: ElementRef<'_>| {
        Selector::parse("img")
            .ok()
            .is_some_and(|s| e.select(&s).next().is_some())
    };
    if items.iter().filter(|i| has_img(**i)).count() * 2 >= items.len() {
        return Some("img".to_string());
    }
    let sample = *items.first()?;
    let styled: Vec<String> = sample
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| e.value().attr("style").and_then(css_url).is_some())
        .flat_map(relative_selectors)
        .collect();
    best_selector(items, styled, 0.5, |_, found| {
        found.value().attr("style").and_then(css_url).is_some()
    })
    .map(|s| format!("{s} @style"))
}

/// A `[[source]]` TOML block for the best candidate.
pub fn source_toml(candidate: &Candidate, info: &PageInfo, url: &Url) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let host = url.host_str().unwrap_or("site").trim_start_matches("www.");
    let id: String = format!("{host}{}", url.path())
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let mut out = String::from("[[source]]\n");
    let _ = writeln!(out, "id = {}", quote(&id));
    let _ = writeln!(
        out,
        "name = {}",
        quote(info.title.as_deref().unwrap_or(host))
    );
    let _ = writeln!(out, "url = {}", quote(url.as_str()));
    if let Some(language) = &info.language {
        let _ = writeln!(out, "language = {}", quote(language));
    }
    if candidate.fields.date.is_some()
        && let Some(zone) = zone_for_host(host)
    {
        let _ = writeln!(
            out,
            "timezone = {}  # dates without an offset are read in this zone",
            quote(zone)
        );
    }
    let _ = writeln!(out, "item = {}", quote(&candidate.item));
    let fields = &candidate.fields;
    for (key, value) in [
        ("title", &fields.title),
        ("link", &fields.link),
        ("date", &fields.date),
        ("summary", &fields.summary),
        ("image", &fields.image),
    ] {
        if let Some(value) = value {
            let _ = writeln!(out, "{key} = {}", quote(value));
        }
    }
    if fields.date.is_none() {
        out.push_str("# No date on the listing: items get their first-seen time.\n");
        out.push_str("# Run `medee suggest --article URL` for a [source.article] block that reads it from each page.\n");
    }
    out
}

fn zone_for_host(host: &str) -> Option<&'static str> {
    let tld = host.rsplit('.').next()?;
    Some(match tld {
        "mn" => "Asia/Ulaanbaatar",
        "kr" => "Asia/Seoul",
        "jp" => "Asia/Tokyo",
        "cn" => "Asia/Shanghai",
        "ru" => "Europe/Moscow",
        _ => return None,
    })
}

/// `[source.article]` suggestion from one article page: a date from meta tags,
/// `<time datetime>` or visible text, the largest text block as content.
pub fn article_toml(html: &str, now: DateTime<Utc>) -> Option<String> {
    let document = crate::extract::parse_html(html);
    let ctx = DateContext::plain(now);
    let date = [
        "meta[property='article:published_time'] @content",
        "meta[name='pubdate'] @content",
        "meta[name='last-modified'] @content",
        "time @datetime",
    ]
    .into_iter()
    .find(|candidate| {
        crate::extract::FieldSelector::parse(candidate)
            .ok()
            .and_then(|f| f.value(document.root_element()))
            .is_some_and(|v| parse_date(&v, &ctx).is_some())
    })
    .map(str::to_string)
    .or_else(|| visible_date(&document, &ctx));
    let content = largest_text_block(&document);
    if date.is_none() && content.is_none() {
        return None;
    }
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = String::from("[source.article]\n");
    if let Some(date) = date {
        let _ = writeln!(out, "date = {}", quote(&date));
    }
    if let Some(content) = content {
        let _ = writeln!(out, "content = {}", quote(&content));
    }
    Some(out)
}

fn visible_date(document: &Html, ctx: &DateContext<'_>) -> Option<String> {
    document
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| {
            !matches!(
                e.value().name(),
                "script" | "style" | "html" | "body" | "head" | "title"
            )
        })
        .filter(|e| e.value().classes().next().is_some())
        .filter_map(|e| {
            let length = element_text(e).chars().count();
            (length <= 40 && parse_date(&element_text(e), ctx).is_some()).then_some((length, e))
        })
        // The innermost element: a byline holding the date also parses, but says more.
        .min_by_key(|(length, _)| *length)
        .map(|(_, e)| simple_selector(e))
}

/// The element with the most paragraph text directly inside it.
fn largest_text_block(document: &Html) -> Option<String> {
    let paragraphs = Selector::parse("p").ok()?;
    let mut totals: HashMap<ego_tree::NodeId, (usize, ElementRef<'_>)> = HashMap::new();
    for p in document.select(&paragraphs) {
        if let Some(parent) = p.parent().and_then(ElementRef::wrap) {
            totals.entry(parent.id()).or_insert((0, parent)).0 += element_text(p).chars().count();
        }
    }
    let (_, block) = totals.into_values().max_by_key(|(len, _)| *len)?;
    let id = block
        .value()
        .id()
        .filter(|id| is_stable_class(id))
        .map(|id| format!("#{}", css_escape(id)));
    Some(id.unwrap_or_else(|| simple_selector(block)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_css_specials() {
        assert_eq!(css_escape("uk-hidden@m"), "uk-hidden\\@m");
        assert_eq!(css_escape("w-1/2"), "w-1\\/2");
        assert_eq!(css_escape("news_item-2"), "news_item-2");
    }

    #[test]
    fn article_urls_have_ids_or_slugs() {
        let yes = [
            "https://montsame.mn/mn/read/398211",
            "https://gogo.mn/r/n7k2qa",
            "https://x.org/2024/07/a-long-slug/",
        ];
        let no = [
            "https://gogo.mn/i/2",
            "https://x.org/category/news/",
            "https://x.org/about",
            "https://montsame.mn/mn/more/10",
        ];
        for url in yes {
            assert!(looks_like_article(&Url::parse(url).expect("url")), "{url}");
        }
        for url in no {
            assert!(!looks_like_article(&Url::parse(url).expect("url")), "{url}");
        }
    }

    #[test]
    fn generated_and_layout_classes_are_skipped() {
        for class in [
            "css-1x2y3z",
            "sc-bdfBwQ",
            "col-md-6",
            "row",
            "a9f83b21c",
            "active",
        ] {
            assert!(!is_stable_class(class), "{class}");
        }
        for class in ["news-box", "post-item", "uk-hidden@m", "title", "h2"] {
            assert!(is_stable_class(class), "{class}");
        }
    }
}
