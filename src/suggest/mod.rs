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
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Selector};
use url::Url;

mod discover;
mod embedded;
mod groups;
mod selectors;
mod shapes;
mod standing;
mod toml;

use crate::extract::element_text;

pub use discover::{EmbeddedData, Feed, PageInfo};
pub use embedded::JsonBlock;
use groups::{Group, group_link_ancestors, is_stable_class, stable_classes};
pub use selectors::css_escape;
use selectors::{derive_fields, item_selector};
use shapes::Site;
pub use shapes::is_listing_word;
use standing::Standing;
pub use toml::{article_toml, feed_toml, json_toml, source_toml};

pub(super) static ANCHORS: LazyLock<Selector> =
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
    /// Titles that head three or more different items ("Монгол Улсын Төрийн
    /// дуулал" on every daily broadcast): recurring labels that cannot tell a
    /// reader which item is which, so the block excludes them.
    pub labels: Vec<String>,
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

/// Ranks the candidate item groups of a listing page, best first.
pub fn candidates(html: &str, page: &Url, now: DateTime<Utc>) -> (Vec<Candidate>, PageInfo) {
    let document = crate::extract::parse_html(html);
    let site = Site::learn(&document, page);
    let base = &site;
    let groups = group_link_ancestors(&document, base);
    let mut ranked: Vec<Candidate> = Vec::new();
    let mut seen_link_sets: Vec<HashSet<String>> = Vec::new();
    let mut scored: Vec<(f64, String, Group<'_>, Vec<ElementRef<'_>>)> = groups
        .into_iter()
        .filter_map(|(path, g)| score_group(&g, base).map(|(s, valid)| (s, path, g, valid)))
        .collect();
    // Equal scores (a list item and the card inside it) are ordered by the
    // page, then the outer block, then the path: never by hash order.
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.2.first_position.cmp(&b.2.first_position))
            .then(a.1.len().cmp(&b.1.len()))
            .then(a.1.cmp(&b.1))
    });
    let mut samples: Vec<String> = Vec::new();
    for (score, _, group, valid) in scored {
        let links: HashSet<String> = group.main_links(base);
        // The same list seen through a wrapper, a cell or a second copy: keep the best view.
        if seen_link_sets.iter().any(|s| overlap(s, &links) > 0.8) {
            continue;
        }
        let Some(item) = item_selector(&document, &group, &links, base) else {
            continue;
        };
        let sample = valid
            .iter()
            .take(3)
            .filter_map(|m| headline(*m, base))
            .collect();
        let fields = derive_fields(&valid, base, now);
        let labels = recurring_labels(&valid, base);
        samples.extend(valid.iter().filter_map(|m| headline(*m, base)));
        seen_link_sets.push(links);
        ranked.push(Candidate {
            item,
            items: valid.len(),
            score: (score * 10.0).round() / 10.0,
            sample,
            fields,
            labels,
        });
    }
    let mut info = discover::page_info(&document, page, &samples);
    // Only a page without an HTML list is searched for script-carried items.
    if ranked.is_empty() {
        info.json = embedded::embedded_block(&document, page, now);
    }
    (ranked, info)
}

/// Items a recurring title must head before it counts as a label.
const LABEL_REPEATS: usize = 3;

