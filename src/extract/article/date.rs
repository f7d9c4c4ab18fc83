//! `date = "auto"`: the publication date of an article page.
//!
//! Sources are tried from the most to the least deliberate, as htmldate does:
//! structured data written for machines (JSON-LD `datePublished`, OpenGraph
//! and other publication meta, `itemprop`), then a date in the URL, then a
//! text labelled as the publication date, `<time datetime>`, `<abbr>` and
//! elements whose class says "date", then any short text after the headline
//! that the date recogniser reads (Mongolian dates included). Modification
//! and comment dates are passed over: meta and JSON-LD fields for them are
//! not read, elements named "updated", "modified" or lying in comments are
//! furniture, and a visible date labelled as an edit's is the last resort.
//! A date is the page's own calendar day: one written in UTC yields to the
//! page's local rendering of it.

use std::cell::LazyCell;
use std::sync::LazyLock;

use chrono::{FixedOffset, NaiveTime};
use regex::Regex;
use scraper::{ElementRef, Html};
use url::Url;

use super::jsonld::JsonLd;
use super::{class_and_id, is_elsewhere, meta_values};
use crate::dates::{DateContext, ParsedDate, parse_date};
use crate::sanitize::collapse_whitespace;

/// Where the date was found, for `preview`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateOrigin {
    /// JSON-LD `datePublished` / `dateCreated`.
    JsonLd,
    /// A `<meta>` publication field.
    Meta,
    /// An `itemprop="datePublished"` element.
    Itemprop,
    /// `/2024/12/20/` in the page's URL.
    Url,
    /// Text labelled as the publication's date (`Veröffentlicht am 16.08.2019`).
    Labelled,
    /// A `<time datetime>` element.
    Time,
    /// An `<abbr>` with the date in its title (or Facebook's `data-utime`).
    Abbr,
    /// Text of an element whose class or id names a date.
    DateElement,
    /// Short text after the headline.
    Headline,
}

/// `<meta>` names of the publication date, most specific first.
const META_NAMES: &[&str] = &[
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "article:published",
    "datepublished",
    "published_time",
    "article.published",
    "parsely-pub-date",
    "sailthru.date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "publication_date",
    "publicationdate",
    "originalpublicationdate",
    "article_date_original",
    "cxenseparse:recs:publishtime",
    "citation_publication_date",
    "citation_date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date.created",
    "dcterms.created",
    "dc.date.published",
    "date_published",
    "datecreated",
    "release_date",
    "displaydate",
];

/// `<meta>` names of a date that may be the page's rather than the
/// publication's (a generation or revision date): read after
/// `itemprop="datePublished"`, and not when the page labels a visible date
/// as the publication's.
const GENERIC_META_NAMES: &[&str] = &["dc.date", "dcterms.date", "date"];

/// A date found on the page: the text as written and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDate {
    /// The date as the page wrote it, for the recogniser.
    pub text: String,
    /// Where it was.
    pub origin: DateOrigin,
}

