//! HTTP validators for a file (RFC 9110 §8.8): a strong `ETag` and `Last-Modified`.
//!
//! Used where xsendfiled, not the web server, states them: Apache mod_xsendfile's own ETag is
//! derived from the script request and constant for every file (docs/servers.md, "mod_xsendfile"),
//! so we send ours.

use crate::guard::store::FileMeta;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A strong entity tag from inode, size and modification time in nanoseconds: it changes when the
/// file is replaced, resized or touched.
pub fn etag(meta: &FileMeta) -> String {
    let nanos = i128::from(meta.mtime) * 1_000_000_000 + i128::from(meta.mtime_nsec);
    format!("\"{:x}-{:x}-{:x}\"", meta.ino, meta.len, nanos.max(0))
}

/// The last second an IMF-fixdate can name, 9999-12-31T23:59:59Z: its year has four digits
/// (RFC 9110 §5.6.7), and `httpdate` panics past it.
pub(crate) const MAX_HTTP_DATE_SECS: u64 = 253_402_300_799;

/// Seconds since the epoch, clamped to `0..=MAX_HTTP_DATE_SECS`.
fn clamped_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()).min(MAX_HTTP_DATE_SECS)
}

/// `t` as an IMF-fixdate (RFC 9110 §5.6.7). Never panics: a time before 1970 is the epoch, one
/// after 9999 is [`MAX_HTTP_DATE_SECS`]. Every date xsendfiled sends goes through here.
pub(crate) fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(clamped_secs(t)))
}

/// The modification time (whole seconds), as of now: see [`modified_at`].
pub(crate) fn modified(meta: &FileMeta) -> SystemTime {
    modified_at(meta, SystemTime::now())
}

/// The modification time (whole seconds) as stated at `now`: before 1970 clamps to the epoch, and
/// a time after `now` is `now` (RFC 9110 §8.8.2.1: an origin server must not send a
/// `Last-Modified` later than its message; a file touched to year 10000 therefore never reaches a
/// date formatter).
pub(crate) fn modified_at(meta: &FileMeta, now: SystemTime) -> SystemTime {
    let secs = u64::try_from(meta.mtime).unwrap_or(0).min(clamped_secs(now));
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// `Last-Modified` value, IMF-fixdate (RFC 9110 §5.6.7).
pub fn last_modified(meta: &FileMeta) -> String {
    http_date(modified(meta))
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

    #[test]
    fn dates_past_9999_and_in_the_future_never_reach_the_formatter() {
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let year_10000 = FileMeta { len: 1, mtime: 253_402_300_800, mtime_nsec: 0, ino: 1 };
        assert_eq!(http_date(modified_at(&year_10000, now)), "Thu, 01 Jan 2026 00:00:00 GMT", "now, not later");
        let last = UNIX_EPOCH + Duration::from_secs(MAX_HTTP_DATE_SECS);
        assert_eq!(http_date(last), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(http_date(last + Duration::from_secs(1)), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(http_date(UNIX_EPOCH - Duration::from_secs(1)), "Thu, 01 Jan 1970 00:00:00 GMT");
        let _ = last_modified(&FileMeta { mtime: i64::MAX, mtime_nsec: i64::MAX, ..year_10000 });
        let _ = etag(&FileMeta { mtime: i64::MIN, mtime_nsec: i64::MIN, ..year_10000 });
    }

    proptest::proptest! {
        /// Any modification time (the full `i64` range `fstat` may report), any clock: the
        /// validators never panic, and every date is a 29-byte IMF-fixdate no later than now.
        #[test]
        fn no_mtime_and_no_clock_panics(
            mtime in proptest::prelude::any::<i64>(),
            nsec in proptest::prelude::any::<i64>(),
            now_secs in proptest::prelude::any::<u64>(),
            before_epoch in proptest::prelude::any::<bool>(),
        ) {
            let meta = FileMeta { len: 0, mtime, mtime_nsec: nsec, ino: 0 };
            // Every SystemTime Linux can hold: i64 seconds either side of the epoch.
            let d = Duration::from_secs(now_secs >> 1);
            let now = if before_epoch { UNIX_EPOCH.checked_sub(d) } else { UNIX_EPOCH.checked_add(d) }
                .unwrap_or(UNIX_EPOCH);
            let m = modified_at(&meta, now);
            proptest::prop_assert!(m <= now.max(UNIX_EPOCH));
            let text = http_date(m);
            proptest::prop_assert_eq!(text.len(), 29);
            proptest::prop_assert!(text.ends_with(" GMT"));
            proptest::prop_assert_eq!(http_date(now).len(), 29);
            let _ = etag(&meta);
            let _ = last_modified(&meta);
        }
    }
}
