//! `status.html` and `/status`: every source's health in one table, each
//! row with a small chart of its last [`HISTORY_DAYS`] days drawn as inline
//! SVG on the server, so the page needs no JavaScript and no other file.
//!
//! The markup is also well-formed XML (void elements closed, only the five
//! XML entities), so tests can parse it strictly as well as as HTML.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Days, NaiveDate, Utc};

use crate::sanitize::escape;
use crate::store::{DayCounts, HISTORY_DAYS, SourceHealth, first_history_day};

/// One source's row.
#[derive(Debug, Clone, Copy)]
pub struct StatusRow<'a> {
    /// Source id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Its language code, so the name is read (and hyphenated) in it.
    pub language: &'a str,
    /// The listing page, credentials and secrets already redacted.
    pub home: &'a str,
    /// Its health (`None` before its first run).
    pub health: Option<&'a SourceHealth>,
    /// Its days with anything to count, in any order; days outside the window are ignored.
    pub days: &'a [DayCounts],
}

/// The whole page.
#[derive(Debug, Clone, Copy)]
pub struct StatusPage<'a> {
    /// Title of the feeds (the first merged feed's).
    pub title: &'a str,
    /// Every configured source, in config order.
    pub rows: &'a [StatusRow<'a>],
    /// When the page is rendered: the charts' last day and the relative times.
    pub now: DateTime<Utc>,
}

/// Chart geometry, in CSS pixels: one bar per day, items above the axis and
/// failed runs below it.
const BAR_WIDTH: u32 = 6;
const BAR_GAP: u32 = 1;
const ITEMS_HEIGHT: u32 = 30;
const FAILURES_HEIGHT: u32 = 10;
const CHART_WIDTH: u32 = HISTORY_DAYS * BAR_WIDTH;
const CHART_HEIGHT: u32 = ITEMS_HEIGHT + 1 + FAILURES_HEIGHT;

/// The status page.
pub fn status_html(page: &StatusPage<'_>) -> String {
    let mut html = String::with_capacity(4096 + page.rows.len() * 4096);
    let failing = page
        .rows
        .iter()
        .filter(|r| r.health.is_some_and(|h| h.consecutive_failures > 0))
        .count();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n\
         <title>Source status — {title}</title>\n{STYLE}</head>\n<body>\n\
         <header><h1>Source status</h1><p class=\"meta\">{title} · {count} sources · \
         <span class=\"{summary_class}\">{failing} failing</span> · generated \
         <time datetime=\"{iso}\">{shown}</time> · <a href=\"index.html\">headlines</a></p></header>\n<main>\n",
        title = escape(page.title),
        count = page.rows.len(),
        summary_class = if failing > 0 { "bad" } else { "good" },
        iso = page.now.to_rfc3339(),
        shown = page.now.format(crate::dates::SHOWN_UTC),
    );
    html.push_str(
        "<table>\n<thead><tr><th scope=\"col\">Source</th><th scope=\"col\">State</th>\
         <th scope=\"col\">Last success</th><th scope=\"col\" class=\"num\">Failures</th>\
         <th scope=\"col\" class=\"num\">Items</th><th scope=\"col\">Next run</th>\
         <th scope=\"col\">Last 30 days</th><th scope=\"col\">Last error</th></tr></thead>\n<tbody>\n",
    );
    for row in page.rows {
        write_row(&mut html, row, page.now);
    }
    let _ = write!(
        html,
        "</tbody>\n</table>\n<p class=\"legend\"><span class=\"key items\"></span> items per day \
         (by publication date, else first seen) · <span class=\"key failures\"></span> failed runs \
         per day · each chart has its own scale, its peak day is named under it · UTC days, the \
         last {HISTORY_DAYS} up to today</p>\n</main>\n</body>\n</html>\n"
    );
    html
}

fn write_row(html: &mut String, row: &StatusRow<'_>, now: DateTime<Utc>) {
    let health = row.health;
    let state = health.map_or("never_run", SourceHealth::state);
    let failures = health.map_or(0, |h| h.consecutive_failures);
    let items = health.map_or(0, |h| h.items);
    let last_success = health.and_then(|h| h.last_success);
    let next_run = health.and_then(|h| h.next_run);
    let error = health
        .and_then(|h| h.last_error.as_deref())
        .map_or_else(|| "<span class=\"none\">—</span>".to_string(), escape);
    let _ = write!(
        html,
        "<tr id=\"source-{id}\" class=\"{state}\"><th scope=\"row\"><a href=\"{home}\" lang=\"{lang}\">{name}</a>\
         <span class=\"id\">{id}</span></th><td><span class=\"state {state}\">{label}</span></td>\
         <td>{success}</td><td class=\"num\">{failures}</td><td class=\"num\">{items}</td>\
         <td>{next}</td><td class=\"chart\">",
        id = escape(row.id),
        home = escape(row.home),
        name = escape(row.name),
        lang = escape(row.language),
        label = state_label(state),
        success = moment(last_success, now, "never"),
        next = moment(next_run, now, "not scheduled"),
    );
    write_chart(html, row, now.date_naive());
    let _ = writeln!(html, "</td><td class=\"error\">{error}</td></tr>");
}

