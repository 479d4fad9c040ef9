//! Every way the options can be wrong, each naming the option (and its environment variable) and
//! how to fix it.

use std::path::PathBuf;
use thiserror::Error;

/// A configuration problem, with the fix in the message.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// `--root` missing.
    #[error("no root directory: pass --root DIR (or set XSENDFILED_ROOT)")]
    MissingRoot,
    /// `--root` unusable.
    #[error("--root {path:?}: {source}; it must be an existing directory")]
    Root {
        /// The path given.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// `--root` is not a directory.
    #[error("--root {0:?} is not a directory")]
    RootNotDirectory(PathBuf),
    /// The root's own path cannot be named to the chosen web server.
    #[error("--root {0:?}: this path cannot be named to the chosen web server (control characters, or invalid UTF-8 for lighttpd)")]
    RootNotExpressible(PathBuf),
    /// The nginx and local-redirect backends need an internal prefix.
    #[error(
        "the nginx and local-redirect backends need --internal-prefix URI (or XSENDFILED_INTERNAL_PREFIX): \
         the path of the location that aliases --root (nginx: an `internal` location), e.g. --internal-prefix /_protected"
    )]
    MissingInternalPrefix,
    /// A URI prefix option is malformed.
    #[error("{option} {value:?}: {why}")]
    BadPrefix {
        /// Option name.
        option: &'static str,
        /// Value given.
        value: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The HTTP listener answers with headers only; it cannot carry `--backend serve` bodies.
    #[error("--listen http://… offloads only: --backend serve needs FastCGI or CGI")]
    HttpServe,
    /// `--listen` is malformed.
    #[error("--listen {0:?}: expected HOST:PORT, [V6]:PORT, unix:PATH, fd:N or http://HOST:PORT")]
    BadListen(String),
    /// `--socket-mode` is malformed.
    #[error("--socket-mode {0:?}: expected an octal mode such as 0660")]
    BadSocketMode(String),
    /// A user or group option is wrong (`--socket-owner`, `--socket-group`, `--user`, `--group`).
    #[error("{option}: {why}")]
    Account {
        /// Option name.
        option: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A duration option is malformed.
    #[error("{option} {value:?}: expected a duration such as 30s, 500ms, 2m, 1h or 7d")]
    BadDuration {
        /// Option name.
        option: &'static str,
        /// Value given.
        value: String,
    },
    /// A duration option is longer than [`crate::limits::MAX_DURATION`].
    #[error("{option} {value:?}: at most 3650d")]
    DurationTooLong {
        /// Option name.
        option: &'static str,
        /// Value given.
        value: String,
    },
    /// A numeric limit is out of range.
    #[error("{option} {value}: {why}")]
    BadLimit {
        /// Option name.
        option: &'static str,
        /// Value given.
        value: u64,
        /// The allowed range.
        why: &'static str,
    },
    /// `--log-level` is not a level.
    #[error("--log-level {0:?}: expected error, warn, info, debug or trace")]
    BadLogLevel(String),
    /// The key file is unusable.
    #[error("--keys {0}")]
    Keys(#[source] crate::guard::token::keys::KeyError),
    /// A compatibility-scheme option is wrong.
    #[error("{option}: {why}")]
    Scheme {
        /// Option name.
        option: &'static str,
        /// What is wrong.
        why: String,
    },
    /// Signatures required but no keys.
    #[error("--require-signature needs --keys FILE (or XSENDFILED_KEYS)")]
    RequireSignatureWithoutKeys,
    /// `FCGI_WEB_SERVER_ADDRS` holds something that is not an IP address.
    #[error("FCGI_WEB_SERVER_ADDRS: {0:?} is not an IPv4 or IPv6 address (comma-separated list expected)")]
    BadWebServerAddr(String),
}
