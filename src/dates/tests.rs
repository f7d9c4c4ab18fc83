//! The recogniser on real dates, on text without one, and on dates outside the range.

use super::*;

/// Now: 2024-12-21 12:00 UTC = 20:00 in Ulaanbaatar.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 12, 21, 12, 0, 0)
        .single()
        .expect("now")
}

/// The recognition tables hold real dates from after `now()`, so their
/// range reaches ten years ahead; [`implausible_dates_are_unrecognised`]
/// tests the default range.
fn ctx(formats: &[String]) -> DateContext<'_> {
    DateContext {
        formats,
        tz: chrono_tz::Asia::Ulaanbaatar,
        now: now(),
        range: DateRange {
            max_future: std::time::Duration::from_secs(10 * 366 * 86_400),
            ..DateRange::default()
        },
    }
}

fn default_range() -> DateContext<'static> {
    DateContext {
        range: DateRange::default(),
        ..ctx(&[])
    }
}

fn check(input: &str, expected_utc: &str, relative: bool) {
    let parsed =
        parse_date(input, &ctx(&[])).unwrap_or_else(|| panic!("{input:?} was not recognised"));
    assert_eq!(parsed.at.to_rfc3339(), expected_utc, "for {input:?}");
    assert_eq!(parsed.relative, relative, "relative flag for {input:?}");
}

