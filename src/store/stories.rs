//! Story clusters: each new item joins the story of the most similar recent
//! item of another source (see [`crate::cluster`]), or starts its own.
//!
//! Candidates come from `story_terms`, an index of headline terms by term and
//! time: a new item reads only the rows of its own terms inside the window,
//! at most [`ROWS_PER_TERM`] each, so a cycle costs the same with a thousand
//! items stored as with a million. An item's story never changes once
//! assigned: a merged feed's entry id (its story's first report) is stable.

use std::collections::BTreeMap;

use rusqlite::{Transaction, params};

use crate::cluster::{self, Features, StorySettings};
use crate::sanitize::html_to_text;

/// Index rows read per term: the nearest in time when a term is common.
const ROWS_PER_TERM: i64 = 200;

/// Candidates compared in full, those sharing the most terms first.
const MAX_CANDIDATES: usize = 40;

/// A recent item that may tell the same story.
struct Candidate {
    id: i64,
    story_id: i64,
    features: Features,
}

/// The features clustering compares for a headline and its (HTML) teaser.
pub(super) fn features(title: &str, summary: Option<&str>) -> Features {
    let teaser = summary.map(html_to_text).filter(|t| !t.trim().is_empty());
    Features::new(title, teaser.as_deref())
}

/// Puts the new item `id` into a story and indexes its terms.
pub(super) fn assign(
    tx: &Transaction<'_>,
    settings: &StorySettings,
    id: i64,
    source_id: &str,
    features: &Features,
    at: i64,
) -> rusqlite::Result<()> {
    let window = i64::try_from(settings.window.as_secs()).unwrap_or(i64::MAX / 4);
    let (from, to) = (at.saturating_sub(window), at.saturating_add(window));
    let story = match same_title(tx, source_id, &features.title_key, from, to)? {
        Some(story) => story,
        None => most_similar(tx, settings, source_id, features, from, to)?.unwrap_or(id),
    };
    tx.prepare_cached("UPDATE items SET story_id = ?2 WHERE id = ?1")?
        .execute(params![id, story])?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO story_terms (term, at, item_id) VALUES (?1, ?2, ?3)",
    )?;
    for term in features.index_terms() {
        insert.execute(params![term, at, id])?;
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
    settings: &StorySettings,
    source_id: &str,
    features: &Features,
    from: i64,
    to: i64,
) -> rusqlite::Result<Option<i64>> {
    let mut best: Option<(f64, i64, i64)> = None;
    for candidate in candidates(tx, source_id, features, from, to)? {
        if !cluster::same_story(features, &candidate.features, settings.threshold) {
            continue;
        }
        let score = cluster::similarity(features, &candidate.features);
        let better = best.is_none_or(|(s, id, _)| score > s || (score == s && candidate.id < id));
        if better {
            best = Some((score, candidate.id, candidate.story_id));
        }
    }
    Ok(best.map(|(_, _, story)| story))
}

/// Items of other sources in the window sharing at least two index terms
/// with `new`, those sharing the most first.
fn candidates(
    tx: &Transaction<'_>,
    source_id: &str,
    new: &Features,
    from: i64,
    to: i64,
) -> rusqlite::Result<Vec<Candidate>> {
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
        let mut rows = read.query(params![id, source_id])?;
        if let Some(row) = rows.next()? {
            let title: String = row.get(1)?;
            let summary: Option<String> = row.get(2)?;
            out.push(Candidate {
                id,
                story_id: row.get(0)?,
                features: features(&title, summary.as_deref()),
            });
        }
    }
    Ok(out)
}

/// Drops index rows dated before `cutoff`: no new item's window reaches them.
pub(super) fn prune_terms(tx: &Transaction<'_>, cutoff: i64) -> rusqlite::Result<usize> {
    tx.execute("DELETE FROM story_terms WHERE at < ?1", params![cutoff])
}
