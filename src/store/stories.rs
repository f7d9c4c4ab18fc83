//! Story clusters: each new item joins the story of the most similar recent
//! item of another source (see [`crate::cluster`]), or starts its own.
//!
//! Candidates come from `story_terms`, an index of headline terms by term and
//! time: a new item reads only the rows of its own terms inside the window,
//! at most [`ROWS_PER_TERM`] each, so a cycle costs the same with a thousand
//! items stored as with a million. An item's story never changes once
//! assigned: a merged feed's entry id (its story's first report) is stable.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use rusqlite::{Transaction, params};

use crate::cluster::{self, Features, StorySettings};
use crate::sanitize::html_to_text;

/// Index rows read per term: the nearest in time when a term is common.
const ROWS_PER_TERM: i64 = 100;

/// Candidates compared in full, those sharing the most terms first.
const MAX_CANDIDATES: usize = 20;

/// A recent item of another source that may tell the same story.
struct Candidate {
    story_id: i64,
    title: String,
    headline: Features,
    summary: Option<String>,
}

/// Clustering through one source's cycle: the settings, and the candidates
/// read so far. The same recent items of other sources come back as
/// candidates for item after item, and they do not change while this
/// source's cycle is stored, so each is read and reduced to features once.
pub(super) struct Clustering<'a> {
    settings: &'a StorySettings,
    /// By row id; `None` for an item of this source (never a candidate).
    read: HashMap<i64, Option<Candidate>>,
}

impl<'a> Clustering<'a> {
    pub(super) fn new(settings: &'a StorySettings) -> Self {
        Self {
            settings,
            read: HashMap::new(),
        }
    }
}

/// An item's features with its teaser: the summary's HTML is parsed only for
/// the few pairs whose headlines fall just short.
fn with_teaser(title: &str, summary: Option<&str>) -> Features {
    let teaser = summary.map(html_to_text).filter(|t| !t.trim().is_empty());
    Features::new(title, teaser.as_deref())
}

/// A new item, as clustering reads it.
pub(super) struct NewReport<'a> {
    /// Row id.
    pub id: i64,
    /// Its source.
    pub source_id: &'a str,
    /// Headline.
    pub title: &'a str,
    /// Sanitised HTML teaser.
    pub summary: Option<&'a str>,
    /// Publication time, else first-seen.
    pub at: i64,
}

/// Puts the new item into a story and indexes its terms.
pub(super) fn assign(
    tx: &Transaction<'_>,
    clustering: &mut Clustering<'_>,
    new: &NewReport<'_>,
) -> rusqlite::Result<()> {
    let headline = Features::new(new.title, None);
    let window = i64::try_from(clustering.settings.window.as_secs()).unwrap_or(i64::MAX / 4);
    let (from, to) = (new.at.saturating_sub(window), new.at.saturating_add(window));
    let story = match same_title(tx, new.source_id, &headline.title_key, from, to)? {
        Some(story) => story,
        None => most_similar(tx, clustering, new, &headline, from, to)?.unwrap_or(new.id),
    };
    tx.prepare_cached("UPDATE items SET story_id = ?2 WHERE id = ?1")?
        .execute(params![new.id, story])?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO story_terms (term, at, item_id) VALUES (?1, ?2, ?3)",
    )?;
    for term in headline.index_terms() {
        insert.execute(params![term, new.at, new.id])?;
    }
    Ok(())
}

/// The story of an item of another source with the same normalised title in
/// the window: the first, cheapest test.
fn same_title(
    tx: &Transaction<'_>,
    source_id: &str,
    title_key: &str,
    from: i64,
    to: i64,
) -> rusqlite::Result<Option<i64>> {
    if title_key.is_empty() {
        return Ok(None);
    }
    let mut stmt = tx.prepare_cached(
        "SELECT COALESCE(story_id, id) FROM items
         WHERE title_key = ?1 AND sort_at BETWEEN ?2 AND ?3 AND source_id <> ?4
         ORDER BY id LIMIT 1",
    )?;
    let mut rows = stmt.query(params![title_key, from, to, source_id])?;
    rows.next()?.map(|r| r.get(0)).transpose()
}

