//! `medee once` on a terminal: one line per finished source on stderr, so a
//! person watching a slow cycle sees it move. Not shown when stderr is not
//! a terminal (cron, systemd, a pipe): the logs there stay as they are.

use std::io::IsTerminal as _;

use crate::config::Config;
use crate::identity::redact_secrets;
use crate::pipeline::{Outcome, SourceRun};

/// Prints progress lines when stderr is a terminal; does nothing otherwise.
pub(super) struct Progress<'a> {
    config: &'a Config,
    shown: bool,
}

impl<'a> Progress<'a> {
    /// Progress for `config`'s sources, shown only if stderr is a terminal.
    pub(super) fn on_stderr(config: &'a Config) -> Self {
        Self {
            config,
            shown: std::io::stderr().is_terminal(),
        }
    }

    /// Announces the cycle.
    pub(super) fn start(&self, sources: usize) {
        if self.shown {
            eprintln!("fetching {sources} source{}", plural(sources));
        }
    }

    /// Reports one finished run.
    pub(super) fn finished(&self, run: &SourceRun, done: usize, total: usize) {
        if self.shown {
            eprintln!("{}", line(self.config, run, done, total));
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `[2/5] gogo-mn: 30 items, 3 new`, `[3/5] nknews: not modified`,
/// `[4/5] down: failed: …` (credentials in the message redacted).
fn line(config: &Config, run: &SourceRun, done: usize, total: usize) -> String {
    let what = match &run.outcome {
        Outcome::NotModified { .. } => "not modified".to_string(),
        Outcome::Refreshed { kept, stored, .. } => {
            format!("{kept} item{}, {} new", plural(*kept), stored.new)
        }
        Outcome::Failed(e) => {
            let message = e.to_string();
            let message = config
                .source(&run.id)
                .map_or(message.clone(), |s| redact_secrets(&message, &s.url));
            format!("failed: {message}")
        }
    };
    format!("[{done}/{total}] {}: {what}", run.id)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::pipeline::{ArticleCounts, SourceError};
    use crate::store::UpsertStats;

    #[test]
    fn each_line_names_the_count_the_source_and_what_became_of_it() {
        let config = Config::parse(
            "[[source]]\nid = \"s\"\nurl = \"https://bob:pw@a.mn/?token=abc\"\nitem = \"li\"\n",
            Path::new("medee.toml"),
        )
        .expect("valid config");
        let run = |outcome| SourceRun {
            id: "s".to_string(),
            outcome,
        };
        let refreshed = run(Outcome::Refreshed {
            kept: 30,
            stored: UpsertStats {
                new: 3,
                ..UpsertStats::default()
            },
            articles: ArticleCounts::default(),
        });
        assert_eq!(line(&config, &refreshed, 2, 5), "[2/5] s: 30 items, 3 new");
        let same = run(Outcome::NotModified {
            articles: ArticleCounts::default(),
        });
        assert_eq!(line(&config, &same, 5, 5), "[5/5] s: not modified");
        let failed = run(Outcome::Failed(SourceError::NotAFeed {
            url: "https://bob:pw@a.mn/?token=abc".to_string(),
            message: "no".to_string(),
        }));
        let text = line(&config, &failed, 1, 5);
        assert!(text.starts_with("[1/5] s: failed: "), "{text}");
        assert!(!text.contains("pw") && !text.contains("abc"), "{text}");
    }
}
