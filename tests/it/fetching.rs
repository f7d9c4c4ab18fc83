//! Polite, robust fetching against a server the tests control per path:
//! conditional GET, retries, pacing, hostile bodies, article pages, native feeds.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Reply, Server, Workspace, fixture};

fn source(id: &str, url: &str) -> String {
    format!("[[source]]\nid = \"{id}\"\nurl = \"{url}\"\nitem = \"li\"\n")
}

#[test]
fn a_304_skips_parsing_and_keeps_the_source_healthy() {
    let server = Server::start();
    let mut page = Reply::list(&[("/1", "One"), ("/2", "Two")])
        .with_header("Last-Modified", "Mon, 01 Jul 2024 09:30:00 GMT");
    page.etag = Some("\"v1\"".to_string());
    server.set("/news", page);
    let ws = Workspace::new(&source("s", &format!("{}/news", server.origin())));
    ws.medee(&["once"]).assert().code(0);
    ws.medee(&["once"]).assert().code(0);
    let requests = server.requests("/news");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("if-none-match"), None);
    assert_eq!(
        requests[0].header("connection"),
        Some("close"),
        "the only request to a host closes its connection"
    );
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(
        requests[1].header("if-modified-since"),
        Some("Mon, 01 Jul 2024 09:30:00 GMT")
    );
    assert_eq!(ws.feed("s.atom").entries.len(), 2, "a 304 keeps the items");
    let status = ws.source_status("s");
    assert_eq!(status.failures(), 0, "healthy after a 304: {status:?}");
    assert!(
        requests[0]
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("medee/")),
        "{:?}",
        requests[0].headers
    );
}

#[test]
fn server_errors_and_429_are_retried_but_client_errors_are_not() {
    let server = Server::start();
    server.set_sequence(
        "/flaky",
        vec![
            Reply::status(500),
            Reply::status(503),
            Reply::list(&[("/1", "Back")]),
        ],
    );
    server.set_sequence(
        "/busy",
        vec![
            Reply::status(429).with_header("Retry-After", "1"),
            Reply::list(&[("/2", "Calm")]),
        ],
    );
    server.set("/gone", Reply::status(404));
    let o = server.origin();
    let ws = Workspace::new(&format!(
        "[daemon]\nper_host_delay = \"0s\"\n{}{}{}",
        source("flaky", &format!("{o}/flaky")),
        source("busy", &format!("{o}/busy")),
        source("gone", &format!("{o}/gone"))
    ));
    ws.medee(&["once"]).assert().code(1);
    assert_eq!(server.hits("/flaky"), 3, "two retries, then success");
    assert_eq!(ws.feed("flaky.atom").entries.len(), 1);
    let busy = server.requests("/busy");
    assert_eq!(busy.len(), 2);
    assert!(
        busy[1].started - busy[0].started >= Duration::from_millis(950),
        "Retry-After: 1 was honoured"
    );
    assert_eq!(ws.feed("busy.atom").entries.len(), 1);
    assert_eq!(server.hits("/gone"), 1, "a 404 is not retried");
}

#[test]
fn one_request_at_a_time_per_host_with_the_delay_between_while_hosts_run_in_parallel() {
    let (a, b) = (Server::start(), Server::start());
    for server in [&a, &b] {
        for path in ["/p1", "/p2", "/p3"] {
            server.set(
                path,
                Reply::list(&[(path, "Item")]).with_header("Cache-Control", "no-store"),
            );
        }
    }
    let mut config = "[daemon]\nper_host_delay = \"400ms\"\nconcurrency = 8\n".to_string();
    for (name, server) in [("a", &a), ("b", &b)] {
        for n in 1..=3 {
            config.push_str(&source(
                &format!("{name}{n}"),
                &format!("{}/p{n}", server.origin()),
            ));
        }
    }
    let ws = Workspace::new(&config);
    ws.medee(&["once"]).assert().code(0);
    for server in [&a, &b] {
        assert_eq!(
            server.max_in_flight(),
            1,
            "never two requests at once to one host"
        );
        let starts = request_starts(server);
        assert_eq!(starts.len(), 3);
        for pair in starts.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(390),
                "per_host_delay kept"
            );
        }
    }
    let (a, b) = (request_starts(&a), request_starts(&b));
    assert!(
        b[0] < a[2] && a[0] < b[2],
        "the two hosts were fetched side by side"
    );
}

/// When the pacing test's three paths were requested, in order.
fn request_starts(server: &Server) -> Vec<Instant> {
    let mut starts: Vec<Instant> = ["/p1", "/p2", "/p3"]
        .iter()
        .flat_map(|p| server.requests(p))
        .map(|r| r.started)
        .collect();
    starts.sort();
    starts
}

