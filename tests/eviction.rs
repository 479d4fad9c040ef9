//! Clients that hoard connections: at `--max-connections` the connection idle the longest is
//! closed to admit a new one (connected and silent, kept alive after a reply, or sending only
//! FCGI_GET_VALUES), so a new request behind 20,000 idle connections, or 10,000 GET_VALUES-only
//! ones, is answered at once; a request in progress is never cut; the HTTP listener does the same;
//! management records do not keep a connection past `--idle-timeout`.

use super::{daemon, exchange, OK};
use crate::support::{self, fcgi_client::*, wait_until, Tree};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Holds connections for the test from a process of its own (a process may hold at most
/// `RLIMIT_NOFILE` descriptors, 20,000 on these machines, and the limit's hard ceiling cannot be
/// raised without CAP_SYS_RESOURCE): opens `count` connections to `sock` (each after sending
/// `greet`, hex, and reading one record back when it is not empty), prints `held`, and keeps them
/// until its stdin closes.
const HOLDER: &str = r#"
import os, socket, sys, resource
sock, count, greet = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held, answered = [], 0
for _ in range(count):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    if greet:
        # Evicted before its record was read (a newer connection needed the slot), it is closed:
        # held all the same, as a hoarding client would.
        try:
            s.sendall(greet)
            s.settimeout(30)
            answered += len(s.recv(8)) > 0
        except OSError:
            pass
    held.append(s)
print("held", answered, flush=True)
sys.stdin.read()
"#;

/// A holder process, stopped by PID when dropped.
struct Holder(std::process::Child);

impl Holder {
    fn start(sock: &Path, count: usize, greet: &[u8]) -> Holder {
        let hex: String = greet.iter().map(|b| format!("{b:02x}")).collect();
        let child = std::process::Command::new("/usr/bin/python3")
            .args(["-c", HOLDER, &sock.display().to_string(), &count.to_string(), &hex])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        Holder(child)
    }

    /// Waits for its `held` line; how many greetings were answered.
    fn held(&mut self) -> usize {
        let mut line = String::new();
        let out = self.0.stdout.as_mut().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).expect("read");
        let answered = line.trim().strip_prefix("held ").and_then(|n| n.parse().ok());
        answered.unwrap_or_else(|| panic!("the holder failed: {line:?}"))
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A request on a new connection: the time until its whole reply, which must be a send.
fn timed_request(sock: &Path) -> Duration {
    let start = Instant::now();
    let mut s = UnixStream::connect(sock).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let out = exchange(&mut s, b"/dl/plain.txt", false).expect("a reply");
    assert!(out.starts_with(OK), "{}", String::from_utf8_lossy(&out));
    start.elapsed()
}

/// `n` connections held by two holder processes (each sending `greet` first), then new requests
/// timed; the default cap (1024) is far below `n`.
fn hoarded(n: usize, greet: &[u8], what: &str) {
    if !support::require(&["/usr/bin/python3"]) {
        return;
    }
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let (d, sock) = daemon(dir.path(), &tree.root, &[]);
    let start = Instant::now();
    let mut holders: Vec<Holder> = (0..2).map(|_| Holder::start(&sock, n / 2, greet)).collect();
    // Bounded: the holders exit with an error (and `held` fails) if a connection is refused.
    let watchdog = Instant::now() + Duration::from_secs(180);
    let mut answered = 0;
    for h in &mut holders {
        answered += h.held();
        assert!(Instant::now() < watchdog, "holding {n} connections took over 180 s");
    }
    if !greet.is_empty() {
        // Most were answered; a few were evicted with their record still in flight.
        assert!(answered > n / 2, "only {answered} of {n} greetings answered");
    }
    let opened = start.elapsed();
    let times: Vec<Duration> = (0..5).map(|_| timed_request(&sock)).collect();
    let fds = std::fs::read_dir(format!("/proc/{}/fd", d.pid())).map(|r| r.count()).unwrap_or(0);
    eprintln!(
        "{n} {what} connections held (opened in {opened:?}, {answered} greetings answered; the daemon holds {fds} \
         descriptors at the cap of 1024): new requests answered in {times:?}"
    );
    let worst = times.iter().max().copied().unwrap_or_default();
    assert!(worst < Duration::from_secs(1), "a new request waited {worst:?} behind {n} {what} connections");
    assert!(fds < 1024 + 64, "{fds} descriptors: the cap holds");
    drop(holders);
}

#[test]
fn twenty_thousand_idle_connections_do_not_hold_up_a_new_request() {
    hoarded(20_000, b"", "idle");
}

#[test]
fn ten_thousand_get_values_connections_do_not_hold_up_a_new_request() {
    // FCGI_GET_VALUES for FCGI_MAX_CONNS, its answer read: accepted and served, then silent.
    hoarded(10_000, &rec(GET_VALUES, 0, &nv(b"FCGI_MAX_CONNS", b"")), "GET_VALUES-only");
}

#[test]
fn get_values_do_not_keep_a_connection_past_the_idle_timeout() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let (_d, sock) = daemon(dir.path(), &tree.root, &["--idle-timeout", "1s"]);
    let record = rec(GET_VALUES, 0, &nv(b"FCGI_MAX_CONNS", b""));
    // Whole records every 300 ms, then records sent in two halves 150 ms apart: before, each
    // record (or half of one) restarted a timeout.
    for halves in [false, true] {
        let mut s = UnixStream::connect(&sock).expect("connect");
        let start = Instant::now();
        let closed = loop {
            assert!(start.elapsed() < Duration::from_secs(5), "GET_VALUES kept the connection for 5 s");
            let parts: Vec<&[u8]> = if halves { vec![&record[..5], &record[5..]] } else { vec![&record] };
            if parts.iter().any(|p| {
                std::thread::sleep(Duration::from_millis(150));
                s.write_all(p).is_err()
            }) {
                break start.elapsed();
            }
            s.set_read_timeout(Some(Duration::from_millis(150))).expect("timeout");
            let mut b = [0u8; 256];
            match s.read(&mut b) {
                Ok(0) => break start.elapsed(),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break start.elapsed(),
            }
        };
        assert!(closed >= Duration::from_millis(900), "closed after {closed:?}, before the idle timeout");
        assert!(closed < Duration::from_millis(2500), "halves {halves}: closed only after {closed:?}");
    }
}

/// BEGIN_REQUEST and half the PARAMS of a GET for `/dl/plain.txt`: a request in progress.
fn half_request() -> (Vec<u8>, Vec<u8>) {
    let whole = request(1, false, &nginx_params(b"GET", b"/dl/plain.txt"));
    let cut = 16 + 8 + 10;
    (whole[..cut].to_vec(), whole[cut..].to_vec())
}

#[test]
fn eviction_never_cuts_a_request_in_progress() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let (d, sock) = daemon(dir.path(), &tree.root, &["--max-connections", "4"]);
    let (head, rest) = half_request();
    let mut busy: Vec<UnixStream> = (0..2)
        .map(|_| {
            let mut s = UnixStream::connect(&sock).expect("connect");
            s.write_all(&head).expect("write");
            s
        })
        .collect();
    let mut idle: Vec<UnixStream> = (0..2).map(|_| UnixStream::connect(&sock).expect("connect")).collect();
    std::thread::sleep(Duration::from_millis(200));
    // Eight new requests at the cap: idle connections make room, the busy ones stay.
    for i in 0..8 {
        let took = timed_request(&sock);
        assert!(took < Duration::from_secs(2), "new request {i} took {took:?}\n{}", d.log_text());
    }
    // One slot was enough for requests one after another: the oldest idle connection went, the
    // other stays.
    let mut b = [0u8; 8];
    idle[0].set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    assert_eq!(idle[0].read(&mut b).ok(), Some(0), "the oldest idle connection was closed to admit new ones");
    idle[1].set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
    assert!(idle[1].read(&mut b).is_err(), "the newer idle connection stays open");
    for s in &mut busy {
        s.write_all(&rest).expect("the busy connection is still open");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut out = Vec::new();
        s.read_to_end(&mut out).expect("read");
        assert!(stdout_of(&parse(&out).0, 1).starts_with(OK), "a request in progress was answered whole");
    }
}

