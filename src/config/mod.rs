//! Configuration: the TOML file read, checked and compiled once.
//!
//! Loading has three passes so that a user sees every mistake at once, each as
//! `file:line:column: message`: the spanned document is walked for unknown keys
//! (with the table they sit in and a suggestion), serde reads the typed values,
//! and validation compiles selectors, regexes, zones, cron expressions and URLs.
//! Nothing downstream parses config text again.
//!
//! The parts: `raw` declares every key once (the structs serde reads, with
//! spans), `keys` derives the known-key lists from them and reports the rest,
//! `validate` turns raw values into the types below, `units` reads durations,
//! sizes, dates and globs, `diagnostics` locates mistakes, [`defaults`]
//! names every default value, and [`schema`] describes the file as a JSON
//! Schema and as the README's reference, from `raw`. [`catalog`] holds the
//! ready `[[source]]` entries of `config/catalog/`, compiled in, and appends
//! them to config text.

pub mod catalog;
pub mod defaults;
mod diagnostics;
mod keys;
mod raw;
pub mod schema;
mod units;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use regex::Regex;
use toml::de::{DeTable, Deserializer};
use url::Url;

use crate::extract::{ArticleSelectors, ItemSelectors};
use crate::json_items::JsonSelectors;

pub use defaults::USER_AGENT as DEFAULT_USER_AGENT;
pub use diagnostics::{ConfigError, Diagnostic};
pub use units::{glob_match, parse_duration, parse_size};
pub(crate) use validate::is_valid_id;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from, for messages.
    pub path: PathBuf,
    /// Daemon-wide settings.
    pub daemon: Daemon,
    /// Merged outputs; never empty (a default `all` is added when none is configured).
    pub feeds: Vec<FeedSpec>,
    /// Sites to fetch, in file order.
    pub sources: Vec<Source>,
}

/// `[daemon]`.
#[derive(Debug, Clone)]
pub struct Daemon {
    /// Where feeds are written.
    pub output_dir: PathBuf,
    /// The SQLite store.
    pub database: PathBuf,
    /// Cron expression with a seconds field.
    pub schedule: Schedule,
    /// Sources fetched at once.
    pub concurrency: usize,
    /// Minimum gap between two requests to one host.
    pub per_host_delay: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Largest body accepted, in decoded bytes.
    pub max_body: u64,
    /// Sent with every request.
    pub user_agent: String,
    /// Items first seen longer ago than this (and no longer listed) are pruned.
    pub retention: Duration,
    /// Optional address to serve `output_dir` on.
    pub listen: Option<SocketAddr>,
    /// Optional public URL of `output_dir`.
    pub base_url: Option<Url>,
    /// Bounds on what one hostile or broken page can make medee hold or write.
    pub limits: Limits,
    /// Dates outside this range are treated as unrecognised.
    pub dates: DateRange,
    /// `on_new`: the program and its arguments run with each cycle's new items.
    pub on_new: Option<Vec<String>>,
    /// `websub_hub`: the hub named in every feed and pinged when one changes.
    pub websub_hub: Option<Url>,
    /// Reader-visible notices about broken or failing sources.
    pub health: HealthEntries,
    /// How new items are put into stories (`cluster_threshold`, `cluster_window`).
    pub stories: crate::cluster::StorySettings,
}

/// `health_entries` and `health_after`: when a source's trouble is told to
/// the readers of its feeds, as an entry at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthEntries {
    /// Whether notices are written at all.
    pub enabled: bool,
    /// Consecutive failures after which a failing source gets one (a broken one gets one at once).
    pub after: u32,
}

impl Default for HealthEntries {
    fn default() -> Self {
        Self {
            enabled: defaults::HEALTH_ENTRIES,
            after: defaults::HEALTH_AFTER,
        }
    }
}

/// What a source does when its selectors stop working (`on_break`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnBreak {
    /// Tell (status, `/healthz`, the feed's notice) and propose a fix.
    #[default]
    Report,
    /// Also extract with the proposal, when it passes the quality checks, until the config changes.
    Adopt,
}

/// Bounds on what one page can make medee hold, store or write; what is cut is logged once per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Items read from one listing page (`max_page_items`); the rest are dropped.
    pub page_items: usize,
    /// Bytes of text kept per listing field: title, summary, date text, link, image (`max_field`).
    pub field_bytes: usize,
    /// Bytes of sanitised article content kept per item (`max_content`).
    pub content_bytes: usize,
    /// Bytes one feed file may reach; the oldest entries are left out until it fits (`max_feed_size`).
    pub feed_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            page_items: defaults::MAX_PAGE_ITEMS,
            field_bytes: defaults::MAX_FIELD,
            content_bytes: defaults::MAX_CONTENT,
            feed_bytes: defaults::MAX_FEED_SIZE,
        }
    }
}

