//! `author = "auto"`: the byline of an article page.
//!
//! JSON-LD's article `author`, then author `<meta>`, then `itemprop="author"`,
//! `rel="author"` links and short texts of elements whose class names a byline,
//! with a leading "By" and the like taken off.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html};

use super::jsonld::JsonLd;
use super::{class_and_id, is_elsewhere, meta_values};
use crate::extract::element_text;
use crate::sanitize::collapse_whitespace;

/// Longest byline kept (characters): longer text is a bio or a paragraph.
const MAX_BYLINE: usize = 100;

/// `<meta>` names of the author, most specific first.
const META_NAMES: &[&str] = &[
    "author",
    "article:author",
    "byl",
    "sailthru.author",
    "parsely-author",
    "dc.creator",
    "dcterms.creator",
    "citation_author",
];

static BYLINE_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)byline|author|writer|reporter|creator|zohiogch|нийтлэгч")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// "By", "Von", "Par", "Por", "Автор", "Сурвалжлагч" and a colon or dash after them.
static BY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:by|von|par|por|di|door|av|af|autor(?:in)?|author|written by|text|автор|сурвалжлагч|нийтэлсэн)\b\s*[:\-–—]?\s*")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// The byline, or `None` when the page names no author.
pub(super) fn find_author(document: &Html, jsonld: &JsonLd) -> Option<String> {
    jsonld
        .author()
        .and_then(clean)
        .or_else(|| meta_author(document))
        .or_else(|| {
            document
                .select(selector!("[itemprop='author']"))
                .find_map(|e| {
                    let name = e
                        .select(selector!("[itemprop='name']"))
                        .next()
                        .map(|n| {
                            n.value()
                                .attr("content")
                                .map_or_else(|| element_text(n), str::to_string)
                        })
                        .or_else(|| e.value().attr("content").map(str::to_string))
                        .unwrap_or_else(|| element_text(e));
                    clean(name)
                })
        })
        .or_else(|| {
            document
                .select(selector!("a[rel~='author']"))
                .find_map(|a| clean(element_text(a)))
        })
        .or_else(|| byline_element(document))
}

fn meta_author(document: &Html) -> Option<String> {
    meta_values(document, META_NAMES, &["name", "property"])
        .into_iter()
        .filter(|content| !content.contains("://"))
        .find_map(clean)
}

fn byline_element(document: &Html) -> Option<String> {
    document
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| BYLINE_CLASS.is_match(&class_and_id(*e)))
        .filter(|e| !is_elsewhere(*e))
        .find_map(|e| clean(element_text(e)))
}

/// The name without "By" and surrounding punctuation; `None` if nothing
/// name-like is left (empty, too long, a URL or a date).
fn clean(text: String) -> Option<String> {
    let text = collapse_whitespace(&text);
    let text = BY.replace(&text, "");
    let text = text.trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | '|' | '-' | '·'));
    let plausible = !text.is_empty()
        && text.chars().count() <= MAX_BYLINE
        && !text.contains("://")
        && text.chars().any(char::is_alphabetic)
        && text.chars().filter(char::is_ascii_digit).count() < 4;
    plausible.then(|| text.to_string())
}
