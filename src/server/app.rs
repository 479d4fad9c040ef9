//! The app socket (`--app-socket PATH`): the "ask" way an application uses xsendfiled. Instead of
//! answering the web server with `X-Accel-Redirect` to an `internal` location (delegating), the
//! application asks over this Unix socket, gets the decision and the exact reply the web server
//! would get, may inspect it (404? size? type?) and returns it as its own response.
//!
//! It is the HTTP/1.1 listener (`super::http`, hyper) on a Unix socket, with three differences:
//! - the query string is the trusted query, as on an `internal` location with
//!   `XSENDFILED_TRUST_QUERY=1` (`filename`, `disposition`, `root`, `cache_control`, …); nothing
//!   else is trusted (no `HTTP_*` field, no other `XSENDFILED_*` parameter), and every path check
//!   of the web server's socket applies unchanged: the decision is the same code;
//! - a request body is refused (400): an ask never has one;
//! - the answer never has a body (`Content-Length: 0`, for a refusal too), and it carries
//!   informational fields, all named `Xsendfiled-*`, that the application must not forward:
//!   `Xsendfiled-Decision: send|refuse`, on a refusal `Xsendfiled-Reason` (the access log's
//!   reason), on a send `Xsendfiled-File` (the canonical path relative to its root,
//!   percent-encoded like the offload header), `Xsendfiled-Size` (bytes) and `Xsendfiled-Mtime`
//!   (Unix seconds).
//!
//! Invariant: who can connect to the socket is trusted like the web server (its `--socket-mode`,
//! `--socket-owner`, `--socket-group` decide who that is); `--backend serve` is refused with it at
//! start-up, since an ask answer has no body to carry the file.

use crate::handler::Note;
use crate::reply::sink::HeaderSink;

/// The trusted parameter every ask carries: the query is policy, as on an `internal` location.
pub(crate) const TRUSTED_QUERY: (&[u8], &[u8]) = (b"XSENDFILED_TRUST_QUERY", b"1");

/// Writes the `Xsendfiled-*` fields of `note` to `out`.
pub(crate) fn push_fields(note: &Note, out: &mut impl HeaderSink) {
    if !note.sent {
        refused(note.reason.as_deref().unwrap_or("refused"), out);
        return;
    }
    out.header("Xsendfiled-Decision", b"send");
    if let Some((rel, size, mtime)) = &note.file {
        out.header_with("Xsendfiled-File", |v| crate::guard::target::push_uri_path(v, rel));
        out.header_number("Xsendfiled-Size", *size);
        out.header_with("Xsendfiled-Mtime", |v| v.extend_from_slice(mtime.to_string().as_bytes()));
    }
}

/// Writes the fields of a refusal for `reason` (its control characters replaced: a field value
/// holds none).
pub(crate) fn refused(reason: &str, out: &mut impl HeaderSink) {
    out.header("Xsendfiled-Decision", b"refuse");
    out.header_with("Xsendfiled-Reason", |v| {
        v.extend(reason.bytes().map(|b| if b < 0x20 || b == 0x7f { b'?' } else { b }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_a_send_and_a_refusal() {
        let note = Note { sent: true, reason: None, file: Some((b"a b/\xc3\xbc.txt".to_vec(), 12, 1_700_000_000)) };
        let mut out = Vec::new();
        push_fields(&note, &mut out);
        assert_eq!(
            out,
            b"Xsendfiled-Decision: send\r\nXsendfiled-File: a%20b/%C3%BC.txt\r\nXsendfiled-Size: 12\r\n\
Xsendfiled-Mtime: 1700000000\r\n"
        );
        let note = Note { sent: false, reason: Some("hidden\nfile".into()), file: None };
        let mut out = Vec::new();
        push_fields(&note, &mut out);
        assert_eq!(out, b"Xsendfiled-Decision: refuse\r\nXsendfiled-Reason: hidden?file\r\n");
    }
}
