//! The config rules, each through `Config::parse` as `check` runs it.

use super::*;

fn errors(text: &str) -> Vec<String> {
    match Config::parse(text, Path::new("medee.toml")) {
        Ok(_) => Vec::new(),
        Err(ConfigError::Invalid(list)) => list.iter().map(ToString::to_string).collect(),
        Err(e) => vec![e.to_string()],
    }
}

const MINIMAL: &str = r#"
[[source]]
id = "a"
url = "https://a.mn/"
item = "li"
"#;

#[test]
fn minimal_config_gets_defaults_and_an_all_feed() {
    let config = Config::parse(MINIMAL, Path::new("x.toml")).expect("valid");
    assert_eq!(config.daemon.concurrency, 8);
    assert_eq!(config.daemon.max_body, 10 << 20);
    assert_eq!(config.daemon.retention, Duration::from_secs(90 * 86_400));
    assert_eq!(config.feeds.len(), 1);
    assert_eq!(config.feeds[0].name, "all");
    assert_eq!(config.feeds[0].sources, vec!["a"]);
}

#[test]
fn unknown_key_names_table_line_column_and_suggestion() {
    let text = "[[source]]\nid = \"gogo-en\"\nurl = \"https://gogo.mn/\"\n  itme = \"li\"\n";
    let errs = errors(text);
    assert!(
        errs.iter().any(|e| e.starts_with("medee.toml:4:3: unknown key \"itme\" in [[source]] \"gogo-en\" (did you mean \"item\"?); expected one of id, name")),
        "{errs:?}"
    );
}

#[test]
fn every_error_is_reported_in_file_order() {
    let text = r#"[daemon]
schedule = "*/15 * * * *"
per_host_delay = "soon"
[[source]]
id = "Bad_Id"
url = "ftp://x.mn/"
item = "div["
timezone = "Mars/Base"
include = ["(unclosed"]
[[source]]
id = "b"
url = "https://b.mn/"
"#;
    let errs = errors(text);
    let lines: Vec<&str> = errs
        .iter()
        .map(|e| e.split(':').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        lines,
        ["2", "3", "5", "6", "7", "8", "9", "11"],
        "{errs:#?}"
    );
}

#[test]
fn duplicate_ids_and_feed_globs_are_checked() {
    let text = format!("{MINIMAL}{MINIMAL}[[feed]]\nname = \"x\"\nsources = [\"zz-*\"]\n");
    let errs = errors(&text);
    assert!(
        errs.iter().any(|e| e.contains("duplicate source id \"a\"")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("\"zz-*\" in [[feed]] \"x\" matches no source")),
        "{errs:?}"
    );
}

#[test]
fn a_feed_source_with_selectors_is_an_error_at_each_selector() {
    let text = "[[source]]\nid = \"f\"\nurl = \"https://f.mn/rss\"\nkind = \"feed\"\nitem = \"li\"\n  title = \"h3\"\n";
    let errs = errors(text);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].starts_with("medee.toml:5:8: [[source]] \"f\" has kind = \"feed\"")
            && errs[0].contains("\"item\""),
        "{errs:?}"
    );
    assert!(errs[1].starts_with("medee.toml:6:11:"), "{errs:?}");
}

#[test]
fn schedules_are_compiled_once_at_load() {
    let text =
        format!("[daemon]\nschedule = \"0 0 * * * *\"\n{MINIMAL}schedule = \" */5 * * * * *\"\n");
    let config = Config::parse(&text, Path::new("x.toml")).expect("valid");
    assert_eq!(config.daemon.schedule.text, "0 0 * * * *");
    let own = config.sources[0].schedule.as_ref().expect("own schedule");
    assert_eq!(own.text, "*/5 * * * * *");
    assert_eq!(
        own.cron,
        Schedule::parse("*/5 * * * * *").expect("valid").cron
    );
}

#[test]
fn syntax_errors_have_positions() {
    let errs = errors("[daemon\nx=1");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("medee.toml:1:"), "{errs:?}");
}

/// The one error of `text`, which must have exactly one.
fn only_error(text: &str) -> String {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "{text}\n{errs:#?}");
    errs[0].clone()
}

fn daemon(keys: &str) -> String {
    format!("[daemon]\n{keys}\n{MINIMAL}")
}

#[test]
fn limits_and_date_range_have_their_documented_defaults() {
    let config = Config::parse(MINIMAL, Path::new("x.toml")).expect("valid");
    let limits = config.daemon.limits;
    assert_eq!(limits, Limits::default());
    assert_eq!(
        (
            limits.page_items,
            limits.field_bytes,
            limits.content_bytes,
            limits.feed_bytes
        ),
        (500, 16 << 10, 256 << 10, 8 << 20)
    );
    assert_eq!(config.daemon.dates, DateRange::default());
    assert_eq!(
        config.daemon.dates.oldest.to_rfc3339(),
        "1970-01-01T00:00:00+00:00"
    );
    assert_eq!(config.daemon.dates.max_future, Duration::from_secs(86_400));
}