#[test]
fn recognises_real_world_dates() {
    // (input, expected instant in UTC); zone-less inputs are Asia/Ulaanbaatar (+08:00).
    let absolute = [
        // RFC 3339 / ISO 8601, from <time datetime> and meta tags.
        ("2024-12-20T14:05:00+08:00", "2024-12-20T06:05:00+00:00"),
        ("2019-11-01T03:27:09+00:00", "2019-11-01T03:27:09+00:00"),
        ("2024-12-20T14:05:00Z", "2024-12-20T14:05:00+00:00"),
        ("2024-12-20T14:05:00.123-05:00", "2024-12-20T19:05:00+00:00"),
        ("2025-10-03T09:15:00+0800", "2025-10-03T01:15:00+00:00"),
        ("2024-12-20 14:05", "2024-12-20T06:05:00+00:00"),
        ("2024-12-20 14:35:10", "2024-12-20T06:35:10+00:00"),
        (
            "Нийтэлсэн: 2026-09-12 18:29:50",
            "2026-09-12T10:29:50+00:00",
        ),
        // RFC 2822, from native feeds.
        (
            "Fri, 20 Dec 2024 14:05:00 +0800",
            "2024-12-20T06:05:00+00:00",
        ),
        ("Thu, 31 Oct 2019 23:27:09 GMT", "2019-10-31T23:27:09+00:00"),
        // Numeric dates.
        ("2024/12/20", "2024-12-19T16:00:00+00:00"),
        ("2024.12.20", "2024-12-19T16:00:00+00:00"),
        ("2025.10.02", "2025-10-01T16:00:00+00:00"),
        ("20.12.2024", "2024-12-19T16:00:00+00:00"),
        ("20-12-2024", "2024-12-19T16:00:00+00:00"),
        ("20/12/2024", "2024-12-19T16:00:00+00:00"),
        ("2024/12/20 09:30", "2024-12-20T01:30:00+00:00"),
        ("2022.09.29-ний өдөр", "2022-09-28T16:00:00+00:00"),
        ("/2025.01.28/", "2025-01-27T16:00:00+00:00"),
        ("1734652800", "2024-12-20T00:00:00+00:00"),
        // Labels.
        ("PUBLISHED:2024/12/20", "2024-12-19T16:00:00+00:00"),
        ("Published Date:2019-06-26", "2019-06-25T16:00:00+00:00"),
        ("НИЙТЭЛСЭН:2024/12/20", "2024-12-19T16:00:00+00:00"),
        // English month names.
        ("Dec 20, 2024", "2024-12-19T16:00:00+00:00"),
        ("December 20, 2024", "2024-12-19T16:00:00+00:00"),
        ("20 December 2024", "2024-12-19T16:00:00+00:00"),
        ("October 31, 2019", "2019-10-30T16:00:00+00:00"),
        (
            "August 27th, 2014 | Posted in Politics",
            "2014-08-26T16:00:00+00:00",
        ),
        // Mongolia kept summer time (+09:00) in 2015-16: the zone database knows.
        ("Jul 22, 2016 |", "2016-07-21T15:00:00+00:00"),
        (
            "Jane Doe | Min-ho Lee July 23, 2024",
            "2024-07-22T16:00:00+00:00",
        ),
        ("Sept. 5, 2024 at 2:30 pm", "2024-09-05T06:30:00+00:00"),
        ("5th of March 2023", "2023-03-04T16:00:00+00:00"),
        ("Nov 17", "2024-11-16T16:00:00+00:00"),
        // Mongolian month forms.
        ("12 сарын 20", "2024-12-19T16:00:00+00:00"),
        ("2024 оны 12 дугаар сарын 20", "2024-12-19T16:00:00+00:00"),
        (
            "2024 оны арванхоёрдугаар сарын 20-ны өдөр",
            "2024-12-19T16:00:00+00:00",
        ),
        (
            "2024 оны арван хоёрдугаар сарын 20",
            "2024-12-19T16:00:00+00:00",
        ),
        (
            "Улаанбаатар, 2026 оны есдүгээр сарын 7 /МОНЦАМЭ/.",
            "2026-09-06T16:00:00+00:00",
        ),
        (
            "2021 оны 9-р сарын 13 13 цаг 52 минут",
            "2021-09-13T05:52:00+00:00",
        ),
        ("2025 оны зургаадугаар сарын 3", "2025-06-02T16:00:00+00:00"),
        ("2025 оны зургадугаар сарын 3", "2025-06-02T16:00:00+00:00"),
        ("2025 оны долоодугаар сарын 15", "2025-07-14T16:00:00+00:00"),
        ("2025 оны долдугаар сарын 15", "2025-07-14T16:00:00+00:00"),
        ("2023 оны нэгдүгээр сарын 2", "2023-01-01T16:00:00+00:00"),
        (
            "2024 оны арван нэгдүгээр сарын 30",
            "2024-11-29T16:00:00+00:00",
        ),
        ("2024 оны 1-р сарын 5", "2024-01-04T16:00:00+00:00"),
    ];
    for (input, expected) in absolute {
        check(input, expected, false);
    }
    let relative = [
        ("5 minutes ago", "2024-12-21T11:55:00+00:00"),
        ("an hour ago", "2024-12-21T11:00:00+00:00"),
        ("3 days ago", "2024-12-18T12:00:00+00:00"),
        ("2 цагийн өмнө", "2024-12-21T10:00:00+00:00"),
        ("3 өдрийн өмнө", "2024-12-18T12:00:00+00:00"),
        ("15 минутын өмнө", "2024-12-21T11:45:00+00:00"),
        ("10 мин өмнө", "2024-12-21T11:50:00+00:00"),
        ("2 хоногийн өмнө", "2024-12-19T12:00:00+00:00"),
        ("1 долоо хоногийн өмнө", "2024-12-14T12:00:00+00:00"),
        ("өчигдөр", "2024-12-20T04:00:00+00:00"),
        ("Өчигдөр 14:05", "2024-12-20T06:05:00+00:00"),
        ("yesterday at 9:00 am", "2024-12-20T01:00:00+00:00"),
        ("Дөнгөж сая", "2024-12-21T12:00:00+00:00"),
        ("өнөөдөр 08:30", "2024-12-21T00:30:00+00:00"),
    ];
    for (input, expected) in relative {
        check(input, expected, true);
    }
    assert!(absolute.len() + relative.len() >= 40);
}

#[test]
fn a_sentence_with_a_day_word_is_no_date() {
    let now = Utc
        .with_ymd_and_hms(2024, 12, 21, 12, 0, 0)
        .single()
        .expect("valid time");
    let ctx = DateContext::plain(now);
    for sentence in [
        "Маргааш нутгийн зүүн хагаст бороо орно",
        "Today's Paper",
        "Today, we're excited to announce our new release",
        "Өнөөдөр УИХ-ын чуулган хуралдана",
        "Өчигдөр цагдаа нар шалгалт хийлээ",
        "Нийслэлд өнөөдөр",
    ] {
        assert_eq!(parse_date(sentence, &ctx), None, "{sentence}");
    }
    for date in [
        "Нийтэлсэн: Өчигдөр 14:05",
        "Today at 10:30 AM",
        "өчигдөр орой",
        "Yesterday, 9:00 pm",
        "уржигдар 09 цаг 30 мин",
        "Yesterday at 3pm",
        "Өчигдөр 14:05-д",
        "Өнөөдөр 14:05 | Спорт",
        "Posted yesterday",
    ] {
        assert!(parse_date(date, &ctx).is_some(), "{date}");
    }
}

