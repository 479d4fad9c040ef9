//! A listening socket registered with tokio's reactor, for readiness only.
//!
//! `AsyncFd::register` is `unsafe`: the descriptor must stay open and name the same file
//! description while registered. An `OwnedFd` moved into the `AsyncFd` guarantees both, which is
//! the whole safety argument; this is the one `unsafe` block outside `crate::sys`.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::OwnedFd;
use tokio::io::unix::AsyncFd;

/// Registers `fd` with the current tokio reactor (readable and writable interest). Must be called
/// inside a runtime.
///
/// # Errors
/// When the reactor refuses the descriptor.
pub(crate) fn register_owned(fd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: an OwnedFd is open until dropped, is dropped only with the AsyncFd that owns it, and
    // its as_raw_fd never changes: exactly what `register` asks of the caller.
    unsafe { AsyncFd::register(fd) }.map_err(io::Error::from)
}
