//! `medee preview ID --article URL | --article-file PAGE.html`: what the
//! source's `[source.article]` fields, by selector or `auto`, read from one
//! article page. Users need it to write article selectors; the evaluation
//! under `benches/` runs it over the article corpora.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use url::Url;

use crate::config::{Config, Source};
use crate::extract::{ArticleSelectors, FoundBy, article_text};
use crate::fetch::Page;
use crate::pipeline::{ArticleRead, SourceRef, read_article_page};

use super::{EXIT_CONFIG, EXIT_FAILED, EXIT_OK};

/// Where the article page comes from.
pub(super) struct ArticleTarget<'a> {
    /// The page's URL: fetched, or, with `file`, the address the saved page had.
    pub url: Option<&'a str>,
    /// A saved page to read instead of fetching.
    pub file: Option<&'a Path>,
}

#[derive(serde::Serialize)]
struct ArticleJson<'a> {
    source: &'a str,
    url: String,
    content: Option<&'a str>,
    /// The content as plain text, one line per block.
    content_text: Option<String>,
    date_text: Option<&'a str>,
    /// The date as read, RFC 3339 at the page's own offset when it wrote
    /// one, else in the source's zone.
    date: Option<String>,
    author: Option<&'a str>,
    found: FoundBy,
}

/// Reads one article page as a run of the source would and prints the fields.
pub(super) async fn preview_article(
    config: Config,
    id: &str,
    target: ArticleTarget<'_>,
    json: bool,
) -> u8 {
    let config = Arc::new(config);
    let Some(source) = SourceRef::find(&config, id) else {
        eprintln!("{}: no source with id \"{id}\"", config.path.display());
        return EXIT_CONFIG;
    };
    let page = match load_page(&config, &source, &target).await {
        Ok(page) => page,
        Err(e) => {
            eprintln!("{id}: {e}");
            return EXIT_FAILED;
        }
    };
    let selectors = selectors_of(&source);
    let read = {
        let (source, config) = (source.clone(), Arc::clone(&config));
        let page = page.clone();
        tokio::task::spawn_blocking(move || {
            read_article_page(&source, &selectors, &config.daemon, &page, Utc::now())
        })
        .await
    };
    let read = match read {
        Ok(read) => read,
        Err(e) => {
            eprintln!("{id}: reading the article page failed: {e}");
            return EXIT_FAILED;
        }
    };
    let written = print_article(&source, &page, &read, json);
    if let Err(e) = written {
        eprintln!("cannot write preview: {e}");
        return EXIT_FAILED;
    }
    let raw = &read.raw;
    if raw.content.is_none() && raw.date_text.is_none() && raw.author.is_none() {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// The source's `[source.article]`, or every field `auto` when it has none:
/// what automatic extraction would give is what a user deciding on selectors wants to see.
fn selectors_of(source: &Source) -> ArticleSelectors {
    source
        .article
        .clone()
        .unwrap_or_else(ArticleSelectors::auto)
}

async fn load_page(
    config: &Config,
    source: &Source,
    target: &ArticleTarget<'_>,
) -> Result<Page, String> {
    let url = target
        .url
        .map(|u| Url::parse(u).map_err(|e| format!("--article {u}: {e}")))
        .transpose()?;
    match (target.file, url) {
        (Some(path), url) => {
            let body =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Ok(Page {
                url: url.unwrap_or_else(|| source.url.clone()),
                body,
                content_type: None,
            })
        }
        (None, Some(url)) => {
            let runner = super::preview::throwaway_runner(config)?;
            runner
                .fetch_article(source, url.as_str())
                .await
                .map_err(|e| e.to_string())
        }
        (None, None) => Err("--article URL or --article-file PAGE.html is needed".to_string()),
    }
}

fn print_article(
    source: &Source,
    page: &Page,
    read: &ArticleRead,
    json: bool,
) -> std::io::Result<()> {
    let raw = &read.raw;
    let date = read.published.map(|at| at.to_rfc3339());
    let content_text = raw.content.as_deref().map(article_text);
    let mut out = std::io::stdout().lock();
    if json {
        let doc = ArticleJson {
            source: &source.id,
            url: page.url.to_string(),
            content: raw.content.as_deref(),
            content_text,
            date_text: raw.date_text.as_deref(),
            date,
            author: raw.author.as_deref(),
            found: raw.found,
        };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        return writeln!(out);
    }
    writeln!(
        out,
        "{} — article {} ({} bytes)",
        source.id,
        page.url,
        page.body.len()
    )?;
    let how = |found: Option<crate::extract::Found>| match found {
        Some(crate::extract::Found::Selector) => "by selector",
        Some(crate::extract::Found::Auto) => "auto",
        Some(crate::extract::Found::Fallback) => "auto, the selector found nothing",
        None => "not found",
    };
    match (&raw.date_text, &date) {
        (Some(text), Some(date)) => writeln!(
            out,
            "date:    {date} ({text:?}; {}{})",
            how(raw.found.date),
            raw.found
                .date_origin
                .map(|o| format!(", from {}", origin_name(o)))
                .unwrap_or_default()
        )?,
        (Some(text), None) => writeln!(out, "date:    NOT RECOGNISED: {text:?}")?,
        _ => writeln!(out, "date:    {}", how(None))?,
    }
    match &raw.author {
        Some(author) => writeln!(out, "author:  {author} ({})", how(raw.found.author))?,
        None => writeln!(out, "author:  {}", how(None))?,
    }
    match &content_text {
        Some(text) => {
            writeln!(
                out,
                "content: {} characters, {} bytes of HTML ({})\n",
                text.chars().count(),
                raw.content.as_deref().map_or(0, str::len),
                how(raw.found.content)
            )?;
            writeln!(out, "{text}")
        }
        None => writeln!(out, "content: {}", how(None)),
    }
}

fn origin_name(origin: crate::extract::DateOrigin) -> &'static str {
    use crate::extract::DateOrigin;
    match origin {
        DateOrigin::JsonLd => "JSON-LD",
        DateOrigin::Meta => "<meta>",
        DateOrigin::Itemprop => "itemprop",
        DateOrigin::Url => "the URL",
        DateOrigin::Labelled => "a text labelled as the publication date",
        DateOrigin::Time => "<time>",
        DateOrigin::Abbr => "<abbr>",
        DateOrigin::DateElement => "a date element",
        DateOrigin::Headline => "the text after the headline",
    }
}
