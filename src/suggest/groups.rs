//! The candidate groups of a page: every ancestor of every article link,
//! grouped by its path of tags and stable classes from the root, so the cards
//! of one list fall into one group even when each sits in its own grid cell;
//! and which classes are stable enough to name.

use std::collections::{HashMap, HashSet};

use scraper::{ElementRef, Html};

use super::shapes::Site;
use super::{ANCHORS, article_link, main_link};

/// Blocks of one path: the members of a possible list.
pub(super) struct Group<'a> {
    pub(super) members: Vec<ElementRef<'a>>,
    pub(super) first_position: usize,
}

impl Group<'_> {
    /// The main article link of each member.
    pub(super) fn main_links(&self, base: &Site) -> HashSet<String> {
        self.members
            .iter()
            .filter_map(|m| main_link(*m, base))
            .map(|(l, _)| l)
            .collect()
    }
}

/// Groups every ancestor (up to six levels) of every same-site link by its tag/class path.
pub(super) fn group_link_ancestors<'a>(
    document: &'a Html,
    base: &Site,
) -> HashMap<String, Group<'a>> {
    let mut groups: HashMap<String, Group<'a>> = HashMap::new();
    let mut member_ids: HashMap<String, HashSet<ego_tree::NodeId>> = HashMap::new();
    let mut signatures = Signatures::default();
    for (position, anchor) in document.select(&ANCHORS).enumerate() {
        if article_link(anchor, base).is_none() {
            continue;
        }
        let chain = std::iter::once(anchor).chain(anchor.ancestors().filter_map(ElementRef::wrap));
        for element in chain.take(6) {
            if matches!(element.value().name(), "body" | "html" | "main") {
                break;
            }
            let path = signatures.path(element);
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

/// Path signatures of elements, memoised: every link asks for up to six
/// ancestors, and the children's classes of each parent are read once.
#[derive(Default)]
struct Signatures {
    paths: HashMap<ego_tree::NodeId, String>,
    children: HashMap<ego_tree::NodeId, Vec<(ego_tree::NodeId, String, Vec<String>)>>,
}

impl Signatures {
    /// `body>div.container>div#left>div.news-box`: tags with stable classes from the root.
    fn path(&mut self, element: ElementRef<'_>) -> String {
        if let Some(known) = self.paths.get(&element.id()) {
            return known.clone();
        }
        let step = self.step(element);
        let signature = match element.parent().and_then(ElementRef::wrap) {
            Some(parent) => format!("{}>{step}", self.path(parent)),
            None => step,
        };
        self.paths.insert(element.id(), signature.clone());
        signature
    }

    /// One step of a path: the tag, a stable id, the classes it shares with its kin.
    fn step(&mut self, element: ElementRef<'_>) -> String {
        let mut step = element.value().name().to_string();
        // Tabs and widgets of one shape differ by id only (`#latest` and `#popular`).
        if let Some(id) = element.value().id().filter(|id| is_stable_class(id)) {
            step.push('#');
            step.push_str(id);
        }
        for class in self.shared_classes(element) {
            step.push('.');
            step.push_str(&class);
        }
        step
    }

    /// The element's stable classes that its kin (siblings of the same tag
    /// that share a class with it) all carry too, so one list's rows or cards
    /// stay one group when some add a modifier (`mh-posts-grid-more`, `featured`).
    fn shared_classes(&mut self, element: ElementRef<'_>) -> Vec<String> {
        let mut classes = stable_classes(element);
        let Some(parent) = element.parent() else {
            return classes;
        };
        let siblings = self.children.entry(parent.id()).or_insert_with(|| {
            parent
                .children()
                .filter_map(ElementRef::wrap)
                .map(|c| (c.id(), c.value().name().to_string(), stable_classes(c)))
                .collect()
        });
        let name = element.value().name();
        for (id, tag, theirs) in siblings.iter() {
            if *id != element.id() && tag == name && classes.iter().any(|c| theirs.contains(c)) {
                classes.retain(|c| theirs.contains(c));
            }
        }
        classes
    }
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
        || ["slick-", "owl-", "swiper-", "splide", "glide", "bx-"]
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
            && hash.bytes().all(|b| b.is_ascii_alphanumeric())
            && hash.bytes().any(|b| b.is_ascii_alphabetic())
            && looks_random(hash)
    })
}

/// Two digits, or a digit among mixed case (`7t5AG`, `a1B2c`); `news1` is a word and a number.
fn looks_random(hash: &str) -> bool {
    let digits = hash.bytes().filter(u8::is_ascii_digit).count();
    let upper = hash.bytes().any(|b| b.is_ascii_uppercase());
    let lower = hash.bytes().any(|b| b.is_ascii_lowercase());
    digits >= 2 || (digits >= 1 && upper && lower)
}
