//! Validation: raw values to typed ones, each mistake recorded at its
//! position and checking carried on, so that one run shows every mistake.
//! `[daemon]` is read in `daemon`, one `[[source]]` in `source`; the rules
//! across tables (unique ids, feed names, what a feed merges) are here.

mod daemon;
mod json;
mod source;

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use toml::Spanned;
use url::Url;

use super::diagnostics::Diagnostics;
use super::raw::{RawConfig, RawFeed, RawSource};
use super::{Config, FeedSpec, Schedule, Source, defaults, glob_match};

/// The validated config; complete only when `diags` recorded nothing.
pub(super) fn validate(raw: RawConfig, diags: &mut Diagnostics<'_>) -> Config {
    let daemon = daemon::validate_daemon(raw.daemon, diags);
    let default_feed = raw.feed.is_empty();
    let sources = validate_sources(raw.source, default_feed, diags);
    let ids: HashSet<String> = sources.iter().map(|s| s.id.clone()).collect();
    let mut feeds: Vec<FeedSpec> = raw
        .feed
        .into_iter()
        .filter_map(|f| validate_feed(f, &sources, &ids, diags))
        .collect();
    check_feed_names(&feeds, diags);
    if feeds.is_empty() {
        feeds.push(FeedSpec {
            name: defaults::FEED_NAME.to_string(),
            title: defaults::FEED_TITLE.to_string(),
            sources: sources.iter().map(|s| s.id.clone()).collect(),
            languages: Vec::new(),
            max_items: defaults::FEED_MAX_ITEMS,
            cluster: true,
            prefer: Vec::new(),
        });
    }
    Config {
        path: diags.path().to_path_buf(),
        daemon,
        feeds,
        sources,
    }
}

/// The valid sources in file order; a repeated id is an error at the repeat.
/// With `default_feed` (no `[[feed]]` configured) the id of the merged feed
/// that is then written is taken too: both would write the same files.
fn validate_sources(
    raw: Vec<RawSource>,
    default_feed: bool,
    diags: &mut Diagnostics<'_>,
) -> Vec<Source> {
    let mut ids = HashSet::new();
    raw.into_iter()
        .filter_map(|s| {
            let id = s.id.clone();
            let source = source::validate_source(s, diags)?;
            if default_feed && source.id == defaults::FEED_NAME {
                diags.at(
                    id.span(),
                    format!(
                        "source id \"{0}\" is also the name of the merged feed written when no [[feed]] is configured; both would write {0}.rss; rename the source, or add a [[feed]] with another name",
                        source.id
                    ),
                );
                return None;
            }
            if ids.insert(source.id.clone()) {
                Some(source)
            } else {
                diags.at(
                    id.span(),
                    format!(
                        "duplicate source id \"{}\"; ids must be unique",
                        id.get_ref()
                    ),
                );
                None
            }
        })
        .collect()
}

fn validate_feed(
    raw: RawFeed,
    sources: &[Source],
    ids: &HashSet<String>,
    diags: &mut Diagnostics<'_>,
) -> Option<FeedSpec> {
    let name = raw.name.get_ref().clone();
    let before = diags.count();
    if !is_valid_id(&name) {
        diags.at(
            raw.name.span(),
            format!("invalid feed name \"{name}\"; use lower-case letters, digits and '-'"),
        );
    }
    if ids.contains(&name) {
        diags.at(
            raw.name.span(),
            format!("feed name \"{name}\" is also a source id; both would write {name}.rss"),
        );
    }
    let patterns = raw.sources.map_or_else(
        || vec![Spanned::new(0..0, defaults::FEED_SOURCES.to_string())],
        Spanned::into_inner,
    );
    let mut members = BTreeMap::new();
    for pattern in &patterns {
        let matched: Vec<&Source> = sources
            .iter()
            .filter(|s| glob_match(pattern.get_ref(), &s.id))
            .collect();
        if matched.is_empty() && !sources.is_empty() {
            diags.at(
                pattern.span(),
                format!(
                    "\"{}\" in [[feed]] \"{name}\" matches no source id",
                    pattern.get_ref()
                ),
            );
        }
        for (order, source) in matched.into_iter().enumerate() {
            members.entry(source.id.clone()).or_insert(order);
        }
    }
    let languages: Vec<String> = raw.languages.into_iter().map(Spanned::into_inner).collect();
    let max_items = count_at_least_one(raw.max_items, "max_items", defaults::FEED_MAX_ITEMS, diags);
    let merged: Vec<String> = sources
        .iter()
        .filter(|s| members.contains_key(&s.id))
        .filter(|s| languages.is_empty() || languages.contains(&s.language))
        .map(|s| s.id.clone())
        .collect();
    for id in &raw.prefer {
        if !merged.contains(id.get_ref()) {
            diags.at(
                id.span(),
                format!(
                    "prefer: \"{}\" is not one of the sources [[feed]] \"{name}\" merges",
                    id.get_ref()
                ),
            );
        }
    }
    if diags.count() > before {
        return None;
    }
    Some(FeedSpec {
        title: raw.title.unwrap_or_else(|| name.clone()),
        name,
        sources: merged,
        languages,
        max_items,
        cluster: raw.cluster.unwrap_or(true),
        prefer: raw.prefer.into_iter().map(Spanned::into_inner).collect(),
    })
}

fn check_feed_names(feeds: &[FeedSpec], diags: &mut Diagnostics<'_>) {
    let mut names = HashSet::new();
    for feed in feeds {
        if !names.insert(feed.name.as_str()) {
            let span = find_span(diags.text(), &format!("\"{}\"", feed.name));
            diags.at(span, format!("duplicate feed name \"{}\"", feed.name));
        }
    }
}

/// The span of the first occurrence of `needle`, for errors about whole values.
fn find_span(text: &str, needle: &str) -> Range<usize> {
    text.find(needle).map_or(0..0, |i| i..i + needle.len())
}

/// A count that must be at least 1; `default` when absent or (after the
/// error is recorded) invalid, so checking can go on.
fn count_at_least_one(
    value: Option<Spanned<i64>>,
    key: &str,
    default: usize,
    diags: &mut Diagnostics<'_>,
) -> usize {
    value.map_or(default, |v| match usize::try_from(*v.get_ref()) {
        Ok(n) if n >= 1 => n,
        _ => {
            diags.at(v.span(), format!("{key} must be at least 1"));
            default
        }
    })
}

fn check_cron(value: Spanned<String>, diags: &mut Diagnostics<'_>) -> Option<Schedule> {
    let text = value.get_ref().trim();
    Schedule::parse(text)
        .map_err(|e| {
            diags.at(
                value.span(),
                format!("invalid cron expression \"{text}\": {e}; expected six fields with seconds, e.g. \"{}\"", defaults::SCHEDULE),
            );
        })
        .ok()
}

fn check_http_url(value: &Spanned<String>, diags: &mut Diagnostics<'_>) -> Option<Url> {
    match Url::parse(value.get_ref().trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
        Ok(url) => {
            diags.at(
                value.span(),
                format!(
                    "URL \"{}\" has scheme \"{}\"; only http and https are fetched",
                    value.get_ref(),
                    url.scheme()
                ),
            );
            None
        }
        Err(e) => {
            diags.at(
                value.span(),
                format!("invalid URL \"{}\": {e}", value.get_ref()),
            );
            None
        }
    }
}

/// Source ids and feed names are file stems: `[a-z0-9-]+`.
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
