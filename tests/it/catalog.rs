//! The catalogue of ready sources: `medee catalog` lists what is compiled
//! in, `medee add` appends entries to a config, and every entry extracts the
//! expected headlines from a fixture modelled on its site's real page.

use crate::support::{Reply, Server, Workspace, fixture, serve_shipped_fixtures};

/// Every catalogue entry: its fixture (under tests/fixtures) and the
/// headlines it must extract from it, in order.
const ENTRIES: &[(&str, &str, &[&str])] = &[
    (
        "24tsag-mn",
        "catalog/24tsag-mn.html",
        &[
            "Нийслэлд шинэ гүүр ашиглалтад орлоо",
            "Цас орж, замын хөдөлгөөн удааширлаа",
            "Увс аймагт малчдад өвс тэжээл хүргэлээ",
        ],
    ),
    (
        "dobu-mn",
        "catalog/dobu-mn.html",
        &[
            "Засгийн газар ирэх оны төсвийн төслийг УИХ-д өргөн барьж, гол өөрчлөлтүүдийг танилцууллаа",
            "Хөдөлмөрийн зах зээлийн судалгааны дүн гарлаа",
            "Хүүхдийн эмнэлгийн шинэ барилгын ажил эхэллээ",
        ],
    ),
    (
        "elch-mn",
        "catalog/elch-mn.html",
        &[
            "Цахилгааны тариф нэмэгдэхгүй",
            "Оюутны тэтгэлэг ирэх оноос нэмэгдэнэ",
            "Хилийн боомтын ачаа тээвэр өслөө",
        ],
    ),
    (
        "ergelt-mn",
        "catalog/ergelt-mn.html",
        &[
            "ТӨСВИЙН ТОДОТГОЛ: ЗАРДЛЫГ ХЭРХЭН ТАНАХ ВЭ",
            "Сагсан бөмбөгийн баг Азийн аваргад оролцоно",
            "Малчид өвөлжөөндөө буулаа",
        ],
    ),
    (
        "esight-mn",
        "catalog/esight-mn.html",
        &[
            "Нарны цахилгаан станцын хүчин чадлыг нэмэгдүүлнэ",
            "Дулааны цахилгаан станцын засварын ажил дууслаа",
            "Салхин цахилгаан станцын дуудлага худалдаа зарлагдлаа",
        ],
    ),
    (
        "gogo-mn",
        "gogo-mn.html",
        &[
            "УИХ-ын чуулган намрын ээлжит хуралдаанаа эхэллээ",
            "Засгийн газрын хуралдаанаар төсвийн тодотголыг хэлэлцэв",
            "Сонгуулийн хуулийн төслийг анхны хэлэлцүүлэгт бэлтгэв",
            "Нийслэлд гурван шинэ цэцэрлэг ашиглалтад орлоо",
        ],
    ),
    (
        "gogo-mn-latest",
        "catalog/gogo-mn-latest.json",
        &[
            "Нийслэлийн төсвийн сонсгол болж байна",
            "Оюу толгойн далд уурхайн олборлолт нэмэгдлээ",
            "Хөвсгөл нуур бүрэн хөлдлөө",
        ],
    ),
    (
        "ikon-mn",
        "catalog/ikon-mn.xml",
        &[
            "УИХ-ын нэгдсэн хуралдаан өнөөдөр болно",
            "Ханшийн өөрчлөлт: доллар 3,400 төгрөгт хүрлээ",
        ],
    ),
    (
        "imedee-com",
        "catalog/imedee-com.xml",
        &[
            "Солонгос дахь монголчуудын цагаан сарын баяр",
            "Монгол ТВ: долоо хоногийн тойм",
        ],
    ),
    (
        "isee-mn",
        "catalog/isee-mn.html",
        &[
            "Зудын эрсдэлтэй сумдад нөөцийн өвс хуваарилна",
            "Хотын зөвлөлийн хурлаар нийтийн тээврийн үнийг хэлэлцэнэ",
            "Бөхийн улсын аварга шалгаруулах тэмцээн болно",
        ],
    ),
    (
        "itoim-mn",
        "catalog/itoim-mn.xml",
        &[
            "Хиймэл оюуны тухай хуулийн төслийг хэлэлцэнэ",
            "Стартапуудад зориулсан хөрөнгө оруулалтын сан байгуулагдлаа",
            "5G сүлжээ аймгийн төвүүдэд нэвтэрнэ",
        ],
    ),
    (
        "mass-mn",
        "catalog/mass-mn.html",
        &[
            "Ирэх долоо хоногт хүйтний эрч чангарна",
            "Сургуулиудын өвлийн амралт арванхоёрдугаар сарын 20-нд эхэлнэ",
            "Зэсийн баяжмалын экспорт 8 хувиар өслөө",
        ],
    ),
    (
        "mnb-mn",
        "catalog/mnb-mn.html",
        &[
            "Эрүүл мэндийн яам томуугийн дэгдэлтээс сэрэмжлүүллээ",
            "Үндэсний шигшээ баг Азийн аварга шалгаруулах..",
            "Төмөр замын шинэ чиглэлд ачаа тээвэр эхэллээ",
        ],
    ),
    (
        "mongolia-focus",
        "mongoliafocus-feed.xml",
        &[
            "Mongolia Focus in Review 2025",
            "Curios: a ger in the Ulaanbaatar suburbs",
        ],
    ),
    (
        "montsame-en",
        "montsame-en.html",
        &[
            "Mongolia and Japan Sign Memorandum on Renewable Energy",
            "Naadam Festival Opens in Ulaanbaatar",
            "Coal Exports Rise 12 Percent in First Half",
        ],
    ),
    (
        "montsame-mn",
        "montsame-mn.html",
        &[
            "Нүүрсний экспорт оны эхний хагаст 12 хувиар өсөв",
            "Төв банк бодлогын хүүг хэвээр үлдээлээ",
            "Улаанбаатарт агаарын бохирдлыг бууруулах шинэ хөтөлбөр батлагдлаа",
            "Ерөнхийлөгч Японы Ерөнхий сайдтай утсаар ярилаа",
        ],
    ),
    (
        "newmm-mn",
        "catalog/newmm-mn.html",
        &[
            "Нийслэлийн авто замын түгжрэлийг бууруулах арга хэмж...",
            "Эмнэлгүүд өвлийн бэлтгэлээ хангалаа",
            "Ноолуурын үнэ өсөх төлөвтэй байна",
        ],
    ),
    (
        "nknews",
        "nknews-feed.xml",
        &[
            "North Korea and Mongolia hold first trade talks in a decade",
            "Mongolian envoy presents credentials in Pyongyang",
        ],
    ),
    (
        "sonin-mn",
        "catalog/sonin-mn.html",
        &[
            "Монголбанк валютын нөөцийн мэдээг танилцууллаа",
            "Улаанбаатарт олон улсын номын үзэсгэлэн нээгдлээ",
            "Авто замын хөдөлгөөний дүрэмд өөрчлөлт орлоо",
        ],
    ),
];

