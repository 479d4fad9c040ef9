//! Decision → CGI response bytes (RFC 3875 §6), the same for FastCGI STDOUT and CGI stdout.
//!
//! For the `nginx` backend a [`Decision::Send`] becomes
//!
//! ```text
//! X-Accel-Redirect: <internal-prefix>/<canonical relative path, percent-encoded>
//! Content-Type: <type>
//! ```
//!
//! with no body. The URI is built from the *canonical* path (after symlinks), and every byte
//! outside RFC 3986 `unreserved` and `/` is percent-encoded with uppercase hex, because nginx
//! decodes the value once (nginx ≥ 1.5.9): a raw `%`, `?`, `#`, space or trailing space would name a
//! different file. No `Content-Length`, `ETag`, `Last-Modified` or `Accept-Ranges` (nginx drops or
//! duplicates them on this path), and never a `Content-Encoding`.
//!
//! A [`Decision::Refuse`] becomes `Status`, a short plain-text body and `Cache-Control: no-store`
//! (an error must not be cached by the browser or a proxy); 405 adds `Allow: GET, HEAD`
//! (RFC 9110 §15.5.6). HEAD gets the same headers and no body.
//!
//! Invariant: no header value written here can contain CR or LF — the dynamic parts are
//! percent-encoded or come from fixed tables.

use crate::config::{Backend, Policy};
use crate::decide::{Decision, Status};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `bytes` percent-encoded: everything but `A-Z a-z 0-9 - . _ ~ /` becomes `%XX`.
pub fn push_uri_path(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// Appends the CGI response for `decision` to `out`; `head` suppresses the body.
pub fn render(decision: &Decision<'_>, policy: &Policy, head: bool, out: &mut Vec<u8>) {
    match decision {
        Decision::Send(send) => match policy.backend {
            Backend::Nginx => {
                out.extend_from_slice(b"X-Accel-Redirect: ");
                out.extend_from_slice(policy.internal_prefix.as_bytes());
                out.push(b'/');
                push_uri_path(out, &send.file.rel);
                out.extend_from_slice(b"\r\nContent-Type: ");
                out.extend_from_slice(send.content_type.as_bytes());
                out.extend_from_slice(b"\r\n\r\n");
            }
        },
        Decision::Refuse(status, _) => render_error(*status, head, out),
    }
}

/// Appends an error response with `status`.
pub fn render_error(status: Status, head: bool, out: &mut Vec<u8>) {
    let body: &[u8] = match status {
        Status::BadRequest => b"bad request\n",
        Status::Forbidden => b"forbidden\n",
        Status::NotFound => b"not found\n",
        Status::MethodNotAllowed => b"method not allowed\n",
        Status::InternalServerError => b"internal server error\n",
    };
    out.extend_from_slice(b"Status: ");
    out.extend_from_slice(status.line().as_bytes());
    out.extend_from_slice(
        b"\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
    );
    if status == Status::MethodNotAllowed {
        out.extend_from_slice(b"Allow: GET, HEAD\r\n");
    }
    out.extend_from_slice(b"Content-Length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    if !head {
        out.extend_from_slice(body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_everything_nginx_would_misread() {
        let mut out = Vec::new();
        push_uri_path(&mut out, "a b/100%/q?x#y/ü/trail /%41+;=".as_bytes());
        assert_eq!(
            String::from_utf8(out).expect("ascii"),
            "a%20b/100%25/q%3Fx%23y/%C3%BC/trail%20/%2541%2B%3B%3D"
        );
    }

    #[test]
    fn error_has_no_store_and_allow() {
        let mut out = Vec::new();
        render_error(Status::MethodNotAllowed, true, &mut out);
        let s = String::from_utf8(out).expect("ascii");
        assert!(s.starts_with("Status: 405 Method Not Allowed\r\n"));
        assert!(s.contains("\r\nCache-Control: no-store\r\n"));
        assert!(s.contains("\r\nAllow: GET, HEAD\r\n"));
        assert!(s.ends_with("\r\n\r\n"), "HEAD has no body: {s:?}");
    }
}
