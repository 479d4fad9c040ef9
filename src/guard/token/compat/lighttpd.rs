//! lighttpd mod_secdownload (`/<mac>/<issue time, 1-16 hex><path>`): md5 hex, or base64url
//! HMAC-SHA1/SHA256 of `/<time><path>`, optionally cut to the first path segments and with the
//! query appended. A link is good within `timeout` seconds either side of its time; unlike the
//! original, the MAC is checked before the time. Statuses 404/403/410. See `docs/legacy-tokens.md`.

use super::{eq, first_match, parse_hex_u64, Accepted, Hash, Input, Refused};
use crate::guard::token::keys::KeyRing;
use base64::Engine;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};

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

pub(super) fn secdownload(
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
        SecdlAlgorithm::HmacSha1 => hmac_b64_is::<Hmac<sha1::Sha1>>(secret, &signed, mac),
        SecdlAlgorithm::HmacSha256 => hmac_b64_is::<Hmac<sha2::Sha256>>(secret, &signed, mac),
    })
    .ok_or(Refused { status: 403, why: "secdownload: bad MAC" })?;
    if input.now.abs_diff(issued) > timeout {
        return Err(Refused { status: 410, why: "secdownload: outside the time window" });
    }
    Ok(Accepted { kid, path: rel.to_vec() })
}

/// Whether `mac` is the unpadded base64url HMAC of `signed` under `secret`.
fn hmac_b64_is<M: Mac + KeyInit>(secret: &[u8], signed: &[u8], mac: &[u8]) -> bool {
    let Ok(mut m) = <M as KeyInit>::new_from_slice(secret) else { return false };
    m.update(signed);
    eq(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()).as_bytes(), mac)
}
