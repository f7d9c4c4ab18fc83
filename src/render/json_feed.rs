//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>), from the same entries
//! and with the same choices as the Atom rendering: the id is the canonical
//! link, dates are RFC 3339 and never invented (`date_published` only when
//! the page gave one), text passes through [`xml_safe`] so every format shows
//! the same characters, and an image goes through [`http_image`]. The
//! document is plain JSON Feed: no `_`-prefixed extension keys.
//!
//! `<`, `>` and `&` are written as `\u003c`, `\u003e` and `\u0026`: the
//! same strings to any JSON parser, but a headline such as `<script>` then
//! never appears as markup in the file, whatever a client sniffs it as.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::{
    Channel, Entry, RenderError, also_html, http_image, joined, shown_dates, summary_html,
};
use crate::sanitize::{html_to_text, xml_safe};

/// The version URL every JSON Feed 1.1 document starts with.
pub const JSON_FEED_VERSION: &str = "https://jsonfeed.org/version/1.1";

/// A JSON Feed document; field names are the spec's. Unlike Atom, which
/// requires an author and gets the feed's title, it has no top-level
/// `authors`: JSON Feed readers give those to every item without its own,
/// crediting each article to the aggregator.
#[derive(Serialize)]
struct Document<'a> {
    version: &'static str,
    title: String,
    home_page_url: &'a str,
    feed_url: &'a str,
    description: String,
    language: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    items: Vec<Item>,
}

/// A hub readers may subscribe at for real-time notification (`websub_hub`).
#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Author {
    name: String,
}

/// One item. The spec requires `content_html` or `content_text`; an item
/// with neither an article nor a teaser carries an empty `content_text`.
#[derive(Serialize)]
struct Item {
    id: String,
    url: String,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_published: Option<String>,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author>,
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
}

/// JSON Feed 1.1, with `feed_url` pointing at itself. Serialisation of these
/// plain structs cannot fail in practice; an error is still returned typed.
pub fn json_feed(channel: &Channel<'_>, self_url: &str) -> Result<Vec<u8>, RenderError> {
    let document = Document {
        version: JSON_FEED_VERSION,
        title: xml_safe(channel.title),
        home_page_url: channel.home,
        feed_url: self_url,
        description: xml_safe(channel.description),
        language: channel.language,
        hubs: channel
            .hub
            .map(|url| Hub {
                kind: "WebSub",
                url,
            })
            .into_iter()
            .collect(),
        items: channel
            .entries
            .iter()
            .map(|e| json_item(e, channel.language, channel.now))
            .collect(),
    };
    let mut bytes = escape_markup(&serde_json::to_vec_pretty(&document)?);
    bytes.push(b'\n');
    Ok(bytes)
}

fn json_item(entry: &Entry<'_>, feed_language: &str, now: DateTime<Utc>) -> Item {
    let item = entry.item;
    let dates = shown_dates(item, now);
    let article = item.content.as_deref().map(xml_safe);
    let content_html = joined(
        article.or_else(|| summary_html(item)),
        also_html(entry.also),
    );
    let content_text = content_html.is_none().then(String::new);
    Item {
        id: entry.id().to_string(),
        url: item.link.clone(),
        title: xml_safe(&item.title),
        content_html,
        content_text,
        summary: item
            .summary
            .as_deref()
            .map(|html| xml_safe(&html_to_text(html)))
            .filter(|text| !text.is_empty()),
        image: item.image.as_deref().and_then(http_image),
        date_published: dates.published.map(rfc3339),
        date_modified: rfc3339(entry.updated(now)),
        authors: item
            .author
            .iter()
            .map(|name| Author {
                name: xml_safe(name),
            })
            .collect(),
        tags: vec![xml_safe(entry.source_name)],
        language: (entry.language != feed_language).then(|| entry.language.to_string()),
    }
}

