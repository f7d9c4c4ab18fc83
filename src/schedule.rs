//! The scheduling policy: when a source runs next, as a pure function of its
//! cron, its failure state and "now". The daemon only sleeps until the time
//! this returns, so the policy is tested on plain values, without waiting.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use croner::Cron;

/// The longest a failing source waits between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(4 * 3600);

/// A source that failed its last run(s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failing {
    /// Failures since the last success (at least 1).
    pub failures: u32,
    /// When the last attempt started.
    pub last_attempt: DateTime<Utc>,
}

/// How long to wait after `failures` consecutive failures: 2^(n-1) schedule
/// intervals, at most [`MAX_BACKOFF`].
pub fn backoff(failures: u32, interval: Duration) -> chrono::Duration {
    let intervals = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    let wait = interval.saturating_mul(intervals).min(MAX_BACKOFF);
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::zero())
}

/// The next time a source runs: its next cron time after `now`, pushed past
/// its backoff when it keeps failing, so a broken site is asked less and less
/// often and picked up again by itself. `None` when the cron has no future
/// time.
pub fn next_run<Tz: TimeZone>(
    cron: &Cron,
    now: &DateTime<Tz>,
    failing: Option<Failing>,
) -> Option<DateTime<Tz>> {
    let next = cron.find_next_occurrence(now, false).ok()?;
    let Some(failing) = failing.filter(|f| f.failures > 0) else {
        return Some(next);
    };
    // A stored time near the end of chrono's range must not panic the
    // scheduler: without a reachable end of backoff the schedule decides.
    // A last attempt stored while the clock was wrong (in the future) counts
    // as now, or the source would wait until then.
    let last_attempt = failing.last_attempt.min(now.with_timezone(&Utc));
    let Some(until) =
        last_attempt.checked_add_signed(backoff(failing.failures, interval(cron, &next)))
    else {
        return Some(next);
    };
    if until <= next.with_timezone(&Utc) {
        return Some(next);
    }
    cron.find_next_occurrence(&until.with_timezone(&now.timezone()), true)
        .ok()
}

/// The gap between the cron time `at` and the one after it (the schedule's
/// interval there); [`MAX_BACKOFF`] when there is no later time.
fn interval<Tz: TimeZone>(cron: &Cron, at: &DateTime<Tz>) -> Duration {
    cron.find_next_occurrence(at, false)
        .ok()
        .and_then(|after| (after - at.clone()).to_std().ok())
        .unwrap_or(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Schedule;

    fn cron(text: &str) -> Cron {
        Schedule::parse(text).expect("valid cron").cron
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-12-02T{text}Z"))
            .expect("valid time")
            .with_timezone(&Utc)
    }

    #[test]
    fn backoff_doubles_per_failure_in_schedule_intervals_up_to_four_hours() {
        let quarter = Duration::from_secs(15 * 60);
        let minutes = |n| backoff(n, quarter).num_minutes();
        assert_eq!(
            [minutes(1), minutes(2), minutes(3), minutes(4)],
            [15, 30, 60, 120]
        );
        assert_eq!(minutes(5), 240);
        assert_eq!(minutes(6), 240, "capped");
        assert_eq!(minutes(u32::MAX), 240, "no overflow");
        assert_eq!(backoff(3, Duration::from_secs(1)).num_seconds(), 4);
    }

    #[test]
    fn next_run_follows_the_cron_and_backs_off_from_the_last_attempt() {
        let quarterly = cron("0 */15 * * * *");
        let secondly = cron("* * * * * *");
        let failing = |failures, last: &str| {
            Some(Failing {
                failures,
                last_attempt: at(last),
            })
        };
        let cases: [(&Cron, &str, Option<Failing>, &str, &str); 10] = [
            (
                &quarterly,
                "12:07:00",
                None,
                "12:15:00",
                "healthy: next cron time",
            ),
            (
                &quarterly,
                "12:15:00",
                None,
                "12:30:00",
                "a cron time itself is not next",
            ),
            (
                &quarterly,
                "12:07:00",
                failing(1, "12:00:00"),
                "12:15:00",
                "one failure waits one interval",
            ),
            (
                &quarterly,
                "12:07:00",
                failing(2, "12:00:00"),
                "12:30:00",
                "two wait two",
            ),
            (
                &quarterly,
                "12:07:00",
                failing(3, "12:00:00"),
                "13:00:00",
                "three wait four",
            ),
            (
                &quarterly,
                "12:07:00",
                failing(9, "12:00:00"),
                "16:00:00",
                "capped at four hours",
            ),
            (
                &quarterly,
                "12:07:00",
                failing(u32::MAX, "12:00:00"),
                "16:00:00",
                "no overflow",
            ),
            (
                &quarterly,
                "12:07:00",
                failing(2, "12:03:20"),
                "12:45:00",
                "rounded up to a cron time",
            ),
            (
                &secondly,
                "12:00:00",
                failing(3, "12:00:00"),
                "12:00:04",
                "a 1 s schedule waits 4 s after three",
            ),
            (
                &quarterly,
                "12:07:00",
                failing(0, "12:00:00"),
                "12:15:00",
                "zero failures is healthy",
            ),
        ];
        for (cron, now, failing, expected, why) in cases {
            assert_eq!(
                next_run(cron, &at(now), failing),
                Some(at(expected)),
                "{why}"
            );
        }
    }

    #[test]
    fn a_last_attempt_in_the_future_counts_as_now() {
        let now = at("12:07:00");
        let quarterly = cron("0 */15 * * * *");
        for last_attempt in [
            DateTime::<Utc>::MAX_UTC,
            at("12:00:00") + chrono::Duration::days(365 * 70),
        ] {
            let failing = Some(Failing {
                failures: 3,
                last_attempt,
            });
            // Three failures wait four quarters from now: 13:07, then the cron's 13:15.
            assert_eq!(
                next_run(&quarterly, &now, failing),
                Some(at("13:15:00")),
                "{last_attempt}"
            );
        }
    }

    #[test]
    fn next_run_is_computed_in_the_zone_it_is_given() {
        let daily = cron("0 0 6 * * *");
        let ulaanbaatar = chrono_tz::Asia::Ulaanbaatar;
        let now = at("12:00:00").with_timezone(&ulaanbaatar);
        let next = next_run(&daily, &now, None).expect("a next run");
        assert_eq!(
            next.with_timezone(&Utc),
            at("22:00:00"),
            "06:00 +08 is 22:00 UTC"
        );
    }
}
