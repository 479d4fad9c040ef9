//! The server shell's settings from the options: where to listen, the socket's mode and owner,
//! whom to run as, connection limits, threads, timeouts, log level. Read once at start-up; a
//! SIGHUP reload never changes them.

use super::accounts::{accounts, Accounts};
use super::cli::ServeArgs;
use super::values::{
    adjust_level, bounded, parse_duration, parse_level, parse_listen, parse_mode, parse_web_server_addrs,
};
use super::{keep, ConfigError};
use crate::guard::Backend;
use crate::limits::Limits;
use std::ffi::OsStr;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::Duration;

/// Where to listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListenSpec {
    /// FastCGI on a TCP address.
    Tcp(SocketAddr),
    /// FastCGI on a Unix socket we create at this path.
    Unix(PathBuf),
    /// FastCGI on an inherited listening descriptor.
    Fd(RawFd),
    /// HTTP/1.1 instead of FastCGI on a TCP address (`http://HOST:PORT`), for a
    /// proxy that reuses upstream connections (nginx `proxy_pass` with `keepalive`).
    Http(SocketAddr),
}

/// Everything the server shell needs.
#[derive(Debug, Clone)]
pub(crate) struct ServerSettings {
    /// Explicit `--listen`; `None` lets the launch environment decide.
    pub(crate) listen: Option<ListenSpec>,
    /// `--app-socket`: the HTTP/1.1 Unix socket for applications that ask (`server::app`).
    pub(crate) app_socket: Option<PathBuf>,
    /// Mode of a Unix socket we create.
    pub(crate) socket_mode: u32,
    /// Owner of that socket, and whom to run as after start-up.
    pub(crate) accounts: Accounts,
    pub(crate) limits: Limits,
    pub(crate) threads: usize,
    /// Grace period on SIGTERM.
    pub(crate) drain_timeout: Duration,
    /// `--storage-timeout`: deadline of a lookup on the storage pool.
    pub(crate) storage_timeout: Duration,
    /// `--storage-threads`: size of the storage pool.
    pub(crate) storage_threads: usize,
    /// `FCGI_WEB_SERVER_ADDRS`: TCP peers allowed to connect (None: any).
    pub(crate) web_server_addrs: Option<Vec<IpAddr>>,
    pub(crate) log_level: log::LevelFilter,
    /// `--metrics-listen`: where `/metrics`, `/healthz` and `/readyz` are served.
    pub(crate) metrics_listen: Option<MetricsListen>,
    /// `--ping-path` and `--status-path`, answered through the FastCGI socket.
    pub(crate) probes: Probes,
    /// `--state`: where limited-use links are counted.
    pub(crate) state: Option<StateSpec>,
    /// `--state-timeout`.
    pub(crate) state_timeout: Duration,
}

/// Where the metrics endpoint listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MetricsListen {
    /// A TCP address (loopback in every example).
    Tcp(SocketAddr),
    /// A Unix socket we create at this path (removed on exit).
    Unix(PathBuf),
}

/// The php-fpm-style paths answered on the FastCGI socket instead of a decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Probes {
    /// `--ping-path`: answered `pong`.
    pub(crate) ping: Option<String>,
    /// `--status-path`: the status page.
    pub(crate) status: Option<String>,
}

impl Probes {
    /// Whether either path is set (counting is on when the status page is).
    pub(crate) fn any(&self) -> bool {
        self.ping.is_some() || self.status.is_some()
    }
}

/// `--state`: a SQLite file or a Redis URL.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum StateSpec {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// `redis://HOST:PORT[/DB]` (its password, if any, never printed: see the `Debug` text).
    Redis(String),
}

impl std::fmt::Debug for StateSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateSpec::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            StateSpec::Redis(u) => f.debug_tuple("Redis").field(&crate::state::redacted(u)).finish(),
        }
    }
}

/// `--state`: `redis://…` (or `rediss://`, `valkey://`) is a server, anything else a file path.
fn state(value: Option<&str>) -> Result<Option<StateSpec>, ConfigError> {
    value.map(parse_state).transpose()
}

/// One `--state` value.
pub(crate) fn parse_state(v: &str) -> Result<StateSpec, ConfigError> {
    let bad = |why: &str| ConfigError::BadState { value: crate::state::redacted(v), why: why.to_owned() };
    if v.is_empty() {
        return Err(bad("expected a SQLite file or redis://HOST:PORT[/DB]"));
    }
    if v.starts_with("redis://") || v.starts_with("rediss://") || v.starts_with("valkey://") {
        crate::state::check_redis_url(v).map_err(|why| bad(&why))?;
        return Ok(StateSpec::Redis(v.to_owned()));
    }
    if v.contains("://") {
        return Err(bad("only redis:// URLs name a server; anything else is a SQLite file"));
    }
    Ok(StateSpec::Sqlite(PathBuf::from(v)))
}

