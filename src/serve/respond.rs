//! Answering one request: `/healthz`, `/metrics`, `/status`, or one of medee's output files.
//!
//! Only the files medee itself writes can be named: a path must be a flat
//! `name.rss|atom|json|html|opml` with a name of `[a-z0-9-]`, so `..`, encoded
//! slashes, hidden temp files and anything outside `output_dir` are 404 by
//! construction rather than by a check that could be bypassed. And only a
//! regular file at that name is served: it is opened without following a
//! symlink and without waiting for a FIFO's writer, then checked on the
//! opened descriptor, so a symlink, FIFO, directory or device planted in
//! `output_dir` is 404 and nothing can be swapped in between check and read.

use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tracing::{debug, warn};

use super::Reports;

/// Answers requests from `output_dir` and the daemon's reports.
pub(super) struct Responder {
    dir: PathBuf,
    reports: Reports,
}

/// Why an output file was not served.
enum Unservable {
    /// Nothing servable at the name: missing, a symlink, a FIFO, a directory.
    Absent,
    /// A regular file that could not be read: permissions, no descriptors left.
    Unreadable(io::Error),
}

impl Responder {
    pub(super) fn new(dir: PathBuf, reports: Reports) -> Self {
        Self { dir, reports }
    }

    pub(super) async fn respond(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let path = request.uri().path();
        if path == "/healthz" {
            return self.health_response();
        }
        if path == "/metrics" {
            return with_type(
                Response::new(Full::new(Bytes::from((self.reports.metrics)()))),
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
            );
        }
        if path == "/status" {
            let mut response = with_type(
                Response::new(Full::new(Bytes::from((self.reports.status)()))),
                StatusCode::OK,
                "text/html; charset=utf-8",
            );
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return response;
        }
        let Some((name, content_type)) = output_file(path) else {
            return plain(StatusCode::NOT_FOUND, "not found\n");
        };
        self.serve_file(&name, content_type, request.headers())
            .await
    }

    fn health_response(&self) -> Response<Full<Bytes>> {
        let (ok, body) = (self.reports.health)();
        let status = if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        with_type(
            Response::new(Full::new(Bytes::from(body))),
            status,
            "application/json",
        )
    }

    /// Reads, hashes and compresses on the blocking pool: gzip of a large
    /// feed would otherwise hold a runtime thread every connection shares.
    async fn serve_file(
        &self,
        name: &str,
        content_type: &'static str,
        request: &HeaderMap,
    ) -> Response<Full<Bytes>> {
        let path = self.dir.join(name);
        let request = request.clone();
        let answered = tokio::task::spawn_blocking(move || {
            read_regular_file(&path)
                .map(|(bytes, modified)| file_response(&request, bytes, modified, content_type))
        })
        .await;
        match answered {
            Ok(Ok(response)) => response,
            Ok(Err(Unservable::Absent)) => plain(StatusCode::NOT_FOUND, "not found\n"),
            // Logged at debug only: while descriptors run out, every request
            // would log, and the accept loop already reports that once.
            Ok(Err(Unservable::Unreadable(error))) => {
                debug!(file = name, %error, "cannot read an output file");
                plain(StatusCode::SERVICE_UNAVAILABLE, "cannot read it now\n")
            }
            Err(error) => {
                warn!(file = name, %error, "reading an output file failed");
                plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
            }
        }
    }
}

/// Maps a request path to one of medee's output files and its content type.
pub fn output_file(path: &str) -> Option<(String, &'static str)> {
    let name = if path == "/" {
        "index.html"
    } else {
        path.strip_prefix('/')?
    };
    let (stem, extension) = name.rsplit_once('.')?;
    // Output stems are source ids and feed names: only what config accepts.
    let valid_stem = crate::config::is_valid_id(stem);
    let content_type = match extension {
        "rss" => "application/rss+xml; charset=utf-8",
        "atom" => "application/atom+xml; charset=utf-8",
        "json" => "application/feed+json",
        "html" => "text/html; charset=utf-8",
        "opml" => "text/x-opml; charset=utf-8",
        _ => return None,
    };
    valid_stem.then(|| (name.to_string(), content_type))
}

/// The bytes and modification time of `path` if it is a regular file.
/// `O_NOFOLLOW` fails the open on a symlink (whether it points outside
/// `output_dir` or not), `O_NONBLOCK` keeps a FIFO from holding the thread
/// until a writer appears, and the type is read from the opened descriptor.
fn read_regular_file(path: &Path) -> Result<(Vec<u8>, SystemTime), Unservable> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(open_failure)?;
    let metadata = file.metadata().map_err(Unservable::Unreadable)?;
    if !metadata.is_file() {
        return Err(Unservable::Absent);
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(Unservable::Unreadable)?;
    let modified = metadata.modified().map_err(Unservable::Unreadable)?;
    Ok((bytes, modified))
}

