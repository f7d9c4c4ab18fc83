//! `medee suggest`: a ready `[[source]]` block for a listing page, then its preview.

use std::path::Path;

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::{Config, Limits};
use crate::extract::{FieldSelector, extract};
use crate::fetch::{FetchPolicy, Fetcher, HostUse, Page};
use crate::pipeline::read_listing;
use crate::suggest;

use super::preview::print_preview;
use super::{EXIT_CONFIG, EXIT_FAILED, EXIT_OK, SuggestArgs};

/// `medee suggest URL`: finds the news items on a listing page and prints a ready `[[source]]` block.
pub(super) async fn suggest(config_path: &Path, args: &SuggestArgs) -> u8 {
    let (url, fetcher) = match target(config_path, args) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let page = match load_page(args, &url, &fetcher).await {
        Ok(page) => page,
        Err(message) => {
            eprintln!("{message}");
            return EXIT_FAILED;
        }
    };
    let (text, _) = page.text();
    let now = Utc::now();
    let (candidates, info) = suggest::candidates(&text, &page.url, now);
    // A saved page's feed cannot be checked offline: it is named, not suggested.
    let feed = info.feeds.first().filter(|_| args.file.is_none());
    if let Some(feed) = feed {
        print!("{}", suggest::feed_toml(feed, &info, &url));
        if !args.all {
            println!(
                "# The page advertises this feed; `--all` also shows the block that scrapes the page."
            );
            return EXIT_OK;
        }
        println!();
    }
    let Some(best) = candidates.first() else {
        if feed.is_some() {
            println!("# No repeated blocks of article links to scrape on the page itself.");
            if let Some(json) = &info.json {
                println!();
                print!("{}", suggest::json_toml(json, &info, &url));
            }
            return EXIT_OK;
        }
        return match &info.json {
            Some(json) => print_json_block(json, &info, &page, &url, args, now),
            None => {
                eprintln!("{}", nothing_found(&page, &info));
                EXIT_FAILED
            }
        };
    };
    if feed.is_none() {
        print_other_feeds(&info);
    }
    let mut toml = suggest::source_toml(best, &info, &url);
    if args.article {
        toml.push_str(&article_suggestion(best, &text, &page, &fetcher, now).await);
    }
    print!("{toml}");
    if args.toml {
        return EXIT_OK;
    }
    if args.all {
        print_other_candidates(&candidates[1..]);
    }
    preview_block(&toml, &page, now)
}

/// The page's address (the `--base-url` of a saved page, else the URL) and a
/// fetcher with a valid config's settings (user agent, timeout, size cap), or
/// the defaults: suggest needs no config. Err is the exit code.
fn target(config_path: &Path, args: &SuggestArgs) -> Result<(Url, Fetcher), u8> {
    let daemon = Config::load(config_path)
        .or_else(|_| Config::parse("", Path::new("defaults")))
        .map(|c| c.daemon)
        .map_err(|_| {
            eprintln!("cannot build the default settings");
            EXIT_FAILED
        })?;
    let url = args
        .base_url
        .as_deref()
        .or(args.url.as_deref())
        .and_then(|u| Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            eprintln!("suggest needs an http(s) URL (with --file, give --base-url or the URL)");
            EXIT_CONFIG
        })?;
    let fetcher = Fetcher::new(&daemon).map_err(|e| {
        eprintln!("{e}");
        EXIT_FAILED
    })?;
    Ok((url, fetcher))
}

/// The saved page of `--file`, taken to be at `url`, else the page fetched.
async fn load_page(args: &SuggestArgs, url: &Url, fetcher: &Fetcher) -> Result<Page, String> {
    match &args.file {
        Some(path) => std::fs::read(path)
            .map(|body| Page {
                url: url.clone(),
                body,
                content_type: None,
            })
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        None => fetcher
            .get(url, &FetchPolicy::site(url), HostUse::More)
            .await
            .map_err(|e| e.to_string()),
    }
}

/// Names the feeds a page advertises when its scraped block is suggested.
fn print_other_feeds(info: &suggest::PageInfo) {
    for other in &info.feeds {
        println!(
            "# The page advertises a {} feed: {} (a `kind = \"feed\"` source; `suggest URL` prints its block).",
            other.format, other.url
        );
    }
}

