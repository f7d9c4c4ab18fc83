//! `medee man`, `medee completions SHELL` and `medee schema`: generated from
//! the definitions themselves (clap's for the first two, the config's raw
//! structs for the schema), so they can never disagree with what the binary
//! accepts.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, EXIT_FAILED, EXIT_OK};

/// The roff source of `medee(1)`.
pub fn man_page() -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Ok(out)
}

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let name = command.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut out);
    out
}

/// Prints `medee man`; a failed write (a closed pipe) is exit code 1.
pub fn print_man_page() -> u8 {
    print_bytes(man_page())
}

/// Prints `medee completions SHELL`.
pub fn print_completions(shell: Shell) -> u8 {
    print_bytes(Ok(completions(shell)))
}

/// Prints `medee schema`: the config's JSON Schema, pretty-printed.
pub fn print_schema() -> u8 {
    let mut text = serde_json::to_string_pretty(&crate::config::schema::json_schema())
        .map_err(io::Error::other);
    if let Ok(text) = &mut text {
        text.push('\n');
    }
    print_bytes(text.map(String::into_bytes))
}

fn print_bytes(bytes: io::Result<Vec<u8>>) -> u8 {
    let written = bytes.and_then(|bytes| {
        let mut stdout = io::stdout().lock();
        stdout.write_all(&bytes)?;
        stdout.flush()
    });
    match written {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("medee: cannot write: {e}");
            EXIT_FAILED
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subcommands() -> Vec<String> {
        Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect()
    }

    #[test]
    fn the_man_page_names_every_subcommand() {
        let page = String::from_utf8(man_page().expect("renders")).expect("UTF-8");
        assert!(page.contains(".TH medee 1"), "{page}");
        let names = subcommands();
        assert!(names.len() >= 9, "{names:?}");
        for name in names {
            let entry = format!("medee\\-{name}(1)");
            assert!(page.contains(&entry), "{entry} missing from:\n{page}");
        }
    }

    #[test]
    fn every_shell_gets_a_script_naming_every_subcommand() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::Elvish,
            Shell::PowerShell,
        ] {
            let script = String::from_utf8(completions(shell)).expect("UTF-8");
            for name in subcommands() {
                assert!(script.contains(&name), "{shell}: {name} missing");
            }
        }
    }
}
