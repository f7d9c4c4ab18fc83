//! `[daemon]`: paths, schedule, fetching politeness, limits and the date range.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use url::Url;

use super::{check_cron, check_http_url, count_at_least_one};
use crate::cluster::StorySettings;
use crate::config::diagnostics::Diagnostics;
use crate::config::raw::RawDaemon;
use crate::config::units::{format_duration, format_size, parse_date};
use crate::config::{
    Daemon, DateRange, HealthEntries, Limits, Schedule, defaults, parse_duration, parse_size,
};

/// The longest `per_host_delay`: beyond an hour it is a typo, and honouring
/// one of years (`"100000000w"`) would stall every fetch from that host.
const MAX_PER_HOST_DELAY: Duration = Duration::from_secs(3_600);

/// The longest `timeout`: a request slower than an hour is a stalled one.
const MAX_TIMEOUT: Duration = Duration::from_secs(3_600);

/// The shortest `timeout`: zero would fail every request before it is sent.
const MIN_TIMEOUT: Duration = Duration::from_millis(1);

/// The longest `max_future`: a year covers any announced event; more accepts misread dates.
const MAX_MAX_FUTURE: Duration = Duration::from_secs(365 * 86_400);

/// The largest of the `max_field`, `max_content` and `max_feed_size` limits:
/// they exist to bound memory, and a limit past a gibibyte bounds nothing.
const MAX_LIMIT_SIZE: usize = 1 << 30;

/// The largest `health_after`: past a thousand runs a notice would never come.
const MAX_HEALTH_AFTER: u32 = 1_000;

/// `[daemon]` with every absent key at its default from `defaults`.
pub(super) fn validate_daemon(raw: RawDaemon, diags: &mut Diagnostics<'_>) -> Daemon {
    let per_host_delay = bounded_duration(
        raw.per_host_delay,
        "per_host_delay",
        Duration::ZERO..=MAX_PER_HOST_DELAY,
        defaults::PER_HOST_DELAY,
        diags,
    );
    let timeout = bounded_duration(
        raw.timeout,
        "timeout",
        MIN_TIMEOUT..=MAX_TIMEOUT,
        defaults::TIMEOUT,
        diags,
    );
    let retention = bounded_duration(
        raw.retention,
        "retention",
        Duration::ZERO..=Duration::MAX,
        defaults::RETENTION,
        diags,
    );
    let max_body = size(raw.max_body, defaults::MAX_BODY, diags);
    let schedule = raw
        .schedule
        .and_then(|s| check_cron(s, diags))
        .unwrap_or_else(default_schedule);
    let concurrency =
        count_at_least_one(raw.concurrency, "concurrency", defaults::CONCURRENCY, diags);
    let listen = raw.listen.and_then(|l| listen_address(&l, diags));
    let base_url = raw.base_url.and_then(|b| {
        let url = check_http_url(&b, diags)?;
        Some(with_trailing_slash(url))
    });
    let limits = validate_limits(
        raw.max_page_items,
        raw.max_field,
        raw.max_content,
        raw.max_feed_size,
        diags,
    );
    let dates = validate_dates(raw.oldest_date, raw.max_future, diags);
    let stories = validate_stories(raw.cluster_threshold, raw.cluster_window, diags);
    let (output_dir, database) = validate_paths(raw.output_dir, raw.database, diags);
    let on_new = raw.on_new.and_then(|c| hook_command(c, diags));
    let websub_hub = raw
        .websub_hub
        .and_then(|hub| websub_hub(&hub, base_url.is_some() || listen.is_some(), diags));
    Daemon {
        output_dir,
        database,
        schedule,
        concurrency,
        per_host_delay,
        timeout,
        max_body,
        user_agent: raw
            .user_agent
            .map_or_else(|| defaults::USER_AGENT.to_string(), Spanned::into_inner),
        retention,
        listen,
        base_url,
        limits,
        dates,
        on_new,
        websub_hub,
        health: HealthEntries {
            enabled: raw
                .health_entries
                .map_or(defaults::HEALTH_ENTRIES, Spanned::into_inner),
            after: health_after(raw.health_after, diags),
        },
        stories,
    }
}

/// `on_new`: a program and its arguments, as `execve` takes them (no shell).
fn hook_command(
    value: Spanned<Vec<Spanned<String>>>,
    diags: &mut Diagnostics<'_>,
) -> Option<Vec<String>> {
    let span = value.span();
    let words: Vec<Spanned<String>> = value.into_inner();
    match words.first() {
        None => {
            diags.at(
                span,
                "on_new is empty; expected the program and its arguments, e.g. [\"/usr/local/bin/medee-telegram\", \"--quiet\"]",
            );
            None
        }
        Some(program) if program.get_ref().trim().is_empty() => {
            diags.at(
                program.span(),
                "on_new's program is empty; expected a path such as \"/usr/local/bin/medee-telegram\"",
            );
            None
        }
        Some(_) => Some(words.into_iter().map(Spanned::into_inner).collect()),
    }
}

