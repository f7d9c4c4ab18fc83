//! The config file as written: the one declaration of every key.
//!
//! Each struct here is what serde reads from one TOML table, with the
//! positions of the values kept (`Spanned`) so that validation can point at
//! them. The known-key lists that unknown keys are checked against are derived
//! from these structs (see `keys`), so adding a key is one field here (and its
//! reading in `validate`). Defaults live in `defaults`; a field's order is the
//! order keys are listed in "expected one of …" messages.
//!
//! A field's `///` comment is also the user's documentation of its key:
//! `schema` reads this file's text and prints each comment as the key's
//! description in `medee schema`, and the README's configuration reference is
//! checked against it. So these comments say what a key means to someone
//! writing a config, in one paragraph each, before any `#[serde]` attribute.

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawConfig {
    /// `[daemon]`: settings for the whole process; every key is optional.
    #[serde(default)]
    pub(super) daemon: RawDaemon,
    /// `[[feed]]`: merged outputs. Without any, one feed named `all` ("All sources") merges every
    /// source.
    #[serde(default)]
    pub(super) feed: Vec<RawFeed>,
    /// `[[source]]`: the sites to fetch.
    #[serde(default)]
    pub(super) source: Vec<RawSource>,
}

/// `[daemon]`, every key optional.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawDaemon {
    /// Directory the outputs are written to (and served from); not empty (`"."` is the directory
    /// medee runs in) and not the `database` path.
    pub(super) output_dir: Option<Spanned<String>>,
    /// Path of the SQLite store, its directories created as needed; not empty and not the
    /// `output_dir` path (`./` and trailing slashes do not count).
    pub(super) database: Option<Spanned<String>>,
    /// Cron expression with a seconds field, in the machine's local time, for every source
    /// without its own `schedule`.
    pub(super) schedule: Option<Spanned<String>>,
    /// Sources fetched at once (at least 1).
    pub(super) concurrency: Option<Spanned<i64>>,
    /// Duration between two requests to one host and port, across sources and article pages (at
    /// most `"1h"`).
    pub(super) per_host_delay: Option<Spanned<String>>,
    /// Duration one request may take in total, from connecting to the last body byte (`"1ms"` to
    /// `"1h"`).
    pub(super) timeout: Option<Spanned<String>>,
    /// Size of the largest response body accepted, after decompression; a larger one fails the
    /// source.
    pub(super) max_body: Option<Spanned<String>>,
    /// Sent with every request.
    pub(super) user_agent: Option<Spanned<String>>,
    /// Duration after which an item is pruned, once it was first seen and last listed longer ago
    /// than that.
    pub(super) retention: Option<Spanned<String>>,
    /// `IP:PORT` to serve the outputs on over HTTP, e.g. `"127.0.0.1:8088"`; nothing is served
    /// without it.
    pub(super) listen: Option<Spanned<String>>,
    /// Public http(s) URL of the outputs, for self links and OPML.
    pub(super) base_url: Option<Spanned<String>>,
    /// Items read from one listing page (at least 1); the rest are dropped.
    pub(super) max_page_items: Option<Spanned<i64>>,
    /// Size of text kept per listing field: title, summary, date text, link, image (at most
    /// `"1GiB"`).
    pub(super) max_field: Option<Spanned<String>>,
    /// Size of sanitised article content kept per item (at most `"1GiB"`).
    pub(super) max_content: Option<Spanned<String>>,
    /// Size one feed file may reach; the oldest entries are left out until it fits (at most
    /// `"1GiB"`).
    pub(super) max_feed_size: Option<Spanned<String>>,
    /// Date (`YYYY-MM-DD`, from `0001-01-01`) before which a publication date is treated as
    /// unrecognised.
    pub(super) oldest_date: Option<Spanned<String>>,
    /// Duration past the fetch time a publication date may lie (at most `"365d"`); a later one is
    /// treated as unrecognised.
    pub(super) max_future: Option<Spanned<String>>,
    /// Program and its arguments, run after a cycle that stored new items with one JSON object per
    /// new item and line on its standard input (see "The `on_new` hook").
    pub(super) on_new: Option<Spanned<Vec<Spanned<String>>>>,
    /// WebSub hub (an http(s) URL) named in every feed and pinged when one changes; needs
    /// `base_url` or `listen` (see "WebSub").
    pub(super) websub_hub: Option<Spanned<String>>,
    /// Whether a broken or failing source gets a notice entry at the top of its feeds.
    pub(super) health_entries: Option<Spanned<bool>>,
    /// Consecutive failed runs (0 to 1000) after which a failing source's notice entry appears.
    pub(super) health_after: Option<Spanned<i64>>,
    /// Similarity (above 0, at most 1) a new item must reach with a recent item of another
    /// source to join its story.
    pub(super) cluster_threshold: Option<Spanned<f64>>,
    /// Duration (at most 7d): the largest gap between the dates of two reports of one story.
    pub(super) cluster_window: Option<Spanned<String>>,
}

