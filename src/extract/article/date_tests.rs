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
        Some("2024-11-08T18:09:55-07:00")
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
        Some("2024-02-17T23:18:11-03:00")
    );
    let head = r#"<meta property="article:published_time" content="2021-11-04T23:00Z">"#;
    let body = r#"<h1>T</h1><span class="meta-date">5. November 2021</span>"#;
    assert_eq!(
        date_of(head, body, PAGE).as_deref(),
        Some("2021-11-05T00:00:00+01:00")
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
    // On a whole hour too: a day without a time is no wall clock of it.
    let head = r#"<meta property="article:published_time" content="2022-02-08T18:00:00Z">"#;
    assert_eq!(
        date_of(head, body, PAGE).as_deref(),
        Some("2022-02-08T18:00:00Z")
    );
    // An offset is the page's own: its day is the page's day.
    let head = r#"<meta property="article:published_time" content="2020-06-29T00:16:15+03:00">"#;
    assert_eq!(
        date_of(head, "<h1>T</h1>", "https://news.example/2020/06/28/x").as_deref(),
        Some("2020-06-29T00:16:15+03:00")
    );
}

#[test]
fn a_date_labelled_as_the_publication_is_read_wherever_it_is() {
    let filler: String = (0..60)
        .map(|n| format!("<p>Paragraph {n} of the story.</p>"))
        .collect();
    let body = format!(
        "<h1>Episode 158</h1>{filler}<p>Veröffentlicht am 16.08.2019<br>Dauer: 1 Stunde</p>"
    );
    assert_eq!(date_of("", &body, PAGE).as_deref(), Some("am 16.08.2019"));
    // The label alone, its date in the next element.
    let body = format!(
        "<h1>La voix</h1>{filler}<ul><li><p>Durée</p><p>12 min</p></li><li><p>Mise en ligne</p><p>23 mai 2019</p></li></ul>"
    );
    assert_eq!(date_of("", &body, PAGE).as_deref(), Some("23 mai 2019"));
    // A sentence that says "published" is not a label for what follows it.
    let body = format!(
        "<h1>T</h1>{filler}<p>The report was published by the ministry after a long delay.</p><p>1 March 2020</p>"
    );
    assert_eq!(date_of("", &body, PAGE), None);
}

#[test]
fn an_edit_date_gives_way_to_the_publication_and_is_the_last_resort() {
    let body = r#"<h1>T</h1><div class="meta">Updated 20:49, 5 Aug 2024</div><p>By A. Writer</p><div class="dateline">4 Aug 2024</div>"#;
    assert_eq!(date_of("", body, PAGE).as_deref(), Some("4 Aug 2024"));
    let body = r#"<h1>T</h1><div class="byline">Sehernur Karsu | 05.04.2025 - Güncelleme : 06.04.2025</div>"#;
    assert_eq!(
        date_of("", body, PAGE).as_deref(),
        Some("Sehernur Karsu | 05.04.2025 -")
    );
    let body = r#"<h1>Pineapple cake</h1><div class="recipe-meta">Updated June 13, 2019</div>"#;
    assert_eq!(
        date_of("", body, PAGE).as_deref(),
        Some("Updated June 13, 2019")
    );
}

#[test]
fn a_published_date_also_marked_updated_is_not_an_edits() {
    let body = r#"<h1>T</h1><p class="post-meta"><span class="post-info-date post_date date updated">July 12, 2017</span></p>"#;
    assert_eq!(date_of("", body, PAGE).as_deref(), Some("July 12, 2017"));
    // A class that names the publication date inside a section named otherwise.
    let body = r#"<h1>T</h1><div class="ArticleHeaderComment_publishDate">29. Januar 2019</div>"#;
    assert_eq!(date_of("", body, PAGE).as_deref(), Some("29. Januar 2019"));
}

#[test]
fn dates_of_quoted_or_embedded_posts_are_passed_over() {
    let body = r#"<h1>T</h1><blockquote class="instagram-media"><p>A post <time datetime="2018-03-12T19:30:12+00:00">Mar 12, 2018</time></p></blockquote>
        <div class="publish-date">29. Januar 2019</div>"#;
    assert_eq!(date_of("", body, PAGE).as_deref(), Some("29. Januar 2019"));
}

#[test]
fn an_articles_own_footer_and_sidebar_hold_its_date_the_pages_do_not() {
    let body = r#"<article><h1>T</h1><p>Text.</p><div class="asset-footer"><div class="asset-meta">Von Christian am 03.05.2013, 11:51</div></div></article>"#;
    assert_eq!(
        date_of("", body, PAGE).as_deref(),
        Some("Von Christian am 03.05.2013, 11:51")
    );
    let body = r#"<article><h1>T</h1><div class="sidebar"><p class="time"><time datetime="2022-01-28">28. Januar 2022</time></p></div></article>"#;
    assert_eq!(date_of("", body, PAGE).as_deref(), Some("2022-01-28"));
    let body =
        r#"<article><h1>T</h1><footer><span class="date">03.05.2013</span></footer></article>"#;
    assert_eq!(date_of("", body, PAGE).as_deref(), Some("03.05.2013"));
    let body = r#"<article><h1>T</h1><p>Text.</p></article><div class="sidebar"><span class="date">01.02.2020</span></div><footer><span class="date">03.05.2013</span></footer>"#;
    assert_eq!(date_of("", body, PAGE), None);
}

