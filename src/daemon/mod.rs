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
//! Scheduling uses `croner` directly: each source task sleeps until the time
//! [`crate::schedule::next_run`] gives, so an idle daemon wakes only when a
//! fetch is due (a ticking scheduler would wake several times a second).

mod metrics;
mod publisher;
mod scheduler;
mod state;
mod systemd;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::config::Config;
use crate::deliver::Deliverer;
use crate::fetch::FetchError;
use crate::pipeline::{Runner, SourceRef};
use crate::serve::{Reports, serve};
use crate::store::StoreError;

use publisher::Publisher;
use state::{Generation, State, health_json, metrics_text, status_html, status_line};

/// How long in-flight work may take to finish after SIGTERM before it is abandoned.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// Changes that land within this window after the first are published once.
const PUBLISH_WINDOW: Duration = Duration::from_millis(300);

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

/// What the daemon is asked to do from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Read the config file again (SIGHUP).
    Reload,
    /// Stop (SIGTERM, SIGINT).
    Stop,
}

/// Everything the daemon runs with; [`run`] builds it from the process
/// (signals, the configured `listen` address), tests can build their own.
pub struct Options {
    /// The config file, read again on [`Signal::Reload`].
    pub config_path: PathBuf,
    /// The config loaded at start.
    pub config: Config,
    /// Where to serve the outputs, already bound.
    pub listener: Option<TcpListener>,
    /// Reload and stop requests.
    pub signals: mpsc::Receiver<Signal>,
}

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(config_path: PathBuf, config: Config) -> Result<(), DaemonError> {
    let signals = forward_signals()?;
    let listener = match config.daemon.listen {
        Some(addr) => Some(bind(addr).map_err(|source| DaemonError::Io {
            context: format!("cannot listen on {addr}"),
            source,
        })?),
        None => None,
    };
    run_with(Options {
        config_path,
        config,
        listener,
        signals,
    })
    .await
}

/// Connections the kernel may queue while the listener has all its slots in
/// use: a burst of feed readers waits there instead of being dropped.
const ACCEPT_BACKLOG: u32 = 1024;

fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Turns SIGHUP, SIGTERM and SIGINT into [`Signal`]s.
fn forward_signals() -> Result<mpsc::Receiver<Signal>, DaemonError> {
    let io = |context: &'static str| {
        move |source| DaemonError::Io {
            context: context.to_string(),
            source,
        }
    };
    let mut hangup = signal(SignalKind::hangup()).map_err(io("cannot handle SIGHUP"))?;
    let mut terminate = signal(SignalKind::terminate()).map_err(io("cannot handle SIGTERM"))?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(io("cannot handle SIGINT"))?;
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                _ = hangup.recv() => Signal::Reload,
                _ = terminate.recv() => Signal::Stop,
                _ = interrupt.recv() => Signal::Stop,
            };
            if tx.send(next).await.is_err() {
                return;
            }
        }
    });
    Ok(rx)
}

/// Runs the daemon with `options` until a [`Signal::Stop`] (or the signal
/// channel closes).
pub async fn run_with(mut options: Options) -> Result<(), DaemonError> {
    let config = Arc::new(options.config);
    let (state, deliveries) = start_state(&config).await?;
    let (stop_server, server_stopped) = watch::channel(false);
    if let Some(listener) = options.listener.take() {
        start_listener(&state, listener, server_stopped);
    }
    let publisher = Publisher::spawn(Arc::clone(&state), PUBLISH_WINDOW);
    info!(
        sources = config.sources.len(),
        "medee started; running the first cycle"
    );
    // The first cycle runs inside the loop, so SIGTERM during it is answered at once.
    let startup = async {
        first_cycle(&state).await;
        publisher.publish_now().await;
    };
    tokio::pin!(startup);
    let mut started = false;
    let mut tasks = JoinSet::new();
    let mut schedules: Option<watch::Sender<bool>> = None;
    let mut watchdog = systemd::watchdog_timer();
    loop {
        tokio::select! {
            () = &mut startup, if !started => {
                started = true;
                schedules = Some(scheduler::spawn(&state, &publisher, &mut tasks));
                systemd::ready();
                systemd::status(&status_line(&state));
                info!("first cycle done; following the schedule");
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            signal = options.signals.recv() => match signal {
                Some(Signal::Reload) => {
                    if reload(&state, &options.config_path, &publisher, &mut tasks).await && started {
                        if let Some(old) = schedules.take() {
                            let _ = old.send(true);
                        }
                        schedules = Some(scheduler::spawn(&state, &publisher, &mut tasks));
                        publisher.request_all();
                    }
                }
                Some(Signal::Stop) | None => break,
            },
            () = systemd::tick(&mut watchdog) => {
                if state.store.run(|s| s.ping()).await.is_ok() {
                    systemd::watchdog();
                }
            }
        }
    }

    info!("stopping");
    systemd::stopping();
    state.set_scheduling(false);
    if let Some(schedules) = schedules {
        let _ = schedules.send(true);
    }
    let _ = stop_server.send(true);
    drain(&mut tasks).await;
    publisher.stop();
    // A hook still running is killed; its items are not offered again.
    deliveries.abort();
    if let Err(e) = state.store.run(|s| s.clear_next_runs()).await {
        error!(error = %e, "cannot clear the scheduled runs in the store");
    }
    Ok(())
}

/// The daemon's shared state: the store opened, the health and history it
/// holds read, the runner and the hook deliverer started (its task handle
/// is returned so shutdown can stop it).
async fn start_state(
    config: &Arc<Config>,
) -> Result<(Arc<State>, tokio::task::JoinHandle<()>), DaemonError> {
    let store = crate::pipeline::open_store(config)?;
    let today = chrono::Utc::now().date_naive();
    let (health, history) = store
        .run(move |s| Ok((s.health()?, s.history(today)?)))
        .await?;
    let runner = Runner::new(&config.daemon, store.clone())?;
    let (deliverer, deliveries) = Deliverer::spawn(store.clone());
    let state = State::new(
        Generation {
            config: Arc::clone(config),
            runner,
        },
        store,
        health,
        history,
        deliverer,
    );
    Ok((Arc::new(state), deliveries))
}

/// Lets in-flight source runs finish, up to [`DRAIN_TIMEOUT`], then aborts the rest.
async fn drain(tasks: &mut JoinSet<()>) {
    let finished = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        warn!("in-flight fetches did not finish in time; abandoning them");
        tasks.abort_all();
    }
}

