//! What publishing needs from the store, read in one go: the store is held
//! only while reading, and rendering and flushing (the slow part) run after,
//! without it.

use std::collections::{HashMap, HashSet};

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
            let items = merged_items(store, &feed.sources, feed.max_items, feed.cluster)?;
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
        let index = merged_items(store, &all_ids, INDEX_ITEMS, index_clusters(config))?;
        let mut snapshot = Self {
            merged,
            sources,
            index,
            health: store.health()?,
            history: store.history(Utc::now().date_naive())?,
        };
        if config.daemon.health.enabled {
            snapshot.put_notices_on_top(config);
        }
        Ok(snapshot)
    }

    /// Puts each broken or long-failing source's notice (see
    /// [`crate::repair::notice`]) at the top of its own feed and of every
    /// merged feed that includes it. The digest page shows headlines only.
    /// A source without failures has no notice ([`notice`] says so).
    fn put_notices_on_top(&mut self, config: &Config) {
        let notices: HashMap<&str, StoredItem> = config
            .sources
            .iter()
            .filter_map(|source| {
                let h = self.health.iter().find(|h| h.id == source.id)?;
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

/// Whether the digest page shows one line per story: as the first merged
/// feed (whose title it takes) does.
pub(super) fn index_clusters(config: &Config) -> bool {
    config.feeds.first().is_none_or(|f| f.cluster)
}

/// Reads newest items page by page until `max` survive cross-source dedupe,
/// so a feed is rendered from its newest rows only, never the whole history.
/// With `stories`, every stored report of each story read is added (from
/// these sources), so a story's entry keeps its first report's id and lists
/// all the others; the result stays newest first.
fn merged_items(
    store: &Store,
    ids: &[String],
    max: usize,
    stories: bool,
) -> Result<Vec<StoredItem>, StoreError> {
    let page = max * 2 + 16;
    let mut items = store.newest_items(ids, page, 0)?;
    let mut exhausted = items.len() < page;
    while !exhausted && distinct_stories(&items, stories) < max {
        let more = store.newest_items(ids, page, items.len())?;
        exhausted = more.len() < page;
        items.extend(more);
    }
    if stories {
        let mut story_ids: Vec<i64> = items.iter().map(|i| i.story_id).collect();
        story_ids.sort_unstable();
        story_ids.dedup();
        let known: HashSet<i64> = items.iter().map(|i| i.id).collect();
        let members = store.story_members(&story_ids, ids)?;
        items.extend(members.into_iter().filter(|m| !known.contains(&m.id)));
        items.sort_by(|a, b| b.sort_at.cmp(&a.sort_at).then(b.id.cmp(&a.id)));
    }
    Ok(items)
}

/// An upper bound on the entries `items` will yield after dedupe (by title
/// key, or by story).
fn distinct_stories(items: &[StoredItem], stories: bool) -> usize {
    if stories {
        let keys: HashSet<i64> = items.iter().map(|i| i.story_id).collect();
        return keys.len();
    }
    let mut keys: Vec<&str> = items.iter().map(|i| i.title_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.len()
}
