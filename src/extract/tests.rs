//! Extraction from listing and article pages, hostile ones included.

use super::*;

fn selectors(item: &str, fields: [Option<&str>; 5]) -> ItemSelectors {
    let f = |s: Option<&str>| s.map(|s| FieldSelector::parse(s).expect("valid selector"));
    ItemSelectors {
        item: parse_css(item).expect("valid item"),
        item_source: item.to_string(),
        title: f(fields[0]),
        link: f(fields[1]),
        date: f(fields[2]),
        summary: f(fields[3]),
        image: f(fields[4]),
    }
}

fn selector(css: &str) -> ArticleField {
    ArticleField::Selector(FieldSelector::parse(css).expect("selector"))
}

fn ctx() -> crate::dates::DateContext<'static> {
    crate::dates::DateContext::plain(chrono::Utc::now())
}

fn base() -> Url {
    Url::parse("https://example.mn/news/").expect("valid url")
}

#[test]
fn splits_attribute_from_css() {
    let s = FieldSelector::parse("meta[property='og:title'] @content").expect("parses");
    assert_eq!(s.attr(), Some("content"));
    let s = FieldSelector::parse(r".article-list.uk-hidden\@m a").expect("parses");
    assert_eq!(s.attr(), None);
    let s = FieldSelector::parse("@href").expect("parses");
    assert_eq!(s.attr(), Some("href"));
    assert!(FieldSelector::parse("div[").is_err());
    assert!(FieldSelector::parse("a @").is_err());
    assert!(FieldSelector::parse("a @1x").is_err());
}

#[test]
fn defaults_take_first_link_and_its_text() {
    let html = r#"<ul><li><a href="/a/1"> First
        story </a></li><li><a href="https://other.mn/b">Second</a></li><li>no link</li></ul>"#;
    let out = extract(
        html,
        &base(),
        &selectors("li", [None; 5]),
        &Limits::default(),
    );
    assert_eq!(out.matched, 3);
    assert_eq!(out.incomplete, 1);
    assert_eq!(out.items[0].title, "First story");
    assert_eq!(out.items[0].link, "https://example.mn/a/1");
    assert_eq!(out.items[1].link, "https://other.mn/b");
}

#[test]
fn repeated_links_on_a_page_are_one_item() {
    let html = r#"<div class="i"><a href="/r/abc">One</a></div>
        <div class="i"><a href="/r/abc#top">One again</a></div>"#;
    let out = extract(
        html,
        &base(),
        &selectors(".i", [None; 5]),
        &Limits::default(),
    );
    assert_eq!(out.items.len(), 1);
    assert_eq!(out.duplicates, 1);
}

#[test]
fn images_come_from_style_url_and_lazy_attributes() {
    let html = r#"<div class="i"><a href="/1">T</a>
          <div class="bg" style="background-image: url('/files/medium/x.jpeg')"></div></div>
        <div class="i"><a href="/2">U</a>
          <img src="data:image/svg+xml,%3Csvg%3E" data-lazy-src="/up/y.jpg"></div>"#;
    let style = extract(
        html,
        &base(),
        &selectors(".i", [None, None, None, None, Some(".bg @style")]),
        &Limits::default(),
    );
    assert_eq!(
        style.items[0].image.as_deref(),
        Some("https://example.mn/files/medium/x.jpeg")
    );
    let lazy = extract(
        html,
        &base(),
        &selectors(".i", [None, None, None, None, Some("img")]),
        &Limits::default(),
    );
    assert_eq!(
        lazy.items[1].image.as_deref(),
        Some("https://example.mn/up/y.jpg")
    );
}

#[test]
fn time_datetime_is_preferred_over_its_text() {
    let html = r#"<p><a href="/1">T</a><time datetime="2024-12-20T10:00:00Z">Friday</time></p>"#;
    let out = extract(
        html,
        &base(),
        &selectors("p", [None, None, Some("time"), None, None]),
        &Limits::default(),
    );
    assert_eq!(
        out.items[0].date_text.as_deref(),
        Some("2024-12-20T10:00:00Z")
    );
}

