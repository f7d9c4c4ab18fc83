//! Items from JSON: a `kind = "json"` source's body (or the JSON inside one
//! of its page's `<script>` elements) and its pointers in, raw items out.
//!
//! Pure like `extract`: no I/O, no clock, no store. Items come out as the
//! same [`RawItem`]s an html listing gives, so dates, filters, dedupe and
//! article pages need no json-specific path.

mod spec;

use scraper::Selector;
use serde_json::Value;
use url::Url;

use crate::config::Limits;
use crate::extract::{FieldBound, KeptItems, RawItem, resolve_http_url};
use crate::identity::canonical_link;
use crate::sanitize::{collapse_whitespace, sanitize_html};

pub use spec::{JsonPointer, LinkSpec, LinkTemplate, scalar_text};

/// A json source's pointers, compiled once at config load.
#[derive(Debug, Clone)]
pub struct JsonSelectors {
    /// The array of items (`""`: the document is the array).
    pub item: JsonPointer,
    /// The `<script>` holding the JSON, when the URL is an HTML page.
    pub script: Option<ScriptSelector>,
    /// Headline, within an item.
    pub title: JsonPointer,
    /// Article URL, within an item.
    pub link: LinkSpec,
    /// Publication date text or number.
    pub date: Option<JsonPointer>,
    /// Teaser; HTML is sanitised.
    pub summary: Option<JsonPointer>,
    /// Thumbnail URL.
    pub image: Option<JsonPointer>,
}

/// `script = "script#__NEXT_DATA__"`: the elements whose text may be the JSON.
#[derive(Debug, Clone)]
pub struct ScriptSelector {
    css: Selector,
    source: String,
}

impl ScriptSelector {
    /// Compiles the CSS selector.
    pub fn parse(text: &str) -> Result<Self, String> {
        let css = Selector::parse(text)
            .map_err(|e| format!("invalid CSS selector \"{text}\" for script: {e}"))?;
        Ok(Self {
            css,
            source: text.to_string(),
        })
    }

    /// The selector as written, for messages.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// What reading a JSON listing found, with the counts `preview` shows.
#[derive(Debug, Clone, Default)]
pub struct JsonItems {
    /// Items with a title and a link, first occurrence of each link only.
    pub items: Vec<RawItem>,
    /// Elements of the item array.
    pub matched: usize,
    /// Elements without a title or a usable link (or that are not objects).
    pub incomplete: usize,
    /// Elements whose link repeated an earlier one.
    pub duplicates: usize,
    /// Fields cut to `max_field`, and URLs longer than that left out.
    pub cut_fields: usize,
}

/// Why a JSON listing gave no items: each names what was looked for and what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// The body, or the script's text, is not JSON.
    #[error("{url}: {origin} is not JSON ({message}); is the URL still a JSON endpoint?")]
    NotJson {
        /// The page URL.
        url: String,
        /// `the body` or `the text of script "…"`.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// No element matches the `script` selector.
    #[error(
        "script selector \"{selector}\" matched nothing on {url} (page title {title:?}, {size} bytes); the site's markup may have changed"
    )]
    NoScript {
        /// The selector as configured.
        selector: String,
        /// The page URL.
        url: String,
        /// The page's `<title>`.
        title: String,
        /// Body size in bytes.
        size: usize,
    },
    /// The item pointer does not reach a non-empty array.
    #[error(
        "item pointer \"{pointer}\" found {found} on {url}, not an array of items; the endpoint's JSON may have changed"
    )]
    NoItems {
        /// The pointer as configured.
        pointer: String,
        /// The page URL.
        url: String,
        /// What is there instead, e.g. `an object with keys a, b`.
        found: String,
    },
    /// The array held elements, but none with a title and a link.
    #[error(
        "item pointer \"{pointer}\" found {matched} elements on {url} but none had both a title and a link; check the title and link pointers"
    )]
    NoUsableItems {
        /// The pointer as configured.
        pointer: String,
        /// The page URL.
        url: String,
        /// Elements in the array.
        matched: usize,
    },
}

