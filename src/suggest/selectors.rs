//! Selectors for a candidate group: the item selector that matches its
//! members and nothing else, and the field selectors most items share.

use std::collections::HashSet;

use super::shapes::{Site, same_site_target};
use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};

use crate::dates::{DateContext, parse_date};
use crate::extract::{css_url, element_text, resolve_http_url};

use super::{
    ANCHORS, Fields, Group, article_link, distinct_article_links, headline, is_semantic_word,
    is_stable_class, main_link, stable_classes,
};

/// A selector matching the group's members (and at most copies of their links):
/// the element's tag and stable classes, qualified by ancestors only when needed.
pub(super) fn item_selector(
    document: &Html,
    group: &Group<'_>,
    wanted: &HashSet<String>,
    base: &Site,
) -> Option<String> {
    let first = *group.members.first()?;
    // The shortest form that still picks exactly this list: `tag`, then one class, then all.
    let tag = first.value().name().to_string();
    let mut classes = stable_classes(first);
    classes.sort_by_key(|c| !is_semantic_word(c));
    let shortest = std::iter::once(tag.clone())
        .chain(classes.iter().map(|c| format!("{tag}.{}", css_escape(c))))
        .find(|s| matches_only(document, s, group, wanted, base));
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
        if matches_only(document, &candidate, group, wanted, base) {
            return Some(candidate);
        }
        let id = ancestor
            .value()
            .id()
            .filter(|id| is_stable_class(id))
            .map(|id| format!("#{}", css_escape(id)));
        let qualifier = id
            .or_else(|| named_simple_selector(ancestor))
            .or_else(|| after_named_sibling(ancestor))
            .unwrap_or_else(|| simple_selector(ancestor));
        if qualifier != ancestor.value().name() || qualifiers.is_empty() {
            qualifiers.insert(0, qualifier);
        }
    }
    let candidate = format!("{} {own}", qualifiers.join(" "));
    matches_only(document, &candidate, group, wanted, base).then_some(candidate)
}

/// `tag.class` when the element has a stable class.
fn named_simple_selector(element: ElementRef<'_>) -> Option<String> {
    let simple = simple_selector(element);
    (simple != element.value().name()).then_some(simple)
}

/// A plain element known by the named element just before it
/// (`h2#articles + ul`): the only structure a class-less list may have.
fn after_named_sibling(element: ElementRef<'_>) -> Option<String> {
    let previous = element.prev_siblings().find_map(ElementRef::wrap)?;
    let name = previous
        .value()
        .id()
        .filter(|id| is_stable_class(id))
        .map(|id| format!("{}#{}", previous.value().name(), css_escape(id)))
        .or_else(|| named_simple_selector(previous))?;
    Some(format!("{name} + {}", element.value().name()))
}

/// True when `selector` matches at least `count` elements and every match's main link is wanted.
fn matches_only(
    document: &Html,
    selector: &str,
    group: &Group<'_>,
    wanted: &HashSet<String>,
    base: &Site,
) -> bool {
    let Ok(parsed) = Selector::parse(selector) else {
        return false;
    };
    let members: HashSet<ego_tree::NodeId> = group.members.iter().map(|m| m.id()).collect();
    let has_links =
        |m: ElementRef<'_>| m.value().name() == "a" || m.select(&ANCHORS).next().is_some();
    let matched: Vec<ElementRef<'_>> = document.select(&parsed).collect();
    let inside_member = |m: &ElementRef<'_>| m.ancestors().any(|a| members.contains(&a.id()));
    // Besides the group itself, matches may be copies of the list or link-less
    // rows (a table header), never blocks that link elsewhere (a menu of the
    // same shape), containers holding several articles or parts of an item.
    // A few blocks of the list's shape whose one link is of another kind
    // (`/articles/academic/` "Academic") are items the page shows alike.
    let mut odd = 0;
    let fits = matched
        .iter()
        .filter(|m| !members.contains(&m.id()))
        .all(|m| {
            if inside_member(m) {
                return false;
            }
            match main_link(*m, base) {
                Some((link, _)) => wanted.contains(&link) && distinct_article_links(*m, base) == 1,
                None if !has_links(*m) => true,
                None => {
                    odd += 1;
                    one_same_site_link(*m, base)
                }
            }
        });
    fits && matched.len() >= group.members.len() && odd * 10 <= matched.len()
}

