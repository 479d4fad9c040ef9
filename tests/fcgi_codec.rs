//! The sans-IO FastCGI codec, driven by the independent encoder in `support::fcgi_client`, with
//! byte-exact expectations for every reply.

use crate::support;

use support::fcgi_client::*;
use xsendfiled::limits::Limits;
use xsendfiled::protocol::fcgi::{Connection, Event, ProtocolError, Role};

/// Feeds everything, answering each request with `reply`; returns the output and the events.
fn run(conn: &mut Connection, input: &[u8], reply: &[u8]) -> Result<(Vec<u8>, Vec<Event>), ProtocolError> {
    let mut out = Vec::new();
    let mut events = Vec::new();
    let mut off = 0;
    while off < input.len() {
        let feed = conn.feed(&input[off..], &mut out)?;
        off += feed.consumed;
        match feed.event {
            Some(e @ Event::Request { .. }) => {
                events.push(e);
                let mark = conn.begin_response(&mut out);
                out.extend_from_slice(reply);
                conn.finish_response(&mut out, mark, 0);
            }
            Some(e @ Event::Close) => {
                events.push(e);
                break;
            }
            None => {
                if feed.consumed == 0 {
                    break;
                }
            }
        }
        if conn.should_close() {
            break;
        }
    }
    Ok((out, events))
}

fn expected_reply(id: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = rec(STDOUT, id, payload);
    v.extend(rec(STDOUT, id, &[]));
    v.extend(end_request(id, 0, 0));
    v
}

const REPLY: &[u8] = b"Status: 404 Not Found\r\n\r\n";

#[test]
fn get_values_answered_truthfully() {
    let mut conn = Connection::new(Limits { max_connections: 77, ..Limits::default() });
    let mut q = nv(b"FCGI_MAX_CONNS", b"");
    q.extend(nv(b"FCGI_MAX_REQS", b""));
    q.extend(nv(b"FCGI_MPXS_CONNS", b""));
    q.extend(nv(b"FCGI_SOMETHING_ELSE", b""));
    let (out, events) = run(&mut conn, &rec(GET_VALUES, 0, &q), REPLY).expect("ok");
    assert!(events.is_empty());
    let mut want_content = nv(b"FCGI_MAX_CONNS", b"77");
    want_content.extend(nv(b"FCGI_MAX_REQS", b"77"));
    want_content.extend(nv(b"FCGI_MPXS_CONNS", b"0"));
    assert_eq!(out, rec(GET_VALUES_RESULT, 0, &want_content));
    assert!(!conn.should_close());
}

#[test]
fn unknown_management_type() {
    let mut conn = Connection::new(Limits::default());
    let (out, _) = run(&mut conn, &rec_padded(42, 0, b"abc", 5), REPLY).expect("ok");
    assert_eq!(out, rec(UNKNOWN_TYPE, 0, &[42, 0, 0, 0, 0, 0, 0, 0]));
    // A management record of a known application type is still unknown as a management record.
    let (out, _) = run(&mut conn, &rec(BEGIN, 0, &[0, 1, 0, 0, 0, 0, 0, 0]), REPLY).expect("ok");
    assert_eq!(out, rec(UNKNOWN_TYPE, 0, &[BEGIN, 0, 0, 0, 0, 0, 0, 0]));
}

#[test]
fn keep_conn_serves_several_requests_then_close_without_it() {
    let mut conn = Connection::new(Limits::default());
    let p = nginx_params(b"GET", b"/x");
    let mut input = request(1, true, &p);
    input.extend(request(1, true, &p));
    input.extend(request(7, false, &p));
    let (out, events) = run(&mut conn, &input, REPLY).expect("ok");
    let mut want = expected_reply(1, REPLY);
    want.extend(expected_reply(1, REPLY));
    want.extend(expected_reply(7, REPLY));
    assert_eq!(out, want);
    assert_eq!(
        events,
        vec![
            Event::Request { id: 1, role: Role::Responder },
            Event::Request { id: 1, role: Role::Responder },
            Event::Request { id: 7, role: Role::Responder }
        ]
    );
    assert!(conn.should_close(), "FCGI_KEEP_CONN clear: close after END_REQUEST");
}

