//! The reply for an object in a bucket (`--root s3://…`): the web server streams it from the store
//! with a short-lived presigned GET; xsendfiled never holds the bytes.
//!
//! nginx: `X-Accel-Redirect: <--s3-internal-prefix>/<key, encoded>` and
//! `X-Xsendfiled-Url: <presigned URL>`. The internal location copies that header into a variable
//! and `proxy_pass`es it (`conf-examples/nginx-s3.conf`). nginx sends a URL from a variable
//! without re-encoding its path or query, so the path and the signature that covers it reach the
//! store byte for byte, whatever the key holds; the header itself is never passed to the client
//! (nginx passes on only a fixed set of headers across an `X-Accel-Redirect`).
//!
//! The presentation headers (`Content-Type`, `Content-Disposition`, `Cache-Control`, `Expires`)
//! travel *inside the signature* as the `response-*` query parameters of `GetObject` (AWS S3 API
//! reference, GetObject "Overriding response header values"): the store answers with exactly
//! xsendfiled's values, and no copy of them in this reply could duplicate or contradict its
//! headers. nginx's own `X-Accel-*` controls stay in this reply, where nginx reads them.
//!
//! Apache (`--backend local-redirect`, `conf-examples/apache-s3.conf`): `Location:
//! <--s3-internal-prefix><presigned path>?<presigned query>`, a CGI local redirect (RFC 3875
//! §6.2.2) to a `ProxyPass <prefix>/ <store>/ nocanon` location. With `nocanon` mod_proxy sends the
//! redirect's path and query as they are, so the signed bytes reach the store unchanged; the
//! presentation headers travel in the signature as for nginx.
//!
//! With `--backend serve` xsendfiled streams the object itself ([`get`]: the shell's GET of
//! `objstore::get`, behind `reply/serve.rs`'s plan for ranges and conditionals).
//!
//! Invariant: no header value written here can contain CR or LF (the URL is percent-encoded by
//! the signer; the prefix is validated at start-up; the key is encoded with [`push_uri_path`]).

use crate::guard::decide::Send;
use crate::guard::store::object::ObjectInfo;
use crate::guard::target::push_uri_path;
use crate::guard::Policy;
use crate::protocol::request::Request;
use crate::reply::presentation::{push_headers, FileFacts};
use crate::reply::sink::HeaderSink;

/// The header that carries the presigned URL to the web server's internal location.
pub(crate) const URL_HEADER: &str = "X-Xsendfiled-Url";

/// A sink that keeps the headers it is given (the presentation headers to sign).
#[derive(Debug, Default)]
struct Kept(Vec<(String, Vec<u8>)>);

impl HeaderSink for Kept {
    fn status(&mut self, _: u16, _: &str) {}
    fn header_with(&mut self, name: &str, value: impl FnOnce(&mut Vec<u8>)) {
        let mut v = Vec::new();
        value(&mut v);
        self.0.push((name.to_owned(), v));
    }
    fn finish(&mut self, _: &[u8]) {}
}

/// Writes the offload of `object` for `send`: the internal redirect and the presigned URL whose
/// `response-*` parameters carry the presentation headers. `Err` (nothing written) when the
/// found root is not an object root, which the decision never produces.
pub(crate) fn offload(
    send: &Send<'_>,
    object: &ObjectInfo,
    req: &Request<'_>,
    policy: &Policy,
    out: &mut impl HeaderSink,
) -> Result<(), ()> {
    let root = policy.root_at(send.file.root).and_then(|r| r.as_object()).ok_or(())?;
    let facts = FileFacts {
        rel: &send.file.rel,
        content_type: send.content_type,
        claims: &send.claims,
        signed: send.kid.is_some(),
    };
    let mut kept = Kept::default();
    push_headers(&facts, req, &policy.presentation, policy.backend, &mut kept);
    let mut overrides: Vec<(&str, &str)> = vec![("response-content-type", send.content_type)];
    let mut passed = Vec::new();
    for (name, value) in &kept.0 {
        let param = match name.as_str() {
            "Content-Disposition" => "response-content-disposition",
            "Cache-Control" => "response-cache-control",
            "Expires" => "response-expires",
            _ => {
                passed.push((name.as_str(), value.as_slice()));
                continue;
            }
        };
        // push_headers writes UTF-8 (non-ASCII names go in RFC 8187 `filename*`).
        if let Ok(v) = std::str::from_utf8(value) {
            overrides.push((param, v));
        }
    }
    let url = root.store().presign("GET", &object.key, &overrides);
    if policy.backend == crate::guard::Backend::LocalRedirect {
        // Apache: the presigned path and query under the proxy location, nothing else (RFC 3875
        // §6.2.2). The signer percent-encoded both, so the value is one URI of visible ASCII.
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        let path_and_query = url[after_scheme..].find('/').map_or("/", |i| &url[after_scheme + i..]);
        out.header_with("Location", |v| {
            v.extend_from_slice(policy.object_prefix.as_bytes());
            v.extend_from_slice(path_and_query.as_bytes());
        });
        return Ok(());
    }
    out.header_with("X-Accel-Redirect", |v| {
        v.extend_from_slice(policy.object_prefix.as_bytes());
        v.push(b'/');
        push_uri_path(v, object.key.as_bytes());
    });
    out.header(URL_HEADER, url.as_bytes());
    // nginx's own controls (X-Accel-Limit-Rate, X-Accel-Buffering, X-Accel-Expires).
    for (name, value) in passed {
        out.header(name, value);
    }
    Ok(())
}

/// The GET `serve` streams `object` (of root `root`, `size` bytes) with: presigned with no
/// `response-*` parameter, since the reply's headers are xsendfiled's own. `None` when the root is
/// not an object root, which the decision never produces.
pub(crate) fn get(
    root: usize,
    object: &ObjectInfo,
    size: u64,
    policy: &Policy,
) -> Option<crate::reply::serve::ObjectGet> {
    let store = policy.root_at(root).and_then(|r| r.as_object())?.store();
    Some(crate::reply::serve::ObjectGet {
        url: store.presign("GET", &object.key, &[]),
        etag: object.etag.clone(),
        size,
        timeout: store.timeout(),
    })
}
