//! `kind = "json"`: a JSON endpoint, or the JSON in an HTML page's script, read as a source.

use crate::support::{Reply, Server, Workspace, fixture};

fn json(body: impl Into<Vec<u8>>) -> Reply {
    Reply::html(body).with_content_type("application/json")
}

/// A gogo.mn-like JSON list on `/news/shinemedee`, read with the evidence's field names.
fn gogo_source(origin: &str) -> String {
    format!(
        "[[source]]\nid = \"gogo\"\nurl = \"{origin}/news/shinemedee\"\nkind = \"json\"\nlanguage = \"mn\"\n\
         timezone = \"Asia/Ulaanbaatar\"\nitem = \"/shinemedee_list\"\ntitle = \"/title\"\nlink = \"/r/{{id}}\"\n\
         date = \"/publish_date\"\nsummary = \"/head_line\"\n"
    )
}

fn gogo_server() -> Server {
    let server = Server::start();
    server.set("/news/shinemedee", json(fixture("gogo-shinemedee.json")));
    server
}

fn entry<'a>(feed: &'a feed_rs::model::Feed, title: &str) -> &'a feed_rs::model::Entry {
    feed.entries
        .iter()
        .find(|e| e.title.as_ref().is_some_and(|t| t.content == title))
        .unwrap_or_else(|| panic!("no entry {title:?} in {:?}", feed.entries))
}

#[test]
fn once_turns_a_json_list_into_feeds_with_article_dates() {
    let server = gogo_server();
    let o = server.origin();
    for id in ["331204", "331198"] {
        server.set(
            &format!("/r/{id}"),
            Reply::html("<html><body><p>Text</p></body></html>"),
        );
    }
    server.set(
        "/r/331150",
        Reply::html("<html><head><meta name=\"last-modified\" content=\"2025-11-20 12:00:00\"></head></html>"),
    );
    let ws = Workspace::new(&format!(
        "[daemon]\nper_host_delay = \"0s\"\n{}[source.article]\ndate = \"meta[name=last-modified] @content\"\n",
        gogo_source(&o)
    ));
    ws.medee(&["once"]).assert().code(0);
    let feed = ws.feed("gogo.rss");
    assert_eq!(feed.entries.len(), 3, "{:?}", feed.entries);
    let opened = entry(&feed, "УИХ-ын чуулган намрын ээлжит хуралдаанаа эхэллээ");
    assert_eq!(opened.links[0].href, format!("{o}/r/331204"));
    let published = opened.published.expect("date from the JSON");
    assert_eq!(published.to_rfc3339(), "2025-11-23T23:27:00+00:00");
    let summary = opened.summary.as_ref().expect("head_line").content.clone();
    assert!(
        summary.contains("<b>нээгдэв</b>") && !summary.contains("track"),
        "{summary}"
    );
    let budget = entry(
        &feed,
        "Засгийн газрын хуралдаанаар төсвийн тодотголыг хэлэлцэв",
    );
    assert_eq!(budget.links[0].href, format!("{o}/r/331198"));
    assert_eq!(
        budget.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-11-23T10:05:00+00:00")
    );
    let snow = entry(&feed, "Улаанбаатарт анхны цас орлоо");
    assert_eq!(
        snow.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-11-20T04:00:00+00:00"),
        "the date comes from the article page"
    );
    assert_eq!(server.hits("/r/331150"), 1);
    let atom = ws.feed("gogo.atom");
    assert_eq!(atom.entries.len(), 3);
}

#[test]
fn preview_shows_the_json_items_their_counts_and_the_incomplete_one() {
    let server = gogo_server();
    let ws = Workspace::new(&gogo_source(&server.origin()));
    let text = ws.stdout(&["preview", "gogo"], 0);
    assert!(
        text.contains("matched 5 · kept 3 · no title/link 1 · repeated links 1 · filtered out 0"),
        "{text}"
    );
    assert!(
        text.contains("fields: date 2/3 · summary 3/3 · image 0/3"),
        "{text}"
    );
    assert!(
        text.contains("warning: item 5: no title at \"/title\""),
        "{text}"
    );
    assert!(
        text.contains("  1. УИХ-ын чуулган намрын ээлжит хуралдаанаа эхэллээ"),
        "{text}"
    );
    assert!(
        text.contains(&format!("link:    {}/r/331198", server.origin())),
        "{text}"
    );
    assert!(
        text.contains("date:    2025-11-24 07:27 +08 (\"2025-11-24 07:27:00\")"),
        "{text}"
    );
    assert!(!ws.path().join("feeds").exists());
}

