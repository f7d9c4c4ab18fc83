//! Automatic article extraction on the fixture pages (written for these
//! tests, modelled on real article templates), and the selector fallback.

use chrono::{TimeZone, Utc};
use url::Url;

use super::*;

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn all_auto() -> ArticleSelectors {
    ArticleSelectors {
        content: ArticleField::Auto,
        date: ArticleField::Auto,
        author: ArticleField::Auto,
        allow_hosts: Vec::new(),
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0)
        .single()
        .expect("date")
}

fn read(name: &str, url: &str, selectors: &ArticleSelectors) -> RawArticle {
    let ctx = DateContext::plain(now());
    let base = Url::parse(url).expect("url");
    extract_article(&fixture(name), &base, selectors, &Limits::default(), &ctx)
}

fn text(article: &RawArticle) -> String {
    article_text(article.content.as_deref().expect("content"))
}

#[test]
fn json_ld_gives_the_publication_date_and_authors_not_the_modification_or_site_dates() {
    let article = read(
        "article-jsonld.html",
        "https://daily.example/world/steppe-rail",
        &all_auto(),
    );
    assert_eq!(
        article.date_text.as_deref(),
        Some("2025-03-07T10:30:00+08:00")
    );
    assert_eq!(article.found.date_origin, Some(DateOrigin::JsonLd));
    assert_eq!(article.author.as_deref(), Some("Saraa Dorj, Tom Reed"));
}

#[test]
fn content_is_the_body_without_share_bars_related_lists_comments_or_footer() {
    let article = read(
        "article-jsonld.html",
        "https://daily.example/world/steppe-rail",
        &all_auto(),
    );
    let text = text(&article);
    assert!(
        text.contains("carried its first freight train on Friday"),
        "{text}"
    );
    assert!(text.contains("What comes next"), "{text}");
    assert!(text.contains("financing has not been agreed"), "{text}");
    for furniture in [
        "Share on Facebook",
        "Coal prices fall",
        "COMMENT-TEXT",
        "All rights reserved",
        "Business",
    ] {
        assert!(!text.contains(furniture), "{furniture} in {text}");
    }
    let html = article.content.as_deref().expect("content");
    assert!(
        html.contains("src=\"https://daily.example/images/train.jpg\""),
        "relative image made absolute: {html}"
    );
    assert!(!html.contains("<script"), "{html}");
    assert_eq!(article.found.content, Some(Found::Auto));
}

#[test]
fn opengraph_meta_wins_over_an_updated_time_element() {
    let article = read(
        "article-opengraph.html",
        "https://news.example/economy/cashmere",
        &all_auto(),
    );
    assert_eq!(
        article.date_text.as_deref(),
        Some("2024-11-05T09:15:00+08:00")
    );
    assert_eq!(article.found.date_origin, Some(DateOrigin::Meta));
    assert_eq!(article.author.as_deref(), Some("Bold Ganbaatar"));
    let text = text(&article);
    assert!(text.contains("value added at home remains small"), "{text}");
    assert!(!text.contains("SIDEBAR-TEXT"), "{text}");
    assert!(!text.contains("Most read"), "{text}");
}

#[test]
fn a_time_element_is_read_when_the_page_has_no_meta() {
    let html = r#"<html><body><h1>Title</h1><p class="x">Posted <time datetime="2023-04-05">5 April</time></p>
        <p>Some text long enough to be a paragraph of the article, with commas, and more.</p></body></html>"#;
    let ctx = DateContext::plain(now());
    let base = Url::parse("https://example.org/post").expect("url");
    let article = extract_article(html, &base, &all_auto(), &Limits::default(), &ctx);
    assert_eq!(article.date_text.as_deref(), Some("2023-04-05"));
    assert_eq!(article.found.date_origin, Some(DateOrigin::Time));
}

