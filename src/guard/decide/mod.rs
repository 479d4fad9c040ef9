//! The decision: `Request` + `Policy` → send this file, or refuse with this status and reason.
//!
//! Order of checks (each later check runs only if the earlier ones passed):
//!
//! 1. `REQUEST_METHOD` missing → 400; not `GET`/`HEAD` → 405 with `Allow: GET, HEAD`
//!    (RFC 9110 §15.5.6). Checked first, so a 405 reveals nothing about the tree.
//! 2. Where a signed link is needed (`--require-signature`, or the server's `XSENDFILED_AUTH`), or
//!    where an SDL1 link carries a `sig` anyway ([`carries_signature`]), it is verified
//!    ([`crate::guard::token::sdl1`]): forged or malformed → 403, expired → 410; it must cover exactly
//!    the path the server asks to serve → else 403. A valid one's claims and key id apply.
//! 3. No path (`PATH_INFO`, `DOCUMENT_URI`, `SCRIPT_NAME` all empty) → 400. The path is
//!    `PATH_INFO` if non-empty, else `DOCUMENT_URI`, else `SCRIPT_NAME`; with a strip prefix and a
//!    server that split the path, `SCRIPT_NAME` + `PATH_INFO`.
//! 4. String checks of [`crate::guard::path::validate`] → 404.
//! 5. Confinement and file checks of [`crate::guard::store::Store::lookup`] → 404, or 403 when we may
//!    not read the file.
//! 6. The backend must be able to name the file ([`crate::guard::target::expressible`]) → else 404.
//!
//! In authorize mode (the FastCGI Authorizer role, or `XSENDFILED_MODE=authorize` from the
//! server, as for nginx `auth_request`) the path is the decoded `REQUEST_URI`, and the answer is
//! allow or deny rather than an offload ([`crate::reply::response`]). A literal `#` in that path is
//! refused: the server ends the path it serves there, so the two would name different files.
//!
//! A refusal is a value ([`Decision::Refuse`]) carrying its [`Reason`] for the log; only real
//! faults (EIO, EMFILE) are `Err`. The only side effects are the store's syscalls. Each step is
//! told to an optional [`Trace`] ([`decide_traced`]), which `xsendfiled check` prints.
//!
//! Files: `outcome.rs` (the values), `link.rs` (step 2), `file.rs` (steps 4–6).

mod file;
mod link;
mod outcome;

use crate::guard::store::Wait;
use crate::guard::token::{sdl1, Scheme};
use crate::guard::trace::{PrefixFrom, Silent, Source, Step, Trace};
use crate::guard::{Backend, Policy};
use crate::protocol::request::Request;
use file::check_file;
pub(crate) use file::content_type_of;
pub use outcome::{Decision, Reason, Send, Status, Storage};
use std::borrow::Cow;
use std::io;

/// Decides what to answer to `req` under `policy`.
///
/// # Errors
/// Only for faults while resolving (see [`crate::guard::store::Store::lookup`]).
pub fn decide<'a>(req: &Request<'a>, policy: &Policy) -> io::Result<Decision<'a>> {
    decide_waiting(req, policy, Wait::Allowed)
}

/// [`decide`], the store asked with `wait`: under [`Wait::Never`] a lookup that would wait for the
/// file system makes this `Err` of kind `WouldBlock`, naming the root
/// ([`crate::guard::store::WouldWait`]); the shell then decides again with [`Wait::Allowed`] on
/// its storage pool. Nothing else differs: every refusal before the lookup is the same.
///
/// # Errors
/// Faults while resolving, and `WouldBlock` as said.
pub(crate) fn decide_waiting<'a>(req: &Request<'a>, policy: &Policy, wait: Wait) -> io::Result<Decision<'a>> {
    // The clock matters only to signed links.
    let now = if needs_signature(req, policy) || carries_signature(req, policy) {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    } else {
        0
    };
    decide_traced(req, policy, now, wait, &mut Silent)
}

/// Whether this request needs a signed link: the server's `XSENDFILED_AUTH` decides when set
/// (`none` → no, `signed` or anything unknown → yes, failing closed), else `--require-signature`.
pub(crate) fn needs_signature(req: &Request<'_>, policy: &Policy) -> bool {
    match req.auth {
        Some(b"none") => false,
        Some(_) => true,
        None => policy.signing.as_ref().is_some_and(|s| s.require),
    }
}

