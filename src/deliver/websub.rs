//! WebSub publishing: after a publish that changed feeds, the hub named by
//! `websub_hub` is told each changed feed's public URL
//! (`hub.mode=publish`, `hub.url=…`), and fetches it and pushes it to its
//! subscribers, so readers learn of new items without polling.

use std::path::Path;
use std::time::Duration;

use url::Url;

use crate::config::Config;
use crate::identity::redact_url;
use crate::publish::public_url;

/// How long one ping may take: a hub answers at once (it fetches the feed later).
pub const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the hub was not told.
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    /// The client could not be built.
    #[error("cannot build the HTTP client for the WebSub hub: {0}")]
    Client(reqwest::Error),
    /// The request failed (connection, timeout).
    #[error("WebSub hub {hub}: {source}")]
    Request {
        /// The hub.
        hub: String,
        /// What failed.
        source: reqwest::Error,
    },
    /// The hub answered with an error status.
    #[error("WebSub hub {hub} answered {status} for {topic}")]
    Refused {
        /// The hub.
        hub: String,
        /// The feed URL it was told about.
        topic: String,
        /// Its answer.
        status: reqwest::StatusCode,
    },
}

/// The public URLs of the feed files among `written` (RSS, Atom and JSON Feed), in order.
pub fn changed_feeds(config: &Config, written: &[impl AsRef<Path>]) -> Vec<String> {
    written
        .iter()
        .filter_map(|path| {
            let path = path.as_ref();
            let is_feed = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "rss" | "atom" | "json"));
            let name = path.file_name()?.to_str()?;
            is_feed.then(|| public_url(config, name))
        })
        .collect()
}

/// A client for pings: the configured user agent, a short timeout, no redirects
/// (a hub that moved is a config matter, and a form body is not re-posted).
pub fn client(config: &Config) -> Result<reqwest::Client, PingError> {
    reqwest::Client::builder()
        .user_agent(config.daemon.user_agent.as_str())
        .timeout(PING_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(PingError::Client)
}

/// Tells `hub` that the feed at `topic` changed. Any 2xx is success (hubs
/// answer 204 No Content).
pub async fn ping(client: &reqwest::Client, hub: &Url, topic: &str) -> Result<(), PingError> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "publish")
        .append_pair("hub.url", topic)
        .finish();
    let response = client
        .post(hub.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await
        .map_err(|source| PingError::Request {
            hub: redact_url(hub),
            source: source.without_url(),
        })?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(PingError::Refused {
            hub: redact_url(hub),
            topic: topic.to_string(),
            status,
        })
    }
}
