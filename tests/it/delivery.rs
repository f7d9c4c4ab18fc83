//! Telling others about new items: the `on_new` hook (a real script that
//! writes its stdin to a file) and WebSub (a loopback hub that records the
//! pings), with the feeds still parsing and naming their hub.

use std::path::Path;

use chrono::DateTime;

use crate::daemon::{Daemon, wait_until};
use crate::support::{OUTPUTS, Reply, Server, Workspace};

const HOOK: &str = "#!/bin/sh\n# Appends what medee sends to the file named by the first argument.\ncat >> \"$1\"\n";

fn hook_config(server: &Server, ws_dir: &Path, script: &str) -> String {
    let script_path = ws_dir.join("hook.sh");
    std::fs::write(&script_path, script).expect("write hook");
    format!(
        "[daemon]\non_new = [\"/bin/sh\", {script:?}, {out:?}]\n\
         [[source]]\nid = \"h\"\nname = \"Hook news\"\nurl = \"{o}/list\"\nitem = \"li\"\n\
         summary = \"p\"\n",
        script = script_path.display().to_string(),
        out = ws_dir.join("got.jsonl").display().to_string(),
        o = server.origin()
    )
}

fn listing(items: &[(&str, &str)]) -> Reply {
    let lis: String = items
        .iter()
        .map(|(href, title)| {
            format!("<li><a href=\"{href}\">{title}</a><p>About <b>{title}</b></p></li>")
        })
        .collect();
    Reply::html(format!("<html><body><ul>{lis}</ul></body></html>"))
}

#[test]
fn the_hook_gets_each_new_item_as_a_json_line_and_never_the_backlog() {
    let server = Server::start();
    server.set("/list", listing(&[("/a/1", "First"), ("/a/2", "Second")]));
    let ws = Workspace::new("");
    ws.write_config(&hook_config(&server, ws.path(), HOOK));
    let got = ws.path().join("got.jsonl");

    ws.medee(&["once"]).assert().success();
    assert!(!got.exists(), "a source's first fill is not news");

    server.set(
        "/list",
        listing(&[
            ("/a/3", "Third & last"),
            ("/a/1", "First"),
            ("/a/2", "Second"),
        ]),
    );
    ws.medee(&["once"]).assert().success();
    let text = std::fs::read_to_string(&got).expect("the hook wrote its input");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    let item = &lines[0];
    assert_eq!(item["source"], "h");
    assert_eq!(item["source_name"], "Hook news");
    assert_eq!(item["title"], "Third & last");
    assert_eq!(item["link"], format!("{}/a/3", server.origin()));
    assert_eq!(item["summary"], "About Third & last");
    let date = item["date"].as_str().expect("a date");
    DateTime::parse_from_rfc3339(date).unwrap_or_else(|e| panic!("{date}: {e}"));

    ws.medee(&["once"]).assert().success();
    let again = std::fs::read_to_string(&got).expect("still there");
    assert_eq!(again, text, "nothing new, no second call");
}

#[test]
fn a_failing_hook_is_logged_and_changes_nothing_else() {
    let server = Server::start();
    server.set("/list", listing(&[("/a/1", "First")]));
    let ws = Workspace::new("");
    ws.write_config(&hook_config(
        &server,
        ws.path(),
        "#!/bin/sh\necho 'TELEGRAM_TOKEN is not set' >&2\nexit 4\n",
    ));
    ws.medee(&["once"]).assert().success();
    server.set("/list", listing(&[("/a/2", "Second"), ("/a/1", "First")]));
    let stderr = ws.stderr(&["once"], 0);
    assert!(
        stderr.contains("on_new hook failed") && stderr.contains("TELEGRAM_TOKEN is not set"),
        "{stderr}"
    );
    assert_eq!(
        ws.feed("h.atom").entries.len(),
        2,
        "the cycle stored and published"
    );
}

/// `hub.mode` and `hub.url` of every ping the hub received.
fn pings(server: &Server) -> Vec<(String, String)> {
    server
        .requests("/hub")
        .iter()
        .map(|seen| {
            assert_eq!(seen.method, "POST");
            assert_eq!(
                seen.header("content-type"),
                Some("application/x-www-form-urlencoded")
            );
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&seen.body)
                .into_owned()
                .collect();
            let get = |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            (get("hub.mode"), get("hub.url"))
        })
        .collect()
}

