//! From the request path the server sent to a safe relative path: string checks only, no syscalls.
//!
//! The web server has already percent-decoded the path (RFC 3875 §4.1.5 for `PATH_INFO`; nginx's
//! `$document_uri`); decoding it again is the double-decoding bug of wsgi-xsendfile, so nothing
//! here decodes. Hostile input is rejected, never repaired. The checks, in order:
//!
//! 1. longer than [`MAX_PATH_BYTES`] → [`PathRejection::TooLong`];
//! 2. `--strip-prefix`, if set, must match on a segment boundary (`/dl` matches `/dl` and `/dl/x`,
//!    never `/dlx`) → [`PathRejection::OutsidePrefix`];
//! 3. what remains must be empty (the root itself) or start with `/` → [`PathRejection::NotAbsolute`];
//! 4. NUL → [`PathRejection::Nul`]; invalid UTF-8 → [`PathRejection::InvalidUtf8`]; any control
//!    character (C0, DEL, C1) → [`PathRejection::Control`]; backslash → [`PathRejection::Backslash`];
//! 5. per segment: empty (`//`, trailing `/`) → [`PathRejection::EmptySegment`]; `.` or `..` →
//!    [`PathRejection::DotSegment`]; longer than [`MAX_SEGMENT_BYTES`] → [`PathRejection::TooLong`];
//!    starting with `.` unless hidden files are allowed → [`PathRejection::Hidden`];
//! 6. more than [`MAX_PATH_DEPTH`] segments → [`PathRejection::TooDeep`]; no segment at all (the
//!    root) → [`PathRejection::Root`].
//!
//! Every rejection becomes a 404 at the edge, so a probe learns nothing about the tree.

use crate::limits::{MAX_PATH_BYTES, MAX_PATH_DEPTH, MAX_SEGMENT_BYTES};
use thiserror::Error;

/// Why a request path was refused before touching the filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PathRejection {
    /// Longer than the path or segment limit.
    #[error("path or segment too long")]
    TooLong,
    /// Deeper than the segment-count limit.
    #[error("path too deep")]
    TooDeep,
    /// Does not start with the strip prefix on a segment boundary.
    #[error("path outside the strip prefix")]
    OutsidePrefix,
    /// Does not start with `/`.
    #[error("path is not absolute")]
    NotAbsolute,
    /// Contains a NUL byte.
    #[error("path contains NUL")]
    Nul,
    /// Not valid UTF-8.
    #[error("path is not valid UTF-8")]
    InvalidUtf8,
    /// Contains a control character.
    #[error("path contains a control character")]
    Control,
    /// Contains a backslash.
    #[error("path contains a backslash")]
    Backslash,
    /// An empty segment (`//` or a trailing `/`).
    #[error("path has an empty segment")]
    EmptySegment,
    /// A `.` or `..` segment.
    #[error("path has a dot segment")]
    DotSegment,
    /// A segment naming a hidden file (leading `.`).
    #[error("path names a hidden file")]
    Hidden,
    /// Names the root itself.
    #[error("path names the root directory")]
    Root,
}

/// A request path that passed every check: relative, `/`-separated, UTF-8, no empty, dot or
/// (unless allowed) hidden segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RelPath<'a>(&'a str);

impl<'a> RelPath<'a> {
    /// The path without a leading `/`, e.g. `docs/a b.pdf`.
    pub(crate) fn as_str(&self) -> &'a str {
        self.0
    }
}

/// Validates `path` (bytes as the server sent them), removing `strip_prefix` first.
///
/// `strip_prefix` must itself start with `/` and not end with one (the config guarantees it).
pub(crate) fn validate<'a>(
    path: &'a [u8],
    strip_prefix: Option<&[u8]>,
    allow_hidden: bool,
) -> Result<RelPath<'a>, PathRejection> {
    if path.len() > MAX_PATH_BYTES {
        return Err(PathRejection::TooLong);
    }
    let rest = match strip_prefix {
        Some(prefix) => match path.strip_prefix(prefix) {
            Some(rest) if rest.is_empty() || rest[0] == b'/' => rest,
            _ => return Err(PathRejection::OutsidePrefix),
        },
        None => path,
    };
    let rest = match rest {
        [] => return Err(PathRejection::Root),
        [b'/', tail @ ..] => tail,
        _ => return Err(PathRejection::NotAbsolute),
    };
    if rest.contains(&0) {
        return Err(PathRejection::Nul);
    }
    let text = std::str::from_utf8(rest).map_err(|_| PathRejection::InvalidUtf8)?;
    if text.chars().any(char::is_control) {
        return Err(PathRejection::Control);
    }
    if text.contains('\\') {
        return Err(PathRejection::Backslash);
    }
    if text.is_empty() {
        return Err(PathRejection::Root);
    }
    let mut depth = 0usize;
    for segment in text.split('/') {
        depth += 1;
        match segment {
            "" => return Err(PathRejection::EmptySegment),
            "." | ".." => return Err(PathRejection::DotSegment),
            s if s.len() > MAX_SEGMENT_BYTES => return Err(PathRejection::TooLong),
            s if s.starts_with('.') && !allow_hidden => return Err(PathRejection::Hidden),
            _ => {}
        }
    }
    if depth > MAX_PATH_DEPTH {
        return Err(PathRejection::TooDeep);
    }
    Ok(RelPath(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_on_segment_boundary() {
        assert_eq!(validate(b"/dl/a.txt", Some(b"/dl"), false).map(|p| p.as_str()), Ok("a.txt"));
        assert_eq!(validate(b"/dlx/a.txt", Some(b"/dl"), false), Err(PathRejection::OutsidePrefix));
        assert_eq!(validate(b"/dl", Some(b"/dl"), false), Err(PathRejection::Root));
        assert_eq!(validate(b"/dl/", Some(b"/dl"), false), Err(PathRejection::Root));
    }

    #[test]
    fn rejects_without_repairing() {
        for (p, want) in [
            (&b"/a//b"[..], PathRejection::EmptySegment),
            (b"/a/", PathRejection::EmptySegment),
            (b"/a/./b", PathRejection::DotSegment),
            (b"/../etc/passwd", PathRejection::DotSegment),
            (b"/.git/config", PathRejection::Hidden),
            (b"/a\\..\\b", PathRejection::Backslash),
            (b"/a\0b", PathRejection::Nul),
            (b"/a\x7fb", PathRejection::Control),
            (b"/a\xc2\x85b", PathRejection::Control),
            (b"/\xff.txt", PathRejection::InvalidUtf8),
            (b"a.txt", PathRejection::NotAbsolute),
        ] {
            assert_eq!(validate(p, None, false), Err(want), "{p:?}");
        }
        assert!(validate(b"/.well-known/x", None, true).is_ok());
    }
}
