//! Rendering: stored items in, feed bytes out. Pure: the caller supplies the
//! items, the URLs and the clock, so every output can be tested without I/O.
//!
//! Validity is built in rather than checked after: every string passes through
//! [`xml_safe`], links are absolute by construction (the store only holds
//! resolved http(s) links), ids are the canonical links, dates are RFC 822 in
//! RSS and RFC 3339 in Atom and JSON Feed, and every format carries a self
//! link and language.
//!
//! Nothing stored can make rendering panic: a date no feed can carry is
//! replaced (see [`shown_dates`]) and an image URL a reader should not load is
//! left out (see [`http_image`]).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use atom_syndication as atom;
use chrono::{DateTime, Datelike, FixedOffset, Utc};
use chrono_tz::Tz;
use tracing::warn;
use url::Url;

use crate::sanitize::{escape, html_to_text, xml_safe};
use crate::store::StoredItem;

mod json_feed;
mod status;
pub use json_feed::{JSON_FEED_VERSION, json_feed};
pub use status::{StatusPage, StatusRow, status_html};

/// One entry to render, with what it needs to know about its source.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The stored item.
    pub item: &'a StoredItem,
    /// The source's display name.
    pub source_name: &'a str,
    /// The source's language code.
    pub language: &'a str,
    /// The source's zone, for dates on the digest page.
    pub timezone: Tz,
    /// The entry id when it is not the item's own link: a story's entry keeps
    /// the link of its first report as its id, whichever report it shows.
    pub id: Option<&'a str>,
    /// The other reports of the same story ("also reported by").
    pub also: &'a [Also<'a>],
}

impl Entry<'_> {
    /// The entry's id (Atom `id`, RSS `guid`, JSON Feed `id`).
    pub fn id(&self) -> &str {
        self.id.unwrap_or(&self.item.link)
    }

    /// Last change: the item's, or a later report's arrival.
    fn updated(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let own = shown_dates(self.item, now).updated;
        self.also
            .iter()
            .map(|a| a.seen)
            .filter(|seen| representable(*seen))
            .fold(own, DateTime::max)
    }
}

/// Another outlet's report of an entry's story.
#[derive(Debug, Clone, Copy)]
pub struct Also<'a> {
    /// Its link.
    pub link: &'a str,
    /// Its headline.
    pub title: &'a str,
    /// Its source's display name.
    pub source_name: &'a str,
    /// When medee first saw it.
    pub seen: DateTime<Utc>,
}

impl Also<'_> {
    /// The host the report is on, without `www.`: what "also reported by" names.
    pub fn host(&self) -> String {
        link_host(self.link)
    }
}

/// A link's host without `www.`, or the link itself when it has none.
fn link_host(link: &str) -> String {
    Url::parse(link)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_string())
        })
        .unwrap_or_else(|| link.to_string())
}

/// One story of a merged feed: the report shown, the id its entry keeps and
/// the other reports. Built by [`group_stories`]; entries borrow from it.
#[derive(Debug, Clone)]
pub struct StoryGroup<'a> {
    /// The report shown (with its source's names and zone).
    pub shown: Entry<'a>,
    /// The link of the story's first report: the entry id.
    pub id: &'a str,
    /// The other reports, in the order they were first seen.
    pub also: Vec<Also<'a>>,
}

