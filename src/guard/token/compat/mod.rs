//! Verifiers for the signed-link schemes of other modules, so links already issued keep working
//! when xsendfiled replaces the module that checked them: Apache mod_auth_token and wsgi-xsendfile
//! (`apache.rs`), lighttpd mod_secdownload (`lighttpd.rs`), nginx `secure_link` and
//! `secure_link_secret` (`nginx.rs`). `docs/legacy-tokens.md` gives each one's link, the bytes it
//! signs, its encodings and statuses, and what the original got wrong.
//!
//! Invariants, for every scheme: the MAC is compared in constant time against every key and checked
//! before any time; future issue times and absolute expiries are capped, so a link cannot live
//! longer than intended; numbers cannot overflow; no token or expected MAC is logged. Each keeps
//! the statuses of the module it replaces. MD5 and secret-prefix hashing make these compatibility
//! modes only: new links use SDL1.

mod apache;
mod lighttpd;
mod nginx;

pub use lighttpd::SecdlAlgorithm;
pub use nginx::{parse_template, Piece};

use super::keys::KeyRing;
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// A hash for wsgi-xsendfile, named as in Python's `hashlib`; md5 is its default.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// From a `hashlib` name (`md5`, `sha1`, `sha224`, `sha256`, `sha384`, `sha512`).
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

/// A legacy scheme with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Legacy {
    /// Apache mod_auth_token 1.0: `/<md5>/<issue time><path>`.
    ModAuthToken {
        /// `AuthTokenTimeout`, seconds.
        timeout: u64,
        /// `AuthTokenLimitByIp`: the client address is part of the MAC.
        ip: bool,
    },
    /// wsgi-xsendfile's AuthTokenApplication: `/<digest>-<issue time>/<file>`.
    WsgiXsendfile {
        /// Which hash the digest uses.
        hash: Hash,
        /// How long a link lives after its issue time, in seconds (its `timeout`).
        timeout: u64,
    },
    /// lighttpd mod_secdownload.
    Secdownload {
        /// How the MAC is computed (`secdownload.algorithm`).
        algorithm: SecdlAlgorithm,
        /// Seconds either side of the timestamp.
        timeout: u64,
        /// Sign only the first this many path segments, 0 for all (`secdownload.path-segments`).
        path_segments: usize,
        /// Sign the raw query string too (`secdownload.hash-querystr`).
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
    /// The HTTP status the original module answered.
    pub status: u16,
    /// The reason, for the log (never the token).
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
    /// The client address (`REMOTE_ADDR`).
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

impl Legacy {
    /// Checks a link against every key of `keys`.
    ///
    /// # Errors
    /// The refusal, with its original's status.
    pub fn verify(&self, keys: &KeyRing, input: &Input<'_>) -> Result<Accepted, Refused> {
        match self {
            Legacy::ModAuthToken { timeout, ip } => apache::mod_auth_token(keys, input, *timeout, *ip),
            Legacy::WsgiXsendfile { hash, timeout } => apache::wsgi_xsendfile(keys, input, *hash, *timeout),
            Legacy::Secdownload { algorithm, timeout, path_segments, hash_querystr } => {
                lighttpd::secdownload(keys, input, *algorithm, *timeout, *path_segments, *hash_querystr)
            }
            Legacy::SecureLink { template } => nginx::secure_link(keys, input, template),
            Legacy::SecureLinkSecret => nginx::secure_link_secret(keys, input),
        }
    }
}
