//! Fetching: one shared HTTP client, polite, bounded and kept to where a
//! source may send it.
//!
//! Politeness: at most one request in flight per host and `per_host_delay`
//! between two requests to it, across every source and article fetch;
//! conditional GET with the validators of the last successful fetch; retries
//! with exponential backoff and jitter only where waiting can help (connection
//! errors, timeouts, 5xx, 429 with its `Retry-After`). Bounds: bodies are read in
//! chunks and cut off past `max_body` decoded bytes (so a gzip bomb is bounded
//! too), every request has a total timeout, and at most 5 redirects are followed.
//!
//! Reach: every request names a [`FetchPolicy`], and the first URL and every
//! redirect hop are checked against it before they are requested; redirects
//! are followed here, hop by hop, never by the HTTP client itself. A policy
//! that refuses internal addresses also gets a client whose resolver drops
//! them (the `resolve` module), so a host name cannot lead there either.

mod decode;
mod pacer;
pub mod policy;
mod resolve;
mod retry;

use std::sync::Arc;
use std::time::Duration;

use tracing::debug;
use url::Url;

use crate::config::Daemon;

pub use decode::decode;
pub use policy::{FetchPolicy, PrivateAddresses, Refused};

use pacer::{HostPacer, authority};
use resolve::{InternalOnly, PublicOnly};
use retry::{ATTEMPTS, MAX_RETRY_AFTER, backoff, retry_after};

/// Redirects followed before a fetch fails.
pub const MAX_REDIRECTS: usize = 5;

/// Why a fetch failed; each variant says what a user can check. URLs are
/// shown without credentials.
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
    /// The policy refused the URL itself (or, for a host name, its addresses).
    #[error("{url}: not fetched: {reason}")]
    Refused {
        /// The URL.
        url: String,
        /// Why.
        reason: Refused,
    },
    /// A redirect led somewhere the policy refuses; it was not followed.
    #[error("{from}: redirect to {to} not followed: {reason}")]
    RedirectRefused {
        /// The URL that answered with the redirect.
        from: String,
        /// Where it pointed.
        to: String,
        /// Why it was refused.
        reason: Refused,
    },
    /// A redirect whose `Location` is not a URL.
    #[error("{url}: redirect to an unreadable location {location:?}")]
    BadRedirect {
        /// The URL that answered with the redirect.
        url: String,
        /// The `Location` header (cut to 200 characters).
        location: String,
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

impl FetchError {
    /// Whether the policy refused the fetch (no retry can change that).
    pub fn is_refused(&self) -> bool {
        matches!(self, Self::Refused { .. } | Self::RedirectRefused { .. })
    }
}

/// A fetched page: the bytes as received (after content decoding).
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL after redirects, without credentials: relative links resolve
    /// against it (so they never carry the source's credentials into feeds).
    pub url: Url,
    /// The body.
    pub body: Vec<u8>,
    /// The `Content-Type` header, for the charset.
    pub content_type: Option<String>,
}

