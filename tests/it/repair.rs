//! When a site changes: a fixture site redesigned between runs (the server
//! swaps the page), the real binary's `once`, `status --json`, `repair`
//! (`--write` on a real config file with comments) and daemon, and every
//! feed parsed back.

use feed_rs::model::Feed;

use crate::daemon::{Daemon, free_port, http, wait_until};
use crate::support::{Reply, Server, Workspace, fixture, titles};

/// The headlines of `redesign-v1.html` (and of the redesigns), in page order.
const HEADLINES: [&str; 8] = [
    "Улсын Их Хурлын чуулган намрын ээлжит хуралдаанаа эхэллээ",
    "Mongolia and Japan sign a new agreement on renewable energy",
    "Улаанбаатарт агаарын бохирдлыг бууруулах шинэ хөтөлбөр батлагдлаа",
    "Coal exports through Gashuunsukhait reach a monthly record",
    "Монгол бөхийн холбоо улсын аваргын барилдааныг зохион байгуулна",
    "Central bank keeps its policy rate at 12 percent",
    "Хөвсгөл нуурын аялал жуулчлалын улирал амжилттай өндөрлөлөө",
    "New railway link between Zuunbayan and Khangi opens to freight",
];

/// The two stories `*-more.html` adds on top.
const NEW_HEADLINES: [&str; 2] = [
    "Засгийн газар ирэх оны төсвийн төслийг хэлэлцэн дэмжлээ",
    "Ulaanbaatar opens its first electric bus depot in Bayanzurkh",
];

/// The selector lines of source `h` as the config has them before a repair.
const H_SELECTORS: &str = "item = \"div.news-box\"     # one block per story
title = \".title\"          # the headline
link = \".title a @href\"
date = \".date\"
summary = \".body\"   # teaser
";

