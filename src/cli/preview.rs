//! `medee preview`: what a source's selectors extract, without storing anything.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::{Config, Limits, Source, SourceKind};
use crate::fetch::Page;
use crate::pipeline::{Listed, ProcessedItem, Runner, SourceError, SourceRef};
use crate::sanitize::html_to_text;
use crate::store::{SharedStore, Store};

use super::{EXIT_CONFIG, EXIT_FAILED, EXIT_OK};

/// Per-field counts shown above the preview table.
#[derive(Debug, Default, serde::Serialize)]
struct FieldCounts {
    matched: usize,
    items: usize,
    incomplete: usize,
    duplicates: usize,
    filtered_out: usize,
    with_date: usize,
    date_unparsed: usize,
    with_summary: usize,
    with_image: usize,
    warnings: Vec<String>,
}

#[derive(serde::Serialize)]
struct PreviewJson<'a> {
    source: &'a str,
    url: String,
    encoding: &'a str,
    counts: &'a FieldCounts,
    items: &'a [ProcessedItem],
}

/// `medee preview ID [--file PAGE]`: reads the page through the runner, as a
/// run of the source would, and prints what it yields.
pub(super) async fn preview(config: Config, id: &str, file: Option<&Path>, json: bool) -> u8 {
    let config = Arc::new(config);
    let Some(source) = SourceRef::find(&config, id) else {
        let ids: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
        eprintln!(
            "{}: no source with id \"{id}\"; configured: {}",
            config.path.display(),
            ids.join(", ")
        );
        return EXIT_CONFIG;
    };
    let runner = match throwaway_runner(&config) {
        Ok(runner) => runner,
        Err(e) => {
            eprintln!("{id}: {e}");
            return EXIT_FAILED;
        }
    };
    let page = match file {
        Some(path) => match std::fs::read(path) {
            Ok(body) => Page {
                url: source.url.clone(),
                body,
                content_type: None,
            },
            Err(e) => {
                eprintln!("{id}: cannot read {}: {e}", path.display());
                return EXIT_FAILED;
            }
        },
        None => match runner.fetch_page(&source).await {
            Ok(page) => page,
            Err(e) => {
                eprintln!("{id}: {e}");
                return EXIT_FAILED;
            }
        },
    };
    let page = Arc::new(page);
    let listed = runner.preview(&source, Arc::clone(&page)).await;
    print_preview(&source, &config.daemon.limits, &page, listed, json)
}

