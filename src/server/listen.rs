//! Where the FastCGI connections come from: a socket we bind, or one we inherit.
//!
//! Launch rules, in order (FastCGI 1.0 §2.2, RFC 3875, sd_listen_fds(3)):
//! 1. `--listen` given: bind TCP (`HOST:PORT`, `[V6]:PORT`), a Unix socket (`unix:PATH`), or adopt
//!    an inherited descriptor (`fd:N`); `http://HOST:PORT` binds TCP for the HTTP/1.1
//!    listener (`super::http`) instead of FastCGI.
//! 2. fd 0 is a listening socket (TCP or Unix — spawn-fcgi, mod_fcgid): serve on it.
//! 3. `GATEWAY_INTERFACE` is set: CGI mode, one request.
//! 4. systemd socket activation: `LISTEN_PID` is our pid and `LISTEN_FDS` ≥ 1: serve on fd 3.
//! 5. `--app-socket` given: no other listener (the daemon answers applications only).
//! 6. Otherwise bind [`DEFAULT_LISTEN`].
//!
//! The app socket (`--app-socket PATH`, [`bind_app`]) is bound besides whatever these rules chose,
//! and never in CGI mode (a CGI program answers one request and exits).
//!
//! A Unix socket file is created under a umask that yields exactly `--socket-mode`, then given to
//! `--socket-owner`/`--socket-group` (lchown: the path is never followed), and an existing file at
//! the path is replaced only if it is a socket nobody answers on. Every error names the address or
//! path it is about.

use crate::config::{ListenSpec, ServerSettings};
use crate::sys::{self, FdKind, SocketFamily};
use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// Listen backlog for sockets we bind: connections over `--max-connections` wait here.
const BACKLOG: i32 = 4096;

/// Where xsendfiled listens when nothing else says: loopback only.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:9071";

/// A bound, not yet registered listening socket (tokio registration happens inside the runtime).
#[derive(Debug)]
pub(crate) enum StdListener {
    /// TCP.
    Tcp(std::net::TcpListener),
    /// Unix.
    Unix(UnixListener),
}

/// A listener plus what to clean up when it closes.
#[derive(Debug)]
pub(crate) struct Bound {
    /// The socket.
    pub(crate) listener: StdListener,
    /// A socket file we created and must remove on exit.
    pub(crate) created_path: Option<PathBuf>,
    /// For logs: where we listen.
    pub(crate) description: String,
    /// What is spoken on it.
    pub(crate) speaks: Speaks,
}

/// The protocol of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Speaks {
    /// FastCGI, from the web server.
    FastCgi,
    /// HTTP/1.1 from the web server (`--listen http://…`).
    Http,
    /// HTTP/1.1 from applications that ask (`--app-socket`): the trusted query, `Xsendfiled-*`.
    App,
}

/// How this process was launched.
#[derive(Debug)]
pub(crate) enum Launch {
    /// Serve on this listener (FastCGI, or HTTP/1.1 for `http://`); `None` when only the app
    /// socket listens.
    Daemon(Option<Bound>),
    /// Answer one CGI request.
    Cgi,
}

/// Applies the launch rules of the module docs.
///
/// # Errors
/// When the chosen socket cannot be bound or adopted.
pub(crate) fn detect(settings: &ServerSettings) -> io::Result<Launch> {
    if let Some(spec) = &settings.listen {
        return bind(spec, settings).map(|b| Launch::Daemon(Some(b)));
    }
    if let FdKind::Listening(_) = sys::inspect_socket(0) {
        return adopt(0).map(|b| Launch::Daemon(Some(b)));
    }
    if std::env::var_os("GATEWAY_INTERFACE").is_some() {
        return Ok(Launch::Cgi);
    }
    if let Some(fd) = systemd_fd() {
        return adopt(fd).map(|b| Launch::Daemon(Some(b)));
    }
    if settings.app_socket.is_some() {
        return Ok(Launch::Daemon(None));
    }
    let addr: SocketAddr = DEFAULT_LISTEN.parse().map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    bind(&ListenSpec::Tcp(addr), settings).map(|b| Launch::Daemon(Some(b)))
}

/// The first systemd-passed descriptor, if the variables are meant for this process.
fn systemd_fd() -> Option<RawFd> {
    let pid: u32 = std::env::var("LISTEN_PID").ok()?.trim().parse().ok()?;
    if pid != std::process::id() {
        return None;
    }
    let count: u32 = std::env::var("LISTEN_FDS").ok()?.trim().parse().ok()?;
    if count == 0 {
        return None;
    }
    if count > 1 {
        log::warn!("systemd passed {count} sockets; serving on the first (fd 3) only");
    }
    // Not for our children (there are none, but the variables must not outlive their use).
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDS");
    std::env::remove_var("LISTEN_FDNAMES");
    Some(3)
}

