//! Publishing: render every output from the store and replace each file atomically.
//!
//! A reader polling `all.atom` must never see half a file, and a crash must
//! never leave one: every file is written to a temporary name in the same
//! directory, flushed to disk, then renamed over the old one.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::{Config, FeedSpec, Source};
use crate::render::{self, Channel, Entry, FeedLink};
use crate::store::{Store, StoreError, StoredItem};

/// How many headlines the digest page shows.
const INDEX_ITEMS: usize = 200;

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Rendering failed.
    #[error(transparent)]
    Render(#[from] render::RenderError),
    /// Writing a file failed.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Writes `bytes` to `path` atomically: temp file, fsync, rename, fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    // An unchanged output is left alone: no write, no fsync, and its
    // Last-Modified keeps telling readers nothing is new.
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    let err = |source| PublishError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{name}.tmp"));
    let mut file = File::create(&temp).map_err(err)?;
    file.write_all(bytes).map_err(err)?;
    file.sync_all().map_err(err)?;
    drop(file);
    std::fs::rename(&temp, path).map_err(err)?;
    if let Ok(dir) = File::open(dir) {
        dir.sync_all().map_err(err)?;
    }
    Ok(())
}

/// Whether any output file the config calls for does not exist yet.
pub fn outputs_missing(config: &Config) -> bool {
    let dir = &config.daemon.output_dir;
    let stems = config
        .feeds
        .iter()
        .map(|f| &f.name)
        .chain(config.sources.iter().map(|s| &s.id));
    let files = stems
        .flat_map(|stem| [format!("{stem}.rss"), format!("{stem}.atom")])
        .chain(["index.html".to_string(), "feeds.opml".to_string()]);
    files.into_iter().any(|f| !dir.join(f).exists())
}

/// Where the outputs are reachable: `base_url`, else `http://<listen>/`, else `file://`.
pub fn output_base(config: &Config) -> Url {
    if let Some(base) = &config.daemon.base_url {
        return base.clone();
    }
    if let Some(listen) = config.daemon.listen
        && let Ok(url) = Url::parse(&format!("http://{listen}/"))
    {
        return url;
    }
    let dir = &config.daemon.output_dir;
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
    Url::from_directory_path(&absolute)
        .unwrap_or_else(|()| Url::parse("file:///").expect("static URL parses"))
}

fn output_url(base: &Url, file: &str) -> String {
    base.join(file)
        .map_or_else(|_| format!("{base}{file}"), |u| u.to_string())
}

/// Writes files into the output directory and remembers which.
struct OutputDir<'a> {
    dir: &'a Path,
    written: Vec<PathBuf>,
}

impl OutputDir<'_> {
    fn write(&mut self, file: &str, bytes: &[u8]) -> Result<(), PublishError> {
        let path = self.dir.join(file);
        write_atomic(&path, bytes)?;
        self.written.push(path);
        Ok(())
    }

    /// `<stem>.rss` and `<stem>.atom` for one channel.
    fn write_feed(
        &mut self,
        stem: &str,
        channel: &Channel<'_>,
        link: &FeedLink,
    ) -> Result<(), PublishError> {
        self.write(
            &format!("{stem}.rss"),
            &render::rss(channel, &link.rss_url)?,
        )?;
        self.write(
            &format!("{stem}.atom"),
            &render::atom(channel, &link.atom_url)?,
        )
    }
}