/// A block with one same-site link target (any number of anchors to it).
fn one_same_site_link(element: ElementRef<'_>, base: &Site) -> bool {
    let targets: HashSet<String> = std::iter::once(element)
        .filter(|e| e.value().name() == "a")
        .chain(element.select(&ANCHORS))
        .filter_map(|a| same_site_target(a, &base.url))
        .map(|u| u.path().trim_end_matches('/').to_string())
        .collect();
    targets.len() == 1
}

/// Classes per compound step: more only repeat the same block's styling and
/// break as soon as the site restyles one of them.
const MAX_CLASSES: usize = 2;

/// `tag.class1.class2` with CSS escaping: at most two classes, naming ones first.
pub(super) fn simple_selector(element: ElementRef<'_>) -> String {
    let mut out = element.value().name().to_string();
    let mut classes = stable_classes(element);
    classes.sort_by_key(|c| !is_semantic_word(c));
    classes.truncate(MAX_CLASSES);
    for class in classes {
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
pub(super) fn derive_fields(items: &[ElementRef<'_>], base: &Site, now: DateTime<Utc>) -> Fields {
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

fn title_selector(items: &[ElementRef<'_>], base: &Site) -> Option<String> {
    full_headline_selector(items, base).or_else(|| text_title_selector(items, base))
}

/// Whether `short` is `full` cut off with an ellipsis (`…`, `...`, `..`).
fn is_truncation_of(short: &str, full: &str) -> bool {
    let stem = short.trim_end_matches(['…', '.', ' ']);
    short.len() > stem.len()
        && stem.chars().count() >= 5
        && full.len() > stem.len()
        && full.starts_with(stem)
}

/// When the visible headlines are cut short (`…`) and the link's `title` or
/// `aria-label` holds the whole headline, that attribute.
fn full_headline_selector(items: &[ElementRef<'_>], base: &Site) -> Option<String> {
    let truncated = items
        .iter()
        .filter(|i| headline(**i, base).is_some_and(|h| h.ends_with('…') || h.ends_with("..")))
        .count();
    if truncated * 3 < items.len() {
        return None;
    }
    let full = |e: ElementRef<'_>, attr: &str, item: ElementRef<'_>| {
        let visible = headline(item, base).unwrap_or_default();
        e.value().attr(attr).is_some_and(|v| {
            let v = v.trim();
            v.split_whitespace().count() >= 2 && (v == visible || is_truncation_of(&visible, v))
        })
    };
    let sample = *items.first()?;
    ["title", "aria-label"].into_iter().find_map(|attr| {
        let holders = std::iter::once(sample)
            .chain(sample.descendants().filter_map(ElementRef::wrap))
            .filter(|e| e.value().name() == "a" && e.value().attr(attr).is_some());
        let candidates: Vec<String> = holders
            .flat_map(|e| {
                if e.id() == sample.id() {
                    vec![String::new()]
                } else {
                    relative_selectors(e)
                }
            })
            .collect();
        if candidates.iter().any(String::is_empty) {
            let all = items.iter().filter(|i| full(**i, attr, **i)).count() * 10 >= items.len() * 9;
            return all.then(|| format!("@{attr}"));
        }
        best_selector(items, candidates, 0.9, |item, found| {
            full(found, attr, item)
        })
        .map(|s| format!("{s} @{attr}"))
    })
}

fn text_title_selector(items: &[ElementRef<'_>], base: &Site) -> Option<String> {
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

fn link_selector(items: &[ElementRef<'_>], base: &Site) -> Option<String> {
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
            .and_then(|h| resolve_http_url(&base.url, h))
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

fn summary_selector(items: &[ElementRef<'_>], base: &Site) -> Option<String> {
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