#[test]
fn summary_is_sanitised_and_non_http_links_are_dropped() {
    let html = r#"<p><a href="javascript:alert(1)">Bad</a></p>
        <p><a href="/ok">Good</a><span class="s"><b>Bold</b><script>alert(1)</script>
        <img src="/i.png" onerror="x()"></span></p>"#;
    let out = extract(
        html,
        &base(),
        &selectors("p", [None, None, None, Some(".s"), None]),
        &Limits::default(),
    );
    assert_eq!(out.items.len(), 1);
    let summary = out.items[0].summary.as_deref().expect("summary");
    assert!(summary.contains("<b>Bold</b>"));
    assert!(!summary.contains("script"));
    assert!(!summary.contains("onerror"));
    assert!(summary.contains("https://example.mn/i.png"));
}

#[test]
fn plain_teaser_is_escaped_and_collapsed_without_sanitising() {
    let html = "<div><a href=\"/r/1\">Title</a><p class=\"s\">\n  Coal &amp; copper &lt;up&gt; ]]&gt;\u{1}\n  again  </p></div>";
    let out = extract(
        html,
        &base(),
        &selectors("div", [None, None, None, Some(".s"), None]),
        &Limits::default(),
    );
    assert_eq!(
        out.items[0].summary.as_deref(),
        Some("Coal &amp; copper &lt;up&gt; ]]&gt; again")
    );
}

#[test]
fn a_long_listing_finished_on_a_second_thread_keeps_order_and_counts() {
    let html: String = (0..300)
        .map(|i| {
            let title = if i == 5 {
                String::new()
            } else {
                format!("Мэдээ {i}")
            };
            format!(
                "<div><a href=\"/r/{}\">{title}</a><p class=\"s\">A &amp; <b>B</b> {i}</p></div>",
                i % 290
            )
        })
        .collect();
    let out = extract(
        &html,
        &base(),
        &selectors("div", [None, None, None, Some(".s"), None]),
        &Limits::default(),
    );
    // Item 5 has no title, so item 295 is the first usable /r/5.
    assert_eq!((out.matched, out.incomplete, out.duplicates), (300, 1, 9));
    let expected: Vec<usize> = (0..290).filter(|&i| i != 5).chain([295]).collect();
    assert_eq!(out.items.len(), expected.len());
    for (item, i) in out.items.iter().zip(expected) {
        assert_eq!(item.title, format!("Мэдээ {i}"));
        assert_eq!(item.link, format!("https://example.mn/r/{}", i % 290));
        assert_eq!(
            item.summary.as_deref(),
            Some(format!("A &amp; <b>B</b> {i}").as_str())
        );
    }
}

#[test]
fn css_url_reads_quoted_and_bare_forms() {
    assert_eq!(css_url("background-image: url('/a.jpg')"), Some("/a.jpg"));
    assert_eq!(
        css_url("background:url(\"b.png\") no-repeat"),
        Some("b.png")
    );
    assert_eq!(css_url("background:url( c.gif )"), Some("c.gif"));
    assert_eq!(css_url("color: red"), None);
}

/// Runs `f` on a thread with the stack of a tokio worker (2 MiB), where a
/// recursion over a deep tree used to abort the whole process.
fn on_worker_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn_scoped(scope, f)
            .expect("thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// How many levels of elements `html` (a fragment) nests.
fn nesting(html: &str) -> usize {
    let fragment = Html::parse_fragment(html);
    let (mut depth, mut deepest) = (0usize, 0usize);
    for edge in fragment.root_element().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(n) if n.value().is_element() => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ego_tree::iter::Edge::Close(n) if n.value().is_element() => depth -= 1,
            _ => {}
        }
    }
    deepest - 1
}

fn nested(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "<div>".repeat(depth), "</div>".repeat(depth))
}

#[test]
fn a_title_nested_20_000_deep_is_read() {
    let title = format!(
        "{}Deep title{}",
        "<span>".repeat(20_000),
        "</span>".repeat(20_000)
    );
    let html =
        format!("<ul><li><a href=\"/a/1\">{title}</a></li><li><a href=\"/a/2\">Next</a></li></ul>");
    let out = on_worker_stack(|| {
        extract(
            &html,
            &base(),
            &selectors("li", [None; 5]),
            &Limits::default(),
        )
    });
    let titles: Vec<&str> = out.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["Deep title", "Next"]);
    assert!(
        out.cut.deep_tags >= 2 * (20_000 - MAX_DEPTH),
        "{:?}",
        out.cut
    );
    assert_eq!((out.cut.items, out.cut.fields), (0, 0));
}

