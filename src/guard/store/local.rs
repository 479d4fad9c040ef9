//! The local store: a validated relative path becomes an open regular file under a root
//! directory, or a refusal (confinement).
//!
//! The root is canonicalised and opened (`O_PATH | O_DIRECTORY`) once at start-up. Per request:
//!
//! 1. **Fast path**: `openat2(root_fd, rel, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`. It succeeds
//!    only when no component is a symlink and nothing leaves the root, so the path asked for *is*
//!    the canonical path: no `realpath`, no string comparison, one syscall, no race.
//! 2. **Symlink path** (`ELOOP`, or when `openat2` is unavailable): the path is canonicalised
//!    (`realpath`), and the result must lie under the root **component by component** — root
//!    `/srv/docs` never admits `/srv/docs-private` (the wsgi-xsendfile `startswith` bug). The
//!    canonical relative path is then re-checked for hidden segments and opened again **from the
//!    holding root's handle**, never by path name: with `RESOLVE_NO_SYMLINKS`, or without
//!    `openat2` one `openat(O_NOFOLLOW)` per component. A link swapped in between the two steps
//!    makes the open fail rather than escape.
//!
//! A narrowed root (the server's `XSENDFILED_ROOT`, a directory inside a configured root) is
//! opened the same way, beneath the configured root's handle ([`Root::open_beneath`]): renaming a
//! symlink over it cannot make the requests that follow resolve outside the configured root.
//! 3. `fstat` on the opened handle: only regular files pass; directories and the root are 404.
//!
//! Asked not to wait ([`Wait::Never`], the shells' first try), only step 1 runs, and only on a root
//! that lies on a local disk or memory file system ([`crate::sys::is_local_fast`], checked when the
//! root is opened): `openat2` with `RESOLVE_CACHED | RESOLVE_NO_XDEV` answers from the dentry cache
//! or fails at once, and the `fstat` of a file on such a file system reads the in-memory inode.
//! Everything else is `WouldBlock` and runs on the shell's storage pool: a component not cached
//! (`EAGAIN`), a path into another mount (`EXDEV`: a FUSE or NFS mount below the root), a symlink
//! (`ELOOP`: `realpath` walks paths we do not control), and every lookup under a root on NFS,
//! CephFS, CIFS, FUSE or an unknown file system, whose `open` and `fstat` may go over the network
//! even for a cached name. On a kernel without `RESOLVE_CACHED` (before 5.12) the inline try is a
//! plain `openat2` with `RESOLVE_NO_XDEV`: a cold lookup on a local disk, never a network wait.
//!
//! Outcomes: missing or not a directory on the way → [`Refusal::NotFound`]; not a regular file →
//! [`Refusal::NotRegular`]; a symlink leading out of the root → [`Refusal::Escapes`]; a symlink
//! leading to a hidden name → [`Refusal::Hidden`]; no read permission → [`Refusal::PermissionDenied`]
//! (403). Anything else (EIO, EMFILE) is an `Err`: a fault, not a decision.
//!
//! SECURITY: the web server opens the file again after we answer (X-Accel-Redirect, X-Sendfile),
//! so a local user who can rename files under the root could swap a path between our check and its
//! open. That window is closed in the server, not here: nginx `disable_symlinks on`, lighttpd
//! `server.follow-symlink = "disable"` (see conf-examples/ and SECURITY.md).

mod cached;

use super::walk::{c_path, classify, finish, walk_nofollow, CPath, C_PATH_STACK};
use super::{Found, Refusal, Store, Wait};
use crate::sys;
use cached::Inline;
use std::borrow::Cow;
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The configured root directory, canonical and open.
#[derive(Debug)]
pub struct Root {
    path: PathBuf,
    configured: PathBuf,
    id: (u64, u64),
    dir: OwnedFd,
    openat2: AtomicBool,
    /// How a lookup that may not wait is tried (see the module docs).
    inline: Inline,
    opened: std::time::Instant,
    /// Milliseconds after `opened` of the last identity check, and its result.
    checked_ms: std::sync::atomic::AtomicU64,
    current: AtomicBool,
}

/// How long an identity check of the root is trusted (see [`Root::is_current`]).
pub(crate) const ROOT_CHECK_INTERVAL_MS: u64 = 1000;