/// A config with comments everywhere: `repair --write` must keep every byte
/// but `h`'s selector lines.
fn config(origin: &str, daemon: &str, on_break: &str) -> String {
    format!(
        "# medee config for the redesign tests
[daemon]
output_dir = \"feeds\"    # where the feeds go
database = \"state/medee.db\"
per_host_delay = \"0s\"
{daemon}

# the site under test
[[source]]
id = \"h\"
name = \"Мэдээ.мн\"
url = \"{origin}/news\"
language = \"mn\"
timezone = \"Asia/Ulaanbaatar\"
# the selectors below are what repair rewrites
{H_SELECTORS}{on_break}

[source.article]   # kept as it is
allow_hosts = [\"cdn.example.mn\"]

[[source]]
id = \"other\"
url = \"{origin}/other\"
item = \"li\"    # untouched: another source's selector
"
    )
}

fn site(server: &Server, page: &str) {
    server.set("/news", Reply::html(fixture(page)));
    server.set(
        "/other",
        Reply::list(&[
            ("/o/1", "Other site's first headline"),
            ("/o/2", "Other site's second headline"),
        ]),
    );
}

fn notices(feed: &Feed) -> Vec<String> {
    titles(feed)
        .into_iter()
        .filter(|t| t.starts_with("medee: "))
        .collect()
}

/// Every format of `stem` parses; the Atom one is returned.
fn feeds(ws: &Workspace, stem: &str) -> Feed {
    for ext in ["rss", "json"] {
        ws.feed(&format!("{stem}.{ext}"));
    }
    ws.feed(&format!("{stem}.atom"))
}

/// The config's lines other than `h`'s selector lines, which are returned apart.
fn split_selector_lines(text: &str) -> (Vec<&str>, Vec<&str>) {
    let mut in_h = false;
    let (mut rest, mut selectors) = (Vec::new(), Vec::new());
    for line in text.split_inclusive('\n') {
        if line.starts_with("id = ") {
            in_h = line.starts_with("id = \"h\"");
        }
        if line.starts_with('[') {
            in_h = false;
        }
        let key = line.split(" =").next().unwrap_or("");
        if in_h && ["item", "title", "link", "date", "summary", "image"].contains(&key) {
            selectors.push(line);
        } else {
            rest.push(line);
        }
    }
    (rest, selectors)
}

#[test]
fn a_redesigned_site_is_reported_with_a_fix_that_repair_writes_and_that_works() {
    // suggest ranks the new structure's `li.story` and the `article` inside
    // it equally and takes the outer block.
    for (page, want) in [
        ("redesign-classes.html", "div.post-card"),
        ("redesign-structure.html", "li.story"),
    ] {
        let server = Server::start();
        let ws = Workspace::new(&config(&server.origin(), "", ""));
        site(&server, "redesign-v1.html");
        ws.medee(&["once"]).assert().code(0);
        assert_eq!(titles(&feeds(&ws, "h")), HEADLINES);

        site(&server, page);
        let stderr = ws.stderr(&["once"], 1);
        assert!(stderr.contains("div.news-box"), "{page}: {stderr}");
        let status = ws.source_status("h").0;
        assert_eq!(status["state"], "broken", "{page}: {status}");
        assert!(!status["broken_since"].is_null(), "{status}");
        let condition = status["condition"].as_str().expect("condition");
        assert!(
            condition.starts_with("broken since ") && condition.ends_with(", fix proposed"),
            "{condition}"
        );
        let proposal = &status["proposal"];
        let item = proposal["selectors"]["item"]
            .as_str()
            .expect("item")
            .to_string();
        assert_eq!(item, want, "{page}: {proposal}");
        assert_eq!(
            proposal["sample"],
            serde_json::json!(HEADLINES[..5]),
            "{page}"
        );
        assert_eq!(proposal["items"], 8);
        assert_eq!(proposal["problems"], serde_json::json!([]), "{page}");

        // The notice tops the source's feed and the merged one; items stay.
        let since = status["last_success"].as_str().expect("last success");
        let day = format!("{} {} UTC", &since[..10], &since[11..16]);
        let expected = format!("medee: Мэдээ.мн has not updated since {day}");
        for stem in ["h", "all"] {
            let feed = feeds(&ws, stem);
            assert_eq!(titles(&feed)[0], expected, "{stem}");
            assert_eq!(notices(&feed).len(), 1, "{stem}");
            let entry = &feed.entries[0];
            assert!(
                entry
                    .id
                    .starts_with(&format!("{}/news#medee-notice-", server.origin())),
                "{}",
                entry.id
            );
            let content = entry
                .content
                .as_ref()
                .and_then(|c| c.body.clone())
                .expect("content");
            assert!(content.contains("medee repair h --write"), "{content}");
            assert!(content.contains(&item), "{content}");
        }
        assert_eq!(feeds(&ws, "h").entries.len(), 9);
        // Another run of the same breakage renders the same notice, byte for byte.
        let atom = ws.output("h.atom");
        ws.medee(&["once"]).assert().code(1);
        assert_eq!(ws.output("h.atom"), atom, "{page}");
        let status = ws.source_status("h").0;
        assert_eq!(status["consecutive_failures"], 2);
        let item = status["proposal"]["selectors"]["item"]
            .as_str()
            .expect("item")
            .to_string();
        assert_eq!(item, want, "{page}: {status}");

        // `repair` shows the diff, then what the proposal extracts now.
        let shown = ws.stdout(&["repair", "h"], 0);
        assert!(shown.contains("-item = \"div.news-box\"\n"), "{shown}");
        assert!(shown.contains(&format!("+item = \"{item}\"\n")), "{shown}");
        assert!(shown.contains("-summary = \".body\"\n"), "{shown}");
        for headline in HEADLINES {
            assert!(
                shown.contains(headline),
                "{headline} not previewed: {shown}"
            );
        }

        let before = std::fs::read_to_string(ws.path().join("medee.toml")).expect("config");
        ws.medee(&["repair", "h", "--write"]).assert().code(0);
        let after = std::fs::read_to_string(ws.path().join("medee.toml")).expect("config");
        let (rest_before, old) = split_selector_lines(&before);
        let (rest_after, new) = split_selector_lines(&after);
        assert_eq!(
            rest_after, rest_before,
            "only h's selector lines may change"
        );
        assert_eq!(old.concat(), H_SELECTORS);
        assert!(new[0].starts_with(&format!("item = \"{item}\"")), "{new:?}");
        assert!(new[0].ends_with("     # one block per story\n"), "{new:?}");
        ws.medee(&["check"]).assert().code(0);

        // The repaired source works again: the notice goes, nothing is duplicated.
        ws.medee(&["once"]).assert().code(0);
        let status = ws.source_status("h").0;
        assert_eq!(status["state"], "ok", "{status}");
        assert!(
            status["condition"].is_null() && status["proposal"].is_null(),
            "{status}"
        );
        for stem in ["h", "all"] {
            assert!(notices(&feeds(&ws, stem)).is_empty(), "{stem}");
        }
        assert_eq!(titles(&feeds(&ws, "h")), HEADLINES, "{page}");
    }
}

#[test]
fn with_adopt_items_keep_flowing_with_their_titles_and_nothing_is_duplicated() {
    let server = Server::start();
    let ws = Workspace::new(&config(&server.origin(), "", "on_break = \"adopt\"\n"));
    site(&server, "redesign-v1.html");
    ws.medee(&["once"]).assert().code(0);

    site(&server, "redesign-structure-more.html");
    let stderr = ws.stderr(&["once"], 0);
    assert!(
        stderr.contains("adopted the proposed selectors"),
        "{stderr}"
    );
    let status = ws.source_status("h").0;
    assert_eq!(status["state"], "adopted", "{status}");
    assert_eq!(status["adopted"], true);
    // suggest's pick on the ten-story page: the list item, not the article inside it.
    assert_eq!(
        status["proposal"]["selectors"]["item"], "li.story",
        "{status}"
    );
    assert_eq!(status["proposal"]["sample"][0], NEW_HEADLINES[0]);
    assert!(
        status["condition"]
            .as_str()
            .is_some_and(|c| c.starts_with("adopted") && c.contains("medee repair h --write")),
        "{status}"
    );
    let expected: Vec<&str> = NEW_HEADLINES.iter().chain(&HEADLINES).copied().collect();
    let feed = feeds(&ws, "h");
    assert!(notices(&feed).is_empty());
    let mut shown = titles(&feed);
    shown.sort();
    let mut wanted: Vec<String> = expected.iter().map(|t| (*t).to_string()).collect();
    wanted.sort();
    assert_eq!(shown, wanted);

    // Every later run reads with the adoption, and says so.
    let stderr = ws.stderr(&["once"], 0);
    assert!(
        stderr.contains("extracting with the adopted proposal"),
        "{stderr}"
    );

    // Applying the fix later changes no item's identity.
    ws.medee(&["repair", "h", "--write"]).assert().code(0);
    let status = ws.source_status("h").0;
    assert_eq!(
        status["state"], "ok",
        "the config no longer has what was replaced: {status}"
    );
    ws.medee(&["once"]).assert().code(0);
    let status = ws.source_status("h").0;
    assert_eq!(status["state"], "ok", "{status}");
    assert_eq!(status["adopted"], false);
    assert_eq!(status["items"], 10);
    let feed = feeds(&ws, "all");
    let mut links: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
    links.sort();
    links.dedup();
    assert_eq!(links.len(), feed.entries.len());
    assert_eq!(feeds(&ws, "h").entries.len(), 10);
}

#[test]
fn a_site_that_is_down_gets_the_failure_notice_after_health_after_runs_and_no_proposal() {
    let server = Server::start();
    let closed = free_port();
    let mut text = config(&server.origin(), "health_after = 2", "");
    text.push_str(&format!(
        "\n[[source]]\nid = \"gone\"\nname = \"Gone site\"\nurl = \"http://127.0.0.1:{closed}/news\"\nitem = \"li\"\n"
    ));
    let ws = Workspace::new(&text);
    site(&server, "redesign-v1.html");
    ws.medee(&["once"]).assert().code(1);

    server.set("/news", Reply::status(500));
    ws.medee(&["once"]).assert().code(1);
    ws.medee(&["once"]).assert().code(1);
    // Two failures of h are within health_after; three of "gone" are not.
    let all = feeds(&ws, "all");
    let gone = ws.source_status("gone").0;
    let since = gone["failing_since"].as_str().expect("failing since");
    assert_eq!(
        notices(&all),
        [format!(
            "medee: Gone site has not updated since {} {} UTC",
            &since[..10],
            &since[11..16]
        )]
    );
    assert!(notices(&feeds(&ws, "h")).is_empty());
    assert!(gone["proposal"].is_null(), "{gone}");

    ws.medee(&["once"]).assert().code(1);
    let h = ws.source_status("h").0;
    assert_eq!(h["state"], "backing_off", "{h}");
    assert!(
        h["proposal"].is_null() && h["broken_since"].is_null(),
        "{h}"
    );
    assert!(
        h["condition"]
            .as_str()
            .is_some_and(|c| c.starts_with("failing since")),
        "{h}"
    );
    let feed = feeds(&ws, "h");
    assert_eq!(notices(&feed).len(), 1);
    let content = feed.entries[0]
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .expect("content");
    assert!(content.contains("500"), "{content}");
    assert!(content.contains("could not be read"), "{content}");
    assert_eq!(notices(&feeds(&ws, "all")).len(), 2);

    site(&server, "redesign-v1.html");
    ws.medee(&["once"]).assert().code(1);
    assert!(notices(&feeds(&ws, "h")).is_empty());
    assert_eq!(
        notices(&feeds(&ws, "all")).len(),
        1,
        "only gone's notice stays"
    );
    assert_eq!(titles(&feeds(&ws, "h")), HEADLINES);
}

#[test]
fn a_collapsed_listing_is_broken_and_health_entries_false_keeps_the_feeds_plain() {
    let server = Server::start();
    let ws = Workspace::new(&config(&server.origin(), "health_entries = false", ""));
    site(&server, "redesign-v1.html");
    for _ in 0..3 {
        ws.medee(&["once"]).assert().code(0);
    }
    site(&server, "redesign-v1-few.html");
    let stderr = ws.stderr(&["once"], 1);
    assert!(
        stderr.contains("the listing collapsed: 2 items found, where the last runs found 8"),
        "{stderr}"
    );
    let status = ws.source_status("h").0;
    assert_eq!(status["state"], "broken", "{status}");
    assert_eq!(status["items"], 8, "a collapsed page stores nothing");
    assert!(notices(&feeds(&ws, "h")).is_empty());
    assert!(notices(&feeds(&ws, "all")).is_empty());
}

#[test]
fn the_daemon_shows_the_breakage_on_healthz_and_takes_the_fix_on_sighup() {
    let server = Server::start();
    let port = free_port();
    let daemon_keys = format!("schedule = \"* * * * * *\"\nlisten = \"127.0.0.1:{port}\"");
    let ws = Workspace::new(&config(&server.origin(), &daemon_keys, ""));
    site(&server, "redesign-v1.html");
    let daemon = Daemon::start(&ws, &[]);
    let condition = || -> Option<serde_json::Value> {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        let (status, _, body) = http(port, "GET", "/healthz", &[]);
        if status != 200 {
            return None;
        }
        let doc: serde_json::Value = serde_json::from_slice(&body).ok()?;
        doc["sources"]
            .as_array()?
            .iter()
            .find(|s| s["id"] == "h")
            .map(|s| s["condition"].clone())
    };
    wait_until("h healthy", || condition() == Some(serde_json::Value::Null));

    site(&server, "redesign-classes.html");
    wait_until("healthz says broken, fix proposed", || {
        condition()
            .and_then(|c| c.as_str().map(str::to_string))
            .is_some_and(|c| c.starts_with("broken since") && c.ends_with("fix proposed"))
    });
    wait_until("the notice in h.atom", || {
        std::fs::read(ws.path().join("feeds/h.atom"))
            .ok()
            .and_then(|b| feed_rs::parser::parse(b.as_slice()).ok())
            .is_some_and(|f| notices(&f).len() == 1)
    });

    ws.medee(&["repair", "h", "--write"]).assert().code(0);
    daemon.signal("HUP");
    wait_until("healthy again after SIGHUP", || {
        condition() == Some(serde_json::Value::Null)
    });
    wait_until("the notice gone from h.atom", || {
        std::fs::read(ws.path().join("feeds/h.atom"))
            .ok()
            .and_then(|b| feed_rs::parser::parse(b.as_slice()).ok())
            .is_some_and(|f| notices(&f).is_empty() && f.entries.len() == 8)
    });
}

#[test]
fn repair_without_a_proposal_says_so_and_changes_nothing() {
    let server = Server::start();
    let mut text = config(&server.origin(), "", "");
    text.push_str(&format!(
        "\n[[source]]\nid = \"f\"\nurl = \"{}/feed\"\nkind = \"feed\"\n",
        server.origin()
    ));
    let ws = Workspace::new(&text);
    site(&server, "redesign-v1.html");
    let before = std::fs::read(ws.path().join("medee.toml")).expect("config");
    let stderr = ws.stderr(&["repair", "h", "--write"], 1);
    assert!(stderr.contains("h: no fix proposed"), "{stderr}");
    ws.medee(&["once", "--source", "h"]).assert().code(0);
    let stderr = ws.stderr(&["repair", "h"], 1);
    assert!(
        stderr.contains("no fix proposed (the source is not broken)"),
        "{stderr}"
    );
    ws.stderr(&["repair", "nope"], 2);
    let stderr = ws.stderr(&["repair", "f"], 2);
    assert!(stderr.contains("only html sources"), "{stderr}");
    assert_eq!(
        std::fs::read(ws.path().join("medee.toml")).expect("config"),
        before
    );
}
