//! The local store: SQLite in WAL mode, the one place items and source health live.
//!
//! Every source's cycle is one transaction (its items and its health together),
//! so a crash or kill at any moment leaves either the whole cycle or none of it.
//! Identity is `(source, canonical link)`: a link seen again keeps its row, its
//! first-seen time and therefore its feed id.

mod health;
mod history;
mod items;
mod schema;
mod stories;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, TransactionBehavior};

use crate::fetch::Validators;
use crate::repair::detect::RunStats;

use crate::cluster::StorySettings;
pub use health::{PublishState, SourceHealth};
pub use history::{DayCounts, HISTORY_DAYS, History, first_history_day};
pub use schema::MAX_ARTICLE_ATTEMPTS;
use schema::MIGRATIONS;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database directory could not be created.
    #[error("cannot create the directory for {}: {source}", path.display())]
    CreateDir {
        /// The database path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("store {}: {source}", path.display())]
    Sqlite {
        /// The database path.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// Another process (a running daemon, a `medee once`) kept the store
    /// locked for longer than the busy timeout.
    #[error("store {} is busy: another medee process kept it locked for more than {}s; try again, or stop the other process", path.display(), BUSY_TIMEOUT.as_secs())]
    Busy {
        /// The database path.
        path: PathBuf,
    },
    /// A value kept as JSON (a proposal, an adoption) could not be encoded.
    #[error("cannot encode a value for the store: {0}")]
    Encode(#[from] serde_json::Error),
    /// A store call did not complete (its thread panicked or the runtime stopped).
    #[error("a store operation was interrupted: {0}")]
    Interrupted(String),
    /// The file was written by a newer medee.
    #[error("store {} has schema version {found}, newer than this medee understands ({known}); upgrade medee", path.display())]
    TooNew {
        /// The database path.
        path: PathBuf,
        /// The version found.
        found: usize,
        /// The newest version known.
        known: usize,
    },
}

/// An item as a cycle found it, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewItem {
    /// Canonical link: the identity.
    pub link: String,
    /// Headline.
    pub title: String,
    /// Normalised headline for cross-source dedupe.
    pub title_key: String,
    /// Sanitised HTML teaser.
    pub summary: Option<String>,
    /// Absolute image URL.
    pub image: Option<String>,
    /// Publication time, if the page gave one.
    pub published: Option<DateTime<Utc>>,
    /// Whether `published` came from a relative expression ("2 hours ago").
    pub published_relative: bool,
}

/// One source's successful fetch, as the store records it.
#[derive(Debug, Clone, Copy)]
pub struct SourceCycle<'a> {
    /// Source id.
    pub source_id: &'a str,
    /// The listing URL, whose validators are stored.
    pub url: &'a str,
    /// Validators of the response, for the next conditional GET.
    pub validators: &'a Validators,
    /// The items the page yielded.
    pub items: &'a [NewItem],
    /// Whether new items should get their article page fetched.
    pub want_articles: bool,
    /// What the page's items were like, and the selectors (as
    /// [`SelectorSet::key`](crate::repair::SelectorSet::key)) that read them:
    /// the baseline of breakage detection. None for sources that are not checked.
    pub stats: Option<(&'a str, RunStats)>,
}

/// What an article page gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticleData {
    /// Sanitised full text.
    pub content: Option<String>,
    /// Publication time (more precise than the listing's, or the only one).
    pub published: Option<DateTime<Utc>>,
    /// Byline.
    pub author: Option<String>,
}

/// What became of one article fetch.
#[derive(Debug, Clone, PartialEq)]
pub enum ArticleOutcome {
    /// The page was read.
    Read(ArticleData),
    /// The fetch failed; it is tried again on a later cycle, up to [`MAX_ARTICLE_ATTEMPTS`] times.
    Failed,
    /// The link points to a host the source may not send medee to; never fetched.
    Refused,
}

/// An item whose article page is still to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingArticle {
    /// Row id.
    pub id: i64,
    /// The article URL.
    pub link: String,
}

/// What storing one source's cycle changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpsertStats {
    /// Links never seen before.
    pub new: usize,
    /// Their row ids, in page order: what the `on_new` hook is told about.
    /// Empty on a source's first fill (the store held none of its items):
    /// a site's backlog is not news.
    pub new_ids: Vec<i64>,
    /// Known links whose title, summary, image or date changed.
    pub updated: usize,
    /// Known links with nothing new.
    pub unchanged: usize,
}

