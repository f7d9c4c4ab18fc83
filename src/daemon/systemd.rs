//! Talking to systemd: readiness, status, reloading, stopping and the watchdog.
//! Outside systemd (no `NOTIFY_SOCKET`) every call is a no-op.

use std::time::Duration;

use sd_notify::NotifyState;
use tracing::warn;

/// Tells systemd the daemon is ready (after the first cycle, or a reload).
pub fn ready() {
    notify(&[NotifyState::Ready]);
}

/// The one-line status `systemctl status` shows.
pub fn status(text: &str) {
    notify(&[NotifyState::Status(text)]);
}

/// A reload has started (with the monotonic time systemd wants for `Type=notify-reload`).
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => notify(&[NotifyState::Reloading, now]),
        Err(_) => notify(&[NotifyState::Reloading]),
    }
}

/// A reload failed: ready again, on the previous config.
pub fn reload_failed() {
    notify(&[
        NotifyState::Ready,
        NotifyState::Status("config reload failed; running the previous config"),
    ]);
}

/// The daemon is stopping.
pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

/// The daemon is alive (sent only after a health check passes).
pub fn watchdog() {
    notify(&[NotifyState::Watchdog]);
}

fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!(error = %e, "cannot notify systemd");
    }
}

/// A timer at half of `WatchdogSec`, when systemd asked for one.
pub fn watchdog_timer() -> Option<tokio::time::Interval> {
    sd_notify::watchdog_enabled()
        .map(|period| tokio::time::interval((period / 2).max(Duration::from_millis(100))))
}

/// Waits for the watchdog timer's next tick; forever when there is none.
pub async fn tick(timer: &mut Option<tokio::time::Interval>) {
    match timer {
        Some(timer) => {
            timer.tick().await;
        }
        None => std::future::pending().await,
    }
}