/// Reads the items of a JSON listing (or an HTML page with the JSON in a
/// script); `base` resolves relative links and images. Every field is held
/// to `limits.field_bytes` as an html listing's is: an endpoint is as
/// untrusted as a page.
pub fn read_items(
    text: &str,
    base: &Url,
    selectors: &JsonSelectors,
    limits: &Limits,
) -> Result<JsonItems, JsonError> {
    let document = listing_json(text, base, selectors)?;
    let array = item_array(&document, base, &selectors.item)?;
    let mut kept = KeptItems::default();
    let mut bound = FieldBound::new(limits.field_bytes);
    for element in array {
        kept.keep(read_item(element, base, selectors, &mut bound));
    }
    let out = JsonItems {
        items: kept.items,
        matched: array.len(),
        incomplete: kept.incomplete,
        duplicates: kept.duplicates,
        cut_fields: bound.cut,
    };
    if out.items.is_empty() {
        return Err(JsonError::NoUsableItems {
            pointer: selectors.item.as_str().to_string(),
            url: base.to_string(),
            matched: out.matched,
        });
    }
    Ok(out)
}

/// The JSON document to read: the body itself, or the first matching
/// script whose JSON has a non-empty array at `item` (a page may carry
/// several JSON-LD blocks, and only one is the list).
fn listing_json(text: &str, base: &Url, selectors: &JsonSelectors) -> Result<Value, JsonError> {
    let Some(script) = &selectors.script else {
        return parse_json(text, base, "the body");
    };
    let html = crate::extract::parse_html(text);
    let texts: Vec<String> = html
        .select(&script.css)
        .map(|e| e.text().collect())
        .collect();
    let origin = format!("the text of script \"{}\"", script.source);
    let mut first = None;
    for script_text in &texts {
        let parsed = parse_json(script_text, base, &origin);
        if let Ok(value) = &parsed
            && has_items(value, &selectors.item)
        {
            return parsed;
        }
        first.get_or_insert(parsed);
    }
    first.unwrap_or_else(|| {
        Err(JsonError::NoScript {
            selector: script.source.clone(),
            url: base.to_string(),
            title: crate::extract::page_title(&html).unwrap_or_default(),
            size: text.len(),
        })
    })
}

fn parse_json(text: &str, base: &Url, origin: &str) -> Result<Value, JsonError> {
    serde_json::from_str(text.trim()).map_err(|e| JsonError::NotJson {
        url: base.to_string(),
        origin: origin.to_string(),
        message: e.to_string(),
    })
}

fn has_items(document: &Value, pointer: &JsonPointer) -> bool {
    pointer
        .find(document)
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

fn item_array<'a>(
    document: &'a Value,
    base: &Url,
    pointer: &JsonPointer,
) -> Result<&'a [Value], JsonError> {
    match pointer.find(document) {
        Some(Value::Array(items)) if !items.is_empty() => Ok(items),
        found => Err(JsonError::NoItems {
            pointer: pointer.as_str().to_string(),
            url: base.to_string(),
            found: match found {
                Some(value) => describe(value),
                None => describe_missing(document, pointer),
            },
        }),
    }
}

/// What a pointer that reaches nothing passed through: the nearest
/// enclosing value that exists, described, so a renamed key shows its new name.
fn describe_missing(document: &Value, pointer: &JsonPointer) -> String {
    pointer
        .ancestors()
        .find_map(|at| {
            let value = document.pointer(at)?;
            let place = if at.is_empty() {
                "the top level".to_string()
            } else {
                format!("\"{at}\"")
            };
            Some(format!("nothing ({place} is {})", describe(value)))
        })
        .unwrap_or_else(|| "nothing".to_string())
}

