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
    assert!(text.contains("matched 4 · kept 4"), "{text}");
    assert!(
        text.contains("Засгийн газрын хуралдаанаар төсвийн тодотголыг хэлэлцэв"),
        "{text}"
    );
    assert!(
        text.contains("https://mgl.gogo.mn/newsn/thumbnail/600/images/c/2025/10/331198-tosov.jpg"),
        "{text}"
    );
    assert!(!ws.path().join("feeds").exists() && !ws.path().join("state").exists());
    assert_eq!(server.hits("/"), 0);
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
    assert_eq!(items[0]["date_text"], "2024-07-23T04:00:00+00:00");
    assert_eq!(server.hits("/nknews/feed/"), 1);
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

#[test]
fn preview_warns_about_ambiguous_selectors_off_site_links_and_repeats() {
    let ws = Workspace::new(
        "[[source]]\nid = \"w\"\nurl = \"https://news.example.mn/list\"\nitem = \"div.card\"\ntitle = \"span\"\ndate = \"em\"\n",
    );
    std::fs::write(
        ws.path().join("page.html"),
        "<div class=\"card\"><a href=\"/a/1\">One</a><span>Headline one</span><span>extra</span><em>someday</em></div>\
         <div class=\"card\"><a href=\"https://elsewhere.org/b/2\">Two</a><span>Headline two</span><em>2024.12.20</em></div>\
         <div class=\"card\"><a href=\"/a/1#again\">Again</a><span>Headline one again</span></div>\
         <div class=\"card\"><span>No link here</span></div>",
    )
    .expect("write page");
    let out = ws.stdout(&["preview", "w", "--file", "page.html"], 0);
    assert!(
        out.contains("warning: title selector \"span\" matches several elements in 1 items"),
        "{out}"
    );
    assert!(
        out.contains("warning: 1 links point off-site, e.g. https://elsewhere.org/b/2"),
        "{out}"
    );
    assert!(
        out.contains("warning: 1 matches repeat a link already seen"),
        "{out}"
    );
    assert!(
        out.contains("warning: item 4: no title or no usable link (text: \"No link here\")"),
        "{out}"
    );
    assert!(out.contains("NOT RECOGNISED: \"someday\""), "{out}");
    assert!(out.contains("fields: date 1/2 (1 not recognised)"), "{out}");
}

#[test]
fn lazy_loaded_images_yield_the_real_picture_not_the_stand_in() {
    let ws = Workspace::new(
        "[[source]]\nid = \"lazy\"\nurl = \"https://gogo.mn/i/2\"\nlanguage = \"mn\"\nitem = \"li.card\"\nimage = \"img\"\n",
    );
    let out = ws.stdout(
        &[
            "preview",
            "lazy",
            "--json",
            "--file",
            &fixture_path("lazy-images.html").display().to_string(),
        ],
        0,
    );
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let images: Vec<&str> = doc["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["image"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(
        images,
        [
            "https://gogo.mn/thumb/600/snow.jpg",
            "https://gogo.mn/thumb/budget.jpg",
            "https://gogo.mn/thumb/school-840.webp",
            "https://gogo.mn/thumb/road.jpg",
            "https://gogo.mn/thumb/games-1200.jpg",
        ]
    );
}
