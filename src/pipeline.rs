//! The cycle: fetch → extract → filter → store for every source, then publish.
//!
//! Each source succeeds or fails on its own; a failure is recorded in the store
//! and the source's existing items stay in the feeds. Outputs are written from
//! whatever the store holds once every source has finished.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};
use url::Url;

use crate::config::{Config, DateRange, Limits, Source, SourceKind};
use crate::dates::{ParsedDate, parse_date};
use crate::extract::{ArticleSelectors, Extraction, RawItem, extract, extract_article};
use crate::fetch::{FetchError, Fetched, Fetcher, HostUse, Page, Validators};
use crate::identity::{canonical_link, title_key};
use crate::publish::publish;
use crate::sanitize::html_to_text;
use crate::store::{
    ArticleData, ArticleOutcome, NewItem, SharedStore, SourceCycle, Store, StoreError, UpsertStats,
};

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
    /// A worker task panicked or was cancelled.
    #[error("a fetch task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// What one source's cycle did.
#[derive(Debug, Clone)]
pub struct SourceOutcome {
    /// Source id.
    pub id: String,
    /// What was stored, or the failure message.
    pub result: Result<SourceReport, String>,
}

/// What a successful source cycle stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct SourceReport {
    /// The page answered 304: nothing was parsed.
    pub not_modified: bool,
    /// Items kept after filters.
    pub kept: usize,
    /// What storing them changed.
    pub stats: UpsertStats,
    /// Article pages read this cycle.
    pub articles_read: usize,
    /// Article pages that failed (retried on later cycles) or were refused.
    pub articles_failed: usize,
}

impl SourceOutcome {
    /// Whether the feeds need rendering again: something new or changed was stored.
    pub fn changed_feeds(&self) -> bool {
        matches!(&self.result, Ok(r) if r.stats.new + r.stats.updated + r.articles_read > 0)
    }
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
    /// The normalised headline, for cross-source dedupe.
    #[serde(skip)]
    pub title_key: String,
}

impl ProcessedItem {
    fn into_new_item(self) -> NewItem {
        NewItem {
            link: self.raw.canonical_link,
            title_key: self.title_key,
            title: self.raw.title,
            summary: self.raw.summary,
            image: self.raw.image,
            published: self.date,
            published_relative: self.date_relative,
        }
    }
}

/// What fetching a source's listing found.
#[derive(Debug, Clone)]
pub enum Listing {
    /// 304: unchanged since the stored validators.
    NotModified,
    /// A new page: its items (filtered and dated) and its validators.
    Items(Vec<ProcessedItem>, Validators),
}

/// Runs one cycle over `only` (ids; empty means all) and publishes every output.
pub async fn run_cycle(config: Arc<Config>, only: &[String]) -> Result<CycleReport, CycleError> {
    let store = SharedStore::new(Store::open(&config.daemon.database)?);
    let fetcher = Fetcher::new(&config.daemon)?;
    let limit = Arc::new(Semaphore::new(config.daemon.concurrency));
    let mut tasks = JoinSet::new();
    for (index, source) in config.sources.iter().enumerate() {
        if !only.is_empty() && !only.contains(&source.id) {
            continue;
        }
        let (config, fetcher, limit, store) = (
            Arc::clone(&config),
            fetcher.clone(),
            Arc::clone(&limit),
            store.clone(),
        );
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            run_source_isolated(config, index, fetcher, store).await
        });
    }
    let mut report = CycleReport::default();
    while let Some(joined) = tasks.join_next().await {
        report.sources.push(joined??);
    }
    let changed = report.sources.iter().any(SourceOutcome::changed_feeds);
    store
        .run(move |s| finish_cycle(&config, s, changed, Utc::now()))
        .await?;
    Ok(report)
}

