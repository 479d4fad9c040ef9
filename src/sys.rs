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
//! Invariants: every function checks the return value of its call and turns `-1` into
//! `io::Error::last_os_error()`; no function keeps a raw pointer past the call it was made for;
//! [`adopt_fd`] and [`accept_nonblocking`] are the only places a raw descriptor number becomes an
//! owned one.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

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
    openat2_resolve_beneath(dir, path, libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY)
}

/// Like [`openat2_beneath`], but opens a directory as `O_PATH | O_DIRECTORY | O_CLOEXEC`: a handle
/// to resolve further names beneath (a narrowed root), which needs search permission only.
///
/// # Errors
/// As [`openat2_beneath`]; `ENOTDIR` when the last component is not a directory.
pub(crate) fn openat2_dir_beneath(dir: BorrowedFd<'_>, path: &CStr) -> io::Result<OwnedFd> {
    openat2_resolve_beneath(dir, path, libc::O_PATH | libc::O_DIRECTORY)
}

fn openat2_resolve_beneath(dir: BorrowedFd<'_>, path: &CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: open_how is plain old data; all-zero is valid (and required for unused fields).
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = u64::try_from(flags | libc::O_CLOEXEC).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
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

// ---------------------------------------------------------------------------------------------
// Accounts: the user and group databases, and dropping root after start-up.
//
// 8. [`user_by_name`], [`user_by_id`], [`group_by_name`], [`group_by_id`]: `getpwnam_r`,
//    `getpwuid_r`, `getgrnam_r`, `getgrgid_r` (reentrant; the entries are copied out before the
//    buffer is freed). [`group_list`]: `getgrouplist`, a user's supplementary groups.
// 9. [`drop_privileges`]: `setgroups`, `setgid`, `setuid`, in that order, then a check that none
//    of it can be undone. [`effective_ids`]: `geteuid`/`getegid`.
// ---------------------------------------------------------------------------------------------

/// A user of the password database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserEntry {
    /// Login name.
    pub(crate) name: String,
    /// User id.
    pub(crate) uid: u32,
    /// Primary group id.
    pub(crate) gid: u32,
}

/// A group of the group database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupEntry {
    /// Group name.
    pub(crate) name: String,
    /// Group id.
    pub(crate) gid: u32,
    /// Users listed as members (users whose primary group it is are not listed).
    pub(crate) members: Vec<String>,
}

/// Largest buffer offered to the `get*_r` calls (they answer `ERANGE` when one is too small).
const MAX_DB_BUFFER: usize = 1 << 20;
/// Most group members or supplementary groups read.
const MAX_DB_LIST: usize = 65_536;

/// Copies a C string owned by a database entry.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string that lives for the call.
unsafe fn owned_str(p: *const libc::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: non-null and NUL-terminated, as the caller promises.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Runs a `getpw*_r` call with growing buffers (bounded); `None` when there is no such user.
fn passwd_lookup(
    call: impl Fn(*mut libc::passwd, *mut libc::c_char, usize, *mut *mut libc::passwd) -> libc::c_int,
) -> io::Result<Option<UserEntry>> {
    let mut size = 1024;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: passwd is plain old data; all-zero is valid before the call fills it.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = call(&mut pwd, buf.as_mut_ptr(), buf.len(), &mut found);
        match rc {
            libc::ERANGE if size < MAX_DB_BUFFER => size *= 2,
            0 if found.is_null() => return Ok(None),
            0 => {
                // SAFETY: on success the strings of `pwd` point into `buf`, alive here.
                let name = unsafe { owned_str(pwd.pw_name) };
                return Ok(Some(UserEntry { name, uid: pwd.pw_uid, gid: pwd.pw_gid }));
            }
            libc::ENOENT | libc::ESRCH => return Ok(None),
            rc => return Err(io::Error::from_raw_os_error(rc)),
        }
    }
}

/// Runs a `getgr*_r` call with growing buffers (bounded); `None` when there is no such group.
fn group_lookup(
    call: impl Fn(*mut libc::group, *mut libc::c_char, usize, *mut *mut libc::group) -> libc::c_int,
) -> io::Result<Option<GroupEntry>> {
    let mut size = 1024;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: group is plain old data; all-zero is valid before the call fills it.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        let rc = call(&mut grp, buf.as_mut_ptr(), buf.len(), &mut found);
        match rc {
            libc::ERANGE if size < MAX_DB_BUFFER => size *= 2,
            0 if found.is_null() => return Ok(None),
            0 => {
                // SAFETY: on success the strings of `grp` and the NULL-terminated member array
                // point into `buf`, alive here; the walk stops at NULL or MAX_DB_LIST.
                let (name, members) = unsafe {
                    let mut members = Vec::new();
                    let mut p = grp.gr_mem;
                    while !p.is_null() && !(*p).is_null() && members.len() < MAX_DB_LIST {
                        members.push(owned_str(*p));
                        p = p.add(1);
                    }
                    (owned_str(grp.gr_name), members)
                };
                return Ok(Some(GroupEntry { name, gid: grp.gr_gid, members }));
            }
            libc::ENOENT | libc::ESRCH => return Ok(None),
            rc => return Err(io::Error::from_raw_os_error(rc)),
        }
    }
}

