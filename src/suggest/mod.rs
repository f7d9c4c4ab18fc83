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
use scraper::{ElementRef, Html, Selector};
use url::Url;

mod discover;
mod selectors;
mod shapes;
mod toml;

use crate::extract::element_text;

pub use discover::{EmbeddedData, Feed, PageInfo};
pub use selectors::css_escape;
use selectors::{derive_fields, item_selector};
use shapes::Site;
pub use toml::{article_toml, feed_toml, source_toml};

/// Tab rows made of buttons ("Latest | Most read") are not section titles.
static BUTTONS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("button, [role=tab]").expect("static selector"));

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
    let mut scored: Vec<(f64, Group<'_>)> = groups
        .into_values()
        .filter_map(|g| score_group(&g, base).map(|s| (s, g)))
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.first_position.cmp(&b.1.first_position))
    });
    let mut samples: Vec<String> = Vec::new();
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
        samples.extend(valid.iter().filter_map(|m| headline(*m, base)));
        seen_link_sets.push(links);
        ranked.push(Candidate {
            item,
            items: valid.len(),
            score: (score * 10.0).round() / 10.0,
            sample,
            fields,
        });
    }
    let info = discover::page_info(&document, page, &samples);
    (ranked, info)
}

fn overlap(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    let smaller = a.len().min(b.len()).max(1);
    a.intersection(b).count() as f64 / smaller as f64
}

pub(super) struct Group<'a> {
    members: Vec<ElementRef<'a>>,
    first_position: usize,
}

impl Group<'_> {
    /// The main article link of each member.
    fn main_links(&self, base: &Site) -> HashSet<String> {
        self.members
            .iter()
            .filter_map(|m| main_link(*m, base))
            .map(|(l, _)| l)
            .collect()
    }
}

/// Groups every ancestor (up to six levels) of every same-site link by its tag/class path.
fn group_link_ancestors<'a>(document: &'a Html, base: &Site) -> HashMap<String, Group<'a>> {
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
            // Tabs and widgets of one shape differ by id only (`#latest` and `#popular`).
            if let Some(id) = e.value().id().filter(|id| is_stable_class(id)) {
                part.push('#');
                part.push_str(id);
            }
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
pub(super) fn stable_classes(element: ElementRef<'_>) -> Vec<String> {
    let mut classes: Vec<String> = element
        .value()
        .classes()
        .filter(|c| is_stable_class(c))
        .map(str::to_string)
        .collect();
    classes.sort();
    classes
}

pub(super) fn is_stable_class(class: &str) -> bool {
    let digits = class.bytes().filter(u8::is_ascii_digit).count();
    let generated = class.starts_with("css-")
        || class.starts_with("sc-")
        || class.starts_with("jsx-")
        || (digits >= 3 && class.len() >= 6)
        || class.len() > 40
        || is_hashed_module_class(class);
    // Per-post WordPress classes and slider-library state name one item or one
    // category, so a selector using them misses the rest of the list.
    let per_item = [
        "category-",
        "tag-",
        "format-",
        "type-",
        "status-",
        "author-",
    ]
    .iter()
    .any(|p| class.starts_with(p))
        || class == "has-post-thumbnail"
        || class.starts_with("post_format")
        || ["slick-", "owl-", "swiper-", "splide", "glide"]
            .iter()
            .any(|p| class.starts_with(p));
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
    !generated && !layout && !per_item
}

