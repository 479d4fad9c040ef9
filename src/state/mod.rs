//! The state store of limited-use links and revocations (`--state`), the shell side of
//! [`crate::guard::token::limit`]: the decision says what to ask ([`Ask`]), the store answers with
//! a [`Grant`] in one atomic step, shared by every process and node that uses the same store.
//!
//! - SQLite ([`sqlite`]): a file on this machine, safe for several processes (spawn-fcgi children):
//!   grants in `BEGIN IMMEDIATE` transactions, WAL mode, a short busy timeout. Blocking, so it runs
//!   on a thread of its own, never on a thread that serves connections.
//! - Redis or Valkey ([`redis`]): one Lua script per grant, atomic on the server, keys expiring
//!   with the link and the grant window; one multiplexed connection that reconnects.
//!
//! Invariants: every answer comes within `--state-timeout` (200 ms by default), else it is [`Grant::Unavailable`] (503,
//! failing closed); no store error ends the process or a connection task; the store forgets a
//! link, its grants and its revocations once the link has expired (a revocation lasts until the
//! time `revoke` gave it), so it never grows without bound. The daemon reads the revocation list
//! every [`REFRESH`] into the policy's [`Revocations`], so a link without `uses` is checked
//! without a store access on its path and a revocation reaches every node within one second.

mod checkpoint;
pub(crate) mod redis;
pub(crate) mod sqlite;

use crate::config::StateSpec;
use crate::guard::token::limit::{Ask, Grant, Revocations, Revoked};
use std::sync::Arc;
use std::time::Duration;

/// How often the daemon reads the revocation list.
pub(crate) const REFRESH: Duration = Duration::from_millis(250);
/// How often expired rows are purged (SQLite; Redis expires its keys itself).
const PURGE_EVERY: u32 = 240;

/// What is revoked: one link id, or every link of a key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Revocation {
    /// `revoke --id`.
    Id(String),
    /// `revoke --kid`.
    Kid(String),
}

impl Revocation {
    /// The kind, as stored (`id`, `kid`).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Revocation::Id(_) => "id",
            Revocation::Kid(_) => "kid",
        }
    }

    /// The revoked name.
    pub(crate) fn name(&self) -> &str {
        match self {
            Revocation::Id(n) | Revocation::Kid(n) => n,
        }
    }
}

/// An open store and how long it may take to answer.
#[derive(Clone)]
pub(crate) struct Store {
    kind: Kind,
    timeout: Duration,
}

/// The store's technology.
#[derive(Clone)]
enum Kind {
    /// A SQLite file.
    Sqlite(Arc<sqlite::Sqlite>),
    /// A Redis server.
    Redis(Arc<redis::Redis>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Sqlite(s) => write!(f, "sqlite {}", s.path().display()),
            Kind::Redis(r) => write!(f, "redis {}", r.url()),
        }
    }
}

/// Whether `url` is a Redis URL the client accepts.
pub(crate) fn check_redis_url(url: &str) -> Result<(), String> {
    redis::Redis::new(url, Duration::from_secs(1)).map(|_| ()).map_err(|e| e.to_string())
}

