//! One FastCGI connection: read with timeouts, feed the codec, answer, write once per reply.
//!
//! Invariants: a reply leaves in one write (a `serve` body follows in records of at most
//! [`FILE_CHUNK`] bytes, each written before the next is read); an idle connection is closed
//! after `--idle-timeout`, a request must arrive whole within `--request-timeout`; an offload
//! to nginx or Caddy closes the connection after its reply (docs/servers.md, "Keep-alive").

use super::pending::{decide_on_pool, Awaits, Pending};
use super::Shared;
use crate::guard::store::Wait;
use crate::guard::Policy;
use crate::handler::{respond, Answer, How};
use crate::protocol::fcgi::{Connection, Event, Pairs, HEADER_LEN};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{timeout, timeout_at, Instant};

/// Bytes of file content per STDOUT record when xsendfiled sends the file itself (a multiple of 8
/// just under the 65535-byte record limit).
pub(super) const FILE_CHUNK: usize = 65528;

/// Streams `body` as STDOUT records after the header block pending in `out`. Each record is
/// written before the next is read (backpressure: a slow reader holds one chunk of memory), file
/// reads run on the blocking pool, and a write error — the client or server went away — stops the
/// reading at once. A read that takes longer than `read_timeout` (`--storage-timeout`: the mount
/// hung mid-download) closes the connection: the client sees a short body, and the connection's
/// slot is free again (the blocked read's thread returns when the mount does).
async fn stream_body<S>(
    stream: &mut S,
    conn: &Connection,
    body: crate::reply::serve::Body,
    out: &mut Vec<u8>,
    (write_timeout, read_timeout): (std::time::Duration, std::time::Duration),
) -> std::io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    use std::os::unix::fs::FileExt;
    let file = match body.source {
        crate::reply::serve::Source::File(file) => Arc::new(file),
        crate::reply::serve::Source::Object(get) => {
            let bytes = (body.offset, body.len);
            return super::object_body::stream(stream, conn, &get, bytes, out, write_timeout).await;
        }
    };
    let mut offset = body.offset;
    let end = body.offset.saturating_add(body.len);
    let mut chunk = vec![0u8; HEADER_LEN + FILE_CHUNK];
    let timed_out = || std::io::Error::new(std::io::ErrorKind::TimedOut, "write timeout");
    while offset < end {
        let want = usize::try_from((end - offset).min(FILE_CHUNK as u64)).unwrap_or(FILE_CHUNK);
        let f = file.clone();
        let read = tokio::task::spawn_blocking(move || {
            let r = f.read_at(&mut chunk[HEADER_LEN..HEADER_LEN + want], offset);
            (chunk, r)
        });
        let (buf, read) = timeout(read_timeout, read)
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "storage read timeout"))?
            .map_err(std::io::Error::other)?;
        chunk = buf;
        let n = read?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "file shrank while being sent"));
        }
        chunk[..HEADER_LEN].copy_from_slice(&conn.stdout_header(n as u16));
        if !out.is_empty() {
            // The header block is written just before the first chunk.
            timeout(write_timeout, stream.write_all(out)).await.map_err(|_| timed_out())??;
            out.clear();
        }
        timeout(write_timeout, stream.write_all(&chunk[..HEADER_LEN + n])).await.map_err(|_| timed_out())??;
        offset += n as u64;
    }
    Ok(())
}

/// Read buffer per connection. PARAMS content is copied out as it arrives, so a record larger
/// than this never needs to be buffered whole.
pub(crate) const READ_BUF: usize = 16 * 1024;

/// What one [`pass`] over received bytes leaves to the caller.
pub(crate) struct Pass {
    /// Bytes of the input consumed.
    pub(crate) consumed: usize,
    /// A file to stream (the `serve` backend) before the reply can be ended with
    /// [`Connection::end_response`]; the input after `consumed` waits until then.
    pub(crate) body: Option<crate::reply::serve::Body>,
    /// The connection must close once `out` is written.
    pub(crate) close: bool,
    /// A request to decide on the storage pool before anything else (its reply not begun); the
    /// input after `consumed` waits until then.
    pub(crate) pending: Option<Pending>,
    /// A request arrived whole in this pass (management records alone leave this false).
    pub(crate) began: bool,
}

