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
use crate::protocol::fcgi::Connection;
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
    if step.body.is_some() || step.pending.is_some() {
        // The serve backend streams the file from a task, and a lookup that would wait for the
        // file system runs on the storage pool, awaited by a task; bytes after the request wait.
        let input = scratch.buf[step.consumed..n].to_vec();
        let out = std::mem::take(&mut scratch.out);
        let (body, close, pending) = (step.body, step.close, step.pending);
        return Outcome::HandOver(Box::new(Resume { conn, out, body, close, input, pending }));
    }
    let close = step.close || conn.should_close();
    // The rest of a reply the socket would not take whole goes to a task.
    let rest = |conn, out| {
        Outcome::HandOver(Box::new(Resume { conn, out, body: None, close, input: Vec::new(), pending: None }))
    };
    if !scratch.out.is_empty() {
        match write_now(&mut *stream, &mut scratch.out) {
            Ok(true) => {}
            Ok(false) => return rest(conn, std::mem::take(&mut scratch.out)),
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
        pending: None,
    }))
}

/// Writes `out` with one non-blocking write: `Ok(true)` when the socket took all of it (`out` is
/// empty then), `Ok(false)` when it took part or nothing (the rest stays in `out`), the error of
/// a write that failed.
pub(crate) fn write_now(mut stream: impl Write, out: &mut Vec<u8>) -> std::io::Result<bool> {
    match stream.write(out) {
        Ok(w) if w == out.len() => {
            out.clear();
            Ok(true)
        }
        Ok(w) => {
            out.drain(..w);
            Ok(false)
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::{Backend, Policy};
    use crate::limits::Limits;

    /// A non-blocking socket stand-in: reads come from `input` (then `WouldBlock`), writes are
    /// taken up to `room` bytes (then `WouldBlock`).
    struct Socket {
        input: Vec<u8>,
        read: bool,
        room: usize,
        written: Vec<u8>,
    }

    impl Read for Socket {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.read || self.input.is_empty() {
                return Err(ErrorKind::WouldBlock.into());
            }
            self.read = true;
            let n = self.input.len().min(buf.len());
            buf[..n].copy_from_slice(&self.input[..n]);
            Ok(n)
        }
    }

    impl Write for Socket {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.room - self.written.len());
            if n == 0 {
                return Err(ErrorKind::WouldBlock.into());
            }
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn record(kind: u8, content: &[u8]) -> Vec<u8> {
        let len = content.len() as u16;
        let mut r = vec![1, kind, 0, 1, (len >> 8) as u8, len as u8, 0, 0];
        r.extend_from_slice(content);
        r
    }

    /// BEGIN_REQUEST (responder, `keep` = FCGI_KEEP_CONN), PARAMS for GET `path`, empty STDIN.
    fn request(path: &str, keep: bool) -> Vec<u8> {
        let mut params = Vec::new();
        for (n, v) in [("REQUEST_METHOD", "GET"), ("DOCUMENT_URI", path)] {
            params.extend_from_slice(&[n.len() as u8, v.len() as u8]);
            params.extend_from_slice(n.as_bytes());
            params.extend_from_slice(v.as_bytes());
        }
        let mut wire = record(1, &[0, 1, u8::from(keep), 0, 0, 0, 0, 0]);
        wire.extend(record(4, &params));
        wire.extend(record(4, &[]));
        wire.extend(record(5, &[]));
        wire
    }

    fn shared(backend: Backend) -> (tempfile::TempDir, Shared) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("f.txt"), b"hello\n").expect("write");
        let prefix = backend.needs_internal_prefix().then_some("/_p");
        let policy = Policy::build(dir.path(), backend, prefix, None, false).expect("policy");
        let pool = crate::server::storage::Pool::new(4, std::time::Duration::from_secs(5));
        (dir, Shared::new(policy, Limits::default(), Default::default(), pool))
    }

    fn socket(input: Vec<u8>, room: usize) -> Socket {
        Socket { input, read: false, room, written: Vec::new() }
    }

    #[test]
    fn a_complete_request_is_answered_and_closed_inline() {
        let (_dir, shared) = shared(Backend::Nginx);
        let mut s = socket(request("/f.txt", true), usize::MAX);
        let mut scratch = Scratch::new();
        assert!(matches!(try_serve(&mut s, &shared, &mut scratch), Outcome::Done));
        let text = String::from_utf8_lossy(&s.written);
        assert!(text.contains("X-Accel-Redirect: /_p/f.txt\r\n"), "{text}");
        // The codec is kept for the next connection, reset.
        assert!(scratch.conn.as_ref().is_some_and(Connection::is_idle));
    }

    #[test]
    fn no_data_yet_goes_to_a_task_untouched() {
        let (_dir, shared) = shared(Backend::Nginx);
        let mut s = socket(Vec::new(), usize::MAX);
        match try_serve(&mut s, &shared, &mut Scratch::new()) {
            Outcome::HandOver(r) => assert!(r.out.is_empty() && r.input.is_empty() && r.conn.is_idle() && !r.close),
            Outcome::Done => panic!("closed a connection that had sent nothing yet"),
        }
    }

    #[test]
    fn a_partial_request_goes_to_a_task_with_the_codec_state() {
        let (_dir, shared) = shared(Backend::Nginx);
        let wire = request("/f.txt", false);
        let mut s = socket(wire[..20].to_vec(), usize::MAX);
        let Outcome::HandOver(r) = try_serve(&mut s, &shared, &mut Scratch::new()) else {
            panic!("answered half a request")
        };
        assert!(!r.conn.is_idle(), "the bytes read are in the codec, not lost");
        assert!(s.written.is_empty() && r.out.is_empty());
    }

    #[test]
    fn a_short_write_hands_over_the_rest_of_the_reply() {
        let (_dir, shared) = shared(Backend::Nginx);
        let mut s = socket(request("/f.txt", false), 10);
        let Outcome::HandOver(r) = try_serve(&mut s, &shared, &mut Scratch::new()) else { panic!("reply lost") };
        assert_eq!(s.written.len(), 10);
        assert!(r.close, "an offload still closes once the rest is written");
        let whole = [s.written.as_slice(), r.out.as_slice()].concat();
        assert!(String::from_utf8_lossy(&whole).contains("X-Accel-Redirect: /_p/f.txt\r\n"));
    }

    #[test]
    fn a_kept_connection_after_an_error_goes_to_a_task() {
        let (_dir, shared) = shared(Backend::Nginx);
        // A hidden name is refused by the path checks, before any lookup.
        let mut s = socket(request("/.missing.txt", true), usize::MAX);
        let Outcome::HandOver(r) = try_serve(&mut s, &shared, &mut Scratch::new()) else {
            panic!("closed a connection the server keeps")
        };
        assert!(String::from_utf8_lossy(&s.written).contains("Status: 404"));
        assert!(!r.close && r.conn.is_idle() && r.out.is_empty());
    }

    #[test]
    fn a_lookup_the_cache_cannot_answer_goes_to_a_task_undecided() {
        let (_dir, shared) = shared(Backend::Nginx);
        // A name never looked up has no dentry (not even a negative one): RESOLVE_CACHED says
        // EAGAIN, so nothing is written and the request waits for the storage pool.
        let mut s = socket(request("/never-seen.txt", false), usize::MAX);
        let Outcome::HandOver(r) = try_serve(&mut s, &shared, &mut Scratch::new()) else { panic!("answered") };
        assert!(s.written.is_empty() && r.out.is_empty());
        assert!(matches!(r.pending.map(|p| p.awaits), Some(super::super::pending::Awaits::Root(0))));
    }

    #[test]
    fn a_file_to_stream_goes_to_a_task_with_its_headers() {
        let (_dir, shared) = shared(Backend::Serve);
        let mut s = socket(request("/f.txt", false), usize::MAX);
        let Outcome::HandOver(r) = try_serve(&mut s, &shared, &mut Scratch::new()) else { panic!("no body") };
        assert!(s.written.is_empty(), "nothing is written before the task streams the file");
        assert_eq!(r.body.as_ref().map(|b| b.len), Some(6));
        assert!(String::from_utf8_lossy(&r.out).contains("Content-Length: 6"));
    }
}