#[test]
fn a_date_in_the_url_beats_visible_dates() {
    let html = r#"<html><body><h1>Title</h1><p>3 May 2021</p></body></html>"#;
    let ctx = DateContext::plain(now());
    let base = Url::parse("https://example.org/2022/01/31/title/").expect("url");
    let article = extract_article(html, &base, &all_auto(), &Limits::default(), &ctx);
    assert_eq!(article.date_text.as_deref(), Some("2022-01-31"));
    assert_eq!(article.found.date_origin, Some(DateOrigin::Url));
}

#[test]
fn a_mongolian_visible_date_after_the_headline_is_found_and_comment_dates_are_not() {
    let article = read(
        "article-mn.html",
        "https://medee.example.mn/news/123",
        &all_auto(),
    );
    let date = article.date_text.as_deref().expect("date");
    let ctx = DateContext::plain(now());
    let parsed = crate::dates::parse_date(date, &ctx).expect("readable");
    assert_eq!(
        parsed.at,
        Utc.with_ymd_and_hms(2024, 12, 20, 0, 0, 0)
            .single()
            .expect("date"),
        "{date}"
    );
    assert_eq!(article.author.as_deref(), Some("Б. Батболд"));
    let text = text(&article);
    assert!(text.contains("240 хүүхдийн хүчин чадалтай"), "{text}");
    assert!(text.contains("гуравны нэгээр буурах"), "{text}");
    assert!(!text.contains("СЭТГЭГДЭЛ"), "comment in {text}");
    assert!(!text.contains("Холбоотой мэдээ"), "related list in {text}");
}

#[test]
fn an_explicit_selector_wins_field_by_field() {
    let selectors = ArticleSelectors {
        content: ArticleField::Selector(FieldSelector::parse(".news-text p").expect("css")),
        date: ArticleField::Auto,
        author: ArticleField::Selector(FieldSelector::parse("h1").expect("css")),
        allow_hosts: Vec::new(),
    };
    let article = read(
        "article-mn.html",
        "https://medee.example.mn/news/1",
        &selectors,
    );
    assert_eq!(article.found.content, Some(Found::Selector));
    assert_eq!(
        text(&article),
        "Баянзүрх дүүргийн 26 дугаар хороонд 240 хүүхдийн хүчин чадалтай шинэ цэцэрлэг өнөөдөр албан ёсоор нээгдэж, анхны хүүхдүүдээ хүлээн авлаа."
    );
    assert_eq!(
        article.author.as_deref(),
        Some("Улаанбаатарт шинэ цэцэрлэг нээгдлээ")
    );
    assert_eq!(article.found.author, Some(Found::Selector));
}

#[test]
fn a_selector_that_finds_nothing_falls_back_to_auto() {
    let selectors = ArticleSelectors {
        content: ArticleField::Selector(FieldSelector::parse("div.old-body").expect("css")),
        date: ArticleField::Selector(FieldSelector::parse("span.old-date").expect("css")),
        author: ArticleField::Off,
        allow_hosts: Vec::new(),
    };
    let article = read(
        "article-opengraph.html",
        "https://news.example/economy/cashmere",
        &selectors,
    );
    assert_eq!(article.found.content, Some(Found::Fallback));
    assert_eq!(article.found.date, Some(Found::Fallback));
    assert!(text(&article).contains("Cashmere exports rose"));
    assert_eq!(
        article.date_text.as_deref(),
        Some("2024-11-05T09:15:00+08:00")
    );
    assert_eq!(article.author, None, "an unconfigured field stays off");
}

#[test]
fn a_page_with_its_text_only_in_json_ld_gets_the_article_body() {
    let html = r#"<html><head><script type="application/ld+json">
        {"@type": "NewsArticle", "datePublished": "2024-01-02", "articleBody": "First line of the story.\nSecond line, with more."}
        </script></head><body><div id="app"></div></body></html>"#;
    let ctx = DateContext::plain(now());
    let base = Url::parse("https://example.org/a").expect("url");
    let article = extract_article(html, &base, &all_auto(), &Limits::default(), &ctx);
    assert_eq!(
        article.content.as_deref(),
        Some("<p>First line of the story.</p><p>Second line, with more.</p>")
    );
}

