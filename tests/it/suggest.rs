//! `medee suggest`: on every listing fixture the suggested block, fed back
//! through `preview`, finds the real headlines and nothing else.

use crate::support::{Reply, Server, Workspace, fixture, fixture_path};

/// (fixture, the URL it stands for, every real headline on it)
const PAGES: &[(&str, &str, &[&str])] = &[
    (
        "style-table.html",
        "http://mongolianbusinessdatabase.com/base/news",
        &[
            "Нүүрсний экспорт 12 хувиар өслөө",
            "Төв банк бодлогын хүүг хэвээр үлдээв",
            "Mongolia signs renewable energy memorandum with Japan",
            "Улаанбаатарт шинэ гүүр ашиглалтад орлоо",
            "Gold output rises as Oyu Tolgoi ramps up",
            "Сонгуулийн хуулийн төслийг хэлэлцэв",
        ],
    ),
    (
        "style-ul.html",
        "https://ubdaily.example.mn/news/",
        &[
            "Coal exports hit a record in 2024",
            "Parliament passes the 2025 budget",
            "New airport road opens to traffic",
            "Cashmere prices fall for herders",
            "Winter dzud warning for three provinces",
            "Ulaanbaatar metro plan revived",
            "Mongolian wrestlers win in Tokyo",
        ],
    ),
    (
        "style-wordpress.html",
        "https://focus.example.mn/category/politics/",
        &[
            "Election results explained, seat by seat",
            "The mining royalties debate returns to parliament",
            "Air pollution season starts early in the capital",
            "What the third neighbour policy means in 2025",
            "Herders and climate: a year of extremes",
        ],
    ),
    (
        "style-cards.html",
        "https://ikon.example.mn/c/3",
        &[
            "Шатахууны үнэ нэмэгдэхгүй гэв",
            "Сурагчдын өвлийн амралт эхэллээ",
            "Хилийн боомтоор ачаа тээвэр нэмэгдэв",
            "Шинэ эмнэлэг ашиглалтад орлоо",
            "Хөгжимт жүжгийн тоглолт амжилттай болов",
            "Хүүхдийн цэцэрлэгийн хүртээмж сайжирна",
        ],
    ),
    (
        "style-busy.html",
        "https://today.example.mn/",
        &[
            "Budget vote delayed again as talks drag on",
            "Copper price lifts exports to a three-year high",
            "New school year reform splits teachers",
            "Railway link to China opens for freight",
            "Snowstorm closes roads in four provinces",
        ],
    ),
    (
        "style-copies.html",
        "https://mass.example.mn/latest",
        &[
            "Ерөнхий сайд Токиод айлчилж байна",
            "Улсын төсвийн тодотгол батлагдлаа",
            "Цахилгааны тариф нэмэгдэхгүй",
            "Хөдөө аж ахуйн үзэсгэлэн нээгдлээ",
            "Замын түгжрэлийг бууруулах шинэ арга хэмжээ",
            "Оюутнуудын тэтгэлэг нэмэгдэнэ",
        ],
    ),
    (
        "montsame-mn.html",
        "https://montsame.mn/mn/more/8",
        &[
            "Нүүрсний экспорт оны эхний хагаст 12 хувиар өсөв",
            "Төв банк бодлогын хүүг хэвээр үлдээлээ",
            "Улаанбаатарт агаарын бохирдлыг бууруулах шинэ хөтөлбөр батлагдлаа",
            "Ерөнхийлөгч Японы Ерөнхий сайдтай утсаар ярилаа",
        ],
    ),
    (
        "montsame-en.html",
        "https://montsame.mn/en/more/301",
        &[
            "Mongolia and Japan Sign Memorandum on Renewable Energy",
            "Naadam Festival Opens in Ulaanbaatar",
            "Coal Exports Rise 12 Percent in First Half",
        ],
    ),
    (
        "suggest-uikit-list.html",
        "https://gogo.mn/i/2",
        &[
            "УИХ-ын чуулган намрын ээлжит хуралдаанаа эхэллээ",
            "Засгийн газрын хуралдаанаар төсвийн тодотголыг хэлэлцэв",
            "Сонгуулийн хуулийн төслийг анхны хэлэлцүүлэгт бэлтгэв",
        ],
    ),
    (
        "suggest-query-ids.html",
        "https://udriin.example.mn/",
        &[
            "ЗАСГИЙН ГАЗАР ТӨСВИЙН ТОДОТГОЛЫГ ӨРГӨН ХҮРЭЭНД ХЭЛЭЛЦЭВ",
            "УЛААНБААТАРТ ШИНЭ ГҮҮР АШИГЛАЛТАД ОРЛОО",
            "ХИЛИЙН БООМТООР ӨДӨРТ МЯНГАН ТЭЭВЭР НЭВТЭРЧ БАЙНА",
            "СУРАГЧДЫН ЗУНЫ АМРАЛТ ИРЭХ ДОЛОО ХОНОГТ ЭХЭЛНЭ",
            "МАЛЧДАД ӨВЛИЙН БЭЛТГЭЛ ХАНГАХ ҮҮРЭГ ӨГӨВ",
            "НИЙСЛЭЛИЙН ЗАМЫН ТҮГЖРЭЛ ӨМНӨХ ОНООС БУУРАВ",
            "ЭРЧИМ ХҮЧНИЙ ҮНЭ ӨСӨХГҮЙ ГЭЖ ЯАМНААС МЭДЭГДЭВ",
        ],
    ),
    (
        "suggest-side-lists.html",
        "https://courier.example.mn/",
        &[
            "Parliament approves the mining royalty bill after a long debate",
            "Herders prepare for a hard winter in the western provinces",
            "New railway line to the southern border opens for freight",
            "Central bank keeps its policy rate unchanged for the third time",
            "Air quality in the capital improves as the ger district switches fuel",
            "Cashmere exporters look for new markets in Europe",
            "Teachers call for higher pay as the school year begins",
            "Ulaanbaatar unveils a plan for a second ring road",
            "Wrestlers from three provinces qualify for the national final",
            "Copper output at the largest mine rises by a fifth",
            "Tourist arrivals reach a record in the summer season",
            "The city council debates new rules for street vendors",
        ],
    ),
    (
        "suggest-truncated.html",
        "https://shuurhai.example.mn/",
        &[
            "Улсын Их Хурал ирэх оны төсвийн төслийг анхны хэлэлцүүлгээр баталлаа",
            "Нийслэлийн агаарын бохирдлыг бууруулах хөтөлбөрийн хоёрдугаар шат эхэллээ",
            "Оюутнуудад олгох тэтгэлгийн хэмжээг ирэх хичээлийн жилээс нэмэгдүүлнэ",
            "Өвөлжилтийн бэлтгэлийг хангах ажлын хэсэг баруун аймгуудад ажиллана",
            "Хилийн боомтуудын ачаа тээврийн хүчин чадлыг хоёр дахин нэмэгдүүлнэ",
            "Эрүүл мэндийн даатгалын шинэ багц ирэх сарын нэгнээс хэрэгжиж эхэлнэ",
            "Зам тээврийн ослын тоо өнгөрсөн оны мөн үеэс гуравны нэгээр буурав",
        ],
    ),
    (
        "suggest-utility-classes.html",
        "https://elch.example.mn/",
        &[
            "Уул уурхайн салбарт хамтарсан хяналт шалгалт үргэлжилж байна",
            "Цэргийн их сургуулийн төгсөгчид цолоо гардаж авлаа",
            "Наадмын өдрүүдэд үнэгүй автобусны чиглэл нэмэгдэнэ",
            "Даншиг наадмын барилдаанд шинэ аварга тодорлоо",
            "Төсвийн тодотголыг ирэх долоо хоногт хэлэлцэнэ",
            "Нийслэлийн агаарын чанар энэ долоо хоногт сайжирчээ",
            "Нүүрсний экспорт оны эхний хагаст өсөлттэй гарлаа",
            "Шинэ хичээлийн жилд бэлтгэх ажил эхэллээ",
            "Замын-Үүдийн боомтоор нэвтрэх ачаа нэмэгдэв",
            "Сүхбаатар дүүрэгт шинэ эмнэлэг ашиглалтад орлоо",
        ],
    ),
    (
        "suggest-category-boxes.html",
        "https://dasgal.example.mn/",
        &[
            "Сагсан бөмбөгийн баг Азийн аваргаас мөнгөн медаль авлаа",
            "Засгийн газрын ээлжит хуралдаан өнөөдөр болно",
            "Хилчин Д.Цоодолын гэргий шударга ёсыг нэхэж байна",
            "Электрон тамхины импортыг хязгаарлах тогтоол гарлаа",
            "Элчин сайд Вьетнамын Дак Лак мужид ажиллав",
            "Монголбанк своп хэлцлийн гэрээг сунгалаа",
            "Ойн түймрийг бүрэн унтраажээ",
        ],
    ),
    (
        "suggest-recurring-label.html",
        "https://radio.example.mn/",
        &[
            "ХӨСҮТ: Улаанбурхан өвчний багц шинжилгээ нэмэгдэв",
            "Даншиг наадамд Д.Анар заан түрүүлэв",
            "Налайх дүүрэгт нөлөөллийн аян эхэллээ",
            "УИХ: Өнөөдөр хуралдах байнгын хороод",
            "ЦАГ АГААР: Улаанбаатарт өдөртөө 27 хэм дулаан",
            "Эрчим хүчний засварын хуваарь гарлаа",
            "ЦАГ АГААР: Улаанбаатарт өдөртөө 25 хэм дулаан",
            "Хүүхдийн зуслангийн улирал эхэллээ",
            "Тээврийн цагдаа хурдны хяналт нэмэв",
            "Ховд аймагт үер буужээ",
        ],
    ),
    (
        "suggest-wp-widgets.html",
        "https://diaspora.example.com/",
        &[
            "Weekly episode: herders prepare for winter",
            "Weekly episode: the new airport one year on",
            "Weekly episode: cashmere from goat to coat",
            "Weekly episode: students abroad come home",
            "Weekly episode: the last reindeer herders",
            "Weekly episode: Naadam behind the scenes",
        ],
    ),
    (
        "nknews.html",
        "https://www.nknews.org/category/news/",
        &[
            "North Korea and Mongolia hold first trade talks in a decade",
            "North Korea opens new rail link to Russian border",
            "Kim Jong Un inspects munitions factory in Jagang Province",
            "Mongolian envoy presents credentials in Pyongyang",
            "South Korea resumes loudspeaker broadcasts along DMZ",
        ],
    ),
];

