//! Verifiers for the signed-link schemes users already have (research/tokens.md §1–§3, §7), so
//! existing links keep working when xsendfiled replaces the module that checked them:
//!
//! | scheme | URL after `--strip-prefix` | MAC | statuses kept |
//! |---|---|---|---|
//! | `mod-auth-token` (Apache mod_auth_token 1.0) | `/<md5 hex, 32>/<issue time, 8 hex><path>` | `md5(secret + path + ts [+ client ip])` | 401 malformed, 403 bad, 410 expired |
//! | `wsgi-xsendfile` (AuthTokenApplication) | `/<hex digest>-<issue time hex>/<file>` | `hash(secret + file + "%x" ts)`, md5 … sha512 | 404 bad, 410 expired |
//! | `secdownload` (lighttpd mod_secdownload) | `/<mac>/<issue time, 1-16 hex><path>` | md5 hex, or b64url HMAC-SHA1/SHA256 of `/ts/path` | 404 malformed, 403 bad, 410 outside the window |
//! | `secure-link` (nginx secure_link, expression form) | unchanged; `?md5=<b64url>&expires=<unix>` | `md5(template)` | 403 bad, 410 expired |
//! | `secure-link-secret` (nginx `secure_link_secret`) | `/<md5 hex>/<link>` | `md5(link + secret)`, link = the raw rest of the URI, query included | 403 bad; no expiry (the module has none) |
//!
//! Every scheme gets what the originals lacked: a constant-time comparison, a cap on timestamps in
//! the future (a link cannot be made to live longer than intended), numbers that cannot overflow
//! (wsgi-xsendfile answered 500), and no token or expected MAC in any log. The MAC is checked
//! before the time, as in SDL1. All of them hash a decoded request path, which is why they are
//! compatibility modes: MD5 and a secret prefix are not what a new deployment should choose.

use super::keys::KeyRing;
use base64::Engine;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// A hash for wsgi-xsendfile (`hashlib` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// md5 (its default).
    Md5,
    /// sha1.
    Sha1,
    /// sha224.
    Sha224,
    /// sha256.
    Sha256,
    /// sha384.
    Sha384,
    /// sha512.
    Sha512,
}

impl Hash {
    /// From a hashlib name.
    pub fn parse(name: &str) -> Option<Hash> {
        Some(match name {
            "md5" => Hash::Md5,
            "sha1" => Hash::Sha1,
            "sha224" => Hash::Sha224,
            "sha256" => Hash::Sha256,
            "sha384" => Hash::Sha384,
            "sha512" => Hash::Sha512,
            _ => return None,
        })
    }

    fn hex(self, parts: &[&[u8]]) -> String {
        fn run<D: Digest>(parts: &[&[u8]]) -> String {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            hex(&d.finalize())
        }
        match self {
            Hash::Md5 => run::<Md5>(parts),
            Hash::Sha1 => run::<sha1::Sha1>(parts),
            Hash::Sha224 => run::<sha2::Sha224>(parts),
            Hash::Sha256 => run::<sha2::Sha256>(parts),
            Hash::Sha384 => run::<sha2::Sha384>(parts),
            Hash::Sha512 => run::<sha2::Sha512>(parts),
        }
    }
}

/// lighttpd secdownload algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecdlAlgorithm {
    /// `md5`: 32 hex characters.
    Md5,
    /// `hmac-sha1`: 27 base64url characters.
    HmacSha1,
    /// `hmac-sha256`: 43 base64url characters.
    HmacSha256,
}

/// One piece of a secure_link template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Lit(Vec<u8>),
    /// `{expires}`: the `expires` argument as sent.
    Expires,
    /// `{uri}`: the decoded, normalised request path.
    Uri,
    /// `{request_uri}`: the raw request URI, query included.
    RequestUri,
    /// `{remote_addr}`.
    RemoteAddr,
    /// `{secret}`.
    Secret,
    /// `{arg:NAME}`: a raw query argument.
    Arg(Vec<u8>),
}

