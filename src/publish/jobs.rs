//! The rendering work of one publish, spread over a pool of threads: one
//! task per output file, each rendered and flushed under a temporary name.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use tracing::warn;

use super::FileError;
use super::files::{Staged, stage};
use crate::config::{Config, Source};
use crate::render::{self, Channel, Entry, FeedLink, RenderError, StoryGroup};
use crate::store::StoredItem;

/// Threads that render and flush feeds. Flushing dominates (an fsync per
/// file), and waits overlap well: for 100 sources (204 files) publishing took
/// 120 ms with 2 workers, 70 ms with 8 and no less with 16.
const PUBLISH_WORKERS: usize = 8;

/// What every task needs to know besides its own data.
pub(super) struct Context<'a> {
    /// Where the outputs go.
    pub dir: &'a Path,
    /// The configured sources, by id.
    pub sources: &'a HashMap<&'a str, &'a Source>,
    /// The clock of this publish.
    pub now: DateTime<Utc>,
    /// The size no feed file may exceed (`max_feed_size`).
    pub feed_bytes: usize,
    /// The WebSub hub every feed names (`websub_hub`).
    pub hub: Option<&'a str>,
}

/// One feed to render: its newest items and how to describe it.
pub(super) struct FeedJob<'a> {
    /// File stem.
    pub stem: String,
    /// Channel title.
    pub title: String,
    /// Channel description.
    pub description: String,
    /// The page the feed is about (already redacted).
    pub home: String,
    /// Language code.
    pub language: String,
    /// Newest first, as read from the store.
    pub items: &'a [StoredItem],
    /// Merged feeds keep one entry per story, up to this many.
    pub dedupe_max: Option<usize>,
    /// Merged feeds that cluster: the sources whose reports are shown first.
    pub stories: Option<&'a [String]>,
    /// Its own URLs.
    pub link: FeedLink,
    /// The stories of a clustering feed, grouped by whichever of its three
    /// format tasks needs them first and shared with the other two. A panic
    /// while grouping leaves it empty, so each task still fails on its own.
    pub groups: OnceLock<Vec<StoryGroup<'a>>>,
}

impl<'a> FeedJob<'a> {
    /// The feed's entries before dedupe: one per story when it clusters.
    fn entries(&'a self, sources: &HashMap<&str, &'a Source>) -> Vec<Entry<'a>> {
        let Some(prefer) = self.stories else {
            return to_entries(self.items, sources);
        };
        self.groups
            .get_or_init(|| render::group_stories(&to_entries(self.items, sources), prefer))
            .iter()
            .map(StoryGroup::entry)
            .collect()
    }
}

/// The three files of every feed.
#[derive(Debug, Clone, Copy)]
pub(super) enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    /// Every format, in the order their tasks are queued.
    pub(super) const ALL: [Self; 3] = [Self::Rss, Self::Atom, Self::Json];
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Self::Rss => "rss",
            Self::Atom => "atom",
            Self::Json => "json",
        }
    }
}

/// One output file to produce.
pub(super) enum Task<'a> {
    /// `<stem>.rss`, `<stem>.atom` or `<stem>.json`.
    Feed(&'a FeedJob<'a>, Format),
    /// `index.html`.
    Index {
        /// Page title.
        title: &'a str,
        /// The newest items of all sources.
        items: &'a [StoredItem],
        /// Every feed, merged first.
        feeds: &'a [FeedLink],
        /// One line per story (as the first merged feed), with the sources it prefers.
        stories: Option<&'a [String]>,
    },
    /// `status.html`.
    Status {
        /// The config whose sources it lists, in order.
        config: &'a Config,
        /// The store's view of them.
        snapshot: &'a super::Snapshot,
    },
    /// `feeds.opml`.
    Opml {
        /// The merged feeds.
        merged: &'a [FeedLink],
        /// The per-source feeds.
        per_source: &'a [FeedLink],
    },
}

impl Task<'_> {
    fn path(&self, dir: &Path) -> PathBuf {
        match self {
            Self::Feed(job, format) => dir.join(format!("{}.{}", job.stem, format.extension())),
            Self::Index { .. } => dir.join("index.html"),
            Self::Status { .. } => dir.join(super::STATUS_FILE),
            Self::Opml { .. } => dir.join("feeds.opml"),
        }
    }
}

/// A task's result: its file staged (or `None`, unchanged), and how many
/// entries were left out to respect `max_feed_size`.
#[derive(Debug)]
pub(super) struct Done {
    pub path: PathBuf,
    pub staged: Option<Staged>,
    pub left_out: usize,
}

