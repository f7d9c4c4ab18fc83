//! Fetching: one shared HTTP client, polite and bounded.
//!
//! Politeness: at most one request in flight per host and `per_host_delay`
//! between two requests to it, across every source and article fetch;
//! conditional GET with the validators of the last successful fetch; retries
//! with exponential backoff and jitter only where waiting can help (connection
//! errors, timeouts, 5xx, 429 with its `Retry-After`). Bounds: bodies are read in
//! chunks and cut off past `max_body` decoded bytes (so a gzip bomb is bounded
//! too), every request has a total timeout, and at most 5 redirects are followed.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime};

use encoding_rs::{Encoding, UTF_8};
use regex::bytes::Regex;
use url::Url;

use tracing::debug;

use crate::config::Daemon;

/// Redirects followed before a fetch fails.
pub const MAX_REDIRECTS: usize = 5;

/// Attempts per request: the first and two retries.
const ATTEMPTS: u32 = 3;

/// First retry delay; doubled for each further retry, with ±25 % jitter.
const BACKOFF_BASE: Duration = Duration::from_millis(500);

/// The longest `Retry-After` medee waits inside one cycle; a longer one fails
/// the fetch and the next cycle tries again.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why a fetch failed; each variant says what a user can check.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The client could not be built (TLS setup).
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The server answered with a non-success status.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL asked for.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The (decoded) body exceeded `max_body`.
    #[error("{url}: response larger than max_body ({limit} bytes); cut off")]
    TooLarge {
        /// The URL asked for.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The request did not finish within `timeout`.
    #[error("{url}: timed out after {}s", timeout.as_secs_f32())]
    Timeout {
        /// The URL asked for.
        url: String,
        /// The configured timeout.
        timeout: Duration,
    },
    /// More than [`MAX_REDIRECTS`] redirects.
    #[error("{url}: more than {MAX_REDIRECTS} redirects")]
    Redirects {
        /// The URL asked for.
        url: String,
    },
    /// Connection, TLS or protocol failure.
    #[error("{url}: {message}")]
    Transport {
        /// The URL asked for.
        url: String,
        /// The error chain, flattened to one line.
        message: String,
    },
}

/// A fetched page: the bytes as received (after content decoding).
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL after redirects: relative links resolve against it.
    pub url: Url,
    /// The body.
    pub body: Vec<u8>,
    /// The `Content-Type` header, for the charset.
    pub content_type: Option<String>,
}

impl Page {
    /// The body as text, decoded by the charset the page really uses.
    pub fn text(&self) -> (String, &'static Encoding) {
        decode(
            &self.body,
            self.content_type.as_deref(),
            self.url.host_str(),
        )
    }
}

/// The validators of a response, sent back on the next request for the same URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
}

/// What a conditional GET found.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// 304: the page has not changed since the validators were stored.
    NotModified,
    /// A new page, with the validators to store once it has been processed.
    Page(Page, Validators),
}

/// The shared HTTP client, its limits and its per-host pacing.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: u64,
    timeout: Duration,
    pacer: Arc<HostPacer>,
}

/// Whether more requests to the same host follow soon (in this cycle).
///
/// After the last one the request asks the server to close the connection:
/// an idle keep-alive connection would hold a socket on the site and, here,
/// a read buffer the size of the page until the pool drops it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostUse {
    /// Keep the connection for the next request.
    More,
    /// Close the connection after this response.
    Last,
}

/// One HTTP exchange's result, before retry decisions.
enum Exchange {
    Done(Fetched),
    Retry {
        error: FetchError,
        after: Option<Duration>,
    },
}

impl Fetcher {
    /// Builds the client from the daemon settings.
    pub fn new(daemon: &Daemon) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(daemon.user_agent.clone())
            .timeout(daemon.timeout)
            .connect_timeout(daemon.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            // Keep-alive helps within a cycle; between cycles (minutes apart) an
            // idle connection only holds memory here and a socket on the site.
            .pool_idle_timeout(Duration::from_secs(15))
            .build()
            .map_err(FetchError::Client)?;
        Ok(Self {
            client,
            max_body: daemon.max_body,
            timeout: daemon.timeout,
            pacer: Arc::new(HostPacer::new(daemon.per_host_delay)),
        })
    }

    /// GETs `url` (with retries and pacing) and returns the page.
    pub async fn get(&self, url: &Url, host_use: HostUse) -> Result<Page, FetchError> {
        match self
            .get_conditional(url, &Validators::default(), host_use)
            .await?
        {
            Fetched::Page(page, _) => Ok(page),
            Fetched::NotModified => Err(FetchError::Status {
                url: url.to_string(),
                status: 304,
            }),
        }
    }

