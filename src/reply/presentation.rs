//! How an allowed download is presented: `Content-Disposition`, caching, rate and buffering.
//!
//! Values come, most specific first, from: the signed link's claims ([`crate::guard::token::Claims`]);
//! the trusted query string of a delegated request (`XSENDFILED_TRUST_QUERY=1`, set by the server
//! on an `internal` location no client can reach); the trusted per-request parameters
//! `XSENDFILED_*` set by the server; the command-line defaults. A client header (`HTTP_*`) or an
//! ordinary query string never takes part: a client-chosen download name is a reflected-file-
//! download hole, and client-chosen server controls were Rack::Sendfile's CVE-2025-61780.
//!
//! `Content-Disposition` (RFC 6266, with the RFC 8187 `filename*` of [`crate::reply::disposition`]):
//! `--disposition auto` (the default) is `attachment` for what a browser would run or render as a
//! page of our origin — HTML, XML of every kind (XHTML, SVG and any `+xml` type), JavaScript — and
//! for unknown types, `inline`
//! otherwise; `none` sends no header unless a claim or parameter asks for one. The file name is the
//! file's own (canonical) name unless overridden.
//!
//! The headers emitted are the ones the configured server passes on: nginx copies only
//! `Content-Disposition`, `Cache-Control` and `Expires` from an X-Accel-Redirect reply and consumes
//! `X-Accel-Limit-Rate`, `X-Accel-Buffering` and `X-Accel-Expires`; lighttpd consumes
//! `X-LIGHTTPD-KBytes-per-second`; the other servers keep what they are given, so they get no
//! control header they would show the client.

use crate::guard::policy::{Defaults, DispositionMode};
use crate::guard::token::Disposition;
use crate::guard::Backend;
use crate::protocol::request::Request;
use crate::reply::disposition;
use crate::reply::sink::HeaderSink;
use std::borrow::Cow;
use std::time::{Duration, SystemTime};

/// Whether a header value is safe to emit: printable ASCII and spaces only.
pub(crate) fn valid_header_value(v: &str) -> bool {
    !v.is_empty() && v.len() <= 1024 && v.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// Media types a browser would execute or render as a page of our origin: every XML type (the
/// `+xml` structured syntax suffix of RFC 6839 §4.1 included — RSS, Atom, RDF, MathML, KML, GPX,
/// SMIL, XUL are parsed as XML documents and may carry XHTML or script), HTML, JavaScript, and the
/// unknown `application/octet-stream`.
fn active_content(content_type: &str) -> bool {
    const ACTIVE: [&str; 12] = [
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "application/javascript",
        "text/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/ecmascript",
        "application/octet-stream",
        "text/mathml",
    ];
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let xml_suffix =
        essence.len().checked_sub(4).and_then(|i| essence.get(i..)).is_some_and(|s| s.eq_ignore_ascii_case("+xml"));
    xml_suffix || ACTIVE.iter().any(|a| a.eq_ignore_ascii_case(essence))
}

/// One setting from the trusted sources: the trusted query (when enabled) wins over the trusted
/// parameter.
fn trusted<'a>(req: &Request<'a>, param: Option<&'a [u8]>, query_key: &[u8]) -> Option<Cow<'a, [u8]>> {
    if let Some(query) = crate::guard::token::policy_query(req) {
        match crate::guard::percent::query_value(query, query_key) {
            Ok(Some(d)) => return Some(Cow::Owned(d)),
            Ok(None) => {}
            Err(_) => log::warn!("ignoring a malformed {} in the trusted query", String::from_utf8_lossy(query_key)),
        }
    }
    param.map(Cow::Borrowed)
}

fn text(v: Option<Cow<'_, [u8]>>, what: &str) -> Option<String> {
    let v = v?;
    match std::str::from_utf8(&v) {
        Ok(s) => Some(s.to_owned()),
        Err(_) => {
            log::warn!("ignoring {what}: not UTF-8");
            None
        }
    }
}

fn number(v: Option<Cow<'_, [u8]>>, what: &str) -> Option<u64> {
    let s = text(v, what)?;
    match s.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            log::warn!("ignoring {what} {s:?}: not a number");
            None
        }
    }
}

/// What the file being sent contributes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileFacts<'a> {
    /// Canonical path relative to the root.
    pub(crate) rel: &'a [u8],
    /// Its media type.
    pub(crate) content_type: &'a str,
    /// Claims of the signed link that allowed it.
    pub(crate) claims: &'a crate::guard::token::Claims,
    /// Whether a signed link allowed it.
    pub(crate) signed: bool,
}