/// A GET on a kept-alive HTTP connection: the reply's first bytes.
fn get(s: &mut std::net::TcpStream) -> String {
    s.write_all(b"GET /dl/plain.txt HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut b = [0u8; 1024];
    let n = s.read(&mut b).expect("reply");
    String::from_utf8_lossy(&b[..n]).into_owned()
}

#[test]
fn the_http_listener_evicts_idle_keepalive_connections_too() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let port = support::free_port();
    let listen = format!("http://127.0.0.1:{port}");
    let mut args = support::guard_args(&tree.root, Some(&listen));
    let metrics = format!("127.0.0.1:{}", support::free_port());
    args.extend(["--max-connections".into(), "2".into(), "--metrics-listen".into(), metrics.clone()]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(dir.path(), "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::tcp_up(port));
    // Let the probe connection of tcp_up go.
    std::thread::sleep(Duration::from_millis(200));
    let mut kept: Vec<std::net::TcpStream> = (0..2)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
            assert!(get(&mut s).contains("X-Accel-Redirect: /_protected/plain.txt"));
            s
        })
        .collect();
    let start = Instant::now();
    let mut third = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    assert!(get(&mut third).contains("X-Accel-Redirect: /_protected/plain.txt"));
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "the third waited {took:?}");
    let mut b = [0u8; 8];
    assert_eq!(kept[0].read(&mut b).ok(), Some(0), "the oldest idle keep-alive connection was closed");
    assert!(get(&mut kept[1]).contains("X-Accel-Redirect"), "the newer one still serves");
    support::assert_series(&metrics, &["xsendfiled_connections_closed_total{cause=\"evicted\"} 1\n"]);
}

