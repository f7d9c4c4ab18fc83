//! Date recognition for the text news sites print next to headlines.
//!
//! Sites print dates in every shape: RFC 3339 in attributes, `2024.12.20` in
//! Mongolian listings, `Dec 20, 2024` in English ones, `2024 оны 12 дугаар
//! сарын 20` in prose, `2 цагийн өмнө` on gogo.mn. The recogniser searches the
//! text for the first shape it knows rather than demanding an exact match, so
//! labels such as `PUBLISHED:` or `НИЙТЭЛСЭН:` and suffixes such as `-ны өдөр`
//! need no configuration. Dates without an offset are read in the source's
//! time zone; relative dates are computed from the injected `now`.
//!
//! A page can print any date, `0000-01-01` or `9999-12-31` as well as today:
//! a date outside the source's plausible range (by default from 1970 to one
//! day after the fetch) is treated as unrecognised, so it is never stored.

use std::sync::LazyLock;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;
use regex::{Captures, Regex};

use crate::config::DateRange;

/// How medee shows a time to people (status, notices, repair diffs): to the
/// minute, in UTC, saying so.
pub const SHOWN_UTC: &str = "%Y-%m-%d %H:%M UTC";

/// What the recogniser needs besides the text.
#[derive(Debug, Clone, Copy)]
pub struct DateContext<'a> {
    /// chrono formats from `date_format`, tried before the built-in shapes.
    pub formats: &'a [String],
    /// Zone for dates that carry no offset.
    pub tz: Tz,
    /// The moment relative dates count back from: the fetch time.
    pub now: DateTime<Utc>,
    /// Dates outside this range around `now` are not recognised.
    pub range: DateRange,
}

impl DateContext<'_> {
    /// No configured formats, zone-less dates read as UTC: for pages whose
    /// source is not configured yet (`suggest`), where only "is this a date" matters.
    pub fn plain(now: DateTime<Utc>) -> Self {
        DateContext {
            formats: &[],
            tz: Tz::UTC,
            now,
            range: DateRange::default(),
        }
    }

    /// Whether `at` lies in the plausible range: not before `range.oldest`,
    /// not more than `range.max_future` after `now`.
    fn is_plausible(&self, at: DateTime<Utc>) -> bool {
        let latest = Duration::from_std(self.range.max_future)
            .ok()
            .and_then(|ahead| self.now.checked_add_signed(ahead))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.range.oldest <= at && at <= latest
    }
}

/// A recognised date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedDate {
    /// The instant, in UTC.
    pub at: DateTime<Utc>,
    /// True for "2 hours ago" and the like: such a date drifts on every fetch,
    /// so the store keeps the first one it saw.
    pub relative: bool,
    /// The UTC offset the text wrote (`+08:00`, `Z`), when it wrote one: the
    /// page's own calendar day is the day at this offset, which the UTC
    /// instant alone loses (`23:30 -05:00` is the next day in UTC).
    pub offset: Option<FixedOffset>,
}

impl ParsedDate {
    fn absolute(at: DateTime<Utc>) -> Self {
        Self {
            at,
            relative: false,
            offset: None,
        }
    }

    fn relative(at: DateTime<Utc>) -> Self {
        Self {
            at,
            relative: true,
            offset: None,
        }
    }

    /// A date whose text gave its offset.
    fn written(at: DateTime<FixedOffset>) -> Self {
        Self {
            at: at.with_timezone(&Utc),
            relative: false,
            offset: Some(*at.offset()),
        }
    }

    /// The date as the page wrote it: at its own offset when it gave one,
    /// else in `tz` (the zone zone-less dates were read in).
    pub fn as_written(&self, tz: Tz) -> DateTime<FixedOffset> {
        match self.offset {
            Some(offset) => self.at.with_timezone(&offset),
            None => self.at.with_timezone(&tz).fixed_offset(),
        }
    }
}

/// Recognises a date in `text`, or `None` when no known shape is found or
/// the date found lies outside `ctx.range`.
pub fn parse_date(text: &str, ctx: &DateContext<'_>) -> Option<ParsedDate> {
    recognise(text, ctx).filter(|d| ctx.is_plausible(d.at))
}