/// Binds or adopts what `spec` names.
///
/// # Errors
/// Bind failures, a live socket or a non-socket file at a Unix path, an fd that is not listening.
pub(crate) fn bind(spec: &ListenSpec, settings: &ServerSettings) -> io::Result<Bound> {
    match spec {
        ListenSpec::Tcp(addr) | ListenSpec::Http(addr) => {
            let speaks = if matches!(spec, ListenSpec::Http(_)) { Speaks::Http } else { Speaks::FastCgi };
            let description = format!("{} {addr}", if speaks == Speaks::Http { "http" } else { "tcp" });
            let l = std::net::TcpListener::bind(addr)
                .and_then(|l| sys::set_backlog(std::os::fd::AsFd::as_fd(&l), BACKLOG).map(|()| l))
                .map_err(|e| about(&description, e))?;
            Ok(Bound { listener: StdListener::Tcp(l), created_path: None, description, speaks })
        }
        ListenSpec::Unix(path) => {
            let l = bind_unix(path, settings).map_err(|e| about(&format!("unix:{}", path.display()), e))?;
            Ok(Bound {
                listener: StdListener::Unix(l),
                created_path: Some(path.clone()),
                description: format!("unix {}", path.display()),
                speaks: Speaks::FastCgi,
            })
        }
        ListenSpec::Fd(fd) => adopt(*fd),
    }
}

/// Binds the app socket at `path`, created like a FastCGI Unix socket (mode, owner, group; a
/// stale socket file replaced, anything else refused) and removed on exit.
///
/// # Errors
/// As for `--listen unix:PATH`, the message naming the app socket.
pub(crate) fn bind_app(path: &Path, settings: &ServerSettings) -> io::Result<Bound> {
    let l = bind_unix(path, settings).map_err(|e| about(&format!("--app-socket {}", path.display()), e))?;
    Ok(Bound {
        listener: StdListener::Unix(l),
        created_path: Some(path.to_owned()),
        description: format!("app socket {}", path.display()),
        speaks: Speaks::App,
    })
}

/// Binds the metrics endpoint (`--metrics-listen`): TCP, or a Unix socket created like the app
/// socket and removed on exit.
///
/// # Errors
/// As for `--listen`, the message naming the metrics endpoint.
pub(crate) fn bind_metrics(spec: &crate::config::MetricsListen, settings: &ServerSettings) -> io::Result<Bound> {
    let (listener, created_path, description) = match spec {
        crate::config::MetricsListen::Tcp(addr) => {
            let description = format!("metrics http {addr}");
            let l = std::net::TcpListener::bind(addr).map_err(|e| about(&description, e))?;
            (StdListener::Tcp(l), None, description)
        }
        crate::config::MetricsListen::Unix(path) => {
            let description = format!("metrics unix {}", path.display());
            let l = bind_unix(path, settings).map_err(|e| about(&description, e))?;
            (StdListener::Unix(l), Some(path.clone()), description)
        }
    };
    Ok(Bound { listener, created_path, description, speaks: Speaks::Http })
}

/// Takes over an inherited listening socket.
fn adopt(fd: RawFd) -> io::Result<Bound> {
    let family = match sys::inspect_socket(fd) {
        FdKind::Listening(f) => f,
        _ => {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("fd {fd} is not a listening socket")));
        }
    };
    let owned = sys::adopt_fd(fd)?;
    let listener = match family {
        SocketFamily::Inet => StdListener::Tcp(std::net::TcpListener::from(owned)),
        SocketFamily::Unix => StdListener::Unix(UnixListener::from(owned)),
        SocketFamily::Other => {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("fd {fd} is neither TCP nor Unix")));
        }
    };
    Ok(Bound { listener, created_path: None, description: format!("inherited fd {fd}"), speaks: Speaks::FastCgi })
}

/// `e`, its message prefixed with what it is about (an address or a socket path).
fn about(what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

fn bind_unix(path: &Path, settings: &ServerSettings) -> io::Result<UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(md) if md.file_type().is_socket() => match UnixStream::connect(path) {
            Ok(_) => {
                return Err(io::Error::new(io::ErrorKind::AddrInUse, "another process is listening on this socket"));
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => std::fs::remove_file(path)?,
            Err(e) => return Err(e),
        },
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "exists and is not a socket; refusing to replace it",
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mode = settings.socket_mode;
    let listener = sys::with_umask(!mode & 0o777, || UnixListener::bind(path))?;
    let finish = || -> io::Result<()> {
        sys::set_backlog(std::os::fd::AsFd::as_fd(&listener), BACKLOG)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        let (uid, gid) = (settings.accounts.socket_uid, settings.accounts.socket_gid);
        if uid.is_some() || gid.is_some() {
            let show = |id: Option<u32>| id.map_or("-".to_owned(), |i| i.to_string());
            std::os::unix::fs::lchown(path, uid, gid).map_err(|e| {
                io::Error::new(e.kind(), format!("giving the socket to uid {} gid {}: {e}", show(uid), show(gid)))
            })?;
        }
        Ok(())
    };
    if let Err(e) = finish() {
        // A socket file left half-configured would be found by the web server: remove it.
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(listener)
}
