//! Command line: argument definitions and one function per command, each
//! returning the exit code SPEC fixes (0 ok, 1 some source failed, 2 bad config).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError, Source, SourceKind};
use crate::extract::{FieldSelector, extract};
use crate::fetch::{Fetcher, HostUse, Page};
use crate::pipeline::{ProcessedItem, check_extraction, process_items, read_page, run_cycle};
use crate::sanitize::html_to_text;
use crate::store::Store;
use crate::suggest;
use url::Url;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: one or more sources failed (or preview found nothing).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: the config (or a named source) is invalid.
pub const EXIT_CONFIG: u8 = 2;

/// medee: scrape news sites into merged RSS and Atom feeds.
#[derive(Debug, Parser)]
#[command(name = "medee", version, about)]
pub struct Cli {
    /// Config file.
    #[arg(
        long,
        global = true,
        env = "MEDEE_CONFIG",
        default_value = "config/medee.toml"
    )]
    pub config: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The daemon: one cycle at start, then on schedule, until SIGTERM/SIGINT.
    Run,
    /// Run one cycle now, write every output, exit (1 if any source failed).
    Once {
        /// Only these sources (repeatable); default all.
        #[arg(long = "source", value_name = "ID")]
        sources: Vec<String>,
    },
    /// Validate the config without fetching.
    Check,
    /// Show what a source's selectors extract; stores and writes nothing.
    Preview {
        /// Source id.
        id: String,
        /// Read this saved page instead of fetching.
        #[arg(long, value_name = "PAGE.html")]
        file: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Per-source health from the store.
    Status,
    /// Print an OPML 2.0 list of the output feeds.
    Opml,
    /// Find the news items on a listing page and print a ready `[[source]]` block.
    Suggest(SuggestArgs),
}

/// Arguments of `medee suggest`.
#[derive(Debug, clap::Args)]
pub struct SuggestArgs {
    /// The listing page (with --file: the URL it was saved from, unless --base-url is given).
    #[arg(value_name = "URL", required_unless_present = "base_url")]
    pub url: Option<String>,
    /// Read this saved page instead of fetching.
    #[arg(long, value_name = "PAGE.html")]
    pub file: Option<PathBuf>,
    /// The page's URL when reading --file (for links and the TOML's url).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Also list the other candidate blocks with their scores.
    #[arg(long)]
    pub all: bool,
    /// Print only the TOML block.
    #[arg(long)]
    pub toml: bool,
    /// Fetch the first item's page and suggest a [source.article] block.
    #[arg(long)]
    pub article: bool,
}

/// Runs a parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> u8 {
    // suggest needs no config, so it runs before one is required.
    if let Command::Suggest(args) = &cli.command {
        return suggest(&cli.config, args).await;
    }
    let config = match Config::load(&cli.config) {
        Ok(config) => config,
        Err(e) => return config_error(&e),
    };
    match cli.command {
        Command::Run => match crate::daemon::run(cli.config, config).await {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!("medee: {e}");
                EXIT_FAILED
            }
        },
        Command::Once { sources } => once(config, &sources).await,
        Command::Check => check(&config),
        Command::Preview { id, file, json } => preview(&config, &id, file.as_deref(), json).await,
        Command::Status => status(&config),
        Command::Opml => {
            print!("{}", crate::publish::opml_document(&config, Utc::now()));
            EXIT_OK
        }
        Command::Suggest(args) => suggest(&cli.config, &args).await,
    }
}

fn config_error(e: &ConfigError) -> u8 {
    eprintln!("{e}");
    if let ConfigError::Invalid(list) = e {
        eprintln!(
            "{} error{} in config",
            list.len(),
            if list.len() == 1 { "" } else { "s" }
        );
    }
    EXIT_CONFIG
}

fn check(config: &Config) -> u8 {
    println!(
        "{}: ok ({} sources, {} feeds)",
        config.path.display(),
        config.sources.len(),
        config.feeds.len()
    );
    EXIT_OK
}

