//! The daemon's state: the reloadable generation (config and runner, swapped
//! as one value) and the in-memory health board and run counters `/healthz`,
//! `/metrics`, `STATUS=` and the scheduler read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use chrono::{DateTime, Utc};

use super::metrics::Metrics;
use crate::config::Config;
use crate::deliver::Deliverer;
use crate::pipeline::Runner;
use crate::schedule::Failing;
use crate::store::{History, SharedStore, SourceHealth};

/// What a config reload replaces: the config and the runner built from it
/// (HTTP client and fetch slots). One value, swapped with one assignment,
/// so no reader sees a new runner with an old config.
#[derive(Debug)]
pub struct Generation {
    /// The config in force.
    pub config: Arc<Config>,
    /// Runs this generation's sources.
    pub runner: Runner,
}

/// State shared by the scheduler tasks, the publisher, the reload handler
/// and the HTTP listener.
pub struct State {
    generation: RwLock<Arc<Generation>>,
    /// The store every generation shares.
    pub store: SharedStore,
    running: Mutex<HashSet<String>>,
    scheduling: AtomicBool,
    board: Mutex<BTreeMap<String, SourceHealth>>,
    history: Mutex<HashMap<String, History>>,
    /// Run counters for `/metrics`.
    pub metrics: Metrics,
    /// Runs the `on_new` hook and pings the WebSub hub, off the runs' path.
    pub deliverer: Deliverer,
}

impl State {
    /// State for `generation`, with the health board and the sources'
    /// recent days filled from the store once.
    pub fn new(
        generation: Generation,
        store: SharedStore,
        health: Vec<SourceHealth>,
        history: HashMap<String, History>,
        deliverer: Deliverer,
    ) -> Self {
        Self {
            generation: RwLock::new(Arc::new(generation)),
            store,
            running: Mutex::default(),
            scheduling: AtomicBool::new(false),
            board: Mutex::new(health.into_iter().map(|h| (h.id.clone(), h)).collect()),
            history: Mutex::new(history),
            metrics: Metrics::default(),
            deliverer,
        }
    }

    /// The generation in force.
    pub fn current(&self) -> Arc<Generation> {
        Arc::clone(
            &self
                .generation
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Swaps in a new generation.
    pub fn replace(&self, generation: Generation) {
        *self
            .generation
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(generation);
    }

    /// Marks `id` as running; `None` when a run of it is already in progress
    /// (a source is never fetched twice at once). The run ends when the
    /// returned guard drops.
    pub fn start_run(&self, id: &str) -> Option<RunGuard<'_>> {
        let inserted = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.to_string());
        inserted.then(|| RunGuard {
            state: self,
            id: id.to_string(),
        })
    }

    /// Whether the schedules run (after the first cycle, until shutdown).
    pub fn scheduling(&self) -> bool {
        self.scheduling.load(Ordering::SeqCst)
    }

    /// Sets whether the schedules run.
    pub fn set_scheduling(&self, on: bool) {
        self.scheduling.store(on, Ordering::SeqCst);
    }

    /// Records a source's health as the store has it after a run. The next
    /// run stays the board's own: the schedule sets it ([`State::set_next_run`]),
    /// and a reload clears the store's copy before the schedules set it again.
    pub fn update_health(&self, mut health: SourceHealth) {
        let mut board = self.board();
        if let Some(old) = board.get(&health.id) {
            health.next_run = old.next_run;
        }
        board.insert(health.id.clone(), health);
    }

    /// Records a source's recent days as the store has them after a run.
    pub fn update_history(&self, id: &str, days: History) {
        self.history
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.to_string(), days);
    }

    /// Records when a source runs next.
    pub fn set_next_run(&self, id: &str, at: Option<DateTime<Utc>>) {
        if let Some(health) = self.board().get_mut(id) {
            health.next_run = at;
        }
    }

    /// The failure state the backoff is computed from.
    pub fn failing(&self, id: &str) -> Option<Failing> {
        let board = self.board();
        let health = board.get(id)?;
        Some(Failing {
            failures: health.consecutive_failures,
            last_attempt: health.last_attempt?,
        })
        .filter(|f| f.failures > 0)
    }

    /// The health of the sources the current config has, in config order.
    pub fn health(&self) -> Vec<SourceHealth> {
        let config = self.current().config.clone();
        let board = self.board();
        config
            .sources
            .iter()
            .filter_map(|s| board.get(&s.id).cloned())
            .collect()
    }

    fn board(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, SourceHealth>> {
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Removes a source from the running set when its run ends, however it ends.
pub struct RunGuard<'a> {
    state: &'a State,
    id: String,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.state
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// `/healthz`: 200 while the scheduler runs, with every source's health
/// and its condition in words (`broken since …, fix proposed`), answered
/// from memory (it never queries the store).
pub fn health_json(state: &State) -> (bool, String) {
    let scheduling = state.scheduling();
    let sources: Vec<serde_json::Value> = state
        .health()
        .iter()
        .map(|h| {
            let mut value = serde_json::to_value(h).unwrap_or_default();
            if let Some(fields) = value.as_object_mut() {
                fields.insert("condition".to_string(), h.condition().into());
            }
            value
        })
        .collect();
    let body = serde_json::json!({
        "status": if scheduling { "ok" } else { "starting" },
        "sources": sources,
    });
    (scheduling, body.to_string())
}

/// `/metrics`: the run counters and the health board, in the Prometheus
/// text format, answered from memory.
pub fn metrics_text(state: &State) -> String {
    state.metrics.render(&state.health())
}

/// `/status`: the status page from the health board and the sources'
/// recent days, answered from memory.
pub fn status_html(state: &State) -> String {
    let config = state.current().config.clone();
    let health = state.health();
    let history = state.history.lock().unwrap_or_else(PoisonError::into_inner);
    crate::publish::status_page(&config, &health, &history, Utc::now())
}

/// `4 sources, 12 items, 1 failing`, for `systemctl status`.
pub fn status_line(state: &State) -> String {
    let sources = state.current().config.sources.len();
    let health = state.health();
    let items: u64 = health.iter().map(|h| h.items).sum();
    let failing = health.iter().filter(|h| h.consecutive_failures > 0).count();
    format!("{sources} sources, {items} items, {failing} failing")
}
