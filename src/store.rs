//! The local store: SQLite in WAL mode, the one place items and source health live.
//!
//! Every source's cycle is one transaction (its items and its health together),
//! so a crash or kill at any moment leaves either the whole cycle or none of it.
//! Identity is `(source, canonical link)`: a link seen again keeps its row, its
//! first-seen time and therefore its feed id.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::fetch::Validators;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE sources (
    id                   TEXT PRIMARY KEY,
    last_attempt         INTEGER,
    last_success         INTEGER,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE items (
    id                INTEGER PRIMARY KEY,
    source_id         TEXT NOT NULL,
    link              TEXT NOT NULL,
    title             TEXT NOT NULL,
    title_key         TEXT NOT NULL,
    summary           TEXT,
    image             TEXT,
    content           TEXT,
    author            TEXT,
    published         INTEGER,
    published_relative INTEGER NOT NULL DEFAULT 0,
    first_seen        INTEGER NOT NULL,
    last_seen         INTEGER NOT NULL,
    updated           INTEGER NOT NULL,
    sort_at           INTEGER NOT NULL,
    UNIQUE (source_id, link)
);
CREATE INDEX items_by_source_newest ON items (source_id, sort_at DESC, id DESC);
CREATE INDEX items_by_newest ON items (sort_at DESC, id DESC);
CREATE INDEX items_by_first_seen ON items (first_seen);
",
    r"
ALTER TABLE sources ADD COLUMN next_run INTEGER;
",
    r"
CREATE TABLE http_validators (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT
);
ALTER TABLE items ADD COLUMN article_state INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN article_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX items_article_pending ON items (source_id, id) WHERE article_state = 1;
",
];

/// `items.article_state`: no article page wanted.
const ARTICLE_NONE: i64 = 0;
/// `items.article_state`: the article page is still to be fetched.
const ARTICLE_PENDING: i64 = 1;
/// `items.article_state`: the article page was read.
const ARTICLE_DONE: i64 = 2;
/// `items.article_state`: fetching the article page failed too often.
const ARTICLE_GAVE_UP: i64 = 3;

/// Failed article fetches after which an item keeps only what its listing gave.
pub const MAX_ARTICLE_ATTEMPTS: i64 = 3;

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertStats {
    /// Links never seen before.
    pub new: usize,
    /// Known links whose title, summary, image or date changed.
    pub updated: usize,
    /// Known links with nothing new.
    pub unchanged: usize,
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
}

/// A source's health as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceHealth {
    /// Source id.
    pub id: String,
    /// Last fetch attempt.
    pub last_attempt: Option<DateTime<Utc>>,
    /// Last successful cycle.
    pub last_success: Option<DateTime<Utc>>,
    /// Message of the last failure, cleared by a success.
    pub last_error: Option<String>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Items stored for it.
    pub items: u64,
    /// When the running daemon will fetch it next (none when no daemon runs).
    pub next_run: Option<DateTime<Utc>>,
}

