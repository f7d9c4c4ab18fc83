//! Items: what each run stored, what the feeds are rendered from, and what retention prunes.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::history::count_run;
use super::schema::{ARTICLE_DONE, ARTICLE_GAVE_UP, ARTICLE_NONE, ARTICLE_PENDING};
use super::stories;
use super::{
    ArticleOutcome, MAX_ARTICLE_ATTEMPTS, NewItem, PendingArticle, SourceCycle, Store, StoreError,
    StoredItem, UpsertStats, sqlite_err, timestamp, write_transaction,
};
use crate::fetch::Validators;
use crate::repair::detect::{HISTORY_RUNS, RunStats};

impl Store {
    /// Stores one source's successful cycle: its items, its validators and its
    /// health, in one transaction. Validators are only kept with the items they
    /// describe, so a 304 can never hide items that were not stored.
    pub fn record_success(
        &mut self,
        cycle: &SourceCycle<'_>,
        now: DateTime<Utc>,
    ) -> Result<UpsertStats, StoreError> {
        let err = sqlite_err(&self.path);
        let tx = write_transaction(&mut self.conn, &self.path)?;
        let mut stats = UpsertStats::default();
        let article_state = if cycle.want_articles {
            ARTICLE_PENDING
        } else {
            ARTICLE_NONE
        };
        let first_fill = !tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM items WHERE source_id = ?1)")
            .and_then(|mut s| s.query_row(params![cycle.source_id], |r| r.get::<_, bool>(0)))
            .map_err(err)?;
        let mut clustering = stories::Clustering::new(&self.stories);
        for item in cycle.items {
            upsert(
                &tx,
                &mut clustering,
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
        if first_fill {
            stats.new_ids.clear();
        }
        mark_success(&tx, cycle.source_id, now).map_err(err)?;
        if let Some((selectors, run)) = &cycle.stats {
            record_run(&tx, cycle.source_id, selectors, run, now).map_err(err)?;
        }
        if stats.changed() {
            count_change(&tx).map_err(err)?;
        }
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
        let tx = write_transaction(&mut self.conn, &self.path)?;
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
        let err = sqlite_err(&self.path);
        let tx = write_transaction(&mut self.conn, &self.path)?;
        let changed = tx
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
            .map_err(err)?
            > 0;
        if changed {
            count_change(&tx).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(changed)
    }

    /// Deletes items first seen before `cutoff` that no listing has shown since
    /// then either: deleting an item still listed would bring it back as new.
    /// The story index keeps one window more than the items.
    pub fn prune(&mut self, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
        let err = sqlite_err(&self.path);
        let window = i64::try_from(self.stories.window.as_secs()).unwrap_or(0);
        let tx = write_transaction(&mut self.conn, &self.path)?;
        let pruned = tx
            .execute(
                "DELETE FROM items WHERE first_seen < ?1 AND last_seen < ?1",
                params![cutoff.timestamp()],
            )
            .map_err(err)?;
        stories::prune_terms(&tx, cutoff.timestamp().saturating_sub(window)).map_err(err)?;
        if pruned > 0 {
            count_change(&tx).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(pruned)
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
            "SELECT {ITEM_COLUMNS} FROM items WHERE source_id IN ({placeholders})
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
}

impl Store {
    /// The items with these row ids that are still stored, in id order
    /// (the order they were first stored in): what the `on_new` hook is given.
    pub fn items_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredItem>, StoreError> {
        let mut items = Vec::with_capacity(ids.len());
        // In chunks: SQLite bounds the number of parameters of one statement.
        for chunk in ids.chunks(500) {
            let placeholders = vec!["?"; chunk.len()].join(", ");
            let sql = format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE id IN ({placeholders}) ORDER BY id"
            );
            let mut stmt = self.conn.prepare(&sql).map_err(sqlite_err(&self.path))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(chunk), row_to_item)
                .map_err(sqlite_err(&self.path))?;
            for row in rows {
                items.push(row.map_err(sqlite_err(&self.path))?);
            }
        }
        Ok(items)
    }

    /// Every stored report of the given stories from the given sources, by
    /// story: what a merged feed shows as one entry with its related links.
    pub fn story_members(
        &self,
        story_ids: &[i64],
        source_ids: &[String],
    ) -> Result<Vec<StoredItem>, StoreError> {
        let err = sqlite_err(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE story_id = ?1 ORDER BY id"
            ))
            .map_err(err)?;
        let mut out = Vec::new();
        for story in story_ids {
            let rows = stmt.query_map(params![story], row_to_item).map_err(err)?;
            for row in rows {
                let item = row.map_err(err)?;
                if source_ids.contains(&item.source_id) {
                    out.push(item);
                }
            }
        }
        Ok(out)
    }
}

/// Records, in the transaction that made it, that what the outputs show changed.
pub(super) fn count_change(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute("UPDATE outputs SET changes = changes + 1 WHERE id = 1", [])
        .map(drop)
}

/// Records a successful run. One that ends a failure streak changes what
/// the status page shows and takes the feeds' notice away, so it counts as
/// a change of the outputs.
fn mark_success(tx: &Transaction<'_>, source_id: &str, now: DateTime<Utc>) -> rusqlite::Result<()> {
    let was_failing: bool = tx
        .query_row(
            "SELECT failing_since IS NOT NULL FROM sources WHERE id = ?1",
            params![source_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false);
    count_run(tx, source_id, now, false)?;
    tx.execute(
        "INSERT INTO sources (id, last_attempt, last_success, last_error, consecutive_failures)
         VALUES (?1, ?2, ?2, NULL, 0)
         ON CONFLICT (id) DO UPDATE SET last_attempt = ?2, last_success = ?2,
             last_error = NULL, consecutive_failures = 0, failing_since = NULL,
             broken = 0, proposal = NULL",
        params![source_id, now.timestamp()],
    )?;
    if was_failing {
        count_change(tx)?;
    }
    Ok(())
}

/// Keeps what a run found with `selectors`, and only the runs the baseline
/// is made of.
fn record_run(
    tx: &Transaction<'_>,
    source_id: &str,
    selectors: &str,
    stats: &RunStats,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    tx.execute(
        "INSERT INTO source_runs (source_id, selectors, at, matched, found, dated, summarised)
         VALUES (?1, ?7, ?2, ?3, ?4, ?5, ?6)",
        params![
            source_id,
            now.timestamp(),
            count(stats.matched),
            count(stats.found),
            count(stats.dated),
            count(stats.summarised),
            selectors
        ],
    )?;
    tx.execute(
        "DELETE FROM source_runs WHERE source_id = ?1 AND id NOT IN
             (SELECT id FROM source_runs WHERE source_id = ?1 ORDER BY id DESC LIMIT ?2)",
        params![source_id, count(HISTORY_RUNS)],
    )
    .map(drop)
}

/// The columns [`row_to_item`] reads, in its order; a story is its first
/// report's row id (an item stored before clustering is its own story).
const ITEM_COLUMNS: &str = "id, source_id, link, title, title_key, summary, image, content, author, \
     published, first_seen, updated, sort_at, COALESCE(story_id, id)";

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
        story_id: r.get(13)?,
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
    clustering: &mut stories::Clustering<'_>,
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
        let id = insert_new(tx, source_id, item, published, article_state, now)?;
        let report = stories::NewReport {
            id,
            source_id,
            title: &item.title,
            summary: item.summary.as_deref(),
            at: published.unwrap_or(now),
        };
        stories::assign(tx, clustering, &report)?;
        stats.new += 1;
        stats.new_ids.push(id);
        return Ok(());
    };
    update_existing(tx, &old, item, published, now, stats)
}

/// Stores an item seen for the first time; returns its row id.
fn insert_new(
    tx: &Transaction<'_>,
    source_id: &str,
    item: &NewItem,
    published: Option<i64>,
    article_state: i64,
    now: i64,
) -> rusqlite::Result<i64> {
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
    Ok(tx.last_insert_rowid())
}

/// Records that a stored item was listed again, with what changed in it.
fn update_existing(
    tx: &Transaction<'_>,
    old: &Existing,
    item: &NewItem,
    published: Option<i64>,
    now: i64,
    stats: &mut UpsertStats,
) -> rusqlite::Result<()> {
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