/// The plausible range of publication dates: a page that claims year 0 or
/// next century is wrong, and such a date is treated as unrecognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    /// The earliest date accepted (`oldest_date`, default 1970-01-01).
    pub oldest: chrono::DateTime<chrono::Utc>,
    /// How far past the fetch time a date may lie (`max_future`, default one day).
    pub max_future: Duration,
}

impl Default for DateRange {
    fn default() -> Self {
        Self {
            oldest: defaults::OLDEST_DATE,
            max_future: defaults::MAX_FUTURE,
        }
    }
}

/// `[[feed]]`: one merged output.
#[derive(Debug, Clone)]
pub struct FeedSpec {
    /// File stem of the outputs.
    pub name: String,
    /// Channel title.
    pub title: String,
    /// Ids of the sources merged, resolved from the globs at load time.
    pub sources: Vec<String>,
    /// Language filter (empty: all).
    pub languages: Vec<String>,
    /// Entries kept in the feed.
    pub max_items: usize,
    /// One entry per story, with the other reports as related links.
    pub cluster: bool,
    /// Source ids whose report a story's entry shows, first preferred.
    pub prefer: Vec<String>,
}

/// How a source is read. A feed source carries no selectors, so there is
/// one reading path per kind and no way for two callers to disagree.
#[derive(Debug, Clone)]
pub enum SourceKind {
    /// A listing page scraped with its compiled selectors.
    Html(Box<ItemSelectors>),
    /// An existing RSS/Atom/JSON feed.
    Feed,
    /// A JSON endpoint (or JSON in a page's `<script>`) read with its compiled pointers.
    Json(Box<JsonSelectors>),
}

/// A cron schedule as written and as compiled, so nothing downstream parses it again.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The expression as written (six fields, seconds first).
    pub text: String,
    /// The compiled expression.
    pub cron: croner::Cron,
}

/// `[[source]]`.
#[derive(Debug, Clone)]
pub struct Source {
    /// `[a-z0-9-]+`, unique; the file stem of its outputs.
    pub id: String,
    /// Human-readable name (feed titles, the digest page).
    pub name: String,
    /// Listing page or feed URL.
    pub url: Url,
    /// How the page is read.
    pub kind: SourceKind,
    /// Language code, e.g. `mn` or `en`.
    pub language: String,
    /// Optional per-source cron schedule.
    pub schedule: Option<Schedule>,
    /// chrono formats tried before the built-in recogniser.
    pub date_format: Vec<String>,
    /// Zone for dates that carry none.
    pub timezone: Tz,
    /// Keep items whose title+summary matches any of these (empty: keep all).
    pub include: Vec<Regex>,
    /// Drop items whose title+summary matches any of these.
    pub exclude: Vec<Regex>,
    /// Optional article-page selectors.
    pub article: Option<ArticleSelectors>,
    /// What to do when the selectors stop working.
    pub on_break: OnBreak,
}

impl Source {
    /// How this source's dates are read: its `date_format`s and `timezone`,
    /// relative to `now` (the fetch time) and within `range`.
    pub fn date_context(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        range: DateRange,
    ) -> crate::dates::DateContext<'_> {
        crate::dates::DateContext {
            formats: &self.date_format,
            tz: self.timezone,
            now,
            range,
        }
    }
}

impl Config {
    /// Reads and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Validates config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let mut diags = diagnostics::Diagnostics::new(text, path);
        let doc = match DeTable::parse(text) {
            Ok(doc) => doc,
            Err(e) => {
                diags.toml_error(&e);
                return Err(diags.into_error());
            }
        };
        keys::check_keys(doc.get_ref(), &mut diags);
        // The parsed document is read into the typed structs as it is: the text
        // is parsed once, and type errors keep the spans the parser recorded.
        let raw: raw::RawConfig = match serde::Deserialize::deserialize(Deserializer::from(doc)) {
            Ok(raw) => raw,
            Err(e) => {
                diags.toml_error(&e);
                return Err(diags.into_error());
            }
        };
        let config = validate::validate(raw, &mut diags);
        diags.finish().map(|()| config)
    }

    /// The source with this id.
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }
}

/// `value` as a TOML string, for the config text medee writes (suggestions,
/// repairs and their notices): the one quoting, so every writer escapes alike.
/// A basic string, or a literal or multi-line one where that needs no escapes.
pub fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

impl Schedule {
    /// Compiles a cron expression the way the scheduler reads it (seconds field required).
    pub fn parse(text: &str) -> Result<Self, croner::errors::CronError> {
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Required)
            .build()
            .parse(text.trim())?;
        Ok(Self {
            text: text.trim().to_string(),
            cron,
        })
    }
}

#[cfg(test)]
mod tests;
