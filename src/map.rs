//! Redirect maps: which internal URI a canonical file path is sent as.
//!
//! The grammar is xsendfile_middleware's `X_REDIRECT_MAP` (also Rack's `X-Accel-Mapping`):
//! `FS_PREFIX=URI_PREFIX[,FS_PREFIX=URI_PREFIX...]`, made strict: whitespace around entries and
//! around `=` is trimmed; an empty entry, a relative file-system prefix, or a URI prefix that is not
//! a clean absolute path is an error, never skipped; prefixes match on path-segment boundaries
//! (`/srv/files` never matches `/srv/files-private/x`); the most specific file-system prefix wins.

use std::path::Path;

/// One `FS_PREFIX=URI_PREFIX` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    /// Absolute file-system prefix, no trailing `/`.
    pub fs: Vec<u8>,
    /// Absolute URI prefix, no trailing `/`, URI-safe characters only.
    pub uri: String,
}

fn clean_uri(u: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~/!$&'()*+,;=:@".contains(c);
    if !u.starts_with('/') || !u.chars().all(allowed) {
        return None;
    }
    let t = u.trim_end_matches('/');
    if t.split('/').skip(1).any(|s| s.is_empty() || s == "." || s == "..") {
        return None;
    }
    Some(t.to_owned())
}

/// Parses a map; with `canonicalize`, file-system prefixes that exist are replaced by their
/// canonical form (configuration time only: per-request maps are taken as written).
///
/// # Errors
/// What is wrong with which entry.
pub fn parse(text: &str, canonicalize: bool) -> Result<Vec<MapEntry>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.split(',').enumerate() {
        let entry = raw.trim();
        let n = i + 1;
        if entry.is_empty() {
            return Err(format!("entry {n} is empty"));
        }
        let Some((fs, uri)) = entry.split_once('=') else {
            return Err(format!("entry {n} ({entry:?}) is not FS_PREFIX=URI_PREFIX"));
        };
        let (fs, uri) = (fs.trim(), uri.trim());
        if !fs.starts_with('/') {
            return Err(format!("entry {n}: file-system prefix {fs:?} is not absolute"));
        }
        if fs.split('/').any(|s| s == "." || s == "..") {
            return Err(format!("entry {n}: file-system prefix {fs:?} has . or .. segments"));
        }
        let Some(uri) = clean_uri(uri) else {
            return Err(format!("entry {n}: URI prefix {uri:?} must be an absolute path of URI-safe characters"));
        };
        let mut fs_path = fs.trim_end_matches('/').to_owned();
        if canonicalize {
            if let Ok(c) = std::fs::canonicalize(Path::new(fs)) {
                fs_path = c.to_string_lossy().into_owned();
            }
        }
        out.push(MapEntry { fs: fs_path.into_bytes(), uri });
    }
    Ok(out)
}

/// The most specific entry whose file-system prefix holds `abs` (on a segment boundary), and the
/// rest of `abs` after it (without the leading `/`).
pub fn lookup<'m, 'a>(map: &'m [MapEntry], abs: &'a [u8]) -> Option<(&'m MapEntry, &'a [u8])> {
    map.iter()
        .filter_map(|e| {
            let rest = abs.strip_prefix(e.fs.as_slice())?;
            match rest {
                [] => None,
                [b'/', tail @ ..] => Some((e, tail)),
                _ if e.fs.is_empty() => Some((e, rest)),
                _ => None,
            }
        })
        .max_by_key(|(e, _)| e.fs.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_and_lookup() {
        let m = parse(" /srv/files = /_p/files/ , /srv/files/media=/_media,/srv/other=/_o", false).expect("map");
        assert_eq!(m.len(), 3);
        assert_eq!(
            lookup(&m, b"/srv/files/a.txt").map(|(e, r)| (e.uri.as_str(), r)),
            Some(("/_p/files", &b"a.txt"[..]))
        );
        assert_eq!(
            lookup(&m, b"/srv/files/media/v.mp4").map(|(e, r)| (e.uri.as_str(), r)),
            Some(("/_media", &b"v.mp4"[..]))
        );
        assert_eq!(lookup(&m, b"/srv/files-private/x"), None, "segment boundary");
        assert_eq!(lookup(&m, b"/srv/files"), None, "a directory itself is no file");
        for bad in ["", "/a=/b,", "/a=/b,,/c=/d", "rel=/x", "/a=x", "/a=/x y", "/a/../b=/x", "/a", "/a=/b/../c"] {
            assert!(parse(bad, false).is_err(), "{bad:?}");
        }
    }
}
