//! `medee run`: the real binary as a long-running process, driven by signals,
//! watched through its outputs, its HTTP listener and a notify socket.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Reply, Server, Workspace};

/// A generous bound for things that happen within a second or two; reaching it
/// means the behaviour is missing, not slow.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

pub(crate) struct Daemon {
    child: Child,
}

impl Daemon {
    pub(crate) fn start(ws: &Workspace, envs: &[(&str, &str)]) -> Self {
        Self::launch(
            ws,
            Command::new(assert_cmd::cargo::cargo_bin("medee")),
            envs,
        )
    }

    /// `medee run` with its open-file limit lowered to `limit` by the shell.
    pub(crate) fn start_with_open_files(ws: &Workspace, limit: u32) -> Self {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
            .arg(assert_cmd::cargo::cargo_bin("medee"));
        Self::launch(ws, command, &[])
    }

    fn launch(ws: &Workspace, mut command: Command, envs: &[(&str, &str)]) -> Self {
        let log = std::fs::File::create(ws.path().join("daemon.log")).expect("log file");
        command
            .current_dir(ws.path())
            .env_remove("MEDEE_CONFIG")
            .env_remove("NOTIFY_SOCKET")
            .env("RUST_LOG", "info")
            .args(["--config", "medee.toml", "run"])
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in envs {
            command.env(k, v);
        }
        Self {
            child: command.spawn().expect("daemon starts"),
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    pub(crate) fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "daemon did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn entries(ws: &Workspace, file: &str) -> Option<usize> {
    let bytes = std::fs::read(ws.path().join("feeds").join(file)).ok()?;
    feed_rs::parser::parse(bytes.as_slice())
        .ok()
        .map(|f| f.entries.len())
}

/// Reads datagrams into `received` until one carries `needle`.
fn wait_for_notification(socket: &UnixDatagram, received: &mut String, needle: &str) {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + PATIENCE;
    while !received.contains(needle) {
        assert!(
            Instant::now() < deadline,
            "{needle} never arrived; got {received:?}"
        );
        let n = socket
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("waiting for {needle}: {e}; got {received:?}"));
        received.push_str(&String::from_utf8_lossy(&buf[..n]));
        received.push('\n');
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn config(origin: &str, port: u16, sources: &[&str]) -> String {
    let mut text = format!("[daemon]\nschedule = \"* * * * * *\"\nlisten = \"127.0.0.1:{port}\"\n");
    for id in sources {
        text.push_str(&format!(
            "[[source]]\nid = \"{id}\"\nurl = \"{origin}/{id}\"\nitem = \"li\"\n"
        ));
    }
    text
}

/// A raw HTTP/1.1 exchange: status, lower-cased headers, body. Raw, so that
/// paths like `/../x` reach the server exactly as written.
pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn follows_the_schedule_reloads_on_sighup_and_stops_cleanly_on_sigterm() {
    let server = Server::start();
    server.set("/a", Reply::list(&[("/a/1", "First story")]));
    server.set("/b", Reply::list(&[("/b/1", "Story from B")]));
    let port = free_port();
    let ws = Workspace::new(&config(&server.origin(), port, &["a"]));
    let mut daemon = Daemon::start(&ws, &[]);

    wait_until("a.atom with one entry", || {
        entries(&ws, "a.atom") == Some(1)
    });
    server.set(
        "/a",
        Reply::list(&[("/a/2", "Second story"), ("/a/1", "First story")]),
    );
    wait_until("a.atom picks up the changed page", || {
        entries(&ws, "a.atom") == Some(2)
    });

    ws.write_config(&config(&server.origin(), port, &["a", "b"]));
    daemon.signal("HUP");
    wait_until("b.atom after SIGHUP", || entries(&ws, "b.atom") == Some(1));
    wait_until("all.atom merges a and b", || {
        entries(&ws, "all.atom") == Some(3)
    });
    let status = ws.source_status("a");
    assert!(
        status.has("last_success") && status.has("next_run"),
        "last success and next run: {status:?}"
    );

    ws.write_config("[[source]]\nid = \"broken\"\nitme = \"li\"\n");
    daemon.signal("HUP");
    let hits_before = server.hits("/a");
    wait_until("the old config keeps fetching", || {
        server.hits("/a") >= hits_before + 2
    });
    assert!(
        daemon.is_running(),
        "a bad config on SIGHUP does not stop the daemon"
    );
    let (status, _, _) = http(port, "GET", "/all.atom", &[]);
    assert_eq!(status, 200, "still serving after a failed reload");

    daemon.signal("TERM");
    let status = daemon.wait_exit();
    assert_eq!(status.code(), Some(0));
    for file in ["a.rss", "a.atom", "b.rss", "b.atom", "all.rss", "all.atom"] {
        assert!(
            entries(&ws, file).is_some(),
            "{file} is a valid feed after shutdown"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(ws.path().join("feeds"))
        .expect("feeds dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "no temp files left: {leftovers:?}");
    ws.write_config(&config(&server.origin(), port, &["a", "b"]));
    let status = ws.stdout(&["status"], 0);
    assert!(
        status.contains("no run scheduled"),
        "a stopped daemon leaves no next run: {status}"
    );
    let log = std::fs::read_to_string(ws.path().join("daemon.log")).expect("log");
    assert!(
        log.contains("medee.toml:3:1: unknown key \"itme\""),
        "{log}"
    );
    assert!(log.contains("config reload failed"), "{log}");
}

#[test]
fn tells_systemd_ready_status_watchdog_reloading_and_stopping() {
    let server = Server::start();
    server.set("/a", Reply::list(&[("/a/1", "One"), ("/a/2", "Two")]));
    let ws = Workspace::new(&config(&server.origin(), free_port(), &["a"]));
    let socket_path = ws.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind notify socket");
    socket.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let mut daemon = Daemon::start(
        &ws,
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().expect("utf-8 path")),
            ("WATCHDOG_USEC", "400000"),
        ],
    );
    let mut received = String::new();
    wait_for_notification(&socket, &mut received, "READY=1");
    wait_for_notification(&socket, &mut received, "STATUS=");
    assert!(
        received.contains("STATUS=1 sources, 2 items, 0 failing"),
        "{received}"
    );
    assert_eq!(
        entries(&ws, "a.atom"),
        Some(2),
        "READY=1 comes after the first cycle's outputs"
    );
    wait_for_notification(&socket, &mut received, "WATCHDOG=1");
    daemon.signal("HUP");
    wait_for_notification(&socket, &mut received, "RELOADING=1");
    assert!(received.contains("MONOTONIC_USEC="), "{received}");
    daemon.signal("TERM");
    wait_for_notification(&socket, &mut received, "STOPPING=1");
    assert_eq!(daemon.wait_exit().code(), Some(0));
}

#[test]
fn serves_outputs_with_types_validators_and_no_traversal() {
    let server = Server::start();
    server.set("/a", Reply::list(&[("/a/1", "One")]));
    let port = free_port();
    let ws = Workspace::new(&config(&server.origin(), port, &["a"]));
    std::fs::write(ws.path().join("secret.txt"), "secret").expect("write");
    let _daemon = Daemon::start(&ws, &[]);
    wait_until("healthz answers 200", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
            && http(port, "GET", "/healthz", &[]).0 == 200
    });
    let (_, headers, body) = http(port, "GET", "/healthz", &[]);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    let health: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(health["sources"][0]["id"], "a");

    for (path, content_type) in [
        ("/all.rss", "application/rss+xml; charset=utf-8"),
        ("/a.atom", "application/atom+xml; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/feeds.opml", "text/x-opml; charset=utf-8"),
    ] {
        let (status, headers, body) = http(port, "GET", path, &[]);
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            header(&headers, "content-type"),
            Some(content_type),
            "{path}"
        );
        assert!(!body.is_empty(), "{path}");
    }

    let (_, headers, body) = http(port, "GET", "/all.atom", &[]);
    let etag = header(&headers, "etag").expect("etag").to_string();
    let modified = header(&headers, "last-modified")
        .expect("last-modified")
        .to_string();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong ETag: {etag}"
    );
    let (status, _, empty) = http(port, "GET", "/all.atom", &[("If-None-Match", &etag)]);
    assert_eq!((status, empty.len()), (304, 0));
    let (status, _, _) = http(
        port,
        "GET",
        "/all.atom",
        &[("If-Modified-Since", &modified)],
    );
    assert_eq!(status, 304);
    let (status, _, _) = http(port, "GET", "/all.atom", &[("If-None-Match", "\"other\"")]);
    assert_eq!(status, 200);

    let (status, headers, gz) = http(port, "GET", "/all.atom", &[("Accept-Encoding", "gzip")]);
    assert_eq!(
        (status, header(&headers, "content-encoding")),
        (200, Some("gzip"))
    );
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut decoded)
        .expect("valid gzip");
    assert_eq!(decoded, body);