/// The server settings of `args`, recording every problem in `e` (in option order); `None` only
/// when it recorded one.
pub(super) fn settings(
    e: &mut Vec<ConfigError>,
    args: &ServeArgs,
    backend: Backend,
    web_server_addrs: Option<&OsStr>,
) -> Option<ServerSettings> {
    let limits = (
        keep(e, bounded("--max-params-bytes", args.max_params_bytes, 4096, 16 << 20)),
        keep(e, bounded("--max-params", args.max_params, 16, 1_000_000)),
        keep(e, bounded("--max-connections", args.max_connections, 1, 1_000_000)),
        keep(e, parse_duration("--idle-timeout", &args.idle_timeout)),
        keep(e, parse_duration("--request-timeout", &args.request_timeout)),
    );
    let listen = keep(e, args.listen.as_deref().map(parse_listen).transpose());
    if matches!(listen, Some(Some(ListenSpec::Http(_)))) && backend == Backend::Serve {
        e.push(ConfigError::HttpServe);
    }
    let app_socket = keep(e, app_socket(args.app_socket.as_deref(), backend));
    let socket_mode = keep(e, parse_mode(&args.socket_mode));
    let accounts = keep(e, accounts(args));
    let threads = keep(e, bounded("--threads", args.threads, 1, 1024));
    let drain_timeout = keep(e, parse_duration("--drain-timeout", &args.drain_timeout));
    let storage_timeout = keep(e, parse_duration("--storage-timeout", &args.storage_timeout));
    let storage_threads = keep(e, bounded("--storage-threads", args.storage_threads, 1, 4096));
    let web_server_addrs = keep(e, web_server_addrs.map(parse_web_server_addrs).transpose());
    let log_level = keep(e, parse_level(&args.log_level));
    let metrics_listen = keep(e, args.metrics_listen.as_deref().map(parse_metrics_listen).transpose());
    let ping = keep(e, probe_path("--ping-path", args.ping_path.as_deref()));
    let status = keep(e, probe_path("--status-path", args.status_path.as_deref()));
    let state = keep(e, state(args.state.as_deref()));
    let state_timeout = keep(e, parse_duration("--state-timeout", &args.state_timeout));
    let (Some(max_params_bytes), Some(max_params_count), Some(max_connections), Some(idle), Some(request)) = limits
    else {
        return None;
    };
    Some(ServerSettings {
        listen: listen?,
        app_socket: app_socket?,
        socket_mode: socket_mode?,
        accounts: accounts?,
        limits: Limits {
            max_params_bytes,
            max_params_count,
            max_stdin_bytes: args.max_stdin_bytes,
            max_connections,
            idle_timeout: idle,
            request_timeout: request,
        },
        threads: threads?,
        drain_timeout: drain_timeout?,
        storage_timeout: storage_timeout?,
        storage_threads: storage_threads?,
        web_server_addrs: web_server_addrs?,
        log_level: adjust_level(log_level?, args.verbose, args.quiet),
        metrics_listen: metrics_listen?,
        probes: Probes { ping: ping?, status: status? },
        state: state?,
        state_timeout: state_timeout?,
    })
}

/// `--app-socket`: a path to create, not with `--backend serve` (an ask answer has no body).
fn app_socket(path: Option<&std::path::Path>, backend: Backend) -> Result<Option<PathBuf>, ConfigError> {
    let Some(path) = path else { return Ok(None) };
    if path.as_os_str().is_empty() || path.file_name().is_none() {
        return Err(ConfigError::BadAppSocket(path.to_owned()));
    }
    if backend == Backend::Serve {
        return Err(ConfigError::AppSocketServe);
    }
    Ok(Some(path.to_owned()))
}

/// `--metrics-listen`: `unix:PATH` or `HOST:PORT`.
fn parse_metrics_listen(v: &str) -> Result<MetricsListen, ConfigError> {
    let bad = || ConfigError::BadMetricsListen(v.to_owned());
    if let Some(path) = v.strip_prefix("unix:") {
        let path = PathBuf::from(path);
        if path.file_name().is_none() {
            return Err(bad());
        }
        return Ok(MetricsListen::Unix(path));
    }
    v.parse::<SocketAddr>().map(MetricsListen::Tcp).map_err(|_| bad())
}

/// `--ping-path`, `--status-path`: an absolute URI path of printable ASCII, not `/` alone.
fn probe_path(option: &'static str, v: Option<&str>) -> Result<Option<String>, ConfigError> {
    let Some(v) = v else { return Ok(None) };
    if !v.starts_with('/') || v.len() < 2 || !v.bytes().all(|b| b.is_ascii_graphic()) || v.contains('?') {
        return Err(ConfigError::BadProbePath(option, v.to_owned()));
    }
    Ok(Some(v.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::StateSpec;

    #[test]
    fn a_redis_password_is_not_in_the_debug_text() {
        let text = format!("{:?}", StateSpec::Redis("redis://:TopSecretPw@h:1/0".into()));
        assert_eq!(text, "Redis(\"redis://***@h:1/0\")");
    }
}
