//! Accepting connections: the listening sockets, registered for readiness only (connections are
//! accepted with `accept4` directly, so FastCGI ones can be answered inline before any
//! registration, `super::inline`), which peers may talk to us, and what an accept error means.
//!
//! Invariant: an accept error never ends the accept loop; a listener is never polled after the
//! loop dropped it.

use super::listen::{Speaks, StdListener};
use super::reactor;
use crate::config::ServerSettings;
use std::io;
use std::os::fd::AsFd;
use std::time::Duration;
use tokio::io::unix::AsyncFd;

/// A listening socket, registered with the reactor.
pub(super) struct Listener {
    fd: AsyncFd<std::os::fd::OwnedFd>,
    /// TCP (peers are checked, TCP_NODELAY is set) rather than a Unix socket.
    tcp: bool,
    /// What is spoken on its connections.
    pub(super) speaks: Speaks,
}

impl Listener {
    /// Registers `listener` (made non-blocking) with the reactor.
    pub(super) fn register(listener: StdListener, speaks: Speaks) -> io::Result<Listener> {
        Ok(match listener {
            StdListener::Tcp(l) => {
                l.set_nonblocking(true)?;
                Listener { fd: reactor::register_owned(l.into())?, tcp: true, speaks }
            }
            StdListener::Unix(l) => {
                l.set_nonblocking(true)?;
                Listener { fd: reactor::register_owned(l.into())?, tcp: false, speaks }
            }
        })
    }
}

/// Waits until one of `listeners` (one or two) has a connection and accepts it.
pub(super) async fn accept_any(listeners: &[Listener]) -> (&Listener, io::Result<Accepted>) {
    match listeners {
        [one] => (one, accept(one).await),
        [a, b] => tokio::select! {
            r = accept(a) => (a, r),
            r = accept(b) => (b, r),
        },
        _ => std::future::pending().await,
    }
}

/// Accept errors never end the loop: out of descriptors or memory pauses briefly (the queued
/// connections wait in the backlog), anything else is logged.
pub(super) async fn accept_failed(e: &io::Error) {
    if matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::ENOBUFS) | Some(libc::ENOMEM)) {
        log::warn!("accept: {e}; pausing 100ms");
        tokio::time::sleep(Duration::from_millis(100)).await;
    } else {
        log::debug!("accept: {e}");
    }
}

/// Whether a TCP peer may talk to us (FCGI_WEB_SERVER_ADDRS, FastCGI 1.0 §3.2).
fn peer_allowed(stream: &std::net::TcpStream, settings: &ServerSettings) -> bool {
    let Some(allowed) = &settings.web_server_addrs else { return true };
    match stream.peer_addr() {
        Ok(peer) if allowed.contains(&peer.ip().to_canonical()) => true,
        Ok(peer) => {
            log::warn!("refusing connection from {peer}: not in FCGI_WEB_SERVER_ADDRS");
            if let Some(m) = crate::metrics::get() {
                m.connections_refused.inc();
            }
            false
        }
        Err(e) => {
            log::debug!("refusing connection: no peer address: {e}");
            false
        }
    }
}

/// Whether an accepted connection is from a TCP peer not in FCGI_WEB_SERVER_ADDRS (logged and
/// counted, accepted and refused; it is closed when dropped). Checked right after the accept, so
/// every connection that is served was checked and a refused one never takes a slot.
pub(super) fn refused(conn: &Accepted, settings: &ServerSettings) -> bool {
    let Accepted::Tcp(stream) = conn else { return false };
    if peer_allowed(stream, settings) {
        return false;
    }
    if let Some(m) = crate::metrics::get() {
        m.connections_accepted.inc();
    }
    true
}

/// An accepted connection, non-blocking, not yet registered with the reactor.
pub(super) enum Accepted {
    Tcp(std::net::TcpStream),
    Unix(std::os::unix::net::UnixStream),
}

/// Waits until `listener` is readable and accepts one connection.
pub(super) async fn accept(listener: &Listener) -> io::Result<Accepted> {
    loop {
        // The readiness stays set until an accept finds nothing (try_accept clears it then).
        drop(listener.fd.readable().await?);
        match try_accept(listener) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            result => return result,
        }
    }
}

/// Accepts one connection if the reactor saw the listener readable; `WouldBlock` otherwise (and
/// then the readiness is cleared, so the next wait really waits).
pub(super) fn try_accept(listener: &Listener) -> io::Result<Accepted> {
    let conn = listener.fd.try_io(tokio::io::Interest::READABLE, |l| crate::sys::accept_nonblocking(l.as_fd()))?;
    Ok(if listener.tcp { Accepted::Tcp(conn.into()) } else { Accepted::Unix(conn.into()) })
}
