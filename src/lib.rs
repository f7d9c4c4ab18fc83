//! medee: a feed aggregator daemon for sites that publish no usable feed.
//!
//! The data flows through one module per step, with `pipeline` conducting:
//!
//! ```text
//!            ┌──────────────────────── pipeline (Runner, Outcome) ────────────────────────┐
//! config ──▶ schedule ──▶ fetch ──▶ extract ──▶ filters, dates ──▶ store ──▶ render ──▶ publish
//!  TOML      cron, backoff  HTTP     selectors   include/exclude   SQLite    RSS, Atom,   files
//!                                                                           HTML, OPML    ├──▶ serve
//!                                                                                        └──▶ deliver
//! ```
//!
//! `config`, `schedule`, `extract` (and `json_items`, its counterpart for
//! JSON sources), `dates`, `identity`, `cluster` (whether two headlines tell
//! one story), `sanitize` and `render` are pure: plain data in, plain data out, tested without I/O.
//! `fetch`, `store` and `publish` do the I/O; `pipeline` chains the stages
//! for one source (`Runner::run`) and publishes from the store. `daemon`
//! runs the pipeline per source on its schedule, `serve` hands the outputs to
//! feed readers over HTTP, `deliver` runs the `on_new` hook with new items and
//! pings the WebSub hub about changed feeds (after a cycle, off its path), and
//! `cli` maps each command onto these. `repair` (pure) tells when a site
//! changed under a source: it detects the collapse, proposes new selectors
//! with `suggest`'s detection, words the feeds' notice and rewrites the config
//! for `medee repair`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod cli;
pub mod cluster;
pub mod config;
pub mod daemon;
pub mod dates;
pub mod deliver;
pub mod extract;
pub mod fetch;
pub mod identity;
pub mod json_items;
pub mod pipeline;
pub mod publish;
pub mod render;
pub mod repair;
pub mod sanitize;
pub mod schedule;
pub mod serve;
pub mod store;
pub mod suggest;