#[test]
fn abbr_dates_are_read_from_their_title_or_unix_time() {
    let body =
        r#"<h1>T</h1><abbr class="published" title="2020-01-02T10:00:00+01:00">2 Jan</abbr>"#;
    assert_eq!(
        date_of("", body, PAGE).as_deref(),
        Some("2020-01-02T10:00:00+01:00")
    );
    let body = r#"<h1>T</h1><abbr title="Freitag, 6. Oktober 2017 um 04:00" data-utime="1507287600">6. Okt.</abbr>"#;
    assert_eq!(date_of("", body, PAGE).as_deref(), Some("1507287600"));
}

#[test]
fn a_cjk_date_or_a_publication_class_is_read() {
    let body = r#"<h1>T</h1><span class="entry-top-info-time">2020年07月03日</span>"#;
    assert_eq!(date_of("", body, PAGE).as_deref(), Some("2020年07月03日"));
    let body = r#"<div class="publication"> jeudi 13 juin 2019</div><p>Intro</p>"#;
    assert_eq!(
        date_of("", body, PAGE).as_deref(),
        Some("jeudi 13 juin 2019")
    );
}

#[test]
fn the_sites_header_shows_todays_date_not_the_articles() {
    let body = r#"<header class="site"><a class="logo">Daily <span class="date-edition">lun. 5 août 2019</span></a></header>
        <main><h1>T</h1><p>Text.</p><p class="date">27 juin 2019</p></main>"#;
    assert_eq!(date_of("", body, PAGE).as_deref(), Some("27 juin 2019"));
    // A header that holds the headline is the article's own.
    let body = r#"<header><h1>T</h1><span class="date">27 juin 2019</span></header><p>Text.</p>"#;
    assert_eq!(date_of("", body, PAGE).as_deref(), Some("27 juin 2019"));
}

#[test]
fn a_generic_date_meta_yields_to_itemprop_and_to_a_labelled_date() {
    let head = r#"<meta name="date" content="2022-01-21T15:38:44+01:00">"#;
    let body = r#"<h1>T</h1><span><time itemprop="datePublished" datetime="2022-01-27">27.01.2022</time></span>"#;
    assert_eq!(date_of(head, body, PAGE).as_deref(), Some("2022-01-27"));
    let head = r#"<meta name="date" content="2021-10-15">"#;
    let body = r#"<h1>T</h1><span>Erschienen am:</span><h2>13.10.2021</h2>"#;
    assert_eq!(date_of(head, body, PAGE).as_deref(), Some("13.10.2021"));
    // Alone, it is read; a publication meta is not outranked by a label.
    assert_eq!(
        date_of(head, "<h1>T</h1>", PAGE).as_deref(),
        Some("2021-10-15")
    );
    let head = r#"<meta property="article:published_time" content="2021-10-15">"#;
    assert_eq!(date_of(head, body, PAGE).as_deref(), Some("2021-10-15"));
}

#[test]
fn without_an_h1_the_first_lesser_heading_is_the_headline() {
    let menu: String = (0..400)
        .map(|n| format!("<li><a href='/p{n}'>Page {n}</a></li>"))
        .collect();
    let body = format!(
        "<div><ul class='menu'>{menu}</ul></div><div class='col'><p>2021-10-16 | Botschaft<br><h4>Die Nacht</h4><p>Text.</p></div>"
    );
    assert_eq!(
        date_of("", &body, PAGE).as_deref(),
        Some("2021-10-16 | Botschaft")
    );
}

#[test]
fn a_posters_profile_holds_when_they_joined_not_the_post() {
    let body = r#"<h1>Topic</h1><div class="entry has-profile"><dl class="postprofile"><dd class="profile-joined">Registriert: 18.09.2008, 05:56</dd></dl>
        <div class="postbody"><p class="author">Beitrag von r23 » 21.01.2009, 05:42</p></div></div>"#;
    assert_eq!(
        date_of("", body, PAGE).as_deref(),
        Some("Beitrag von r23 » 21.01.2009, 05:42")
    );
}

#[test]
fn a_labelled_date_is_read_before_the_byline_on_a_long_line() {
    let body = "<h1>T</h1><p>Some text.</p><p class=\"credit\">Published on 3 May 2019 by Jane Smith, Staff Writer of the Evening Paper</p>";
    assert_eq!(date_of("", body, PAGE).as_deref(), Some("on 3 May 2019"));
}