#[test]
fn a_slow_drip_is_cut_off_by_the_timeout() {
    let server = Server::start();
    let mut drip = Reply::list(&[("/1", "Slow")]);
    drip.drip = Some(Duration::from_millis(200));
    server.set("/drip", drip);
    server.set("/ok", Reply::list(&[("/2", "Fine")]));
    let o = server.origin();
    let ws = Workspace::new(&format!(
        "[daemon]\ntimeout = \"1s\"\nper_host_delay = \"0s\"\n{}{}",
        source("drip", &format!("{o}/drip")),
        source("ok", &format!("{o}/ok"))
    ));
    ws.medee(&["once"]).assert().code(1);
    assert!(
        ws.source_status("drip")
            .last_error()
            .contains("timed out after 1s")
    );
    assert_eq!(ws.feed("ok.atom").entries.len(), 1);
}

/// Runs `medee once` and returns its exit code and peak resident memory (VmHWM) in KiB.
fn once_with_peak_memory(ws: &Workspace) -> (Option<i32>, u64) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("medee"))
        .current_dir(ws.path())
        .env("RUST_LOG", "warn")
        .args(["--config", "medee.toml", "once"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("medee starts");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path)
            && let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        if let Some(exit) = child.try_wait().expect("try_wait") {
            return (exit.code(), peak);
        }
        assert!(Instant::now() < deadline, "medee once did not finish");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_huge_body_and_a_gzip_bomb_are_cut_off_with_flat_memory() {
    let server = Server::start();
    let mut huge = b"<html><body><ul>".to_vec();
    huge.resize(60 << 20, b' ');
    server.set("/huge", Reply::html(huge));
    server.set(
        "/bomb",
        Reply::html(fixture("bomb.html.gz")).with_header("Content-Encoding", "gzip"),
    );
    server.set("/ok", Reply::list(&[("/1", "Fine")]));
    let o = server.origin();
    let ws = Workspace::new(&format!(
        "[daemon]\nper_host_delay = \"0s\"\n{}{}{}",
        source("huge", &format!("{o}/huge")),
        source("bomb", &format!("{o}/bomb")),
        source("ok", &format!("{o}/ok"))
    ));
    let (code, peak_kib) = once_with_peak_memory(&ws);
    assert_eq!(code, Some(1));
    assert!(peak_kib > 0, "peak memory was read");
    assert!(peak_kib < 100 * 1024, "peak resident memory {peak_kib} KiB");
    for id in ["huge", "bomb"] {
        let status = ws.source_status(id);
        assert!(
            status.last_error().contains("larger than max_body"),
            "{status:?}"
        );
    }
    assert_eq!(ws.feed("ok.atom").entries.len(), 1);
}

#[test]
fn article_pages_are_read_once_stay_on_allowed_hosts_and_failures_are_bounded() {
    let server = Server::start();
    let o = server.origin();
    let listing = |extra: &[(&str, &str)]| {
        let mut items = vec![
            ("/read/1".to_string(), "Has an article"),
            ("/read/missing".to_string(), "Article is gone"),
            (
                format!(
                    "http://localhost:{}/read/elsewhere",
                    o.rsplit(':').next().unwrap_or_default()
                ),
                "Off-site article",
            ),
        ];
        items.extend(extra.iter().map(|(h, t)| ((*h).to_string(), *t)));
        let refs: Vec<(&str, &str)> = items.iter().map(|(h, t)| (h.as_str(), *t)).collect();
        Reply::list(&refs)
    };
    server.set("/list", listing(&[]));
    server.set(
        "/read/1",
        Reply::html(
            "<html><body><p class=\"by\">Д.Сараа</p><time datetime=\"2024-12-20T09:00:00+08:00\">Friday</time>\
             <div class=\"body\"><p>Full <b>text</b>.</p><script>x()</script></div></body></html>",
        ),
    );
    server.set("/read/missing", Reply::status(404));
    server.set(
        "/read/elsewhere",
        Reply::html("<div class=\"body\">should never be fetched</div>"),
    );
    let ws = Workspace::new(&format!(
        "[daemon]\nper_host_delay = \"0s\"\n{}[source.article]\ncontent = \".body\"\ndate = \"time\"\nauthor = \".by\"\n",
        source("s", &format!("{o}/list"))
    ));
    ws.medee(&["once"]).assert().code(0);
    let connection = |path: &str| {
        server.requests(path)[0]
            .header("connection")
            .map(str::to_string)
    };
    assert_ne!(connection("/list").as_deref(), Some("close"));
    assert_ne!(connection("/read/1").as_deref(), Some("close"));
    assert_eq!(
        connection("/read/missing").as_deref(),
        Some("close"),
        "the cycle's last request to the host closes the connection"
    );
    let feed = ws.feed("s.atom");
    let entry = feed
        .entries
        .iter()
        .find(|e| {
            e.title
                .as_ref()
                .is_some_and(|t| t.content == "Has an article")
        })
        .expect("entry");
    assert_eq!(
        entry.published.map(|p| p.to_rfc3339()),
        Some("2024-12-20T01:00:00+00:00".to_string())
    );
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .expect("content");
    assert!(
        content.contains("<b>text</b>") && !content.contains("script"),
        "{content}"
    );
    assert_eq!(
        feed.entries.len(),
        3,
        "items whose article failed keep their listing data"
    );

    for _ in 0..4 {
        ws.medee(&["once"]).assert().code(0);
    }
    assert_eq!(server.hits("/read/1"), 1, "read once, never again");
    assert_eq!(
        server.hits("/read/missing"),
        3,
        "a failed article is retried a bounded number of times"
    );
    assert_eq!(
        server.hits("/read/elsewhere"),
        0,
        "a link to another host is never fetched"
    );

    server.set("/list", listing(&[("/read/2", "New item")]));
    server.set("/read/2", Reply::html("<div class=\"body\">Second</div>"));
    ws.medee(&["once"]).assert().code(0);
    assert_eq!(server.hits("/read/2"), 1);
    assert_eq!(server.hits("/read/1"), 1);
}

#[test]
fn native_feeds_in_every_format_are_merged_like_scraped_items() {
    let server = Server::start();
    let feeds = [
        ("rss2", "feed-rss2.xml", "application/rss+xml"),
        ("atom", "feed-atom.xml", "application/atom+xml"),
        ("json", "feed.json", "application/feed+json"),
        ("rss1", "feed-rss1.rdf", "application/rdf+xml"),
        ("rss091", "feed-rss091.xml", "application/rss+xml"),
    ];
    let mut config = "[daemon]\nper_host_delay = \"0s\"\n".to_string();
    for (id, file, content_type) in feeds {
        server.set(
            &format!("/{id}"),
            Reply::html(fixture(file)).with_content_type(content_type),
        );
        config.push_str(&format!(
            "[[source]]\nid = \"{id}\"\nurl = \"{}/{id}\"\nkind = \"feed\"\nexclude = [\"(?i)^sponsored\"]\n",
            server.origin()
        ));
    }
    let ws = Workspace::new(&config);
    ws.medee(&["once"]).assert().code(0);
    let titles = |file: &str| -> Vec<String> {
        ws.feed(file)
            .entries
            .iter()
            .filter_map(|e| e.title.as_ref().map(|t| t.content.clone()))
            .collect()
    };
    assert_eq!(
        titles("rss2.atom"),
        [
            "Mongolia's 2024 parliamentary election: a first look",
            "Curios: a yurt in the Ulaanbaatar suburbs"
        ],
        "the sponsored item is excluded"
    );
    assert_eq!(titles("atom.atom").len(), 2);
    assert_eq!(titles("json.atom"), ["Naadam tickets to go on sale online"]);
    assert_eq!(titles("rss1.atom"), ["Улаанбаатарт цас орлоо"]);
    assert_eq!(
        titles("rss091.atom"),
        ["Mongolia joins regional grid talks"]
    );
    assert_eq!(ws.feed("all.atom").entries.len(), 7);
    let rss2 = ws.feed("rss2.atom");
    assert_eq!(
        rss2.entries[1].links[0].href, "https://blogs.ubc.ca/mongolia/2024/curios-yurt/",
        "tracking parameters are removed from feed links too"
    );
    let json = ws.feed("json.atom");
    assert_eq!(
        json.entries[0].published.map(|p| p.to_rfc3339()),
        Some("2024-12-18T23:00:00+00:00".to_string())
    );
}

/// Every output file's text, for checking that something reached none of them.
fn all_outputs(ws: &Workspace) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(ws.path().join("feeds")).expect("outputs written") {
        let path = entry.expect("dir entry").path();
        text.push_str(&String::from_utf8_lossy(
            &std::fs::read(&path).expect("output readable"),
        ));
    }
    text
}

