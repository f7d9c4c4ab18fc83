//! Golden files: RSS, Atom, JSON Feed, index.html and OPML rendered through the public
//! render API from one fixed set of items at one fixed clock, compared with
//! the snapshots committed under tests/it/snapshots/. Each output is also
//! parsed back (feed-rs, scraper, roxmltree), so a snapshot accepted by
//! mistake still has to be a valid document carrying the fixture's data.
//!
//! An intended change: `INSTA_UPDATE=always cargo test --test it golden::`,
//! then review the `.snap` diff like code. CI runs with `INSTA_UPDATE=no`, so
//! a mismatch (or a missing snapshot) fails there and writes nothing.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use medee::identity::title_key;
use medee::render::{self, Channel, Entry, FeedLink};
use medee::store::StoredItem;
use scraper::{ElementRef, Html, Selector};

/// The clock every output is rendered at.
fn now() -> DateTime<Utc> {
    utc("2025-07-10T04:00:00Z")
}

fn utc(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
        .with_timezone(&Utc)
}

/// A source as the renderer sees it: id, display name, language, zone.
struct Source {
    id: &'static str,
    name: &'static str,
    language: &'static str,
    timezone: Tz,
}

const SOURCES: [Source; 5] = [
    Source {
        id: "montsame-mn",
        name: "МОНЦАМЭ",
        language: "mn",
        timezone: Tz::Asia__Ulaanbaatar,
    },
    Source {
        id: "montsame-en",
        name: "MONTSAME English",
        language: "en",
        timezone: Tz::Asia__Ulaanbaatar,
    },
    Source {
        id: "gogo-mn",
        name: "GoGo.mn",
        language: "mn",
        timezone: Tz::Asia__Ulaanbaatar,
    },
    Source {
        id: "nknews",
        name: "NK News",
        language: "en",
        timezone: Tz::Asia__Seoul,
    },
    Source {
        id: "mongolia-focus",
        name: "Mongolia Focus & \"Notes\"",
        language: "en",
        timezone: Tz::America__Vancouver,
    },
];

fn source(id: &str) -> &'static Source {
    SOURCES
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no fixture source {id}"))
}

/// An item as the store returns it: dated items sort by publication, an
/// undated one by when it was first seen.
fn item(id: i64, source_id: &str, link: &str, title: &str, published: Option<&str>) -> StoredItem {
    let published = published.map(utc);
    let first_seen = published.unwrap_or_else(|| utc("2025-07-08T22:10:00Z"));
    StoredItem {
        id,
        source_id: source_id.to_string(),
        link: link.to_string(),
        title: title.to_string(),
        title_key: title_key(title),
        summary: None,
        image: None,
        content: None,
        author: None,
        published,
        first_seen,
        updated: first_seen,
        sort_at: first_seen,
        story_id: id,
    }
}

const ESCAPED_TITLE: &str = "Mongolia & Japan sign <\"green\"> energy memo — 'first' of its kind";
const ESCAPED_LINK: &str = "https://montsame.mn/en/read/377934?lang=en&ref=home";

