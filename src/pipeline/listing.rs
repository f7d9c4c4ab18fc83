//! Reading a listing: a fetched page in, filtered and dated items out.
//!
//! The one reading path per source kind, shared by every run and by
//! `preview`, so what a user previews is what the daemon stores.

use chrono::{DateTime, Utc};
use tracing::warn;

use crate::config::{Daemon, DateRange, Limits, Source, SourceKind};
use crate::dates::{ParsedDate, parse_date};
use crate::extract::{Extraction, RawItem, extract};
use crate::fetch::{Page, Validators};
use crate::identity::{canonical_link, title_key};
use crate::repair::SelectorSet;
use crate::repair::detect::RunStats;
use crate::sanitize::html_to_text;
use crate::store::NewItem;

use super::SourceError;

/// An item after filtering and date recognition, before the store.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProcessedItem {
    /// What the page gave.
    #[serde(flatten)]
    pub raw: RawItem,
    /// The recognised date, if any.
    pub date: Option<DateTime<Utc>>,
    /// Whether the date was relative ("2 hours ago").
    pub date_relative: bool,
    /// The normalised headline, for cross-source dedupe.
    #[serde(skip)]
    pub title_key: String,
}

impl ProcessedItem {
    /// The item as the store records it.
    pub fn into_new_item(self) -> NewItem {
        NewItem {
            link: self.raw.canonical_link,
            title_key: self.title_key,
            title: self.raw.title,
            summary: self.raw.summary,
            image: self.raw.image,
            published: self.date,
            published_relative: self.date_relative,
        }
    }
}

/// What fetching a source's listing found.
#[derive(Debug, Clone)]
pub enum Listing {
    /// 304: unchanged since the stored validators.
    NotModified,
    /// A new page: its items (filtered and dated) and its validators.
    Items(Listed, Validators),
}

/// A listing as read: its items filtered and dated, with the counts `preview` shows.
#[derive(Debug, Clone, Default)]
pub struct Listed {
    /// Items kept after filters, in page order.
    pub items: Vec<ProcessedItem>,
    /// Items with a title and a link, before filters.
    pub found: usize,
    /// What the page's `item` matched.
    pub counts: PageCounts,
    /// What the items were like before filters: what breakage detection checks.
    pub stats: RunStats,
    /// For an html source, the selectors that read the page
    /// ([`SelectorSet::key`]): runs are compared with runs read the same way.
    pub selectors: Option<String>,
}

/// Reads a fetched listing into filtered, dated items: what every run
/// stores and what `preview` shows.
pub fn read_listing(
    source: &Source,
    daemon: &Daemon,
    page: &Page,
    now: DateTime<Utc>,
) -> Result<Listed, SourceError> {
    let read = read_page(source, page, &daemon.limits)?;
    let found = read.items.len();
    // Blocks read without a title or link count; matches past `max_page_items`
    // were never read, and a repeated link is no missing one.
    let stats = RunStats::of(read.items.len() + read.counts.incomplete, &read.items);
    Ok(Listed {
        items: process_items(source, read.items, now, daemon.dates),
        found,
        counts: read.counts,
        stats,
        selectors: match &source.kind {
            SourceKind::Html(selectors) => Some(SelectorSet::of(selectors).key()),
            SourceKind::Feed | SourceKind::Json(_) => None,
        },
    })
}

/// What a page's `item` matched, for `preview`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageCounts {
    /// Elements the `item` selector matched (entries, for a feed; array elements, for json).
    pub matched: usize,
    /// Matches without a title or a link.
    pub incomplete: usize,
    /// Matches whose link was already seen on the page.
    pub duplicates: usize,
}

/// What reading a page found, before filters and dates.
#[derive(Debug, Clone, Default)]
pub struct PageRead {
    /// Items with a title and a link, in page order.
    pub items: Vec<RawItem>,
    /// What the page's `item` matched.
    pub counts: PageCounts,
}

/// Turns a fetched page into raw items: by selectors for an html source, as
/// a native feed for a feed source, by pointers for a json source. There is
/// no other reading path.
pub fn read_page(source: &Source, page: &Page, limits: &Limits) -> Result<PageRead, SourceError> {
    match &source.kind {
        SourceKind::Feed => {
            let mut items = read_feed(page)?;
            let matched = items.len();
            keep_page_items(source, &mut items, limits);
            Ok(PageRead {
                items,
                counts: PageCounts {
                    matched,
                    ..PageCounts::default()
                },
            })
        }
        SourceKind::Html(selectors) => {
            let (text, _) = page.text();
            let extraction = extract(&text, &page.url, selectors, limits);
            if !extraction.cut.is_empty() {
                warn!(source = %source.id, cut = %extraction.cut, "page cut to the limits");
            }
            check_extraction(&extraction, &selectors.item_source, page)?;
            Ok(PageRead {
                counts: PageCounts {
                    matched: extraction.matched,
                    incomplete: extraction.incomplete,
                    duplicates: extraction.duplicates,
                },
                items: extraction.items,
            })
        }
        SourceKind::Json(selectors) => {
            let text = if selectors.script.is_some() {
                page.text().0
            } else {
                json_text(page)
            };
            let mut read = crate::json_items::read_items(&text, &page.url, selectors, limits)?;
            if read.cut_fields > 0 {
                warn!(source = %source.id, fields = read.cut_fields, "JSON list fields cut to the size limit");
            }
            keep_page_items(source, &mut read.items, limits);
            Ok(PageRead {
                counts: PageCounts {
                    matched: read.matched,
                    incomplete: read.incomplete,
                    duplicates: read.duplicates,
                },
                items: read.items,
            })
        }
    }
}