fn recognise(text: &str, ctx: &DateContext<'_>) -> Option<ParsedDate> {
    let text = crate::sanitize::collapse_whitespace(text);
    if text.is_empty() {
        return None;
    }
    let unlabelled = strip_label(&text);
    if let Some(date) = ctx.formats.iter().find_map(|f| {
        parse_with_format(&text, f, ctx.tz).or_else(|| parse_with_format(unlabelled, f, ctx.tz))
    }) {
        return Some(date);
    }
    if let Some(date) = parse_epoch(unlabelled)
        .map(ParsedDate::absolute)
        .or_else(|| parse_iso(unlabelled, ctx.tz))
    {
        return Some(date);
    }
    // Without a letter only numeric shapes can match: the word-based
    // recognisers (and the cost of compiling their patterns) are skipped.
    if !text.chars().any(char::is_alphabetic) {
        return parse_numeric(&text, ctx.tz)
            .map(ParsedDate::absolute)
            .or_else(|| parse_time_of_day(&text, ctx));
    }
    parse_rfc2822(unlabelled)
        .or_else(|| parse_relative(&text, ctx))
        .or_else(|| parse_bare_age(&text, ctx))
        .or_else(|| {
            parse_mongolian(&text, ctx)
                .or_else(|| parse_english_months(&text, ctx))
                .or_else(|| parse_european_months(&text, ctx))
                .or_else(|| parse_cjk(&text, ctx.tz))
                .or_else(|| parse_numeric(&text, ctx.tz))
                .map(ParsedDate::absolute)
        })
}

/// Drops a leading `Label:` (letters only, no digits) such as `PUBLISHED:`.
fn strip_label(text: &str) -> &str {
    match text.split_once(':') {
        Some((label, rest))
            if !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_alphabetic() || c == ' ' || c == '.') =>
        {
            rest.trim()
        }
        _ => text,
    }
}

fn parse_with_format(text: &str, format: &str, tz: Tz) -> Option<ParsedDate> {
    if let Ok(at) = DateTime::parse_from_str(text, format) {
        return Some(ParsedDate::written(at));
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
        return local(naive, tz).map(ParsedDate::absolute);
    }
    NaiveDate::parse_from_str(text, format)
        .ok()
        .and_then(|d| local(d.and_time(NaiveTime::MIN), tz))
        .map(ParsedDate::absolute)
}

/// Reads a wall-clock time in `tz`; in a DST gap the earliest valid reading wins.
fn local(naive: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            naive
                .checked_add_signed(Duration::hours(1))
                .and_then(|later| tz.from_local_datetime(&later).earliest())
        })
        .map(|d| d.with_timezone(&Utc))
}

fn parse_epoch(text: &str) -> Option<DateTime<Utc>> {
    if text.len() == 10 && text.bytes().all(|b| b.is_ascii_digit()) {
        return DateTime::from_timestamp(text.parse().ok()?, 0);
    }
    None
}

static ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,][0-9]+)?)?\s*(Z|UTC|GMT|[+-][0-9]{2}:?[0-9]{2})?",
    )
    .expect("valid ISO regex")
});

fn parse_iso(text: &str, tz: Tz) -> Option<ParsedDate> {
    let c = ISO.captures(text)?;
    let date = ymd(num(&c, 1)?, num(&c, 2)?, num(&c, 3)?)?;
    let time = NaiveTime::from_hms_opt(num(&c, 4)?, num(&c, 5)?, num(&c, 6).unwrap_or(0))?;
    let naive = date.and_time(time);
    match c.get(7).map(|m| m.as_str().to_ascii_uppercase()) {
        None => local(naive, tz).map(ParsedDate::absolute),
        Some(zone) if matches!(zone.as_str(), "Z" | "UTC" | "GMT") => {
            Some(ParsedDate::written(naive.and_utc().fixed_offset()))
        }
        Some(offset) => {
            let digits: String = offset.chars().filter(char::is_ascii_digit).collect();
            let hours: i32 = digits.get(..2)?.parse().ok()?;
            let minutes: i32 = digits.get(2..4)?.parse().ok()?;
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let zone = FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))?;
            zone.from_local_datetime(&naive)
                .single()
                .map(ParsedDate::written)
        }
    }
}

