//! Redirect maps: which internal URI a canonical file path is sent as.
//!
//! The grammar is xsendfile_middleware's `X_REDIRECT_MAP` (also Rack's `X-Accel-Mapping`):
//! `FS_PREFIX=URI_PREFIX[,FS_PREFIX=URI_PREFIX...]`, made strict: whitespace around entries and
//! around `=` is trimmed; an empty entry, a relative file-system prefix, or a URI prefix that is not
//! a clean absolute path is an error, never skipped; prefixes match on path-segment boundaries
//! (`/srv/files` never matches `/srv/files-private/x`); the most specific file-system prefix wins;
//! two entries with the same file-system prefix are an error (which one would win is a guess).
//!
//! A lookup does not scan the entries: the map is indexed by file-system prefix, and a lookup
//! tries the path's own `/` boundaries, longest first. Its cost is one hash probe per segment of
//! the path, whatever the number of entries (`cargo bench --bench decide`, group `growth/`).

use std::collections::HashMap;
use std::path::Path;

/// One `FS_PREFIX=URI_PREFIX` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    /// Absolute file-system prefix, no trailing `/`.
    pub(crate) fs: Vec<u8>,
    /// Absolute URI prefix, no trailing `/`, URI-safe characters only.
    pub(crate) uri: String,
}

/// Why a URI prefix was refused by [`uri_prefix`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadUriPrefix {
    /// It does not start with `/`.
    NotAbsolute,
    /// A character outside the letters, digits, `/` and `-._~!$&'()*+,;=:@`.
    Character,
    /// An empty, `.` or `..` segment.
    Segment,
}

/// The one rule for an internal URI prefix (`--internal-prefix`, `--strip-prefix`, a map's URI
/// side): absolute, only characters a server never decodes or splits on, no empty, `.` or `..`
/// segment. Trailing slashes are removed, so `/dl/` and `/dl` mean the same.
pub(crate) fn uri_prefix(u: &str) -> Result<String, BadUriPrefix> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~/!$&'()*+,;=:@".contains(c);
    if !u.starts_with('/') {
        return Err(BadUriPrefix::NotAbsolute);
    }
    if !u.chars().all(allowed) {
        return Err(BadUriPrefix::Character);
    }
    let t = u.trim_end_matches('/');
    if t.split('/').skip(1).any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(BadUriPrefix::Segment);
    }
    Ok(t.to_owned())
}

fn clean_uri(u: &str) -> Option<String> {
    uri_prefix(u).ok()
}

/// A parsed redirect map, indexed by file-system prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Map {
    entries: Vec<MapEntry>,
    /// File-system prefix → position in `entries`.
    index: HashMap<Vec<u8>, usize>,
}

impl Map {
    /// The entries, in the order written.
    pub(crate) fn entries(&self) -> &[MapEntry] {
        &self.entries
    }

    /// Whether the map has no entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most specific entry whose file-system prefix holds `abs` (on a segment boundary), and
    /// the rest of `abs` after it (without the leading `/`). `abs` is an absolute path.
    pub fn lookup<'m, 'a>(&'m self, abs: &'a [u8]) -> Option<(&'m MapEntry, &'a [u8])> {
        if self.entries.is_empty() {
            return None;
        }
        // Every `/` of `abs`, right to left, ends a candidate prefix: the first found is the longest.
        let mut end = abs.len();
        while let Some(slash) = abs[..end].iter().rposition(|&b| b == b'/') {
            if let Some(&i) = self.index.get(&abs[..slash]) {
                return Some((&self.entries[i], &abs[slash + 1..]));
            }
            end = slash;
        }
        None
    }
}

/// Parses a map; with `canonicalize`, file-system prefixes that exist are replaced by their
/// canonical form (configuration time only: per-request maps are taken as written).
///
/// # Errors
/// What is wrong with which entry.
pub fn parse(text: &str, canonicalize: bool) -> Result<Map, String> {
    let mut out = Map::default();
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
        let fs = fs_path.into_bytes();
        if let Some(&first) = out.index.get(&fs) {
            return Err(format!(
                "entry {n}: file-system prefix {} is already mapped by entry {}",
                String::from_utf8_lossy(&fs),
                first + 1
            ));
        }
        out.index.insert(fs.clone(), out.entries.len());
        out.entries.push(MapEntry { fs, uri });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition the index must agree with: scan every entry, keep the longest match.
    fn scan<'m, 'a>(map: &'m [MapEntry], abs: &'a [u8]) -> Option<(&'m MapEntry, &'a [u8])> {
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

    #[test]
    fn grammar_and_lookup() {
        let m = parse(" /srv/files = /_p/files/ , /srv/files/media=/_media,/srv/other=/_o", false).expect("map");
        assert_eq!(m.entries().len(), 3);
        assert_eq!(m.lookup(b"/srv/files/a.txt").map(|(e, r)| (e.uri.as_str(), r)), Some(("/_p/files", &b"a.txt"[..])));
        assert_eq!(
            m.lookup(b"/srv/files/media/v.mp4").map(|(e, r)| (e.uri.as_str(), r)),
            Some(("/_media", &b"v.mp4"[..]))
        );
        assert_eq!(m.lookup(b"/srv/files-private/x"), None, "segment boundary");
        assert_eq!(m.lookup(b"/srv/files"), None, "a directory itself is no file");
        let bad = [
            "",
            "/a=/b,",
            "/a=/b,,/c=/d",
            "rel=/x",
            "/a=x",
            "/a=/x y",
            "/a/../b=/x",
            "/a",
            "/a=/b/../c",
            "/a=/b,/a/=/c",
        ];
        for bad in bad {
            assert!(parse(bad, false).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        /// The index answers exactly what a scan of every entry answers, for maps and paths made
        /// of a few short segments (so that prefixes, boundaries and near-misses all occur).
        #[test]
        fn index_agrees_with_scan(
            prefixes in proptest::collection::vec(proptest::collection::vec("a|b|ab|b-", 0..4), 1..12),
            paths in proptest::collection::vec(proptest::collection::vec("a|b|ab|b-|", 0..6), 1..24),
        ) {
            let mut seen = std::collections::HashSet::new();
            let text: Vec<String> = prefixes
                .iter()
                .map(|segs| format!("/{}", segs.join("/")))
                .filter(|fs| seen.insert(fs.trim_end_matches('/').to_owned()))
                .enumerate()
                .map(|(i, fs)| format!("{fs}=/u{i}"))
                .collect();
            let map = parse(&text.join(","), false).expect("map");
            for segs in &paths {
                let abs = format!("/{}", segs.join("/"));
                proptest::prop_assert_eq!(map.lookup(abs.as_bytes()), scan(map.entries(), abs.as_bytes()), "{}", abs);
            }
        }
    }
}
