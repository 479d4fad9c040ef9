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
//! 5. Confinement and file checks of [`crate::guard::resolve::Root::resolve`] → 404, or 403 when we may
//!    not read the file.
//! 6. The backend must be able to name the file ([`crate::guard::target::expressible`]) → else 404.
//!
//! In authorize mode (the FastCGI Authorizer role, or `XSENDFILED_MODE=authorize` from the
//! server, as for nginx `auth_request`) the path is the decoded `REQUEST_URI`, and the answer is
//! allow or deny rather than an offload ([`crate::reply::response`]). A literal `#` in that path is
//! refused: the server ends the path it serves there, so the two would name different files.
//!
//! A refusal is a value ([`Decision::Refuse`]) carrying its [`Reason`] for the log; only real
//! faults (EIO, EMFILE) are `Err`. The only side effects are the resolution syscalls.

use crate::guard::path::{self, PathRejection};
use crate::guard::resolve::{Refusal, Resolved};
use crate::guard::token::{compat, sdl1, Claims, Scheme};
use crate::guard::Policy;
use crate::protocol::request::Request;
use std::borrow::Cow;
use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The HTTP statuses xsendfiled answers with itself (RFC 9110 §15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 400: the server sent a request we cannot interpret.
    BadRequest,
    /// 401: a legacy link that is malformed (mod_auth_token's answer).
    Unauthorized,
    /// 403: the file exists but may not be read.
    Forbidden,
    /// 404: not found, or refused without saying why.
    NotFound,
    /// 405: only GET and HEAD.
    MethodNotAllowed,
    /// 410: a signed link that has expired.
    Gone,
    /// 500: a fault on our side.
    InternalServerError,
}

impl Status {
    /// The numeric code.
    pub(crate) fn code(self) -> u16 {
        match self {
            Status::BadRequest => 400,
            Status::Unauthorized => 401,
            Status::Forbidden => 403,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::Gone => 410,
            Status::InternalServerError => 500,
        }
    }

    /// The status for a code a verifier chose (401, 403, 404, 410; anything else is 403).
    pub(crate) fn from_code(code: u16) -> Status {
        match code {
            401 => Status::Unauthorized,
            404 => Status::NotFound,
            410 => Status::Gone,
            _ => Status::Forbidden,
        }
    }

    /// `Status:` header value, code and reason phrase.
    pub fn line(self) -> &'static str {
        match self {
            Status::BadRequest => "400 Bad Request",
            Status::Unauthorized => "401 Unauthorized",
            Status::Forbidden => "403 Forbidden",
            Status::NotFound => "404 Not Found",
            Status::MethodNotAllowed => "405 Method Not Allowed",
            Status::Gone => "410 Gone",
            Status::InternalServerError => "500 Internal Server Error",
        }
    }
}

/// Why a request was refused (logged; the client sees only the status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No `REQUEST_METHOD`.
    MissingMethod,
    /// A method other than GET or HEAD.
    MethodNotAllowed,
    /// No path variable at all.
    MissingPath,
    /// The path failed a string check.
    Path(PathRejection),
    /// The file failed a filesystem check.
    File(Refusal),
    /// The configured web server cannot be told this name without opening another file.
    Unexpressible,
    /// A signed link was needed and failed verification.
    Token(crate::guard::token::sdl1::Failure),
    /// A signed link was needed but no keys are configured.
    NoKeys,
    /// The signed path is not the path the server asked to serve.
    SignedPathMismatch,
    /// A legacy-scheme link failed verification.
    Legacy(&'static str),
    /// The server's `XSENDFILED_ROOT` does not name a configured root or a directory inside one.
    RootParameter(&'static str),
    /// The root directory was removed or replaced since it was opened.
    RootUnavailable,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::MissingMethod => f.write_str("no REQUEST_METHOD"),
            Reason::MethodNotAllowed => f.write_str("method not allowed"),
            Reason::MissingPath => f.write_str("no PATH_INFO, DOCUMENT_URI or SCRIPT_NAME"),
            Reason::Path(p) => p.fmt(f),
            Reason::File(r) => r.fmt(f),
            Reason::Unexpressible => f.write_str("name cannot be expressed to this web server"),
            Reason::Token(t) => write!(f, "signed link: {t}"),
            Reason::NoKeys => f.write_str("signed link required but no --keys configured"),
            Reason::SignedPathMismatch => f.write_str("signed link covers another path than the one served"),
            Reason::Legacy(why) => f.write_str(why),
            Reason::RootParameter(why) => write!(f, "XSENDFILED_ROOT {why}"),
            Reason::RootUnavailable => f.write_str("the root is gone or was replaced (SIGHUP reopens it)"),
        }
    }
}

