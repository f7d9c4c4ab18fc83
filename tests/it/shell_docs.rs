//! `medee man` and `medee completions SHELL` from the real binary, with no
//! config present: the output is checked against the subcommands the binary's
//! own `--help` lists, and the bash script is checked by `bash -n`.

use std::io::Write as _;
use std::process::{Command as Process, Stdio};

use assert_cmd::Command;

/// The subcommand names `medee --help` lists (clap's "Commands:" block).
fn subcommands() -> Vec<String> {
    let output = medee(&["--help"]);
    let names: Vec<String> = output
        .split("Commands:")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .skip_while(|line| line.trim().is_empty())
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    assert!(names.len() >= 9, "{output}");
    names
}

/// Stdout of a successful `medee ARGS`, run where no config exists.
fn medee(args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::cargo_bin("medee")
        .expect("binary built")
        .current_dir(dir.path())
        .env_remove("MEDEE_CONFIG")
        .args(args)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn the_man_page_is_roff_naming_every_subcommand() {
    let page = medee(&["man"]);
    assert!(page.starts_with(".ie"), "{page}");
    assert!(page.contains(".TH medee 1"), "{page}");
    for name in subcommands() {
        let entry = format!("medee\\-{name}(1)");
        assert!(page.contains(&entry), "{entry} missing:\n{page}");
    }
}

#[test]
fn bash_completions_name_every_subcommand_and_pass_bash_n() {
    let script = medee(&["completions", "bash"]);
    for name in subcommands() {
        assert!(script.contains(&name), "{name} missing");
    }
    let mut bash = Process::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    bash.stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script written");
    let checked = bash.wait_with_output().expect("bash finishes");
    assert!(
        checked.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    Command::cargo_bin("medee")
        .expect("binary built")
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}