/// The story of the most similar candidate that passes the threshold; ties
/// go to the earlier item, so the outcome depends only on what is stored.
fn most_similar(
    tx: &Transaction<'_>,
    clustering: &mut Clustering<'_>,
    new: &NewReport<'_>,
    headline: &Features,
    from: i64,
    to: i64,
) -> rusqlite::Result<Option<i64>> {
    let threshold = clustering.settings.threshold;
    let mut new_with_teaser: Option<Features> = None;
    let mut best: Option<(f64, i64, i64)> = None;
    for id in candidates(tx, clustering, new.source_id, headline, from, to)? {
        let Some(Some(candidate)) = clustering.read.get(&id) else {
            continue;
        };
        let score = cluster::similarity(headline, &candidate.headline);
        let better = best.is_none_or(|(s, best_id, _)| score > s || (score == s && id < best_id));
        if !better {
            continue;
        }
        let passes = score >= threshold
            || (cluster::teasers_may_decide(score, threshold)
                && new.summary.is_some()
                && candidate.summary.is_some()
                && cluster::teasers_agree(
                    new_with_teaser.get_or_insert_with(|| with_teaser(new.title, new.summary)),
                    &with_teaser(&candidate.title, candidate.summary.as_deref()),
                    threshold,
                ));
        if passes {
            best = Some((score, id, candidate.story_id));
        }
    }
    Ok(best.map(|(_, _, story)| story))
}

/// Items of other sources in the window sharing at least two index terms
/// with `new`, those sharing the most first, each read into
/// `clustering.read` (once per cycle).
fn candidates(
    tx: &Transaction<'_>,
    clustering: &mut Clustering<'_>,
    source_id: &str,
    new: &Features,
    from: i64,
    to: i64,
) -> rusqlite::Result<Vec<i64>> {
    let mut shared: BTreeMap<i64, usize> = BTreeMap::new();
    let mut lookup = tx.prepare_cached(
        "SELECT item_id FROM story_terms WHERE term = ?1 AND at BETWEEN ?2 AND ?3
         ORDER BY at DESC LIMIT ?4",
    )?;
    for term in new.index_terms() {
        let ids = lookup.query_map(params![term, from, to, ROWS_PER_TERM], |r| r.get(0))?;
        for id in ids {
            *shared.entry(id?).or_default() += 1;
        }
    }
    let mut ranked: Vec<(i64, usize)> = shared.into_iter().filter(|(_, n)| *n >= 2).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(MAX_CANDIDATES);
    let mut read = tx.prepare_cached(
        "SELECT COALESCE(story_id, id), title, summary FROM items WHERE id = ?1 AND source_id <> ?2",
    )?;
    let mut out = Vec::with_capacity(ranked.len());
    for (id, _) in ranked {
        if let Entry::Vacant(slot) = clustering.read.entry(id) {
            let mut rows = read.query(params![id, source_id])?;
            let candidate = match rows.next()? {
                Some(row) => {
                    let title: String = row.get(1)?;
                    Some(Candidate {
                        story_id: row.get(0)?,
                        headline: Features::new(&title, None),
                        title,
                        summary: row.get(2)?,
                    })
                }
                None => None,
            };
            slot.insert(candidate);
        }
        out.push(id);
    }
    Ok(out)
}

