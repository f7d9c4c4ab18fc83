//! What running one source did, as one typed value every caller branches on.

use crate::fetch::FetchError;
use crate::repair::Proposal;
use crate::store::{StoreError, UpsertStats};

/// Why one source's run failed. Never fatal to the others.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The page could not be fetched.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The `item` selector matched nothing: the site probably changed.
    #[error(
        "item selector \"{selector}\" matched nothing on {url} (page title {title:?}, {size} bytes); the site's markup may have changed"
    )]
    NoMatch {
        /// The selector as configured.
        selector: String,
        /// The page URL.
        url: String,
        /// The page's `<title>`.
        title: String,
        /// Body size in bytes.
        size: usize,
    },
    /// Items matched but none had a title and a link.
    #[error(
        "item selector \"{selector}\" matched {matched} elements on {url} but none had both a title and a link; check the title and link selectors"
    )]
    NoUsableItems {
        /// The selector as configured.
        selector: String,
        /// The page URL.
        url: String,
        /// How many elements matched.
        matched: usize,
    },
    /// The page was read, but the source's items are gone (`item` matches
    /// nothing usable) or collapsed against its recent runs: the site changed.
    #[error("{reason}")]
    Broken {
        /// What was found, in words.
        reason: String,
        /// Replacement selectors found on the page, if any.
        proposal: Option<Box<Proposal>>,
    },
    /// A `kind = "feed"` source did not parse as a feed.
    #[error("{url}: not a readable RSS, Atom or JSON feed: {message}")]
    NotAFeed {
        /// The feed URL.
        url: String,
        /// The parser's message.
        message: String,
    },
    /// A `kind = "json"` source's body held no items where its pointers say.
    #[error(transparent)]
    Json(#[from] crate::json_items::JsonError),
    /// Reading the fetched page took too long.
    #[error("{url}: reading the page took longer than {}s; not stored", limit.as_secs())]
    TooSlow {
        /// The page.
        url: String,
        /// The time allowed.
        limit: std::time::Duration,
    },
    /// The store could not record the run.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug: processing this source panicked. The panic is contained to the source.
    #[error("internal error while processing this source ({0}); please report it")]
    Panicked(String),
}

/// What became of the article pages a run read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArticleCounts {
    /// Pages read and stored.
    pub read: usize,
    /// Pages that failed (tried again on later runs) or were refused by the fetch policy.
    pub failed: usize,
}

/// The outcome of one run of one source.
#[derive(Debug)]
pub enum Outcome {
    /// The listing answered 304; pending article pages may still have been read.
    NotModified {
        /// Article pages of earlier items read in this run.
        articles: ArticleCounts,
    },
    /// A new listing was read and stored.
    Refreshed {
        /// Items kept after filters.
        kept: usize,
        /// What storing them changed.
        stored: UpsertStats,
        /// Article pages read in this run.
        articles: ArticleCounts,
    },
    /// The run failed; the source's stored items are untouched.
    Failed(SourceError),
}

impl Outcome {
    /// Whether the outputs need rendering again: the one rule for "did anything change".
    pub fn changed_outputs(&self) -> bool {
        match self {
            Self::NotModified { articles } => articles.read > 0,
            Self::Refreshed {
                stored, articles, ..
            } => stored.changed() || articles.read > 0,
            Self::Failed(_) => false,
        }
    }

    /// Row ids of the items this run stored for the first time, for the
    /// `on_new` hook (none on a source's first fill).
    pub fn new_item_ids(&self) -> &[i64] {
        match self {
            Self::Refreshed { stored, .. } => &stored.new_ids,
            _ => &[],
        }
    }

    /// The failure, if the run failed.
    pub fn error(&self) -> Option<&SourceError> {
        match self {
            Self::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// One source's run.
#[derive(Debug)]
pub struct SourceRun {
    /// Source id.
    pub id: String,
    /// What happened.
    pub outcome: Outcome,
}

/// What a cycle over several sources did.
#[derive(Debug, Default)]
pub struct CycleReport {
    /// One run per source, in completion order.
    pub runs: Vec<SourceRun>,
    /// Why writing the outputs failed, if it did (the store remembers, and
    /// the next cycle writes them even if nothing new arrives).
    pub publish_error: Option<String>,
}

impl CycleReport {
    /// How many sources failed.
    pub fn failures(&self) -> usize {
        self.runs
            .iter()
            .filter(|r| r.outcome.error().is_some())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(new: usize, updated: usize) -> UpsertStats {
        UpsertStats {
            new,
            updated,
            unchanged: 3,
            ..UpsertStats::default()
        }
    }

    #[test]
    fn outputs_change_only_when_something_was_stored_or_read() {
        let read = |read| ArticleCounts { read, failed: 1 };
        let cases = [
            (Outcome::NotModified { articles: read(0) }, false),
            (Outcome::NotModified { articles: read(2) }, true),
            (
                Outcome::Refreshed {
                    kept: 3,
                    stored: stored(0, 0),
                    articles: read(0),
                },
                false,
            ),
            (
                Outcome::Refreshed {
                    kept: 3,
                    stored: stored(1, 0),
                    articles: read(0),
                },
                true,
            ),
            (
                Outcome::Refreshed {
                    kept: 3,
                    stored: stored(0, 2),
                    articles: read(0),
                },
                true,
            ),
            (Outcome::Failed(SourceError::Panicked("boom".into())), false),
        ];
        for (outcome, changed) in cases {
            assert_eq!(outcome.changed_outputs(), changed, "{outcome:?}");
        }
    }
}