/// The store shared by async tasks. SQLite never runs on an async worker:
/// every call goes to a blocking thread, one at a time.
#[derive(Clone)]
pub struct SharedStore(Arc<Mutex<Store>>);

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
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
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
                 PRAGMA busy_timeout = 5000;
                 PRAGMA cache_size = -8192;",
            )
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
        let tx = self.conn.transaction().map_err(err)?;
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

    /// Stores one source's successful cycle: its items, its validators and its
    /// health, in one transaction. Validators are only kept with the items they
    /// describe, so a 304 can never hide items that were not stored.
    pub fn record_success(
        &mut self,
        cycle: &SourceCycle<'_>,
        now: DateTime<Utc>,
    ) -> Result<UpsertStats, StoreError> {
        let err = sqlite_err(&self.path);
        let tx = self.conn.transaction().map_err(err)?;
        let mut stats = UpsertStats::default();
        let article_state = if cycle.want_articles {
            ARTICLE_PENDING
        } else {
            ARTICLE_NONE
        };
        for item in cycle.items {
            upsert(
                &tx,
                cycle.source_id,
                item,
                article_state,
                now.timestamp(),
                &mut stats,
            )
            .map_err(err)?;
        }
        tx.execute(
            "INSERT INTO http_validators (url, etag, last_modified) VALUES (?1, ?2, ?3)
             ON CONFLICT (url) DO UPDATE SET etag = ?2, last_modified = ?3",
            params![
                cycle.url,
                cycle.validators.etag,
                cycle.validators.last_modified
            ],
        )
        .map_err(err)?;
        mark_success(&tx, cycle.source_id, now).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(stats)
    }

    /// Records a 304: the source is healthy and everything it listed last time is still listed.
    pub fn record_not_modified(
        &mut self,
        source_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let err = sqlite_err(&self.path);
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "UPDATE items SET last_seen = ?2
             WHERE source_id = ?1 AND last_seen = (SELECT MAX(last_seen) FROM items WHERE source_id = ?1)",
            params![source_id, now.timestamp()],
        )
        .map_err(err)?;
        mark_success(&tx, source_id, now).map_err(err)?;
        tx.commit().map_err(err)
    }

    /// The validators stored for `url`.
    pub fn validators(&self, url: &str) -> Result<Validators, StoreError> {
        self.conn
            .query_row(
                "SELECT etag, last_modified FROM http_validators WHERE url = ?1",
                params![url],
                |r| {
                    Ok(Validators {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(sqlite_err(&self.path))
    }

    /// Items of `source_id` whose article page is still to be read, oldest first.
    pub fn pending_articles(
        &self,
        source_id: &str,
        limit: usize,
    ) -> Result<Vec<PendingArticle>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, link FROM items WHERE source_id = ?1 AND article_state = ?2 ORDER BY id LIMIT ?3",
            )
            .map_err(sqlite_err(&self.path))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![source_id, ARTICLE_PENDING, limit], |r| {
                Ok(PendingArticle {
                    id: r.get(0)?,
                    link: r.get(1)?,
                })
            })
            .map_err(sqlite_err(&self.path))?;
        rows.collect::<Result<_, _>>()
            .map_err(sqlite_err(&self.path))
    }

    /// Stores what an article fetch came to. Returns whether the item's feed entry changed.
    pub fn record_article(
        &mut self,
        id: i64,
        outcome: &ArticleOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let article = match outcome {
            ArticleOutcome::Read(article) => article,
            ArticleOutcome::Failed => {
                self.conn
                    .execute(
                        "UPDATE items SET article_attempts = article_attempts + 1,
                             article_state = CASE WHEN article_attempts + 1 >= ?2 THEN ?3 ELSE article_state END
                         WHERE id = ?1",
                        params![id, MAX_ARTICLE_ATTEMPTS, ARTICLE_GAVE_UP],
                    )
                    .map_err(sqlite_err(&self.path))?;
                return Ok(false);
            }
            ArticleOutcome::Refused => {
                self.conn
                    .execute(
                        "UPDATE items SET article_state = ?2 WHERE id = ?1",
                        params![id, ARTICLE_GAVE_UP],
                    )
                    .map_err(sqlite_err(&self.path))?;
                return Ok(false);
            }
        };
        let published = article
            .published
            .map(|p| p.timestamp().min(now.timestamp()));
        self.conn
            .execute(
                "UPDATE items SET content = COALESCE(?2, content), author = COALESCE(?3, author),
                     published = COALESCE(?4, published),
                     published_relative = CASE WHEN ?4 IS NULL THEN published_relative ELSE 0 END,
                     sort_at = COALESCE(?4, published, first_seen),
                     article_state = ?5, updated = ?6
                 WHERE id = ?1",
                params![
                    id,
                    article.content,
                    article.author,
                    published,
                    ARTICLE_DONE,
                    now.timestamp()
                ],
            )
            .map(|changed| changed > 0)
            .map_err(sqlite_err(&self.path))
    }

    /// Records a failed cycle; the source's items are left as they were.
    pub fn record_failure(
        &mut self,
        source_id: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO sources (id, last_attempt, last_error, consecutive_failures)
                 VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (id) DO UPDATE SET last_attempt = ?2, last_error = ?3,
                     consecutive_failures = consecutive_failures + 1",
                params![source_id, now.timestamp(), error],
            )
            .map(drop)
            .map_err(sqlite_err(&self.path))
    }

    /// Deletes items first seen before `cutoff` that no listing has shown since
    /// then either: deleting an item still listed would bring it back as new.
    pub fn prune(&mut self, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "DELETE FROM items WHERE first_seen < ?1 AND last_seen < ?1",
                params![cutoff.timestamp()],
            )
            .map_err(sqlite_err(&self.path))
    }

    /// Up to `limit` newest items of the given sources, skipping `offset`.
    pub fn newest_items(
        &self,
        source_ids: &[String],
        limit: usize,
        offset: usize,
    ) -> Result<Vec<StoredItem>, StoreError> {
        if source_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; source_ids.len()].join(", ");
        let sql = format!(
            "SELECT id, source_id, link, title, title_key, summary, image, content, author,
                    published, first_seen, updated, sort_at
             FROM items WHERE source_id IN ({placeholders})
             ORDER BY sort_at DESC, id DESC LIMIT {limit} OFFSET {offset}"
        );
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(sqlite_err(&self.path))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(source_ids), row_to_item)
            .map_err(sqlite_err(&self.path))?;
        rows.collect::<Result<_, _>>()
            .map_err(sqlite_err(&self.path))
    }

    /// Records when the daemon will next fetch `source_id` (`None`: not scheduled).
    pub fn set_next_run(
        &mut self,
        source_id: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO sources (id, next_run) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET next_run = ?2",
                params![source_id, at.map(|t| t.timestamp())],
            )
            .map(drop)
            .map_err(sqlite_err(&self.path))
    }

    /// Forgets every scheduled run: the daemon is stopping.
    pub fn clear_next_runs(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE sources SET next_run = NULL WHERE next_run IS NOT NULL",
                [],
            )
            .map(drop)
            .map_err(sqlite_err(&self.path))
    }

    /// Consecutive failures and the last attempt of a failing source (`None` when healthy).
    pub fn failure_state(
        &self,
        source_id: &str,
    ) -> Result<Option<(u32, DateTime<Utc>)>, StoreError> {
        self.conn
            .query_row(
                "SELECT consecutive_failures, last_attempt FROM sources
                 WHERE id = ?1 AND consecutive_failures > 0 AND last_attempt IS NOT NULL",
                params![source_id],
                |r| Ok((r.get::<_, u32>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()
            .map(|row| row.and_then(|(n, at)| Some((n, timestamp(at)?))))
            .map_err(sqlite_err(&self.path))
    }

    /// A cheap query proving the database answers (the watchdog's health check).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(sqlite_err(&self.path))
    }

    /// Health of every source the store has seen, by id.
    pub fn health(&self) -> Result<Vec<SourceHealth>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.id, s.last_attempt, s.last_success, s.last_error, s.consecutive_failures,
                        (SELECT COUNT(*) FROM items i WHERE i.source_id = s.id), s.next_run
                 FROM sources s ORDER BY s.id",
            )
            .map_err(sqlite_err(&self.path))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SourceHealth {
                    id: r.get(0)?,
                    last_attempt: r.get::<_, Option<i64>>(1)?.and_then(timestamp),
                    last_success: r.get::<_, Option<i64>>(2)?.and_then(timestamp),
                    last_error: r.get(3)?,
                    consecutive_failures: r.get(4)?,
                    items: r.get::<_, i64>(5)?.unsigned_abs(),
                    next_run: r.get::<_, Option<i64>>(6)?.and_then(timestamp),
                })
            })
            .map_err(sqlite_err(&self.path))?;
        rows.collect::<Result<_, _>>()
            .map_err(sqlite_err(&self.path))
    }
}

