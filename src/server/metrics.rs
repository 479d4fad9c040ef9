//! The metrics endpoint (`--metrics-listen`): HTTP/1.1 through hyper, on its own listener and
//! its own small connection cap, so scrapes never take a slot from the web server.
//!
//! - `GET /metrics`: every series in the Prometheus text format 0.0.4, or OpenMetrics 1.0 text
//!   when the `Accept` header names `application/openmetrics-text` (Prometheus asks for it).
//! - `GET /healthz`: 200 `ok` while the process answers.
//! - `GET /readyz`: 200 `ready`, or 503 with the first reason it is not: a root gone or replaced,
//!   a signing configuration with an empty key ring, or any check of [`READINESS`].
//! - Anything else: 404; a method other than GET/HEAD: 405 with `Allow`. Error replies carry
//!   `Cache-Control: no-store`.
//!
//! Invariant: nothing here reads a request's path beyond matching these three names, and no
//! answer carries a path, an address or a key id (readiness reasons name root numbers).

use super::Shared;
use crate::metrics::{Format, Metrics};
use http_body_util::Full;
use hyper::body::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

/// One readiness check: `Some(reason)` when the daemon should not get traffic.
pub(crate) type Readiness = fn(&Shared) -> Option<String>;

/// The checks `/readyz` runs, in order. A subsystem that can make the daemon unready adds one
/// line here (root health from the storage watchdog, object-store reachability).
pub(crate) const READINESS: &[Readiness] = &[roots_open, key_ring_loaded, storage_answers, stores_answer];

/// Scrapes served at once; more wait in the backlog.
const MAX_SCRAPES: usize = 8;

/// Time for a scrape's request head to arrive.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Every configured root still names the directory that was opened.
fn roots_open(shared: &Shared) -> Option<String> {
    let policy = shared.policy();
    let gone = policy.roots().position(|r| !r.is_current())?;
    Some(format!("root {gone} is gone or was replaced (SIGHUP reopens it)"))
}

/// Signed links are configured and the key ring has keys.
fn key_ring_loaded(shared: &Shared) -> Option<String> {
    let policy = shared.policy();
    let signing = policy.signing.as_ref()?;
    signing.keys().kids().is_empty().then(|| "the signing key ring is empty".to_owned())
}

/// No root is marked unhealthy by the storage pool (its lookups kept timing out).
fn storage_answers(shared: &Shared) -> Option<String> {
    let policy = shared.policy();
    let stalled = policy.roots().position(|r| shared.storage.is_unhealthy(r.path()))?;
    Some(format!("root {stalled}: its storage keeps timing out (refused but for a probe each second)"))
}

/// Every object store answered its last HEAD. One that did not is probed on a thread of its own
/// (one probe at a time, never on the runtime), so `/readyz` turns 200 again once it answers even
/// when no request comes in meanwhile.
fn stores_answer(shared: &Shared) -> Option<String> {
    static PROBING: AtomicBool = AtomicBool::new(false);
    let policy = shared.policy();
    let (i, root) =
        policy.roots().enumerate().find_map(|(i, r)| r.as_object().filter(|o| !o.answered()).map(|o| (i, o)))?;
    if !PROBING.swap(true, Ordering::AcqRel) {
        let (store, cache) = root.handles();
        let spawned = std::thread::Builder::new().name("store-probe".into()).spawn(move || {
            cache.stats.reached(store.probe().is_ok());
            PROBING.store(false, Ordering::Release);
        });
        if spawned.is_err() {
            PROBING.store(false, Ordering::Release);
        }
    }
    Some(format!("root {i}: the object store did not answer its last request"))
}

/// The first reason the daemon is not ready, if any.
fn unready(shared: &Shared) -> Option<String> {
    READINESS.iter().find_map(|check| check(shared))
}

