//! `medee run`: the long-lived service.
//!
//! Lifecycle: signal handlers first, then the store and the optional HTTP
//! listener, then one full cycle, then `READY=1`; from there each source runs
//! on its own cron schedule in its own task, so a slow site never delays
//! another. SIGHUP reloads the config (a bad one is logged and the old one
//! kept), SIGTERM/SIGINT stop scheduling, give in-flight work a few seconds and
//! exit. Every store write is one transaction and every output is renamed into
//! place, so abandoning work at any point leaves nothing half-written.
//!
//! Scheduling uses `croner` directly: each source task sleeps until its next
//! cron time, so an idle daemon wakes only when a fetch is due (a ticking
//! scheduler would wake several times a second).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use sd_notify::NotifyState;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::config::Config;
use crate::fetch::{FetchError, Fetcher};
use crate::pipeline;
use crate::serve::{HealthCheck, serve};
use crate::store::{SharedStore, Store, StoreError};

/// How long in-flight work may take to finish after SIGTERM before it is abandoned.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the daemon could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// A signal handler or the listener could not be set up.
    #[error("{context}: {source}")]
    Io {
        /// What was being set up.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// State shared by the scheduler tasks, the reload handler and the HTTP server.
struct Shared {
    config: RwLock<Arc<Config>>,
    fetcher: RwLock<Fetcher>,
    limit: RwLock<Arc<Semaphore>>,
    store: SharedStore,
    running: Mutex<HashSet<String>>,
    scheduling: std::sync::atomic::AtomicBool,
}

/// A copy of what `lock` holds; a writer that panicked left a whole value
/// (every write is one assignment), so a poisoned lock is read all the same.
fn read_clone<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// Swaps in a new value with one assignment, so readers never see half of one.
fn replace<T>(lock: &RwLock<T>, value: T) {
    *lock
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = value;
}

impl Shared {
    fn config(&self) -> Arc<Config> {
        read_clone(&self.config)
    }

    fn fetcher(&self) -> Fetcher {
        read_clone(&self.fetcher)
    }

    fn limit(&self) -> Arc<Semaphore> {
        read_clone(&self.limit)
    }

    /// Runs `f` on the store; the daemon carries on after a store error, which is logged.
    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Option<T> {
        match self.store.run(f).await {
            Ok(value) => Some(value),
            Err(e) => {
                error!(error = %e, "store operation failed");
                None
            }
        }
    }
}

/// Removes a source from the running set when its run ends, however it ends.
struct RunningGuard<'a> {
    shared: &'a Shared,
    id: String,
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        self.shared
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(config_path: PathBuf, config: Config) -> Result<(), DaemonError> {
    let io = |context: &str| {
        let context = context.to_string();
        move |source| DaemonError::Io { context, source }
    };
    let mut hangup = signal(SignalKind::hangup()).map_err(io("cannot handle SIGHUP"))?;
    let mut terminate = signal(SignalKind::terminate()).map_err(io("cannot handle SIGTERM"))?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(io("cannot handle SIGINT"))?;

    let store = Store::open(&config.daemon.database)?;
    let shared = Arc::new(Shared {
        fetcher: RwLock::new(Fetcher::new(&config.daemon)?),
        limit: RwLock::new(Arc::new(Semaphore::new(config.daemon.concurrency))),
        config: RwLock::new(Arc::new(config)),
        store: SharedStore::new(store),
        running: Mutex::default(),
        scheduling: std::sync::atomic::AtomicBool::new(false),
    });
    let (stop_server, server_stopped) = watch::channel(false);
    start_listener(&shared, server_stopped).await?;

    let mut tasks = JoinSet::new();
    let mut first_cycle = JoinSet::new();
    for source in &shared.config().sources {
        let (shared, id) = (Arc::clone(&shared), source.id.clone());
        first_cycle.spawn(async move { run_source(&shared, &id, false).await });
    }
    let mut generation = watch::channel(false).0;
    let mut started = false;
    let mut watchdog = watchdog_timer();
    info!(
        sources = shared.config().sources.len(),
        "medee started; running the first cycle"
    );
    loop {
        tokio::select! {
            joined = first_cycle.join_next(), if !started => {
                if joined.is_some() {
                    continue;
                }
                started = true;
                publish(&shared).await;
                generation = spawn_schedules(&shared, &mut tasks);
                notify(&[NotifyState::Ready]);
                report_status(&shared).await;
                info!("first cycle done; following the schedule");
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = hangup.recv() => {
                if let Some(next) = reload(&shared, &config_path, &mut tasks, started).await {
                    let _ = generation.send(true);
                    generation = next;
                }
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
            _ = tick(&mut watchdog) => {
                if shared.with_store(|s| s.ping()).await.is_some() {
                    notify(&[NotifyState::Watchdog]);
                }
            }
        }
    }

    info!("stopping");
    notify(&[NotifyState::Stopping]);
    shared
        .scheduling
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let _ = generation.send(true);
    let _ = stop_server.send(true);
    first_cycle.abort_all();
    if tokio::time::timeout(DRAIN_TIMEOUT, async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        warn!("in-flight fetches did not finish in time; abandoning them");
        tasks.abort_all();
    }
    shared.with_store(|s| s.clear_next_runs()).await;
    Ok(())
}

async fn start_listener(
    shared: &Arc<Shared>,
    stop: watch::Receiver<bool>,
) -> Result<(), DaemonError> {
    let config = shared.config();
    let Some(addr) = config.daemon.listen else {
        return Ok(());
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| DaemonError::Io {
            context: format!("cannot listen on {addr}"),
            source,
        })?;
    // Its own connection: WAL readers never wait for the cycle's writes.
    let reader = Mutex::new(Store::open(&config.daemon.database)?);
    let health_shared = Arc::clone(shared);
    let health: HealthCheck = Arc::new(move || health_json(&health_shared, &reader));
    info!(%addr, dir = %config.daemon.output_dir.display(), "serving feeds over HTTP");
    tokio::spawn(serve(
        listener,
        config.daemon.output_dir.clone(),
        health,
        stop,
    ));
    Ok(())
}

/// `/healthz`: 200 while the scheduler runs, with every source's health.
fn health_json(shared: &Shared, reader: &Mutex<Store>) -> (bool, String) {
    let scheduling = shared.scheduling.load(std::sync::atomic::Ordering::SeqCst);
    let health = reader
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .health()
        .unwrap_or_default();
    let body = serde_json::json!({
        "status": if scheduling { "ok" } else { "starting" },
        "sources": health,
    });
    (scheduling, body.to_string())
}

/// Spawns one schedule task per source; they stop when the returned sender sends `true`.
fn spawn_schedules(shared: &Arc<Shared>, tasks: &mut JoinSet<()>) -> watch::Sender<bool> {
    let (stop, stopped) = watch::channel(false);
    let config = shared.config();
    for source in &config.sources {
        let cron = source
            .schedule
            .as_ref()
            .unwrap_or(&config.daemon.schedule)
            .cron
            .clone();
        let (shared, id, stopped) = (Arc::clone(shared), source.id.clone(), stopped.clone());
        tasks.spawn(async move { schedule_loop(shared, id, cron, stopped).await });
    }
    shared
        .scheduling
        .store(true, std::sync::atomic::Ordering::SeqCst);
    stop
}

/// Sleeps until each cron time, then runs the source. A run that outlasts the
/// next tick skips it: a source is never fetched twice at once.
async fn schedule_loop(
    shared: Arc<Shared>,
    id: String,
    cron: croner::Cron,
    mut stop: watch::Receiver<bool>,
) {
    while !*stop.borrow() {
        let now = Local::now();
        let Some(next) = next_attempt(&shared, &id, &cron, now).await else {
            warn!(source = %id, "schedule has no future run");
            return;
        };
        let next_utc = next.with_timezone(&Utc);
        let store_id = id.clone();
        shared
            .with_store(move |s| s.set_next_run(&store_id, Some(next_utc)))
            .await;
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        run_source(&shared, &id, true).await;
        if let Ok(following) = cron.find_next_occurrence(&next, false)
            && following < Local::now()
        {
            info!(source = %id, "run outlasted the schedule; skipped ticks");
        }
    }
}

/// The next cron time for the source, pushed past its backoff when it keeps
/// failing: after `n` consecutive failures it waits 2^(n-1) schedule
/// intervals (at most [`MAX_BACKOFF`]) from its last attempt, so a broken site
/// is asked less and less often and picked up again by itself.
async fn next_attempt(
    shared: &Shared,
    id: &str,
    cron: &croner::Cron,
    now: DateTime<Local>,
) -> Option<DateTime<Local>> {
    let next = cron.find_next_occurrence(&now, false).ok()?;
    let interval = cron
        .find_next_occurrence(&next, false)
        .ok()
        .and_then(|after| (after - next).to_std().ok())
        .unwrap_or(MAX_BACKOFF);
    let store_id = id.to_string();
    let failing = shared
        .with_store(move |s| s.failure_state(&store_id))
        .await
        .flatten();
    let Some((failures, last_attempt)) = failing else {
        return Some(next);
    };
    let until = last_attempt + backoff(failures, interval);
    if until <= next.with_timezone(&Utc) {
        return Some(next);
    }
    debug!(source = %id, failures, until = %until, "backing off");
    cron.find_next_occurrence(&until.with_timezone(&Local), true)
        .ok()
}

/// The longest a failing source waits between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(4 * 3600);

/// How long to wait after `failures` consecutive failures, in schedule intervals.
pub fn backoff(failures: u32, interval: Duration) -> chrono::Duration {
    let intervals = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    let wait = interval.saturating_mul(intervals).min(MAX_BACKOFF);
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::zero())
}

/// Fetches and stores one source, then re-renders the outputs if anything changed.
async fn run_source(shared: &Arc<Shared>, id: &str, publish_after: bool) {
    let config = shared.config();
    let Some(index) = config.sources.iter().position(|s| s.id == id) else {
        return;
    };
    let first_run = shared
        .running
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(id.to_string());
    if !first_run {
        info!(source = %id, "previous run still in progress; tick skipped");
        return;
    }
    let _guard = RunningGuard {
        shared,
        id: id.to_string(),
    };
    let limit = shared.limit();
    let Ok(_permit) = limit.acquire().await else {
        return;
    };
    let outcome = pipeline::run_source_isolated(
        Arc::clone(&config),
        index,
        shared.fetcher(),
        shared.store.clone(),
    )
    .await;
    match outcome {
        Ok(outcome) if publish_after && outcome.changed_feeds() => publish(shared).await,
        Ok(_) => {}
        Err(e) => error!(source = %id, error = %e, "cannot store the source's cycle"),
    }
    if publish_after {
        report_status(shared).await;
    }
}

/// Prunes and writes every output from the store.
async fn publish(shared: &Arc<Shared>) {
    let config = shared.config();
    shared
        .with_store(move |s| pipeline::finish_cycle(&config, s, true, Utc::now()))
        .await;
}

/// Loads the config again; on success swaps it in and restarts the schedules,
/// returning the new schedules' stop sender. A bad config changes nothing.
async fn reload(
    shared: &Arc<Shared>,
    config_path: &Path,
    tasks: &mut JoinSet<()>,
    started: bool,
) -> Option<watch::Sender<bool>> {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => notify(&[NotifyState::Reloading, now]),
        Err(_) => notify(&[NotifyState::Reloading]),
    }
    info!(config = %config_path.display(), "SIGHUP: reloading the config");
    let old = shared.config();
    let result = Config::load(config_path)
        .map_err(|e| e.to_string())
        .and_then(|new| {
            let fetcher = Fetcher::new(&new.daemon).map_err(|e| e.to_string())?;
            Ok((new, fetcher))
        });
    let (new, fetcher) = match result {
        Ok(loaded) => loaded,
        Err(message) => {
            for line in message.lines() {
                error!("{line}");
            }
            error!("config reload failed; still running the previous config");
            notify(&[
                NotifyState::Ready,
                NotifyState::Status("config reload failed; running the previous config"),
            ]);
            return None;
        }
    };
    if new.daemon.database != old.daemon.database || new.daemon.listen != old.daemon.listen {
        warn!("database and listen changes take effect after a restart");
    }
    let added: Vec<String> = new
        .sources
        .iter()
        .filter(|s| old.source(&s.id).is_none())
        .map(|s| s.id.clone())
        .collect();
    replace(
        &shared.limit,
        Arc::new(Semaphore::new(new.daemon.concurrency)),
    );
    replace(&shared.fetcher, fetcher);
    replace(&shared.config, Arc::new(new));
    info!(added = added.len(), "config reloaded");
    shared.with_store(|s| s.clear_next_runs()).await;
    let next = started.then(|| spawn_schedules(shared, tasks));
    for id in added {
        let shared = Arc::clone(shared);
        tasks.spawn(async move { run_source(&shared, &id, true).await });
    }
    publish(shared).await;
    notify(&[NotifyState::Ready]);
    report_status(shared).await;
    next
}

/// `STATUS=4 sources, 12 items, 1 failing` for `systemctl status`.
async fn report_status(shared: &Arc<Shared>) {
    let config = shared.config();
    let Some(health) = shared.with_store(|s| s.health()).await else {
        return;
    };
    let configured = |id: &str| config.source(id).is_some();
    let items: u64 = health
        .iter()
        .filter(|h| configured(&h.id))
        .map(|h| h.items)
        .sum();
    let failing = health
        .iter()
        .filter(|h| configured(&h.id) && h.consecutive_failures > 0)
        .count();
    let status = format!(
        "{} sources, {items} items, {failing} failing",
        config.sources.len()
    );
    notify(&[NotifyState::Status(&status)]);
}

fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!(error = %e, "cannot notify systemd");
    }
}

/// A timer at half of `WatchdogSec`, when systemd asked for one.
fn watchdog_timer() -> Option<tokio::time::Interval> {
    sd_notify::watchdog_enabled()
        .map(|period| tokio::time::interval((period / 2).max(Duration::from_millis(100))))
}

async fn tick(timer: &mut Option<tokio::time::Interval>) {
    match timer {
        Some(timer) => {
            timer.tick().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_failure_in_schedule_intervals_up_to_four_hours() {
        let quarter = Duration::from_secs(15 * 60);
        let minutes = |n| backoff(n, quarter).num_minutes();
        assert_eq!(
            [minutes(1), minutes(2), minutes(3), minutes(4)],
            [15, 30, 60, 120]
        );
        assert_eq!(minutes(5), 240);
        assert_eq!(minutes(6), 240, "capped");
        assert_eq!(minutes(u32::MAX), 240, "no overflow");
        assert_eq!(backoff(3, Duration::from_secs(1)).num_seconds(), 4);
    }
}
