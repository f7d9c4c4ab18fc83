//! Fetching: one shared HTTP client, bodies read in chunks under a size cap,
//! and bytes decoded to text by the charset the page really uses.

use std::sync::LazyLock;
use std::time::Duration;

use encoding_rs::{Encoding, UTF_8};
use regex::bytes::Regex;
use url::Url;

use crate::config::Daemon;

/// Redirects followed before a fetch fails.
pub const MAX_REDIRECTS: usize = 5;

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

/// A fetched page, decoded.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL after redirects: relative links resolve against it.
    pub url: Url,
    /// The decoded text.
    pub text: String,
    /// Bytes received (after content decoding).
    pub size: usize,
    /// The encoding the text was decoded from.
    pub encoding: &'static str,
}

/// The shared HTTP client and its limits.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: u64,
    timeout: Duration,
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
        })
    }

    /// GETs `url` and decodes the body; never holds more than `max_body` bytes.
    pub async fn get(&self, url: &Url) -> Result<Page, FetchError> {
        let mut response = self
            .client
            .get(url.clone())
            .header(
                reqwest::header::ACCEPT,
                "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,*/*;q=0.8",
            )
            .send()
            .await
            .map_err(|e| self.classify(url, &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let final_url = response.url().clone();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(url, &e))? {
            if (body.len() + chunk.len()) as u64 > self.max_body {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                    limit: self.max_body,
                });
            }
            body.extend_from_slice(&chunk);
        }
        let (text, encoding) = decode(&body, content_type.as_deref(), final_url.host_str());
        Ok(Page {
            url: final_url,
            size: body.len(),
            text,
            encoding: encoding.name(),
        })
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