/// A file to hand to the web server.
#[derive(Debug)]
pub struct Send<'a> {
    /// The resolved, open file.
    pub file: Resolved<'a>,
    /// Its media type, from the extension of its canonical name.
    pub(crate) content_type: &'static str,
    /// The key id of the signed link that allowed it, if one was needed.
    pub kid: Option<String>,
    /// Response claims from the signed link.
    pub(crate) claims: Claims,
    /// For URI-based backends (nginx, local-redirect, caddy): the internal URI prefix and the rest
    /// of the canonical path after it, from the redirect map or `--internal-prefix`.
    pub(crate) target: Option<Target>,
}

/// The outcome for one request.
#[derive(Debug)]
pub enum Decision<'a> {
    /// Serve this file.
    Send(Send<'a>),
    /// Refuse with this status.
    Refuse(Status, Reason),
}

/// Decides what to answer to `req` under `policy`.
///
/// # Errors
/// Only for faults while resolving (see [`crate::guard::resolve::Root::resolve`]).
pub fn decide<'a>(req: &Request<'a>, policy: &Policy) -> io::Result<Decision<'a>> {
    // The clock matters only to signed links.
    let now = if needs_signature(req, policy) || carries_signature(req, policy) {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    } else {
        0
    };
    decide_at(req, policy, now)
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
    match req.method {
        None => return Ok(Decision::Refuse(Status::BadRequest, Reason::MissingMethod)),
        Some(b"GET") | Some(b"HEAD") => {}
        Some(_) => return Ok(Decision::Refuse(Status::MethodNotAllowed, Reason::MethodNotAllowed)),
    }
    let authorize = req.authorize || policy.backend == crate::guard::Backend::Authorizer;
    // An authorizer sees the original request only as REQUEST_URI: a FastCGI Authorizer gets no
    // PATH_INFO or SCRIPT_NAME (FastCGI 1.0 §6.3), and nginx's auth_request subrequest has a URI of
    // its own. Decoded once, canonical or refused.
    let decoded_uri = if authorize {
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
    let mut link = Link::default();
    if needs_signature(req, policy) || carries_signature(req, policy) {
        let Some(signing) = &policy.signing else {
            log::error!("a signed link is required here but no --keys are configured");
            return Ok(Decision::Refuse(Status::Forbidden, Reason::NoKeys));
        };
        match verify_link(req, policy, signing, served.as_deref(), now) {
            Ok(l) => link = l,
            Err(refusal) => return Ok(Decision::Refuse(refusal.0, refusal.1)),
        }
    }
    let Link { kid, claims, file_path } = link;
    // Which path names the file: one a legacy link carries, the decoded REQUEST_URI of an
    // authorizer, or the path the server passed.
    // A server that split the path (SCRIPT_NAME=/dl, PATH_INFO=/x) gave the mount point
    // separately: a strip prefix then applies to the whole path, SCRIPT_NAME + PATH_INFO.
    let split_by_server = strip_prefix(req, policy).is_some()
        && req.path_info.is_some_and(|p| !p.is_empty())
        && req.script_name.is_some_and(|s| !s.is_empty());
    let owned = match (file_path, decoded_uri) {
        (Some(p), _) => Some((p, None)),
        (None, Some(p)) => Some((p, strip_prefix(req, policy))),
        (None, None) if split_by_server => req.full_path().map(|p| (p.into_owned(), strip_prefix(req, policy))),
        (None, None) => None,
    };
    if let Some((p, strip)) = owned {
        return Ok(match check_file(&p, strip, req, policy)? {
            Ok((file, target)) => {
                let file = Resolved { rel: Cow::Owned(file.rel.into_owned()), ..file };
                let content_type = content_type_of(&file.rel);
                Decision::Send(Send { file, content_type, kid, claims, target })
            }
            Err((status, reason)) => Decision::Refuse(status, reason),
        });
    }
    let Some(raw) = req.path() else {
        return Ok(Decision::Refuse(Status::BadRequest, Reason::MissingPath));
    };
    Ok(match check_file(raw, strip_prefix(req, policy), req, policy)? {
        Ok((file, target)) => {
            let content_type = content_type_of(&file.rel);
            Decision::Send(Send { file, content_type, kid, claims, target })
        }
        Err((status, reason)) => Decision::Refuse(status, reason),
    })
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

/// The public prefix to remove: the server's `XSENDFILED_STRIP_PREFIX` for this location, else
/// `--strip-prefix`. A malformed parameter (not starting with `/`) is ignored with a warning.
fn strip_prefix<'x>(req: &Request<'x>, policy: &'x Policy) -> Option<&'x [u8]> {
    match req.trusted.strip_prefix {
        Some(p) if p.first() == Some(&b'/') => {
            let trimmed = p.iter().rposition(|&b| b != b'/').map_or(&p[..0], |end| &p[..=end]);
            (!trimmed.is_empty()).then_some(trimmed)
        }
        Some(p) => {
            log::warn!("ignoring XSENDFILED_STRIP_PREFIX {:?}: it must start with /", String::from_utf8_lossy(p));
            policy.strip_prefix.as_deref()
        }
        None => policy.strip_prefix.as_deref(),
    }
}

/// What a verified link contributes.
#[derive(Default)]
struct Link {
    kid: Option<String>,
    claims: Claims,
    /// The file path a legacy link carries in its own layout (relative to the mount).
    file_path: Option<Vec<u8>>,
}

/// Step 2: verifies the link with the configured scheme. `served` is the whole decoded request path.
fn verify_link(
    req: &Request<'_>,
    policy: &Policy,
    signing: &crate::guard::token::Signing,
    served: Option<&[u8]>,
    now: u64,
) -> Result<Link, (Status, Reason)> {
    let keys = signing.keys();
    match &signing.scheme {
        Scheme::Sdl1 => {
            let input = sdl1::Input {
                request_uri: req.request_uri,
                remote_addr: req.remote_addr,
                now,
                max_ttl: signing.max_ttl,
            };
            match sdl1::verify(&keys, &input) {
                Err(sdl1::Failure::Expired) => Err((Status::Gone, Reason::Token(sdl1::Failure::Expired))),
                Err(f) => Err((Status::Forbidden, Reason::Token(f))),
                Ok(v) if served != Some(v.path.as_slice()) => Err((Status::Forbidden, Reason::SignedPathMismatch)),
                Ok(v) => Ok(Link { kid: Some(v.kid), claims: v.claims, file_path: None }),
            }
        }
        Scheme::Legacy(scheme) => {
            let served = served.unwrap_or_default();
            let mounted = match strip_prefix(req, policy) {
                None => Some(served),
                Some(prefix) => served.strip_prefix(prefix).filter(|r| r.first() == Some(&b'/')),
            };
            let Some(mounted) = mounted else {
                return Err((Status::NotFound, Reason::Path(crate::guard::path::PathRejection::OutsidePrefix)));
            };
            let input = compat::Input {
                path: mounted,
                uri: served,
                request_uri: req.request_uri.unwrap_or_default(),
                query: req.query_string.unwrap_or_default(),
                remote_addr: req.remote_addr.unwrap_or_default(),
                now,
                max_ttl: signing.max_ttl,
            };
            match scheme.verify(&keys, &input) {
                Ok(a) => Ok(Link { kid: Some(a.kid), claims: Claims::default(), file_path: Some(a.path) }),
                Err(r) => Err((Status::from_code(r.status), Reason::Legacy(r.why))),
            }
        }
    }
}

/// Steps 4–6 for the decoded request path `raw`: string checks, confinement, expressibility.
/// An internal URI prefix and the rest of the canonical path after it.
pub(crate) type Target = (String, Vec<u8>);

/// A file that passed steps 4–6 with its target, or the refusal.
type Checked<'p> = Result<(Resolved<'p>, Option<Target>), (Status, Reason)>;

