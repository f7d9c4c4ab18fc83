//! Arbitrary text as a config file: loading must never panic, and every error
//! must carry a position inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use medee::config::{Config, ConfigError};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(ConfigError::Invalid(diagnostics)) =
        Config::parse(text, std::path::Path::new("fuzz.toml"))
    {
        let lines = text.lines().count().max(1);
        for d in diagnostics {
            assert!(d.line >= 1 && d.line <= lines + 1, "{d}");
            assert!(d.column >= 1, "{d}");
        }
    }
});
