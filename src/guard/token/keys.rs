//! The key ring: several secrets active at once, so links can be rotated without a flag day.
//!
//! File format, one key per line: `KID SECRET`, where `KID` matches `[A-Za-z0-9_-]{1,32}` and
//! `SECRET` is `hex:…` or `b64:…` (base64url, padding optional), at least 16 bytes — SDL1 keys
//! should be 32 random bytes. `text:…` takes the rest of the line's word as the secret's bytes, of
//! any length: that is how mod_auth_token, secure_link and secdownload secrets were written, and
//! such keys serve only those compatibility schemes (SDL1 ignores keys under 16 bytes). Blank lines
//! and `#` comments are ignored; every problem is reported with its line number. A file readable by
//! other users is refused unless explicitly allowed, and one writable by the group or others is
//! always refused: the secrets mint download links.

use base64::Engine;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Shortest secret accepted, in bytes.
pub(crate) const MIN_SECRET_BYTES: usize = 16;
/// Most keys in one ring.
pub(crate) const MAX_KEYS: usize = 10_000;
/// Most keys in a ring used by a compatibility scheme: those links name no key, so a request is
/// checked against every key in turn, and its cost grows with the ring.
pub(crate) const MAX_LEGACY_KEYS: usize = 16;

/// A problem with the key file; `path` is the file in every variant.
#[allow(missing_docs)]
#[derive(Debug, Error)]
pub enum KeyError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Group or other users may read it.
    #[error(
        "{path}: readable by other users (mode {mode:o}); run `chmod 600 {path}` \
         (or pass --allow-readable-keys)"
    )]
    Readable {
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// Group or other users may write it: they could add a key and mint links. Never allowed.
    #[error("{path}: writable by other users (mode {mode:o}); run `chmod 600 {path}` (or 640)")]
    Writable {
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// A line is malformed.
    #[error("{path}:{line}: {why}")]
    Line {
        path: String,
        /// 1-based line number.
        line: usize,
        why: &'static str,
    },
    /// No key at all.
    #[error("{0}: no keys")]
    Empty(String),
    /// More keys than a compatibility scheme may try per request.
    #[error(
        "{path}: {keys} keys, but links of --token-scheme {scheme} name no key, so every request would be \
         checked against each one; at most {max} keys with this scheme",
        max = MAX_LEGACY_KEYS
    )]
    TooManyForScheme {
        path: String,
        /// How many keys it holds.
        keys: usize,
        /// The `--token-scheme` in force.
        scheme: &'static str,
    },
}

/// Secrets by key id.
#[derive(Clone, Default)]
pub struct KeyRing {
    keys: HashMap<String, Vec<u8>>,
    order: Vec<String>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets.
        f.debug_struct("KeyRing").field("kids", &self.order).finish()
    }
}

