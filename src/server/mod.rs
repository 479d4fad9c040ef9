//! The async shell: accept connections, run each through the codec and the decision, shut down
//! cleanly. The only module that uses tokio.
//!
//! - Connections are capped by a semaphore (`--max-connections`). At the cap, the next connection
//!   is accepted and the connection idle the longest (silent, kept alive after a reply, or sending
//!   only management records) is closed to make room (`evict.rs`); a connection with a request in
//!   progress never is. With none idle, that one connection waits for a slot and the rest wait in
//!   the kernel's listen backlog rather than being accepted and starved.
//! - TCP peers are checked against `FCGI_WEB_SERVER_ADDRS` (FastCGI 1.0 §3.2) when it is set, and get
//!   `TCP_NODELAY` (a reply is one write; Nagle would hold it back on kept-alive connections).
//! - With the `nginx` and `caddy` backends a connection is closed right after an X-Accel-Redirect
//!   reply even when `FCGI_KEEP_CONN` was set: nginx finalizes the upstream as soon as it reads the
//!   header and never reuses that connection (docs/servers.md, "Keep-alive"), so waiting for its
//!   EOF costs a read and a wake-up per download for nothing. Error replies keep the connection.
//! - Accept errors never end the loop: `EMFILE`/`ENFILE` back off briefly and retry.
//! - SIGTERM/SIGINT: remove a socket file we created (no new client finds it), accept and answer
//!   the connections the kernel had already queued, close connections idle after a reply (one
//!   that has sent nothing yet gets its first request answered), let requests in progress finish
//!   for up to `--drain-timeout`, exit 0. SIGHUP reads the whole configuration
//!   again; one with any problem keeps the running one.
//! - Up to two listeners: the web server's (FastCGI, or HTTP/1.1 with `http://`) and the app socket
//!   (`--app-socket`, `app`), either alone or both; one accept loop takes from whichever is ready,
//!   under the same connection cap, signals and drain.

mod accept;
mod app;
pub(crate) mod cgi;
mod conn;
mod evict;
mod http;
mod inline;
pub(crate) mod listen;
mod metrics;
mod object_body;
mod pending;
mod probe;
mod reactor;
mod shared;
mod storage;

pub(crate) use shared::Shared;

use crate::config::ServerSettings;
use crate::guard::Policy;
use accept::{accept, accept_any, accept_failed, refused, try_accept, Accepted, Listener};
use listen::{Bound, Speaks};
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{watch, Semaphore};

/// Builds the policy again from the same options and environment (for SIGHUP).
pub(crate) type Reloader = Box<dyn Fn() -> Result<Policy, Vec<crate::config::ConfigError>> + Send + Sync>;

/// Runs the server on `bound` (one or two listeners: the web server's, the app socket) until
/// SIGTERM or SIGINT.
///
/// # Errors
/// When the runtime or the signal handlers cannot be set up, or a socket cannot be registered.
/// `metrics` is the `--metrics-listen` endpoint, served beside them (`metrics.rs`).
pub(crate) fn run(
    policy: Policy,
    settings: &ServerSettings,
    bound: Vec<Bound>,
    metrics: Option<Bound>,
    reloader: Reloader,
    state: Option<crate::state::Store>,
) -> io::Result<()> {
    let runtime = if settings.threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(settings.threads).enable_all().build()?
    };
    let pool = storage::Pool::new(settings.storage_threads, settings.storage_timeout);
    // Every policy (SIGHUP included) holds the one revocation list the store's refresher updates.
    if let (Some(store), Some(signing)) = (&state, &policy.signing) {
        runtime.spawn(store.clone().refresh(signing.revocations.clone()));
    }
    let mut shared = Shared::new(policy, settings.limits, settings.probes.clone(), pool);
    shared.state = state;
    let shared = Arc::new(shared);
    let result = runtime.block_on(serve(shared, settings, bound, metrics, reloader));
    // Connection tasks still running after the drain timeout are dropped here.
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

