//! The reader-visible notice: while a source is broken, or has failed more
//! than `health_after` runs in a row, one entry sits at the top of its own
//! feed and of every merged feed that includes it, saying since when it has
//! not updated, why, and what fixes it.
//!
//! The entry is an item like any other as far as rendering goes, so the
//! feeds stay valid without a second code path. Its id (the link) is the
//! source's listing with a `#medee-notice-<unix time the trouble began>`
//! fragment: stable for the whole breakage, new for the next one. Its dates
//! are the breakage's start and its text names no run count, so the runs of
//! one breakage render the same bytes (a feed is rewritten only when the
//! error or the proposal changes). Its title key is empty, so dedupe across sources never folds
//! it into a story.

use chrono::{DateTime, Utc};

use super::Proposal;
use crate::config::{HealthEntries, Source, toml_string};
use crate::identity::redact_url;
use crate::sanitize::escape;
use crate::store::{SourceHealth, StoredItem};

/// The notice entry for `source`, when its health calls for one.
pub fn notice(source: &Source, health: &SourceHealth, policy: HealthEntries) -> Option<StoredItem> {
    if !policy.enabled {
        return None;
    }
    let since = health.failing_since_now()?;
    if !health.broken && health.consecutive_failures <= policy.after {
        return None;
    }
    let last_update = health.last_success.unwrap_or(since);
    let link = notice_link(source, since);
    Some(StoredItem {
        id: 0,
        source_id: source.id.clone(),
        // A story and a title key of its own: two sources' notices are never
        // one entry, and no stored row has a negative id.
        story_id: notice_story(&link),
        title_key: link.clone(),
        link,
        title: format!(
            "medee: {} has not updated since {}",
            source.name,
            day_and_time(last_update)
        ),
        summary: None,
        image: None,
        content: Some(content(source, health, since)),
        author: Some("medee".to_string()),
        published: Some(since),
        first_seen: since,
        updated: since,
        sort_at: since,
    })
}

/// A negative story id from the notice's link, the same on every run.
fn notice_story(link: &str) -> i64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    link.hash(&mut hasher);
    -1 - i64::try_from(hasher.finish() >> 1).unwrap_or(i64::MAX - 1)
}

/// `<listing URL>#medee-notice-<unix time>`: absolute, on the source's own
/// site, and the same for as long as this breakage lasts.
fn notice_link(source: &Source, since: DateTime<Utc>) -> String {
    let mut url = source.url.clone();
    url.set_fragment(Some(&format!("medee-notice-{}", since.timestamp())));
    redact_url(&url)
}

fn day_and_time(at: DateTime<Utc>) -> String {
    at.format(crate::dates::SHOWN_UTC).to_string()
}

/// What went wrong, the proposal if any, and the command that applies it.
fn content(source: &Source, health: &SourceHealth, since: DateTime<Utc>) -> String {
    let error = health.last_error.as_deref().unwrap_or("unknown error");
    let mut html = format!(
        "<p>medee has not been able to read <a href=\"{url}\">{name}</a> since {since}.</p>\
         <p>Last error: {error}</p>",
        url = escape(&redact_url(&source.url)),
        name = escape(&source.name),
        since = day_and_time(since),
        error = escape(error),
    );
    match (&health.proposal, health.broken) {
        (Some(proposal), _) => html.push_str(&proposal_html(&source.id, proposal)),
        (None, true) => html.push_str(
            "<p>The page was read but no replacement selectors were found on it; \
             run <code>medee suggest</code> on the page to write new ones.</p>",
        ),
        (None, false) => html.push_str(
            "<p>The site could not be read (it may be down); medee keeps trying on its schedule.</p>",
        ),
    }
    html
}

fn proposal_html(id: &str, proposal: &Proposal) -> String {
    let lines: String = proposal
        .selectors
        .values()
        .into_iter()
        .filter_map(|(key, value)| Some(format!("{key} = {}\n", toml_string(value?))))
        .collect();
    let sample: String = proposal
        .sample
        .iter()
        .map(|t| format!("<li>{}</li>", escape(t)))
        .collect();
    format!(
        "<p>The site's markup seems to have changed. medee found these selectors on the page \
         ({} items, {}):</p><pre>{}</pre><ul>{sample}</ul>\
         <p>To apply them: <code>medee repair {id} --write</code>, then reload the daemon \
         (<code>systemctl reload medee</code>).</p>",
        proposal.items,
        if proposal.passes() {
            "they pass the quality checks".to_string()
        } else {
            escape(&proposal.problems.join("; "))
        },
        escape(&lines),
        id = escape(id),
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;
    use crate::repair::SelectorSet;

    fn source() -> Source {
        let toml = "[[source]]\nid = \"gogo\"\nname = \"Gogo <News>\"\nurl = \"https://gogo.mn/i/2?token=SECRET\"\nitem = \"li\"\n";
        let mut config = Config::parse(toml, Path::new("t.toml")).expect("valid");
        config.sources.remove(0)
    }

    fn at(minute: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 12, 2, 14, minute, 0)
            .single()
            .expect("time")
    }

    fn failing(runs: u32, broken: bool) -> SourceHealth {
        SourceHealth {
            id: "gogo".to_string(),
            last_success: Some(at(0)),
            last_error: Some("HTTP 500 <x>".to_string()),
            consecutive_failures: runs,
            failing_since: Some(at(15)),
            broken,
            ..SourceHealth::default()
        }
    }

    #[test]
    fn a_failing_source_gets_a_notice_after_health_after_runs_a_broken_one_at_once() {
        let policy = HealthEntries::default();
        assert!(notice(&source(), &failing(3, false), policy).is_none());
        assert!(notice(&source(), &failing(4, false), policy).is_some());
        assert!(notice(&source(), &failing(1, true), policy).is_some());
        assert!(notice(&source(), &SourceHealth::default(), policy).is_none());
        let off = HealthEntries {
            enabled: false,
            ..policy
        };
        assert!(notice(&source(), &failing(9, true), off).is_none());
    }

    #[test]
    fn the_notice_names_the_source_its_last_update_and_the_fix() {
        let mut health = failing(1, true);
        health.proposal = Some(Proposal {
            selectors: SelectorSet {
                item: "article.card".to_string(),
                title: Some("h3 \"a\"".to_string()),
                ..SelectorSet::default()
            },
            at: at(16),
            items: 12,
            sample: vec!["Засгийн газар хуралдав".to_string()],
            problems: Vec::new(),
        });
        let entry = notice(&source(), &health, HealthEntries::default()).expect("notice");
        assert_eq!(
            entry.title,
            "medee: Gogo <News> has not updated since 2026-12-02 14:00 UTC"
        );
        assert_eq!(
            entry.link,
            format!(
                "https://gogo.mn/i/2?token=REDACTED#medee-notice-{}",
                at(15).timestamp()
            )
        );
        let content = entry.content.expect("content");
        for part in [
            "HTTP 500 &lt;x&gt;",
            "item = &quot;article.card&quot;",
            "title = &#39;h3 &quot;a&quot;&#39;",
            "medee repair gogo --write",
            "Засгийн газар хуралдав",
        ] {
            assert!(content.contains(part), "{part} not in {content}");
        }
        assert!(!content.contains("SECRET"));
        assert_eq!((entry.updated, entry.sort_at), (at(15), at(15)));
    }
}
