//! Criterion benchmarks of each step of a cycle, on generated data:
//! extraction next to the parse floor on the same bytes, the date
//! recogniser, RSS/Atom rendering, and the store's upsert at two history
//! sizes (each new item also put into a story through the term index, with
//! a history spread over a year, so the 48-hour window holds a share of it).
//! Stored headlines are made-up words (see `headline`), and one new item per
//! source and cycle rewords another source's story. Run with `cargo bench --bench medee`; a filter picks a group, e.g.
//! `cargo bench --bench medee -- store`.
//!
//! The listing pages use the same markup as `benches/compare.py` (montsame's
//! cards, Cyrillic and English headlines, teasers, dates, background images
//! and page chrome), so figures here explain the end-to-end ones there.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use medee::config::Config;
use medee::dates::{DateContext, parse_date};
use medee::extract::ItemSelectors;
use medee::fetch::Validators;
use medee::render::{Channel, Entry};
use medee::store::{NewItem, SourceCycle, Store, StoredItem};
use scraper::{Html, Selector};
use url::Url;

const WORDS_MN: &[&str] = &[
    "Монгол",
    "Улсын",
    "Засгийн",
    "газар",
    "хурал",
    "экспорт",
    "нүүрс",
    "төсөв",
    "сонгууль",
    "хууль",
    "зам",
    "барилга",
    "эрүүл",
    "мэнд",
    "боловсрол",
    "Улаанбаатар",
    "уул",
    "уурхай",
    "малчид",
    "цаг",
    "агаар",
];
const WORDS_EN: &[&str] = &[
    "Mongolia",
    "government",
    "coal",
    "exports",
    "budget",
    "election",
    "law",
    "road",
    "health",
    "education",
    "Ulaanbaatar",
    "mining",
    "herders",
    "weather",
    "parliament",
    "copper",
    "railway",
];

/// A small deterministic generator (xorshift), so every run sees the same bytes.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn words(&mut self, pool: &[&str], min: usize, max: usize) -> String {
        let n = min + self.below(max - min + 1);
        let picked: Vec<&str> = (0..n).map(|_| pool[self.below(pool.len())]).collect();
        picked.join(" ")
    }
}

/// A listing page of `items` cards with ~100 KB of chrome around them.
fn listing_page(items: usize, seed: u64) -> String {
    let mut rng = Rng(seed * 2_654_435_761 + 1);
    let mut html = String::with_capacity(100_000 + items * 1_600);
    html.push_str("<!DOCTYPE html><html lang=\"mn\"><head><meta charset=\"utf-8\"><title>Мэдээ</title><style>");
    for k in 0..400 {
        let _ = write!(html, ".c{k}{{margin:{k}px;padding:0 {k}px;color:#{k:06x}}}");
    }
    html.push_str("</style><script>");
    for k in 0..2_500 {
        let _ = write!(html, "window.cfg{k}={{id:{k},on:true}};");
    }
    html.push_str("</script></head><body><nav><ul>");
    for k in 0..150 {
        let _ = write!(
            html,
            "<li class=\"nav-item\"><a class=\"nav-link\" href=\"/mn/more/{k}\">Ангилал {k}</a></li>"
        );
    }
    html.push_str("</ul></nav><div id=\"left-container\"><div class=\"row no-gutters\">");
    for i in 0..items {
        let pool = if i % 2 == 1 { WORDS_MN } else { WORDS_EN };
        let title = rng.words(pool, 6, 12);
        let summary = rng.words(pool, 30, 60);
        let id = seed * 100_000 + i as u64;
        let _ = write!(
            html,
            "<div class=\"col-md-6 col-sm-12\" data-id=\"{id}\"><div class=\"news-box\" itemscope>\
             <a href=\"/mn/read/{id}\" class=\"news-link\" title=\"{title}\">\
             <div class=\"news-image-bg lazy\" style=\"background-image: url('/files/medium/{id:012x}.jpeg')\"></div>\
             <div class=\"news-content\"><div class=\"title content-mn\">{title}</div>\
             <div class=\"body content-mn\">{summary}</div>\
             <div class=\"meta\"><span class=\"category\"><i class=\"fa fa-folder\"></i> Улс төр</span>\
             <span class=\"views\"><i class=\"fa fa-eye\"></i> {views}</span>\
             <span class=\"date\">2025.{month:02}.{day:02} {hour:02}:{minute:02}</span></div></div></a>\
             <div class=\"share\"><a href=\"https://www.facebook.com/sharer/sharer.php?u=https://montsame.mn/mn/read/{id}\" rel=\"nofollow\">Facebook</a>\
             <a href=\"https://twitter.com/intent/tweet?url=https://montsame.mn/mn/read/{id}\" rel=\"nofollow\">Twitter</a></div></div></div>",
            views = rng.below(10_000),
            month = 1 + i % 12,
            day = 1 + i % 28,
            hour = i % 24,
            minute = i % 60,
        );
    }
    html.push_str("</div></div><footer>");
    for k in 0..40 {
        let _ = write!(html, "<a href=\"/mn/page/{k}\">Хуудас {k}</a> ");
    }
    html.push_str("</footer></body></html>");
    html
}

