//! The runner: the one way a source is run, by `once`, the daemon and `preview`.
//!
//! A run fetches the listing (conditionally), reads it on the blocking pool
//! (parsing a hostile page must not stall the runtime that answers
//! `/healthz`), stores what it gave, then reads the article pages of new
//! items. Whatever happens, it ends as one [`Outcome`]; a panic is a failure
//! like any other, recorded in the store and contained to its source.

use std::ops::Deref;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::config::{Config, Daemon, OnBreak, Source, SourceKind};
use crate::extract::ItemSelectors;
use crate::fetch::{FetchError, FetchPolicy, Fetched, Fetcher, HostUse, Page, Validators};
use crate::identity::redact_secrets;
use crate::repair::detect::detect;
use crate::repair::propose::propose;
use crate::repair::{Adoption, SelectorSet};
use crate::store::{NewItem, SharedStore, SourceCycle, UpsertStats};

use super::articles::read_articles;
use super::listing::{Listed, Listing, ProcessedItem, read_listing};
use super::{ArticleCounts, Outcome, SourceError, SourceRun};

/// A source of a loaded config, cheap to clone and to move into a task or
/// onto a blocking thread.
#[derive(Debug, Clone)]
pub struct SourceRef {
    config: Arc<Config>,
    index: usize,
}

impl SourceRef {
    /// The source with this id, if the config has one.
    pub fn find(config: &Arc<Config>, id: &str) -> Option<Self> {
        let index = config.sources.iter().position(|s| s.id == id)?;
        Some(Self {
            config: Arc::clone(config),
            index,
        })
    }

    /// Every source of the config, in file order.
    pub fn all(config: &Arc<Config>) -> impl Iterator<Item = Self> + '_ {
        Self::selected(config, &[])
    }

    /// The sources named in `only` (all when it is empty), in file order:
    /// what `medee once --source ID...` runs.
    pub fn selected<'a>(
        config: &'a Arc<Config>,
        only: &'a [String],
    ) -> impl Iterator<Item = Self> + 'a {
        config
            .sources
            .iter()
            .enumerate()
            .filter(|(_, s)| only.is_empty() || only.contains(&s.id))
            .map(|(index, _)| Self {
                config: Arc::clone(config),
                index,
            })
    }
}

impl SourceRef {
    /// The config the source belongs to.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

impl Deref for SourceRef {
    type Target = Source;

    fn deref(&self) -> &Source {
        &self.config.sources[self.index]
    }
}

/// What a source run needs besides the source: the HTTP client with its
/// per-host pacing, the store, and the slots that bound how many sources
/// run at once. Cloning shares all three.
#[derive(Debug, Clone)]
pub struct Runner {
    fetcher: Fetcher,
    store: SharedStore,
    slots: Arc<Semaphore>,
}

impl Runner {
    /// A runner with the daemon settings' client and `concurrency` slots.
    pub fn new(daemon: &Daemon, store: SharedStore) -> Result<Self, FetchError> {
        Ok(Self {
            fetcher: Fetcher::new(daemon)?,
            store,
            slots: Arc::new(Semaphore::new(daemon.concurrency)),
        })
    }

    /// Runs one source once it has a slot, in a task of its own: a panic
    /// fails this source only. Every failure is recorded in the store.
    pub async fn run(&self, source: SourceRef) -> SourceRun {
        let id = source.id.clone();
        let url = source.url.clone();
        // The semaphore is never closed, so acquiring cannot fail.
        let _slot = Arc::clone(&self.slots).acquire_owned().await.ok();
        let runner = self.clone();
        let outcome = match tokio::spawn(async move { runner.refresh(source).await }).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => Outcome::Failed(e),
            Err(e) => Outcome::Failed(SourceError::Panicked(e.to_string())),
        };
        if let Outcome::Failed(e) = &outcome {
            // Credentials in the source's URL never reach the store (`status`,
            // `/healthz`) or the log.
            let message = redact_secrets(&e.to_string(), &url);
            warn!(source = %id, error = %message, "source failed");
            self.record_failure(&id, message, e).await;
        }
        log_outcome(&id, &outcome);
        SourceRun { id, outcome }
    }

