//! Every class of config error: exit 2, `file:line:column`, nothing fetched.

use crate::support::{Reply, Server, Workspace};

fn base(origin: &str, extra: &str) -> String {
    format!("[[source]]\nid = \"ok\"\nurl = \"{origin}/ok\"\nitem = \"li\"\n{extra}")
}

#[test]
fn each_error_class_exits_2_with_its_line_number() {
    let server = Server::start();
    server.set("/ok", Reply::html("<ul><li><a href='/1'>One</a></li></ul>"));
    let o = server.origin();
    // (extra config appended after a valid source on lines 1-4, line of the error, expected text)
    let cases = [
        (
            "itme = \"li\"\n",
            5,
            "unknown key \"itme\" in [[source]] \"ok\"",
        ),
        (
            &format!("[[source]]\nid = \"ok\"\nurl = \"{o}/x\"\nitem = \"li\"\n") as &str,
            6,
            "duplicate source id \"ok\"",
        ),
        (
            "[[source]]\nid = \"css\"\nurl = \"https://x.mn/\"\nitem = \"div[[\"\n",
            8,
            "invalid CSS selector",
        ),
        ("include = [\"(?i)mongol(\"]\n", 5, "invalid regex"),
        ("timezone = \"Asia/Ulan_Bator_X\"\n", 5, "unknown time zone"),
        ("schedule = \"every hour\"\n", 5, "invalid cron expression"),
        (
            "[[source]]\nid = \"ftp\"\nurl = \"ftp://files.mn/news\"\nitem = \"li\"\n",
            7,
            "only http and https",
        ),
        (
            "[[source]]\nid = \"noitem\"\nurl = \"https://x.mn/\"\n",
            6,
            "no \"item\" selector",
        ),
        ("[daemon]\nconcurrency = \"eight\"\n", 6, "invalid type"),
    ];
    for (extra, line, text) in cases {
        let ws = Workspace::new(&base(&o, extra));
        for command in [&["check"][..], &["once"][..]] {
            let stderr = ws.stderr(command, 2);
            let location = format!("medee.toml:{line}:");
            assert!(
                stderr
                    .lines()
                    .any(|l| l.starts_with(&location) && l.contains(text)),
                "{command:?} for {extra:?}: expected {location} ... {text}, got:\n{stderr}"
            );
        }
    }
    assert_eq!(server.hits("/ok"), 0, "a bad config fetches nothing");
}

#[test]
fn a_valid_config_checks_clean_and_a_missing_file_is_explained() {
    let ws = Workspace::new(&base("https://example.mn", ""));
    ws.medee(&["check"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("ok (1 sources, 1 feeds)"));
    let mut missing = ws.medee(&["check"]);
    missing.args(["--config", "nowhere.toml"]);
    missing.assert().code(2).stderr(predicates::str::contains(
        "nowhere.toml: cannot read config",
    ));
}

#[test]
fn the_service_config_is_valid_and_has_the_shipped_sources() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let ws = Workspace::new("");
    let mut check = ws.medee(&["check"]);
    check
        .arg("--config")
        .arg(root.join("config/medee.service.toml"));
    check.assert().code(0);
    let read = |name: &str| -> toml::Table {
        toml::from_str(&std::fs::read_to_string(root.join("config").join(name)).expect("config"))
            .expect("TOML")
    };
    let (shipped, service) = (read("medee.toml"), read("medee.service.toml"));
    assert_eq!(
        shipped["source"], service["source"],
        "sources differ between the two configs"
    );
    assert_eq!(
        shipped["feed"], service["feed"],
        "feeds differ between the two configs"
    );
    assert_eq!(service["daemon"]["output_dir"].as_str(), Some("/run/medee"));
}

/// The holes that passed `check` before (issue 13) and the new `[daemon]`
/// keys' mistakes: each is exit 2 at its `file:line:column`, for `check` and
/// for `once` (which a per-host delay of years used to hang), and nothing is fetched.
#[test]
fn config_holes_exit_2_at_their_line_and_column() {
    let server = Server::start();
    server.set("/ok", Reply::html("<ul><li><a href='/1'>One</a></li></ul>"));
    let o = server.origin();
    let source = |id: &str| format!("[[source]]\nid = \"{id}\"\nurl = \"{o}/ok\"\nitem = \"li\"\n");
    let daemon = |key: &str| format!("[daemon]\n{key}\n{}", source("ok"));
    // (whole config, location, expected text)
    let cases = [
        (
            source("all"),
            "medee.toml:2:6:",
            "source id \"all\" is also the name of the merged feed",
        ),
        (
            daemon("output_dir = \"\""),
            "medee.toml:2:14:",
            "output_dir is empty",
        ),
        (
            daemon("output_dir = \"./state/medee.db/\""),
            "medee.toml:2:14:",
            "are the same path",
        ),
        (
            daemon("per_host_delay = \"100000000w\""),
            "medee.toml:2:18:",
            "per_host_delay = \"100000000w\" is out of range; expected from 0s to 1h",
        ),
        (
            daemon("timeout = \"2h\""),
            "medee.toml:2:11:",
            "expected from 1ms to 1h",
        ),
        (
            daemon("max_future = \"400d\""),
            "medee.toml:2:14:",
            "expected from 0s to 365d",
        ),
        (
            daemon("retention = \"99999999999999999w\""),
            "medee.toml:2:13:",
            "invalid duration",
        ),
        (
            daemon("max_page_items = 0"),
            "medee.toml:2:18:",
            "max_page_items must be at least 1",
        ),
        (
            daemon("max_content = \"big\""),
            "medee.toml:2:15:",
            "invalid size \"big\"",
        ),
        (
            daemon("oldest_date = \"01/01/1970\""),
            "medee.toml:2:15:",
            "invalid date \"01/01/1970\"; expected YYYY-MM-DD",
        ),
        (
            daemon("max_feed_sise = \"1MiB\""),
            "medee.toml:2:1:",
            "unknown key \"max_feed_sise\" in [daemon] (did you mean \"max_feed_size\"?)",
        ),
    ];
    for (config, location, text) in &cases {
        let ws = Workspace::new(config);
        for command in [&["check"][..], &["once"][..]] {
            let stderr = ws.stderr(command, 2);
            assert!(
                stderr
                    .lines()
                    .any(|l| l.starts_with(location) && l.contains(text)),
                "{command:?} for {config:?}: expected {location} ... {text}, got:\n{stderr}"
            );
        }
        assert!(!ws.path().join("feeds").exists(), "{config:?} wrote feeds");
    }
    assert_eq!(server.hits("/ok"), 0, "a bad config fetches nothing");
}

#[test]
fn the_limit_and_date_keys_and_a_named_feed_over_a_source_all_check_clean() {
    let config = "[daemon]\nmax_page_items = 50\nmax_field = \"4KiB\"\nmax_content = \"64KiB\"\n\
                  max_feed_size = \"1MiB\"\noldest_date = \"2000-01-01\"\nmax_future = \"12h\"\n\
                  per_host_delay = \"1h\"\ntimeout = \"1h\"\n\
                  [[source]]\nid = \"all\"\nurl = \"https://example.mn/\"\nitem = \"li\"\n\
                  [[feed]]\nname = \"everything\"\n";
    Workspace::new(config)
        .medee(&["check"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("ok (1 sources, 1 feeds)"));
}