fn parse_rfc2822(text: &str) -> Option<ParsedDate> {
    DateTime::parse_from_rfc2822(text)
        .ok()
        .map(ParsedDate::written)
}

static EN_AGO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)([0-9]+|an?|one)\s*(seconds?|secs?|minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|wks?|months?|years?|yrs?)\s+ago(?-u:\b)",
    )
    .expect("valid English relative regex")
});

static MN_AGO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)([0-9]+|хэдхэн)\s*(секундын|секунд|сек|минутын|минут|мин|цагийн|цаг|ц|долоо\s*хоногийн|өдрийн|өдөр|хоногийн|хоног|сарын|жилийн)\s+(өмнө|дараа)",
    )
    .expect("valid Mongolian relative regex")
});

static DAY_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(just now|moments? ago|дөнгөж сая|саяхан|өнгөрсөн долоо хоног|last week|yesterday|өчигдөр|уржигдар|today|өнөөдөр|tomorrow|маргааш)",
    )
    .expect("valid day-word regex")
});

/// What may follow a day word in a date: times with their case suffix or
/// meridiem (`14:05-д`, `3pm`), "at", the parts of a time, morning and evening.
static DAY_FILLER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)[0-9]+(?:[:.][0-9]+)*\s*-?\s*(?:[ap]\.?m\.?|\p{L}{1,3}\b)?|\b(?:at|um|à|в|am|pm|a\.m\.|p\.m\.|үө|үх|цаг\p{L}*|мин\p{L}*|орой|өглөө|үдээс|өмнө|хойш)\b",
    )
    .expect("valid day filler regex")
});

/// Words that may stand before a day word without a colon ("Posted yesterday").
static DAY_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:posted|published|updated|нийтэлсэн|нийтлэгдсэн|огноо)$")
        .expect("valid day label regex")
});

/// Whether a text is a date built on the day word at `word` ("Өчигдөр
/// 14:05", "Posted yesterday at 3pm", "Өнөөдөр 14:05 | Спорт") rather than a
/// sentence that uses it ("Маргааш нутгийн зүүн хагаст бороо орно",
/// "Today's Paper"): before it at most a label, after it (up to a `|`, `·`
/// or `•` that starts another field) only a time and its filler words.
fn is_only_a_day(text: &str, word: std::ops::Range<usize>) -> bool {
    let before = strip_label(text[..word.start].trim());
    let after = text[word.end..]
        .split(['|', '·', '•'])
        .next()
        .unwrap_or_default();
    let after = DAY_FILLER.replace_all(after, " ");
    (before.is_empty() || DAY_LABEL.is_match(before)) && !after.chars().any(char::is_alphabetic)
}

/// "5 minutes ago", "2 цагийн өмнө", "өчигдөр 14:05", "уржигдар 09 цаг 30 мин"
/// (the day before yesterday), "just now".
fn parse_relative(text: &str, ctx: &DateContext<'_>) -> Option<ParsedDate> {
    let relative = |at| Some(ParsedDate::relative(at));
    // Checked arithmetic: "2000000 years ago" is text, not a reason to panic.
    if let Some(c) = EN_AGO.captures(text) {
        return relative(
            ctx.now
                .checked_sub_signed(unit_duration(&c[2], amount(&c[1])?)?)?,
        );
    }
    if let Some(c) = MN_AGO.captures(text) {
        let span = unit_duration(&c[2], amount(&c[1])?)?;
        let future = c[3].to_lowercase() == "дараа";
        let at = if future {
            ctx.now.checked_add_signed(span)
        } else {
            ctx.now.checked_sub_signed(span)
        };
        return relative(at?);
    }
    let day_word = DAY_WORD.find(text)?;
    if !is_only_a_day(text, day_word.range()) {
        return None;
    }
    let word = day_word.as_str().to_lowercase();
    let days_back = match word.as_str() {
        "just now" | "moment ago" | "moments ago" | "дөнгөж сая" | "саяхан" => {
            return relative(ctx.now);
        }
        "өнгөрсөн долоо хоног" | "last week" => {
            return relative(ctx.now - Duration::weeks(1));
        }
        "yesterday" | "өчигдөр" => 1,
        "уржигдар" => 2,
        "tomorrow" | "маргааш" => -1,
        _ => 0,
    };
    let today = ctx.now.with_timezone(&ctx.tz).date_naive();
    let day = today - Duration::days(days_back);
    match find_time(text) {
        Some(time) => relative(local(day.and_time(time), ctx.tz)?),
        None if days_back == 0 => relative(ctx.now),
        None => relative(local(
            day.and_time(NaiveTime::from_hms_opt(12, 0, 0)?),
            ctx.tz,
        )?),
    }
}