/// Feeds `input` to the codec and answers every request it completes, appending all replies to
/// `out` (written by the caller, once). Synchronous and transport-neutral: the async loop below and
/// the accept loop's inline path (`super::inline`) both use it. Returns when the input is
/// consumed, a body must be streamed, or the connection must close.
pub(crate) fn pass(conn: &mut Connection, input: &[u8], out: &mut Vec<u8>, shared: &Shared) -> Pass {
    let mut off = 0;
    let mut began = false;
    let done = |consumed, close, began| Pass { consumed, body: None, close, pending: None, began };
    while off < input.len() {
        let feed = match conn.feed(&input[off..], out) {
            Ok(feed) => feed,
            Err(e) => {
                log::debug!("closing connection: protocol error: {e}");
                return done(off, true, began);
            }
        };
        off += feed.consumed;
        let mut close = false;
        if let Some(Event::Request { role, .. }) = feed.event {
            began = true;
            let mark = conn.begin_response(out);
            if shared.probes.any()
                && super::probe::answer(Pairs::new(conn.params()).map_while(Result::ok), &shared.probes, out)
            {
                conn.frame_stdout(out, mark);
                conn.end_response(out, 0);
                if conn.should_close() {
                    return done(off, true, began);
                }
                continue;
            }
            let policy = shared.policy();
            let authorizer = role == crate::protocol::fcgi::Role::Authorizer;
            let params = Pairs::new(conn.params()).map_while(Result::ok);
            let awaits = match respond(params, authorizer, &policy, out, How::Decide(Wait::Never)) {
                Ok(Answer { ask: Some(ask), .. }) => Err(Awaits::Grant(ask)),
                Ok(answer) => Ok(answer),
                Err(root) => Err(Awaits::Root(root)),
            };
            let answer = match awaits {
                Ok(answer) => answer,
                Err(awaits) => {
                    out.truncate(mark);
                    let pending = Some(Pending { awaits, authorizer });
                    return Pass { consumed: off, body: None, close: false, pending, began };
                }
            };
            close = frame(conn, out, mark, &answer, &policy);
            if answer.body.is_some() {
                return Pass { consumed: off, body: answer.body, close, pending: None, began };
            }
        } else if feed.consumed == 0 {
            // Nothing more can be consumed (cannot happen with a well-behaved codec; guards
            // against a spin).
            return done(off, true, began);
        }
        if close || conn.should_close() {
            return done(off, true, began);
        }
    }
    done(off, false, began)
}

/// Frames the reply written to `out` since `mark` as STDOUT and, unless a body follows, ends the
/// response. Returns whether the connection closes after it: nginx (and Caddy) finalize the
/// upstream as soon as they see X-Accel-Redirect and never reuse that connection, so close after
/// the reply instead of waiting to read their EOF (one read and one wake-up less per download).
pub(super) fn frame(conn: &mut Connection, out: &mut Vec<u8>, mark: usize, answer: &Answer, policy: &Policy) -> bool {
    let close = !answer.authorize
        && answer.status == 200
        && matches!(policy.backend, crate::guard::Backend::Nginx | crate::guard::Backend::Caddy);
    conn.frame_stdout(out, mark);
    if answer.body.is_none() {
        conn.end_response(out, 0);
    }
    close
}

/// Where a connection starts: fresh, or handed over by the inline path with its codec state, a
/// reply not yet (fully) written, and possibly a file still to stream.
pub(crate) struct Resume {
    pub(crate) conn: Connection,
    pub(crate) out: Vec<u8>,
    pub(crate) body: Option<crate::reply::serve::Body>,
    pub(crate) close: bool,
    /// Bytes received but not yet fed to the codec.
    pub(crate) input: Vec<u8>,
    /// A request to decide on the storage pool first.
    pub(crate) pending: Option<Pending>,
}

impl Resume {
    pub(crate) fn fresh(shared: &Shared) -> Resume {
        Resume {
            conn: Connection::new(shared.limits).accept_authorizer(true),
            out: Vec::with_capacity(512),
            body: None,
            close: false,
            input: Vec::new(),
            pending: None,
        }
    }
}

/// Writes `out` (once) and clears it; false when the connection must be dropped.
async fn flush<S: AsyncWrite + Unpin>(stream: &mut S, out: &mut Vec<u8>, limit: std::time::Duration) -> bool {
    if out.is_empty() {
        return true;
    }
    // One write per reply. nginx closes right after the headers of an X-Accel-Redirect, so a reset
    // here is normal, not an error.
    match timeout(limit, stream.write_all(out)).await {
        Ok(Ok(())) => {
            out.clear();
            true
        }
        Ok(Err(e)) => {
            log::debug!("closing connection: write error: {e}");
            false
        }
        Err(_) => {
            log::debug!("closing connection: write timeout");
            false
        }
    }
}

