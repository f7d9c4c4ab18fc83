//! Rendering: stored items in, feed bytes out. Pure: the caller supplies the
//! items, the URLs and the clock, so every output can be tested without I/O.
//!
//! Validity is built in rather than checked after: every string passes through
//! [`xml_safe`], links are absolute by construction (the store only holds
//! resolved http(s) links), ids are the canonical links, dates are RFC 822 in
//! RSS and RFC 3339 in Atom, and both formats carry a self link and language.
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
}

/// Channel-level data shared by the RSS and Atom renderings of one feed.
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
}

/// Why rendering failed (only an XML writer error can cause it).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The RSS writer failed.
    #[error("cannot write RSS: {0}")]
    Rss(#[from] rss::Error),
    /// The Atom writer failed.
    #[error("cannot write Atom: {0}")]
    Atom(#[from] atom::Error),
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

/// RSS 2.0 with an `atom:link rel="self"`.
pub fn rss(channel: &Channel<'_>, self_url: &str) -> Result<Vec<u8>, RenderError> {
    let mut out = rss::Channel::default();
    out.set_title(xml_safe(channel.title));
    out.set_link(channel.home);
    out.set_description(xml_safe(channel.description));
    out.set_language(channel.language.to_string());
    out.set_generator(format!("medee {}", env!("CARGO_PKG_VERSION")));
    out.set_last_build_date(newest_update(channel).to_rfc2822());
    out.set_atom_ext(rss::extension::atom::AtomExtension {
        links: vec![atom::Link {
            href: self_url.to_string(),
            rel: "self".to_string(),
            mime_type: Some("application/rss+xml".to_string()),
            ..atom::Link::default()
        }],
    });
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
        value: item.link.clone(),
        permalink: true,
    });
    out.set_pub_date(dates.sort_at.to_rfc2822());
    out.set_description(summary_html(item));
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

/// Atom 1.0 with a feed-level author, so no entry lacks one.
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
    feed.set_links(vec![
        link("self", self_url, Some("application/atom+xml")),
        link("alternate", channel.home, Some("text/html")),
    ]);
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
    out.set_id(item.link.clone());
    out.set_title(title);
    out.set_updated(fixed(dates.updated));
    out.set_published(dates.published.map(fixed));
    out.set_links(vec![link("alternate", &item.link, None)]);
    out.set_summary(summary_html(item).map(|html| {
        let mut text = atom::Text::html(html);
        text.lang.clone_from(&lang);
        text
    }));
    out.set_content(item.content.as_deref().map(|html| atom::Content {
        value: Some(xml_safe(html)),
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
        let _ = writeln!(
            html,
            "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{}\" href=\"{}\">",
            escape(&feed.title),
            escape(&feed.atom_url)
        );
    }
    html.push_str(STYLE);
    let _ = write!(
        html,
        "</head>\n<body>\n<header><h1>{}</h1><p class=\"meta\">Updated {}</p></header>\n<main>\n",
        escape(title),
        now.format("%Y-%m-%d %H:%M UTC")
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
            "<li>{} — <a href=\"{}\">Atom</a> · <a href=\"{}\">RSS</a></li>",
            escape(&feed.title),
            escape(&feed.atom_url),
            escape(&feed.rss_url)
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
         <span class=\"date\">{label}<time datetime=\"{iso}\">{date}</time></span>{teaser}</li>",
        link = escape(&item.link),
        title = escape(&item.title),
        host = escape(&host),
        label = published_label(entry.language),
        iso = sort_at.to_rfc3339(),
    );
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
.host,.date,.meta{color:#666;font-size:.85rem;margin-left:.4rem}.teaser{margin:.2rem 0;color:#444;font-size:.92rem}\
footer li a{font-weight:400}\
</style>\n";

/// `feeds.opml`: OPML 2.0 with merged feeds and per-source feeds as two folders.
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
                "<outline type=\"rss\" text=\"{t}\" title=\"{t}\" xmlUrl=\"{x}\" htmlUrl=\"{h}\" language=\"{l}\"/>",
                t = escape(&feed.title),
                x = escape(&feed.atom_url),
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
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn item(id: i64, link: &str, title: &str, day: u32) -> StoredItem {
        let at = Utc
            .with_ymd_and_hms(2024, 12, day, 8, 0, 0)
            .single()
            .expect("valid time");
        StoredItem {
            id,
            source_id: "s".to_string(),
            link: link.to_string(),
            title: title.to_string(),
            title_key: crate::identity::title_key(title),
            summary: Some("<b>x</b> ]]&gt; y".to_string()),
            image: None,
            content: None,
            author: None,
            published: Some(at),
            first_seen: at,
            updated: at,
            sort_at: at,
        }
    }

    fn entries(items: &[StoredItem]) -> Vec<Entry<'_>> {
        items
            .iter()
            .map(|item| Entry {
                item,
                source_name: "S",
                language: "en",
                timezone: Tz::UTC,
            })
            .collect()
    }

    #[test]
    fn same_title_within_three_days_is_one_entry() {
        let items = [
            item(1, "https://a.mn/1", "Coal exports rise", 20),
            item(2, "https://b.mn/9", "COAL exports rise!", 18),
            item(3, "https://c.mn/4", "Coal exports rise", 10),
            item(4, "https://a.mn/1", "Same link", 9),
        ];
        let kept = dedupe_across_sources(entries(&items), 10);
        let ids: Vec<i64> = kept.iter().map(|e| e.item.id).collect();
        assert_eq!(ids, [1, 3]);
    }

    #[test]
    fn hostile_text_renders_to_parseable_feeds() {
        let mut hostile = item(
            1,
            "https://a.mn/1",
            "Bad \u{0}\u{1b} title ]]> <script>",
            20,
        );
        hostile.content = Some("]]> <p>ok</p>".to_string());
        let items = [hostile];
        let list = entries(&items);
        let channel = Channel {
            title: "T & \u{7}",
            description: "D",
            home: "https://example.org/",
            language: "en",
            entries: &list,
            now: Utc::now(),
        };
        for bytes in [
            rss(&channel, "https://example.org/x.rss").expect("rss"),
            atom(&channel, "https://example.org/x.atom").expect("atom"),
        ] {
            let feed = feed_rs::parser::parse(bytes.as_slice()).expect("parses");
            let title = feed.entries[0]
                .title
                .as_ref()
                .expect("title")
                .content
                .clone();
            assert_eq!(title, "Bad  title ]]> <script>");
        }
    }
    fn channel<'a>(entries: &'a [Entry<'a>], now: DateTime<Utc>) -> Channel<'a> {
        Channel {
            title: "T",
            description: "D",
            home: "https://example.org/",
            language: "en",
            entries,
            now,
        }
    }

    /// Both feeds of `items`, parsed back.
    fn rendered(items: &[StoredItem], now: DateTime<Utc>) -> Vec<feed_rs::model::Feed> {
        let list = entries(items);
        let channel = channel(&list, now);
        [
            rss(&channel, "https://example.org/x.rss").expect("rss"),
            atom(&channel, "https://example.org/x.atom").expect("atom"),
        ]
        .iter()
        .map(|bytes| feed_rs::parser::parse(bytes.as_slice()).expect("parses"))
        .collect()
    }

    fn at(year: i32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(year, 6, 1, 12, 0, 0)
            .single()
            .expect("valid time")
    }

    #[test]
    fn a_date_before_year_one_is_shown_as_the_first_seen_time() {
        let mut bad = item(1, "https://a.mn/1", "Year zero", 20);
        let first_seen = bad.first_seen;
        for stored in [at(0), at(-1), DateTime::<Utc>::MIN_UTC] {
            bad.published = Some(stored);
            bad.sort_at = stored;
            bad.updated = stored;
            let items = [bad.clone()];
            for feed in rendered(&items, Utc::now()) {
                let entry = &feed.entries[0];
                assert_eq!(entry.published, Some(first_seen), "{stored}");
                assert_eq!(entry.updated.or(entry.published), Some(first_seen));
            }
            let list = entries(&items);
            let html = index_html("T", &list, &[], Utc::now());
            assert!(html.contains(&first_seen.to_rfc3339()), "{stored}: {html}");
        }
    }

    #[test]
    fn a_year_9999_date_is_kept_and_a_later_one_falls_back() {
        let mut far = item(1, "https://a.mn/1", "Far future", 20);
        let first_seen = far.first_seen;
        far.published = Some(at(9999));
        far.sort_at = at(9999);
        far.updated = at(9999);
        let items = [far.clone()];
        for feed in rendered(&items, Utc::now()) {
            assert_eq!(feed.entries[0].published, Some(at(9999)));
        }
        far.published = Some(at(10_000));
        far.sort_at = DateTime::<Utc>::MAX_UTC;
        far.updated = DateTime::<Utc>::MAX_UTC;
        let items = [far];
        for feed in rendered(&items, Utc::now()) {
            assert_eq!(feed.entries[0].published, Some(first_seen));
        }
    }

    #[test]
    fn every_date_out_of_range_falls_back_to_now() {
        let mut lost = item(1, "https://a.mn/1", "No good date", 20);
        lost.first_seen = at(-5);
        lost.sort_at = at(-5);
        lost.updated = at(20_000);
        lost.published = None;
        let now = at(2025);
        let items = [lost];
        for feed in rendered(&items, now) {
            let entry = &feed.entries[0];
            assert_eq!(entry.updated.or(entry.published), Some(now));
        }
        let empty: [StoredItem; 0] = [];
        for feed in rendered(&empty, at(-3)) {
            assert_eq!(feed.updated, Some(DateTime::UNIX_EPOCH));
        }
        assert!(opml(&[], &[], at(12_000)).contains("1970"));
    }

    #[test]
    fn only_absolute_http_images_reach_a_summary() {
        for (stored, shown) in [
            ("https://a.mn/p.jpg", Some("https://a.mn/p.jpg")),
            ("HTTP://A.mn/p q.jpg", Some("http://a.mn/p%20q.jpg")),
            ("javascript:alert(1)", None),
            (" JavaScript:alert(1)", None),
            ("data:image/png;base64,AAAA", None),
            ("/files/p.jpg", None),
            ("//evil.example/p.jpg", None),
            ("p.jpg", None),
            ("ftp://a.mn/p.jpg", None),
            ("https://user:pw@a.mn/p.jpg", None),
            ("", None),
        ] {
            assert_eq!(http_image(stored).as_deref(), shown, "{stored:?}");
            let mut with_image = item(1, "https://a.mn/1", "Picture", 20);
            with_image.image = Some(stored.to_string());
            let html = summary_html(&with_image).expect("has a summary");
            assert_eq!(html.contains("<img"), shown.is_some(), "{stored:?}: {html}");
        }
    }
}