/// The words for each state [`SourceHealth::state`] gives.
fn state_label(state: &str) -> &'static str {
    match state {
        "ok" => "ok",
        "failing" => "failing",
        "backing_off" => "backing off",
        "broken" => "broken",
        "adopted" => "adopted fix",
        _ => "never run",
    }
}

/// A `<time>` with the date and how long ago (or until) it is.
fn moment(at: Option<DateTime<Utc>>, now: DateTime<Utc>, none: &str) -> String {
    let Some(at) = at else {
        return format!("<span class=\"none\">{none}</span>");
    };
    format!(
        "<time datetime=\"{}\">{}</time> <span class=\"ago\">{}</span>",
        at.to_rfc3339(),
        at.format("%Y-%m-%d %H:%M"),
        relative(at, now)
    )
}

/// `5 min ago`, `in 2 h`, `3 d ago`: coarse, as a glance needs.
fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    let span = match seconds.unsigned_abs() {
        s if s < 60 => return "now".to_string(),
        s if s < 3_600 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3_600),
        s => format!("{} d", s / 86_400),
    };
    if seconds < 0 {
        format!("{span} ago")
    } else {
        format!("in {span}")
    }
}

/// The window's days, oldest first, zero where nothing was counted.
fn window(days: &[DayCounts], today: NaiveDate) -> Vec<DayCounts> {
    let counted: HashMap<NaiveDate, &DayCounts> = days.iter().map(|d| (d.day, d)).collect();
    let first = first_history_day(today);
    (0..HISTORY_DAYS)
        .filter_map(|offset| first.checked_add_days(Days::new(u64::from(offset))))
        .map(|day| {
            counted.get(&day).map_or(
                DayCounts {
                    day,
                    ..DayCounts::default()
                },
                |c| **c,
            )
        })
        .collect()
}

/// Height of a bar for `value` on a scale whose top is `max`: at least one
/// pixel for anything above zero, so a quiet day still shows.
fn bar_height(value: u64, max: u64, full: u32) -> u32 {
    if value == 0 || max == 0 {
        return 0;
    }
    let scaled = value.saturating_mul(u64::from(full)).div_ceil(max);
    u32::try_from(scaled).unwrap_or(full).clamp(1, full)
}

/// The row's chart: a bar per day, items rising from the axis, failed runs
/// hanging below it, each with a tooltip; the totals in its accessible name.
fn write_chart(html: &mut String, row: &StatusRow<'_>, today: NaiveDate) {
    let days = window(row.days, today);
    let total_items: u64 = days.iter().map(|d| d.items).sum();
    let total_failures: u64 = days.iter().map(|d| d.failures).sum();
    let total_runs: u64 = days.iter().map(|d| d.runs).sum();
    let max_items = days.iter().map(|d| d.items).max().unwrap_or(0);
    let max_failures = days.iter().map(|d| d.failures).max().unwrap_or(0);
    let summary = format!(
        "{total_items} items and {total_failures} failed runs of {total_runs} in the last {HISTORY_DAYS} days"
    );
    let _ = write!(
        html,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{CHART_WIDTH}\" height=\"{CHART_HEIGHT}\" \
         viewBox=\"0 0 {CHART_WIDTH} {CHART_HEIGHT}\" role=\"img\" aria-label=\"{label}\">\
         <title>{label}</title>\
         <rect class=\"axis\" x=\"0\" y=\"{ITEMS_HEIGHT}\" width=\"{CHART_WIDTH}\" height=\"1\" />",
        label = escape(&format!("{}: {summary}", row.id)),
    );
    for (index, day) in (0u32..).zip(&days) {
        let x = index * BAR_WIDTH;
        let width = BAR_WIDTH - BAR_GAP;
        let tip = format!(
            "{}: {} items, {} runs, {} failed",
            day.day.format("%Y-%m-%d"),
            day.items,
            day.runs,
            day.failures
        );
        let up = bar_height(day.items, max_items, ITEMS_HEIGHT);
        let down = bar_height(day.failures, max_failures, FAILURES_HEIGHT);
        let _ = write!(
            html,
            "<g><title>{tip}</title><rect class=\"hit\" x=\"{x}\" y=\"0\" width=\"{BAR_WIDTH}\" height=\"{CHART_HEIGHT}\" />"
        );
        if up > 0 {
            let _ = write!(
                html,
                "<rect class=\"items\" x=\"{x}\" y=\"{}\" width=\"{width}\" height=\"{up}\" />",
                ITEMS_HEIGHT - up
            );
        }
        if down > 0 {
            let _ = write!(
                html,
                "<rect class=\"failures\" x=\"{x}\" y=\"{}\" width=\"{width}\" height=\"{down}\" />",
                ITEMS_HEIGHT + 1
            );
        }
        html.push_str("</g>");
    }
    html.push_str("</svg>");
    let peak = days
        .iter()
        .filter(|d| d.items > 0)
        .max_by_key(|d| (d.items, d.day))
        .map_or_else(
            || "no items".to_string(),
            |d| format!("peak {} on {}", d.items, d.day.format("%b %-d")),
        );
    let _ = write!(
        html,
        "<span class=\"totals\">{total_items} items · {total_failures} failed runs · {peak}</span>"
    );
}

