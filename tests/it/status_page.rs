//! `status.html` written by `once` and `/status` on the daemon's listener,
//! parsed back strictly as XML (roxmltree) and as HTML (html5ever's own
//! parse errors), and read by what a person looks for: each source's state,
//! numbers, last error and a chart of 30 days.

use crate::daemon::{Daemon, free_port, http, wait_until};
use crate::support::{Reply, Server, Workspace};

const ONCE_A_YEAR: &str = "0 0 0 1 1 *";

/// Two sources: `ok` lists two items, `down` answers 503.
fn two_sources(server: &Server, daemon: &str) -> String {
    server.set(
        "/ok",
        Reply::list(&[("/ok/1", "First"), ("/ok/2", "Second")]),
    );
    server.set("/down", Reply::status(503));
    format!(
        "[daemon]\n{daemon}\n\
         [[source]]\nid = \"ok\"\nname = \"Fine & Dandy\"\nurl = \"{o}/ok\"\nitem = \"li\"\n\
         [[source]]\nid = \"down\"\nurl = \"{o}/down\"\nitem = \"li\"\n",
        o = server.origin()
    )
}

/// One source's row as the page shows it.
#[derive(Debug)]
struct Row {
    state: String,
    failures: String,
    items: String,
    next: String,
    error: String,
    bars: usize,
    item_bars: usize,
    failure_bars: usize,
    chart_label: String,
}

/// Parses the page strictly and returns its rows by source id.
fn rows(html: &str) -> Vec<(String, Row)> {
    let parsed = scraper::Html::parse_document(html);
    assert!(
        parsed.errors.is_empty(),
        "HTML parse errors: {:?}",
        parsed.errors
    );
    assert_eq!(
        parsed
            .select(&scraper::Selector::parse("script").expect("selector"))
            .count(),
        0,
        "no JavaScript"
    );
    let doc = roxmltree::Document::parse_with_options(
        html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("not well-formed: {e}\n{html}"));
    let class_of = |n: roxmltree::Node<'_, '_>| n.attribute("class").unwrap_or("").to_string();
    let text = |n: roxmltree::Node<'_, '_>| {
        n.descendants()
            .filter(roxmltree::Node::is_text)
            .filter_map(|t| t.text())
            .collect::<String>()
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("tr") && n.attribute("id").is_some())
        .map(|tr| {
            let id = tr
                .attribute("id")
                .and_then(|id| id.strip_prefix("source-"))
                .expect("row id")
                .to_string();
            let cells: Vec<roxmltree::Node<'_, '_>> =
                tr.children().filter(roxmltree::Node::is_element).collect();
            assert_eq!(cells.len(), 8, "{id}: cells");
            let svg = cells[6]
                .children()
                .find(|n| n.has_tag_name(("http://www.w3.org/2000/svg", "svg")))
                .expect("an SVG chart");
            let rects = |class: &str| {
                svg.descendants()
                    .filter(|n| n.has_tag_name(("http://www.w3.org/2000/svg", "rect")))
                    .filter(|n| class_of(*n) == class)
                    .count()
            };
            let row = Row {
                state: cells[1]
                    .first_element_child()
                    .map(class_of)
                    .unwrap_or_default(),
                failures: text(cells[3]),
                items: text(cells[4]),
                next: text(cells[5]),
                error: text(cells[7]),
                bars: svg
                    .children()
                    .filter(|n| n.has_tag_name(("http://www.w3.org/2000/svg", "g")))
                    .count(),
                item_bars: rects("items"),
                failure_bars: rects("failures"),
                chart_label: svg.attribute("aria-label").unwrap_or("").to_string(),
            };
            (id, row)
        })
        .collect()
}

/// Checks the page's two rows; returns their "Next run" cells.
fn assert_two_sources(html: &str) -> [String; 2] {
    let rows = rows(html);
    let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["ok", "down"], "config order");
    let (ok, down) = (&rows[0].1, &rows[1].1);
    assert_eq!(ok.state, "state ok");
    assert_eq!((ok.failures.as_str(), ok.items.as_str()), ("0", "2"));
    assert_eq!(ok.error, "—");
    assert_eq!((ok.bars, ok.item_bars, ok.failure_bars), (30, 1, 0));
    assert!(
        ok.chart_label.contains("2 items and 0 failed runs of 1"),
        "{}",
        ok.chart_label
    );
    assert_eq!(down.state, "state failing");
    assert_eq!((down.failures.as_str(), down.items.as_str()), ("1", "0"));
    assert!(down.error.contains("503"), "{}", down.error);
    assert_eq!((down.bars, down.item_bars, down.failure_bars), (30, 0, 1));
    assert!(html.contains("Fine &amp; Dandy"), "names are escaped");
    [ok.next.clone(), down.next.clone()]
}

#[test]
fn once_writes_a_valid_status_page_linked_from_the_index() {
    let server = Server::start();
    let ws = Workspace::new(&two_sources(&server, ""));
    ws.medee(&["once"]).assert().code(1);
    let html = String::from_utf8(ws.output("status.html")).expect("UTF-8");
    assert_eq!(
        assert_two_sources(&html),
        ["not scheduled", "not scheduled"].map(String::from),
        "no daemon runs"
    );

    let index = String::from_utf8(ws.output("index.html")).expect("UTF-8");
    let index = scraper::Html::parse_document(&index);
    let link = scraper::Selector::parse("a[href='status.html']").expect("selector");
    assert_eq!(
        index.select(&link).count(),
        1,
        "index.html links the status page"
    );
}

#[test]
fn a_failure_alone_rewrites_the_status_page() {
    let server = Server::start();
    let ws = Workspace::new(&two_sources(&server, ""));
    ws.medee(&["once", "--source", "ok"]).assert().success();
    let before = String::from_utf8(ws.output("status.html")).expect("UTF-8");
    assert!(before.contains("never run"), "down has not run yet");
    // Only `down` runs, and fails: no item changes, yet the page must show it.
    ws.medee(&["once", "--source", "down"]).assert().code(1);
    let after = String::from_utf8(ws.output("status.html")).expect("UTF-8");
    assert_two_sources(&after);
    assert!(!after.contains("never run"));
}

#[test]
fn the_listener_serves_a_current_status_page() {
    let server = Server::start();
    let port = free_port();
    let ws = Workspace::new(&two_sources(
        &server,
        &format!("schedule = \"{ONCE_A_YEAR}\"\nlisten = \"127.0.0.1:{port}\""),
    ));
    let _daemon = Daemon::start(&ws, &[]);
    wait_until("the first cycle's outputs", || {
        ws.path().join("feeds").join("status.html").is_file()
    });
    let page = || http(port, "GET", "/status", &[]);
    wait_until("the schedules' next runs", || {
        !String::from_utf8_lossy(&page().2).contains("not scheduled")
    });
    let (status, headers, body) = page();
    assert_eq!(status, 200);
    let content_type = headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.as_str());
    assert_eq!(content_type, Some("text/html; charset=utf-8"));
    let html = String::from_utf8(body).expect("UTF-8");
    for next in assert_two_sources(&html) {
        assert!(next.contains(" in "), "a date and how far off: {next}");
    }
    let (status, _, _) = http(port, "GET", "/status.html", &[]);
    assert_eq!(status, 200, "the written file is served too");
}
