//! Object-store roots in memory: the decision and the reply over a bucket whose HEAD answers are
//! already cached (no network), the server's `XSENDFILED_ROOT` narrowing to a prefix, and a store
//! that cannot be reached (a refused loopback port) answered 502.

use std::time::Duration;
use xsendfiled::guard::{Backend, Policy};
use xsendfiled::protocol::request::Request;

/// A policy whose first root is `s3://bench` at a loopback port where nothing listens (port 9,
/// discard), with `keys` in its HEAD cache.
fn policy(keys: &[(&str, u64)]) -> (tempfile::TempDir, Policy) {
    policy_for(Backend::Nginx, keys)
}

/// [`policy`] with `backend`.
fn policy_for(backend: Backend, keys: &[(&str, u64)]) -> (tempfile::TempDir, Policy) {
    let dir = tempfile::tempdir().expect("tempdir");
    let internal = (backend != Backend::Serve).then_some("/_protected");
    let mut p = Policy::build(dir.path(), backend, internal, Some("/dl"), false).expect("policy");
    xsendfiled::fuzzing::use_object_root(&mut p, "http://127.0.0.1:9", "bench", keys, Duration::from_secs(3600));
    (dir, p)
}

fn answer(p: &Policy, path: &str, extra: &[(&str, &str)]) -> (u16, String) {
    let mut pairs: Vec<(&[u8], &[u8])> = vec![(b"REQUEST_METHOD", b"GET"), (b"DOCUMENT_URI", path.as_bytes())];
    pairs.extend(extra.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())));
    let req = Request::from_pairs(pairs);
    let mut out = Vec::new();
    let (status, _) = xsendfiled::handler::handle(&req, p, &mut out);
    (status, String::from_utf8(out).expect("headers are ASCII"))
}

fn header<'a>(reply: &'a str, name: &str) -> Option<&'a str> {
    reply.split("\r\n").find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(": ")))
}

#[test]
fn an_object_is_handed_to_nginx_as_a_presigned_get_carrying_our_headers() {
    let (_d, p) = policy(&[("reports/q3 final (v2)+.pdf", 2048)]);
    let (status, reply) = answer(&p, "/dl/reports/q3 final (v2)+.pdf", &[]);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(header(&reply, "X-Accel-Redirect"), Some("/_s3/reports/q3%20final%20%28v2%29%2B.pdf"));
    let url = header(&reply, "X-Xsendfiled-Url").expect("presigned URL");
    assert!(url.starts_with("http://127.0.0.1:9/bench/reports/q3%20final%20%28v2%29%2B.pdf?"), "{url}");
    for part in [
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Expires=30",
        "X-Amz-SignedHeaders=host",
        "X-Amz-Signature=",
        "response-content-type=application%2Fpdf",
        "response-content-disposition=",
    ] {
        assert!(url.contains(part), "{part} in {url}");
    }
    // The presentation headers travel in the signature, never beside it (no duplicates at nginx).
    for absent in ["Content-Type", "Content-Disposition", "Cache-Control"] {
        assert_eq!(header(&reply, absent), None, "{absent}: {reply}");
    }
    assert!(!reply.contains("bench-secret-key"), "the secret never leaves: {reply}");
}

#[test]
fn the_same_path_checks_apply_and_the_root_parameter_narrows_to_a_prefix() {
    let (_d, p) = policy(&[("plain.txt", 6), ("sub/in.txt", 7), (".hidden", 1), ("sub/.git/config", 1)]);
    for hostile in ["/dl/.hidden", "/dl/sub/.git/config", "/dl/sub/../plain.txt", "/dl/a\0b", "/dl/lf\nx"] {
        assert_eq!(answer(&p, hostile, &[]).0, 404, "{hostile:?}");
    }
    let (status, reply) = answer(&p, "/dl/in.txt", &[("XSENDFILED_ROOT", "s3://bench/sub")]);
    assert_eq!(status, 200, "{reply}");
    assert!(header(&reply, "X-Xsendfiled-Url").is_some_and(|u| u.starts_with("http://127.0.0.1:9/bench/sub/in.txt?")));
    assert_eq!(answer(&p, "/dl/plain.txt", &[("XSENDFILED_ROOT", "s3://bench/")]).0, 200);
    for outside in ["s3://other", "s3://bench/sub/.git", "s3://benchx/sub", "s3://bench/sub/../x", "/etc"] {
        assert_eq!(answer(&p, "/dl/in.txt", &[("XSENDFILED_ROOT", outside)]).0, 404, "{outside}");
    }
}

#[test]
fn a_store_that_cannot_be_reached_is_a_502_never_cached() {
    let (_d, p) = policy(&[]);
    for _ in 0..2 {
        let (status, reply) = answer(&p, "/dl/not-cached.txt", &[]);
        assert_eq!(status, 502, "{reply}");
        assert_eq!(header(&reply, "Cache-Control"), Some("no-store"));
    }
}

#[test]
fn apache_gets_a_local_redirect_to_the_presigned_path_and_nothing_else() {
    let (_d, p) = policy_for(Backend::LocalRedirect, &[("a b+(1)%41.txt", 3)]);
    let (status, reply) = answer(&p, "/dl/a b+(1)%41.txt", &[]);
    assert_eq!(status, 200, "{reply}");
    let location = header(&reply, "Location").expect("a local redirect");
    assert!(
        location.starts_with("/_s3/bench/a%20b%2B%281%29%2541.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&"),
        "{location}"
    );
    assert!(
        location.contains("&response-content-type=text%2Fplain") && location.contains("X-Amz-Signature="),
        "{location}"
    );
    // RFC 3875 §6.2.2: the Location alone (mod_cgi and lighttpd turn anything more into a 302).
    assert_eq!(reply.split("\r\n").filter(|l| !l.is_empty()).count(), 1, "{reply}");
}

#[test]
fn serve_plans_an_object_like_a_file_from_its_head() {
    let (_d, p) = policy_for(Backend::Serve, &[("big.bin", 1000)]);
    let (status, reply) = answer(&p, "/dl/big.bin", &[]);
    assert_eq!((status, header(&reply, "Content-Length")), (200, Some("1000")), "{reply}");
    assert!(header(&reply, "X-Accel-Redirect").is_none() && header(&reply, "X-Xsendfiled-Url").is_none(), "{reply}");
    let etag = header(&reply, "ETag").expect("an ETag").to_owned();
    let (status, reply) = answer(&p, "/dl/big.bin", &[("HTTP_RANGE", "bytes=10-19")]);
    assert_eq!((status, header(&reply, "Content-Range")), (206, Some("bytes 10-19/1000")), "{reply}");
    assert_eq!(answer(&p, "/dl/big.bin", &[("HTTP_IF_NONE_MATCH", &etag)]).0, 304);
    assert_eq!(answer(&p, "/dl/big.bin", &[("HTTP_RANGE", "bytes=1000-")]).0, 416);
}
