//! Reading a listing's matched elements into items, within the page's limits.

use std::collections::HashSet;
use std::sync::mpsc;

use scraper::ElementRef;
use url::Url;

use super::{
    Extraction, FieldSelector, ItemSelectors, RawItem, date_text, element_text, first_link,
    image_value, item_link, plain_text, resolve_http_url,
};
use crate::config::Limits;
use crate::identity::canonical_link;
use crate::sanitize::{collapse_whitespace, cut_html, cut_text, escape, sanitize_html};

/// Listings with at least this many items are finished on a second thread.
const PIPELINED_ITEMS: usize = 256;

/// Reads and finishes the matched elements in page order into `out`, until
/// `limits.page_items` items are kept. On a long listing the DOM is read on
/// this thread (it cannot leave it) while a second one finishes what was
/// read (collapsing, escaping, sanitising, resolving URLs, cutting) and keeps
/// the items; once it has enough it hangs up, and reading stops.
pub(super) fn collect_items(
    elements: &[ElementRef<'_>],
    base: &Url,
    selectors: &ItemSelectors,
    limits: &Limits,
    out: &mut Extraction,
) {
    let mut keeper = Keeper::new(limits.page_items);
    if elements.len() < PIPELINED_ITEMS {
        for element in elements {
            if !keeper.take(ItemFields::read(*element, selectors).finish(base, limits)) {
                break;
            }
        }
    } else {
        keeper = std::thread::scope(|scope| {
            let (batches, received) = mpsc::sync_channel::<Vec<ItemFields>>(4);
            let finisher = scope.spawn(move || {
                for fields in received.into_iter().flatten() {
                    if !keeper.take(fields.finish(base, limits)) {
                        break;
                    }
                }
                keeper
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
        });
    }
    out.items = keeper.kept.items;
    out.incomplete = keeper.kept.incomplete;
    out.duplicates = keeper.kept.duplicates;
    out.cut.fields += keeper.cut_fields;
    out.cut.items = elements.len() - keeper.examined;
}

/// Items in the order read, the first occurrence of each link only, and
/// counts of the rest: the one rule for html listings and JSON lists alike.
#[derive(Default)]
pub(crate) struct KeptItems {
    /// The items kept, in the order read.
    pub items: Vec<RawItem>,
    seen: HashSet<String>,
    /// Reads without a title or a usable link.
    pub incomplete: usize,
    /// Reads whose link repeated an earlier one.
    pub duplicates: usize,
}

impl KeptItems {
    /// Keeps `item` unless it is missing (no title or no usable link) or its
    /// link was kept before; either way it is counted.
    pub(crate) fn keep(&mut self, item: Option<RawItem>) {
        match item {
            None => self.incomplete += 1,
            Some(item) if self.seen.insert(item.canonical_link.clone()) => self.items.push(item),
            Some(_) => self.duplicates += 1,
        }
    }
}

/// A listing's items kept so far, up to the page's item limit, and the counts.
struct Keeper {
    max_items: usize,
    kept: KeptItems,
    examined: usize,
    cut_fields: usize,
}

impl Keeper {
    fn new(max_items: usize) -> Self {
        Self {
            max_items,
            kept: KeptItems::default(),
            examined: 0,
            cut_fields: 0,
        }
    }

    /// Takes the next match; false once the page's item limit is reached.
    fn take(&mut self, finished: Finished) -> bool {
        if self.kept.items.len() >= self.max_items {
            return false;
        }
        self.examined += 1;
        self.cut_fields += finished.cut_fields;
        self.kept.keep(finished.item);
        self.kept.items.len() < self.max_items
    }
}

/// One finished match: the item (`None` without a title or a usable link)
/// and how many of its fields the limits cut.
pub(super) struct Finished {
    pub item: Option<RawItem>,
    pub cut_fields: usize,
}

/// An item's fields as the DOM holds them, copied out so that finishing them
/// needs no DOM (which cannot leave the thread that parsed it).
pub(super) struct ItemFields {
    title: Option<String>,
    href: Option<String>,
    date_text: Option<String>,
    summary: Option<Teaser>,
    image: Option<String>,
}

impl ItemFields {
    pub(super) fn read(element: ElementRef<'_>, selectors: &ItemSelectors) -> Self {
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

    /// The item, its fields within `limits.field_bytes`.
    pub(super) fn finish(self, base: &Url, limits: &Limits) -> Finished {
        let mut bound = FieldBound::new(limits.field_bytes);
        let item = self.into_item(base, &mut bound);
        Finished {
            item,
            cut_fields: bound.cut,
        }
    }

    fn into_item(self, base: &Url, bound: &mut FieldBound) -> Option<RawItem> {
        let title = bound.text(self.title.filter(|t| !t.is_empty())?);
        let link = bound.url(resolve_http_url(base, &self.href?)?)?;
        Some(RawItem {
            title,
            canonical_link: canonical_link(&link),
            link,
            date_text: self.date_text.map(|d| bound.text(d)),
            summary: self
                .summary
                .and_then(|t| t.finish(base))
                .map(|s| bound.html(s)),
            image: self
                .image
                .and_then(|raw| resolve_http_url(base, raw.trim()))
                .and_then(|url| bound.url(url)),
        })
    }
}

/// Keeps fields within `max` bytes and counts the ones it cut: the one
/// bound on listing fields, for html listings and JSON lists alike.
pub(crate) struct FieldBound {
    max: usize,
    pub cut: usize,
}

impl FieldBound {
    pub(crate) fn new(max: usize) -> Self {
        Self { max, cut: 0 }
    }

    /// Text cut on a character boundary.
    pub(crate) fn text(&mut self, mut text: String) -> String {
        if cut_text(&mut text, self.max) {
            self.cut += 1;
        }
        text
    }

    /// Sanitised HTML cut between tags, its open elements closed.
    pub(crate) fn html(&mut self, html: String) -> String {
        match cut_html(&html, self.max) {
            Some(cut) => {
                self.cut += 1;
                cut
            }
            None => html,
        }
    }

    /// A URL is kept whole or not at all: a cut one would lead somewhere else.
    pub(crate) fn url(&mut self, url: String) -> Option<String> {
        if url.len() > self.max {
            self.cut += 1;
            return None;
        }
        Some(url)
    }
}

/// A teaser before escaping or sanitising.
pub(super) enum Teaser {
    /// An attribute's value: escaped as it is.
    Attribute(String),
    /// An element holding only text: collapsed and escaped.
    Text(String),
    /// An element with markup inside: sanitised.
    Html(String),
}

impl Teaser {
    pub(super) fn read(field: &FieldSelector, element: ElementRef<'_>) -> Option<Self> {
        if field.attr().is_some() {
            return field.value(element).map(Teaser::Attribute);
        }
        let target = field.first(element)?;
        Some(match plain_text(target) {
            Some(text) => Teaser::Text(text),
            None => Teaser::Html(target.inner_html()),
        })
    }

    pub(super) fn finish(self, base: &Url) -> Option<String> {
        let html = match self {
            Teaser::Attribute(value) => escape(&value),
            Teaser::Text(text) => escape(&collapse_whitespace(&text)),
            Teaser::Html(html) => sanitize_html(&html, base),
        };
        let html = html.trim();
        (!html.is_empty()).then(|| html.to_string())
    }
}
