//! The decision's account of itself: each step [`crate::guard::decide`] takes, told to a sink as
//! it is taken, so that `xsendfiled check` prints the very decision that is made instead of
//! re-deriving it.
//!
//! Invariants: a step borrows what the decision already computed, never allocates; the decision
//! passes [`Silent`] on the request path, whose empty, inlined methods make every step vanish at
//! compile time (the decision is generic over the sink), and work done only for the trace is
//! guarded by [`Trace::enabled`].

use crate::guard::path::PathRejection;
use crate::guard::store::Refusal;
use std::path::Path;

/// A listener to the decision's steps.
pub(crate) trait Trace {
    /// Whether anyone listens: the decision skips work that only a trace needs when not.
    fn enabled(&self) -> bool {
        true
    }
    /// One step, in the order the decision takes them.
    fn step(&mut self, step: Step<'_>);
}

/// The sink of the request path: hears nothing and costs nothing.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Silent;

impl Trace for Silent {
    #[inline(always)]
    fn enabled(&self) -> bool {
        false
    }
    #[inline(always)]
    fn step(&mut self, _: Step<'_>) {}
}

/// One step of the decision.
pub(crate) enum Step<'a> {
    /// Whether a signed link was verified, and what came of it.
    Signature(Signature<'a>),
    /// Which request variable names the file, and the (decoded) path it holds.
    Path {
        /// The variable (or link) the path came from.
        source: Source,
        /// The path itself.
        path: &'a [u8],
    },
    /// The strip prefix in effect and the verdict of the string checks.
    Checks {
        /// The public prefix removed first, and who set it.
        strip: Option<(&'a [u8], PrefixFrom)>,
        /// The relative path that passed every check, or the first check it failed.
        verdict: Result<&'a str, PathRejection>,
    },
    /// The root the relative path is looked up under.
    Root(RootChoice<'a>),
    /// What the store answered.
    Lookup(Result<Looked<'a>, Refusal>),
    /// How the reply will name the allowed file to the web server.
    Named(Naming<'a>),
}

/// Step 2: the signed link.
pub(crate) enum Signature<'a> {
    /// Neither required here nor carried by the link: not verified.
    NotChecked,
    /// Verified: `required` by the location (else carried anyway and so verified), and the
    /// verdict (the key id of a valid link, or why it failed: the decision's refusal reason).
    Checked {
        /// Whether this location requires one (`--require-signature`, `XSENDFILED_AUTH`).
        required: bool,
        /// Key id of a valid link, or the refusal.
        verdict: Result<Option<&'a str>, &'a dyn std::fmt::Display>,
    },
}

/// Where the path the decision resolves came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// `PATH_INFO` (not empty).
    PathInfo,
    /// `DOCUMENT_URI` (`PATH_INFO` empty or absent).
    DocumentUri,
    /// `SCRIPT_NAME` (the only one set).
    ScriptName,
    /// `SCRIPT_NAME` + `PATH_INFO`: the server split the path and a strip prefix applies to the
    /// whole of it.
    Split,
    /// The decoded `REQUEST_URI`, in authorize mode (`true`: `--backend authorizer`; `false`:
    /// the FastCGI Authorizer role or `XSENDFILED_MODE=authorize`).
    RequestUri {
        /// Whether the mode is the configured backend rather than the request's.
        by_backend: bool,
    },
    /// The file path a legacy-scheme link carries.
    LegacyLink,
}

/// Who set the strip prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrefixFrom {
    /// The server's `XSENDFILED_STRIP_PREFIX` for this location.
    Server,
    /// `--strip-prefix`.
    Option,
}

/// Who chose a root other than the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RootFrom {
    /// Nobody: the first `--root`.
    Default,
    /// The server's `XSENDFILED_ROOT`.
    Param,
    /// `root=` in a query the server marked trusted.
    Query,
}

/// The root chosen for the lookup.
#[derive(Debug)]
pub(crate) enum RootChoice<'a> {
    /// Configured root number `index` (0 is the first `--root`).
    Configured {
        /// Its number.
        index: usize,
        /// Its canonical path.
        path: &'a Path,
        /// Who chose it.
        from: RootFrom,
    },
    /// A directory inside configured root `holder`, opened beneath it.
    Narrowed {
        /// The configured root that holds it.
        holder: usize,
        /// The directory's canonical path.
        path: &'a Path,
        /// Who chose it.
        from: RootFrom,
    },
}

/// A file the store found.
#[derive(Debug)]
pub(crate) struct Looked<'a> {
    /// The canonical path of the root that holds it.
    pub(crate) root: &'a Path,
    /// Its canonical name under that root.
    pub(crate) rel: &'a [u8],
    /// Its size in bytes.
    pub(crate) len: u64,
    /// Whether its canonical name differs from the name asked for (a symlink was followed).
    pub(crate) followed: bool,
}

/// How the reply names the file.
#[derive(Debug)]
pub(crate) enum Naming<'a> {
    /// By an internal URI: `prefix` + the rest of the canonical path.
    Uri {
        /// The internal URI prefix.
        prefix: &'a str,
        /// Where the prefix came from.
        by: NamedBy<'a>,
    },
    /// By an nginx named location, which serves the request's own URI.
    NamedLocation(&'a str),
    /// By its absolute path (`X-Sendfile`).
    AbsolutePath,
    /// Streamed by xsendfiled itself.
    Streamed,
    /// Not named: authorize mode allows, and the server sends what it parsed.
    Allowed,
    /// An object in a bucket: a presigned GET handed to the internal location `prefix`.
    Presigned {
        /// `--s3-internal-prefix`.
        prefix: &'a str,
        /// The bucket (`endpoint (bucket name)`).
        store: String,
    },
}

/// Where an internal URI prefix came from.
#[derive(Debug)]
pub(crate) enum NamedBy<'a> {
    /// `--internal-prefix` (files of the first root when no map applies).
    InternalPrefix,
    /// A `--map` entry.
    Map {
        /// Its file-system prefix.
        fs: &'a [u8],
        /// Its URI prefix.
        uri: &'a str,
    },
    /// The server's `X_REDIRECT_MAP` / `XSENDFILED_ACCEL_MAPPING` for this location.
    ServerMap,
    /// No prefix: the canonical path itself (`caddy` without a map).
    CanonicalPath,
}