impl<'a> StoryGroup<'a> {
    /// The entry that renders this story.
    pub fn entry(&'a self) -> Entry<'a> {
        Entry {
            id: Some(self.id),
            also: &self.also,
            ..self.shown
        }
    }
}

/// Groups entries (newest first, each story's reports all present) into one
/// per story, in the order of each story's newest report. The entry id is
/// the first stored report's link, which never changes once published; the
/// report shown is the first of `prefer`'s sources that reported it, else
/// that first report.
pub fn group_stories<'a>(entries: &[Entry<'a>], prefer: &[String]) -> Vec<StoryGroup<'a>> {
    let mut order: Vec<i64> = Vec::new();
    let mut members: HashMap<i64, Vec<Entry<'a>>> = HashMap::new();
    for entry in entries {
        let story = entry.item.story_id;
        let list = members.entry(story).or_default();
        if list.is_empty() {
            order.push(story);
        }
        if !list.iter().any(|e| e.item.link == entry.item.link) {
            list.push(*entry);
        }
    }
    order
        .into_iter()
        .filter_map(|story| {
            let mut list = members.remove(&story)?;
            list.sort_by_key(|e| e.item.id);
            let first = *list.first()?;
            let rank = |e: &Entry<'_>| {
                prefer
                    .iter()
                    .position(|p| *p == e.item.source_id)
                    .unwrap_or(usize::MAX)
            };
            let shown = *list.iter().min_by_key(|e| (rank(e), e.item.id))?;
            let also = list
                .iter()
                .filter(|e| e.item.id != shown.item.id)
                .map(|e| Also {
                    link: &e.item.link,
                    title: &e.item.title,
                    source_name: e.source_name,
                    seen: e.item.first_seen,
                })
                .collect();
            Some(StoryGroup {
                shown,
                id: &first.item.link,
                also,
            })
        })
        .collect()
}

/// The "also reported by" list as HTML, for an entry's description or content.
fn also_html(also: &[Also<'_>]) -> Option<String> {
    if also.is_empty() {
        return None;
    }
    let mut html = String::from("<p>Also reported by:</p><ul>");
    for a in also {
        let _ = write!(
            html,
            "<li><a href=\"{}\">{}</a>: {}</li>",
            escape(a.link),
            escape(&a.host()),
            escape(a.title)
        );
    }
    html.push_str("</ul>");
    Some(xml_safe(&html))
}

/// Text and HTML joined, either possibly absent.
fn joined(first: Option<String>, second: Option<String>) -> Option<String> {
    match (first, second) {
        (Some(a), Some(b)) => Some(a + &b),
        (a, b) => a.or(b),
    }
}

/// Channel-level data shared by the RSS, Atom and JSON Feed renderings of one feed.
#[derive(Debug, Clone)]
pub struct Channel<'a> {
    /// Feed title.
    pub title: &'a str,
    /// One-line description (RSS requires one).
    pub description: &'a str,
    /// The human-readable page the feed is about.
    pub home: &'a str,
    /// Language code of the feed.
    pub language: &'a str,
    /// Entries, newest first, already limited and deduplicated.
    pub entries: &'a [Entry<'a>],
    /// When the output is generated; used as `updated` of an empty feed.
    pub now: DateTime<Utc>,
    /// The WebSub hub readers may subscribe at (`websub_hub`), if any.
    pub hub: Option<&'a str>,
}

/// Why rendering failed (only a writer's error can cause it).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The RSS writer failed.
    #[error("cannot write RSS: {0}")]
    Rss(#[from] rss::Error),
    /// The Atom writer failed.
    #[error("cannot write Atom: {0}")]
    Atom(#[from] atom::Error),
    /// The JSON Feed serialiser failed.
    #[error("cannot write JSON Feed: {0}")]
    Json(#[from] serde_json::Error),
}

/// Keeps the first (newest) of entries that are the same story: the same link,
/// or the same normalised title with dates within three days.
pub fn dedupe_across_sources<'a>(entries: Vec<Entry<'a>>, max: usize) -> Vec<Entry<'a>> {
    const WINDOW_SECONDS: i64 = 3 * 86_400;
    let mut links = HashSet::new();
    let mut titles: HashMap<&'a str, Vec<DateTime<Utc>>> = HashMap::new();
    let mut kept: Vec<Entry<'a>> = Vec::with_capacity(max.min(entries.len()));
    for entry in entries {
        if kept.len() >= max {
            break;
        }
        let item = entry.item;
        if !links.insert(item.link.as_str()) {
            continue;
        }
        let dates = titles.entry(item.title_key.as_str()).or_default();
        let same_story = !item.title_key.is_empty()
            && dates
                .iter()
                .any(|d| (*d - item.sort_at).num_seconds().abs() <= WINDOW_SECONDS);
        if !same_story {
            dates.push(item.sort_at);
            kept.push(entry);
        }
    }
    kept
}