/// Runs suggest on a saved page, then preview with the suggested block;
/// returns the TOML and the titles preview extracted.
fn suggest_then_preview(file: &str, url: &str) -> (String, Vec<String>) {
    let ws = Workspace::new("");
    let path = fixture_path(file);
    let path = path.to_str().expect("utf-8 path");
    let toml = ws.stdout(&["suggest", "--file", path, "--base-url", url, "--toml"], 0);
    ws.write_config(&toml);
    let id = toml
        .lines()
        .find_map(|l| l.strip_prefix("id = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("an id in the block")
        .to_string();
    let json = ws.stdout(&["preview", &id, "--file", path, "--json"], 0);
    let doc: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let titles = doc["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["title"].as_str().map(str::to_string))
        .collect();
    (toml, titles)
}

#[test]
fn suggested_selectors_find_the_headlines_and_nothing_else_on_every_fixture() {
    for (file, url, headlines) in PAGES {
        let (toml, titles) = suggest_then_preview(file, url);
        let found = headlines
            .iter()
            .filter(|h| titles.iter().any(|t| t == *h))
            .count();
        let recall = found as f64 / headlines.len() as f64;
        assert!(
            recall >= 0.9,
            "{file}: recall {recall:.2}\n{toml}\n{titles:#?}"
        );
        let strays: Vec<&String> = titles
            .iter()
            .filter(|t| !headlines.contains(&t.as_str()))
            .collect();
        assert!(
            strays.is_empty(),
            "{file}: not headlines: {strays:?}\n{toml}"
        );
        assert!(!toml.contains("nth-child"), "{file}: {toml}");
    }
}

#[test]
fn the_block_names_the_page_and_its_language_and_escapes_css() {
    let (toml, _) = suggest_then_preview("suggest-uikit-list.html", "https://gogo.mn/i/2");
    assert!(toml.contains("name = \"Улс төр | GoGo.mn\""), "{toml}");
    assert!(toml.contains("language = \"mn\""), "{toml}");
    assert!(toml.contains("timezone = \"Asia/Ulaanbaatar\""), "{toml}");
    assert!(toml.contains("date = \".text-13\""), "{toml}");
    let (toml, _) = suggest_then_preview("montsame-mn.html", "https://montsame.mn/mn/more/8");
    assert!(toml.contains("image = \".news-image-bg @style\""), "{toml}");
    assert!(toml.contains("# No date on the listing"), "{toml}");
}

#[test]
fn a_page_without_a_list_is_exit_1_with_the_reason() {
    let ws = Workspace::new("");
    std::fs::write(
        ws.path().join("page.html"),
        "<html><body><p>Hello</p><a href='/x/123456'>one link</a></body></html>",
    )
    .expect("write");
    let stderr = ws.stderr(
        &[
            "suggest",
            "--file",
            "page.html",
            "--base-url",
            "https://x.mn/",
        ],
        1,
    );
    assert!(
        stderr.contains("no repeated blocks of article links"),
        "{stderr}"
    );
}

#[test]
fn all_lists_other_candidates_and_the_preview_follows_the_block() {
    let ws = Workspace::new("");
    let path = fixture_path("style-busy.html");
    let out = ws.stdout(
        &[
            "suggest",
            "--file",
            path.to_str().expect("utf-8"),
            "--base-url",
            "https://today.example.mn/",
            "--all",
        ],
        0,
    );
    assert!(out.contains("item = \"div.story\""), "{out}");
    let others = out
        .split("# other candidates")
        .nth(1)
        .expect("candidate list");
    assert!(
        others.contains("Most read story number 1") || others.contains("Breaking update"),
        "{out}"
    );
    assert!(out.contains("matched 5 · kept 5"), "{out}");
}

#[test]
fn article_suggests_a_block_from_the_first_item_page() {
    let server = Server::start();
    server.set("/mn/more/8", Reply::html(fixture("montsame-mn.html")));
    server.set(
        "/mn/read/398211",
        Reply::html(fixture("montsame-mn-article.html")),
    );
    let ws = Workspace::new("");
    let out = ws.stdout(
        &[
            "suggest",
            &format!("{}/mn/more/8", server.origin()),
            "--article",
            "--toml",
        ],
        0,
    );
    assert!(out.contains("[source.article]\nauto = true\n"), "{out}");
    let found = out
        .lines()
        .find(|l| l.starts_with("# found on "))
        .expect("what auto found");
    assert!(found.contains("/mn/read/398211"), "{found}");
    // montsame's date sits in its author block, with the byline, category
    // and e-mail address around it: the date text is the date's own element,
    // not the block's text with the byline in it.
    assert!(found.contains("date \"2025-07-09 14:35:00\""), "{found}");
    assert!(found.contains("content of 220 characters"), "{found}");
    ws.write_config(&out.replace("/mn/more/8\"", "/mn/more/8\"\n"));
    ws.medee(&["check"]).assert().code(0);
}

/// The selector lines of a block: `item = "…"`, `title = "…"` and so on.
fn selector_values(toml: &str) -> Vec<String> {
    toml.lines()
        .filter(|l| {
            ["item", "title", "link", "date", "summary", "image"]
                .iter()
                .any(|k| l.starts_with(&format!("{k} = ")))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn per_category_classes_and_long_class_chains_stay_out_of_selectors() {
    let (toml, _) = suggest_then_preview("suggest-side-lists.html", "https://courier.example.mn/");
    for line in selector_values(&toml) {
        for bad in [
            "category-",
            "format-",
            "status-",
            "type-",
            "post-9",
            "owl-",
            "wpp",
        ] {
            assert!(!line.contains(bad), "{bad} in {line}\n{toml}");
        }
        for step in line.split(['"', ' ']).filter(|s| s.contains('.')) {
            assert!(
                step.matches('.').count() <= 2,
                "more than two classes in {step}\n{toml}"
            );
        }
    }
}

#[test]
fn headlines_in_cyrillic_overrule_a_declared_en_and_profile_links_are_not_news() {
    let (toml, titles) =
        suggest_then_preview("suggest-query-ids.html", "https://udriin.example.mn/");
    assert!(toml.contains("language = \"mn\""), "{toml}");
    assert!(!titles.iter().any(|t| t.contains("сэтгүүлч")), "{titles:?}");
}

/// A listing page that advertises an RSS feed (and a comments feed).
fn page_with_feed() -> Vec<u8> {
    let page = String::from_utf8(fixture("style-busy.html")).expect("utf-8");
    page.replacen(
        "<head>",
        "<head><link rel=\"alternate\" type=\"application/rss+xml\" title=\"Comments Feed\" href=\"/comments/feed/\"><link rel=\"alternate\" type=\"application/rss+xml\" title=\"Feed\" href=\"/feed/\">",
        1,
    )
    .into_bytes()
}

#[test]
fn an_advertised_feed_is_suggested_first_and_the_scraped_block_follows_with_all() {
    let server = Server::start();
    server.set("/", Reply::html(page_with_feed()));
    let ws = Workspace::new("");
    let url = format!("{}/", server.origin());
    let out = ws.stdout(&["suggest", &url, "--toml"], 0);
    assert_eq!(out.matches("[[source]]").count(), 1, "{out}");
    assert!(out.contains("kind = \"feed\""), "{out}");
    assert!(
        out.contains(&format!("url = \"{}/feed/\"", server.origin())),
        "{out}"
    );
    assert!(!out.contains("comments"), "{out}");
    ws.write_config(&out);
    ws.medee(&["check"]).assert().code(0);

    let all = ws.stdout(&["suggest", &url, "--all", "--toml"], 0);
    let feed_at = all.find("kind = \"feed\"").expect("feed block");
    let scraped_at = all.find("item = \"div.story\"").expect("scraped block");
    assert!(feed_at < scraped_at, "{all}");
    ws.write_config(&all);
    ws.medee(&["check"]).assert().code(0);
}

#[test]
fn a_saved_page_names_its_feed_and_keeps_the_scraped_block() {
    let ws = Workspace::new("");
    std::fs::write(ws.path().join("page.html"), page_with_feed()).expect("write");
    let out = ws.stdout(
        &[
            "suggest",
            "--file",
            "page.html",
            "--base-url",
            "https://today.example.mn/",
            "--toml",
        ],
        0,
    );
    assert!(
        out.contains("advertises a RSS feed: https://today.example.mn/feed/"),
        "{out}"
    );
    assert!(out.contains("item = \"div.story\""), "{out}");
    assert!(!out.contains("kind = \"feed\"\n"), "{out}");
}

#[test]
fn a_script_rendered_page_says_it_carries_json_and_names_its_feed() {
    let ws = Workspace::new("");
    std::fs::write(
        ws.path().join("page.html"),
        r#"<html><head><link rel="alternate" type="application/atom+xml" href="/atom.xml"></head>
<body><div id="__next"></div>
<script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{"news":[{"title":"Coal exports rise","slug":"coal"}]}}}</script>
</body></html>"#,
    )
    .expect("write");
    let stderr = ws.stderr(
        &[
            "suggest",
            "--file",
            "page.html",
            "--base-url",
            "https://next.example.mn/",
        ],
        1,
    );
    assert!(stderr.contains("__NEXT_DATA__"), "{stderr}");
    assert!(
        stderr.contains("Atom feed: https://next.example.mn/atom.xml"),
        "{stderr}"
    );
}

#[test]
fn a_title_heading_three_different_items_is_excluded_as_a_label() {
    let (toml, titles) =
        suggest_then_preview("suggest-recurring-label.html", "https://radio.example.mn/");
    assert!(
        toml.contains(r#"exclude = ["(?m)^Монгол Улсын Төрийн дуулал$"]"#),
        "{toml}"
    );
    assert!(!titles.iter().any(|t| t.contains("дуулал")), "{titles:#?}");
}

#[test]
fn a_page_without_a_list_gets_a_json_block_for_its_script_data() {
    let url = "https://udur.example.mn/";
    let (toml, titles) = suggest_then_preview("suggest-next-data.html", url);
    for line in [
        "kind = \"json\"",
        "script = \"script#__NEXT_DATA__\"",
        "item = \"/props/pageProps/latest\"",
        "title = \"/title\"",
        "link = \"/n/{slug}\"",
        "date = \"/publishedAt\"",
        "summary = \"/excerpt\"",
        "image = \"/cover/src\"",
    ] {
        assert!(toml.contains(line), "{line} missing from\n{toml}");
    }
    assert_eq!(titles.len(), 4, "{titles:#?}");
    assert_eq!(
        titles[2],
        "Нийслэлийн агаарын бохирдол энэ долоо хоногт буурчээ"
    );
}