/// Connects from 127.0.0.2 (not in FCGI_WEB_SERVER_ADDRS) `times` times, each time sending a
/// request and waiting until the daemon closes the connection.
const REFUSED_PEER: &str = r#"
import socket, sys
port, times, req = int(sys.argv[1]), int(sys.argv[2]), bytes.fromhex(sys.argv[3])
for _ in range(times):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", port))
    s.settimeout(5)
    try:
        s.sendall(req)
        assert s.recv(64) == b"", "a refused peer got an answer"
    except ConnectionResetError:
        pass
    s.close()
"#;

#[test]
fn a_refused_peer_never_evicts_the_web_servers_idle_connections() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let port = support::free_port();
    let mut args = support::guard_args(&tree.root, Some(&format!("127.0.0.1:{port}")));
    let metrics = format!("127.0.0.1:{}", support::free_port());
    args.extend(["--max-connections".into(), "2".into(), "--metrics-listen".into(), metrics.clone()]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(dir.path(), "xsendfiled", &argv, &[("FCGI_WEB_SERVER_ADDRS", "127.0.0.1")]);
    wait_until("xsendfiled", Some(&mut d), || support::tcp_up(port));
    std::thread::sleep(Duration::from_millis(200));
    let mut idle: Vec<std::net::TcpStream> =
        (0..2).map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect")).collect();
    std::thread::sleep(Duration::from_millis(200));
    let req = request(1, false, &nginx_params(b"GET", b"/dl/plain.txt"));
    let hex: String = req.iter().map(|b| format!("{b:02x}")).collect();
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", REFUSED_PEER, &port.to_string(), "6", &hex])
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(d.log_text().contains("not in FCGI_WEB_SERVER_ADDRS"));
    for s in &mut idle {
        s.write_all(&req).expect("the idle connection is still open");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut reply = Vec::new();
        let _ = s.read_to_end(&mut reply);
        assert!(stdout_of(&parse(&reply).0, 1).starts_with(OK), "the web server's idle connection was evicted");
    }
    support::assert_series(
        &metrics,
        &[
            "xsendfiled_connections_closed_total{cause=\"evicted\"} 0\n",
            "xsendfiled_connections_closed_total{cause=\"refused\"} 6\n",
        ],
    );
}

#[test]
fn the_http_listener_evicts_an_idle_connection_not_one_with_half_a_head() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let port = support::free_port();
    let mut args = support::guard_args(&tree.root, Some(&format!("http://127.0.0.1:{port}")));
    args.extend(["--max-connections", "2", "--request-timeout", "6s"].map(String::from));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(dir.path(), "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::tcp_up(port));
    std::thread::sleep(Duration::from_millis(200));
    // The older connection has half a head buffered (hyper's graceful shutdown would not close
    // it); the newer is kept alive after a reply, really idle.
    let mut half = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    half.write_all(b"GET /dl/plain.txt HTTP/1.1\r\nHo").expect("write");
    std::thread::sleep(Duration::from_millis(100));
    let mut kept = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    assert!(get(&mut kept).contains("X-Accel-Redirect"));
    let start = Instant::now();
    let mut third = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    assert!(get(&mut third).contains("X-Accel-Redirect"));
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "the third waited {took:?} for the half head to time out");
    let mut b = [0u8; 8];
    assert_eq!(kept.read(&mut b).ok(), Some(0), "the idle keep-alive connection was closed");
}

#[test]
fn sighup_reloads_while_the_accept_loop_waits_at_the_cap() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let (d, sock) = daemon(dir.path(), &tree.root, &["--max-connections", "1"]);
    // The one slot is held by a request in progress; a new connection makes the loop wait.
    let mut busy = UnixStream::connect(&sock).expect("connect");
    busy.write_all(&half_request().0).expect("write");
    std::thread::sleep(Duration::from_millis(200));
    let _waiting = UnixStream::connect(&sock).expect("connect");
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    d.signal(1);
    while !d.log_text().contains("SIGHUP: configuration reloaded") && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "the reload waited {took:?} for a slot\n{}", d.log_text());
}