async fn serve(
    shared: Arc<Shared>,
    settings: &ServerSettings,
    bound: Vec<Bound>,
    metrics: Option<Bound>,
    reloader: Reloader,
) -> io::Result<()> {
    let mut listeners = Vec::with_capacity(bound.len());
    let mut created = Vec::new();
    let mut described = Vec::new();
    for b in bound {
        listeners.push(Listener::register(b.listener, b.speaks)?);
        created.extend(b.created_path);
        described.push(b.description);
    }
    warn_nofile_limit(settings.limits.max_connections);
    let mut signals = Signals {
        term: signal(SignalKind::terminate())?,
        int: signal(SignalKind::interrupt())?,
        hup: signal(SignalKind::hangup())?,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(settings.limits.max_connections));
    log::info!(
        "xsendfiled {} serving {} on {}",
        env!("CARGO_PKG_VERSION"),
        shared.policy().root.path().display(),
        described.join(" and ")
    );
    if let Some(b) = metrics {
        let listener = Listener::register(b.listener, b.speaks)?;
        created.extend(b.created_path);
        log::info!("serving /metrics, /healthz and /readyz on {}", b.description);
        tokio::spawn(metrics::serve(listener, shared.clone(), stop_rx.clone()));
    }
    let ctx = Ctx { shared: &shared, settings, stop: &stop_rx };
    accept_until_stopped(&listeners, &slots, &ctx, &mut signals, &reloader).await;

    log::info!("stopping: no new connections; draining for up to {:?}", settings.drain_timeout);
    // New clients can no longer find a socket file we created...
    for path in &created {
        if let Err(e) = std::fs::remove_file(path) {
            log::warn!("removing {}: {e}", path.display());
        }
    }
    let _ = stop_tx.send(true);
    drain(listeners, slots, &ctx).await;
    shared.storage.log_at_exit();
    Ok(())
}

/// The signals the accept loop listens to.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

/// What starting a connection needs, besides the connection.
struct Ctx<'a> {
    shared: &'a Arc<Shared>,
    settings: &'a ServerSettings,
    stop: &'a watch::Receiver<bool>,
}

/// Warns when the open-file limit (raised to the hard limit first) is too low for
/// `max_connections`.
fn warn_nofile_limit(max_connections: usize) {
    match crate::sys::raise_nofile_limit() {
        Ok(n) if (n as usize) < max_connections + 64 => log::warn!(
            "open-file limit {n} is below --max-connections {max_connections} + 64: at the limit, accepts will back \
             off on EMFILE"
        ),
        Ok(_) => {}
        Err(e) => log::warn!("cannot raise the open-file limit: {e}"),
    }
}

/// Accepts and starts connections, a slot each, from whichever listener is ready, until SIGTERM or
/// SIGINT; SIGHUP reloads.
async fn accept_until_stopped(
    listeners: &[Listener],
    slots: &Arc<Semaphore>,
    ctx: &Ctx<'_>,
    signals: &mut Signals,
    reloader: &Reloader,
) {
    let mut scratch = inline::Scratch::new();
    loop {
        let (listener, accepted) = tokio::select! {
            r = accept_any(listeners) => r,
            _ = signals.term.recv() => return,
            _ = signals.int.recv() => return,
            _ = signals.hup.recv() => {
                reload(ctx.shared, reloader);
                continue;
            }
        };
        let conn = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                accept_failed(&e).await;
                continue;
            }
        };
        // Before a slot is taken: a refused peer must never make room (evict) at the cap.
        if refused(&conn, ctx.settings) {
            continue;
        }
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                let room = ctx.shared.conns.make_room(slots);
                tokio::pin!(room);
                loop {
                    tokio::select! {
                        p = &mut room => match p {
                            Ok(p) => break p,
                            Err(_) => return,
                        },
                        // The connection in hand was accepted: it is answered like the queued ones.
                        _ = signals.term.recv() => return spawn_conn(conn, None, listener.speaks, None, ctx, ctx.stop.clone()),
                        _ = signals.int.recv() => return spawn_conn(conn, None, listener.speaks, None, ctx, ctx.stop.clone()),
                        // A reload (logrotate's postrotate) is not held up at the cap.
                        _ = signals.hup.recv() => reload(ctx.shared, reloader),
                    }
                }
            }
        };
        start_conn(conn, listener.speaks, permit, ctx, &mut scratch);
        // Connections already queued are taken straight away, without polling the signal streams
        // between them; the burst is bounded, so signals are still seen between bursts.
        for _ in 0..ACCEPT_BURST {
            let Ok(permit) = slots.clone().try_acquire_owned() else { break };
            match try_accept(listener) {
                Ok(conn) if refused(&conn, ctx.settings) => {}
                Ok(conn) => start_conn(conn, listener.speaks, permit, ctx, &mut scratch),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    accept_failed(&e).await;
                    break;
                }
            }
        }
    }
}

