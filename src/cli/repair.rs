//! `medee repair ID [--write]`: the fix proposed for a broken source, as a
//! TOML diff of its selector lines and a preview of what the proposal
//! extracts from the page now; `--write` puts it in the config file.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;

use crate::config::toml_string;
use crate::config::{Config, Source, SourceKind};
use crate::pipeline::read_listing;
use crate::repair::edit::rewrite_selectors;
use crate::repair::{Proposal, SelectorSet};
use crate::store::SourceHealth;

use super::preview::{print_preview, throwaway_runner};
use super::{EXIT_CONFIG, EXIT_FAILED, EXIT_OK, replace_file};

/// `medee repair ID [--write]`.
pub(super) async fn repair(config: Config, id: &str, write: bool) -> u8 {
    let Some(source) = config.source(id) else {
        eprintln!("{}: no source with id \"{id}\"", config.path.display());
        return EXIT_CONFIG;
    };
    let SourceKind::Html(selectors) = &source.kind else {
        eprintln!("{id}: only html sources have selectors to repair");
        return EXIT_CONFIG;
    };
    let current = SelectorSet::of(selectors);
    let health = match stored_health(&config, id) {
        Ok(health) => health,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_FAILED;
        }
    };
    let Some(proposal) = health.as_ref().and_then(SourceHealth::proposal_in_view) else {
        let state = health
            .as_ref()
            .and_then(SourceHealth::condition)
            .unwrap_or_else(|| "the source is not broken".to_string());
        eprintln!(
            "{id}: no fix proposed ({state}); `medee suggest {}` looks for selectors on the page now",
            source.url
        );
        return EXIT_FAILED;
    };
    print!("{}", diff(&config.path, id, &current, &proposal));
    let previewed = preview_proposal(&config, source, &proposal.selectors).await;
    if !write {
        return previewed;
    }
    match write_proposal(&config.path, id, &proposal.selectors) {
        Ok(()) => {
            println!(
                "\nwrote {}: [[source]] \"{id}\" has the proposed selectors; a running daemon reads them on SIGHUP (`systemctl reload medee`)",
                config.path.display()
            );
            EXIT_OK
        }
        Err(e) => {
            eprintln!("{}: not written: {e}", config.path.display());
            EXIT_FAILED
        }
    }
}

fn stored_health(config: &Config, id: &str) -> Result<Option<SourceHealth>, String> {
    super::existing_store(config)
        .and_then(|store| store.map_or(Ok(None), |s| s.source_health(id)))
        .map_err(|e| e.to_string())
}

/// The source's selector lines, current (`-`) against proposed (`+`),
/// unchanged ones with a space, then what the quality checks found.
fn diff(path: &Path, id: &str, current: &SelectorSet, proposal: &Proposal) -> String {
    let mut out = format!(
        "--- {path} [[source]] \"{id}\" (current)\n+++ proposed {} from the page fetched then ({} items)\n",
        proposal.at.format(crate::dates::SHOWN_UTC),
        proposal.items,
        path = path.display(),
    );
    for ((key, old), (_, new)) in current
        .values()
        .into_iter()
        .zip(proposal.selectors.values())
    {
        let line = |value: &str| format!("{key} = {}", toml_string(value));
        match (old, new) {
            (Some(old), Some(new)) if old == new => out.push_str(&format!(" {}\n", line(old))),
            (old, new) => {
                if let Some(old) = old {
                    out.push_str(&format!("-{}\n", line(old)));
                }
                if let Some(new) = new {
                    out.push_str(&format!("+{}\n", line(new)));
                }
            }
        }
    }
    if proposal.passes() {
        out.push_str("# quality checks: passed\n");
    } else {
        out.push_str(&format!(
            "# quality checks: {}\n",
            proposal.problems.join("; ")
        ));
    }
    out.push('\n');
    out
}

/// Fetches the page and shows what the proposal extracts from it now, as `preview` does.
async fn preview_proposal(config: &Config, source: &Source, proposed: &SelectorSet) -> u8 {
    let compiled = match proposed.compile() {
        Ok(compiled) => compiled,
        Err(e) => {
            eprintln!("{}: the proposal does not compile: {e}", source.id);
            return EXIT_FAILED;
        }
    };
    let mut reading = source.clone();
    reading.kind = SourceKind::Html(Box::new(compiled));
    let runner = match throwaway_runner(config) {
        Ok(runner) => runner,
        Err(e) => {
            eprintln!("{}: {e}", source.id);
            return EXIT_FAILED;
        }
    };
    let page = match runner.fetch_page(&reading).await {
        Ok(page) => Arc::new(page),
        Err(e) => {
            eprintln!("{}: {e}", source.id);
            return EXIT_FAILED;
        }
    };
    let listed = read_listing(&reading, &config.daemon, &page, Utc::now());
    print_preview(&reading, &config.daemon.limits, &page, listed, false)
}

/// Rewrites the file with `proposed` for `id`, if the result validates;
/// replaced whole (a temporary file renamed over it, its permissions kept).
fn write_proposal(path: &Path, id: &str, proposed: &SelectorSet) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let new = rewrite_selectors(&text, id, proposed).map_err(|e| e.to_string())?;
    Config::parse(&new, path)
        .map_err(|e| format!("the rewritten config does not validate:\n{e}"))?;
    replace_file(path, new.as_bytes()).map_err(|e| e.to_string())
}