/// `[[feed]]`.
#[derive(Debug, Deserialize)]
pub(super) struct RawFeed {
    /// File stem of the outputs (`NAME.rss`, `NAME.atom`, `NAME.json`); not also a source id.
    pub(super) name: Spanned<String>,
    /// Channel title; the name when absent.
    pub(super) title: Option<String>,
    /// Source ids or globs (`"montsame-*"`) merged; a glob that matches no source is an error.
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
    /// `[a-z0-9-]+`, unique; the file stem of the source's outputs; not also a feed's name.
    pub(super) id: Spanned<String>,
    /// Human-readable name, for feed titles and the digest page; the id when absent.
    pub(super) name: Option<String>,
    /// Listing page, feed or JSON endpoint, http(s).
    pub(super) url: Spanned<String>,
    /// `"html"` (a page scraped with the CSS selectors below), `"feed"` (RSS, Atom or JSON Feed;
    /// no selectors) or `"json"` (JSON read with JSON Pointers).
    pub(super) kind: Option<Spanned<String>>,
    /// Language code of the items, such as `mn` or `en`; feeds filter on it.
    pub(super) language: Option<Spanned<String>>,
    /// Cron expression with a seconds field, overriding `[daemon] schedule` for this source.
    pub(super) schedule: Option<Spanned<String>>,
    /// CSS selector matching each headline block, required for html sources; for json sources,
    /// the JSON Pointer of the array of items (`""` for the whole document), required too.
    pub(super) item: Option<Spanned<String>>,
    /// json sources only: CSS selector of the `<script>` whose text is the JSON, when `url` is an
    /// HTML page (`script#__NEXT_DATA__`).
    pub(super) script: Option<Spanned<String>>,
    /// Selector of the title inside an item (default: the text of the first link); for json
    /// sources a JSON Pointer, required.
    pub(super) title: Option<Spanned<String>>,
    /// Selector of the link inside an item (default: the first `a[href]`); for json sources a
    /// JSON Pointer or a `{field}` template, required.
    pub(super) link: Option<Spanned<String>>,
    /// Selector of the date text inside an item (a JSON Pointer for json sources); without a date
    /// the first-seen time is used.
    pub(super) date: Option<Spanned<String>>,
    /// chrono formats tried in order before the built-in date recogniser.
    #[serde(default)]
    pub(super) date_format: Vec<Spanned<String>>,
    /// IANA zone for dates that carry none.
    pub(super) timezone: Option<Spanned<String>>,
    /// Selector of the summary inside an item (a JSON Pointer for json sources); HTML is
    /// sanitised.
    pub(super) summary: Option<Spanned<String>>,
    /// Selector of the image inside an item (a JSON Pointer for json sources); a `style`
    /// attribute yields its `url(...)`.
    pub(super) image: Option<Spanned<String>>,
    /// Regexes on title and summary: keep only the items that match one.
    #[serde(default)]
    pub(super) include: Vec<Spanned<String>>,
    /// Regexes on title and summary: drop the items that match one.
    #[serde(default)]
    pub(super) exclude: Vec<Spanned<String>>,
    /// `"report"` (the default) or `"adopt"`: what medee does when the
    /// selectors stop working and it found replacements that pass its checks.
    pub(super) on_break: Option<Spanned<String>>,
    /// `[source.article]`: selectors read on each new item's own page, fetched once.
    pub(super) article: Option<Spanned<RawArticle>>,
}

/// `[source.article]`.
#[derive(Debug, Deserialize)]
pub(super) struct RawArticle {
    /// Selector of the article body, the entry's full text (sanitised HTML), or `"auto"`.
    pub(super) content: Option<Spanned<String>>,
    /// Selector of the publication date, or `"auto"`.
    pub(super) date: Option<Spanned<String>>,
    /// Selector of the author, or `"auto"`.
    pub(super) author: Option<Spanned<String>>,
    /// Hosts besides the source's own that article links may point to (`host:port` for another
    /// port).
    #[serde(default)]
    pub(super) allow_hosts: Vec<Spanned<String>>,
    /// `true`: every field not given a selector is found automatically.
    pub(super) auto: Option<Spanned<bool>>,
}