#[test]
fn article_links_to_another_port_are_never_fetched_unless_allowed_with_that_port() {
    let (site, other) = (Server::start(), Server::start());
    let other_port = other
        .origin()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let internal = format!("{}/admin", other.origin());
    let allowed = format!("http://localhost:{other_port}/shared");
    site.set(
        "/list",
        Reply::list(&[
            ("/read/1", "Own page"),
            (&internal, "Internal admin port"),
            (&allowed, "Allowed elsewhere"),
        ]),
    );
    site.set("/read/1", Reply::html("<div class=\"body\">Own text</div>"));
    other.set(
        "/admin",
        Reply::html("<div class=\"body\">ADMIN-SECRET</div>"),
    );
    other.set(
        "/shared",
        Reply::html("<div class=\"body\">Shared text</div>"),
    );
    let ws = Workspace::new(&format!(
        "[daemon]\nper_host_delay = \"0s\"\n{}[source.article]\ncontent = \".body\"\nallow_hosts = [\"localhost:{other_port}\"]\n",
        source("s", &format!("{}/list", site.origin()))
    ));
    let log = ws.stderr(&["once"], 0);
    assert_eq!(other.hits("/admin"), 0, "another port is another server");
    assert!(
        log.contains(&format!(
            "port {other_port} is not the configured port of 127.0.0.1"
        )),
        "{log}"
    );
    assert_eq!(site.hits("/read/1"), 1);
    assert_eq!(other.hits("/shared"), 1, "allow_hosts names host and port");
    let outputs = all_outputs(&ws);
    assert!(!outputs.contains("ADMIN-SECRET"));
    assert!(outputs.contains("Own text") && outputs.contains("Shared text"));
    assert_eq!(
        ws.feed("s.atom").entries.len(),
        3,
        "the refused item keeps its listing data"
    );
}