/// Seven items, newest first; items 5 and 6 repeat item 4's story (same
/// headline, two days older) and item 1's link, so dedupe drops them.
fn items() -> Vec<StoredItem> {
    let mut coal = item(
        1,
        "montsame-mn",
        "https://montsame.mn/mn/read/398211",
        "Нүүрсний экспорт оны эхний хагаст 12 хувиар өсөв",
        Some("2025-07-09T06:35:00Z"),
    );
    coal.summary = Some(
        "<p>Гаалийн ерөнхий газрын мэдээгээр <b>нүүрсний</b> экспорт \
         <a href=\"https://montsame.mn/mn/read/398100\">өмнөх</a> оны мөн үеэс өслөө.</p>"
            .to_string(),
    );
    coal.image = Some("https://montsame.mn/files/63576773987c3.jpeg".to_string());
    coal.content = Some(
        "<p>Гаалийн ерөнхий газрын мэдээгээр нүүрсний экспорт 12 хувиар өслөө.</p>\
         <p><img src=\"https://montsame.mn/files/63576773987c3.jpeg\" alt=\"\"></p>"
            .to_string(),
    );
    coal.author = Some("Б.Болормаа".to_string());
    let mut memo = item(
        2,
        "montsame-en",
        ESCAPED_LINK,
        ESCAPED_TITLE,
        Some("2025-07-09T03:00:00Z"),
    );
    memo.summary = Some("Tokyo &amp; Ulaanbaatar agree on <i>renewables</i>.".to_string());
    memo.updated = utc("2025-07-09T05:00:00Z");
    vec![
        coal,
        memo,
        item(
            3,
            "gogo-mn",
            "https://gogo.mn/r/n7k2qa",
            "УИХ-ын чуулган намрын ээлжит хуралдаанаа эхэллээ",
            None,
        ),
        item(
            4,
            "nknews",
            "https://www.nknews.org/2025/07/coal-exports-rise/",
            "Coal exports rise 12 percent in first half",
            Some("2025-07-08T12:00:00Z"),
        ),
        item(
            5,
            "mongolia-focus",
            "https://blogs.ubc.ca/mongolia/2025/coal-exports/",
            "“Coal Exports Rise 12 Percent in First Half”",
            Some("2025-07-07T09:00:00Z"),
        ),
        item(
            6,
            "gogo-mn",
            "https://montsame.mn/mn/read/398211",
            "Нүүрсний экспорт 12 хувиар өслөө",
            Some("2025-07-06T10:00:00Z"),
        ),
        item(
            7,
            "montsame-mn",
            "https://montsame.mn/mn/read/398174",
            "Төв банк бодлогын хүүг хэвээр үлдээлээ",
            Some("2025-07-01T02:00:00Z"),
        ),
    ]
}

/// The ids dedupe keeps from [`items`].
const KEPT: [i64; 5] = [1, 2, 3, 4, 7];

fn entries(items: &[StoredItem]) -> Vec<Entry<'_>> {
    let all = items
        .iter()
        .map(|item| {
            let source = source(&item.source_id);
            Entry {
                item,
                source_name: source.name,
                language: source.language,
                timezone: source.timezone,
                id: None,
                also: &[],
            }
        })
        .collect();
    render::dedupe_across_sources(all, 100)
}

const BASE: &str = "https://news.example.org/feeds/";

fn feed_link(stem: &str, title: &str, home: &str, language: &str) -> FeedLink {
    FeedLink {
        title: title.to_string(),
        atom_url: format!("{BASE}{stem}.atom"),
        rss_url: format!("{BASE}{stem}.rss"),
        json_url: format!("{BASE}{stem}.json"),
        home: home.to_string(),
        language: language.to_string(),
    }
}

fn merged_feeds() -> Vec<FeedLink> {
    let home = format!("{BASE}index.html");
    vec![
        feed_link("all", "Mongolia news", &home, "mn"),
        feed_link("english", "Mongolia news in English", &home, "en"),
    ]
}

fn source_feeds() -> Vec<FeedLink> {
    SOURCES
        .iter()
        .map(|s| {
            feed_link(
                s.id,
                s.name,
                &format!("https://{}.example/", s.id),
                s.language,
            )
        })
        .collect()
}

/// The merged "all" feed: Mongolian, so English entries carry their own language.
fn channel<'a>(entries: &'a [Entry<'a>]) -> Channel<'a> {
    Channel {
        title: "Mongolia news",
        description: "Headlines from Mongolian & English sources",
        home: "https://news.example.org/feeds/index.html",
        language: "mn",
        entries,
        now: now(),
        hub: None,
    }
}

/// The feed as its snapshot holds it. The XML writers put a whole feed on
/// one line, so the snapshot breaks between adjacent tags (whitespace there
/// means nothing to a feed reader) for a diff to show which element changed.
/// The crate version in the generator tags is masked: a release is not a
/// change of the format.
fn feed_snapshot(text: &str) -> String {
    let version = env!("CARGO_PKG_VERSION");
    text.replace("><", ">\n<")
        .replace(&format!("medee {version}"), "medee [version]")
        .replace(&format!("version=\"{version}\""), "version=\"[version]\"")
}

fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("output is not UTF-8: {e}"))
}