const STYLE: &str = "<style>\
body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:80rem;color:#222}\
h1{margin:.2rem 0}.meta{color:#555;margin:.2rem 0 1rem}a{color:#0645ad;text-decoration:none}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.45rem .5rem;border-bottom:1px solid #ddd}\
thead th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:#555;border-bottom:2px solid #bbb}\
tbody th a{font-weight:600}.id{display:block;color:#777;font-size:.8rem;font-weight:400;font-family:ui-monospace,monospace}\
.num{text-align:right;font-variant-numeric:tabular-nums}time{white-space:nowrap}.ago,.none,.totals{display:block;color:#777;font-size:.8rem}\
.state{display:inline-block;padding:.05rem .45rem;border-radius:.7rem;font-size:.8rem;font-weight:600;white-space:nowrap}\
.state.ok{background:#e3f4e6;color:#17622a}.state.failing{background:#fff1d6;color:#8a5300}\
.state.backing_off{background:#fde2e1;color:#a1231b}.state.never_run{background:#eee;color:#555}\
.state.broken{background:#fde2e1;color:#a1231b}.state.adopted{background:#e2ecfd;color:#1b4aa1}\
.good{color:#17622a}.bad{color:#a1231b;font-weight:600}\
.error{color:#a1231b;font-size:.85rem;max-width:28rem;overflow-wrap:anywhere}\
.chart svg{display:block}svg .items{fill:#3b73c4}svg .failures{fill:#d0362c}svg .axis{fill:#999}\
svg .hit{fill:transparent}svg g:hover .hit{fill:#0001}\
.legend{color:#555;font-size:.85rem}.key{display:inline-block;width:.8rem;height:.8rem;vertical-align:middle}\
.key.items{background:#3b73c4}.key.failures{background:#d0362c}\
</style>\n";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0)
            .single()
            .expect("valid time")
    }

    #[test]
    fn relative_times_are_coarse_and_signed() {
        let at = |seconds| now() + chrono::Duration::seconds(seconds);
        assert_eq!(relative(at(-30), now()), "now");
        assert_eq!(relative(at(-300), now()), "5 min ago");
        assert_eq!(relative(at(7_200), now()), "in 2 h");
        assert_eq!(relative(at(-3 * 86_400), now()), "3 d ago");
    }

    #[test]
    fn the_window_fills_missing_days_with_zeros_and_drops_old_ones() {
        let today = now().date_naive();
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).expect("date");
        let days = [
            DayCounts {
                day: day(1),
                items: 9,
                ..DayCounts::default()
            },
            DayCounts {
                day: day(30),
                items: 4,
                runs: 2,
                failures: 1,
            },
        ];
        let window = window(&days, today);
        assert_eq!(window.len(), 30);
        assert_eq!(window[0].day, day(3));
        assert_eq!(window[29].day, today);
        assert_eq!(window.iter().map(|d| d.items).sum::<u64>(), 4);
        assert_eq!(window[27].failures, 1);
    }

    #[test]
    fn every_state_of_a_source_has_its_own_label_and_style() {
        let states = [
            "ok",
            "failing",
            "backing_off",
            "broken",
            "adopted",
            "never_run",
        ];
        let labels: std::collections::HashSet<&str> =
            states.iter().map(|s| state_label(s)).collect();
        assert_eq!(labels.len(), states.len(), "{labels:?}");
        for state in states {
            assert!(STYLE.contains(&format!(".state.{state}{{")), "{state}");
        }
    }

    #[test]
    fn bars_scale_to_the_peak_and_never_vanish() {
        assert_eq!(bar_height(0, 10, 30), 0);
        assert_eq!(bar_height(10, 10, 30), 30);
        assert_eq!(bar_height(1, 1000, 30), 1);
        assert_eq!(bar_height(5, 10, 30), 15);
    }
}
