//! Every default value of the config, named, so that validation, the
//! `Default` impls, the rest of the crate and the README's "Configuration
//! reference" read one number instead of repeating a literal.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Seconds in a day, the unit the longer durations below are counted in.
const DAY_SECS: u64 = 86_400;

/// `[daemon] user_agent`: names the tool and where to read about it, as polite crawlers do.
pub const USER_AGENT: &str = concat!(
    "medee/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/medee-news/medee)"
);

/// `[daemon] output_dir`: relative, so a checkout runs without setup.
pub const OUTPUT_DIR: &str = "feeds";

/// `[daemon] database`: apart from the outputs, so the served directory never holds the store.
pub const DATABASE: &str = "state/medee.db";

/// `[daemon] schedule`: every quarter hour, on the hour, in cron with seconds.
pub const SCHEDULE: &str = "0 */15 * * * *";

/// `[daemon] concurrency`: sources fetched at once.
pub const CONCURRENCY: usize = 8;

/// `[daemon] per_host_delay`: the gap between two requests to one host.
pub const PER_HOST_DELAY: Duration = Duration::from_secs(1);

/// `[daemon] timeout`: one request, from connecting to the last body byte.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// `[daemon] max_body`: a listing page is rarely over 1 MiB; ten leaves room without letting a bomb in.
pub const MAX_BODY: u64 = 10 << 20;

/// `[daemon] retention`: about a quarter, longer than any feed reader's backlog.
pub const RETENTION: Duration = Duration::from_secs(90 * DAY_SECS);

/// `[daemon] max_page_items`: items read from one listing page.
pub const MAX_PAGE_ITEMS: usize = 500;

/// `[daemon] max_field`: bytes kept per listing field (title, summary, date text, link, image).
pub const MAX_FIELD: usize = 16 << 10;

/// `[daemon] max_content`: bytes of sanitised article content kept per item.
pub const MAX_CONTENT: usize = 256 << 10;

/// `[daemon] max_feed_size`: bytes one feed file may reach.
pub const MAX_FEED_SIZE: usize = 8 << 20;

/// `[daemon] oldest_date`: no news page is older than the Unix epoch; earlier dates are misreadings.
pub const OLDEST_DATE: DateTime<Utc> = DateTime::UNIX_EPOCH;

/// `[daemon] max_future`: a day covers every time zone and some clock skew.
pub const MAX_FUTURE: Duration = Duration::from_secs(DAY_SECS);

/// `[daemon] health_entries`: readers learn that a source stopped updating.
pub const HEALTH_ENTRIES: bool = true;

/// `[daemon] health_after`: failed runs tolerated before the reader is told
/// (a site that is down for one or two runs is not news).
pub const HEALTH_AFTER: u32 = 3;

/// `[[source]] language`.
pub const LANGUAGE: &str = "en";

/// `[[source]] timezone`: the zone of dates that carry none.
pub const TIMEZONE: Tz = Tz::UTC;

/// `[[feed]] max_items`: entries kept in a merged feed.
pub const FEED_MAX_ITEMS: usize = 100;

/// `[[feed]] sources`: a feed without a list merges every source.
pub const FEED_SOURCES: &str = "*";

/// The name of the merged feed added when no `[[feed]]` is configured.
pub const FEED_NAME: &str = "all";

/// The title of that feed.
pub const FEED_TITLE: &str = "All sources";
