//! A configured root: a local directory or an object-store location, mixed freely (the policy
//! holds one [`Root`] per `--root`).
//!
//! Invariant: a lookup never crosses kinds. A local symlink may lead into another *local* root
//! (its [`Found::root`] then names that one among all roots); a bucket has no links.

use super::{Found, LocalRoot, ObjectRoot, Refusal, Store, Wait};
use std::io;
use std::path::Path;

/// One `--root`.
#[derive(Debug)]
pub enum Root {
    /// A directory on this machine.
    Local(LocalRoot),
    /// `s3://BUCKET[/PREFIX]`.
    Object(ObjectRoot),
}

impl Root {
    /// Opens the local directory `path` (see [`LocalRoot::open`]).
    ///
    /// # Errors
    /// When it does not exist, is not a directory or cannot be opened.
    pub(crate) fn open(path: &Path) -> io::Result<Root> {
        LocalRoot::open(path).map(Root::Local)
    }

    /// The object-store root, if this is one.
    pub fn as_object(&self) -> Option<&ObjectRoot> {
        match self {
            Root::Object(o) => Some(o),
            Root::Local(_) => None,
        }
    }

    /// The canonical path of a local root; `s3://BUCKET/PREFIX` for an object root.
    pub(crate) fn path(&self) -> &Path {
        Store::path(self)
    }

    /// Whether the root is still the one that was opened (see [`Store::is_current`]; an object
    /// root always is: whether its store answers is `ObjectStats::reachable`).
    pub(crate) fn is_current(&self) -> bool {
        Store::is_current(self)
    }

    /// Whether the race-free `openat2` fast path is in use (true for an object root: no paths).
    pub fn uses_openat2(&self) -> bool {
        match self {
            Root::Local(l) => l.uses_openat2(),
            Root::Object(_) => true,
        }
    }

    /// Turns a local root's `openat2` fast path off or back on (tests and benchmarks).
    #[doc(hidden)]
    pub fn set_openat2(&self, on: bool) {
        if let Root::Local(l) = self {
            l.set_openat2(on);
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
        match self {
            Root::Object(o) => o.lookup(rel, allow_hidden, &[], wait),
            Root::Local(l) => {
                // Only local roots can be reached by a symlink; `Found::root` counts among all
                // of `others`, so the local ones keep their position. (None: no allocation.)
                let locals: Vec<(usize, &LocalRoot)> = others
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| match r {
                        Root::Local(l) => Some((i + 1, l)),
                        Root::Object(_) => None,
                    })
                    .collect();
                let refs: Vec<&LocalRoot> = locals.iter().map(|(_, l)| *l).collect();
                Ok(l.lookup(rel, allow_hidden, &refs, wait)?.map(|mut f| {
                    f.root = match f.root {
                        0 => 0,
                        k => locals.get(k - 1).map_or(0, |(i, _)| *i),
                    };
                    f
                }))
            }
        }
    }

    fn narrow(&self, inside: &[u8]) -> io::Result<Root> {
        match self {
            Root::Local(l) => l.narrow(inside).map(Root::Local),
            Root::Object(o) => o.narrow(inside).map(Root::Object),
        }
    }

    fn is_current(&self) -> bool {
        match self {
            Root::Local(l) => Store::is_current(l),
            Root::Object(o) => o.is_current(),
        }
    }

    fn path(&self) -> &Path {
        match self {
            Root::Local(l) => Store::path(l),
            Root::Object(o) => o.path(),
        }
    }
}
