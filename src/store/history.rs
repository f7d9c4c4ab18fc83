//! Each source's recent days, for the status page's charts: items by the
//! day they are dated (publication, else first seen) and runs and failed
//! runs by the day they happened. `sources` keeps only the latest state;
//! `run_days` keeps one row per source and UTC day.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use rusqlite::{Transaction, params};

use super::{Store, StoreError, sqlite_err};

/// Days the status page charts, today included.
pub const HISTORY_DAYS: u32 = 30;

/// Seconds in a UTC day: days are counted from the Unix epoch.
const DAY_SECONDS: i64 = 86_400;

/// One source's counts on one UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DayCounts {
    /// The day (UTC).
    pub day: NaiveDate,
    /// Items dated that day (publication date, else first seen).
    pub items: u64,
    /// Runs that day, failed or not.
    pub runs: u64,
    /// Failed runs that day.
    pub failures: u64,
}

/// Days with anything to count, oldest first; days without are left out.
pub type History = Vec<DayCounts>;

/// Counts one run of `source_id` in its day, in the transaction that records it.
pub(super) fn count_run(
    tx: &Transaction<'_>,
    source_id: &str,
    now: DateTime<Utc>,
    failed: bool,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO run_days (source_id, day, runs, failures) VALUES (?1, ?2, 1, ?3)
         ON CONFLICT (source_id, day) DO UPDATE SET runs = runs + 1, failures = failures + ?3",
    )?
    .execute(params![
        source_id,
        now.timestamp().div_euclid(DAY_SECONDS),
        i64::from(failed)
    ])
    .map(drop)
}

/// The first day of the window that ends with `today`.
pub fn first_history_day(today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_days(Days::new(u64::from(HISTORY_DAYS - 1)))
        .unwrap_or(NaiveDate::MIN)
}

fn epoch_day(day: NaiveDate) -> i64 {
    day.signed_duration_since(DateTime::UNIX_EPOCH.date_naive())
        .num_days()
}

fn from_epoch_day(day: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp(day.checked_mul(DAY_SECONDS)?, 0).map(|t| t.date_naive())
}

impl Store {
    /// The last [`HISTORY_DAYS`] days up to `today` of every source the store
    /// has seen, by source id: the status page's charts.
    pub fn history(&self, today: NaiveDate) -> Result<HashMap<String, History>, StoreError> {
        self.query_history(today, None)
    }

    /// The same for one source: what the daemon reads after each of its runs.
    pub fn source_history(&self, id: &str, today: NaiveDate) -> Result<History, StoreError> {
        let mut all = self.query_history(today, Some(id))?;
        Ok(all.remove(id).unwrap_or_default())
    }