/// A missing file and a symlink (`ELOOP` under `O_NOFOLLOW`) are both absent.
fn open_failure(error: io::Error) -> Unservable {
    if error.kind() == io::ErrorKind::NotFound || error.raw_os_error() == Some(libc::ELOOP) {
        Unservable::Absent
    } else {
        Unservable::Unreadable(error)
    }
}

fn file_response(
    request: &HeaderMap,
    bytes: Vec<u8>,
    modified: SystemTime,
    content_type: &'static str,
) -> Response<Full<Bytes>> {
    let gzip = accepts_gzip(request) && bytes.len() > 256;
    let etag = format!(
        "\"{:016x}{}\"",
        fnv1a(&bytes),
        if gzip { "-gz" } else { "" }
    );
    let last_modified = httpdate::fmt_http_date(modified);
    let not_modified = match request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(tags) => tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        None => request
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .is_some_and(|since| whole_seconds(modified) <= whole_seconds(since)),
    };
    let (status, body) = if not_modified {
        (StatusCode::NOT_MODIFIED, Vec::new())
    } else if gzip {
        (StatusCode::OK, gzip_bytes(&bytes))
    } else {
        (StatusCode::OK, bytes)
    };
    let mut response = with_type(
        Response::new(Full::new(Bytes::from(body))),
        status,
        content_type,
    );
    let headers = response.headers_mut();
    for (name, value) in [
        (header::ETAG, etag.as_str()),
        (header::LAST_MODIFIED, last_modified.as_str()),
        (header::VARY, "Accept-Encoding"),
        (header::CACHE_CONTROL, "no-cache"),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    if gzip && !not_modified {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

fn whole_seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::default(),
    );
    match encoder.write_all(bytes).and_then(|()| encoder.finish()) {
        Ok(compressed) => compressed,
        Err(_) => bytes.to_vec(),
    }
}

/// FNV-1a: a content hash that is the same in every run, so ETags survive restarts.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    with_type(
        Response::new(Full::new(Bytes::from_static(text.as_bytes()))),
        status,
        "text/plain; charset=utf-8",
    )
}

fn with_type(
    mut response: Response<Full<Bytes>>,
    status: StatusCode,
    content_type: &'static str,
) -> Response<Full<Bytes>> {
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_flat_output_names_map_to_files() {
        assert_eq!(
            output_file("/").map(|f| f.0),
            Some("index.html".to_string())
        );
        assert_eq!(
            output_file("/all.atom"),
            Some((
                "all.atom".to_string(),
                "application/atom+xml; charset=utf-8"
            ))
        );
        assert!(output_file("/feeds.opml").is_some());
        assert_eq!(
            output_file("/all.json"),
            Some(("all.json".to_string(), "application/feed+json"))
        );
        for bad in [
            "/../etc/passwd",
            "/..%2fmedee.db",
            "/%2e%2e/x.rss",
            "/sub/all.rss",
            "/.all.rss.tmp",
            "/ALL.rss",
            "/medee.db",
            "/.rss",
            "/a.rss/",
            "",
        ] {
            assert_eq!(output_file(bad), None, "{bad}");
        }
    }

    #[test]
    fn gzip_negotiation_honours_q_zero() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0.8"),
        );
        assert!(accepts_gzip(&headers));
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, br"),
        );
        assert!(!accepts_gzip(&headers));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    fn read(path: &Path) -> Result<Vec<u8>, &'static str> {
        match read_regular_file(path) {
            Ok((bytes, _)) => Ok(bytes),
            Err(Unservable::Absent) => Err("absent"),
            Err(Unservable::Unreadable(_)) => Err("unreadable"),
        }
    }

    #[test]
    fn only_a_regular_file_is_read_never_a_symlink_fifo_or_directory() {
        let outside = tempfile::tempdir().expect("temp dir");
        let secret = outside.path().join("secret.txt");
        std::fs::write(&secret, "secret").expect("write");
        let dir = tempfile::tempdir().expect("temp dir");
        let feeds = dir.path();
        std::fs::write(feeds.join("all.atom"), "<feed/>").expect("write");
        std::os::unix::fs::symlink(&secret, feeds.join("leak.rss")).expect("symlink");
        std::os::unix::fs::symlink("all.atom", feeds.join("inside.atom")).expect("symlink");
        std::fs::create_dir(feeds.join("dir.rss")).expect("mkdir");
        let fifo = feeds.join("fifo.rss");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());

        assert_eq!(read(&feeds.join("all.atom")), Ok(b"<feed/>".to_vec()));
        for name in ["leak.rss", "inside.atom", "dir.rss", "fifo.rss", "gone.rss"] {
            assert_eq!(read(&feeds.join(name)), Err("absent"), "{name}");
        }
    }

    #[test]
    fn etag_is_content_based() {
        assert_eq!(fnv1a(b"abc"), fnv1a(b"abc"));
        assert_ne!(fnv1a(b"abc"), fnv1a(b"abd"));
    }
}
