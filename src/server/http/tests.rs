//! Unit tests of the HTTP listener: bodies bounded in bytes and time, the reply on hyper's types.

use super::*;
use std::time::Duration;

/// A body that never sends anything (a client that announced one and stalls).
struct Stalled;

impl hyper::body::Body for Stalled {
    type Data = hyper::body::Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[test]
fn bodies_are_bounded_in_bytes_and_time() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let full = |n: usize| http_body_util::Full::new(hyper::body::Bytes::from(vec![b'x'; n]));
    let second = Duration::from_secs(1);
    assert_eq!(rt.block_on(discard_body(full(10), 10, second)), BodyEnd::Read);
    assert_eq!(rt.block_on(discard_body(full(11), 10, second)), BodyEnd::TooLarge);
    let start = std::time::Instant::now();
    assert_eq!(rt.block_on(discard_body(Stalled, 10, Duration::from_millis(50))), BodyEnd::TimedOut);
    assert!(start.elapsed() < second);
    let r = timed_out(false);
    assert_eq!(r.status(), 408);
    assert_eq!(r.headers().get("connection").map(|v| v.as_bytes()), Some(&b"close"[..]));
}

#[test]
fn reply_becomes_http_without_cgi_text() {
    let mut h = Head::new(true);
    h.status(404, "Not Found");
    h.header("Content-Type", b"text/plain");
    h.header("Content-Length", b"10");
    h.finish(b"not found\n");
    let r = h.into_response(false);
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers().get("content-type").map(|v| v.as_bytes()), Some(&b"text/plain"[..]));
    assert!(r.headers().get("content-length").is_none(), "hyper sets it from the body");
    let mut h = Head::new(true);
    h.header_with("X-Accel-Redirect", |v| v.extend_from_slice(b"/_p/a%20b.txt"));
    h.header("Content-Type", b"text/plain");
    h.finish(b"");
    let r = h.into_response(false);
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("x-accel-redirect").map(|v| v.as_bytes()), Some(&b"/_p/a%20b.txt"[..]));
    let mut h = Head::new(true);
    h.status(400, "Bad Request");
    h.finish(b"");
    let r = h.into_response(true);
    assert_eq!(r.headers().get("connection").map(|v| v.as_bytes()), Some(&b"close"[..]));
}

#[test]
fn an_authorizer_reply_has_no_body() {
    use http_body_util::BodyExt;
    let mut h = Head::new(false);
    crate::reply::response::render_error(Status::Forbidden, false, &mut h);
    let r = h.into_response(false);
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers().get("cache-control").map(|v| v.as_bytes()), Some(&b"no-store"[..]));
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let body = rt.block_on(r.into_body().collect()).expect("body").to_bytes();
    assert!(body.is_empty());
}