impl UpsertStats {
    /// Whether storing changed what the outputs show: the one rule, used by
    /// the store's change count and by the runs' outcomes alike.
    pub fn changed(&self) -> bool {
        self.new + self.updated > 0
    }
}

/// A stored item, as rendering needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    /// Row id.
    pub id: i64,
    /// The source it came from.
    pub source_id: String,
    /// Canonical link (also the feed id).
    pub link: String,
    /// Headline.
    pub title: String,
    /// Normalised headline.
    pub title_key: String,
    /// Sanitised HTML teaser.
    pub summary: Option<String>,
    /// Absolute image URL.
    pub image: Option<String>,
    /// Sanitised full text.
    pub content: Option<String>,
    /// Byline.
    pub author: Option<String>,
    /// Publication time from the page.
    pub published: Option<DateTime<Utc>>,
    /// When medee first saw the link.
    pub first_seen: DateTime<Utc>,
    /// Last time its title, summary or date changed.
    pub updated: DateTime<Utc>,
    /// Publication time, else first-seen: the feed order.
    pub sort_at: DateTime<Utc>,
    /// Row id of the first report of its story (its own id when it is the first).
    pub story_id: i64,
}

/// How long a write waits for another process's transaction (a `medee once`
/// beside the daemon) before giving up with [`StoreError::Busy`]. Every write
/// transaction starts with `BEGIN IMMEDIATE`, so waiting is all it ever has
/// to do: a deferred one that upgrades from reading would fail at once.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// The store shared by async tasks. SQLite never runs on an async worker:
/// every call goes to a blocking thread, one at a time.
#[derive(Clone)]
pub struct SharedStore(Arc<Mutex<Store>>);

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedStore")
    }
}

impl SharedStore {
    /// Shares `store`.
    pub fn new(store: Store) -> Self {
        Self(Arc::new(Mutex::new(store)))
    }

    /// Runs `f` on the store on a blocking thread.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || {
            let mut guard = store
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard)
        })
        .await
        .unwrap_or_else(|e| Err(StoreError::Interrupted(e.to_string())))
    }
}

/// The SQLite store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    stories: StorySettings,
}

impl Store {
    /// Opens (creating directories and schema as needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
        let mut store = Self {
            conn,
            path: path.to_path_buf(),
            stories: StorySettings::default(),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// A store that lives in memory and is gone when dropped: `preview`
    /// runs a source through the runner and must store nothing.
    pub fn in_memory() -> Result<Self, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(sqlite_err(&path))?;
        let mut store = Self {
            conn,
            path,
            stories: StorySettings::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Sets how new items are put into stories (`[daemon] cluster_threshold`
    /// and `cluster_window`); items already stored keep their story.
    pub fn set_story_settings(&mut self, settings: StorySettings) {
        self.stories = settings;
    }

    /// WAL lets `status` read while a cycle writes; `synchronous = FULL` makes
    /// each committed cycle survive power loss, at one fsync per source. An
    /// 8 MiB page cache (filled only as a store grows that large) keeps a big
    /// history's index pages at hand: with a million items stored a cycle's
    /// upserts cost no more than with a thousand (0.9x-1.2x over several
    /// runs of `cargo bench --bench medee -- store`; without it, 1.24x).
    fn configure(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA cache_size = -8192;",
            )
            .map_err(sqlite_err(&self.path))?;
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(sqlite_err(&self.path))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite_err(&self.path))?;
        let version = usize::try_from(version).unwrap_or(usize::MAX);
        if version > MIGRATIONS.len() {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        if version == MIGRATIONS.len() {
            return Ok(());
        }
        // All pending steps in one transaction: a new store costs one commit
        // (one fsync), and an interrupted upgrade leaves the old schema whole.
        let err = sqlite_err(&self.path);
        let tx = write_transaction(&mut self.conn, &self.path)?;
        for sql in &MIGRATIONS[version..] {
            tx.execute_batch(sql).map_err(err)?;
        }
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX),
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }
}

/// A write transaction that takes the write lock at its start, waiting up
/// to [`BUSY_TIMEOUT`] for another writer.
fn write_transaction<'c>(
    conn: &'c mut Connection,
    path: &Path,
) -> Result<rusqlite::Transaction<'c>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite_err(path))
}

