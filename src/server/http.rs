//! The HTTP/1.1 listener (`--listen http://HOST:PORT`) over the same decision, for
//! nginx `proxy_pass` to an upstream with `keepalive`, and as a forward-auth endpoint.
//!
//! Why: nginx never reuses a FastCGI connection after an X-Accel-Redirect, but it does reuse an
//! HTTP/1.1 upstream connection when the reply carries `Content-Length: 0` (docs/servers.md,
//! "Keep-alive"), which saves a connection setup per download. Bench row XH measures it.
//!
//! The HTTP/1.1 framing (RFC 9112) is hyper's: request line and fields, `Content-Length` (a
//! malformed or conflicting one is refused by hyper), keep-alive and `Connection: close`, the head
//! size cap (64 KiB: 431 beyond), the header read timeout. On top of it, reject, don't repair: a
//! request with `Transfer-Encoding`, a target that is not origin-form or has a bad
//! percent-escape, or a body over `--max-stdin-bytes` gets a 400 and the connection closes. No
//! trusted per-request parameters travel over HTTP: every `XSENDFILED_*` policy comes from the
//! command line only.
//!
//! Time and memory per connection are bounded: the head must be complete within
//! `--request-timeout` of the moment the listener starts waiting for it (after the connection
//! opens or the previous reply, so a kept-alive connection idles for at most that long), and the
//! body within `--request-timeout` after the head; a late body gets a 408 and the connection
//! closes, so stalled clients give their `--max-connections` slot back. A body is never kept:
//! each frame is counted and dropped as it arrives.
//!
//! Mapping to the CGI view (RFC 3875 §4.1): the request target's path, percent-decoded once, is
//! `DOCUMENT_URI`; the raw target is `REQUEST_URI`; the query is `QUERY_STRING`. The reply is
//! written straight into hyper's response through [`HeaderSink`] (no CGI text in between): the
//! status, the fields, and the body with an exact `Content-Length` (0 for an offload), so the
//! connection stays reusable.
//! With `--backend authorizer` (a forward-auth endpoint for nginx `auth_request`) every answer,
//! allow or deny, has no body.
//!
//! The same service answers the app socket (`--app-socket`, `super::app`) with `app` set: the
//! query is trusted there, a body is refused, and the answer carries the `Xsendfiled-*` fields
//! and no body.

use super::storage::Ran;
use super::Shared;
use crate::guard::decide::Status;
use crate::guard::store::Wait;
use crate::handler::How;
use crate::protocol::request::Request;
use crate::reply::sink::HeaderSink;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::timeout;

/// Largest request head (request line and header fields) accepted.
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// Why a request is refused (logged at debug level).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
enum HeadError {
    #[error("request target is not origin-form or has a bad percent-escape")]
    Target,
    #[error("Transfer-Encoding in a request is not accepted")]
    TransferEncoding,
}

/// Serves HTTP/1.1 requests on one connection with hyper until it closes, errs, idles out or
/// shutdown begins (then the request in progress finishes, bounded by the idle timeout).
pub(crate) async fn serve<S>(stream: S, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>, app: bool)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    log::debug!("http: connection opened");
    let limits = shared.limits;
    // Idle (`super::evict`) until bytes of a request arrive (`MarkBusy`), then busy until its
    // reply; chosen for eviction at the cap, the connection shuts down gracefully: hyper closes
    // it when idle and otherwise finishes the request in progress first.
    let member = Arc::new(shared.conns.join());
    member.idle();
    let stream = MarkBusy { io: stream, member: member.clone() };
    let in_service = member.clone();
    let service = hyper::service::service_fn(move |req| {
        let (shared, member) = (shared.clone(), in_service.clone());
        async move {
            member.busy();
            let reply = answer(&shared, req, app).await;
            member.idle();
            Ok::<_, std::convert::Infallible>(reply)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.request_timeout)
        .max_buf_size(MAX_HEAD)
        .title_case_headers(true)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                log::debug!("http: {e}");
            }
        }
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = timeout(limits.idle_timeout, conn).await;
        }
        () = member.evicted() => {
            log::debug!("http: evicted to admit a new connection");
            conn.as_mut().graceful_shutdown();
            let _ = timeout(limits.idle_timeout, conn).await;
        }
    }
}

/// A connection's stream that marks it busy when bytes of a request arrive: hyper's graceful
/// shutdown leaves a connection with part of a head buffered open until the head times out, so
/// evicting one would free nothing.
struct MarkBusy<S> {
    io: S,
    member: Arc<super::evict::Membership>,
}

impl<S: AsyncRead + Unpin> AsyncRead for MarkBusy<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.member.busy();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for MarkBusy<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

type Reply = hyper::Response<http_body_util::Full<hyper::body::Bytes>>;

