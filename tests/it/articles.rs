//! `[source.article]` with `auto`: `preview --article` on a served page and on
//! a saved one, and a teaser-only native feed whose entries get their full
//! text, date and author from their article pages.

use crate::support::{Reply, Server, Workspace, fixture, fixture_path};

fn auto_source(id: &str, url: &str, kind: &str) -> String {
    format!(
        "[daemon]\nper_host_delay = \"0s\"\n[[source]]\nid = \"{id}\"\nurl = \"{url}\"\n{kind}\n[source.article]\nauto = true\n"
    )
}

fn preview_json(ws: &Workspace, args: &[&str]) -> serde_json::Value {
    let out = ws.stdout(args, 0);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn preview_article_fetches_one_page_and_shows_what_auto_finds() {
    let server = Server::start();
    server.set(
        "/world/steppe-rail",
        Reply::html(fixture("article-jsonld.html")),
    );
    let o = server.origin();
    let ws = Workspace::new(&auto_source("s", &format!("{o}/list"), "item = \"li\""));
    let url = format!("{o}/world/steppe-rail");
    let doc = preview_json(&ws, &["preview", "s", "--article", &url, "--json"]);
    assert_eq!(doc["date_text"], "2025-03-07T10:30:00+08:00");
    assert_eq!(
        doc["date"], "2025-03-07T10:30:00+08:00",
        "the date keeps the page's offset, so its day is the page's"
    );
    assert_eq!(doc["author"], "Saraa Dorj, Tom Reed");
    assert_eq!(doc["found"]["date_origin"], "json-ld");
    assert_eq!(doc["found"]["content"], "auto");
    let text = doc["content_text"].as_str().expect("text");
    assert!(text.contains("financing has not been agreed"), "{text}");
    assert!(
        !text.contains("COMMENT-TEXT") && !text.contains("Coal prices fall"),
        "{text}"
    );
    let content = doc["content"].as_str().expect("content");
    assert!(
        content.contains(&format!("src=\"{o}/images/train.jpg\"")),
        "{content}"
    );
    assert_eq!(server.hits("/list"), 0, "only the article page is fetched");
}

#[test]
fn preview_article_file_reads_a_saved_page_at_its_url_with_the_selectors_first() {
    let ws = Workspace::new(
        "[[source]]\nid = \"mn\"\nurl = \"https://medee.example.mn/\"\nitem = \"li\"\n[source.article]\ncontent = \"div.gone\"\ndate = \"auto\"\nauthor = \"h1\"\n",
    );
    let page = fixture_path("article-mn.html");
    let page = page.to_str().expect("path");
    let doc = preview_json(
        &ws,
        &[
            "preview",
            "mn",
            "--article",
            "https://medee.example.mn/news/7",
            "--article-file",
            page,
            "--json",
        ],
    );
    assert_eq!(doc["url"], "https://medee.example.mn/news/7");
    assert_eq!(doc["found"]["content"], "fallback");
    assert_eq!(doc["found"]["author"], "selector");
    assert_eq!(doc["author"], "Улаанбаатарт шинэ цэцэрлэг нээгдлээ");
    assert_eq!(doc["date"], "2024-12-20T00:00:00+00:00");
    let text = doc["content_text"].as_str().expect("text");
    assert!(text.contains("240 хүүхдийн"), "{text}");
    assert!(!text.contains("СЭТГЭГДЭЛ"), "{text}");
    let table = ws.stdout(&["preview", "mn", "--article-file", page], 0);
    assert!(
        table.contains("auto, the selector found nothing"),
        "{table}"
    );
}

#[test]
fn a_teaser_only_feed_gets_full_text_date_and_author_from_its_article_pages() {
    let server = Server::start();
    let o = server.origin();
    let feed = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Teasers</title><link>{o}/</link><description>d</description>
<item><title>Steppe rail line opens to freight</title><link>{o}/world/steppe-rail</link><description>Teaser only.</description></item>
</channel></rss>"#
    );
    server.set(
        "/feed.xml",
        Reply::html(feed).with_content_type("application/rss+xml"),
    );
    server.set(
        "/world/steppe-rail",
        Reply::html(fixture("article-jsonld.html")),
    );
    let ws = Workspace::new(&auto_source(
        "t",
        &format!("{o}/feed.xml"),
        "kind = \"feed\"",
    ));
    ws.medee(&["once"]).assert().code(0);
    let feed = ws.feed("t.atom");
    let entry = feed.entries.first().expect("entry");
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .expect("content");
    assert!(
        content.contains("financing has not been agreed"),
        "{content}"
    );
    assert!(!content.contains("COMMENT-TEXT"), "{content}");
    assert_eq!(
        entry.published.map(|p| p.to_rfc3339()),
        Some("2025-03-07T02:30:00+00:00".to_string())
    );
    let authors: Vec<&str> = entry
        .authors
        .iter()
        .filter_map(|a| a.name.as_deref())
        .collect();
    assert_eq!(authors, ["Saraa Dorj, Tom Reed"]);
    assert_eq!(server.hits("/world/steppe-rail"), 1);
}
