//! Decision → CGI response bytes (RFC 3875 §6), the same for FastCGI STDOUT and CGI stdout.
//!
//! A [`Decision::Send`] becomes the offload header block of the configured backend, with no body.
//! Names are always the *canonical* path (after symlinks). Where a server decodes the value, every
//! byte outside RFC 3986 `unreserved` and `/` is percent-encoded with uppercase hex ([`push_uri_path`]).
//! What each server needs (how each one reads these headers: docs/servers.md):
//!
//! | backend | header block |
//! |---|---|
//! | `nginx` with `@name` | `X-Accel-Redirect: @name`, `Content-Type` — the named location serves the request's own URI, so only a request that names the canonical path (no symlink on the way) is sent |
//! | `nginx` | `X-Accel-Redirect: <prefix>/<rel, encoded>`, `Content-Type` — nginx ≥ 1.5.9 decodes once, so a raw `%`, `?`, `#` or trailing space would name another file; no `Content-Length`/`ETag`/`Accept-Ranges` (dropped or duplicated on this path) |
//! | `apache` | `Status: 200` (without it Apache's early 304 leaks the header), `X-Sendfile: <absolute path, raw bytes>` (mod_xsendfile 0.12 decodes nothing), `Content-Type` (Apache infers none), our strong `ETag` and `Last-Modified` (mod_xsendfile's are wrong) |
//! | `lighttpd` | `X-Sendfile: <absolute path, encoded>` (lighttpd decodes once), `Content-Type`; no `Status` (lighttpd applies any status to the file) |
//! | `local-redirect` | `Location: <prefix>/<rel, encoded>` and nothing else (RFC 3875 §6.2.2; lighttpd's mod_cgi accepts no other header) |
//! | `caddy` | `X-Accel-Redirect: /<rel, raw>`, `Content-Type` — Caddy 2.6 decodes nothing, ≥ 2.7 decodes once; names where the two differ are refused by [`crate::guard::target::expressible`] |
//!
//! Never a `Content-Encoding`.
//!
//! A [`Decision::Refuse`] becomes `Status`, a short plain-text body and `Cache-Control: no-store`
//! (an error must not be cached by the browser or a proxy); 405 adds `Allow: GET, HEAD`
//! (RFC 9110 §15.5.6). HEAD gets the same headers and no body.
//!
//! Invariant: no header value written here can contain CR or LF — the dynamic parts are
//! percent-encoded or come from fixed tables.

use crate::guard::decide::{Decision, Status};
use crate::guard::target::push_uri_path;
use crate::guard::{Backend, Policy};
use crate::protocol::request::Request;
use crate::reply::presentation::{push_headers, FileFacts};
use crate::reply::serve::{self, Body};
use crate::reply::sink::{Discard, HeaderSink};
use crate::reply::validators;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Appends the absolute path of `rel` under `root`.
fn push_absolute(out: &mut Vec<u8>, root: &Path, rel: &[u8], encode: bool) {
    let root = root.as_os_str().as_bytes();
    let root = if root == b"/" { &b""[..] } else { root };
    if encode {
        push_uri_path(out, root);
        out.push(b'/');
        push_uri_path(out, rel);
    } else {
        out.extend_from_slice(root);
        out.push(b'/');
        out.extend_from_slice(rel);
    }
}

/// Writes `name: <prefix>/<rel, percent-encoded>`.
fn internal_uri(out: &mut impl HeaderSink, name: &str, prefix: &str, rel: &[u8]) {
    out.header_with(name, |v| {
        v.extend_from_slice(prefix.as_bytes());
        v.push(b'/');
        push_uri_path(v, rel);
    });
}

/// Writes the reply for `decision` to `out` and returns the HTTP status and, for the `serve`
/// backend, the file bytes to stream after it. A HEAD request gets no body.
pub fn render(
    decision: Decision<'_>,
    req: &Request<'_>,
    policy: &Policy,
    out: &mut impl HeaderSink,
) -> (u16, Option<Body>) {
    let head = req.is_head();
    if req.authorize || policy.backend == Backend::Authorizer {
        return render_authorizer(decision, head, out);
    }
    let send = match decision {
        Decision::Send(send) => send,
        Decision::Refuse(status, _) => {
            render_error(status, head, out);
            return (status.code(), None);
        }
    };
    let facts = FileFacts {
        rel: &send.file.rel,
        content_type: send.content_type,
        claims: &send.claims,
        signed: send.kid.is_some(),
    };
    let present = |out: &mut _| push_headers(&facts, req, &policy.presentation, policy.backend, out);
    if let (crate::guard::store::Content::Object(object), false) =
        (&send.file.content, policy.backend == Backend::Serve)
    {
        // An object in a bucket: the web server fetches it (reply/object.rs).
        if crate::reply::object::offload(&send, object, req, policy, out).is_err() {
            render_error(Status::InternalServerError, head, out);
            return (500, None);
        }
        out.finish(b"");
        return (200, None);
    }
    if policy.backend == Backend::Serve {
        let source = match send.file.content {
            crate::guard::store::Content::Local(file) => Some(serve::Source::File(file)),
            crate::guard::store::Content::Object(ref object) => {
                crate::reply::object::get(send.file.root, object, send.file.meta.len, policy).map(serve::Source::Object)
            }
        };
        let Some(source) = source else {
            render_error(Status::InternalServerError, head, out);
            return (500, None);
        };
        let (status, body, presented) =
            serve::respond(&req.conditions, source, &send.file.meta, send.content_type, head, out);
        if presented {
            present(out);
        } else {
            // Not sent with this status, but read all the same (its warnings are logged).
            push_headers(&facts, req, &policy.presentation, policy.backend, &mut Discard);
        }
        out.finish(b"");
        return (status, body);
    }
    offload(&send, policy, out);
    present(out);
    out.finish(b"");
    (200, None)
}

