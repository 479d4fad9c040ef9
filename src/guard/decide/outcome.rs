//! What a decision comes to: a file to send ([`Send`]) or a refusal with its HTTP [`Status`] and
//! the [`Reason`] the log records (the client sees only the status).
//!
//! Invariant: a [`Send`] holds a file that passed every check of the decision, found by the store.

use crate::guard::path::PathRejection;
use crate::guard::store::{Found, Refusal};
use crate::guard::target::Target;
use crate::guard::token::Claims;

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
    /// 502: the object store failed or could not be reached.
    BadGateway,
    /// 503: refused for capacity (the root's share of the storage pool is in use, or the root is
    /// marked unhealthy); nothing was waited for. Or the state store of limited-use links did not
    /// answer (fail closed).
    ServiceUnavailable,
    /// 504: the store did not answer in time (`--storage-timeout`; an object store's HEAD:
    /// `--s3-timeout`).
    GatewayTimeout,
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
            Status::BadGateway => 502,
            Status::ServiceUnavailable => 503,
            Status::GatewayTimeout => 504,
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
            Status::BadGateway => "502 Bad Gateway",
            Status::ServiceUnavailable => "503 Service Unavailable",
            Status::GatewayTimeout => "504 Gateway Timeout",
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
    /// The store was not asked or did not answer in time (the shell's storage pool).
    Storage(Storage),
    /// The signed link, or its key, is revoked.
    Revoked,
    /// Every use of a limited-use link is spent.
    UsesSpent,
    /// The state store of limited-use links is unreachable, slow or not configured.
    StateUnavailable,
    /// A limited-use link needs the client's address (`REMOTE_ADDR`) to tell its uses apart.
    NoClientAddress,
}

/// Why the storage pool did not produce a decision (the shell's, `server/storage.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// No answer within `--storage-timeout` (this many milliseconds); 504.
    TimedOut(u64),
    /// The root's share of the pool is in use by lookups still waiting; 503.
    ShareInUse,
    /// The root kept timing out and is refused until a probe answers; 503.
    Unhealthy,
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
            Reason::Storage(Storage::TimedOut(ms)) => write!(f, "storage did not answer within {ms} ms"),
            Reason::Storage(Storage::ShareInUse) => f.write_str("the root's share of the storage pool is in use"),
            Reason::Storage(Storage::Unhealthy) => f.write_str("the root is unhealthy (its lookups time out)"),
            Reason::Revoked => f.write_str("signed link: revoked"),
            Reason::UsesSpent => f.write_str("signed link: every use is spent"),
            Reason::StateUnavailable => f.write_str("signed link: the state store did not answer (--state)"),
            Reason::NoClientAddress => f.write_str("signed link: limited uses need REMOTE_ADDR"),
        }
    }
}

impl Reason {
    /// The metric label of every reason, indexed by [`Reason::label_index`]: a bounded set of
    /// `snake_case` words (never a path or a value from the request), for the decision counter.
    pub const LABELS: [&'static str; 31] = [
        "missing_method",
        "method_not_allowed",
        "missing_path",
        "path_outside_prefix",
        "path_hidden",
        "path_invalid",
        "file_not_found",
        "file_not_regular",
        "file_symlink_escapes",
        "file_symlink_hidden",
        "file_permission_denied",
        "unexpressible",
        "link_expired",
        "link_not_yet_valid",
        "link_bad_signature",
        "link_unknown_key",
        "link_lifetime_too_long",
        "link_scope",
        "link_malformed",
        "no_keys",
        "signed_path_mismatch",
        "legacy_link",
        "root_parameter",
        "root_unavailable",
        "storage_timed_out",
        "storage_share_in_use",
        "storage_unhealthy",
        "link_revoked",
        "link_uses_spent",
        "state_unavailable",
        "link_no_client_address",
    ];

    /// This reason's position in [`Reason::LABELS`].
    pub fn label_index(&self) -> usize {
        use crate::guard::token::sdl1::Failure;
        match self {
            Reason::MissingMethod => 0,
            Reason::MethodNotAllowed => 1,
            Reason::MissingPath => 2,
            Reason::Path(PathRejection::OutsidePrefix) => 3,
            Reason::Path(PathRejection::Hidden) => 4,
            Reason::Path(_) => 5,
            Reason::File(Refusal::NotFound) => 6,
            Reason::File(Refusal::NotRegular) => 7,
            Reason::File(Refusal::Escapes) => 8,
            Reason::File(Refusal::Hidden) => 9,
            Reason::File(Refusal::PermissionDenied) => 10,
            Reason::Unexpressible => 11,
            Reason::Token(Failure::Expired) => 12,
            Reason::Token(Failure::NotYetValid) => 13,
            Reason::Token(Failure::BadSignature) => 14,
            Reason::Token(Failure::UnknownKey) => 15,
            Reason::Token(Failure::TooLong) => 16,
            Reason::Token(Failure::Prefix | Failure::Network) => 17,
            Reason::Token(Failure::NoRequestUri | Failure::Path(_) | Failure::Param(_)) => 18,
            Reason::NoKeys => 19,
            Reason::SignedPathMismatch => 20,
            Reason::Legacy(_) => 21,
            Reason::RootParameter(_) => 22,
            Reason::RootUnavailable => 23,
            Reason::Storage(Storage::TimedOut(_)) => 24,
            Reason::Storage(Storage::ShareInUse) => 25,
            Reason::Storage(Storage::Unhealthy) => 26,
            Reason::Revoked => 27,
            Reason::UsesSpent => 28,
            Reason::StateUnavailable => 29,
            Reason::NoClientAddress => 30,
        }
    }

    /// The metric label of this reason.
    pub fn label(&self) -> &'static str {
        Reason::LABELS[self.label_index()]
    }
}

/// A file to hand to the web server.
#[derive(Debug)]
pub struct Send<'a> {
    /// The file, as the store found it.
    pub file: Found<'a>,
    /// Its media type, from the extension of its canonical name.
    pub(crate) content_type: &'static str,
    /// The key id of the signed link that allowed it, if one was needed.
    pub kid: Option<String>,
    /// Response claims from the signed link.
    pub(crate) claims: Claims,
    /// The signed link's id, when it has one (logged); for a limited-use link, the
    /// [`crate::guard::token::limit::Ask`] the state store must grant before it is sent.
    pub link: Option<Box<crate::guard::token::limit::Linked>>,
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