/// Wraps a SQLite error with the database path, so a user knows which file
/// failed; a lock held too long by another process says so.
fn sqlite_err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + Copy + '_ {
    move |source| match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy {
            path: path.to_path_buf(),
        },
        _ => StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        },
    }
}

fn timestamp(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 12, day, 12, 0, 0)
            .single()
            .expect("valid time")
    }

    /// An undated item with this link and title, as a listing gives it.
    pub(super) fn item(link: &str, title: &str) -> NewItem {
        NewItem {
            link: link.to_string(),
            title: title.to_string(),
            title_key: crate::identity::title_key(title),
            summary: None,
            image: None,
            published: None,
            published_relative: false,
        }
    }

    /// Records a successful fetch of source `s` listing `items`.
    fn listed(store: &mut Store, items: &[NewItem], now: DateTime<Utc>) -> UpsertStats {
        listed_by(store, "s", items, now)
    }

    /// Records a successful fetch of `source` listing `items`.
    pub(super) fn listed_by(
        store: &mut Store,
        source: &str,
        items: &[NewItem],
        now: DateTime<Utc>,
    ) -> UpsertStats {
        let cycle = SourceCycle {
            source_id: source,
            url: "https://a.mn/",
            validators: &Validators::default(),
            items,
            want_articles: false,
            stats: None,
        };
        store.record_success(&cycle, now).expect("stored")
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("sub/medee.db")).expect("store opens");
        (dir, store)
    }

    #[test]
    fn a_seen_link_keeps_its_row_and_first_seen_but_takes_new_titles() {
        let (_dir, mut store) = open();
        let first = listed(&mut store, &[item("https://a.mn/1", "One")], at(1));
        assert_eq!(first.new, 1);
        let second = listed(
            &mut store,
            &[item("https://a.mn/1", "One (updated)")],
            at(2),
        );
        assert_eq!((second.new, second.updated), (0, 1));
        let items = store.newest_items(&["s".to_string()], 10, 0).expect("read");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].title, "One (updated)");
        assert_eq!(items[0].first_seen, at(1));
        assert_eq!(items[0].updated, at(2));
    }

    #[test]
    fn relative_dates_keep_their_first_reading() {
        let (_dir, mut store) = open();
        let mut relative = item("https://a.mn/1", "One");
        relative.published = Some(at(1));
        relative.published_relative = true;
        listed(&mut store, &[relative.clone()], at(1));
        relative.published = Some(at(2));
        let stats = listed(&mut store, &[relative], at(2));
        assert_eq!(stats.unchanged, 1);
        let items = store.newest_items(&["s".to_string()], 10, 0).expect("read");
        assert_eq!(items[0].published, Some(at(1)));
    }

    #[test]
    fn failures_count_up_and_a_success_clears_them() {
        let (_dir, mut store) = open();
        store
            .record_failure("s", "HTTP 500", at(1))
            .expect("recorded");
        store
            .record_failure("s", "HTTP 503", at(2))
            .expect("recorded");
        let health = store.health().expect("health");
        assert_eq!(health[0].consecutive_failures, 2);
        assert_eq!(health[0].last_error.as_deref(), Some("HTTP 503"));
        listed(&mut store, &[], at(3));
        let health = store.health().expect("health");
        assert_eq!(health[0].consecutive_failures, 0);
        assert_eq!(health[0].last_error, None);
        assert_eq!(health[0].last_success, Some(at(3)));
    }

    #[test]
    fn a_breakage_keeps_its_start_and_proposal_until_a_success_clears_them() {
        use crate::repair::{Adoption, Proposal, SelectorSet};
        let (_dir, mut store) = open();
        let before = store.publish_state().expect("state").changes;
        store
            .record_failure("s", "HTTP 500", at(1))
            .expect("recorded");
        let proposal = Proposal {
            selectors: SelectorSet {
                item: "article".to_string(),
                ..SelectorSet::default()
            },
            at: at(2),
            items: 7,
            sample: vec!["One".to_string()],
            problems: Vec::new(),
        };
        store
            .record_breakage("s", "item matched nothing", Some(&proposal), at(2))
            .expect("recorded");
        let health = store.source_health("s").expect("health").expect("row");
        assert_eq!(health.failing_since, Some(at(1)));
        assert_eq!(health.broken_since(), Some(at(1)));
        assert_eq!(health.proposal.as_ref(), Some(&proposal));
        assert_eq!(health.consecutive_failures, 2);
        assert!(store.publish_state().expect("state").changes >= before + 2);

        store
            .record_failure("s", "HTTP 500", at(3))
            .expect("recorded");
        let health = store.source_health("s").expect("health").expect("row");
        assert!(health.proposal.is_none() && health.broken_since().is_none());
        assert_eq!(health.failing_since, Some(at(1)));

        let adoption = Adoption {
            proposal,
            replaces: SelectorSet::default(),
        };
        store.set_adoption("s", Some(&adoption)).expect("adopted");
        assert_eq!(store.adoption("s").expect("read"), Some(adoption));
        let changes = store.publish_state().expect("state").changes;
        listed(&mut store, &[], at(4));
        let health = store.source_health("s").expect("health").expect("row");
        assert_eq!((health.failing_since, health.broken), (None, false));
        assert!(health.adopted.is_some(), "a success keeps the adoption");
        assert_eq!(store.publish_state().expect("state").changes, changes + 1);
        store.set_adoption("s", None).expect("dropped");
        assert_eq!(store.adoption("s").expect("read"), None);
    }

    #[test]
    fn the_last_ten_runs_are_kept_and_read_back_per_selectors() {
        use crate::repair::detect::RunStats;
        let (_dir, mut store) = open();
        for (n, selectors) in (0..12).map(|n| (n, "a")).chain([(99, "b")]) {
            let cycle = SourceCycle {
                source_id: "s",
                url: "https://a.mn/",
                validators: &Validators::default(),
                items: &[],
                want_articles: false,
                stats: Some((
                    selectors,
                    RunStats {
                        matched: n,
                        found: n,
                        dated: 0,
                        summarised: 0,
                    },
                )),
            };
            store.record_success(&cycle, at(1)).expect("stored");
        }
        let found = |key| -> Vec<usize> {
            store
                .recent_runs("s", key)
                .expect("runs")
                .iter()
                .map(|r| r.found)
                .collect()
        };
        assert_eq!(found("b"), [99]);
        assert_eq!(found("a"), [11, 10, 9, 8, 7, 6, 5, 4, 3]);
    }

    #[test]
    fn prune_keeps_items_still_listed() {
        let (_dir, mut store) = open();
        listed(
            &mut store,
            &[
                item("https://a.mn/old", "Old"),
                item("https://a.mn/kept", "Kept"),
            ],
            at(1),
        );
        listed(&mut store, &[item("https://a.mn/kept", "Kept")], at(20));
        assert_eq!(store.prune(at(10)).expect("pruned"), 1);
        let items = store.newest_items(&["s".to_string()], 10, 0).expect("read");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].link, "https://a.mn/kept");
    }

    #[test]
    fn an_old_store_is_upgraded_in_place_keeping_its_items() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("v1.db");
        let old = Connection::open(&path).expect("create v1 store");
        old.execute_batch(MIGRATIONS[0]).expect("v1 schema");
        old.execute_batch(
            "INSERT INTO items (source_id, link, title, title_key, first_seen, last_seen, updated, sort_at)
             VALUES ('s', 'https://a.mn/old', 'Old', 'old', 1, 1, 1, 1);
             PRAGMA user_version = 1;",
        )
        .expect("v1 item");
        drop(old);
        let store = Store::open(&path).expect("upgrades");
        let version: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, i64::try_from(MIGRATIONS.len()).expect("small"));
        let items = store.newest_items(&["s".to_string()], 10, 0).expect("read");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].link, "https://a.mn/old");
        assert_eq!(
            store.validators("https://a.mn/").expect("v3 table"),
            Validators::default()
        );
    }

    #[test]
    fn reopening_keeps_everything_and_skips_applied_migrations() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("m.db");
        listed(
            &mut Store::open(&path).expect("opens"),
            &[item("https://a.mn/1", "One")],
            at(1),
        );
        let store = Store::open(&path).expect("reopens");
        assert_eq!(
            store
                .newest_items(&["s".to_string()], 10, 0)
                .expect("read")
                .len(),
            1
        );
    }
}
