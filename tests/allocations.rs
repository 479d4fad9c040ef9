//! "No allocation per request on the hot path", as a test: a download that nginx offloads — the
//! FastCGI records decoded, the decision made, the reply rendered and framed — allocates nothing
//! once the connection's buffers exist, with metrics off or on. One test in this binary, so no other test's allocations
//! are counted.

mod support;

use xsendfiled::guard::{Backend, Policy};
use xsendfiled::limits::Limits;
use xsendfiled::protocol::fcgi::{Connection, Event, Pairs};
use xsendfiled::protocol::request::Request;

mod common {
    pub(crate) mod counting_alloc;
}

#[global_allocator]
static GLOBAL: common::counting_alloc::Counting = common::counting_alloc::Counting;

/// A FastCGI record (version 1, no padding).
fn record(kind: u8, id: u16, content: &[u8]) -> Vec<u8> {
    let mut r = vec![1, kind, (id >> 8) as u8, id as u8, (content.len() >> 8) as u8, content.len() as u8, 0, 0];
    r.extend_from_slice(content);
    r
}

fn pair(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.push(name.len() as u8);
    out.push(value.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(value);
}

#[test]
fn an_offloaded_download_allocates_nothing() {
    let ws = support::Workspace::new();
    let policy = Policy::build(&ws.tree.root, Backend::Nginx, Some("/_protected"), Some("/dl"), false).expect("policy");
    // What nginx sends with conf-examples/nginx.conf (fastcgi_params).
    let mut params = Vec::new();
    for (n, v) in [
        (&b"QUERY_STRING"[..], &b""[..]),
        (b"REQUEST_METHOD", b"GET"),
        (b"CONTENT_TYPE", b""),
        (b"CONTENT_LENGTH", b""),
        (b"SCRIPT_NAME", "/dl/ü.txt".as_bytes()),
        (b"REQUEST_URI", b"/dl/%C3%BC.txt"),
        (b"DOCUMENT_URI", "/dl/ü.txt".as_bytes()),
        (b"DOCUMENT_ROOT", b"/usr/share/nginx/html"),
        (b"SERVER_PROTOCOL", b"HTTP/1.1"),
        (b"REQUEST_SCHEME", b"http"),
        (b"GATEWAY_INTERFACE", b"CGI/1.1"),
        (b"SERVER_SOFTWARE", b"nginx/1.22.1"),
        (b"REMOTE_ADDR", b"127.0.0.1"),
        (b"REMOTE_PORT", b"51234"),
        (b"SERVER_ADDR", b"127.0.0.1"),
        (b"SERVER_PORT", b"8080"),
        (b"SERVER_NAME", b"localhost"),
        (b"HTTP_HOST", b"127.0.0.1:8080"),
        (b"HTTP_USER_AGENT", b"curl/7.88.1"),
        (b"HTTP_ACCEPT", b"*/*"),
    ] {
        pair(&mut params, n, v);
    }
    let mut wire = record(1, 1, &[0, 1, 0, 0, 0, 0, 0, 0]); // BEGIN_REQUEST, responder, no keep-conn
    wire.extend(record(4, 1, &params));
    wire.extend(record(4, 1, &[]));
    wire.extend(record(5, 1, &[]));

    let mut conn = Connection::new(Limits::default());
    let mut out = Vec::with_capacity(4096);
    let one_request = |conn: &mut Connection, out: &mut Vec<u8>| -> u16 {
        conn.reset();
        out.clear();
        let mut off = 0;
        let mut status = 0;
        while off < wire.len() {
            let feed = conn.feed(&wire[off..], out).expect("valid records");
            off += feed.consumed;
            if let Some(Event::Request { .. }) = feed.event {
                let mark = conn.begin_response(out);
                let req = Request::from_pairs(Pairs::new(conn.params()).map_while(Result::ok));
                status = xsendfiled::handler::handle(&req, &policy, out).0;
                conn.finish_response(out, mark, 0);
            }
        }
        status
    };
    // The first request sizes the connection's buffers.
    assert_eq!(one_request(&mut conn, &mut out), 200);
    assert!(String::from_utf8_lossy(&out).contains("X-Accel-Redirect: /_protected/%C3%BC.txt\r\n"));
    let before = common::counting_alloc::allocations();
    for _ in 0..100 {
        assert_eq!(one_request(&mut conn, &mut out), 200);
    }
    let allocations = common::counting_alloc::allocations() - before;
    assert_eq!(allocations, 0, "{allocations} allocations in 100 offloaded downloads");
    // With metrics on (--metrics-listen), counting the decision and its latency allocates nothing.
    xsendfiled::fuzzing::enable_metrics();
    let before = common::counting_alloc::allocations();
    for _ in 0..100 {
        assert_eq!(one_request(&mut conn, &mut out), 200);
    }
    let allocations = common::counting_alloc::allocations() - before;
    assert_eq!(allocations, 0, "{allocations} allocations in 100 offloaded downloads with metrics on");
    assert_eq!(xsendfiled::fuzzing::metrics_sent(), 100, "the decisions were counted");
    // The counter does count.
    let control = common::counting_alloc::allocations();
    drop(std::hint::black_box(vec![0u8; 16]));
    assert_eq!(common::counting_alloc::allocations(), control + 1);
}
