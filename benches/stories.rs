//! Adapter between medee's story similarity and the labelled headline pairs
//! of `corpus/stories` (its `score.py`): reads a half (`dev.json`, or any
//! file of that shape), decides every pair of headlines from different sites
//! with `medee::cluster`, and prints the pairs judged the same story as
//! `{"pairs": [[url, url], ...]}` on stdout.
//!
//! ```text
//! cargo bench --bench stories -- CORPUS/stories/dev.json [--threshold 0.6] > pred.json
//! python3 CORPUS/stories/score.py pred.json
//! python3 benches/stories_split.py CORPUS/stories pred.json   # tuning part vs held-out part
//! ```
//!
//! Headlines carry a date only where the corpus lists one (`clusters.members`);
//! two dated headlines more than the store's window (48 hours) apart are
//! never the same story, as in the store.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use medee::cluster::{DEFAULT_THRESHOLD, Features, same_story};
use serde_json::Value;

/// The store's default window between two reports of one story.
const WINDOW_DAYS: i64 = 2;

struct Headline {
    url: String,
    site: String,
    date: Option<NaiveDate>,
    features: Features,
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut path = None;
    let mut threshold = DEFAULT_THRESHOLD;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--threshold" {
            threshold = it
                .next()
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| usage("--threshold needs a number"));
        } else {
            path = Some(arg.clone());
        }
    }
    let path = path.unwrap_or_else(|| usage("give the path of a labelled half (dev.json)"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| usage(&format!("{path}: {e}")));
    let half: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| usage(&format!("{path}: {e}")));
    let headlines = headlines(&half);
    let mut pairs = Vec::new();
    for (i, a) in headlines.iter().enumerate() {
        for b in &headlines[i + 1..] {
            if a.site != b.site
                && within_window(a, b)
                && same_story(&a.features, &b.features, threshold)
            {
                pairs.push(vec![a.url.clone(), b.url.clone()]);
            }
        }
    }
    eprintln!(
        "{} headlines, {} pairs judged the same story at threshold {threshold}",
        headlines.len(),
        pairs.len()
    );
    println!("{}", serde_json::json!({ "pairs": pairs }));
}

fn usage(message: &str) -> ! {
    eprintln!(
        "stories: {message}\nusage: cargo bench --bench stories -- HALF.json [--threshold X]"
    );
    std::process::exit(2)
}

fn within_window(a: &Headline, b: &Headline) -> bool {
    match (a.date, b.date) {
        (Some(x), Some(y)) => (x - y).num_days().abs() <= WINDOW_DAYS,
        _ => true,
    }
}

/// Every headline the half names, by URL, with its listed date where known.
fn headlines(half: &Value) -> Vec<Headline> {
    let mut by_url: BTreeMap<String, (String, String, Option<NaiveDate>)> = BTreeMap::new();
    let members = half["clusters"]
        .as_object()
        .into_iter()
        .flat_map(|c| c.values())
        .flat_map(|c| c["members"].as_array().into_iter().flatten());
    for m in members {
        let date = m["date"]
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        insert(&mut by_url, &m["url"], &m["site"], &m["headline"], date);
    }
    for p in half["pairs"].as_array().into_iter().flatten() {
        for side in ["a", "b"] {
            let field = |name: &str| &p[format!("{name}_{side}")];
            insert(
                &mut by_url,
                field("url"),
                field("site"),
                field("headline"),
                None,
            );
        }
    }
    by_url
        .into_iter()
        .map(|(url, (site, headline, date))| Headline {
            url,
            site,
            date,
            features: Features::new(&headline, None),
        })
        .collect()
}

fn insert(
    by_url: &mut BTreeMap<String, (String, String, Option<NaiveDate>)>,
    url: &Value,
    site: &Value,
    headline: &Value,
    date: Option<NaiveDate>,
) {
    let (Some(url), Some(site), Some(headline)) = (url.as_str(), site.as_str(), headline.as_str())
    else {
        return;
    };
    let entry = by_url
        .entry(url.to_string())
        .or_insert_with(|| (site.to_string(), headline.to_string(), None));
    entry.2 = entry.2.or(date);
}