#[test]
fn params_are_delivered_as_bytes() {
    let mut conn = Connection::new(Limits::default());
    let mut out = Vec::new();
    let input = request(1, false, &[(b"PATH_INFO", b"/\xff\x00x"), (b"HTTP_COOKIE", &[b'c'; 16 * 1024])]);
    let feed = conn.feed(&input, &mut out).expect("ok");
    assert_eq!(feed.consumed, input.len());
    assert_eq!(feed.event, Some(Event::Request { id: 1, role: Role::Responder }));
    let pairs: Vec<_> = xsendfiled::protocol::fcgi::Pairs::new(conn.params()).map(|p| p.expect("pair")).collect();
    assert_eq!(pairs[0], (&b"PATH_INFO"[..], &b"/\xff\x00x"[..]));
    assert_eq!(pairs[1].1.len(), 16 * 1024, "a 16 KiB cookie passes the default limit");
}

#[test]
fn abort_request_gets_exactly_one_end_request() {
    let mut conn = Connection::new(Limits::default());
    let mut input = begin(3, 1, true);
    input.extend(rec(PARAMS, 3, &nv(b"REQUEST_METHOD", b"GET")));
    input.extend(rec(ABORT, 3, &[]));
    let (out, events) = run(&mut conn, &input, REPLY).expect("ok");
    assert!(events.is_empty());
    assert_eq!(out, end_request(3, 0, 0));
    assert!(conn.is_idle() && !conn.should_close());
    // The connection serves the next request normally.
    let (out, _) = run(&mut conn, &request(4, true, &nginx_params(b"GET", b"/x")), REPLY).expect("ok");
    assert_eq!(out, expected_reply(4, REPLY));
    // Without keep-conn an abort closes.
    let mut input = begin(5, 1, false);
    input.extend(rec(ABORT, 5, &[]));
    let (out, events) = run(&mut conn, &input, REPLY).expect("ok");
    assert_eq!(out, end_request(5, 0, 0));
    assert_eq!(events, vec![Event::Close]);
    // An abort for a request that is not active is ignored.
    let mut conn = Connection::new(Limits::default());
    let (out, _) = run(&mut conn, &rec(ABORT, 9, &[]), REPLY).expect("ok");
    assert!(out.is_empty());
}

#[test]
fn second_begin_request_is_refused_with_cant_mpx_conn() {
    let mut conn = Connection::new(Limits::default());
    let mut input = begin(1, 1, true);
    input.extend(begin(2, 1, true));
    input.extend(params(1, &nginx_params(b"GET", b"/x")));
    input.extend(rec(STDIN, 1, &[]));
    let (out, _) = run(&mut conn, &input, REPLY).expect("ok");
    let mut want = end_request(2, 0, 1);
    want.extend(expected_reply(1, REPLY));
    assert_eq!(out, want);
    // Reusing the active id is a protocol error.
    let mut conn = Connection::new(Limits::default());
    let mut input = begin(1, 1, true);
    input.extend(begin(1, 1, true));
    assert_eq!(run(&mut conn, &input, REPLY).err(), Some(ProtocolError::DuplicateRequestId(1)));
}

#[test]
fn unknown_roles_are_refused() {
    for (role, keep) in [(2u16, false), (3, true), (9, false)] {
        let mut conn = Connection::new(Limits::default());
        let (out, events) = run(&mut conn, &begin(1, role, keep), REPLY).expect("ok");
        assert_eq!(out, end_request(1, 0, 3), "role {role}");
        assert_eq!(conn.should_close(), !keep);
        assert_eq!(events.is_empty(), keep);
    }
    // The authorizer is accepted when enabled, and is ready when PARAMS ends (no STDIN).
    let mut conn = Connection::new(Limits::default()).accept_authorizer(true);
    let mut input = begin(1, 2, false);
    input.extend(params(1, &[(b"REQUEST_METHOD", b"GET")]));
    let (out, events) = run(&mut conn, &input, REPLY).expect("ok");
    assert_eq!(events, vec![Event::Request { id: 1, role: Role::Authorizer }]);
    assert_eq!(out, expected_reply(1, REPLY));
}