#[test]
fn check_reports_bad_pointers_and_templates_at_file_line_column() {
    let ws = Workspace::new(
        "[[source]]\nid = \"gogo\"\nurl = \"https://gogo.mn/news/shinemedee\"\nkind = \"json\"\n\
         item = \"shinemedee_list\"\ntitle = \".title a\"\nlink = \"https://gogo.mn/r/{id\"\n",
    );
    let err = ws.stderr(&["check"], 2);
    assert!(
        err.contains("medee.toml:5:8: in [[source]] \"gogo\": \"shinemedee_list\" is not a JSON Pointer; a pointer starts with '/': did you mean \"/shinemedee_list\"?"),
        "{err}"
    );
    assert!(
        err.contains("medee.toml:6:9: ") && err.contains("looks like a CSS selector"),
        "{err}"
    );
    assert!(
        err.contains("medee.toml:7:8: ") && err.contains("an unclosed '{'"),
        "{err}"
    );
}

#[test]
fn a_body_that_is_not_json_fails_only_that_source() {
    let server = gogo_server();
    let o = server.origin();
    server.set(
        "/api/news",
        Reply::html("<html><title>Maintenance</title></html>"),
    );
    server.set("/moved", json(r#"{"data": {"items": []}, "total": 0}"#));
    let ws = Workspace::new(&format!(
        "{}[[source]]\nid = \"broken\"\nurl = \"{o}/api/news\"\nkind = \"json\"\nitem = \"/items\"\n\
         title = \"/title\"\nlink = \"/url\"\n\
         [[source]]\nid = \"moved\"\nurl = \"{o}/moved\"\nkind = \"json\"\nitem = \"/items\"\n\
         title = \"/title\"\nlink = \"/url\"\n",
        gogo_source(&o)
    ));
    let err = ws.stderr(&["once"], 1);
    assert!(err.contains("/api/news: the body is not JSON"), "{err}");
    assert_eq!(ws.feed("gogo.rss").entries.len(), 3);
    assert!(
        ws.source_status("broken")
            .last_error()
            .contains("the body is not JSON")
    );
    let moved = ws.source_status("moved");
    assert!(
        moved.last_error().contains(
            "item pointer \"/items\" found nothing (the top level is an object with keys data, total)"
        ),
        "{}",
        moved.last_error()
    );
    assert_eq!(ws.source_status("gogo").items(), 3);
}

#[test]
fn a_next_data_page_is_read_from_its_script() {
    let server = Server::start();
    let o = server.origin();
    server.set("/", Reply::html(fixture("next-data.html")));
    let ws = Workspace::new(&format!(
        "[[source]]\nid = \"zindaa\"\nurl = \"{o}/\"\nkind = \"json\"\nscript = \"script#__NEXT_DATA__\"\n\
         item = \"/props/pageProps/news\"\ntitle = \"/title\"\nlink = \"/n/{{slug}}\"\n\
         date = \"/createdAt\"\nimage = \"/image/url\"\n"
    ));
    ws.medee(&["once"]).assert().code(0);
    let feed = ws.feed("zindaa.rss");
    let links: Vec<&str> = feed
        .entries
        .iter()
        .map(|e| e.links[0].href.as_str())
        .collect();
    assert_eq!(
        links,
        [
            format!("{o}/n/erdenet%20shine%20uildver"),
            format!("{o}/n/khuvsgul%2F2025")
        ]
    );
    let first = entry(&feed, "Эрдэнэтэд шинэ үйлдвэр ашиглалтад орлоо");
    assert_eq!(
        first.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-06-28T02:15:00+00:00")
    );
    let preview: serde_json::Value =
        serde_json::from_str(&ws.stdout(&["preview", "zindaa", "--json"], 0)).expect("JSON");
    assert_eq!(preview["counts"]["matched"], 2);
    assert_eq!(
        preview["items"][0]["image"],
        format!("{o}/uploads/2025/06/erdenet.jpg")
    );
    assert_eq!(
        preview["items"][1]["image"],
        "https://cdn.zindaa.example/khuvsgul.jpg"
    );
}