fn newest_update(channel: &Channel<'_>) -> DateTime<Utc> {
    let now = representable_now(channel.now);
    channel
        .entries
        .iter()
        .map(|e| shown_dates(e.item, now).updated)
        .max()
        .unwrap_or(now)
}

/// Whether both formats can carry `at`: RFC 822 in RSS needs a four-digit
/// year, and RFC 3339 in Atom has no room for a year before 1 or past 9999.
fn representable(at: DateTime<Utc>) -> bool {
    (1..=9999).contains(&at.year())
}

/// `now`, or the Unix epoch for a clock no feed can carry.
fn representable_now(now: DateTime<Utc>) -> DateTime<Utc> {
    if representable(now) {
        now
    } else {
        DateTime::UNIX_EPOCH
    }
}

/// The dates an entry is rendered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownDates {
    /// Publication time, else first-seen: the feed order.
    pub sort_at: DateTime<Utc>,
    /// Last change; never before `sort_at`.
    pub updated: DateTime<Utc>,
    /// Publication time from the page, if any.
    pub published: Option<DateTime<Utc>>,
}

/// An item's dates as a feed can carry them. A stored date outside years
/// 1–9999 (a page claiming year 0, from before the store checked dates) would
/// make the RFC 822 writer panic and take every feed down; it is replaced by
/// the item's first-seen time, else `now`, with a warning.
pub fn shown_dates(item: &StoredItem, now: DateTime<Utc>) -> ShownDates {
    let now = representable_now(now);
    let fallback = if representable(item.first_seen) {
        item.first_seen
    } else {
        now
    };
    let shown = |at: DateTime<Utc>, field: &str| {
        if representable(at) {
            return at;
        }
        warn!(link = %item.link, field, stored = %at, shown = %fallback, "stored date cannot be rendered; showing the first-seen time");
        fallback
    };
    let sort_at = shown(item.sort_at, "sort_at");
    ShownDates {
        sort_at,
        updated: shown(item.updated, "updated").max(sort_at),
        published: item.published.map(|at| shown(at, "published")),
    }
}

/// The image URL if a reader may load it: absolute http(s) with a host and
/// no credentials, as the URL parser serialises it. A native feed's
/// `media:thumbnail` is stored as the site wrote it, so `javascript:`,
/// `data:` and relative values end here, the one place an item's image
/// reaches an output.
pub fn http_image(src: &str) -> Option<String> {
    let url = Url::parse(src).ok()?;
    let loadable = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none();
    loadable.then(|| url.to_string())
}

/// The HTML shown as an entry's summary: the image, then the teaser.
fn summary_html(item: &StoredItem) -> Option<String> {
    let image = item
        .image
        .as_deref()
        .and_then(http_image)
        .map(|src| format!("<p><img src=\"{}\" alt=\"\"></p>", escape(&src)));
    match (image, item.summary.as_deref()) {
        (None, None) => None,
        (image, summary) => Some(xml_safe(&format!(
            "{}{}",
            image.unwrap_or_default(),
            summary.unwrap_or_default()
        ))),
    }
}

/// RSS 2.0 with an `atom:link rel="self"` (and `rel="hub"` with a WebSub hub).
pub fn rss(channel: &Channel<'_>, self_url: &str) -> Result<Vec<u8>, RenderError> {
    let mut out = rss::Channel::default();
    out.set_title(xml_safe(channel.title));
    out.set_link(channel.home);
    out.set_description(xml_safe(channel.description));
    out.set_language(channel.language.to_string());
    out.set_generator(format!("medee {}", env!("CARGO_PKG_VERSION")));
    out.set_last_build_date(newest_update(channel).to_rfc2822());
    let mut links = vec![link("self", self_url, Some("application/rss+xml"))];
    links.extend(channel.hub.map(|hub| link("hub", hub, None)));
    out.set_atom_ext(rss::extension::atom::AtomExtension { links });
    out.set_items(
        channel
            .entries
            .iter()
            .map(|e| rss_item(e, channel.now))
            .collect::<Vec<_>>(),
    );
    Ok(out.write_to(Vec::new())?)
}

