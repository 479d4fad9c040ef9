//! The access log: one JSON object per line per decision — who downloaded what.
//!
//! Fields: `time` (RFC 3339 UTC, milliseconds), `remote` (`REMOTE_ADDR`), `user` (`REMOTE_USER`),
//! `method`, `uri` (`REQUEST_URI` with signature values replaced by `-`, or withheld entirely when
//! the configured link scheme carries its token in the path), `decision` (`send`, `refuse`,
//! `fault`), `reason`, `status`, `file` (relative to the root), `size` (the file's size, not the
//! bytes sent: a range, a conditional request or an aborted download sends less, and with an
//! offload the web server sends them), `range` (the client's `Range` header as received,
//! `HTTP_RANGE`, RFC 9110 §14.2), `kid`, `link` (the signed link's id) and `use` (which use of a
//! limited-use link the request belongs to), `us` (microseconds spent deciding). A value that is
//! absent is `null`: every line has every key. Strings are JSON-escaped, control characters
//! included, so no request can forge a line; bytes that are not UTF-8 become U+FFFD. Cookies,
//! `Authorization`, keys and signatures never appear.
//!
//! Each line is one `write(2)` to a file opened for appending (mode 0640), so concurrent lines never
//! interleave. A failing write (a full disk) never holds up a download: it is counted and reported
//! on stderr the first time and every thousandth time. SIGHUP reopens the file (logrotate).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where lines go: stderr (`-`) or a file opened for appending.
#[derive(Debug)]
enum Target {
    Stderr,
    File(File),
}

/// An open access log; shared by every connection, one `write(2)` per line.
#[derive(Debug)]
pub(crate) struct AccessLog {
    target: Mutex<Target>,
    failures: AtomicU64,
}

/// What one line records about one decision, borrowed from the request where it can be.
#[derive(Debug, Clone, Default)]
pub(crate) struct Entry<'a> {
    /// `REMOTE_ADDR`.
    pub(crate) remote: Option<&'a [u8]>,
    /// `REMOTE_USER`.
    pub(crate) user: Option<&'a [u8]>,
    /// `REQUEST_METHOD`.
    pub(crate) method: Option<&'a [u8]>,
    /// The request URI, already redacted.
    pub(crate) uri: Option<&'a [u8]>,
    /// `send`, `refuse` or `fault`.
    pub(crate) decision: &'static str,
    /// Why (for refusals and faults).
    pub(crate) reason: Option<String>,
    /// HTTP status answered.
    pub(crate) status: u16,
    /// File sent, relative to the root.
    pub(crate) file: Option<&'a [u8]>,
    /// Its size (of the file, not of what is sent).
    pub(crate) size: Option<u64>,
    /// The client's `Range` header, raw.
    pub(crate) range: Option<&'a [u8]>,
    /// Key id of the signed link.
    pub(crate) kid: Option<&'a str>,
    /// The signed link's id (`id`).
    pub(crate) link: Option<&'a str>,
    /// The use of a limited-use link this request belongs to (from 1).
    pub(crate) use_no: Option<u32>,
    /// Microseconds spent.
    pub(crate) micros: u64,
}

/// Opens the log for appending, created `0640`. Whoever can write the log's directory could plant
/// something at its path, so the open neither follows a symlink (`O_NOFOLLOW`) nor blocks on a
/// FIFO (`O_NONBLOCK`); what is opened must be a character device (`/dev/null`) or a regular
/// file with no other hard link (lines would be appended to that other file); and a file found
/// with more permissions than `0640` is narrowed to them (a `0666` log lets anyone forge lines).
fn open_file(path: &PathBuf) -> io::Result<File> {
    let refuse = |why: &str| io::Error::new(io::ErrorKind::InvalidInput, why.to_owned());
    let f = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => refuse("is a symbolic link; refused"),
            _ => e,
        })?;
    let md = f.metadata()?;
    if std::os::unix::fs::FileTypeExt::is_char_device(&md.file_type()) {
        return Ok(f); // /dev/null, /dev/full, a terminal: nothing to plant, nothing to narrow.
    }
    if !md.file_type().is_file() {
        return Err(refuse("is not a regular file or a character device; refused"));
    }
    if md.nlink() > 1 {
        return Err(refuse("has other hard links; refused"));
    }
    let mode = md.mode() & 0o7777;
    if mode & !0o640 != 0 {
        f.set_permissions(std::fs::Permissions::from_mode(mode & 0o640))
            .map_err(|e| refuse(&format!("mode {mode:o} is wider than 640 and cannot be narrowed: {e}")))?;
        log::warn!("{}: mode {mode:o} narrowed to {:o}", path.display(), mode & 0o640);
    }
    Ok(f)
}