fn start_listener(state: &Arc<State>, listener: TcpListener, stop: watch::Receiver<bool>) {
    let generation = state.current();
    let (health_state, metrics_state, status_state) =
        (Arc::clone(state), Arc::clone(state), Arc::clone(state));
    let reports = Reports {
        health: Arc::new(move || health_json(&health_state)),
        metrics: Arc::new(move || metrics_text(&metrics_state)),
        status: Arc::new(move || status_html(&status_state)),
    };
    let dir = generation.config.daemon.output_dir.clone();
    match listener.local_addr() {
        Ok(addr) => info!(%addr, dir = %dir.display(), "serving feeds over HTTP"),
        Err(e) => warn!(error = %e, "serving feeds over HTTP on an unknown address"),
    }
    tokio::spawn(serve(listener, dir, reports, stop));
}

/// Runs every source once, side by side up to `concurrency`.
async fn first_cycle(state: &Arc<State>) {
    let generation = state.current();
    let started = std::time::Instant::now();
    let mut runs = JoinSet::new();
    for source in SourceRef::all(&generation.config) {
        let state = Arc::clone(state);
        runs.spawn(async move { scheduler::run_source(&state, source).await });
    }
    while runs.join_next().await.is_some() {}
    state.metrics.record_cycle(started.elapsed());
}

/// Loads the config again and swaps in a new generation; `false` (and the
/// old config kept) when the file is invalid. Sources added by the reload
/// run at once.
async fn reload(
    state: &Arc<State>,
    config_path: &std::path::Path,
    publisher: &Publisher,
    tasks: &mut JoinSet<()>,
) -> bool {
    systemd::reloading();
    info!(config = %config_path.display(), "SIGHUP: reloading the config");
    let old = state.current().config.clone();
    let loaded = Config::load(config_path)
        .map_err(|e| e.to_string())
        .and_then(|new| {
            let runner =
                Runner::new(&new.daemon, state.store.clone()).map_err(|e| e.to_string())?;
            Ok((new, runner))
        });
    let (new, runner) = match loaded {
        Ok(loaded) => loaded,
        Err(message) => {
            for line in message.lines() {
                error!("{line}");
            }
            error!("config reload failed; still running the previous config");
            systemd::reload_failed();
            return false;
        }
    };
    if new.daemon.database != old.daemon.database || new.daemon.listen != old.daemon.listen {
        warn!("database and listen changes take effect after a restart");
    }
    if new.daemon.output_dir != old.daemon.output_dir && new.daemon.listen.is_some() {
        warn!("feeds are written to the new output_dir; the listener serves it after a restart");
    }
    let config = Arc::new(new);
    let stories = config.daemon.stories;
    if let Err(e) = state
        .store
        .run(move |s| {
            s.set_story_settings(stories);
            Ok(())
        })
        .await
    {
        error!(error = %e, "cannot apply the new story clustering settings");
    }
    state.replace(Generation {
        config: Arc::clone(&config),
        runner,
    });
    if let Err(e) = state.store.run(|s| s.clear_next_runs()).await {
        error!(error = %e, "cannot clear the scheduled runs in the store");
    }
    let added: Vec<SourceRef> = SourceRef::all(&config)
        .filter(|s| old.source(&s.id).is_none())
        .collect();
    info!(added = added.len(), "config reloaded");
    for source in added {
        let (state, publisher) = (Arc::clone(state), publisher.clone());
        tasks.spawn(async move {
            scheduler::run_source(&state, source).await;
            publisher.request();
        });
    }
    systemd::ready();
    systemd::status(&status_line(state));
    true
}