fn rss_item(entry: &Entry<'_>, now: DateTime<Utc>) -> rss::Item {
    let item = entry.item;
    let dates = shown_dates(item, now);
    let mut out = rss::Item::default();
    out.set_title(xml_safe(&item.title));
    out.set_link(item.link.clone());
    out.set_guid(rss::Guid {
        value: entry.id().to_string(),
        permalink: entry.id() == item.link,
    });
    out.set_pub_date(dates.sort_at.to_rfc2822());
    out.set_description(joined(summary_html(item), also_html(entry.also)));
    out.set_content(item.content.as_deref().map(xml_safe));
    out.set_categories(vec![rss::Category {
        name: xml_safe(entry.source_name),
        domain: None,
    }]);
    if let Some(author) = &item.author {
        let mut dc = rss::extension::dublincore::DublinCoreExtension::default();
        dc.set_creators(vec![xml_safe(author)]);
        out.set_dublin_core_ext(dc);
    }
    out
}

/// Atom 1.0 with a feed-level author, so no entry lacks one, and a
/// `rel="hub"` link with a WebSub hub.
pub fn atom(channel: &Channel<'_>, self_url: &str) -> Result<Vec<u8>, RenderError> {
    let mut feed = atom::Feed::default();
    feed.set_id(self_url);
    feed.set_title(atom::Text::plain(xml_safe(channel.title)));
    feed.set_subtitle(Some(atom::Text::plain(xml_safe(channel.description))));
    feed.set_updated(fixed(newest_update(channel)));
    feed.set_lang(Some(channel.language.to_string()));
    feed.set_authors(vec![atom::Person {
        name: xml_safe(channel.title),
        uri: Some(channel.home.to_string()),
        ..atom::Person::default()
    }]);
    feed.set_generator(Some(atom::Generator {
        value: "medee".to_string(),
        uri: None,
        version: Some(env!("CARGO_PKG_VERSION").to_string()),
    }));
    let mut links = vec![
        link("self", self_url, Some("application/atom+xml")),
        link("alternate", channel.home, Some("text/html")),
    ];
    links.extend(channel.hub.map(|hub| link("hub", hub, None)));
    feed.set_links(links);
    feed.set_entries(
        channel
            .entries
            .iter()
            .map(|e| atom_entry(e, channel.language, channel.now))
            .collect::<Vec<_>>(),
    );
    Ok(feed.write_to(Vec::new())?)
}

fn atom_entry(entry: &Entry<'_>, feed_language: &str, now: DateTime<Utc>) -> atom::Entry {
    let item = entry.item;
    let dates = shown_dates(item, now);
    let lang = (entry.language != feed_language).then(|| entry.language.to_string());
    let mut title = atom::Text::plain(xml_safe(&item.title));
    title.lang.clone_from(&lang);
    let mut out = atom::Entry::default();
    out.set_id(entry.id());
    out.set_title(title);
    out.set_updated(fixed(entry.updated(now)));
    out.set_published(dates.published.map(fixed));
    let mut links = vec![link("alternate", &item.link, None)];
    links.extend(entry.also.iter().map(|a| atom::Link {
        title: Some(xml_safe(&a.host())),
        ..link("related", a.link, None)
    }));
    out.set_links(links);
    out.set_summary(summary_html(item).map(|html| {
        let mut text = atom::Text::html(html);
        text.lang.clone_from(&lang);
        text
    }));
    let content = joined(item.content.as_deref().map(xml_safe), also_html(entry.also));
    out.set_content(content.map(|html| atom::Content {
        value: Some(html),
        content_type: Some("html".to_string()),
        lang: lang.clone(),
        ..atom::Content::default()
    }));
    out.set_categories(vec![atom::Category {
        term: xml_safe(entry.source_name),
        ..atom::Category::default()
    }]);
    if let Some(author) = &item.author {
        out.set_authors(vec![atom::Person {
            name: xml_safe(author),
            ..atom::Person::default()
        }]);
    }
    out
}

