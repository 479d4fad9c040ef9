//! The store seam: "does this relative path name a regular file, and what is it".
//!
//! The decision asks a [`Store`] and gets a [`Found`] file or a [`Refusal`]; the reply reads only
//! what a [`Found`] carries (its canonical name, [`FileMeta`] for validators, [`Content`] for the
//! bytes `serve` streams). Two stores: the local file system ([`LocalRoot`]: a directory opened
//! once, files opened beneath it with `openat2`) and an S3-compatible bucket ([`ObjectRoot`]:
//! `object.rs`, a SigV4-signed HEAD behind a bounded cache). [`Root`] (`root.rs`) is either one:
//! what the policy holds for each `--root`.
//!
//! The guard itself does no network I/O: an object root asks the HEAD of an
//! [`object::ObjectStore`] the configuration hands it (`src/objstore/`, shell side).
//!
//! Invariants: only regular files are found; a found name is canonical (`/`-separated, no leading
//! `/`, no `.`/`..`, no symlink) and relative to the store that found it; refusals are values and
//! only faults (EIO, EMFILE) are `Err`.
//!
//! Waiting ([`Wait`]): a lookup asked with [`Wait::Never`] answers from what is already in memory
//! or returns an `Err` whose `kind()` is [`io::ErrorKind::WouldBlock`] at once — it never waits
//! for a disk, a network or a FUSE server (the local store: `openat2` with `RESOLVE_CACHED`
//! found a component outside the dentry cache, the path crosses into another mount, follows a
//! symlink, or the root is not on a local disk or memory file system; an object store: its cache
//! has no fresh entry). With [`Wait::Allowed`] it may block; the shells then run it on their
//! bounded storage pool under `--storage-timeout` (`server/storage.rs`), and the CGI program,
//! which answers one request, asks with it directly. The decision passes `wait` through and never
//! waits itself; it names the configured root a blocked lookup was for ([`WouldWait`]), so the
//! shell can count the root's share of the pool and its health.

mod local;
pub(crate) mod object;
mod root;
mod walk;

use std::borrow::Cow;
use std::io;
use std::path::Path;
use thiserror::Error;

pub use local::Root as LocalRoot;
pub use object::ObjectRoot;
pub use root::Root;

/// Whether a lookup may wait for the file system (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Answer from memory, or fail with [`io::ErrorKind::WouldBlock`].
    Never,
    /// Block if need be (on the storage pool, or in the one-shot CGI program).
    Allowed,
}

/// The error of a decision whose lookup would have waited: its `kind()` is
/// [`io::ErrorKind::WouldBlock`], and it names the configured root (0 is the first `--root`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the lookup would wait for the file system of root {root}")]
pub(crate) struct WouldWait {
    /// The configured root the lookup was for.
    pub(crate) root: usize,
}

impl WouldWait {
    /// As an `io::Error` of kind `WouldBlock`.
    pub(crate) fn error(root: usize) -> io::Error {
        io::Error::new(io::ErrorKind::WouldBlock, WouldWait { root })
    }

    /// The root a decision's `WouldBlock` error names (root 0 when it names none); `None` for
    /// any other error.
    pub(crate) fn of(e: &io::Error) -> Option<usize> {
        if e.kind() != io::ErrorKind::WouldBlock {
            return None;
        }
        Some(e.get_ref().and_then(|inner| inner.downcast_ref::<WouldWait>()).map_or(0, |w| w.root))
    }
}

/// Why an existing-looking path is not served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Refusal {
    /// No such file (or a path component is not a directory).
    #[error("no such file")]
    NotFound,
    /// A directory, FIFO, socket or device.
    #[error("not a regular file")]
    NotRegular,
    /// A symlink whose target lies outside the root.
    #[error("symlink leads outside the root")]
    Escapes,
    /// A symlink whose target is a hidden name.
    #[error("symlink leads to a hidden file")]
    Hidden,
    /// We may not read it.
    #[error("permission denied")]
    PermissionDenied,
}

/// What the validators (`ETag`, `Last-Modified`) and `Content-Length` are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    /// Size in bytes.
    pub len: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Nanoseconds part of the modification time.
    pub mtime_nsec: i64,
    /// Inode number (or any number that changes when the file is replaced).
    pub ino: u64,
}

/// Where the bytes of a found file are read from, if xsendfiled sends them itself.
#[derive(Debug)]
pub(crate) enum Content {
    /// The local file, opened read-only: the very handle the checks were made on.
    Local(std::fs::File),
    /// An object in a bucket: the web server (or `serve`) fetches it by its key (boxed: a
    /// decision stays small).
    Object(Box<object::ObjectInfo>),
}

/// A regular file a store found.
#[derive(Debug)]
pub struct Found<'a> {
    /// Which root holds it: 0 for the store asked, `i + 1` for `others[i]` of [`Store::lookup`];
    /// the decision turns this into the configured root's number.
    pub(crate) root: usize,
    /// Canonical name relative to that root. Borrowed from the request when it was canonical.
    pub rel: Cow<'a, [u8]>,
    /// From the same handle the checks were made on.
    pub(crate) meta: FileMeta,
    /// How to read it.
    pub(crate) content: Content,
}

/// The question the decision asks of where files live.
pub(crate) trait Store: Sized {
    /// Whether `rel` (a validated [`crate::guard::path::RelPath`] string) names a regular file,
    /// and what it is. A name may lead into one of `others` (a local symlink into another
    /// configured root); [`Found::root`] then says which.
    ///
    /// With [`Wait::Never`] it must not block: it answers from memory or fails with
    /// [`io::ErrorKind::WouldBlock`] (module docs).
    ///
    /// # Errors
    /// Only faults, and `WouldBlock` under [`Wait::Never`]; every answer about the file is a
    /// [`Refusal`].
    fn lookup<'a>(
        &self,
        rel: &'a str,
        allow_hidden: bool,
        others: &[&Self],
        wait: Wait,
    ) -> io::Result<Result<Found<'a>, Refusal>>;

    /// The part of this store below `inside` (canonical, relative), as a store of its own that
    /// can never reach outside it (the server's `XSENDFILED_ROOT`).
    ///
    /// # Errors
    /// When `inside` is not a directory of this store reached without a symlink.
    fn narrow(&self, inside: &[u8]) -> io::Result<Self>;

    /// Whether the store is still the one that was opened (a replaced root refuses requests).
    fn is_current(&self) -> bool;

    /// The absolute name the web server knows the store by (backends that name files by path).
    fn path(&self) -> &Path;
}
