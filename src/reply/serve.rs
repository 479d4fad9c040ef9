//! The `serve` backend: xsendfiled answers with the file's bytes itself.
//!
//! For servers without an offload mechanism and for development. The HTTP semantics a static file
//! server owes its clients, from RFC 9110:
//!
//! - validators: a strong `ETag` and `Last-Modified` ([`crate::reply::validators`]), `Accept-Ranges: bytes`;
//! - preconditions in the order of §13.2.2: `If-Match` (strong comparison) → 412, else
//!   `If-Unmodified-Since` → 412; `If-None-Match` (weak comparison) → 304, else
//!   `If-Modified-Since` → 304;
//! - one byte range (§14.2): `bytes=a-b`, `bytes=a-`, `bytes=-n` → 206 with `Content-Range`; a
//!   range that starts past the end → 416 with `Content-Range: bytes */LEN`; several ranges or a
//!   malformed header → the whole file (a server may ignore `Range`); `If-Range` (§13.1.5) with a
//!   strong ETag or the exact `Last-Modified` date keeps the range, anything else sends it whole.
//!
//! These request headers come from the client, which is fine: they only choose which bytes of an
//! already authorised file to send, never whether to send it. This module is pure; the shells
//! stream the body from the handle that was checked ([`Body`]), so no path is opened twice, or
//! from an object by a presigned GET of exactly the planned bytes (the validators are then the
//! HEAD's, the same the decision was made on; the store's own headers never reach the reply).

use crate::guard::store::FileMeta;
use crate::protocol::request::Conditions;
use crate::reply::sink::{push_decimal, HeaderSink};
use crate::reply::validators;
use std::time::SystemTime;

/// What to answer a GET or HEAD of an allowed file, from its validators and the request's
/// preconditions and range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// 200 with the whole file.
    Full,
    /// 206 with bytes `start..=end`.
    Partial {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// 304.
    NotModified,
    /// 412.
    PreconditionFailed,
    /// 416.
    RangeNotSatisfiable,
}

/// The part of the file to stream after the header block.
#[derive(Debug)]
pub struct Body {
    /// Where the bytes come from.
    pub(crate) source: Source,
    /// First byte.
    pub(crate) offset: u64,
    /// Number of bytes.
    pub(crate) len: u64,
}

/// Where a [`Body`]'s bytes are read from.
#[derive(Debug)]
pub(crate) enum Source {
    /// The local file: the handle the checks were made on.
    File(std::fs::File),
    /// An object: the shell GETs it (`objstore::get`) with a `Range` for exactly the body's bytes.
    Object(ObjectGet),
}

/// What the shell needs to GET an object's bytes.
#[derive(Debug, Clone)]
pub(crate) struct ObjectGet {
    /// A GET presigned for the key (its query signs no header but `host`, so a `Range` may be added).
    pub(crate) url: String,
    /// The `ETag` of the HEAD the decision was made on: the GET sends it as `If-Match`, so a
    /// replaced object fails rather than mixing two versions.
    pub(crate) etag: Option<String>,
    /// Total size the HEAD reported.
    pub(crate) size: u64,
    /// Deadline of the answer and of each frame of the body (`--s3-timeout`).
    pub(crate) timeout: std::time::Duration,
}

/// Decides the answer for a GET or HEAD of a file with `meta` and entity tag `etag`.
pub(crate) fn plan(c: &Conditions<'_>, meta: &FileMeta, etag: &str) -> Plan {
    let modified = validators::modified(meta);
    if let Some(v) = c.if_match {
        if !tag_list_matches(v, etag, true) {
            return Plan::PreconditionFailed;
        }
    } else if let Some(date) = c.if_unmodified_since.and_then(parse_date) {
        if modified > date {
            return Plan::PreconditionFailed;
        }
    }
    if let Some(v) = c.if_none_match {
        if tag_list_matches(v, etag, false) {
            return Plan::NotModified;
        }
    } else if let Some(date) = c.if_modified_since.and_then(parse_date) {
        if modified <= date {
            return Plan::NotModified;
        }
    }
    let Some(range) = c.range else {
        return Plan::Full;
    };
    if let Some(if_range) = c.if_range {
        let keep = if if_range.starts_with(b"\"") || if_range.starts_with(b"W/") {
            trim(if_range) == etag.as_bytes()
        } else {
            parse_date(if_range) == Some(modified)
        };
        if !keep {
            return Plan::Full;
        }
    }
    match parse_range(range, meta.len) {
        RangeSpec::Ignore => Plan::Full,
        RangeSpec::Unsatisfiable => Plan::RangeNotSatisfiable,
        RangeSpec::Bytes(start, end) => Plan::Partial { start, end },
    }
}

