//! The TOML blocks `suggest` prints: a `[[source]]` for a candidate and a
//! `[source.article]` for an article page.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::{Limits, toml_string};
use crate::dates::DateContext;
use crate::extract::{ArticleSelectors, article_text, extract_article};

use super::{Candidate, Feed, JsonBlock, PageInfo};

/// A `[[source]]` TOML block for the best candidate.
pub fn source_toml(candidate: &Candidate, info: &PageInfo, url: &Url) -> String {
    let mut out = block_head(&source_id(url), info, url, url.as_str());
    write_language_and_zone(&mut out, info, url, candidate.fields.date.is_some());
    let _ = writeln!(out, "item = {}", toml_string(&candidate.item));
    let fields = &candidate.fields;
    for (key, value) in [
        ("title", &fields.title),
        ("link", &fields.link),
        ("date", &fields.date),
        ("summary", &fields.summary),
        ("image", &fields.image),
    ] {
        if let Some(value) = value {
            let _ = writeln!(out, "{key} = {}", toml_string(value));
        }
    }
    write_label_excludes(&mut out, &candidate.labels);
    if fields.date.is_none() {
        out.push_str("# No date on the listing: items get their first-seen time.\n");
        out.push_str("# Run `medee suggest --article URL` for a [source.article] block that reads it from each page.\n");
    }
    out
}

/// The `language` line when the page names one, and for a block that reads
/// dates the `timezone` line of the site's country when its host says it.
fn write_language_and_zone(out: &mut String, info: &PageInfo, url: &Url, dated: bool) {
    if let Some(language) = &info.language {
        let _ = writeln!(out, "language = {}", toml_string(language));
    }
    if dated && let Some(zone) = zone_for_host(site_host(url)) {
        let _ = writeln!(
            out,
            "timezone = {}  # dates without an offset are read in this zone",
            toml_string(zone)
        );
    }
}

/// `exclude` lines for recurring labels: each matches the title line exactly.
fn write_label_excludes(out: &mut String, labels: &[String]) {
    if labels.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "# These titles head several different items: recurring labels, not headlines."
    );
    let patterns: Vec<String> = labels
        .iter()
        .map(|l| toml_string(&format!("(?m)^{}$", regex::escape(l))))
        .collect();
    let _ = writeln!(out, "exclude = [{}]", patterns.join(", "));
}

/// The page's host without `www.`: the name of last resort and the source of the id.
fn site_host(url: &Url) -> &str {
    url.host_str().unwrap_or("site").trim_start_matches("www.")
}

/// `[[source]]` with its `id`, `name` (the page title, else the host) and `url` lines.
fn block_head(id: &str, info: &PageInfo, page: &Url, source_url: &str) -> String {
    let mut out = String::from("[[source]]\n");
    let _ = writeln!(out, "id = {}", toml_string(id));
    let name = info.title.as_deref().unwrap_or(site_host(page));
    let _ = writeln!(out, "name = {}", toml_string(name));
    let _ = writeln!(out, "url = {}", toml_string(source_url));
    out
}

/// `host-path` in `[a-z0-9-]`: `nknews-org-category-news`.
fn source_id(url: &Url) -> String {
    let host = site_host(url);
    format!("{host}{}", url.path())
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// A `kind = "feed"` `[[source]]` block for a feed the page at `url` advertises.
pub fn feed_toml(feed: &Feed, info: &PageInfo, url: &Url) -> String {
    // Its own id, so that it and the scraped block (`--all`) can both be pasted.
    let id = format!("{}-feed", source_id(url));
    let mut out = block_head(&id, info, url, &feed.url);
    let _ = writeln!(
        out,
        "kind = \"feed\"  # the page advertises this {} feed",
        feed.format
    );
    write_language_and_zone(&mut out, info, url, false);
    out
}

/// A `kind = "json"` `[[source]]` block reading the items a page carries in a script.
pub fn json_toml(block: &JsonBlock, info: &PageInfo, url: &Url) -> String {
    let mut out = block_head(&format!("{}-json", source_id(url)), info, url, url.as_str());
    let _ = writeln!(out, "kind = \"json\"");
    write_language_and_zone(&mut out, info, url, block.date.is_some());
    let _ = writeln!(
        out,
        "script = {}  # the page carries its items as {}",
        toml_string(&block.script),
        block.what
    );
    let _ = writeln!(out, "item = {}", toml_string(&block.item));
    let _ = writeln!(out, "title = {}", toml_string(&block.title));
    match &block.link {
        Some(link) => {
            let _ = writeln!(out, "link = {}", toml_string(link));
        }
        None => out.push_str(
            "# link = \"/news/{id}\"  # no field holds the article address and no link on the page\n#   shows its pattern: write the template from an article's address, then uncomment\n",
        ),
    }
    for (key, value) in [
        ("date", &block.date),
        ("summary", &block.summary),
        ("image", &block.image),
    ] {
        if let Some(value) = value {
            let _ = writeln!(out, "{key} = {}", toml_string(value));
        }
    }
    out
}

fn zone_for_host(host: &str) -> Option<&'static str> {
    let tld = host.rsplit('.').next()?;
    Some(match tld {
        "mn" => "Asia/Ulaanbaatar",
        "kr" => "Asia/Seoul",
        "jp" => "Asia/Tokyo",
        "cn" => "Asia/Shanghai",
        "ru" => "Europe/Moscow",
        _ => return None,
    })
}

/// `[source.article]` suggestion from one article page at `url`: `auto = true`,
/// with what the automatic extraction (the one runs use) found there as a
/// comment; `None` when it found nothing.
pub fn article_toml(html: &str, url: &Url, now: DateTime<Utc>) -> Option<String> {
    let selectors = ArticleSelectors::auto();
    let ctx = DateContext::plain(now);
    let article = extract_article(html, url, &selectors, &Limits::default(), &ctx);
    let mut found = Vec::new();
    if let Some(date) = article.date_text.as_deref() {
        found.push(format!("date {date:?}"));
    }
    if let Some(author) = article.author.as_deref() {
        found.push(format!("author {author:?}"));
    }
    if let Some(content) = article.content.as_deref() {
        let text = article_text(content);
        found.push(format!("content of {} characters", text.chars().count()));
    }
    if found.is_empty() {
        return None;
    }
    let mut out = String::from("[source.article]\nauto = true\n");
    let _ = writeln!(out, "# found on {url}: {}", found.join(", "));
    out.push_str(
        "# a field that auto reads wrong can be given a selector (content/date/author = \"css\")\n",
    );
    Some(out)
}
