//! The HTTP listener under clients that announce a body and stall, or send large ones: every
//! request, body included, ends within `--request-timeout`, stalled clients give their
//! `--max-connections` slot back, and body bytes are dropped as they arrive, not kept.

use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::{wait_until, Workspace};

/// Starts the daemon on an HTTP listener with `extra` options; returns it and its port.
fn http_daemon(ws: &Workspace, extra: &[&str]) -> (support::Proc, u16) {
    let port = support::free_port();
    let mut args = support::guard_args(&ws.tree.root, Some(&format!("http://127.0.0.1:{port}")));
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&ws.run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::tcp_up(port));
    (d, port)
}

/// A connection that sent a head announcing `len` body bytes, and no body.
fn stalled(port: u16, len: usize) -> TcpStream {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    c.set_write_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(c, "POST /dl/plain.txt HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\n\r\n").expect("head");
    c
}

#[test]
fn a_stalled_body_is_answered_and_closed_within_the_request_timeout() {
    let ws = Workspace::new();
    let (_d, port) = http_daemon(&ws, &["--request-timeout", "1s", "--idle-timeout", "60s"]);
    let start = Instant::now();
    let mut c = stalled(port, 1000);
    let reply = support::read_all_timeout(&mut c, Duration::from_secs(10));
    let took = start.elapsed();
    let text = String::from_utf8_lossy(&reply);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text:?} after {took:?}");
    assert!(text.contains("Connection: close"), "{text}");
    assert!(took < Duration::from_secs(4), "answered after {took:?}");
    // And the connection is closed (read_all_timeout stopped at EOF, not at its limit).
    let mut rest = [0u8; 1];
    assert_eq!(c.read(&mut rest).expect("eof"), 0);
}

#[test]
fn stalled_clients_at_the_connection_cap_do_not_starve_the_next_one() {
    let ws = Workspace::new();
    let (_d, port) = http_daemon(&ws, &["--request-timeout", "1s", "--max-connections", "4"]);
    let _stalled: Vec<TcpStream> = (0..4).map(|_| stalled(port, 1000)).collect();
    // The fifth waits in the backlog until a slot is free: after the first timeout.
    let start = Instant::now();
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    c.write_all(b"GET /dl/plain.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("write");
    let reply = support::read_all_timeout(&mut c, Duration::from_secs(10));
    let text = String::from_utf8_lossy(&reply);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text:?} after {:?}", start.elapsed());
    assert!(text.contains("X-Accel-Redirect: /_protected/plain.txt"), "{text}");
    assert!(start.elapsed() < Duration::from_secs(5), "answered after {:?}", start.elapsed());
}

/// Resident memory of `pid` in KiB.
fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("VmRSS value")
}

#[test]
fn body_bytes_are_dropped_as_they_arrive() {
    const CLIENTS: usize = 48;
    const BODY: usize = 1024 * 1024;
    let ws = Workspace::new();
    let (d, port) = http_daemon(&ws, &["--request-timeout", "30s", "--max-stdin-bytes", &BODY.to_string()]);
    // One request first, so the runtime and its buffers are warm.
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    c.write_all(b"GET /dl/plain.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("write");
    assert!(!support::read_all_timeout(&mut c, Duration::from_secs(10)).is_empty());
    let before = rss_kib(d.pid());
    // Each client announces BODY bytes and sends all but the last: allowed, so the daemon reads
    // it all, and the request stays open.
    let chunk = vec![b'x'; 64 * 1024];
    let mut open = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let mut c = stalled(port, BODY);
        let mut left = BODY - 1;
        while left > 0 {
            let n = left.min(chunk.len());
            c.write_all(&chunk[..n]).expect("body");
            left -= n;
        }
        open.push(c);
    }
    // Let the daemon read what the kernel still buffers.
    std::thread::sleep(Duration::from_millis(1500));
    let after = rss_kib(d.pid());
    let sent_kib = (CLIENTS * BODY / 1024) as u64;
    let grown = after.saturating_sub(before);
    assert!(grown < sent_kib / 4, "RSS grew by {grown} KiB while {sent_kib} KiB of bodies were sent and are pending");
}