/// The offload header block of `policy.backend` for `send` (see the table above).
fn offload(send: &crate::guard::decide::Send<'_>, policy: &Policy, out: &mut impl HeaderSink) {
    let rel = &*send.file.rel;
    let ct = send.content_type.as_bytes();
    let holder = policy.root_at(send.file.root).map_or(policy.root.path(), |r| r.path());
    match policy.backend {
        Backend::Nginx if policy.internal_prefix.starts_with('@') => {
            // A named location serves the request's own URI; decide() made sure it is canonical.
            out.header("X-Accel-Redirect", policy.internal_prefix.as_bytes());
            out.header("Content-Type", ct);
        }
        Backend::Nginx => {
            let (prefix, rest) = send.target.as_ref().map_or((policy.internal_prefix.as_str(), rel), |(p, r)| (p, r));
            internal_uri(out, "X-Accel-Redirect", prefix, rest);
            out.header("Content-Type", ct);
        }
        Backend::Apache => {
            out.status(200, "OK");
            out.header_with("X-Sendfile", |v| push_absolute(v, holder, rel, false));
            out.header("Content-Type", ct);
            out.header("ETag", validators::etag(&send.file.meta).as_bytes());
            out.header("Last-Modified", validators::last_modified(&send.file.meta).as_bytes());
        }
        Backend::Lighttpd => {
            out.header_with("X-Sendfile", |v| push_absolute(v, holder, rel, true));
            out.header("Content-Type", ct);
        }
        Backend::LocalRedirect => {
            let (prefix, rest) = send.target.as_ref().map_or((policy.internal_prefix.as_str(), rel), |(p, r)| (p, r));
            internal_uri(out, "Location", prefix, rest);
        }
        Backend::Caddy => {
            let (prefix, rest) = send.target.as_ref().map_or(("", rel), |(p, r)| (p, r));
            out.header_with("X-Accel-Redirect", |v| {
                v.extend_from_slice(prefix.as_bytes());
                v.push(b'/');
                v.extend_from_slice(rest);
            });
            out.header("Content-Type", ct);
        }
        Backend::Serve | Backend::Authorizer => {}
    }
}

/// The answer of an authorizer (FastCGI 1.0 §6.3): allow is `Status: 200` with the checked file
/// as `Variable-XSENDFILED_FILE` (relative to the root) and the signing key as
/// `Variable-XSENDFILED_KID`; the server passes them on as environment variables (and mod_fcgid
/// also shows them to the client, so nothing secret goes there). Every refusal is a 403: nginx's
/// `auth_request` understands only 2xx, 401 and 403, and mod_fcgid turns any denial into 401.
fn render_authorizer(decision: Decision<'_>, head: bool, out: &mut impl HeaderSink) -> (u16, Option<Body>) {
    match decision {
        Decision::Send(send) if !send.file.rel.iter().any(|&b| b < 0x20 || b == 0x7f) => {
            out.status(200, "OK");
            out.header("Variable-XSENDFILED_FILE", &send.file.rel);
            if let Some(kid) = &send.kid {
                out.header("Variable-XSENDFILED_KID", kid.as_bytes());
            }
            out.header("Content-Length", b"0");
            out.finish(b"");
            (200, None)
        }
        // A refusal, or a name a header cannot carry.
        _ => {
            render_error(Status::Forbidden, head, out);
            (403, None)
        }
    }
}

/// Writes an error response with `status`: a short plain-text body (none for HEAD), never cached.
pub(crate) fn render_error(status: Status, head: bool, out: &mut impl HeaderSink) {
    let body: &[u8] = match status {
        Status::BadRequest => b"bad request\n",
        Status::Unauthorized => b"unauthorized\n",
        Status::Forbidden => b"forbidden\n",
        Status::NotFound => b"not found\n",
        Status::MethodNotAllowed => b"method not allowed\n",
        Status::Gone => b"this link has expired or its uses are spent\n",
        Status::InternalServerError => b"internal server error\n",
        Status::BadGateway => b"the file store failed\n",
        Status::ServiceUnavailable => b"service unavailable\n",
        Status::GatewayTimeout => b"the file store did not answer in time\n",
    };
    let reason = status.line().split_once(' ').map_or("", |(_, r)| r);
    out.status(status.code(), reason);
    out.header("Content-Type", b"text/plain; charset=utf-8");
    out.header("Cache-Control", b"no-store");
    out.header("X-Content-Type-Options", b"nosniff");
    if status == Status::MethodNotAllowed {
        out.header("Allow", b"GET, HEAD");
    }
    out.header_number("Content-Length", body.len() as u64);
    out.finish(if head { b"" } else { body });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_everything_nginx_would_misread() {
        let mut out = Vec::new();
        push_uri_path(&mut out, "a b/100%/q?x#y/ü/trail /%41+;=".as_bytes());
        assert_eq!(String::from_utf8(out).expect("ascii"), "a%20b/100%25/q%3Fx%23y/%C3%BC/trail%20/%2541%2B%3B%3D");
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
