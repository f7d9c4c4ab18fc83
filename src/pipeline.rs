//! The cycle: fetch → extract → filter → store for every source, then publish.
//!
//! Each source succeeds or fails on its own; a failure is recorded in the store
//! and the source's existing items stay in the feeds. Outputs are written from
//! whatever the store holds once every source has finished.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use crate::config::{Config, Source, SourceKind};
use crate::dates::{DateContext, ParsedDate, parse_date};
use crate::extract::{Extraction, RawItem, extract};
use crate::fetch::{FetchError, Fetcher, Page};
use crate::identity::{canonical_link, title_key};
use crate::publish::{PublishError, publish};
use crate::sanitize::html_to_text;
use crate::store::{NewItem, Store, StoreError, UpsertStats};

/// Why one source's cycle failed. Never fatal to the others.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The page could not be fetched.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The `item` selector matched nothing: the site probably changed.
    #[error(
        "item selector \"{selector}\" matched nothing on {url} (page title {title:?}, {size} bytes); the site's markup may have changed"
    )]
    NoMatch {
        /// The selector as configured.
        selector: String,
        /// The page URL.
        url: String,
        /// The page's `<title>`.
        title: String,
        /// Body size in bytes.
        size: usize,
    },
    /// Items matched but none had a title and a link.
    #[error(
        "item selector \"{selector}\" matched {matched} elements on {url} but none had both a title and a link; check the title and link selectors"
    )]
    NoUsableItems {
        /// The selector as configured.
        selector: String,
        /// The page URL.
        url: String,
        /// How many elements matched.
        matched: usize,
    },
    /// A `kind = "feed"` source did not parse as a feed.
    #[error("{url}: not a readable RSS, Atom or JSON feed: {message}")]
    NotAFeed {
        /// The feed URL.
        url: String,
        /// The parser's message.
        message: String,
    },
}

/// Why a whole cycle could not run (as opposed to one source failing).
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    /// The store could not be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// Outputs could not be written.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// A worker task panicked or was cancelled.
    #[error("a fetch task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// What one source's cycle did.
#[derive(Debug, Clone)]
pub struct SourceOutcome {
    /// Source id.
    pub id: String,
    /// Items kept and what storing them changed, or the failure message.
    pub result: Result<(usize, UpsertStats), String>,
}

/// What a cycle did.
#[derive(Debug, Clone, Default)]
pub struct CycleReport {
    /// One outcome per source run, in completion order.
    pub sources: Vec<SourceOutcome>,
}

impl CycleReport {
    /// How many sources failed.
    pub fn failures(&self) -> usize {
        self.sources.iter().filter(|s| s.result.is_err()).count()
    }
}

/// An item after filtering and date recognition, before the store.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProcessedItem {
    /// What the page gave.
    #[serde(flatten)]
    pub raw: RawItem,
    /// The recognised date, if any.
    pub date: Option<DateTime<Utc>>,
    /// Whether the date was relative ("2 hours ago").
    pub date_relative: bool,
}

impl ProcessedItem {
    fn into_new_item(self) -> NewItem {
        NewItem {
            link: canonical_link(&self.raw.link),
            title_key: title_key(&self.raw.title),
            title: self.raw.title,
            summary: self.raw.summary,
            image: self.raw.image,
            published: self.date,
            published_relative: self.date_relative,
        }
    }
}

/// Runs one cycle over `only` (ids; empty means all) and publishes every output.
pub async fn run_cycle(config: Arc<Config>, only: &[String]) -> Result<CycleReport, CycleError> {
    let mut store = Store::open(&config.daemon.database)?;
    let fetcher = Fetcher::new(&config.daemon)?;
    let limit = Arc::new(Semaphore::new(config.daemon.concurrency));
    let mut tasks = JoinSet::new();
    for (index, source) in config.sources.iter().enumerate() {
        if !only.is_empty() && !only.contains(&source.id) {
            continue;
        }
        let (config, fetcher, limit) = (Arc::clone(&config), fetcher.clone(), Arc::clone(&limit));
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let source = &config.sources[index];
            (index, process_source(source, &fetcher, Utc::now()).await)
        });
    }
    let mut report = CycleReport::default();
    while let Some(joined) = tasks.join_next().await {
        let (index, outcome) = joined?;
        let id = &config.sources[index].id;
        report
            .sources
            .push(record_outcome(&mut store, id, outcome, Utc::now())?);
    }
    finish_cycle(&config, &mut store, Utc::now())?;
    Ok(report)
}

/// Stores one source's outcome: its items on success, its error on failure.
pub fn record_outcome(
    store: &mut Store,
    id: &str,
    outcome: Result<Vec<ProcessedItem>, SourceError>,
    now: DateTime<Utc>,
) -> Result<SourceOutcome, StoreError> {
    let result = match outcome {
        Ok(items) => {
            let kept = items.len();
            let new_items: Vec<NewItem> = items
                .into_iter()
                .map(ProcessedItem::into_new_item)
                .collect();
            let stats = store.record_success(id, &new_items, now)?;
            if stats.new + stats.updated > 0 {
                info!(source = %id, kept, new = stats.new, updated = stats.updated, "source done");
            } else {
                debug!(source = %id, kept, "source done; nothing new");
            }
            Ok((kept, stats))
        }
        Err(e) => {
            let message = e.to_string();
            warn!(source = %id, error = %message, "source failed");
            store.record_failure(id, &message, now)?;
            Err(message)
        }
    };
    Ok(SourceOutcome {
        id: id.to_string(),
        result,
    })
}