    /// Fetches a source's page unconditionally, storing nothing (for `preview`).
    pub async fn fetch_page(&self, source: &Source) -> Result<Page, FetchError> {
        self.fetcher
            .get(&source.url, &FetchPolicy::listing(source), HostUse::Last)
            .await
    }

    /// Fetches one article page of `source` under the policy its article
    /// pages are fetched with (same site or `allow_hosts`), storing nothing
    /// (for `preview --article`).
    pub async fn fetch_article(&self, source: &Source, link: &str) -> Result<Page, FetchError> {
        let policy = FetchPolicy::articles(source);
        let url = policy.allowed(link).map_err(|reason| FetchError::Refused {
            url: link.to_string(),
            reason,
        })?;
        self.fetcher.get(&url, &policy, HostUse::Last).await
    }

    /// Reads a page as a run of `source` would, storing nothing (for `preview`).
    pub async fn preview(
        &self,
        source: &SourceRef,
        page: Arc<Page>,
    ) -> Result<Listed, SourceError> {
        read_on_blocking_pool(source, None, page).await
    }

    /// Fetches, reads and stores the listing, then the pending article pages.
    async fn refresh(&self, source: SourceRef) -> Result<Outcome, SourceError> {
        let url = source.url.to_string();
        let stored = self.store.run(move |s| s.validators(&url)).await?;
        let adopted = self.adoption_in_force(&source).await?;
        let listing = self.fetch_listing(&source, &stored, adopted).await?;
        let stored = match listing {
            Listing::NotModified => {
                let id = source.id.clone();
                self.store
                    .run(move |s| s.record_not_modified(&id, Utc::now()))
                    .await?;
                None
            }
            Listing::Items(listed, validators) => {
                Some(self.store_items(&source, listed, validators).await?)
            }
        };
        let articles = match &source.article {
            Some(selectors) => {
                read_articles(&source, selectors, &self.fetcher, &self.store).await?
            }
            None => ArticleCounts::default(),
        };
        Ok(match stored {
            None => Outcome::NotModified { articles },
            Some((kept, stored)) => Outcome::Refreshed {
                kept,
                stored,
                articles,
            },
        })
    }

    /// The compiled selectors of the proposal an `on_break = "adopt"` source extracts with,
    /// while the config still has the selectors it replaced; otherwise the
    /// config wins and a stale adoption is dropped.
    async fn adoption_in_force(
        &self,
        source: &SourceRef,
    ) -> Result<Option<Arc<ItemSelectors>>, SourceError> {
        let id = source.id.clone();
        let Some(adoption) = self.store.run(move |s| s.adoption(&id)).await? else {
            return Ok(None);
        };
        let compiled = adoption.proposal.selectors.compile().ok();
        match compiled {
            Some(compiled) if adoption.in_force(source) => {
                warn!(
                    source = %source.id,
                    item = %adoption.proposal.selectors.item,
                    "extracting with the adopted proposal (on_break = \"adopt\"); apply it with `medee repair {} --write`",
                    source.id
                );
                Ok(Some(Arc::new(compiled)))
            }
            _ => {
                info!(source = %source.id, "the config changed since a proposal was adopted; reading with the config's selectors again");
                let id = source.id.clone();
                self.store.run(move |s| s.set_adoption(&id, None)).await?;
                Ok(None)
            }
        }
    }

