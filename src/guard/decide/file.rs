//! Steps 4–6 of the decision for a decoded path: the string checks, the root (the server's
//! `XSENDFILED_ROOT` narrows, never widens), the store's lookup, and whether the backend can name
//! the file.
//!
//! Invariant: the store is asked only through [`crate::guard::store::Store`], with a path that
//! passed [`crate::guard::path::validate`]; a found file is named by the root that holds it.

use super::{Reason, Status};
use crate::guard::path::{self, RelPath};
use crate::guard::store::{Found, Refusal, Root, Store, Wait, WouldWait};
use crate::guard::target::Target;
use crate::guard::trace::{Looked, PrefixFrom, RootChoice, RootFrom, Step, Trace};
use crate::guard::Policy;
use crate::protocol::request::Request;
use std::borrow::Cow;
use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A file that passed steps 4–6 with its target, or the refusal.
pub(super) type Checked<'p> = Result<(Found<'p>, Option<Target>), (Status, Reason)>;

/// The root the lookup starts from: one of the configured roots, or a directory inside one.
enum Base {
    /// Configured root number `i` (0 is the first `--root`).
    Configured(usize, RootFrom),
    /// A directory inside configured root `holder`, `prefix` below it.
    Narrowed { dir: Root, holder: usize, prefix: Vec<u8>, from: RootFrom },
}

impl Base {
    fn holder(&self) -> usize {
        match self {
            Base::Configured(i, _) => *i,
            Base::Narrowed { holder, .. } => *holder,
        }
    }
}

/// The server's `XSENDFILED_ROOT` (or `root=` in a trusted query), as a [`Base`]; anything but a
/// configured root or a directory inside one is refused. Under [`Wait::Never`] only a value that
/// names a configured root exactly is taken; any other needs `canonicalize` and opens, which may
/// wait: `Err(Ok(WouldBlock))` naming the root it lies under (by its name, else root 0).
fn base(req: &Request<'_>, policy: &Policy, wait: Wait) -> Result<Base, Result<io::Error, (Status, Reason)>> {
    let from_query = match crate::guard::token::policy_query(req) {
        Some(query) => crate::guard::percent::query_value(query, b"root"),
        None => Ok(None),
    };
    let (asked, from) = match from_query {
        Ok(Some(v)) => (Some(v), RootFrom::Query),
        Ok(None) => (req.trusted.root.map(|r| r.to_vec()), RootFrom::Param),
        // A root that cannot be read must not silently widen to the default.
        Err(_) => return Err(Err((Status::NotFound, Reason::RootParameter("is malformed in the trusted query")))),
    };
    let Some(asked) = asked else { return Ok(Base::Configured(0, RootFrom::Default)) };
    if wait == Wait::Never {
        let named = Path::new(OsStr::from_bytes(&asked));
        if let Some(i) = policy.roots().position(|r| Store::path(r) == named) {
            return Ok(Base::Configured(i, from));
        }
        let under = policy.roots().position(|r| named.starts_with(Store::path(r))).unwrap_or(0);
        return Err(Ok(WouldWait::error(under)));
    }
    let refused = |why: &'static str| {
        log::error!("XSENDFILED_ROOT {:?}: {why}", String::from_utf8_lossy(&asked));
        (Status::NotFound, Reason::RootParameter(why))
    };
    if asked.starts_with(b"s3://") {
        return object_base(policy, &asked, from).map_err(|why| Err(refused(why)));
    }
    let Ok(canonical) = std::fs::canonicalize(OsStr::from_bytes(&asked)) else {
        return Err(Err(refused("does not exist")));
    };
    let holder = policy
        .roots()
        .enumerate()
        .filter(|(_, r)| canonical.starts_with(Store::path(*r)))
        .max_by_key(|(_, r)| Store::path(*r).components().count());
    let Some((i, root)) = holder else { return Err(Err(refused("is not inside a configured --root"))) };
    let inside =
        canonical.strip_prefix(Store::path(root)).map(|p| p.as_os_str().as_bytes().to_vec()).unwrap_or_default();
    if inside.is_empty() {
        return Ok(Base::Configured(i, from));
    }
    // The narrowing is part of the path the file is named by: a hidden segment in it is refused as
    // one in the request path is.
    if !policy.allow_hidden && inside.split(|&b| b == b'/').any(|s| s.first() == Some(&b'.')) {
        return Err(Err(refused("names a hidden directory")));
    }
    // Opened beneath the holder's handle, never by the canonical name: the name may have been
    // swapped for a symlink to a directory outside since `canonicalize` (SECURITY.md).
    match root.narrow(&inside) {
        Ok(dir) => Ok(Base::Narrowed { dir, holder: i, prefix: inside, from }),
        Err(_) => Err(Err(refused("cannot be opened"))),
    }
}

