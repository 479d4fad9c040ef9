//! The SQLite state store: one file on this machine, shared by every process that opens it.
//!
//! Tables (all `WITHOUT ROWID`, keyed by what is looked up):
//! - `links(id, used, until)`: uses opened so far; forgotten after the link's expiry `until`;
//! - `grants(id, client, use, until)`: the use open for a client address until `until`;
//! - `revoked(kind, name, until)`: `id` or `kid` revocations, in force until `until`.
//!
//! A grant runs in a `BEGIN IMMEDIATE` transaction (the write lock first, so two processes never
//! both read "2 of 3 used" and both open the third): revoked? → refused; an open use for this
//! client? → the same use (one statement reads the revocations, the client's open use and the
//! link's count `used`); else, below `uses`, `used` is written back one higher with the client's
//! grant (the next use), or the link is spent. HEAD only reads.
//! WAL mode lets readers run beside the writer; `synchronous=NORMAL` keeps every commit across a
//! crash of the process (not of the machine).
//!
//! SQLite blocks, so each process gives its connection to one thread of its own ([`Worker`]),
//! started on first use (after privileges are dropped): requests queue on a channel and never
//! wait on a thread that serves connections. The worker takes every grant waiting in the queue
//! into one transaction and answers them after its commit, so a burst costs one commit, not one
//! each; between processes SQLite's lock decides, waiting at most a third of `--state-timeout`. A
//! grant that waited longer than three fifths of it is not made: its caller is about to answer 503.
//! In the daemon the worker never checkpoints the write-ahead log itself: a thread of its own does
//! (`checkpoint.rs`), so a checkpoint's copying and syncing never holds up the waiting grants.

use super::checkpoint::{passive, Checkpoints};
use crate::guard::token::limit::{Ask, Grant, Revoked};
use rusqlite::{params, Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Most grants one transaction takes from the queue.
const BATCH: usize = 256;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS links (id TEXT PRIMARY KEY, used INTEGER NOT NULL, until INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS grants (id TEXT NOT NULL, client TEXT NOT NULL, use INTEGER NOT NULL,
    until INTEGER NOT NULL, PRIMARY KEY (id, client)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revoked (kind TEXT NOT NULL, name TEXT NOT NULL, until INTEGER NOT NULL,
    PRIMARY KEY (kind, name)) WITHOUT ROWID;
";

/// An open SQLite store.
pub(crate) struct Sqlite {
    path: PathBuf,
    /// The connection opened at start, until the worker takes it.
    first: Mutex<Option<Connection>>,
    /// The worker's queue, once started.
    jobs: OnceLock<Mutex<Sender<Job>>>,
    /// Longest wait for another process's lock (a third of the timeout).
    busy: Duration,
    /// A grant not started by then is given up: its caller is about to answer 503 (three fifths).
    start_by: Duration,
    /// Checkpoints on a thread of their own (`checkpoint.rs`), once the daemon starts it.
    checkpoints: Arc<Checkpoints>,
}

/// A grant waiting for the worker: what to ask, since when, and where to answer.
type Waiting = (Ask, Instant, oneshot::Sender<Result<Grant, String>>);

/// Work for the worker thread.
enum Job {
    /// A grant, batched with the others waiting.
    Grant { ask: Ask, queued: Instant, reply: oneshot::Sender<Result<Grant, String>> },
    /// Anything else, on the connection; false when the connection must be reopened.
    Run(Box<dyn FnOnce(&mut Connection) -> bool + Send>),
}

/// The thread that owns the connection.
struct Worker {
    path: PathBuf,
    busy: Duration,
    start_by: Duration,
    conn: Option<Connection>,
    /// `conn` leaves its checkpoints to the checkpointer thread.
    manual: bool,
    checkpoints: Arc<Checkpoints>,
    /// Connections that failed in a row.
    failures: u32,
}

/// Opens `path` with the schema, WAL mode and the busy timeout; `busy` is the wait for the lock.
pub(crate) fn connect(path: &Path, busy: Duration) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // The page cache stays at SQLite's default (2 MiB): a larger one costs more than it saves.
    // Grants land on pages at random, so their inserts split pages often, and a transaction that
    // split one ends with a walk over the whole cache (SQLite swaps page numbers through a page far
    // past the end, which makes the pager's truncation scan every cached page): with 32 MiB, a new
    // grant cost a third more CPU once the table held 600,000 grants.
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

impl Sqlite {
    /// Opens (creating, mode 0600) the database at `path`: its tables made, WAL mode set. Several
    /// processes starting at once wait for each other here (up to 5 s).
    pub(crate) fn open(path: &Path, timeout: Duration) -> Result<Sqlite, String> {
        let busy = timeout / 3;
        // A database we create is ours alone (SQLite gives its -wal and -shm files the same mode).
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let conn = connect(path, Duration::from_secs(5))
            .and_then(|c| c.busy_timeout(busy).map(|()| c))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Sqlite {
            path: path.to_owned(),
            first: Mutex::new(Some(conn)),
            jobs: OnceLock::new(),
            busy,
            start_by: timeout * 3 / 5,
            checkpoints: Arc::default(),
        })
    }

    /// Moves the checkpoints of the write-ahead log to a thread of their own, at most one per
    /// `pace` (the daemon; see `checkpoint.rs`).
    pub(crate) fn checkpoint_in_background(&self, pace: Duration) {
        self.checkpoints.start(self.path.clone(), self.busy, pace);
    }

    /// The database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Queues `job` for the worker (started on first use).
    fn send(&self, job: Job) -> Result<(), String> {
        let jobs = self.jobs.get_or_init(|| {
            let (tx, rx) = channel();
            let first = match self.first.lock() {
                Ok(mut g) => g.take(),
                Err(poisoned) => poisoned.into_inner().take(),
            };
            let worker = Worker {
                path: self.path.clone(),
                busy: self.busy,
                start_by: self.start_by,
                conn: first,
                manual: false,
                checkpoints: self.checkpoints.clone(),
                failures: 0,
            };
            if let Err(e) = std::thread::Builder::new().name("sqlite".into()).spawn(move || worker.run(rx)) {
                log::error!("state store: cannot start the SQLite thread: {e}");
            }
            Mutex::new(tx)
        });
        let jobs = match jobs.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        jobs.send(job).map_err(|_| "the SQLite thread is gone".to_owned())
    }

    /// Answers `ask` atomically (see the module docs).
    pub(crate) async fn grant(&self, ask: Ask) -> Result<Grant, String> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Grant { ask, queued: Instant::now(), reply })?;
        answer.await.map_err(|_| "no answer".to_owned())?
    }

    /// Runs `f` on the worker's connection.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Run(Box::new(move |conn| {
            let r = f(conn).map_err(|e| e.to_string());
            let ok = r.is_ok();
            let _ = reply.send(r);
            ok
        })))?;
        answer.await.map_err(|_| "no answer".to_owned())?
    }
}