#[test]
fn websub_feeds_name_the_hub_and_each_changed_feed_is_pinged() {
    let server = Server::start();
    server.set("/list", listing(&[("/a/1", "First")]));
    server.set("/hub", Reply::status(204));
    let hub = format!("{}/hub", server.origin());
    let base = "https://news.example.org/feeds/";
    let ws = Workspace::new(&format!(
        "[daemon]\nbase_url = \"{base}\"\nwebsub_hub = \"{hub}\"\n\
         [[source]]\nid = \"h\"\nurl = \"{o}/list\"\nitem = \"li\"\n",
        o = server.origin()
    ));
    ws.medee(&["once"]).assert().success();

    let mut pinged = pings(&server);
    pinged.sort();
    let mut expected: Vec<(String, String)> = OUTPUTS
        .iter()
        .filter(|f| f.ends_with(".rss") || f.ends_with(".atom") || f.ends_with(".json"))
        .map(|f| ("publish".to_string(), format!("{base}{f}")))
        .collect();
    expected.sort();
    assert_eq!(pinged, expected);

    for file in ["all.rss", "all.atom", "h.rss", "h.atom"] {
        let feed = ws.feed(file);
        let rel = |rel: &str| {
            feed.links
                .iter()
                .find(|l| l.rel.as_deref() == Some(rel))
                .map(|l| l.href.clone())
        };
        assert_eq!(rel("hub"), Some(hub.clone()), "{file}");
        assert_eq!(rel("self"), Some(format!("{base}{file}")), "{file}");
        let text = String::from_utf8(ws.output(file)).expect("UTF-8");
        let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
        let hubs: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("link") && n.attribute("rel") == Some("hub"))
            .filter_map(|n| n.attribute("href"))
            .collect();
        assert_eq!(hubs, [hub.as_str()], "{file}: one hub link");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&ws.output("all.json")).expect("JSON Feed parses");
    assert_eq!(json["hubs"][0]["type"], "WebSub");
    assert_eq!(json["hubs"][0]["url"], hub.as_str());

    ws.medee(&["once"]).assert().success();
    assert_eq!(
        pings(&server).len(),
        expected.len(),
        "nothing changed, no ping"
    );

    server.set("/list", listing(&[("/a/2", "Second"), ("/a/1", "First")]));
    server.set("/hub", Reply::status(500));
    let stderr = ws.stderr(&["once"], 0);
    assert!(stderr.contains("WebSub ping failed"), "{stderr}");
    assert_eq!(pings(&server).len(), expected.len() * 2);
}

#[test]
fn websub_needs_a_public_url_for_the_feeds() {
    let ws = Workspace::new(
        "[daemon]\nwebsub_hub = \"https://hub.example.org/\"\n\
         [[source]]\nid = \"h\"\nurl = \"https://a.mn/\"\nitem = \"li\"\n",
    );
    let stderr = ws.stderr(&["check"], 2);
    assert!(
        stderr.contains("medee.toml:2:14:")
            && stderr.contains("websub_hub needs the feeds' public URL"),
        "{stderr}"
    );
    ws.write_config("[daemon]\non_new = []\n");
    let stderr = ws.stderr(&["check"], 2);
    assert!(stderr.contains("on_new is empty"), "{stderr}");
}

#[test]
fn the_daemon_runs_the_hook_and_pings_the_hub_after_a_scheduled_run() {
    let server = Server::start();
    server.set("/list", listing(&[("/a/1", "First")]));
    server.set("/hub", Reply::status(202));
    let ws = Workspace::new("");
    let config = hook_config(&server, ws.path(), HOOK).replace(
        "[daemon]\n",
        &format!(
            "[daemon]\nschedule = \"* * * * * *\"\nbase_url = \"https://news.example.org/\"\n\
             websub_hub = \"{}/hub\"\n",
            server.origin()
        ),
    );
    ws.write_config(&config);
    let mut daemon = Daemon::start(&ws, &[]);
    wait_until("the first cycle's pings", || pings(&server).len() == 6);
    let got = ws.path().join("got.jsonl");
    assert!(!got.exists(), "the first fill is not news");

    server.set("/list", listing(&[("/a/2", "Second"), ("/a/1", "First")]));
    wait_until("the hook's file", || {
        std::fs::read_to_string(&got).is_ok_and(|t| t.lines().count() == 1)
    });
    let line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&got).expect("written").trim_end())
            .expect("JSON");
    assert_eq!(line["title"], "Second");
    wait_until("pings for the changed feeds", || pings(&server).len() == 12);
    let topics: Vec<String> = pings(&server).into_iter().skip(6).map(|(_, t)| t).collect();
    assert!(
        topics.contains(&"https://news.example.org/h.atom".to_string()),
        "{topics:?}"
    );
    daemon.signal("TERM");
    assert!(daemon.wait_exit().success());
}
