//! SDL1: HMAC-SHA256 signed, expiring download links (research/tokens.md §6).
//!
//! A link is the file's normal URL plus query parameters whose values are all in `[A-Za-z0-9_-]`:
//!
//! ```text
//! <path>?exp=<unix>&kid=<id>[&nbf=<unix>][&pfx=<b64url(prefix)>][&ipm=<bits>][&fn=<b64url(name)>][&disp=attachment|inline]&sig=<b64url(mac)>
//! ```
//!
//! The MAC covers the canonical string — scheme, key id, expiry, not-before, client network, the
//! optional signed response claims (download name, disposition), then the path or prefix **last**,
//! so no bytes in the path can be mistaken for another field:
//!
//! ```text
//! "SDL1-HMAC-SHA256" LF kid LF exp LF nbf LF ipnet LF [ "fn" LF fn LF ] [ "disp" LF disp LF ] ("path"|"prefix") LF path
//! ```
//!
//! The claim lines are this project's extension of the proposal: absent claims leave the canonical
//! string exactly as in the published vectors. Verification order (status in brackets): the path
//! from the raw `REQUEST_URI` must be canonical, every parameter well formed and given once, the key
//! known, the prefix a segment-boundary prefix of the path (403); the MAC, compared in constant time
//! (403); expiry (410); not-before (30 s skew) and the lifetime cap (403). The MAC is checked before
//! the times, so an unauthenticated client learns nothing from the status.

use super::keys::{valid_kid, KeyRing};
use super::Claims;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;
use thiserror::Error;