impl Worker {
    /// Serves the queue until every sender is gone.
    fn run(mut self, jobs: Receiver<Job>) {
        while let Ok(first) = jobs.recv() {
            let mut grants = Vec::new();
            let mut others = Vec::new();
            let mut next = Some(first);
            while let Some(job) = next.take() {
                match job {
                    Job::Grant { ask, queued, reply } => grants.push((ask, queued, reply)),
                    Job::Run(f) => others.push(f),
                }
                if grants.len() < BATCH {
                    next = jobs.try_recv().ok();
                }
            }
            if self.conn.is_none() {
                self.manual = false;
            }
            let mut conn = match self.conn.take().map_or_else(|| connect(&self.path, self.busy), Ok) {
                Ok(c) => c,
                Err(e) => {
                    let why = e.to_string();
                    self.failures += 1;
                    // Loud while it lasts: every limited-use link is refused (503) meanwhile.
                    if self.failures.is_power_of_two() {
                        log::error!(
                            "state store sqlite {}: cannot reconnect ({} attempts): {why}; limited-use links refused (503)",
                            self.path.display(),
                            self.failures
                        );
                    }
                    for (_, _, reply) in grants {
                        let _ = reply.send(Err(why.clone()));
                    }
                    // Each job answers its caller; a connection error ends in its own error.
                    for f in others {
                        let _ = connect(&self.path, self.busy).map(|mut c| f(&mut c));
                    }
                    continue;
                }
            };
            if self.failures > 0 {
                log::info!("state store sqlite {}: connected again", self.path.display());
                self.failures = 0;
            }
            let mut healthy = true;
            if self.checkpoints.background() && !self.manual {
                healthy &= conn.pragma_update(None, "wal_autocheckpoint", 0).is_ok();
                self.manual = healthy;
            }
            let changes = conn.total_changes();
            for f in others {
                healthy &= f(&mut conn);
            }
            if !grants.is_empty() {
                healthy &= grant_batch(&mut conn, grants, self.start_by);
            }
            // Rows written (a use opened, a purge, a revocation): the log has grown.
            if conn.total_changes() != changes {
                self.checkpoints.committed();
            }
            // The log has grown long: what is left is copied now, so the next commit restarts it.
            if self.checkpoints.finish() {
                if let Err(e) = passive(&conn) {
                    log::debug!("state store sqlite {}: checkpoint: {e}", self.path.display());
                }
            }
            // A connection that failed may be in any state: the next job opens a fresh one.
            if healthy {
                self.conn = Some(conn);
            }
        }
    }
}