#[test]
fn redirects_are_checked_hop_by_hop_for_listings_and_articles() {
    let (site, other) = (Server::start(), Server::start());
    let (o, elsewhere) = (site.origin(), other.origin());
    let with_credentials = elsewhere.replace("http://", "http://user:pw@");
    let redirect = |status: u16, to: &str| Reply::status(status).with_header("Location", to);
    site.set(
        "/list",
        Reply::list(&[
            ("/read/302", "Found elsewhere"),
            ("/read/301", "Moved elsewhere"),
            ("/read/creds", "Moved with credentials"),
            ("/read/moved", "Moved at home"),
        ]),
    );
    site.set("/read/302", redirect(302, &format!("{elsewhere}/secret")));
    site.set("/read/301", redirect(301, &format!("{elsewhere}/secret")));
    site.set(
        "/read/creds",
        redirect(302, &format!("{with_credentials}/secret")),
    );
    site.set("/read/moved", redirect(301, "/read/final"));
    site.set(
        "/read/final",
        Reply::html("<div class=\"body\">Final text</div>"),
    );
    site.set("/away", redirect(302, &format!("{elsewhere}/list")));
    site.set("/old-list", redirect(301, &format!("{o}/new-list")));
    site.set("/new-list", redirect(307, "/newest-list"));
    site.set("/newest-list", Reply::list(&[("/n/1", "Still listed")]));
    other.set(
        "/secret",
        Reply::html("<div class=\"body\">METADATA-SECRET</div>"),
    );
    other.set("/list", Reply::list(&[("/leak", "LEAKED-HEADLINE")]));
    let ws = Workspace::new(&format!(
        "[daemon]\nper_host_delay = \"0s\"\n{}[source.article]\ncontent = \".body\"\n{}{}",
        source("s", &format!("{o}/list")),
        source("away", &format!("{o}/away")),
        source("moved", &format!("{o}/old-list")),
    ));
    let log = ws.stderr(&["once"], 1);
    ws.medee(&["once"]).assert().code(1);

    assert_eq!(other.hits("/secret") + other.hits("/list"), 0, "{log}");
    let outputs = all_outputs(&ws);
    assert!(
        !outputs.contains("SECRET") && !outputs.contains("LEAKED"),
        "{outputs}"
    );
    for path in ["/read/302", "/read/301", "/read/creds"] {
        assert_eq!(
            site.hits(path),
            1,
            "{path}: refused once, never asked again"
        );
        assert!(
            log.contains(&format!(
                "{o}{path}: redirect to {elsewhere}/secret not followed"
            )),
            "{path}: {log}"
        );
    }
    assert!(log.contains("the URL carries credentials"), "{log}");
    assert!(
        !log.contains("user:pw"),
        "credentials are never shown: {log}"
    );
    let titles: Vec<String> = ws
        .feed("s.atom")
        .entries
        .iter()
        .filter_map(|e| e.title.as_ref().map(|t| t.content.clone()))
        .collect();
    assert_eq!(
        titles.len(),
        4,
        "refused articles keep their listing data: {titles:?}"
    );
    assert!(
        outputs.contains("Final text"),
        "a redirect at home is followed"
    );

    let away = ws.source_status("away");
    assert!(
        away.last_error().contains(&format!(
            "{o}/away: redirect to {elsewhere}/list not followed: port"
        )),
        "{away:?}"
    );
    let moved = ws.source_status("moved");
    assert_eq!(moved.failures(), 0, "{moved:?}");
    let listed = ws.feed("moved.atom");
    assert_eq!(listed.entries.len(), 1);
    assert_eq!(
        listed.entries[0].links[0].href,
        format!("{o}/n/1"),
        "links resolve against the listing's final URL"
    );
}