/// A JSON value in a few words: its type, and an object's first keys.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(_) => "a boolean".to_string(),
        Value::Number(_) => "a number".to_string(),
        Value::String(_) => "a string".to_string(),
        Value::Array(a) if a.is_empty() => "an empty array".to_string(),
        Value::Array(a) => format!("an array of {}", a.len()),
        Value::Object(o) if o.is_empty() => "an empty object".to_string(),
        Value::Object(o) => {
            let keys: Vec<&str> = o.keys().take(8).map(String::as_str).collect();
            let more = if o.len() > keys.len() { ", …" } else { "" };
            format!("an object with keys {}{more}", keys.join(", "))
        }
    }
}

/// One array element as an item, its fields within `bound`; `None` without
/// a title or a usable link (a link longer than the bound is not usable).
fn read_item(
    element: &Value,
    base: &Url,
    selectors: &JsonSelectors,
    bound: &mut FieldBound,
) -> Option<RawItem> {
    let text = |pointer: Option<&JsonPointer>| {
        pointer
            .and_then(|p| p.find(element))
            .and_then(scalar_text)
            .map(|t| collapse_whitespace(&t))
            .filter(|t| !t.is_empty())
    };
    let title = bound.text(text(Some(&selectors.title))?);
    let link = bound.url(resolve_http_url(base, &selectors.link.value(element)?)?)?;
    let date_text = selectors
        .date
        .as_ref()
        .and_then(|p| p.find(element))
        .and_then(date_text)
        .map(|d| bound.text(d));
    let summary = text(selectors.summary.as_ref())
        .map(|s| sanitize_html(&s, base).trim().to_string())
        .filter(|s| !s.is_empty())
        .map(|s| bound.html(s));
    let image = selectors
        .image
        .as_ref()
        .and_then(|p| p.find(element))
        .and_then(Value::as_str)
        .and_then(|src| resolve_http_url(base, src))
        .and_then(|url| bound.url(url));
    Some(RawItem {
        title,
        canonical_link: canonical_link(&link),
        link,
        date_text,
        summary,
        image,
    })
}

/// A date as text for the recogniser. A number of milliseconds since the
/// epoch (what JavaScript's `Date.now()` gives, 13 digits today) becomes
/// seconds, which the recogniser reads as a Unix timestamp.
fn date_text(value: &Value) -> Option<String> {
    if let Some(millis) = value.as_u64().filter(|&n| n >= 100_000_000_000) {
        return Some((millis / 1000).to_string());
    }
    scalar_text(value)
        .map(|t| collapse_whitespace(&t))
        .filter(|t| !t.is_empty())
}

/// What a user writing pointers should look at: the first elements that
/// yield no item, with the field that is missing. Only `preview` needs this.
pub fn diagnose(text: &str, base: &Url, selectors: &JsonSelectors) -> Vec<String> {
    let Ok(document) = listing_json(text, base, selectors) else {
        return Vec::new();
    };
    let Ok(array) = item_array(&document, base, &selectors.item) else {
        return Vec::new();
    };
    array
        .iter()
        .enumerate()
        .filter_map(|(index, element)| {
            let missing = missing_field(element, base, selectors)?;
            Some(format!("item {}: {missing}", index + 1))
        })
        .take(3)
        .collect()
}

/// Why an element yields no item, or `None` when it does.
fn missing_field(element: &Value, base: &Url, selectors: &JsonSelectors) -> Option<String> {
    if !element.is_object() && !element.is_array() {
        return Some(format!("is {}, not an object", describe(element)));
    }
    let title = selectors.title.find(element).and_then(scalar_text);
    if title.is_none_or(|t| t.trim().is_empty()) {
        return Some(format!(
            "no title at \"{}\" (the item is {})",
            selectors.title.as_str(),
            describe(element)
        ));
    }
    match selectors.link.value(element) {
        None => Some(format!("no link (the item is {})", describe(element))),
        Some(link) if resolve_http_url(base, &link).is_none() => {
            Some(format!("link {link:?} is not an http(s) URL"))
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests;
