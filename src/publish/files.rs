//! Output files on disk: each written under a unique temporary name, flushed,
//! then renamed over its target, so a reader never sees half a file.
//!
//! `output_dir` may be writable by others (a shared web root), so nothing
//! found there is trusted: temporary files are created exclusively (a name
//! planted in advance, symlink or not, is never opened), an existing output is
//! read only when it is a regular file (a FIFO would block the read forever),
//! and a symlink at an output name is replaced by the rename, never followed.

use std::fs::{File, OpenOptions};
use std::hash::BuildHasher;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tracing::{debug, info};

use super::FileError;

/// Every temporary file medee writes is named `.medee-<file>.<pid>-<run>-<n>.tmp`,
/// so one left by a crash can be recognised and removed, and nothing else is.
const TEMP_PREFIX: &str = ".medee-";
const TEMP_SUFFIX: &str = ".tmp";

/// A temporary file this old is stale even if a process with its pid runs
/// (the pid was reused): no publish takes anywhere near this long.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// Attempts at a fresh temporary name before giving up; only a name planted
/// by someone guessing ours can collide.
const NAME_ATTEMPTS: usize = 16;

/// Which process wrote a temporary file: its pid and a token drawn at its
/// start, which tells this process from an earlier one that had the same pid
/// (after a restart in a container, medee is often pid 1 again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TempOwner {
    pid: u32,
    run: u64,
}

impl TempOwner {
    fn this_process() -> Self {
        static RUN: OnceLock<u64> = OnceLock::new();
        let run = *RUN.get_or_init(|| {
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            std::collections::hash_map::RandomState::new().hash_one(nanos)
        });
        Self {
            pid: std::process::id(),
            run,
        }
    }
}

/// `.medee-all.atom.1234-9f3a…-7.tmp` for `all.atom`.
fn temp_name(file: &str, owner: TempOwner, n: u64) -> String {
    format!(
        "{TEMP_PREFIX}{file}.{}-{:016x}-{n}{TEMP_SUFFIX}",
        owner.pid, owner.run
    )
}

/// The writer of a temporary file, if `name` is one of medee's.
fn temp_owner(name: &str) -> Option<TempOwner> {
    let inner = name.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX)?;
    let (file, unique) = inner.rsplit_once('.')?;
    let mut parts = unique.split('-');
    let pid = parts.next()?.parse().ok()?;
    let run = u64::from_str_radix(parts.next()?, 16).ok()?;
    let _counter: u64 = parts.next()?.parse().ok()?;
    (!file.is_empty() && parts.next().is_none()).then_some(TempOwner { pid, run })
}