/// After the stop signal: the connections the kernel already queued are accepted and answered,
/// not reset (they are requests in flight; each gets one reply, then its connection closes), the
/// listener closes, and requests in progress get up to `--drain-timeout` to finish.
async fn drain(listeners: Vec<Listener>, slots: Arc<Semaphore>, ctx: &Ctx<'_>) {
    let mut drained = 0usize;
    // A client whose connect() had found the socket file just before it was removed may still be
    // queued a moment later (on a loaded machine, well after one quiet poll): keep accepting for
    // at least DRAIN_SETTLE, then until the backlog stays empty for a poll.
    let settle = tokio::time::Instant::now() + DRAIN_SETTLE;
    // A steady stream of new connections (a TCP listener has no file to remove) must not hold
    // the shutdown off for ever.
    let deadline = tokio::time::Instant::now() + DRAIN_ACCEPT_MAX;
    for listener in &listeners {
        while tokio::time::Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_millis(2), accept(listener)).await {
                Ok(Ok(conn)) if refused(&conn, ctx.settings) => {}
                Ok(Ok(conn)) => {
                    let mut rx = ctx.stop.clone();
                    rx.borrow_and_update();
                    spawn_conn(conn, None, listener.speaks, slots.clone().try_acquire_owned().ok(), ctx, rx);
                    drained += 1;
                    if let Some(m) = crate::metrics::get() {
                        m.connections_accepted.inc();
                    }
                }
                _ if tokio::time::Instant::now() < settle => {}
                _ => break,
            }
        }
    }
    if drained > 0 {
        log::info!("answered {drained} queued connection(s) after the signal");
    }
    drop(listeners);
    let max = ctx.settings.limits.max_connections;
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    match tokio::time::timeout(ctx.settings.drain_timeout, slots.acquire_many(all)).await {
        Ok(_) => log::info!("stopped"),
        Err(_) => {
            log::warn!("drain timeout: {} connection(s) still busy, closing them", max - slots.available_permits())
        }
    }
}

/// How long the listeners keep being polled after a stop signal, at the least...
const DRAIN_SETTLE: Duration = Duration::from_millis(50);
/// ...and at the most.
const DRAIN_ACCEPT_MAX: Duration = Duration::from_secs(1);

/// Connections accepted one after another before the loop looks at signals again.
const ACCEPT_BURST: usize = 64;

/// SIGHUP: the whole configuration is read again (roots reopened, maps, presentation, key ring,
/// access log reopened) and swapped in for new requests; requests in progress finish with the old
/// one. A configuration with any problem keeps the running one and says why.
fn reload(shared: &Shared, reloader: &Reloader) {
    match reloader() {
        Ok(policy) => {
            let keys = policy.signing.as_ref().map_or(0, |s| s.keys().kids().len());
            shared.replace(policy);
            metrics::reloaded(Some(keys));
            log::info!("SIGHUP: configuration reloaded (key ring reloaded, {keys} key(s) active; access log reopened)");
        }
        Err(errors) => {
            for e in &errors {
                log::error!("SIGHUP: {e}");
            }
            metrics::reloaded(None);
            log::error!("SIGHUP: keeping the running configuration ({} problem(s) in the new one)", errors.len());
        }
    }
}