#[test]
fn a_summary_nested_100_000_deep_is_flattened() {
    let summary = nested(100_000, "Deep <b>summary</b> &amp; more");
    let html = format!(
        "<div class=\"i\"><a href=\"/a/1\">One</a><div class=\"s\">{summary}</div></div>\
         <div class=\"i\"><a href=\"/a/2\">Two</a><div class=\"s\"><p>Plain <i>teaser</i></p></div></div>"
    );
    let out = on_worker_stack(|| {
        extract(
            &html,
            &base(),
            &selectors("div.i", [None, None, None, Some(".s"), None]),
            &Limits::default(),
        )
    });
    assert_eq!(out.items.len(), 2);
    let deep = out.items[0].summary.as_deref().expect("summary");
    // The markup that deep is dropped; its text stays.
    assert!(
        deep.contains(">Deep summary &amp; more<"),
        "{}",
        &deep[deep.len().saturating_sub(200)..]
    );
    assert!(nesting(deep) <= MAX_DEPTH, "{} levels", nesting(deep));
    assert_eq!(
        out.items[1].summary.as_deref(),
        Some("<p>Plain <i>teaser</i></p>"),
        "the item after the deep one is read as usual"
    );
    assert!(out.cut.deep_tags > 0);
}

#[test]
fn an_article_nested_100_000_deep_is_flattened() {
    let html = format!(
        "<html><body><span class=\"by\">Б. Бат</span><div class=\"body\">{}</div></body></html>",
        nested(100_000, "Deep <em>article</em> text")
    );
    let selectors = ArticleSelectors {
        content: selector(".body"),
        date: ArticleField::Off,
        author: selector(".by"),
        allow_hosts: Vec::new(),
    };
    let article =
        on_worker_stack(|| extract_article(&html, &base(), &selectors, &Limits::default(), &ctx()));
    let content = article.content.expect("content");
    assert!(content.contains(">Deep article text<"));
    assert!(
        nesting(&content) <= MAX_DEPTH,
        "{} levels",
        nesting(&content)
    );
    assert_eq!(article.author.as_deref(), Some("Б. Бат"));
    assert!(article.cut.deep_tags > 0);
}

fn limits(page_items: usize, field_bytes: usize, content_bytes: usize) -> Limits {
    Limits {
        page_items,
        field_bytes,
        content_bytes,
        ..Limits::default()
    }
}

#[test]
fn a_listing_keeps_its_first_page_items_items() {
    // Both paths: finished here, and on a second thread for long listings.
    for (count, max) in [(2_000, 500), (100, 40)] {
        let html: String = (0..count)
            .map(|i| format!("<li><a href=\"/r/{}\">Мэдээ {i}</a></li>", i / 2))
            .collect();
        let out = extract(
            &html,
            &base(),
            &selectors("li", [None; 5]),
            &limits(max, 1024, 1024),
        );
        assert_eq!(out.items.len(), max);
        assert_eq!(out.matched, count);
        // Every link appears twice: the first `2 * max` matches yield `max` items.
        assert_eq!(out.duplicates, max - 1);
        assert_eq!(out.cut.items, count - (2 * max - 1));
        let last = out.items.last().expect("items");
        assert_eq!(last.link, format!("https://example.mn/r/{}", max - 1));
    }
    let out = extract(
        "<li><a href=\"/1\">x</a></li>",
        &base(),
        &selectors("li", [None; 5]),
        &limits(0, 1024, 1024),
    );
    assert_eq!((out.items.len(), out.cut.items), (0, 1));
}

