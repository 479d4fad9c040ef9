//! The user and group databases, and dropping root after start-up (the `sys` calls for
//! `--user`/`--group`/`--socket-group`).
//!
//! - [`user_by_name`], [`user_by_id`], [`group_by_name`], [`group_by_id`]: `getpwnam_r`,
//!   `getpwuid_r`, `getgrnam_r`, `getgrgid_r` (reentrant; each entry is copied out before its
//!   buffer is freed, buffers grow on `ERANGE` up to 1 MiB). [`group_list`]: `getgrouplist`, a
//!   user's supplementary groups.
//! - [`drop_privileges`]: `setgroups`, `setgid`, `setuid`, in that order, then a check that none of
//!   it can be undone. [`effective_ids`]: `geteuid`/`getegid`.
//!
//! Invariants: as for the rest of `sys`; no pointer from a database entry outlives the lookup.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::io;

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

/// Whether this process (its effective ids) may create files in the directory `dir`
/// (`faccessat(W_OK | X_OK, AT_EACCESS)`).
pub(crate) fn can_create_in(dir: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else { return false };
    // SAFETY: `c` is a live NUL-terminated string; faccessat touches no other memory.
    unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK | libc::X_OK, libc::AT_EACCESS) == 0 }
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
