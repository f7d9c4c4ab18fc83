//! The publisher: one task that writes the outputs when asked, so that runs
//! finishing close together (a cycle's sources, a reload's new ones) cause
//! one publish, not one each, and no run waits for rendering. The files a
//! publish changed go to the deliverer (WebSub pings).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tracing::error;

use crate::deliver::Delivery;
use crate::pipeline::{Published, publish_outputs};

use super::state::{State, status_line};
use super::systemd;

/// Asks the publisher task for a publish. Cloning shares the task.
#[derive(Clone)]
pub struct Publisher {
    shared: Arc<Shared>,
}

struct Shared {
    state: Arc<State>,
    wake: Notify,
    forced: AtomicBool,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Publisher {
    /// Starts the task; a request waits `window` for others before publishing.
    pub fn spawn(state: Arc<State>, window: Duration) -> Self {
        let shared = Arc::new(Shared {
            state,
            wake: Notify::new(),
            forced: AtomicBool::new(false),
            task: std::sync::Mutex::default(),
        });
        let task = tokio::spawn(publish_loop(Arc::clone(&shared), window));
        *shared
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
        Self { shared }
    }

    /// Publishes if the store changed since the last publish (or an output
    /// is missing, or the last publish failed), soon.
    pub fn request(&self) {
        self.shared.wake.notify_one();
    }

    /// Publishes everything soon, changed or not (the config changed).
    pub fn request_all(&self) {
        self.shared.forced.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }

    /// Publishes everything now and waits for it (the first cycle, before `READY=1`).
    pub async fn publish_now(&self) {
        self.shared.forced.store(true, Ordering::SeqCst);
        publish(&self.shared).await;
    }

    /// Stops the task; a publish under way finishes on its blocking thread
    /// or is cut off at exit, leaving the previous files (every file is
    /// renamed into place whole).
    pub fn stop(&self) {
        if let Some(task) = self
            .shared
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

async fn publish_loop(shared: Arc<Shared>, window: Duration) {
    loop {
        shared.wake.notified().await;
        tokio::time::sleep(window).await;
        publish(&shared).await;
    }
}

async fn publish(shared: &Shared) {
    let force = shared.forced.swap(false, Ordering::SeqCst);
    let generation = shared.state.current();
    match publish_outputs(&generation.config, &shared.state.store, force).await {
        Ok(Published::Unchanged) => return,
        Ok(Published::Written(written)) => shared.state.deliverer.send(
            &generation.config,
            Delivery {
                written,
                ..Delivery::default()
            },
        ),
        Ok(Published::Failed(_)) => {}
        Err(e) => error!(error = %e, "cannot publish"),
    }
    systemd::status(&status_line(&shared.state));
}