impl Root {
    /// Canonicalises and opens `path`.
    ///
    /// # Errors
    /// When it does not exist, is not a directory or cannot be opened.
    pub(crate) fn open(path: &Path) -> io::Result<Root> {
        let canonical = std::fs::canonicalize(path)?;
        let dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(&canonical)?;
        let dir: OwnedFd = dir.into();
        // Probe once: a kernel older than 5.6 says ENOSYS, a seccomp filter EPERM or ENOSYS.
        let openat2 = match sys::openat2_beneath(dir.as_fd(), c".") {
            Ok(_) => true,
            Err(e) => {
                log::warn!("openat2 unavailable ({e}); resolving with realpath instead");
                false
            }
        };
        let md = std::fs::metadata(&canonical)?;
        let inline = Inline::probe(dir.as_fd(), openat2);
        if inline == Inline::Never {
            log::info!(
                "root {}: not on a local file system; every lookup runs on the storage pool",
                canonical.display()
            );
        }
        Ok(Root {
            path: canonical,
            configured: path.to_owned(),
            id: (md.dev(), md.ino()),
            dir,
            openat2: AtomicBool::new(openat2),
            inline,
            opened: std::time::Instant::now(),
            checked_ms: std::sync::atomic::AtomicU64::new(0),
            current: AtomicBool::new(true),
        })
    }

    /// Opens the directory `inside` (canonical, relative to `holder`, `/`-separated, no `.` or
    /// `..`) **from `holder`'s handle**, never by its path name: `openat2(RESOLVE_BENEATH |
    /// RESOLVE_NO_SYMLINKS)`, or without `openat2` one `openat(O_NOFOLLOW)` per component. A
    /// symlink anywhere on the way, including one swapped in after `inside` was computed, makes
    /// the open fail, so the result is a directory inside `holder`. Used for a narrowed root
    /// (`XSENDFILED_ROOT`); the result is not [`Root::is_current`]-checked (it lives for one
    /// request).
    ///
    /// # Errors
    /// `ELOOP`/`ENOTDIR`/`EXDEV` for a symlink or escape, `ENOENT` and the like as `openat(2)`.
    fn open_beneath(holder: &Root, inside: &[u8]) -> io::Result<Root> {
        let dir = holder.open_in(inside, true)?;
        let file = File::from(dir);
        let md = file.metadata()?;
        if !md.is_dir() {
            return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
        }
        let path = holder.path.join(std::ffi::OsStr::from_bytes(inside));
        let dir: OwnedFd = file.into();
        // A narrowed root is opened on the storage pool and lives for one lookup there: it is
        // never tried inline (its directory may be another mount, whose statfs could wait).
        let inline = Inline::Never;
        Ok(Root {
            configured: path.clone(),
            path,
            id: (md.dev(), md.ino()),
            dir,
            openat2: AtomicBool::new(holder.uses_openat2()),
            inline,
            opened: std::time::Instant::now(),
            checked_ms: std::sync::atomic::AtomicU64::new(0),
            current: AtomicBool::new(true),
        })
    }

    /// Opens `inside` (relative, canonical) beneath this root's handle without following any
    /// symlink: `openat2` when the kernel has it, else a component-by-component `openat` walk.
    fn open_in(&self, inside: &[u8], directory: bool) -> io::Result<OwnedFd> {
        if inside.split(|&b| b == b'/').any(|c| c.is_empty() || c == b"." || c == b"..") {
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        }
        if self.uses_openat2() {
            let c = CString::new(inside).map_err(|_| io::Error::from_raw_os_error(libc::ENOENT))?;
            let opened = if directory {
                sys::openat2_dir_beneath(self.dir.as_fd(), &c)
            } else {
                sys::openat2_beneath(self.dir.as_fd(), &c)
            };
            match opened {
                Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {}
                other => return other,
            }
        }
        walk_nofollow(self.dir.as_fd(), inside, directory)
    }

    /// The canonical root path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the configured path still names the directory that was opened. A root that was
    /// removed, renamed away or replaced (a new directory, or a symlink swapped to another one)
    /// would otherwise be checked in the old tree while the server sends from the new one; until
    /// it is back, or SIGHUP opens the new one, its requests are refused. The `stat` behind this
    /// runs at most once per [`ROOT_CHECK_INTERVAL_MS`] (PERF: per request it cost 0.9 µs, 40% of
    /// a decision), so a replacement is noticed within a second.
    pub(crate) fn is_current(&self) -> bool {
        let now = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.checked_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < ROOT_CHECK_INTERVAL_MS && last != 0 {
            return self.current.load(Ordering::Relaxed);
        }
        let current = std::fs::metadata(&self.configured).is_ok_and(|m| (m.dev(), m.ino()) == self.id);
        self.current.store(current, Ordering::Relaxed);
        self.checked_ms.store(now.max(1), Ordering::Relaxed);
        current
    }