/// Prints what reading `page` as `source` gave; the exit code says whether items were found.
pub(super) fn print_preview(
    source: &Source,
    limits: &Limits,
    page: &Page,
    listed: Result<Listed, SourceError>,
    json: bool,
) -> u8 {
    let id = source.id.as_str();
    let listed = match listed {
        Ok(listed) => listed,
        Err(e) => {
            eprintln!("{id}: {e}");
            return EXIT_FAILED;
        }
    };
    let (text, encoding) = page.text();
    let encoding = encoding.name();
    let mut counts = FieldCounts {
        matched: listed.counts.matched,
        incomplete: listed.counts.incomplete,
        duplicates: listed.counts.duplicates,
        items: listed.items.len(),
        filtered_out: listed.found - listed.items.len(),
        ..FieldCounts::default()
    };
    counts.warnings = match &source.kind {
        SourceKind::Html(selectors) => {
            crate::extract::diagnose(&text, &page.url, selectors, limits)
        }
        SourceKind::Json(selectors) => crate::json_items::diagnose(&text, &page.url, selectors),
        SourceKind::Feed => Vec::new(),
    };
    let items = listed.items;
    for item in &items {
        counts.with_date += usize::from(item.date.is_some());
        counts.date_unparsed += usize::from(item.date.is_none() && item.raw.date_text.is_some());
        counts.with_summary += usize::from(item.raw.summary.is_some());
        counts.with_image += usize::from(item.raw.image.is_some());
    }
    let mut out = std::io::stdout().lock();
    let written = if json {
        let doc = PreviewJson {
            source: id,
            url: page.url.to_string(),
            encoding,
            counts: &counts,
            items: &items,
        };
        serde_json::to_writer_pretty(&mut out, &doc)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        write_preview_table(&mut out, source, page, encoding, &counts, &items)
    };
    if let Err(e) = written {
        eprintln!("cannot write preview: {e}");
        return EXIT_FAILED;
    }
    if items.is_empty() {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// What a user writing selectors should look at, beyond the counts.
fn preview_warnings(page: &Page, counts: &FieldCounts, items: &[ProcessedItem]) -> Vec<String> {
    let mut warnings = counts.warnings.clone();
    if counts.duplicates > 0 {
        warnings.push(format!(
            "{} matches repeat a link already seen on the page (kept once; a second copy of the list?)",
            counts.duplicates
        ));
    }
    let host = page.url.host_str().map(|h| h.trim_start_matches("www."));
    let off_site: Vec<&str> = items
        .iter()
        .map(|i| i.raw.link.as_str())
        .filter(|l| {
            Url::parse(l)
                .ok()
                .as_ref()
                .and_then(Url::host_str)
                .map(|h| h.trim_start_matches("www."))
                != host
        })
        .collect();
    if let Some(first) = off_site.first() {
        warnings.push(format!(
            "{} links point off-site, e.g. {first}",
            off_site.len()
        ));
    }
    if counts.date_unparsed > 0 {
        warnings.push(format!(
            "{} dates were not recognised; their text is shown below: add a date_format",
            counts.date_unparsed
        ));
    }
    warnings
}

fn write_preview_table(
    out: &mut impl std::io::Write,
    source: &Source,
    page: &Page,
    encoding: &str,
    counts: &FieldCounts,
    items: &[ProcessedItem],
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} — {} ({}, {} bytes)",
        source.id,
        page.url,
        encoding,
        page.body.len()
    )?;
    let total = counts.items.max(1);
    writeln!(
        out,
        "matched {} · kept {} · no title/link {} · repeated links {} · filtered out {}",
        counts.matched, counts.items, counts.incomplete, counts.duplicates, counts.filtered_out
    )?;
    writeln!(
        out,
        "fields: date {}/{total}{} · summary {}/{total} · image {}/{total}\n",
        counts.with_date,
        if counts.date_unparsed > 0 {
            format!(" ({} not recognised)", counts.date_unparsed)
        } else {
            String::new()
        },
        counts.with_summary,
        counts.with_image
    )?;
    for warning in preview_warnings(page, counts, items) {
        writeln!(out, "warning: {warning}")?;
    }
    for (n, item) in items.iter().enumerate() {
        writeln!(out, "{:>3}. {}", n + 1, item.raw.title)?;
        writeln!(out, "     link:    {}", item.raw.link)?;
        match (&item.date, &item.raw.date_text) {
            (Some(date), Some(text)) => writeln!(
                out,
                "     date:    {} ({}{})",
                local_time(*date, source),
                quoted(text),
                if item.date_relative { ", relative" } else { "" }
            )?,
            (None, Some(text)) => writeln!(out, "     date:    NOT RECOGNISED: {}", quoted(text))?,
            _ => writeln!(out, "     date:    none (first-seen time will be used)")?,
        }
        if let Some(summary) = &item.raw.summary {
            writeln!(
                out,
                "     summary: {}",
                ellipsis(&html_to_text(summary), 100)
            )?;
        }
        if let Some(image) = &item.raw.image {
            writeln!(out, "     image:   {image}")?;
        }
    }
    Ok(())
}

fn local_time(at: DateTime<Utc>, source: &Source) -> String {
    at.with_timezone(&source.timezone)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", ellipsis(text, 60))
}

fn ellipsis(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A runner over an in-memory store: previews read pages the way runs do
/// and store nothing.
pub(super) fn throwaway_runner(config: &Config) -> Result<Runner, String> {
    let store = Store::in_memory().map_err(|e| e.to_string())?;
    Runner::new(&config.daemon, SharedStore::new(store)).map_err(|e| e.to_string())
}
