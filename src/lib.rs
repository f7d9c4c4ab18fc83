//! medee: a feed aggregator daemon for sites that publish no usable feed.
//!
//! The data flows through one module per step:
//!
//! ```text
//! config ──▶ fetch ──▶ extract ──▶ pipeline (filter, dates) ──▶ store ──▶ publish (render)
//!  TOML      HTTP      selectors    include/exclude, dates      SQLite     RSS, Atom, HTML, OPML
//! ```
//!
//! Every step but `fetch`, `store` and `publish` is pure, so each can be tested
//! on plain data; `pipeline` is the one place that chains them. `daemon` runs
//! the pipeline per source on its schedule and `serve` hands the outputs to
//! feed readers over HTTP.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod daemon;
pub mod dates;
pub mod extract;
pub mod fetch;
pub mod identity;
pub mod pipeline;
pub mod publish;
pub mod render;
pub mod sanitize;
pub mod serve;
pub mod store;
pub mod suggest;
