//! Apache-side schemes: mod_auth_token 1.0 (`/<md5 hex>/<issue time, 8 hex><path>`, statuses
//! 401/403/410) and wsgi-xsendfile's AuthTokenApplication (`/<digest>-<issue time hex>/<file>`,
//! 404/410). Both sign an issue time; a link expires `timeout` seconds after it, and an issue time
//! more than `timeout` ahead is refused (the originals accepted any). See `docs/legacy-tokens.md`.

use super::{eq, first_match, parse_hex_u64, Accepted, Hash, Input, Refused};
use crate::guard::token::keys::KeyRing;

pub(super) fn mod_auth_token(
    keys: &KeyRing,
    input: &Input<'_>,
    timeout: u64,
    with_ip: bool,
) -> Result<Accepted, Refused> {
    let malformed = Refused { status: 401, why: "mod-auth-token: malformed link" };
    let p = input.path;
    // "/" token(32) "/" ts(8) path
    if p.len() < 43 || p[0] != b'/' || p[33] != b'/' || p[42] != b'/' {
        return Err(malformed);
    }
    let token = p[1..33].to_ascii_lowercase();
    let ts = &p[34..42];
    let path = &p[42..];
    let issued = parse_hex_u64(ts).ok_or(malformed)?;
    let ip: &[u8] = if with_ip { input.remote_addr } else { b"" };
    let kid = first_match(keys, |secret| eq(Hash::Md5.hex(&[secret, path, ts, ip]).as_bytes(), &token))
        .ok_or(Refused { status: 403, why: "mod-auth-token: bad token" })?;
    let expired = Refused { status: 410, why: "mod-auth-token: expired" };
    let future = Refused { status: 403, why: "mod-auth-token: issue time in the future" };
    within_lifetime(input.now, issued, timeout, expired, future)?;
    Ok(Accepted { kid, path: path.to_vec() })
}

pub(super) fn wsgi_xsendfile(keys: &KeyRing, input: &Input<'_>, hash: Hash, timeout: u64) -> Result<Accepted, Refused> {
    let bad = Refused { status: 404, why: "wsgi-xsendfile: malformed or bad token" };
    let p = input.path.strip_prefix(b"/").ok_or(bad)?;
    let slash = p.iter().position(|&b| b == b'/').ok_or(bad)?;
    let (head, file) = (&p[..slash], &p[slash + 1..]);
    let dash = head.iter().position(|&b| b == b'-').ok_or(bad)?;
    let (digest, ts) = (&head[..dash], &head[dash + 1..]);
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    if digest.is_empty() || !digest.iter().all(word) || file.is_empty() {
        return Err(bad);
    }
    if !ts.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)) {
        return Err(bad);
    }
    // The original re-renders the parsed timestamp with "%x" before hashing, so `06553f100` and
    // `6553f100` sign alike; more than 16 significant digits cannot be a time (it raised a 500).
    let significant = ts.iter().skip_while(|&&b| b == b'0').count();
    if ts.is_empty() || significant > 16 {
        return Err(bad);
    }
    let issued = parse_hex_u64(&ts[ts.len() - significant.max(1)..]).ok_or(bad)?;
    let hexts = format!("{issued:x}");
    let kid =
        first_match(keys, |secret| eq(hash.hex(&[secret, file, hexts.as_bytes()]).as_bytes(), digest)).ok_or(bad)?;
    let expired = Refused { status: 410, why: "wsgi-xsendfile: expired" };
    let future = Refused { status: 404, why: "wsgi-xsendfile: issue time in the future" };
    within_lifetime(input.now, issued, timeout, expired, future)?;
    Ok(Accepted { kid, path: [b"/", file].concat() })
}

/// The lifetime rule of both schemes: a link lives `timeout` seconds after its issue time (then
/// `expired`), and an issue time more than `timeout` ahead of `now` is refused (`future`), so a link
/// cannot be made to live longer than the timeout.
fn within_lifetime(now: u64, issued: u64, timeout: u64, expired: Refused, future: Refused) -> Result<(), Refused> {
    if now > issued.saturating_add(timeout) {
        return Err(expired);
    }
    if issued > now.saturating_add(timeout) {
        return Err(future);
    }
    Ok(())
}
