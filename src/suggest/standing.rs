//! Where a block stands on its page: the latest-news stream a subscriber
//! wants, a side block (navigation, most read, trending, sliders), or neither.
//!
//! The nearest evidence wins. Walking up from the block, each container is
//! asked in turn: does its id or class name the latest news (`#news-latest`,
//! `div.latest-news`), does its tag, role, id or class name a side block
//! (`aside`, `nav`, `…popular…`, `…slider…`), does a short title just before
//! it name one ("Шинэ мэдээ", "Эрэлттэй", "Most read")? So a "latest" tab
//! inside a "most read" widget is the stream, and a "popular" list inside a
//! section named `shine-medee` is a side block.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use scraper::{ElementRef, Selector};

use super::ANCHORS;
use crate::extract::element_text;

/// What the nearest evidence says about a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    /// Named the latest news; by an id (strong) or by a class or title.
    Latest { by_id: bool },
    /// Navigation, header, footer, aside, or a most-read, trending or slider block.
    Side,
    /// Nothing either way.
    Neutral,
}

/// Class and id words of side blocks.
const SIDE_WORDS: &[&str] = &[
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
    "bx-",
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

/// Section titles of the main stream: "Шинэ мэдээ" (new news), "Мэдээний урсгал"
/// (news stream). Not "Recent posts": that is WordPress's sidebar widget.
const LATEST_TITLES: &[&str] = &[
    "latest",
    "newest",
    "шинэ мэдээ",
    "сүүлийн мэдээ",
    "мэдээний урсгал",
    "цаг үеийн",
];

/// Containers whose titles are read: a block's title sits close to it.
const TITLED_LEVELS: usize = 4;

/// Tab rows made of buttons ("Latest | Most read") are not section titles.
static BUTTONS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("button, [role=tab]").expect("static selector"));

/// The nearest evidence about the block `element` belongs to.
pub(super) fn standing(element: ElementRef<'_>) -> Standing {
    std::iter::once(element)
        .chain(element.ancestors().filter_map(ElementRef::wrap))
        .enumerate()
        .find_map(|(level, container)| {
            named(container).or_else(|| {
                (level > 0 && level <= TITLED_LEVELS)
                    .then(|| titled(container))
                    .flatten()
            })
        })
        .unwrap_or(Standing::Neutral)
}

/// What a container's tag, role, id and classes say.
fn named(container: ElementRef<'_>) -> Option<Standing> {
    let v = container.value();
    if v.id().is_some_and(|id| names_latest(id, true)) {
        return Some(Standing::Latest { by_id: true });
    }
    // `recent` is left to ids: WordPress's sidebar widget is `widget_recent_entries`.
    if v.classes().any(|c| names_latest(c, false)) {
        return Some(Standing::Latest { by_id: false });
    }
    let side = matches!(v.name(), "nav" | "header" | "footer" | "aside")
        || v.attr("role") == Some("navigation")
        || v.classes().any(|c| c == "nav")
        || v.classes().chain(v.id()).any(|c| {
            let c = c.to_ascii_lowercase();
            SIDE_WORDS.iter().any(|w| c.contains(w))
        });
    side.then_some(Standing::Side)
}

/// `news-latest`, `latest-news`, `nav-new`, `shine-list1`: a token naming the latest news.
fn names_latest(name: &str, recent: bool) -> bool {
    name.to_ascii_lowercase()
        .split(['-', '_'])
        .any(|t| matches!(t, "new" | "latest" | "shine") || (recent && t == "recent"))
}

/// What the short titles just before a container (or at its top) say.
fn titled(container: ElementRef<'_>) -> Option<Standing> {
    let titles: Vec<String> = container_titles(container).collect();
    if titles
        .iter()
        .any(|t| SIDE_TITLES.iter().any(|w| t.contains(w)))
    {
        return Some(Standing::Side);
    }
    titles
        .iter()
        .any(|t| LATEST_TITLES.iter().any(|w| t.contains(w)))
        .then_some(Standing::Latest { by_id: false })
}