/// Wraps a SQLite error with the database path, so a user knows which file failed.
fn sqlite_err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + Copy + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

fn mark_success(tx: &Transaction<'_>, source_id: &str, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO sources (id, last_attempt, last_success, last_error, consecutive_failures)
         VALUES (?1, ?2, ?2, NULL, 0)
         ON CONFLICT (id) DO UPDATE SET last_attempt = ?2, last_success = ?2,
             last_error = NULL, consecutive_failures = 0",
        params![source_id, now.timestamp()],
    )
    .map(drop)
}

fn timestamp(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, 0)
}

fn row_to_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredItem> {
    let time = |i: usize| -> rusqlite::Result<DateTime<Utc>> {
        let seconds: i64 = r.get(i)?;
        timestamp(seconds).ok_or(rusqlite::Error::IntegralValueOutOfRange(i, seconds))
    };
    Ok(StoredItem {
        id: r.get(0)?,
        source_id: r.get(1)?,
        link: r.get(2)?,
        title: r.get(3)?,
        title_key: r.get(4)?,
        summary: r.get(5)?,
        image: r.get(6)?,
        content: r.get(7)?,
        author: r.get(8)?,
        published: r.get::<_, Option<i64>>(9)?.and_then(timestamp),
        first_seen: time(10)?,
        updated: time(11)?,
        sort_at: time(12)?,
    })
}

