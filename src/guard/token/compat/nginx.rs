//! nginx `secure_link` (expression form: `?md5=<b64url md5 of a template>&expires=<unix>`) and
//! `secure_link_secret` (`/<md5 hex>/<link>`, no expiry). The template must sign `{expires}` and
//! hold `{secret}`; a link lives at most `max_ttl`. Statuses 403/410. See `docs/legacy-tokens.md`.

use super::{eq, first_match, Accepted, Hash, Input, Refused};
use crate::guard::percent::query_raw;
use crate::guard::token::keys::KeyRing;
use base64::Engine;
use md5::{Digest, Md5};

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
    /// `{remote_addr}`: the client address (`REMOTE_ADDR`).
    RemoteAddr,
    /// `{secret}`: the key's bytes.
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

pub(super) fn secure_link(keys: &KeyRing, input: &Input<'_>, template: &[Piece]) -> Result<Accepted, Refused> {
    let bad = Refused { status: 403, why: "secure-link: missing, malformed or bad hash" };
    let md5_arg = query_raw(input.query, b"md5").ok_or(bad)?;
    let expires = query_raw(input.query, b"expires").ok_or(bad)?;
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
                Piece::Arg(name) => d.update(query_raw(input.query, name).unwrap_or_default()),
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
pub(super) fn secure_link_secret(keys: &KeyRing, input: &Input<'_>) -> Result<Accepted, Refused> {
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