    /// Whether the race-free `openat2` fast path is in use (false after the kernel refused it).
    pub fn uses_openat2(&self) -> bool {
        self.openat2.load(Ordering::Relaxed)
    }

    /// Turns the `openat2` fast path off or back on (when the kernel has it). For tests and
    /// benchmarks of the `realpath` path, which is what runs on kernels without `openat2`.
    #[doc(hidden)]
    pub fn set_openat2(&self, on: bool) {
        self.openat2.store(on && sys::openat2_beneath(self.dir.as_fd(), c".").is_ok(), Ordering::Relaxed);
    }

    #[cfg(test)]
    /// Resolves `rel` (a validated [`crate::guard::path::RelPath`] string) to an open regular file.
    ///
    /// # Errors
    /// Only for faults (I/O errors other than the refusals listed in the module docs).
    fn resolve<'a>(&self, rel: &'a str, allow_hidden: bool) -> io::Result<Result<Found<'a>, Refusal>> {
        self.resolve_among(rel, allow_hidden, &[])
    }

    /// Like [`Root::resolve`], but a symlink may also lead into one of `others` (the other
    /// configured roots); the file is then opened through that root's handle, and
    /// [`Found::root`] says which.
    ///
    /// # Errors
    /// Only for faults.
    fn resolve_among<'a>(
        &self,
        rel: &'a str,
        allow_hidden: bool,
        others: &[&Root],
    ) -> io::Result<Result<Found<'a>, Refusal>> {
        if rel.as_bytes().contains(&0) {
            return Ok(Err(Refusal::NotFound));
        }
        if self.uses_openat2() {
            let mut stack = [0u8; C_PATH_STACK];
            let opened = match c_path(rel.as_bytes(), &mut stack) {
                Some(CPath::Stack(c)) => sys::openat2_beneath(self.dir.as_fd(), c),
                Some(CPath::Heap(c)) => sys::openat2_beneath(self.dir.as_fd(), &c),
                None => return Ok(Err(Refusal::NotFound)),
            };
            match opened {
                Ok(fd) => return Ok(finish(0, Cow::Borrowed(rel.as_bytes()), fd)),
                Err(e) => match e.raw_os_error() {
                    Some(libc::ELOOP) | Some(libc::EXDEV) => {}
                    Some(libc::ENOSYS) => {
                        log::warn!("openat2 went away ({e}); resolving with realpath instead");
                        self.openat2.store(false, Ordering::Relaxed);
                    }
                    _ => return classify(e).map(Err),
                },
            }
        }
        self.resolve_by_realpath(rel, allow_hidden, others)
    }

    fn resolve_by_realpath<'a>(
        &self,
        rel: &str,
        allow_hidden: bool,
        others: &[&Root],
    ) -> io::Result<Result<Found<'a>, Refusal>> {
        let canonical = match std::fs::canonicalize(self.path.join(rel)) {
            Ok(c) => c,
            Err(e) => return classify(e).map(Err),
        };
        // Component-wise containment (Path::strip_prefix compares whole components), in this root
        // first, else in the most specific other root that holds it.
        let holder = std::iter::once((0usize, self))
            .chain(others.iter().enumerate().map(|(i, r)| (i + 1, *r)))
            .filter(|(_, r)| canonical.starts_with(&r.path))
            .max_by_key(|(i, r)| (*i == 0, r.path.components().count()));
        let Some((index, holder)) = holder else {
            return Ok(Err(Refusal::Escapes));
        };
        let Ok(inside) = canonical.strip_prefix(&holder.path) else {
            return Ok(Err(Refusal::Escapes));
        };
        let inside = inside.as_os_str().as_bytes();
        if inside.is_empty() {
            return Ok(Err(Refusal::NotRegular));
        }
        if !allow_hidden && inside.split(|&b| b == b'/').any(|s| s.first() == Some(&b'.')) {
            return Ok(Err(Refusal::Hidden));
        }
        // Opened from the holder's handle, never by the canonical path name: a directory on the
        // way swapped for a symlink since `realpath` makes this fail instead of escaping.
        match holder.open_in(inside, false) {
            Ok(fd) => Ok(finish(index, Cow::Owned(inside.to_vec()), fd)),
            // The canonical path contains no symlink; one now means it changed under us.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::EXDEV)) => Ok(Err(Refusal::NotFound)),
            Err(e) => classify(e).map(Err),
        }
    }
}

