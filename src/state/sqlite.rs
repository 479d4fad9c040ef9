//! The SQLite state store: one file on this machine, shared by every process that opens it.
//!
//! Tables (all `WITHOUT ROWID`, keyed by what is looked up):
//! - `links(id, used, until)`: uses opened so far; forgotten after the link's expiry `until`;
//! - `grants(id, client, use, until)`: the use open for a client address until `until`;
//! - `revoked(kind, name, until)`: `id` or `kid` revocations, in force until `until`.
//!
//! A grant is one `BEGIN IMMEDIATE` transaction (the write lock first, so two processes never
//! both read "2 of 3 used" and both open the third): revoked? → refused; an open use for this
//! client? → the same use; else `INSERT … ON CONFLICT DO UPDATE SET used = used + 1 WHERE used <
//! uses RETURNING used` opens the next use, or returns nothing when all are spent. HEAD reads only.
//! WAL mode lets readers run beside the writer; `synchronous=NORMAL` keeps every commit across a
//! crash of the process (not of the machine). Within a process one connection is shared behind a
//! mutex; between processes SQLite's lock decides, waiting at most a third of `--state-timeout`. A
//! grant that would start after its caller stopped waiting is not made.

use crate::guard::token::limit::{Ask, Grant, Revoked};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS links (id TEXT PRIMARY KEY, used INTEGER NOT NULL, until INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS grants (id TEXT NOT NULL, client TEXT NOT NULL, use INTEGER NOT NULL,
    until INTEGER NOT NULL, PRIMARY KEY (id, client)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revoked (kind TEXT NOT NULL, name TEXT NOT NULL, until INTEGER NOT NULL,
    PRIMARY KEY (kind, name)) WITHOUT ROWID;
";

/// An open SQLite store.
#[derive(Debug)]
pub(crate) struct Sqlite {
    path: PathBuf,
    conn: Mutex<Option<Connection>>,
    /// Longest wait for another process's lock (a third of the timeout).
    busy: Duration,
    /// A grant not started by then is given up: its caller is about to answer 503 (three fifths).
    start_by: Duration,
}

/// Opens `path` with the schema, WAL mode and the busy timeout; `busy` is the wait for the lock.
fn connect(path: &Path, busy: Duration) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
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
        Ok(Sqlite { path: path.to_owned(), conn: Mutex::new(Some(conn)), busy, start_by: timeout * 3 / 5 })
    }

    /// The database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the process's connection (reopened after a failure).
    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        let mut slot = match self.conn.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let conn = match slot.take() {
            Some(c) => c,
            None => connect(&self.path, self.busy)?,
        };
        let mut conn = conn;
        let r = f(&mut conn);
        // A connection that failed may be in any state: the next call opens a fresh one.
        if r.is_ok() {
            *slot = Some(conn);
        }
        r
    }

    /// Answers `ask` atomically (see the module docs).
    pub(crate) fn grant(&self, ask: &Ask) -> rusqlite::Result<Grant> {
        let called = Instant::now();
        self.with(|conn| {
            if called.elapsed() > self.start_by {
                return Err(rusqlite::Error::InvalidQuery);
            }
            let behavior = if ask.open { TransactionBehavior::Immediate } else { TransactionBehavior::Deferred };
            let tx = conn.transaction_with_behavior(behavior)?;
            let grant = grant_in(&tx, ask)?;
            tx.commit()?;
            Ok(grant)
        })
    }

    /// The revocations in force at `now`.
    pub(crate) fn revoked(&self, now: u64) -> rusqlite::Result<Revoked> {
        self.with(|conn| {
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
        })
    }

    /// Records a revocation until `until` (keeping a later one).
    pub(crate) fn revoke(&self, what: &super::Revocation, until: u64) -> rusqlite::Result<()> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO revoked (kind, name, until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (kind, name) DO UPDATE SET until = max(until, excluded.until)",
                params![what.kind(), what.name(), until],
            )
            .map(|_| ())
        })
    }

    /// Deletes expired links, grants and revocations; returns how many rows went.
    pub(crate) fn purge(&self, now: u64) -> rusqlite::Result<usize> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut n = 0;
            for table in ["links", "grants", "revoked"] {
                n += tx.execute(&format!("DELETE FROM {table} WHERE until < ?1"), [now])?;
            }
            tx.commit()?;
            Ok(n)
        })
    }
}

