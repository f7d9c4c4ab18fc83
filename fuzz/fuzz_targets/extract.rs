//! Arbitrary HTML through the extractor with selectors like the shipped ones
//! and small limits: it must never panic, every item it returns must have a
//! non-empty title and an absolute http(s) link, and nothing may pass a limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use medee::config::Limits;
use medee::extract::{
    ArticleSelectors, FieldSelector, ItemSelectors, extract, extract_article, parse_css,
};

fn field(text: &str) -> Option<FieldSelector> {
    FieldSelector::parse(text).ok()
}

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let base = url::Url::parse("https://montsame.mn/mn/more/8").expect("static URL");
    let selectors = ItemSelectors {
        item: parse_css("div.news-box, li, article").expect("static selector"),
        item_source: "div.news-box, li, article".to_string(),
        title: field(".title"),
        link: field("a @href"),
        date: field("time, .date"),
        summary: field(".body"),
        image: field("img"),
    };
    let limits = Limits {
        page_items: 5,
        field_bytes: 64,
        content_bytes: 256,
        ..Limits::default()
    };
    let out = extract(&html, &base, &selectors, &limits);
    assert!(out.items.len() <= limits.page_items);
    for item in &out.items {
        assert!(!item.title.is_empty());
        for field in [Some(&item.title), Some(&item.link), item.date_text.as_ref(), item.summary.as_ref(), item.image.as_ref()].into_iter().flatten() {
            assert!(field.len() <= limits.field_bytes, "{field:?}");
        }
        let link = url::Url::parse(&item.link).expect("links are absolute");
        assert!(matches!(link.scheme(), "http" | "https"));
    }
    let article = ArticleSelectors {
        content: field(".news-body"),
        date: field("span.stat"),
        author: field(".author"),
        allow_hosts: Vec::new(),
    };
    if let Some(content) = extract_article(&html, &base, &article, &limits).content {
        assert!(!content.contains("]]>"));
        assert!(content.len() <= limits.content_bytes);
    }
});
