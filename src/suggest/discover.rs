//! What a page says about itself besides its HTML lists: its name, its
//! language, the feeds it advertises and the items it carries as JSON.

use std::sync::LazyLock;

use scraper::{Html, Selector};
use url::Url;

use crate::extract::{element_text, resolve_http_url};

/// Page facts the TOML block needs.
#[derive(Debug, Clone, Default)]
pub struct PageInfo {
    /// `<title>`.
    pub title: Option<String>,
    /// Primary subtag of `<html lang>`, or what the headlines are written in.
    pub language: Option<String>,
    /// Feeds advertised with `<link rel="alternate">`, comment feeds left out.
    pub feeds: Vec<Feed>,
    /// Item data carried as JSON in the page.
    pub embedded: Vec<EmbeddedData>,
    /// A `kind = "json"` reading of that data, when the page has no HTML list.
    pub json: Option<super::JsonBlock>,
}

/// A feed the page advertises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// Absolute feed URL.
    pub url: String,
    /// `RSS`, `Atom` or `JSON Feed`.
    pub format: &'static str,
}

/// JSON in the page that holds items a script renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddedData {
    /// `<script type="application/ld+json">` with an `ItemList` or news articles.
    JsonLd,
    /// Next.js `<script id="__NEXT_DATA__">`.
    NextData,
    /// Nuxt `window.__NUXT__`.
    Nuxt,
}

impl std::fmt::Display for EmbeddedData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::JsonLd => "JSON-LD ItemList/NewsArticle",
            Self::NextData => "Next.js __NEXT_DATA__",
            Self::Nuxt => "Nuxt __NUXT__",
        })
    }
}

static HTML: LazyLock<Selector> = LazyLock::new(|| Selector::parse("html").expect("static"));
static ALTERNATES: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("link[rel~=alternate][href][type]").expect("static"));
static SCRIPTS: LazyLock<Selector> = LazyLock::new(|| Selector::parse("script").expect("static"));

/// Title, language, feeds and embedded data of `document`; `headlines` are
/// the candidate lists' headlines, for the language when `<html lang>` is
/// missing or contradicted by them.
pub fn page_info(document: &Html, page: &Url, headlines: &[String]) -> PageInfo {
    let declared = document
        .select(&HTML)
        .next()
        .and_then(|h| h.value().attr("lang"))
        .and_then(|l| l.split(['-', '_']).next())
        .map(str::to_ascii_lowercase)
        .filter(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    PageInfo {
        title: crate::extract::page_title(document),
        language: language(declared, headlines),
        feeds: advertised_feeds(document, page),
        embedded: embedded_data(document),
        json: None,
    }
}

/// The declared language unless the headlines' script says otherwise (a
/// Mongolian page declared `en`); without a declaration, the script's language.
fn language(declared: Option<String>, headlines: &[String]) -> Option<String> {
    let seen = script_language(headlines);
    match (declared, seen) {
        (Some(d), Some(s)) if is_cyrillic_language(&d) != is_cyrillic_language(s) => {
            Some(s.to_string())
        }
        (Some(d), _) => Some(d),
        (None, s) => s.map(str::to_string),
    }
}

fn is_cyrillic_language(code: &str) -> bool {
    matches!(
        code,
        "mn" | "ru" | "uk" | "bg" | "sr" | "kk" | "ky" | "be" | "mk"
    )
}

/// `mn` for Cyrillic with ө/ү, `ru` for other Cyrillic, `en` for Latin text
/// with English function words; `None` when the headlines do not say.
fn script_language(headlines: &[String]) -> Option<&'static str> {
    let text: String = headlines.join(" ").to_lowercase();
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if letters < 40 {
        return None;
    }
    let cyrillic = text
        .chars()
        .filter(|c| ('\u{0400}'..='\u{04FF}').contains(c))
        .count();
    if cyrillic * 2 > letters {
        let mongolian = text.chars().filter(|c| matches!(c, 'ө' | 'ү')).count();
        return Some(if mongolian * 100 >= cyrillic {
            "mn"
        } else {
            "ru"
        });
    }
    let latin = text.chars().filter(char::is_ascii_alphabetic).count();
    let english = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| matches!(*w, "the" | "of" | "and" | "to" | "in" | "for" | "is" | "on"))
        .count();
    (latin * 10 > letters * 9 && english * 50 >= text.split_whitespace().count()).then_some("en")
}

/// `<link rel="alternate">` RSS, Atom and JSON Feed links, comment feeds left out.
fn advertised_feeds(document: &Html, page: &Url) -> Vec<Feed> {
    let mut feeds: Vec<Feed> = Vec::new();
    for link in document.select(&ALTERNATES) {
        let kind = link.value().attr("type").unwrap_or("").to_ascii_lowercase();
        let format = match kind.as_str() {
            "application/rss+xml" => "RSS",
            "application/atom+xml" => "Atom",
            "application/feed+json" => "JSON Feed",
            _ => continue,
        };
        let title = link.value().attr("title").unwrap_or("").to_lowercase();
        let Some(url) = link
            .value()
            .attr("href")
            .and_then(|h| resolve_http_url(page, h))
        else {
            continue;
        };
        if title.contains("comment") || url.contains("/comments/") {
            continue;
        }
        let feed = Feed { url, format };
        if !feeds.contains(&feed) {
            feeds.push(feed);
        }
    }
    feeds
}

/// Which kinds of script-carried item data the page holds.
fn embedded_data(document: &Html) -> Vec<EmbeddedData> {
    let mut found = Vec::new();
    for script in document.select(&SCRIPTS) {
        let v = script.value();
        let text = element_text(script);
        let kind = if v.attr("type") == Some("application/ld+json")
            && ["ItemList", "NewsArticle", "BlogPosting"]
                .iter()
                .any(|t| text.contains(t))
        {
            EmbeddedData::JsonLd
        } else if v.id() == Some("__NEXT_DATA__") && text.len() > 2 {
            EmbeddedData::NextData
        } else if text.contains("__NUXT__") {
            EmbeddedData::Nuxt
        } else {
            continue;
        };
        if !found.contains(&kind) {
            found.push(kind);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn upper_case_mongolian_headlines_overrule_a_declared_en() {
        let headlines = lines(&[
            "ЗАСГИЙН ГАЗРЫН ХУРАЛДААНААР ТӨСВИЙН ТОДОТГОЛЫГ ХЭЛЭЛЦЭВ",
            "УЛААНБААТАРТ ШИНЭ ГҮҮР АШИГЛАЛТАД ОРЛОО",
        ]);
        assert_eq!(
            language(Some("en".into()), &headlines).as_deref(),
            Some("mn")
        );
        assert_eq!(language(None, &headlines).as_deref(), Some("mn"));
    }

    #[test]
    fn english_headlines_without_a_declaration_are_en() {
        let headlines = lines(&[
            "Parliament passes the budget for the next year",
            "Coal exports rise in the first half of the year",
        ]);
        assert_eq!(language(None, &headlines).as_deref(), Some("en"));
        assert_eq!(
            language(Some("de".into()), &headlines).as_deref(),
            Some("de")
        );
    }
}
