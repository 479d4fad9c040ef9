//! The system-call side of the local store: the `openat(O_NOFOLLOW)` walk used where `openat2` is
//! missing, C strings for paths (on the stack when short: no allocation per request), and the
//! mapping of an opened handle or an `errno` to a found file or a refusal.
//!
//! Invariant: every open here is relative to a directory handle and follows no symlink.

use super::{Content, FileMeta, Found, Refusal};
use crate::sys;
use std::borrow::Cow;
use std::ffi::{CStr, CString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

/// Opens `rel` beneath `dir` one component at a time with `openat(O_NOFOLLOW)`: every directory
/// on the way as `O_PATH | O_DIRECTORY`, the last one as asked. A symlink at any step fails
/// (`ENOTDIR` or `ELOOP`); an empty, `.` or `..` component is `ENOENT` (a canonical path has none).
/// Bounded by the number of components.
pub(super) fn walk_nofollow(dir: std::os::fd::BorrowedFd<'_>, rel: &[u8], directory: bool) -> io::Result<OwnedFd> {
    let not_found = || io::Error::from_raw_os_error(libc::ENOENT);
    let mut parts = rel.split(|&b| b == b'/').peekable();
    let mut current: Option<OwnedFd> = None;
    while let Some(part) = parts.next() {
        if part.is_empty() || part == b"." || part == b".." {
            return Err(not_found());
        }
        let name = CString::new(part).map_err(|_| not_found())?;
        let last = parts.peek().is_none();
        let at = current.as_ref().map_or(dir, |fd| fd.as_fd());
        let next = sys::openat_nofollow(at, &name, !last || directory)?;
        current = Some(next);
    }
    current.ok_or_else(not_found)
}

/// Paths shorter than this become C strings on the stack (no allocation per request).
pub(super) const C_PATH_STACK: usize = 512;

pub(super) enum CPath<'s> {
    Stack(&'s CStr),
    Heap(CString),
}

/// `path` NUL-terminated: in `stack` when it fits, else on the heap; `None` when it holds a NUL.
pub(super) fn c_path<'s>(path: &[u8], stack: &'s mut [u8; C_PATH_STACK]) -> Option<CPath<'s>> {
    if path.len() < stack.len() {
        stack[..path.len()].copy_from_slice(path);
        stack[path.len()] = 0;
        CStr::from_bytes_with_nul(&stack[..=path.len()]).ok().map(CPath::Stack)
    } else {
        CString::new(path).ok().map(CPath::Heap)
    }
}

/// The found file for an opened handle: `fstat` on it, only regular files pass.
pub(super) fn finish(root: usize, rel: Cow<'_, [u8]>, fd: OwnedFd) -> Result<Found<'_>, Refusal> {
    let file = File::from(fd);
    let Ok(md) = file.metadata() else {
        return Err(Refusal::NotFound);
    };
    if !md.file_type().is_file() {
        return Err(Refusal::NotRegular);
    }
    let meta = FileMeta { len: md.len(), mtime: md.mtime(), mtime_nsec: md.mtime_nsec(), ino: md.ino() };
    Ok(Found { root, rel, meta, content: Content::Local(file) })
}

/// Maps the errors that are answers to refusals; everything else stays a fault.
pub(super) fn classify(e: io::Error) -> io::Result<Refusal> {
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ENOTDIR) | Some(libc::ENAMETOOLONG) | Some(libc::ELOOP) => {
            Ok(Refusal::NotFound)
        }
        Some(libc::EACCES) | Some(libc::EPERM) => Ok(Refusal::PermissionDenied),
        Some(libc::ENXIO) | Some(libc::ENODEV) | Some(libc::EISDIR) => Ok(Refusal::NotRegular),
        _ => Err(e),
    }
}