static BARE_AGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:([0-9]{1,2})\s*(?:цаг|ц)\.?\s*)?(?:([0-9]{1,2})\s*(?:минут|мин)\.?)?$")
        .expect("valid bare age regex")
});

/// A listing's age field on its own, without "өмнө" (ago): `58 мин`,
/// `1 цаг 55 мин`, `3 цаг` (24tsag.mn). Only the whole field counts: in
/// prose "2 цаг" is a duration, not a date.
fn parse_bare_age(text: &str, ctx: &DateContext<'_>) -> Option<ParsedDate> {
    let c = BARE_AGE.captures(text.trim())?;
    if c.get(1).is_none() && c.get(2).is_none() {
        return None;
    }
    let part = |i: usize| c.get(i).map_or(Some(0), |m| m.as_str().parse::<i64>().ok());
    let age = Duration::hours(part(1)?) + Duration::minutes(part(2)?);
    Some(ParsedDate::relative(ctx.now.checked_sub_signed(age)?))
}

static TIME_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([0-9]{1,2}):([0-9]{2})$").expect("valid time-of-day regex"));

/// A time of day alone (`14:58`), as a "latest" list shows today's items:
/// today at that time in the source's zone, or yesterday when that lies
/// more than an hour ahead (a list read just after midnight).
fn parse_time_of_day(text: &str, ctx: &DateContext<'_>) -> Option<ParsedDate> {
    let c = TIME_ONLY.captures(text.trim())?;
    let time = NaiveTime::from_hms_opt(c[1].parse().ok()?, c[2].parse().ok()?, 0)?;
    let today = ctx.now.with_timezone(&ctx.tz).date_naive();
    let at = local(today.and_time(time), ctx.tz)?;
    let at = if at > ctx.now + Duration::hours(1) {
        local((today - Duration::days(1)).and_time(time), ctx.tz)?
    } else {
        at
    };
    Some(ParsedDate::relative(at))
}

fn amount(text: &str) -> Option<i64> {
    match text.to_lowercase().as_str() {
        "a" | "an" | "one" => Some(1),
        "хэдхэн" => Some(5),
        digits => digits.parse().ok(),
    }
}

fn unit_duration(unit: &str, n: i64) -> Option<Duration> {
    let unit = unit.to_lowercase();
    let one = if unit.starts_with("сек") || unit.starts_with("sec") {
        Duration::seconds(1)
    } else if unit.starts_with("мин") || unit.starts_with("min") {
        Duration::minutes(1)
    } else if unit.starts_with('ц') || unit.starts_with('h') {
        Duration::hours(1)
    } else if unit.starts_with("долоо") || unit.starts_with('w') {
        Duration::weeks(1)
    } else if unit.starts_with('ө') || unit.starts_with("хоног") || unit.starts_with('d') {
        Duration::days(1)
    } else if unit.starts_with("сар") || unit.starts_with("mo") {
        Duration::days(30)
    } else if unit.starts_with('ж') || unit.starts_with('y') {
        Duration::days(365)
    } else {
        return None;
    };
    one.checked_mul(i32::try_from(n).ok()?)
}