fn kept<'a>(entries: &'a [Entry<'a>]) -> impl Iterator<Item = &'a StoredItem> {
    entries.iter().map(|e| e.item)
}

#[test]
fn dedupe_keeps_one_copy_of_each_story() {
    let items = items();
    let entries = entries(&items);
    let ids: Vec<i64> = kept(&entries).map(|i| i.id).collect();
    assert_eq!(ids, KEPT);
}

/// What every feed format must carry once parsed back.
fn assert_entries_carry_the_fixture(feed: &feed_rs::model::Feed, entries: &[Entry<'_>]) {
    let titles: Vec<Option<&str>> = feed
        .entries
        .iter()
        .map(|e| e.title.as_ref().map(|t| t.content.as_str()))
        .collect();
    let expected: Vec<Option<&str>> = kept(entries).map(|i| Some(i.title.as_str())).collect();
    assert_eq!(titles, expected);
    let links: Vec<&str> = feed
        .entries
        .iter()
        .map(|e| e.links.first().map_or("", |l| l.href.as_str()))
        .collect();
    let expected: Vec<&str> = kept(entries).map(|i| i.link.as_str()).collect();
    assert_eq!(links, expected);
    let coal = &feed.entries[0];
    let content = coal.content.as_ref().and_then(|c| c.body.as_deref());
    assert!(
        content.is_some_and(|c| c.contains("12 хувиар өслөө")),
        "{content:?}"
    );
    assert_eq!(
        coal.authors.first().and_then(|a| a.name.as_deref()),
        Some("Б.Болормаа")
    );
}

/// What both XML formats must carry: the entries, and the image and teaser
/// as the HTML summary.
fn assert_feed_carries_the_fixture(feed: &feed_rs::model::Feed, entries: &[Entry<'_>]) {
    assert_entries_carry_the_fixture(feed, entries);
    let coal = &feed.entries[0];
    let summary = coal.summary.as_ref().map_or("", |s| s.content.as_str());
    assert!(
        summary.starts_with("<p><img src=\"https://montsame.mn/files/63576773987c3.jpeg\""),
        "{summary}"
    );
    assert!(summary.contains("<b>нүүрсний</b>"), "{summary}");
}

#[test]
fn rss_matches_its_golden_file_and_parses_back() {
    let items = items();
    let entries = entries(&items);
    let bytes = render::rss(&channel(&entries), &format!("{BASE}all.rss")).expect("renders");
    let text = utf8(bytes);
    insta::assert_snapshot!("all.rss", feed_snapshot(&text));

    let feed = feed_rs::parser::parse(text.as_bytes()).expect("parses back");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::RSS2);
    assert_feed_carries_the_fixture(&feed, &entries);
    let undated = &feed.entries[2];
    assert_eq!(
        undated.published,
        Some(utc("2025-07-08T22:10:00Z")),
        "RSS dates an undated item by when it was first seen"
    );
}

#[test]
fn atom_matches_its_golden_file_and_parses_back() {
    let items = items();
    let entries = entries(&items);
    let bytes = render::atom(&channel(&entries), &format!("{BASE}all.atom")).expect("renders");
    let text = utf8(bytes);
    insta::assert_snapshot!("all.atom", feed_snapshot(&text));

    let feed = feed_rs::parser::parse(text.as_bytes()).expect("parses back");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_feed_carries_the_fixture(&feed, &entries);
    assert_eq!(feed.language.as_deref(), Some("mn"));
    assert_eq!(
        feed.updated,
        Some(utc("2025-07-09T06:35:00Z")),
        "the newest entry's update"
    );
    let undated = &feed.entries[2];
    assert_eq!(undated.published, None, "Atom invents no publication date");
    assert_eq!(undated.updated, Some(utc("2025-07-08T22:10:00Z")));
    let memo = &feed.entries[1];
    assert_eq!(memo.published, Some(utc("2025-07-09T03:00:00Z")));
    assert_eq!(memo.updated, Some(utc("2025-07-09T05:00:00Z")));
}

#[test]
fn json_feed_matches_its_golden_file_and_parses_back() {
    let items = items();
    let entries = entries(&items);
    let bytes = render::json_feed(&channel(&entries), &format!("{BASE}all.json")).expect("renders");
    let text = utf8(bytes);
    insta::assert_snapshot!("all.json", text);

    let feed = feed_rs::parser::parse(text.as_bytes()).expect("parses back");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::JSON);
    assert_entries_carry_the_fixture(&feed, &entries);
    assert_eq!(feed.language.as_deref(), Some("mn"));
    let undated = &feed.entries[2];
    assert_eq!(
        undated.published, None,
        "JSON Feed invents no publication date"
    );
    assert_eq!(undated.updated, Some(utc("2025-07-08T22:10:00Z")));
    let memo = &feed.entries[1];
    assert_eq!(memo.published, Some(utc("2025-07-09T03:00:00Z")));
    assert_eq!(memo.updated, Some(utc("2025-07-09T05:00:00Z")));
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(doc["version"], render::JSON_FEED_VERSION);
    assert_eq!(doc["feed_url"], format!("{BASE}all.json"));
    assert_eq!(
        doc["items"][1]["language"], "en",
        "an English entry in a Mongolian feed"
    );
}

fn select<'a>(scope: ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    let selector = Selector::parse(css).unwrap_or_else(|e| panic!("{css}: {e}"));
    scope.select(&selector).collect()
}