    /// GETs `url` sending `validators`; a 304 comes back as [`Fetched::NotModified`].
    pub async fn get_conditional(
        &self,
        url: &Url,
        validators: &Validators,
        host_use: HostUse,
    ) -> Result<Fetched, FetchError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match self.exchange(url, validators, host_use).await {
                Ok(Exchange::Done(fetched)) => return Ok(fetched),
                Ok(Exchange::Retry { error, after }) if attempt < ATTEMPTS => match after {
                    Some(wait) if wait > MAX_RETRY_AFTER => return Err(error),
                    Some(wait) => {
                        debug!(%url, attempt, wait_ms = wait.as_millis(), "retrying after Retry-After");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    None => error,
                },
                Ok(Exchange::Retry { error, .. }) => return Err(error),
                Err(error) => return Err(error),
            };
            let wait = backoff(attempt);
            debug!(%url, attempt, wait_ms = wait.as_millis(), %error, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One request and its body, holding the host's slot throughout.
    async fn exchange(
        &self,
        url: &Url,
        validators: &Validators,
        host_use: HostUse,
    ) -> Result<Exchange, FetchError> {
        let _slot = self.pacer.acquire(&authority(url)).await;
        let mut request = self.client.get(url.clone()).header(
            reqwest::header::ACCEPT,
            "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/feed+json,application/xml;q=0.9,*/*;q=0.8",
        );
        if host_use == HostUse::Last {
            request = request.header(reqwest::header::CONNECTION, "close");
        }
        if let Some(etag) = &validators.etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                let error = self.classify(url, &e);
                return if e.is_redirect() || e.is_builder() {
                    Err(error)
                } else {
                    Ok(Exchange::Retry { error, after: None })
                };
            }
        };
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Exchange::Done(Fetched::NotModified));
        }
        if !status.is_success() {
            let error = FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            };
            return if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                let after = retry_after(response.headers());
                Ok(Exchange::Retry { error, after })
            } else {
                Err(error)
            };
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let new_validators = Validators {
            etag: header(reqwest::header::ETAG),
            last_modified: header(reqwest::header::LAST_MODIFIED),
        };
        let final_url = response.url().clone();
        // Reserving the announced length (within the limit) saves regrowing
        // and copying the buffer chunk after chunk. A compressed response
        // announces its compressed length, so this is a floor, never a cap.
        let announced = response.content_length().unwrap_or(0).min(self.max_body);
        let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > self.max_body {
                        return Err(FetchError::TooLarge {
                            url: url.to_string(),
                            limit: self.max_body,
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Ok(Exchange::Retry {
                        error: self.classify(url, &e),
                        after: None,
                    });
                }
            }
        }
        let page = Page {
            url: final_url,
            body,
            content_type,
        };
        Ok(Exchange::Done(Fetched::Page(page, new_validators)))
    }

    fn classify(&self, url: &Url, e: &reqwest::Error) -> FetchError {
        let url = url.to_string();
        if e.is_timeout() {
            FetchError::Timeout {
                url,
                timeout: self.timeout,
            }
        } else if e.is_redirect() {
            FetchError::Redirects { url }
        } else {
            FetchError::Transport {
                url,
                message: error_chain(e),
            }
        }
    }
}

/// `host:port`: pacing is per server, and a different port is a different server.
fn authority(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default().to_ascii_lowercase(),
        url.port_or_known_default().unwrap_or_default()
    )
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// Exponential backoff with ±25 % jitter, so retries from many daemons spread out.
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_BASE * 2u32.saturating_pow(attempt.saturating_sub(1));
    let jitter = 0.75 + 0.5 * unit_random();
    base.mul_f64(jitter)
}

/// A number in [0, 1) that differs between calls; good enough for jitter.
fn unit_random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Per-host politeness: one request in flight per host, and at least `delay`
/// between the end of one and the start of the next.
#[derive(Debug)]
struct HostPacer {
    delay: Duration,
    hosts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Instant>>>>>,
}

/// Holds a host's slot; records when the request finished as it is dropped.
struct HostSlot(tokio::sync::OwnedMutexGuard<Option<Instant>>);

impl Drop for HostSlot {
    fn drop(&mut self) {
        *self.0 = Some(Instant::now());
    }
}

impl HostPacer {
    fn new(delay: Duration) -> Self {
        Self {
            delay,
            hosts: Mutex::default(),
        }
    }

    async fn acquire(&self, host: &str) -> HostSlot {
        let lock = {
            let mut hosts = self
                .hosts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(hosts.entry(host.to_string()).or_default())
        };
        let guard = lock.lock_owned().await;
        if let Some(finished) = *guard {
            tokio::time::sleep_until((finished + self.delay).into()).await;
        }
        HostSlot(guard)
    }
}