/// Whether the link carries a signature that must be verified although this location does not
/// require one: keys are configured, the scheme is SDL1 and `REQUEST_URI` has a `sig` parameter.
/// A bad one is then refused like anywhere else, and a good one's claims (download name,
/// disposition) and key id apply; ignoring it would drop signed claims and serve forged links.
/// (The legacy schemes carry their token in the path, where a location that needs none has no
/// way to tell it from a file name.)
pub(crate) fn carries_signature(req: &Request<'_>, policy: &Policy) -> bool {
    policy.signing.as_ref().is_some_and(|s| matches!(s.scheme, Scheme::Sdl1)) && sdl1::has_signature(req.request_uri)
}

/// [`decide`] at time `now` (Unix seconds).
///
/// # Errors
/// Only for faults while resolving.
pub fn decide_at<'a>(req: &Request<'a>, policy: &Policy, now: u64) -> io::Result<Decision<'a>> {
    decide_traced(req, policy, now, Wait::Allowed, &mut Silent)
}

/// [`decide_at`], telling each step to `trace` as it is taken.
///
/// # Errors
/// Only for faults while resolving.
pub(crate) fn decide_traced<'a, T: Trace>(
    req: &Request<'a>,
    policy: &Policy,
    now: u64,
    wait: Wait,
    trace: &mut T,
) -> io::Result<Decision<'a>> {
    match req.method {
        None => return Ok(Decision::Refuse(Status::BadRequest, Reason::MissingMethod)),
        Some(b"GET") | Some(b"HEAD") => {}
        Some(_) => return Ok(Decision::Refuse(Status::MethodNotAllowed, Reason::MethodNotAllowed)),
    }
    let by_backend = !req.authorize && policy.backend == Backend::Authorizer;
    // An authorizer sees the original request only as REQUEST_URI: a FastCGI Authorizer gets no
    // PATH_INFO or SCRIPT_NAME (FastCGI 1.0 §6.3), and nginx's auth_request subrequest has a URI of
    // its own. Decoded once, canonical or refused.
    let decoded_uri = if req.authorize || by_backend {
        match req.request_uri.map(authorizer_path) {
            Some(Ok(p)) => Some(p),
            Some(Err(why)) => return Ok(Decision::Refuse(Status::Forbidden, Reason::Token(why))),
            None => return Ok(Decision::Refuse(Status::Forbidden, Reason::Token(sdl1::Failure::Path("request URI")))),
        }
    } else {
        None
    };
    let served: Option<Cow<'_, [u8]>> = match &decoded_uri {
        Some(p) => Some(Cow::Borrowed(p.as_slice())),
        None => req.full_path(),
    };
    let link::Link { kid, claims, file_path, link } = match link::signature(req, policy, served.as_deref(), now, trace)
    {
        Ok(l) => l,
        Err(refusal) => return Ok(Decision::Refuse(refusal.0, refusal.1)),
    };
    // Which path names the file: one a legacy link carries, the decoded REQUEST_URI of an
    // authorizer, or the path the server passed.
    // A server that split the path (SCRIPT_NAME=/dl, PATH_INFO=/x) gave the mount point
    // separately: a strip prefix then applies to the whole path, SCRIPT_NAME + PATH_INFO.
    let strip = strip_prefix(req, policy);
    let split_by_server = strip.is_some()
        && req.path_info.is_some_and(|p| !p.is_empty())
        && req.script_name.is_some_and(|s| !s.is_empty());
    let owned = match (file_path, decoded_uri) {
        (Some(p), _) => Some((p, None, Source::LegacyLink)),
        (None, Some(p)) => Some((p, strip, Source::RequestUri { by_backend })),
        (None, None) if split_by_server => req.full_path().map(|p| (p.into_owned(), strip, Source::Split)),
        (None, None) => None,
    };
    if let Some((p, strip, source)) = owned {
        trace.step(Step::Path { source, path: &p });
        return Ok(match check_file(&p, strip, req, policy, wait, trace)? {
            Ok((file, target)) => {
                let file = crate::guard::store::Found { rel: Cow::Owned(file.rel.into_owned()), ..file };
                let content_type = content_type_of(&file.rel);
                Decision::Send(Send { file, content_type, kid, claims, target, link })
            }
            Err((status, reason)) => Decision::Refuse(status, reason),
        });
    }
    let Some((source, raw)) = path_source(req) else {
        return Ok(Decision::Refuse(Status::BadRequest, Reason::MissingPath));
    };
    trace.step(Step::Path { source, path: raw });
    Ok(match check_file(raw, strip, req, policy, wait, trace)? {
        Ok((file, target)) => {
            let content_type = content_type_of(&file.rel);
            Decision::Send(Send { file, content_type, kid, claims, target, link })
        }
        Err((status, reason)) => Decision::Refuse(status, reason),
    })
}