impl Store for Root {
    fn lookup<'a>(
        &self,
        rel: &'a str,
        allow_hidden: bool,
        others: &[&Root],
        wait: Wait,
    ) -> io::Result<Result<Found<'a>, Refusal>> {
        match wait {
            Wait::Never => self.resolve_inline(rel),
            Wait::Allowed => self.resolve_among(rel, allow_hidden, others),
        }
    }

    fn narrow(&self, inside: &[u8]) -> io::Result<Root> {
        Root::open_beneath(self, inside)
    }

    fn is_current(&self) -> bool {
        Root::is_current(self)
    }

    fn path(&self) -> &Path {
        Root::path(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// root/{d/f.txt, d/sub/g.txt, ld -> d, out -> ../outside}, outside/f.txt.
    fn tree() -> (tempfile::TempDir, Root) {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path().join("root");
        std::fs::create_dir_all(root.join("d/sub")).expect("mkdir");
        std::fs::create_dir_all(t.path().join("outside")).expect("mkdir");
        std::fs::write(root.join("d/f.txt"), "in\n").expect("write");
        std::fs::write(root.join("d/sub/g.txt"), "g\n").expect("write");
        std::fs::write(t.path().join("outside/f.txt"), "secret\n").expect("write");
        symlink("d", root.join("ld")).expect("symlink");
        symlink("../outside", root.join("out")).expect("symlink");
        let r = Root::open(&root).expect("open root");
        (t, r)
    }

    fn read(f: &mut File) -> String {
        let mut s = String::new();
        std::io::Read::read_to_string(f, &mut s).expect("read");
        s
    }

    fn content(found: &mut Found<'_>) -> String {
        match &mut found.content {
            super::super::Content::Local(f) => read(f),
            super::super::Content::Object(_) => panic!("a local root finds local files"),
        }
    }

    #[test]
    fn a_narrowed_base_is_opened_beneath_the_holder_and_never_through_a_symlink() {
        let (_t, root) = tree();
        for openat2 in [true, false] {
            root.set_openat2(openat2);
            let narrowed = Root::open_beneath(&root, b"d").expect("a real directory opens");
            let mut f = narrowed.resolve("f.txt", false).expect("no fault").expect("served");
            assert_eq!(content(&mut f), "in\n");
            assert_eq!(narrowed.path(), root.path().join("d"));
            assert!(Root::open_beneath(&root, b"d/sub").is_ok());
            // A symlink at open time, whether it stays inside or leads out, is refused.
            for bad in [&b"out"[..], b"ld", b"ld/sub", b"d/../out", b"../outside", b"/etc", b"", b"d//sub", b"d/f.txt"]
            {
                assert!(
                    Root::open_beneath(&root, bad).is_err(),
                    "{} (openat2 {openat2})",
                    String::from_utf8_lossy(bad)
                );
            }
        }
    }

    #[test]
    fn the_walk_without_openat2_follows_no_symlink() {
        let (_t, root) = tree();
        let dir = root.dir.as_fd();
        let mut f = File::from(walk_nofollow(dir, b"d/sub/g.txt", false).expect("plain path"));
        assert_eq!(read(&mut f), "g\n");
        let err = |p: &[u8], directory: bool| walk_nofollow(dir, p, directory).expect_err("refused").raw_os_error();
        assert_eq!(err(b"out/f.txt", false), Some(libc::ENOTDIR), "a symlinked directory on the way");
        assert_eq!(err(b"ld/f.txt", false), Some(libc::ENOTDIR), "even one that stays inside");
        assert_eq!(err(b"ld", true), Some(libc::ENOTDIR), "a symlink as the last directory");
        symlink("f.txt", root.path().join("d/lf")).expect("symlink");
        assert_eq!(err(b"d/lf", false), Some(libc::ELOOP), "a symlink as the last file");
        for p in [&b""[..], b"..", b"d/../d/f.txt", b"./d/f.txt", b"d//f.txt", b"/d/f.txt"] {
            assert_eq!(err(p, false), Some(libc::ENOENT), "{}", String::from_utf8_lossy(p));
        }
    }

    #[test]
    fn the_realpath_fallback_still_serves_symlinks_inside_and_refuses_ones_out() {
        let (_t, root) = tree();
        root.set_openat2(false);
        let mut f = root.resolve("ld/f.txt", false).expect("no fault").expect("served via the link");
        assert_eq!(content(&mut f), "in\n");
        assert_eq!(&*f.rel, b"d/f.txt");
        assert_eq!(root.resolve("out/f.txt", false).expect("no fault").map(|_| ()), Err(Refusal::Escapes));
    }
}