/// `--all`: the candidates after the first, as comments.
fn print_other_candidates(others: &[suggest::Candidate]) {
    println!("\n# other candidates (score, items, selector, first headline):");
    for other in others {
        println!(
            "#   {:>6.1} {:>4}  {}  {}",
            other.score,
            other.items,
            other.item,
            other.sample.first().map_or("", String::as_str)
        );
    }
}

/// The `kind = "json"` block for a page without an HTML list, then its
/// preview; without a link it cannot be previewed, and says so.
fn print_json_block(
    json: &suggest::JsonBlock,
    info: &suggest::PageInfo,
    page: &Page,
    url: &Url,
    args: &SuggestArgs,
    now: DateTime<Utc>,
) -> u8 {
    let toml = suggest::json_toml(json, info, url);
    print!("{toml}");
    if json.link.is_none() {
        eprintln!(
            "the page's script holds {} items, but no field or page link gives their address: complete `link` before use",
            json.items
        );
        return EXIT_FAILED;
    }
    if args.toml {
        return EXIT_OK;
    }
    preview_block(&toml, page, now)
}

/// Validates a suggested block and previews it on the page it came from.
fn preview_block(toml: &str, page: &Page, now: DateTime<Utc>) -> u8 {
    let config = match Config::parse(toml, Path::new("suggested")) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("the suggested block does not validate (please report): {e}");
            return EXIT_FAILED;
        }
    };
    println!();
    match config.sources.first() {
        Some(source) => print_preview(
            source,
            &config.daemon.limits,
            page,
            read_listing(source, &config.daemon, page, now),
            false,
        ),
        None => EXIT_FAILED,
    }
}

/// Why nothing was suggested, with what the page offers instead: an
/// advertised feed or its items carried as JSON for a script to render.
fn nothing_found(page: &Page, info: &suggest::PageInfo) -> String {
    let mut message = format!(
        "no repeated blocks of article links found on {} ({} bytes): the page may load its items with a script, or list fewer than three",
        page.url,
        page.body.len()
    );
    for feed in &info.feeds {
        message.push_str(&format!(
            "\nthe page advertises a {} feed: {} (use it as a `kind = \"feed\"` source)",
            feed.format, feed.url
        ));
    }
    if !info.embedded.is_empty() {
        let kinds: Vec<String> = info.embedded.iter().map(ToString::to_string).collect();
        message.push_str(&format!(
            "\nthe page carries JSON ({}), but no list of three or more items with headlines in it",
            kinds.join(", ")
        ));
    }
    message
}

/// Fetches the best candidate's first article (on the same host) and suggests its block.
async fn article_suggestion(
    best: &suggest::Candidate,
    text: &str,
    page: &Page,
    fetcher: &Fetcher,
    now: DateTime<Utc>,
) -> String {
    let Ok(selectors) =
        crate::extract::parse_css(&best.item).map(|item| crate::extract::ItemSelectors {
            item,
            item_source: best.item.clone(),
            title: best
                .fields
                .title
                .as_deref()
                .and_then(|s| FieldSelector::parse(s).ok()),
            link: best
                .fields
                .link
                .as_deref()
                .and_then(|s| FieldSelector::parse(s).ok()),
            date: None,
            summary: None,
            image: None,
        })
    else {
        return String::new();
    };
    let first = extract(text, &page.url, &selectors, &Limits::default())
        .items
        .into_iter()
        .next();
    let Some(link) = first.and_then(|i| Url::parse(&i.link).ok()) else {
        return "# --article: no item link to follow\n".to_string();
    };
    let policy = FetchPolicy::articles_for(&page.url, &[]);
    match fetcher.get(&link, &policy, HostUse::Last).await {
        Ok(article) => {
            let (article_text, _) = article.text();
            suggest::article_toml(&article_text, &article.url, now).map_or_else(
                || format!("# --article: nothing recognisable on {link}\n"),
                |t| format!("\n{t}"),
            )
        }
        Err(e) => format!("# --article: {e}\n"),
    }
}