/// Serves an accepted connection: inline when it can be answered at once (FastCGI only, see
/// `inline`), otherwise on its own task.
fn start_conn(
    conn: Accepted,
    speaks: Speaks,
    permit: tokio::sync::OwnedSemaphorePermit,
    ctx: &Ctx<'_>,
    scratch: &mut inline::Scratch,
) {
    let shared = ctx.shared;
    if let Some(m) = crate::metrics::get() {
        m.connections_accepted.inc();
    }
    let resume = match &conn {
        _ if speaks != Speaks::FastCgi => None,
        Accepted::Tcp(stream) => match inline::try_serve(&mut &*stream, shared, scratch) {
            inline::Outcome::Done => return,
            inline::Outcome::HandOver(r) => Some(*r),
        },
        Accepted::Unix(stream) => match inline::try_serve(&mut &*stream, shared, scratch) {
            inline::Outcome::Done => return,
            inline::Outcome::HandOver(r) => Some(*r),
        },
    };
    spawn_conn(conn, resume, speaks, Some(permit), ctx, ctx.stop.clone());
}

/// Starts a task for a connection: FastCGI (from `resume`, or fresh), HTTP/1.1 on an `http://`
/// listener (TCP), or an ask on the app socket (Unix).
fn spawn_conn(
    conn: Accepted,
    resume: Option<conn::Resume>,
    speaks: Speaks,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ctx: &Ctx<'_>,
    stop: watch::Receiver<bool>,
) {
    let shared = ctx.shared.clone();
    let open = metrics::Open::new();
    // Handed over only to wait for a grant: answered without the reactor if it can be.
    let (granted, resume) = match resume {
        Some(r) if pending::waits_for_grant(&r) => (Some(r), None),
        r => (None, r),
    };
    match conn {
        Accepted::Tcp(stream) => {
            if let Err(e) = stream.set_nodelay(true) {
                log::debug!("TCP_NODELAY: {e}");
            }
            if let Some(resume) = granted {
                let register = tokio::net::TcpStream::from_std;
                return pending::spawn_granted(stream, register, shared, stop, resume, (permit, open));
            }
            let Some(stream) = registered(tokio::net::TcpStream::from_std(stream)) else { return };
            if speaks == Speaks::Http {
                tokio::spawn(async move {
                    http::serve(stream, shared, stop, false).await;
                    drop((permit, open));
                });
            } else {
                spawn_fastcgi(stream, shared, stop, resume, (permit, open));
            }
        }
        Accepted::Unix(stream) => {
            if let Some(resume) = granted {
                let register = tokio::net::UnixStream::from_std;
                return pending::spawn_granted(stream, register, shared, stop, resume, (permit, open));
            }
            let Some(stream) = registered(tokio::net::UnixStream::from_std(stream)) else { return };
            if speaks == Speaks::App {
                tokio::spawn(async move {
                    http::serve(stream, shared, stop, true).await;
                    drop((permit, open));
                });
            } else {
                spawn_fastcgi(stream, shared, stop, resume, (permit, open));
            }
        }
    }
}

/// A stream registered with the reactor, or `None` (logged) when that failed.
fn registered<S>(r: io::Result<S>) -> Option<S> {
    r.map_err(|e| log::warn!("registering a connection: {e}")).ok()
}

/// Serves a FastCGI connection on its own task, from `resume` or fresh.
fn spawn_fastcgi<S>(
    stream: S,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    resume: Option<conn::Resume>,
    permit: (Option<tokio::sync::OwnedSemaphorePermit>, metrics::Open),
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let start = resume.unwrap_or_else(|| conn::Resume::fresh(&shared));
        conn::serve(stream, shared, stop, start).await;
        drop(permit);
    });
}