/// Creates a temporary file next to `path` under a name no one else holds.
/// `create_new` fails on any existing entry, a planted symlink included, so
/// what is written can only land in a file this call made.
fn create_temp(path: &Path) -> std::io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let file = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let owner = TempOwner::this_process();
    let mut last = std::io::Error::from(ErrorKind::AlreadyExists);
    for _ in 0..NAME_ATTEMPTS {
        let temp = dir.join(temp_name(
            &file,
            owner,
            COUNTER.fetch_add(1, Ordering::Relaxed),
        ));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(handle) => return Ok((temp, handle)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// A file written and flushed under a temporary name, waiting to replace its
/// target. Dropped without being committed (a failed publish, a panic), it
/// removes its temporary file.
#[derive(Debug)]
pub(super) struct Staged {
    temp: PathBuf,
    path: PathBuf,
    committed: bool,
}

impl Staged {
    /// Renames the temporary file over the target (a symlink there is
    /// replaced, not followed).
    fn commit(mut self) -> Result<PathBuf, FileError> {
        match std::fs::rename(&self.temp, &self.path) {
            Ok(()) => {
                self.committed = true;
                Ok(self.path.clone())
            }
            Err(source) => Err(FileError::Write {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// What is at an output's name now.
enum Existing {
    /// A regular file holding exactly the new bytes.
    Same,
    /// Nothing, a regular file with other bytes, or a symlink: the rename replaces it.
    Replaceable,
    /// A FIFO, socket, directory or device: never opened, never replaced.
    NotRegular(&'static str),
}

fn existing(path: &Path, bytes: &[u8]) -> Existing {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Existing::Replaceable;
    };
    let kind = meta.file_type();
    if kind.is_file() {
        return if holds_exactly(path, bytes) {
            Existing::Same
        } else {
            Existing::Replaceable
        };
    }
    if kind.is_symlink() {
        return Existing::Replaceable;
    }
    Existing::NotRegular(if kind.is_dir() {
        "directory"
    } else if kind.is_fifo() {
        "FIFO"
    } else if kind.is_socket() {
        "socket"
    } else {
        "device"
    })
}

/// Whether the regular file at `path` holds exactly `bytes`. Opened without
/// following a symlink and without blocking, and checked again once open, so
/// a file swapped for a FIFO after the first look cannot stall the publish.
fn holds_exactly(path: &Path, bytes: &[u8]) -> bool {
    let Ok(mut file) = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    else {
        return false;
    };
    let same_size = file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64);
    let mut old = Vec::with_capacity(bytes.len());
    same_size && file.read_to_end(&mut old).is_ok() && old == bytes
}

/// Writes `bytes` next to `path` under a fresh temporary name and flushes it
/// to disk; `None` when `path` already holds exactly these bytes (an
/// unchanged output is left alone: no write, no fsync, and its Last-Modified
/// keeps telling readers nothing is new).
pub(super) fn stage(path: &Path, bytes: &[u8]) -> Result<Option<Staged>, FileError> {
    match existing(path, bytes) {
        Existing::Same => return Ok(None),
        Existing::NotRegular(kind) => {
            return Err(FileError::NotRegular {
                path: path.to_path_buf(),
                kind,
            });
        }
        Existing::Replaceable => {}
    }
    let err = |source| FileError::Write {
        path: path.to_path_buf(),
        source,
    };
    let (temp, mut file) = create_temp(path).map_err(err)?;
    let staged = Staged {
        temp,
        path: path.to_path_buf(),
        committed: false,
    };
    file.write_all(bytes).map_err(err)?;
    file.sync_all().map_err(err)?;
    Ok(Some(staged))
}

/// Renames every staged file into place and flushes the directory once;
/// returns the files replaced and the failures.
pub(super) fn commit_all(dir: &Path, staged: Vec<Staged>) -> (Vec<PathBuf>, Vec<FileError>) {
    let mut written = Vec::new();
    let mut failures = Vec::new();
    for file in staged {
        match file.commit() {
            Ok(path) => written.push(path),
            Err(e) => failures.push(e),
        }
    }
    if !written.is_empty()
        && let Err(source) = sync_dir(dir)
    {
        failures.push(FileError::Write {
            path: dir.to_path_buf(),
            source,
        });
    }
    (written, failures)
}

/// Flushes a directory, so renames into it survive a power cut.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match File::open(dir) {
        Ok(handle) => handle.sync_all(),
        Err(_) => Ok(()),
    }
}

/// Removes the temporary files a crashed or killed medee left in `dir`;
/// returns how many. Only names in medee's pattern are touched, and never
/// one a running publish (this process's or another medee's) may still rename.
pub(super) fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        let age = entry
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok());
        if !is_stale(owner, age) {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) => {
                debug!(file = %entry.path().display(), error = %e, "cannot remove a stale temporary file")
            }
        }
    }
    if removed > 0 {
        info!(removed, dir = %dir.display(), "removed temporary files left by an earlier run");
    }
    removed
}

/// A temporary file is stale when its writer is gone: an earlier process
/// with our pid, a pid no longer running, or simply too old to be in flight.
fn is_stale(owner: TempOwner, age: Option<Duration>) -> bool {
    let me = TempOwner::this_process();
    if owner == me {
        return false;
    }
    owner.pid == me.pid || !process_running(owner.pid) || age.is_some_and(|a| a > STALE_AFTER)
}