/// Brings the gauges that are read rather than counted up to date before a scrape.
fn refresh(shared: &Shared, m: &Metrics) {
    let policy = shared.policy();
    for (i, root) in policy.roots().enumerate() {
        m.set_root_healthy(i, root.is_current() && !shared.storage.is_unhealthy(root.path()));
    }
    m.blocking_in_use.set(i64::try_from(shared.storage.in_use()).unwrap_or(i64::MAX));
    // The object stores' counts live with the buckets (`guard/store/object.rs`), added up over the
    // life of the process: monotonic, so the counters take their values.
    let totals = &crate::guard::store::object::TOTALS;
    for (counter, total) in [
        (&m.store.heads, &totals.heads),
        (&m.store.cache_hits, &totals.hits),
        // Every lookup the cache could not answer sent one HEAD.
        (&m.store.cache_misses, &totals.heads),
        (&m.store.errors, &totals.errors),
    ] {
        counter.inner().store(total.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    let objects: Vec<_> = policy.roots().filter_map(|r| r.as_object()).collect();
    if !objects.is_empty() {
        m.store.reachable.set(i64::from(objects.iter().all(|o| o.answered())));
    }
}

/// Serves the endpoint on `listener` until `stop` turns true.
pub(super) async fn serve(listener: super::accept::Listener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let scrapes = Arc::new(Semaphore::new(MAX_SCRAPES));
    loop {
        let Ok(permit) = scrapes.clone().acquire_owned().await else { return };
        let accepted = tokio::select! {
            r = super::accept::accept(&listener) => r,
            _ = stop.changed() => return,
        };
        let conn = match accepted {
            Ok(c) => c,
            Err(e) => {
                super::accept::accept_failed(&e).await;
                continue;
            }
        };
        let shared = shared.clone();
        match conn {
            super::accept::Accepted::Tcp(s) => {
                let Some(s) = super::registered(tokio::net::TcpStream::from_std(s)) else { continue };
                tokio::spawn(async move {
                    one_connection(s, shared).await;
                    drop(permit);
                });
            }
            super::accept::Accepted::Unix(s) => {
                let Some(s) = super::registered(tokio::net::UnixStream::from_std(s)) else { continue };
                tokio::spawn(async move {
                    one_connection(s, shared).await;
                    drop(permit);
                });
            }
        }
    }
}

type Reply = hyper::Response<Full<Bytes>>;

async fn one_connection<S>(stream: S, shared: Arc<Shared>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let reply = answer(&shared, req.method(), req.uri().path(), req.headers());
        async move { Ok::<_, std::convert::Infallible>(reply) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(super::http::MAX_HEAD)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    // A scraper that stops reading cannot hold the task for ever.
    match tokio::time::timeout(Duration::from_secs(60), conn).await {
        Ok(Err(e)) => log::debug!("metrics: {e}"),
        Err(_) => log::debug!("metrics: connection closed after 60 s"),
        Ok(Ok(())) => {}
    }
}

/// The answer to one request.
fn answer(shared: &Shared, method: &hyper::Method, path: &str, headers: &hyper::HeaderMap) -> Reply {
    if method != hyper::Method::GET && method != hyper::Method::HEAD {
        let mut r = text(405, "method not allowed\n", "text/plain; charset=utf-8");
        r.headers_mut().insert(hyper::header::ALLOW, hyper::header::HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    match path {
        "/metrics" => match crate::metrics::get() {
            Some(m) => {
                refresh(shared, m);
                let accept = headers.get(hyper::header::ACCEPT).map_or(&b""[..], |v| v.as_bytes());
                let format = Format::from_accept(accept);
                text(200, m.encode(format), format.content_type())
            }
            None => text(404, "metrics are off\n", "text/plain; charset=utf-8"),
        },
        "/healthz" => text(200, "ok\n", "text/plain; charset=utf-8"),
        "/readyz" => match unready(shared) {
            None => text(200, "ready\n", "text/plain; charset=utf-8"),
            Some(why) => text(503, format!("not ready: {why}\n"), "text/plain; charset=utf-8"),
        },
        _ => text(404, "not found\n", "text/plain; charset=utf-8"),
    }
}

/// A reply with `body`; never cached (error or not, these answers are live state).
fn text(status: u16, body: impl Into<Bytes>, content_type: &'static str) -> Reply {
    let mut r = hyper::Response::new(Full::new(body.into()));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    h.insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
    h.insert(hyper::header::CACHE_CONTROL, hyper::header::HeaderValue::from_static("no-store"));
    h.insert("x-content-type-options", hyper::header::HeaderValue::from_static("nosniff"));
    r
}

/// A connection on its own task, counted in `xsendfiled_connections_open` while it lives.
pub(super) struct Open(Option<&'static Metrics>);

impl Open {
    /// Counts a connection as open (when metrics are on).
    pub(super) fn new() -> Open {
        let m = crate::metrics::get();
        if let Some(m) = m {
            m.connections_open.inc();
        }
        Open(m)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        if let Some(m) = self.0 {
            m.connections_open.dec();
        }
    }
}

/// Counts a SIGHUP reload: `Some(keys in the new ring)` when it took effect, `None` when refused.
pub(super) fn reloaded(keys: Option<usize>) {
    let Some(m) = crate::metrics::get() else { return };
    match keys {
        Some(keys) => {
            m.reloads_ok.inc();
            m.last_reload.set(crate::metrics::now_seconds());
            m.keys.set(i64::try_from(keys).unwrap_or(i64::MAX));
        }
        None => {
            m.reloads_failed.inc();
        }
    }
}
