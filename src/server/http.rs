//! Experimental: an HTTP/1.1 listener (`--listen http://HOST:PORT`) over the same decision, for
//! nginx `proxy_pass` to an upstream with `keepalive`.
//!
//! Why: nginx never reuses a FastCGI connection after an X-Accel-Redirect, but it does reuse an
//! HTTP/1.1 upstream connection when the reply carries `Content-Length: 0` (servers.md appendix),
//! which saves a connection setup per download. Bench row XH measures it.
//!
//! Scope: only what a proxy sends upstream (RFC 9112 §2–§6): an origin-form request line
//! (`METHOD /path?query HTTP/1.x`), header fields, an optional `Content-Length` body that is read
//! and dropped. `Transfer-Encoding` in a request, a malformed or conflicting `Content-Length`, an
//! unknown version or an oversized head get a 400 and the connection closes (reject, don't
//! repair: the message framing can no longer be trusted). No trusted per-request parameters
//! travel over HTTP: every `XSENDFILED_*` policy comes from the command line only.
//!
//! Mapping to the CGI view (RFC 3875 §4.1): the request target's path, percent-decoded once, is
//! `DOCUMENT_URI`; the raw target is `REQUEST_URI`; the query is `QUERY_STRING`. The CGI reply
//! becomes an HTTP/1.1 response: its `Status:` field sets the status line, the other fields pass
//! on, and the body gets an exact `Content-Length` (0 for an offload), so the connection stays
//! reusable. With `--backend authorizer` (a forward-auth endpoint for nginx `auth_request`) every
//! answer, allow or deny, has no body.

use super::Shared;
use crate::decide::Status;
use crate::request::Request;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{timeout, timeout_at, Instant};

/// Largest request head (request line and header fields) accepted.
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// One parsed request head.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Head<'a> {
    pub method: &'a [u8],
    pub target: &'a [u8],
    /// The path of the target, percent-decoded once.
    pub path: Vec<u8>,
    pub query: &'a [u8],
    /// Bytes of body that follow the head (read and dropped).
    pub body_len: u64,
    /// The client may send another request on this connection.
    pub keep_alive: bool,
}

/// Why a request head is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HeadError {
    #[error("malformed request line")]
    RequestLine,
    #[error("unsupported HTTP version")]
    Version,
    #[error("request target is not origin-form or has a bad percent-escape")]
    Target,
    #[error("malformed header field")]
    Field,
    #[error("Transfer-Encoding in a request is not accepted")]
    TransferEncoding,
    #[error("malformed or conflicting Content-Length")]
    ContentLength,
}

/// Parses a request head (without its final empty line).
pub(crate) fn parse_head(head: &[u8]) -> Result<Head<'_>, HeadError> {
    let mut lines = head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request_line = lines.next().ok_or(HeadError::RequestLine)?;
    let mut parts = request_line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::RequestLine);
    };
    if method.is_empty() || !method.iter().all(u8::is_ascii_alphabetic) {
        return Err(HeadError::RequestLine);
    }
    let mut keep_alive = match version {
        b"HTTP/1.1" => true,
        b"HTTP/1.0" => false,
        _ => return Err(HeadError::Version),
    };
    if target.first() != Some(&b'/') || target.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return Err(HeadError::Target);
    }
    let (raw_path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], &target[q + 1..]),
        None => (target, &b""[..]),
    };
    let path = crate::percent::decode_once(raw_path).ok_or(HeadError::Target)?;
    let mut body_len: Option<u64> = None;
    for line in lines {
        let colon = line.iter().position(|&b| b == b':').ok_or(HeadError::Field)?;
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.is_empty() || name.iter().any(|b| b.is_ascii_whitespace()) {
            return Err(HeadError::Field);
        }
        if name.eq_ignore_ascii_case(b"connection") {
            for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                if token.eq_ignore_ascii_case(b"close") {
                    keep_alive = false;
                }
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Err(HeadError::TransferEncoding);
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(HeadError::ContentLength)?;
            if body_len.is_some_and(|old| old != n) {
                return Err(HeadError::ContentLength);
            }
            body_len = Some(n);
        }
    }
    Ok(Head { method, target, path, query, body_len: body_len.unwrap_or(0), keep_alive })
}

