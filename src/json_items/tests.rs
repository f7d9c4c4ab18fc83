use super::*;

fn selectors(item: &str, link: &str, fields: [Option<&str>; 3]) -> JsonSelectors {
    let pointer = |p: &str| JsonPointer::parse(p).expect("valid pointer");
    JsonSelectors {
        item: pointer(item),
        script: None,
        title: pointer("/title"),
        link: LinkSpec::parse(link).expect("valid link"),
        date: fields[0].map(pointer),
        summary: fields[1].map(pointer),
        image: fields[2].map(pointer),
    }
}

fn gogo() -> JsonSelectors {
    selectors(
        "/shinemedee_list",
        "https://gogo.mn/r/{id}",
        [Some("/publish_date"), Some("/head_line"), Some("/thumb")],
    )
}

fn base() -> Url {
    Url::parse("https://gogo.mn/news/shinemedee").expect("valid url")
}

const GOGO: &str = r#"{
  "politicmedee_list": [],
  "shinemedee_list": [
    {"id": 331204, "title": "  УИХ-ын чуулган\n намрын ээлжит хуралдаанаа эхэллээ ",
     "publish_date": "2026-11-24 07:27:00", "head_line": "Coal &amp; copper <b>up</b><script>x()</script>",
     "thumb": "/newsn/thumbnail/420/a.jpg"},
    {"id": "m3zd8w", "title": "Засгийн газрын хуралдаан", "publish_date": 1764547200,
     "head_line": "", "thumb": "javascript:alert(1)"},
    {"id": 331204, "title": "The same story again"},
    {"id": 5, "title": ""},
    {"title": "No id"},
    "a string"
  ]
}"#;

#[test]
fn a_gogo_list_yields_items_with_links_dates_teasers_and_images() {
    let out = read_items(GOGO, &base(), &gogo(), &Limits::default()).expect("items");
    assert_eq!(
        (out.matched, out.incomplete, out.duplicates, out.items.len()),
        (6, 3, 1, 2)
    );
    let first = &out.items[0];
    assert_eq!(
        first.title,
        "УИХ-ын чуулган намрын ээлжит хуралдаанаа эхэллээ"
    );
    assert_eq!(first.link, "https://gogo.mn/r/331204");
    assert_eq!(
        first.canonical_link,
        canonical_link("https://gogo.mn/r/331204")
    );
    assert_eq!(first.date_text.as_deref(), Some("2026-11-24 07:27:00"));
    assert_eq!(
        first.summary.as_deref(),
        Some("Coal &amp; copper <b>up</b>")
    );
    assert_eq!(
        first.image.as_deref(),
        Some("https://gogo.mn/newsn/thumbnail/420/a.jpg")
    );
    let second = &out.items[1];
    assert_eq!(second.link, "https://gogo.mn/r/m3zd8w");
    assert_eq!(second.date_text.as_deref(), Some("1764547200"));
    assert_eq!(
        (second.summary.as_deref(), second.image.as_deref()),
        (None, None)
    );
}

#[test]
fn nested_pointers_read_fields_and_links_deep_in_an_item() {
    let body = r#"[{"title": 2026, "meta": {"links": [{"href": "/a/1?x=1"}], "at": "2026-01-02"},
                   "media": {"src": "https://cdn.mn/i.jpg"}}]"#;
    let s = selectors(
        "",
        "/meta/links/0/href",
        [Some("/meta/at"), None, Some("/media/src")],
    );
    let out = read_items(body, &base(), &s, &Limits::default()).expect("items");
    assert_eq!(out.items[0].title, "2026");
    assert_eq!(out.items[0].link, "https://gogo.mn/a/1?x=1");
    assert_eq!(out.items[0].date_text.as_deref(), Some("2026-01-02"));
    assert_eq!(out.items[0].image.as_deref(), Some("https://cdn.mn/i.jpg"));
    let templated = selectors("", "/p/{meta/at}", [None; 3]);
    let out = read_items(body, &base(), &templated, &Limits::default()).expect("items");
    assert_eq!(out.items[0].link, "https://gogo.mn/p/2026-01-02");
}

