//! Story clustering end to end: three fixture sites report one story in
//! different words, beside look-alike headlines (another day's forecast,
//! another match, the same person at another event) that must stay apart.
//! Every output is parsed back (roxmltree, feed-rs, serde_json).

use crate::support::{Reply, Server, Workspace, fixture};

/// The story the three sites share, as each links it.
const STORY: [&str; 3] = ["/a/101", "/b/201", "/c/301"];

fn serve_sites(server: &Server) {
    for site in ["a", "b", "c"] {
        server.set(
            &format!("/{site}"),
            Reply::html(fixture(&format!("stories-{site}.html"))),
        );
    }
}

fn config(server: &Server, feed_keys: &str) -> String {
    let mut text = format!("[[feed]]\nname = \"all\"\ntitle = \"Мэдээ\"\n{feed_keys}\n");
    for site in ["a", "b", "c"] {
        text.push_str(&format!(
            "[[source]]\nid = \"{site}\"\nurl = \"{}/{site}\"\nlanguage = \"mn\"\nitem = \"ul.news li\"\n",
            server.origin()
        ));
    }
    text
}

/// One Atom entry as read back: id, alternate link, related links (href, title).
#[derive(Debug)]
struct AtomEntry {
    id: String,
    alternate: String,
    related: Vec<(String, String)>,
}

fn atom_entries(ws: &Workspace, file: &str) -> Vec<AtomEntry> {
    let text = String::from_utf8(ws.output(file)).expect("UTF-8");
    let doc = roxmltree::Document::parse(&text).expect("well-formed Atom");
    doc.descendants()
        .filter(|n| n.has_tag_name("entry"))
        .map(|entry| {
            let child_text = |name: &str| {
                entry
                    .children()
                    .find(|c| c.has_tag_name(name))
                    .and_then(|c| c.text())
                    .unwrap_or_default()
                    .to_string()
            };
            let links: Vec<_> = entry
                .children()
                .filter(|c| c.has_tag_name("link"))
                .collect();
            let href =
                |n: &roxmltree::Node<'_, '_>| n.attribute("href").unwrap_or_default().to_string();
            AtomEntry {
                id: child_text("id"),
                alternate: links
                    .iter()
                    .find(|l| l.attribute("rel") == Some("alternate"))
                    .map(href)
                    .unwrap_or_default(),
                related: links
                    .iter()
                    .filter(|l| l.attribute("rel") == Some("related"))
                    .map(|l| {
                        (
                            href(l),
                            l.attribute("title").unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

fn entry_with_id<'a>(entries: &'a [AtomEntry], id: &str) -> &'a AtomEntry {
    entries
        .iter()
        .find(|e| e.id == id)
        .unwrap_or_else(|| panic!("no entry {id} in {entries:#?}"))
}

#[test]
fn one_story_from_three_outlets_is_one_entry_whose_id_never_changes() {
    let server = Server::start();
    serve_sites(&server);
    let ws = Workspace::new(&config(&server, ""));
    let origin = server.origin();
    let url = |path: &str| format!("{origin}{path}");

    // Site a reports first; then b; then c. The entry keeps a's link as its id.
    ws.medee(&["once", "--source", "a"]).assert().code(0);
    ws.medee(&["once", "--source", "b"]).assert().code(0);
    let entries = atom_entries(&ws, "all.atom");
    let story = entry_with_id(&entries, &url(STORY[0]));
    assert_eq!(
        story.related,
        vec![(url(STORY[1]), "127.0.0.1".to_string())]
    );

    ws.medee(&["once"]).assert().code(0);
    let entries = atom_entries(&ws, "all.atom");
    let story = entry_with_id(&entries, &url(STORY[0]));
    assert_eq!(story.alternate, url(STORY[0]));
    let related: Vec<&str> = story.related.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(related, [url(STORY[1]), url(STORY[2])]);
    // 10 reports, 8 stories: the forecasts, the matches and the other meeting stay apart.
    assert_eq!(entries.len(), 8, "{entries:#?}");
    for apart in ["/a/102", "/b/202", "/a/103", "/b/203", "/b/204"] {
        entry_with_id(&entries, &url(apart));
    }
    assert!(
        entries
            .iter()
            .all(|e| !STORY[1..].contains(&e.id.trim_start_matches(&origin)))
    );

    // feed-rs reads the same: one entry per story, the list in the content.
    let atom = ws.feed("all.atom");
    assert_eq!(atom.entries.len(), 8);
    let rss = ws.feed("all.rss");
    assert_eq!(rss.entries.len(), 8);
    let rss_story = rss
        .entries
        .iter()
        .find(|e| e.id == url(STORY[0]))
        .expect("the story in RSS");
    let description = rss_story
        .summary
        .as_ref()
        .expect("description")
        .content
        .clone();
    assert!(description.contains("Also reported by"), "{description}");
    assert!(description.contains(&url(STORY[2])), "{description}");
    let json: serde_json::Value =
        serde_json::from_slice(&ws.output("all.json")).expect("JSON Feed");
    assert_eq!(json["items"].as_array().map(Vec::len), Some(8));

    // Per-source feeds are unchanged: every report, no related links.
    let per_source = atom_entries(&ws, "a.atom");
    assert_eq!(per_source.len(), 4);
    assert!(per_source.iter().all(|e| e.related.is_empty()));
    assert_eq!(atom_entries(&ws, "b.atom").len(), 4);

    // The digest page names the other outlets under the headline.
    let index = String::from_utf8(ws.output("index.html")).expect("UTF-8");
    let line = index
        .lines()
        .find(|l| l.contains(&format!("href=\"{}\"", url(STORY[0]))))
        .expect("the story on the digest page");
    assert!(line.contains("class=\"also\""), "{line}");
    assert!(
        line.contains(&url(STORY[1])) && line.contains(&url(STORY[2])),
        "{line}"
    );
    assert!(!index.contains(&format!("<li><a href=\"{}\"", url(STORY[1]))));
}

#[test]
fn cluster_false_keeps_every_report() {
    let server = Server::start();
    serve_sites(&server);
    let ws = Workspace::new(&config(&server, "cluster = false"));
    ws.medee(&["once"]).assert().code(0);
    let entries = atom_entries(&ws, "all.atom");
    assert_eq!(entries.len(), 10);
    assert!(entries.iter().all(|e| e.related.is_empty()));
}

#[test]
fn prefer_shows_the_preferred_report_under_the_first_reports_id() {
    let server = Server::start();
    serve_sites(&server);
    let ws = Workspace::new(&config(&server, "prefer = [\"c\"]"));
    let url = |path: &str| format!("{}{path}", server.origin());
    ws.medee(&["once", "--source", "a"]).assert().code(0);
    ws.medee(&["once"]).assert().code(0);
    let entries = atom_entries(&ws, "all.atom");
    let story = entry_with_id(&entries, &url(STORY[0]));
    assert_eq!(story.alternate, url(STORY[2]));
    let related: Vec<&str> = story.related.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(related, [url(STORY[0]), url(STORY[1])]);
}

#[test]
fn a_preferred_source_outside_the_feed_is_a_config_error() {
    let server = Server::start();
    let ws = Workspace::new(&config(
        &server,
        "sources = [\"a\", \"b\"]\nprefer = [\"c\"]",
    ));
    let err = ws.stderr(&["check"], 2);
    assert!(
        err.contains("medee.toml:5:11: prefer: \"c\" is not one of the sources"),
        "{err}"
    );
}