/// The publication date of the page, or `None` when nothing the recogniser reads is found.
pub(super) fn find_date(
    document: &Html,
    jsonld: &JsonLd,
    url: &Url,
    ctx: &DateContext<'_>,
) -> Option<FoundDate> {
    let readable = |text: String, origin: DateOrigin| {
        let text = collapse_whitespace(&text);
        parse_date(&text, ctx).map(|_| FoundDate { text, origin })
    };
    let in_url = url_date(url);
    // Read at most once each, and only when the order below reaches them.
    let labelled =
        LazyCell::new(|| labelled_dates(document).find_map(|d| readable(d, DateOrigin::Labelled)));
    let visible = LazyCell::new(|| VisibleDates::of(document));
    let generic_meta: Vec<FoundDate> = meta_dates(document, GENERIC_META_NAMES)
        .filter_map(|d| readable(d, DateOrigin::Meta))
        .collect();
    let generic_meta = if generic_meta.is_empty() || labelled.is_some() {
        Vec::new()
    } else {
        generic_meta
    };
    let structured: Vec<FoundDate> = jsonld
        .dates()
        .into_iter()
        .filter_map(|d| readable(d, DateOrigin::JsonLd))
        .chain(meta_dates(document, META_NAMES).filter_map(|d| readable(d, DateOrigin::Meta)))
        .chain(itemprop_dates(document).filter_map(|d| readable(d, DateOrigin::Itemprop)))
        .chain(generic_meta)
        .collect();
    let first_time = || time_dates(document).find_map(|d| readable(d, DateOrigin::Time));
    let first_publication = |texts: &[String], origin| {
        texts
            .iter()
            .filter_map(|d| publication_part(d))
            .find_map(|d| readable(d, origin))
    };
    let local_evidence = || {
        in_url
            .clone()
            .and_then(|d| readable(d, DateOrigin::Url))
            .into_iter()
            .chain(first_time())
            .chain(first_publication(
                &visible.elements,
                DateOrigin::DateElement,
            ))
            .collect()
    };
    structured
        .first()
        .map(|first| as_the_page_dates_it(first, &structured, local_evidence, ctx))
        .filter(|found| !contradicts_url(found, in_url.as_deref(), ctx))
        .or_else(|| in_url.clone().and_then(|d| readable(d, DateOrigin::Url)))
        .or_else(|| (*labelled).clone())
        .or_else(first_time)
        .or_else(|| abbr_dates(document).find_map(|d| readable(d, DateOrigin::Abbr)))
        .or_else(|| first_publication(&visible.elements, DateOrigin::DateElement))
        .or_else(|| first_publication(&visible.near_headline, DateOrigin::Headline))
        .or_else(|| {
            visible
                .edits()
                .find_map(|(d, origin)| readable(d.clone(), origin))
        })
}

/// The visible date candidates of a page: texts of elements named for a
/// date, and short texts near the headline, each read from the page once.
struct VisibleDates {
    elements: Vec<String>,
    near_headline: Vec<String>,
}

impl VisibleDates {
    fn of(document: &Html) -> Self {
        Self {
            elements: date_elements(document).collect(),
            near_headline: after_headline(document).collect(),
        }
    }

    /// Those labelled as an edit's (`Updated June 13, 2019`): the last
    /// resort, as a page's last edit is nearer its publication than no date.
    fn edits(&self) -> impl Iterator<Item = (&String, DateOrigin)> {
        let elements = self.elements.iter().map(|d| (d, DateOrigin::DateElement));
        let near = self.near_headline.iter().map(|d| (d, DateOrigin::Headline));
        elements
            .chain(near)
            .filter(|(d, _)| publication_part(d).is_none())
    }
}

/// The part of a visible date text that is the publication's: all of it
/// unless an edit label is in it (and no publication label), then what
/// precedes that label (`05.04.2025 - Güncelleme : 05.04.2025`), if anything.
fn publication_part(text: &str) -> Option<String> {
    if PUBLICATION_LABEL.is_match(text) {
        return Some(text.to_string());
    }
    let Some(label) = EDIT_LABEL.find(text) else {
        return Some(text.to_string());
    };
    let before = text[..label.start()].trim();
    before
        .chars()
        .any(|c| c.is_ascii_digit())
        .then(|| before.to_string())
}