/// The selectors `benches/compare.py` configures, compiled by the real config loader.
fn card_selectors() -> ItemSelectors {
    let toml = r#"
[[source]]
id = "bench"
url = "https://montsame.mn/mn/more/11"
language = "mn"
timezone = "Asia/Ulaanbaatar"
item = "div.news-box"
title = ".title"
link = "a @href"
summary = ".body"
date = ".date"
image = ".news-image-bg @style"
"#;
    let config = Config::parse(toml, Path::new("bench.toml")).expect("bench config is valid");
    match &config.sources[0].kind {
        medee::config::SourceKind::Html(selectors) => (**selectors).clone(),
        other => panic!("the bench source is an html source, not {other:?}"),
    }
}

/// The floor: parse the page and count what the item selector matches, nothing else.
fn floor(html: &str, selector: &Selector) -> usize {
    Html::parse_document(html).select(selector).count()
}

fn extraction(c: &mut Criterion) {
    let selectors = card_selectors();
    let base = Url::parse("https://montsame.mn/mn/more/11").expect("static URL");
    let item = Selector::parse("div.news-box").expect("static selector");
    let mut group = c.benchmark_group("extract");
    group.sample_size(20);
    for (name, items) in [("small", 30), ("large", 2_000)] {
        let html = listing_page(items, 7);
        // Every item is read, as before the page limit existed.
        let limits = medee::config::Limits {
            page_items: items,
            ..medee::config::Limits::default()
        };
        assert_eq!(floor(&html, &item), items);
        assert_eq!(
            medee::extract::extract(&html, &base, &selectors, &limits)
                .items
                .len(),
            items
        );
        group.throughput(Throughput::Bytes(html.len() as u64));
        group.bench_with_input(BenchmarkId::new("floor", name), &html, |b, html| {
            b.iter(|| floor(black_box(html), &item))
        });
        group.bench_with_input(BenchmarkId::new("medee", name), &html, |b, html| {
            b.iter(|| medee::extract::extract(black_box(html), &base, &selectors, &limits))
        });
    }
    group.finish();
}

/// Date strings in the shapes the recogniser meets on real listings.
const DATE_TABLE: &[&str] = &[
    "2025.11.20 14:05",
    "2025-11-20T14:05:00+08:00",
    "2025-11-20 14:05",
    "Thu, 20 Nov 2025 06:05:00 GMT",
    "November 20, 2025",
    "Nov 20, 2025 at 2:05 pm",
    "20 November 2025",
    "PUBLISHED: Nov 17",
    "Published Date: 2025/11/20",
    "20.11.2025",
    "2 hours ago",
    "yesterday at 9:00 am",
    "2025 оны 11 дүгээр сарын 20",
    "11 сарын 20",
    "арван нэгдүгээр сарын 20",
    "НИЙТЭЛСЭН: 2025.11.20",
    "2 цагийн өмнө",
    "өчигдөр 14:05",
    "3 өдрийн өмнө",
    "1732100000",
    "not a date at all",
    "Дөнгөж сая",
];

fn dates(c: &mut Criterion) {
    let now = Utc
        .with_ymd_and_hms(2025, 11, 21, 8, 0, 0)
        .single()
        .expect("valid instant");
    let ctx = DateContext {
        formats: &[],
        tz: chrono_tz::Asia::Ulaanbaatar,
        now,
        range: medee::config::DateRange::default(),
    };
    let recognised = DATE_TABLE
        .iter()
        .filter(|t| parse_date(t, &ctx).is_some())
        .count();
    assert_eq!(recognised, DATE_TABLE.len() - 1, "only the non-date fails");
    let mut group = c.benchmark_group("dates");
    group.throughput(Throughput::Elements(DATE_TABLE.len() as u64));
    group.bench_function("mixed table", |b| {
        b.iter(|| {
            for text in DATE_TABLE {
                black_box(parse_date(black_box(text), &ctx));
            }
        })
    });
    group.finish();
}

