//! Publishing in an `output_dir` others can write to: planted symlinks and
//! FIFOs, temporary files after failures and crashes, secrets in source URLs
//! and hostile image URLs. Every output must stay valid.

use std::path::Path;
use std::time::Duration;

use crate::support::{OUTPUTS, Reply, Server, Workspace};

/// What a run of `medee once` may take at most, even with planted files.
const ONCE_BOUND: Duration = Duration::from_secs(60);

/// A workspace with one listing source `h` served with two items.
fn listing_workspace(server: &Server) -> Workspace {
    server.set(
        "/h",
        Reply::list(&[("/a/1", "First story"), ("/a/2", "Second story")]),
    );
    Workspace::new(&format!(
        "[[source]]\nid = \"h\"\nurl = \"{}/h\"\nitem = \"li\"\n",
        server.origin()
    ))
}

fn feeds_dir(ws: &Workspace) -> std::path::PathBuf {
    let dir = ws.path().join("feeds");
    std::fs::create_dir_all(&dir).expect("feeds dir");
    dir
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn temp_files(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// Every feed among the outputs parses and has entries.
fn assert_feeds_valid(ws: &Workspace, files: &[&str]) {
    for file in files
        .iter()
        .filter(|f| f.ends_with(".rss") || f.ends_with(".atom") || f.ends_with(".json"))
    {
        assert!(!ws.feed(file).entries.is_empty(), "{file} has no entries");
    }
}

#[test]
fn planted_symlinks_never_let_medee_write_into_their_targets() {
    let server = Server::start();
    let ws = listing_workspace(&server);
    let dir = feeds_dir(&ws);
    let victims: Vec<_> = (0..3)
        .map(|i| ws.path().join(format!("victim{i}.txt")))
        .collect();
    for victim in &victims {
        std::fs::write(victim, b"precious").expect("victim");
    }
    // The old fixed temporary name, and two output names.
    std::os::unix::fs::symlink(&victims[0], dir.join(".all.atom.tmp")).expect("symlink");
    std::os::unix::fs::symlink(&victims[1], dir.join("all.rss")).expect("symlink");
    std::os::unix::fs::symlink(&victims[2], dir.join("index.html")).expect("symlink");

    ws.medee(&["once"]).timeout(ONCE_BOUND).assert().code(0);

    for victim in &victims {
        assert_eq!(
            std::fs::read(victim).expect("victim"),
            b"precious",
            "{}",
            victim.display()
        );
    }
    for file in ["all.rss", "index.html"] {
        let meta = std::fs::symlink_metadata(dir.join(file)).expect("output");
        assert!(meta.is_file(), "{file} is still a symlink");
    }
    assert!(
        String::from_utf8(ws.output("index.html"))
            .expect("UTF-8")
            .contains("First story")
    );
    assert_feeds_valid(&ws, &OUTPUTS);
}

/// The publish fails (exit 1, as any failed publish) but is not stuck.
#[test]
fn a_fifo_at_an_output_name_does_not_block_and_is_reported() {
    let server = Server::start();
    let ws = listing_workspace(&server);
    let dir = feeds_dir(&ws);
    let fifo = dir.join("all.atom");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");

    let output = ws
        .medee(&["once"])
        .timeout(ONCE_BOUND)
        .assert()
        .code(1)
        .get_output()
        .clone();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("all.atom") && stderr.contains("FIFO"),
        "the error names the file:\n{stderr}"
    );
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::symlink_metadata(&fifo).expect("fifo").file_type();
    assert!(kind.is_fifo(), "the FIFO is left alone");
    let written: Vec<&str> = OUTPUTS.into_iter().filter(|f| *f != "all.atom").collect();
    assert_feeds_valid(&ws, &written);
    assert!(ws.output("feeds.opml").starts_with(b"<?xml"));
    assert_eq!(temp_files(&dir), Vec::<String>::new());
}

#[test]
fn no_temporary_file_outlives_a_publish() {
    let server = Server::start();
    let ws = listing_workspace(&server);
    let dir = feeds_dir(&ws);
    // Left by a crashed medee (a pid that cannot exist), and someone else's file.
    let stale = ".medee-all.rss.4294967294-00000000000000ff-3.tmp";
    std::fs::write(dir.join(stale), b"half a feed").expect("stale temp");
    std::fs::write(dir.join(".editor.tmp"), b"not ours").expect("other temp");
    // A directory where h.rss belongs makes this publish fail.
    std::fs::create_dir_all(dir.join("h.rss/x")).expect("blocker");

    let stderr = ws.stderr(&["once"], 1);

    assert!(
        stderr.contains("h.rss"),
        "the failure names the file:\n{stderr}"
    );
    assert_eq!(temp_files(&dir), [".editor.tmp"]);
    let written: Vec<&str> = OUTPUTS.into_iter().filter(|f| *f != "h.rss").collect();
    assert_feeds_valid(&ws, &written);
}

#[test]
fn source_credentials_and_api_keys_appear_in_no_output() {
    let server = Server::start();
    server.set("/list", Reply::list(&[("/read/1", "Secret-free headline")]));
    let port = server
        .origin()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let ws = Workspace::new(&format!(
        "[[source]]\nid = \"h\"\nurl = \"http://bob:hunter2@127.0.0.1:{port}/list?api_key=SECRET&page=1\"\nitem = \"li\"\n"
    ));

    ws.medee(&["once"]).timeout(ONCE_BOUND).assert().code(0);

    let seen = server.requests("/list?api_key=SECRET&page=1");
    assert_eq!(seen.len(), 1, "the source is fetched with its key");
    assert!(
        seen[0].header("authorization").is_some(),
        "and its credentials"
    );
    let opml = ws.stdout(&["opml"], 0);
    for (file, text) in OUTPUTS
        .iter()
        .map(|f| (*f, String::from_utf8(ws.output(f)).expect("UTF-8")))
        .chain([("medee opml", opml)])
    {
        for secret in ["bob", "hunter2", "SECRET"] {
            assert!(!text.contains(secret), "{file} shows {secret}:\n{text}");
        }
    }
    assert!(
        String::from_utf8(ws.output("feeds.opml"))
            .expect("UTF-8")
            .contains(&format!(
                "127.0.0.1:{port}/list?api_key=REDACTED&amp;page=1"
            )),
        "htmlUrl still names the page"
    );
    assert!(
        String::from_utf8(ws.output("h.atom"))
            .expect("UTF-8")
            .contains("Secret-free headline")
    );
    assert_feeds_valid(&ws, &OUTPUTS);
}

#[test]
fn hostile_thumbnails_of_a_native_feed_appear_in_no_output() {
    let server = Server::start();
    let origin = server.origin();
    let thumbnails = [
        "javascript:alert(1)",
        "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
        "/thumbs/relative.jpg",
        "//evil.example/thumbs/protocol-relative.jpg",
        &format!("{origin}/thumbs/fine.jpg"),
    ];
    let items: String = thumbnails
        .iter()
        .enumerate()
        .map(|(i, url)| {
            // The first story's teaser carries hostile images of its own.
            let content_images = if i == 0 {
                "<img src=\"javascript:alert(2)\"><img src=\"data:image/png;base64,AAAA\">\
                 <img src=\"/rel/in-teaser.png\">"
            } else {
                ""
            };
            format!(
                "<item><title>Story {i}</title><link>{origin}/s/{i}</link>\
                 <pubDate>Mon, 01 Jul 2024 0{i}:00:00 +0000</pubDate>\
                 <description><![CDATA[<p>Teaser {i}{content_images}</p>]]></description>\
                 <media:content url=\"{origin}/media/{i}.jpg\" medium=\"image\"/>\
                 <media:thumbnail url=\"{url}\"/></item>"
            )
        })
        .collect();
    let feed = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\">\
         <channel><title>N</title><link>{origin}/</link><description>d</description>{items}</channel></rss>"
    );
    server.set(
        "/feed",
        Reply::html(feed).with_content_type("application/rss+xml"),
    );
    let ws = Workspace::new(&format!(
        "[[source]]\nid = \"h\"\nkind = \"feed\"\nurl = \"{origin}/feed\"\n"
    ));

    ws.medee(&["once"]).timeout(ONCE_BOUND).assert().code(0);

    for file in OUTPUTS {
        let text = String::from_utf8(ws.output(file))
            .expect("UTF-8")
            .to_lowercase();
        for bad in [
            "javascript:",
            "data:image",
            "relative.jpg",
            "evil.example",
            "src=\"/",
        ] {
            assert!(!text.contains(bad), "{file} contains {bad}:\n{text}");
        }
    }
    for file in ["all.rss", "all.atom", "h.rss", "h.atom"] {
        let feed = ws.feed(file);
        assert_eq!(feed.entries.len(), thumbnails.len(), "{file}");
        let sources: Vec<String> = feed
            .entries
            .iter()
            .filter_map(|e| e.summary.as_ref())
            .flat_map(|s| img_sources(&s.content))
            .collect();
        assert_eq!(
            sources,
            [
                format!("{origin}/thumbs/fine.jpg"),
                format!("{origin}/rel/in-teaser.png")
            ],
            "{file}"
        );
    }
}

/// The `src` of every `<img>` in an HTML fragment.
fn img_sources(html: &str) -> Vec<String> {
    html.split("<img")
        .skip(1)
        .filter_map(|rest| {
            let tag = rest.split('>').next()?;
            let value = tag.split_once("src=\"")?.1;
            Some(value.split('"').next()?.to_string())
        })
        .collect()
}

#[test]
fn a_failing_source_with_credentials_shows_none_of_them_in_status_or_the_log() {
    let server = Server::start();
    server.set("/list?token=SECRET", Reply::status(503));
    let port = server
        .origin()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let ws = Workspace::new(&format!(
        "[[source]]\nid = \"h\"\nurl = \"http://bob:hunter2@127.0.0.1:{port}/list?token=SECRET\"\nitem = \"li\"\n"
    ));
    let log = ws.stderr(&["once"], 1);
    let table = ws.stdout(&["status"], 0);
    let json = ws.stdout(&["status", "--json"], 0);
    assert!(
        ws.source_status("h").last_error().contains("HTTP 503"),
        "the failure is still explained: {json}"
    );
    for (what, text) in [("log", &log), ("status", &table), ("status --json", &json)] {
        for secret in ["bob", "hunter2", "SECRET"] {
            assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
        }
    }
}
