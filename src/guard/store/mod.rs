//! The store seam: "does this relative path name a regular file, and what is it".
//!
//! The decision asks a [`Store`] and gets a [`Found`] file or a [`Refusal`]; the reply reads only
//! what a [`Found`] carries (its canonical name, [`FileMeta`] for validators, [`Content`] for the
//! bytes `serve` streams). Two stores: the local file system ([`LocalRoot`]: a directory opened
//! once, files opened beneath it with `openat2`) and an S3-compatible bucket ([`ObjectRoot`]:
//! `object.rs`, a SigV4-signed HEAD behind a bounded cache). [`Root`] (`root.rs`) is either one:
//! what the policy holds for each `--root`.
//!
//! Blocking: [`Store::lookup`] takes a [`Wait`]. With [`Wait::Never`] a store answers without
//! blocking or fails with [`io::ErrorKind::WouldBlock`]; with [`Wait::Allowed`] it may block (a
//! local `openat2`, an object store's HEAD under its own timeout). The guard itself does no
//! network I/O: an object root asks the HEAD of an [`object::ObjectStore`] the configuration
//! hands it (`src/objstore/`, shell side).
//!
//! Invariants: only regular files are found; a found name is canonical (`/`-separated, no leading
//! `/`, no `.`/`..`, no symlink) and relative to the store that found it; refusals are values and
//! only faults (EIO, EMFILE) are `Err`.

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

/// Whether a [`Store::lookup`] may block the calling thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Answer now (from memory) or fail with [`io::ErrorKind::WouldBlock`].
    Never,
    /// Block if needed (a HEAD to the object store, under the store's own timeout).
    Allowed,
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
    /// An object in a bucket: the web server (or `serve`) fetches it by its key.
    Object(object::ObjectInfo),
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
    /// # Errors
    /// Only faults; every answer about the file is a [`Refusal`].
    /// With [`Wait::Never`] it answers without blocking or fails with
    /// [`io::ErrorKind::WouldBlock`] (the shell then asks again where it may wait).
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
