//! Breakage detection beyond "`item` matched nothing": a listing that still
//! matches but collapsed against the source's own recent runs.
//!
//! The thresholds (also in the README, "When a site changes"):
//!
//! - **count**: the items found (with a title and a link, before
//!   `include`/`exclude`, so a filter that keeps nothing today is no
//!   breakage) fall below [`COUNT_SHARE`] (30 %) of the median of the last
//!   [`HISTORY_RUNS`] (10) successful runs;
//! - **a field**: dates, links or summaries present in fewer than
//!   [`FIELD_NOW`] (half) of the items where the median run had them in at
//!   least [`FIELD_USUAL`] (80 %). A link counts as present when a matched
//!   block yields a title and a link;
//! - **titles**: every item, at least [`SAME_TITLE_MIN`] (3), has the same
//!   headline (a selector that now reads a site-wide label).
//!
//! The count and field rules need [`MIN_HISTORY`] (3) successful runs first;
//! a new source's first runs are its baseline, not a breakage.

use std::fmt;

use crate::extract::RawItem;
use crate::identity::title_key;

/// A run's items below this share of the usual count is a collapse.
pub const COUNT_SHARE: f64 = 0.3;
/// Successful runs the baseline is the median of.
pub const HISTORY_RUNS: usize = 10;
/// Successful runs needed before the count and field rules apply.
pub const MIN_HISTORY: usize = 3;
/// A field "used to be present" when the median run had it in this share of items.
pub const FIELD_USUAL: f64 = 0.8;
/// A field "is missing in most items" below this share.
pub const FIELD_NOW: f64 = 0.5;
/// Fewest items that, all with one headline, make a breakage.
pub const SAME_TITLE_MIN: usize = 3;

/// What one successful run of a source found: stored per run, the baseline
/// of the next runs' checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Blocks `item` matched and medee read: items, and blocks without a
    /// title or a link (not those past `max_page_items`, nor repeated links).
    pub matched: usize,
    /// Of those, items with a title and a link.
    pub found: usize,
    /// Items with date text.
    pub dated: usize,
    /// Items with a summary.
    pub summarised: usize,
}

impl RunStats {
    /// The counts of a page's items before filters, of `matched` blocks read.
    pub fn of(matched: usize, items: &[RawItem]) -> Self {
        Self {
            matched: matched.max(items.len()),
            found: items.len(),
            dated: items.iter().filter(|i| i.date_text.is_some()).count(),
            summarised: items.iter().filter(|i| i.summary.is_some()).count(),
        }
    }

    fn share(&self, field: Field) -> f64 {
        let (present, of) = match field {
            Field::Dates => (self.dated, self.found),
            Field::Summaries => (self.summarised, self.found),
            Field::Links => (self.found, self.matched),
        };
        if of == 0 {
            0.0
        } else {
            present as f64 / of as f64
        }
    }
}

/// A field a listing can lose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Date text.
    Dates,
    /// Titles with links (a matched block yields an item).
    Links,
    /// Teasers.
    Summaries,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Dates => "dates",
            Self::Links => "links",
            Self::Summaries => "summaries",
        })
    }
}

/// How a listing that still matched collapsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Collapse {
    /// Far fewer items than usual.
    Count {
        /// Items found now.
        found: usize,
        /// The median of the recent runs.
        usual: usize,
    },
    /// A field went missing in most items.
    Field {
        /// Which.
        field: Field,
        /// Share of items with it now.
        now: f64,
        /// Share in the median recent run.
        usual: f64,
    },
    /// Every item has this headline.
    SameTitle {
        /// The headline.
        title: String,
        /// How many items carry it.
        items: usize,
    },
}

impl fmt::Display for Collapse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = |share: f64| (share * 100.0).round();
        match self {
            Self::Count { found, usual } => write!(
                f,
                "the listing collapsed: {found} items found, where the last runs found {usual} (median); the site's markup may have changed"
            ),
            Self::Field { field, now, usual } => write!(
                f,
                "{field} went missing: {}% of items have them, where the last runs had {}%; the site's markup may have changed",
                percent(*now),
                percent(*usual)
            ),
            Self::SameTitle { title, items } => write!(
                f,
                "all {items} items have the same title {title:?}; the title selector no longer reads the headlines"
            ),
        }
    }
}

/// Checks a run's counts and headlines against the source's recent
/// successful runs (newest first; only the first [`HISTORY_RUNS`] count).
pub fn detect(now: &RunStats, titles: &[&str], history: &[RunStats]) -> Option<Collapse> {
    same_title(titles).or_else(|| {
        let history = &history[..history.len().min(HISTORY_RUNS)];
        if history.len() < MIN_HISTORY {
            return None;
        }
        count_collapse(now, history).or_else(|| field_collapse(now, history))
    })
}

fn same_title(titles: &[&str]) -> Option<Collapse> {
    let first = titles.first()?;
    let key = title_key(first);
    (titles.len() >= SAME_TITLE_MIN && titles.iter().all(|t| title_key(t) == key)).then(|| {
        Collapse::SameTitle {
            title: (*first).to_string(),
            items: titles.len(),
        }
    })
}

