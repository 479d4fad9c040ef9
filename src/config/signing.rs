//! Signed links from the options: the scheme (`--token-scheme` and the options of the
//! compatibility schemes) and the key ring (`--keys`). A ring must hold keys the scheme can use
//! (`KeyRing::check_scheme`), and `--require-signature` without `--keys` is an error.

use super::cli::ServeArgs;
use super::values::parse_duration;
use super::{keep, ConfigError};
use crate::guard::token::keys::KeyRing;
use crate::guard::token::{Scheme, Signing};

/// The validated scheme and ring, before the lifetime cap joins them.
pub(super) struct Links {
    scheme: Scheme,
    ring: Option<KeyRing>,
}

impl Links {
    /// The guard's signing policy; `None` without `--keys`.
    pub(super) fn into_signing(self, require: bool, max_ttl: u64) -> Option<Signing> {
        let scheme = self.scheme;
        self.ring.map(|ring| {
            let mut signing = Signing::new(ring, require, max_ttl);
            signing.scheme = scheme;
            signing
        })
    }
}

/// The scheme and the key ring of `args`, recording every problem in `e`; `None` only when it
/// recorded one.
pub(super) fn links(e: &mut Vec<ConfigError>, args: &ServeArgs) -> Option<Links> {
    let scheme = keep(e, token_scheme(args));
    let ring = keep(
        e,
        match &args.keys {
            Some(path) => KeyRing::load(path, args.allow_readable_keys).map(Some).map_err(ConfigError::Keys),
            None if args.require_signature => Err(ConfigError::RequireSignatureWithoutKeys),
            None => Ok(None),
        },
    );
    if let (Some(scheme), Some(Some(ring)), Some(path)) = (&scheme, &ring, &args.keys) {
        keep(e, ring.check_scheme(scheme.legacy_name(), &path.display().to_string()).map_err(ConfigError::Keys));
    }
    Some(Links { scheme: scheme?, ring: ring? })
}

/// The signed-link scheme and its options.
fn token_scheme(args: &ServeArgs) -> Result<crate::guard::token::Scheme, ConfigError> {
    use crate::config::cli::TokenSchemeArg as T;
    use crate::guard::token::compat::{Hash, Legacy, SecdlAlgorithm};
    let timeout = |default: u64| match &args.token_timeout {
        Some(t) => parse_duration("--token-timeout", t).map(|d| d.as_secs()),
        None => Ok(default),
    };
    let bad = |option: &'static str, why: &str| ConfigError::Scheme { option, why: why.to_owned() };
    let legacy = match args.token_scheme {
        T::Sdl1 => return Ok(Scheme::Sdl1),
        T::ModAuthToken => Legacy::ModAuthToken { timeout: timeout(60)?, ip: args.token_ip_binding },
        T::WsgiXsendfile => Legacy::WsgiXsendfile {
            hash: match args.token_algorithm.as_deref() {
                None => Hash::Md5,
                Some(a) => Hash::parse(a).ok_or_else(|| {
                    bad("--token-algorithm", "wsgi-xsendfile takes md5, sha1, sha224, sha256, sha384 or sha512")
                })?,
            },
            timeout: timeout(120)?,
        },
        T::Secdownload => Legacy::Secdownload {
            algorithm: match args.token_algorithm.as_deref() {
                Some("md5") => SecdlAlgorithm::Md5,
                Some("hmac-sha1") => SecdlAlgorithm::HmacSha1,
                Some("hmac-sha256") => SecdlAlgorithm::HmacSha256,
                _ => return Err(bad("--token-algorithm", "secdownload needs md5, hmac-sha1 or hmac-sha256")),
            },
            timeout: timeout(60)?,
            path_segments: args.secdownload_path_segments,
            hash_querystr: args.secdownload_hash_querystr,
        },
        T::SecureLinkSecret => Legacy::SecureLinkSecret,
        T::SecureLink => Legacy::SecureLink {
            template: crate::guard::token::compat::parse_template(&args.secure_link_template)
                .map_err(|why| bad("--secure-link-template", why))?,
        },
    };
    Ok(Scheme::Legacy(legacy))
}
