//! Hostile page content must never break an output or smuggle script into one.

use crate::support::{OUTPUTS, Reply, Server, Workspace};

#[test]
fn hostile_text_leaves_every_output_well_formed_and_free_of_script() {
    let server = Server::start();
    let mut page = b"<html><head><meta charset=\"utf-8\"><title>x</title></head><body>".to_vec();
    page.extend_from_slice(b"<div class=\"i\"><a href=\"/1\">Control \x01\x08\x0b\x1b chars \xef\xbf\xbf end</a>\
        <p class=\"s\">ok <img src=\"/p.png\" onerror=\"alert(1)\"><script>alert('x')</script></p></div>");
    page.extend_from_slice(b"<div class=\"i\"><a href=\"/2\">Invalid \xff\xfe\xc3 UTF-8 ]]> and &lt;script&gt;alert(1)&lt;/script&gt;</a>\
        <p class=\"s\"><a href=\"javascript:alert(1)\" onclick=\"x()\">link</a> ]]&gt; <iframe src=\"//evil\"></iframe><b>bold</b></p></div>");
    page.extend_from_slice(b"<div class=\"i\"><a href=\"/3\">Quotes \" ' &amp; &lt;b&gt; in title</a><p class=\"s\"><style>*{}</style>\
        <svg onload=\"x()\"></svg><a href=\"/rel\" style=\"color:red\">rel</a></p></div></body></html>");
    server.set("/h", Reply::html(page));
    let ws = Workspace::new(&format!(
        "[[source]]\nid = \"h\"\nurl = \"{}/h\"\nitem = \"div.i\"\nsummary = \".s\"\n",
        server.origin()
    ));
    ws.medee(&["once"]).assert().code(0);
    for file in OUTPUTS {
        let raw = ws.output(file);
        let text = String::from_utf8(raw.clone()).unwrap_or_else(|_| panic!("{file} is UTF-8"));
        let lower = text.to_lowercase();
        for bad in [
            "<script",
            "onerror",
            "onclick",
            "onload",
            "javascript:",
            "<iframe",
        ] {
            assert!(!lower.contains(bad), "{file} contains {bad}:\n{text}");
        }
        let own_stylesheet = usize::from(file == "index.html");
        assert_eq!(
            lower.matches("<style").count(),
            own_stylesheet,
            "{file}:\n{text}"
        );
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')),
            "{file} has a control character"
        );
        if file.ends_with(".rss") || file.ends_with(".atom") || file.ends_with(".json") {
            let feed =
                feed_rs::parser::parse(raw.as_slice()).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(feed.entries.len(), 3, "{file}");
            let titles: Vec<String> = feed
                .entries
                .iter()
                .filter_map(|e| e.title.as_ref().map(|t| t.content.clone()))
                .collect();
            assert!(
                titles
                    .iter()
                    .any(|t| t.contains("]]>") && t.contains("<script>")),
                "{file}: {titles:?}"
            );
        }
        if file.ends_with(".opml") || file.ends_with(".rss") || file.ends_with(".atom") {
            assert!(text.starts_with("<?xml"), "{file}");
        }
    }
    let atom = String::from_utf8(ws.output("h.atom")).expect("UTF-8");
    assert!(
        atom.contains(&format!("{}/rel", server.origin())),
        "a relative link in a summary is made absolute:\n{atom}"
    );
}

#[test]
fn a_windows_1251_page_declared_only_in_meta_reads_as_cyrillic() {
    let server = Server::start();
    let mut page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\"></head><body><ul><li><a href=\"/1\">".to_vec();
    page.extend(
        encoding_rs::WINDOWS_1251
            .encode("Улаанбаатар хотын мэдээ")
            .0
            .iter(),
    );
    page.extend_from_slice(b"</a></li></ul></body></html>");
    server.set("/cp", Reply::html(page).with_content_type("text/html"));
    let ws = Workspace::new(&format!(
        "[[source]]\nid = \"cp\"\nurl = \"{}/cp\"\nitem = \"li\"\nlanguage = \"mn\"\n",
        server.origin()
    ));
    ws.medee(&["once"]).assert().code(0);
    let feed = ws.feed("cp.atom");
    assert_eq!(
        feed.entries[0].title.as_ref().map(|t| t.content.as_str()),
        Some("Улаанбаатар хотын мэдээ")
    );
}