fn link(rel: &str, href: &str, mime_type: Option<&str>) -> atom::Link {
    atom::Link {
        href: href.to_string(),
        rel: rel.to_string(),
        mime_type: mime_type.map(str::to_string),
        ..atom::Link::default()
    }
}

fn fixed(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.fixed_offset()
}

/// A feed the digest page and OPML list.
#[derive(Debug, Clone)]
pub struct FeedLink {
    /// Display title.
    pub title: String,
    /// URL of the Atom file.
    pub atom_url: String,
    /// URL of the RSS file.
    pub rss_url: String,
    /// URL of the JSON Feed file.
    pub json_url: String,
    /// The page the feed is about.
    pub home: String,
    /// Language code.
    pub language: String,
}

/// `index.html`: a front page of the newest headlines, one section per language,
/// each line labelled `PUBLISHED:` or `НИЙТЭЛСЭН:` as Mongolian digests do.
pub fn index_html(
    title: &str,
    entries: &[Entry<'_>],
    feeds: &[FeedLink],
    now: DateTime<Utc>,
) -> String {
    let mut languages: Vec<&str> = Vec::new();
    for entry in entries {
        if !languages.contains(&entry.language) {
            languages.push(entry.language);
        }
    }
    let mut html = String::with_capacity(256 + entries.len() * 256);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n",
        lang = escape(languages.first().copied().unwrap_or("en")),
        title = escape(title)
    );
    for feed in feeds.iter().take(1) {
        for (mime, url) in [
            ("application/atom+xml", &feed.atom_url),
            ("application/feed+json", &feed.json_url),
        ] {
            let _ = writeln!(
                html,
                "<link rel=\"alternate\" type=\"{mime}\" title=\"{}\" href=\"{}\">",
                escape(&feed.title),
                escape(url)
            );
        }
    }
    html.push_str(STYLE);
    let _ = write!(
        html,
        "</head>\n<body>\n<header><h1>{}</h1><p class=\"meta\">Updated {} · <a href=\"status.html\">source status</a></p></header>\n<main>\n",
        escape(title),
        now.format(crate::dates::SHOWN_UTC)
    );
    for language in &languages {
        let _ = writeln!(
            html,
            "<section lang=\"{0}\">\n<h2>{1}</h2>\n<ol>",
            escape(language),
            escape(language_name(language))
        );
        for entry in entries.iter().filter(|e| e.language == *language) {
            write_index_entry(&mut html, entry, now);
        }
        html.push_str("</ol>\n</section>\n");
    }
    html.push_str("</main>\n<footer><h2>Feeds</h2><ul>\n");
    for feed in feeds {
        let _ = writeln!(
            html,
            "<li>{} — <a href=\"{}\">Atom</a> · <a href=\"{}\">RSS</a> · <a href=\"{}\">JSON Feed</a></li>",
            escape(&feed.title),
            escape(&feed.atom_url),
            escape(&feed.rss_url),
            escape(&feed.json_url)
        );
    }
    html.push_str("</ul>\n</footer>\n</body>\n</html>\n");
    html
}

