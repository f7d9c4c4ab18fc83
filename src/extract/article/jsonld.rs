//! The page's JSON-LD (`<script type="application/ld+json">`), read once for
//! the date, the author and, as a fallback, the article text.

use scraper::Html;
use serde_json::Value;

/// Largest JSON-LD script read (bytes): structured data is small; a script
/// this large is something else.
const MAX_SCRIPT: usize = 2 * 1024 * 1024;

/// The objects of a page's JSON-LD, article objects first.
#[derive(Debug, Default)]
pub(super) struct JsonLd {
    objects: Vec<Value>,
}

/// Whether a `@type` names an article rather than the site, a person or a picture.
fn is_article_type(value: &Value) -> bool {
    let article = |t: &str| {
        t.contains("Article")
            || t.contains("Posting")
            || t.contains("Report")
            || matches!(t, "Blog" | "Review" | "Recipe" | "Event" | "CreativeWork")
    };
    match value.get("@type") {
        Some(Value::String(t)) => article(t),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).any(article),
        _ => false,
    }
}

fn is_page_type(value: &Value) -> bool {
    match value.get("@type") {
        Some(Value::String(t)) => t.contains("Page"),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .any(|t| t.contains("Page")),
        _ => false,
    }
}

impl JsonLd {
    /// Every JSON object in the page's JSON-LD scripts (`@graph` members
    /// included), article types first, then pages, then the rest.
    pub(super) fn read(document: &Html) -> Self {
        let mut objects = Vec::new();
        for script in document.select(selector!("script[type='application/ld+json']")) {
            let text: String = script.text().collect();
            if text.len() > MAX_SCRIPT {
                continue;
            }
            if let Some(value) = parse_lenient(&text) {
                flatten(value, &mut objects, 0);
            }
        }
        objects.sort_by_key(|o| {
            if is_article_type(o) {
                0
            } else if is_page_type(o) {
                1
            } else {
                2
            }
        });
        Self { objects }
    }

    /// `datePublished` (then `dateCreated`) values, article objects first.
    pub(super) fn dates(&self) -> Vec<String> {
        let mut dates: Vec<String> = Vec::new();
        for key in ["datePublished", "dateCreated"] {
            dates.extend(
                self.objects
                    .iter()
                    .filter(|o| is_article_type(o) || is_page_type(o))
                    .filter_map(|o| o.get(key)?.as_str().map(str::to_string)),
            );
        }
        dates
    }

    /// The article's authors' names, joined with ", ".
    pub(super) fn author(&self) -> Option<String> {
        let article = self.objects.iter().find(|o| is_article_type(o))?;
        let names = names(article.get("author")?);
        (!names.is_empty()).then(|| names.join(", "))
    }

    /// The article's `articleBody` text.
    pub(super) fn body(&self) -> Option<&str> {
        self.objects
            .iter()
            .filter(|o| is_article_type(o))
            .find_map(|o| o.get("articleBody")?.as_str())
            .filter(|b| !b.trim().is_empty())
    }
}

/// Names in an `author` value: a string, a Person or Organization, or a list of them.
fn names(value: &Value) -> Vec<String> {
    match value {
        Value::String(name) => vec![name.trim().to_string()],
        Value::Object(person) => person
            .get("name")
            .and_then(Value::as_str)
            .map(|n| vec![n.trim().to_string()])
            .unwrap_or_default(),
        Value::Array(list) => list.iter().flat_map(names).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|n| !n.is_empty() && !n.starts_with("http"))
    .collect()
}

/// Nesting followed into `@graph` lists and arrays.
const MAX_NESTING: usize = 4;

fn flatten(value: Value, out: &mut Vec<Value>, depth: usize) {
    if depth > MAX_NESTING {
        return;
    }
    match value {
        Value::Array(list) => {
            for v in list {
                flatten(v, out, depth + 1);
            }
        }
        Value::Object(mut map) => {
            if let Some(graph) = map.remove("@graph") {
                flatten(graph, out, depth + 1);
            }
            if let Some(main) = map.get("mainEntity").filter(|m| m.is_object()) {
                flatten(main.clone(), out, depth + 1);
            }
            out.push(Value::Object(map));
        }
        _ => {}
    }
}

/// Parses a script's JSON, tolerating the wrappers and stray control
/// characters that sites leave in it.
fn parse_lenient(text: &str) -> Option<Value> {
    let trimmed = text
        .trim()
        .trim_start_matches("//<![CDATA[")
        .trim_start_matches("<![CDATA[")
        .trim_end_matches("//]]>")
        .trim_end_matches("]]>")
        .trim()
        .trim_end_matches(';');
    serde_json::from_str(trimmed).ok().or_else(|| {
        let cleaned: String = trimmed
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        serde_json::from_str(&cleaned).ok()
    })
}
