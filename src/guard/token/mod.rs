//! Signed, expiring download links.
//!
//! [`sdl1`] is the default scheme (HMAC-SHA256, key ids, expiry, optional prefix scope, client
//! network binding and signed response claims; `docs/sdl1.md`). [`compat`] verifies the links of
//! the modules xsendfiled replaces (`docs/legacy-tokens.md`). The key ring is in [`keys`]; use
//! limits and revocation (the pure half) in [`limit`]. A link
//! that fails verification is a refusal with a status, never an error: 403 for anything forged or
//! malformed, 410 for an expired link whose signature is valid.

pub mod compat;
pub mod keys;
pub mod limit;
pub mod sdl1;

use base64::Engine;

/// The default `--grant-window`: 10 minutes.
pub const DEFAULT_GRANT_WINDOW: u64 = 600;

/// Longest signed download name, in bytes.
pub(crate) const MAX_FILENAME_BYTES: usize = 255;

/// Response claims a signed link may carry. They come only from a verified signature (or a
/// trusted server parameter), never from an unsigned query parameter: a client-chosen download name
/// is a reflected-file-download hole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    /// The name the browser should save the file under.
    pub filename: Option<String>,
    /// attachment or inline.
    pub disposition: Option<Disposition>,
}

/// Whether `name` is acceptable as a download name: non-empty UTF-8 of at most
/// [`MAX_FILENAME_BYTES`], no control characters, no `/` or `\` (a name, not a path).
pub fn valid_filename(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_FILENAME_BYTES
        && !name.chars().any(|c| c.is_control() || c == '/' || c == '\\')
}

impl Claims {
    /// From the SDL1 `fn` (base64url of the UTF-8 name) and `disp` parameters; `None` if malformed.
    fn from_sdl1(fname: Option<&[u8]>, disp: Option<&[u8]>) -> Option<Claims> {
        let filename = match fname {
            Some(v) => {
                let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(v).ok()?;
                let name = String::from_utf8(raw).ok()?;
                if !valid_filename(&name)
                    || base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&name).as_bytes() != v
                {
                    return None;
                }
                Some(name)
            }
            None => None,
        };
        let disposition = match disp {
            Some(b"attachment") => Some(Disposition::Attachment),
            Some(b"inline") => Some(Disposition::Inline),
            Some(_) => return None,
            None => None,
        };
        Some(Claims { filename, disposition })
    }

    /// The SDL1 parameter values (`fn`, `disp`).
    fn to_sdl1(&self) -> (Option<String>, Option<&'static str>) {
        (
            self.filename.as_ref().map(|f| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(f)),
            self.disposition.map(Disposition::as_str),
        )
    }
}

/// The link format verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// SDL1 (`docs/sdl1.md`), the default.
    Sdl1,
    /// A compatibility scheme.
    Legacy(compat::Legacy),
}

impl Scheme {
    /// The `--token-scheme` value of a compatibility scheme (their links name no key); `None` for
    /// SDL1.
    pub(crate) fn legacy_name(&self) -> Option<&'static str> {
        match self {
            Scheme::Sdl1 => None,
            Scheme::Legacy(compat::Legacy::ModAuthToken { .. }) => Some("mod-auth-token"),
            Scheme::Legacy(compat::Legacy::WsgiXsendfile { .. }) => Some("wsgi-xsendfile"),
            Scheme::Legacy(compat::Legacy::Secdownload { .. }) => Some("secdownload"),
            Scheme::Legacy(compat::Legacy::SecureLink { .. }) => Some("secure-link"),
            Scheme::Legacy(compat::Legacy::SecureLinkSecret) => Some("secure-link-secret"),
        }
    }

    /// Whether the token is part of the URL path (so paths must not be logged).
    pub(crate) fn token_in_path(&self) -> bool {
        matches!(
            self,
            Scheme::Legacy(
                compat::Legacy::ModAuthToken { .. }
                    | compat::Legacy::WsgiXsendfile { .. }
                    | compat::Legacy::Secdownload { .. }
                    | compat::Legacy::SecureLinkSecret
            )
        )
    }
}

/// Where links must be signed, with which keys, and for how long they may live.
#[derive(Debug)]
pub struct Signing {
    /// The link format.
    pub scheme: Scheme,
    /// Every download needs a valid link unless the server says otherwise (`XSENDFILED_AUTH`).
    pub(crate) require: bool,
    /// Longest lifetime a link may have left, in seconds.
    pub max_ttl: u64,
    /// How long a use of a limited link stays open for its client, in seconds (`--grant-window`).
    pub grant_window: u64,
    /// Revoked keys and links, refreshed by the shell from the state store.
    pub revocations: std::sync::Arc<limit::Revocations>,
    ring: std::sync::RwLock<std::sync::Arc<keys::KeyRing>>,
}

impl Signing {
    /// Signing policy over `ring` (SIGHUP builds a new one from a fresh configuration).
    pub fn new(ring: keys::KeyRing, require: bool, max_ttl: u64) -> Signing {
        Signing {
            scheme: Scheme::Sdl1,
            require,
            max_ttl,
            grant_window: DEFAULT_GRANT_WINDOW,
            revocations: std::sync::Arc::default(),
            ring: std::sync::RwLock::new(std::sync::Arc::new(ring)),
        }
    }

    /// The key ring in force, a cheap handle to hold for one request.
    pub fn keys(&self) -> std::sync::Arc<keys::KeyRing> {
        match self.ring.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// `inline` or `attachment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Let the browser display it.
    Inline,
    /// Make the browser download it.
    Attachment,
}

impl Disposition {
    /// As written in `Content-Disposition` and in a link (`disp=`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Disposition::Inline => "inline",
            Disposition::Attachment => "attachment",
        }
    }
}

/// The query string as trusted policy (`filename`, `disposition`, `root`, …): only where the
/// server marked it trusted (`XSENDFILED_TRUST_QUERY`, the app socket), and never when it carries a
/// signed link (`sig`): whoever holds a link chooses its whole query, so an unsigned key beside the
/// signature is not policy (the link's own signed claims are).
pub(crate) fn policy_query<'a>(req: &crate::protocol::request::Request<'a>) -> Option<&'a [u8]> {
    let query = req.query_string.unwrap_or_default();
    (req.trust_query() && !sdl1::query_has_signature(query)).then_some(query)
}