    let (status, headers, head_body) = http(port, "HEAD", "/all.atom", &[]);
    assert_eq!((status, head_body.len()), (200, 0));
    assert_eq!(
        header(&headers, "content-length"),
        Some(body.len().to_string().as_str())
    );
    let (status, headers, _) = http(port, "POST", "/all.atom", &[]);
    assert_eq!(
        (status, header(&headers, "allow")),
        (405, Some("GET, HEAD"))
    );

    for path in [
        "/../medee.toml",
        "/%2e%2e/medee.toml",
        "/..%2fmedee.toml",
        "/%2e%2e%2fsecret.txt",
        "/../secret.txt",
        "/state/medee.db",
        "/..%5csecret.txt",
        "//etc/passwd",
        "/.all.atom.tmp",
        "/feeds/../../secret.txt",
    ] {
        let (status, _, body) = http(port, "GET", path, &[]);
        assert_eq!(status, 404, "{path}");
        assert!(!String::from_utf8_lossy(&body).contains("secret"), "{path}");
    }
}

#[test]
fn a_failing_source_backs_off_and_recovers_by_itself() {
    let server = Server::start();
    server.set("/down", Reply::status(404));
    let ws = Workspace::new(&format!(
        "[daemon]\nschedule = \"* * * * * *\"\n[[source]]\nid = \"down\"\nurl = \"{}/down\"\nitem = \"li\"\n",
        server.origin()
    ));
    let _daemon = Daemon::start(&ws, &[]);
    wait_until("three failures", || server.hits("/down") >= 3);
    let status = ws.stdout(&["status"], 0);
    assert!(status.contains("backing off after"), "{status}");
    wait_until("the next run pushed past the backoff", || {
        let status = ws.source_status("down");
        let time = |field: &str| {
            status.0[field]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        };
        status.0["state"] == "backing_off"
            && matches!((time("last_attempt"), time("next_run")), (Some(last), Some(next))
                if next - last >= chrono::Duration::seconds(4))
    });
    // After three failures the next attempt waits four intervals: within the
    // next 3 s at most one more try, where a source without backoff would be
    // tried three times. Then the site comes back before that attempt.
    let before = server.hits("/down");
    std::thread::sleep(Duration::from_secs(3));
    let tried = server.hits("/down") - before;
    assert!(tried <= 1, "{tried} attempts in 3 s on a 1 s schedule");
    server.set("/down", Reply::list(&[("/d/1", "Back online")]));
    wait_until("the source recovers by itself", || {
        entries(&ws, "down.atom") == Some(1)
    });
    let status = ws.source_status("down");
    assert_eq!(status.failures(), 0, "failures reset: {status:?}");
}

