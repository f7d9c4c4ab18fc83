//! `medee run`'s HTTP listener under attack: files planted in the output
//! directory, clients that never finish a request or never read a response,
//! oversized request heads, and more connections than descriptors.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::daemon::{Daemon, PATIENCE, free_port, http, wait_until};
use crate::support::{Reply, Server, Workspace};

/// The listener's limits (src/serve/mod.rs), as a client can observe them.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(20);
const MAX_CONNECTIONS: usize = 256;

/// A daemon serving one source's outputs, its first cycle done.
struct Listening {
    _server: Server,
    ws: Workspace,
    daemon: Daemon,
    port: u16,
}

impl Listening {
    fn start() -> Self {
        Self::start_with(|ws| Daemon::start(ws, &[]))
    }

    fn start_with(start: impl FnOnce(&Workspace) -> Daemon) -> Self {
        let server = Server::start();
        server.set("/a", Reply::list(&[("/a/1", "One")]));
        let port = free_port();
        // Hourly, so that after the first cycle only the listener uses CPU.
        let ws = Workspace::new(&format!(
            "[daemon]\nschedule = \"0 0 * * * *\"\nlisten = \"127.0.0.1:{port}\"\n\
             [[source]]\nid = \"a\"\nurl = \"{}/a\"\nitem = \"li\"\n",
            server.origin()
        ));
        let daemon = start(&ws);
        wait_until("healthz answers 200", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
                && http(port, "GET", "/healthz", &[]).0 == 200
        });
        Self {
            _server: server,
            ws,
            daemon,
            port,
        }
    }

    fn feeds(&self) -> std::path::PathBuf {
        self.ws.path().join("feeds")
    }

    /// A connection that has sent `bytes` and nothing more.
    fn send_partial(&self, bytes: &[u8]) -> TcpStream {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        // The listener may close the connection before everything is sent.
        let _ = stream.write_all(bytes);
        stream
    }

    /// A `/proc/PID/status` field in KiB (`VmRSS`, `VmHWM`).
    fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.daemon.pid()))
            .expect("daemon status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in {status}"))
    }

    /// User plus system CPU time the daemon has used, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.daemon.pid()))
            .expect("daemon stat");
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat(5); 12 and 13 here.
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.ws.path().join("daemon.log")).expect("log")
    }
}

/// Reads until the listener closes the connection; panics if it does not
/// within `PATIENCE`. Returns what was read.
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    match stream.read_to_end(&mut received) {
        Ok(_) => received,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => received,
        Err(e) => panic!(
            "the connection stayed open: {e} after {} bytes",
            received.len()
        ),
    }
}

fn clock_ticks_per_second() -> u64 {
    let output = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf runs");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("CLK_TCK is a number")
}

#[test]
fn serves_no_symlink_fifo_or_directory_planted_in_the_output_dir() {
    let listening = Listening::start();
    let feeds = listening.feeds();
    let secret = listening.ws.path().join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-CONTENT").expect("write");
    std::os::unix::fs::symlink(&secret, feeds.join("leak.rss")).expect("symlink");
    std::os::unix::fs::symlink("/etc/passwd", feeds.join("passwd.atom")).expect("symlink");
    std::os::unix::fs::symlink("all.atom", feeds.join("inside.atom")).expect("symlink");
    std::fs::create_dir(feeds.join("dir.rss")).expect("mkdir");
    let made = Command::new("mkfifo")
        .arg(feeds.join("fifo.rss"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success());

    for path in [
        "/leak.rss",
        "/passwd.atom",
        "/inside.atom",
        "/dir.rss",
        "/fifo.rss",
    ] {
        let (status, _, body) = http(listening.port, "GET", path, &[]);
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 404, "{path}: {body}");
        assert!(
            !body.contains("TOP-SECRET") && !body.contains("root:"),
            "{path}: {body}"
        );
    }
    let (status, _, body) = http(listening.port, "GET", "/all.atom", &[]);
    assert_eq!(status, 200, "the real outputs are still served");
    assert!(feed_rs::parser::parse(body.as_slice()).is_ok());
}