/// The server's `XSENDFILED_ROOT` (or `root=` in a trusted query): one of the configured roots, or
/// a directory inside one. It narrows, never widens: anything else is refused.
enum Base {
    /// Configured root number `i` (0 is the first `--root`).
    Configured(usize),
    /// A directory inside configured root `holder`, `prefix` below it.
    Narrowed { dir: crate::guard::resolve::Root, holder: usize, prefix: Vec<u8> },
}

fn base(req: &Request<'_>, policy: &Policy) -> Result<Base, (Status, Reason)> {
    let from_query = match req.trust_query() {
        true => crate::guard::percent::query_value(req.query_string.unwrap_or_default(), b"root"),
        false => Ok(None),
    };
    let asked = match from_query {
        Ok(Some(v)) => Some(v),
        Ok(None) => req.trusted.root.map(|r| r.to_vec()),
        // A root that cannot be read must not silently widen to the default.
        Err(_) => return Err((Status::NotFound, Reason::RootParameter("is malformed in the trusted query"))),
    };
    let Some(asked) = asked else { return Ok(Base::Configured(0)) };
    let refused = |why: &'static str| {
        log::error!("XSENDFILED_ROOT {:?}: {why}", String::from_utf8_lossy(&asked));
        (Status::NotFound, Reason::RootParameter(why))
    };
    let Ok(canonical) = std::fs::canonicalize(std::ffi::OsStr::from_bytes(&asked)) else {
        return Err(refused("does not exist"));
    };
    let holder = policy
        .roots()
        .enumerate()
        .filter(|(_, r)| canonical.starts_with(r.path()))
        .max_by_key(|(_, r)| r.path().components().count());
    let Some((i, root)) = holder else { return Err(refused("is not inside a configured --root")) };
    let inside = canonical.strip_prefix(root.path()).map(|p| p.as_os_str().as_bytes().to_vec()).unwrap_or_default();
    if inside.is_empty() {
        return Ok(Base::Configured(i));
    }
    // Opened beneath the holder's handle, never by the canonical name: the name may have been
    // swapped for a symlink to a directory outside since `canonicalize` (SECURITY.md).
    match crate::guard::resolve::Root::open_beneath(root, &inside) {
        Ok(dir) => Ok(Base::Narrowed { dir, holder: i, prefix: inside }),
        Err(_) => Err(refused("cannot be opened")),
    }
}