/// The grant inside its transaction.
fn grant_in(tx: &rusqlite::Transaction<'_>, ask: &Ask) -> rusqlite::Result<Grant> {
    let revoked: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM revoked WHERE until >= ?1
               AND ((kind = 'id' AND name = ?2) OR (kind = 'kid' AND name = ?3)))",
        )?
        .query_row(params![ask.now, ask.id, ask.kid], |r| r.get(0))?;
    if revoked {
        return Ok(Grant::Revoked);
    }
    let open: Option<u32> = tx
        .prepare_cached("SELECT use FROM grants WHERE id = ?1 AND client = ?2 AND until > ?3")?
        .query_row(params![ask.id, ask.client, ask.now], |r| r.get(0))
        .optional()?;
    if let Some(n) = open {
        return Ok(Grant::Same(n));
    }
    if !ask.open {
        let used: u32 = tx
            .prepare_cached("SELECT used FROM links WHERE id = ?1")?
            .query_row([&ask.id], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        return Ok(if used >= ask.uses { Grant::Spent } else { Grant::Looked });
    }
    let opened: Option<u32> = tx
        .prepare_cached(
            "INSERT INTO links (id, used, until) VALUES (?1, 1, ?3)
             ON CONFLICT (id) DO UPDATE SET used = used + 1 WHERE used < ?2 RETURNING used",
        )?
        .query_row(params![ask.id, ask.uses, ask.expires], |r| r.get(0))
        .optional()?;
    let Some(n) = opened.filter(|n| *n <= ask.uses) else { return Ok(Grant::Spent) };
    tx.prepare_cached("INSERT OR REPLACE INTO grants (id, client, use, until) VALUES (?1, ?2, ?3, ?4)")?.execute(
        params![ask.id, ask.client, n, ask.now.saturating_add(ask.window).min(ask.expires.saturating_add(1))],
    )?;
    Ok(Grant::Opened(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(client: &str, open: bool, now: u64) -> Ask {
        Ask {
            id: "L1".into(),
            kid: "k1".into(),
            uses: 2,
            window: 600,
            expires: now + 3600,
            client: client.into(),
            open,
            now,
        }
    }

    #[test]
    fn uses_are_counted_per_client_and_window() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Sqlite::open(&dir.path().join("state.db"), Duration::from_secs(1)).expect("open");
        let t = 1_800_000_000;
        assert_eq!(db.grant(&ask("10.0.0.1", false, t)).expect("head"), Grant::Looked);
        assert_eq!(db.grant(&ask("10.0.0.1", true, t)).expect("get"), Grant::Opened(1));
        assert_eq!(db.grant(&ask("10.0.0.1", true, t + 599)).expect("same"), Grant::Same(1));
        assert_eq!(db.grant(&ask("10.0.0.2", true, t + 1)).expect("second"), Grant::Opened(2));
        assert_eq!(db.grant(&ask("10.0.0.3", true, t + 2)).expect("third"), Grant::Spent);
        assert_eq!(db.grant(&ask("10.0.0.3", false, t + 2)).expect("head spent"), Grant::Spent);
        assert_eq!(db.grant(&ask("10.0.0.1", true, t + 600)).expect("after the window"), Grant::Spent);
        assert_eq!(db.grant(&ask("10.0.0.2", false, t + 3)).expect("head of an open use"), Grant::Same(2));
        db.revoke(&super::super::Revocation::Id("L1".into()), t + 3600).expect("revoke");
        assert_eq!(db.grant(&ask("10.0.0.2", true, t + 4)).expect("revoked"), Grant::Revoked);
        assert!(db.revoked(t).expect("list").ids.contains("L1"));
        assert!(db.purge(t + 7200).expect("purge") >= 3);
        assert_eq!(db.revoked(t + 7200).expect("list"), Revoked::default());
    }
}