/// The publication date on the page's own calendar. A date written in UTC
/// (`2023-11-09T01:09:55Z`) may fall on the day after or before the one the
/// publisher printed: when the page writes the same instant at its offset or
/// as its zone-less wall clock (in the structured data, a `<time>`), or shows
/// a day without a time (its URL's, a date element's) next to the UTC day
/// while the instant lies within [`NEAR_MIDNIGHT`] of the midnight between
/// them, the instant is written at an offset that puts it on the page's day.
/// The instant itself never changes (the store keeps it); a date written at
/// an offset is the page's own already.
fn as_the_page_dates_it(
    first: &FoundDate,
    structured: &[FoundDate],
    local_evidence: impl FnOnce() -> Vec<FoundDate>,
    ctx: &DateContext<'_>,
) -> FoundDate {
    let Some(instant) = parse_date(&first.text, ctx).filter(is_utc_written) else {
        return first.clone();
    };
    let offset = structured
        .iter()
        .find_map(|other| twin_offset(&instant, other, ctx))
        .or_else(|| {
            local_evidence().into_iter().find_map(|shown| {
                twin_offset(&instant, &shown, ctx).or_else(|| day_offset(&instant, &shown, ctx))
            })
        });
    match offset.and_then(FixedOffset::east_opt) {
        Some(offset) => FoundDate {
            text: instant.at.with_timezone(&offset).to_rfc3339(),
            origin: first.origin,
        },
        None => first.clone(),
    }
}

/// Whether a date was written in UTC (`Z`, `+00:00`, `GMT`).
fn is_utc_written(date: &ParsedDate) -> bool {
    date.offset.is_some_and(|o| o.local_minus_utc() == 0)
}

/// Largest distance of a real UTC offset from UTC (UTC+14), in seconds.
const MAX_OFFSET: i64 = 14 * 3600;

/// The page's offset (seconds east of UTC) when `other` names the UTC
/// `instant` on the page's clock: the same instant at a non-zero offset, or
/// a zone-less time of day a whole quarter-hour offset away
/// (`2023-11-08 18:09:55` for `2023-11-09T01:09:55Z`). A day without a time
/// is no twin: [`day_offset`] decides for it.
fn twin_offset(instant: &ParsedDate, other: &FoundDate, ctx: &DateContext<'_>) -> Option<i32> {
    let other = parse_date(&other.text, ctx)?;
    match other.offset {
        Some(offset) => (offset.local_minus_utc() != 0 && other.at == instant.at)
            .then(|| offset.local_minus_utc()),
        None => {
            let wall = other.as_written(ctx.tz).naive_local();
            if wall.time() == NaiveTime::MIN {
                return None;
            }
            let shift = (wall - instant.at.naive_utc()).num_seconds();
            (shift != 0 && shift % 900 == 0 && shift.abs() <= MAX_OFFSET)
                .then(|| i32::try_from(shift).ok())
                .flatten()
        }
    }
}

/// How near a UTC midnight (seconds) a UTC instant must be for a day the
/// page shows on the other side of it to count as the page's local day:
/// four hours covers the evening in the Americas and the night in Europe
/// and Africa, where UTC dates most often change the day.
const NEAR_MIDNIGHT: i64 = 4 * 3600;

/// When `shown` is a day without a time of day (`/2024/11/08/`,
/// `8. November 2024`) next to the UTC `instant`'s day, on the side of the
/// midnight the instant lies within [`NEAR_MIDNIGHT`] of: the smallest
/// whole-hour offset that puts the instant on that day.
fn day_offset(instant: &ParsedDate, shown: &FoundDate, ctx: &DateContext<'_>) -> Option<i32> {
    let shown = parse_date(&shown.text, ctx)?;
    let midnight = shown.as_written(ctx.tz).naive_local();
    if shown.offset.is_some() || midnight.time() != NaiveTime::MIN {
        return None;
    }
    let since_midnight = (instant.at.naive_utc() - midnight).num_seconds();
    let hours = if (-NEAR_MIDNIGHT..0).contains(&since_midnight) {
        (-since_midnight + 3599) / 3600
    } else if (86_400..86_400 + NEAR_MIDNIGHT).contains(&since_midnight) {
        -((since_midnight - 86_400) / 3600 + 1)
    } else {
        return None;
    };
    i32::try_from(hours * 3600).ok()
}

/// `<meta>` values of the given names, in their order.
fn meta_dates(document: &Html, names: &[&str]) -> impl Iterator<Item = String> {
    meta_values(
        document,
        names,
        &["property", "name", "itemprop", "http-equiv"],
    )
    .into_iter()
}