/// Whether `kid` is a valid key id.
pub(crate) fn valid_kid(kid: &str) -> bool {
    (1..=32).contains(&kid.len()) && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl KeyRing {
    /// Reads and checks a key file.
    ///
    /// # Errors
    /// I/O, a file writable by the group or others, one readable by them (unless
    /// `allow_readable`), and every format problem.
    pub fn load(path: &Path, allow_readable: bool) -> Result<KeyRing, KeyError> {
        use std::io::Read;
        let io = |source| KeyError::Io { path: path.to_owned(), source };
        // The checks are made on the handle that is read, so the file cannot change in between.
        let mut file = std::fs::File::open(path).map_err(io)?;
        let md = file.metadata().map_err(io)?;
        let mode = md.mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(KeyError::Writable { path: path.display().to_string(), mode });
        }
        if mode & 0o044 != 0 && !allow_readable {
            return Err(KeyError::Readable { path: path.display().to_string(), mode });
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io)?;
        KeyRing::parse(&text, &path.display().to_string())
    }

    /// Parses key-file text; `name` is used in messages.
    ///
    /// # Errors
    /// The first malformed line, or an empty ring.
    pub fn parse(text: &str, name: &str) -> Result<KeyRing, KeyError> {
        let mut ring = KeyRing::default();
        for (i, raw) in text.lines().enumerate() {
            let bad = |why| KeyError::Line { path: name.to_owned(), line: i + 1, why };
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(kid), Some(secret), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad("expected `KID SECRET`"));
            };
            if !valid_kid(kid) {
                return Err(bad("key id must be 1-32 of A-Z a-z 0-9 _ -"));
            }
            let bytes = if let Some(h) = secret.strip_prefix("hex:") {
                decode_hex(h).ok_or_else(|| bad("malformed hex secret"))?
            } else if let Some(b) = secret.strip_prefix("b64:") {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(b.trim_end_matches('='))
                    .map_err(|_| bad("malformed base64url secret"))?
            } else if let Some(t) = secret.strip_prefix("text:") {
                t.as_bytes().to_vec()
            } else {
                return Err(bad("secret must be written hex:..., b64:... or text:..."));
            };
            if bytes.is_empty() || (bytes.len() < MIN_SECRET_BYTES && !secret.starts_with("text:")) {
                return Err(bad("secret shorter than 16 bytes"));
            }
            if ring.keys.insert(kid.to_owned(), bytes).is_some() {
                return Err(bad("duplicate key id"));
            }
            ring.order.push(kid.to_owned());
            if ring.order.len() > MAX_KEYS {
                return Err(bad("too many keys"));
            }
        }
        if ring.order.is_empty() {
            return Err(KeyError::Empty(name.to_owned()));
        }
        Ok(ring)
    }

    /// Refuses a ring too large for a scheme whose links name no key (`scheme` is that scheme's
    /// option value; `None` for SDL1, which looks keys up by id).
    ///
    /// # Errors
    /// More than [`MAX_LEGACY_KEYS`] keys with a compatibility scheme.
    pub(crate) fn check_scheme(&self, scheme: Option<&'static str>, name: &str) -> Result<(), KeyError> {
        match scheme {
            Some(scheme) if self.order.len() > MAX_LEGACY_KEYS => {
                Err(KeyError::TooManyForScheme { path: name.to_owned(), keys: self.order.len(), scheme })
            }
            _ => Ok(()),
        }
    }

    /// The secret of `kid`.
    pub fn get(&self, kid: &str) -> Option<&[u8]> {
        self.keys.get(kid).map(Vec::as_slice)
    }

    /// Key ids in file order (the first one signs by default).
    pub(crate) fn kids(&self) -> &[String] {
        &self.order
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let ring = KeyRing::parse(
            "# rotation\nk2026a hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n\
             old b64:c2VjcmV0LXNlY3JldC1zZWNyZXQ\n",
            "t",
        )
        .expect("ring");
        assert_eq!(ring.kids(), ["k2026a", "old"]);
        assert_eq!(ring.get("k2026a").map(|k| k.len()), Some(32));
        assert_eq!(ring.get("old"), Some(&b"secret-secret-secret"[..]));
        for (text, why) in [
            ("k hex:00", "shorter"),
            ("k text:", "shorter"),
            ("k plain-secret-here-long", "hex:"),
            ("k hex:zz", "malformed hex"),
            ("bad/kid hex:000102030405060708090a0b0c0d0e0f", "key id"),
            ("k hex:000102030405060708090a0b0c0d0e0f\nk hex:000102030405060708090a0b0c0d0e0f", "duplicate"),
            ("k", "KID SECRET"),
            ("# nothing", "no keys"),
        ] {
            let err = KeyRing::parse(text, "f").expect_err(text).to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
        assert!(!format!("{ring:?}").contains("000102"), "Debug never shows secrets");
        let legacy = KeyRing::parse("old text:secret", "t").expect("text secret");
        assert_eq!(legacy.get("old"), Some(&b"secret"[..]));
    }

    #[test]
    fn a_reload_over_the_legacy_cap_keeps_the_old_ring() {
        // SIGHUP validates a new configuration; a key file over the cap fails it (the running
        // configuration, ring included, stays in force: see the server's reload).
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys");
        let ring = |n: usize| (0..n).map(|i| format!("k{i} text:s{i}\n")).collect::<String>();
        let reload = || {
            let ring = KeyRing::load(&path, true)?;
            ring.check_scheme(Some("secure-link-secret"), "keys").map(|()| ring.kids().len())
        };
        std::fs::write(&path, ring(MAX_LEGACY_KEYS + 1)).expect("write");
        let err = reload().expect_err("over the cap").to_string();
        assert!(err.contains("17 keys"), "{err}");
        std::fs::write(&path, ring(MAX_LEGACY_KEYS)).expect("write");
        assert_eq!(reload().expect("at the cap"), MAX_LEGACY_KEYS);
    }
}
