//! The SDL1 canonical string and the syntax of its fields: one spelling for every number, key id,
//! signature and prefix, and the canonical-path rules. The verifier and the signer share these
//! definitions, so what is signed is byte for byte what is checked.

use super::Failure;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;

const LABEL: &[u8] = b"SDL1-HMAC-SHA256";
pub(super) const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Decodes the raw request path (the part of `REQUEST_URI` before `?`) and checks it is canonical:
/// valid `%XX` escapes only, no `%2F`, no control characters or backslash, valid UTF-8, starting
/// with `/`, and no empty, `.` or `..` segment (a trailing `/` is allowed, for prefixes).
pub(crate) fn canonical_path(raw: &[u8]) -> Result<Vec<u8>, Failure> {
    use crate::guard::percent::{decode_path, PathEscape};
    let out = decode_path(raw).map_err(|e| match e {
        PathEscape::Malformed => Failure::Path("bad escape"),
        PathEscape::EncodedSlash => Failure::Path("encoded slash"),
    })?;
    check_canonical(&out)?;
    Ok(out)
}

/// The canonical-path rules on already decoded bytes (also applied when signing).
pub(crate) fn check_canonical(p: &[u8]) -> Result<(), Failure> {
    if p.first() != Some(&b'/') {
        return Err(Failure::Path("not absolute"));
    }
    if p.iter().any(|&b| b < 0x20 || b == 0x7f || b == b'\\') {
        return Err(Failure::Path("control character or backslash"));
    }
    std::str::from_utf8(p).map_err(|_| Failure::Path("not UTF-8"))?;
    let segments: Vec<&[u8]> = p[1..].split(|&b| b == b'/').collect();
    let n = segments.len();
    for (i, s) in segments.iter().enumerate() {
        // Only the last segment may be empty: `/a/` is a prefix, `/a//b` is not canonical.
        if (s.is_empty() && i + 1 < n) || *s == b"." || *s == b".." {
            return Err(Failure::Path("empty or dot segment"));
        }
    }
    Ok(())
}

/// A decimal number in its one spelling, `[1-9][0-9]{0,max_digits-1}`: no sign, no leading zero,
/// no space (`str::parse` alone would take `+24`), so each value has exactly one link.
fn decimal<T: std::str::FromStr>(v: &[u8], max_digits: usize) -> Option<T> {
    if v.is_empty() || v.len() > max_digits || v[0] == b'0' || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// `exp` and `nbf`: Unix seconds, at most 11 digits.
pub(super) fn unix_time(v: &[u8]) -> Option<u64> {
    decimal(v, 11)
}

/// `ipm`: at most 3 digits and 255.
pub(super) fn ipm_bits(v: &[u8]) -> Option<u8> {
    decimal(v, 3)
}

/// The link-limit claims `id`, `uses` and `gw`, each in its one spelling: `uses` needs `id`, `gw`
/// needs `uses`; `None` when malformed, `Some(None)` when the link has no id.
pub(super) fn limit_claims(
    id: Option<&[u8]>,
    uses: Option<&[u8]>,
    gw: Option<&[u8]>,
) -> Option<Option<crate::guard::token::limit::Limit>> {
    use crate::guard::token::limit::{valid_link_id, Limit, MAX_GRANT_WINDOW, MAX_USES};
    let Some(id) = id else {
        return (uses.is_none() && gw.is_none()).then_some(None);
    };
    let id = std::str::from_utf8(id).ok().filter(|i| valid_link_id(i))?;
    let uses = match uses {
        Some(v) => Some(decimal::<u32>(v, 6).filter(|n| *n <= MAX_USES)?),
        None if gw.is_some() => return None,
        None => None,
    };
    let window = match gw {
        Some(v) => Some(decimal::<u64>(v, 7).filter(|n| *n <= MAX_GRANT_WINDOW)?),
        None => None,
    };
    Some(Some(Limit { id: id.to_owned(), uses, window }))
}

/// Decodes base64url without padding, refusing any non-canonical spelling (spare bits set).
pub(super) fn b64_strict(v: &[u8]) -> Option<Vec<u8>> {
    let raw = B64.decode(v).ok()?;
    (B64.encode(&raw).as_bytes() == v).then_some(raw)
}

/// The client network `ip/bits` as canonical text (`203.0.113.0/24`, `2001:db8:85a3::/64`);
/// an IPv4-mapped IPv6 address counts as IPv4.
pub fn ipnet(ip: IpAddr, bits: u8) -> Option<String> {
    match ip.to_canonical() {
        IpAddr::V4(v4) if (1..=32).contains(&bits) => {
            let mask = u32::MAX << (32 - u32::from(bits));
            Some(format!("{}/{bits}", std::net::Ipv4Addr::from(u32::from(v4) & mask)))
        }
        IpAddr::V6(v6) if (1..=128).contains(&bits) => {
            let mask = u128::MAX << (128 - u32::from(bits));
            Some(format!("{}/{bits}", std::net::Ipv6Addr::from(u128::from(v6) & mask)))
        }
        _ => None,
    }
}

/// Fields that go into the canonical string.
pub(super) struct Fields<'a> {
    pub(super) kid: &'a str,
    pub(super) exp: &'a [u8],
    pub(super) nbf: &'a [u8],
    pub(super) ipnet: &'a str,
    pub(super) fname: Option<&'a [u8]>,
    pub(super) disp: Option<&'a [u8]>,
    pub(super) id: Option<&'a [u8]>,
    pub(super) uses: Option<&'a [u8]>,
    pub(super) gw: Option<&'a [u8]>,
    pub(super) prefix: Option<&'a [u8]>,
    pub(super) path: &'a [u8],
}