fn itemprop_dates(document: &Html) -> impl Iterator<Item = String> + '_ {
    document
        .select(selector!(
            "[itemprop='datePublished'], [itemprop='dateCreated']"
        ))
        .filter(|e| e.value().name() != "meta")
        .filter_map(machine_or_text)
}

/// A `datetime` or `content` attribute when the element has one, else its text.
fn machine_or_text(element: ElementRef<'_>) -> Option<String> {
    let value = element.value();
    value
        .attr("datetime")
        .or_else(|| value.attr("content"))
        .map(str::to_string)
        .or_else(|| Some(spaced_text(element)))
        .filter(|t| !t.trim().is_empty())
}

/// A `title` attribute, where some sites put the full date behind a
/// relative one (`<span title="2020-09-20T14:20:02Z">2 hours ago</span>`).
fn title_of(element: ElementRef<'_>) -> Option<String> {
    element.value().attr("title").map(str::to_string)
}

static URL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[/_-])((?:19|20)\d{2})(?:[/_-](0?[1-9]|1[0-2])[/_-](0?[1-9]|[12]\d|3[01])|(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01]))(?:$|[/_.-])",
    )
    .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// `/2024/12/20/`, `/2024/7/5/`, `/2024-12-20-title`, `/20241220/` in the URL's path.
fn url_date(url: &Url) -> Option<String> {
    let c = URL_DATE.captures(url.path())?;
    let (month, day) = match (c.get(2), c.get(3)) {
        (Some(m), Some(d)) => (m.as_str(), d.as_str()),
        _ => (c.get(4)?.as_str(), c.get(5)?.as_str()),
    };
    Some(format!("{}-{month:0>2}-{day:0>2}", &c[1]))
}

/// Days a structured date may lie from the URL's date and still be the
/// same publication (time zones; a late-night story filed the next day).
const URL_TOLERANCE_DAYS: i64 = 1;

/// Whether a structured date contradicts a date in the URL: the URL is fixed
/// when the story is first published, so a date days or years away from it is
/// a republication or an update, and the URL's date is the publication's.
fn contradicts_url(found: &FoundDate, url_day: Option<&str>, ctx: &DateContext<'_>) -> bool {
    let Some(url_day) = url_day else {
        return false;
    };
    let (Some(found), Some(url)) = (parse_date(&found.text, ctx), parse_date(url_day, ctx)) else {
        return false;
    };
    (found.at - url.at).num_days().abs() > URL_TOLERANCE_DAYS
}

/// `<time datetime>` values, those marked as the publication's first.
fn time_dates(document: &Html) -> impl Iterator<Item = String> + '_ {
    let (marked, rest): (Vec<_>, Vec<_>) = document
        .select(selector!("time"))
        .filter(|t| !is_elsewhere(*t))
        .partition(|t| {
            t.value().attr("pubdate").is_some()
                || class_and_id(*t).to_ascii_lowercase().contains("publish")
        });
    marked.into_iter().chain(rest).filter_map(machine_or_text)
}

static DATE_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)date|time|publish|publica|posted|dateline|byline|meta|info|datum|fecha|data|огноо",
    )
    .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// Longest text of a date element worth reading.
const DATE_TEXT: usize = 120;

/// Short texts of elements whose class or id names a date.
fn date_elements(document: &Html) -> impl Iterator<Item = String> + '_ {
    document
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| DATE_CLASS.is_match(&class_and_id(*e)))
        .filter(|e| !is_elsewhere(*e))
        .flat_map(|e| machine_or_text(e).into_iter().chain(title_of(e)))
        .filter(|t| t.len() <= DATE_TEXT)
}