async fn once(config: Config, sources: &[String]) -> u8 {
    if let Some(unknown) = sources.iter().find(|id| config.source(id).is_none()) {
        eprintln!("{}: no source with id \"{unknown}\"", config.path.display());
        return EXIT_CONFIG;
    }
    match run_cycle(Arc::new(config), sources).await {
        Ok(report) if report.failures() == 0 => EXIT_OK,
        Ok(report) => {
            eprintln!(
                "{} of {} sources failed",
                report.failures(),
                report.sources.len()
            );
            EXIT_FAILED
        }
        Err(e) => {
            eprintln!("cycle failed: {e}");
            EXIT_FAILED
        }
    }
}

async fn load_page(config: &Config, source: &Source, file: Option<&Path>) -> Result<Page, String> {
    match file {
        Some(path) => {
            let body =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Ok(Page {
                url: source.url.clone(),
                body,
                content_type: None,
            })
        }
        None => {
            let fetcher = Fetcher::new(&config.daemon).map_err(|e| e.to_string())?;
            fetcher
                .get(&source.url, HostUse::Last)
                .await
                .map_err(|e| e.to_string())
        }
    }
}

/// Per-field counts shown above the preview table.
#[derive(Debug, Default, serde::Serialize)]
struct FieldCounts {
    matched: usize,
    items: usize,
    incomplete: usize,
    duplicates: usize,
    filtered_out: usize,
    with_date: usize,
    date_unparsed: usize,
    with_summary: usize,
    with_image: usize,
    warnings: Vec<String>,
}

#[derive(serde::Serialize)]
struct PreviewJson<'a> {
    source: &'a str,
    url: String,
    encoding: &'a str,
    counts: &'a FieldCounts,
    items: &'a [ProcessedItem],
}

async fn preview(config: &Config, id: &str, file: Option<&Path>, json: bool) -> u8 {
    let Some(source) = config.source(id) else {
        let ids: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
        eprintln!(
            "{}: no source with id \"{id}\"; configured: {}",
            config.path.display(),
            ids.join(", ")
        );
        return EXIT_CONFIG;
    };
    let page = match load_page(config, source, file).await {
        Ok(page) => page,
        Err(e) => {
            eprintln!("{id}: {e}");
            return EXIT_FAILED;
        }
    };
    print_preview(source, &config.daemon, &page, json).await
}