#[test]
fn long_fields_are_cut_on_a_character_boundary() {
    let long = "Өнөөдөр ".repeat(50); // 15 bytes a word: 750 bytes
    let html = format!(
        "<div><a href=\"/r/1\">{long}</a><time>{long} 2024.12.20</time>\
         <p class=\"s\">{long}</p><p class=\"h\"><b>{long}</b> <i>{long}</i></p>\
         <img src=\"/{}.jpg\"></div>\
         <div><a href=\"/{}\">Too long a link</a></div>",
        "x".repeat(200),
        "y".repeat(200)
    );
    let max = 101; // odd: inside a two-byte letter
    for summary in [".s", ".h"] {
        let out = extract(
            &html,
            &base(),
            &selectors(
                "div",
                [None, None, Some("time"), Some(summary), Some("img")],
            ),
            &limits(500, max, 1024),
        );
        assert_eq!(
            out.items.len(),
            1,
            "the item whose link is too long is incomplete"
        );
        assert_eq!(out.incomplete, 1);
        assert_eq!(
            out.cut.fields, 5,
            "title, date, summary, image; the long link"
        );
        let item = &out.items[0];
        assert_eq!(item.title.len(), 100);
        assert!(long.starts_with(&item.title));
        let date = item.date_text.as_deref().expect("date");
        assert!(date.len() <= max && long.starts_with(date), "{date:?}");
        let cut = item.summary.as_deref().expect("summary");
        assert!(cut.len() <= max, "{} bytes: {cut}", cut.len());
        assert_eq!(
            crate::sanitize::sanitize_html(cut, &base()),
            cut,
            "well-formed: {cut}"
        );
        assert_eq!(item.image, None, "a URL is kept whole or not at all");
    }
}

#[test]
fn article_content_is_cut_to_its_limit_and_stays_well_formed() {
    let paragraph = "<p>Монгол Улсын <b>Их Хурал</b> &amp; <a href=\"/x\">Засгийн газар</a></p>";
    let html = format!(
        "<div class=\"body\">{}</div><span class=\"d\">2024.12.20</span>",
        paragraph.repeat(200)
    );
    let selectors = ArticleSelectors {
        content: selector(".body"),
        date: selector(".d"),
        author: ArticleField::Off,
        allow_hosts: Vec::new(),
    };
    let whole = extract_article(&html, &base(), &selectors, &Limits::default(), &ctx());
    assert_eq!(whole.cut, Cut::default());
    let whole = whole.content.expect("content");
    for max in [0, 1, 7, 100, 1_001, 4_096, whole.len() - 1] {
        let article = extract_article(&html, &base(), &selectors, &limits(500, 1024, max), &ctx());
        let content = article.content.expect("content");
        assert!(content.len() <= max, "{max}: {} bytes", content.len());
        assert_eq!(
            crate::sanitize::sanitize_html(&content, &base()),
            content,
            "{max}"
        );
        let text = crate::sanitize::html_to_text(&content);
        assert!(
            crate::sanitize::html_to_text(&whole).starts_with(&text),
            "{max}: {text}"
        );
        assert_eq!(article.cut.fields, 1);
        assert_eq!(article.date_text.as_deref(), Some("2024.12.20"));
    }
}

#[test]
fn the_montsame_author_selector_yields_the_byline_alone_or_none() {
    // montsame.mn's author block also holds the category, an e-mail address
    // and the date; the shipped selector must take the name only.
    let page = include_str!("../../tests/fixtures/montsame-mn-article.html");
    let field = |selector: &str| {
        FieldSelector::parse(selector).map_or(ArticleField::Off, ArticleField::Selector)
    };
    let selectors = ArticleSelectors {
        content: ArticleField::Off,
        date: field("span.stat"),
        author: field(".author > div > div > a > span"),
        allow_hosts: Vec::new(),
    };
    let ctx = crate::dates::DateContext::plain(chrono::Utc::now());
    let read = |page: &str| extract_article(page, &base(), &selectors, &Limits::default(), &ctx);
    let article = read(page);
    assert_eq!(article.author.as_deref(), Some("Б.Болормаа"));
    assert_eq!(article.date_text.as_deref(), Some("2025-07-09 14:35:00"));
    let unsigned = page.replace("<span>Б.Болормаа</span>", "");
    assert_eq!(
        read(&unsigned).author,
        None,
        "no name: no author, not the category"
    );
}
