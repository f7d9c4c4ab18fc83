//! `/metrics` on the real daemon's listener, read by a Prometheus text parser.

use std::collections::HashMap;

use chrono::Utc;
use prometheus_parse::{Sample, Scrape, Value};

use crate::daemon::{Daemon, free_port, http, wait_until};
use crate::support::{Reply, Server, Workspace};

/// A schedule that does not come round during the test: only the first
/// cycle runs, so every count is exact.
const ONCE_A_YEAR: &str = "0 0 0 1 1 *";

fn scrape(port: u16) -> (Vec<(String, String)>, Scrape) {
    let (status, headers, body) = http(port, "GET", "/metrics", &[]);
    assert_eq!(status, 200);
    let text = String::from_utf8(body).expect("UTF-8");
    let lines = text.lines().map(|l| Ok(l.to_string()));
    (
        headers,
        Scrape::parse(lines).expect("parses as Prometheus text"),
    )
}

/// The samples of `metric`, by their `source` label.
fn by_source<'a>(scrape: &'a Scrape, metric: &str) -> HashMap<String, &'a Sample> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter_map(|s| Some((s.labels.get("source")?.to_string(), s)))
        .collect()
}

fn number(sample: &Sample) -> f64 {
    match &sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        other => panic!("{}: not a number: {other:?}", sample.metric),
    }
}

fn value(scrape: &Scrape, metric: &str, source: &str) -> Option<f64> {
    by_source(scrape, metric).get(source).map(|s| number(s))
}

#[test]
fn metrics_report_each_source_and_the_cycle_in_prometheus_text() {
    let server = Server::start();
    server.set(
        "/ok",
        Reply::list(&[("/ok/1", "First"), ("/ok/2", "Second")]),
    );
    server.set("/down", Reply::status(404));
    let port = free_port();
    let started = Utc::now().timestamp();
    let ws = Workspace::new(&format!(
        "[daemon]\nschedule = \"{ONCE_A_YEAR}\"\nlisten = \"127.0.0.1:{port}\"\n\
         [[source]]\nid = \"ok\"\nurl = \"{o}/ok\"\nitem = \"li\"\n\
         [[source]]\nid = \"down\"\nurl = \"{o}/down\"\nitem = \"li\"\n",
        o = server.origin()
    ));
    let _daemon = Daemon::start(&ws, &[]);
    // The cycle's duration is recorded before its publish.
    wait_until("the first cycle's outputs", || {
        ws.path().join("feeds").join("all.atom").is_file()
    });
    let (headers, scrape) = scrape(port);
    let content_type = headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        content_type,
        Some("text/plain; version=0.0.4; charset=utf-8")
    );

    let build = scrape
        .samples
        .iter()
        .find(|s| s.metric == "medee_build_info")
        .expect("build info");
    assert_eq!(build.labels.get("version"), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(number(build), 1.0);
    let cycle = scrape
        .samples
        .iter()
        .find(|s| s.metric == "medee_cycle_duration_seconds")
        .map(number)
        .expect("cycle duration");
    assert!(cycle > 0.0 && cycle < 60.0, "{cycle}");

    assert_eq!(value(&scrape, "medee_source_items", "ok"), Some(2.0));
    assert_eq!(value(&scrape, "medee_source_items", "down"), Some(0.0));
    assert_eq!(
        value(&scrape, "medee_source_new_items_total", "ok"),
        Some(2.0)
    );
    assert_eq!(
        value(&scrape, "medee_source_new_items_total", "down"),
        Some(0.0)
    );
    assert_eq!(
        value(&scrape, "medee_source_consecutive_failures", "ok"),
        Some(0.0)
    );
    assert_eq!(
        value(&scrape, "medee_source_consecutive_failures", "down"),
        Some(1.0)
    );
    assert_eq!(
        value(&scrape, "medee_source_last_http_status", "ok"),
        Some(200.0)
    );
    assert_eq!(
        value(&scrape, "medee_source_last_http_status", "down"),
        Some(404.0)
    );
    let success = value(&scrape, "medee_source_last_success_timestamp_seconds", "ok")
        .expect("ok has succeeded");
    let now = Utc::now().timestamp();
    let window = (started - 1) as f64..=(now + 1) as f64;
    assert!(window.contains(&success), "{success} not in {window:?}");
    assert_eq!(
        value(
            &scrape,
            "medee_source_last_success_timestamp_seconds",
            "down"
        ),
        None,
        "a source that never succeeded has no success time"
    );

    let durations = by_source(&scrape, "medee_source_fetch_duration_seconds");
    for source in ["ok", "down"] {
        let Value::Histogram(buckets) = &durations[source].value else {
            panic!("{source}: not a histogram");
        };
        let infinite = buckets
            .iter()
            .find(|b| b.less_than.is_infinite())
            .expect("+Inf bucket");
        assert_eq!(infinite.count, 1.0, "{source}: one run");
        assert!(
            buckets.windows(2).all(|w| w[0].count <= w[1].count),
            "{source}: cumulative {buckets:?}"
        );
    }
    let counts = by_source(&scrape, "medee_source_fetch_duration_seconds_count");
    assert_eq!(counts.get("ok").map(|s| number(s)), Some(1.0));
}
