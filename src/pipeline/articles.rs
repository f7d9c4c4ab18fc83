//! Article pages: each new item's own page, read once for its date, full text and author.

use chrono::{DateTime, FixedOffset, Utc};
use tracing::warn;
use url::Url;

use crate::config::{Daemon, Source};
use crate::dates::parse_date;
use crate::extract::{ArticleSelectors, RawArticle, extract_article};
use crate::fetch::{FetchPolicy, Fetcher, HostUse, Page};
use crate::identity::redact_url;
use crate::store::{ArticleData, ArticleOutcome, SharedStore, StoreError};

use super::ArticleCounts;
use super::runner::SourceRef;

/// Article pages read per source per cycle: a new source with a long listing
/// catches up over a few cycles instead of hammering the site.
const ARTICLES_PER_CYCLE: usize = 30;

/// Reads the pending article pages of a source's items (at most
/// [`ARTICLES_PER_CYCLE`]), recording each in the store as it completes.
pub(super) async fn read_articles(
    source: &SourceRef,
    selectors: &ArticleSelectors,
    fetcher: &Fetcher,
    store: &SharedStore,
) -> Result<ArticleCounts, StoreError> {
    let mut counts = ArticleCounts::default();
    let id = source.id.clone();
    let pending = store
        .run(move |s| s.pending_articles(&id, ARTICLES_PER_CYCLE))
        .await?;
    let policy = FetchPolicy::articles(source);
    let targets: Vec<_> = pending
        .into_iter()
        .map(|article| {
            let url = policy.allowed(&article.link);
            (article, url)
        })
        .collect();
    let last_fetch = targets.iter().rposition(|(_, url)| url.is_ok());
    for (n, (article, url)) in targets.into_iter().enumerate() {
        let host_use = if Some(n) == last_fetch {
            HostUse::Last
        } else {
            HostUse::More
        };
        let outcome = match url {
            Err(reason) => {
                let link = Url::parse(&article.link)
                    .map_or_else(|_| article.link.clone(), |url| redact_url(&url));
                warn!(source = %source.id, %link, %reason, "article link not fetched (see allow_hosts)");
                ArticleOutcome::Refused
            }
            Ok(url) => match fetcher.get(&url, &policy, host_use).await {
                Ok(page) => read_on_blocking_pool(source, selectors, page).await,
                Err(e) if e.is_refused() => {
                    warn!(source = %source.id, error = %e, "article page refused; not fetched again");
                    ArticleOutcome::Refused
                }
                Err(e) => {
                    warn!(source = %source.id, error = %e, "article fetch failed; will retry");
                    ArticleOutcome::Failed
                }
            },
        };
        if matches!(outcome, ArticleOutcome::Read(_)) {
            counts.read += 1;
        } else {
            counts.failed += 1;
        }
        store
            .run(move |s| s.record_article(article.id, &outcome, Utc::now()))
            .await?;
    }
    Ok(counts)
}

/// Parses an article page off the async workers: a hostile page must not
/// stall the runtime. A panic while reading fails this article only.
async fn read_on_blocking_pool(
    source: &SourceRef,
    selectors: &ArticleSelectors,
    page: Page,
) -> ArticleOutcome {
    let (source, selectors) = (source.clone(), selectors.clone());
    let read = tokio::task::spawn_blocking(move || {
        read_article(
            &source,
            &selectors,
            &source.config().daemon,
            &page,
            Utc::now(),
        )
    });
    match read.await {
        Ok(data) => ArticleOutcome::Read(data),
        Err(e) => {
            warn!(error = %e, "reading an article page failed; will retry");
            ArticleOutcome::Failed
        }
    }
}

fn read_article(
    source: &Source,
    selectors: &ArticleSelectors,
    daemon: &Daemon,
    page: &Page,
    now: DateTime<Utc>,
) -> ArticleData {
    let read = read_article_page(source, selectors, daemon, page, now);
    if !read.raw.cut.is_empty() {
        warn!(source = %source.id, page = %page.url, cut = %read.raw.cut, "article page cut to the limits");
    }
    ArticleData {
        content: read.raw.content,
        published: read.published.map(|at| at.with_timezone(&Utc)),
        author: read.raw.author,
    }
}

/// What one article page gave: the raw fields and the date they name.
#[derive(Debug, Clone)]
pub struct ArticleRead {
    /// The fields as extracted, with how each was found.
    pub raw: RawArticle,
    /// The publication date as the page wrote it: at the page's own offset
    /// when the text gave one (its calendar day is the page's), else in the
    /// source's zone.
    pub published: Option<DateTime<FixedOffset>>,
}

/// Reads one article page as a run of `source` does (for the pipeline and `preview --article`).
pub fn read_article_page(
    source: &Source,
    selectors: &ArticleSelectors,
    daemon: &Daemon,
    page: &Page,
    now: DateTime<Utc>,
) -> ArticleRead {
    let (text, _) = page.text();
    let ctx = source.date_context(now, daemon.dates);
    let raw = extract_article(&text, &page.url, selectors, &daemon.limits, &ctx);
    let published = raw
        .date_text
        .as_deref()
        .and_then(|t| parse_date(t, &ctx))
        .map(|d| d.as_written(source.timezone));
    ArticleRead { raw, published }
}
