//! One FastCGI connection: read with timeouts, feed the codec, answer, write once per reply.

use super::Shared;
use crate::fcgi::{Connection, Event, Pairs};
use crate::request::Request;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{timeout, timeout_at, Instant};

/// Read buffer per connection. PARAMS content is copied out as it arrives, so a record larger
/// than this never needs to be buffered whole.
const READ_BUF: usize = 16 * 1024;

/// Serves one connection until the peer closes, a limit or timeout is hit, or shutdown begins.
pub(crate) async fn serve<S>(mut stream: S, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let limits = shared.limits;
    let mut conn = Connection::new(limits);
    // Filled through `read_buf`, so the buffer is never zeroed (a memset per connection).
    let mut buf: Vec<u8> = Vec::with_capacity(READ_BUF);
    let mut out = Vec::with_capacity(512);
    let mut request_deadline: Option<Instant> = None;
    loop {
        buf.clear();
        let idle = conn.is_idle();
        let read = if idle {
            request_deadline = None;
            tokio::select! {
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
            if let Some(Event::Request { .. }) = feed.event {
                let mark = conn.begin_response(&mut out);
                crate::service::trace_params(Pairs::new(conn.params()).map_while(Result::ok));
                let req = Request::from_pairs(Pairs::new(conn.params()).map_while(Result::ok));
                crate::service::handle(&req, &shared.policy, &mut out);
                conn.finish_response(&mut out, mark, 0);
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
            if conn.should_close() || (conn.is_idle() && *shutdown.borrow()) {
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
