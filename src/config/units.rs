//! The small languages inside config values: durations, sizes, dates and id globs.
//! Each parser returns the message a user sees, so validation only adds the position.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// Parses `"500ms"`, `"30s"`, `"15m"`, `"2h"`, `"90d"`, `"1w"` or sums such as `"1h30m"`.
/// A total that does not fit a `Duration` is an error, never a panic.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || {
        format!(
            "invalid duration \"{text}\"; expected a number and a unit (ms, s, m, h, d, w), e.g. \"30s\" or \"90d\""
        )
    };
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let millis = match rest[..unit_len].trim() {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            _ => return Err(invalid()),
        };
        let term = Duration::from_millis(n.checked_mul(millis).ok_or_else(invalid)?);
        total = total.checked_add(term).ok_or_else(invalid)?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Writes a duration the way a config would: in the largest unit that divides it
/// (`"1h"`, `"365d"`, `"1500ms"`), so that a message's bound can be pasted back.
pub(super) fn format_duration(duration: Duration) -> String {
    const UNITS: [(&str, u128); 5] = [
        ("w", 604_800_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ];
    let millis = duration.as_millis();
    if millis == 0 {
        return "0s".to_string();
    }
    match UNITS.iter().find(|(_, size)| millis.is_multiple_of(*size)) {
        Some((unit, size)) => format!("{}{unit}", millis / size),
        None => format!("{millis}ms"),
    }
}

/// Writes a byte count in the largest binary unit that divides it (`"1GiB"`, `"16KiB"`).
pub(super) fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    UNITS
        .iter()
        .find(|(_, size)| bytes > 0 && bytes.is_multiple_of(*size))
        .map_or_else(
            || bytes.to_string(),
            |(unit, size)| format!("{}{unit}", bytes / size),
        )
}

/// Parses `"10MiB"`, `"512KiB"`, `"5MB"` or a plain byte count.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let invalid = || {
        format!(
            "invalid size \"{text}\"; expected a number and a unit (B, KB, KiB, MB, MiB, GB, GiB), e.g. \"10MiB\""
        )
    };
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let n: u64 = trimmed[..digits].parse().map_err(|_| invalid())?;
    let factor: u64 = match trimmed[digits..].trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "GiB" => 1 << 30,
        _ => return Err(invalid()),
    };
    n.checked_mul(factor).filter(|&n| n > 0).ok_or_else(invalid)
}

/// Parses a calendar date `"YYYY-MM-DD"` (year 0001 to 9999) as its midnight in UTC.
/// The four-digit year keeps every accepted date printable in RFC 2822 and RFC 3339.
pub(super) fn parse_date(text: &str) -> Result<DateTime<Utc>, String> {
    let invalid = || {
        format!("invalid date \"{text}\"; expected YYYY-MM-DD from 0001-01-01, e.g. \"1970-01-01\"")
    };
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(invalid());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|date| date.year() >= 1)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc())
        .ok_or_else(invalid)
}

/// Shell-style glob with `*` (any run) and `?` (one character).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_sizes_and_globs() {
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("512"), Ok(512));
        assert!(parse_size("lots").is_err());
        assert!(glob_match("montsame-*", "montsame-en"));
        assert!(glob_match("*", "x"));
        assert!(glob_match("g?go-*n", "gogo-mn"));
        assert!(!glob_match("montsame-*", "gogo-mn"));
    }

    #[test]
    fn a_duration_too_large_to_hold_is_an_error_not_a_panic() {
        let max_ms = u64::MAX.to_string() + "ms";
        assert!(parse_duration(&max_ms).is_ok(), "one term that fits");
        assert!(
            parse_duration(&max_ms.repeat(1_100)).is_err(),
            "a sum that does not"
        );
        assert!(
            parse_duration("100000000000000w").is_err(),
            "one term that does not"
        );
        assert_eq!(
            parse_duration("100000000w"),
            Ok(Duration::from_secs(100_000_000 * 604_800)),
            "large but representable: bounds are validation's business"
        );
    }

    #[test]
    fn written_durations_and_sizes_parse_back_to_themselves() {
        for (text, duration) in [
            ("0s", Duration::ZERO),
            ("1ms", Duration::from_millis(1)),
            ("1500ms", Duration::from_millis(1500)),
            ("90s", Duration::from_secs(90)),
            ("1h", Duration::from_secs(3600)),
            ("365d", Duration::from_secs(365 * 86_400)),
            ("2w", Duration::from_secs(14 * 86_400)),
        ] {
            assert_eq!(format_duration(duration), text);
            assert_eq!(parse_duration(text), Ok(duration));
        }
        for (text, bytes) in [("1GiB", 1 << 30), ("16KiB", 16 << 10), ("1000", 1000)] {
            assert_eq!(format_size(bytes), text);
            assert_eq!(parse_size(text), Ok(bytes));
        }
    }

    #[test]
    fn dates_are_four_digit_calendar_days_from_year_one() {
        let day = |text: &str| parse_date(text).map(|d| d.to_rfc3339());
        assert_eq!(
            day("1970-01-01"),
            Ok("1970-01-01T00:00:00+00:00".to_string())
        );
        assert_eq!(
            day("2024-02-29"),
            Ok("2024-02-29T00:00:00+00:00".to_string())
        );
        assert_eq!(
            day("0001-01-01"),
            Ok("0001-01-01T00:00:00+00:00".to_string())
        );
        for bad in [
            "0000-01-01",
            "2023-02-29",
            "2024-13-01",
            "+12024-01-01",
            "2024-1-1",
            "2024/01/01",
            "yesterday",
            "",
        ] {
            let message = parse_date(bad).expect_err(bad);
            assert!(message.contains(&format!("\"{bad}\"")), "{message}");
        }
    }
}