#[test]
fn once_beside_the_running_daemon_waits_for_the_store_instead_of_failing() {
    let server = Server::start();
    for (round, id) in ["a", "b", "c"].into_iter().enumerate() {
        // Numbers apart per source, so no two reports are one story.
        let items: Vec<(String, String)> = (0..20)
            .map(|n| {
                let number = 100 * round + n;
                (format!("/{id}/{n}"), format!("Story {number} from {id}"))
            })
            .collect();
        let items: Vec<(&str, &str)> = items
            .iter()
            .map(|(l, t)| (l.as_str(), t.as_str()))
            .collect();
        server.set(&format!("/{id}"), Reply::list(&items));
    }
    let ws = Workspace::new(&config(&server.origin(), free_port(), &["a", "b", "c"]));
    let _daemon = Daemon::start(&ws, &[]);
    wait_until("the first cycle", || entries(&ws, "all.atom").is_some());
    for _ in 0..5 {
        let output = ws.medee(&["once"]).output().expect("once runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains("locked"), "{stderr}");
    }
    assert_eq!(entries(&ws, "all.atom"), Some(60));
}

#[test]
fn sigterm_during_a_large_publish_exits_promptly_and_keeps_every_old_file() {
    let server = Server::start();
    let ids: Vec<String> = (0..20).map(|n| format!("s{n}")).collect();
    let list = |id: &str, round: usize| {
        let items: Vec<(String, String)> = (0..100)
            .map(|n| {
                (
                    format!("/{id}/{round}/{n}"),
                    format!("Story {n} of round {round} from {id}"),
                )
            })
            .collect();
        let items: Vec<(&str, &str)> = items
            .iter()
            .map(|(l, t)| (l.as_str(), t.as_str()))
            .collect();
        Reply::list(&items)
    };
    for id in &ids {
        server.set(&format!("/{id}"), list(id, 1));
    }
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut text = config(&server.origin(), free_port(), &id_refs)
        .replace("[daemon]\n", "[daemon]\nper_host_delay = \"0s\"\n");
    // One entry per report: the reports are alike, and this publish must be large.
    text.push_str("[[feed]]\nname = \"all\"\nmax_items = 2000\ncluster = false\n");
    let ws = Workspace::new(&text);
    ws.medee(&["once"]).assert().code(0);
    let before = entries(&ws, "all.atom").expect("a first all.atom");
    for id in &ids {
        server.set(&format!("/{id}"), list(id, 2));
    }
    let mut daemon = Daemon::start(&ws, &[]);
    let feeds = ws.path().join("feeds");
    let deadline = Instant::now() + PATIENCE;
    while !std::fs::read_dir(&feeds).is_ok_and(|dir| {
        dir.filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with(".medee-"))
    }) {
        assert!(Instant::now() < deadline, "no publish under way");
        std::thread::sleep(Duration::from_millis(2));
    }
    let signalled = Instant::now();
    daemon.signal("TERM");
    let status = daemon.wait_exit();
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(5), "exited after {took:?}");
    for id in id_refs.iter().chain(&["all"]) {
        for ext in ["rss", "atom"] {
            let file = format!("{id}.{ext}");
            assert!(
                entries(&ws, &file).is_some(),
                "{file} is whole after SIGTERM"
            );
        }
    }
    let after = entries(&ws, "all.atom").expect("all.atom");
    assert!(
        after == before || after == 2000,
        "old or new, never half: {before} -> {after}"
    );
}
