//! One FastCGI connection: read with timeouts, feed the codec, answer, write once per reply.

use super::Shared;
use crate::fcgi::{Connection, Event, Pairs, HEADER_LEN};
use crate::request::Request;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{timeout, timeout_at, Instant};

/// Bytes of file content per STDOUT record when xsendfiled sends the file itself (a multiple of 8
/// just under the 65535-byte record limit).
const FILE_CHUNK: usize = 65528;

/// Streams `body` as STDOUT records after the header block pending in `out`. Each record is
/// written before the next is read (backpressure: a slow reader holds one chunk of memory), file
/// reads run on the blocking pool, and a write error — the client or server went away — stops the
/// reading at once.
async fn stream_body<S>(
    stream: &mut S,
    conn: &Connection,
    body: crate::serve::Body,
    out: &mut Vec<u8>,
    write_timeout: std::time::Duration,
) -> std::io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    use std::os::unix::fs::FileExt;
    let file = Arc::new(body.file);
    let mut offset = body.offset;
    let end = body.offset.saturating_add(body.len);
    let mut chunk = vec![0u8; HEADER_LEN + FILE_CHUNK];
    let timed_out = || std::io::Error::new(std::io::ErrorKind::TimedOut, "write timeout");
    while offset < end {
        let want = usize::try_from((end - offset).min(FILE_CHUNK as u64)).unwrap_or(FILE_CHUNK);
        let f = file.clone();
        let (buf, read) = tokio::task::spawn_blocking(move || {
            let r = f.read_at(&mut chunk[HEADER_LEN..HEADER_LEN + want], offset);
            (chunk, r)
        })
        .await
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
const READ_BUF: usize = 16 * 1024;

/// Serves one connection until the peer closes, a limit or timeout is hit, or shutdown begins.
pub(crate) async fn serve<S>(mut stream: S, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let limits = shared.limits;
    let mut conn = Connection::new(limits).accept_authorizer(true);
    // Filled through `read_buf`, so the buffer is never zeroed (a memset per connection).
    let mut buf: Vec<u8> = Vec::with_capacity(READ_BUF);
    let mut out = Vec::with_capacity(512);
    let mut request_deadline: Option<Instant> = None;
    let mut close_after_reply = false;
    loop {
        buf.clear();
        let idle = conn.is_idle();
        let read = if idle {
            request_deadline = None;
            tokio::select! {
                // Bytes already waiting are read before a shutdown is noticed.
                biased;
                r = timeout(limits.idle_timeout, stream.read_buf(&mut buf)) => r,
                _ = shutdown.changed() => return,
            }
        } else {
            let deadline = *request_deadline.get_or_insert_with(|| Instant::now() + limits.request_timeout);
            timeout_at(deadline, stream.read_buf(&mut buf)).await
        };
        let n = match read {
            Err(_) => {
                log::debug!("closing connection: {} timeout", if idle { "idle" } else { "request" });
                return;
            }
            Ok(Err(e)) => {
                log::debug!("closing connection: read error: {e}");
                return;
            }
            Ok(Ok(0)) => return,
            Ok(Ok(n)) => n,
        };
        let mut off = 0;
        while off < n {
            let feed = match conn.feed(&buf[off..n], &mut out) {
                Ok(feed) => feed,
                Err(e) => {
                    log::debug!("closing connection: protocol error: {e}");
                    return;
                }
            };
            off += feed.consumed;
            if let Some(Event::Request { role, .. }) = feed.event {
                let mark = conn.begin_response(&mut out);
                let policy = shared.policy();
                crate::service::trace_params(
                    Pairs::new(conn.params()).map_while(Result::ok),
                    crate::service::tokens_in_path(&policy),
                );
                let mut req = Request::from_pairs(Pairs::new(conn.params()).map_while(Result::ok));
                req.authorize |= role == crate::fcgi::Role::Authorizer;
                let (status, body) = crate::service::handle(&req, &policy, &mut out);
                // nginx (and Caddy) finalize the upstream as soon as they see X-Accel-Redirect and
                // never reuse that connection: close after the reply instead of waiting to read
                // their EOF (one read and one wake-up less per download).
                let offload = !req.authorize
                    && status == 200
                    && matches!(policy.backend, crate::config::Backend::Nginx | crate::config::Backend::Caddy);
                close_after_reply |= offload;
                conn.frame_stdout(&mut out, mark);
                if let Some(body) = body {
                    if let Err(e) = stream_body(&mut stream, &conn, body, &mut out, limits.idle_timeout).await {
                        log::debug!("closing connection: while sending the file: {e}");
                        return;
                    }
                }
                conn.end_response(&mut out, 0);
            }
            if !out.is_empty() {
                // One write per reply. nginx closes right after the headers of an X-Accel-Redirect,
                // so a reset here is normal, not an error.
                match timeout(limits.idle_timeout, stream.write_all(&out)).await {
                    Ok(Ok(())) => out.clear(),
                    Ok(Err(e)) => {
                        log::debug!("closing connection: write error: {e}");
                        return;
                    }
                    Err(_) => {
                        log::debug!("closing connection: write timeout");
                        return;
                    }
                }
            }
            if conn.should_close() || close_after_reply || (conn.is_idle() && *shutdown.borrow()) {
                return;
            }
            if feed.consumed == 0 && feed.event.is_none() {
                // Nothing more can be consumed from this buffer (cannot happen for a well-behaved
                // codec; guards against a spin).
                return;
            }
        }
    }
}