/// Labels that say a date is the publication's, in the languages whose
/// month names the recogniser reads, and Mongolian.
static PUBLICATION_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:published|first published|posted on|publication date|date of publication|veröffentlicht|erschienen|publié|mis en ligne|mise en ligne|publicado|publicada|pubblicato|gepubliceerd|опубликовано)\b|нийтэлсэн|нийтлэгдсэн",
    )
    .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// Labels that say a date is an edit's.
static EDIT_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:updated|last edited|edited|last modified|modified|aktualisiert|geändert|letzte änderung|mis à jour|mise à jour|actualizado|aggiornato|bijgewerkt|обновлено|güncelleme)\b|шинэчилсэн|шинэчлэгдсэн|засварласан",
    )
    .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// How many text pieces after a publication label are read for its date
/// (`<dt>Mise en ligne</dt><dd>23 mai 2019</dd>`).
const AFTER_LABEL: usize = 2;

/// Dates the page labels as the publication's, in document order: the text
/// after the label, else, when the label stands alone (not a sentence that
/// says "published"), the next short pieces after it.
fn labelled_dates(document: &Html) -> impl Iterator<Item = String> + '_ {
    text_nodes(*document.root_element())
        .filter_map(|(node, text)| {
            let label = PUBLICATION_LABEL.find(text)?;
            let parent = node.parent().and_then(ElementRef::wrap)?;
            if is_elsewhere(parent) {
                return None;
            }
            let rest = before_byline(&collapse_whitespace(&text[label.end()..]));
            let is_label = collapse_whitespace(text).chars().count() <= DATELINE;
            let after: Vec<String> = following_texts(node)
                .map(|(_, t)| collapse_whitespace(t))
                .filter(|t| !t.is_empty())
                .take(if is_label { AFTER_LABEL } else { 0 })
                .collect();
            Some(
                std::iter::once(rest)
                    .chain(after)
                    .filter(|t| !t.is_empty() && t.chars().count() <= DATELINE)
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
}

/// A labelled date's text without the byline or fields that follow it on
/// the same line (`3 May 2019 by Jane Smith, Staff Writer`, `12.03.2021 |
/// Politik`), so the date is read however long the line is.
fn before_byline(text: &str) -> String {
    let cut = [" by ", " von ", " par ", " por ", " di ", "|", "·", "•"]
        .iter()
        .filter_map(|separator| text.find(separator))
        .min()
        .unwrap_or(text.len());
    text[..cut].trim().to_string()
}

/// `<abbr>` dates: Facebook's `data-utime` (Unix seconds) and hAtom's
/// `<abbr class="published" title="2020-01-02T10:00:00Z">`.
fn abbr_dates(document: &Html) -> impl Iterator<Item = String> + '_ {
    document
        .select(selector!("abbr[data-utime], abbr[title]"))
        .filter(|a| {
            a.value().attr("data-utime").is_some() || DATE_CLASS.is_match(&class_and_id(*a))
        })
        .filter(|a| !is_elsewhere(*a))
        .filter_map(|a| {
            let value = a.value();
            value
                .attr("data-utime")
                .or_else(|| value.attr("title"))
                .map(str::to_string)
        })
}

/// The page's headline: its first `<h1>`, else, on pages that have none,
/// its first `<h2>`, `<h3>` or `<h4>`, the most prominent heading first.
fn headline(document: &Html) -> Option<ElementRef<'_>> {
    [
        selector!("h1"),
        selector!("h2"),
        selector!("h3"),
        selector!("h4"),
    ]
    .into_iter()
    .find_map(|level| document.select(level).next())
}

/// How many text pieces after the headline are read for a date.
const AFTER_HEADLINE: usize = 40;

/// How many text pieces before the headline are read, nearest first, when
/// those after it hold no date (sites that print the date above the title).
const BEFORE_HEADLINE: usize = 15;