fn write_index_entry(html: &mut String, entry: &Entry<'_>, now: DateTime<Utc>) {
    let item = entry.item;
    let sort_at = shown_dates(item, now).sort_at;
    let host = url::Url::parse(&item.link)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_uppercase())
        })
        .unwrap_or_default();
    let date = sort_at
        .with_timezone(&entry.timezone)
        .format("%Y/%m/%d %H:%M");
    let also = index_also(entry.also);
    let teaser = item
        .summary
        .as_deref()
        .map(html_to_text)
        .filter(|t| !t.is_empty())
        .map(|t| format!("<p class=\"teaser\">{}</p>", escape(&truncate(&t, 240))))
        .unwrap_or_default();
    let _ = writeln!(
        html,
        "<li><a href=\"{link}\">{title}</a> <span class=\"host\">{host}</span> \
         <span class=\"date\">{label}<time datetime=\"{iso}\">{date}</time></span>{teaser}{also}</li>",
        link = escape(&item.link),
        title = escape(&item.title),
        host = escape(&host),
        label = published_label(entry.language),
        iso = sort_at.to_rfc3339(),
    );
}

/// The other outlets of a story, under its headline on the digest page.
fn index_also(also: &[Also<'_>]) -> String {
    if also.is_empty() {
        return String::new();
    }
    let links: Vec<String> = also
        .iter()
        .map(|a| {
            format!(
                "<a href=\"{}\" title=\"{}\">{}</a>",
                escape(a.link),
                escape(a.title),
                escape(&a.host())
            )
        })
        .collect();
    format!("<p class=\"also\">Also: {}</p>", links.join(", "))
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.to_string(),
    }
}

fn published_label(language: &str) -> &'static str {
    if language == "mn" || language.starts_with("mn-") {
        "НИЙТЭЛСЭН:"
    } else {
        "PUBLISHED:"
    }
}

fn language_name(language: &str) -> &str {
    match language.split('-').next().unwrap_or(language) {
        "mn" => "Монгол",
        "en" => "English",
        "ru" => "Русский",
        "ko" => "한국어",
        "ja" => "日本語",
        "zh" => "中文",
        other => other,
    }
}

const STYLE: &str = "<style>\
body{font:16px/1.45 system-ui,sans-serif;max-width:52rem;margin:0 auto;padding:1rem;color:#222}\
h1{margin:.2rem 0}h2{border-bottom:1px solid #ccc;padding-bottom:.2rem}\
ol{padding-left:1.4rem}li{margin:.5rem 0}a{color:#0645ad;font-weight:600;text-decoration:none}\
.also{margin:.1rem 0;font-size:.85rem;color:#666}.also a{font-weight:400}\
.host,.date,.meta{color:#666;font-size:.85rem;margin-left:.4rem}.teaser{margin:.2rem 0;color:#444;font-size:.92rem}\
footer li a{font-weight:400}\
</style>\n";

/// `feeds.opml`: OPML 2.0 with merged feeds and per-source feeds as two folders.
/// Each outline subscribes to the Atom file (`xmlUrl`) and names the JSON Feed
/// in a `jsonFeedUrl` attribute (OPML 2.0 allows any further attribute): a
/// second outline per feed would make a reader importing the file subscribe
/// to every feed twice.
pub fn opml(merged: &[FeedLink], sources: &[FeedLink], now: DateTime<Utc>) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n");
    let _ = write!(
        out,
        "<head>\n<title>medee feeds</title>\n<dateCreated>{}</dateCreated>\n</head>\n<body>\n",
        representable_now(now).to_rfc2822()
    );
    for (folder, feeds) in [("Merged feeds", merged), ("Sources", sources)] {
        let _ = writeln!(out, "<outline text=\"{folder}\" title=\"{folder}\">");
        for feed in feeds {
            let _ = writeln!(
                out,
                "<outline type=\"rss\" text=\"{t}\" title=\"{t}\" xmlUrl=\"{x}\" jsonFeedUrl=\"{j}\" htmlUrl=\"{h}\" language=\"{l}\"/>",
                t = escape(&feed.title),
                x = escape(&feed.atom_url),
                j = escape(&feed.json_url),
                h = escape(&feed.home),
                l = escape(&feed.language)
            );
        }
        out.push_str("</outline>\n");
    }
    out.push_str("</body>\n</opml>\n");
    out
}

#[cfg(test)]
mod tests;
