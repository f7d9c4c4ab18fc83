//! Publishing: render every output from a [`Snapshot`] of the store and
//! replace each file atomically.
//!
//! A reader polling `all.atom` must never see half a file, and a crash must
//! never leave one: every file is written to a unique temporary name in the
//! same directory, flushed to disk, then renamed over the old one (see
//! `files.rs`). The store is needed only to take the snapshot; rendering and
//! flushing, the slow part, run without it.

mod files;
mod jobs;
mod snapshot;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::{Config, FeedSpec, Source, defaults};
use crate::identity::redact_url;
use crate::render::{self, FeedLink, StatusPage, StatusRow};
use crate::store::{History, SourceHealth};
use jobs::{Context, FeedJob, Format, Task};
pub use snapshot::Snapshot;

/// What a publish did.
#[derive(Debug, Default)]
pub struct PublishReport {
    /// Files replaced with new bytes.
    pub written: Vec<PathBuf>,
    /// Files that already held exactly the new bytes, left alone.
    pub unchanged: usize,
    /// Feed files whose oldest entries were left out to stay within
    /// `max_feed_size`, with how many were left out.
    pub trimmed: Vec<(PathBuf, usize)>,
    /// Temporary files of an earlier, crashed run removed first.
    pub stale_removed: usize,
}

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The output directory cannot be created.
    #[error("cannot create the output directory {}: {source}", path.display())]
    OutputDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Some files could not be written; the others were.
    #[error("{} of the outputs not written: {}", failures.len(), list(failures))]
    Files {
        /// What went wrong with each file.
        failures: Vec<FileError>,
        /// What was written anyway.
        report: PublishReport,
    },
}

fn list(failures: &[FileError]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why one output file could not be written. It does not hold back the others.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Rendering failed.
    #[error("cannot render {}: {source}", path.display())]
    Render {
        /// The file.
        path: PathBuf,
        /// The writer's error.
        source: render::RenderError,
    },
    /// Writing or renaming failed.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Something other than a regular file or symlink sits at the output's
    /// name; it is neither read nor replaced.
    #[error("{} is a {kind}, not a regular file; left alone (remove it to let medee write there)", path.display())]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// `FIFO`, `socket`, `directory` or `device`.
        kind: &'static str,
    },
    /// Not even a feed without entries fits in `max_feed_size`.
    #[error("{} does not fit in max_feed_size ({limit} bytes) even without entries", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit: usize,
    },
    /// Rendering panicked (a bug); the other files are still written.
    #[error("rendering {} panicked", path.display())]
    Panicked {
        /// The file.
        path: PathBuf,
    },
}

/// The status page's file name in `output_dir`.
pub const STATUS_FILE: &str = "status.html";

/// The status page for `config`'s sources, in config order, from their
/// health and recent days (a source missing from either shows as not run
/// yet): what `status.html` holds and the daemon's `/status` answers.
pub fn status_page(
    config: &Config,
    health: &[SourceHealth],
    history: &HashMap<String, History>,
    now: DateTime<Utc>,
) -> String {
    let homes: Vec<String> = config.sources.iter().map(|s| redact_url(&s.url)).collect();
    let rows: Vec<StatusRow<'_>> = config
        .sources
        .iter()
        .zip(&homes)
        .map(|(source, home)| StatusRow {
            id: &source.id,
            name: &source.name,
            language: &source.language,
            home,
            health: health.iter().find(|h| h.id == source.id),
            days: history.get(&source.id).map_or(&[], Vec::as_slice),
        })
        .collect();
    render::status_html(&StatusPage {
        title: config.feeds.first().map_or("medee", |f| f.title.as_str()),
        rows: &rows,
        now,
    })
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
        .flat_map(|stem| ["rss", "atom", "json"].map(|ext| format!("{stem}.{ext}")))
        .chain(["index.html", STATUS_FILE, "feeds.opml"].map(str::to_string));
    files.into_iter().any(|f| !dir.join(f).exists())
}

