//! Test support: a real HTTP/1.1 server on 127.0.0.1 whose responses each test
//! sets per path, and helpers to run the real `medee` binary against it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use assert_cmd::Command;

/// A canned response.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn html(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.into(),
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: format!("status {status}").into_bytes(),
        }
    }

    pub fn with_content_type(mut self, value: &str) -> Self {
        self.headers.retain(|(k, _)| k != "Content-Type");
        self.headers.push(("Content-Type".into(), value.into()));
        self
    }
}

type Routes = Arc<Mutex<HashMap<String, Reply>>>;

/// A fixture server; it lives until the test process exits.
pub struct Server {
    port: u16,
    routes: Routes,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Server {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let routes: Routes = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let (r, h) = (Arc::clone(&routes), Arc::clone(&hits));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, h) = (Arc::clone(&r), Arc::clone(&h));
                std::thread::spawn(move || serve(stream, &r, &h));
            }
        });
        Self { port, routes, hits }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.routes
            .lock()
            .expect("routes")
            .insert(path.to_string(), reply);
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .expect("hits")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

fn serve(stream: TcpStream, routes: &Routes, hits: &Mutex<HashMap<String, usize>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    *hits.lock().expect("hits").entry(path.clone()).or_default() += 1;
    let reply = {
        let routes = routes.lock().expect("routes");
        let without_query = path.split('?').next().unwrap_or("/");
        routes
            .get(&path)
            .or_else(|| routes.get(without_query))
            .cloned()
            .unwrap_or_else(|| Reply::status(404))
    };
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply.body);
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

    /// Runs `medee ARGS`, asserts the exit code, returns stdout as text.
    pub fn stdout(&self, args: &[&str], code: i32) -> String {
        let out = self
            .medee(args)
            .assert()
            .code(code)
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).expect("stdout is UTF-8")
    }

    /// Runs `medee ARGS`, asserts the exit code, returns stderr as text.
    pub fn stderr(&self, args: &[&str], code: i32) -> String {
        let out = self
            .medee(args)
            .assert()
            .code(code)
            .get_output()
            .stderr
            .clone();
        String::from_utf8(out).expect("stderr is UTF-8")
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

/// The shipped config with every site pointed at the fixture server and the
/// outputs and store kept inside the workspace.
pub fn shipped_config(server: &Server) -> String {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/medee.toml"))
            .expect("shipped config");
    let origin = server.origin();
        // Pacing has its own tests; here all four sites share one loopback server.
    text.replace("per_host_delay = \"1s\"", "per_host_delay = \"0s\"")
        .replace("https://montsame.mn", &origin)
        .replace("https://gogo.mn", &origin)
        .replace(
            "https://www.nknews.org/category",
            &format!("{origin}/category"),
        )
}

/// Serves the four shipped-source fixtures at the paths the shipped config uses.
pub fn serve_shipped_fixtures(server: &Server) {
    server.set("/mn/more/8", Reply::html(fixture("montsame-mn.html")));
    server.set("/en/more/301", Reply::html(fixture("montsame-en.html")));
    server.set("/i/2", Reply::html(fixture("gogo-mn.html")));
    server.set("/category/news/", Reply::html(fixture("nknews.html")));
}

/// Every link a feed exposes (feed links, entry links, entry ids that are URLs).
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
