//! One `[[source]]`: its URL, kind and selectors, language, zone, schedule and filters.

use chrono_tz::Tz;
use regex::Regex;
use toml::Spanned;

use super::{check_cron, check_http_url, is_valid_id};
use crate::config::diagnostics::Diagnostics;
use crate::config::raw::{RawArticle, RawSource};
use crate::config::{OnBreak, Source, SourceKind, defaults};
use crate::extract::{ArticleField, ArticleSelectors, FieldSelector, ItemSelectors, parse_css};

/// The source, or `None` with its mistakes recorded.
pub(super) fn validate_source(raw: RawSource, diags: &mut Diagnostics<'_>) -> Option<Source> {
    let id = raw.id.get_ref().clone();
    let before = diags.count();
    if !is_valid_id(&id) {
        diags.at(
            raw.id.span(),
            format!(
                "invalid source id \"{id}\"; use lower-case letters, digits and '-' ([a-z0-9-]+)"
            ),
        );
    }
    let url = check_http_url(&raw.url, diags);
    let kind = validate_kind(&raw, &id, diags);
    let language = validate_language(raw.language, diags);
    let schedule = raw.schedule.and_then(|s| check_cron(s, diags));
    let timezone = validate_timezone(raw.timezone, diags);
    let include = compile_regexes(raw.include, &id, diags);
    let exclude = compile_regexes(raw.exclude, &id, diags);
    let on_break = validate_on_break(raw.on_break.as_ref(), &id, diags);
    check_date_formats(&raw.date_format, &id, diags);
    let article = raw
        .article
        .map(|a| validate_article(a.into_inner(), &id, diags));
    if diags.count() > before {
        return None;
    }
    Some(Source {
        name: raw.name.unwrap_or_else(|| id.clone()),
        id,
        url: url?,
        kind: kind?,
        language,
        schedule,
        date_format: raw
            .date_format
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        timezone,
        include,
        exclude,
        article,
        on_break,
    })
}

/// Each `date_format` must be a chrono format: one with an unknown `%`
/// specifier would never match, and the source's dates would be missing
/// without a word.
fn check_date_formats(formats: &[Spanned<String>], id: &str, diags: &mut Diagnostics<'_>) {
    use chrono::format::{Item, StrftimeItems};
    for format in formats {
        if StrftimeItems::new(format.get_ref()).any(|item| matches!(item, Item::Error)) {
            diags.at(
                format.span(),
                format!(
                    "invalid date_format \"{}\" in [[source]] \"{id}\"; use chrono's strftime specifiers (%Y-%m-%d %H:%M, %d.%m.%Y …)",
                    format.get_ref()
                ),
            );
        }
    }
}

/// `on_break`: `"report"` (default) or `"adopt"`.
fn validate_on_break(
    value: Option<&Spanned<String>>,
    id: &str,
    diags: &mut Diagnostics<'_>,
) -> OnBreak {
    match value.map(|v| v.get_ref().as_str()) {
        None | Some("report") => OnBreak::Report,
        Some("adopt") => OnBreak::Adopt,
        Some(other) => {
            let span = value.map_or(0..0, Spanned::span);
            diags.at(
                span,
                format!("unknown on_break \"{other}\" in [[source]] \"{id}\"; expected \"report\" or \"adopt\""),
            );
            OnBreak::Report
        }
    }
}

/// `kind` with what it implies: an html source's compiled selectors, a feed
/// without any, or a json source's compiled pointers.
fn validate_kind(raw: &RawSource, id: &str, diags: &mut Diagnostics<'_>) -> Option<SourceKind> {
    match raw.kind.as_ref().map(|k| k.get_ref().as_str()) {
        None | Some("html") => {
            reject_script(raw, id, diags);
            html_selectors(raw, id, diags).map(|s| SourceKind::Html(Box::new(s)))
        }
        Some("feed") => {
            reject_feed_selectors(raw, id, diags);
            Some(SourceKind::Feed)
        }
        Some("json") => {
            super::json::json_selectors(raw, id, diags).map(|s| SourceKind::Json(Box::new(s)))
        }
        Some(other) => {
            let span = raw.kind.as_ref().map_or(0..0, Spanned::span);
            diags.at(
                span,
                format!(
                    "unknown kind \"{other}\" in [[source]] \"{id}\"; expected \"html\", \"feed\" or \"json\""
                ),
            );
            None
        }
    }
}

/// `script` names where a json source finds its JSON; an html source would silently ignore it.
fn reject_script(raw: &RawSource, id: &str, diags: &mut Diagnostics<'_>) {
    if let Some(script) = &raw.script {
        diags.at(
            script.span(),
            format!("[[source]] \"{id}\" sets \"script\", which only a kind = \"json\" source reads (the JSON inside a page's <script>); add kind = \"json\" with JSON Pointers, or remove it"),
        );
    }
}

fn validate_language(value: Option<Spanned<String>>, diags: &mut Diagnostics<'_>) -> String {
    match value {
        None => defaults::LANGUAGE.to_string(),
        Some(l) if is_language_code(l.get_ref()) => l.into_inner(),
        Some(l) => {
            diags.at(
                l.span(),
                format!(
                    "invalid language \"{}\"; expected a code such as \"mn\" or \"en\"",
                    l.get_ref()
                ),
            );
            defaults::LANGUAGE.to_string()
        }
    }
}

fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn validate_timezone(value: Option<Spanned<String>>, diags: &mut Diagnostics<'_>) -> Tz {
    match value {
        None => defaults::TIMEZONE,
        Some(tz) => tz.get_ref().parse::<Tz>().unwrap_or_else(|_| {
            diags.at(
                tz.span(),
                format!(
                    "unknown time zone \"{}\"; expected an IANA name such as \"Asia/Ulaanbaatar\"",
                    tz.get_ref()
                ),
            );
            defaults::TIMEZONE
        }),
    }
}

/// The selector keys of a `[[source]]`, which a feed source may not carry.
fn selector_keys(raw: &RawSource) -> [(&'static str, Option<&Spanned<String>>); 7] {
    [
        ("item", raw.item.as_ref()),
        ("script", raw.script.as_ref()),
        ("title", raw.title.as_ref()),
        ("link", raw.link.as_ref()),
        ("date", raw.date.as_ref()),
        ("summary", raw.summary.as_ref()),
        ("image", raw.image.as_ref()),
    ]
}

/// A feed is read as a feed, never scraped: selectors on one would be silently ignored.
fn reject_feed_selectors(raw: &RawSource, id: &str, diags: &mut Diagnostics<'_>) {
    for (key, value) in selector_keys(raw) {
        if let Some(value) = value {
            diags.at(
                value.span(),
                format!("[[source]] \"{id}\" has kind = \"feed\", which is read as a feed, but sets the selector \"{key}\"; remove it, or drop kind = \"feed\" to scrape the page"),
            );
        }
    }
}

/// Compiles an html source's selectors; `None` (with the errors recorded) when any is invalid or `item` is missing.
fn html_selectors(raw: &RawSource, id: &str, diags: &mut Diagnostics<'_>) -> Option<ItemSelectors> {
    let before = diags.count();
    let mut field = |value: Option<&Spanned<String>>| {
        value.and_then(|v| {
            FieldSelector::parse(v.get_ref())
                .map_err(|e| diags.at(v.span(), format!("in [[source]] \"{id}\": {e}")))
                .ok()
        })
    };
    let (title, link, date, summary, image) = (
        field(raw.title.as_ref()),
        field(raw.link.as_ref()),
        field(raw.date.as_ref()),
        field(raw.summary.as_ref()),
        field(raw.image.as_ref()),
    );
    let Some(item) = &raw.item else {
        diags.at(raw.id.span(), format!("[[source]] \"{id}\" has kind \"html\" but no \"item\" selector; add item = \"CSS selector matching each headline block\""));
        return None;
    };
    let compiled = parse_css(item.get_ref())
        .map_err(|e| {
            let hint = if item.get_ref().starts_with('/') {
                "; it looks like a JSON Pointer: add kind = \"json\" to read a JSON endpoint"
            } else {
                ""
            };
            diags.at(item.span(), format!("in [[source]] \"{id}\": {e}{hint}"))
        })
        .ok()?;
    (diags.count() == before).then(|| ItemSelectors {
        item: compiled,
        item_source: item.get_ref().clone(),
        title,
        link,
        date,
        summary,
        image,
    })
}

fn validate_article(raw: RawArticle, id: &str, diags: &mut Diagnostics<'_>) -> ArticleSelectors {
    let auto = raw.auto.as_ref().is_some_and(|a| *a.get_ref());
    let mut field = |value: Option<Spanned<String>>| match value {
        None if auto => ArticleField::Auto,
        None => ArticleField::Off,
        Some(v) if v.get_ref().trim() == "auto" => ArticleField::Auto,
        Some(v) => FieldSelector::parse(v.get_ref())
            .map_err(|e| diags.at(v.span(), format!("in [source.article] of \"{id}\": {e}")))
            .map_or(ArticleField::Off, ArticleField::Selector),
    };
    ArticleSelectors {
        content: field(raw.content),
        date: field(raw.date),
        author: field(raw.author),
        allow_hosts: raw
            .allow_hosts
            .into_iter()
            .map(|h| h.into_inner().to_ascii_lowercase())
            .collect(),
    }
}

fn compile_regexes(
    values: Vec<Spanned<String>>,
    id: &str,
    diags: &mut Diagnostics<'_>,
) -> Vec<Regex> {
    values
        .into_iter()
        .filter_map(|v| match Regex::new(v.get_ref()) {
            Ok(re) => Some(re),
            Err(e) => {
                let reason = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                diags.at(
                    v.span(),
                    format!(
                        "invalid regex \"{}\" in [[source]] \"{id}\": {reason}",
                        v.get_ref()
                    ),
                );
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keys::keys_of;

    /// The names in messages about a feed's selectors are real `[[source]]` keys.
    #[test]
    fn selector_names_are_source_keys() {
        let raw: RawSource =
            toml::from_str("id = \"a\"\nurl = \"https://a.mn/\"").expect("minimal source");
        for (key, value) in selector_keys(&raw) {
            assert!(keys_of::<RawSource>().contains(&key), "{key}");
            assert!(value.is_none(), "{key}");
        }
    }
}