/// `XSENDFILED_ROOT=s3://BUCKET/PREFIX/…`: an object root, or a prefix inside one (whole
/// segments; a bucket has no symlinks, so the name is the canonical one).
fn object_base(policy: &Policy, asked: &[u8], from: RootFrom) -> Result<Base, &'static str> {
    let asked = asked.strip_suffix(b"/").unwrap_or(asked);
    let holder = policy.roots().enumerate().filter(|(_, r)| r.as_object().is_some()).find_map(|(i, r)| {
        let root = r.path().as_os_str().as_bytes();
        match asked.strip_prefix(root) {
            Some([]) => Some((i, r, &[][..])),
            Some([b'/', inside @ ..]) => Some((i, r, inside)),
            _ => None,
        }
    });
    let Some((i, root, inside)) = holder else { return Err("is not inside a configured --root") };
    if inside.is_empty() {
        return Ok(Base::Configured(i, from));
    }
    if !policy.allow_hidden && inside.split(|&b| b == b'/').any(|s| s.first() == Some(&b'.')) {
        return Err("names a hidden directory");
    }
    match root.narrow(inside) {
        Ok(dir) => Ok(Base::Narrowed { dir, holder: i, prefix: inside.to_vec(), from }),
        Err(_) => Err("cannot be opened"),
    }
}

/// Steps 4–6 for the decoded request path `raw`: string checks, confinement under the selected
/// root, and whether the backend can name the file. Under [`Wait::Never`] a lookup that would wait
/// is `Err` of kind `WouldBlock` naming the root ([`WouldWait`]).
pub(super) fn check_file<'p, T: Trace>(
    raw: &'p [u8],
    strip: Option<(&[u8], PrefixFrom)>,
    req: &Request<'_>,
    policy: &Policy,
    wait: Wait,
    trace: &mut T,
) -> io::Result<Checked<'p>> {
    let verdict = path::validate(raw, strip.map(|(p, _)| p), policy.allow_hidden);
    trace.step(Step::Checks { strip, verdict: verdict.as_ref().map(RelPath::as_str).map_err(|why| *why) });
    let rel = match verdict {
        Ok(rel) => rel,
        Err(why) => return Ok(Err((Status::NotFound, Reason::Path(why)))),
    };
    let base = match base(req, policy, wait) {
        Ok(b) => b,
        Err(Ok(would_block)) => return Err(would_block),
        Err(Err(refusal)) => return Ok(Err(refusal)),
    };
    let Some(root) = policy.root_at(base.holder()) else {
        return Ok(Err((Status::NotFound, Reason::RootUnavailable)));
    };
    tell_root(&base, root, trace);
    // The lookup comes first: under Wait::Never it returns at once where the identity check (a
    // stat of the configured path, once a second) could wait for a hung mount.
    let found = match lookup(&base, root, rel, policy, wait, trace) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(WouldWait::error(base.holder())),
        other => other?,
    };
    if !Store::is_current(root) {
        log::error!(
            "root {} is gone or was replaced: refusing until it is back or SIGHUP reopens it",
            root.path().display()
        );
        return Ok(Err((Status::NotFound, Reason::RootUnavailable)));
    }
    let file = match found {
        Ok(file) => file,
        Err(Refusal::PermissionDenied) => {
            return Ok(Err((Status::Forbidden, Reason::File(Refusal::PermissionDenied))));
        }
        Err(other) => return Ok(Err((Status::NotFound, Reason::File(other)))),
    };
    let holder = policy.root_at(file.root).map_or(policy.root.path(), |r| r.path());
    if !crate::guard::target::expressible(policy.backend, holder, &file.rel) {
        return Ok(Err((Status::NotFound, Reason::Unexpressible)));
    }
    // An nginx named location serves the URI that was requested, not a path we name: only a
    // request for the canonical path itself may go there.
    if policy.internal_prefix.starts_with('@')
        && (*file.rel != *rel.as_str().as_bytes() || file.root != 0 || !matches!(base, Base::Configured(0, _)))
    {
        return Ok(Err((Status::NotFound, Reason::Unexpressible)));
    }
    let target = match crate::guard::target::target(policy, req, &file, trace) {
        Ok(t) => t,
        Err(()) => return Ok(Err((Status::NotFound, Reason::Unexpressible))),
    };
    Ok(Ok((file, target)))
}