/// One request: refused when it cannot be trusted (a `Transfer-Encoding`, a target that is not
/// origin-form or has a bad escape, a body over the limit — any body on the app socket — or
/// late), else decided like a FastCGI request.
async fn answer(shared: &Shared, req: hyper::Request<hyper::body::Incoming>, app: bool) -> Reply {
    if req.headers().contains_key(hyper::header::TRANSFER_ENCODING) {
        log::debug!("http: {}", HeadError::TransferEncoding);
        return refuse(app, "Transfer-Encoding in a request");
    }
    let (parts, body) = req.into_parts();
    let target = parts.uri.path_and_query().map_or("", |p| p.as_str()).as_bytes();
    if parts.uri.scheme().is_some() || target.first() != Some(&b'/') {
        log::debug!("http: {}", HeadError::Target);
        return refuse(app, "request target not origin-form");
    }
    let (raw_path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], &target[q + 1..]),
        None => (target, &b""[..]),
    };
    let Some(path) = crate::guard::percent::decode_once(raw_path) else {
        log::debug!("http: {}", HeadError::Target);
        return refuse(app, "bad percent-escape in the path");
    };
    // A body is never needed: it is read and dropped frame by frame (bounded in bytes and time),
    // so the connection stays usable and no body is ever held in memory.
    // An ask has no body: any is refused.
    let limit = if app { 0 } else { shared.limits.max_stdin_bytes };
    match discard_body(body, limit, shared.limits.request_timeout).await {
        BodyEnd::Read => {}
        BodyEnd::TooLarge | BodyEnd::Broken => {
            log::debug!("http: request body over the limit or broken");
            return refuse(app, "request body");
        }
        BodyEnd::TimedOut => {
            log::debug!("http: request body not complete within the request timeout");
            return timed_out(app);
        }
    }
    let pairs: [(&[u8], &[u8]); 4] = [
        (b"REQUEST_METHOD", parts.method.as_str().as_bytes()),
        (b"REQUEST_URI", target),
        (b"DOCUMENT_URI", &path),
        (b"QUERY_STRING", query),
    ];
    decided(shared, pairs, app).await.into_response(false)
}

/// The reply to a request given as its CGI meta-variables: decided at once when the store can
/// answer from memory, else on the storage pool (`super::storage`), or 503/504 when the pool
/// refuses or times out.
async fn decided(shared: &Shared, pairs: [(&[u8], &[u8]); 4], app: bool) -> Head {
    let trusted = app.then_some(super::app::TRUSTED_QUERY);
    let request = Request::from_pairs(pairs.into_iter().chain(trusted));
    let policy = shared.policy();
    // An authorizer's answer is its status and header fields. nginx's auth_request reads no body
    // (its subrequest is header-only) and keeps the upstream connection only for a reply without
    // one: a denial goes out with Content-Length: 0 too. An ask's answer never has one.
    let keep_body = !app && policy.backend != crate::guard::Backend::Authorizer;
    let mut reply = Head::new(keep_body);
    // The serve backend is refused with an HTTP listener and the app socket at start-up: no body
    // to stream.
    let mut note = app.then(crate::handler::Note::default);
    let now = How::Decide(Wait::Never);
    let Err(root) = crate::handler::handle_how(&request, &policy, &mut reply, note.as_mut(), now, UNGRANTED) else {
        return with_fields(reply, note);
    };
    let owned: Vec<(Vec<u8>, Vec<u8>)> = pairs.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
    let root_path = policy.root_at(root).map_or(policy.root.path(), |r| r.path()).to_owned();
    let on_pool = policy.clone();
    let ran = shared
        .storage
        .run(&root_path, move || {
            let pairs = owned.iter().map(|(n, v)| (n.as_slice(), v.as_slice())).chain(trusted);
            let request = Request::from_pairs(pairs);
            let (mut reply, mut note) = (Head::new(keep_body), app.then(crate::handler::Note::default));
            let wait = How::Decide(Wait::Allowed);
            let _ = crate::handler::handle_how(&request, &on_pool, &mut reply, note.as_mut(), wait, UNGRANTED);
            (reply, note)
        })
        .await;
    match ran {
        Ran::Done((reply, note)) => with_fields(reply, note),
        Ran::Refused(status, why) => {
            let how = How::Refuse(status, why);
            let _ = crate::handler::handle_how(&request, &policy, &mut reply, note.as_mut(), how, UNGRANTED);
            with_fields(reply, note)
        }
    }
}

/// The HTTP listener passes no client address, so a limited-use link is refused before any grant
/// (403): one that ever got this far would fail closed (503), never be sent ungranted.
const UNGRANTED: Option<crate::guard::token::limit::Grant> = Some(crate::guard::token::limit::Grant::Unavailable);

