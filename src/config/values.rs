//! Option values parsed on their own: listen addresses, socket modes, durations, times, networks,
//! log levels. Pure functions of the text; each error names the option.

use super::{ConfigError, ListenSpec};
use std::ffi::OsStr;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::Duration;

pub(super) fn parse_listen(value: &str) -> Result<ListenSpec, ConfigError> {
    let bad = || ConfigError::BadListen(value.to_owned());
    if let Some(rest) = value.strip_prefix("http://") {
        return match parse_listen(rest.strip_suffix('/').unwrap_or(rest))? {
            ListenSpec::Tcp(addr) => Ok(ListenSpec::Http(addr)),
            _ => Err(bad()),
        };
    }
    if let Some(path) = value.strip_prefix("unix:") {
        if path.is_empty() {
            return Err(bad());
        }
        return Ok(ListenSpec::Unix(PathBuf::from(path)));
    }
    if let Some(fd) = value.strip_prefix("fd:") {
        let fd: RawFd = fd.parse().map_err(|_| bad())?;
        if fd < 0 || fd == 1 || fd == 2 {
            return Err(bad());
        }
        return Ok(ListenSpec::Fd(fd));
    }
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(ListenSpec::Tcp(addr));
    }
    if let Some(port) = value.strip_prefix("localhost:") {
        let port: u16 = port.parse().map_err(|_| bad())?;
        return Ok(ListenSpec::Tcp(SocketAddr::from(([127, 0, 0, 1], port))));
    }
    Err(bad())
}

pub(super) fn parse_mode(value: &str) -> Result<u32, ConfigError> {
    let digits = value.strip_prefix("0o").unwrap_or(value);
    match u32::from_str_radix(digits, 8) {
        Ok(m) if m <= 0o777 && !digits.is_empty() => Ok(m),
        _ => Err(ConfigError::BadSocketMode(value.to_owned())),
    }
}

/// Parses `30s`, `500ms`, `2m`, `1h`, `7d`, or a bare number of seconds.
pub(crate) fn parse_duration_str(value: &str) -> Option<Duration> {
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let d = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        "d" => Duration::from_secs(n.checked_mul(86_400)?),
        _ => return None,
    };
    Some(d)
}

/// The last second `sign` accepts: 9999-12-31T23:59:59Z, the end of RFC 3339's range (and within
/// the eleven digits the SDL1 verifier reads).
pub(crate) const LAST_TIME: u64 = 253_402_300_799;

/// A point in time for `sign --expires-at` and `--not-before-at`: Unix seconds (`1796083944`, also
/// written `@1796083944`) or an RFC 3339 UTC time `YYYY-MM-DDTHH:MM:SSZ` (§5.6, the `Z` form only,
/// a real calendar date). `None` for anything else, for 0, and after [`LAST_TIME`].
pub(crate) fn parse_time(v: &str) -> Option<u64> {
    let digits = v.strip_prefix('@').unwrap_or(v);
    if !digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits.parse().ok().filter(|t| (1..=LAST_TIME).contains(t));
    }
    let b = v.as_bytes();
    let shape = b.len() == 20
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    let num = |r: std::ops::Range<usize>| v.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&d) || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), Howard Hinnant's algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok().filter(|t| *t >= 1)
}

/// A point in time `v` from `now` for `sign --expires-in` and `--not-before-in`: a duration
/// (`90s`, `10m`, `2h`, `7d`; a bare number is seconds). `None` when malformed or after
/// [`LAST_TIME`].
pub(crate) fn parse_time_in(v: &str, now: u64) -> Option<u64> {
    now.checked_add(parse_duration_str(v)?.as_secs()).filter(|t| *t <= LAST_TIME)
}

/// The old, hidden `sign --expires`/`--not-before`: a duration with its unit, `@UNIX-SECONDS` or
/// RFC 3339. A bare number is refused (`Err(true)`): it read as seconds from now, which is never
/// what a Unix time meant. `Err(false)` when malformed.
pub(crate) fn parse_when(v: &str, now: u64) -> Result<u64, bool> {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(true);
    }
    parse_time(v).or_else(|| parse_time_in(v, now)).ok_or(false)
}

/// `ADDRESS/BITS` or a bare address (its /32 or /128), for binding a link to a client network.
pub(crate) fn parse_network(v: &str) -> Option<(IpAddr, u8)> {
    match v.split_once('/') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => {
            let ip: IpAddr = v.parse().ok()?;
            Some((ip, if ip.to_canonical().is_ipv4() { 32 } else { 128 }))
        }
    }
}

pub(super) fn parse_duration(option: &'static str, value: &str) -> Result<Duration, ConfigError> {
    match parse_duration_str(value) {
        Some(d) if d > crate::limits::MAX_DURATION && option != "--max-link-lifetime" => {
            // A link lifetime is only compared, never added to a time; everything else is.
            Err(ConfigError::DurationTooLong { option, value: value.to_owned() })
        }
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(ConfigError::BadDuration { option, value: value.to_owned() }),
    }
}

pub(super) fn bounded(option: &'static str, value: usize, min: usize, max: usize) -> Result<usize, ConfigError> {
    if value < min || value > max {
        let why = match option {
            "--max-params-bytes" => "must be between 4096 and 16777216",
            "--max-params" => "must be between 16 and 1000000",
            "--threads" => "must be between 1 and 1024",
            _ => "must be between 1 and 1000000",
        };
        return Err(ConfigError::BadLimit { option, value: value as u64, why });
    }
    Ok(value)
}

