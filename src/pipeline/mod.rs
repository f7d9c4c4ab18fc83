//! The pipeline conducts the stages for each source:
//!
//! ```text
//! fetch ──▶ extract (listing) ──▶ filter, dates ──▶ store ──▶ article pages ──▶ store
//! ```
//!
//! and, once sources have run, `publish` renders the outputs from a snapshot
//! of the store. [`Runner`] is the one way a source is run (by `once`, the
//! daemon and `preview`), and [`Outcome`] the one account of what a run did.

mod articles;
mod listing;
mod outcome;
mod runner;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;
use tracing::{debug, error, info};

use crate::config::Config;
use crate::deliver::{Delivery, deliver};
use crate::fetch::FetchError;
use crate::publish::{Snapshot, outputs_missing, publish};
use crate::store::{PublishState, SharedStore, Store, StoreError};

pub use articles::{ArticleRead, read_article_page};
pub use listing::{
    Listed, PageCounts, PageRead, ProcessedItem, process_items, read_listing, read_page,
};
pub use outcome::{ArticleCounts, CycleReport, Outcome, SourceError, SourceRun};
pub use runner::{Runner, SourceRef};

/// Why a whole cycle could not run (as opposed to one source failing).
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    /// The store could not be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// A run's task was cancelled.
    #[error("a source task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The store at the config's path, putting new items into stories by the
/// config's settings: what every run (`once`, the daemon) writes into.
pub fn open_store(config: &Config) -> Result<SharedStore, StoreError> {
    let mut store = Store::open(&config.daemon.database)?;
    store.set_story_settings(config.daemon.stories);
    Ok(SharedStore::new(store))
}

/// Runs every source (or those in `only`), side by side up to
/// `concurrency`, then publishes the outputs, then delivers (the `on_new`
/// hook, the WebSub hub): `medee once`. `on_run` is told of each finished
/// run with how many have finished and how many there are.
pub async fn run_cycle(
    config: Arc<Config>,
    only: &[String],
    mut on_run: impl FnMut(&SourceRun, usize, usize),
) -> Result<CycleReport, CycleError> {
    let store = open_store(&config)?;
    let runner = Runner::new(&config.daemon, store.clone())?;
    let mut tasks = JoinSet::new();
    for source in SourceRef::selected(&config, only) {
        let runner = runner.clone();
        tasks.spawn(async move { runner.run(source).await });
    }
    let total = tasks.len();
    let mut report = CycleReport::default();
    let mut delivery = Delivery::default();
    while let Some(joined) = tasks.join_next().await {
        let run = joined?;
        on_run(&run, report.runs.len() + 1, total);
        delivery.new_items.extend(run.outcome.new_item_ids());
        report.runs.push(run);
    }
    match publish_outputs(&config, &store, false).await? {
        Published::Failed(message) => report.publish_error = Some(message),
        Published::Written(files) => delivery.written = files,
        Published::Unchanged => {}
    }
    if crate::deliver::wanted(&config) {
        deliver(&config, &store, delivery).await;
    }
    Ok(report)
}

/// What [`publish_outputs`] did.
#[derive(Debug)]
pub enum Published {
    /// Nothing changed since the last publish and every output exists.
    Unchanged,
    /// Outputs were written; these files changed.
    Written(Vec<PathBuf>),
    /// Writing failed; the store remembers, so the next call tries again
    /// even if nothing new is stored by then.
    Failed(String),
}

/// Prunes items past retention, then writes every output when `force` is
/// set (the config changed), the store changed since the last successful
/// publish, or an output is missing. A cycle of 304s costs no rendering; a
/// publish that failed (disk full) is retried by the next call.
///
/// Only pruning and reading the snapshot hold the store: rendering and
/// flushing the files run on a blocking thread of their own, so runs keep
/// storing meanwhile.
pub async fn publish_outputs(
    config: &Arc<Config>,
    store: &SharedStore,
    force: bool,
) -> Result<Published, StoreError> {
    let now = Utc::now();
    let reader = Arc::clone(config);
    let Some((state, snapshot)) = store
        .run(move |s| snapshot_if_needed(&reader, s, force, now))
        .await?
    else {
        debug!("nothing changed; outputs kept as they are");
        return Ok(Published::Unchanged);
    };
    let writer = Arc::clone(config);
    let written = tokio::task::spawn_blocking(move || publish(&writer, &snapshot, now))
        .await
        .map_err(|e| StoreError::Interrupted(e.to_string()))?;
    match written {
        Ok(report) => {
            info!(files = report.written.len(), dir = %config.daemon.output_dir.display(), "outputs written");
            store.run(move |s| s.mark_published(state)).await?;
            Ok(Published::Written(report.written))
        }
        Err(e) => {
            error!(error = %e, "cannot write outputs; the next cycle tries again");
            Ok(Published::Failed(e.to_string()))
        }
    }
}

/// Under the store: prunes, then reads what the outputs need if they need
/// writing, with the change count it reflects.
fn snapshot_if_needed(
    config: &Config,
    store: &mut Store,
    force: bool,
    now: DateTime<Utc>,
) -> Result<Option<(PublishState, Snapshot)>, StoreError> {
    match prune(config, store, now) {
        Ok(pruned) if pruned > 0 => info!(pruned, "pruned items past retention"),
        Ok(_) => {}
        Err(e) => error!(error = %e, "cannot prune the store"),
    }
    if let Err(e) = store.forget_runs_before_window(now.date_naive()) {
        error!(error = %e, "cannot prune the status page's run counts");
    }
    let state = store.publish_state()?;
    if !force && !state.stale() && !outputs_missing(config) {
        return Ok(None);
    }
    Ok(Some((state, Snapshot::read(config, store)?)))
}

/// Deletes items past retention; returns how many.
fn prune(config: &Config, store: &mut Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let retention =
        chrono::Duration::from_std(config.daemon.retention).unwrap_or(chrono::Duration::MAX);
    store.prune(
        now.checked_sub_signed(retention)
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    )
}