/// `error: cause: cause`, because reqwest's top-level message alone rarely says why.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

static META_CHARSET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i-u)<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.\-]+)"#)
        .expect("valid meta charset regex")
});

/// Decodes a body: BOM, then the HTTP header's charset, then `<meta charset>` /
/// `http-equiv` in the first 4 KiB, then valid UTF-8, then statistical detection.
/// Malformed sequences become U+FFFD rather than failing the page.
pub fn decode(
    body: &[u8],
    content_type: Option<&str>,
    host: Option<&str>,
) -> (String, &'static Encoding) {
    let encoding = Encoding::for_bom(body)
        .map(|(e, _)| e)
        .or_else(|| content_type.and_then(header_charset))
        .or_else(|| meta_charset(body))
        .unwrap_or_else(|| detect(body, host));
    let (text, used, _) = encoding.decode(body);
    (text.into_owned(), used)
}

fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| Encoding::for_label(value.trim().trim_matches(['"', '\'']).as_bytes()))
            .flatten()
    })
}

fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(4096)];
    let label = META_CHARSET.captures(head)?.get(1)?.as_bytes();
    let encoding = Encoding::for_label(label)?;
    // A page that reached us as bytes cannot really be UTF-16 (HTML spec, "prescan").
    Some(
        if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
            UTF_8
        } else {
            encoding
        },
    )
}

fn detect(body: &[u8], host: Option<&str>) -> &'static Encoding {
    if std::str::from_utf8(body).is_ok() {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(body, true);
    let tld = host.and_then(|h| h.rsplit('.').next()).map(str::as_bytes);
    detector.guess(tld, chardetng::Utf8Detection::Allow)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONGOLIAN: &str = "Монгол Улсын Их Хурал чуулганаа эхэллээ";

    fn cp1251(text: &str) -> Vec<u8> {
        encoding_rs::WINDOWS_1251.encode(text).0.into_owned()
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "7".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let in_a_minute = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            in_a_minute.parse().expect("header"),
        );
        let wait = retry_after(&headers).expect("a date parses");
        assert!(
            wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
        headers.insert(reqwest::header::RETRY_AFTER, past.parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "soon".parse().expect("header"),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn backoff_doubles_with_jitter() {
        for attempt in 1..=3 {
            let base = BACKOFF_BASE * 2u32.pow(attempt - 1);
            let wait = backoff(attempt);
            assert!(
                wait >= base.mul_f64(0.75) && wait <= base.mul_f64(1.25),
                "{attempt}: {wait:?}"
            );
        }
    }

    #[test]
    fn pacing_is_per_host_and_port() {
        let url = |s: &str| Url::parse(s).expect("url");
        assert_eq!(authority(&url("https://Montsame.mn/x")), "montsame.mn:443");
        assert_eq!(authority(&url("http://127.0.0.1:8080/")), "127.0.0.1:8080");
    }

    #[test]
    fn header_charset_wins() {
        let (text, enc) = decode(
            &cp1251(MONGOLIAN.split(' ').next().unwrap_or_default()),
            Some("text/html; charset=windows-1251"),
            None,
        );
        assert_eq!(enc, encoding_rs::WINDOWS_1251);
        assert_eq!(text, "Монгол");
    }

    #[test]
    fn meta_charset_is_used_without_a_header() {
        let mut page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\"></head><body>".to_vec();
        page.extend(cp1251("Улаанбаатар"));
        let (text, enc) = decode(&page, Some("text/html"), None);
        assert_eq!(enc, encoding_rs::WINDOWS_1251);
        assert!(text.contains("Улаанбаатар"), "{text}");
    }

    #[test]
    fn undeclared_cyrillic_is_detected() {
        let sentence = "Монгол Улсын Засгийн газрын ээлжит хуралдаанаар төсвийн тодотголыг хэлэлцэж, нүүрсний экспортын асуудлыг авч үзлээ. ".repeat(4);
        let page = cp1251(&format!("<html><body><p>{sentence}</p></body></html>"));
        let (text, _) = decode(&page, None, Some("olloo.mn"));
        assert!(text.contains("Засгийн газрын"), "{text}");
    }

    #[test]
    fn utf8_without_declaration_and_invalid_bytes_survive() {
        let (text, enc) = decode(MONGOLIAN.as_bytes(), None, None);
        assert_eq!((text.as_str(), enc), (MONGOLIAN, UTF_8));
        let (text, _) = decode(b"ok \xff\xfe bad", Some("text/html; charset=utf-8"), None);
        assert!(
            text.starts_with("ok ") && text.contains('\u{FFFD}'),
            "{text}"
        );
    }
}