#[test]
fn limits_and_date_range_are_read_from_daemon() {
    let text = daemon(
        "max_page_items = 20\nmax_field = \"1KiB\"\nmax_content = \"64KiB\"\nmax_feed_size = \"1MiB\"\noldest_date = \"2000-02-29\"\nmax_future = \"2h\"",
    );
    let config = Config::parse(&text, Path::new("x.toml")).expect("valid");
    assert_eq!(
        config.daemon.limits,
        Limits {
            page_items: 20,
            field_bytes: 1 << 10,
            content_bytes: 64 << 10,
            feed_bytes: 1 << 20,
        }
    );
    assert_eq!(
        config.daemon.dates.oldest.to_rfc3339(),
        "2000-02-29T00:00:00+00:00"
    );
    assert_eq!(config.daemon.dates.max_future, Duration::from_secs(7200));
}

#[test]
fn bad_limits_and_dates_are_errors_at_their_values() {
    let cases = [
        (
            "max_page_items = 0",
            "medee.toml:2:18: max_page_items must be at least 1",
        ),
        ("max_page_items = \"many\"", "medee.toml:2:18: invalid type"),
        (
            "max_field = \"lots\"",
            "medee.toml:2:13: invalid size \"lots\"",
        ),
        (
            "max_content = \"0B\"",
            "medee.toml:2:15: invalid size \"0B\"",
        ),
        (
            "max_feed_size = \"2GiB\"",
            "medee.toml:2:17: max_feed_size = \"2GiB\" is out of range; expected at most 1GiB",
        ),
        (
            "oldest_date = \"1970-13-01\"",
            "medee.toml:2:15: invalid date \"1970-13-01\"; expected YYYY-MM-DD",
        ),
        (
            "oldest_date = \"0000-01-01\"",
            "medee.toml:2:15: invalid date \"0000-01-01\"",
        ),
        (
            "max_future = \"366d\"",
            "medee.toml:2:14: max_future = \"366d\" is out of range; expected from 0s to 365d",
        ),
    ];
    for (key, expected) in cases {
        let error = only_error(&daemon(key));
        assert!(error.starts_with(expected), "{key}: {error}");
    }
}

#[test]
fn durations_that_would_stall_fetching_are_out_of_range() {
    let cases = [
        (
            "per_host_delay = \"100000000w\"",
            "medee.toml:2:18: per_host_delay = \"100000000w\" is out of range; expected from 0s to 1h",
        ),
        (
            "per_host_delay = \"1h1ms\"",
            "medee.toml:2:18: per_host_delay = \"1h1ms\" is out of range",
        ),
        (
            "timeout = \"2h\"",
            "medee.toml:2:11: timeout = \"2h\" is out of range; expected from 1ms to 1h",
        ),
        (
            "timeout = \"0s\"",
            "medee.toml:2:11: timeout = \"0s\" is out of range",
        ),
        (
            "retention = \"100000000000000w\"",
            "medee.toml:2:13: invalid duration \"100000000000000w\"",
        ),
    ];
    for (key, expected) in cases {
        let error = only_error(&daemon(key));
        assert!(error.starts_with(expected), "{key}: {error}");
    }
    let at_the_bounds = daemon(
        "per_host_delay = \"1h\"\ntimeout = \"60m\"\nmax_future = \"365d\"\nretention = \"100000000w\"",
    );
    let config = Config::parse(&at_the_bounds, Path::new("x.toml")).expect("valid");
    assert_eq!(config.daemon.per_host_delay, Duration::from_secs(3600));
    assert_eq!(config.daemon.timeout, Duration::from_secs(3600));
}

#[test]
fn a_source_named_like_the_default_feed_is_an_error() {
    let source =
        |id: &str| format!("[[source]]\nid = \"{id}\"\nurl = \"https://a.mn/\"\nitem = \"li\"\n");
    let error = only_error(&source("all"));
    assert!(
        error.starts_with("medee.toml:2:6: source id \"all\" is also the name of the merged feed written when no [[feed]] is configured"),
        "{error}"
    );
    let named_feed = format!("{}[[feed]]\nname = \"news\"\n", source("all"));
    let config = Config::parse(&named_feed, Path::new("x.toml")).expect("valid");
    assert_eq!(config.feeds[0].sources, vec!["all"]);
    let same_feed = format!("{}[[feed]]\nname = \"all\"\n", source("all"));
    let error = only_error(&same_feed);
    assert!(
        error.starts_with("medee.toml:6:8: feed name \"all\" is also a source id"),
        "{error}"
    );
}

#[test]
fn empty_output_dir_or_database_is_an_error() {
    let error = only_error(&daemon("output_dir = \"\""));
    assert!(
        error.starts_with("medee.toml:2:14: output_dir is empty"),
        "{error}"
    );
    let error = only_error(&daemon("database = \" \""));
    assert!(
        error.starts_with("medee.toml:2:12: database is empty"),
        "{error}"
    );
    let here = Config::parse(&daemon("output_dir = \".\""), Path::new("x.toml")).expect("valid");
    assert_eq!(here.daemon.output_dir, Path::new("."));
}

