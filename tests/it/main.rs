//! Integration tests: the real `medee` binary against a real HTTP server on
//! 127.0.0.1 serving fixture pages, with a real SQLite store in a temp dir and
//! every output parsed back by feed-rs. One binary, one module per area.

mod config_errors;
mod daemon;
mod fetching;
mod golden;
mod hostile;
mod in_process;
mod json_sources;
mod listener;
mod metrics;
mod once;
mod preview;
mod publishing;
mod shell_docs;
mod stories;
mod suggest;
mod support;