/// Emits the canonical string of `f` piece by piece: the one definition of its layout, which
/// [`canonical`] collects and [`mac_of`] feeds to the HMAC without building it.
pub(super) fn canonical_parts(f: &Fields<'_>, mut put: impl FnMut(&[u8])) {
    for part in [LABEL, f.kid.as_bytes(), f.exp, f.nbf, f.ipnet.as_bytes()] {
        put(part);
        put(b"\n");
    }
    if let Some(fname) = f.fname {
        put(b"fn\n");
        put(fname);
        put(b"\n");
    }
    for (label, value) in [(&b"disp\n"[..], f.disp), (b"id\n", f.id), (b"uses\n", f.uses), (b"gw\n", f.gw)] {
        if let Some(v) = value {
            put(label);
            put(v);
            put(b"\n");
        }
    }
    match f.prefix {
        Some(p) => {
            put(b"prefix\n");
            put(p);
        }
        None => {
            put(b"path\n");
            put(f.path);
        }
    }
}

#[cfg(feature = "testing")]
pub(super) fn canonical(f: &Fields<'_>) -> Vec<u8> {
    let mut c = Vec::with_capacity(96 + f.path.len());
    canonical_parts(f, |part| c.extend_from_slice(part));
    c
}

/// HMAC-SHA256 of the canonical string of `f` under `key`.
pub(super) fn mac_of(key: &[u8], f: &Fields<'_>) -> Hmac<Sha256> {
    // HMAC takes keys of any length; the error case cannot occur.
    let mut m =
        <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    canonical_parts(f, |part| m.update(part));
    m
}

/// The 32 bytes of an unpadded base64url signature (43 characters), decoded strictly (the text must
/// be exactly what encoding the bytes gives), without allocating.
pub(super) fn sig_strict(v: &[u8]) -> Option<[u8; 32]> {
    let mut raw = [0u8; 32];
    if B64.decode_slice(v, &mut raw).ok()? != 32 {
        return None;
    }
    let mut again = [0u8; 43];
    (B64.encode_slice(raw, &mut again).ok()? == 43 && again == v).then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_one_spelling() {
        let ipm: [(&[u8], Option<u8>); 16] = [
            (b"24", Some(24)),
            (b"1", Some(1)),
            (b"128", Some(128)),
            (b"255", Some(255)),
            (b"+24", None),
            (b"-24", None),
            (b"024", None),
            (b"0", None),
            (b"00", None),
            (b"", None),
            (b" 24", None),
            (b"24 ", None),
            (b"2_4", None),
            (b"256", None),
            (b"1000", None),
            (b"0x18", None),
        ];
        for (v, want) in ipm {
            assert_eq!(ipm_bits(v), want, "ipm={}", String::from_utf8_lossy(v));
        }
        let times: [(&[u8], Option<u64>); 9] = [
            (b"1767225600", Some(1_767_225_600)),
            (b"99999999999", Some(99_999_999_999)),
            (b"+1767225600", None),
            (b"-1", None),
            (b"01767225600", None),
            (b"0", None),
            (b"", None),
            (b"999999999999", None),
            (b"1767225600 ", None),
        ];
        for (v, want) in times {
            assert_eq!(unix_time(v), want, "time {}", String::from_utf8_lossy(v));
        }
    }
}
