//! Serving `output_dir` over HTTP for feed readers, with conditional GET and gzip.
//!
//! The port is open to whatever can reach it, so everything a client can make
//! the listener hold is bounded: each connection has [`HEADER_READ_TIMEOUT`] to
//! send a request head of at most [`MAX_REQUEST_HEAD`] bytes (bodies are never
//! read), a response stalled for [`WRITE_STALL_TIMEOUT`] ends its connection,
//! at most [`MAX_CONNECTIONS`] are served at once, and an accept that
//! fails (no descriptors left) pauses the loop instead of spinning. Which files
//! can be named, and how they are opened, is in `respond`.

mod respond;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_io_timeout::TimeoutStream;
use tracing::{debug, info, warn};

use respond::Responder;
pub use respond::output_file;

/// Answers `/healthz`: whether the daemon is healthy, and a JSON body.
pub type HealthCheck = Arc<dyn Fn() -> (bool, String) + Send + Sync>;

/// Answers `/metrics`: the Prometheus text exposition.
pub type MetricsReport = Arc<dyn Fn() -> String + Send + Sync>;

/// Answers `/status`: the status page's HTML, as current as the daemon's memory.
pub type StatusReport = Arc<dyn Fn() -> String + Send + Sync>;

/// The pages the listener renders on request rather than reading from `output_dir`.
#[derive(Clone)]
pub struct Reports {
    /// `/healthz`.
    pub health: HealthCheck,
    /// `/metrics`.
    pub metrics: MetricsReport,
    /// `/status`.
    pub status: StatusReport,
}

/// How long a client may take to send a request head, counted from the
/// connection's start or the end of its previous response. Readers send theirs
/// at once; a client dribbling bytes, or a kept-alive connection left idle,
/// gives its slot back after this.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest request head (request line and headers) read into memory; a
/// larger one is answered 431 and the connection closed. Readers send well
/// under 2 KiB.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// How long a response may make no progress at all before its connection is
/// closed: a client that requests a large feed and never reads it would
/// otherwise hold its slot for good. Far longer than a live link stalls.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(20);

/// Connections served at once. A connection beyond it waits in the kernel's
/// accept queue, costing medee neither memory nor a descriptor, until one
/// ends: readers arriving in a burst are served late rather than refused, and
/// the header timeout frees a slot held by a silent client within seconds.
/// Well under the usual 1,024-descriptor limit, so fetches and the store keep
/// descriptors of their own.
pub const MAX_CONNECTIONS: usize = 256;

/// The pause after the first failed accept of a burst; it doubles with each
/// further failure up to [`ACCEPT_BACKOFF_MAX`].
const ACCEPT_BACKOFF_FIRST: Duration = Duration::from_millis(100);

