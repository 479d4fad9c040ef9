//! The local store's lookup that never waits ([`Wait::Never`](crate::guard::store::Wait)): step 1
//! of `local.rs` with `RESOLVE_CACHED | RESOLVE_NO_XDEV`, on a root known to lie on a local disk or
//! memory file system, and `WouldBlock` for everything else (see the `local.rs` module docs).
//!
//! Invariant: nothing here waits for a file system: no `realpath`, no `stat` by name, no open
//! that may leave the dentry cache or cross into another mount.

use super::super::walk::{c_path, classify, finish, CPath, C_PATH_STACK};
use super::super::{Found, Refusal};
use super::Root;
use crate::sys;
use std::borrow::Cow;
use std::io;
use std::os::fd::AsFd;

/// How a lookup under [`Wait::Never`](crate::guard::store::Wait::Never) is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Inline {
    /// `openat2(RESOLVE_CACHED | RESOLVE_NO_XDEV)`: a local root on Linux ≥ 5.12.
    Cached,
    /// `openat2(RESOLVE_NO_XDEV)`: a local root on a kernel without `RESOLVE_CACHED`.
    Uncached,
    /// Not at all: the root is not on a local disk or memory file system, or has no `openat2`.
    Never,
}

impl Inline {
    /// Probes the kernel on `dir` (`"."` opened both ways).
    pub(super) fn probe(dir: std::os::fd::BorrowedFd<'_>, openat2: bool) -> Inline {
        if !openat2 || !sys::is_local_fast(dir) {
            Inline::Never
        } else if sys::openat2_cached_beneath(dir, c".").is_ok() {
            Inline::Cached
        } else {
            Inline::Uncached
        }
    }
}

impl Root {
    /// Step 1 only, without waiting for the file system (module docs): the found file, a refusal
    /// the cache could give, or `WouldBlock`.
    ///
    /// # Errors
    /// `WouldBlock` when the answer needs the file system; faults as [`Root::resolve_among`].
    pub(super) fn resolve_inline<'a>(&self, rel: &'a str) -> io::Result<Result<Found<'a>, Refusal>> {
        let would_block = || Err(io::Error::from(io::ErrorKind::WouldBlock));
        if rel.as_bytes().contains(&0) {
            return Ok(Err(Refusal::NotFound));
        }
        if self.inline == Inline::Never || !self.uses_openat2() {
            return would_block();
        }
        let mut stack = [0u8; C_PATH_STACK];
        let open = |c: &std::ffi::CStr| match self.inline {
            Inline::Cached => sys::openat2_cached_beneath(self.dir.as_fd(), c),
            _ => sys::openat2_uncached_beneath(self.dir.as_fd(), c),
        };
        let opened = match c_path(rel.as_bytes(), &mut stack) {
            Some(CPath::Stack(c)) => open(c),
            Some(CPath::Heap(c)) => open(&c),
            None => return Ok(Err(Refusal::NotFound)),
        };
        match opened {
            Ok(fd) => Ok(finish(0, Cow::Borrowed(rel.as_bytes()), fd)),
            Err(e) => match e.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::ELOOP) | Some(libc::EXDEV) | Some(libc::ENOSYS)
                | Some(libc::EINVAL) => would_block(),
                _ => classify(e).map(Err),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::store::{Store, Wait};

    fn would_block<T>(r: io::Result<T>) -> bool {
        matches!(r, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    #[test]
    fn only_what_memory_can_answer_is_answered_without_waiting() {
        let t = tempfile::tempdir().expect("tempdir");
        std::fs::write(t.path().join("f.txt"), "f\n").expect("write");
        std::os::unix::fs::symlink("f.txt", t.path().join("link.txt")).expect("symlink");
        let root = Root::open(t.path()).expect("root");
        if root.inline == Inline::Never {
            // A temp dir on a network or FUSE file system: nothing is tried inline at all.
            assert!(would_block(root.lookup("f.txt", false, &[], Wait::Never)));
            return;
        }
        // Written just now: its dentry is cached.
        let found = root.lookup("f.txt", false, &[], Wait::Never).expect("no fault").expect("found");
        assert_eq!(&*found.rel, b"f.txt");
        // A name never looked up has no dentry, not even a negative one (with RESOLVE_CACHED).
        if root.inline == Inline::Cached {
            assert!(would_block(root.lookup("never-seen.txt", false, &[], Wait::Never)));
        }
        // Once looked up by a lookup that may wait, its absence is known from memory.
        assert_eq!(
            root.lookup("never-seen.txt", false, &[], Wait::Allowed).expect("no fault").err(),
            Some(Refusal::NotFound)
        );
        assert_eq!(
            root.lookup("never-seen.txt", false, &[], Wait::Never).expect("no fault").err(),
            Some(Refusal::NotFound)
        );
        // A symlink needs realpath: never inline, answered when waiting is allowed.
        assert!(would_block(root.lookup("link.txt", false, &[], Wait::Never)));
        assert!(root.lookup("link.txt", false, &[], Wait::Allowed).expect("no fault").is_ok());
        // Without openat2 (old kernels, seccomp) nothing is tried inline either.
        root.set_openat2(false);
        assert!(would_block(root.lookup("f.txt", false, &[], Wait::Never)));
    }
}