/// The waiting grants in one transaction, each answered after the commit (or with its error).
fn grant_batch(conn: &mut Connection, grants: Vec<Waiting>, start_by: Duration) -> bool {
    let (live, stale): (Vec<_>, Vec<_>) = grants.into_iter().partition(|(_, queued, _)| queued.elapsed() <= start_by);
    for (_, _, reply) in stale {
        let _ = reply.send(Err("waited too long for the SQLite thread".to_owned()));
    }
    if live.is_empty() {
        return true;
    }
    let made = (|| {
        let behavior = if live.iter().any(|(ask, _, _)| ask.open) {
            TransactionBehavior::Immediate
        } else {
            TransactionBehavior::Deferred
        };
        let tx = conn.transaction_with_behavior(behavior)?;
        let answers = live.iter().map(|(ask, _, _)| grant_in(&tx, ask)).collect::<rusqlite::Result<Vec<_>>>()?;
        tx.commit()?;
        Ok::<_, rusqlite::Error>(answers)
    })();
    match made {
        Ok(answers) => {
            for ((_, _, reply), answer) in live.into_iter().zip(answers) {
                let _ = reply.send(Ok(answer));
            }
            true
        }
        Err(e) => {
            for (_, _, reply) in live {
                let _ = reply.send(Err(e.to_string()));
            }
            false
        }
    }
}

/// The revocations in force at `now`.
pub(crate) fn revoked(conn: &mut Connection, now: u64) -> rusqlite::Result<Revoked> {
    let mut list = Revoked::default();
    let mut stmt = conn.prepare_cached("SELECT kind, name FROM revoked WHERE until >= ?1")?;
    let rows = stmt.query_map([now], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (kind, name) = row?;
        if kind == "kid" {
            list.kids.insert(name)
        } else {
            list.ids.insert(name)
        };
    }
    Ok(list)
}

/// Records a revocation until `until` (keeping a later one).
pub(crate) fn revoke(conn: &mut Connection, kind: &str, name: &str, until: u64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO revoked (kind, name, until) VALUES (?1, ?2, ?3)
         ON CONFLICT (kind, name) DO UPDATE SET until = max(until, excluded.until)",
        params![kind, name, until],
    )
    .map(|_| ())
}

/// Deletes expired links, grants and revocations; returns how many rows went.
pub(crate) fn purge(conn: &mut Connection, now: u64) -> rusqlite::Result<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut n = 0;
    for table in ["links", "grants", "revoked"] {
        n += tx.execute(&format!("DELETE FROM {table} WHERE until < ?1"), [now])?;
    }
    tx.commit()?;
    Ok(n)
}

/// The grant inside its transaction. Every statement is a lookup by primary key: none needs a
/// temporary table (an `OR` across keys and `RETURNING` would each make one per grant).
fn grant_in(tx: &rusqlite::Transaction<'_>, ask: &Ask) -> rusqlite::Result<Grant> {
    let (revoked, open, used): (bool, Option<u32>, Option<u32>) = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM revoked WHERE kind = 'id' AND name = ?2 AND until >= ?1)
                 OR EXISTS (SELECT 1 FROM revoked WHERE kind = 'kid' AND name = ?3 AND until >= ?1),
               (SELECT use FROM grants WHERE id = ?2 AND client = ?4 AND until > ?1),
               (SELECT used FROM links WHERE id = ?2)",
        )?
        .query_row(params![ask.now, ask.id, ask.kid, ask.client], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    if revoked {
        return Ok(Grant::Revoked);
    }
    if let Some(n) = open {
        return Ok(Grant::Same(n));
    }
    if used.unwrap_or(0) >= ask.uses {
        if ask.open {
            // Spent: the count still lives as long as the latest link of this id (a purge must
            // not reset it while one is valid).
            tx.prepare_cached("UPDATE links SET until = ?2 WHERE id = ?1 AND until < ?2")?
                .execute(params![ask.id, ask.expires])?;
        }
        return Ok(Grant::Spent);
    }
    if !ask.open {
        return Ok(Grant::Looked);
    }
    // The write lock is held since `BEGIN IMMEDIATE`: nothing has changed `used` since it was read.
    let n = used.map_or(1, |used| used + 1);
    let count = if used.is_some() {
        "UPDATE links SET used = ?2, until = max(until, ?3) WHERE id = ?1"
    } else {
        "INSERT INTO links (id, used, until) VALUES (?1, ?2, ?3)"
    };
    tx.prepare_cached(count)?.execute(params![ask.id, n, ask.expires])?;
    tx.prepare_cached("INSERT OR REPLACE INTO grants (id, client, use, until) VALUES (?1, ?2, ?3, ?4)")?.execute(
        params![ask.id, ask.client, n, ask.now.saturating_add(ask.window).min(ask.expires.saturating_add(1))],
    )?;
    Ok(Grant::Opened(n))
}

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;
