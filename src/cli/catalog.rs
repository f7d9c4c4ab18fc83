//! `medee catalog` and `medee add`: the ready sources compiled into the
//! binary, listed, and appended to a config file.

use std::io::Write;
use std::path::Path;

use crate::config::Config;
use crate::config::catalog::{append, entries};

use super::{EXIT_CONFIG, EXIT_FAILED, EXIT_OK, config_error, replace_file};

/// Prints every entry: id, language, name and address, then what it was
/// checked against. A closed pipe (`medee catalog | head`) is not an error.
pub fn list() -> u8 {
    let entries = entries();
    let width = entries.iter().map(|e| e.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for entry in &entries {
        out.push_str(&format!(
            "{:<width$}  {:<2}  {}  <{}>\n{:<width$}  checked against: {}\n",
            entry.id, entry.language, entry.name, entry.url, "", entry.checked
        ));
    }
    out.push_str(&format!(
        "\n{} ready sources; `medee add ID...` appends them to the config file.\n",
        entries.len()
    ));
    let _ = std::io::stdout().write_all(out.as_bytes());
    EXIT_OK
}

/// Appends the entries to the config file (created when missing), keeping
/// every byte already there, and only when the whole result is a valid config.
pub fn add(path: &Path, ids: &[String]) -> u8 {
    let current = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            eprintln!("{}: cannot read: {e}", path.display());
            return EXIT_FAILED;
        }
    };
    let text = match append(&current, ids) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            return EXIT_CONFIG;
        }
    };
    if let Err(e) = Config::parse(&text, path) {
        eprintln!(
            "{}: with {} added the config would be invalid; nothing was written:",
            path.display(),
            ids.join(", ")
        );
        return config_error(&e);
    }
    match replace_file(path, text.as_bytes()) {
        Ok(()) => {
            println!("added {} to {}", ids.join(", "), path.display());
            EXIT_OK
        }
        Err(e) => {
            eprintln!("{}: cannot write: {e}", path.display());
            EXIT_FAILED
        }
    }
}