/// `json` with every `<`, `>` and `&` as a `\u` escape. They can only
/// occur inside JSON strings (they are not JSON syntax), where the escape
/// means the same character, so the document is unchanged for a parser.
fn escape_markup(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + json.len() / 16);
    for &byte in json {
        match byte {
            b'<' => out.extend_from_slice(b"\\u003c"),
            b'>' => out.extend_from_slice(b"\\u003e"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            _ => out.push(byte),
        }
    }
    out
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::Tz;
    use serde_json::Value;

    use super::*;
    use crate::store::StoredItem;

    fn stored(link: &str, summary: Option<&str>, content: Option<&str>) -> StoredItem {
        let at = Utc
            .with_ymd_and_hms(2025, 7, 9, 6, 35, 0)
            .single()
            .expect("valid time");
        StoredItem {
            id: 1,
            source_id: "s".to_string(),
            link: link.to_string(),
            title: "Coal \u{0}exports rise".to_string(),
            title_key: crate::identity::title_key("Coal exports rise"),
            summary: summary.map(str::to_string),
            image: Some("javascript:alert(1)".to_string()),
            content: content.map(str::to_string),
            author: Some("Б.Болормаа".to_string()),
            published: None,
            first_seen: at,
            updated: at,
            sort_at: at,
            story_id: 1,
        }
    }

    /// The rendered document of `items`, parsed as plain JSON.
    fn document(items: &[StoredItem]) -> Value {
        let entries: Vec<Entry<'_>> = items
            .iter()
            .map(|item| Entry {
                item,
                source_name: "MONTSAME",
                language: "mn",
                timezone: Tz::UTC,
                id: None,
                also: &[],
            })
            .collect();
        let channel = Channel {
            title: "All",
            description: "D",
            home: "https://example.org/index.html",
            language: "en",
            entries: &entries,
            now: Utc::now(),
            hub: None,
        };
        let bytes = json_feed(&channel, "https://example.org/all.json").expect("renders");
        serde_json::from_slice(&bytes).expect("valid JSON")
    }

    /// Every key the spec requires, and none medee would have to explain.
    #[test]
    fn a_document_carries_the_required_fields_and_no_extension() {
        let items = [
            stored("https://a.mn/1", Some("<b>Teaser</b>"), Some("<p>Body</p>")),
            stored("https://a.mn/2", Some("<i>Only a teaser</i>"), None),
            stored("https://a.mn/3", None, None),
        ];
        let doc = document(&items);
        assert_eq!(doc["version"], JSON_FEED_VERSION);
        assert_eq!(doc["title"], "All");
        assert_eq!(doc["feed_url"], "https://example.org/all.json");
        assert_eq!(doc["home_page_url"], "https://example.org/index.html");
        assert_eq!(doc["language"], "en");
        let rendered = doc["items"].as_array().expect("items is an array");
        assert_eq!(rendered.len(), items.len());
        for (item, stored) in rendered.iter().zip(&items) {
            assert_eq!(item["id"], stored.link.as_str());
            assert_eq!(item["url"], stored.link.as_str());
            assert!(
                item["content_html"].is_string() || item["content_text"].is_string(),
                "{item}"
            );
            assert_eq!(item["title"], "Coal exports rise");
            assert_eq!(item["date_modified"], "2025-07-09T06:35:00Z");
            assert!(item.get("date_published").is_none(), "none invented");
            assert!(
                item.get("image").is_none(),
                "a javascript: image is dropped"
            );
            assert_eq!(item["authors"][0]["name"], "Б.Болормаа");
            assert_eq!(item["tags"][0], "MONTSAME");
            assert_eq!(item["language"], "mn");
        }
        assert_eq!(rendered[0]["content_html"], "<p>Body</p>");
        assert_eq!(rendered[0]["summary"], "Teaser");
        assert_eq!(rendered[1]["content_html"], "<i>Only a teaser</i>");
        assert_eq!(rendered[2]["content_text"], "");
        let keys = |v: &Value| -> Vec<String> {
            v.as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        for key in keys(&doc)
            .iter()
            .chain(rendered.iter().flat_map(keys).collect::<Vec<_>>().iter())
        {
            assert!(!key.starts_with('_'), "extension key {key}");
        }
    }

    #[test]
    fn markup_characters_are_escaped_and_parse_back_unchanged() {
        let mut item = stored("https://a.mn/1?a=1&b=2", Some("<b>x</b>"), None);
        item.title = "A <script> & \"B\"".to_string();
        let items = [item];
        let entries = [Entry {
            item: &items[0],
            source_name: "S",
            language: "en",
            timezone: Tz::UTC,
            id: None,
            also: &[],
        }];
        let channel = Channel {
            title: "T",
            description: "D",
            home: "https://example.org/",
            language: "en",
            entries: &entries,
            now: Utc::now(),
            hub: None,
        };
        let bytes = json_feed(&channel, "https://example.org/all.json").expect("renders");
        let text = String::from_utf8(bytes).expect("UTF-8");
        assert!(!text.contains(['<', '>', '&']), "{text}");
        let doc: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(doc["items"][0]["title"], "A <script> & \"B\"");
        assert_eq!(doc["items"][0]["id"], "https://a.mn/1?a=1&b=2");
        assert_eq!(doc["items"][0]["content_html"], "<b>x</b>");
    }

    #[test]
    fn a_published_date_and_a_loadable_image_are_carried() {
        let mut item = stored("https://a.mn/1", None, None);
        item.published = Some(item.sort_at);
        item.image = Some("https://a.mn/p.jpg".to_string());
        let doc = document(&[item]);
        assert_eq!(doc["items"][0]["date_published"], "2025-07-09T06:35:00Z");
        assert_eq!(doc["items"][0]["image"], "https://a.mn/p.jpg");
        assert!(doc["items"][0]["content_html"].is_string());
    }
}