/// Extracts `page` with `source`'s selectors and prints the preview; the exit code says whether items were found.
async fn print_preview(
    source: &Source,
    daemon: &crate::config::Daemon,
    page: &Page,
    json: bool,
) -> u8 {
    let id = source.id.as_str();
    let (text, encoding) = page.text();
    let encoding = encoding.name();
    let mut counts = FieldCounts::default();
    let raw = match &source.kind {
        SourceKind::Html(selectors) => {
            let extraction = extract(&text, &page.url, selectors, &daemon.limits);
            counts.matched = extraction.matched;
            counts.incomplete = extraction.incomplete;
            counts.duplicates = extraction.duplicates;
            counts.warnings = crate::extract::diagnose(&text, &page.url, selectors, &daemon.limits);
            if let Err(e) = check_extraction(&extraction, &selectors.item_source, page) {
                eprintln!("{id}: {e}");
                return EXIT_FAILED;
            }
            extraction.items
        }
        SourceKind::Feed => match read_page(source, page, &daemon.limits) {
            Ok(items) => {
                counts.matched = items.len();
                items
            }
            Err(e) => {
                eprintln!("{id}: {e}");
                return EXIT_FAILED;
            }
        },
    };
    let found = raw.len();
    let items = process_items(source, raw, Utc::now(), daemon.dates);
    counts.items = items.len();
    counts.filtered_out = found - items.len();
    for item in &items {
        counts.with_date += usize::from(item.date.is_some());
        counts.date_unparsed += usize::from(item.date.is_none() && item.raw.date_text.is_some());
        counts.with_summary += usize::from(item.raw.summary.is_some());
        counts.with_image += usize::from(item.raw.image.is_some());
    }
    let mut out = std::io::stdout().lock();
    let written = if json {
        let doc = PreviewJson {
            source: id,
            url: page.url.to_string(),
            encoding,
            counts: &counts,
            items: &items,
        };
        serde_json::to_writer_pretty(&mut out, &doc)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        write_preview_table(&mut out, source, page, encoding, &counts, &items)
    };
    if let Err(e) = written {
        eprintln!("cannot write preview: {e}");
        return EXIT_FAILED;
    }
    if items.is_empty() {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// What a user writing selectors should look at, beyond the counts.
fn preview_warnings(page: &Page, counts: &FieldCounts, items: &[ProcessedItem]) -> Vec<String> {
    let mut warnings = counts.warnings.clone();
    if counts.duplicates > 0 {
        warnings.push(format!(
            "{} matches repeat a link already seen on the page (kept once; a second copy of the list?)",
            counts.duplicates
        ));
    }
    let host = page.url.host_str().map(|h| h.trim_start_matches("www."));
    let off_site: Vec<&str> = items
        .iter()
        .map(|i| i.raw.link.as_str())
        .filter(|l| {
            Url::parse(l)
                .ok()
                .as_ref()
                .and_then(Url::host_str)
                .map(|h| h.trim_start_matches("www."))
                != host
        })
        .collect();
    if let Some(first) = off_site.first() {
        warnings.push(format!(
            "{} links point off-site, e.g. {first}",
            off_site.len()
        ));
    }
    if counts.date_unparsed > 0 {
        warnings.push(format!(
            "{} dates were not recognised; their text is shown below: add a date_format",
            counts.date_unparsed
        ));
    }
    warnings
}

fn write_preview_table(
    out: &mut impl std::io::Write,
    source: &Source,
    page: &Page,
    encoding: &str,
    counts: &FieldCounts,
    items: &[ProcessedItem],
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} — {} ({}, {} bytes)",
        source.id,
        page.url,
        encoding,
        page.body.len()
    )?;
    let total = counts.items.max(1);
    writeln!(
        out,
        "matched {} · kept {} · no title/link {} · repeated links {} · filtered out {}",
        counts.matched, counts.items, counts.incomplete, counts.duplicates, counts.filtered_out
    )?;
    writeln!(
        out,
        "fields: date {}/{total}{} · summary {}/{total} · image {}/{total}\n",
        counts.with_date,
        if counts.date_unparsed > 0 {
            format!(" ({} not recognised)", counts.date_unparsed)
        } else {
            String::new()
        },
        counts.with_summary,
        counts.with_image
    )?;
    for warning in preview_warnings(page, counts, items) {
        writeln!(out, "warning: {warning}")?;
    }
    for (n, item) in items.iter().enumerate() {
        writeln!(out, "{:>3}. {}", n + 1, item.raw.title)?;
        writeln!(out, "     link:    {}", item.raw.link)?;
        match (&item.date, &item.raw.date_text) {
            (Some(date), Some(text)) => writeln!(
                out,
                "     date:    {} ({}{})",
                local_time(*date, source),
                quoted(text),
                if item.date_relative { ", relative" } else { "" }
            )?,
            (None, Some(text)) => writeln!(out, "     date:    NOT RECOGNISED: {}", quoted(text))?,
            _ => writeln!(out, "     date:    none (first-seen time will be used)")?,
        }
        if let Some(summary) = &item.raw.summary {
            writeln!(
                out,
                "     summary: {}",
                ellipsis(&html_to_text(summary), 100)
            )?;
        }
        if let Some(image) = &item.raw.image {
            writeln!(out, "     image:   {image}")?;
        }
    }
    Ok(())
}

fn local_time(at: DateTime<Utc>, source: &Source) -> String {
    at.with_timezone(&source.timezone)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", ellipsis(text, 60))
}

