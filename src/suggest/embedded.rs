//! Items a page carries as JSON in a `<script>` (JSON-LD, Next.js
//! `__NEXT_DATA__`, other `application/json` scripts): the `kind = "json"`
//! block that reads them when the page has no HTML list to scrape.
//!
//! Every array of objects in the script's JSON is a candidate list. A list
//! needs a headline field (text of headline length in most items, mostly
//! distinct); the one with the most such items wins. Its fields are then
//! named by what their values are, not by their keys alone: a link is a URL
//! or a path, or a template learned from the page's own links (`/n/{slug}`
//! when the page links `/n/erdenet-uildver` and an item's `slug` is
//! `erdenet-uildver`); a date is what the date recogniser reads.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use url::Url;

use crate::dates::{DateContext, parse_date};

use super::ANCHORS;
use super::shapes::same_site_target;

/// A `kind = "json"` reading of script-carried items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonBlock {
    /// CSS selector of the script element.
    pub script: String,
    /// What the script is, for the comment in the block.
    pub what: &'static str,
    /// JSON Pointer to the array of items.
    pub item: String,
    /// Pointers within an item.
    pub title: String,
    /// A pointer or a template over item fields; `None` when neither is known.
    pub link: Option<String>,
    /// Pointer to the publication date.
    pub date: Option<String>,
    /// Pointer to the teaser.
    pub summary: Option<String>,
    /// Pointer to the image URL.
    pub image: Option<String>,
    /// Items with a headline.
    pub items: usize,
}

/// Largest script text parsed: item data past this is not a listing's.
const MAX_SCRIPT_BYTES: usize = 8 << 20;
/// Nesting followed into the JSON, and into one item for its fields.
const MAX_DEPTH: usize = 12;
const MAX_FIELD_DEPTH: usize = 3;
/// Share of items a field must be present in.
const MOST: f64 = 0.8;

static SCRIPTS: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse("script[type='application/ld+json'], script#__NEXT_DATA__, script[type='application/json'][id]")
        .expect("static selector")
});

/// The best script-carried item list of the page, if any.
pub fn embedded_block(document: &Html, page: &Url, now: DateTime<Utc>) -> Option<JsonBlock> {
    let links = page_paths(document, page);
    document
        .select(&SCRIPTS)
        .filter_map(|script| {
            let (selector, what) = script_selector(script)?;
            let text: String = script.text().collect();
            if text.len() > MAX_SCRIPT_BYTES {
                return None;
            }
            let json: Value = serde_json::from_str(text.trim()).ok()?;
            let (pointer, items) = best_array(&json)?;
            read_fields(&items, &links, now).map(|fields| JsonBlock {
                script: selector,
                what,
                item: pointer,
                ..fields
            })
        })
        .max_by_key(|block| block.items)
}

/// The selector that finds this script again, and what it is.
fn script_selector(script: ElementRef<'_>) -> Option<(String, &'static str)> {
    let v = script.value();
    if v.attr("type") == Some("application/ld+json") {
        return Some(("script[type='application/ld+json']".into(), "JSON-LD"));
    }
    let id = v.id()?;
    let what = if id == "__NEXT_DATA__" {
        "Next.js __NEXT_DATA__"
    } else {
        "a JSON script"
    };
    Some((format!("script#{}", super::css_escape(id)), what))
}

/// The pointer to, and the items of, the array with the most headline-bearing objects.
fn best_array(json: &Value) -> Option<(String, Vec<&Value>)> {
    let mut arrays: Vec<(String, Vec<&Value>)> = Vec::new();
    collect_arrays(json, String::new(), 0, &mut arrays);
    arrays
        .into_iter()
        .filter_map(|(pointer, items)| {
            let flat: Vec<HashMap<String, &Value>> = items.iter().map(|i| flatten(i)).collect();
            title_pointer(&flat).map(|_| (flat.len(), pointer, items))
        })
        .max_by_key(|(count, _, _)| *count)
        .map(|(_, pointer, items)| (pointer, items))
}