/// Parses a secure_link template such as `{expires}{uri}{remote_addr} {secret}` (nginx's
/// `"$secure_link_expires$uri$remote_addr secret"` written with our placeholders).
///
/// # Errors
/// An unknown placeholder, or a template without `{secret}` or without `{expires}` (the expiry
/// would not be authenticated: any client could extend a link).
pub fn parse_template(t: &str) -> Result<Vec<Piece>, &'static str> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Piece::Lit(rest.as_bytes()[..open].to_vec()));
        }
        let close = rest[open..].find('}').ok_or("unclosed {")? + open;
        out.push(match &rest[open + 1..close] {
            "expires" => Piece::Expires,
            "uri" => Piece::Uri,
            "request_uri" => Piece::RequestUri,
            "remote_addr" => Piece::RemoteAddr,
            "secret" => Piece::Secret,
            other => match other.strip_prefix("arg:") {
                Some(name) if !name.is_empty() => Piece::Arg(name.as_bytes().to_vec()),
                _ => {
                    return Err(
                        "unknown placeholder (use {expires} {uri} {request_uri} {remote_addr} {secret} {arg:NAME})",
                    )
                }
            },
        });
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Lit(rest.as_bytes().to_vec()));
    }
    if !out.contains(&Piece::Secret) {
        return Err("the template must contain {secret}");
    }
    if !out.contains(&Piece::Expires) {
        return Err("the template must contain {expires}, or the expiry is not signed");
    }
    Ok(out)
}

/// A legacy scheme with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Legacy {
    /// Apache mod_auth_token.
    ModAuthToken {
        /// `AuthTokenTimeout`, seconds.
        timeout: u64,
        /// `AuthTokenLimitByIp`: the client address is part of the MAC.
        ip: bool,
    },
    /// wsgi-xsendfile AuthTokenApplication.
    WsgiXsendfile {
        /// The hash.
        hash: Hash,
        /// Seconds.
        timeout: u64,
    },
    /// lighttpd mod_secdownload.
    Secdownload {
        /// The MAC.
        algorithm: SecdlAlgorithm,
        /// Seconds either side of the timestamp.
        timeout: u64,
        /// `secdownload.path-segments`.
        path_segments: usize,
        /// `secdownload.hash-querystr`.
        hash_querystr: bool,
    },
    /// nginx secure_link, expression form.
    SecureLink {
        /// The `secure_link_md5` expression.
        template: Vec<Piece>,
    },
    /// nginx `secure_link_secret`: links that never expire.
    SecureLinkSecret,
}

/// Why a legacy link was refused, with the status its original answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// HTTP status.
    pub status: u16,
    /// For the log.
    pub(crate) why: &'static str,
}

/// What the verifier needs from the request.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The decoded request path after `--strip-prefix` (starts with `/`).
    pub path: &'a [u8],
    /// The decoded, normalised full request path (`{uri}` of secure_link).
    pub uri: &'a [u8],
    /// Raw `REQUEST_URI`.
    pub request_uri: &'a [u8],
    /// Raw `QUERY_STRING`.
    pub query: &'a [u8],
    /// `REMOTE_ADDR`.
    pub remote_addr: &'a [u8],
    /// Now, Unix seconds.
    pub now: u64,
    /// Longest remaining lifetime accepted for absolute expiries (secure_link), seconds.
    pub max_ttl: u64,
}

/// A verified legacy link: the key that matched and the path of the file (starting with `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Key id of the matching secret.
    pub kid: String,
    /// The file path the link names, relative to the mount, starting with `/`.
    pub path: Vec<u8>,
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

fn parse_hex_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 || !s.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(s).ok()?, 16).ok()
}

/// Tries every key of the ring; the comparison itself is constant-time.
fn first_match(keys: &KeyRing, mut matches: impl FnMut(&[u8]) -> bool) -> Option<String> {
    let mut found = None;
    for kid in keys.kids() {
        if let Some(secret) = keys.get(kid) {
            if matches(secret) && found.is_none() {
                found = Some(kid.clone());
            }
        }
    }
    found
}

