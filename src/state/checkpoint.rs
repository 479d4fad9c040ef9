//! Checkpoints of the SQLite store's write-ahead log on a thread of their own (the daemon only).
//!
//! In WAL mode every commit appends the pages it changed to the `-wal` file; a checkpoint copies
//! them back into the database and syncs both files. SQLite does that inside the commit that
//! crosses 1,000 frames, on the connection that commits: for the grant worker (`sqlite.rs`), the
//! one thread every limited-use link of the process waits on, that is a pause of milliseconds,
//! many times a second under load, with every waiting grant held up behind it. So the daemon
//! turns that off on the worker's connection (`wal_autocheckpoint=0`) and copies here instead,
//! with a `PASSIVE` checkpoint on a connection of its own, which never blocks a writer (SQLite's
//! WAL documentation, "Checkpointing", and `sqlite3_wal_checkpoint_v2`).
//!
//! A passive checkpoint cannot restart the log: SQLite rewinds the `-wal` file only when a writer
//! finds every frame copied, which under steady load never happens by itself. Once the log holds
//! [`FINISH_AT`] frames, this thread asks the worker to run one checkpoint inline between two
//! batches ([`Checkpoints::finish`]): little is left to copy by then, and the worker's next commit
//! starts the log again from its beginning. The one-shot CGI program and `revoke` keep SQLite's
//! own checkpoints.

use super::sqlite::connect;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::OnceLock;
use std::time::Duration;

/// At most one checkpoint this often: each copies what the commits of the pause appended, and a
/// page changed many times in the pause only once. Grants land on pages at random (they are keyed
/// by client address), so a longer pause copies and syncs far fewer pages per grant: at 20,000 new
/// grants a second, a second's pause costs the whole process about a tenth less CPU than 100 ms.
/// The price is the log's length (a second of commits: some 170 MiB at that rate, 12 MiB at 1,000
/// a second) and what a power cut may lose (what was committed since the last checkpoint; a crash
/// of the process loses nothing).
pub(crate) const PACE: Duration = Duration::from_secs(1);
/// Frames in the log (16 MiB of 4 KiB pages) after which the worker finishes a checkpoint inline,
/// so that the log restarts.
const FINISH_AT: i64 = 4096;

/// What the grant worker and the checkpointer thread share.
#[derive(Debug, Default)]
pub(crate) struct Checkpoints {
    /// The checkpointer thread runs: the worker leaves checkpoints to it.
    on: AtomicBool,
    /// The log has grown to [`FINISH_AT`] frames: the worker checkpoints once, inline.
    finish: AtomicBool,
    /// Wakes the checkpointer after a commit (full: it is awake already).
    kick: OnceLock<SyncSender<()>>,
}

impl Checkpoints {
    /// Starts the checkpointer thread for the database at `path` (once), with at most one
    /// checkpoint per `pace`; `busy` bounds its wait for another process's lock. If it cannot
    /// start, SQLite's own checkpoints stay on.
    pub(crate) fn start(self: &std::sync::Arc<Self>, path: PathBuf, busy: Duration, pace: Duration) {
        let (kick, kicks) = sync_channel(1);
        if self.kick.set(kick).is_err() {
            return;
        }
        let shared = self.clone();
        match std::thread::Builder::new()
            .name("sqlite-wal".into())
            .spawn(move || run(&path, busy, pace, &shared, &kicks))
        {
            Ok(_) => self.on.store(true, Ordering::Release),
            Err(e) => log::warn!("state store: cannot start the checkpoint thread ({e}); the grant thread checkpoints"),
        }
    }

    /// Whether the checkpointer runs (the worker's connection must not checkpoint by itself).
    pub(crate) fn background(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    /// After the worker wrote: wakes the checkpointer.
    pub(crate) fn committed(&self) {
        if let Some(kick) = self.kick.get() {
            let _ = kick.try_send(());
        }
    }

    /// Whether the worker should checkpoint now, inline (true once each time the checkpointer asks).
    pub(crate) fn finish(&self) -> bool {
        self.finish.swap(false, Ordering::AcqRel)
    }
}

/// Runs one `PASSIVE` checkpoint on `conn`; returns the frames in the log.
pub(crate) fn passive(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
}

/// Whether `e` says another connection holds the lock (another process checkpoints).
fn busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::DatabaseBusy)
}

/// The checkpointer: a passive checkpoint after commits, at most one per `pace`, for the life of
/// the process.
fn run(path: &std::path::Path, wait: Duration, pace: Duration, shared: &Checkpoints, kicks: &Receiver<()>) {
    let mut conn: Option<Connection> = None;
    let mut failing = false;
    while kicks.recv().is_ok() {
        let done = conn.take().map_or_else(|| connect(path, wait), Ok).and_then(|c| {
            let done = passive(&c);
            // A connection that failed otherwise may be in any state: the next round opens a
            // fresh one.
            if done.as_ref().map_or_else(busy, |_| true) {
                conn = Some(c);
            }
            done
        });
        match done {
            Ok(frames) => {
                if failing {
                    log::info!("state store sqlite {}: checkpoints run again", path.display());
                    failing = false;
                }
                if frames >= FINISH_AT {
                    shared.finish.store(true, Ordering::Release);
                }
            }
            // Another process checkpoints now; nothing is wrong.
            Err(e) if busy(&e) => {}
            Err(e) => {
                if !failing {
                    log::warn!(
                        "state store sqlite {}: checkpoint failed: {e}; the grant thread checkpoints",
                        path.display()
                    );
                }
                failing = true;
                shared.finish.store(true, Ordering::Release);
            }
        }
        std::thread::sleep(pace);
    }
}