/// Whether a process with this pid exists, as `/proc` tells; where there is
/// no `/proc`, every pid counts as running and only age decides.
fn process_running(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// One file through the path `publish` takes: stage, rename, flush the directory.
    fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let staged = stage(path, bytes)?;
        let (_, mut failures) = commit_all(dir, staged.into_iter().collect());
        failures.pop().map_or(Ok(()), Err)
    }

    #[test]
    fn identical_bytes_are_not_rewritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("all.atom");
        write_atomic(&path, b"same").expect("first write");
        let modified = || {
            std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .expect("mtime")
        };
        let before = modified();
        std::thread::sleep(Duration::from_millis(20));
        write_atomic(&path, b"same").expect("second write");
        assert_eq!(modified(), before);
        write_atomic(&path, b"new").expect("third write");
        assert_ne!(modified(), before);
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("all.rss");
        write_atomic(&path, b"one").expect("first write");
        write_atomic(&path, b"two").expect("second write");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        assert_eq!(names(dir.path()), ["all.rss"]);
    }

    #[test]
    fn temp_names_are_recognised_and_nothing_else_is() {
        let me = TempOwner::this_process();
        let name = temp_name("all.atom", me, 7);
        assert!(
            name.starts_with(".medee-all.atom.") && name.ends_with(".tmp"),
            "{name}"
        );
        assert_eq!(temp_owner(&name), Some(me));
        for other in [
            ".all.atom.tmp",
            ".medee-all.atom.tmp",
            ".medee-.1-ff-2.tmp",
            ".medee-x.1-zz-2.tmp",
            ".medee-x.1-ff-2-3.tmp",
            "medee-x.1-ff-2.tmp",
            "all.atom",
        ] {
            assert_eq!(temp_owner(other), None, "{other}");
        }
    }

    #[test]
    fn a_planted_symlink_at_the_output_is_replaced_not_followed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("target.txt");
        std::fs::write(&target, b"precious").expect("target");
        let path = dir.path().join("all.atom");
        std::os::unix::fs::symlink(&target, &path).expect("symlink");
        write_atomic(&path, b"feed").expect("write");
        assert_eq!(std::fs::read(&target).expect("target"), b"precious");
        assert!(!std::fs::symlink_metadata(&path).expect("meta").is_symlink());
        assert_eq!(std::fs::read(&path).expect("output"), b"feed");
    }

    #[test]
    fn a_socket_or_directory_at_the_output_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("s.rss");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("socket");
        std::fs::create_dir(dir.path().join("d.rss")).expect("dir");
        for (file, kind) in [("s.rss", "socket"), ("d.rss", "directory")] {
            let path = dir.path().join(file);
            match stage(&path, b"feed") {
                Err(FileError::NotRegular { path: p, kind: k }) => {
                    assert_eq!((p, k), (path, kind));
                }
                other => panic!("{file}: {other:?}"),
            }
        }
        assert_eq!(names(dir.path()), ["d.rss", "s.rss"]);
    }

    #[test]
    fn a_failed_commit_removes_its_temporary_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("all.rss");
        let staged = stage(&path, b"feed").expect("stage").expect("staged");
        // The target turns into a non-empty directory before the rename.
        std::fs::create_dir_all(path.join("x")).expect("blocker");
        let (written, failures) = commit_all(dir.path(), vec![staged]);
        assert!(written.is_empty());
        assert_eq!(failures.len(), 1);
        assert_eq!(names(dir.path()), ["all.rss"]);
    }

    #[test]
    fn stale_temps_of_gone_processes_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let me = TempOwner::this_process();
        let earlier_run = TempOwner {
            pid: me.pid,
            run: me.run.wrapping_add(1),
        };
        // Pids are below 2^22 on Linux: this one cannot be running.
        let gone = TempOwner {
            pid: u32::MAX - 1,
            run: 1,
        };
        let files = [
            temp_name("all.atom", me, 1),
            temp_name("all.atom", earlier_run, 1),
            temp_name("all.rss", gone, 1),
            ".all.atom.tmp".to_string(),
            "notes.tmp".to_string(),
        ];
        for file in &files {
            std::fs::write(dir.path().join(file), b"x").expect("plant");
        }
        assert_eq!(remove_stale_temps(dir.path()), 2);
        let mut kept = vec![files[0].clone(), files[3].clone(), files[4].clone()];
        kept.sort();
        assert_eq!(names(dir.path()), kept);
    }
}