/// CSS-module names end in a hash: `card_wrapper__7t5AG`, `Title_title_a1B2c`.
fn is_hashed_module_class(class: &str) -> bool {
    class.rsplit_once(['_', '-']).is_some_and(|(stem, hash)| {
        !stem.is_empty()
            && (5..=8).contains(&hash.len())
            && hash.bytes().any(|b| b.is_ascii_digit())
            && hash.bytes().any(|b| b.is_ascii_alphabetic())
            && hash.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The absolute URL of a same-site link that looks like an article, with its text:
/// one of the shapes learned from the page, or an id or slug.
pub(super) fn article_link(anchor: ElementRef<'_>, base: &Site) -> Option<(String, String)> {
    let url = shapes::same_site_target(anchor, &base.url)?;
    let article = base.is_article(&url) || looks_like_article(&url);
    article.then(|| {
        (
            crate::identity::canonical_link(url.as_str()),
            element_text(anchor),
        )
    })
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

/// A headline: a heading's text if the item has one, else the main link's text.
pub(super) fn headline(element: ElementRef<'_>, base: &Site) -> Option<String> {
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
fn is_item(element: ElementRef<'_>, base: &Site) -> bool {
    distinct_article_links(element, base) == 1
        && headline(element, base).is_some_and(|h| {
            (10..=300).contains(&h.chars().count()) && h.split_whitespace().count() >= 2
        })
}

const BOILERPLATE_WORDS: &[&str] = &[
    "navbar",
    "navigation",
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
    "trend",
    "slider",
    "carousel",
    "swiper",
    "slick",
    "owl-",
    "ticker",
    "wpp",
    "partner",
    "sponsor",
    "profile",
    "banner",
];

/// Section titles of side blocks: most read, trending, related, partners, video.
const SIDE_TITLES: &[&str] = &[
    "most read",
    "most popular",
    "most viewed",
    "popular",
    "trending",
    "related",
    "partner",
    "sponsored",
    "video",
    "эрэлттэй",
    "их уншсан",
    "их үзсэн",
    "тренд",
    "холбоотой",
    "видео",
    "нийтлэлч",
    "хамтрагч",
];

/// Whether the element sits in navigation, header, footer, aside or a "most read" block.
fn in_boilerplate(element: ElementRef<'_>) -> bool {
    std::iter::once(element)
        .chain(element.ancestors().filter_map(ElementRef::wrap))
        .any(|e| {
            let v = e.value();
            matches!(v.name(), "nav" | "header" | "footer" | "aside")
                || v.attr("role").is_some_and(|r| r == "navigation")
                || v.classes().any(|c| c == "nav")
                || v.classes().chain(v.id()).any(|c| {
                    let c = c.to_ascii_lowercase();
                    BOILERPLATE_WORDS.iter().any(|w| c.contains(w))
                })
        })
}

/// Whether the title just before the block (or its containers) names a side
/// block such as "Эрэлттэй" (in demand) or "Most read".
fn under_side_title(element: ElementRef<'_>) -> bool {
    element
        .ancestors()
        .filter_map(ElementRef::wrap)
        .take(4)
        .flat_map(|container| {
            // A row of tabs ("Latest | Trending") links to or switches each tab: not a title.
            container
                .prev_siblings()
                .filter_map(ElementRef::wrap)
                .take(2)
                .filter(|c| {
                    c.select(&ANCHORS).count() <= 1
                        && c.select(&BUTTONS).count() <= 1
                        && c.value().attr("role") != Some("tablist")
                })
                .chain(
                    container
                        .children()
                        .filter_map(ElementRef::wrap)
                        .take_while(|c| c.select(&ANCHORS).count() <= 1)
                        .take(2),
                )
        })
        .map(element_text)
        .filter(|t| t.chars().count() <= 40)
        .any(|t| {
            let t = t.to_lowercase();
            SIDE_TITLES.iter().any(|w| t.contains(w))
        })
}

/// Whether a container's id calls it the latest news (`#nav-new`, `#news-latest`,
/// `#latest-news`): the stream a subscriber wants, even inside a sidebar.
fn in_latest_block(element: ElementRef<'_>) -> bool {
    element
        .ancestors()
        .filter_map(ElementRef::wrap)
        .take(6)
        .filter_map(|e| e.value().id())
        .any(|id| {
            id.to_ascii_lowercase()
                .split(['-', '_'])
                .any(|t| matches!(t, "new" | "latest" | "recent" | "shine"))
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

fn score_group(group: &Group<'_>, base: &Site) -> Option<f64> {
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
    let latest = valid.first().is_some_and(|m| in_latest_block(*m));
    let boilerplate = valid.iter().filter(|m| in_boilerplate(**m)).count() * 2 > valid.len()
        || valid.first().is_some_and(|m| under_side_title(*m));
    let position_factor = match (latest, boilerplate) {
        (true, _) => 1.5,
        (false, true) => 0.2,
        (false, false) => 1.0,
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
    Some(
        links.len() as f64
            * distinct
            * text_factor
            * position_factor
            * semantic_factor
            * wrapper_factor,
    )
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
