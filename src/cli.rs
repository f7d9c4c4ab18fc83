//! Command line: argument definitions and one function per command, each
//! returning the exit code SPEC fixes (0 ok, 1 some source failed, 2 bad config).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError, Source};
use crate::extract::extract;
use crate::fetch::{Fetcher, Page};
use crate::pipeline::{ProcessedItem, check_extraction, process_items, read_page, run_cycle};
use crate::sanitize::html_to_text;
use crate::store::Store;

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
}

/// Runs a parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> u8 {
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
            fetcher.get(&source.url).await.map_err(|e| e.to_string())
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
    let (text, encoding) = page.text();
    let encoding = encoding.name();
    let mut counts = FieldCounts::default();
    let raw = match &source.selectors {
        Some(selectors) => {
            let extraction = extract(&text, &page.url, selectors);
            counts.matched = extraction.matched;
            counts.incomplete = extraction.incomplete;
            counts.duplicates = extraction.duplicates;
            if let Err(e) = check_extraction(&extraction, &selectors.item_source, &page) {
                eprintln!("{id}: {e}");
                return EXIT_FAILED;
            }
            extraction.items
        }
        None => match read_page(source, &page) {
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
    let items = process_items(source, raw, Utc::now());
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
        write_preview_table(&mut out, source, &page, encoding, &counts, &items)
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