/// The user named `name`, if any.
///
/// # Errors
/// When the database cannot be read; a name with a NUL byte is no user.
pub(crate) fn user_by_name(name: &str) -> io::Result<Option<UserEntry>> {
    let Ok(c) = std::ffi::CString::new(name) else { return Ok(None) };
    // SAFETY: `c` is NUL-terminated; the other pointers and the length describe live buffers.
    passwd_lookup(|pwd, buf, len, found| unsafe { libc::getpwnam_r(c.as_ptr(), pwd, buf, len, found) })
}

/// The user with id `uid`, if any.
///
/// # Errors
/// When the database cannot be read.
pub(crate) fn user_by_id(uid: u32) -> io::Result<Option<UserEntry>> {
    // SAFETY: the pointers and the length describe live buffers.
    passwd_lookup(|pwd, buf, len, found| unsafe { libc::getpwuid_r(uid, pwd, buf, len, found) })
}

/// The group named `name`, if any.
///
/// # Errors
/// When the database cannot be read; a name with a NUL byte is no group.
pub(crate) fn group_by_name(name: &str) -> io::Result<Option<GroupEntry>> {
    let Ok(c) = std::ffi::CString::new(name) else { return Ok(None) };
    // SAFETY: `c` is NUL-terminated; the other pointers and the length describe live buffers.
    group_lookup(|grp, buf, len, found| unsafe { libc::getgrnam_r(c.as_ptr(), grp, buf, len, found) })
}

/// The group with id `gid`, if any.
///
/// # Errors
/// When the database cannot be read.
pub(crate) fn group_by_id(gid: u32) -> io::Result<Option<GroupEntry>> {
    // SAFETY: the pointers and the length describe live buffers.
    group_lookup(|grp, buf, len, found| unsafe { libc::getgrgid_r(gid, grp, buf, len, found) })
}

/// The groups `user` belongs to, `gid` included (what `initgroups` would set).
///
/// # Errors
/// When the list cannot be read, or `user` has a NUL byte.
pub(crate) fn group_list(user: &str, gid: u32) -> io::Result<Vec<u32>> {
    let c = std::ffi::CString::new(user).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut groups: Vec<libc::gid_t> = vec![0; 64];
    // Two rounds at most: the first tells the size when 64 was too few.
    for _ in 0..2 {
        let mut n = libc::c_int::try_from(groups.len()).unwrap_or(libc::c_int::MAX);
        // SAFETY: `c` is NUL-terminated; `groups` has room for `n` entries, and the call writes
        // at most that many (it returns -1 and the needed count otherwise).
        let rc = unsafe { libc::getgrouplist(c.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
        let n = usize::try_from(n).unwrap_or(0).min(MAX_DB_LIST);
        if rc >= 0 {
            groups.truncate(n);
            return Ok(groups);
        }
        if n <= groups.len() {
            break;
        }
        groups.resize(n, 0);
    }
    Err(io::Error::other(format!("cannot list the groups of {user}")))
}

/// The effective user and group ids of this process.
pub(crate) fn effective_ids() -> (u32, u32) {
    // SAFETY: geteuid and getegid cannot fail and touch no memory.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

/// Becomes `uid`/`gid` with exactly `groups` as supplementary groups, for good: `setgroups`,
/// `setgid`, `setuid` (as root each sets the real, effective and saved ids), then checks every id
/// and that root cannot be regained. Call it while the process has one thread.
///
/// # Errors
/// The failing call, or a check that found an id other than asked.
pub(crate) fn drop_privileges(uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
    let fail = |what: &str| {
        let e = io::Error::last_os_error();
        io::Error::new(e.kind(), format!("{what}: {e}"))
    };
    // SAFETY: `groups` is a live slice of `len` gid_t values, only read by the call.
    if unsafe { libc::setgroups(groups.len(), groups.as_ptr()) } != 0 {
        return Err(fail("setgroups"));
    }
    // SAFETY: no memory is passed.
    if unsafe { libc::setgid(gid) } != 0 {
        return Err(fail("setgid"));
    }
    // SAFETY: no memory is passed.
    if unsafe { libc::setuid(uid) } != 0 {
        return Err(fail("setuid"));
    }
    let (mut r, mut e, mut s) = (0, 0, 0);
    let (mut rg, mut eg, mut sg) = (0, 0, 0);
    // SAFETY: the six pointers are to live locals, written by the calls.
    let ok = unsafe { libc::getresuid(&mut r, &mut e, &mut s) == 0 && libc::getresgid(&mut rg, &mut eg, &mut sg) == 0 };
    if !ok || [r, e, s] != [uid; 3] || [rg, eg, sg] != [gid; 3] {
        return Err(io::Error::other(format!(
            "after dropping privileges the ids are uid {r}/{e}/{s} gid {rg}/{eg}/{sg}, not {uid}/{gid}"
        )));
    }
    // SAFETY: no memory is passed; both calls must fail for an unprivileged user.
    if uid != 0 && (unsafe { libc::setuid(0) } == 0 || unsafe { libc::setgid(0) } == 0 && gid != 0) {
        return Err(io::Error::other("root could be regained after dropping privileges"));
    }
    Ok(())
}