#[test]
fn an_auto_article_nested_100_000_deep_is_read_on_a_worker_stack() {
    let mut html = String::from("<html><body><h1>T</h1><div class=\"article-body\">");
    html.push_str(
        &"<p>Text of the article, long enough to be a paragraph, with commas.</p>".repeat(5),
    );
    html.push_str(&"<div>".repeat(100_000));
    html.push_str("Deep text");
    html.push_str(&"</div>".repeat(100_000));
    html.push_str("</div></body></html>");
    let article = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn_scoped(scope, || {
                let ctx = DateContext::plain(now());
                let base = Url::parse("https://example.org/a").expect("url");
                extract_article(&html, &base, &all_auto(), &Limits::default(), &ctx)
            })
            .expect("thread")
            .join()
            .expect("no stack overflow")
    });
    assert!(text(&article).contains("Text of the article"));
    assert!(article.cut.deep_tags > 0);
}

#[test]
fn a_structured_date_far_from_the_urls_is_a_republication_and_the_url_wins() {
    let page = |published: &str| {
        format!(
            r#"<html><head><meta property="article:published_time" content="{published}"></head><body><h1>T</h1></body></html>"#
        )
    };
    let ctx = DateContext::plain(now());
    let base = Url::parse("https://blog.example/home/2017/7/12/a-story").expect("url");
    let republished = extract_article(
        &page("2019-06-17T18:28:00+02:00"),
        &base,
        &all_auto(),
        &Limits::default(),
        &ctx,
    );
    assert_eq!(republished.date_text.as_deref(), Some("2017-07-12"));
    assert_eq!(republished.found.date_origin, Some(DateOrigin::Url));
    let late_night = extract_article(
        &page("2017-07-13T01:10:00+02:00"),
        &base,
        &all_auto(),
        &Limits::default(),
        &ctx,
    );
    assert_eq!(
        late_night.date_text.as_deref(),
        Some("2017-07-13T01:10:00+02:00"),
        "a day apart is the same story: the exact time is kept"
    );
    let late_night_utc = extract_article(
        &page("2017-07-13T01:10:00Z"),
        &base,
        &all_auto(),
        &Limits::default(),
        &ctx,
    );
    let text = late_night_utc.date_text.expect("a date");
    assert!(text.starts_with("2017-07-12T"), "the URL's day: {text}");
    let at = chrono::DateTime::parse_from_rfc3339(&text).expect("rfc3339");
    assert_eq!(
        at.to_utc().to_rfc3339(),
        "2017-07-13T01:10:00+00:00",
        "the instant is kept, written at an offset on the URL's day"
    );
}

#[test]
fn a_page_of_too_many_elements_gets_no_automatic_content_but_its_date() {
    let mut html = String::from(
        r#"<html><head><meta property="article:published_time" content="2024-02-03T10:00:00Z"></head><body><h1>T</h1>"#,
    );
    html.push_str(&"<div><a href=\"/x\">link</a><span>s</span></div>".repeat(20_000));
    html.push_str("</body></html>");
    let ctx = DateContext::plain(now());
    let base = Url::parse("https://example.org/a").expect("url");
    let article = extract_article(&html, &base, &all_auto(), &Limits::default(), &ctx);
    assert_eq!(article.content, None);
    assert_eq!(article.date_text.as_deref(), Some("2024-02-03T10:00:00Z"));
}

#[test]
fn a_byline_in_the_authors_profile_box_is_read_and_a_readers_profile_is_not() {
    let html = r#"<html><body><h1>Title</h1>
        <div class="user-profile"><span class="author">Commenter Joe</span> joined 3 May 2020</div>
        <div class="author-profile"><span class="byline">Saraa Dorj</span></div>
        <p>The story's first paragraph, long enough to be the text of the article.</p>
        </body></html>"#;
    let ctx = DateContext::plain(now());
    let base = Url::parse("https://example.org/title/").expect("url");
    let article = extract_article(html, &base, &all_auto(), &Limits::default(), &ctx);
    assert_eq!(article.author.as_deref(), Some("Saraa Dorj"));
    assert_eq!(
        article.date_text, None,
        "a reader's join date is no publication date"
    );
}