fn stored_items(n: usize) -> Vec<StoredItem> {
    let base = Utc
        .with_ymd_and_hms(2025, 11, 21, 8, 0, 0)
        .single()
        .expect("valid instant");
    let mut rng = Rng(99);
    (0..n)
        .map(|i| {
            let at = base - chrono::Duration::minutes(i as i64);
            let pool = if i % 2 == 1 { WORDS_MN } else { WORDS_EN };
            let title = rng.words(pool, 6, 12);
            StoredItem {
                id: i as i64,
                source_id: format!("s{}", i % 100),
                link: format!("https://montsame.mn/mn/read/{i}"),
                title_key: title.to_lowercase(),
                title,
                summary: Some(format!("<p>{} &amp; more</p>", rng.words(pool, 30, 60))),
                image: Some(format!("https://montsame.mn/files/medium/{i:012x}.jpeg")),
                content: None,
                author: None,
                published: Some(at),
                first_seen: at,
                updated: at,
                sort_at: at,
                story_id: i as i64,
            }
        })
        .collect()
}

fn rendering(c: &mut Criterion) {
    let mut group = c.benchmark_group("render");
    group.sample_size(20);
    for n in [100, 10_000] {
        let items = stored_items(n);
        let entries: Vec<Entry<'_>> = items
            .iter()
            .map(|item| Entry {
                item,
                source_name: "МОНЦАМЭ",
                language: "mn",
                timezone: chrono_tz::Asia::Ulaanbaatar,
                id: None,
                also: &[],
            })
            .collect();
        let channel = Channel {
            title: "All",
            description: "Everything",
            home: "https://feeds.example/index.html",
            language: "mn",
            entries: &entries,
            now: items[0].sort_at,
            hub: None,
        };
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("rss", n), &channel, |b, channel| {
            b.iter(|| medee::render::rss(channel, "https://feeds.example/all.rss"))
        });
        group.bench_with_input(BenchmarkId::new("atom", n), &channel, |b, channel| {
            b.iter(|| medee::render::atom(channel, "https://feeds.example/all.atom"))
        });
    }
    group.finish();
}

const SOURCES: usize = 100;
const PER_SOURCE: usize = 30;
/// Items per source new in each cycle; the rest were listed before.
const NEW_PER_CYCLE: usize = 3;

/// Syllables of made-up Cyrillic words: three make one of 8,000 words, so
/// two headlines share a word now and then and two words rarely, as real
/// headlines of different stories do.
const SYLLABLES: &[&str] = &[
    "ба", "га", "да", "ла", "ма", "на", "ра", "са", "та", "ха", "цэ", "жи", "мө", "нү", "хо", "бу",
    "ол", "эр", "ан", "ун",
];

/// A headline of six made-up words and a number, drawn from `seed`.
fn headline(seed: u64) -> String {
    let mut rng = Rng(seed.wrapping_mul(2_654_435_761) | 1);
    let mut words: Vec<String> = (0..6)
        .map(|_| {
            (0..3)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect()
        })
        .collect();
    words.push(rng.below(500).to_string());
    words.join(" ")
}

fn new_item(link: String, title: String, at: DateTime<Utc>) -> NewItem {
    NewItem {
        title_key: medee::identity::title_key(&title),
        title,
        summary: Some("<p>Монгол Улсын Засгийн газрын хуралдаан</p>".to_string()),
        image: None,
        published: Some(at),
        published_relative: false,
        link,
    }
}

/// A store file holding `history` items over 100 sources, built once and
/// kept under `target/` (a million rows take a while to write).
fn seeded_store(history: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-stores");
    let path = dir.join(format!("stories-v2-history-{history}.sqlite"));
    if path.exists() {
        return path;
    }
    std::fs::create_dir_all(&dir).expect("bench store dir");
    let building = dir.join(format!("stories-v2-history-{history}.building"));
    let _ = std::fs::remove_file(&building);
    let mut store = Store::open(&building).expect("open bench store");
    // The history spans the year before the cycles, evenly: with a million
    // items, some 5,500 fall in a story window (48 hours).
    let at = cycle_start() - chrono::Duration::days(365);
    let validators = Validators::default();
    let per_source = history / SOURCES;
    let step = 365 * 86_400 / per_source.max(1) as i64;
    for s in 0..SOURCES {
        let id = format!("s{s}");
        for chunk in (0..per_source).collect::<Vec<_>>().chunks(10_000) {
            let items: Vec<NewItem> = chunk
                .iter()
                .map(|&i| {
                    let published = at + chrono::Duration::seconds(step * i as i64);
                    let title = headline((s * per_source + i) as u64);
                    new_item(format!("https://site{s}.example/old/{i}"), title, published)
                })
                .collect();
            let cycle = SourceCycle {
                source_id: &id,
                url: &format!("https://site{s}.example/"),
                validators: &validators,
                items: &items,
                want_articles: false,
                stats: None,
            };
            store.record_success(&cycle, at).expect("seed items");
        }
    }
    drop(store);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
    }
    std::fs::rename(&building, &path).expect("finish bench store");
    path
}