/// Short texts of the two elements before the container and of its first
/// link-less children, lower-cased.
fn container_titles(container: ElementRef<'_>) -> impl Iterator<Item = String> + '_ {
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
        .map(element_text)
        .filter(|t| t.chars().count() <= 40)
        .map(|t| t.to_lowercase())
}

/// Whether the items fall into several titled sections ("Улс төр: 3 items,
/// Эдийн засаг: 3 items"): per-category boxes a page repeats, not one stream.
/// Rows of one grid are not sections: they carry no title of their own.
pub(super) fn in_titled_sections(valid: &[ElementRef<'_>]) -> bool {
    let Some(common) = common_ancestor(valid) else {
        return false;
    };
    let members: HashSet<ego_tree::NodeId> = valid.iter().map(|m| m.id()).collect();
    let mut per_branch: HashMap<ego_tree::NodeId, (ElementRef<'_>, usize)> = HashMap::new();
    for member in valid {
        let branch = std::iter::once(*member)
            .chain(member.ancestors().filter_map(ElementRef::wrap))
            .take_while(|e| e.id() != common.id())
            .last()
            .unwrap_or(*member);
        per_branch.entry(branch.id()).or_insert((branch, 0)).1 += 1;
    }
    per_branch
        .values()
        .filter(|(branch, count)| *count >= 2 && has_own_title(*branch, &members))
        .count()
        >= 2
}

/// The nearest element containing every item.
fn common_ancestor<'a>(valid: &[ElementRef<'a>]) -> Option<ElementRef<'a>> {
    let (first, rest) = valid.split_first()?;
    let mut chain: Vec<ElementRef<'a>> = first.ancestors().filter_map(ElementRef::wrap).collect();
    for member in rest {
        let ancestors: HashSet<ego_tree::NodeId> = member.ancestors().map(|a| a.id()).collect();
        chain.retain(|a| ancestors.contains(&a.id()));
    }
    chain.first().copied()
}

/// A heading or title element of the section itself, outside its items.
fn has_own_title(branch: ElementRef<'_>, members: &HashSet<ego_tree::NodeId>) -> bool {
    static TITLES: LazyLock<Selector> = LazyLock::new(|| {
        Selector::parse("h1, h2, h3, h4, h5, h6, [class*=title], [class*=header], [class*=heading]")
            .expect("static selector")
    });
    branch.select(&TITLES).any(|title| {
        let in_item = std::iter::once(title.id())
            .chain(title.ancestors().map(|a| a.id()))
            .any(|id| members.contains(&id));
        let holds_item = title.descendants().any(|d| members.contains(&d.id()));
        let length = element_text(title).chars().count();
        !in_item && !holds_item && (1..=40).contains(&length)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_html;

    fn standing_of(html: &str, selector: &str) -> Standing {
        let document = parse_html(html);
        let selector = Selector::parse(selector).expect("selector");
        let element = document.select(&selector).next().expect("element");
        standing(element)
    }

    #[test]
    fn the_nearest_evidence_wins() {
        let latest_tab_in_most_read = r#"<div class="mostArticles"><div id="tab1" class="tab-content latest-news"><ul><li id="x"><a href="/a/1">A headline here</a></li></ul></div></div>"#;
        assert_eq!(
            standing_of(latest_tab_in_most_read, "#x"),
            Standing::Latest { by_id: false }
        );
        let popular_in_shine = r#"<div class="shine-medee"><div><h3>Эрэлттэй</h3><div class="list"><li id="x"><a href="/n/1">A headline here</a></li></div></div></div>"#;
        assert_eq!(standing_of(popular_in_shine, "#x"), Standing::Side);
        let latest_id_in_sidebar = r#"<aside><div id="news-latest"><ul><li id="x"><a href="/i/1">A headline</a></li></ul></div></aside>"#;
        assert_eq!(
            standing_of(latest_id_in_sidebar, "#x"),
            Standing::Latest { by_id: true }
        );
        let plain = r#"<div><ul><li id="x"><a href="/i/1">A headline</a></li></ul></div>"#;
        assert_eq!(standing_of(plain, "#x"), Standing::Neutral);
    }

    #[test]
    fn category_boxes_are_titled_sections_and_grid_rows_are_not() {
        let boxes = r#"<div id="c">
            <div><div class="box-title">Улс төр</div><ul><li>a</li><li>b</li></ul></div>
            <div><div class="box-title">Спорт</div><ul><li>c</li><li>d</li></ul></div></div>"#;
        let rows = r#"<div id="c">
            <div class="row"><li>a</li><li>b</li></div>
            <div class="row"><li>c</li><li>d</li></div></div>"#;
        let li = Selector::parse("li").expect("selector");
        let boxes = parse_html(boxes);
        let items: Vec<ElementRef<'_>> = boxes.select(&li).collect();
        assert!(in_titled_sections(&items));
        let rows = parse_html(rows);
        let items: Vec<ElementRef<'_>> = rows.select(&li).collect();
        assert!(!in_titled_sections(&items));
    }
}