/// Steps 4–6 for the decoded request path `raw`: string checks, confinement under the selected
/// root, and whether the backend can name the file.
fn check_file<'p>(
    raw: &'p [u8],
    strip_prefix: Option<&[u8]>,
    req: &Request<'_>,
    policy: &Policy,
) -> io::Result<Checked<'p>> {
    let rel = match path::validate(raw, strip_prefix, policy.allow_hidden) {
        Ok(rel) => rel,
        Err(why) => return Ok(Err((Status::NotFound, Reason::Path(why)))),
    };
    let base = match base(req, policy) {
        Ok(b) => b,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let base_root = match &base {
        Base::Configured(i) => *i,
        Base::Narrowed { holder, .. } => *holder,
    };
    let Some(root) = policy.root_at(base_root) else {
        return Ok(Err((Status::NotFound, Reason::RootUnavailable)));
    };
    if !root.is_current() {
        log::error!(
            "root {} is gone or was replaced: refusing until it is back or SIGHUP reopens it",
            root.path().display()
        );
        return Ok(Err((Status::NotFound, Reason::RootUnavailable)));
    }
    let resolved = match &base {
        Base::Configured(i) => {
            // A symlink may lead into another configured root; the result names it globally.
            // (With one root, `others` is empty and allocates nothing.)
            let others: Vec<&crate::guard::resolve::Root> =
                policy.roots().enumerate().filter(|(j, _)| j != i).map(|(_, r)| r).collect();
            root.resolve_among(rel.as_str(), policy.allow_hidden, &others)?.map(|mut f| {
                f.root = match f.root {
                    0 => *i,
                    k => (0..policy.root_count()).filter(|j| j != i).nth(k - 1).unwrap_or(*i),
                };
                f
            })
        }
        Base::Narrowed { dir, holder, prefix } => dir.resolve(rel.as_str(), policy.allow_hidden)?.map(|f| {
            let full = [prefix.as_slice(), b"/", &f.rel].concat();
            Resolved { root: *holder, rel: Cow::Owned(full), ..f }
        }),
    };
    let file = match resolved {
        Ok(file) => file,
        Err(Refusal::PermissionDenied) => {
            return Ok(Err((Status::Forbidden, Reason::File(Refusal::PermissionDenied))));
        }
        Err(other) => return Ok(Err((Status::NotFound, Reason::File(other)))),
    };
    let holder = policy.root_at(file.root).map_or(policy.root.path(), |r| r.path());
    if !crate::guard::target::expressible(policy.backend, holder, &file.rel) {
        return Ok(Err((Status::NotFound, Reason::Unexpressible)));
    }
    // An nginx named location serves the URI that was requested, not a path we name: only a
    // request for the canonical path itself may go there.
    if policy.internal_prefix.starts_with('@')
        && (*file.rel != *rel.as_str().as_bytes() || file.root != 0 || !matches!(base, Base::Configured(0)))
    {
        return Ok(Err((Status::NotFound, Reason::Unexpressible)));
    }
    let target = match crate::guard::target::target(policy, req, &file) {
        Ok(t) => t,
        Err(()) => return Ok(Err((Status::NotFound, Reason::Unexpressible))),
    };
    Ok(Ok((file, target)))
}

/// The media type for a file name, from its last extension; `application/octet-stream` when
/// unknown. A compression suffix gives the archive's own type (`.gz` → `application/gzip`), never
/// a `Content-Encoding`: browsers would unpack a `.tar.gz` download.
pub(crate) fn content_type_of(name: &[u8]) -> &'static str {
    Path::new(OsStr::from_bytes(name))
        .extension()
        .and_then(OsStr::to_str)
        .and_then(|ext| mime_guess::from_ext(ext).first_raw())
        .unwrap_or("application/octet-stream")
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