/// Allowance for clock skew on `nbf`, in seconds.
pub(crate) const NBF_SKEW_SECS: u64 = 30;
const LABEL: &[u8] = b"SDL1-HMAC-SHA256";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why a link was refused (logged; the client sees 403, or 410 for [`Failure::Expired`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Failure {
    /// No `REQUEST_URI` from the server.
    #[error("no REQUEST_URI")]
    NoRequestUri,
    /// The requested path is not in canonical form.
    #[error("path not canonical: {0}")]
    Path(&'static str),
    /// A parameter is missing, duplicated or malformed.
    #[error("parameter: {0}")]
    Param(&'static str),
    /// The key id is not in the ring.
    #[error("unknown key id")]
    UnknownKey,
    /// The prefix does not cover the path.
    #[error("prefix does not cover the path")]
    Prefix,
    /// `ipm` given but the client address is missing or of the other family.
    #[error("client address does not fit the signed network")]
    Network,
    /// The MAC does not match.
    #[error("bad signature")]
    BadSignature,
    /// `exp` has passed.
    #[error("expired")]
    Expired,
    /// `nbf` is still ahead.
    #[error("not yet valid")]
    NotYetValid,
    /// `exp` lies further ahead than the lifetime cap.
    #[error("lifetime over the cap")]
    TooLong,
}

/// A verified link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The key that signed it.
    pub kid: String,
    /// The decoded, canonical request path it covers.
    pub path: Vec<u8>,
    /// Signed response claims.
    pub claims: Claims,
}

/// What the verifier needs from the request.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Raw `REQUEST_URI` (path and query, not decoded).
    pub request_uri: Option<&'a [u8]>,
    /// `REMOTE_ADDR`.
    pub remote_addr: Option<&'a [u8]>,
    /// Now, in Unix seconds.
    pub now: u64,
    /// Longest lifetime accepted (`exp - now`), in seconds.
    pub max_ttl: u64,
}

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

/// `[1-9][0-9]{0,10}`.
fn unix_time(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 11 || v[0] == b'0' || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// `ipm`: `[1-9][0-9]{0,2}`, at most 255. No sign, no leading zero, no space: one spelling per
/// value, as for `exp` and `nbf` (`str::parse` alone would take `+24`).
fn ipm_bits(v: &[u8]) -> Option<u8> {
    if v.is_empty() || v.len() > 3 || v[0] == b'0' || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Decodes base64url without padding, refusing any non-canonical spelling (spare bits set).
fn b64_strict(v: &[u8]) -> Option<Vec<u8>> {
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
struct Fields<'a> {
    kid: &'a str,
    exp: &'a [u8],
    nbf: &'a [u8],
    ipnet: &'a str,
    fname: Option<&'a [u8]>,
    disp: Option<&'a [u8]>,
    prefix: Option<&'a [u8]>,
    path: &'a [u8],
}

/// Emits the canonical string of `f` piece by piece: the one definition of its layout, which
/// [`canonical`] collects and [`mac_of`] feeds to the HMAC without building it.
fn canonical_parts(f: &Fields<'_>, mut put: impl FnMut(&[u8])) {
    for part in [LABEL, f.kid.as_bytes(), f.exp, f.nbf, f.ipnet.as_bytes()] {
        put(part);
        put(b"\n");
    }
    if let Some(fname) = f.fname {
        put(b"fn\n");
        put(fname);
        put(b"\n");
    }
    if let Some(disp) = f.disp {
        put(b"disp\n");
        put(disp);
        put(b"\n");
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
fn canonical(f: &Fields<'_>) -> Vec<u8> {
    let mut c = Vec::with_capacity(96 + f.path.len());
    canonical_parts(f, |part| c.extend_from_slice(part));
    c
}

/// HMAC-SHA256 of the canonical string of `f` under `key`.
fn mac_of(key: &[u8], f: &Fields<'_>) -> Hmac<Sha256> {
    // HMAC takes keys of any length; the error case cannot occur.
    let mut m =
        <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    canonical_parts(f, |part| m.update(part));
    m
}

/// The 32 bytes of an unpadded base64url signature (43 characters), decoded strictly (the text must
/// be exactly what encoding the bytes gives), without allocating.
fn sig_strict(v: &[u8]) -> Option<[u8; 32]> {
    let mut raw = [0u8; 32];
    if B64.decode_slice(v, &mut raw).ok()? != 32 {
        return None;
    }
    let mut again = [0u8; 43];
    (B64.encode_slice(raw, &mut again).ok()? == 43 && again == v).then_some(raw)
}

/// Whether the query of `request_uri` has a `sig` parameter (with or without a value): the link
/// claims to be signed, so it must be verified even where no signature is required.
pub(crate) fn has_signature(request_uri: Option<&[u8]>) -> bool {
    let Some(uri) = request_uri else { return false };
    let Some(q) = uri.iter().position(|&b| b == b'?') else { return false };
    crate::guard::percent::pairs(&uri[q + 1..]).any(|(name, _)| name == b"sig")
}

/// Verifies an SDL1 link.
///
/// # Errors
/// The reason it is refused.
pub fn verify(keys: &KeyRing, input: &Input<'_>) -> Result<Verified, Failure> {
    let uri = input.request_uri.ok_or(Failure::NoRequestUri)?;
    let (raw_path, query) = match uri.iter().position(|&b| b == b'?') {
        Some(q) => (&uri[..q], &uri[q + 1..]),
        None => (uri, &b""[..]),
    };
    let path = canonical_path(raw_path)?;
    let mut p: [Option<&[u8]>; 8] = [None; 8];
    const NAMES: [&[u8]; 8] = [b"exp", b"kid", b"nbf", b"pfx", b"ipm", b"fn", b"disp", b"sig"];
    for (name, value) in crate::guard::percent::pairs(query) {
        let value = value.unwrap_or_default();
        if let Some(i) = NAMES.iter().position(|n| *n == name) {
            if p[i].replace(value).is_some() {
                return Err(Failure::Param("duplicate parameter"));
            }
        }
    }
    let [exp, kid, nbf, pfx, ipm, fname, disp, sig] = p;
    let exp = exp.ok_or(Failure::Param("no exp"))?;
    let exp_secs = unix_time(exp).ok_or(Failure::Param("bad exp"))?;
    let kid = std::str::from_utf8(kid.ok_or(Failure::Param("no kid"))?).map_err(|_| Failure::Param("bad kid"))?;
    if !valid_kid(kid) {
        return Err(Failure::Param("bad kid"));
    }
    // Short `text:` secrets exist for the legacy schemes only.
    let key = keys.get(kid).filter(|k| k.len() >= super::keys::MIN_SECRET_BYTES).ok_or(Failure::UnknownKey)?;
    let nbf_secs = match nbf {
        Some(v) => Some(unix_time(v).ok_or(Failure::Param("bad nbf"))?),
        None => None,
    };
    let sig = sig.ok_or(Failure::Param("no sig"))?;
    if sig.len() != 43 {
        return Err(Failure::Param("bad sig"));
    }
    let sig = sig_strict(sig).ok_or(Failure::Param("bad sig"))?;
    let prefix = match pfx {
        Some(v) => {
            let prefix = b64_strict(v).ok_or(Failure::Param("bad pfx"))?;
            check_canonical(&prefix).map_err(|_| Failure::Param("bad pfx"))?;
            if prefix.last() != Some(&b'/') || !path.starts_with(&prefix) {
                return Err(Failure::Prefix);
            }
            Some(prefix)
        }
        None => None,
    };
    let net = match ipm {
        Some(v) => {
            let bits = ipm_bits(v).ok_or(Failure::Param("bad ipm"))?;
            let addr: IpAddr =
                input.remote_addr.and_then(|a| std::str::from_utf8(a).ok()?.parse().ok()).ok_or(Failure::Network)?;
            ipnet(addr, bits).ok_or(Failure::Network)?
        }
        None => String::new(),
    };
    let claims = Claims::from_sdl1(fname, disp).ok_or(Failure::Param("bad fn or disp"))?;
    let fields = Fields {
        kid,
        exp,
        nbf: nbf.unwrap_or_default(),
        ipnet: &net,
        fname,
        disp,
        prefix: prefix.as_deref(),
        path: &path,
    };
    mac_of(key, &fields).verify_slice(&sig).map_err(|_| Failure::BadSignature)?;
    if input.now > exp_secs {
        return Err(Failure::Expired);
    }
    if nbf_secs.is_some_and(|n| input.now.saturating_add(NBF_SKEW_SECS) < n) {
        return Err(Failure::NotYetValid);
    }
    if exp_secs - input.now > input.max_ttl {
        return Err(Failure::TooLong);
    }
    Ok(Verified { kid: kid.to_owned(), path, claims })
}

/// What to sign.
#[derive(Debug, Clone)]
pub struct SignSpec<'a> {
    /// Key id.
    pub kid: &'a str,
    /// The secret of `kid`.
    pub key: &'a [u8],
    /// The public path a browser requests, decoded (`/dl/Q3 résumé.pdf`).
    pub path: &'a str,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Not-before, Unix seconds.
    pub nbf: Option<u64>,
    /// Sign a prefix of `path` (ending in `/`) instead of the path itself.
    pub prefix: Option<&'a str>,
    /// Bind to the client's network.
    pub network: Option<(IpAddr, u8)>,
    /// Signed response claims.
    pub claims: Claims,
}

/// Why a link cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignError {
    /// The path breaks the canonical rules.
    #[error("path {0:?} is not canonical (absolute, no empty, . or .. segments, no control characters)")]
    Path(String),
    /// The prefix is not a canonical prefix of the path ending in `/`.
    #[error("prefix {0:?} must end with / and be a prefix of the path")]
    Prefix(String),
    /// The network length does not fit the address family.
    #[error("network prefix length {0} does not fit the address")]
    Network(u8),
    /// Bad key id.
    #[error("key id {0:?} is not 1-32 of A-Z a-z 0-9 _ -")]
    Kid(String),
    /// The key is one of the short `text:` secrets kept for legacy schemes.
    #[error("key {0:?} is shorter than 16 bytes; SDL1 needs a hex: or b64: key of 32 random bytes")]
    ShortKey(String),
    /// The download name is empty, too long, or contains a control character, `/` or `\`.
    #[error("download name {0:?} must be 1-255 bytes without control characters, / or \\")]
    Filename(String),
}

/// Builds the signed link (`path?query`) for `spec`.
///
/// # Errors
/// When the path, prefix, network or key id break the rules the verifier enforces.
pub fn sign(spec: &SignSpec<'_>) -> Result<String, SignError> {
    if !valid_kid(spec.kid) {
        return Err(SignError::Kid(spec.kid.to_owned()));
    }
    if spec.key.len() < super::keys::MIN_SECRET_BYTES {
        return Err(SignError::ShortKey(spec.kid.to_owned()));
    }
    if let Some(name) = spec.claims.filename.as_deref().filter(|n| !super::valid_filename(n)) {
        return Err(SignError::Filename(name.to_owned()));
    }
    let path = spec.path.as_bytes();
    if check_canonical(path).is_err() || path.ends_with(b"/") {
        return Err(SignError::Path(spec.path.to_owned()));
    }
    if let Some(prefix) = spec.prefix {
        if check_canonical(prefix.as_bytes()).is_err() || !prefix.ends_with('/') || !spec.path.starts_with(prefix) {
            return Err(SignError::Prefix(prefix.to_owned()));
        }
    }
    let net = match spec.network {
        Some((ip, bits)) => ipnet(ip, bits).ok_or(SignError::Network(bits))?,
        None => String::new(),
    };
    let exp = spec.exp.to_string();
    let nbf = spec.nbf.map(|n| n.to_string()).unwrap_or_default();
    let (fname, disp) = spec.claims.to_sdl1();
    let fields = Fields {
        kid: spec.kid,
        exp: exp.as_bytes(),
        nbf: nbf.as_bytes(),
        ipnet: &net,
        fname: fname.as_deref().map(str::as_bytes),
        disp: disp.map(str::as_bytes),
        prefix: spec.prefix.map(str::as_bytes),
        path,
    };
    let sig = B64.encode(mac_of(spec.key, &fields).finalize().into_bytes());
    let mut url = Vec::new();
    crate::guard::target::push_uri_path(&mut url, path);
    let mut url = String::from_utf8(url).unwrap_or_default();
    url.push_str(&format!("?exp={exp}&kid={}", spec.kid));
    if let Some(n) = spec.nbf {
        url.push_str(&format!("&nbf={n}"));
    }
    if let Some(p) = spec.prefix {
        url.push_str(&format!("&pfx={}", B64.encode(p)));
    }
    if let Some((_, bits)) = spec.network {
        url.push_str(&format!("&ipm={bits}"));
    }
    if let Some(f) = &fname {
        url.push_str(&format!("&fn={f}"));
    }
    if let Some(d) = disp {
        url.push_str(&format!("&disp={d}"));
    }
    url.push_str(&format!("&sig={sig}"));
    Ok(url)
}

/// The canonical string for tests that compare it with the published vectors.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub fn canonical_for_test(kid: &str, exp: &str, nbf: &str, ipnet: &str, prefix: Option<&[u8]>, path: &[u8]) -> Vec<u8> {
    canonical(&Fields { kid, exp: exp.as_bytes(), nbf: nbf.as_bytes(), ipnet, fname: None, disp: None, prefix, path })
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