/// The ids of the entries that name a `date` selector: their every item must be dated.
fn ids_with_a_date_selector(config: &str) -> Vec<String> {
    let table: toml::Table = toml::from_str(config).expect("TOML");
    table["source"]
        .as_array()
        .expect("sources")
        .iter()
        .filter(|s| s.get("date").is_some())
        .filter_map(|s| s.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .collect()
}

/// The ids `medee catalog` lists, in its order: the first word of each
/// line that a "checked against" line follows.
fn catalogue_ids(ws: &Workspace) -> Vec<String> {
    let out = ws.stdout(&["catalog"], 0);
    let lines: Vec<&str> = out.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[1].trim_start().starts_with("checked against:"))
        .filter_map(|w| w[0].split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Every source's `url` pointed at `{origin}/{id}`, where its fixture is served.
fn point_at(config: &str, origin: &str) -> String {
    let mut id = String::new();
    let mut out = String::from("[daemon]\nper_host_delay = \"0s\"\n\n");
    for line in config.lines() {
        if let Some(rest) = line.strip_prefix("id = \"") {
            id = rest.trim_end_matches('"').to_string();
        }
        if line.starts_with("url = ") {
            out.push_str(&format!("url = \"{origin}/{id}\"\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("xml") => "application/rss+xml",
        Some("json") => "application/json",
        _ => "text/html; charset=utf-8",
    }
}

#[test]
fn every_catalogue_entry_extracts_its_headlines_from_a_page_like_its_sites() {
    let server = Server::start();
    serve_shipped_fixtures(&server);
    for (id, file, _) in ENTRIES {
        server.set(
            &format!("/{id}"),
            Reply::html(fixture(file)).with_content_type(content_type(file)),
        );
    }
    let ws = Workspace::new("");
    let ids = catalogue_ids(&ws);
    let tested: Vec<&str> = ENTRIES.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(ids, tested, "every catalogue entry has a fixture here");
    assert!(ids.len() >= 15);

    let mut args = vec!["add"];
    args.extend(ids.iter().map(String::as_str));
    ws.stdout(&args, 0);
    let added = std::fs::read_to_string(ws.path().join("medee.toml")).expect("config");
    ws.write_config(&point_at(&added, &server.origin()));

    let dated = ids_with_a_date_selector(&added);
    assert!(dated.contains(&"24tsag-mn".to_string()), "{dated:?}");
    assert!(dated.contains(&"sonin-mn".to_string()), "{dated:?}");
    for (id, _, headlines) in ENTRIES {
        let out = ws.stdout(&["preview", id, "--json"], 0);
        let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        let items = doc["items"].as_array().expect("items");
        let titles: Vec<&str> = items.iter().filter_map(|i| i["title"].as_str()).collect();
        assert_eq!(titles, *headlines, "{id}");
        if dated.contains(&id.to_string()) {
            let undated: Vec<&serde_json::Value> =
                items.iter().filter(|i| i["date"].is_null()).collect();
            assert!(undated.is_empty(), "{id}: a date selector, but {undated:?}");
        }
        for item in items {
            let link = item["link"].as_str().unwrap_or_default();
            assert!(
                url::Url::parse(link).is_ok_and(|u| u.scheme().starts_with("http")),
                "{id}: {link}"
            );
        }
    }

    // One cycle over the whole catalogue: every feed parses back with its items.
    ws.medee(&["once"]).assert().code(0);
    for (id, _, headlines) in ENTRIES {
        let feed = ws.feed(&format!("{id}.atom"));
        assert_eq!(feed.entries.len(), headlines.len(), "{id}.atom");
    }
}

#[test]
fn catalog_lists_id_language_name_and_what_each_entry_was_checked_against() {
    let ws = Workspace::new("this config is not read");
    let out = ws.stdout(&["catalog"], 0);
    let sonin = out
        .lines()
        .position(|l| l.starts_with("sonin-mn "))
        .expect("sonin-mn listed");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[sonin].contains(" mn ") && lines[sonin].contains("Sonin.mn"),
        "{out}"
    );
    assert!(
        lines[sonin + 1]
            .trim_start()
            .starts_with("checked against: the home page as saved"),
        "{out}"
    );
    assert!(out.contains("ready sources"), "{out}");
}

#[test]
fn add_keeps_every_byte_of_the_file_and_refuses_an_id_already_there() {
    let original = "# My feeds.\n[daemon]\noutput_dir = \"feeds\"   # served by nginx\n\n\
                    [[source]]\nid = \"mine\"\nurl = \"https://news.example.mn/\"\nitem = \"li\"  # one per story";
    let ws = Workspace::new(original);
    let out = ws.stdout(&["add", "ikon-mn", "montsame-mn"], 0);
    assert!(out.contains("added ikon-mn, montsame-mn"), "{out}");
    let text = std::fs::read_to_string(ws.path().join("medee.toml")).expect("config");
    assert!(text.starts_with(original), "{text}");
    let added = &text[original.len()..];
    assert!(added.contains("# Checked against:"), "{added}");
    assert!(
        added.contains("[source.article]"),
        "montsame's article block comes along"
    );
    assert!(ws.stdout(&["check"], 0).contains("ok (3 sources"));

    let err = ws.stderr(&["add", "sonin-mn", "ikon-mn"], 2);
    assert!(
        err.contains("already has a [[source]] with id \"ikon-mn\""),
        "{err}"
    );
    let err = ws.stderr(&["add", "no-such-site"], 2);
    assert!(
        err.contains("no catalogue entry \"no-such-site\"") && err.contains("sonin-mn"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(ws.path().join("medee.toml")).expect("config"),
        text,
        "a refused add writes nothing"
    );
}

#[test]
fn add_writes_nothing_when_the_result_would_not_be_a_valid_config() {
    // A merged feed already named like the entry: both would write sonin-mn.rss.
    let original = "[[feed]]\nname = \"sonin-mn\"\n";
    let ws = Workspace::new(original);
    let err = ws.stderr(&["add", "sonin-mn"], 2);
    assert!(err.contains("nothing was written"), "{err}");
    assert!(
        err.contains("medee.toml:"),
        "the error points into the file: {err}"
    );
    assert_eq!(
        std::fs::read_to_string(ws.path().join("medee.toml")).expect("config"),
        original
    );
}

#[test]
fn add_creates_a_missing_config_file() {
    let ws = Workspace::new("");
    std::fs::remove_file(ws.path().join("medee.toml")).expect("remove");
    ws.stdout(&["add", "itoim-mn"], 0);
    let text = std::fs::read_to_string(ws.path().join("medee.toml")).expect("created");
    assert!(text.starts_with("# ITOIM"), "{text}");
    ws.stdout(&["check"], 0);
}