/// Turns the CGI reply in `cgi` into an HTTP/1.1 response appended to `out`.
pub(crate) fn to_http(cgi: &[u8], keep_alive: bool, out: &mut Vec<u8>) {
    use std::io::Write;
    let (head, body) = match cgi.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => (&cgi[..at], &cgi[at + 4..]),
        None => (cgi, &b""[..]),
    };
    let fields = || head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).filter(|l| !l.is_empty());
    let status = fields().find_map(|l| strip_field(l, b"status")).unwrap_or(b"200 OK");
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status);
    out.extend_from_slice(b"\r\n");
    for line in fields() {
        if [&b"status"[..], b"content-length", b"connection"].iter().all(|name| strip_field(line, name).is_none()) {
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        }
    }
    // Writing to a Vec cannot fail.
    let _ = write!(out, "Content-Length: {}\r\n", body.len());
    if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// The value of `line` if it is the field `name` (case-insensitive).
fn strip_field<'a>(line: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    line[..colon].eq_ignore_ascii_case(name).then(|| line[colon + 1..].trim_ascii())
}

/// Finds the end of the head (`\r\n\r\n`) in `buf`, scanning from `from`.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    buf.get(start..)?.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + start)
}

/// Serves HTTP/1.1 requests on one connection until it closes, errs, idles out or shutdown.
pub(crate) async fn serve<S>(mut stream: S, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    log::debug!("http: connection opened");
    let limits = shared.limits;
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(512);
    let mut cgi = Vec::with_capacity(512);
    loop {
        // Wait for a request (idle timeout, shutdown), then read its whole head within the
        // request timeout.
        let mut scanned = 0;
        let mut deadline: Option<Instant> = None;
        let end = loop {
            if let Some(p) = head_end(&buf, scanned) {
                break p;
            }
            scanned = buf.len();
            if buf.len() > MAX_HEAD {
                log::debug!("http: request head over {MAX_HEAD} bytes");
                reply_error(&mut stream, Status::BadRequest, &mut cgi, &mut out).await;
                return;
            }
            let read = match deadline {
                None => tokio::select! {
                    biased;
                    r = timeout(limits.idle_timeout, stream.read_buf(&mut buf)) => r,
                    _ = shutdown.changed(), if buf.is_empty() => return,
                },
                Some(at) => timeout_at(at, stream.read_buf(&mut buf)).await,
            };
            match read {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
                Ok(Ok(_)) => {}
            }
            deadline.get_or_insert_with(|| Instant::now() + limits.request_timeout);
        };
        let (body_len, keep_alive) = {
            let head = match parse_head(&buf[..end]) {
                Ok(head) => head,
                Err(e) => {
                    log::debug!("http: {e}");
                    reply_error(&mut stream, Status::BadRequest, &mut cgi, &mut out).await;
                    return;
                }
            };
            let pairs: [(&[u8], &[u8]); 4] = [
                (b"REQUEST_METHOD", head.method),
                (b"REQUEST_URI", head.target),
                (b"DOCUMENT_URI", &head.path),
                (b"QUERY_STRING", head.query),
            ];
            let req = Request::from_pairs(pairs);
            let policy = shared.policy();
            cgi.clear();
            // The serve backend is refused with an HTTP listener at start-up: no body to stream.
            let _ = crate::service::handle(&req, &policy, &mut cgi);
            if policy.backend == crate::config::Backend::Authorizer {
                // An authorizer's answer is its status and header fields. nginx's auth_request
                // reads no body (its subrequest is header-only) and keeps the upstream connection
                // only for a reply without one: a denial goes out with Content-Length: 0 too.
                if let Some(at) = cgi.windows(4).position(|w| w == b"\r\n\r\n") {
                    cgi.truncate(at + 4);
                }
            }
            (head.body_len, head.keep_alive)
        };
        buf.drain(..end + 4);
        // A body is never needed: drop it (bounded), or give up on the connection.
        if body_len > limits.max_stdin_bytes {
            return;
        }
        let mut left = body_len;
        while left > 0 {
            if buf.is_empty() {
                match timeout(limits.request_timeout, stream.read_buf(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => {}
                    _ => return,
                }
            }
            let take = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
            buf.drain(..take);
            left -= take as u64;
        }
        out.clear();
        to_http(&cgi, keep_alive, &mut out);
        if timeout(limits.idle_timeout, stream.write_all(&out)).await.map_or(true, |r| r.is_err()) {
            return;
        }
        if !keep_alive || *shutdown.borrow() {
            return;
        }
    }
}

/// Writes an error reply, then closes our side and drains what the client still sends (bounded in
/// bytes and time), so the reply is not lost to a reset caused by unread input.
async fn reply_error<S>(stream: &mut S, status: Status, cgi: &mut Vec<u8>, out: &mut Vec<u8>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    const LINGER: std::time::Duration = std::time::Duration::from_secs(1);
    const LINGER_BYTES: usize = 1 << 20;
    cgi.clear();
    crate::response::render_error(status, false, cgi);
    out.clear();
    to_http(cgi, false, out);
    if !matches!(timeout(LINGER, stream.write_all(out)).await, Ok(Ok(()))) {
        return;
    }
    let _ = timeout(LINGER, stream.shutdown()).await;
    let deadline = Instant::now() + LINGER;
    let mut sink = [0u8; 8192];
    let mut drained = 0;
    while drained < LINGER_BYTES {
        match timeout_at(deadline, stream.read(&mut sink)).await {
            Ok(Ok(n)) if n > 0 => drained += n,
            _ => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_proxied_request() {
        let h =
            parse_head(b"GET /d/a%20b.txt?x=1 HTTP/1.1\r\nHost: up\r\nConnection: \r\nContent-Length: 0").expect("ok");
        assert_eq!(h.method, b"GET");
        assert_eq!(h.path, b"/d/a b.txt");
        assert_eq!(h.query, b"x=1");
        assert_eq!(h.target, b"/d/a%20b.txt?x=1");
        assert!(h.keep_alive);
        assert_eq!(h.body_len, 0);
    }

    #[test]
    fn decodes_once_only() {
        assert_eq!(parse_head(b"GET /%252e%252e/x HTTP/1.1").expect("ok").path, b"/%2e%2e/x");
    }

    #[test]
    fn connection_close_and_http10() {
        assert!(!parse_head(b"GET / HTTP/1.1\r\nConnection: keep-alive, close").expect("ok").keep_alive);
        assert!(!parse_head(b"GET / HTTP/1.0").expect("ok").keep_alive);
    }

    #[test]
    fn refuses_what_it_cannot_frame_or_read() {
        let cases: [(&[u8], HeadError); 10] = [
            (b"", HeadError::RequestLine),
            (b"GET /", HeadError::RequestLine),
            (b"GET / HTTP/1.1 x", HeadError::RequestLine),
            (b"G\0T / HTTP/1.1", HeadError::RequestLine),
            (b"GET / HTTP/2.0", HeadError::Version),
            (b"GET http://h/x HTTP/1.1", HeadError::Target),
            (b"GET /%zz HTTP/1.1", HeadError::Target),
            (b"GET /x HTTP/1.1\r\nno colon", HeadError::Field),
            (b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked", HeadError::TransferEncoding),
            (b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2", HeadError::ContentLength),
        ];
        for (head, want) in cases {
            assert_eq!(parse_head(head).err(), Some(want), "{:?}", String::from_utf8_lossy(head));
        }
        assert_eq!(parse_head(b"POST / HTTP/1.1\r\nContent-Length: -1").err(), Some(HeadError::ContentLength));
        assert_eq!(parse_head(b"GET /%4 HTTP/1.1").err(), Some(HeadError::Target));
    }

    #[test]
    fn cgi_reply_becomes_http() {
        let mut out = Vec::new();
        to_http(b"Status: 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 99\r\n\r\nnope", true, &mut out);
        assert_eq!(out, b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope");
        out.clear();
        to_http(b"X-Accel-Redirect: /_x/a\r\nContent-Type: text/plain\r\n\r\n", false, &mut out);
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nX-Accel-Redirect: /_x/a\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn head_end_scans_across_reads() {
        let buf = b"GET / HTTP/1.1\r\n\r\n";
        assert_eq!(head_end(buf, 0), Some(14));
        assert_eq!(head_end(buf, 16), Some(14));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n", 0), None);
    }
}