/// Serves one connection until the peer closes, a limit or timeout is hit, or shutdown begins.
pub(crate) async fn serve<S>(mut stream: S, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>, start: Resume)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let limits = shared.limits;
    let Resume { mut conn, mut out, mut body, mut close, input, pending } = start;
    // Nothing received or answered yet (not handed over by the inline path mid-way).
    let untouched = body.is_none() && out.is_empty() && input.is_empty() && pending.is_none();
    if let Some(pending) = pending {
        (body, close) = decide_on_pool(&mut conn, pending, &mut out, &shared).await;
    }
    if let Some(body) = body {
        if let Err(e) =
            stream_body(&mut stream, &conn, body, &mut out, (limits.idle_timeout, shared.storage.timeout())).await
        {
            log::debug!("closing connection: while sending the file: {e}");
            return;
        }
        conn.end_response(&mut out, 0);
    }
    if !flush(&mut stream, &mut out, limits.idle_timeout).await || close || conn.should_close() {
        return;
    }
    // Filled through `read_buf`, so the buffer is never zeroed (a memset per connection). Bytes
    // handed over unread are fed first.
    let mut buf = input;
    buf.reserve(READ_BUF.saturating_sub(buf.len()));
    let mut request_deadline: Option<Instant> = None;
    // A connection that has sent nothing yet is a request on its way (the client connects, then
    // writes): shutdown closes only connections idle after a reply, so it waits for that first
    // request like any other (bounded by the idle timeout and the drain timeout).
    let mut fresh = untouched;
    // Idle since it opened or since its last reply (`super::evict`): management records neither
    // make it busy nor move this deadline, so GET_VALUES cannot keep a slot for ever.
    let member = shared.conns.join();
    let mut idle_deadline: Option<Instant> = None;
    loop {
        if buf.is_empty() {
            // Evictable and under the idle deadline unless a request is in progress: management
            // records, or half of one, neither make the connection busy nor move the deadline.
            let idle = !conn.in_request();
            let read = if idle {
                request_deadline = None;
                let deadline = *idle_deadline.get_or_insert_with(|| {
                    member.idle();
                    Instant::now() + limits.idle_timeout
                });
                tokio::select! {
                    // Bytes already waiting are read before an eviction or a shutdown is noticed.
                    biased;
                    r = timeout_at(deadline, stream.read_buf(&mut buf)) => r,
                    () = member.evicted() => {
                        log::debug!("closing idle connection: evicted to admit a new one");
                        return;
                    }
                    _ = shutdown.changed(), if !fresh && conn.is_idle() => return,
                }
            } else {
                let deadline = *request_deadline.get_or_insert_with(|| Instant::now() + limits.request_timeout);
                timeout_at(deadline, stream.read_buf(&mut buf)).await
            };
            match read {
                Err(_) => {
                    log::debug!("closing connection: {} timeout", if idle { "idle" } else { "request" });
                    if let Some(m) = crate::metrics::get() {
                        m.connections_timed_out.inc();
                    }
                    return;
                }
                Ok(Err(e)) => {
                    log::debug!("closing connection: read error: {e}");
                    return;
                }
                Ok(Ok(0)) => return,
                Ok(Ok(_)) => fresh = false,
            }
        }
        let mut off = 0;
        while off < buf.len() {
            let mut step = pass(&mut conn, &buf[off..], &mut out, &shared);
            off += step.consumed;
            if step.began || conn.in_request() {
                member.busy();
                idle_deadline = None;
            }
            if let Some(pending) = step.pending {
                (step.body, step.close) = decide_on_pool(&mut conn, pending, &mut out, &shared).await;
            }
            if let Some(body) = step.body {
                if let Err(e) =
                    stream_body(&mut stream, &conn, body, &mut out, (limits.idle_timeout, shared.storage.timeout()))
                        .await
                {
                    log::debug!("closing connection: while sending the file: {e}");
                    return;
                }
                conn.end_response(&mut out, 0);
            }
            if !flush(&mut stream, &mut out, limits.idle_timeout).await
                || step.close
                || conn.should_close()
                || (conn.is_idle() && *shutdown.borrow())
            {
                return;
            }
        }
        buf.clear();
    }
}
