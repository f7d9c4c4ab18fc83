//! Test support: a real HTTP/1.1 server on 127.0.0.1 whose responses each test
//! sets per path, and helpers to run the real `medee` binary against it.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// A canned response.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Answer 304 to a request whose If-None-Match carries this tag (and send it as ETag).
    pub etag: Option<String>,
    /// Send the body one byte at a time with this pause between bytes.
    pub drip: Option<Duration>,
}

impl Reply {
    pub fn html(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.into(),
            etag: None,
            drip: None,
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: format!("status {status}").into_bytes(),
            etag: None,
            drip: None,
        }
    }

    /// A listing page: one `<li><a href>title</a></li>` per item.
    pub fn list(items: &[(&str, &str)]) -> Self {
        let lis: String = items
            .iter()
            .map(|(href, title)| format!("<li><a href=\"{href}\">{title}</a></li>"))
            .collect();
        Self::html(format!("<html><body><ul>{lis}</ul></body></html>"))
    }

    pub fn with_content_type(self, value: &str) -> Self {
        self.with_header("Content-Type", value)
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub started: Instant,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, VecDeque<Reply>>,
    seen: HashMap<String, Vec<Seen>>,
    in_flight: usize,
    max_in_flight: usize,
}

/// A fixture server; it lives until the test process exits.
pub struct Server {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl Server {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Self { port, state }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.set_sequence(path, vec![reply]);
    }

    /// Replies in this order; the last one repeats.
    pub fn set_sequence(&self, path: &str, replies: Vec<Reply>) {
        self.state
            .lock()
            .expect("state")
            .routes
            .insert(path.to_string(), replies.into());
    }

    pub fn hits(&self, path: &str) -> usize {
        self.requests(path).len()
    }

    pub fn requests(&self, path: &str) -> Vec<Seen> {
        self.state
            .lock()
            .expect("state")
            .seen
            .get(path)
            .cloned()
            .unwrap_or_default()
    }

    /// The most requests this server ever had in progress at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().expect("state").max_in_flight
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut words = request_line.split_whitespace();
    let method = words.next().unwrap_or("GET").to_string();
    let path = words.next().unwrap_or("/").to_string();
    let mut headers = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        line.clear();
    }
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
        return;
    }
    let reply = {
        let mut state = state.lock().expect("state");
        state.in_flight += 1;
        state.max_in_flight = state.max_in_flight.max(state.in_flight);
        let seen = Seen {
            started: Instant::now(),
            method,
            headers: headers.clone(),
            body,
        };
        state.seen.entry(path.clone()).or_default().push(seen);
        let key = if state.routes.contains_key(&path) {
            path.clone()
        } else {
            path.split('?').next().unwrap_or("/").to_string()
        };
        match state.routes.get_mut(&key) {
            Some(queue) if queue.len() > 1 => {
                queue.pop_front().unwrap_or_else(|| Reply::status(404))
            }
            Some(queue) => queue.front().cloned().unwrap_or_else(|| Reply::status(404)),
            None => Reply::status(404),
        }
    };
    write_reply(stream, &reply, &headers);
    state.lock().expect("state").in_flight -= 1;
}

fn write_reply(mut stream: TcpStream, reply: &Reply, request_headers: &[(String, String)]) {
    let if_none_match = request_headers
        .iter()
        .find(|(k, _)| k == "if-none-match")
        .map(|(_, v)| v);
    let not_modified = reply.etag.is_some() && if_none_match == reply.etag.as_ref();
    let (status, body): (u16, &[u8]) = if not_modified {
        (304, b"")
    } else {
        (reply.status, &reply.body)
    };
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(etag) = &reply.etag {
        head.push_str(&format!("ETag: {etag}\r\n"));
    }
    head.push_str("\r\n");
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    match reply.drip {
        Some(pause) => {
            for byte in body {
                if stream
                    .write_all(std::slice::from_ref(byte))
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    return;
                }
                std::thread::sleep(pause);
            }
        }
        None => {
            let _ = stream.write_all(body);
        }
    }
}

/// A fixture file's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).expect("fixture exists")
}

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A temporary working directory with a config file in it.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new(config: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("medee.toml"), config).expect("write config");
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write_config(&self, config: &str) {
        std::fs::write(self.path().join("medee.toml"), config).expect("write config");
    }

    /// `medee --config medee.toml ARGS...`, run from the workspace directory.
    pub fn medee(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("medee").expect("binary built");
        cmd.current_dir(self.path())
            .env_remove("MEDEE_CONFIG")
            .env("RUST_LOG", "warn")
            .arg("--config")
            .arg("medee.toml")
            .args(args);
        cmd
    }

    /// Runs `medee ARGS` and asserts the exit code.
    fn run(&self, args: &[&str], code: i32) -> std::process::Output {
        self.medee(args).assert().code(code).get_output().clone()
    }

    /// Runs `medee ARGS`, asserts the exit code, returns stdout as text.
    pub fn stdout(&self, args: &[&str], code: i32) -> String {
        String::from_utf8(self.run(args, code).stdout).expect("stdout is UTF-8")
    }

    /// Runs `medee ARGS`, asserts the exit code, returns stderr as text.
    pub fn stderr(&self, args: &[&str], code: i32) -> String {
        String::from_utf8(self.run(args, code).stderr).expect("stderr is UTF-8")
    }

    /// Source `id`'s entry in `medee status --json`.
    pub fn source_status(&self, id: &str) -> SourceStatus {
        let report: serde_json::Value =
            serde_json::from_str(&self.stdout(&["status", "--json"], 0)).expect("status is JSON");
        let entry = report["sources"]
            .as_array()
            .and_then(|sources| sources.iter().find(|s| s["id"] == id))
            .unwrap_or_else(|| panic!("no status entry for {id}: {report}"));
        SourceStatus(entry.clone())
    }

    pub fn output(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.path().join("feeds").join(file))
            .unwrap_or_else(|e| panic!("output {file}: {e}"))
    }

    pub fn feed(&self, file: &str) -> feed_rs::model::Feed {
        let bytes = self.output(file);
        feed_rs::parser::parse(bytes.as_slice())
            .unwrap_or_else(|e| panic!("{file} does not parse: {e}"))
    }
}

