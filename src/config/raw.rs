//! The config file as written: the one declaration of every key.
//!
//! Each struct here is what serde reads from one TOML table, with the
//! positions of the values kept (`Spanned`) so that validation can point at
//! them. The known-key lists that unknown keys are checked against are derived
//! from these structs (see `keys`), so adding a key is one field here (and its
//! reading in `validate`). Defaults live in `defaults`; a field's order is the
//! order keys are listed in "expected one of …" messages.

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawConfig {
    /// `[daemon]`: settings for the whole process.
    #[serde(default)]
    pub(super) daemon: RawDaemon,
    /// `[[feed]]`: merged outputs; without any, one feed of every source is written.
    #[serde(default)]
    pub(super) feed: Vec<RawFeed>,
    /// `[[source]]`: sites to fetch.
    #[serde(default)]
    pub(super) source: Vec<RawSource>,
}

/// `[daemon]`, every key optional.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawDaemon {
    /// Directory the feeds are written to (and served from).
    pub(super) output_dir: Option<Spanned<String>>,
    /// Path of the SQLite store.
    pub(super) database: Option<Spanned<String>>,
    /// Cron expression with seconds, for every source without its own.
    pub(super) schedule: Option<Spanned<String>>,
    /// Sources fetched at once (at least 1).
    pub(super) concurrency: Option<Spanned<i64>>,
    /// Duration between two requests to one host.
    pub(super) per_host_delay: Option<Spanned<String>>,
    /// Duration one request may take in total.
    pub(super) timeout: Option<Spanned<String>>,
    /// Size of the largest (decoded) response body accepted.
    pub(super) max_body: Option<Spanned<String>>,
    /// Sent with every request.
    pub(super) user_agent: Option<Spanned<String>>,
    /// Duration after which items no longer listed are pruned.
    pub(super) retention: Option<Spanned<String>>,
    /// `IP:PORT` to serve `output_dir` on.
    pub(super) listen: Option<Spanned<String>>,
    /// Public http(s) URL of `output_dir`, for self links and OPML.
    pub(super) base_url: Option<Spanned<String>>,
    /// Items read from one listing page (at least 1).
    pub(super) max_page_items: Option<Spanned<i64>>,
    /// Size of text kept per listing field.
    pub(super) max_field: Option<Spanned<String>>,
    /// Size of sanitised article content kept per item.
    pub(super) max_content: Option<Spanned<String>>,
    /// Size one feed file may reach.
    pub(super) max_feed_size: Option<Spanned<String>>,
    /// Date (`YYYY-MM-DD`) before which a publication date is a misreading.
    pub(super) oldest_date: Option<Spanned<String>>,
    /// Duration past the fetch time beyond which a publication date is a misreading.
    pub(super) max_future: Option<Spanned<String>>,
    /// Similarity (0 to 1) a new item must reach with a recent item of another
    /// source to join its story.
    pub(super) cluster_threshold: Option<Spanned<f64>>,
    /// Duration: the largest gap between the dates of two reports of one story.
    pub(super) cluster_window: Option<Spanned<String>>,
}

/// `[[feed]]`.
#[derive(Debug, Deserialize)]
pub(super) struct RawFeed {
    /// File stem of the outputs (`NAME.rss`, `NAME.atom`); required.
    pub(super) name: Spanned<String>,
    /// Channel title; the name when absent.
    pub(super) title: Option<String>,
    /// Source ids or globs merged; every source when absent.
    pub(super) sources: Option<Spanned<Vec<Spanned<String>>>>,
    /// Only sources in these languages (empty: all).
    #[serde(default)]
    pub(super) languages: Vec<Spanned<String>>,
    /// Entries kept in the feed (at least 1).
    pub(super) max_items: Option<Spanned<i64>>,
    /// One entry per story with "also reported by" links (default true);
    /// false keeps one entry per report, merging only equal titles.
    pub(super) cluster: Option<bool>,
    /// Source ids whose report is shown first for a story, in order of preference.
    #[serde(default)]
    pub(super) prefer: Vec<Spanned<String>>,
}

/// `[[source]]`.
#[derive(Debug, Deserialize)]
pub(super) struct RawSource {
    /// `[a-z0-9-]+`, unique; the file stem of the source's outputs; required.
    pub(super) id: Spanned<String>,
    /// Human-readable name; the id when absent.
    pub(super) name: Option<String>,
    /// Listing page or feed URL, http(s); required.
    pub(super) url: Spanned<String>,
    /// `"html"` (scraped with the selectors below, the default), `"feed"`
    /// (RSS/Atom/JSON Feed) or `"json"` (a JSON endpoint read with JSON Pointers).
    pub(super) kind: Option<Spanned<String>>,
    /// Language code such as `mn` or `en`.
    pub(super) language: Option<Spanned<String>>,
    /// Cron expression with seconds, overriding the daemon's.
    pub(super) schedule: Option<Spanned<String>>,
    /// CSS selector matching each headline block; required for html sources.
    /// For json sources, the JSON Pointer of the array of items.
    pub(super) item: Option<Spanned<String>>,
    /// json sources only: CSS selector of the `<script>` whose text is the JSON,
    /// when the URL is an HTML page (`script#__NEXT_DATA__`).
    pub(super) script: Option<Spanned<String>>,
    /// Field selector for the title, inside an item (a JSON Pointer for json sources).
    pub(super) title: Option<Spanned<String>>,
    /// Field selector for the link, inside an item (a JSON Pointer or a
    /// `{field}` template for json sources, where it is required).
    pub(super) link: Option<Spanned<String>>,
    /// Field selector for the date text, inside an item (a JSON Pointer for json sources).
    pub(super) date: Option<Spanned<String>>,
    /// chrono formats tried before the built-in date recogniser.
    #[serde(default)]
    pub(super) date_format: Vec<Spanned<String>>,
    /// IANA zone for dates that carry none.
    pub(super) timezone: Option<Spanned<String>>,
    /// Field selector for the summary, inside an item (a JSON Pointer for json sources).
    pub(super) summary: Option<Spanned<String>>,
    /// Field selector for the image, inside an item (a JSON Pointer for json sources).
    pub(super) image: Option<Spanned<String>>,
    /// Regexes: keep only items whose title and summary match one.
    #[serde(default)]
    pub(super) include: Vec<Spanned<String>>,
    /// Regexes: drop items whose title and summary match one.
    #[serde(default)]
    pub(super) exclude: Vec<Spanned<String>>,
    /// `[source.article]`: selectors for each item's own page.
    pub(super) article: Option<Spanned<RawArticle>>,
}

/// `[source.article]`.
#[derive(Debug, Deserialize)]
pub(super) struct RawArticle {
    /// Field selector for the article body.
    pub(super) content: Option<Spanned<String>>,
    /// Field selector for the publication date.
    pub(super) date: Option<Spanned<String>>,
    /// Field selector for the author.
    pub(super) author: Option<Spanned<String>>,
    /// Hosts besides the source's own that article links may point to.
    #[serde(default)]
    pub(super) allow_hosts: Vec<Spanned<String>>,
}