static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[^0-9:])([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?(?:\s*(a\.?m\.?|p\.?m\.?|үө|үх)(?:[^\p{L}]|$))?|([0-9]{1,2})\s*цаг\s*([0-9]{1,2})\s*мин",
    )
    .expect("valid time regex")
});

/// A wall-clock time anywhere in the text: `14:05`, `2:30 pm`, `13 цаг 52 минут`.
fn find_time(text: &str) -> Option<NaiveTime> {
    let c = TIME.captures(text)?;
    if c.get(5).is_some() {
        return NaiveTime::from_hms_opt(num(&c, 5)?, num(&c, 6)?, 0);
    }
    let mut hour = num(&c, 1)?;
    if let Some(meridiem) = c.get(4).map(|m| m.as_str().to_lowercase()) {
        let pm = meridiem.starts_with('p') || meridiem == "үх";
        hour = match (hour, pm) {
            (12, false) => 0,
            (h, true) if h < 12 => h + 12,
            (h, _) => h,
        };
    }
    NaiveTime::from_hms_opt(hour, num(&c, 2)?, num(&c, 3).unwrap_or(0))
}

const MN_MONTH: &str = r"(?:([0-9]{1,2})\s*(?:-?\s*р|-?\s*д[уү]г[аэ]{2}р)?|(арван\s*нэг|арван\s*хоёр|нэг|хоёр|гурав|дөрөв|тав|зургаа|зурга|долоо|дол|найм|ес|арван|арав)\s*д[уү]г[аэ]{2}р)\s*сар(?:ын)?";

static MN_FULL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)([0-9]{{4}})\s*оны\s+{MN_MONTH}\s+([0-9]{{1,2}})"
    ))
    .expect("valid Mongolian date regex")
});

static MN_NO_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i){MN_MONTH}\s+([0-9]{{1,2}})")).expect("valid Mongolian date regex")
});

/// "2024 оны 12 дугаар сарын 20", "2024 оны арванхоёрдугаар сарын 20-ны өдөр", "12 сарын 20".
fn parse_mongolian(text: &str, ctx: &DateContext<'_>) -> Option<DateTime<Utc>> {
    if let Some(c) = MN_FULL.captures(text) {
        let month = mongolian_month(&c, 2)?;
        let date = ymd(num(&c, 1)?, month, num(&c, 4)?)?;
        return at_time(date, text, ctx.tz);
    }
    let c = MN_NO_YEAR.captures(text)?;
    let month = mongolian_month(&c, 1)?;
    let date = nearest_past(month, num(&c, 3)?, ctx)?;
    at_time(date, text, ctx.tz)
}

/// The month from either the numeric group `first` or the ordinal word group after it.
fn mongolian_month(c: &Captures<'_>, first: usize) -> Option<u32> {
    if let Some(n) = num(c, first) {
        return Some(n);
    }
    let word: String = c
        .get(first + 1)?
        .as_str()
        .to_lowercase()
        .split_whitespace()
        .collect();
    Some(match word.as_str() {
        "нэг" => 1,
        "хоёр" => 2,
        "гурав" => 3,
        "дөрөв" => 4,
        "тав" => 5,
        "зургаа" | "зурга" => 6,
        "долоо" | "дол" => 7,
        "найм" => 8,
        "ес" => 9,
        "арав" | "арван" => 10,
        "арваннэг" => 11,
        "арванхоёр" => 12,
        _ => return None,
    })
}

const EN_MONTH: &str = r"(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?";

static EN_MDY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?-u:\b){EN_MONTH}\s+([0-9]{{1,2}})(?:st|nd|rd|th)?,?\s*([0-9]{{4}})(?-u:\b)"
    ))
    .expect("valid English date regex")
});

static EN_DMY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?-u:\b)([0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{EN_MONTH},?\s+([0-9]{{4}})(?-u:\b)"
    ))
    .expect("valid English date regex")
});

static EN_MD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?-u:\b){EN_MONTH}\s+([0-9]{{1,2}})(?:st|nd|rd|th)?(?-u:\b)"
    ))
    .expect("valid English date regex")
});

