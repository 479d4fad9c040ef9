//! Object-store roots: `--root s3://BUCKET[/PREFIX]` and the `--s3-*` options become
//! [`ObjectRoot`]s, each with its bucket client (`objstore`) and a bounded HEAD cache.
//!
//! Rules: a bucket name is 3–63 of `a-z 0-9 . -` (AWS S3 "Bucket naming rules"); a prefix has no
//! empty, `.` or `..` segment and no control character; the backend must be one that can
//! fetch a URL (nginx; Apache through `local-redirect`; `serve`, where xsendfiled GETs the object
//! itself; others are refused with what to use instead). Credentials are looked up
//! once, at start-up and on SIGHUP, only when an object root is configured.

use super::cli::ServeArgs;
use super::values::parse_duration;
use super::ConfigError;
use crate::guard::store::object::HeadCache;
use crate::guard::store::{ObjectRoot, Root};
use crate::guard::Backend;
use crate::objstore::{credentials, Bucket, Endpoint};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The `--s3-*` options, validated.
pub(super) struct ObjectSettings {
    endpoint: Endpoint,
    credentials: rusty_s3::Credentials,
    head_ttl: Duration,
    head_cache: usize,
}

/// `--root` values as given: the `:` that separates roots in `XSENDFILED_ROOT` also splits
/// `s3://…`, so a piece `s3` followed by one starting with `//` is one URL again.
pub(super) fn root_list(given: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::with_capacity(given.len());
    let mut pieces = given.iter().peekable();
    while let Some(p) = pieces.next() {
        let next_is_rest = pieces.peek().is_some_and(|n| n.as_os_str().as_encoded_bytes().starts_with(b"//"));
        match pieces.next_if(|_| p.as_os_str() == "s3" && next_is_rest) {
            Some(rest) => out.push(PathBuf::from(format!("s3:{}", rest.display()))),
            None => out.push(p.clone()),
        }
    }
    out
}

/// Whether a `--root` names an object-store location.
pub(super) fn is_object(root: &Path) -> bool {
    root.as_os_str().as_encoded_bytes().starts_with(b"s3://")
}

/// The `--s3-*` options and the credentials, when some root is an object-store location.
pub(super) fn settings(args: &ServeArgs, backend: Backend) -> Result<ObjectSettings, ConfigError> {
    let bad = |option: &'static str, why: String| ConfigError::Scheme { option, why };
    if !matches!(backend, Backend::Nginx | Backend::Serve | Backend::LocalRedirect) {
        return Err(bad(
            "--root",
            format!(
                "an s3:// root needs a web server that fetches the object from a presigned URL: use --backend \
                 nginx (conf-examples/nginx-s3.conf), local-redirect with Apache (conf-examples/apache-s3.conf) \
                 or serve (xsendfiled streams it); {} cannot reach an object store",
                backend_name(backend)
            ),
        ));
    }
    let presign = parse_duration("--s3-presign-lifetime", &args.s3_presign_lifetime)?;
    if !(Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&presign) {
        return Err(bad("--s3-presign-lifetime", "must be between 1s and 1h".into()));
    }
    let timeout = parse_duration("--s3-timeout", &args.s3_timeout)?;
    if timeout.is_zero() {
        return Err(bad("--s3-timeout", "must be more than 0".into()));
    }
    let region = args.s3_region.clone();
    if region.is_empty() || !region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(bad("--s3-region", "expected a region name such as us-east-1".into()));
    }
    let url = args.s3_endpoint.clone().unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
    let (credentials, _from) = credentials::find().map_err(|why| bad("--root", format!("s3 credentials: {why}")))?;
    Ok(ObjectSettings {
        endpoint: Endpoint { url, region, path_style: args.s3_path_style, presign, timeout },
        credentials,
        head_ttl: match args.s3_head_ttl.as_str() {
            // No caching: every lookup HEADs.
            "0" | "0s" => Duration::ZERO,
            ttl => parse_duration("--s3-head-ttl", ttl)?,
        },
        head_cache: args.s3_head_cache,
    })
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Nginx => "nginx",
        Backend::Apache => "apache (mod_xsendfile sends local files only)",
        Backend::Lighttpd => "lighttpd (X-Sendfile sends local files only)",
        Backend::LocalRedirect => "local-redirect",
        Backend::Caddy => "caddy (its reverse_proxy and rewrite change the presigned URL: docs/servers.md)",
        Backend::Serve => "serve",
        Backend::Authorizer => "authorizer",
    }
}

/// Opens `s3://BUCKET[/PREFIX]` with `settings`.
pub(super) fn open(root: &Path, settings: &ObjectSettings) -> Result<Root, ConfigError> {
    let bad = |why: String| ConfigError::Scheme { option: "--root", why: format!("{}: {why}", root.display()) };
    let text = root.to_str().ok_or_else(|| bad("not UTF-8".into()))?;
    let rest = text.strip_prefix("s3://").unwrap_or(text);
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !bucket_ok {
        return Err(bad("a bucket name is 3 to 63 of a-z 0-9 . -".into()));
    }
    let prefix = prefix.trim_end_matches('/');
    if !prefix.is_empty()
        && prefix.split('/').any(|s| s.is_empty() || s == "." || s == ".." || s.chars().any(char::is_control))
    {
        return Err(bad("the prefix may not have empty, . or .. segments or control characters".into()));
    }
    let store = Bucket::new(&settings.endpoint, bucket, settings.credentials.clone())
        .map_err(|why| ConfigError::Scheme { option: "--s3-endpoint", why })?;
    let cache = Arc::new(HeadCache::new(settings.head_ttl, settings.head_cache));
    Ok(Root::Object(ObjectRoot::new(bucket, prefix, Arc::new(store), cache)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_url_split_at_its_colon_is_one_root_again() {
        let given: Vec<PathBuf> = ["/srv/a", "s3", "//bucket/p", "/srv/b", "s3"].iter().map(PathBuf::from).collect();
        let got = root_list(&given);
        let want: Vec<PathBuf> = ["/srv/a", "s3://bucket/p", "/srv/b", "s3"].iter().map(PathBuf::from).collect();
        assert_eq!(got, want);
        assert_eq!(root_list(&[PathBuf::from("s3://b")]), vec![PathBuf::from("s3://b")]);
    }
}
