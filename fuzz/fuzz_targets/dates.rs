//! Arbitrary text through the date recogniser, with and without custom formats:
//! it must never panic, and a date it returns must lie in the plausible range
//! (from 1970 to a day after `now`), whatever the text claims.
#![no_main]

use chrono::{Duration, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use medee::config::DateRange;
use medee::dates::{DateContext, parse_date};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let now = Utc
        .with_ymd_and_hms(2024, 12, 21, 12, 0, 0)
        .single()
        .expect("static time");
    let formats = ["%Y.%m.%d %H:%M".to_string(), "%B %d, %Y".to_string()];
    for formats in [&[][..], &formats[..]] {
        let ctx = DateContext {
            formats,
            tz: chrono_tz::Asia::Ulaanbaatar,
            now,
            range: DateRange::default(),
        };
        if let Some(date) = parse_date(&text, &ctx) {
            assert!(date.at >= chrono::DateTime::UNIX_EPOCH, "{text:?}: {date:?}");
            assert!(date.at <= now + Duration::days(1), "{text:?}: {date:?}");
        }
    }
});
