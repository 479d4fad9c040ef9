//! The guard's [`Policy`] built from the options: roots opened, prefixes normalised, the link scheme
//! and the presentation defaults validated.

use super::cli::ServeArgs;
use super::values::parse_duration;
use super::ConfigError;
use crate::guard::store::Root;
use crate::guard::{Backend, Policy};
use std::path::Path;

/// Validates and normalizes `--internal-prefix` and `--strip-prefix` for `backend`.
pub(super) fn prefixes(
    backend: Backend,
    internal_prefix: Option<&str>,
    strip_prefix: Option<&str>,
) -> Result<(String, Option<Vec<u8>>), ConfigError> {
    let internal_prefix = match internal_prefix {
        None if !backend.needs_internal_prefix() => String::new(),
        None => return Err(ConfigError::MissingInternalPrefix),
        Some(p) => {
            let p = normalize_prefix("--internal-prefix", p)?;
            if p.starts_with('@') && backend != Backend::Nginx {
                return Err(ConfigError::BadPrefix {
                    option: "--internal-prefix",
                    value: p,
                    why: "named locations (@name) exist only in nginx",
                });
            }
            if p.is_empty() {
                return Err(ConfigError::BadPrefix {
                    option: "--internal-prefix",
                    value: "/".into(),
                    why: "must name a location below /, e.g. /_protected",
                });
            }
            p
        }
    };
    let strip_prefix = match strip_prefix {
        Some(p) => Some(normalize_prefix("--strip-prefix", p)?).filter(|p| !p.is_empty()).map(String::into_bytes),
        None => None,
    };
    Ok((internal_prefix, strip_prefix))
}

/// Opens a further `--root`.
pub(super) fn open_root(path: &Path) -> Result<Root, ConfigError> {
    let md = std::fs::metadata(path).map_err(|source| ConfigError::Root { path: path.to_owned(), source })?;
    if !md.is_dir() {
        return Err(ConfigError::RootNotDirectory(path.to_owned()));
    }
    Root::open(path).map_err(|source| ConfigError::Root { path: path.to_owned(), source })
}

impl Policy {
    /// Validates the decision inputs (also used directly by tests and benchmarks).
    ///
    /// # Errors
    /// A missing or unusable root, a missing or malformed prefix.
    pub fn build(
        root: &Path,
        backend: Backend,
        internal_prefix: Option<&str>,
        strip_prefix: Option<&str>,
        allow_hidden: bool,
    ) -> Result<Policy, ConfigError> {
        let md = std::fs::metadata(root).map_err(|source| ConfigError::Root { path: root.to_owned(), source })?;
        if !md.is_dir() {
            return Err(ConfigError::RootNotDirectory(root.to_owned()));
        }
        let root = Root::open(root).map_err(|source| ConfigError::Root { path: root.to_owned(), source })?;
        let (internal_prefix, strip_prefix) = prefixes(backend, internal_prefix, strip_prefix)?;
        Ok(Policy {
            root,
            backend,
            internal_prefix,
            strip_prefix,
            allow_hidden,
            signing: None,
            presentation: crate::guard::policy::Defaults::default(),
            access_log: None,
            other_roots: Vec::new(),
            map: crate::guard::map::Map::default(),
        })
    }
}

/// Content-Disposition, caching and rate defaults.
pub(super) fn presentation(args: &ServeArgs) -> Result<crate::guard::policy::Defaults, ConfigError> {
    use crate::guard::policy::{Defaults, DispositionMode};
    use crate::reply::presentation::valid_header_value;
    let bad = |option: &'static str, why: &str| ConfigError::Scheme { option, why: why.to_owned() };
    let disposition = DispositionMode::parse(args.disposition.as_bytes())
        .ok_or_else(|| bad("--disposition", "expected auto, inline, attachment or none"))?;
    if let Some(c) = &args.cache_control {
        if !valid_header_value(c) {
            return Err(bad("--cache-control", "must be printable ASCII, at most 1024 characters"));
        }
    }
    let buffering = match args.buffering.as_deref() {
        None => None,
        Some("yes") => Some(true),
        Some("no") => Some(false),
        Some(_) => return Err(bad("--buffering", "expected yes or no")),
    };
    Ok(Defaults {
        disposition,
        cache_control: args.cache_control.clone(),
        expires: args.expires.as_deref().map(|e| parse_duration("--expires", e)).transpose()?,
        accel_expires: args.accel_expires,
        limit_rate: args.limit_rate,
        buffering,
    })
}

/// The signed-link scheme and its options.
pub(super) fn token_scheme(args: &ServeArgs) -> Result<crate::guard::token::Scheme, ConfigError> {
    use crate::config::cli::TokenSchemeArg as T;
    use crate::guard::token::compat::{Hash, Legacy, SecdlAlgorithm};
    let timeout = |default: u64| match &args.token_timeout {
        Some(t) => parse_duration("--token-timeout", t).map(|d| d.as_secs()),
        None => Ok(default),
    };
    let bad = |option: &'static str, why: &str| ConfigError::Scheme { option, why: why.to_owned() };
    let legacy = match args.token_scheme {
        T::Sdl1 => return Ok(crate::guard::token::Scheme::Sdl1),
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
    Ok(crate::guard::token::Scheme::Legacy(legacy))
}

/// Checks a URI prefix and removes trailing slashes (so `/dl/` and `/dl` mean the same).
pub(super) fn normalize_prefix(option: &'static str, value: &str) -> Result<String, ConfigError> {
    let bad = |why| ConfigError::BadPrefix { option, value: value.to_owned(), why };
    if let Some(name) = value.strip_prefix('@') {
        if option != "--internal-prefix" {
            return Err(bad("must start with /"));
        }
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(bad("a named location is @ followed by letters, digits, _ or -"));
        }
        return Ok(value.to_owned());
    }
    use crate::guard::map::{uri_prefix, BadUriPrefix};
    uri_prefix(value).map_err(|e| {
        bad(match e {
            BadUriPrefix::NotAbsolute => "must start with /",
            BadUriPrefix::Character => "may contain only letters, digits, / and -._~!$&'()*+,;=:@ (no %, ?, #, spaces)",
            BadUriPrefix::Segment => "must not contain empty, . or .. segments",
        })
    })
}
