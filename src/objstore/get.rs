//! The GET behind `--backend serve` over an object root: xsendfiled streams the object itself.
//!
//! The request runs on the object-store client's runtime (`client.rs`); its body comes to the
//! shell frame by frame through a channel of [`FRAMES_IN_FLIGHT`] frames, so a slow client holds
//! at most that many of hyper's read frames of memory (backpressure: the store connection is not
//! read while the channel is full) and the object is never buffered whole.
//!
//! What is asked (AWS S3 API reference, GetObject; RFC 9110 §14.2, §13.1.1): `Range: bytes=a-b`
//! for exactly the bytes `reply/serve.rs` planned (the client's single range, or the whole
//! object), `If-Match` with the ETag of the HEAD the decision used. What is accepted: 206 (or 200
//! when the whole object was asked for) with a `Content-Length` of exactly those bytes; anything
//! else (412: the object was replaced since the HEAD; 404: deleted; 403, 5xx) fails before a
//! byte is sent. Invariants: no header of the store's answer is passed on; the shell counts the
//! bytes and a body that ends short or fails is an error (the connection closes, never a reply
//! that looks complete); every wait is bounded by `--s3-timeout` (the answer, then each frame).

use super::client::{chain, Pooled};
use crate::guard::store::object::StoreFault;
use crate::reply::serve::ObjectGet;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use std::io;
use tokio::sync::{mpsc, oneshot};

/// Frames of the store's body waiting for the client at most.
const FRAMES_IN_FLIGHT: usize = 2;

/// A GET on its way: [`Started::ready`] once the store has answered.
pub(crate) struct Started {
    answer: oneshot::Receiver<io::Result<()>>,
    frames: mpsc::Receiver<io::Result<Bytes>>,
}

/// The body of a GET the store accepted, frame by frame.
pub(crate) struct Download {
    frames: mpsc::Receiver<io::Result<Bytes>>,
}

/// Sends the GET of `get` for `len` bytes from `offset` (`len` > 0).
///
/// # Errors
/// When the client could not be started or the request not built.
pub(crate) fn start(get: &ObjectGet, offset: u64, len: u64) -> io::Result<Started> {
    let (rt, client) = super::shared_client().started()?;
    let last = offset + len.saturating_sub(1);
    let mut request = hyper::Request::get(get.url.as_str()).header("range", format!("bytes={offset}-{last}"));
    if let Some(tag) = &get.etag {
        request = request.header("if-match", tag.as_str());
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| StoreFault::error(io::ErrorKind::InvalidInput, format!("GET: {e}")))?;
    let (answer_tx, answer) = oneshot::channel();
    let (frames_tx, frames) = mpsc::channel(FRAMES_IN_FLIGHT);
    let whole = offset == 0 && len == get.size;
    rt.spawn(fetch(client, request, len, whole, get.timeout, answer_tx, frames_tx));
    Ok(Started { answer, frames })
}

/// Sends `request`, tells `answer` whether the store accepted it, then forwards the body.
async fn fetch(
    client: Pooled,
    request: hyper::Request<Empty<Bytes>>,
    len: u64,
    whole: bool,
    timeout: std::time::Duration,
    answer: oneshot::Sender<io::Result<()>>,
    frames: mpsc::Sender<io::Result<Bytes>>,
) {
    let timed_out = || StoreFault::error(io::ErrorKind::TimedOut, format!("GET: no answer within {timeout:?}"));
    let response = match tokio::time::timeout(timeout, client.request(request)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            let _ =
                answer.send(Err(StoreFault::error(io::ErrorKind::ConnectionRefused, format!("GET: {}", chain(&e)))));
            return;
        }
        Err(_) => {
            let _ = answer.send(Err(timed_out()));
            return;
        }
    };
    let status = response.status().as_u16();
    let length = response.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if !(status == 206 || (status == 200 && whole)) || length != Some(len) {
        let why =
            format!("GET: status {status} with {length:?} bytes, expected {len} (replaced or deleted since its HEAD?)");
        let _ = answer.send(Err(StoreFault::error(io::ErrorKind::Other, why)));
        return;
    }
    if answer.send(Ok(())).is_err() {
        return;
    }
    let mut body = response.into_body();
    loop {
        let next = match tokio::time::timeout(timeout, body.frame()).await {
            Ok(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) if !data.is_empty() => Ok(data),
                _ => continue,
            },
            Ok(Some(Err(e))) => {
                Err(StoreFault::error(io::ErrorKind::ConnectionReset, format!("GET body: {}", chain(&e))))
            }
            Ok(None) => return,
            Err(_) => Err(timed_out()),
        };
        let failed = next.is_err();
        // The client went away: dropping the body closes the store connection.
        if frames.send(next).await.is_err() || failed {
            return;
        }
    }
}

impl Started {
    /// Waits (on any runtime) for the store's answer.
    ///
    /// # Errors
    /// The store refused, failed or timed out (a [`StoreFault`]).
    pub(crate) async fn ready(self) -> io::Result<Download> {
        let lost = || StoreFault::error(io::ErrorKind::Other, "the object-store client stopped");
        self.answer.await.map_err(|_| lost())??;
        Ok(Download { frames: self.frames })
    }

    /// [`Started::ready`] for a thread outside any runtime (the CGI program).
    ///
    /// # Errors
    /// As [`Started::ready`].
    pub(crate) fn ready_blocking(self) -> io::Result<Download> {
        let lost = || StoreFault::error(io::ErrorKind::Other, "the object-store client stopped");
        self.answer.blocking_recv().map_err(|_| lost())??;
        Ok(Download { frames: self.frames })
    }
}

impl Download {
    /// The next frame of the body; `None` at its end.
    pub(crate) async fn next(&mut self) -> Option<io::Result<Bytes>> {
        self.frames.recv().await
    }

    /// [`Download::next`] for a thread outside any runtime.
    pub(crate) fn next_blocking(&mut self) -> Option<io::Result<Bytes>> {
        self.frames.blocking_recv()
    }
}

/// Copies the `len` bytes from `offset` of `get` to `out`, blocking (the CGI program).
///
/// # Errors
/// A store failure, a body that ends short, or a write error.
pub(crate) fn copy_blocking(get: &ObjectGet, offset: u64, len: u64, out: &mut impl io::Write) -> io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    let mut body = start(get, offset, len)?.ready_blocking()?;
    let mut sent = 0u64;
    while let Some(frame) = body.next_blocking() {
        let frame = frame?;
        sent += frame.len() as u64;
        if sent > len {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "the store sent more than asked"));
        }
        out.write_all(&frame)?;
    }
    if sent < len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the object's body ended short"));
    }
    Ok(())
}
