//! What publishing needs from the store, read in one go: the store is held
//! only while reading, and rendering and flushing (the slow part) run after,
//! without it.

use std::collections::HashMap;

use chrono::Utc;

use crate::config::Config;
use crate::repair::notice::notice;
use crate::store::{History, SourceHealth, Store, StoreError, StoredItem};

/// How many headlines the digest page shows.
pub(super) const INDEX_ITEMS: usize = 200;

/// Every item the outputs of one publish show, owned, so the store can be
/// released before rendering starts.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Each merged feed's newest items, by feed name: enough to fill
    /// `max_items` after dedupe across sources.
    pub merged: HashMap<String, Vec<StoredItem>>,
    /// Each source's newest items, by source id.
    pub sources: HashMap<String, Vec<StoredItem>>,
    /// The newest items of all sources, for the digest page.
    pub index: Vec<StoredItem>,
    /// Every source's health, for the status page.
    pub health: Vec<SourceHealth>,
    /// Every source's recent days, by source id, for the status page's charts.
    pub history: HashMap<String, History>,
}

impl Snapshot {
    /// Reads the newest items of every merged feed, every source and the
    /// digest page (each only its newest rows, never the whole history),
    /// and the sources' health and recent days for the status page.
    pub fn read(config: &Config, store: &Store) -> Result<Self, StoreError> {
        let per_source_max = config
            .feeds
            .iter()
            .map(|f| f.max_items)
            .max()
            .unwrap_or(100);
        let mut merged = HashMap::with_capacity(config.feeds.len());
        for feed in &config.feeds {
            let items = merged_items(store, &feed.sources, feed.max_items)?;
            merged.insert(feed.name.clone(), items);
        }
        let mut sources = HashMap::with_capacity(config.sources.len());
        for source in &config.sources {
            let ids = std::slice::from_ref(&source.id);
            sources.insert(
                source.id.clone(),
                store.newest_items(ids, per_source_max, 0)?,
            );
        }
        let all_ids: Vec<String> = config.sources.iter().map(|s| s.id.clone()).collect();
        let index = merged_items(store, &all_ids, INDEX_ITEMS)?;
        let mut snapshot = Self {
            merged,
            sources,
            index,
            health: store.health()?,
            history: store.history(Utc::now().date_naive())?,
        };
        if config.daemon.health.enabled {
            snapshot.put_notices_on_top(config, &store.failing_health()?);
        }
        Ok(snapshot)
    }

    /// Puts each broken or long-failing source's notice (see
    /// [`crate::repair::notice`]) at the top of its own feed and of every
    /// merged feed that includes it. The digest page shows headlines only.
    fn put_notices_on_top(&mut self, config: &Config, health: &[SourceHealth]) {
        let notices: HashMap<&str, StoredItem> = config
            .sources
            .iter()
            .filter_map(|source| {
                let h = health.iter().find(|h| h.id == source.id)?;
                Some((source.id.as_str(), notice(source, h, config.daemon.health)?))
            })
            .collect();
        if notices.is_empty() {
            return;
        }
        for (id, entry) in &notices {
            if let Some(items) = self.sources.get_mut(*id) {
                items.insert(0, entry.clone());
            }
        }
        for feed in &config.feeds {
            let Some(items) = self.merged.get_mut(&feed.name) else {
                continue;
            };
            let on_top: Vec<StoredItem> = feed
                .sources
                .iter()
                .filter_map(|id| notices.get(id.as_str()).cloned())
                .collect();
            items.splice(0..0, on_top);
        }
    }
}

/// Reads newest items page by page until `max` survive cross-source dedupe,
/// so a feed is rendered from its newest rows only, never the whole history.
fn merged_items(store: &Store, ids: &[String], max: usize) -> Result<Vec<StoredItem>, StoreError> {
    let page = max * 2 + 16;
    let mut items = store.newest_items(ids, page, 0)?;
    let mut exhausted = items.len() < page;
    while !exhausted && distinct_stories(&items) < max {
        let more = store.newest_items(ids, page, items.len())?;
        exhausted = more.len() < page;
        items.extend(more);
    }
    Ok(items)
}

/// An upper bound on the entries `items` will yield after dedupe (by title key).
fn distinct_stories(items: &[StoredItem]) -> usize {
    let mut keys: Vec<&str> = items.iter().map(|i| i.title_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.len()
}