/// Every array of three or more objects, with its pointer.
fn collect_arrays<'a>(
    value: &'a Value,
    pointer: String,
    depth: usize,
    out: &mut Vec<(String, Vec<&'a Value>)>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Array(elements) => {
            let objects: Vec<&Value> = elements.iter().filter(|e| e.is_object()).collect();
            if objects.len() >= 3 && objects.len() * 10 >= elements.len() * 9 {
                out.push((pointer.clone(), objects));
            }
            for (i, element) in elements.iter().enumerate() {
                collect_arrays(element, format!("{pointer}/{i}"), depth + 1, out);
            }
        }
        Value::Object(map) => {
            for (key, child) in map {
                collect_arrays(child, format!("{pointer}/{}", escape(key)), depth + 1, out);
            }
        }
        _ => {}
    }
}

/// RFC 6901 escaping of one reference token.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// An item's scalar leaves by pointer, a few levels deep (`/image/url`).
fn flatten(item: &Value) -> HashMap<String, &Value> {
    let mut out = HashMap::new();
    flatten_into(item, String::new(), 0, &mut out);
    out
}

fn flatten_into<'a>(
    value: &'a Value,
    pointer: String,
    depth: usize,
    out: &mut HashMap<String, &'a Value>,
) {
    match value {
        Value::Object(map) if depth < MAX_FIELD_DEPTH => {
            for (key, child) in map {
                flatten_into(child, format!("{pointer}/{}", escape(key)), depth + 1, out);
            }
        }
        Value::String(_) | Value::Number(_) if !pointer.is_empty() => {
            out.insert(pointer, value);
        }
        _ => {}
    }
}