/// `reply` with the `Xsendfiled-*` fields of an ask (`note`), if it is one.
fn with_fields(mut reply: Head, note: Option<crate::handler::Note>) -> Head {
    if let Some(note) = note {
        super::app::push_fields(&note, &mut reply);
    }
    reply
}

/// How reading (and dropping) a request body ended.
#[derive(Debug, PartialEq, Eq)]
enum BodyEnd {
    /// Read to its end within the limits.
    Read,
    /// Announced or sent more than `--max-stdin-bytes`.
    TooLarge,
    /// The framing failed (early EOF, bad chunk).
    Broken,
    /// Not complete within `--request-timeout`.
    TimedOut,
}

/// Reads `body` to its end and drops each frame as it arrives: at most `limit` bytes, and all of
/// it within `within`. A `Content-Length` over the limit is refused before anything is read.
async fn discard_body<B>(body: B, limit: u64, within: std::time::Duration) -> BodyEnd
where
    B: hyper::body::Body + Unpin,
    B::Data: hyper::body::Buf,
{
    use http_body_util::BodyExt;
    use hyper::body::Buf;
    if body.size_hint().lower() > limit {
        return BodyEnd::TooLarge;
    }
    let drain = async move {
        let mut body = body;
        let mut seen = 0u64;
        // Bounded: every turn consumes at least one frame of a body capped at `limit` bytes, and
        // the whole loop runs under the deadline.
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return BodyEnd::Broken };
            if let Some(data) = frame.data_ref() {
                seen = seen.saturating_add(data.remaining() as u64);
                if seen > limit {
                    return BodyEnd::TooLarge;
                }
            }
        }
        BodyEnd::Read
    };
    timeout(within, drain).await.unwrap_or(BodyEnd::TimedOut)
}

/// The answer to a request whose body did not arrive in time (the connection then closes).
fn timed_out(app: bool) -> Reply {
    let mut reply = Head::new(!app);
    reply.status(408, "Request Timeout");
    if app {
        super::app::refused("request body not complete in time", &mut reply);
    }
    reply.header("Content-Type", b"text/plain; charset=utf-8");
    reply.header("Cache-Control", b"no-store");
    reply.header("X-Content-Type-Options", b"nosniff");
    reply.finish(b"request timeout\n");
    reply.into_response(true)
}

/// A 400 that closes the connection: the framing can no longer be trusted. On the app socket it
/// has no body and says `why`.
fn refuse(app: bool, why: &str) -> Reply {
    let mut reply = Head::new(!app);
    crate::reply::response::render_error(Status::BadRequest, false, &mut reply);
    if app {
        super::app::refused(why, &mut reply);
    }
    reply.into_response(true)
}

/// The reply's header sink on hyper's types: the status, the fields (except `Content-Length`,
/// which hyper sets exactly from the body, and `Connection`), and the body. Fields written after
/// `finish` (the app socket's `Xsendfiled-*`) still join the map: nothing is sent before
/// [`Head::into_response`].
pub(crate) struct Head {
    status: hyper::StatusCode,
    headers: hyper::HeaderMap,
    body: hyper::body::Bytes,
    keep_body: bool,
    value: Vec<u8>,
}

impl Head {
    /// A 200 with no fields; `keep_body` false drops whatever body the reply writes.
    pub(crate) fn new(keep_body: bool) -> Head {
        Head {
            status: hyper::StatusCode::OK,
            headers: hyper::HeaderMap::new(),
            body: hyper::body::Bytes::new(),
            keep_body,
            value: Vec::new(),
        }
    }

    /// The HTTP response; `close` adds `Connection: close`.
    pub(crate) fn into_response(self, close: bool) -> Reply {
        let mut reply = hyper::Response::new(http_body_util::Full::new(self.body));
        *reply.status_mut() = self.status;
        *reply.headers_mut() = self.headers;
        if close {
            reply.headers_mut().insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
        }
        reply
    }
}

impl HeaderSink for Head {
    fn status(&mut self, code: u16, _reason: &str) {
        self.status = hyper::StatusCode::from_u16(code).unwrap_or_default();
    }

    fn header_with(&mut self, name: &str, value: impl FnOnce(&mut Vec<u8>)) {
        use hyper::header::{HeaderName, HeaderValue};
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("connection") {
            return;
        }
        self.value.clear();
        value(&mut self.value);
        // Every field the renderer writes is a valid name and value; one that is not is dropped.
        // Never trimmed: a name that ends in a space is a name (Apache's X-Sendfile takes it raw).
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(&self.value)) {
            self.headers.append(name, value);
        }
    }

    fn finish(&mut self, body: &[u8]) {
        if self.keep_body {
            self.body = hyper::body::Bytes::copy_from_slice(body);
        }
    }
}

#[cfg(test)]
mod tests;