/// Where the outputs are reachable: `base_url`, else `http://<listen>/`, else `file://`.
pub fn output_base(config: &Config) -> Url {
    if let Some(base) = &config.daemon.base_url {
        // Self links and OPML are public: credentials stay in the config.
        let mut public = base.clone();
        let _ = public.set_username("");
        let _ = public.set_password(None);
        return public;
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

/// The public URL of one output file (`all.atom`), as self links name it.
pub fn public_url(config: &Config, file: &str) -> String {
    output_url(&output_base(config), file)
}

fn output_url(base: &Url, file: &str) -> String {
    base.join(file)
        .map_or_else(|_| format!("{base}{file}"), |u| u.to_string())
}

/// Renders and writes every output from `snapshot`; needs no store.
///
/// Stale temporary files of a crashed run are removed first. Then every file
/// is rendered and flushed under a temporary name on a pool of threads
/// (rendering is CPU and fsync is waiting, so they overlap well even on two
/// cores); then all are renamed into place and the directory is flushed once.
/// A file that fails (cannot be rendered or written, or something other than
/// a regular file sits at its name) does not hold back the others: the error
/// names it, and the report in it lists what was written.
pub fn publish(
    config: &Config,
    snapshot: &Snapshot,
    now: DateTime<Utc>,
) -> Result<PublishReport, PublishError> {
    let dir = config.daemon.output_dir.as_path();
    std::fs::create_dir_all(dir).map_err(|source| PublishError::OutputDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let stale_removed = files::remove_stale_temps(dir);
    let sources: HashMap<&str, &Source> =
        config.sources.iter().map(|s| (s.id.as_str(), s)).collect();
    let (merged_jobs, source_jobs) = feed_jobs(config, snapshot, &sources);
    let merged: Vec<FeedLink> = merged_jobs.iter().map(|j| j.link.clone()).collect();
    let per_source: Vec<FeedLink> = source_jobs.iter().map(|j| j.link.clone()).collect();
    let feeds: Vec<FeedLink> = merged.iter().chain(&per_source).cloned().collect();
    let mut tasks: Vec<Task<'_>> = merged_jobs
        .iter()
        .chain(&source_jobs)
        .flat_map(|job| Format::ALL.map(|format| Task::Feed(job, format)))
        .collect();
    tasks.push(Task::Index {
        title: config.feeds.first().map_or("medee", |f| f.title.as_str()),
        items: &snapshot.index,
        feeds: &feeds,
        stories: snapshot::index_clusters(config).then(|| {
            config
                .feeds
                .first()
                .map_or(&[][..], |f| f.prefer.as_slice())
        }),
    });
    tasks.push(Task::Status { config, snapshot });
    tasks.push(Task::Opml {
        merged: &merged,
        per_source: &per_source,
    });
    let context = Context {
        dir,
        sources: &sources,
        now,
        feed_bytes: config.daemon.limits.feed_bytes,
        hub: config.daemon.websub_hub.as_ref().map(Url::as_str),
    };
    let results = jobs::run_all(&context, &tasks);
    let mut report = PublishReport {
        stale_removed,
        ..PublishReport::default()
    };
    let mut failures = Vec::new();
    let mut staged = Vec::new();
    for result in results {
        match result {
            Ok(done) => {
                if done.left_out > 0 {
                    report.trimmed.push((done.path.clone(), done.left_out));
                }
                match done.staged {
                    Some(file) => staged.push(file),
                    None => report.unchanged += 1,
                }
            }
            Err(e) => failures.push(e),
        }
    }
    let (written, commit_failures) = files::commit_all(dir, staged);
    report.written = written;
    failures.extend(commit_failures);
    if failures.is_empty() {
        Ok(report)
    } else {
        Err(PublishError::Files { failures, report })
    }
}

/// One job per merged feed and per source, each with its items from the
/// snapshot. A feed the snapshot lacks (it was read for another config) is
/// left out, so its file keeps what it has rather than turning empty.
fn feed_jobs<'a>(
    config: &'a Config,
    snapshot: &'a Snapshot,
    sources: &HashMap<&str, &Source>,
) -> (Vec<FeedJob<'a>>, Vec<FeedJob<'a>>) {
    let base = output_base(config);
    let home = output_url(&base, "index.html");
    let merged = config
        .feeds
        .iter()
        .filter_map(|feed| {
            let items = snapshot.merged.get(&feed.name)?;
            let language = feed_language(feed, sources);
            Some(FeedJob {
                link: feed_link(&base, &feed.name, &feed.title, &home, &language),
                stem: feed.name.clone(),
                title: feed.title.clone(),
                description: format!(
                    "{} — merged by medee from {} sources",
                    feed.title,
                    feed.sources.len()
                ),
                home: home.clone(),
                language,
                items,
                dedupe_max: Some(feed.max_items),
                stories: feed.cluster.then_some(feed.prefer.as_slice()),
                groups: OnceLock::new(),
            })
        })
        .collect();
    let per_source = config
        .sources
        .iter()
        .filter_map(|source| {
            let items = snapshot.sources.get(&source.id)?;
            let home = redact_url(&source.url);
            Some(FeedJob {
                link: feed_link(&base, &source.id, &source.name, &home, &source.language),
                stem: source.id.clone(),
                title: source.name.clone(),
                description: format!("Headlines from {} ({home})", source.name),
                home,
                language: source.language.clone(),
                items,
                dedupe_max: None,
                stories: None,
                groups: OnceLock::new(),
            })
        })
        .collect();
    (merged, per_source)
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
        .map(|s| feed_link(&base, &s.id, &s.name, &redact_url(&s.url), &s.language))
        .collect();
    render::opml(&merged, &per_source, now)
}

fn feed_link(base: &Url, stem: &str, title: &str, home: &str, language: &str) -> FeedLink {
    FeedLink {
        title: title.to_string(),
        atom_url: output_url(base, &format!("{stem}.atom")),
        rss_url: output_url(base, &format!("{stem}.rss")),
        json_url: output_url(base, &format!("{stem}.json")),
        home: home.to_string(),
        language: language.to_string(),
    }
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
        .map_or_else(|| defaults::LANGUAGE.to_string(), |(l, _)| (*l).to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::store::{NewItem, SourceCycle, Store};

    /// A workspace with one source `s` at `url`, its store holding `titles` (newest first).
    struct Fixture {
        dir: tempfile::TempDir,
        config: Config,
        store: Store,
        now: DateTime<Utc>,
    }

    impl Fixture {
        fn new(url: &str, titles: &[&str]) -> Self {
            let dir = tempfile::tempdir().expect("temp dir");
            let toml = format!(
                "[daemon]\noutput_dir = {:?}\ndatabase = {:?}\n\
                 [[feed]]\nname = \"all\"\ntitle = \"All\"\n\
                 [[source]]\nid = \"s\"\nurl = {url:?}\nitem = \"div\"\n",
                dir.path().join("feeds"),
                dir.path().join("medee.sqlite"),
            );
            let config = Config::parse(&toml, Path::new("medee.toml")).expect("valid config");
            let mut store = Store::open(&config.daemon.database).expect("store");
            let now = Utc::now();
            let items: Vec<NewItem> = titles
                .iter()
                .enumerate()
                .map(|(i, title)| NewItem {
                    link: format!("https://montsame.mn/read/{i}"),
                    title: (*title).to_string(),
                    title_key: crate::identity::title_key(title),
                    summary: Some("x".repeat(500)),
                    image: None,
                    published: Some(now - chrono::Duration::minutes(i64::try_from(i).unwrap_or(0))),
                    published_relative: false,
                })
                .collect();
            let cycle = SourceCycle {
                source_id: "s",
                url,
                validators: &crate::fetch::Validators::default(),
                items: &items,
                want_articles: false,
                stats: None,
            };
            store.record_success(&cycle, now).expect("store items");
            Self {
                dir,
                config,
                store,
                now,
            }
        }

        fn publish(&self) -> Result<PublishReport, PublishError> {
            let snapshot = Snapshot::read(&self.config, &self.store).expect("snapshot");
            publish(&self.config, &snapshot, self.now)
        }

        fn output(&self, file: &str) -> PathBuf {
            self.dir.path().join("feeds").join(file)
        }
    }

    #[test]
    fn a_file_that_cannot_be_replaced_does_not_hold_back_the_others() {
        let fixture = Fixture::new("https://montsame.mn/", &["Headline"]);
        // A directory where all.rss belongs: it is never replaced.
        std::fs::create_dir_all(fixture.output("all.rss/x")).expect("blocker");

        let err = fixture.publish().expect_err("all.rss cannot be replaced");
        assert!(err.to_string().contains("all.rss"), "{err}");
        let PublishError::Files { failures, report } = err else {
            panic!("not a file failure: {err}");
        };
        assert_eq!(failures.len(), 1);
        assert_eq!(report.written.len(), 8, "{report:?}");
        let atom = std::fs::read_to_string(fixture.output("all.atom")).expect("all.atom");
        assert!(atom.contains("https://montsame.mn/read/0"));
        for file in [
            "s.rss",
            "s.atom",
            "s.json",
            "all.json",
            "index.html",
            "status.html",
            "feeds.opml",
        ] {
            assert!(fixture.output(file).is_file(), "{file}");
        }
        let mut names: Vec<String> = std::fs::read_dir(fixture.output(""))
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "all.atom",
                "all.json",
                "all.rss",
                "feeds.opml",
                "index.html",
                "s.atom",
                "s.json",
                "s.rss",
                "status.html"
            ]
        );
    }

    #[test]
    fn publishing_needs_only_the_snapshot() {
        let fixture = Fixture::new("https://montsame.mn/", &["First", "Second"]);
        let snapshot = Snapshot::read(&fixture.config, &fixture.store).expect("snapshot");
        drop(fixture.store);
        let report = publish(&fixture.config, &snapshot, fixture.now).expect("publish");
        assert_eq!(report.written.len(), 9);
        let again = publish(&fixture.config, &snapshot, fixture.now).expect("publish again");
        assert_eq!((again.written.len(), again.unchanged), (0, 9));
    }

    #[test]
    fn a_feed_larger_than_max_feed_size_leaves_out_its_oldest_entries() {
        let titles: Vec<String> = (0..40).map(|i| format!("Headline number {i}")).collect();
        let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
        let mut fixture = Fixture::new("https://montsame.mn/", &titles);
        let limit = 8 << 10;
        fixture.config.daemon.limits.feed_bytes = limit;

        let report = fixture.publish().expect("publish");
        assert_eq!(report.trimmed.len(), 6, "{report:?}");
        for file in [
            "all.rss", "all.atom", "all.json", "s.rss", "s.atom", "s.json",
        ] {
            let bytes = std::fs::read(fixture.output(file)).expect("feed");
            assert!(bytes.len() <= limit, "{file}: {} bytes", bytes.len());
            let feed = feed_rs::parser::parse(bytes.as_slice()).expect("parses");
            assert!(
                !feed.entries.is_empty() && feed.entries.len() < 40,
                "{file}"
            );
            let newest = feed.entries[0].title.as_ref().map(|t| t.content.as_str());
            assert_eq!(newest, Some("Headline number 0"), "{file}");
            let (_, left_out) = report
                .trimmed
                .iter()
                .find(|(p, _)| p.ends_with(file))
                .expect("reported");
            assert_eq!(feed.entries.len() + left_out, 40, "{file}");
        }
    }

    #[test]
    fn a_limit_no_feed_can_meet_is_an_error_naming_the_file() {
        let mut fixture = Fixture::new("https://montsame.mn/", &["Headline"]);
        fixture.config.daemon.limits.feed_bytes = 10;
        let err = fixture.publish().expect_err("nothing fits in 10 bytes");
        assert!(err.to_string().contains("all.atom"), "{err}");
        assert!(fixture.output("index.html").is_file());
        assert!(!fixture.output("all.atom").exists());
    }

    #[test]
    fn source_credentials_and_secret_parameters_reach_no_output() {
        let fixture = Fixture::new(
            "https://bob:hunter2@montsame.mn/list?api_key=SECRET&page=2",
            &["Headline"],
        );
        fixture.publish().expect("publish");
        let outputs = [
            "all.rss",
            "all.atom",
            "all.json",
            "s.rss",
            "s.atom",
            "s.json",
            "index.html",
            "feeds.opml",
        ];
        for file in outputs {
            let text = std::fs::read_to_string(fixture.output(file)).expect("output");
            for secret in ["bob", "hunter2", "SECRET"] {
                assert!(!text.contains(secret), "{file} shows {secret}:\n{text}");
            }
        }
        let opml = std::fs::read_to_string(fixture.output("feeds.opml")).expect("opml");
        assert!(opml.contains("htmlUrl=\"https://montsame.mn/list?api_key=REDACTED&amp;page=2\""));
        let printed = opml_document(&fixture.config, fixture.now);
        assert!(
            !printed.contains("hunter2") && !printed.contains("SECRET"),
            "{printed}"
        );
    }
}