/// [`run_source`] in a task of its own, so that a bug that panics on one
/// site's page fails that source (recorded in the store like any failure)
/// instead of the whole cycle or the source's schedule.
pub async fn run_source_isolated(
    config: Arc<Config>,
    index: usize,
    fetcher: Fetcher,
    store: SharedStore,
) -> Result<SourceOutcome, StoreError> {
    let id = config.sources[index].id.clone();
    let task_store = store.clone();
    let task = tokio::spawn(async move {
        run_source(
            &config.sources[index],
            &config.daemon,
            &fetcher,
            &task_store,
        )
        .await
    });
    match task.await {
        Ok(outcome) => outcome,
        Err(e) => {
            let message =
                format!("internal error while processing this source ({e}); please report it");
            error!(source = %id, error = %message, "source task failed");
            failed(&store, &id, message).await
        }
    }
}

/// Records a source's failure in the store and reports it.
async fn failed(
    store: &SharedStore,
    id: &str,
    message: String,
) -> Result<SourceOutcome, StoreError> {
    let (stored_id, stored_message) = (id.to_string(), message.clone());
    store
        .run(move |s| s.record_failure(&stored_id, &stored_message, Utc::now()))
        .await?;
    Ok(SourceOutcome {
        id: id.to_string(),
        result: Err(message),
    })
}

/// Fetches one source (conditionally), stores what it gave, then reads the
/// article pages of its new items. A failure of the site is an `Ok` outcome
/// carrying the message; only a store failure is an `Err`.
pub async fn run_source(
    source: &Source,
    daemon: &crate::config::Daemon,
    fetcher: &Fetcher,
    store: &SharedStore,
) -> Result<SourceOutcome, StoreError> {
    let id = source.id.clone();
    let url = source.url.to_string();
    let stored = store.run(move |s| s.validators(&url)).await?;
    let outcome = fetch_listing(source, daemon, fetcher, &stored, Utc::now()).await;
    let mut report = SourceReport::default();
    match outcome {
        Ok(Listing::NotModified) => {
            let id = id.clone();
            store
                .run(move |s| s.record_not_modified(&id, Utc::now()))
                .await?;
            debug!(source = %source.id, "not modified");
            report.not_modified = true;
        }
        Ok(Listing::Items(items, validators)) => {
            report.kept = items.len();
            let new_items: Vec<NewItem> = items
                .into_iter()
                .map(ProcessedItem::into_new_item)
                .collect();
            let (id, url, want_articles) =
                (id.clone(), source.url.to_string(), source.article.is_some());
            report.stats = store
                .run(move |s| {
                    let cycle = SourceCycle {
                        source_id: &id,
                        url: &url,
                        validators: &validators,
                        items: &new_items,
                        want_articles,
                    };
                    s.record_success(&cycle, Utc::now())
                })
                .await?;
        }
        Err(e) => {
            let message = e.to_string();
            warn!(source = %source.id, error = %message, "source failed");
            return failed(store, &source.id, message).await;
        }
    }
    if let Some(article) = &source.article {
        read_articles(source, article, daemon, fetcher, store, &mut report).await?;
    }
    if report.stats.new + report.stats.updated + report.articles_read > 0 {
        info!(
            source = %source.id,
            kept = report.kept,
            new = report.stats.new,
            updated = report.stats.updated,
            articles = report.articles_read,
            "source done"
        );
    }
    Ok(SourceOutcome {
        id,
        result: Ok(report),
    })
}

/// Article pages read per source per cycle: a new source with a long listing
/// catches up over a few cycles instead of hammering the site.
const ARTICLES_PER_CYCLE: usize = 30;

