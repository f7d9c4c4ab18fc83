//! Delivery: telling others what a cycle brought, once it is stored and
//! published, and never on its way. The `on_new` hook gets the new items as
//! JSON lines; the WebSub hub (`websub_hub`) hears which feeds changed.
//!
//! Both are bounded in time ([`HOOK_TIMEOUT`], [`PING_TIMEOUT`]) and their
//! failures are logged, never returned: a cycle neither waits for them nor
//! fails because of them. The daemon hands deliveries to a [`Deliverer`]
//! task; `medee once` delivers after its cycle and before it exits.

mod hook;
mod websub;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::config::Config;
use crate::identity::redact_url;
use crate::store::SharedStore;

pub use hook::{HOOK_TIMEOUT, HookError, HookItem, hook_input, run_hook};
pub use websub::{PING_TIMEOUT, PingError, changed_feeds, ping};

/// What runs and publishes left to deliver.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Row ids of items stored for the first time (see `UpsertStats::new_ids`).
    pub new_items: Vec<i64>,
    /// Output files a publish rewrote.
    pub written: Vec<PathBuf>,
}

impl Delivery {
    /// Whether there is nothing to deliver.
    pub fn is_empty(&self) -> bool {
        self.new_items.is_empty() && self.written.is_empty()
    }

    /// Adds `other`'s items and files (a file written twice is named once).
    pub fn merge(&mut self, other: Self) {
        self.new_items.extend(other.new_items);
        for file in other.written {
            if !self.written.contains(&file) {
                self.written.push(file);
            }
        }
    }
}

/// Whether `config` asks for any delivery at all.
pub fn wanted(config: &Config) -> bool {
    config.daemon.on_new.is_some() || config.daemon.websub_hub.is_some()
}

/// Runs the hook with the new items and pings the hub for the changed
/// feeds, side by side, as `config` asks; logs what failed.
pub async fn deliver(config: &Config, store: &SharedStore, delivery: Delivery) {
    tokio::join!(
        notify_hook(config, store, delivery.new_items),
        notify_hub(config, &delivery.written)
    );
}

async fn notify_hook(config: &Config, store: &SharedStore, ids: Vec<i64>) {
    let Some(command) = &config.daemon.on_new else {
        return;
    };
    if ids.is_empty() {
        return;
    }
    let items = match store.run(move |s| s.items_by_ids(&ids)).await {
        Ok(items) if items.is_empty() => return,
        Ok(items) => items,
        Err(e) => {
            warn!(error = %e, "on_new hook not run: cannot read the new items");
            return;
        }
    };
    let input = hook_input(config, &items);
    match run_hook(command, &input, HOOK_TIMEOUT).await {
        Ok(()) => info!(items = items.len(), "on_new hook done"),
        Err(e) => warn!(
            error = %e,
            items = items.len(),
            "on_new hook failed; these items are not offered to it again"
        ),
    }
}

async fn notify_hub(config: &Config, written: &[PathBuf]) {
    let Some(hub) = &config.daemon.websub_hub else {
        return;
    };
    let topics = changed_feeds(config, written);
    if topics.is_empty() {
        return;
    }
    let client = match websub::client(config) {
        Ok(client) => client,
        Err(e) => {
            warn!(error = %e, "WebSub hub not told");
            return;
        }
    };
    let mut failed = 0;
    for topic in &topics {
        if let Err(e) = ping(&client, hub, topic).await {
            warn!(error = %e, "WebSub ping failed");
            failed += 1;
        }
    }
    info!(hub = %redact_url(hub), feeds = topics.len(), failed, "WebSub hub told about changed feeds");
}

/// A task delivering in the background, one delivery at a time; what
/// arrives meanwhile is merged into the next, so a slow hook runs once for
/// many runs rather than once per run. Cloning shares the task.
#[derive(Clone, Debug)]
pub struct Deliverer {
    queue: mpsc::UnboundedSender<(Arc<Config>, Delivery)>,
}

impl Deliverer {
    /// Starts the task; aborting the returned handle kills a running hook.
    pub fn spawn(store: SharedStore) -> (Self, JoinHandle<()>) {
        let (queue, received) = mpsc::unbounded_channel();
        let task = tokio::spawn(deliver_loop(store, received));
        (Self { queue }, task)
    }

    /// Queues `delivery` under `config` (the config in force when it arose),
    /// unless there is nothing to deliver or nothing configured to deliver to.
    pub fn send(&self, config: &Arc<Config>, delivery: Delivery) {
        if !delivery.is_empty() && wanted(config) {
            let _ = self.queue.send((Arc::clone(config), delivery));
        }
    }
}

async fn deliver_loop(
    store: SharedStore,
    mut received: mpsc::UnboundedReceiver<(Arc<Config>, Delivery)>,
) {
    while let Some((mut config, mut delivery)) = received.recv().await {
        while let Ok((newer, more)) = received.try_recv() {
            config = newer;
            delivery.merge(more);
        }
        deliver(&config, &store, delivery).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_every_item_and_each_file_once() {
        let mut first = Delivery {
            new_items: vec![1, 2],
            written: vec![PathBuf::from("feeds/all.atom")],
        };
        first.merge(Delivery {
            new_items: vec![3],
            written: vec![
                PathBuf::from("feeds/all.atom"),
                PathBuf::from("feeds/a.rss"),
            ],
        });
        assert_eq!(first.new_items, [1, 2, 3]);
        assert_eq!(
            first.written,
            [
                PathBuf::from("feeds/all.atom"),
                PathBuf::from("feeds/a.rss")
            ]
        );
        assert!(Delivery::default().is_empty());
    }
}
