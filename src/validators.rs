//! HTTP validators for a file (RFC 9110 §8.8): a strong `ETag` and `Last-Modified`.
//!
//! Used where xsendfiled, not the web server, states them: Apache mod_xsendfile's own ETag is
//! derived from the script request and constant for every file (servers.md §2.2), so we send ours.

use crate::resolve::FileMeta;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A strong entity tag from inode, size and modification time in nanoseconds: it changes when the
/// file is replaced, resized or touched.
pub fn etag(meta: &FileMeta) -> String {
    let nanos = i128::from(meta.mtime) * 1_000_000_000 + i128::from(meta.mtime_nsec);
    format!("\"{:x}-{:x}-{:x}\"", meta.ino, meta.len, nanos.max(0))
}

/// The modification time (whole seconds; before 1970 clamps to the epoch).
pub fn modified(meta: &FileMeta) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(meta.mtime).unwrap_or(0))
}

/// `Last-Modified` value, IMF-fixdate (RFC 9110 §5.6.7).
pub fn last_modified(meta: &FileMeta) -> String {
    httpdate::fmt_http_date(modified(meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let m = FileMeta { len: 6, mtime: 784_111_777, mtime_nsec: 5, ino: 255 };
        assert_eq!(last_modified(&m), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(etag(&m), format!("\"ff-6-{:x}\"", 784_111_777_000_000_005i128));
        let neg = FileMeta { mtime: -5, ..m };
        assert_eq!(last_modified(&neg), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