fn text(element: ElementRef<'_>) -> String {
    element.text().collect()
}

#[test]
fn index_html_matches_its_golden_file_and_parses_back() {
    let items = items();
    let entries = entries(&items);
    let feeds: Vec<FeedLink> = merged_feeds().into_iter().chain(source_feeds()).collect();
    let html = render::index_html("Mongolia news", &entries, &feeds, now());
    insta::assert_snapshot!("index.html", html);

    let document = Html::parse_document(&html);
    assert_eq!(document.errors, Vec::<&str>::new(), "HTML5 parse errors");
    let root = document.root_element();
    assert_eq!(root.value().attr("lang"), Some("mn"));
    let sections: Vec<Option<&str>> = select(root, "main > section")
        .into_iter()
        .map(|s| s.value().attr("lang"))
        .collect();
    assert_eq!(sections, [Some("mn"), Some("en")]);
    let lines = select(root, "main li");
    assert_eq!(lines.len(), KEPT.len());
    for item in kept(&entries) {
        let line = lines
            .iter()
            .find(|li| {
                select(**li, "a").first().is_some_and(|a| {
                    text(*a) == item.title && a.value().attr("href") == Some(&item.link)
                })
            })
            .unwrap_or_else(|| panic!("no line links {:?} to {}", item.title, item.link));
        let date = select(*line, "time");
        assert_eq!(
            date.first().and_then(|t| t.value().attr("datetime")),
            Some(item.sort_at.to_rfc3339().as_str())
        );
    }
    let hosts: Vec<String> = lines
        .iter()
        .flat_map(|li| select(*li, ".host"))
        .map(text)
        .collect();
    assert_eq!(
        hosts,
        [
            "MONTSAME.MN",
            "GOGO.MN",
            "MONTSAME.MN",
            "MONTSAME.MN",
            "NKNEWS.ORG"
        ]
    );
    let teaser = select(lines[0], ".teaser");
    assert_eq!(
        teaser.first().map(|t| text(*t)).as_deref(),
        Some("Гаалийн ерөнхий газрын мэдээгээр нүүрсний экспорт өмнөх оны мөн үеэс өслөө.")
    );
    let footer_links = select(root, "footer a");
    assert_eq!(
        footer_links.len(),
        3 * feeds.len(),
        "Atom, RSS and JSON Feed per feed"
    );
    let alternates: Vec<Option<&str>> = select(root, "head link[rel=alternate]")
        .into_iter()
        .map(|l| l.value().attr("type"))
        .collect();
    assert_eq!(
        alternates,
        [Some("application/atom+xml"), Some("application/feed+json")]
    );
}