/// Headlines that head [`LABEL_REPEATS`] or more different links, in page order.
fn recurring_labels(valid: &[ElementRef<'_>], base: &Site) -> Vec<String> {
    let mut links_by_title: HashMap<String, HashSet<String>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for member in valid {
        let (Some(title), Some((link, _))) = (headline(*member, base), main_link(*member, base))
        else {
            continue;
        };
        let links = links_by_title.entry(title.clone()).or_default();
        if links.is_empty() {
            order.push(title);
        }
        links.insert(link);
    }
    order
        .into_iter()
        .filter(|t| {
            links_by_title
                .get(t)
                .is_some_and(|l| l.len() >= LABEL_REPEATS)
        })
        .collect()
}

fn overlap(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    let smaller = a.len().min(b.len()).max(1);
    a.intersection(b).count() as f64 / smaller as f64
}

/// The absolute URL of a same-site link that looks like an article, with its text:
/// one of the shapes learned from the page, or an id or slug.
pub(super) fn article_link(anchor: ElementRef<'_>, base: &Site) -> Option<(String, String)> {
    if let Some(known) = base.links.borrow().get(&anchor.id()) {
        return known.clone();
    }
    let found = read_article_link(anchor, base);
    base.links.borrow_mut().insert(anchor.id(), found.clone());
    found
}

fn read_article_link(anchor: ElementRef<'_>, base: &Site) -> Option<(String, String)> {
    let url = shapes::same_site_target(anchor, &base.url)?;
    let text = element_text(anchor);
    // The title or image alt an empty link shows; its text is read once.
    let fallback;
    let shown = if text.is_empty() {
        fallback = shapes::link_text(anchor);
        &fallback
    } else {
        &text
    };
    let article = base.is_article(&url, shown) || looks_like_article(&url);
    article.then(|| (crate::identity::canonical_link(url.as_str()), text))
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
        matches!(
            *s,
            "page" | "angilal" | "more" | "i" | "c" | "users" | "user"
        ) || ["author", "category", "tag"]
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
    base: &'a Site,
) -> impl Iterator<Item = (String, String)> + 'a {
    let own = (element.value().name() == "a").then_some(element);
    own.into_iter()
        .chain(element.select(&ANCHORS))
        .filter_map(move |a| article_link(a, base))
}

/// The item's main link: the article link with the longest text (image links have none).
pub(super) fn main_link(element: ElementRef<'_>, base: &Site) -> Option<(String, String)> {
    article_links(element, base).max_by_key(|(_, text)| text.chars().count())
}

pub(super) fn distinct_article_links(element: ElementRef<'_>, base: &Site) -> usize {
    article_links(element, base)
        .map(|(link, _)| without_query(&link))
        .collect::<HashSet<_>>()
        .len()
}

/// The same article linked with and without a tracker (`?c=…`) is one article.
fn without_query(link: &str) -> String {
    link.split(['?', '#']).next().unwrap_or(link).to_string()
}

static HEADINGS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("h1, h2, h3, h4, h5, h6").expect("static selector"));

static TITLED: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse("[class*=title], [class*=headline], [class*=heading]").expect("static selector")
});

/// A headline: the heading linked to the item's article, else the main
/// link's text, else the item's first heading. An unlinked heading can be a
/// date or category line (`h6.article-meta` "October 11, 2016 #BigData"), so
/// it only wins over a shorter link text ("Read more").
pub(super) fn headline(element: ElementRef<'_>, base: &Site) -> Option<String> {
    if let Some(known) = base.headlines.borrow().get(&element.id()) {
        return known.clone();
    }
    let found = read_headline(element, base);
    base.headlines
        .borrow_mut()
        .insert(element.id(), found.clone());
    found
}

fn read_headline(element: ElementRef<'_>, base: &Site) -> Option<String> {
    let long = |t: &String| t.chars().count() >= 10;
    let headings = || {
        element
            .select(&HEADINGS)
            .chain(element.select(&TITLED))
            .filter(|h| long(&element_text(*h)))
    };
    let Some((link, text)) = main_link(element, base) else {
        return headings().next().map(element_text);
    };
    if let Some(linked) = headings().find(|h| is_linked_to(*h, element, &link, base)) {
        return Some(element_text(linked));
    }
    let text = without_rank(&text, element);
    match headings().next().map(element_text) {
        Some(heading) if heading.chars().count() > text.chars().count() => Some(heading),
        _ => Some(text),
    }
}