async fn read_articles(
    source: &Source,
    selectors: &ArticleSelectors,
    daemon: &crate::config::Daemon,
    fetcher: &Fetcher,
    store: &SharedStore,
    report: &mut SourceReport,
) -> Result<(), StoreError> {
    let id = source.id.clone();
    let pending = store
        .run(move |s| s.pending_articles(&id, ARTICLES_PER_CYCLE))
        .await?;
    let targets: Vec<_> = pending
        .into_iter()
        .map(|article| {
            let url = allowed_article_url(source, selectors, &article.link);
            (article, url)
        })
        .collect();
    let last_fetch = targets.iter().rposition(|(_, url)| url.is_some());
    for (n, (article, url)) in targets.into_iter().enumerate() {
        let host_use = if Some(n) == last_fetch {
            HostUse::Last
        } else {
            HostUse::More
        };
        let outcome = match url {
            None => {
                warn!(source = %source.id, link = %article.link, "article link leaves the source's hosts; not fetched (see allow_hosts)");
                ArticleOutcome::Refused
            }
            Some(url) => match fetcher.get(&url, host_use).await {
                Ok(page) => {
                    ArticleOutcome::Read(read_article(source, selectors, daemon, &page, Utc::now()))
                }
                Err(e) => {
                    warn!(source = %source.id, error = %e, "article fetch failed; will retry");
                    ArticleOutcome::Failed
                }
            },
        };
        if matches!(outcome, ArticleOutcome::Read(_)) {
            report.articles_read += 1;
        } else {
            report.articles_failed += 1;
        }
        store
            .run(move |s| s.record_article(article.id, &outcome, Utc::now()))
            .await?;
    }
    Ok(())
}

/// The article URL if medee may fetch it: http(s) on the source's own host
/// (with or without `www.`) or on one of `allow_hosts`. A listing page must not
/// be able to send medee to arbitrary or internal addresses.
pub fn allowed_article_url(
    source: &Source,
    selectors: &ArticleSelectors,
    link: &str,
) -> Option<Url> {
    let url = Url::parse(link).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let bare = |host: &str| host.trim_start_matches("www.").to_ascii_lowercase();
    let host = bare(url.host_str()?);
    let own = source.url.host_str().map(bare);
    let allowed = own.as_deref() == Some(host.as_str())
        || selectors.allow_hosts.iter().any(|h| bare(h) == host);
    allowed.then_some(url)
}

fn read_article(
    source: &Source,
    selectors: &ArticleSelectors,
    daemon: &crate::config::Daemon,
    page: &Page,
    now: DateTime<Utc>,
) -> ArticleData {
    let (text, _) = page.text();
    let raw = extract_article(&text, &page.url, selectors, &daemon.limits);
    let ctx = source.date_context(now, daemon.dates);
    ArticleData {
        content: raw.content,
        published: raw
            .date_text
            .as_deref()
            .and_then(|t| parse_date(t, &ctx))
            .map(|d| d.at),
        author: raw.author,
    }
}

/// Prunes items past retention and writes every output from the store.
/// Outputs are rendered only when something changed (new or updated items,
/// pruning) or an output is missing: a cycle of 304s costs no rendering.
pub fn finish_cycle(
    config: &Config,
    store: &mut Store,
    changed: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let retention =
        chrono::Duration::from_std(config.daemon.retention).unwrap_or(chrono::Duration::MAX);
    let pruned = store.prune(
        now.checked_sub_signed(retention)
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    )?;
    if pruned > 0 {
        info!(pruned, "pruned items past retention");
    }
    if !changed && pruned == 0 && !crate::publish::outputs_missing(config) {
        debug!("nothing changed; outputs kept as they are");
        return Ok(());
    }
    match publish(config, store, now) {
        Ok(files) => {
            info!(files = files.len(), dir = %config.daemon.output_dir.display(), "outputs written")
        }
        Err(e) => error!(error = %e, "cannot write outputs"),
    }
    Ok(())
}

/// Fetches a source's listing and processes it into filtered, dated items.
pub async fn fetch_listing(
    source: &Source,
    daemon: &crate::config::Daemon,
    fetcher: &Fetcher,
    validators: &Validators,
    now: DateTime<Utc>,
) -> Result<Listing, SourceError> {
    // A source whose new items' pages are read next keeps the connection.
    let host_use = if source.article.is_some() {
        HostUse::More
    } else {
        HostUse::Last
    };
    match fetcher
        .get_conditional(&source.url, validators, host_use)
        .await?
    {
        Fetched::NotModified => Ok(Listing::NotModified),
        Fetched::Page(page, validators) => {
            let raw = read_page(source, &page, &daemon.limits)?;
            Ok(Listing::Items(
                process_items(source, raw, now, daemon.dates),
                validators,
            ))
        }
    }
}

