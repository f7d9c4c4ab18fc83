//! Per-host politeness: one request in flight per server, and a pause between two.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use url::Url;

/// `host:port`: pacing is per server, and a different port is a different server.
pub(super) fn authority(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default().to_ascii_lowercase(),
        url.port_or_known_default().unwrap_or_default()
    )
}

/// One request in flight per host, and at least `delay` between the end of
/// one and the start of the next.
#[derive(Debug)]
pub(super) struct HostPacer {
    delay: Duration,
    hosts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Instant>>>>>,
}

/// Holds a host's slot; records when the request finished as it is dropped.
pub(super) struct HostSlot(tokio::sync::OwnedMutexGuard<Option<Instant>>);

impl Drop for HostSlot {
    fn drop(&mut self) {
        *self.0 = Some(Instant::now());
    }
}

impl HostPacer {
    pub(super) fn new(delay: Duration) -> Self {
        Self {
            delay,
            hosts: Mutex::default(),
        }
    }

    /// Waits for `host`'s turn; the slot is held until the returned guard drops.
    pub(super) async fn acquire(&self, host: &str) -> HostSlot {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_is_per_host_and_port() {
        let url = |s: &str| Url::parse(s).expect("url");
        assert_eq!(authority(&url("https://Montsame.mn/x")), "montsame.mn:443");
        assert_eq!(authority(&url("http://127.0.0.1:8080/")), "127.0.0.1:8080");
    }
}
