//! How a backend names an allowed file: the internal URI prefix (from a redirect map or
//! `--internal-prefix`) and the rest of the path, and whether the backend can name it at all.
//!
//! Part of the decision, not of the reply: a file the configured server cannot name exactly is
//! refused (404) before anything is written. The percent-encoding is the one the reply uses, so
//! what is checked here is what is sent.

use crate::guard::store::Found;
use crate::guard::trace::{NamedBy, Naming, Step, Trace};
use crate::guard::{Backend, Policy};
use crate::protocol::request::Request;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// An internal URI prefix and the rest of the canonical path after it.
pub(crate) type Target = (String, Vec<u8>);

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `bytes` percent-encoded: everything but `A-Z a-z 0-9 - . _ ~ /` becomes `%XX`.
pub(crate) fn push_uri_path(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// Whether `backend` can name the file `rel` (canonical, relative to `root`) so that the server
/// opens exactly that file. A name it cannot express is refused, never mangled:
///
/// - `apache`: CR or LF (Apache deletes every CR and ends the line at LF);
/// - `lighttpd`: control characters (decoded to `_`: another file) and invalid UTF-8 (a 502);
/// - `caddy`: control characters, `?` (starts the query), `%` (2.6 takes it raw, ≥ 2.7 decodes it:
///   the same header would name two different files), and a trailing space or tab (trimmed).
pub(crate) fn expressible(backend: Backend, root: &Path, rel: &[u8]) -> bool {
    let root = root.as_os_str().as_bytes();
    let controls = |b: &[u8]| b.iter().any(|&c| c < 0x20 || c == 0x7f);
    match backend {
        Backend::Nginx | Backend::LocalRedirect | Backend::Serve | Backend::Authorizer => true,
        Backend::Apache => ![root, rel].iter().any(|b| b.contains(&b'\r') || b.contains(&b'\n')),
        Backend::Lighttpd => {
            [root, rel].iter().all(|b| std::str::from_utf8(b).is_ok_and(|s| !s.chars().any(char::is_control)))
        }
        Backend::Caddy => {
            !controls(rel)
                && !rel.iter().any(|&c| c == b'?' || c == b'%')
                && !matches!(rel.last(), Some(b' ') | Some(b'\t'))
        }
    }
}

/// The internal URI prefix and the rest of the path for the URI-based backends (nginx,
/// local-redirect, caddy): from the request's trusted map (`X_REDIRECT_MAP` /
/// `XSENDFILED_ACCEL_MAPPING`), else `--map`, else `--internal-prefix` for files under the first
/// root. `Ok(None)` for backends that name files by path, and for a file of the first root when no
/// map applies (the renderer then uses `--internal-prefix` and the canonical path, allocating
/// nothing); `Err` when the file cannot be named. How the file is named is told to `trace`.
#[allow(clippy::result_unit_err)]
pub(crate) fn target<T: Trace>(
    policy: &Policy,
    req: &Request<'_>,
    file: &Found<'_>,
    trace: &mut T,
) -> Result<Option<Target>, ()> {
    if let Some(object) = policy.root_at(file.root).and_then(|r| r.as_object()) {
        // Named by its key in a presigned URL (reply/object.rs), never by a map or a prefix.
        if trace.enabled() {
            tell(trace, req, Naming::Presigned { prefix: &policy.object_prefix, store: object.store().describe() });
        }
        return Ok(None);
    }
    let uri_named = matches!(policy.backend, Backend::Nginx | Backend::LocalRedirect | Backend::Caddy);
    if !uri_named || policy.internal_prefix.starts_with('@') {
        let naming = match policy.backend {
            Backend::Nginx => Naming::NamedLocation(&policy.internal_prefix),
            Backend::Apache | Backend::Lighttpd => Naming::AbsolutePath,
            Backend::Serve => Naming::Streamed,
            _ => Naming::Allowed,
        };
        tell(trace, req, naming);
        return Ok(None);
    }
    let default = || match policy.backend {
        Backend::Caddy => Naming::Uri { prefix: "", by: NamedBy::CanonicalPath },
        _ => Naming::Uri { prefix: &policy.internal_prefix, by: NamedBy::InternalPrefix },
    };
    if req.trusted.redirect_map.is_none() && policy.map.is_empty() {
        if file.root != 0 {
            return Err(());
        }
        tell(trace, req, default());
        return Ok(None);
    }
    let holder = policy.root_at(file.root).map_or(policy.root.path(), |r| r.path()).as_os_str().as_bytes();
    let abs = [holder, b"/", &file.rel].concat();
    let request_map;
    let map: &crate::guard::map::Map = match req.trusted.redirect_map {
        Some(text) => match crate::guard::map::parse(&String::from_utf8_lossy(text), false) {
            Ok(m) => {
                request_map = m;
                &request_map
            }
            Err(why) => {
                log::error!("ignoring this request's redirect map: {why}");
                return Err(());
            }
        },
        None => &policy.map,
    };
    if let Some((entry, rest)) = map.lookup(&abs) {
        let by = match req.trusted.redirect_map {
            Some(_) => NamedBy::ServerMap,
            None => NamedBy::Map { fs: &entry.fs, uri: &entry.uri },
        };
        tell(trace, req, Naming::Uri { prefix: &entry.uri, by });
        return Ok(Some((entry.uri.clone(), rest.to_vec())));
    }
    if file.root == 0 {
        tell(trace, req, Naming::Uri { prefix: &policy.internal_prefix, by: NamedBy::InternalPrefix });
        return Ok(Some((policy.internal_prefix.clone(), file.rel.to_vec())));
    }
    Err(())
}

/// Tells `trace` how the reply names the file; in authorize mode it names none.
fn tell<T: Trace>(trace: &mut T, req: &Request<'_>, naming: Naming<'_>) {
    trace.step(Step::Named(if req.authorize { Naming::Allowed } else { naming }));
}