/// Drops index rows dated before `cutoff`: no new item's window reaches them.
pub(super) fn prune_terms(tx: &Transaction<'_>, cutoff: i64) -> rusqlite::Result<usize> {
    tx.execute("DELETE FROM story_terms WHERE at < ?1", params![cutoff])
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use crate::store::{NewItem, Store};

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, day, hour, 0, 0)
            .single()
            .expect("valid time")
    }

    fn item(link: &str, title: &str, published: DateTime<Utc>) -> NewItem {
        NewItem {
            published: Some(published),
            ..crate::store::tests::item(link, title)
        }
    }

    fn store_items(store: &mut Store, source: &str, items: &[NewItem], now: DateTime<Utc>) {
        crate::store::tests::listed_by(store, source, items, now);
    }

    /// Story id of every stored item, by link.
    fn stories(store: &Store) -> std::collections::HashMap<String, i64> {
        let ids: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        store
            .newest_items(&ids, 100, 0)
            .expect("read")
            .into_iter()
            .map(|i| (i.link, i.story_id))
            .collect()
    }

    const A: &str = "Ерөнхий сайд Л.Оюун-Эрдэнэ Японы Ерөнхий сайдтай утсаар ярилцлаа";
    const B: &str = "Л.Оюун-Эрдэнэ Японы Ерөнхий сайдтай утсаар ярилцжээ";

    #[test]
    fn a_reworded_report_of_another_source_joins_the_first_reports_story() {
        let mut store = Store::in_memory().expect("store");
        store_items(
            &mut store,
            "a",
            &[item("https://a.mn/1", A, at(10, 8))],
            at(10, 9),
        );
        store_items(
            &mut store,
            "b",
            &[item("https://b.mn/1", B, at(11, 7))],
            at(11, 8),
        );
        store_items(
            &mut store,
            "c",
            &[item(
                "https://c.mn/1",
                "Хүлэгүүд Солонгосыг 3:1-ээр хожлоо",
                at(11, 7),
            )],
            at(11, 8),
        );
        let s = stories(&store);
        assert_eq!(s["https://a.mn/1"], s["https://b.mn/1"]);
        assert_ne!(s["https://a.mn/1"], s["https://c.mn/1"]);
        let members = store
            .story_members(&[s["https://a.mn/1"]], &["a".into(), "b".into()])
            .expect("members");
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].link, "https://a.mn/1");
    }

    #[test]
    fn reports_further_apart_than_the_window_stay_apart() {
        let mut store = Store::in_memory().expect("store");
        store_items(
            &mut store,
            "a",
            &[item("https://a.mn/1", A, at(10, 8))],
            at(10, 9),
        );
        store_items(
            &mut store,
            "b",
            &[item("https://b.mn/1", A, at(13, 7))],
            at(13, 8),
        );
        let s = stories(&store);
        assert_ne!(s["https://a.mn/1"], s["https://b.mn/1"]);
    }

    #[test]
    fn one_source_never_joins_its_own_story() {
        let mut store = Store::in_memory().expect("store");
        store_items(
            &mut store,
            "a",
            &[item("https://a.mn/1", A, at(10, 8))],
            at(10, 9),
        );
        store_items(
            &mut store,
            "a",
            &[item("https://a.mn/2", B, at(10, 9))],
            at(10, 10),
        );
        let s = stories(&store);
        assert_ne!(s["https://a.mn/1"], s["https://a.mn/2"]);
    }

    #[test]
    fn a_stored_items_story_never_changes_when_its_title_does() {
        let mut store = Store::in_memory().expect("store");
        store_items(
            &mut store,
            "a",
            &[item("https://a.mn/1", A, at(10, 8))],
            at(10, 9),
        );
        store_items(
            &mut store,
            "b",
            &[item("https://b.mn/1", "Өөр мэдээ", at(10, 8))],
            at(10, 9),
        );
        let before = stories(&store);
        store_items(
            &mut store,
            "b",
            &[item("https://b.mn/1", B, at(10, 8))],
            at(10, 10),
        );
        assert_eq!(stories(&store), before);
    }

    #[test]
    fn a_tighter_threshold_keeps_reworded_reports_apart() {
        let mut store = Store::in_memory().expect("store");
        store.set_story_settings(crate::cluster::StorySettings {
            threshold: 1.0,
            ..Default::default()
        });
        store_items(
            &mut store,
            "a",
            &[item("https://a.mn/1", A, at(10, 8))],
            at(10, 9),
        );
        store_items(
            &mut store,
            "b",
            &[item(
                "https://b.mn/1",
                "Ерөнхий сайд Л.Оюун-Эрдэнэ, Японы Ерөнхий сайд хоёр утсаар ярилцав",
                at(10, 9),
            )],
            at(10, 10),
        );
        let s = stories(&store);
        assert_ne!(s["https://a.mn/1"], s["https://b.mn/1"]);
    }

    #[test]
    fn pruning_drops_index_rows_a_window_behind_the_items() {
        let mut store = Store::in_memory().expect("store");
        store_items(
            &mut store,
            "a",
            &[item("https://a.mn/1", A, at(1, 8))],
            at(1, 9),
        );
        store_items(
            &mut store,
            "b",
            &[item("https://b.mn/1", B, at(20, 8))],
            at(20, 9),
        );
        store.prune(at(15, 0)).expect("pruned");
        let rows: i64 = store
            .conn
            .query_row("SELECT COUNT(DISTINCT item_id) FROM story_terms", [], |r| {
                r.get(0)
            })
            .expect("count");
        assert_eq!(rows, 1);
    }
}