/// Keeps the first `page_items` items of a feed or JSON list (an html
/// listing stops reading there itself), saying once what was dropped.
fn keep_page_items(source: &Source, items: &mut Vec<RawItem>, limits: &Limits) {
    if items.len() > limits.page_items {
        warn!(source = %source.id, dropped = items.len() - limits.page_items, "items past the page's item limit dropped");
        items.truncate(limits.page_items);
    }
}

/// A JSON body's text. JSON is UTF-8 (RFC 8259), so a body that is valid
/// UTF-8 is read as it is: an HTML string inside it that declares
/// `<meta charset>` must not make the page decoder pick another charset.
/// Anything else is decoded the way pages are.
fn json_text(page: &Page) -> String {
    let body = page
        .body
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&page.body);
    match std::str::from_utf8(body) {
        Ok(text) => text.to_string(),
        Err(_) => page.text().0,
    }
}

/// A listing where `item` matches nothing, or nothing usable, is the site changing under us.
fn check_extraction(
    extraction: &Extraction,
    selector: &str,
    page: &Page,
) -> Result<(), SourceError> {
    if extraction.matched == 0 {
        return Err(SourceError::NoMatch {
            selector: selector.to_string(),
            url: page.url.to_string(),
            title: extraction.page_title.clone().unwrap_or_default(),
            size: page.body.len(),
        });
    }
    if extraction.items.is_empty() {
        return Err(SourceError::NoUsableItems {
            selector: selector.to_string(),
            url: page.url.to_string(),
            matched: extraction.matched,
        });
    }
    Ok(())
}

fn read_feed(page: &Page) -> Result<Vec<RawItem>, SourceError> {
    let feed = feed_rs::parser::parse(page.body.as_slice()).map_err(|e| SourceError::NotAFeed {
        url: page.url.to_string(),
        message: e.to_string(),
    })?;
    Ok(feed
        .entries
        .into_iter()
        .filter_map(|entry| {
            let link = entry
                .links
                .iter()
                .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .or(entry.links.first())
                .and_then(|l| crate::extract::resolve_http_url(&page.url, &l.href))?;
            let title = crate::sanitize::collapse_whitespace(&html_to_text(&entry.title?.content));
            let summary = entry
                .summary
                .map(|s| crate::sanitize::sanitize_html(&s.content, &page.url))
                .filter(|s| !s.trim().is_empty());
            let image = entry
                .media
                .iter()
                .flat_map(|m| m.thumbnails.iter().map(|t| t.image.uri.clone()))
                .next();
            (!title.is_empty()).then(|| RawItem {
                title,
                canonical_link: canonical_link(&link),
                link,
                date_text: entry.published.or(entry.updated).map(|d| d.to_rfc3339()),
                summary,
                image,
            })
        })
        .collect())
}

/// Pages with at least this many items are processed on several threads.
const PARALLEL_ITEMS: usize = 256;

