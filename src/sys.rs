//! The one audited module that calls the operating system directly.
//!
//! Everything here wraps a Linux system call that the standard library does not expose:
//!
//! 1. [`inspect_socket`]: `getsockopt(SO_ACCEPTCONN)` and `getsockname` on an inherited fd, to tell
//!    a listening socket handed over by spawn-fcgi, mod_fcgid or systemd (FastCGI 1.0 §2.2:
//!    `FCGI_LISTENSOCK_FILENO` is fd 0) from a pipe or terminal (CGI mode, RFC 3875).
//! 2. [`adopt_fd`]: taking ownership of such an inherited descriptor.
//! 3. [`openat2_beneath`], [`openat2_dir_beneath`]: `openat2(2)` with `RESOLVE_BENEATH |
//!    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS`, the race-free way to open a path (a file, or a
//!    directory as `O_PATH`) that must stay below a directory; and [`openat_nofollow`], one
//!    `openat(2)` step with `O_NOFOLLOW` for the component-by-component walk without `openat2`.
//! 4. [`raise_nofile_limit`]: the soft `RLIMIT_NOFILE` raised to the hard one at start-up.
//! 5. [`with_umask`]: a temporary process umask while a Unix socket is bound, so the socket file
//!    never exists with wider permissions than configured.
//! 6. [`accept_nonblocking`]: `accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)`, a non-blocking connection in
//!    one call (the standard library's `accept` needs a second call to clear blocking mode).
//!
//! 7. [`openat2_cached_beneath`]: the same `openat2` with `RESOLVE_CACHED | RESOLVE_NO_XDEV`, the
//!    lookup that never waits for a file system (`EAGAIN` when the dentry cache cannot answer,
//!    Linux ≥ 5.12), and [`is_local_fast`]: `fstatfs(2)` tells a disk or memory file system from a
//!    network or FUSE one.
//!
//! 8. The user and group databases and dropping root ([`accounts`]): `getpwnam_r` and friends,
//!    `getgrouplist`, `setgroups`/`setgid`/`setuid`.
//!
//! Invariants: every function checks the return value of its call and turns `-1` into
//! `io::Error::last_os_error()`; no function keeps a raw pointer past the call it was made for;
//! [`adopt_fd`] and [`accept_nonblocking`] are the only places a raw descriptor number becomes an
//! owned one.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

pub(crate) mod accounts;
pub(crate) use accounts::{
    can_create_in, drop_privileges, effective_ids, group_by_id, group_by_name, group_list, user_by_id, user_by_name,
    UserEntry,
};

/// Address family of a socket, as far as xsendfiled cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SocketFamily {
    /// `AF_INET` or `AF_INET6`.
    Inet,
    /// `AF_UNIX`.
    Unix,
    /// Any other family.
    Other,
}

/// What an inherited file descriptor turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FdKind {
    /// A socket on which `listen(2)` has been called.
    Listening(SocketFamily),
    /// A socket that is not listening (a connected stream, for example).
    Other,
    /// Not a socket at all (pipe, file, terminal), or not open.
    NotASocket,
}

/// Tells whether `fd` is a listening socket and of which family, without taking ownership.
///
/// A closed descriptor is reported as [`FdKind::NotASocket`].
pub(crate) fn inspect_socket(fd: RawFd) -> FdKind {
    let mut accepting: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `accepting` and `len` are valid for writes of the sizes passed; getsockopt does not
    // retain the pointers. An invalid or non-socket fd makes the call fail, which we report.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ACCEPTCONN,
            (&mut accepting as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return FdKind::NotASocket;
    }
    if accepting == 0 {
        return FdKind::Other;
    }
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut alen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `addr` is writable for `alen` bytes and outlives the call.
    let rc = unsafe { libc::getsockname(fd, (&mut addr as *mut libc::sockaddr_storage).cast(), &mut alen) };
    if rc != 0 {
        return FdKind::Other;
    }
    let family = match libc::c_int::from(addr.ss_family) {
        libc::AF_INET | libc::AF_INET6 => SocketFamily::Inet,
        libc::AF_UNIX => SocketFamily::Unix,
        _ => SocketFamily::Other,
    };
    FdKind::Listening(family)
}

