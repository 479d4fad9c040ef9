//! SDL1: HMAC-SHA256 signed, expiring download links, the default scheme. The specification is
//! `docs/sdl1.md`; how to mint links from an application is `docs/signing.md`.
//!
//! A link is the file's normal URL plus query parameters whose values are all in `[A-Za-z0-9_-]`:
//!
//! ```text
//! <path>?exp=<unix>&kid=<id>[&nbf=<unix>][&pfx=<b64url(prefix)>][&ipm=<bits>][&fn=<b64url(name)>][&disp=attachment|inline][&id=<link id>[&uses=<n>[&gw=<secs>]]]&sig=<b64url(mac)>
//! ```
//!
//! The MAC covers the canonical string — scheme, key id, expiry, not-before, client network, the
//! optional signed response claims (download name, disposition), then the path or prefix **last**,
//! so no bytes in the path can be mistaken for another field:
//!
//! ```text
//! "SDL1-HMAC-SHA256" LF kid LF exp LF nbf LF ipnet LF [ "fn" LF fn LF ] [ "disp" LF disp LF ]
//!     [ "id" LF id LF ] [ "uses" LF n LF ] [ "gw" LF secs LF ] ("path"|"prefix") LF path
//! ```
//!
//! The claim lines appear only when a claim is signed, so a link without claims signs the
//! shorter string of the test vectors in `docs/sdl1.md`. Verification order (status in brackets): the path
//! from the raw `REQUEST_URI` must be canonical, every parameter well formed and given once, the key
//! known, the prefix a segment-boundary prefix of the path (403); the MAC, compared in constant time
//! (403); expiry (410); not-before (30 s skew) and the lifetime cap (403). The MAC is checked before
//! the times, so an unauthenticated client learns nothing from the status.

mod canonical;
mod sign;

pub use canonical::ipnet;
pub(crate) use canonical::{canonical_path, check_canonical};
pub use sign::{sign, SignError, SignSpec};

use super::keys::{valid_kid, KeyRing};
use super::limit::Limit;
use super::Claims;
use canonical::{b64_strict, ipm_bits, limit_claims, mac_of, sig_strict, unix_time, Fields};
use hmac::Mac;
use std::net::IpAddr;
use thiserror::Error;

/// Allowance for clock skew on `nbf`, in seconds.
pub(crate) const NBF_SKEW_SECS: u64 = 30;

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

/// What a link that verified grants: the key that signed it, the path it covers, its claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The key that signed it.
    pub kid: String,
    /// The decoded, canonical request path it covers.
    pub path: Vec<u8>,
    /// Signed response claims.
    pub claims: Claims,
    /// The link id and use limit (`id`, `uses`, `gw`), when signed.
    pub limit: Option<Limit>,
    /// The expiry, Unix seconds.
    pub exp: u64,
}

/// What the verifier needs from the request.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Raw `REQUEST_URI` (path and query, not decoded).
    pub request_uri: Option<&'a [u8]>,
    /// The client address (`REMOTE_ADDR`), for `ipm`.
    pub remote_addr: Option<&'a [u8]>,
    /// Now, in Unix seconds.
    pub now: u64,
    /// Longest lifetime accepted (`exp - now`), in seconds.
    pub max_ttl: u64,
}

/// Whether the query of `request_uri` has a `sig` parameter (with or without a value): the link
/// claims to be signed, so it must be verified even where no signature is required.
pub(crate) fn has_signature(request_uri: Option<&[u8]>) -> bool {
    let Some(uri) = request_uri else { return false };
    let Some(q) = uri.iter().position(|&b| b == b'?') else { return false };
    query_has_signature(&uri[q + 1..])
}

/// Whether a raw query has a `sig` parameter (with or without a value).
pub(crate) fn query_has_signature(query: &[u8]) -> bool {
    crate::guard::percent::pairs(query).any(|(name, _)| name == b"sig")
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
    let [exp, kid, nbf, pfx, ipm, fname, disp, id, uses, gw, sig] = params(query)?;
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
    let prefix = pfx.map(|v| signed_prefix(v, &path)).transpose()?;
    let net = match ipm {
        Some(v) => client_network(v, input.remote_addr)?,
        None => String::new(),
    };
    let claims = Claims::from_sdl1(fname, disp).ok_or(Failure::Param("bad fn or disp"))?;
    let limit = limit_claims(id, uses, gw).ok_or(Failure::Param("bad id, uses or gw"))?;
    let fields = Fields {
        kid,
        exp,
        nbf: nbf.unwrap_or_default(),
        ipnet: &net,
        fname,
        disp,
        id,
        uses,
        gw,
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
    Ok(Verified { kid: kid.to_owned(), path, claims, limit, exp: exp_secs })
}

/// The SDL1 parameters of `query` (`exp kid nbf pfx ipm fn disp id uses gw sig`, in that order);
/// others are ignored, and any of these given twice is refused.
fn params(query: &[u8]) -> Result<[Option<&[u8]>; 11], Failure> {
    const NAMES: [&[u8]; 11] = [b"exp", b"kid", b"nbf", b"pfx", b"ipm", b"fn", b"disp", b"id", b"uses", b"gw", b"sig"];
    let mut p: [Option<&[u8]>; 11] = [None; 11];
    for (name, value) in crate::guard::percent::pairs(query) {
        let value = value.unwrap_or_default();
        if let Some(i) = NAMES.iter().position(|n| *n == name) {
            if p[i].replace(value).is_some() {
                return Err(Failure::Param("duplicate parameter"));
            }
        }
    }
    Ok(p)
}

/// `pfx`: a canonical prefix ending in `/` that `path` starts with.
fn signed_prefix(v: &[u8], path: &[u8]) -> Result<Vec<u8>, Failure> {
    let prefix = b64_strict(v).ok_or(Failure::Param("bad pfx"))?;
    check_canonical(&prefix).map_err(|_| Failure::Param("bad pfx"))?;
    if prefix.last() != Some(&b'/') || !path.starts_with(&prefix) {
        return Err(Failure::Prefix);
    }
    Ok(prefix)
}

/// `ipm`: the client's network of that many bits, as it goes into the canonical string.
fn client_network(v: &[u8], remote_addr: Option<&[u8]>) -> Result<String, Failure> {
    let bits = ipm_bits(v).ok_or(Failure::Param("bad ipm"))?;
    let addr: IpAddr = remote_addr.and_then(|a| std::str::from_utf8(a).ok()?.parse().ok()).ok_or(Failure::Network)?;
    ipnet(addr, bits).ok_or(Failure::Network)
}

/// The canonical string for tests that compare it with the published vectors.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub fn canonical_for_test(kid: &str, exp: &str, nbf: &str, ipnet: &str, prefix: Option<&[u8]>, path: &[u8]) -> Vec<u8> {
    canonical::canonical(&Fields {
        kid,
        exp: exp.as_bytes(),
        nbf: nbf.as_bytes(),
        ipnet,
        fname: None,
        disp: None,
        id: None,
        uses: None,
        gw: None,
        prefix,
        path,
    })
}