impl AccessLog {
    /// Opens `spec`: `-` for stderr, else a file appended to (created with mode 0640).
    ///
    /// # Errors
    /// When the file cannot be opened.
    pub(crate) fn open(spec: &str) -> io::Result<AccessLog> {
        let target = if spec == "-" { Target::Stderr } else { Target::File(open_file(&PathBuf::from(spec))?) };
        Ok(AccessLog { target: Mutex::new(target), failures: AtomicU64::new(0) })
    }

    /// Writes one line; never fails the caller.
    pub(crate) fn record(&self, e: &Entry<'_>) {
        let line = format_line(e, SystemTime::now());
        let result = match self.target.lock() {
            Ok(mut t) => write_line(&mut t, &line),
            Err(poisoned) => write_line(&mut poisoned.into_inner(), &line),
        };
        if let Err(err) = result {
            let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(m) = crate::metrics::get() {
                m.access_log_lost.inc();
            }
            if n == 1 || n % 1000 == 0 {
                log::warn!("access log: {n} line(s) lost so far: {err}");
            }
        }
    }
}

fn write_line(t: &mut Target, line: &[u8]) -> io::Result<()> {
    match t {
        Target::Stderr => io::stderr().lock().write_all(line),
        Target::File(f) => f.write_all(line),
    }
}

/// RFC 3339 UTC with milliseconds.
fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Appends `v` as a JSON string.
pub(crate) fn push_json_str(out: &mut String, v: &[u8]) {
    out.push('"');
    for c in String::from_utf8_lossy(v).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_field(s: &mut String, name: &str, v: Option<&[u8]>) {
    s.push_str(",\"");
    s.push_str(name);
    s.push_str("\":");
    match v {
        Some(v) => push_json_str(s, v),
        None => s.push_str("null"),
    }
}

fn push_number(s: &mut String, name: &str, v: Option<u64>) {
    match v {
        Some(n) => s.push_str(&format!(",\"{name}\":{n}")),
        None => s.push_str(&format!(",\"{name}\":null")),
    }
}

fn format_line(e: &Entry<'_>, now: SystemTime) -> Vec<u8> {
    let mut s = String::with_capacity(256);
    s.push_str("{\"time\":\"");
    s.push_str(&rfc3339(now));
    s.push('"');
    push_field(&mut s, "remote", e.remote);
    push_field(&mut s, "user", e.user.filter(|u| !u.is_empty()));
    push_field(&mut s, "method", e.method);
    push_field(&mut s, "uri", e.uri);
    push_field(&mut s, "decision", Some(e.decision.as_bytes()));
    push_field(&mut s, "reason", e.reason.as_deref().map(str::as_bytes));
    push_number(&mut s, "status", Some(u64::from(e.status)));
    push_field(&mut s, "file", e.file);
    push_number(&mut s, "size", e.size);
    push_field(&mut s, "range", e.range);
    push_field(&mut s, "kid", e.kid.map(str::as_bytes));
    push_field(&mut s, "link", e.link.map(str::as_bytes));
    push_number(&mut s, "use", e.use_no.map(u64::from));
    push_number(&mut s, "us", Some(e.micros));
    s.push_str("}\n");
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_and_escaping() {
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_millis(1_767_225_600_123)), "2026-01-01T00:00:00.123Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00.000Z");
        let mut s = String::new();
        push_json_str(&mut s, b"a\"b\\c\nd\re\x01f\xff\xe2\x80\xa8");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\re\\u0001f\u{fffd}\\u2028\"");
    }
}