fn tell_root<T: Trace>(base: &Base, root: &Root, trace: &mut T) {
    let choice = match base {
        Base::Configured(index, from) => RootChoice::Configured { index: *index, path: root.path(), from: *from },
        Base::Narrowed { dir, holder, from, .. } => {
            RootChoice::Narrowed { holder: *holder, path: Store::path(dir), from: *from }
        }
    };
    trace.step(Step::Root(choice));
}

/// Asks the store for `rel` under `base`; the found file names its configured root globally.
fn lookup<'p, T: Trace>(
    base: &Base,
    root: &Root,
    rel: RelPath<'p>,
    policy: &Policy,
    wait: Wait,
    trace: &mut T,
) -> io::Result<Result<Found<'p>, Refusal>> {
    let found = match base {
        Base::Configured(i, _) => {
            // A symlink may lead into another configured root; the result names it globally.
            // (With one root, `others` is empty and allocates nothing.)
            let others: Vec<&Root> = policy.roots().enumerate().filter(|(j, _)| j != i).map(|(_, r)| r).collect();
            root.lookup(rel.as_str(), policy.allow_hidden, &others, wait)?.map(|mut f| {
                f.root = match f.root {
                    0 => *i,
                    k => (0..policy.root_count()).filter(|j| j != i).nth(k - 1).unwrap_or(*i),
                };
                f
            })
        }
        Base::Narrowed { dir, holder, prefix, .. } => {
            dir.lookup(rel.as_str(), policy.allow_hidden, &[], wait)?.map(|f| {
                let full = [prefix.as_slice(), b"/", &f.rel].concat();
                Found { root: *holder, rel: Cow::Owned(full), ..f }
            })
        }
    };
    if trace.enabled() {
        let told = found.as_ref().map(|f| {
            let prefix = match base {
                Base::Narrowed { prefix, .. } => Some(prefix.as_slice()),
                Base::Configured(..) => None,
            };
            let asked = match prefix {
                Some(p) => f.rel.strip_prefix(p).and_then(|r| r.strip_prefix(b"/")),
                None => Some(&f.rel[..]),
            };
            Looked {
                root: policy.root_at(f.root).map_or(policy.root.path(), |r| r.path()),
                rel: &f.rel,
                len: f.meta.len,
                followed: f.root != base.holder() || asked != Some(rel.as_str().as_bytes()),
            }
        });
        trace.step(Step::Lookup(told.map_err(|r| *r)));
    }
    Ok(found)
}

/// The media type for a file name, from its last extension; `application/octet-stream` when
/// unknown. A compression suffix gives the archive's own type (`.gz` → `application/gzip`), never
/// a `Content-Encoding`: browsers would unpack a `.tar.gz` download.
pub(crate) fn content_type_of(name: &[u8]) -> &'static str {
    Path::new(OsStr::from_bytes(name))
        .extension()
        .and_then(OsStr::to_str)
        .and_then(|ext| mime_guess::from_ext(ext).first_raw())
        .unwrap_or("application/octet-stream")
}
