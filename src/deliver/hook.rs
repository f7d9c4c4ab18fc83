//! The `on_new` hook: a program of the user's, run with a cycle's new items
//! as JSON lines on its standard input, for as long as [`HOOK_TIMEOUT`] at most.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::Command;

use crate::config::Config;
use crate::render::shown_dates;
use crate::sanitize::html_to_text;
use crate::store::StoredItem;

/// How long the hook may run before it is killed (SIGKILL): long enough for
/// a script that posts each item to a chat or sends one mail, short enough
/// that a hung one never holds up the next cycle's hook for long.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(60);

/// How much of the hook's standard error is kept for the log line of a failure.
const STDERR_KEPT: u64 = 2048;

/// One line of the hook's input. Field names are stable (see the README).
#[derive(Debug, Serialize)]
pub struct HookItem<'a> {
    /// Source id.
    pub source: &'a str,
    /// Source name.
    pub source_name: &'a str,
    /// Headline.
    pub title: &'a str,
    /// Canonical link.
    pub link: &'a str,
    /// Publication date, else when medee first saw it (RFC 3339, UTC).
    pub date: String,
    /// The teaser as plain text, if there is one.
    pub summary: Option<String>,
}

/// Why the hook did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The program could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// It ran and exited unsuccessfully.
    #[error("{program} exited with {status}{}", stderr_suffix(stderr))]
    Failed {
        /// The program.
        program: String,
        /// How it exited.
        status: ExitStatus,
        /// The start of what it wrote to standard error.
        stderr: String,
    },
    /// It ran longer than [`HOOK_TIMEOUT`] and was killed.
    #[error("{program} ran longer than {}s and was killed", limit.as_secs())]
    TimedOut {
        /// The program.
        program: String,
        /// The time allowed.
        limit: Duration,
    },
    /// Waiting for it failed.
    #[error("cannot wait for {program}: {source}")]
    Wait {
        /// The program.
        program: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", stderr.trim())
    }
}

/// The hook's input: one JSON object per item and line, sources' names from `config`.
pub fn hook_input(config: &Config, items: &[StoredItem]) -> Vec<u8> {
    let mut input = Vec::with_capacity(items.len() * 512);
    for item in items {
        let source_name = config
            .source(&item.source_id)
            .map_or(item.source_id.as_str(), |s| s.name.as_str());
        let summary = item
            .summary
            .as_deref()
            .map(html_to_text)
            .filter(|t| !t.is_empty());
        let line = HookItem {
            source: &item.source_id,
            source_name,
            title: &item.title,
            link: &item.link,
            date: shown_dates(item, item.first_seen)
                .sort_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            summary,
        };
        // Serialising plain strings cannot fail; a line that somehow did is left out.
        if serde_json::to_writer(&mut input, &line).is_ok() {
            input.push(b'\n');
        }
    }
    input
}

/// Runs `command` (program, then arguments; no shell) with `input` on its
/// standard input, its standard output discarded and the start of its
/// standard error kept for the error. Killed after `limit`.
pub async fn run_hook(command: &[String], input: &[u8], limit: Duration) -> Result<(), HookError> {
    let Some((program, args)) = command.split_first() else {
        return Ok(());
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| HookError::Spawn {
            program: program.clone(),
            source,
        })?;
    let stdin = child.stdin.take();
    let stderr = child.stderr.take();
    let feed = async move {
        if let Some(mut stdin) = stdin {
            // A hook that exits without reading all of it is its own business.
            let _ = stdin.write_all(input).await;
        }
    };
    let collect = async move {
        let mut kept = Vec::new();
        if let Some(mut stderr) = stderr {
            let _ = (&mut stderr).take(STDERR_KEPT).read_to_end(&mut kept).await;
            // The rest is drained, so a chatty hook never blocks on a full pipe.
            let _ = tokio::io::copy(&mut stderr, &mut tokio::io::sink()).await;
        }
        String::from_utf8_lossy(&kept).into_owned()
    };
    let finished = tokio::time::timeout(limit, async {
        let ((), stderr, status) = tokio::join!(feed, collect, child.wait());
        (status, stderr)
    })
    .await;
    match finished {
        Ok((Ok(status), _)) if status.success() => Ok(()),
        Ok((Ok(status), stderr)) => Err(HookError::Failed {
            program: program.clone(),
            status,
            stderr,
        }),
        Ok((Err(source), _)) => Err(HookError::Wait {
            program: program.clone(),
            source,
        }),
        Err(_) => {
            let _ = child.kill().await;
            Err(HookError::TimedOut {
                program: program.clone(),
                limit,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        ["/bin/sh", "-c", script].map(String::from).to_vec()
    }

    #[tokio::test]
    async fn the_hook_reads_its_input_and_a_failure_says_why() {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("got");
        let copy = sh(&format!("cat > '{}'", out.display()));
        run_hook(&copy, b"{\"a\":1}\n", HOOK_TIMEOUT)
            .await
            .expect("runs");
        assert_eq!(std::fs::read(&out).expect("written"), b"{\"a\":1}\n");

        let err = run_hook(&sh("echo 'no token set' >&2; exit 3"), b"", HOOK_TIMEOUT)
            .await
            .expect_err("fails");
        let message = err.to_string();
        assert!(
            message.contains("exit status: 3") && message.contains("no token set"),
            "{message}"
        );

        let missing = ["/nonexistent/medee-hook".to_string()];
        let err = run_hook(&missing, b"", HOOK_TIMEOUT)
            .await
            .expect_err("no such program");
        assert!(matches!(err, HookError::Spawn { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_hook_that_outlasts_its_time_is_killed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let marker = dir.path().join("finished");
        let slow = sh(&format!("sleep 5; touch '{}'", marker.display()));
        let err = run_hook(&slow, b"", Duration::from_millis(200))
            .await
            .expect_err("killed");
        assert!(matches!(err, HookError::TimedOut { .. }), "{err}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!marker.exists());
    }

    #[tokio::test]
    async fn a_hook_that_reads_nothing_does_not_block_on_a_large_input() {
        let input = vec![b'x'; 4 << 20];
        run_hook(&sh("exit 0"), &input, HOOK_TIMEOUT)
            .await
            .expect("a closed pipe is not a failure");
    }
}
