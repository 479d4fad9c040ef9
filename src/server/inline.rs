//! The inline path: a FastCGI connection answered by the accept loop itself, without a task.
//!
//! nginx opens a new upstream connection for every request it offloads with X-Accel-Redirect, and
//! writes the whole request (BEGIN_REQUEST, PARAMS, empty STDIN) right after `connect`. By the
//! time xsendfiled accepts, the request is usually already in the socket. So the accept loop tries
//! one non-blocking read: when it yields a complete request, the decision runs, the reply is
//! written with one non-blocking write, and the connection is closed — never registered with the
//! reactor, no task, no per-connection buffer (this loop reuses one). That saves two `epoll_ctl`
//! calls, a task and a 16 KiB allocation per download.
//!
//! Anything else is handed over, state and all, to the ordinary task ([`super::conn::serve`]): no
//! data yet, a partial request, a reply the socket would not take whole, a file to stream, or a
//! connection the web server keeps open for another request. Nothing here ever waits, so a slow or
//! hostile peer costs the loop one read at most.

use super::conn::{pass, Resume, READ_BUF};
use super::Shared;
use crate::fcgi::Connection;
use std::io::{ErrorKind, Read, Write};

/// Buffers the accept loop reuses for every connection it answers inline.
pub(crate) struct Scratch {
    buf: Box<[u8]>,
    out: Vec<u8>,
    conn: Option<Connection>,
}

impl Scratch {
    pub(crate) fn new() -> Scratch {
        Scratch { buf: vec![0; READ_BUF].into_boxed_slice(), out: Vec::with_capacity(512), conn: None }
    }
}

/// What became of an accepted connection.
pub(crate) enum Outcome {
    /// Answered (or dropped after an error): close it.
    Done,
    /// Needs a task, starting from this state.
    HandOver(Box<Resume>),
}

/// Tries to answer the connection on `stream` (non-blocking) at once.
pub(crate) fn try_serve<S: Read + Write>(stream: &mut S, shared: &Shared, scratch: &mut Scratch) -> Outcome {
    let n = match stream.read(&mut scratch.buf) {
        Ok(0) => return Outcome::Done,
        Ok(n) => n,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
            return Outcome::HandOver(Box::new(Resume::fresh(shared)));
        }
        Err(e) => {
            log::debug!("closing connection: read error: {e}");
            return Outcome::Done;
        }
    };
    let mut conn = scratch.conn.take().unwrap_or_else(|| Connection::new(shared.limits).accept_authorizer(true));
    scratch.out.clear();
    let step = pass(&mut conn, &scratch.buf[..n], &mut scratch.out, shared);
    if step.body.is_some() {
        // The serve backend streams the file from a task; bytes after the request wait for it.
        let input = scratch.buf[step.consumed..n].to_vec();
        let out = std::mem::take(&mut scratch.out);
        return Outcome::HandOver(Box::new(Resume { conn, out, body: step.body, close: step.close, input }));
    }
    let close = step.close || conn.should_close();
    if !scratch.out.is_empty() {
        match stream.write(&scratch.out) {
            Ok(w) if w == scratch.out.len() => scratch.out.clear(),
            Ok(w) => {
                scratch.out.drain(..w);
                let out = std::mem::take(&mut scratch.out);
                return Outcome::HandOver(Box::new(Resume { conn, out, body: None, close, input: Vec::new() }));
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                let out = std::mem::take(&mut scratch.out);
                return Outcome::HandOver(Box::new(Resume { conn, out, body: None, close, input: Vec::new() }));
            }
            Err(e) => {
                // nginx may close right after the headers of an X-Accel-Redirect: not an error.
                log::debug!("closing connection: write error: {e}");
                conn.reset();
                scratch.conn = Some(conn);
                return Outcome::Done;
            }
        }
    }
    if close {
        conn.reset();
        scratch.conn = Some(conn);
        return Outcome::Done;
    }
    // Kept open by the web server (FCGI_KEEP_CONN), or a request still arriving.
    Outcome::HandOver(Box::new(Resume {
        conn,
        out: Vec::with_capacity(512),
        body: None,
        close: false,
        input: Vec::new(),
    }))
}
