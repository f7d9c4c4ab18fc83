//! One task per source, sleeping until [`next_run`] says the source is due.

use std::sync::Arc;
use std::time::Instant;

use chrono::{Local, Utc};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::deliver::Delivery;
use crate::pipeline::SourceRef;
use crate::schedule::next_run;

use super::publisher::Publisher;
use super::state::State;

/// Spawns one schedule task per source of the current generation; they stop
/// when the returned sender sends `true`.
pub fn spawn(
    state: &Arc<State>,
    publisher: &Publisher,
    tasks: &mut JoinSet<()>,
) -> watch::Sender<bool> {
    let (stop, stopped) = watch::channel(false);
    let generation = state.current();
    for source in SourceRef::all(&generation.config) {
        let (state, publisher, stopped) = (Arc::clone(state), publisher.clone(), stopped.clone());
        tasks.spawn(async move { schedule_loop(state, source, publisher, stopped).await });
    }
    state.set_scheduling(true);
    stop
}

/// Sleeps until each next run, then runs the source and asks for a publish.
/// A run that outlasts the next cron time skips it: a source is never
/// fetched twice at once.
async fn schedule_loop(
    state: Arc<State>,
    source: SourceRef,
    publisher: Publisher,
    mut stop: watch::Receiver<bool>,
) {
    let cron = source
        .schedule
        .as_ref()
        .unwrap_or(&state.current().config.daemon.schedule)
        .cron
        .clone();
    while !*stop.borrow() {
        let now = Local::now();
        let failing = state.failing(&source.id);
        let Some(next) = next_run(&cron, &now, failing) else {
            warn!(source = %source.id, "schedule has no future run");
            return;
        };
        if next > now && failing.is_some() {
            debug!(source = %source.id, until = %next, "backing off");
        }
        record_next_run(&state, &source.id, Some(next.with_timezone(&Utc))).await;
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        run_source(&state, source.clone()).await;
        publisher.request();
        if let Ok(following) = cron.find_next_occurrence(&next, false)
            && following < Local::now()
        {
            info!(source = %source.id, "run outlasted the schedule; skipped ticks");
        }
    }
}

async fn record_next_run(state: &State, id: &str, at: Option<chrono::DateTime<Utc>>) {
    state.set_next_run(id, at);
    let id = id.to_string();
    if let Err(e) = state.store.run(move |s| s.set_next_run(&id, at)).await {
        error!(error = %e, "cannot record the next run in the store");
    }
}

/// Runs one source with the current generation's runner (unless a run of it
/// is already in progress), then records it for `/metrics`, hands its new
/// items to the `on_new` hook, and refreshes its health on the board and its
/// recent days for `/status`.
pub async fn run_source(state: &Arc<State>, source: SourceRef) {
    let Some(_running) = state.start_run(&source.id) else {
        info!(source = %source.id, "previous run still in progress; tick skipped");
        return;
    };
    let generation = state.current();
    let id = source.id.clone();
    let started = Instant::now();
    let run = generation.runner.run(source).await;
    state.metrics.record_run(&run, started.elapsed());
    state.deliverer.send(
        &generation.config,
        Delivery {
            new_items: run.outcome.new_item_ids().to_vec(),
            ..Delivery::default()
        },
    );
    let today = Utc::now().date_naive();
    match state
        .store
        .run(move |s| {
            let days = s.source_history(&id, today)?;
            Ok((s.source_health(&id)?, id, days))
        })
        .await
    {
        Ok((health, id, days)) => {
            state.update_history(&id, days);
            if let Some(health) = health {
                state.update_health(health);
            }
        }
        Err(e) => error!(error = %e, "cannot read the source's health from the store"),
    }
}
