//! The daemon run inside the test process, with its listener and its signals
//! injected: reloads and shutdown are driven by a channel, not by `kill`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use medee::config::Config;
use medee::daemon::{Options, Signal, run_with};
use tokio::sync::mpsc;

use crate::support::{Reply, Server, Workspace};

const PATIENCE: Duration = Duration::from_secs(20);

fn config_text(ws: &Workspace, origin: &str, sources: &[&str]) -> String {
    let dir = ws.path().display();
    let mut text = format!(
        "[daemon]\noutput_dir = \"{dir}/feeds\"\ndatabase = \"{dir}/state/medee.db\"\nschedule = \"0 0 0 * * *\"\n"
    );
    for id in sources {
        text.push_str(&format!(
            "[[source]]\nid = \"{id}\"\nurl = \"{origin}/{id}\"\nitem = \"li\"\n"
        ));
    }
    text
}

fn healthz(port: u16) -> Option<serde_json::Value> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let (_, body) = raw.split_once("\r\n\r\n")?;
    serde_json::from_str(body).ok()
}

async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn entries(dir: &Path, file: &str) -> Option<usize> {
    let bytes = std::fs::read(dir.join("feeds").join(file)).ok()?;
    feed_rs::parser::parse(bytes.as_slice())
        .ok()
        .map(|f| f.entries.len())
}

#[test]
fn reload_and_stop_arrive_through_the_injected_channel() {
    let server = Server::start();
    server.set("/a", Reply::list(&[("/a/1", "First from a")]));
    server.set(
        "/b",
        Reply::list(&[("/b/1", "First from b"), ("/b/2", "Second from b")]),
    );
    let ws = Workspace::new("");
    let path = ws.path().join("medee.toml");
    ws.write_config(&config_text(&ws, &server.origin(), &["a"]));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let (signals, receiver) = mpsc::channel(1);
        let config = Config::load(&path).expect("valid config");
        let daemon = tokio::spawn(run_with(Options {
            config_path: path.clone(),
            config,
            listener: Some(listener),
            signals: receiver,
        }));
        let dir = ws.path().to_path_buf();
        wait_for("healthz ok after the first cycle", || {
            healthz(port).is_some_and(|h| h["status"] == "ok")
        })
        .await;
        assert_eq!(entries(&dir, "all.atom"), Some(1));
        let health = healthz(port).expect("healthz");
        assert_eq!(health["sources"][0]["id"], "a");
        assert_eq!(health["sources"][0]["items"], 1);

        ws.write_config(&config_text(&ws, &server.origin(), &["a", "b"]));
        signals.send(Signal::Reload).await.expect("daemon listens");
        wait_for("b is added and published", || {
            entries(&dir, "all.atom") == Some(3)
        })
        .await;
        wait_for("healthz shows b from memory", || {
            healthz(port).is_some_and(|h| h["sources"][1]["items"] == 2)
        })
        .await;

        signals.send(Signal::Stop).await.expect("daemon listens");
        let stopped = tokio::time::timeout(Duration::from_secs(5), daemon)
            .await
            .expect("stops within 5 s")
            .expect("task completes");
        assert!(stopped.is_ok(), "{stopped:?}");
        wait_for("the listener closes", || healthz(port).is_none()).await;
    });
}