/// The values at `pointer` across the items, as text.
fn texts<'a>(
    flat: &'a [HashMap<String, &Value>],
    pointer: &'a str,
) -> impl Iterator<Item = String> + 'a {
    flat.iter().filter_map(move |f| match f.get(pointer)? {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// Pointers present in most items.
fn common_pointers(flat: &[HashMap<String, &Value>]) -> Vec<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for item in flat {
        for pointer in item.keys() {
            *counts.entry(pointer).or_default() += 1;
        }
    }
    let mut pointers: Vec<String> = counts
        .into_iter()
        .filter(|(_, n)| *n as f64 >= flat.len() as f64 * MOST)
        .map(|(p, _)| p.to_string())
        .collect();
    pointers.sort();
    pointers
}

fn last_key(pointer: &str) -> String {
    pointer
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// The headline field: text of headline length (3 to 30 words) in most
/// items, mostly distinct; `headline`, `title` and `name` keys first, then
/// the shortest such text (a teaser is longer).
fn title_pointer(flat: &[HashMap<String, &Value>]) -> Option<String> {
    let preferred = |p: &str| match last_key(p).as_str() {
        "headline" => 0,
        "title" => 1,
        "name" => 2,
        _ => 3,
    };
    common_pointers(flat)
        .into_iter()
        .filter_map(|pointer| {
            let values: Vec<String> = texts(flat, &pointer).collect();
            let headline_like = values
                .iter()
                .filter(|t| super::shapes::is_headline_text(t) && words(t) <= 30)
                .count();
            let distinct: std::collections::HashSet<&String> = values.iter().collect();
            let mean_words = values.iter().map(|t| words(t)).sum::<usize>() / values.len().max(1);
            (headline_like as f64 >= flat.len() as f64 * MOST
                && distinct.len() as f64 >= values.len() as f64 * MOST)
                .then_some((preferred(&pointer), mean_words, pointer))
        })
        .min()
        .map(|(_, _, pointer)| pointer)
}

/// The fields of the chosen list's items; `None` without a headline field.
fn read_fields(items: &[&Value], links: &[String], now: DateTime<Utc>) -> Option<JsonBlock> {
    let flat: Vec<HashMap<String, &Value>> = items.iter().map(|i| flatten(i)).collect();
    let title = title_pointer(&flat)?;
    let pointers = common_pointers(&flat);
    let others: Vec<&String> = pointers.iter().filter(|p| **p != title).collect();
    let link = link_pointer(&flat, &others).or_else(|| link_template(&flat, &others, links));
    let image = image_pointer(&flat, &others);
    let date = date_pointer(&flat, &others, now);
    let summary = summary_pointer(&flat, &others);
    Some(JsonBlock {
        script: String::new(),
        what: "",
        item: String::new(),
        title,
        link,
        date,
        summary,
        image,
        items: flat.len(),
    })
}

fn is_image_url(text: &str) -> bool {
    let path = text
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif"]
        .iter()
        .any(|e| path.ends_with(e))
}

fn is_url_or_path(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://") || text.starts_with('/')
}

/// A field holding the article's URL or path in most items (not an image).
fn link_pointer(flat: &[HashMap<String, &Value>], pointers: &[&String]) -> Option<String> {
    let preferred = |p: &str| match last_key(p).as_str() {
        "url" | "link" | "href" | "permalink" | "canonical" | "@id" => 0,
        _ => 1,
    };
    pointers
        .iter()
        .filter(|p| {
            let values: Vec<String> = texts(flat, p).collect();
            let links = values
                .iter()
                .filter(|t| is_url_or_path(t) && !is_image_url(t) && !t.contains(' '))
                .count();
            links as f64 >= flat.len() as f64 * MOST
        })
        .min_by_key(|p| (preferred(p), p.len()))
        .map(|p| p.to_string())
}

/// A template over an item field learned from the page's links: a path in
/// which one segment is the field's value in at least two items.
fn link_template(
    flat: &[HashMap<String, &Value>],
    pointers: &[&String],
    links: &[String],
) -> Option<String> {
    pointers.iter().find_map(|pointer| {
        let mut templates: HashMap<String, usize> = HashMap::new();
        for value in texts(flat, pointer).filter(|v| v.len() >= 2 && !v.contains(' ')) {
            for path in links {
                let segments: Vec<&str> = path.split('/').collect();
                if let Some(i) = segments.iter().position(|s| *s == value) {
                    let mut template: Vec<String> =
                        segments.iter().map(|s| s.to_string()).collect();
                    template[i] = format!("{{{}}}", pointer.trim_start_matches('/'));
                    *templates.entry(template.join("/")).or_default() += 1;
                }
            }
        }
        templates
            .into_iter()
            .filter(|(_, n)| *n >= 2)
            .max_by_key(|(_, n)| *n)
            .map(|(t, _)| t)
    })
}

/// Same-site link paths of the page (with a leading `/`).
fn page_paths(document: &Html, page: &Url) -> Vec<String> {
    document
        .select(&ANCHORS)
        .filter_map(|a| same_site_target(a, page))
        .map(|u| u.path().to_string())
        .collect()
}

fn image_pointer(flat: &[HashMap<String, &Value>], pointers: &[&String]) -> Option<String> {
    pointers
        .iter()
        .filter(|p| {
            let images = texts(flat, p).filter(|t| is_image_url(t)).count();
            images as f64 >= flat.len() as f64 * MOST
        })
        .min_by_key(|p| p.len())
        .map(|p| p.to_string())
}

/// A field the date recogniser reads in most items; publication before modification.
fn date_pointer(
    flat: &[HashMap<String, &Value>],
    pointers: &[&String],
    now: DateTime<Utc>,
) -> Option<String> {
    let ctx = DateContext::plain(now);
    let preferred = |p: &str| {
        let key = last_key(p);
        if key.contains("publish") || key.contains("created") {
            0
        } else if key.contains("date") || key.contains("time") {
            1
        } else if key.contains("modif") || key.contains("updated") {
            3
        } else {
            2
        }
    };
    pointers
        .iter()
        .filter(|p| {
            let dated = flat
                .iter()
                .filter(|f| match f.get(p.as_str()) {
                    Some(Value::String(s)) => parse_date(s, &ctx).is_some(),
                    Some(Value::Number(n)) => n
                        .as_i64()
                        .is_some_and(|n| (946_684_800..=4_102_444_800_000).contains(&n)),
                    _ => false,
                })
                .count();
            dated as f64 >= flat.len() as f64 * MOST
        })
        .min_by_key(|p| (preferred(p), p.len()))
        .map(|p| p.to_string())
}

/// A teaser: longer text than a headline in most items.
fn summary_pointer(flat: &[HashMap<String, &Value>], pointers: &[&String]) -> Option<String> {
    pointers
        .iter()
        .filter(|p| {
            let long = texts(flat, p)
                .filter(|t| words(t) >= 8 && !is_url_or_path(t))
                .count();
            long as f64 >= flat.len() as f64 * MOST
        })
        .min_by_key(|p| p.len())
        .map(|p| p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_html;

    fn block(html: &str) -> Option<JsonBlock> {
        let page = Url::parse("https://news.example.mn/").expect("url");
        embedded_block(&parse_html(html), &page, Utc::now())
    }

    #[test]
    fn next_data_items_get_pointers_and_a_template_learned_from_the_page() {
        let html = r#"<html><body>
            <a href="/n/erdenet-uildver">x</a><a href="/n/khuvsgul-nuur">y</a>
            <script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{
              "menu":[{"name":"Улс төр"},{"name":"Спорт"},{"name":"Нийгэм"}],
              "news":[
                {"slug":"erdenet-uildver","title":"Эрдэнэтэд шинэ үйлдвэр ашиглалтад орлоо","createdAt":"2025-06-28T10:15:00+08:00","image":{"url":"/u/a.jpg"}},
                {"slug":"khuvsgul-nuur","title":"Хөвсгөл нуурт аялагчдын тоо нэмэгдэв","createdAt":"2025-06-27T08:00:00+08:00","image":{"url":"/u/b.jpg"}},
                {"slug":"tsag-agaar","title":"Улаанбаатарт өдөртөө 27 хэм дулаан байна","createdAt":"2025-06-26T08:00:00+08:00","image":{"url":"/u/c.jpg"}}
              ]}}}</script></body></html>"#;
        let found = block(html).expect("a block");
        assert_eq!(found.script, "script#__NEXT_DATA__");
        assert_eq!(found.item, "/props/pageProps/news");
        assert_eq!(found.title, "/title");
        assert_eq!(found.link.as_deref(), Some("/n/{slug}"));
        assert_eq!(found.date.as_deref(), Some("/createdAt"));
        assert_eq!(found.image.as_deref(), Some("/image/url"));
        assert_eq!(found.items, 3);
    }

    #[test]
    fn a_json_ld_item_list_reads_names_and_urls() {
        let html = r#"<script type="application/ld+json">{"@type":"ItemList","itemListElement":[
            {"@type":"ListItem","position":1,"url":"https://news.example.mn/a/1","name":"Parliament passes the budget for next year"},
            {"@type":"ListItem","position":2,"url":"https://news.example.mn/a/2","name":"Coal exports rise in the first half"},
            {"@type":"ListItem","position":3,"url":"https://news.example.mn/a/3","name":"New airport road opens to traffic"}]}</script>"#;
        let found = block(html).expect("a block");
        assert_eq!(found.item, "/itemListElement");
        assert_eq!(found.title, "/name");
        assert_eq!(found.link.as_deref(), Some("/url"));
    }

    #[test]
    fn json_without_headlines_is_no_block() {
        let html = r#"<script type="application/ld+json">{"@type":"Organization","name":"Zindaa","sameAs":["a","b","c"]}</script>
            <script id="__NEXT_DATA__" type="application/json">{"props":{"menu":[{"name":"Улс"},{"name":"Спорт"},{"name":"Нийгэм"}]}}</script>"#;
        assert_eq!(block(html), None);
    }
}