/// Turns a fetched page into raw items, by selectors or as a native feed.
pub fn read_page(
    source: &Source,
    page: &Page,
    limits: &Limits,
) -> Result<Vec<RawItem>, SourceError> {
    match &source.kind {
        SourceKind::Feed => read_feed(page),
        SourceKind::Html(selectors) => {
            let (text, _) = page.text();
            let extraction = extract(&text, &page.url, selectors, limits);
            if !extraction.cut.is_empty() {
                warn!(source = %source.id, cut = %extraction.cut, "page cut to the limits");
            }
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
            size: page.body.len(),
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
    let feed = feed_rs::parser::parse(page.body.as_slice()).map_err(|e| SourceError::NotAFeed {
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
                canonical_link: canonical_link(&link),
                link,
                date_text: entry.published.or(entry.updated).map(|d| d.to_rfc3339()),
                summary,
                image,
            })
        })
        .collect())
}

/// Pages with at least this many items are processed on several threads.
const PARALLEL_ITEMS: usize = 256;

/// Applies `include`/`exclude`, recognises dates and normalises titles. A
/// long listing is split over the cores: this work needs no DOM, so it is
/// the part of a large page that can run in parallel.
pub fn process_items(
    source: &Source,
    raw: Vec<RawItem>,
    now: DateTime<Utc>,
    dates: DateRange,
) -> Vec<ProcessedItem> {
    let ctx = source.date_context(now, dates);
    let process = |raw: RawItem| {
        if !passes_filters(source, &raw) {
            return None;
        }
        let parsed: Option<ParsedDate> = raw.date_text.as_deref().and_then(|t| parse_date(t, &ctx));
        Some(ProcessedItem {
            date: parsed.map(|p| p.at),
            date_relative: parsed.is_some_and(|p| p.relative),
            title_key: title_key(&raw.title),
            raw,
        })
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if raw.len() < PARALLEL_ITEMS || threads < 2 {
        return raw.into_iter().filter_map(process).collect();
    }
    let chunk = raw.len().div_ceil(threads);
    let mut chunks = Vec::with_capacity(threads);
    let mut rest = raw;
    while rest.len() > chunk {
        let tail = rest.split_off(chunk);
        chunks.push(rest);
        rest = tail;
    }
    chunks.push(rest);
    std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(|| chunk.into_iter().filter_map(process).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_long_listing_is_processed_in_page_order_with_filters_and_dates() {
        let toml = "[[source]]\nid = \"s\"\nurl = \"https://montsame.mn/\"\nitem = \"div\"\n\
                    timezone = \"Asia/Ulaanbaatar\"\nexclude = [\"(?i)skip\"]\n";
        let config = Config::parse(toml, Path::new("medee.toml")).expect("valid config");
        let raw: Vec<RawItem> = (0..1_000)
            .map(|n| RawItem {
                title: if n % 10 == 3 {
                    format!("Skip {n}")
                } else {
                    format!("«Headline» {n}")
                },
                link: format!("https://montsame.mn/read/{n}"),
                canonical_link: format!("https://montsame.mn/read/{n}"),
                date_text: Some(format!("2025.11.{:02} 14:05", 1 + n % 28)),
                summary: None,
                image: None,
            })
            .collect();
        let now = Utc::now();
        let items = process_items(&config.sources[0], raw, now, DateRange::default());
        let kept: Vec<usize> = (0..1_000).filter(|n| n % 10 != 3).collect();
        assert_eq!(items.len(), kept.len());
        for (item, n) in items.iter().zip(kept) {
            assert_eq!(item.raw.link, format!("https://montsame.mn/read/{n}"));
            assert_eq!(item.title_key, format!("headline {n}"));
            let expected = format!("2025-11-{:02}T06:05:00+00:00", 1 + n % 28);
            assert_eq!(item.date.map(|d| d.to_rfc3339()), Some(expected));
        }
    }
}