/// "Dec 20, 2024", "December 20th 2024", "20 December 2024", "Nov 17".
fn parse_english_months(text: &str, ctx: &DateContext<'_>) -> Option<DateTime<Utc>> {
    let date = if let Some(c) = EN_MDY.captures(text) {
        ymd(num(&c, 3)?, english_month(&c[1])?, num(&c, 2)?)?
    } else if let Some(c) = EN_DMY.captures(text) {
        ymd(num(&c, 3)?, english_month(&c[2])?, num(&c, 1)?)?
    } else {
        let c = EN_MD.captures(text)?;
        nearest_past(english_month(&c[1])?, num(&c, 2)?, ctx)?
    };
    at_time(date, text, ctx.tz)
}

fn english_month(name: &str) -> Option<u32> {
    let prefix: String = name.to_lowercase().chars().take(3).collect();
    let index = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| *m == prefix)?;
    u32::try_from(index + 1).ok()
}

/// Month names of the languages article pages are most often written in
/// besides English (German, French, Spanish, Italian, Portuguese, Dutch),
/// with their usual abbreviations.
const EUROPEAN_MONTHS: &[(&str, u32)] = &[
    ("januar", 1),
    ("jänner", 1),
    ("janvier", 1),
    ("janv", 1),
    ("enero", 1),
    ("gennaio", 1),
    ("janeiro", 1),
    ("januari", 1),
    ("februar", 2),
    ("feber", 2),
    ("février", 2),
    ("fevrier", 2),
    ("févr", 2),
    ("febrero", 2),
    ("febbraio", 2),
    ("fevereiro", 2),
    ("februari", 2),
    ("märz", 3),
    ("mär", 3),
    ("mars", 3),
    ("marzo", 3),
    ("março", 3),
    ("maart", 3),
    ("avril", 4),
    ("avr", 4),
    ("abril", 4),
    ("aprile", 4),
    ("mai", 5),
    ("mayo", 5),
    ("maggio", 5),
    ("maio", 5),
    ("mei", 5),
    ("juni", 6),
    ("juin", 6),
    ("junio", 6),
    ("giugno", 6),
    ("junho", 6),
    ("juli", 7),
    ("juillet", 7),
    ("juil", 7),
    ("julio", 7),
    ("luglio", 7),
    ("julho", 7),
    ("août", 8),
    ("aout", 8),
    ("agosto", 8),
    ("augustus", 8),
    ("septembre", 9),
    ("septiembre", 9),
    ("setiembre", 9),
    ("settembre", 9),
    ("setembro", 9),
    ("oktober", 10),
    ("okt", 10),
    ("octobre", 10),
    ("octubre", 10),
    ("ottobre", 10),
    ("outubro", 10),
    ("novembre", 11),
    ("noviembre", 11),
    ("novembro", 11),
    ("dezember", 12),
    ("dez", 12),
    ("décembre", 12),
    ("decembre", 12),
    ("déc", 12),
    ("diciembre", 12),
    ("dicembre", 12),
    ("dezembro", 12),
    // Spelled as in English, but written "1. April 2024" in German.
    ("april", 4),
    ("august", 8),
    ("september", 9),
    ("november", 11),
    ("december", 12),
];

/// [`EUROPEAN_MONTHS`] as a regex alternation, longest names first (so
/// "marzo" is not read as "mar").
fn european_month_names() -> String {
    let mut names: Vec<&str> = EUROPEAN_MONTHS.iter().map(|(name, _)| *name).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.join("|")
}

/// "26. Januar 2022", "1er mars 2020", "3 de mayo de 2020", "12 marzo 2021".
static EU_DMY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b([0-9]{{1,2}})(?:\.|er|º)?\s*(?:de\s+)?({})\.?,?\s+(?:de\s+)?([0-9]{{4}})\b",
        european_month_names()
    ))
    .expect("valid European date regex")
});