#[test]
fn a_body_that_is_not_json_names_the_url() {
    let err = read_items(
        "<html>Service unavailable</html>",
        &base(),
        &gogo(),
        &Limits::default(),
    )
    .expect_err("not json");
    assert!(matches!(err, JsonError::NotJson { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("https://gogo.mn/news/shinemedee: the body is not JSON"),
        "{message}"
    );
}

#[test]
fn a_pointer_that_misses_the_array_says_what_is_there() {
    let renamed = r#"{"data": {"shinemedee": [1], "total": 3}}"#;
    let s = selectors("/data/shinemedee_list", "/url", [None; 3]);
    let err = read_items(renamed, &base(), &s, &Limits::default()).expect_err("missing");
    assert_eq!(
        err,
        JsonError::NoItems {
            pointer: "/data/shinemedee_list".to_string(),
            url: base().to_string(),
            found: "nothing (\"/data\" is an object with keys shinemedee, total)".to_string(),
        }
    );
    let s = selectors("/data", "/url", [None; 3]);
    let err = read_items(renamed, &base(), &s, &Limits::default()).expect_err("object");
    assert!(
        err.to_string()
            .contains("found an object with keys shinemedee, total"),
        "{err}"
    );
    let s = selectors("/politicmedee_list", "/url", [None; 3]);
    let err = read_items(GOGO, &base(), &s, &Limits::default()).expect_err("empty");
    assert!(err.to_string().contains("found an empty array"), "{err}");
    let s = selectors("/x/y", "/url", [None; 3]);
    let err = read_items("[1]", &base(), &s, &Limits::default()).expect_err("top level");
    assert!(
        err.to_string()
            .contains("found nothing (the top level is an array of 1)"),
        "{err}"
    );
}

#[test]
fn elements_without_title_or_link_are_no_usable_items() {
    let err = read_items(
        r#"{"l": [{"title": "t"}, {"id": 1}]}"#,
        &base(),
        &selectors("/l", "/r/{id}", [None; 3]),
        &Limits::default(),
    )
    .expect_err("none usable");
    assert!(
        matches!(err, JsonError::NoUsableItems { matched: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn preview_diagnosis_names_the_missing_field() {
    let warnings = diagnose(GOGO, &base(), &gogo());
    assert_eq!(
        warnings,
        [
            "item 4: no title at \"/title\" (the item is an object with keys id, title)",
            "item 5: no link (the item is an object with keys title)",
            "item 6: is a string, not an object",
        ]
    );
}

fn with_script(mut s: JsonSelectors, script: &str) -> JsonSelectors {
    s.script = Some(ScriptSelector::parse(script).expect("valid css"));
    s
}

#[test]
fn next_data_in_an_html_page_is_read_like_a_json_body() {
    let page = r#"<html><head><title>Zindaa</title></head><body><div id="__next"></div>
        <script id="__NEXT_DATA__" type="application/json">{"props": {"pageProps": {"news":
          [{"title": "Шинэ мэдээ", "slug": "a b", "created": "2026-06-28T10:00:00+08:00"}]}}}</script></body></html>"#;
    let mut s = selectors(
        "/props/pageProps/news",
        "/n/{slug}",
        [Some("/created"), None, None],
    );
    s = with_script(s, "script#__NEXT_DATA__");
    let out = read_items(
        page,
        &Url::parse("https://news.zindaa.mn/").expect("url"),
        &s,
        &Limits::default(),
    )
    .expect("items");
    assert_eq!(out.items[0].title, "Шинэ мэдээ");
    assert_eq!(out.items[0].link, "https://news.zindaa.mn/n/a%20b");
    let s = with_script(selectors("/x", "/url", [None; 3]), "script#__NUXT__");
    let err = read_items(page, &base(), &s, &Limits::default()).expect_err("no script");
    assert!(
        err.to_string()
            .contains("script selector \"script#__NUXT__\" matched nothing"),
        "{err}"
    );
    assert!(err.to_string().contains("page title \"Zindaa\""), "{err}");
}

#[test]
fn json_ld_uses_the_first_script_whose_json_holds_the_list() {
    let page = r#"<script type="application/ld+json">{"@type": "Organization", "name": "Ikon"}</script>
        <script type="application/ld+json">{"@type": "ItemList", "itemListElement": [
          {"@type": "ListItem", "position": 1, "name": "First", "url": "https://ikon.mn/n/1"}]}</script>"#;
    let mut s = selectors("/itemListElement", "/url", [None; 3]);
    s.title = JsonPointer::parse("/name").expect("valid");
    let s = with_script(s, "script[type='application/ld+json']");
    let out = read_items(page, &base(), &s, &Limits::default()).expect("items");
    assert_eq!(
        (out.items[0].title.as_str(), out.items[0].link.as_str()),
        ("First", "https://ikon.mn/n/1")
    );
    let broken = "<script type='application/ld+json'>{oops</script>";
    let err = read_items(broken, &base(), &s, &Limits::default()).expect_err("not json");
    assert!(
        err.to_string()
            .contains("the text of script \"script[type='application/ld+json']\" is not JSON"),
        "{err}"
    );
}

#[test]
fn dates_are_text_and_epoch_numbers_in_seconds_or_milliseconds() {
    let body = r#"[{"title": "a", "url": "/1", "at": 1764547200123},
                   {"title": "b", "url": "/2", "at": 1764547200},
                   {"title": "c", "url": "/3", "at": " 2025-12-01\n 08:00 "},
                   {"title": "d", "url": "/4", "at": false}]"#;
    let s = selectors("", "/url", [Some("/at"), None, None]);
    let out = read_items(body, &base(), &s, &Limits::default()).expect("items");
    let dates: Vec<Option<&str>> = out.items.iter().map(|i| i.date_text.as_deref()).collect();
    assert_eq!(
        dates,
        [
            Some("1764547200"),
            Some("1764547200"),
            Some("2025-12-01 08:00"),
            None
        ]
    );
}

#[test]
fn fields_are_held_to_max_field_as_html_listing_fields_are() {
    let long_title = "Уих ".repeat(40);
    let body = format!(
        r#"[{{"title": "{long_title}", "url": "/short", "at": "2025-12-01 08:00", "teaser": "<p>{long_title}</p>", "img": "/a.jpg"}},
            {{"title": "fits", "url": "/{long}", "img": "/{long}.jpg"}}]"#,
        long = "x".repeat(80)
    );
    let s = selectors("", "/url", [Some("/at"), Some("/teaser"), Some("/img")]);
    let limits = Limits {
        field_bytes: 64,
        ..Limits::default()
    };
    let out = read_items(&body, &base(), &s, &limits).expect("items");
    let item = &out.items[0];
    assert!(
        item.title.len() <= 64 && item.title.starts_with("Уих Уих"),
        "{:?}",
        item.title
    );
    let summary = item.summary.as_deref().expect("summary kept, cut");
    assert!(
        summary.len() <= 64 + "</p>".len() && summary.ends_with("</p>"),
        "{summary}"
    );
    assert_eq!(item.image.as_deref(), Some("https://gogo.mn/a.jpg"));
    assert_eq!(
        out.items.len(),
        1,
        "an item whose link is too long has no usable link"
    );
    assert_eq!(out.incomplete, 1);
    assert_eq!(out.cut_fields, 3, "title, summary and the long link");
}