/// Writes the presentation headers for an allowed download to `out` (values were checked to hold
/// no CR or LF). Nothing is allocated unless the request or the configuration asks for something
/// (a trusted parameter, a fixed Cache-Control, an expiry).
pub(crate) fn push_headers(
    f: &FileFacts<'_>,
    req: &Request<'_>,
    defaults: &Defaults,
    backend: Backend,
    out: &mut impl HeaderSink,
) {
    let t = &req.trusted;

    // Content-Disposition, unless the response already carries the application's own (see
    // `XSENDFILED_APP_DISPOSITION`): two would make browsers refuse the download.
    let app_decided = t.app_disposition.is_some_and(|v| !v.is_empty());
    if !app_decided {
        push_disposition(f, req, defaults, out);
    }

    // Cache-Control and Expires; a download allowed by a signed link is always private, so no
    // shared cache serves it once the link has expired.
    let cache = text(trusted(req, t.cache_control, b"cache_control"), "cache_control")
        .filter(|v| valid_header_value(v))
        .or_else(|| defaults.cache_control.clone());
    let cache = match cache {
        Some(c) if f.signed && !c.contains("private") && !c.contains("no-store") => Some("private".to_owned()),
        None if f.signed => Some("private".to_owned()),
        c => c,
    };
    if let Some(c) = cache {
        out.header("Cache-Control", c.as_bytes());
    }
    let expires = number(trusted(req, t.expires, b"expires"), "expires")
        .map(Duration::from_secs)
        .filter(|e| {
            let ok = *e <= crate::limits::MAX_DURATION;
            if !ok {
                log::warn!("ignoring expires {}: more than {} s", e.as_secs(), crate::limits::MAX_DURATION.as_secs());
            }
            ok
        })
        .or(defaults.expires);
    if let Some(e) = expires {
        let at = SystemTime::now().checked_add(e).unwrap_or(SystemTime::UNIX_EPOCH);
        out.header("Expires", crate::reply::validators::http_date(at).as_bytes());
    }

    push_controls(req, defaults, backend, out);
}

/// The server controls (rate, buffering, X-Accel-Expires), only where the server consumes them.
fn push_controls(req: &Request<'_>, defaults: &Defaults, backend: Backend, out: &mut impl HeaderSink) {
    let t = &req.trusted;
    let limit = number(trusted(req, t.limit_rate, b"limit_rate"), "limit_rate").or(defaults.limit_rate);
    let buffering = match text(trusted(req, t.buffering, b"buffering"), "buffering").as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        Some(other) => {
            log::warn!("ignoring buffering {other:?}: expected yes or no");
            defaults.buffering
        }
        None => defaults.buffering,
    };
    let accel_expires =
        number(trusted(req, t.accel_expires, b"accel_expires"), "accel_expires").or(defaults.accel_expires);
    match backend {
        Backend::Nginx => {
            if let Some(l) = limit {
                out.header_number("X-Accel-Limit-Rate", l);
            }
            if let Some(b) = buffering {
                out.header("X-Accel-Buffering", if b { b"yes" } else { b"no" });
            }
            if let Some(e) = accel_expires {
                out.header_number("X-Accel-Expires", e);
            }
        }
        Backend::Lighttpd => {
            if let Some(l) = limit {
                out.header_number("X-LIGHTTPD-KBytes-per-second", (l / 1024).max(1));
            }
        }
        Backend::Serve => {
            if let Some(b) = buffering {
                out.header("X-Accel-Buffering", if b { b"yes" } else { b"no" });
            }
        }
        _ => {}
    }
}

/// Writes the `Content-Disposition` field chosen by the claims, trusted sources and defaults.
fn push_disposition(f: &FileFacts<'_>, req: &Request<'_>, defaults: &Defaults, out: &mut impl HeaderSink) {
    let t = &req.trusted;
    let mode = match trusted(req, t.disposition, b"disposition") {
        Some(v) => DispositionMode::parse(&v).unwrap_or_else(|| {
            log::warn!(
                "ignoring disposition {:?}: expected auto, inline, attachment or none",
                String::from_utf8_lossy(&v)
            );
            defaults.disposition
        }),
        None => defaults.disposition,
    };
    let chosen_name = f.claims.filename.clone().or_else(|| {
        text(trusted(req, t.filename, b"filename"), "filename").filter(|n| {
            let ok = crate::guard::token::valid_filename(n);
            if !ok {
                log::warn!("ignoring filename {n:?}: empty, too long, or with a control character, / or \\");
            }
            ok
        })
    });
    let kind = match (f.claims.disposition, mode) {
        (Some(d), _) => Some(d),
        (None, DispositionMode::Inline) => Some(Disposition::Inline),
        (None, DispositionMode::Attachment) => Some(Disposition::Attachment),
        (None, DispositionMode::Auto) => {
            Some(if active_content(f.content_type) { Disposition::Attachment } else { Disposition::Inline })
        }
        (None, DispositionMode::None) if chosen_name.is_some() => Some(Disposition::Attachment),
        (None, DispositionMode::None) => None,
    };
    if let Some(kind) = kind {
        let own = f.rel.rsplit(|&b| b == b'/').next().and_then(|n| std::str::from_utf8(n).ok());
        let name = chosen_name.as_deref().or(own).filter(|n| crate::guard::token::valid_filename(n));
        out.header_with("Content-Disposition", |v| match name {
            Some(n) => disposition::push_value(kind, n, v),
            None => v.extend_from_slice(kind.as_str().as_bytes()),
        });
    }
}