    /// Fetches the listing, reads it on the blocking pool and checks it for
    /// breakage (see [`crate::repair::detect`]).
    async fn fetch_listing(
        &self,
        source: &SourceRef,
        validators: &Validators,
        adopted: Option<Arc<ItemSelectors>>,
    ) -> Result<Listing, SourceError> {
        // A source whose new items' pages are read next keeps the connection.
        let host_use = if source.article.is_some() {
            HostUse::More
        } else {
            HostUse::Last
        };
        match self
            .fetcher
            .get_conditional(
                &source.url,
                &FetchPolicy::listing(source),
                validators,
                host_use,
            )
            .await?
        {
            Fetched::NotModified => Ok(Listing::NotModified),
            Fetched::Page(page, validators) => {
                let page = Arc::new(page);
                let read = read_on_blocking_pool(source, adopted, Arc::clone(&page)).await;
                match self.check_breakage(source, read).await? {
                    Ok(listed) => Ok(Listing::Items(listed, validators)),
                    Err(reason) => {
                        let listed = self.repair(source, page, reason).await?;
                        Ok(Listing::Items(listed, validators))
                    }
                }
            }
        }
    }

    /// Whether a read html listing is broken: `item` matched nothing usable,
    /// or the items collapsed against the source's recent successful runs.
    /// The inner error is the breakage in words; other failures pass through.
    async fn check_breakage(
        &self,
        source: &SourceRef,
        read: Result<Listed, SourceError>,
    ) -> Result<Result<Listed, String>, SourceError> {
        let listed = match read {
            Err(e @ (SourceError::NoMatch { .. } | SourceError::NoUsableItems { .. })) => {
                return Ok(Err(e.to_string()));
            }
            other => other?,
        };
        let Some(selectors) = listed.selectors.clone() else {
            return Ok(Ok(listed));
        };
        let id = source.id.clone();
        let history = self
            .store
            .run(move |s| s.recent_runs(&id, &selectors))
            .await?;
        let titles: Vec<&str> = listed.items.iter().map(|i| i.raw.title.as_str()).collect();
        Ok(match detect(&listed.stats, &titles, &history) {
            Some(collapse) => Err(collapse.to_string()),
            None => Ok(listed),
        })
    }

    /// A broken html source: proposes selectors found on the page (on the
    /// blocking pool, like any parse), and with `on_break = "adopt"` reads
    /// the page with them when they pass the quality checks. Otherwise the
    /// run fails with the proposal, which the store keeps.
    async fn repair(
        &self,
        source: &SourceRef,
        page: Arc<Page>,
        reason: String,
    ) -> Result<Listed, SourceError> {
        let SourceKind::Html(selectors) = &source.kind else {
            return Err(SourceError::Broken {
                reason,
                proposal: None,
            });
        };
        let current = SelectorSet::of(selectors);
        let limits = source.config().daemon.limits;
        let (for_proposal, replaces) = (Arc::clone(&page), current.clone());
        let proposal = tokio::task::spawn_blocking(move || {
            let (text, _) = for_proposal.text();
            propose(&text, &for_proposal.url, &replaces, &limits, Utc::now())
        })
        .await
        .map_err(|e| SourceError::Panicked(e.to_string()))?;
        let adoptable = proposal
            .as_ref()
            .filter(|p| source.on_break == OnBreak::Adopt && p.passes());
        let Some((proposal, compiled)) =
            adoptable.and_then(|p| Some((p.clone(), p.selectors.compile().ok()?)))
        else {
            return Err(SourceError::Broken {
                reason,
                proposal: proposal.map(Box::new),
            });
        };
        let listed = read_on_blocking_pool(source, Some(Arc::new(compiled)), page).await?;
        warn!(
            source = %source.id,
            %reason,
            item = %proposal.selectors.item,
            items = listed.items.len(),
            "the site changed; adopted the proposed selectors (on_break = \"adopt\"); apply them with `medee repair {} --write`",
            source.id
        );
        let adoption = Adoption {
            proposal,
            replaces: current,
        };
        let id = source.id.clone();
        self.store
            .run(move |s| s.set_adoption(&id, Some(&adoption)))
            .await?;
        Ok(listed)
    }