/// Applies `include`/`exclude`, recognises dates and normalises titles. A
/// long listing is split over the cores: this work needs no DOM, so it is
/// the part of a large page that can run in parallel.
pub fn process_items(
    source: &Source,
    raw: Vec<RawItem>,
    now: DateTime<Utc>,
    dates: DateRange,
) -> Vec<ProcessedItem> {
    let ctx = source.date_context(now, dates);
    let process = |raw: RawItem| {
        if !passes_filters(source, &raw) {
            return None;
        }
        let parsed: Option<ParsedDate> = raw.date_text.as_deref().and_then(|t| parse_date(t, &ctx));
        Some(ProcessedItem {
            date: parsed.map(|p| p.at),
            date_relative: parsed.is_some_and(|p| p.relative),
            title_key: title_key(&raw.title),
            raw,
        })
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if raw.len() < PARALLEL_ITEMS || threads < 2 {
        return raw.into_iter().filter_map(process).collect();
    }
    let chunk = raw.len().div_ceil(threads);
    let mut chunks = Vec::with_capacity(threads);
    let mut rest = raw;
    while rest.len() > chunk {
        let tail = rest.split_off(chunk);
        chunks.push(rest);
        rest = tail;
    }
    chunks.push(rest);
    std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(|| chunk.into_iter().filter_map(process).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Filters run on the headline and the teaser's text.
fn passes_filters(source: &Source, item: &RawItem) -> bool {
    if source.include.is_empty() && source.exclude.is_empty() {
        return true;
    }
    let text = match &item.summary {
        Some(summary) => format!("{}\n{}", item.title, html_to_text(summary)),
        None => item.title.clone(),
    };
    let included = source.include.is_empty() || source.include.iter().any(|re| re.is_match(&text));
    included && !source.exclude.iter().any(|re| re.is_match(&text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    #[test]
    fn feeds_and_json_lists_keep_the_page_item_limit() {
        let toml = "[[source]]\nid = \"f\"\nurl = \"https://x.mn/rss\"\nkind = \"feed\"\n\
                    [[source]]\nid = \"j\"\nurl = \"https://x.mn/api\"\nkind = \"json\"\n\
                    item = \"\"\ntitle = \"/t\"\nlink = \"/n/{id}\"\n";
        let config = Config::parse(toml, Path::new("medee.toml")).expect("valid config");
        let entries: String = (0..5)
            .map(|n| format!("<item><title>T{n}</title><link>https://x.mn/n/{n}</link></item>"))
            .collect();
        let rss =
            format!("<rss version=\"2.0\"><channel><title>x</title>{entries}</channel></rss>");
        let json = format!(
            "[{}]",
            (0..5)
                .map(|n| format!("{{\"id\": {n}, \"t\": \"T{n}\"}}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let limits = Limits {
            page_items: 2,
            ..Limits::default()
        };
        for (source, body) in config.sources.iter().zip([rss, json]) {
            let page = Page {
                url: source.url.clone(),
                body: body.into_bytes(),
                content_type: None,
            };
            let read = read_page(source, &page, &limits).expect("items");
            let titles: Vec<&str> = read.items.iter().map(|i| i.title.as_str()).collect();
            assert_eq!(titles, ["T0", "T1"], "{}", source.id);
            assert_eq!(read.counts.matched, 5, "{}", source.id);
        }
    }

    #[test]
    fn a_utf8_json_body_is_not_redecoded_by_a_charset_inside_its_strings() {
        let toml = "[[source]]\nid = \"j\"\nurl = \"https://gogo.mn/news\"\nkind = \"json\"\n\
                    item = \"\"\ntitle = \"/title\"\nlink = \"/r/{id}\"\nsummary = \"/body\"\n";
        let config = Config::parse(toml, Path::new("medee.toml")).expect("valid config");
        let body = "[{\"id\": 1, \"title\": \"Монгол мэдээ\", \
                    \"body\": \"<meta charset=windows-1251><p>Өнөөдөр</p>\"}]";
        for bom in ["", "\u{feff}"] {
            let page = Page {
                url: url::Url::parse("https://gogo.mn/news").expect("url"),
                body: format!("{bom}{body}").into_bytes(),
                content_type: Some("application/json".to_string()),
            };
            let read = read_page(&config.sources[0], &page, &Limits::default()).expect("items");
            assert_eq!(read.items[0].title, "Монгол мэдээ");
            assert_eq!(read.items[0].link, "https://gogo.mn/r/1");
            assert_eq!(read.items[0].summary.as_deref(), Some("<p>Өнөөдөр</p>"));
        }
    }

    #[test]
    fn a_long_listing_is_processed_in_page_order_with_filters_and_dates() {
        let toml = "[[source]]\nid = \"s\"\nurl = \"https://montsame.mn/\"\nitem = \"div\"\n\
                    timezone = \"Asia/Ulaanbaatar\"\nexclude = [\"(?i)skip\"]\n";
        let config = Config::parse(toml, Path::new("medee.toml")).expect("valid config");
        let raw: Vec<RawItem> = (0..1_000)
            .map(|n| RawItem {
                title: if n % 10 == 3 {
                    format!("Skip {n}")
                } else {
                    format!("«Headline» {n}")
                },
                link: format!("https://montsame.mn/read/{n}"),
                canonical_link: format!("https://montsame.mn/read/{n}"),
                date_text: Some(format!("2025.11.{:02} 14:05", 1 + n % 28)),
                summary: None,
                image: None,
            })
            .collect();
        let now = Utc::now();
        let items = process_items(&config.sources[0], raw, now, DateRange::default());
        let kept: Vec<usize> = (0..1_000).filter(|n| n % 10 != 3).collect();
        assert_eq!(items.len(), kept.len());
        for (item, n) in items.iter().zip(kept) {
            assert_eq!(item.raw.link, format!("https://montsame.mn/read/{n}"));
            assert_eq!(item.title_key, format!("headline {n}"));
            let expected = format!("2025-11-{:02}T06:05:00+00:00", 1 + n % 28);
            assert_eq!(item.date.map(|d| d.to_rfc3339()), Some(expected));
        }
    }
}
