//! Minting SDL1 links (`xsendfiled sign`, benches, tests): the same canonical string the verifier
//! checks, refused up front for anything the verifier would refuse (a non-canonical path or
//! prefix, a bad key id, a short key, a bad download name or network).

use super::super::keys::{valid_kid, MIN_SECRET_BYTES};
use super::super::limit::{valid_link_id, Limit, MAX_GRANT_WINDOW, MAX_USES};
use super::super::{valid_filename, Claims};
use super::canonical::{check_canonical, ipnet, mac_of, Fields, B64};
use base64::Engine;
use hmac::Mac;
use std::net::IpAddr;
use thiserror::Error;

/// A link to mint: key, path or prefix, times, client network and claims.
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
    /// Link id, uses and grant window (`uses` needs an id, `gw` needs `uses`).
    pub limit: Option<Limit>,
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
    /// The link id, uses or grant window is out of range.
    #[error(
        "link id must be 1-64 of A-Z a-z 0-9 _ -, uses 1-{MAX_USES}, grant window 1-{MAX_GRANT_WINDOW} s with uses"
    )]
    Limit,
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
    if spec.key.len() < MIN_SECRET_BYTES {
        return Err(SignError::ShortKey(spec.kid.to_owned()));
    }
    if let Some(name) = spec.claims.filename.as_deref().filter(|n| !valid_filename(n)) {
        return Err(SignError::Filename(name.to_owned()));
    }
    if let Some(l) = &spec.limit {
        let uses_ok = l.uses.is_none_or(|n| (1..=MAX_USES).contains(&n));
        let gw_ok = l.window.is_none_or(|w| (1..=MAX_GRANT_WINDOW).contains(&w) && l.uses.is_some());
        if !valid_link_id(&l.id) || !uses_ok || !gw_ok {
            return Err(SignError::Limit);
        }
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
    let limit = spec.limit.as_ref();
    let uses = limit.and_then(|l| l.uses).map(|n| n.to_string());
    let gw = limit.and_then(|l| l.window).map(|w| w.to_string());
    let fields = Fields {
        kid: spec.kid,
        exp: exp.as_bytes(),
        nbf: nbf.as_bytes(),
        ipnet: &net,
        fname: fname.as_deref().map(str::as_bytes),
        disp: disp.map(str::as_bytes),
        id: limit.map(|l| l.id.as_bytes()),
        uses: uses.as_deref().map(str::as_bytes),
        gw: gw.as_deref().map(str::as_bytes),
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
    for (name, value) in [("id", limit.map(|l| l.id.as_str())), ("uses", uses.as_deref()), ("gw", gw.as_deref())] {
        if let Some(v) = value {
            url.push_str(&format!("&{name}={v}"));
        }
    }
    url.push_str(&format!("&sig={sig}"));
    Ok(url)
}