fn eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

fn query_arg<'a>(query: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    crate::guard::percent::query_raw(query, name)
}

impl Legacy {
    /// Verifies a link.
    ///
    /// # Errors
    /// The refusal, with its original's status.
    pub fn verify(&self, keys: &KeyRing, input: &Input<'_>) -> Result<Accepted, Refused> {
        match self {
            Legacy::ModAuthToken { timeout, ip } => mod_auth_token(keys, input, *timeout, *ip),
            Legacy::WsgiXsendfile { hash, timeout } => wsgi_xsendfile(keys, input, *hash, *timeout),
            Legacy::Secdownload { algorithm, timeout, path_segments, hash_querystr } => {
                secdownload(keys, input, *algorithm, *timeout, *path_segments, *hash_querystr)
            }
            Legacy::SecureLink { template } => secure_link(keys, input, template),
            Legacy::SecureLinkSecret => secure_link_secret(keys, input),
        }
    }
}

fn mod_auth_token(keys: &KeyRing, input: &Input<'_>, timeout: u64, with_ip: bool) -> Result<Accepted, Refused> {
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
    if input.now > issued.saturating_add(timeout) {
        return Err(Refused { status: 410, why: "mod-auth-token: expired" });
    }
    if issued > input.now.saturating_add(timeout) {
        return Err(Refused { status: 403, why: "mod-auth-token: issue time in the future" });
    }
    Ok(Accepted { kid, path: path.to_vec() })
}

fn wsgi_xsendfile(keys: &KeyRing, input: &Input<'_>, hash: Hash, timeout: u64) -> Result<Accepted, Refused> {
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
    if input.now > issued.saturating_add(timeout) {
        return Err(Refused { status: 410, why: "wsgi-xsendfile: expired" });
    }
    if issued > input.now.saturating_add(timeout) {
        return Err(Refused { status: 404, why: "wsgi-xsendfile: issue time in the future" });
    }
    Ok(Accepted { kid, path: [b"/", file].concat() })
}

fn secdownload(
    keys: &KeyRing,
    input: &Input<'_>,
    algorithm: SecdlAlgorithm,
    timeout: u64,
    path_segments: usize,
    hash_querystr: bool,
) -> Result<Accepted, Refused> {
    let malformed = Refused { status: 404, why: "secdownload: malformed link" };
    let mac_len = match algorithm {
        SecdlAlgorithm::Md5 => 32,
        SecdlAlgorithm::HmacSha1 => 27,
        SecdlAlgorithm::HmacSha256 => 43,
    };
    let p = input.path;
    if p.len() < mac_len + 3 || p[0] != b'/' || p[mac_len + 1] != b'/' {
        return Err(malformed);
    }
    let mac = &p[1..=mac_len];
    if !mac.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_') {
        return Err(malformed);
    }
    let protected = &p[mac_len + 1..]; // "/" ts rel-path
    let ts_len = protected[1..].iter().position(|&b| b == b'/').ok_or(malformed)?;
    let ts = &protected[1..=ts_len];
    let rel = &protected[ts_len + 1..];
    let issued = parse_hex_u64(ts).ok_or(malformed)?;
    // The signed part: "/" ts rel, cut before the (N+1)th "/" of rel, plus "?" query.
    let mut signed = protected.to_vec();
    if path_segments > 0 {
        let mut seen = 0;
        if let Some(cut) = rel.iter().enumerate().skip(1).filter(|(_, &b)| b == b'/').find_map(|(i, _)| {
            seen += 1;
            (seen == path_segments).then_some(i)
        }) {
            signed.truncate(ts_len + 1 + cut);
        }
    }
    if hash_querystr && !input.query.is_empty() {
        signed.push(b'?');
        signed.extend_from_slice(input.query);
    }
    let kid = first_match(keys, |secret| match algorithm {
        SecdlAlgorithm::Md5 => {
            let (sts, srel) = (&signed[1..=ts_len], &signed[ts_len + 1..]);
            eq(Hash::Md5.hex(&[secret, srel, sts]).as_bytes(), &mac.to_ascii_lowercase())
        }
        SecdlAlgorithm::HmacSha1 => {
            let Ok(mut m) = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret) else { return false };
            m.update(&signed);
            eq(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()).as_bytes(), mac)
        }
        SecdlAlgorithm::HmacSha256 => {
            let Ok(mut m) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret) else { return false };
            m.update(&signed);
            eq(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()).as_bytes(), mac)
        }
    })
    .ok_or(Refused { status: 403, why: "secdownload: bad MAC" })?;
    if input.now.abs_diff(issued) > timeout {
        return Err(Refused { status: 410, why: "secdownload: outside the time window" });
    }
    Ok(Accepted { kid, path: rel.to_vec() })
}

