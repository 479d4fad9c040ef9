//! Every way the options can be wrong, each naming the option (and its environment variable) and
//! how to fix it.

use std::path::PathBuf;
use thiserror::Error;

/// A configuration problem, with the fix in the message. In the fields, `option` names the option,
/// `value` is the text given and `why` the rule it breaks.
#[allow(missing_docs)]
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("no root directory: pass --root DIR (or set XSENDFILED_ROOT)")]
    MissingRoot,
    /// `--root` unusable.
    #[error("--root {path:?}: {source}; it must be an existing directory")]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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
    BadPrefix { option: &'static str, value: String, why: &'static str },
    /// The HTTP listener answers with headers only; it cannot carry `--backend serve` bodies.
    #[error("--listen http://… offloads only: --backend serve needs FastCGI or CGI")]
    HttpServe,
    /// An ask answer carries headers only; `serve` would need its body.
    #[error("--app-socket answers with headers only: --backend serve has no offload to hand an application")]
    AppSocketServe,
    /// The app socket path is empty or names no file.
    #[error("--app-socket {0:?}: expected the path of a Unix socket to create")]
    BadAppSocket(PathBuf),
    /// `--metrics-listen` is neither HOST:PORT nor unix:PATH.
    #[error("--metrics-listen {0:?}: expected HOST:PORT, [V6]:PORT or unix:PATH")]
    BadMetricsListen(String),
    /// `--ping-path` or `--status-path` is not an absolute path of printable ASCII.
    #[error("{0} {1:?}: expected an absolute URI path such as /ping (printable ASCII, no query)")]
    BadProbePath(&'static str, String),
    #[error("--listen {0:?}: expected HOST:PORT, [V6]:PORT, unix:PATH, fd:N or http://HOST:PORT")]
    BadListen(String),
    #[error("--socket-mode {0:?}: expected an octal mode such as 0660")]
    BadSocketMode(String),
    /// A user or group option is wrong (`--socket-owner`, `--socket-group`, `--user`, `--group`).
    #[error("{option}: {why}")]
    Account { option: &'static str, why: String },
    /// A duration option is malformed.
    #[error("{option} {value:?}: expected a duration such as 30s, 500ms, 2m, 1h or 7d")]
    BadDuration { option: &'static str, value: String },
    /// A duration option is longer than [`crate::limits::MAX_DURATION`].
    #[error("{option} {value:?}: at most 3650d")]
    DurationTooLong { option: &'static str, value: String },
    /// A numeric limit is out of range.
    #[error("{option} {value}: {why}")]
    BadLimit { option: &'static str, value: u64, why: &'static str },
    #[error("--log-level {0:?}: expected error, warn, info, debug or trace")]
    BadLogLevel(String),
    /// The key file is unusable.
    #[error("--keys {0}")]
    Keys(#[source] crate::guard::token::keys::KeyError),
    /// A compatibility-scheme option is wrong.
    #[error("{option}: {why}")]
    Scheme { option: &'static str, why: String },
    /// `--state` names neither a usable file nor a redis:// URL.
    #[error("--state {value:?}: {why}")]
    BadState { value: String, why: String },
    #[error("--require-signature needs --keys FILE (or XSENDFILED_KEYS)")]
    RequireSignatureWithoutKeys,
    /// `FCGI_WEB_SERVER_ADDRS` holds something that is not an IP address.
    #[error("FCGI_WEB_SERVER_ADDRS: {0:?} is not an IPv4 or IPv6 address (comma-separated list expected)")]
    BadWebServerAddr(String),
    /// `--config FILE` cannot be read.
    #[error("--config {path:?}: {source}")]
    ConfigFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `--config FILE` is refused as it stands (who may write or read it, size, encoding).
    #[error("--config {path:?}: {why}")]
    ConfigFileRefused { path: PathBuf, why: String },
    /// The file is not TOML.
    #[error("{}:{line}: {why}", path.display())]
    ConfigSyntax { path: PathBuf, line: usize, why: String },
    /// A key of the file: unknown, of the wrong type, or a value its option refuses. `at` is
    /// `FILE:LINE`.
    #[error("{at}: {key}: {why}")]
    ConfigKey { at: String, key: String, why: String },
    /// A problem with a value that came from the file (`at` is `FILE:LINE`).
    #[error("{at}: {problem}")]
    InFile { at: String, problem: Box<ConfigError> },
    #[error(
        "no root directory: set root = [\"DIR\"] in {} (or pass --root DIR, or set XSENDFILED_ROOT); \
         nothing is served until a root is set",
        .0.display()
    )]
    MissingRootInFile(PathBuf),
    /// The options with the file's values no longer parse together (e.g. a conflict between a
    /// flag and a key of the file).
    #[error("{0}")]
    Arguments(String),
}