/// A link's text without the rank a numbered list shows in an element of
/// its own (`<span class="num">3</span> Headline`): the rank is not news.
fn without_rank(text: &str, item: ElementRef<'_>) -> String {
    let Some((first, rest)) = text.split_once(' ') else {
        return text.to_string();
    };
    let is_rank = (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && item
            .descendants()
            .filter_map(ElementRef::wrap)
            .any(|e| element_text(e) == first);
    if is_rank {
        rest.to_string()
    } else {
        text.to_string()
    }
}

/// Whether a heading holds, or sits inside, a link to `link` within `item`.
fn is_linked_to(heading: ElementRef<'_>, item: ElementRef<'_>, link: &str, base: &Site) -> bool {
    let to_link = |a: ElementRef<'_>| article_link(a, base).is_some_and(|(l, _)| l == link);
    heading.select(&ANCHORS).any(to_link)
        || std::iter::once(heading)
            .chain(heading.ancestors().filter_map(ElementRef::wrap))
            .take_while(|a| a.id() != item.id())
            .chain((item.value().name() == "a").then_some(item))
            .any(|a| a.value().name() == "a" && to_link(a))
}

/// One news item: exactly one article (allowing an image link to the same URL)
/// and a headline of plausible length.
fn is_item(element: ElementRef<'_>, base: &Site) -> bool {
    distinct_article_links(element, base) == 1
        && headline(element, base).is_some_and(|h| {
            (10..=300).contains(&h.chars().count()) && h.split_whitespace().count() >= 2
        })
}

fn is_semantic(element: ElementRef<'_>) -> bool {
    matches!(element.value().name(), "article" | "li" | "tr")
        || element.value().classes().any(is_semantic_word)
}

pub(super) fn is_semantic_word(class: &str) -> bool {
    let class = class.to_ascii_lowercase();
    [
        "item", "post", "news", "article", "entry", "story", "card", "teaser", "box",
    ]
    .iter()
    .any(|w| class.contains(w))
}

/// How many times the list repeats itself whole (`A B C A B C` is 2): the
/// mobile and desktop copies of one list, which are one list, not a list
/// that links the same article twice.
fn copies(links: &[String]) -> usize {
    (2..=3)
        .find(|&n| {
            links.len().is_multiple_of(n) && {
                let (first, rest) = links.split_at(links.len() / n);
                rest.chunks(first.len()).all(|chunk| chunk == first)
            }
        })
        .unwrap_or(1)
}

/// The group's score and its members that are news items; `None` when it
/// is not a candidate at all.
fn score_group<'a>(group: &Group<'a>, base: &Site) -> Option<(f64, Vec<ElementRef<'a>>)> {
    let members = &group.members;
    if members.len() < 3 {
        return None;
    }
    let valid: Vec<ElementRef<'a>> = members
        .iter()
        .copied()
        .filter(|m| is_item(*m, base))
        .collect();
    if valid.len() < 3 || valid.len() * 10 < members.len() * 6 {
        return None;
    }
    let in_order: Vec<String> = valid
        .iter()
        .filter_map(|m| main_link(*m, base))
        .map(|(l, _)| l)
        .collect();
    let links: HashSet<&String> = in_order.iter().collect();
    let distinct = (links.len() * copies(&in_order)) as f64 / valid.len() as f64;
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
    let position_factor = match valid.first().copied().map(standing::standing) {
        Some(Standing::Latest { by_id: true }) => 1.5,
        Some(Standing::Latest { by_id: false }) => 1.3,
        Some(Standing::Side) => 0.2,
        Some(Standing::Neutral) | None => 1.0,
    };
    let sections_factor = if standing::in_titled_sections(&valid) {
        0.4
    } else {
        1.0
    };
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
    let score = links.len() as f64
        * distinct
        * text_factor
        * position_factor
        * semantic_factor
        * wrapper_factor
        * sections_factor;
    Some((score, valid))
}

#[cfg(test)]
mod tests {
    use super::selectors::css_escape;
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
    fn a_rank_in_an_element_of_its_own_is_not_part_of_the_headline() {
        let html = r#"<ol><li id="t"><a href="/n/101"><span class="num">3</span> Coal exports rise again</a></li>
            <li id="k"><a href="/n/102">5 things to know about the budget</a></li></ol>"#;
        let document = crate::extract::parse_html(html);
        let site = Site::learn(&document, &Url::parse("https://x.mn/").expect("url"));
        let item = |id: &str| {
            let selector = Selector::parse(&format!("#{id}")).expect("selector");
            document.select(&selector).next().expect("item")
        };
        assert_eq!(
            headline(item("t"), &site).as_deref(),
            Some("Coal exports rise again")
        );
        assert_eq!(
            headline(item("k"), &site).as_deref(),
            Some("5 things to know about the budget")
        );
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