#[test]
fn byte_at_a_time_and_padding_give_the_same_reply() {
    let p = nginx_params(b"GET", b"/x");
    let mut input = begin(1, 1, true);
    let mut stream = Vec::new();
    for (n, v) in &p {
        stream.extend(nv(n, v));
    }
    input.extend(rec_padded(PARAMS, 1, &stream, 7));
    input.extend(rec_padded(PARAMS, 1, &[], 3));
    input.extend(rec_padded(STDIN, 1, b"body", 4));
    input.extend(rec_padded(STDIN, 1, &[], 0));
    let mut conn = Connection::new(Limits::default());
    let mut out = Vec::new();
    let mut events = 0;
    for b in &input {
        let feed = conn.feed(std::slice::from_ref(b), &mut out).expect("ok");
        assert_eq!(feed.consumed, 1);
        if let Some(Event::Request { id, .. }) = feed.event {
            events += 1;
            let mark = conn.begin_response(&mut out);
            out.extend_from_slice(REPLY);
            conn.finish_response(&mut out, mark, 0);
            assert_eq!(id, 1);
        }
    }
    assert_eq!(events, 1);
    assert_eq!(out, expected_reply(1, REPLY));
    assert!(conn.is_idle());
}

#[test]
fn truncated_input_waits_without_replying() {
    let input = request(1, false, &nginx_params(b"GET", b"/x"));
    for cut in [1, 7, 8, 9, 20, input.len() - 1] {
        let mut conn = Connection::new(Limits::default());
        let mut out = Vec::new();
        let feed = conn.feed(&input[..cut], &mut out).expect("ok");
        assert_eq!((feed.consumed, feed.event), (cut, None));
        assert!(out.is_empty());
        let feed = conn.feed(&input[cut..], &mut out).expect("ok");
        assert_eq!(feed.event, Some(Event::Request { id: 1, role: Role::Responder }));
    }
}

#[test]
fn large_replies_are_split_into_records() {
    let mut conn = Connection::new(Limits::default());
    let big = vec![b'x'; 150_000];
    let (out, _) = run(&mut conn, &request(1, false, &nginx_params(b"GET", b"/x")), &big).expect("ok");
    let (recs, rest) = parse(&out);
    assert_eq!(rest, 0);
    let sizes: Vec<usize> = recs.iter().map(|r| r.content.len()).collect();
    assert_eq!(sizes, vec![65535, 65535, 150_000 - 2 * 65535, 0, 8]);
    assert_eq!(stdout_of(&recs, 1), big);
}