fn count_collapse(now: &RunStats, history: &[RunStats]) -> Option<Collapse> {
    let usual = median(history.iter().map(|r| r.found as f64));
    ((now.found as f64) < COUNT_SHARE * usual).then(|| Collapse::Count {
        found: now.found,
        usual: usual.round() as usize,
    })
}

fn field_collapse(now: &RunStats, history: &[RunStats]) -> Option<Collapse> {
    [Field::Links, Field::Dates, Field::Summaries]
        .into_iter()
        .find_map(|field| {
            let usual = median(history.iter().map(|r| r.share(field)));
            let current = now.share(field);
            (usual >= FIELD_USUAL && current < FIELD_NOW).then_some(Collapse::Field {
                field,
                now: current,
                usual,
            })
        })
}

/// The median (the mean of the middle two for an even count); 0 for none.
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => f64::midpoint(values[n / 2 - 1], values[n / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: usize, title: &str, dated: bool) -> RawItem {
        RawItem {
            title: title.to_string(),
            link: format!("https://gogo.mn/r/{n}"),
            canonical_link: format!("https://gogo.mn/r/{n}"),
            date_text: dated.then(|| "2 цагийн өмнө".to_string()),
            summary: None,
            image: None,
        }
    }

    fn items(n: usize, dated: bool) -> Vec<RawItem> {
        (0..n)
            .map(|i| item(i, &format!("Headline number {i}"), dated))
            .collect()
    }

    fn titles(items: &[RawItem]) -> Vec<&str> {
        items.iter().map(|i| i.title.as_str()).collect()
    }

    fn runs(found: &[usize]) -> Vec<RunStats> {
        found
            .iter()
            .map(|&n| RunStats::of(n, &items(n, true)))
            .collect()
    }

    #[test]
    fn a_count_below_thirty_percent_of_the_median_is_a_collapse() {
        let history = runs(&[30, 28, 31, 2, 30]);
        let few = items(8, true);
        assert_eq!(
            detect(&RunStats::of(8, &few), &titles(&few), &history),
            Some(Collapse::Count {
                found: 8,
                usual: 30
            })
        );
        let enough = items(9, true);
        assert_eq!(
            detect(&RunStats::of(9, &enough), &titles(&enough), &history),
            None
        );
    }

    #[test]
    fn the_count_and_field_rules_wait_for_three_successful_runs() {
        let few = items(1, false);
        assert_eq!(
            detect(&RunStats::of(1, &few), &titles(&few), &runs(&[30, 30])),
            None
        );
        assert!(detect(&RunStats::of(1, &few), &titles(&few), &runs(&[30, 30, 30])).is_some());
    }

    #[test]
    fn only_the_last_ten_runs_make_the_baseline() {
        let mut history = runs(&[10; 10]);
        history.extend(runs(&[100; 20]));
        let now = items(10, true);
        assert_eq!(
            detect(&RunStats::of(10, &now), &titles(&now), &history),
            None
        );
    }

    #[test]
    fn dates_missing_in_most_items_where_they_were_present_is_a_collapse() {
        let history = runs(&[20, 20, 20]);
        let mut now = items(20, false);
        for i in now.iter_mut().take(9) {
            i.date_text = Some("today".to_string());
        }
        let verdict = detect(&RunStats::of(20, &now), &titles(&now), &history);
        assert!(
            matches!(
                verdict,
                Some(Collapse::Field {
                    field: Field::Dates,
                    ..
                })
            ),
            "{verdict:?}"
        );
        for i in now.iter_mut().take(10) {
            i.date_text = Some("today".to_string());
        }
        assert_eq!(
            detect(&RunStats::of(20, &now), &titles(&now), &history),
            None
        );
    }

    #[test]
    fn a_field_the_source_never_had_cannot_collapse() {
        let history: Vec<RunStats> = (0..5)
            .map(|_| RunStats::of(20, &items(20, false)))
            .collect();
        let now = items(20, false);
        assert_eq!(
            detect(&RunStats::of(20, &now), &titles(&now), &history),
            None
        );
    }

    #[test]
    fn blocks_that_lost_their_links_are_a_collapse() {
        let history = runs(&[20, 20, 20]);
        let now = items(8, true);
        let verdict = detect(&RunStats::of(20, &now), &titles(&now), &history);
        assert!(
            matches!(
                verdict,
                Some(Collapse::Field {
                    field: Field::Links,
                    ..
                })
            ),
            "{verdict:?}"
        );
    }

    #[test]
    fn every_item_with_one_title_is_a_collapse_even_without_history() {
        let now: Vec<RawItem> = (0..5).map(|i| item(i, "Мэдээ", true)).collect();
        let verdict = detect(&RunStats::of(5, &now), &titles(&now), &[]);
        assert_eq!(
            verdict,
            Some(Collapse::SameTitle {
                title: "Мэдээ".to_string(),
                items: 5
            })
        );
        let two: Vec<RawItem> = (0..2).map(|i| item(i, "Мэдээ", true)).collect();
        assert_eq!(detect(&RunStats::of(2, &two), &titles(&two), &[]), None);
    }
}
