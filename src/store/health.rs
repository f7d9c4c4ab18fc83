//! Source health: failures, schedule and the publish bookkeeping, as `status`, `/healthz` and the scheduler read them.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::history::count_run;
use super::items::count_change;
use super::{Store, StoreError, sqlite_err, timestamp, write_transaction};

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

impl SourceHealth {
    /// `ok`, `failing` (one failure), `backing_off` (two or more: the
    /// daemon waits longer before each retry) or `never_run`.
    pub fn state(&self) -> &'static str {
        match self.consecutive_failures {
            _ if self.last_attempt.is_none() => "never_run",
            0 => "ok",
            1 => "failing",
            _ => "backing_off",
        }
    }
}

impl Store {
    /// Records a failed cycle; the source's items are left as they were.
    /// A failure changes what the status page shows, so it counts as a
    /// change of the outputs, and it is counted in the day's runs.
    pub fn record_failure(
        &mut self,
        source_id: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let err = sqlite_err(&self.path);
        let tx = write_transaction(&mut self.conn, &self.path)?;
        tx.execute(
            "INSERT INTO sources (id, last_attempt, last_error, consecutive_failures)
             VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (id) DO UPDATE SET last_attempt = ?2, last_error = ?3,
                 consecutive_failures = consecutive_failures + 1",
            params![source_id, now.timestamp(), error],
        )
        .map_err(err)?;
        count_run(&tx, source_id, now, true).map_err(err)?;
        count_change(&tx).map_err(err)?;
        tx.commit().map_err(err)
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

    /// A cheap query proving the database answers (the watchdog's health check).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(sqlite_err(&self.path))
    }

    /// Health of every source the store has seen, by id.
    pub fn health(&self) -> Result<Vec<SourceHealth>, StoreError> {
        self.query_health("", [])
    }

    /// Health of one source (`None` before its first run): what the daemon
    /// reads after each run, so `/healthz` never counts every item.
    pub fn source_health(&self, id: &str) -> Result<Option<SourceHealth>, StoreError> {
        self.query_health("WHERE s.id = ?1", [id])
            .map(|rows| rows.into_iter().next())
    }

    fn query_health<P: rusqlite::Params>(
        &self,
        filter: &str,
        params: P,
    ) -> Result<Vec<SourceHealth>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT s.id, s.last_attempt, s.last_success, s.last_error, s.consecutive_failures,
                        (SELECT COUNT(*) FROM items i WHERE i.source_id = s.id), s.next_run
                 FROM sources s {filter} ORDER BY s.id"
            ))
            .map_err(sqlite_err(&self.path))?;
        let rows = stmt
            .query_map(params, |r| {
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

/// Where the outputs stand against the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishState {
    /// Commits that changed what the outputs show, ever.
    pub changes: i64,
    /// The value of `changes` the outputs were last written at.
    pub published: i64,
}

impl PublishState {
    /// Whether the outputs lag behind the store.
    pub fn stale(self) -> bool {
        self.changes > self.published
    }
}

impl Store {
    /// Where the outputs stand: read before a snapshot is taken.
    pub fn publish_state(&self) -> Result<PublishState, StoreError> {
        self.conn
            .query_row(
                "SELECT changes, published FROM outputs WHERE id = 1",
                [],
                |r| {
                    Ok(PublishState {
                        changes: r.get(0)?,
                        published: r.get(1)?,
                    })
                },
            )
            .map_err(sqlite_err(&self.path))
    }

    /// Records that the outputs now show the store as it was at `state`;
    /// changes committed since stay pending.
    pub fn mark_published(&mut self, state: PublishState) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outputs SET published = MAX(published, ?1) WHERE id = 1",
                params![state.changes],
            )
            .map(drop)
            .map_err(sqlite_err(&self.path))
    }
}
