//! Command line: argument definitions and one function per command, each
//! returning the exit code SPEC fixes (0 ok, 1 some source failed, 2 bad config).

mod catalog;
mod docs;
mod preview;
mod preview_article;
mod progress;
mod repair;
mod status;
mod suggest;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};
use crate::pipeline::{SourceRef, run_cycle};

pub use status::{SourceStatus, StatusReport, status_report};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: one or more sources failed (or preview found nothing).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: the config (or a named source) is invalid.
pub const EXIT_CONFIG: u8 = 2;

/// medee: scrape news sites into merged RSS, Atom and JSON feeds.
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
        #[arg(long, value_name = "PAGE.html", conflicts_with_all = ["article", "article_file"])]
        file: Option<PathBuf>,
        /// Show what [source.article] (or, without it, `auto`) reads from this article page.
        #[arg(long, value_name = "URL")]
        article: Option<String>,
        /// Read this saved article page (at the --article URL, if given) instead of fetching.
        #[arg(long, value_name = "PAGE.html")]
        article_file: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Per-source health from the store.
    Status {
        /// Print JSON (stable field names) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show the fix proposed for a broken source (a TOML diff and a preview); --write applies it.
    Repair {
        /// Source id.
        id: String,
        /// Rewrite that source's selector lines in the config file (comments and all else kept).
        #[arg(long)]
        write: bool,
    },
    /// Print an OPML 2.0 list of the output feeds.
    Opml,
    /// Find the news items on a listing page and print a ready `[[source]]` block.
    Suggest(SuggestArgs),
    /// List the ready sources compiled into medee (id, language, name, what each was checked against).
    Catalog,
    /// Append ready sources from the catalogue to the config file, keeping everything already in it.
    Add {
        /// Catalogue ids (see `medee catalog`).
        #[arg(value_name = "ID", required = true)]
        ids: Vec<String>,
    },
    /// Print the man page (roff) generated from these definitions.
    Man,
    /// Print a JSON Schema of the config file, for editors (Taplo, Even Better TOML).
    Schema,
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
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
    if let Some(code) = run_without_config(&cli.command, &cli.config).await {
        return code;
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
        Command::Preview {
            id,
            file: _,
            article,
            article_file,
            json,
        } if article.is_some() || article_file.is_some() => {
            let target = preview_article::ArticleTarget {
                url: article.as_deref(),
                file: article_file.as_deref(),
            };
            preview_article::preview_article(config, &id, target, json).await
        }
        Command::Preview { id, file, json, .. } => {
            preview::preview(config, &id, file.as_deref(), json).await
        }
        Command::Status { json } => status::status(&config, json),
        Command::Repair { id, write } => repair::repair(config, &id, write).await,
        Command::Opml => {
            print!("{}", crate::publish::opml_document(&config, Utc::now()));
            EXIT_OK
        }
        Command::Suggest(_)
        | Command::Catalog
        | Command::Add { .. }
        | Command::Man
        | Command::Schema
        | Command::Completions { .. } => {
            unreachable!("run_without_config ran the commands that need no config")
        }
    }
}

/// suggest, catalog, add, man, schema and completions need no valid config,
/// so they run before one is required (add validates the config it writes);
/// `None` for every other command.
async fn run_without_config(command: &Command, config_path: &Path) -> Option<u8> {
    Some(match command {
        Command::Suggest(args) => suggest::suggest(config_path, args).await,
        Command::Catalog => catalog::list(),
        Command::Add { ids } => catalog::add(config_path, ids),
        Command::Man => docs::print_man_page(),
        Command::Schema => docs::print_schema(),
        Command::Completions { shell } => docs::print_completions(*shell),
        _ => return None,
    })
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

/// The config's store when it exists; commands that only read it never
/// create one.
fn existing_store(
    config: &Config,
) -> Result<Option<crate::store::Store>, crate::store::StoreError> {
    let path = &config.daemon.database;
    if path.exists() {
        crate::store::Store::open(path).map(Some)
    } else {
        Ok(None)
    }
}

async fn once(config: Config, sources: &[String]) -> u8 {
    if let Some(unknown) = sources.iter().find(|id| config.source(id).is_none()) {
        eprintln!("{}: no source with id \"{unknown}\"", config.path.display());
        return EXIT_CONFIG;
    }
    let config = Arc::new(config);
    let progress = progress::Progress::on_stderr(&config);
    progress.start(SourceRef::selected(&config, sources).count());
    let cycle = run_cycle(Arc::clone(&config), sources, |run, done, total| {
        progress.finished(run, done, total);
    });
    match cycle.await {
        Ok(report) => {
            if report.failures() > 0 {
                eprintln!(
                    "{} of {} sources failed",
                    report.failures(),
                    report.runs.len()
                );
            }
            if let Some(e) = &report.publish_error {
                eprintln!("outputs not fully written: {e}");
            }
            if report.failures() == 0 && report.publish_error.is_none() {
                EXIT_OK
            } else {
                EXIT_FAILED
            }
        }
        Err(e) => {
            eprintln!("cycle failed: {e}");
            EXIT_FAILED
        }
    }
}

/// Writes beside the file and renames over it, so a crash leaves the old
/// config or the new one, never half of one; an existing file's permissions
/// are kept. `add` and `repair --write` write the config this way.
pub(super) fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "medee.toml".to_string());
    let temp = path.with_file_name(format!(".{name}.medee-{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&temp)?;
    if let Ok(meta) = std::fs::metadata(path) {
        file.set_permissions(meta.permissions())?;
    }
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    match written.and_then(|()| std::fs::rename(&temp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}
