//! Keeps an online backup from starving the live database's writers.
//!
//! `VACUUM INTO` writes the whole copy (11 GB at 1 M customers) through the
//! page cache and never syncs until the end. The kernel then flushes gigabytes
//! at once, and every commit's fsync on the live WAL waits behind that flush:
//! writes during a backup took up to a second. Flushing the copy as it grows,
//! a few tens of megabytes at a time, keeps each flush short, and dropping the
//! flushed pages from the cache keeps the copy from evicting the live
//! database's pages.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the copy's size is looked at.
const TICK: Duration = Duration::from_millis(50);
/// Flush once this much has been written since the last flush.
const CHUNK: u64 = 16 << 20;

pub struct Pacer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Pacer {
    /// Watches `path` (created by the backup) on a thread of its own until
    /// [`Pacer::stop`].
    pub fn start(path: &Path) -> Pacer {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("kehu-backup-pace".into())
            .spawn(move || pace(&path, &flag, flush))
            .ok();
        Pacer { stop, thread }
    }

    /// Blocks until the thread ends (at most one tick and one flush): only
    /// the `kehu backup` command runs a backup, not a request handler.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn pace(path: &Path, stop: &AtomicBool, mut flush: impl FnMut(&File, u64)) {
    let mut file: Option<File> = None;
    let mut flushed = 0u64;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        if file.is_none() {
            // The backup creates the file; until then there is nothing to do.
            file = File::open(path).ok();
        }
        let Some(f) = &file else { continue };
        let Ok(len) = f.metadata().map(|m| m.len()) else {
            continue;
        };
        if len >= flushed + CHUNK {
            flush(f, len);
            flushed = len;
        }
    }
}

/// Best effort: a failed flush only means the kernel flushes later, as it
/// would have anyway; `Store::backup_to` syncs the finished copy.
#[cfg(target_os = "linux")]
fn flush(f: &File, len: u64) {
    use rustix::fs::{Advice, fadvise, fdatasync};
    if fdatasync(f).is_ok() {
        let _ = fadvise(f, 0, std::num::NonZeroU64::new(len), Advice::DontNeed);
    }
}

#[cfg(not(target_os = "linux"))]
fn flush(f: &File, _len: u64) {
    let _ = f.sync_data();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn flushes_the_copy_as_it_grows_and_stops_when_told() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copy.db");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let watched = path.clone();
        let seen = std::thread::spawn(move || {
            let mut seen = Vec::new();
            pace(&watched, &flag, |_, len| seen.push(len));
            seen
        });
        // The copy appears only after a while, as VACUUM INTO creates it late.
        std::thread::sleep(TICK * 2);
        let mut f = File::create(&path).unwrap();
        let block = vec![7u8; (CHUNK / 2) as usize];
        for _ in 0..5 {
            f.write_all(&block).unwrap();
            std::thread::sleep(TICK * 3);
        }
        stop.store(true, Ordering::Relaxed);
        let seen = seen.join().unwrap();
        // 2.5 chunks written: flushed at least twice, each time at a larger
        // size, never more than was written, never twice within one chunk.
        assert!(seen.len() >= 2, "{seen:?}");
        assert!(seen.windows(2).all(|w| w[1] >= w[0] + CHUNK), "{seen:?}");
        assert!(
            seen.iter().all(|l| (CHUNK..=5 * CHUNK / 2).contains(l)),
            "{seen:?}"
        );
    }
}