fn ellipsis(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn status(config: &Config) -> u8 {
    let path = &config.daemon.database;
    let health = if path.exists() {
        match Store::open(path).and_then(|s| s.health()) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("{e}");
                return EXIT_FAILED;
            }
        }
    } else {
        Vec::new()
    };
    println!(
        "{:<20} {:<20} {:>8} {:>6}  {:<20} LAST ERROR",
        "SOURCE", "LAST SUCCESS", "FAILURES", "ITEMS", "NEXT RUN"
    );
    let time = |t: Option<DateTime<Utc>>, none: &str| {
        t.map_or_else(
            || none.to_string(),
            |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
    };
    for source in &config.sources {
        let Some(h) = health.iter().find(|h| h.id == source.id) else {
            println!(
                "{:<20} {:<20} {:>8} {:>6}  {:<20} -",
                source.id, "never run", 0, 0, "-"
            );
            continue;
        };
        println!(
            "{:<20} {:<20} {:>8} {:>6}  {:<20} {}",
            source.id,
            time(h.last_success, "never"),
            h.consecutive_failures,
            h.items,
            time(h.next_run, "-"),
            match (&h.last_error, h.consecutive_failures) {
                (Some(e), n) if n >= 2 => format!("backing off after {n} failures: {e}"),
                (Some(e), _) => e.clone(),
                (None, _) => "-".to_string(),
            }
        );
    }
    if health.iter().all(|h| h.next_run.is_none()) {
        println!("(no run scheduled: `medee run` is not running)");
    }
    EXIT_OK
}

async fn suggest(config_path: &Path, args: &SuggestArgs) -> u8 {
    // A valid config lends its fetch settings (user agent, timeout, size cap); none is needed.
    let daemon = Config::load(config_path)
        .or_else(|_| Config::parse("", Path::new("defaults")))
        .map(|c| c.daemon);
    let Ok(daemon) = daemon else {
        eprintln!("cannot build the default settings");
        return EXIT_FAILED;
    };
    let Some(url) = args
        .base_url
        .as_deref()
        .or(args.url.as_deref())
        .and_then(|u| Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
    else {
        eprintln!("suggest needs an http(s) URL (with --file, give --base-url or the URL)");
        return EXIT_CONFIG;
    };
    let fetcher = match Fetcher::new(&daemon) {
        Ok(fetcher) => fetcher,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_FAILED;
        }
    };
    let page = match &args.file {
        Some(path) => match std::fs::read(path) {
            Ok(body) => Page {
                url: url.clone(),
                body,
                content_type: None,
            },
            Err(e) => {
                eprintln!("cannot read {}: {e}", path.display());
                return EXIT_FAILED;
            }
        },
        None => match fetcher.get(&url, HostUse::More).await {
            Ok(page) => page,
            Err(e) => {
                eprintln!("{e}");
                return EXIT_FAILED;
            }
        },
    };
    let (text, _) = page.text();
    let now = Utc::now();
    let (candidates, info) = suggest::candidates(&text, &page.url, now);
    let Some(best) = candidates.first() else {
        eprintln!(
            "no repeated blocks of article links found on {} ({} bytes): the page may load its items with a script, or list fewer than three",
            page.url,
            page.body.len()
        );
        return EXIT_FAILED;
    };
    let mut toml = suggest::source_toml(best, &info, &url);
    if args.article {
        toml.push_str(&article_suggestion(best, &text, &page, &fetcher, now).await);
    }
    print!("{toml}");
    if args.toml {
        return EXIT_OK;
    }
    if args.all {
        println!("\n# other candidates (score, items, selector, first headline):");
        for other in candidates.iter().skip(1) {
            println!(
                "#   {:>6.1} {:>4}  {}  {}",
                other.score,
                other.items,
                other.item,
                other.sample.first().map_or("", String::as_str)
            );
        }
    }
    let config = match Config::parse(&toml, Path::new("suggested")) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("the suggested block does not validate (please report): {e}");
            return EXIT_FAILED;
        }
    };
    println!();
    match config.sources.first() {
        Some(source) => print_preview(source, &config.daemon, &page, false).await,
        None => EXIT_FAILED,
    }
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
    let first = extract(text, &page.url, &selectors, &Default::default())
        .items
        .into_iter()
        .next();
    let Some(link) = first.and_then(|i| Url::parse(&i.link).ok()) else {
        return "# --article: no item link to follow\n".to_string();
    };
    match fetcher.get(&link, HostUse::Last).await {
        Ok(article) => {
            let (article_text, _) = article.text();
            suggest::article_toml(&article_text, now).map_or_else(
                || format!("# --article: nothing recognisable on {link}\n"),
                |t| format!("\n{t}"),
            )
        }
        Err(e) => format!("# --article: {e}\n"),
    }
}