/// Renders and writes every output; returns the files written.
pub fn publish(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Vec<PathBuf>, PublishError> {
    let dir = &config.daemon.output_dir;
    std::fs::create_dir_all(dir).map_err(|source| PublishError::Write {
        path: dir.clone(),
        source,
    })?;
    let base = output_base(config);
    let sources: HashMap<&str, &Source> =
        config.sources.iter().map(|s| (s.id.as_str(), s)).collect();
    let per_source_max = config
        .feeds
        .iter()
        .map(|f| f.max_items)
        .max()
        .unwrap_or(100);
    let mut out = OutputDir {
        dir,
        written: Vec::new(),
    };

    let home = output_url(&base, "index.html");
    let mut merged_links = Vec::new();
    for feed in &config.feeds {
        let items = merged_items(store, &feed.sources, feed.max_items)?;
        let entries = render::dedupe_across_sources(to_entries(&items, &sources), feed.max_items);
        let language = feed_language(feed, &sources);
        let description = format!(
            "{} — merged by medee from {} sources",
            feed.title,
            feed.sources.len()
        );
        let channel = Channel {
            title: &feed.title,
            description: &description,
            home: &home,
            language: &language,
            entries: &entries,
            now,
        };
        let link = feed_link(&base, &feed.name, &feed.title, &home, &language);
        out.write_feed(&feed.name, &channel, &link)?;
        merged_links.push(link);
    }

    let mut source_links = Vec::new();
    for source in &config.sources {
        let items = store.newest_items(std::slice::from_ref(&source.id), per_source_max, 0)?;
        let entries = to_entries(&items, &sources);
        let description = format!("Headlines from {} ({})", source.name, source.url);
        let channel = Channel {
            title: &source.name,
            description: &description,
            home: source.url.as_str(),
            language: &source.language,
            entries: &entries,
            now,
        };
        let link = feed_link(
            &base,
            &source.id,
            &source.name,
            source.url.as_str(),
            &source.language,
        );
        out.write_feed(&source.id, &channel, &link)?;
        source_links.push(link);
    }

    let all_ids: Vec<String> = config.sources.iter().map(|s| s.id.clone()).collect();
    let items = merged_items(store, &all_ids, INDEX_ITEMS)?;
    let entries = render::dedupe_across_sources(to_entries(&items, &sources), INDEX_ITEMS);
    let title = config.feeds.first().map_or("medee", |f| f.title.as_str());
    let feeds: Vec<FeedLink> = merged_links.iter().chain(&source_links).cloned().collect();
    out.write(
        "index.html",
        render::index_html(title, &entries, &feeds, now).as_bytes(),
    )?;
    out.write(
        "feeds.opml",
        render::opml(&merged_links, &source_links, now).as_bytes(),
    )?;
    Ok(out.written)
}

/// The OPML document for the configured outputs (what `medee opml` prints).
pub fn opml_document(config: &Config, now: DateTime<Utc>) -> String {
    let base = output_base(config);
    let home = output_url(&base, "index.html");
    let sources: HashMap<&str, &Source> =
        config.sources.iter().map(|s| (s.id.as_str(), s)).collect();
    let merged: Vec<FeedLink> = config
        .feeds
        .iter()
        .map(|f| feed_link(&base, &f.name, &f.title, &home, &feed_language(f, &sources)))
        .collect();
    let per_source: Vec<FeedLink> = config
        .sources
        .iter()
        .map(|s| feed_link(&base, &s.id, &s.name, s.url.as_str(), &s.language))
        .collect();
    render::opml(&merged, &per_source, now)
}

fn feed_link(base: &Url, stem: &str, title: &str, home: &str, language: &str) -> FeedLink {
    FeedLink {
        title: title.to_string(),
        atom_url: output_url(base, &format!("{stem}.atom")),
        rss_url: output_url(base, &format!("{stem}.rss")),
        home: home.to_string(),
        language: language.to_string(),
    }
}

/// Reads newest items page by page until `max` survive cross-source dedupe,
/// so a feed is rendered from its newest rows only, never the whole history.
fn merged_items(store: &Store, ids: &[String], max: usize) -> Result<Vec<StoredItem>, StoreError> {
    let page = max * 2 + 16;
    let mut items = store.newest_items(ids, page, 0)?;
    let mut exhausted = items.len() < page;
    while !exhausted && distinct_stories(&items) < max {
        let more = store.newest_items(ids, page, items.len())?;
        exhausted = more.len() < page;
        items.extend(more);
    }
    Ok(items)
}

/// An upper bound on the entries `items` will yield after dedupe (by title key).
fn distinct_stories(items: &[StoredItem]) -> usize {
    let mut keys: Vec<&str> = items.iter().map(|i| i.title_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.len()
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
            })
        })
        .collect()
}

/// The feed's language: its first `languages` entry, else the most common among its sources.
fn feed_language(feed: &FeedSpec, sources: &HashMap<&str, &Source>) -> String {
    if let Some(first) = feed.languages.first() {
        return first.clone();
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for id in &feed.sources {
        if let Some(source) = sources.get(id.as_str()) {
            match counts.iter_mut().find(|(l, _)| *l == source.language) {
                Some((_, n)) => *n += 1,
                None => counts.push((&source.language, 1)),
            }
        }
    }
    counts
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map_or_else(|| "en".to_string(), |(l, _)| (*l).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_bytes_are_not_rewritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("all.atom");
        write_atomic(&path, b"same").expect("first write");
        let modified = || {
            std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .expect("mtime")
        };
        let before = modified();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_atomic(&path, b"same").expect("second write");
        assert_eq!(modified(), before);
        write_atomic(&path, b"new").expect("third write");
        assert_ne!(modified(), before);
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("all.rss");
        write_atomic(&path, b"one").expect("first write");
        write_atomic(&path, b"two").expect("second write");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["all.rss"]);
    }
}