impl Page {
    /// The body as text, decoded by the charset the page really uses.
    pub fn text(&self) -> (String, &'static encoding_rs::Encoding) {
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

/// The shared HTTP clients, their limits and the per-host pacing.
#[derive(Debug, Clone)]
pub struct Fetcher {
    /// For policies that allow internal addresses.
    client: reqwest::Client,
    /// For policies that refuse them: its resolver keeps only public
    /// addresses. A client of its own, so that no pooled connection made for
    /// one kind of policy is reused for the other.
    public_client: reqwest::Client,
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

/// What one URL answered, once retries are done.
enum Answer {
    Fetched(Fetched),
    /// A redirect, with its `Location` as sent.
    Redirect(String),
}

/// One HTTP exchange's result, before retry decisions.
enum Exchange {
    Done(Answer),
    Retry {
        error: FetchError,
        after: Option<Duration>,
    },
}

impl Fetcher {
    /// Builds the clients from the daemon settings.
    pub fn new(daemon: &Daemon) -> Result<Self, FetchError> {
        Ok(Self {
            client: build_client(daemon, None)?,
            public_client: build_client(daemon, Some(PublicOnly))?,
            max_body: daemon.max_body,
            timeout: daemon.timeout,
            pacer: Arc::new(HostPacer::new(daemon.per_host_delay)),
        })
    }

    /// GETs `url` as `policy` allows (with retries and pacing) and returns the page.
    pub async fn get(
        &self,
        url: &Url,
        policy: &FetchPolicy,
        host_use: HostUse,
    ) -> Result<Page, FetchError> {
        match self
            .get_conditional(url, policy, &Validators::default(), host_use)
            .await?
        {
            Fetched::Page(page, _) => Ok(page),
            Fetched::NotModified => Err(FetchError::Status {
                url: shown(url),
                status: 304,
            }),
        }
    }

    /// GETs `url` sending `validators`; a 304 comes back as [`Fetched::NotModified`].
    /// The URL and every redirect hop must pass `policy`; the validators go
    /// with the first request only, since they belong to `url`.
    pub async fn get_conditional(
        &self,
        url: &Url,
        policy: &FetchPolicy,
        validators: &Validators,
        host_use: HostUse,
    ) -> Result<Fetched, FetchError> {
        policy.check(url).map_err(|reason| FetchError::Refused {
            url: shown(url),
            reason,
        })?;
        let client = match policy.private_addresses {
            PrivateAddresses::Allowed => &self.client,
            PrivateAddresses::Refused => &self.public_client,
        };
        let mut hop = url.clone();
        let mut validators = Some(validators);
        for _ in 0..=MAX_REDIRECTS {
            match self
                .with_retries(client, &hop, validators, host_use)
                .await?
            {
                Answer::Fetched(fetched) => return Ok(fetched),
                Answer::Redirect(location) => {
                    hop = next_hop(&hop, &location, policy)?;
                    validators = None;
                }
            }
        }
        Err(FetchError::Redirects { url: shown(url) })
    }

    /// One URL, retried where waiting can help.
    async fn with_retries(
        &self,
        client: &reqwest::Client,
        url: &Url,
        validators: Option<&Validators>,
        host_use: HostUse,
    ) -> Result<Answer, FetchError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match self.exchange(client, url, validators, host_use).await? {
                Exchange::Done(answer) => return Ok(answer),
                Exchange::Retry { error, .. } if attempt >= ATTEMPTS => return Err(error),
                Exchange::Retry { error, after } => match after {
                    Some(wait) if wait > MAX_RETRY_AFTER => return Err(error),
                    Some(wait) => {
                        debug!(url = %shown(url), attempt, wait_ms = wait.as_millis(), "retrying after Retry-After");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    None => error,
                },
            };
            let wait = backoff(attempt);
            debug!(url = %shown(url), attempt, wait_ms = wait.as_millis(), %error, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One request and its body, holding the host's slot throughout.
    async fn exchange(
        &self,
        client: &reqwest::Client,
        url: &Url,
        validators: Option<&Validators>,
        host_use: HostUse,
    ) -> Result<Exchange, FetchError> {
        let _slot = self.pacer.acquire(&authority(url)).await;
        let mut response = match request(client, url, validators, host_use).send().await {
            Ok(response) => response,
            Err(e) => {
                let error = self.classify(url, &e);
                return if e.is_builder() || error.is_refused() {
                    Err(error)
                } else {
                    Ok(Exchange::Retry { error, after: None })
                };
            }
        };
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Exchange::Done(Answer::Fetched(Fetched::NotModified)));
        }
        if let Some(location) = redirect_location(&response) {
            return Ok(Exchange::Done(Answer::Redirect(location)));
        }
        if !status.is_success() {
            let error = FetchError::Status {
                url: shown(url),
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
                            url: shown(url),
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
            url: crate::identity::without_credentials(url),
            body,
            content_type,
        };
        Ok(Exchange::Done(Answer::Fetched(Fetched::Page(
            page,
            new_validators,
        ))))
    }

    fn classify(&self, url: &Url, e: &reqwest::Error) -> FetchError {
        let url = shown(url);
        if let Some(reason) = refused_by_resolver(e) {
            FetchError::Refused { url, reason }
        } else if e.is_timeout() {
            FetchError::Timeout {
                url,
                timeout: self.timeout,
            }
        } else {
            FetchError::Transport {
                url,
                message: error_chain(e),
            }
        }
    }
}

/// A client with the daemon's settings that never follows redirects itself
/// (the fetcher checks each hop first), resolving names with `resolver` if given.
fn build_client(
    daemon: &Daemon,
    resolver: Option<PublicOnly>,
) -> Result<reqwest::Client, FetchError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(daemon.user_agent.clone())
        .timeout(daemon.timeout)
        .connect_timeout(daemon.timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        // Keep-alive helps within a cycle; between cycles (minutes apart) an
        // idle connection only holds memory here and a socket on the site.
        .pool_idle_timeout(Duration::from_secs(15));
    if let Some(resolver) = resolver {
        builder = builder.dns_resolver(Arc::new(resolver));
    }
    builder.build().map_err(FetchError::Client)
}

/// The GET for one hop: conditional headers only when `validators` are given.
fn request(
    client: &reqwest::Client,
    url: &Url,
    validators: Option<&Validators>,
    host_use: HostUse,
) -> reqwest::RequestBuilder {
    let mut request = client.get(url.clone()).header(
        reqwest::header::ACCEPT,
        "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/feed+json,application/xml;q=0.9,*/*;q=0.8",
    );
    if host_use == HostUse::Last {
        request = request.header(reqwest::header::CONNECTION, "close");
    }
    if let Some(etag) = validators.and_then(|v| v.etag.as_ref()) {
        request = request.header(reqwest::header::IF_NONE_MATCH, etag);
    }
    if let Some(modified) = validators.and_then(|v| v.last_modified.as_ref()) {
        request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
    }
    request
}

/// The `Location` of a redirect (301, 302, 303, 307, 308). A redirect
/// without one is answered as its status, like any other non-success.
fn redirect_location(response: &reqwest::Response) -> Option<String> {
    use reqwest::StatusCode;
    let status = response.status();
    let redirect = [
        StatusCode::MOVED_PERMANENTLY,
        StatusCode::FOUND,
        StatusCode::SEE_OTHER,
        StatusCode::TEMPORARY_REDIRECT,
        StatusCode::PERMANENT_REDIRECT,
    ]
    .contains(&status);
    let location = response.headers().get(reqwest::header::LOCATION)?;
    redirect.then(|| String::from_utf8_lossy(location.as_bytes()).into_owned())
}

/// Where a redirect from `from` leads, if `policy` allows it. A relative
/// `Location` resolves against `from` (keeping its credentials only when it
/// names no host of its own).
fn next_hop(from: &Url, location: &str, policy: &FetchPolicy) -> Result<Url, FetchError> {
    let to = from
        .join(location.trim())
        .map_err(|_| FetchError::BadRedirect {
            url: shown(from),
            location: location.chars().take(200).collect(),
        })?;
    policy
        .check(&to)
        .map_err(|reason| FetchError::RedirectRefused {
            from: shown(from),
            to: shown(&to),
            reason,
        })?;
    debug!(from = %shown(from), to = %shown(&to), "following a redirect");
    Ok(to)
}

/// A URL as errors and logs show it: credentials never leave the config.
fn shown(url: &Url) -> String {
    crate::identity::without_credentials(url).to_string()
}

/// The policy's reason when the refusing resolver is why a request failed.
fn refused_by_resolver(e: &reqwest::Error) -> Option<Refused> {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(internal) = cause.downcast_ref::<InternalOnly>() {
            return Some(internal.reason());
        }
        source = cause.source();
    }
    None
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

#[cfg(test)]
mod tests;