/// When the benchmark's cycles run: the end of the seeded history.
fn cycle_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("valid instant")
}

/// One cycle: every source lists 27 items it listed last time and 3 new ones,
/// the first of which reports (in other words: one more word) a story the
/// next source listed, so clustering finds, compares and joins.
fn cycle_items(source: usize, cycle: u64, at: DateTime<Utc>) -> Vec<NewItem> {
    let steady_title =
        |source: usize, i: usize| headline(1 << 40 | (source * PER_SOURCE + i) as u64);
    let steady = (0..PER_SOURCE - NEW_PER_CYCLE).map(|i| {
        let link = format!("https://site{source}.example/steady/{i}");
        new_item(link, steady_title(source, i), at)
    });
    let fresh = (0..NEW_PER_CYCLE).map(|i| {
        let link = format!("https://site{source}.example/new/{cycle}/{i}");
        let title = if i == 0 {
            let other = steady_title(
                (source + 1) % SOURCES,
                cycle as usize % (PER_SOURCE - NEW_PER_CYCLE),
            );
            format!("Шинэ: {other}")
        } else {
            headline(1 << 41 | cycle << 20 | (source * PER_SOURCE + i) as u64)
        };
        new_item(link, title, at)
    });
    steady.chain(fresh).collect()
}

/// A copy of a seeded store that cycles run against, and a second
/// connection that sweeps each cycle's new rows away so the size holds.
struct StoreBench {
    _work: tempfile::TempDir,
    store: Store,
    sweeper: rusqlite::Connection,
    cycles: u64,
}

impl StoreBench {
    fn new(history: usize) -> Self {
        let work = tempfile::tempdir().expect("temp dir");
        let path = work.path().join("medee.sqlite");
        std::fs::copy(seeded_store(history), &path).expect("copy bench store");
        let mut bench = StoreBench {
            store: Store::open(&path).expect("open store"),
            sweeper: rusqlite::Connection::open(&path).expect("second connection"),
            _work: work,
            cycles: 0,
        };
        // The first cycle stores the steady items; later ones find them listed again.
        bench.cycle();
        bench
            .sweeper
            .execute("DELETE FROM items WHERE link LIKE '%/new/%'", [])
            .expect("sweep the first cycle's new rows");
        bench
    }

    /// Upserts one cycle; returns the time the store took, then (untimed)
    /// drops the cycle's new rows.
    fn cycle(&mut self) -> Duration {
        let at = cycle_start() + chrono::Duration::minutes(self.cycles as i64);
        let batches: Vec<(String, String, Vec<NewItem>)> = (0..SOURCES)
            .map(|s| {
                let items = cycle_items(s, self.cycles, at);
                (format!("s{s}"), format!("https://site{s}.example/"), items)
            })
            .collect();
        let validators = Validators::default();
        let timer = Instant::now();
        for (id, url, items) in &batches {
            let cycle = SourceCycle {
                source_id: id,
                url,
                validators: &validators,
                items,
                want_articles: false,
                stats: None,
            };
            black_box(self.store.record_success(&cycle, at).expect("upsert"));
        }
        let took = timer.elapsed();
        if self.cycles > 0 {
            self.sweeper
                .execute("DELETE FROM items WHERE first_seen = ?1", [at.timestamp()])
                .expect("sweep new rows");
        }
        self.cycles += 1;
        took
    }
}

fn store_upsert(c: &mut Criterion) {
    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements((SOURCES * PER_SOURCE) as u64));
    // Each store is set up on the benchmark's first call (criterion calls a
    // routine once per sample), so a filter that skips it skips building the
    // million-item store too.
    for history in [1_000, 1_000_000] {
        let mut upserts: Option<StoreBench> = None;
        group.bench_function(BenchmarkId::new("cycle 100x30", history), |b| {
            let bench = upserts.get_or_insert_with(|| StoreBench::new(history));
            b.iter_custom(|iters| (0..iters).map(|_| bench.cycle()).sum())
        });
        let ids: Vec<String> = (0..SOURCES).map(|s| format!("s{s}")).collect();
        group.bench_function(BenchmarkId::new("newest 100", history), |b| {
            let bench = upserts.get_or_insert_with(|| StoreBench::new(history));
            b.iter(|| bench.store.newest_items(&ids, 100, 0).expect("newest"))
        });
    }
    group.finish();
}

criterion_group!(benches, extraction, dates, rendering, store_upsert);
criterion_main!(benches);
