//! Adapter between medee's story similarity and the labelled headline pairs
//! of `corpus/stories` (its `score.py`): reads a half (`dev.json`, or any
//! file of that shape), decides every pair of headlines from different sites
//! with `medee::cluster`, and prints the pairs judged the same story as
//! `{"pairs": [[url, url], ...]}` on stdout.
//!
//! With `--clusters` it assigns stories as the store does instead (without
//! its cap of 20 candidates per item, which a few hundred headlines never
//! reach): the headlines in date order, each joining the story of its most
//! similar earlier headline of another site (see `store::stories`), and prints
//! `{"clusters": [[url, ...], ...]}`: fewer pairs than the pairwise
//! decisions, as an item joins one story and stories never merge.
//!
//! ```text
//! cargo bench --bench stories -- CORPUS/stories/dev.json [--threshold 0.6] [--clusters] > pred.json
//! python3 CORPUS/stories/score.py pred.json
//! python3 benches/stories_split.py CORPUS/stories pred.json   # tuning part vs held-out part
//! ```
//!
//! Headlines carry a date only where the corpus lists one (`clusters.members`);
//! two dated headlines more than the store's window (48 hours) apart are
//! never the same story, as in the store.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use medee::cluster::{DEFAULT_THRESHOLD, Features, same_story, similarity};
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
    let mut as_clusters = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--clusters" {
            as_clusters = true;
        } else if arg == "--threshold" {
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
    if as_clusters {
        let clusters = stories(&headlines, threshold);
        eprintln!(
            "{} headlines in {} stories at threshold {threshold}",
            headlines.len(),
            clusters.len()
        );
        println!("{}", serde_json::json!({ "clusters": clusters }));
        return;
    }
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

/// Stories as the store assigns them: in date order (undated last), each
/// headline joins the story of its most similar earlier headline of another
/// site within the window (ties to the earlier one), or starts its own.
fn stories(headlines: &[Headline], threshold: f64) -> Vec<Vec<String>> {
    let mut order: Vec<&Headline> = headlines.iter().collect();
    order.sort_by(|a, b| {
        (a.date.is_none(), a.date, &a.url).cmp(&(b.date.is_none(), b.date, &b.url))
    });
    let mut story_of: Vec<usize> = Vec::with_capacity(order.len());
    for (i, new) in order.iter().enumerate() {
        let mut best: Option<(f64, usize)> = None;
        for (j, earlier) in order[..i].iter().enumerate() {
            if earlier.site == new.site || !within_window(new, earlier) {
                continue;
            }
            let score = similarity(&new.features, &earlier.features);
            if score >= threshold && best.is_none_or(|(s, _)| score > s) {
                best = Some((score, j));
            }
        }
        story_of.push(best.map_or(i, |(_, j)| story_of[j]));
    }
    let mut members: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (headline, story) in order.iter().zip(story_of) {
        members.entry(story).or_default().push(headline.url.clone());
    }
    members.into_values().collect()
}

fn usage(message: &str) -> ! {
    eprintln!(
        "stories: {message}\nusage: cargo bench --bench stories -- HALF.json [--threshold X] [--clusters]"
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