/// Answers a GET or HEAD of `source` (a file's handle or an object) with metadata `meta` under the
/// request's `conditions`: writes the status and the
/// header fields of the plan to `out`, without ending the block, and returns the status, the body
/// to stream (none for HEAD, 304, 412, 416) and whether the policy's presentation headers belong
/// to this answer (on 2xx and 304). The caller adds those and calls [`HeaderSink::finish`].
pub(crate) fn respond(
    conditions: &Conditions<'_>,
    source: Source,
    meta: &FileMeta,
    content_type: &str,
    head: bool,
    out: &mut impl HeaderSink,
) -> (u16, Option<Body>, bool) {
    let etag = validators::etag(meta);
    let etag = etag.as_str();
    let plan = plan(conditions, meta, etag);
    let last_modified = validators::last_modified(meta);
    let range = |v: &mut Vec<u8>, first: Option<(u64, u64)>| {
        v.extend_from_slice(b"bytes ");
        match first {
            Some((start, end)) => {
                push_decimal(v, start);
                v.push(b'-');
                push_decimal(v, end);
            }
            None => v.push(b'*'),
        }
        v.push(b'/');
        push_decimal(v, meta.len);
    };
    let (status, body) = match plan {
        Plan::Full => {
            out.status(200, "OK");
            out.header_number("Content-Length", meta.len);
            (200, Some((0, meta.len)))
        }
        Plan::Partial { start, end } => {
            out.status(206, "Partial Content");
            out.header_with("Content-Range", |v| range(v, Some((start, end))));
            out.header_number("Content-Length", end - start + 1);
            (206, Some((start, end - start + 1)))
        }
        Plan::NotModified => {
            out.status(304, "Not Modified");
            (304, None)
        }
        Plan::PreconditionFailed => {
            out.status(412, "Precondition Failed");
            out.header("Content-Length", b"0");
            out.header("Cache-Control", b"no-store");
            (412, None)
        }
        Plan::RangeNotSatisfiable => {
            out.status(416, "Range Not Satisfiable");
            out.header_with("Content-Range", |v| range(v, None));
            out.header("Content-Length", b"0");
            out.header("Cache-Control", b"no-store");
            (416, None)
        }
    };
    if body.is_some() {
        out.header("Content-Type", content_type.as_bytes());
        out.header("Accept-Ranges", b"bytes");
    }
    out.header("ETag", etag.as_bytes());
    out.header("Last-Modified", last_modified.as_bytes());
    out.header("X-Content-Type-Options", b"nosniff");
    // Whatever the file holds, it never runs as a page of this origin.
    out.header("Content-Security-Policy", b"sandbox");
    let presented = body.is_some() || plan == Plan::NotModified;
    let body = body.filter(|_| !head).map(|(offset, len)| Body { source, offset, len });
    (status, body, presented)
}

fn trim(v: &[u8]) -> &[u8] {
    v.trim_ascii()
}

fn parse_date(v: &[u8]) -> Option<SystemTime> {
    httpdate::parse_http_date(std::str::from_utf8(v).ok()?.trim()).ok()
}

/// `*` or a comma-separated list of entity tags; `strong` refuses weak tags (§8.8.3.2).
fn tag_list_matches(list: &[u8], etag: &str, strong: bool) -> bool {
    if trim(list) == b"*" {
        return true;
    }
    list.split(|&b| b == b',').map(trim).any(|tag| {
        let (weak, opaque) = match tag.strip_prefix(b"W/") {
            Some(rest) => (true, rest),
            None => (false, tag),
        };
        !(strong && weak) && opaque == etag.as_bytes()
    })
}

#[derive(Debug, PartialEq, Eq)]
enum RangeSpec {
    Ignore,
    Unsatisfiable,
    Bytes(u64, u64),
}