    /// Stores a listing's items and the source's success in one transaction;
    /// returns how many items were kept and what storing them changed.
    async fn store_items(
        &self,
        source: &Source,
        listed: Listed,
        validators: Validators,
    ) -> Result<(usize, UpsertStats), SourceError> {
        let kept = listed.items.len();
        let stats = listed.selectors.map(|key| (key, listed.stats));
        let new_items: Vec<NewItem> = listed
            .items
            .into_iter()
            .map(ProcessedItem::into_new_item)
            .collect();
        let (id, url, want_articles) = (
            source.id.clone(),
            source.url.to_string(),
            source.article.is_some(),
        );
        let stored = self
            .store
            .run(move |s| {
                let cycle = SourceCycle {
                    source_id: &id,
                    url: &url,
                    validators: &validators,
                    items: &new_items,
                    want_articles,
                    stats: stats.as_ref().map(|(key, run)| (key.as_str(), *run)),
                };
                s.record_success(&cycle, Utc::now())
            })
            .await?;
        Ok((kept, stored))
    }

    /// Records a failed run; a breakage with the fix proposed for it.
    async fn record_failure(&self, id: &str, message: String, error: &SourceError) {
        let id = id.to_string();
        let breakage = match error {
            SourceError::Broken { proposal, .. } => Some(proposal.as_deref().cloned()),
            _ => None,
        };
        if let Err(e) = self
            .store
            .run(move |s| match &breakage {
                Some(proposal) => s.record_breakage(&id, &message, proposal.as_ref(), Utc::now()),
                None => s.record_failure(&id, &message, Utc::now()),
            })
            .await
        {
            warn!(error = %e, "cannot record the failure in the store");
        }
    }
}

/// The longest a page may take to read. Parsing is bounded and linear, so
/// only a page near `max_body` on a slow machine comes close; past this the
/// run fails instead of holding its source (the thread finishes on its own).
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Reads a listing off the async workers: parsing a hostile page must not
/// stall the runtime (or `/healthz`). A panic fails the source, and so does
/// a read that outlasts [`READ_TIMEOUT`]. With `adopted`, an html source's
/// page is read with those selectors instead of its own.
async fn read_on_blocking_pool(
    source: &SourceRef,
    adopted: Option<Arc<ItemSelectors>>,
    page: Arc<Page>,
) -> Result<Listed, SourceError> {
    let url = page.url.to_string();
    let source = source.clone();
    let read = tokio::task::spawn_blocking(move || {
        let daemon = &source.config().daemon;
        match adopted {
            Some(selectors) => {
                let mut reading = Source::clone(&source);
                reading.kind = SourceKind::Html(Box::new(ItemSelectors::clone(&selectors)));
                read_listing(&reading, daemon, &page, Utc::now())
            }
            None => read_listing(&source, daemon, &page, Utc::now()),
        }
    });
    match tokio::time::timeout(READ_TIMEOUT, read).await {
        Ok(joined) => joined.map_err(|e| SourceError::Panicked(e.to_string()))?,
        Err(_) => Err(SourceError::TooSlow {
            url,
            limit: READ_TIMEOUT,
        }),
    }
}

/// One log line per successful run that changed something (failures are
/// logged where their message is redacted).
fn log_outcome(id: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Failed(_) => {}
        Outcome::NotModified { articles } if articles.read + articles.failed == 0 => {
            debug!(source = %id, "not modified");
        }
        Outcome::NotModified { articles } => info!(
            source = %id,
            articles = articles.read,
            articles_failed = articles.failed,
            "not modified; article pages read"
        ),
        Outcome::Refreshed {
            kept,
            stored,
            articles,
        } if outcome.changed_outputs() || articles.failed > 0 => info!(
            source = %id,
            kept,
            new = stored.new,
            updated = stored.updated,
            articles = articles.read,
            articles_failed = articles.failed,
            "source done"
        ),
        Outcome::Refreshed { kept, .. } => debug!(source = %id, kept, "nothing new"),
    }
}