    fn query_history(
        &self,
        today: NaiveDate,
        only: Option<&str>,
    ) -> Result<HashMap<String, History>, StoreError> {
        let err = sqlite_err(&self.path);
        let first = epoch_day(first_history_day(today));
        let mut days: HashMap<(String, i64), DayCounts> = HashMap::new();
        // Items by their feed date; the (source, sort_at) index serves both forms.
        let mut items = self
            .conn
            .prepare_cached(
                "SELECT source_id, sort_at / 86400 AS day, COUNT(*) FROM items
                 WHERE sort_at >= ?1 * 86400 AND (?2 IS NULL OR source_id = ?2)
                 GROUP BY source_id, day",
            )
            .map_err(err)?;
        let rows = items
            .query_map(params![first, only], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(err)?;
        for row in rows {
            let (id, day, count) = row.map_err(err)?;
            days.entry((id, day)).or_default().items = count.unsigned_abs();
        }
        let mut runs = self
            .conn
            .prepare_cached(
                "SELECT source_id, day, runs, failures FROM run_days
                 WHERE day >= ?1 AND (?2 IS NULL OR source_id = ?2)",
            )
            .map_err(err)?;
        let rows = runs
            .query_map(params![first, only], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(err)?;
        for row in rows {
            let (id, day, count, failed) = row.map_err(err)?;
            let entry = days.entry((id, day)).or_default();
            entry.runs = count.unsigned_abs();
            entry.failures = failed.unsigned_abs();
        }
        let mut history: HashMap<String, History> = HashMap::new();
        for ((id, day), mut counts) in days {
            let Some(date) = from_epoch_day(day).filter(|d| *d <= today) else {
                continue;
            };
            counts.day = date;
            history.entry(id).or_default().push(counts);
        }
        for days in history.values_mut() {
            days.sort_by_key(|d| d.day);
        }
        Ok(history)
    }

    /// Forgets run counts from before the window that ends with `today`.
    pub fn forget_runs_before_window(&mut self, today: NaiveDate) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "DELETE FROM run_days WHERE day < ?1",
                params![epoch_day(first_history_day(today))],
            )
            .map_err(sqlite_err(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::store::NewItem;

    fn at(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, month, day, hour, 0, 0)
            .single()
            .expect("valid time")
    }

    fn item(link: &str, published: Option<DateTime<Utc>>) -> NewItem {
        NewItem {
            published,
            ..crate::store::tests::item(link, link)
        }
    }

    fn success(store: &mut Store, id: &str, items: &[NewItem], now: DateTime<Utc>) {
        crate::store::tests::listed_by(store, id, items, now);
    }

    #[test]
    fn items_count_on_their_date_and_runs_on_the_day_they_ran() {
        let mut store = Store::in_memory().expect("store");
        let today = at(12, 2, 12);
        success(
            &mut store,
            "a",
            &[
                item("https://a.mn/1", Some(at(11, 30, 8))),
                item("https://a.mn/2", Some(at(11, 30, 9))),
                item("https://a.mn/3", None),
                // Before the window: counted nowhere.
                item("https://a.mn/old", Some(at(10, 1, 9))),
            ],
            today,
        );
        store
            .record_failure("a", "HTTP 500", at(12, 1, 3))
            .expect("failure");
        store
            .record_failure("b", "HTTP 500", at(12, 1, 4))
            .expect("failure");
        store
            .record_not_modified("b", at(12, 2, 5))
            .expect("not modified");

        let history = store.history(today.date_naive()).expect("history");
        let a: Vec<(NaiveDate, u64, u64, u64)> = history["a"]
            .iter()
            .map(|d| (d.day, d.items, d.runs, d.failures))
            .collect();
        let day = |month, day| NaiveDate::from_ymd_opt(2026, month, day).expect("date");
        assert_eq!(
            a,
            [
                (day(11, 30), 2, 0, 0),
                (day(12, 1), 0, 1, 1),
                (day(12, 2), 1, 1, 0)
            ]
        );
        assert_eq!(
            store
                .source_history("b", today.date_naive())
                .expect("history"),
            vec![
                DayCounts {
                    day: day(12, 1),
                    items: 0,
                    runs: 1,
                    failures: 1
                },
                DayCounts {
                    day: day(12, 2),
                    items: 0,
                    runs: 1,
                    failures: 0
                }
            ]
        );
    }

    #[test]
    fn runs_before_the_window_are_forgotten() {
        let mut store = Store::in_memory().expect("store");
        store
            .record_failure("a", "down", at(10, 1, 0))
            .expect("failure");
        store
            .record_failure("a", "down", at(12, 1, 0))
            .expect("failure");
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).expect("date");
        assert_eq!(store.forget_runs_before_window(today).expect("forget"), 1);
        assert_eq!(store.source_history("a", today).expect("history").len(), 1);
    }

    #[test]
    fn the_window_holds_thirty_days_with_today() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).expect("date");
        assert_eq!(
            first_history_day(today),
            NaiveDate::from_ymd_opt(2026, 11, 3).expect("date")
        );
        assert_eq!(from_epoch_day(epoch_day(today)), Some(today));
    }
}