/// Runs every task on a pool of threads; one result per task.
pub(super) fn run_all<'a>(
    context: &Context<'a>,
    tasks: &[Task<'a>],
) -> Vec<Result<Done, FileError>> {
    let next = AtomicUsize::new(0);
    let workers = PUBLISH_WORKERS.min(tasks.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    while let Some(task) = tasks.get(next.fetch_add(1, Ordering::Relaxed)) {
                        done.push(run_isolated(context, task));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Runs one task; a panic fails that file only, never the whole publish.
fn run_isolated<'a>(context: &Context<'a>, task: &Task<'a>) -> Result<Done, FileError> {
    let path = task.path(context.dir);
    catch_unwind(AssertUnwindSafe(|| run(context, task, &path)))
        .unwrap_or_else(|_| Err(FileError::Panicked { path }))
}

fn run<'a>(context: &Context<'a>, task: &Task<'a>, path: &Path) -> Result<Done, FileError> {
    let (bytes, left_out) = match task {
        Task::Feed(job, format) => render_feed(context, job, *format, path)?,
        Task::Index {
            title,
            items,
            feeds,
            stories,
        } => {
            let entries = to_entries(items, context.sources);
            let groups = stories.map(|prefer| render::group_stories(&entries, prefer));
            let entries = match &groups {
                Some(groups) => groups.iter().map(StoryGroup::entry).collect(),
                None => entries,
            };
            let entries = render::dedupe_across_sources(entries, super::snapshot::INDEX_ITEMS);
            let html = render::index_html(title, &entries, feeds, context.now);
            (html.into_bytes(), 0)
        }
        Task::Status { config, snapshot } => (
            super::status_page(config, &snapshot.health, &snapshot.history, context.now)
                .into_bytes(),
            0,
        ),
        Task::Opml { merged, per_source } => (
            render::opml(merged, per_source, context.now).into_bytes(),
            0,
        ),
    };
    Ok(Done {
        path: path.to_path_buf(),
        staged: stage(path, &bytes)?,
        left_out,
    })
}

/// One feed file within `max_feed_size`, and how many of its oldest entries
/// were left out to get there (logged once per file).
fn render_feed<'a>(
    context: &Context<'a>,
    job: &'a FeedJob<'a>,
    format: Format,
    path: &Path,
) -> Result<(Vec<u8>, usize), FileError> {
    let mut entries = job.entries(context.sources);
    if let Some(max) = job.dedupe_max {
        entries = render::dedupe_across_sources(entries, max);
    }
    let render_newest = |n: usize| {
        let channel = Channel {
            title: &job.title,
            description: &job.description,
            home: &job.home,
            language: &job.language,
            entries: &entries[..n],
            now: context.now,
            hub: context.hub,
        };
        match format {
            Format::Rss => render::rss(&channel, &job.link.rss_url),
            Format::Atom => render::atom(&channel, &job.link.atom_url),
            Format::Json => render::json_feed(&channel, &job.link.json_url),
        }
    };
    let render_err = |source| FileError::Render {
        path: path.to_path_buf(),
        source,
    };
    let limit = context.feed_bytes;
    let (bytes, kept) = newest_that_fit(entries.len(), limit, render_newest)
        .map_err(render_err)?
        .ok_or_else(|| FileError::TooLarge {
            path: path.to_path_buf(),
            limit,
        })?;
    let left_out = entries.len() - kept;
    if left_out > 0 {
        warn!(file = %path.display(), kept, left_out, limit, "feed would exceed max_feed_size; its oldest entries are left out");
    }
    Ok((bytes, left_out))
}

/// The rendering of the newest `n` of `total` entries for the largest `n`
/// whose rendering fits in `limit` bytes, with that `n`; `None` when not even
/// an empty feed fits. A binary search: a feed under the limit (the usual
/// case) is rendered once, an oversized one about log2(total) + 1 times.
fn newest_that_fit(
    total: usize,
    limit: usize,
    render_newest: impl Fn(usize) -> Result<Vec<u8>, RenderError>,
) -> Result<Option<(Vec<u8>, usize)>, RenderError> {
    let all = render_newest(total)?;
    if all.len() <= limit {
        return Ok(Some((all, total)));
    }
    let (mut fits, mut too_many) = (0, total);
    let mut fitting = None;
    while too_many - fits > 1 {
        let mid = fits + (too_many - fits) / 2;
        let bytes = render_newest(mid)?;
        if bytes.len() <= limit {
            fits = mid;
            fitting = Some(bytes);
        } else {
            too_many = mid;
        }
    }
    let bytes = match fitting {
        Some(bytes) => bytes,
        None => render_newest(0)?,
    };
    Ok((bytes.len() <= limit).then_some((bytes, fits)))
}

fn to_entries<'a>(items: &'a [StoredItem], sources: &HashMap<&str, &'a Source>) -> Vec<Entry<'a>> {
    items
        .iter()
        .filter_map(|item| {
            let source = sources.get(item.source_id.as_str())?;
            Some(Entry {
                item,
                source_name: &source.name,
                language: &source.language,
                timezone: source.timezone,
                id: None,
                also: &[],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in rendering: 100 bytes of channel, 10 per entry.
    fn sized(n: usize) -> Result<Vec<u8>, RenderError> {
        Ok(vec![b'x'; 100 + 10 * n])
    }

    #[test]
    fn a_feed_under_the_limit_keeps_every_entry() {
        let (bytes, kept) = newest_that_fit(50, 600, sized)
            .expect("renders")
            .expect("fits");
        assert_eq!((bytes.len(), kept), (600, 50));
    }

    #[test]
    fn an_oversized_feed_keeps_the_most_newest_entries_that_fit() {
        for (limit, expected) in [(599, 49), (345, 24), (109, 0), (100, 0)] {
            let (bytes, kept) = newest_that_fit(50, limit, sized)
                .expect("renders")
                .expect("fits");
            assert_eq!(kept, expected, "limit {limit}");
            assert!(bytes.len() <= limit, "limit {limit}");
        }
    }

    #[test]
    fn a_limit_below_an_empty_feed_is_none() {
        assert!(newest_that_fit(5, 99, sized).expect("renders").is_none());
    }
}
