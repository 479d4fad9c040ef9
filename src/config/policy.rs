//! The guard's [`Policy`] built from the options: roots opened, prefixes normalised, the map
//! parsed and checked to name every further root, the presentation defaults and the access log
//! validated. The signed-link settings are in `signing.rs`.

use super::cli::ServeArgs;
use super::values::parse_duration;
use super::{keep, ConfigError};
use crate::access_log::AccessLog;
use crate::guard::map::parse as parse_map;
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

/// Opens a `--root` (the first one through [`Policy::build`]).
pub(super) fn open_root(path: &Path) -> Result<Root, ConfigError> {
    let md = std::fs::metadata(path).map_err(|source| ConfigError::Root { path: path.to_owned(), source })?;
    if !md.is_dir() {
        return Err(ConfigError::RootNotDirectory(path.to_owned()));
    }
    Root::open(path).map_err(|source| ConfigError::Root { path: path.to_owned(), source })
}

/// The roots and the map: the first `--root` built into the policy (unless a prefix is already
/// known to be bad, `prefixes_ok`), the further roots opened, `--map` parsed. Records every problem
/// in `e`; `None` only when it recorded one (or the prefixes did).
pub(super) fn roots(e: &mut Vec<ConfigError>, args: &ServeArgs, backend: Backend, prefixes_ok: bool) -> Option<Policy> {
    let given = super::object::root_list(&args.root);
    // The --s3-* options matter (and credentials are looked up) only with an s3:// root.
    let objects = match given.iter().any(|r| super::object::is_object(r)) {
        true => keep(e, super::object::settings(args, backend)),
        false => None,
    };
    let object_prefix = keep(e, normalize_prefix("--s3-internal-prefix", &args.s3_internal_prefix));
    let open_any = |e: &mut Vec<ConfigError>, r: &Path| match super::object::is_object(r) {
        // Without settings, their error is recorded already.
        true => objects.as_ref().and_then(|s| keep(e, super::object::open(r, s))),
        false => keep(e, open_root(r)),
    };
    let other_roots: Vec<Root> = given.iter().skip(1).filter_map(|r| open_any(e, r)).collect();
    let map = keep(
        e,
        args.map
            .as_deref()
            .map(|m| parse_map(m, true).map_err(|why| ConfigError::Scheme { option: "--map", why }))
            .transpose(),
    );
    let policy = match (given.first(), prefixes_ok) {
        (None, _) => keep(e, Err(ConfigError::MissingRoot)),
        (Some(root), true) => open_any(e, root).and_then(|root| {
            keep(
                e,
                Policy::with_root(
                    root,
                    backend,
                    args.internal_prefix.as_deref(),
                    args.strip_prefix.as_deref(),
                    args.allow_hidden,
                ),
            )
        }),
        (Some(root), false) => {
            // Report a bad root too, without building anything.
            if let (false, Err(err)) = (super::object::is_object(root), std::fs::metadata(root)) {
                e.push(ConfigError::Root { path: root.to_owned(), source: err });
            }
            None
        }
    };
    let mut policy = policy?;
    policy.other_roots = other_roots;
    policy.map = map?.unwrap_or_default();
    policy.object_prefix = object_prefix?;
    Some(policy)
}

/// With a backend that names files by URI, every root after the first needs a `--map` entry.
pub(super) fn map_covers_roots(policy: &Policy) -> Result<(), ConfigError> {
    if !matches!(policy.backend, Backend::Nginx | Backend::LocalRedirect | Backend::Caddy)
        || policy.internal_prefix.starts_with('@')
    {
        return Ok(());
    }
    // An object root is named by its presigned URL, not by a URI under a map entry.
    for r in policy.other_roots.iter().filter(|r| r.as_object().is_none()) {
        let abs = r.path().as_os_str().as_encoded_bytes();
        let covered = policy
            .map
            .entries()
            .iter()
            .any(|m| abs.starts_with(&m.fs) && matches!(abs.get(m.fs.len()), None | Some(b'/')));
        if !covered {
            return Err(ConfigError::Scheme {
                option: "--map",
                why: format!(
                    "--root {} has no --map entry, so its files could not be named to the web server",
                    r.path().display()
                ),
            });
        }
    }
    Ok(())
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
        Policy::with_root(open_root(root)?, backend, internal_prefix, strip_prefix, allow_hidden)
    }

    /// [`Policy::build`] with the first root already opened (a local or an object-store root).
    ///
    /// # Errors
    /// A missing or malformed prefix.
    pub(super) fn with_root(
        root: Root,
        backend: Backend,
        internal_prefix: Option<&str>,
        strip_prefix: Option<&str>,
        allow_hidden: bool,
    ) -> Result<Policy, ConfigError> {
        let (internal_prefix, strip_prefix) = prefixes(backend, internal_prefix, strip_prefix)?;
        Ok(Policy {
            root,
            object_prefix: "/_s3".to_owned(),
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

/// `--access-log`, opened.
pub(super) fn access_log(args: &ServeArgs) -> Result<Option<AccessLog>, ConfigError> {
    match &args.access_log {
        Some(spec) => AccessLog::open(spec)
            .map(Some)
            .map_err(|e| ConfigError::Scheme { option: "--access-log", why: format!("{spec}: {e}") }),
        None => Ok(None),
    }
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

#[cfg(test)]
mod tests {
    use super::normalize_prefix;

    #[test]
    fn prefixes() {
        assert_eq!(normalize_prefix("x", "/_p/").ok().as_deref(), Some("/_p"));
        assert_eq!(normalize_prefix("x", "/").ok().as_deref(), Some(""));
        assert_eq!(normalize_prefix("--internal-prefix", "@files").ok().as_deref(), Some("@files"));
        for bad in ["p", "/a b", "/a%20", "/a/../b", "/a//b", "/a?x", "@", "@a/b"] {
            assert!(normalize_prefix("x", bad).is_err(), "{bad}");
        }
    }
}