/// One `bytes=` range against a file of `len` bytes (RFC 9110 §14.1.2).
fn parse_range(v: &[u8], len: u64) -> RangeSpec {
    let Some(spec) = std::str::from_utf8(v).ok().and_then(|s| s.trim().strip_prefix("bytes=")) else {
        return RangeSpec::Ignore;
    };
    if spec.contains(',') {
        return RangeSpec::Ignore;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeSpec::Ignore;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match (first, last) {
        ("", suffix) if digits(suffix) => {
            // More digits than u64 holds still means "the last N bytes" with N > len.
            let n = suffix.parse::<u64>().unwrap_or(u64::MAX);
            if n == 0 || len == 0 {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Bytes(len - n.min(len), len - 1)
            }
        }
        (start, end) if digits(start) && (end.is_empty() || digits(end)) => {
            let Ok(start) = start.parse::<u64>() else {
                return RangeSpec::Unsatisfiable;
            };
            if start >= len {
                return RangeSpec::Unsatisfiable;
            }
            let end = if end.is_empty() { len - 1 } else { end.parse::<u64>().unwrap_or(u64::MAX).min(len - 1) };
            if end < start {
                return RangeSpec::Ignore;
            }
            RangeSpec::Bytes(start, end)
        }
        _ => RangeSpec::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: FileMeta = FileMeta { len: 10, mtime: 784_111_777, mtime_nsec: 0, ino: 1 };
    const TAG: &str = "\"1-a-0\"";
    const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";
    const LATER: &[u8] = b"Sun, 06 Nov 1994 08:49:38 GMT";
    const EARLIER: &[u8] = b"Sun, 06 Nov 1994 08:49:36 GMT";

    fn p(c: Conditions<'_>) -> Plan {
        plan(&c, &META, TAG)
    }

    #[test]
    fn ranges() {
        for (v, want) in [
            (&b"bytes=0-0"[..], RangeSpec::Bytes(0, 0)),
            (b"bytes=2-", RangeSpec::Bytes(2, 9)),
            (b"bytes=-3", RangeSpec::Bytes(7, 9)),
            (b"bytes=-30", RangeSpec::Bytes(0, 9)),
            (b"bytes=5-99999999999999999999999", RangeSpec::Bytes(5, 9)),
            (b"bytes=10-", RangeSpec::Unsatisfiable),
            (b"bytes=99999999999999999999999-", RangeSpec::Unsatisfiable),
            (b"bytes=-0", RangeSpec::Unsatisfiable),
            (b"bytes=3-2", RangeSpec::Ignore),
            (b"bytes=0-1,3-4", RangeSpec::Ignore),
            (b"items=0-1", RangeSpec::Ignore),
            (b"bytes=a-b", RangeSpec::Ignore),
            (b"bytes=-", RangeSpec::Ignore),
            (b"bytes=-99999999999999999999999", RangeSpec::Bytes(0, 9)),
        ] {
            assert_eq!(parse_range(v, 10), want, "{}", String::from_utf8_lossy(v));
        }
        assert_eq!(parse_range(b"bytes=0-", 0), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range(b"bytes=-5", 0), RangeSpec::Unsatisfiable);
    }

    #[test]
    fn preconditions_in_rfc_order() {
        let c = Conditions::default();
        assert_eq!(p(c), Plan::Full);
        assert_eq!(p(Conditions { if_none_match: Some(TAG.as_bytes()), ..c }), Plan::NotModified);
        assert_eq!(p(Conditions { if_none_match: Some(b"W/\"1-a-0\""), ..c }), Plan::NotModified);
        assert_eq!(p(Conditions { if_none_match: Some(b"\"x\", \"1-a-0\""), ..c }), Plan::NotModified);
        assert_eq!(p(Conditions { if_none_match: Some(b"*"), ..c }), Plan::NotModified);
        assert_eq!(p(Conditions { if_none_match: Some(b"\"other\""), ..c }), Plan::Full);
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(
            p(Conditions { if_none_match: Some(b"\"other\""), if_modified_since: Some(LATER), ..c }),
            Plan::Full
        );
        assert_eq!(p(Conditions { if_modified_since: Some(DATE), ..c }), Plan::NotModified);
        assert_eq!(p(Conditions { if_modified_since: Some(EARLIER), ..c }), Plan::Full);
        assert_eq!(p(Conditions { if_modified_since: Some(b"garbage"), ..c }), Plan::Full);
        assert_eq!(p(Conditions { if_match: Some(b"W/\"1-a-0\""), ..c }), Plan::PreconditionFailed);
        assert_eq!(p(Conditions { if_match: Some(TAG.as_bytes()), ..c }), Plan::Full);
        assert_eq!(p(Conditions { if_unmodified_since: Some(EARLIER), ..c }), Plan::PreconditionFailed);
        assert_eq!(p(Conditions { if_unmodified_since: Some(DATE), ..c }), Plan::Full);
        let r = Some(&b"bytes=1-2"[..]);
        assert_eq!(p(Conditions { range: r, ..c }), Plan::Partial { start: 1, end: 2 });
        assert_eq!(p(Conditions { range: r, if_range: Some(TAG.as_bytes()), ..c }), Plan::Partial { start: 1, end: 2 });
        assert_eq!(p(Conditions { range: r, if_range: Some(b"W/\"1-a-0\""), ..c }), Plan::Full);
        assert_eq!(p(Conditions { range: r, if_range: Some(DATE), ..c }), Plan::Partial { start: 1, end: 2 });
        assert_eq!(p(Conditions { range: r, if_range: Some(EARLIER), ..c }), Plan::Full);
        assert_eq!(p(Conditions { range: Some(b"bytes=10-"), ..c }), Plan::RangeNotSatisfiable);
    }
}