/// `url` without its credentials (`redis://user:secret@host` → `redis://***@host`), for messages.
pub(crate) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// Now, Unix seconds.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Store {
    /// Opens the store: a SQLite file is created and its tables made now (an unusable file is a
    /// start-up error); a Redis server is connected on first use.
    /// Every answer comes within `timeout`.
    pub(crate) fn open(spec: &StateSpec, timeout: Duration) -> Result<Store, String> {
        let kind = match spec {
            StateSpec::Sqlite(path) => Kind::Sqlite(Arc::new(sqlite::Sqlite::open(path, timeout)?)),
            StateSpec::Redis(url) => Kind::Redis(Arc::new(redis::Redis::new(url, timeout).map_err(|e| e.to_string())?)),
        };
        Ok(Store { kind, timeout })
    }

    /// Gives a SQLite store's files (the database, `-wal`, `-shm`) to `uid:gid` (`--user`): they
    /// are made as root, and the worker reconnects as the run-as user after any error.
    pub(crate) fn hand_to(&self, uid: u32, gid: u32) -> Result<(), String> {
        let Kind::Sqlite(s) = &self.kind else { return Ok(()) };
        for tail in ["", "-wal", "-shm"] {
            let mut name = s.path().as_os_str().to_owned();
            name.push(tail);
            let path = std::path::Path::new(&name);
            match std::os::unix::fs::lchown(path, Some(uid), Some(gid)) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                r => r.map_err(|e| format!("{}: cannot give it to uid {uid}: {e}", path.display()))?,
            }
        }
        Ok(())
    }

    /// After `--user`: warns when this user cannot create files in a SQLite store's directory,
    /// where SQLite makes the `-wal` and `-shm` files again whenever it reopens the database.
    pub(crate) fn warn_unless_writable(&self) {
        let Kind::Sqlite(s) = &self.kind else { return };
        let dir = s.path().parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        if !crate::sys::can_create_in(dir) {
            log::warn!(
                "state store {self:?}: this user cannot create files in {}, where SQLite makes the -wal and \
                 -shm files again after an error (then every limited-use link is refused); give the \
                 directory to the --user",
                dir.display()
            );
        }
    }

    /// Answers `ask` within the timeout; any failure or delay is [`Grant::Unavailable`].
    pub(crate) async fn grant(&self, ask: Ask) -> Grant {
        let answer = match &self.kind {
            Kind::Sqlite(s) => match tokio::time::timeout(self.timeout, s.grant(ask)).await {
                Ok(r) => r,
                Err(_) => Err("timed out".to_owned()),
            },
            Kind::Redis(r) => match tokio::time::timeout(self.timeout, r.grant(&ask)).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err("timed out".to_owned()),
            },
        };
        let grant = answer.unwrap_or_else(|e| {
            log::warn!("state store {self:?}: {e}; limited-use link refused (503)");
            Grant::Unavailable
        });
        // Every grant passes here: a use opened, or refused because all are spent.
        if let Some(m) = crate::metrics::get() {
            match grant {
                Grant::Opened(_) => {
                    m.link_uses_granted.inc();
                }
                Grant::Spent => {
                    m.link_uses_refused.inc();
                }
                _ => {}
            }
        }
        grant
    }

    /// The revocations in force, within the timeout.
    pub(crate) async fn revoked(&self) -> Result<Revoked, String> {
        let now = now();
        match &self.kind {
            Kind::Sqlite(s) => {
                match tokio::time::timeout(self.timeout, s.run(move |c| sqlite::revoked(c, now))).await {
                    Ok(r) => r,
                    Err(_) => Err("timed out".to_owned()),
                }
            }
            Kind::Redis(r) => match tokio::time::timeout(self.timeout, r.revoked(now)).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err("timed out".to_owned()),
            },
        }
    }

    /// Records `what` as revoked until `until` (Unix seconds; a longer earlier one is kept).
    pub(crate) async fn revoke(&self, what: &Revocation, until: u64) -> Result<(), String> {
        match &self.kind {
            Kind::Sqlite(s) => {
                let (kind, name) = (what.kind(), what.name().to_owned());
                s.run(move |c| sqlite::revoke(c, kind, &name, until)).await
            }
            Kind::Redis(r) => r.revoke(what, until).await.map_err(|e| e.to_string()),
        }
    }

    /// Deletes expired rows (SQLite only; Redis keys expire by themselves).
    async fn purge(&self) {
        if let Kind::Sqlite(s) = &self.kind {
            let now = now();
            match s.run(move |c| sqlite::purge(c, now)).await {
                Ok(n) if n > 0 => log::debug!("state store: purged {n} expired rows"),
                Ok(_) => {}
                Err(e) => log::warn!("state store {self:?}: purging expired rows: {e}"),
            }
        }
    }

    /// Keeps `revocations` current (every [`REFRESH`]) and purges expired rows, until the task is
    /// dropped; a SQLite store's log is checkpointed on a thread of its own meanwhile. A store
    /// that does not answer leaves the last list in force.
    pub(crate) async fn refresh(self, revocations: Arc<Revocations>) {
        if let Kind::Sqlite(s) = &self.kind {
            s.checkpoint_in_background(checkpoint::PACE);
        }
        let mut tick = tokio::time::interval(REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        for round in 0u32.. {
            tick.tick().await;
            match self.revoked().await {
                Ok(list) => {
                    if failing {
                        log::info!("state store {self:?}: answering again");
                    }
                    failing = false;
                    revocations.set(list);
                }
                Err(e) if !failing => {
                    failing = true;
                    log::warn!("state store {self:?}: cannot read revocations: {e}; keeping the last list");
                }
                Err(_) => {}
            }
            if round % PURGE_EVERY == 0 {
                self.purge().await;
            }
        }
    }

    /// For the CGI program: answers `ask` on a runtime of its own.
    pub(crate) fn grant_now(&self, ask: Ask) -> Grant {
        match one_shot_runtime() {
            Ok(rt) => rt.block_on(self.grant(ask)),
            Err(e) => {
                log::warn!("state store: no runtime: {e}");
                Grant::Unavailable
            }
        }
    }

    /// For the CGI program: reads the revocation list into `revocations` once.
    pub(crate) fn load_revocations(&self, revocations: &Revocations) {
        match one_shot_runtime().map_err(|e| e.to_string()).and_then(|rt| rt.block_on(self.revoked())) {
            Ok(list) => revocations.set(list),
            Err(e) => log::warn!("state store {self:?}: cannot read revocations: {e}"),
        }
    }
}

/// A current-thread runtime for one-shot callers (CGI, `revoke`).
pub(crate) fn one_shot_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

#[cfg(test)]
mod tests {
    #[test]
    fn credentials_never_reach_a_message() {
        assert_eq!(super::redacted("redis://:s3cret@10.0.0.1:6379/2"), "redis://***@10.0.0.1:6379/2");
        assert_eq!(super::redacted("redis://u:p@h/0?x=a@b"), "redis://***@h/0?x=a@b");
        assert_eq!(super::redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