impl SourceOutcome {
    /// Whether the feeds need rendering again: something new or changed was stored.
    pub fn changed_feeds(&self) -> bool {
        matches!(&self.result, Ok((_, stats)) if stats.new + stats.updated > 0)
    }
}

/// Prunes items past retention and writes every output from the store.
pub fn finish_cycle(
    config: &Config,
    store: &mut Store,
    now: DateTime<Utc>,
) -> Result<(), CycleError> {
    let retention =
        chrono::Duration::from_std(config.daemon.retention).unwrap_or(chrono::Duration::MAX);
    let pruned = store.prune(
        now.checked_sub_signed(retention)
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    )?;
    if pruned > 0 {
        info!(pruned, "pruned items past retention");
    }
    let files = publish(config, store, now)?;
    info!(files = files.len(), dir = %config.daemon.output_dir.display(), "outputs written");
    Ok(())
}

/// Fetches and processes one source; the items are filtered and dated.
pub async fn process_source(
    source: &Source,
    fetcher: &Fetcher,
    now: DateTime<Utc>,
) -> Result<Vec<ProcessedItem>, SourceError> {
    let page = fetcher.get(&source.url).await?;
    let raw = read_page(source, &page)?;
    Ok(process_items(source, raw, now))
}

/// Turns a fetched page into raw items, by selectors or as a native feed.
pub fn read_page(source: &Source, page: &Page) -> Result<Vec<RawItem>, SourceError> {
    match (&source.kind, &source.selectors) {
        (SourceKind::Feed, _) | (SourceKind::Html, None) => read_feed(page),
        (SourceKind::Html, Some(selectors)) => {
            let extraction = extract(&page.text, &page.url, selectors);
            check_extraction(&extraction, &selectors.item_source, page)?;
            Ok(extraction.items)
        }
    }
}

/// A listing where `item` matches nothing, or nothing usable, is the site changing under us.
pub fn check_extraction(
    extraction: &Extraction,
    selector: &str,
    page: &Page,
) -> Result<(), SourceError> {
    if extraction.matched == 0 {
        return Err(SourceError::NoMatch {
            selector: selector.to_string(),
            url: page.url.to_string(),
            title: extraction.page_title.clone().unwrap_or_default(),
            size: page.size,
        });
    }
    if extraction.items.is_empty() {
        return Err(SourceError::NoUsableItems {
            selector: selector.to_string(),
            url: page.url.to_string(),
            matched: extraction.matched,
        });
    }
    Ok(())
}

fn read_feed(page: &Page) -> Result<Vec<RawItem>, SourceError> {
    let feed = feed_rs::parser::parse(page.text.as_bytes()).map_err(|e| SourceError::NotAFeed {
        url: page.url.to_string(),
        message: e.to_string(),
    })?;
    Ok(feed
        .entries
        .into_iter()
        .filter_map(|entry| {
            let link = entry
                .links
                .iter()
                .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .or(entry.links.first())
                .and_then(|l| crate::extract::resolve_http_url(&page.url, &l.href))?;
            let title = crate::sanitize::collapse_whitespace(&html_to_text(&entry.title?.content));
            let summary = entry
                .summary
                .map(|s| crate::sanitize::sanitize_html(&s.content, &page.url))
                .filter(|s| !s.trim().is_empty());
            let image = entry
                .media
                .iter()
                .flat_map(|m| m.thumbnails.iter().map(|t| t.image.uri.clone()))
                .next();
            (!title.is_empty()).then(|| RawItem {
                title,
                link,
                date_text: entry.published.or(entry.updated).map(|d| d.to_rfc3339()),
                summary,
                image,
            })
        })
        .collect())
}

/// Applies `include`/`exclude` and recognises dates.
pub fn process_items(source: &Source, raw: Vec<RawItem>, now: DateTime<Utc>) -> Vec<ProcessedItem> {
    let ctx = DateContext {
        formats: &source.date_format,
        tz: source.timezone,
        now,
    };
    raw.into_iter()
        .filter(|item| passes_filters(source, item))
        .map(|raw| {
            let parsed: Option<ParsedDate> =
                raw.date_text.as_deref().and_then(|t| parse_date(t, &ctx));
            ProcessedItem {
                date: parsed.map(|p| p.at),
                date_relative: parsed.is_some_and(|p| p.relative),
                raw,
            }
        })
        .collect()
}

/// Filters run on the headline and the teaser's text.
fn passes_filters(source: &Source, item: &RawItem) -> bool {
    if source.include.is_empty() && source.exclude.is_empty() {
        return true;
    }
    let text = match &item.summary {
        Some(summary) => format!("{}\n{}", item.title, html_to_text(summary)),
        None => item.title.clone(),
    };
    let included = source.include.is_empty() || source.include.iter().any(|re| re.is_match(&text));
    included && !source.exclude.iter().any(|re| re.is_match(&text))
}