pub(super) fn parse_level(value: &str) -> Result<log::LevelFilter, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "off" => Ok(log::LevelFilter::Off),
        "error" => Ok(log::LevelFilter::Error),
        "warn" => Ok(log::LevelFilter::Warn),
        "info" => Ok(log::LevelFilter::Info),
        "debug" => Ok(log::LevelFilter::Debug),
        "trace" => Ok(log::LevelFilter::Trace),
        _ => Err(ConfigError::BadLogLevel(value.to_owned())),
    }
}

pub(super) fn adjust_level(base: log::LevelFilter, verbose: u8, quiet: u8) -> log::LevelFilter {
    const LEVELS: [log::LevelFilter; 6] = [
        log::LevelFilter::Off,
        log::LevelFilter::Error,
        log::LevelFilter::Warn,
        log::LevelFilter::Info,
        log::LevelFilter::Debug,
        log::LevelFilter::Trace,
    ];
    let idx = LEVELS.iter().position(|l| *l == base).unwrap_or(3) as i32 + i32::from(verbose) - i32::from(quiet);
    LEVELS[idx.clamp(0, 5) as usize]
}

pub(super) fn parse_web_server_addrs(value: &OsStr) -> Result<Vec<IpAddr>, ConfigError> {
    let text = value.to_string_lossy();
    let mut out = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let ip: IpAddr = entry.parse().map_err(|_| ConfigError::BadWebServerAddr(entry.to_owned()))?;
        out.push(ip.to_canonical());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_forms() {
        assert_eq!(parse_listen("127.0.0.1:9000").ok(), Some(ListenSpec::Tcp("127.0.0.1:9000".parse().expect("addr"))));
        assert_eq!(parse_listen("[::1]:9000").ok(), Some(ListenSpec::Tcp("[::1]:9000".parse().expect("addr"))));
        assert_eq!(parse_listen("unix:/run/x.sock").ok(), Some(ListenSpec::Unix("/run/x.sock".into())));
        assert_eq!(parse_listen("fd:3").ok(), Some(ListenSpec::Fd(3)));
        assert_eq!(
            parse_listen("http://127.0.0.1:9080").ok(),
            Some(ListenSpec::Http("127.0.0.1:9080".parse().expect("addr")))
        );
        assert_eq!(
            parse_listen("http://localhost:9080/").ok(),
            Some(ListenSpec::Http("127.0.0.1:9080".parse().expect("addr")))
        );
        for bad in ["", "fd:1", "fd:x", "unix:", "nowhere", "1.2.3.4", "http://unix:/x", "http://fd:3", "http://"] {
            assert!(parse_listen(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_modes_levels() {
        assert_eq!(parse_duration_str("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration_str("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration_str("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_duration_str("7x"), None);
        assert_eq!(parse_network("203.0.113.7"), Some(("203.0.113.7".parse().expect("ip"), 32)));
        assert_eq!(parse_network("2001:db8::/64"), Some(("2001:db8::".parse().expect("ip"), 64)));
        assert_eq!(parse_mode("0660").ok(), Some(0o660));
        assert!(parse_mode("0999").is_err());
        assert_eq!(adjust_level(log::LevelFilter::Info, 2, 0), log::LevelFilter::Trace);
        assert_eq!(adjust_level(log::LevelFilter::Info, 0, 9), log::LevelFilter::Off);
        assert_eq!(
            parse_web_server_addrs(OsStr::new("127.0.0.1, ::1")).ok(),
            Some(vec!["127.0.0.1".parse().expect("ip"), "::1".parse().expect("ip")])
        );
        assert!(parse_web_server_addrs(OsStr::new("127.0.0.1,nope")).is_err());
    }

    #[test]
    fn times_for_sign() {
        for (v, want) in [
            ("2026-01-01T00:00:00Z", Some(1_767_225_600)),
            ("2023-11-14T22:13:20Z", Some(1_700_000_000)),
            ("2024-02-29T00:00:00Z", Some(1_709_164_800)),
            ("9999-12-31T23:59:59Z", Some(LAST_TIME)),
            ("1796083944", Some(1_796_083_944)),
            ("@1767225600", Some(1_767_225_600)),
            ("0", None),
            ("253402300800", None),
            ("99999999999999999999999", None),
            ("2026-13-01T00:00:00Z", None),
            ("2025-02-29T00:00:00Z", None),
            ("2026-04-31T00:00:00Z", None),
            ("2026-01-01T24:00:00Z", None),
            ("2026-01-01T23:59:60Z", None),
            ("2026-01-01T00:00:00+01:00", None),
            ("2026-01-01 00:00:00Z", None),
            ("+2026-01-01T00:00:00Z", None),
            ("12026-01-01T00:00:00Z", None),
            ("2026-1-01T00:00:00Z", None),
            ("7d", None),
            ("", None),
        ] {
            assert_eq!(parse_time(v), want, "{v}");
        }
        assert_eq!(parse_time_in("10m", 100), Some(700));
        assert_eq!(parse_time_in("3600", 100), Some(3700));
        assert_eq!(parse_time_in("7x", 100), None);
        assert_eq!(parse_time_in("99999999999999d", 100), None);
        assert_eq!(parse_when("10m", 100), Ok(700));
        assert_eq!(parse_when("@1767225600", 100), Ok(1_767_225_600));
        assert_eq!(parse_when("1796083944", 100), Err(true), "a bare number is ambiguous");
        assert_eq!(parse_when("soon", 100), Err(false));
    }
}
