//! Configuration: the TOML file read, checked and compiled once.
//!
//! Loading has three passes so that a user sees every mistake at once, each as
//! `file:line:column: message`: the spanned document is walked for unknown keys
//! (with the table they sit in and a suggestion), serde reads the typed values,
//! and validation compiles selectors, regexes, zones, cron expressions and URLs.
//! Nothing downstream parses config text again.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use regex::Regex;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};
use url::Url;

use crate::extract::{ArticleSelectors, FieldSelector, ItemSelectors, parse_css};

/// The default user agent: names the tool and where to read about it, as polite crawlers do.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "medee/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/medee-news/medee)"
);

const TOP_KEYS: &[&str] = &["daemon", "feed", "source"];
const DAEMON_KEYS: &[&str] = &[
    "output_dir",
    "database",
    "schedule",
    "concurrency",
    "per_host_delay",
    "timeout",
    "max_body",
    "user_agent",
    "retention",
    "listen",
    "base_url",
];
const FEED_KEYS: &[&str] = &["name", "title", "sources", "languages", "max_items"];
const SOURCE_KEYS: &[&str] = &[
    "id",
    "name",
    "url",
    "kind",
    "language",
    "schedule",
    "item",
    "title",
    "link",
    "date",
    "date_format",
    "timezone",
    "summary",
    "image",
    "include",
    "exclude",
    "article",
];
const ARTICLE_KEYS: &[&str] = &["content", "date", "author", "allow_hosts"];

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
            page_items: 500,
            field_bytes: 16 << 10,
            content_bytes: 256 << 10,
            feed_bytes: 8 << 20,
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
            oldest: chrono::DateTime::UNIX_EPOCH,
            max_future: Duration::from_secs(86_400),
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
}

/// How a source is read. A feed source carries no selectors, so there is
/// one reading path per kind and no way for two callers to disagree.
#[derive(Debug, Clone)]
pub enum SourceKind {
    /// A listing page scraped with its compiled selectors.
    Html(Box<ItemSelectors>),
    /// An existing RSS/Atom/JSON feed.
    Feed,
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
}

/// One problem in a config file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The config file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read config: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file has one or more mistakes.
    #[error("{}", DiagnosticList(.0))]
    Invalid(Vec<Diagnostic>),
}

struct DiagnosticList<'a>(&'a [Diagnostic]);

impl fmt::Display for DiagnosticList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
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
        let mut diags = Diagnostics::new(text, path);
        match DeTable::parse(text) {
            Ok(doc) => check_keys(doc.get_ref(), &mut diags),
            Err(e) => {
                diags.toml_error(&e);
                return Err(diags.into_error());
            }
        }
        let raw: RawConfig = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                diags.toml_error(&e);
                return Err(diags.into_error());
            }
        };
        let config = validate(raw, &mut diags);
        if diags.list.is_empty() {
            Ok(config)
        } else {
            Err(diags.into_error())
        }
    }

    /// The source with this id.
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }
}

/// Collects diagnostics, turning byte spans into line and column.
struct Diagnostics<'a> {
    text: &'a str,
    path: &'a Path,
    list: Vec<(usize, Diagnostic)>,
}

impl<'a> Diagnostics<'a> {
    fn new(text: &'a str, path: &'a Path) -> Self {
        Self {
            text,
            path,
            list: Vec::new(),
        }
    }

    fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        let offset = span.start.min(self.text.len());
        let before = &self.text[..floor_char_boundary(self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        self.list.push((
            offset,
            Diagnostic {
                path: self.path.to_path_buf(),
                line,
                column,
                message: message.into(),
            },
        ));
    }

    fn toml_error(&mut self, e: &toml::de::Error) {
        let message = e.message().trim().to_string();
        self.at(e.span().unwrap_or(0..0), message);
    }

    fn into_error(mut self) -> ConfigError {
        self.list.sort_by_key(|(offset, _)| *offset);
        ConfigError::Invalid(self.list.into_iter().map(|(_, d)| d).collect())
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Reports keys the schema does not know, naming the table and the nearest valid key.
fn check_keys(doc: &DeTable<'_>, diags: &mut Diagnostics<'_>) {
    for (key, value) in doc {
        let name = key.get_ref().as_ref();
        match (name, value.get_ref()) {
            ("daemon", DeValue::Table(t)) => unknown_keys(t, DAEMON_KEYS, "[daemon]", diags),
            ("feed", DeValue::Array(items)) => {
                for item in items.iter() {
                    if let DeValue::Table(t) = item.get_ref() {
                        let context = table_context("[[feed]]", t, "name");
                        unknown_keys(t, FEED_KEYS, &context, diags);
                    }
                }
            }
            ("source", DeValue::Array(items)) => {
                for item in items.iter() {
                    if let DeValue::Table(t) = item.get_ref() {
                        check_source_keys(t, diags);
                    }
                }
            }
            _ if !TOP_KEYS.contains(&name) => diags.at(
                key.span(),
                unknown_key_message(name, "the top level", TOP_KEYS),
            ),
            _ => {}
        }
    }
}

fn check_source_keys(table: &DeTable<'_>, diags: &mut Diagnostics<'_>) {
    let context = table_context("[[source]]", table, "id");
    unknown_keys(table, SOURCE_KEYS, &context, diags);
    let article = table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == "article");
    if let Some((_, value)) = article
        && let DeValue::Table(t) = value.get_ref()
    {
        unknown_keys(
            t,
            ARTICLE_KEYS,
            &format!("{context} [source.article]"),
            diags,
        );
    }
}

/// `[[source]] "gogo-mn"` when the table has an id, else just the header.
fn table_context(header: &str, table: &DeTable<'_>, id_key: &str) -> String {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == id_key)
        .and_then(|(_, v)| match v.get_ref() {
            DeValue::String(s) => Some(format!("{header} \"{s}\"")),
            _ => None,
        })
        .unwrap_or_else(|| header.to_string())
}

fn unknown_keys(table: &DeTable<'_>, known: &[&str], context: &str, diags: &mut Diagnostics<'_>) {
    for key in table.keys() {
        let name = key.get_ref().as_ref();
        if !known.contains(&name) {
            diags.at(key.span(), unknown_key_message(name, context, known));
        }
    }
}

fn unknown_key_message(name: &str, context: &str, known: &[&str]) -> String {
    let suggestion = known
        .iter()
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_default();
    format!(
        "unknown key \"{name}\" in {context}{suggestion}; expected one of {}",
        known.join(", ")
    )
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[derive(Debug, Default, Deserialize)]
struct RawConfig {
    #[serde(default)]
    daemon: RawDaemon,
    #[serde(default)]
    feed: Vec<RawFeed>,
    #[serde(default)]
    source: Vec<RawSource>,
}

#[derive(Debug, Default, Deserialize)]
struct RawDaemon {
    output_dir: Option<Spanned<String>>,
    database: Option<Spanned<String>>,
    schedule: Option<Spanned<String>>,
    concurrency: Option<Spanned<i64>>,
    per_host_delay: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    max_body: Option<Spanned<String>>,
    user_agent: Option<Spanned<String>>,
    retention: Option<Spanned<String>>,
    listen: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
struct RawFeed {
    name: Spanned<String>,
    title: Option<String>,
    sources: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    languages: Vec<Spanned<String>>,
    max_items: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
struct RawSource {
    id: Spanned<String>,
    name: Option<String>,
    url: Spanned<String>,
    kind: Option<Spanned<String>>,
    language: Option<Spanned<String>>,
    schedule: Option<Spanned<String>>,
    item: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    #[serde(default)]
    date_format: Vec<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    summary: Option<Spanned<String>>,
    image: Option<Spanned<String>>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    article: Option<Spanned<RawArticle>>,
}

#[derive(Debug, Deserialize)]
struct RawArticle {
    content: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    author: Option<Spanned<String>>,
    #[serde(default)]
    allow_hosts: Vec<Spanned<String>>,
}

fn validate(raw: RawConfig, diags: &mut Diagnostics<'_>) -> Config {
    let daemon = validate_daemon(raw.daemon, diags);
    let mut ids = HashSet::new();
    let sources: Vec<Source> = raw
        .source
        .into_iter()
        .filter_map(|s| {
            let id = s.id.clone();
            let source = validate_source(s, diags)?;
            if ids.insert(source.id.clone()) {
                Some(source)
            } else {
                diags.at(
                    id.span(),
                    format!(
                        "duplicate source id \"{}\"; ids must be unique",
                        id.get_ref()
                    ),
                );
                None
            }
        })
        .collect();
    let mut feeds: Vec<FeedSpec> = raw
        .feed
        .into_iter()
        .filter_map(|f| validate_feed(f, &sources, &ids, diags))
        .collect();
    check_feed_names(&feeds, diags);
    if feeds.is_empty() {
        feeds.push(FeedSpec {
            name: "all".to_string(),
            title: "All sources".to_string(),
            sources: sources.iter().map(|s| s.id.clone()).collect(),
            languages: Vec::new(),
            max_items: 100,
        });
    }
    Config {
        path: diags.path.to_path_buf(),
        daemon,
        feeds,
        sources,
    }
}

fn check_feed_names(feeds: &[FeedSpec], diags: &mut Diagnostics<'_>) {
    let mut names = HashSet::new();
    for feed in feeds {
        if !names.insert(feed.name.as_str()) {
            let span = find_span(diags.text, &format!("\"{}\"", feed.name));
            diags.at(span, format!("duplicate feed name \"{}\"", feed.name));
        }
    }
}

/// The span of the first occurrence of `needle`, for errors about whole values.
fn find_span(text: &str, needle: &str) -> Range<usize> {
    text.find(needle).map_or(0..0, |i| i..i + needle.len())
}

fn validate_daemon(raw: RawDaemon, diags: &mut Diagnostics<'_>) -> Daemon {
    let mut duration = |value: Option<Spanned<String>>, default: Duration| match value {
        None => default,
        Some(v) => parse_duration(v.get_ref()).unwrap_or_else(|e| {
            diags.at(v.span(), e);
            default
        }),
    };
    let per_host_delay = duration(raw.per_host_delay, Duration::from_secs(1));
    let timeout = duration(raw.timeout, Duration::from_secs(30));
    let retention = duration(raw.retention, Duration::from_secs(90 * 86_400));
    let max_body = raw.max_body.map_or(10 << 20, |v| {
        parse_size(v.get_ref()).unwrap_or_else(|e| {
            diags.at(v.span(), e);
            10 << 20
        })
    });
    let default_schedule =
        || Schedule::parse("0 */15 * * * *").expect("the default schedule is valid");
    let schedule = raw
        .schedule
        .and_then(|s| check_cron(s, diags))
        .unwrap_or_else(default_schedule);
    let concurrency = count_at_least_one(raw.concurrency, "concurrency", 8, diags);
    let listen = raw
        .listen
        .and_then(|l| match l.get_ref().parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(_) => {
                diags.at(
                    l.span(),
                    format!(
                        "invalid listen address \"{}\"; expected IP:PORT such as 127.0.0.1:8088",
                        l.get_ref()
                    ),
                );
                None
            }
        });
    let base_url = raw.base_url.and_then(|b| {
        let url = check_http_url(&b, diags)?;
        Some(with_trailing_slash(url))
    });
    Daemon {
        output_dir: raw
            .output_dir
            .map_or_else(|| PathBuf::from("feeds"), |p| PathBuf::from(p.into_inner())),
        database: raw.database.map_or_else(
            || PathBuf::from("state/medee.db"),
            |p| PathBuf::from(p.into_inner()),
        ),
        schedule,
        concurrency,
        per_host_delay,
        timeout,
        max_body,
        user_agent: raw
            .user_agent
            .map_or_else(|| DEFAULT_USER_AGENT.to_string(), Spanned::into_inner),
        retention,
        listen,
        base_url,
        limits: Limits::default(),
        dates: DateRange::default(),
    }
}

/// A base URL names a directory: without the slash, joining would drop its last segment.
fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// A count that must be at least 1; `default` when absent or (after the
/// error is recorded) invalid, so checking can go on.
fn count_at_least_one(
    value: Option<Spanned<i64>>,
    key: &str,
    default: usize,
    diags: &mut Diagnostics<'_>,
) -> usize {
    value.map_or(default, |v| match usize::try_from(*v.get_ref()) {
        Ok(n) if n >= 1 => n,
        _ => {
            diags.at(v.span(), format!("{key} must be at least 1"));
            default
        }
    })
}

fn check_cron(value: Spanned<String>, diags: &mut Diagnostics<'_>) -> Option<Schedule> {
    let text = value.get_ref().trim();
    Schedule::parse(text)
        .map_err(|e| {
            diags.at(
                value.span(),
                format!("invalid cron expression \"{text}\": {e}; expected six fields with seconds, e.g. \"0 */15 * * * *\""),
            );
        })
        .ok()
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

fn check_http_url(value: &Spanned<String>, diags: &mut Diagnostics<'_>) -> Option<Url> {
    match Url::parse(value.get_ref().trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
        Ok(url) => {
            diags.at(
                value.span(),
                format!(
                    "URL \"{}\" has scheme \"{}\"; only http and https are fetched",
                    value.get_ref(),
                    url.scheme()
                ),
            );
            None
        }
        Err(e) => {
            diags.at(
                value.span(),
                format!("invalid URL \"{}\": {e}", value.get_ref()),
            );
            None
        }
    }
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn validate_source(raw: RawSource, diags: &mut Diagnostics<'_>) -> Option<Source> {
    let id = raw.id.get_ref().clone();
    let before = diags.list.len();
    if !is_valid_id(&id) {
        diags.at(
            raw.id.span(),
            format!(
                "invalid source id \"{id}\"; use lower-case letters, digits and '-' ([a-z0-9-]+)"
            ),
        );
    }
    let url = check_http_url(&raw.url, diags);
    let is_feed = match raw.kind.as_ref().map(|k| k.get_ref().as_str()) {
        None | Some("html") => false,
        Some("feed") => true,
        Some(other) => {
            let span = raw.kind.as_ref().map_or(0..0, Spanned::span);
            diags.at(
                span,
                format!(
                    "unknown kind \"{other}\" in [[source]] \"{id}\"; expected \"html\" or \"feed\""
                ),
            );
            false
        }
    };
    let kind = if is_feed {
        reject_feed_selectors(&raw, &id, diags);
        Some(SourceKind::Feed)
    } else {
        html_selectors(&raw, &id, diags).map(|s| SourceKind::Html(Box::new(s)))
    };
    let language = match raw.language {
        None => "en".to_string(),
        Some(l) if is_language_code(l.get_ref()) => l.into_inner(),
        Some(l) => {
            diags.at(
                l.span(),
                format!(
                    "invalid language \"{}\"; expected a code such as \"mn\" or \"en\"",
                    l.get_ref()
                ),
            );
            "en".to_string()
        }
    };
    let schedule = raw.schedule.and_then(|s| check_cron(s, diags));
    let timezone = match raw.timezone {
        None => Tz::UTC,
        Some(tz) => tz.get_ref().parse::<Tz>().unwrap_or_else(|_| {
            diags.at(
                tz.span(),
                format!(
                    "unknown time zone \"{}\"; expected an IANA name such as \"Asia/Ulaanbaatar\"",
                    tz.get_ref()
                ),
            );
            Tz::UTC
        }),
    };
    let include = compile_regexes(raw.include, &id, diags);
    let exclude = compile_regexes(raw.exclude, &id, diags);
    let article = raw
        .article
        .map(|a| validate_article(a.into_inner(), &id, diags));
    if diags.list.len() > before {
        return None;
    }
    Some(Source {
        name: raw.name.unwrap_or_else(|| id.clone()),
        id,
        url: url?,
        kind: kind?,
        language,
        schedule,
        date_format: raw
            .date_format
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        timezone,
        include,
        exclude,
        article,
    })
}

/// The selector keys of a `[[source]]`, which only an html source may carry.
fn selector_keys(raw: &RawSource) -> [(&'static str, Option<&Spanned<String>>); 6] {
    [
        ("item", raw.item.as_ref()),
        ("title", raw.title.as_ref()),
        ("link", raw.link.as_ref()),
        ("date", raw.date.as_ref()),
        ("summary", raw.summary.as_ref()),
        ("image", raw.image.as_ref()),
    ]
}

/// A feed is read as a feed, never scraped: selectors on one would be silently ignored.
fn reject_feed_selectors(raw: &RawSource, id: &str, diags: &mut Diagnostics<'_>) {
    for (key, value) in selector_keys(raw) {
        if let Some(value) = value {
            diags.at(
                value.span(),
                format!("[[source]] \"{id}\" has kind = \"feed\", which is read as a feed, but sets the selector \"{key}\"; remove it, or drop kind = \"feed\" to scrape the page"),
            );
        }
    }
}

/// Compiles an html source's selectors; `None` (with the errors recorded) when any is invalid or `item` is missing.
fn html_selectors(raw: &RawSource, id: &str, diags: &mut Diagnostics<'_>) -> Option<ItemSelectors> {
    let before = diags.list.len();
    let mut field = |value: Option<&Spanned<String>>| {
        value.and_then(|v| {
            FieldSelector::parse(v.get_ref())
                .map_err(|e| diags.at(v.span(), format!("in [[source]] \"{id}\": {e}")))
                .ok()
        })
    };
    let (title, link, date, summary, image) = (
        field(raw.title.as_ref()),
        field(raw.link.as_ref()),
        field(raw.date.as_ref()),
        field(raw.summary.as_ref()),
        field(raw.image.as_ref()),
    );
    let Some(item) = &raw.item else {
        diags.at(raw.id.span(), format!("[[source]] \"{id}\" has kind \"html\" but no \"item\" selector; add item = \"CSS selector matching each headline block\""));
        return None;
    };
    let compiled = parse_css(item.get_ref())
        .map_err(|e| diags.at(item.span(), format!("in [[source]] \"{id}\": {e}")))
        .ok()?;
    (diags.list.len() == before).then(|| ItemSelectors {
        item: compiled,
        item_source: item.get_ref().clone(),
        title,
        link,
        date,
        summary,
        image,
    })
}

fn validate_article(raw: RawArticle, id: &str, diags: &mut Diagnostics<'_>) -> ArticleSelectors {
    let mut field = |value: Option<Spanned<String>>| {
        value.and_then(|v| {
            FieldSelector::parse(v.get_ref())
                .map_err(|e| diags.at(v.span(), format!("in [source.article] of \"{id}\": {e}")))
                .ok()
        })
    };
    ArticleSelectors {
        content: field(raw.content),
        date: field(raw.date),
        author: field(raw.author),
        allow_hosts: raw
            .allow_hosts
            .into_iter()
            .map(|h| h.into_inner().to_ascii_lowercase())
            .collect(),
    }
}

fn compile_regexes(
    values: Vec<Spanned<String>>,
    id: &str,
    diags: &mut Diagnostics<'_>,
) -> Vec<Regex> {
    values
        .into_iter()
        .filter_map(|v| match Regex::new(v.get_ref()) {
            Ok(re) => Some(re),
            Err(e) => {
                let reason = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                diags.at(
                    v.span(),
                    format!(
                        "invalid regex \"{}\" in [[source]] \"{id}\": {reason}",
                        v.get_ref()
                    ),
                );
                None
            }
        })
        .collect()
}

fn validate_feed(
    raw: RawFeed,
    sources: &[Source],
    ids: &HashSet<String>,
    diags: &mut Diagnostics<'_>,
) -> Option<FeedSpec> {
    let name = raw.name.get_ref().clone();
    let before = diags.list.len();
    if !is_valid_id(&name) {
        diags.at(
            raw.name.span(),
            format!("invalid feed name \"{name}\"; use lower-case letters, digits and '-'"),
        );
    }
    if ids.contains(&name) {
        diags.at(
            raw.name.span(),
            format!("feed name \"{name}\" is also a source id; both would write {name}.rss"),
        );
    }
    let patterns = raw.sources.map_or_else(
        || vec![Spanned::new(0..0, "*".to_string())],
        Spanned::into_inner,
    );
    let mut members = BTreeMap::new();
    for pattern in &patterns {
        let matched: Vec<&Source> = sources
            .iter()
            .filter(|s| glob_match(pattern.get_ref(), &s.id))
            .collect();
        if matched.is_empty() && !sources.is_empty() {
            diags.at(
                pattern.span(),
                format!(
                    "\"{}\" in [[feed]] \"{name}\" matches no source id",
                    pattern.get_ref()
                ),
            );
        }
        for (order, source) in matched.into_iter().enumerate() {
            members.entry(source.id.clone()).or_insert(order);
        }
    }
    let languages: Vec<String> = raw.languages.into_iter().map(Spanned::into_inner).collect();
    let max_items = count_at_least_one(raw.max_items, "max_items", 100, diags);
    if diags.list.len() > before {
        return None;
    }
    Some(FeedSpec {
        title: raw.title.unwrap_or_else(|| name.clone()),
        name,
        sources: sources
            .iter()
            .filter(|s| members.contains_key(&s.id))
            .filter(|s| languages.is_empty() || languages.contains(&s.language))
            .map(|s| s.id.clone())
            .collect(),
        languages,
        max_items,
    })
}

/// Shell-style glob with `*` (any run) and `?` (one character).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Parses `"500ms"`, `"30s"`, `"15m"`, `"2h"`, `"90d"`, `"1w"` or sums such as `"1h30m"`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || {
        format!(
            "invalid duration \"{text}\"; expected a number and a unit (ms, s, m, h, d, w), e.g. \"30s\" or \"90d\""
        )
    };
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let millis = match rest[..unit_len].trim() {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            _ => return Err(invalid()),
        };
        total += Duration::from_millis(n.checked_mul(millis).ok_or_else(invalid)?);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Parses `"10MiB"`, `"512KiB"`, `"5MB"` or a plain byte count.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let invalid = || {
        format!(
            "invalid size \"{text}\"; expected a number and a unit (B, KB, KiB, MB, MiB, GB, GiB), e.g. \"10MiB\""
        )
    };
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let n: u64 = trimmed[..digits].parse().map_err(|_| invalid())?;
    let factor: u64 = match trimmed[digits..].trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "GiB" => 1 << 30,
        _ => return Err(invalid()),
    };
    n.checked_mul(factor).filter(|&n| n > 0).ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match Config::parse(text, Path::new("medee.toml")) {
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid(list)) => list.iter().map(ToString::to_string).collect(),
            Err(e) => vec![e.to_string()],
        }
    }

    const MINIMAL: &str = r#"
[[source]]
id = "a"
url = "https://a.mn/"
item = "li"
"#;

    #[test]
    fn minimal_config_gets_defaults_and_an_all_feed() {
        let config = Config::parse(MINIMAL, Path::new("x.toml")).expect("valid");
        assert_eq!(config.daemon.concurrency, 8);
        assert_eq!(config.daemon.max_body, 10 << 20);
        assert_eq!(config.daemon.retention, Duration::from_secs(90 * 86_400));
        assert_eq!(config.feeds.len(), 1);
        assert_eq!(config.feeds[0].name, "all");
        assert_eq!(config.feeds[0].sources, vec!["a"]);
    }

    #[test]
    fn unknown_key_names_table_line_column_and_suggestion() {
        let text = "[[source]]\nid = \"gogo-en\"\nurl = \"https://gogo.mn/\"\n  itme = \"li\"\n";
        let errs = errors(text);
        assert!(
            errs.iter().any(|e| e.starts_with("medee.toml:4:3: unknown key \"itme\" in [[source]] \"gogo-en\" (did you mean \"item\"?); expected one of id, name")),
            "{errs:?}"
        );
    }

    #[test]
    fn every_error_is_reported_in_file_order() {
        let text = r#"[daemon]
schedule = "*/15 * * * *"
per_host_delay = "soon"
[[source]]
id = "Bad_Id"
url = "ftp://x.mn/"
item = "div["
timezone = "Mars/Base"
include = ["(unclosed"]
[[source]]
id = "b"
url = "https://b.mn/"
"#;
        let errs = errors(text);
        let lines: Vec<&str> = errs
            .iter()
            .map(|e| e.split(':').nth(1).unwrap_or(""))
            .collect();
        assert_eq!(
            lines,
            ["2", "3", "5", "6", "7", "8", "9", "11"],
            "{errs:#?}"
        );
    }

    #[test]
    fn duplicate_ids_and_feed_globs_are_checked() {
        let text = format!("{MINIMAL}{MINIMAL}[[feed]]\nname = \"x\"\nsources = [\"zz-*\"]\n");
        let errs = errors(&text);
        assert!(
            errs.iter().any(|e| e.contains("duplicate source id \"a\"")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("\"zz-*\" in [[feed]] \"x\" matches no source")),
            "{errs:?}"
        );
    }

    #[test]
    fn a_feed_source_with_selectors_is_an_error_at_each_selector() {
        let text = "[[source]]\nid = \"f\"\nurl = \"https://f.mn/rss\"\nkind = \"feed\"\nitem = \"li\"\n  title = \"h3\"\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].starts_with("medee.toml:5:8: [[source]] \"f\" has kind = \"feed\"")
                && errs[0].contains("\"item\""),
            "{errs:?}"
        );
        assert!(errs[1].starts_with("medee.toml:6:11:"), "{errs:?}");
    }

    #[test]
    fn schedules_are_compiled_once_at_load() {
        let text = format!(
            "[daemon]\nschedule = \"0 0 * * * *\"\n{MINIMAL}schedule = \" */5 * * * * *\"\n"
        );
        let config = Config::parse(&text, Path::new("x.toml")).expect("valid");
        assert_eq!(config.daemon.schedule.text, "0 0 * * * *");
        let own = config.sources[0].schedule.as_ref().expect("own schedule");
        assert_eq!(own.text, "*/5 * * * * *");
        assert_eq!(
            own.cron,
            Schedule::parse("*/5 * * * * *").expect("valid").cron
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let errs = errors("[daemon\nx=1");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("medee.toml:1:"), "{errs:?}");
    }

    #[test]
    fn durations_sizes_and_globs() {
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("512"), Ok(512));
        assert!(parse_size("lots").is_err());
        assert!(glob_match("montsame-*", "montsame-en"));
        assert!(glob_match("*", "x"));
        assert!(glob_match("g?go-*n", "gogo-mn"));
        assert!(!glob_match("montsame-*", "gogo-mn"));
    }
}