/// The path to resolve and the variable it came from: `PATH_INFO` if non-empty, else
/// `DOCUMENT_URI`, else `SCRIPT_NAME` (the order of [`Request::path`]).
fn path_source<'x>(req: &Request<'x>) -> Option<(Source, &'x [u8])> {
    [(Source::PathInfo, req.path_info), (Source::DocumentUri, req.document_uri), (Source::ScriptName, req.script_name)]
        .into_iter()
        .find_map(|(source, p)| p.filter(|p| !p.is_empty()).map(|p| (source, p)))
}

/// The path an authorizer decides on: the path part of the raw `REQUEST_URI`, decoded once and
/// canonical. The web server that asked will serve the path *it* parsed from the same request line,
/// so any byte it reads differently from us is refused, not interpreted: a literal `#` (nginx and
/// lighttpd end the path there, RFC 3986 §3.5, while a link minted for `X%23Y` would verify).
fn authorizer_path(request_uri: &[u8]) -> Result<Vec<u8>, sdl1::Failure> {
    let path_part = request_uri.split(|&b| b == b'?').next().unwrap_or_default();
    if path_part.contains(&b'#') {
        return Err(sdl1::Failure::Path("literal '#' in the request URI"));
    }
    sdl1::canonical_path(path_part)
}

/// The public prefix to remove and who set it: the server's `XSENDFILED_STRIP_PREFIX` for this
/// location, else `--strip-prefix`. A malformed parameter (not starting with `/`) is ignored with
/// a warning.
fn strip_prefix<'x>(req: &Request<'x>, policy: &'x Policy) -> Option<(&'x [u8], PrefixFrom)> {
    match req.trusted.strip_prefix {
        Some(p) if p.first() == Some(&b'/') => {
            let trimmed = p.iter().rposition(|&b| b != b'/').map_or(&p[..0], |end| &p[..=end]);
            (!trimmed.is_empty()).then_some((trimmed, PrefixFrom::Server))
        }
        Some(p) => {
            log::warn!("ignoring XSENDFILED_STRIP_PREFIX {:?}: it must start with /", String::from_utf8_lossy(p));
            policy.strip_prefix.as_deref().map(|p| (p, PrefixFrom::Option))
        }
        None => policy.strip_prefix.as_deref().map(|p| (p, PrefixFrom::Option)),
    }
}

#[cfg(test)]
mod authorizer_path_tests {
    use super::authorizer_path;

    #[test]
    fn a_literal_hash_is_refused_an_encoded_one_is_a_name() {
        assert_eq!(authorizer_path(b"/f/report.pdf%231?sig=x").as_deref(), Ok(&b"/f/report.pdf#1"[..]));
        for bad in [&b"/f/report.pdf#1?sig=x"[..], b"/f/report.pdf#", b"/f/#/x", b"/f/a%2Fb", b"/f/../x"] {
            assert!(authorizer_path(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}

#[cfg(test)]
mod wait_tests {
    use super::*;
    use crate::guard::store::{Root, WouldWait};

    #[test]
    fn a_lookup_that_would_wait_names_its_root_and_refusals_before_it_do_not_wait() {
        let t = tempfile::tempdir().expect("tempdir");
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d).expect("mkdir");
            std::os::unix::fs::symlink("elsewhere", d.join("link.txt")).expect("symlink");
        }
        let mut policy = Policy::build(&a, Backend::Apache, None, None, false).expect("policy");
        policy.other_roots.push(Root::open(&b).expect("root b"));
        let b_path = policy.root_at(1).expect("root b").path().as_os_str().as_encoded_bytes().to_vec();
        let ask = |root: Option<&[u8]>, method: &'static [u8]| {
            let mut pairs: Vec<(&[u8], &[u8])> = vec![(b"REQUEST_METHOD", method), (b"DOCUMENT_URI", b"/link.txt")];
            if let Some(r) = root {
                pairs.push((b"XSENDFILED_ROOT", r));
            }
            let req = Request::from_pairs(pairs);
            decide_waiting(&req, &policy, Wait::Never).map(|_| ()).map_err(|e| WouldWait::of(&e))
        };
        // A symlink needs realpath: the decision would wait, for the root the request names.
        assert_eq!(ask(None, b"GET"), Err(Some(0)));
        assert_eq!(ask(Some(&b_path), b"GET"), Err(Some(1)));
        // A refusal that needs no lookup is answered at once.
        assert_eq!(ask(None, b"POST"), Ok(()));
    }
}