#[test]
fn opml_matches_its_golden_file_and_parses_back() {
    let merged = merged_feeds();
    let sources = source_feeds();
    let opml = render::opml(&merged, &sources, now());
    insta::assert_snapshot!("feeds.opml", opml);

    let document = roxmltree::Document::parse(&opml).expect("well-formed XML");
    let root = document.root_element();
    assert_eq!(
        (root.tag_name().name(), root.attribute("version")),
        ("opml", Some("2.0"))
    );
    let created = root
        .descendants()
        .find(|n| n.has_tag_name("dateCreated"))
        .and_then(|n| n.text())
        .map(DateTime::parse_from_rfc2822);
    assert_eq!(created, Some(Ok(now().fixed_offset())));
    let listed: Vec<(Option<&str>, Option<&str>)> = root
        .descendants()
        .filter(|n| n.attribute("xmlUrl").is_some())
        .map(|n| (n.attribute("title"), n.attribute("xmlUrl")))
        .collect();
    let expected: Vec<(Option<&str>, Option<&str>)> = merged
        .iter()
        .chain(&sources)
        .map(|f| (Some(f.title.as_str()), Some(f.atom_url.as_str())))
        .collect();
    assert_eq!(listed, expected);
    let json: Vec<Option<&str>> = root
        .descendants()
        .filter(|n| n.attribute("xmlUrl").is_some())
        .map(|n| n.attribute("jsonFeedUrl"))
        .collect();
    let expected: Vec<Option<&str>> = merged
        .iter()
        .chain(&sources)
        .map(|f| Some(f.json_url.as_str()))
        .collect();
    assert_eq!(json, expected);
}

/// `medee status --json` for three sources in three states, on the fixed clock.
#[test]
fn status_json_matches_its_golden_file_and_parses_back() {
    let config = medee::config::Config::parse(
        "[[source]]\nid = \"montsame-mn\"\nname = \"МОНЦАМЭ\"\nurl = \"https://montsame.mn/mn/more/8\"\nitem = \"div.news-box\"\n\
         [[source]]\nid = \"gogo-mn\"\nurl = \"https://gogo.mn/i/2\"\nitem = \"li\"\n\
         [[source]]\nid = \"nknews\"\nurl = \"https://www.nknews.org/\"\nitem = \"article\"\n",
        std::path::Path::new("medee.toml"),
    )
    .expect("valid config");
    let health = [
        medee::store::SourceHealth {
            id: "montsame-mn".into(),
            last_attempt: Some(now()),
            last_success: Some(now()),
            last_error: None,
            consecutive_failures: 0,
            items: 42,
            next_run: Some(utc("2025-07-10T04:15:00Z")),
            ..Default::default()
        },
        medee::store::SourceHealth {
            id: "gogo-mn".into(),
            last_attempt: Some(now()),
            last_success: Some(utc("2025-07-09T22:00:00Z")),
            last_error: Some("http://gogo.mn/i/2: HTTP 503".into()),
            consecutive_failures: 3,
            items: 7,
            next_run: Some(utc("2025-07-10T05:00:00Z")),
            failing_since: Some(utc("2025-07-09T23:00:00Z")),
            ..Default::default()
        },
    ];
    let report = medee::cli::status_report(&config, &health);
    let text = serde_json::to_string_pretty(&report).expect("serialises");
    insta::assert_snapshot!("status.json", text);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(doc["daemon_running"], true);
    let states: Vec<&str> = doc["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| s["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states, ["ok", "backing_off", "never_run"]);
    assert_eq!(doc["sources"][1]["last_attempt"], "2025-07-10T04:00:00Z");
    assert_eq!(doc["sources"][2]["items"], 0);
    assert_eq!(
        doc["sources"][1]["condition"],
        "failing since 2025-07-09 23:00 UTC"
    );
}