fn secure_link(keys: &KeyRing, input: &Input<'_>, template: &[Piece]) -> Result<Accepted, Refused> {
    let bad = Refused { status: 403, why: "secure-link: missing, malformed or bad hash" };
    let md5_arg = query_arg(input.query, b"md5").ok_or(bad)?;
    let expires = query_arg(input.query, b"expires").ok_or(bad)?;
    // nginx: at most 24 characters of base64url, `=` padding optional.
    let stripped = md5_arg.strip_suffix(b"==").unwrap_or(md5_arg);
    if md5_arg.len() > 24 || stripped.len() != 22 {
        return Err(bad);
    }
    let hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(stripped).map_err(|_| bad)?;
    if expires.is_empty() || expires.len() > 11 || !expires.iter().all(u8::is_ascii_digit) {
        return Err(bad);
    }
    let exp: u64 = std::str::from_utf8(expires).ok().and_then(|e| e.parse().ok()).filter(|&e| e > 0).ok_or(bad)?;
    let kid = first_match(keys, |secret| {
        let mut d = Md5::new();
        for piece in template {
            match piece {
                Piece::Lit(l) => d.update(l),
                Piece::Expires => d.update(expires),
                Piece::Uri => d.update(input.uri),
                Piece::RequestUri => d.update(input.request_uri),
                Piece::RemoteAddr => d.update(input.remote_addr),
                Piece::Secret => d.update(secret),
                Piece::Arg(name) => d.update(query_arg(input.query, name).unwrap_or_default()),
            }
        }
        eq(&d.finalize(), &hash)
    })
    .ok_or(bad)?;
    if exp < input.now {
        return Err(Refused { status: 410, why: "secure-link: expired" });
    }
    if exp - input.now > input.max_ttl {
        return Err(Refused { status: 403, why: "secure-link: lifetime over the cap" });
    }
    Ok(Accepted { kid, path: input.path.to_vec() })
}

/// `secure_link_secret`: `/<md5 hex>/<link>` after the mount, where the hash covers the raw
/// (undecoded) rest of the request URI, query included, followed by the secret.
fn secure_link_secret(keys: &KeyRing, input: &Input<'_>) -> Result<Accepted, Refused> {
    let bad = Refused { status: 403, why: "secure-link-secret: malformed link or bad hash" };
    let p = input.path;
    if p.len() < 35 || p[0] != b'/' || p[33] != b'/' {
        return Err(bad);
    }
    let hash = p[1..33].to_ascii_lowercase();
    // The raw link: the request URI after the same "/<hash>/" (the mount prefix comes before it).
    let raw = input.request_uri;
    let marker_at = raw.windows(34).position(|w| w[0] == b'/' && w[33] == b'/' && w[1..33].eq_ignore_ascii_case(&hash));
    let link = &raw[marker_at.ok_or(bad)? + 34..];
    let kid = first_match(keys, |secret| eq(Hash::Md5.hex(&[link, secret]).as_bytes(), &hash)).ok_or(bad)?;
    Ok(Accepted { kid, path: p[33..].to_vec() })
}