/// `websub_hub`: an http(s) URL, and the feeds need a URL the hub can fetch
/// (`base_url`, or `listen`) for `hub.url` and their `rel="self"` links.
fn websub_hub(
    value: &Spanned<String>,
    feeds_have_url: bool,
    diags: &mut Diagnostics<'_>,
) -> Option<Url> {
    let hub = check_http_url(value, diags)?;
    if !feeds_have_url {
        diags.at(
            value.span(),
            "websub_hub needs the feeds' public URL to tell the hub which feed changed; set base_url (e.g. \"https://news.example.org/feeds/\") or listen",
        );
        return None;
    }
    Some(hub)
}

/// `health_after`: a count of runs, zero included (a notice from the first failure).
fn health_after(value: Option<Spanned<i64>>, diags: &mut Diagnostics<'_>) -> u32 {
    value.map_or(defaults::HEALTH_AFTER, |v| {
        match u32::try_from(*v.get_ref()) {
            Ok(n) if n <= MAX_HEALTH_AFTER => n,
            _ => {
                diags.at(
                    v.span(),
                    format!("health_after must be a number of runs from 0 to {MAX_HEALTH_AFTER}"),
                );
                defaults::HEALTH_AFTER
            }
        }
    })
}

/// The longest `cluster_window`: a week; past that, a recurring report
/// (a weekly forecast, a league's round) would join last week's story.
const MAX_CLUSTER_WINDOW: Duration = Duration::from_secs(7 * 86_400);

/// `cluster_threshold` (above 0, at most 1) and `cluster_window`.
fn validate_stories(
    threshold: Option<Spanned<f64>>,
    window: Option<Spanned<String>>,
    diags: &mut Diagnostics<'_>,
) -> StorySettings {
    let default = StorySettings::default();
    let threshold = match threshold {
        Some(t) if *t.get_ref() > 0.0 && *t.get_ref() <= 1.0 => *t.get_ref(),
        Some(t) => {
            diags.at(
                t.span(),
                format!(
                    "cluster_threshold = {} is out of range; expected a number above 0 and at most 1",
                    t.get_ref()
                ),
            );
            default.threshold
        }
        None => default.threshold,
    };
    let window = bounded_duration(
        window,
        "cluster_window",
        Duration::ZERO..=MAX_CLUSTER_WINDOW,
        default.window,
        diags,
    );
    StorySettings { threshold, window }
}

/// `max_page_items`, `max_field`, `max_content` and `max_feed_size`.
fn validate_limits(
    page_items: Option<Spanned<i64>>,
    field: Option<Spanned<String>>,
    content: Option<Spanned<String>>,
    feed_size: Option<Spanned<String>>,
    diags: &mut Diagnostics<'_>,
) -> Limits {
    Limits {
        page_items: count_at_least_one(
            page_items,
            "max_page_items",
            defaults::MAX_PAGE_ITEMS,
            diags,
        ),
        field_bytes: limit_size(field, "max_field", defaults::MAX_FIELD, diags),
        content_bytes: limit_size(content, "max_content", defaults::MAX_CONTENT, diags),
        feed_bytes: limit_size(feed_size, "max_feed_size", defaults::MAX_FEED_SIZE, diags),
    }
}

/// `oldest_date` and `max_future`.
fn validate_dates(
    oldest_date: Option<Spanned<String>>,
    max_future: Option<Spanned<String>>,
    diags: &mut Diagnostics<'_>,
) -> DateRange {
    let oldest = oldest_date.map_or(defaults::OLDEST_DATE, |d| match parse_date(d.get_ref()) {
        Ok(date) => date,
        Err(e) => {
            diags.at(d.span(), e);
            defaults::OLDEST_DATE
        }
    });
    let max_future = bounded_duration(
        max_future,
        "max_future",
        Duration::ZERO..=MAX_MAX_FUTURE,
        defaults::MAX_FUTURE,
        diags,
    );
    DateRange { oldest, max_future }
}

/// The schedule every source without its own follows.
fn default_schedule() -> Schedule {
    Schedule::parse(defaults::SCHEDULE).expect("the default schedule is a valid cron expression")
}

/// A duration within `bounds`; `default` when absent or (after the error is
/// recorded) invalid or out of bounds, so checking can go on.
fn bounded_duration(
    value: Option<Spanned<String>>,
    key: &str,
    bounds: std::ops::RangeInclusive<Duration>,
    default: Duration,
    diags: &mut Diagnostics<'_>,
) -> Duration {
    let Some(value) = value else {
        return default;
    };
    match parse_duration(value.get_ref()) {
        Ok(d) if bounds.contains(&d) => d,
        Ok(_) => {
            let range = if *bounds.end() == Duration::MAX {
                format!("at least {}", format_duration(*bounds.start()))
            } else {
                format!(
                    "from {} to {}",
                    format_duration(*bounds.start()),
                    format_duration(*bounds.end())
                )
            };
            diags.at(
                value.span(),
                format!(
                    "{key} = \"{}\" is out of range; expected {range}",
                    value.get_ref()
                ),
            );
            default
        }
        Err(e) => {
            diags.at(value.span(), e);
            default
        }
    }
}

