//! Serving `output_dir` over HTTP for feed readers, with conditional GET and gzip.
//!
//! Only the files medee itself writes can be named: a path must be a flat
//! `name.rss|atom|html|opml` with a name of `[a-z0-9-]`, so `..`, encoded
//! slashes, hidden temp files and anything outside `output_dir` are 404 by
//! construction rather than by a check that could be bypassed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{debug, warn};

/// Answers `/healthz`: whether the daemon is healthy, and a JSON body.
pub type HealthCheck = Arc<dyn Fn() -> (bool, String) + Send + Sync>;

/// Serves `dir` on `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    dir: PathBuf,
    health: HealthCheck,
    mut stop: watch::Receiver<bool>,
) {
    let dir = Arc::new(dir);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let (dir, health) = (Arc::clone(&dir), Arc::clone(&health));
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let (dir, health) = (Arc::clone(&dir), Arc::clone(&health));
                async move { Ok::<_, std::convert::Infallible>(respond(&request, &dir, &health).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

async fn respond(
    request: &Request<Incoming>,
    dir: &Path,
    health: &HealthCheck,
) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let path = request.uri().path();
    if path == "/healthz" {
        let (ok, body) = health();
        let status = if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        return with_type(
            Response::new(Full::new(Bytes::from(body))),
            status,
            "application/json",
        );
    }
    let Some((name, content_type)) = output_file(path) else {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    };
    let file = dir.join(name);
    let (bytes, modified) = match read_file(&file).await {
        Ok(found) => found,
        Err(_) => return plain(StatusCode::NOT_FOUND, "not found\n"),
    };
    file_response(request.headers(), bytes, modified, content_type)
}

/// Maps a request path to one of medee's output files and its content type.
pub fn output_file(path: &str) -> Option<(String, &'static str)> {
    let name = if path == "/" {
        "index.html"
    } else {
        path.strip_prefix('/')?
    };
    let (stem, extension) = name.rsplit_once('.')?;
    let valid_stem = !stem.is_empty()
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let content_type = match extension {
        "rss" => "application/rss+xml; charset=utf-8",
        "atom" => "application/atom+xml; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "opml" => "text/x-opml; charset=utf-8",
        _ => return None,
    };
    valid_stem.then(|| (name.to_string(), content_type))
}

async fn read_file(path: &Path) -> std::io::Result<(Vec<u8>, SystemTime)> {
    let bytes = tokio::fs::read(path).await?;
    let modified = tokio::fs::metadata(path).await?.modified()?;
    Ok((bytes, modified))
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

    #[test]
    fn etag_is_content_based() {
        assert_eq!(fnv1a(b"abc"), fnv1a(b"abc"));
        assert_ne!(fnv1a(b"abc"), fnv1a(b"abd"));
    }
}