#[test]
fn output_dir_and_database_on_one_path_is_an_error() {
    let cases = [
        (
            "output_dir = \"./out/\"\ndatabase = \"out\"",
            "medee.toml:3:12:",
        ),
        (
            "database = \"out//x\"\noutput_dir = \"out/./x\"",
            "medee.toml:2:12:",
        ),
        ("output_dir = \"state/medee.db\"", "medee.toml:2:14:"),
        ("database = \"feeds/\"", "medee.toml:2:12:"),
    ];
    for (keys, location) in cases {
        let error = only_error(&daemon(keys));
        assert!(
            error.starts_with(location) && error.contains("are the same path"),
            "{keys}: {error}"
        );
    }
    let apart = daemon("output_dir = \"out\"\ndatabase = \"out/medee.db\"");
    assert!(errors(&apart).is_empty(), "{:?}", errors(&apart));
}

#[test]
fn health_entries_health_after_and_on_break_have_defaults_and_are_checked() {
    let config = Config::parse(MINIMAL, Path::new("x.toml")).expect("valid");
    assert_eq!(config.daemon.health, HealthEntries::default());
    assert_eq!(
        (config.daemon.health.enabled, config.daemon.health.after),
        (true, 3)
    );
    assert_eq!(config.sources[0].on_break, OnBreak::Report);
    let set = Config::parse(
        &format!(
            "[daemon]\nhealth_entries = false\nhealth_after = 0\n{MINIMAL}on_break = \"adopt\"\n"
        ),
        Path::new("x.toml"),
    )
    .expect("valid");
    assert_eq!(
        set.daemon.health,
        HealthEntries {
            enabled: false,
            after: 0
        }
    );
    assert_eq!(set.sources[0].on_break, OnBreak::Adopt);
    let error = only_error(&daemon("health_after = -1"));
    assert!(
        error.starts_with("medee.toml:2:16: health_after must be a number of runs from 0 to 1000"),
        "{error}"
    );
    let error = only_error(&format!("{MINIMAL}on_break = \"fix\"\n"));
    assert!(
        error.contains("unknown on_break \"fix\" in [[source]]")
            && error.contains("\"report\" or \"adopt\""),
        "{error}"
    );
}

#[test]
fn article_fields_take_auto_one_by_one_or_all_at_once() {
    use crate::extract::ArticleField;
    let parse = |article: &str| {
        let text = format!(
            "[[source]]\nid = \"a\"\nurl = \"https://a.mn/\"\nitem = \"li\"\n[source.article]\n{article}"
        );
        Config::parse(&text, Path::new("x.toml"))
            .expect("valid")
            .sources
            .remove(0)
            .article
            .expect("article")
    };
    let one = parse("content = \"auto\"\ndate = \"time @datetime\"\n");
    assert!(matches!(one.content, ArticleField::Auto));
    assert!(matches!(one.date, ArticleField::Selector(_)));
    assert!(matches!(one.author, ArticleField::Off));
    let all = parse("auto = true\nauthor = \".by\"\n");
    assert!(matches!(all.content, ArticleField::Auto));
    assert!(matches!(all.date, ArticleField::Auto));
    assert!(matches!(all.author, ArticleField::Selector(_)));
    let errors = errors(
        "[[source]]\nid = \"a\"\nurl = \"https://a.mn/\"\nitem = \"li\"\n[source.article]\nauto = \"yes\"\n",
    );
    assert!(
        errors.iter().any(|e| e.starts_with("medee.toml:6:")),
        "{errors:?}"
    );
}

#[test]
fn toml_string_reads_back_as_the_value_it_quotes() {
    assert_eq!(toml_string("Gogo"), "\"Gogo\"");
    assert_eq!(toml_string("a\"b"), "'a\"b'", "a quote: a literal string");
    assert_eq!(toml_string("ctl\u{1}"), "\"ctl\\u0001\"");
    for value in [
        "",
        "it's",
        "a'b\"c",
        "line\nbreak",
        "(?m)^a\\.b$",
        "ёё",
        "\\",
    ] {
        let text = format!("v = {}", toml_string(value));
        let table: toml::Table = toml::from_str(&text).expect("valid TOML");
        assert_eq!(table["v"].as_str(), Some(value), "{text}");
    }
}

#[test]
fn a_date_format_with_an_unknown_specifier_is_an_error_at_its_line() {
    let error = only_error(&format!(
        "{MINIMAL}date_format = [\"%Y-%m-%d\", \"%Y.%m.%!\"]\n"
    ));
    assert!(
        error.contains("invalid date_format \"%Y.%m.%!\" in [[source]]"),
        "{error}"
    );
    let line = MINIMAL.lines().count() + 1;
    assert!(error.starts_with(&format!("medee.toml:{line}:")), "{error}");
    let text = format!("{MINIMAL}date_format = [\"%Y-%m-%d %H:%M\", \"%d.%m.%Y\"]\n");
    assert!(Config::parse(&text, Path::new("x.toml")).is_ok());
}
