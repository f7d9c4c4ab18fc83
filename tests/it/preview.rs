//! `medee preview`: what a source's selectors extract, without storing anything.

use crate::support::{
    Reply, Server, Workspace, fixture_path, serve_shipped_fixtures, shipped_config,
};

#[test]
fn preview_of_a_saved_page_prints_the_items_and_writes_nothing() {
    let server = Server::start();
    let ws = Workspace::new(&shipped_config(&server));
    let file = fixture_path("gogo-mn.html");
    let text = ws.stdout(
        &[
            "preview",
            "gogo-mn",
            "--file",
            file.to_str().expect("utf-8 path"),
        ],
        0,
    );
    assert!(text.contains("matched 3 · kept 3"), "{text}");
    assert!(
        text.contains("Засгийн газрын хуралдаанаар төсвийн тодотголыг хэлэлцэв"),
        "{text}"
    );
    assert!(text.contains("\"2 цагийн өмнө\", relative"), "{text}");
    assert!(!ws.path().join("feeds").exists() && !ws.path().join("state").exists());
    assert_eq!(server.hits("/i/2"), 0);
}

#[test]
fn preview_json_is_machine_readable() {
    let server = Server::start();
    serve_shipped_fixtures(&server);
    let ws = Workspace::new(&shipped_config(&server));
    let out = ws.stdout(&["preview", "nknews", "--json"], 0);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(doc["counts"]["matched"], 5);
    assert_eq!(doc["counts"]["filtered_out"], 3);
    let items = doc["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["date"], "2024-07-23T04:00:00Z");
    assert_eq!(items[0]["date_text"], "July 23, 2024");
    assert_eq!(server.hits("/category/news/"), 1);
}

#[test]
fn preview_exit_codes() {
    let server = Server::start();
    server.set(
        "/empty",
        Reply::html("<html><body><p>nothing here</p></body></html>"),
    );
    let ws = Workspace::new(&format!(
        "[[source]]\nid = \"e\"\nurl = \"{o}/empty\"\nitem = \"li\"\n[[source]]\nid = \"down\"\nurl = \"{o}/down\"\nitem = \"li\"\n",
        o = server.origin()
    ));
    ws.medee(&["preview", "e"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("matched nothing"));
    ws.medee(&["preview", "down"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("HTTP 404"));
    ws.medee(&["preview", "nope"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("configured: e, down"));
}
