//! Unit tests of the XML and HTML renderings.

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
        story_id: id,
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
            id: None,
            also: &[],
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
        hub: None,
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
        hub: None,
    }
}

/// Every feed format of `items`, parsed back.
fn rendered(items: &[StoredItem], now: DateTime<Utc>) -> Vec<feed_rs::model::Feed> {
    let list = entries(items);
    let channel = channel(&list, now);
    [
        rss(&channel, "https://example.org/x.rss").expect("rss"),
        atom(&channel, "https://example.org/x.atom").expect("atom"),
        json_feed(&channel, "https://example.org/x.json").expect("json"),
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
        // JSON Feed has no feed-level date; the XML formats must carry one.
        let expected =
            (feed.feed_type != feed_rs::model::FeedType::JSON).then_some(DateTime::UNIX_EPOCH);
        assert_eq!(feed.updated, expected);
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

/// Three reports of story 1 (ids 1, 4, 6 from sources a, b, c) and one of story 2.
fn story_items() -> Vec<StoredItem> {
    let report = |id: i64, source: &str, story: i64, day: u32| StoredItem {
        source_id: source.to_string(),
        story_id: story,
        ..item(
            id,
            &format!("https://{source}.mn/{id}"),
            &format!("Report {id}"),
            day,
        )
    };
    vec![
        report(6, "c", 1, 12),
        report(5, "a", 5, 11),
        report(4, "b", 1, 10),
        report(1, "a", 1, 9),
    ]
}

#[test]
fn a_story_is_one_entry_with_the_first_reports_id_and_the_others_related() {
    let items = story_items();
    let all = entries(&items);
    let groups = group_stories(&all, &[]);
    assert_eq!(groups.len(), 2);
    let story = groups[0].entry();
    assert_eq!(story.id(), "https://a.mn/1");
    assert_eq!(story.item.link, "https://a.mn/1");
    let also: Vec<&str> = story.also.iter().map(|a| a.link).collect();
    assert_eq!(also, ["https://b.mn/4", "https://c.mn/6"]);
    assert_eq!(groups[1].entry().id(), "https://a.mn/5");

    let channel = Channel {
        title: "t",
        description: "d",
        home: "https://example.org/",
        language: "en",
        entries: &[story],
        now: Utc::now(),
        hub: None,
    };
    let atom = String::from_utf8(atom(&channel, "https://example.org/all.atom").expect("atom"))
        .expect("UTF-8");
    let doc = roxmltree::Document::parse(&atom).expect("well-formed");
    let related: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("link") && n.attribute("rel") == Some("related"))
        .map(|n| {
            (
                n.attribute("href").unwrap_or(""),
                n.attribute("title").unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        related,
        [("https://b.mn/4", "b.mn"), ("https://c.mn/6", "c.mn")]
    );
    let rss = String::from_utf8(rss(&channel, "https://example.org/all.rss").expect("rss"))
        .expect("UTF-8");
    assert!(rss.contains("Also reported by"), "{rss}");
}

#[test]
fn prefer_picks_the_report_shown_but_not_the_id() {
    let items = story_items();
    let all = entries(&items);
    let groups = group_stories(&all, &["c".to_string(), "b".to_string()]);
    let story = groups[0].entry();
    assert_eq!(story.item.link, "https://c.mn/6");
    assert_eq!(story.id(), "https://a.mn/1");
    let rss = String::from_utf8(
        rss(
            &Channel {
                title: "t",
                description: "d",
                home: "https://example.org/",
                language: "en",
                entries: &[story],
                now: Utc::now(),
                hub: None,
            },
            "https://example.org/all.rss",
        )
        .expect("rss"),
    )
    .expect("UTF-8");
    assert!(
        rss.contains("<guid isPermaLink=\"false\">https://a.mn/1</guid>"),
        "{rss}"
    );
}
