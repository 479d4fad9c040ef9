//! Every input xsendfiled accepts has a named limit; this module holds them and their defaults.
//!
//! The defaults are chosen so that legitimate traffic never meets them (a 16 KiB `Cookie` header
//! passes, nginx's `fastcgi_params` plus a hundred request headers pass) while one peer can never
//! make the daemon hold more than a few hundred KiB.

use std::time::Duration;

/// Default cap on the bytes of one request's FCGI_PARAMS stream (name-value pairs, FastCGI 1.0 §3.4).
pub(crate) const DEFAULT_MAX_PARAMS_BYTES: usize = 128 * 1024;
/// Default cap on the number of name-value pairs in one request.
pub(crate) const DEFAULT_MAX_PARAMS_COUNT: usize = 1000;
/// Default cap on request-body (FCGI_STDIN) bytes read and discarded before the reply is sent.
pub(crate) const DEFAULT_MAX_STDIN_BYTES: u64 = 1024 * 1024;
/// Default cap on simultaneously open FastCGI connections (also our `FCGI_MAX_CONNS` answer).
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default time a connection may sit between requests with nothing received.
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time from the first byte of a request to its last (slow-client cut-off).
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound on lookups waiting for storage at once, a thread each (`--storage-threads`).
pub(crate) const DEFAULT_STORAGE_THREADS: usize = 32;
/// Largest content of a management record (FCGI_GET_VALUES) we buffer.
pub(crate) const MAX_MANAGEMENT_RECORD_BYTES: usize = 8 * 1024;
/// Longest request path accepted, in bytes (Linux `PATH_MAX`).
pub(crate) const MAX_PATH_BYTES: usize = 4096;
/// Longest path segment accepted, in bytes (Linux `NAME_MAX`).
pub(crate) const MAX_SEGMENT_BYTES: usize = 255;
/// Deepest path accepted, in segments.
pub(crate) const MAX_PATH_DEPTH: usize = 64;

/// Longest duration any option or trusted parameter accepts (`--expires`, a trusted `expires=`,
/// timeouts, link lifetimes): 3650 days. Every point in time computed from one (`now` plus it)
/// stays a valid date with a four-digit year and a valid `Instant`, so no date arithmetic or
/// formatting on the request path can overflow or panic.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(3650 * 86_400);

/// Limits applied to each FastCGI connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// See [`DEFAULT_MAX_PARAMS_BYTES`].
    pub max_params_bytes: usize,
    /// See [`DEFAULT_MAX_PARAMS_COUNT`].
    pub max_params_count: usize,
    /// See [`DEFAULT_MAX_STDIN_BYTES`].
    pub max_stdin_bytes: u64,
    /// See [`DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// See [`DEFAULT_IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
    /// See [`DEFAULT_REQUEST_TIMEOUT`].
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_params_bytes: DEFAULT_MAX_PARAMS_BYTES,
            max_params_count: DEFAULT_MAX_PARAMS_COUNT,
            max_stdin_bytes: DEFAULT_MAX_STDIN_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}