struct Existing {
    id: i64,
    title: String,
    summary: Option<String>,
    image: Option<String>,
    published: Option<i64>,
    published_relative: bool,
    first_seen: i64,
}

fn upsert(
    tx: &Transaction<'_>,
    source_id: &str,
    item: &NewItem,
    article_state: i64,
    now: i64,
    stats: &mut UpsertStats,
) -> rusqlite::Result<()> {
    let published = item.published.map(|p| p.timestamp().min(now));
    let existing = tx
        .prepare_cached(
            "SELECT id, title, summary, image, published, published_relative, first_seen
             FROM items WHERE source_id = ?1 AND link = ?2",
        )?
        .query_row(params![source_id, item.link], |r| {
            Ok(Existing {
                id: r.get(0)?,
                title: r.get(1)?,
                summary: r.get(2)?,
                image: r.get(3)?,
                published: r.get(4)?,
                published_relative: r.get(5)?,
                first_seen: r.get(6)?,
            })
        })
        .optional()?;
    let Some(old) = existing else {
        tx.prepare_cached(
            "INSERT INTO items (source_id, link, title, title_key, summary, image, published,
                                published_relative, first_seen, last_seen, updated, sort_at, article_state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?9, ?10, ?11)",
        )?
        .execute(params![
            source_id,
            item.link,
            item.title,
            item.title_key,
            item.summary,
            item.image,
            published,
            item.published_relative,
            now,
            published.unwrap_or(now),
            article_state,
        ])?;
        stats.new += 1;
        return Ok(());
    };
    // A relative date ("2 hours ago") drifts with every fetch: keep the first reading.
    let (published, published_relative) = match (published, old.published) {
        (Some(_), Some(_)) if item.published_relative => (old.published, old.published_relative),
        (None, _) => (old.published, old.published_relative),
        (new, _) => (new, item.published_relative),
    };
    let changed = old.title != item.title
        || old.summary != item.summary
        || old.image != item.image
        || old.published != published;
    if changed {
        tx.prepare_cached(
            "UPDATE items SET title = ?2, title_key = ?3, summary = ?4, image = ?5, published = ?6,
                              published_relative = ?7, last_seen = ?8, updated = ?8, sort_at = ?9
             WHERE id = ?1",
        )?
        .execute(params![
            old.id,
            item.title,
            item.title_key,
            item.summary,
            item.image,
            published,
            published_relative,
            now,
            published.unwrap_or(old.first_seen),
        ])?;
        stats.updated += 1;
    } else {
        tx.prepare_cached("UPDATE items SET last_seen = ?2 WHERE id = ?1")?
            .execute(params![old.id, now])?;
        stats.unchanged += 1;
    }
    Ok(())
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

    fn item(link: &str, title: &str) -> NewItem {
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
        let cycle = SourceCycle {
            source_id: "s",
            url: "https://a.mn/",
            validators: &Validators::default(),
            items,
            want_articles: false,
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