/// The longest pause between accepts while they fail: once descriptors are
/// free again, connections are taken within this.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// A burst of failed accepts is logged when it starts, unless one was logged
/// within this; a listener out of descriptors would otherwise log every try.
const ACCEPT_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Serves `dir` on `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    dir: PathBuf,
    reports: Reports,
    mut stop: watch::Receiver<bool>,
) {
    let responder = Arc::new(Responder::new(dir, reports));
    let http = Arc::new(connection_builder());
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut failures = AcceptFailures::default();
    loop {
        let Some(Ok(slot)) = unless_stopped(&mut stop, Arc::clone(&slots).acquire_owned()).await
        else {
            return;
        };
        let Some(accepted) = unless_stopped(&mut stop, listener.accept()).await else {
            return;
        };
        match accepted {
            Ok((stream, peer)) => {
                failures.recovered();
                spawn_connection(
                    stream,
                    peer,
                    slot,
                    Arc::clone(&http),
                    Arc::clone(&responder),
                );
            }
            Err(error) => {
                let pause = failures.failed(&error);
                if unless_stopped(&mut stop, tokio::time::sleep(pause))
                    .await
                    .is_none()
                {
                    return;
                }
            }
        }
    }
}

/// Runs `work` unless `stop` turns true (or its sender is dropped) first.
async fn unless_stopped<T>(
    stop: &mut watch::Receiver<bool>,
    work: impl Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        done = work => Some(done),
        _ = stop.changed() => None,
    }
}

/// HTTP/1.1 with the request-head limits; hyper needs the timer to enforce
/// the header timeout.
fn connection_builder() -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_REQUEST_HEAD);
    builder
}

/// Serves one connection on its own task; its slot is given back when it ends.
fn spawn_connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: OwnedSemaphorePermit,
    http: Arc<http1::Builder>,
    responder: Arc<Responder>,
) {
    tokio::spawn(async move {
        let service = service_fn(move |request: hyper::Request<Incoming>| {
            let responder = Arc::clone(&responder);
            async move { Ok::<_, std::convert::Infallible>(responder.respond(&request).await) }
        });
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(WRITE_STALL_TIMEOUT));
        let io = TokioIo::new(Box::pin(stream));
        if let Err(e) = http.serve_connection(io, service).await {
            debug!(%peer, error = %e, "connection ended with an error");
        }
        drop(slot);
    });
}

/// The failed accepts of the current burst: how long to pause before the next
/// try, and when a burst was last logged.
#[derive(Default)]
struct AcceptFailures {
    in_a_row: u64,
    pause: Duration,
    last_logged: Option<Instant>,
    /// Whether this burst's start was logged, so that its end is too.
    logged: bool,
}

impl AcceptFailures {
    /// Records a failed accept and returns how long to wait before the next.
    /// An error that names one vanished client is retried at once, as it
    /// cannot recur faster than clients connect; any other (out of
    /// descriptors or memory) lasts until something is released, so the
    /// pause grows.
    fn failed(&mut self, error: &io::Error) -> Duration {
        if matches!(
            error.kind(),
            io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::Interrupted
        ) {
            debug!(%error, "a connection was gone before it was accepted");
            return Duration::ZERO;
        }
        self.in_a_row += 1;
        if self.in_a_row == 1 && self.may_log() {
            warn!(
                %error,
                "cannot accept connections; retrying at most every {} s until it recovers",
                ACCEPT_BACKOFF_MAX.as_secs()
            );
            self.last_logged = Some(Instant::now());
            self.logged = true;
        }
        self.pause = (self.pause * 2).clamp(ACCEPT_BACKOFF_FIRST, ACCEPT_BACKOFF_MAX);
        self.pause
    }

    /// Ends the burst: the next failure pauses briefly again.
    fn recovered(&mut self) {
        if self.logged {
            info!(failed = self.in_a_row, "accepting connections again");
        }
        self.in_a_row = 0;
        self.pause = Duration::ZERO;
        self.logged = false;
    }

    fn may_log(&self) -> bool {
        self.last_logged
            .is_none_or(|at| at.elapsed() >= ACCEPT_LOG_INTERVAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn too_many_files() -> io::Error {
        io::Error::from_raw_os_error(libc::EMFILE)
    }

    #[test]
    fn pauses_grow_while_accepts_fail_and_reset_once_one_succeeds() {
        let mut failures = AcceptFailures::default();
        let pauses: Vec<Duration> = (0..6).map(|_| failures.failed(&too_many_files())).collect();
        assert_eq!(
            pauses,
            [100, 200, 400, 800, 1000, 1000].map(Duration::from_millis)
        );
        failures.recovered();
        assert_eq!(failures.failed(&too_many_files()), ACCEPT_BACKOFF_FIRST);
    }

    #[test]
    fn a_vanished_client_is_retried_at_once_and_does_not_start_a_burst() {
        let mut failures = AcceptFailures::default();
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(failures.failed(&aborted), Duration::ZERO);
        assert_eq!(failures.in_a_row, 0);
    }

    #[test]
    fn a_burst_is_logged_once_and_the_next_not_within_the_interval() {
        let mut failures = AcceptFailures::default();
        assert!(failures.may_log());
        failures.failed(&too_many_files());
        assert!(!failures.may_log(), "logged at the burst's start");
        assert!(failures.logged);
        failures.recovered();
        failures.failed(&too_many_files());
        assert!(
            !failures.logged,
            "a new burst right after is not logged, nor its end"
        );
    }
}