/// A size; `default` when absent or (after the error is recorded) invalid.
fn size(value: Option<Spanned<String>>, default: u64, diags: &mut Diagnostics<'_>) -> u64 {
    value.map_or(default, |v| {
        parse_size(v.get_ref()).unwrap_or_else(|e| {
            diags.at(v.span(), e);
            default
        })
    })
}

/// A limit on bytes held in memory; `default` when absent or (after the
/// error is recorded) invalid or above [`MAX_LIMIT_SIZE`].
fn limit_size(
    value: Option<Spanned<String>>,
    key: &str,
    default: usize,
    diags: &mut Diagnostics<'_>,
) -> usize {
    let Some(value) = value else {
        return default;
    };
    match parse_size(value.get_ref()).map(usize::try_from) {
        Ok(Ok(bytes)) if bytes <= MAX_LIMIT_SIZE => bytes,
        Ok(_) => {
            diags.at(
                value.span(),
                format!(
                    "{key} = \"{}\" is out of range; expected at most {}",
                    value.get_ref(),
                    format_size(MAX_LIMIT_SIZE as u64)
                ),
            );
            default
        }
        Err(e) => {
            diags.at(value.span(), e);
            default
        }
    }
}

fn listen_address(value: &Spanned<String>, diags: &mut Diagnostics<'_>) -> Option<SocketAddr> {
    match value.get_ref().parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(_) => {
            diags.at(
                value.span(),
                format!(
                    "invalid listen address \"{}\"; expected IP:PORT such as 127.0.0.1:8088",
                    value.get_ref()
                ),
            );
            None
        }
    }
}

/// A base URL names a directory: without the slash, joining would drop its last segment.
fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// `output_dir` and `database`, which must be set to something and to
/// different places: an empty `output_dir` would scatter the feeds over the
/// directory medee runs in, an empty `database` makes SQLite keep the items in
/// a temporary file lost at exit, and one path for both makes publishing and
/// the store overwrite each other.
fn validate_paths(
    output_dir: Option<Spanned<String>>,
    database: Option<Spanned<String>>,
    diags: &mut Diagnostics<'_>,
) -> (PathBuf, PathBuf) {
    for (key, value, example) in [
        ("output_dir", &output_dir, defaults::OUTPUT_DIR),
        ("database", &database, defaults::DATABASE),
    ] {
        if let Some(v) = value
            && v.get_ref().trim().is_empty()
        {
            diags.at(
                v.span(),
                format!("{key} is empty; expected a path such as \"{example}\" (\".\" for the directory medee runs in)"),
            );
        }
    }
    let path = |value: &Option<Spanned<String>>, default: &str| {
        PathBuf::from(value.as_ref().map_or(default, |v| v.get_ref().as_str()))
    };
    let (dir, db) = (
        path(&output_dir, defaults::OUTPUT_DIR),
        path(&database, defaults::DATABASE),
    );
    if !dir.as_os_str().is_empty() && same_path(&dir, &db) {
        let span = database
            .as_ref()
            .or(output_dir.as_ref())
            .map_or(0..0, Spanned::span);
        diags.at(
            span,
            format!(
                "database \"{}\" and output_dir \"{}\" are the same path; keep the store outside the published directory, e.g. database = \"{}\"",
                db.display(),
                dir.display(),
                defaults::DATABASE
            ),
        );
    }
    (dir, db)
}

/// Whether two paths as written name the same place: `./`, repeated and
/// trailing slashes do not count. Links and `..` are left alone: resolving
/// them needs the file system, and the config is checked without one.
fn same_path(a: &Path, b: &Path) -> bool {
    a.components()
        .filter(|c| *c != Component::CurDir)
        .eq(b.components().filter(|c| *c != Component::CurDir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_compare_as_written_without_dots_and_slashes() {
        let same = |a: &str, b: &str| same_path(Path::new(a), Path::new(b));
        assert!(same("feeds", "./feeds/"));
        assert!(same("out//feeds", "out/./feeds"));
        assert!(same("/run/medee/", "/run/medee"));
        assert!(!same("feeds", "feeds/medee.db"));
        assert!(!same("feeds", "/feeds"));
        assert!(!same("state/medee.db", "state/other.db"));
    }

    #[test]
    fn the_default_schedule_compiles() {
        assert_eq!(default_schedule().text, defaults::SCHEDULE);
    }
}