#[test]
fn oversized_request_heads_are_refused_and_hold_no_memory() {
    let listening = Listening::start();
    let (status, _, _) = http(
        listening.port,
        "GET",
        "/all.atom",
        &[("X-Padding", &"a".repeat(8 * 1024))],
    );
    assert_eq!(status, 200, "a head of 8 KiB is within the limit");
    let mut oversized = listening.send_partial(
        format!(
            "GET /all.atom HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\n\r\n",
            "a".repeat(20 * 1024)
        )
        .as_bytes(),
    );
    let answer = String::from_utf8_lossy(&read_until_closed(&mut oversized)).to_string();
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431 "),
        "{answer}"
    );

    // Unfinished heads of 256 KiB each: without a limit the listener buffers
    // every one (over 75 MiB for 300).
    let before = listening.memory_kib("VmRSS");
    let padding = format!(
        "GET /all.atom HTTP/1.1\r\nHost: x\r\n{}",
        "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(4 * 1024)
    );
    let held: Vec<TcpStream> = (0..300)
        .map(|_| listening.send_partial(padding.as_bytes()))
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let peak = listening.memory_kib("VmHWM");
    assert!(
        peak < before + 32 * 1024,
        "peak RSS {peak} KiB, {before} KiB before the 300 connections"
    );
    drop(held);
    assert_eq!(http(listening.port, "GET", "/all.atom", &[]).0, 200);
}

#[test]
fn half_sent_requests_are_closed_after_the_header_timeout_and_connections_beyond_the_cap_wait() {
    let mut listening = Listening::start();
    let started = Instant::now();
    let half_sent: Vec<TcpStream> = (0..300)
        .map(|_| listening.send_partial(b"GET /all.atom HTTP/1.1\r\nHost: x\r\n"))
        .collect();

    // Beyond the cap: accepted only once a half-sent request has timed out.
    let mut waiting = listening.send_partial(b"GET /all.atom HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut head = [0u8; 12];
    let answered = waiting.read_exact(&mut head).map(|()| head);
    assert!(
        matches!(&answered, Ok(head) if head.starts_with(b"HTTP/1.1 200")),
        "{answered:?}"
    );
    assert!(
        started.elapsed() >= HEADER_READ_TIMEOUT,
        "answered after {:?}, with {MAX_CONNECTIONS} connections already open",
        started.elapsed()
    );

    for (i, mut stream) in half_sent.into_iter().enumerate() {
        let answer = read_until_closed(&mut stream);
        assert!(answer.is_empty(), "connection {i}: {answer:?}");
    }

    let held: Vec<TcpStream> = (0..300)
        .map(|_| listening.send_partial(b"GET / HTTP/1.1\r\n"))
        .collect();
    let stopping = Instant::now();
    listening.daemon.signal("TERM");
    assert_eq!(listening.daemon.wait_exit().code(), Some(0));
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "SIGTERM took {:?} with {} connections open",
        stopping.elapsed(),
        held.len()
    );
}

#[test]
fn a_response_the_client_never_reads_is_cut_off() {
    let listening = Listening::start();
    // A regular file far larger than the loopback socket buffers.
    let size = 32 * 1024 * 1024;
    std::fs::write(listening.feeds().join("big.rss"), vec![b'x'; size]).expect("write");
    let mut stream = listening.send_partial(b"GET /big.rss HTTP/1.1\r\nHost: x\r\n\r\n");
    std::thread::sleep(WRITE_STALL_TIMEOUT + Duration::from_secs(5));
    let received = read_until_closed(&mut stream);
    assert!(
        received.len() < size,
        "all {} bytes arrived after a {WRITE_STALL_TIMEOUT:?} stall",
        received.len()
    );
    assert_eq!(http(listening.port, "GET", "/all.atom", &[]).0, 200);
}

#[test]
fn out_of_descriptors_the_listener_neither_spins_nor_floods_the_log_and_recovers() {
    let listening = Listening::start_with(|ws| Daemon::start_with_open_files(ws, 64));
    // More than the 64 descriptors, fewer than the kernel's accept queue
    // holds beyond them, so every connect completes.
    let connections: Vec<TcpStream> = (0..150)
        .map(|_| TcpStream::connect(("127.0.0.1", listening.port)).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let (ticks, since) = (listening.cpu_ticks(), Instant::now());
    std::thread::sleep(Duration::from_secs(4));
    let used = Duration::from_secs_f64(
        (listening.cpu_ticks() - ticks) as f64 / clock_ticks_per_second() as f64,
    );
    assert!(
        used < Duration::from_millis(500),
        "{used:?} of CPU in {:?} while out of descriptors",
        since.elapsed()
    );
    let log = listening.log();
    let reported = log.matches("cannot accept connections").count();
    assert!(
        (1..=2).contains(&reported),
        "{reported} reports of failed accepts:\n{log}"
    );

    drop(connections);
    wait_until("the listener answers again", || {
        http(listening.port, "GET", "/healthz", &[]).0 == 200
    });
}