#[test]
fn oversized_and_malformed_input_is_a_protocol_error() {
    let limits = Limits::default();
    // PARAMS over the byte cap: refused from the declared lengths, before the bytes are stored.
    let mut conn = Connection::new(limits);
    let mut input = begin(1, 1, false);
    for _ in 0..3 {
        input.extend(rec(PARAMS, 1, &[b'a'; 65535]));
    }
    assert_eq!(run(&mut conn, &input, REPLY).err(), Some(ProtocolError::ParamsTooLarge));

    // 500k tiny params: the byte cap stops them by default...
    let mut stream = Vec::with_capacity(1_000_000);
    for _ in 0..500_000 {
        stream.extend_from_slice(&[1, 0, b'k']);
    }
    let mut input = begin(1, 1, false);
    for chunk in stream.chunks(65535) {
        input.extend(rec(PARAMS, 1, chunk));
    }
    input.extend(rec(PARAMS, 1, &[]));
    let mut conn = Connection::new(limits);
    assert_eq!(run(&mut conn, &input, REPLY).err(), Some(ProtocolError::ParamsTooLarge));
    // ...and the pair-count cap when the byte cap is raised; iterative, no stack overflow.
    let mut conn = Connection::new(Limits { max_params_bytes: 16 << 20, ..limits });
    assert_eq!(run(&mut conn, &input, REPLY).err(), Some(ProtocolError::TooManyParams));

    // A declared name length of 2^31-1.
    let mut conn = Connection::new(limits);
    let mut input = begin(1, 1, false);
    input.extend(rec(PARAMS, 1, &[0xff, 0xff, 0xff, 0xff, 0x01, b'a', b'b']));
    input.extend(rec(PARAMS, 1, &[]));
    assert_eq!(run(&mut conn, &input, REPLY).err(), Some(ProtocolError::MalformedParams));

    // Wrong version, bad BEGIN_REQUEST, records a server never sends, out-of-order streams.
    let mut bad_version = rec(GET_VALUES, 0, &[]);
    bad_version[0] = 2;
    assert_eq!(
        run(&mut Connection::new(limits), &bad_version, REPLY).err(),
        Some(ProtocolError::UnsupportedVersion(2))
    );
    assert_eq!(
        run(&mut Connection::new(limits), &rec(BEGIN, 1, &[0, 1, 0]), REPLY).err(),
        Some(ProtocolError::BadBeginRequest(3))
    );
    assert_eq!(
        run(&mut Connection::new(limits), &rec(STDOUT, 1, b"x"), REPLY).err(),
        Some(ProtocolError::UnexpectedRecord(STDOUT))
    );
    let mut input = begin(1, 1, false);
    input.extend(rec(STDIN, 1, b"early"));
    assert_eq!(run(&mut Connection::new(limits), &input, REPLY).err(), Some(ProtocolError::OutOfOrder));
    let mut big_mgmt = rec(GET_VALUES, 0, &[0u8; 9000]);
    big_mgmt.truncate(8);
    assert_eq!(
        run(&mut Connection::new(limits), &big_mgmt, REPLY).err(),
        Some(ProtocolError::ManagementRecordTooLarge(9000))
    );
}

#[test]
fn stdin_is_drained_up_to_the_cap_then_answered_and_closed() {
    let limits = Limits { max_stdin_bytes: 100_000, ..Limits::default() };
    // Under the cap: drained, answered, connection kept.
    let mut conn = Connection::new(limits);
    let mut input = begin(1, 1, true);
    input.extend(params(1, &nginx_params(b"POST", b"/x")));
    input.extend(rec(STDIN, 1, &[0u8; 60_000]));
    input.extend(rec(STDIN, 1, &[]));
    let (out, _) = run(&mut conn, &input, REPLY).expect("ok");
    assert_eq!(out, expected_reply(1, REPLY));
    assert!(!conn.should_close());
    // Over the cap: answered at once, then closed even with keep-conn.
    let mut conn = Connection::new(limits);
    let mut input = begin(1, 1, true);
    input.extend(params(1, &nginx_params(b"POST", b"/x")));
    input.extend(rec(STDIN, 1, &[0u8; 60_000]));
    input.extend(rec(STDIN, 1, &[0u8; 60_000]));
    let (out, _) = run(&mut conn, &input, REPLY).expect("ok");
    assert_eq!(out, expected_reply(1, REPLY));
    assert!(conn.should_close());
}

#[test]
fn records_for_other_request_ids_are_ignored() {
    let mut conn = Connection::new(Limits::default());
    let mut input = begin(1, 1, false);
    input.extend(rec(PARAMS, 5, &nv(b"PATH_INFO", b"/evil")));
    input.extend(params(1, &[(b"REQUEST_METHOD", b"GET")]));
    input.extend(rec(STDIN, 5, b"zzz"));
    input.extend(rec(STDIN, 1, &[]));
    let mut out = Vec::new();
    let feed = conn.feed(&input, &mut out).expect("ok");
    assert_eq!(feed.event, Some(Event::Request { id: 1, role: Role::Responder }));
    let names: Vec<&[u8]> = xsendfiled::protocol::fcgi::Pairs::new(conn.params()).map(|p| p.expect("pair").0).collect();
    assert_eq!(names, vec![&b"REQUEST_METHOD"[..]]);
}