#[test]
fn rejects_text_without_a_date() {
    for input in [
        "",
        "Read more",
        "Улс төр",
        "03/04/2024",
        "2024.13.45",
        "NK PRO",
    ] {
        assert_eq!(parse_date(input, &ctx(&[])), None, "for {input:?}");
    }
}

/// Found by reading the relative-date code while fuzzing: these used to
/// overflow chrono's range and panic, taking the whole cycle down.
#[test]
fn absurd_relative_amounts_never_panic() {
    assert_eq!(parse_date("2000000 years ago", &ctx(&[])), None);
    assert_eq!(parse_date("99999999 сарын өмнө", &ctx(&[])), None);
    let far = recognise("200000 жилийн дараа", &ctx(&[])).expect("representable");
    assert!(far.at.year() > 200_000, "recognised as given");
    assert_eq!(
        parse_date("200000 жилийн дараа", &ctx(&[])),
        None,
        "but far outside the range"
    );
}

/// Issue 13: a year-0 date panicked in rendering and took every feed down.
#[test]
fn implausible_dates_are_unrecognised() {
    let ctx = default_range();
    for input in [
        "0000-01-01",
        "0000.01.01",
        "Jan 1, 0000",
        "0000 оны 1 сарын 1",
        "3000 years ago",
        "0000-01-01T00:00:00+05:00",
        "1969-12-31T23:59:59Z",
        "9999-12-31",
        "9999-12-31T23:59:59Z",
        "Dec 31, 9999",
        "2 долоо хоногийн дараа",
        "2024-12-22T12:00:01Z",
        "маргааш 23:00",
    ] {
        assert!(
            recognise(input, &ctx).is_some(),
            "{input:?} is a date the recogniser reads"
        );
        assert_eq!(parse_date(input, &ctx), None, "for {input:?}");
    }
    assert_eq!(parse_date("in 2 weeks", &ctx), None, "not a shape it knows");
}

#[test]
fn dates_at_the_edges_of_the_range_are_kept() {
    let ctx = default_range();
    for (input, expected) in [
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00+00:00"),
        ("0000000000", "1970-01-01T00:00:00+00:00"),
        ("2024-12-22T12:00:00Z", "2024-12-22T12:00:00+00:00"),
        ("2024-12-22 15:00", "2024-12-22T07:00:00+00:00"),
        ("маргааш", "2024-12-22T04:00:00+00:00"),
        ("12 цагийн дараа", "2024-12-22T00:00:00+00:00"),
    ] {
        let parsed = parse_date(input, &ctx).unwrap_or_else(|| panic!("{input:?} is kept"));
        assert_eq!(parsed.at.to_rfc3339(), expected, "for {input:?}");
    }
}

#[test]
fn the_range_is_the_configured_one() {
    let ctx = DateContext {
        range: DateRange {
            oldest: Utc
                .with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
                .single()
                .expect("date"),
            max_future: std::time::Duration::ZERO,
        },
        ..ctx(&[])
    };
    assert_eq!(parse_date("1999-12-31T23:59:59Z", &ctx), None);
    assert!(parse_date("2000-01-01T00:00:00Z", &ctx).is_some());
    assert!(parse_date("2024-12-21T12:00:00Z", &ctx).is_some());
    assert_eq!(parse_date("2024-12-21T12:00:01Z", &ctx), None);
    assert_eq!(parse_date("маргааш", &ctx), None);
}

#[test]
fn configured_formats_come_first() {
    let formats = vec!["%d/%m/%Y %H:%M".to_string()];
    let parsed = parse_date("03/04/2024 10:00", &ctx(&formats)).expect("parsed");
    assert_eq!(parsed.at.to_rfc3339(), "2024-04-03T02:00:00+00:00");
    let formats = vec!["%Y.%m.%d %H:%M".to_string()];
    let parsed = parse_date("PUBLISHED: 2024.12.20 14:05", &ctx(&formats)).expect("parsed");
    assert_eq!(parsed.at.to_rfc3339(), "2024-12-20T06:05:00+00:00");
}