/// Takes ownership of an inherited descriptor that [`inspect_socket`] identified.
///
/// # Errors
/// `EBADF` when `fd` is not open. Refuses fds 1 and 2, which belong to stdout/stderr.
pub(crate) fn adopt_fd(fd: RawFd) -> io::Result<OwnedFd> {
    if fd < 0 || fd == 1 || fd == 2 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: F_GETFD has no side effects; it only tells whether the fd is open.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the descriptor is open (checked above) and was handed to this process by its
    // launcher for exactly this purpose; nothing else in the program owns it. Callers adopt each
    // inherited fd once, at start-up.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: plain fcntl on a descriptor we now own.
    unsafe { libc::fcntl(owned.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    Ok(owned)
}

/// Opens `path` (relative, NUL-terminated) below the directory `dir` with `openat2(2)`.
///
/// Resolution flags: `RESOLVE_BENEATH` (no `..` or absolute path may leave `dir`),
/// `RESOLVE_NO_SYMLINKS` (any symlink fails with `ELOOP`, so the caller knows the path it asked
/// for is the canonical one) and `RESOLVE_NO_MAGICLINKS`. Open flags: `O_RDONLY | O_NONBLOCK |
/// O_NOCTTY | O_CLOEXEC` — read access is checked like the web server will need it, and a FIFO
/// cannot block the opener.
///
/// # Errors
/// The raw OS error: `ENOENT`, `ENOTDIR`, `EACCES`, `ELOOP` (a symlink), `EXDEV` (escape), and
/// `ENOSYS`/`EPERM`/`EINVAL` where the kernel or a seccomp filter lacks `openat2`.
pub(crate) fn openat2_beneath(dir: BorrowedFd<'_>, path: &CStr) -> io::Result<OwnedFd> {
    openat2_resolve_beneath(dir, path, libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY, 0)
}

/// [`openat2_beneath`] that never waits for a file system: `RESOLVE_CACHED` (every component must
/// be in the dentry cache, else `EAGAIN`; openat2(2), Linux ≥ 5.12) and `RESOLVE_NO_XDEV` (a path
/// that crosses into another mount — a FUSE or NFS mount below a local root — fails with `EXDEV`,
/// so the open itself, which such a file system answers in user space or over the network, is
/// never attempted here).
///
/// # Errors
/// As [`openat2_beneath`], plus `EAGAIN` (not cached), `EXDEV` (another mount) and `EINVAL` on a
/// kernel older than 5.12 (unknown resolve flag).
pub(crate) fn openat2_cached_beneath(dir: BorrowedFd<'_>, path: &CStr) -> io::Result<OwnedFd> {
    let extra = libc::RESOLVE_CACHED | libc::RESOLVE_NO_XDEV;
    openat2_resolve_beneath(dir, path, libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY, extra)
}

/// [`openat2_beneath`] with `RESOLVE_NO_XDEV`: the inline try on a kernel without
/// `RESOLVE_CACHED` (a path into another mount fails with `EXDEV`).
///
/// # Errors
/// As [`openat2_beneath`], plus `EXDEV` for another mount.
pub(crate) fn openat2_uncached_beneath(dir: BorrowedFd<'_>, path: &CStr) -> io::Result<OwnedFd> {
    openat2_resolve_beneath(dir, path, libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY, libc::RESOLVE_NO_XDEV)
}

/// File systems whose lookups, opens and `fstat` of a cached entry never leave the machine or wait
/// for a user-space server (statfs(2) `f_type` magic numbers, linux/magic.h): ext2/3/4, XFS, Btrfs,
/// tmpfs, F2FS, ramfs, ZFS, bcachefs.
const LOCAL_FAST: [u64; 8] =
    [0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0xF2F5_2010, 0x8584_58F6, 0x2FC1_2FC1, 0xCA45_1A4E];

/// Whether the directory `dir` lies on a file system of [`LOCAL_FAST`]. Anything else (NFS,
/// CephFS, CIFS, FUSE, overlayfs, unknown) is not, and neither is a directory `fstatfs` fails on.
pub(crate) fn is_local_fast(dir: BorrowedFd<'_>) -> bool {
    // SAFETY: statfs is plain old data; fstatfs fills it and keeps no pointer.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `dir` is a valid descriptor and `st` is valid for writes for the call.
    if unsafe { libc::fstatfs(dir.as_raw_fd(), &mut st) } != 0 {
        return false;
    }
    #[allow(clippy::unnecessary_cast)]
    let magic = st.f_type as u64;
    LOCAL_FAST.contains(&magic)
}

/// Like [`openat2_beneath`], but opens a directory as `O_PATH | O_DIRECTORY | O_CLOEXEC`: a handle
/// to resolve further names beneath (a narrowed root), which needs search permission only.
///
/// # Errors
/// As [`openat2_beneath`]; `ENOTDIR` when the last component is not a directory.
pub(crate) fn openat2_dir_beneath(dir: BorrowedFd<'_>, path: &CStr) -> io::Result<OwnedFd> {
    openat2_resolve_beneath(dir, path, libc::O_PATH | libc::O_DIRECTORY, 0)
}

fn openat2_resolve_beneath(dir: BorrowedFd<'_>, path: &CStr, flags: libc::c_int, extra: u64) -> io::Result<OwnedFd> {
    // SAFETY: open_how is plain old data; all-zero is valid (and required for unused fields).
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = u64::try_from(flags | libc::O_CLOEXEC).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS | extra;
    loop {
        // SAFETY: `path` is NUL-terminated and `how` is a valid open_how of the size passed; the
        // kernel copies both before returning.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                path.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if rc >= 0 {
            let fd = RawFd::try_from(rc).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
            // SAFETY: the kernel just returned this new descriptor to us; nobody else owns it.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
}

/// Opens the single name `name` (no `/`) in the directory `dir` with `openat(2)` and `O_NOFOLLOW`,
/// never following a symlink: a directory as `O_PATH | O_DIRECTORY` (a symlink there fails with
/// `ENOTDIR`), a file as `O_RDONLY | O_NONBLOCK | O_NOCTTY` (a symlink fails with `ELOOP`). Always
/// `O_CLOEXEC`. The step of a component-by-component walk where `openat2` is unavailable.
///
/// # Errors
/// The raw OS error; `EINVAL` when `name` contains `/` or is empty, `.` or `..`.
pub(crate) fn openat_nofollow(dir: BorrowedFd<'_>, name: &CStr, directory: bool) -> io::Result<OwnedFd> {
    let bytes = name.to_bytes();
    if bytes.is_empty() || bytes == b"." || bytes == b".." || bytes.contains(&b'/') {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let flags = libc::O_NOFOLLOW
        | libc::O_CLOEXEC
        | if directory { libc::O_PATH | libc::O_DIRECTORY } else { libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY };
    loop {
        // SAFETY: `name` is NUL-terminated and outlives the call; `dir` is a borrowed open fd.
        let rc = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) };
        if rc >= 0 {
            // SAFETY: the kernel just returned this new descriptor to us; nobody else owns it.
            return Ok(unsafe { OwnedFd::from_raw_fd(rc) });
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
}

/// Accepts one connection from a listening socket, already non-blocking and close-on-exec. The
/// peer's address is not asked for (`getpeername` when needed).
///
/// # Errors
/// `WouldBlock` when no connection is waiting, or the error of `accept4`.
pub(crate) fn accept_nonblocking(listener: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    // SAFETY: accept4 on a descriptor we borrow, with null address pointers (allowed: the address
    // is then not stored). A non-negative result is a new descriptor nobody else owns.
    let fd = unsafe {
        libc::accept4(
            listener.as_raw_fd(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by accept4 and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets the listen backlog of a listening socket (Linux updates it when `listen` is called again;
/// the standard library binds with 128). The kernel caps it at `net.core.somaxconn`.
///
/// # Errors
/// When `listen` fails.
pub(crate) fn set_backlog(fd: BorrowedFd<'_>, backlog: i32) -> io::Result<()> {
    // SAFETY: listen on a descriptor we borrow; no memory is passed.
    if unsafe { libc::listen(fd.as_raw_fd(), backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Raises the soft limit on open files to the hard limit (each connection costs a descriptor) and
/// returns the new soft limit.
///
/// # Errors
/// When the limits cannot be read or set.
pub(crate) fn raise_nofile_limit() -> io::Result<u64> {
    // SAFETY: rlimit is plain old data; getrlimit fills it, setrlimit only reads it.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `lim` is valid for writes for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a valid rlimit read above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(lim.rlim_cur as u64)
}

/// Runs `f` with the process umask set to `mask`, then restores the previous one.
///
/// Used only at start-up, before any other thread creates files.
pub(crate) fn with_umask<T>(mask: u32, f: impl FnOnce() -> T) -> T {
    // SAFETY: umask cannot fail and touches only the process's file-creation mask.
    let old = unsafe { libc::umask(mask as libc::mode_t) };
    let out = f();
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    out
}