#[test]
fn fetch_limits_fail_only_their_own_source() {
    let server = Server::start();
    server.set(
        "/big",
        Reply::html(format!(
            "<ul>{}</ul>",
            "<li><a href='/x'>padding</a></li>".repeat(2_000)
        )),
    );
    let mut loop_reply = Reply::status(302);
    loop_reply.headers.push(("Location".into(), "/loop".into()));
    server.set("/loop", loop_reply);
    server.set(
        "/fine",
        Reply::html("<ul><li><a href='/1'>Fine</a></li></ul>"),
    );
    let ws = Workspace::new(&format!(
        "[daemon]\nmax_body = \"16KiB\"\n\
         [[source]]\nid = \"big\"\nurl = \"{o}/big\"\nitem = \"li\"\n\
         [[source]]\nid = \"loop\"\nurl = \"{o}/loop\"\nitem = \"li\"\n\
         [[source]]\nid = \"fine\"\nurl = \"{o}/fine\"\nitem = \"li\"\n",
        o = server.origin()
    ));
    ws.medee(&["once"]).assert().code(1);
    assert_eq!(ws.feed("fine.atom").entries.len(), 1);
    assert_eq!(ws.feed("all.atom").entries.len(), 1);
    assert_eq!(
        server.hits("/loop"),
        6,
        "the first request and 5 redirects, then stop"
    );
    let status = ws.stdout(&["status"], 0);
    assert!(
        status.contains("larger than max_body (16384 bytes)"),
        "{status}"
    );
    assert!(status.contains("more than 5 redirects"), "{status}");
}

/// Items stored for source `id`, from `medee status --json`.
fn stored_items(ws: &Workspace, id: &str) -> u64 {
    ws.source_status(id).items()
}

/// A hostile source next to an ordinary one; `once` must finish with `code`
/// and write the ordinary source's feed. Returns the workspace and stderr.
fn once_beside_an_ordinary_source(
    server: &Server,
    hostile: &str,
    code: i32,
) -> (Workspace, String) {
    server.set("/ok", Reply::list(&[("/ok/1", "Ordinary item")]));
    let ws = Workspace::new(&format!(
        "[daemon]\nmax_body = \"32MiB\"\n\
         [[source]]\nid = \"hostile\"\nurl = \"{o}{hostile}\"\nitem = \"li\"\n\
         [[source]]\nid = \"ok\"\nurl = \"{o}/ok\"\nitem = \"li\"\n",
        o = server.origin()
    ));
    let stderr = ws.stderr(&["once"], code);
    let ok = ws.feed("ok.atom");
    let titles: Vec<_> = ok
        .entries
        .iter()
        .filter_map(|e| e.title.as_ref())
        .map(|t| t.content.clone())
        .collect();
    assert_eq!(titles, ["Ordinary item"]);
    (ws, stderr)
}

#[test]
fn a_title_nested_20_000_levels_deep_crashes_nothing() {
    let server = Server::start();
    let title = format!(
        "{}Deep title{}",
        "<span>".repeat(20_000),
        "</span>".repeat(20_000)
    );
    server.set(
        "/deep",
        Reply::html(format!("<ul><li><a href=\"/d/1\">{title}</a></li></ul>")),
    );
    let (ws, stderr) = once_beside_an_ordinary_source(&server, "/deep", 0);
    assert!(!stderr.contains("overflow"), "{stderr}");
    let deep = ws.feed("hostile.atom");
    assert_eq!(deep.entries.len(), 1);
    assert_eq!(
        deep.entries[0].title.as_ref().map(|t| t.content.as_str()),
        Some("Deep title")
    );
    assert!(
        stderr.contains("tags nested deeper than 256 levels dropped"),
        "{stderr}"
    );
}

#[test]
fn a_listing_of_200_000_items_stores_500() {
    let server = Server::start();
    let items: String = (0..200_000)
        .map(|n| format!("<li><a href=\"/m/{n}\">Мэдээ {n}</a></li>"))
        .collect();
    server.set("/many", Reply::html(format!("<ul>{items}</ul>")));
    let (ws, stderr) = once_beside_an_ordinary_source(&server, "/many", 0);
    assert_eq!(stored_items(&ws, "hostile"), 500);
    assert_eq!(stored_items(&ws, "ok"), 1);
    let cut_lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("page cut to the limits"))
        .collect();
    assert_eq!(cut_lines.len(), 1, "{stderr}");
    assert!(
        cut_lines[0].contains("199500 items past the page's item limit"),
        "{stderr}"
    );
}