/// One source's `medee status --json` entry, read by field name.
#[derive(Debug)]
pub struct SourceStatus(pub serde_json::Value);

impl SourceStatus {
    pub fn failures(&self) -> u64 {
        self.0["consecutive_failures"].as_u64().expect("a count")
    }

    pub fn items(&self) -> u64 {
        self.0["items"].as_u64().expect("a count")
    }

    pub fn last_error(&self) -> &str {
        self.0["last_error"].as_str().unwrap_or("")
    }

    pub fn has(&self, field: &str) -> bool {
        !self.0[field].is_null()
    }
}

/// Every output of a config with one source `h` and the default merged feed.
pub const OUTPUTS: [&str; 8] = [
    "all.rss",
    "all.atom",
    "all.json",
    "h.rss",
    "h.atom",
    "h.json",
    "index.html",
    "feeds.opml",
];

/// The shipped config with every site pointed at the fixture server and the
/// outputs and store kept inside the workspace.
pub fn shipped_config(server: &Server) -> String {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/medee.toml"))
            .expect("shipped config");
    let origin = server.origin();
    // Pacing has its own tests; here all the sites share one loopback server,
    // and the two feeds, both at /feed/ on their own hosts, get a path each.
    text.replace("per_host_delay = \"1s\"", "per_host_delay = \"0s\"")
        .replace("https://montsame.mn", &origin)
        .replace("https://gogo.mn", &origin)
        .replace(
            "https://mongoliafocus.com/feed/",
            &format!("{origin}/mongoliafocus/feed/"),
        )
        .replace(
            "https://www.nknews.org/feed/",
            &format!("{origin}/nknews/feed/"),
        )
}

/// The article pages the montsame fixtures link to.
pub const MONTSAME_ARTICLES: [&str; 7] = [
    "/mn/read/398211",
    "/mn/read/398207",
    "/mn/read/398190",
    "/mn/read/398174",
    "/en/read/377934",
    "/en/read/377921",
    "/en/read/377915",
];

/// The gogo.mn article pages the gogo fixture links to, with the
/// `last-modified` each one carries.
pub const GOGO_ARTICLES: [(&str, &str); 4] = [
    ("/r/n7k2qa", "2025-10-02T09:15:00+08:00"),
    ("/r/m3zd8w", "2025-10-01T18:40:00+08:00"),
    ("/r/p8x4tb", "2025-09-30T11:05:00+08:00"),
    ("/r/k2v9hs", "2025-09-29T16:20:00+08:00"),
];

/// Serves the shipped sources' fixtures at the paths the shipped config uses.
pub fn serve_shipped_fixtures(server: &Server) {
    server.set("/mn/more/8", Reply::html(fixture("montsame-mn.html")));
    server.set("/en/more/301", Reply::html(fixture("montsame-en.html")));
    server.set("/", Reply::html(fixture("gogo-mn.html")));
    let rss = |name: &str| Reply::html(fixture(name)).with_content_type("application/rss+xml");
    server.set("/nknews/feed/", rss("nknews-feed.xml"));
    server.set("/mongoliafocus/feed/", rss("mongoliafocus-feed.xml"));
    let article = fixture("montsame-mn-article.html");
    for path in MONTSAME_ARTICLES {
        server.set(path, Reply::html(article.clone()));
    }
    let gogo_article = String::from_utf8(fixture("gogo-mn-article.html")).expect("UTF-8");
    for (path, modified) in GOGO_ARTICLES {
        let page = gogo_article.replace("2025-10-02T09:15:00+08:00", modified);
        server.set(path, Reply::html(page));
    }
}

/// Every link a feed exposes (feed links, entry links, entry ids that are URLs).
/// The entries' titles, in feed order (empty for an entry without one).
pub fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries
        .iter()
        .map(|e| {
            e.title
                .as_ref()
                .map(|t| t.content.clone())
                .unwrap_or_default()
        })
        .collect()
}

pub fn assert_absolute_links(feed: &feed_rs::model::Feed, file: &str) {
    for link in feed
        .links
        .iter()
        .chain(feed.entries.iter().flat_map(|e| e.links.iter()))
    {
        let url = url::Url::parse(&link.href)
            .unwrap_or_else(|e| panic!("{file}: relative link {:?}: {e}", link.href));
        assert!(
            matches!(url.scheme(), "http" | "https" | "file"),
            "{file}: {url}"
        );
    }
}