/// "Juli 12, 2017": the month first, as WordPress's default "F j, Y" prints
/// it in every language; the comma is required.
static EU_MDY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b({})\.?\s+([0-9]{{1,2}}),\s*([0-9]{{4}})\b",
        european_month_names()
    ))
    .expect("valid European date regex")
});

fn parse_european_months(text: &str, ctx: &DateContext<'_>) -> Option<DateTime<Utc>> {
    let month_of = |name: &str| {
        let name = name.to_lowercase();
        EUROPEAN_MONTHS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| *m)
    };
    if let Some(c) = EU_DMY.captures(text) {
        return at_time(
            ymd(num(&c, 3)?, month_of(&c[2])?, num(&c, 1)?)?,
            text,
            ctx.tz,
        );
    }
    let c = EU_MDY.captures(text)?;
    at_time(
        ymd(num(&c, 3)?, month_of(&c[1])?, num(&c, 2)?)?,
        text,
        ctx.tz,
    )
}

static NUM_YMD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^0-9])([0-9]{4})([./-])([0-9]{1,2})([./-])([0-9]{1,2})(?:[^0-9]|$)")
        .expect("valid numeric date regex")
});

static CJK_YMD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([0-9]{4})\s*[年년]\s*([0-9]{1,2})\s*[月월]\s*([0-9]{1,2})\s*[日일]")
        .expect("valid CJK date regex")
});

/// "2020年07月03日" (Chinese, Japanese), "2020년 7월 3일" (Korean).
fn parse_cjk(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let c = CJK_YMD.captures(text)?;
    at_time(ymd(num(&c, 1)?, num(&c, 2)?, num(&c, 3)?)?, text, tz)
}

/// "25.04.24": a two-digit year (this century), dots only, as German sites
/// print it; not part of a longer dotted number (a version, an address).
static NUM_DMY_SHORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\p{L}0-9.])([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{2})(?:[^0-9.]|\.?$)")
        .expect("valid short numeric date regex")
});

static NUM_DMY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^0-9])([0-9]{1,2})([./-])([0-9]{1,2})([./-])([0-9]{4})(?:[^0-9]|$)")
        .expect("valid numeric date regex")
});

/// "2024.12.20", "2024/12/20 14:05", "20.12.2024", "20.12.24"; `nn/nn/yyyy`
/// only when the day cannot be mistaken for the month.
fn parse_numeric(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    if let Some(c) = NUM_YMD.captures(text).filter(|c| c[2] == c[4]) {
        return at_time(ymd(num(&c, 1)?, num(&c, 3)?, num(&c, 5)?)?, text, tz);
    }
    let Some(c) = NUM_DMY.captures(text).filter(|c| c[2] == c[4]) else {
        let c = NUM_DMY_SHORT.captures(text)?;
        return at_time(ymd(2000 + num(&c, 3)?, num(&c, 2)?, num(&c, 1)?)?, text, tz);
    };
    let (a, b, year) = (num(&c, 1)?, num(&c, 3)?, num(&c, 5)?);
    let (day, month) = match &c[2] {
        "/" if a <= 12 && b <= 12 => return None,
        "/" if b > 12 => (b, a),
        _ => (a, b),
    };
    at_time(ymd(year, month, day)?, text, tz)
}

fn at_time(date: NaiveDate, text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    local(date.and_time(find_time(text).unwrap_or(NaiveTime::MIN)), tz)
}

/// A year-less month and day: this year's, unless that is still ahead, then last year's.
fn nearest_past(month: u32, day: u32, ctx: &DateContext<'_>) -> Option<NaiveDate> {
    let today = ctx.now.with_timezone(&ctx.tz).date_naive();
    let this_year = NaiveDate::from_ymd_opt(today.year(), month, day);
    match this_year {
        Some(d) if d <= today + Duration::days(1) => Some(d),
        _ => NaiveDate::from_ymd_opt(today.year() - 1, month, day),
    }
}

fn ymd(year: u32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

fn num(c: &Captures<'_>, group: usize) -> Option<u32> {
    c.get(group)?.as_str().parse().ok()
}

#[cfg(test)]
mod tests;
