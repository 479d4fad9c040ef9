//! `--backend serve` over an object root, FastCGI side: the object's bytes, from the store's GET
//! (`objstore::get`), as STDOUT records after the header block.
//!
//! Invariants: the header block is written only once the store has accepted the GET (a store that
//! fails before that closes the connection without a reply, which the web server answers with its
//! own 502); each record is written before the next frame is taken (backpressure reaches the
//! store connection through `objstore::get`'s small channel); exactly `len` bytes are sent, and a
//! body that fails or ends short is an error that closes the connection before the request is
//! ended, so the client sees a truncated body against its `Content-Length`, never a complete one.

use super::conn::FILE_CHUNK;
use crate::protocol::fcgi::{Connection, HEADER_LEN};
use crate::reply::serve::ObjectGet;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

/// Streams bytes `offset..offset + len` of `get` after the header block pending in `out`.
///
/// # Errors
/// A store failure (logged here), a body that ends short, a write error or a write timeout.
pub(super) async fn stream<S>(
    stream: &mut S,
    conn: &Connection,
    get: &ObjectGet,
    (offset, len): (u64, u64),
    out: &mut Vec<u8>,
    write_timeout: Duration,
) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    if len == 0 {
        return Ok(());
    }
    let started = crate::objstore::get::start(get, offset, len);
    let mut body = match async { started?.ready().await }.await {
        Ok(body) => body,
        Err(e) => {
            log::error!("serve: {e}: closing the connection without a reply");
            return Err(e);
        }
    };
    let timed_out = || io::Error::new(io::ErrorKind::TimedOut, "write timeout");
    let mut record = Vec::with_capacity(HEADER_LEN + FILE_CHUNK);
    let mut sent = 0u64;
    while let Some(frame) = body.next().await {
        let frame =
            frame.inspect_err(|e| log::error!("serve: {e}: {sent} of {len} bytes sent, closing the connection"))?;
        if sent + frame.len() as u64 > len {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "the store sent more than asked"));
        }
        if !out.is_empty() {
            timeout(write_timeout, stream.write_all(out)).await.map_err(|_| timed_out())??;
            out.clear();
        }
        for piece in frame.chunks(FILE_CHUNK) {
            record.clear();
            // A piece is at most FILE_CHUNK (< 65536) bytes.
            record.extend_from_slice(&conn.stdout_header(piece.len() as u16));
            record.extend_from_slice(piece);
            timeout(write_timeout, stream.write_all(&record)).await.map_err(|_| timed_out())??;
        }
        sent += frame.len() as u64;
    }
    if sent < len {
        log::error!("serve: the store's body ended after {sent} of {len} bytes, closing the connection");
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the object's body ended short"));
    }
    Ok(())
}