/// Short texts near the [`headline`]: those after it, then those before it
/// (or the body's when there is no heading). A piece is the text of the
/// element holding it when that is short (`28. <b>Januar</b> 2022`), else
/// the piece itself.
fn after_headline(document: &Html) -> impl Iterator<Item = String> + '_ {
    let (after, before): (Vec<TextNode<'_>>, Vec<TextNode<'_>>) = match headline(document) {
        Some(h1) => (
            following_texts(*h1).take(AFTER_HEADLINE * 4).collect(),
            preceding_texts(document, h1),
        ),
        None => (
            text_nodes(*document.root_element())
                .take(AFTER_HEADLINE * 8)
                .collect(),
            Vec::new(),
        ),
    };
    let near = |texts: Vec<TextNode<'_>>, limit: usize| {
        let mut last = String::new();
        texts
            .into_iter()
            .filter_map(|(node, text)| {
                // Whitespace between elements would stand for its whole
                // container, children the checks below pass over included.
                if text.trim().is_empty() {
                    return None;
                }
                let parent = node.parent().and_then(ElementRef::wrap)?;
                if is_elsewhere(parent) {
                    return None;
                }
                let whole = spaced_text(parent);
                Some(if whole.len() <= DATE_TEXT {
                    whole
                } else {
                    dateline(&collapse_whitespace(text))
                })
            })
            .filter(|t| !t.is_empty() && t.len() <= DATE_TEXT)
            .filter(move |t| {
                let new = *t != last;
                last.clone_from(t);
                new
            })
            .take(limit)
            .collect::<Vec<_>>()
    };
    let mut pieces = near(after, AFTER_HEADLINE);
    pieces.extend(near(before, BEFORE_HEADLINE));
    pieces.into_iter()
}

/// Characters at the start of a long text read for a dateline
/// (`27.1.2022 - Bei der…`, `BERLIN, 3. Mai 2024 –`).
const DATELINE: usize = 40;

/// A short text as it is; the start of a long one, where a dateline would be.
fn dateline(text: &str) -> String {
    if text.len() <= DATE_TEXT {
        return text.to_string();
    }
    text.chars().take(DATELINE).collect()
}

/// The text nodes before `h1` in document order, nearest first.
fn preceding_texts<'a>(document: &'a Html, h1: ElementRef<'a>) -> Vec<TextNode<'a>> {
    let mut texts: Vec<TextNode<'a>> = Vec::new();
    for node in document.root_element().descendants() {
        if node.id() == h1.id() {
            break;
        }
        if let Some(text) = node.value().as_text() {
            texts.push((node, text));
        }
    }
    texts.reverse();
    texts.truncate(BEFORE_HEADLINE * 4);
    texts
}

/// The element's text with a space between its pieces, so that
/// `<li>Datum:</li><li>26. Januar 2022</li>` does not run together.
fn spaced_text(element: ElementRef<'_>) -> String {
    let mut out = String::new();
    for text in element.text() {
        out.push_str(text);
        out.push(' ');
    }
    collapse_whitespace(&out)
}

type TextNode<'a> = (
    ego_tree::NodeRef<'a, scraper::Node>,
    &'a scraper::node::Text,
);

/// The text nodes under `root` (itself included), in document order.
fn text_nodes(root: ego_tree::NodeRef<'_, scraper::Node>) -> impl Iterator<Item = TextNode<'_>> {
    root.descendants()
        .filter_map(|n| n.value().as_text().map(|t| (n, t)))
}

/// The text nodes after `start` in document order.
fn following_texts(
    start: ego_tree::NodeRef<'_, scraper::Node>,
) -> impl Iterator<Item = TextNode<'_>> {
    let mut next = Some(start);
    std::iter::from_fn(move || {
        loop {
            let current = next?;
            next = current
                .next_sibling()
                .or_else(|| current.ancestors().find_map(|a| a.next_sibling()));
            let found = next?;
            let texts: Vec<TextNode<'_>> = text_nodes(found).collect();
            if !texts.is_empty() {
                return Some(texts);
            }
        }
    })
    .flatten()
}

#[cfg(test)]
#[path = "date_tests.rs"]
mod tests;
