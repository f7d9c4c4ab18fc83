//! Integration tests: the real `medee` binary against a real HTTP server on
//! 127.0.0.1 serving fixture pages, with a real SQLite store in a temp dir and
//! every output parsed back by feed-rs. One binary, one module per area.

mod articles;
mod catalog;
mod config_errors;
mod daemon;
mod delivery;
mod fetching;
mod golden;
mod hostile;
mod in_process;
mod json_sources;
mod listener;
mod metrics;
mod once;
mod packaging;
mod preview;
mod publishing;
mod repair;
mod schema;
mod shell_docs;
mod status_page;
mod stories;
mod suggest;
mod support;
