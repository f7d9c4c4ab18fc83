//! The automatic date's rules, each on a small page written for it.

use chrono::{TimeZone, Utc};
use url::Url;

use super::super::{ArticleField, ArticleSelectors, extract_article};
use crate::config::Limits;
use crate::dates::DateContext;

/// The date text `date = "auto"` finds on `body` (wrapped in a page) at `url`.
fn date_of(head: &str, body: &str, url: &str) -> Option<String> {
    let html = format!("<html><head>{head}</head><body>{body}</body></html>");
    let now = Utc
        .with_ymd_and_hms(2025, 6, 1, 0, 0, 0)
        .single()
        .expect("now");
    let selectors = ArticleSelectors {
        date: ArticleField::Auto,
        ..ArticleSelectors::default()
    };
    let base = Url::parse(url).expect("url");
    extract_article(
        &html,
        &base,
        &selectors,
        &Limits::default(),
        &DateContext::plain(now),
    )
    .date_text
}

const PAGE: &str = "https://news.example/story";

#[test]
fn a_utc_date_gives_way_to_the_same_instant_at_the_pages_offset() {
    let head = r#"<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2024-11-09T01:09:55Z"}</script>
        <meta property="article:published_time" content="2024-11-08T18:09:55-07:00">"#;
    assert_eq!(
        date_of(head, "<h1>Playoffs</h1>", PAGE).as_deref(),
        Some("2024-11-08T18:09:55-07:00")
    );
}

#[test]
fn a_utc_date_gives_way_to_its_zone_less_wall_clock() {
    let head = r#"<meta property="article:published_time" content="2024-11-09T01:09:55Z">"#;
    let body = r#"<h1>Playoffs</h1><time datetime="2024-11-08 18:09:55">November 8</time>"#;
    assert_eq!(
        date_of(head, body, PAGE).as_deref(),
        Some("2024-11-08 18:09:55")
    );
    // Not the same minute and second: another time, not this one's clock.
    let body = r#"<h1>Playoffs</h1><time datetime="2024-11-08 18:03:00">November 8</time>"#;
    assert_eq!(
        date_of(head, body, PAGE).as_deref(),
        Some("2024-11-09T01:09:55Z")
    );
}

#[test]
fn a_utc_date_near_midnight_takes_the_day_the_url_or_page_shows() {
    let head = r#"<meta property="article:published_time" content="2024-02-18T02:18:11Z">"#;
    assert_eq!(
        date_of(head, "<h1>T</h1>", "https://news.example/2024/02/17/story/").as_deref(),
        Some("2024-02-17")
    );
    let head = r#"<meta property="article:published_time" content="2021-11-04T23:00Z">"#;
    let body = r#"<h1>T</h1><span class="meta-date">5. November 2021</span>"#;
    assert_eq!(
        date_of(head, body, PAGE).as_deref(),
        Some("5. November 2021")
    );
}

#[test]
fn a_utc_date_far_from_midnight_or_written_at_an_offset_stays() {
    // 18:05 UTC is the same day in most of the world: the shown day is another date.
    let head = r#"<meta property="article:published_time" content="2022-02-08T18:05:43Z">"#;
    let body = r#"<h1>T</h1><span class="today-date">Mittwoch, 9. Februar 2022</span>"#;
    assert_eq!(
        date_of(head, body, PAGE).as_deref(),
        Some("2022-02-08T18:05:43Z")
    );
    // An offset is the page's own: its day is the page's day.
    let head = r#"<meta property="article:published_time" content="2020-06-29T00:16:15+03:00">"#;
    assert_eq!(
        date_of(head, "<h1>T</h1>", "https://news.example/2020/06/28/x").as_deref(),
        Some("2020-06-29T00:16:15+03:00")
    );
}