#[test]
fn european_month_names_are_read() {
    let day = |text: &str| {
        parse_date(text, &ctx(&[]))
            .map(|d| {
                d.at.with_timezone(&chrono_tz::Asia::Ulaanbaatar)
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .unwrap_or_default()
    };
    assert_eq!(day("Datum: 26. Januar 2022"), "2022-01-26");
    assert_eq!(day("Dienstag, 01. Februar 2022 12:10"), "2022-02-01");
    assert_eq!(day("le 1er mars 2020"), "2020-03-01");
    assert_eq!(day("3 de mayo de 2020"), "2020-05-03");
    assert_eq!(day("12 marzo 2021"), "2021-03-12");
    assert_eq!(day("7. Jänner 2018"), "2018-01-07");
    assert_eq!(day("01. November 2021 | Naturschutz"), "2021-11-01");
    assert_eq!(day("Mai 2024"), "", "a month without a day is no date");
}

#[test]
fn a_bare_age_or_time_of_day_alone_is_a_listing_date() {
    // now() is 2024-12-21 20:00 in Ulaanbaatar.
    check("58 мин", "2024-12-21T11:02:00+00:00", true);
    check("1 цаг 55 мин", "2024-12-21T10:05:00+00:00", true);
    check("3 цаг", "2024-12-21T09:00:00+00:00", true);
    check("14:58", "2024-12-21T06:58:00+00:00", true);
    // More than an hour ahead of now: yesterday's.
    check("23:15", "2024-12-20T15:15:00+00:00", true);
    check("Уржигдар 17 цаг 51 мин", "2024-12-19T09:51:00+00:00", true);
    for prose in [
        "2 цаг үргэлжилнэ",
        "Хурал 3 цаг болно",
        "мин",
        "14:58 цагт эхэлнэ",
        "25:70",
    ] {
        assert!(parse_date(prose, &ctx(&[])).is_none(), "{prose:?}");
    }
}

#[test]
fn a_written_offset_is_kept_so_the_pages_own_day_survives() {
    let as_written = |text: &str| {
        parse_date(text, &ctx(&[]))
            .map(|d| d.as_written(chrono_tz::Asia::Ulaanbaatar).to_rfc3339())
            .unwrap_or_default()
    };
    // 23:30 at -05:00 is the next day in UTC; the page's day is the 20th.
    assert_eq!(
        as_written("Fri, 20 Dec 2024 23:30:00 -0500"),
        "2024-12-20T23:30:00-05:00"
    );
    assert_eq!(
        as_written("Published: 2024-12-20T23:30:00-05:00"),
        "2024-12-20T23:30:00-05:00"
    );
    assert_eq!(
        as_written("2024-12-20T23:30:00Z"),
        "2024-12-20T23:30:00+00:00"
    );
    // Without an offset the source's zone is the page's.
    assert_eq!(as_written("2024-12-20 23:30"), "2024-12-20T23:30:00+08:00");
}

#[test]
fn chinese_japanese_and_korean_dates_are_read() {
    for (text, day) in [
        ("2020年07月03日 12:30", "2020-07-03T12:30:00+08:00"),
        ("投稿日 2020年7月3日", "2020-07-03T00:00:00+08:00"),
        ("2020년 7월 3일", "2020-07-03T00:00:00+08:00"),
    ] {
        let parsed =
            parse_date(text, &ctx(&[])).map(|d| d.as_written(chrono_tz::Asia::Ulaanbaatar));
        assert_eq!(
            parsed.map(|d| d.to_rfc3339()).as_deref(),
            Some(day),
            "{text}"
        );
    }
}

#[test]
fn a_month_name_before_the_day_and_a_two_digit_year_are_read() {
    let day = |text: &str| {
        parse_date(text, &ctx(&[])).map(|d| {
            d.as_written(chrono_tz::Asia::Ulaanbaatar)
                .format("%Y-%m-%d")
                .to_string()
        })
    };
    assert_eq!(day("Juli 12, 2017").as_deref(), Some("2017-07-12"));
    assert_eq!(
        day("Do 25.04.24 | 14:07 Uhr").as_deref(),
        Some("2024-04-25")
    );
    assert_eq!(day("Version 1.2.24.5"), None);
    assert_eq!(day("192.168.10.12"), None);
    assert_eq!(day("medee v2.1.24"), None);
}
