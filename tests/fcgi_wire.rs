//! The real daemon over real sockets, driven by the independent FastCGI client: byte-exact
//! management replies, keep-conn, isolation of bad connections, timeouts, listeners, signals.

use crate::support;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::fcgi_client::*;
use support::{daemon, tempdir, unix_up, wait_until, Tree};

fn start_unix(dir: &Path, root: &Path, extra: &[&str]) -> (support::Proc, std::path::PathBuf) {
    let sock = dir.join("x.sock");
    let mut args = support::guard_args(root, None);
    args.push("--listen".into());
    args.push(format!("unix:{}", sock.display()));
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut p = daemon(dir, "xsendfiled", &argv, &[]);
    wait_until("unix socket", Some(&mut p), || unix_up(&sock));
    (p, sock)
}

/// Reads until END_REQUEST for `id` arrives or the peer closes.
fn read_reply(s: &mut impl Read, id: u16) -> (Vec<Rec>, bool) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let start = Instant::now();
    loop {
        let (recs, _) = parse(&buf);
        if recs.iter().any(|r| r.kind == END && r.id == id) {
            return (recs, false);
        }
        if start.elapsed() > Duration::from_secs(5) {
            panic!("no END_REQUEST: {recs:?}");
        }
        match s.read(&mut chunk) {
            Ok(0) => return (parse(&buf).0, true),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn is_closed(s: &mut UnixStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).expect("timeout");
    let mut b = [0u8; 64];
    matches!(s.read(&mut b), Ok(0))
        || matches!(s.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset)
}

#[test]
fn get_values_and_unknown_type_over_the_socket() {
    let dir = tempdir();
    let tree = Tree::create(dir.path());
    let (_d, sock) = start_unix(dir.path(), &tree.root, &["--max-connections", "33"]);
    let mut s = UnixStream::connect(&sock).expect("connect");
    let mut q = nv(b"FCGI_MAX_CONNS", b"");
    q.extend(nv(b"FCGI_MAX_REQS", b""));
    q.extend(nv(b"FCGI_MPXS_CONNS", b""));
    let mut input = rec(GET_VALUES, 0, &q);
    input.extend(rec(99, 0, b""));
    s.write_all(&input).expect("write");
    let mut want = {
        let mut c = nv(b"FCGI_MAX_CONNS", b"33");
        c.extend(nv(b"FCGI_MAX_REQS", b"33"));
        c.extend(nv(b"FCGI_MPXS_CONNS", b"0"));
        rec(GET_VALUES_RESULT, 0, &c)
    };
    want.extend(rec(UNKNOWN_TYPE, 0, &[99, 0, 0, 0, 0, 0, 0, 0]));
    let mut got = vec![0u8; want.len()];
    s.read_exact(&mut got).expect("read");
    assert_eq!(got, want);
}

#[test]
fn requests_keep_conn_and_close() {
    let dir = tempdir();
    let tree = Tree::create(dir.path());
    let (_d, sock) = start_unix(dir.path(), &tree.root, &[]);
    let exchange = |s: &mut UnixStream, id: u16, keep: bool, uri: &[u8], want: &[u8]| {
        s.write_all(&request(id, keep, &nginx_params(b"GET", uri))).expect("write");
        let (recs, closed) = read_reply(s, id);
        assert!(!closed);
        let out = stdout_of(&recs, id);
        assert!(out.starts_with(want), "{}", String::from_utf8_lossy(&out));
        let ends: Vec<_> = recs.iter().filter(|r| r.kind == END).collect();
        assert_eq!(ends.len(), 1, "exactly one END_REQUEST");
        assert_eq!(ends[0].content, vec![0, 0, 0, 0, 0, 0, 0, 0]);
    };
    // FCGI_KEEP_CONN set: error replies keep the connection for the next request...
    let mut s = UnixStream::connect(&sock).expect("connect");
    exchange(&mut s, 1, true, b"/dl/../x", b"Status: 404 Not Found\r\n");
    exchange(&mut s, 2, true, b"/dl/nope", b"Status: 404 Not Found\r\n");
    // ...and an X-Accel-Redirect reply ends it: nginx never reuses a connection after one (it
    // finalizes the upstream on the header), so xsendfiled closes instead of waiting for its EOF.
    exchange(
        &mut s,
        3,
        true,
        b"/dl/a b.txt",
        b"X-Accel-Redirect: /_protected/a%20b.txt\r\nContent-Type: text/plain\r\nContent-Disposition: inline; filename=\"a b.txt\"\r\n\r\n",
    );
    assert!(is_closed(&mut s, Duration::from_secs(2)), "closed after an offload");
    // FCGI_KEEP_CONN clear: closed after any reply.
    let mut s = UnixStream::connect(&sock).expect("connect");
    exchange(&mut s, 1, false, b"/dl/nope", b"Status: 404 Not Found\r\n");
    assert!(is_closed(&mut s, Duration::from_secs(2)), "closed after a request without FCGI_KEEP_CONN");
}

/// A limited-use link waits for its grant off the connection's path: without FCGI_KEEP_CONN the
/// reply is written and the connection closed; with it, the connection goes on to the next
/// request after the grant's answer (here a refusal: its one use is spent), as after any other.
#[test]
fn limited_use_links_over_kept_and_closed_connections() {
    let dir = tempdir();
    let tree = Tree::create(dir.path());
    let keys = support::limited::keys(dir.path());
    let state = dir.path().join("state.db");
    let extra = ["--keys", keys.to_str().expect("utf-8"), "--state", state.to_str().expect("utf-8")];
    let (_d, sock) = start_unix(dir.path(), &tree.root, &extra);
    let (link, _) = support::limited::sign(&keys, "/dl/sub/in.txt", &["--uses", "1"]);
    let ask = |s: &mut UnixStream, id: u16, keep: bool, client: &str, uri: &str| {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let pairs: Vec<(&[u8], &[u8])> = vec![
            (b"REQUEST_METHOD", b"GET"),
            (b"QUERY_STRING", query.as_bytes()),
            (b"REQUEST_URI", uri.as_bytes()),
            (b"DOCUMENT_URI", path.as_bytes()),
            (b"REMOTE_ADDR", client.as_bytes()),
        ];
        s.write_all(&request(id, keep, &pairs)).expect("write");
        let (recs, _) = read_reply(s, id);
        assert_eq!(recs.iter().filter(|r| r.kind == END && r.id == id).count(), 1, "one END_REQUEST");
        String::from_utf8_lossy(&stdout_of(&recs, id)).into_owned()
    };
    // The use is opened: offloaded, and the connection closed.
    let mut s = UnixStream::connect(&sock).expect("connect");
    let out = ask(&mut s, 1, false, "10.0.0.1", &link);
    assert!(out.starts_with("X-Accel-Redirect: /_protected/sub/in.txt\r\n"), "{out}");
    assert!(is_closed(&mut s, Duration::from_secs(2)), "closed after a request without FCGI_KEEP_CONN");
    // Another client, twice on one kept connection: spent (410, never cached), and the connection
    // still answers, a plain request too.
    let mut s = UnixStream::connect(&sock).expect("connect");
    for id in [1, 2] {
        let out = ask(&mut s, id, true, "10.0.0.2", &link);
        assert!(out.starts_with("Status: 410 Gone\r\n"), "{out}");
        assert!(out.contains("\r\nCache-Control: no-store\r\n"), "{out}");
    }
    let out = ask(&mut s, 3, true, "10.0.0.2", "/dl/nope");
    assert!(out.starts_with("Status: 404 Not Found\r\n"), "{out}");
    // The first client's use is still open: the same use again, on a kept connection this time.
    let out = ask(&mut s, 4, true, "10.0.0.1", &link);
    assert!(out.starts_with("X-Accel-Redirect: /_protected/sub/in.txt\r\n"), "{out}");
}

#[test]
fn a_bad_connection_never_disturbs_another() {
    let dir = tempdir();
    let tree = Tree::create(dir.path());
    let (mut d, sock) = start_unix(dir.path(), &tree.root, &[]);
    // Connection A is half-way through a request.
    let mut a = UnixStream::connect(&sock).expect("connect");
    let full = request(1, false, &nginx_params(b"GET", b"/dl/plain.txt"));
    a.write_all(&full[..20]).expect("write");
    // Connections B.. send garbage of several kinds and are closed.
    let garbage: Vec<Vec<u8>> = vec![
        vec![0xff; 64],
        {
            let mut v = rec(GET_VALUES, 0, &[]);
            v[0] = 9;
            v
        },
        {
            let mut v = begin(1, 1, false);
            v.extend(rec(PARAMS, 1, &[0xff, 0xff, 0xff, 0xff, 1, b'a']));
            v.extend(rec(PARAMS, 1, &[]));
            v
        },
        {
            let mut v = begin(1, 1, false);
            v.extend(rec(STDOUT, 1, b"x"));
            v
        },
    ];
    for g in garbage {
        let mut b = UnixStream::connect(&sock).expect("connect");
        b.write_all(&g).expect("write");
        assert!(is_closed(&mut b, Duration::from_secs(2)), "garbage {g:?} closes its connection");
    }
    // Peer closing right after reading the start of the reply (what nginx does after X-Accel-Redirect).
    for _ in 0..20 {
        let mut c = UnixStream::connect(&sock).expect("connect");
        c.write_all(&request(1, true, &nginx_params(b"GET", b"/dl/plain.txt"))).expect("write");
        let mut first = [0u8; 16];
        c.read_exact(&mut first).expect("read");
        drop(c);
    }
    // A finishes normally.
    a.write_all(&full[20..]).expect("write");
    let (recs, _) = read_reply(&mut a, 1);
    assert!(stdout_of(&recs, 1).starts_with(b"X-Accel-Redirect: /_protected/plain.txt\r\n"));
    assert!(d.child.try_wait().expect("wait").is_none(), "daemon still running");
}

#[test]
fn idle_and_slow_connections_are_cut_off() {
    let dir = tempdir();
    let tree = Tree::create(dir.path());
    let (_d, sock) = start_unix(dir.path(), &tree.root, &["--idle-timeout", "300ms", "--request-timeout", "600ms"]);
    let mut idle = UnixStream::connect(&sock).expect("connect");
    let t = Instant::now();
    assert!(is_closed(&mut idle, Duration::from_secs(3)));
    let idle_took = t.elapsed();
    assert!(idle_took >= Duration::from_millis(250), "{idle_took:?}");
    // A slow client sending one byte every 100 ms never completes its request: the request
    // deadline, not the idle timeout, ends it.
    let mut slow = UnixStream::connect(&sock).expect("connect");
    let req = request(1, false, &nginx_params(b"GET", b"/dl/plain.txt"));
    let t = Instant::now();
    let mut cut = false;
    for b in &req {
        if slow.write_all(std::slice::from_ref(b)).is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        if t.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    assert!(cut || is_closed(&mut slow, Duration::from_secs(2)), "slow client cut off");
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[test]
fn unix_socket_mode_stale_and_live_sockets() {
    let dir = tempdir();
    let tree = Tree::create(dir.path());
    let (mut first, sock) = start_unix(dir.path(), &tree.root, &["--socket-mode", "0640"]);
    let mode = std::fs::metadata(&sock).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    // A second daemon on the same live socket refuses to start and says why.
    let mut args = support::guard_args(&tree.root, None);
    args.extend(["--listen".to_string(), format!("unix:{}", sock.display())]);
    let out = Command::new(support::bin()).args(&args).env_remove("GATEWAY_INTERFACE").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another process is listening"), "{err}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    // SIGTERM: exit 0 and the socket file is removed.
    first.signal(15);
    let st = first.wait_exit(Duration::from_secs(5)).expect("exited");
    assert!(st.success(), "{st:?}");
    assert!(!sock.exists(), "socket removed on exit");
    // A stale socket file (nobody listening) is replaced.
    let stale = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
    drop(stale);
    assert!(sock.exists());
    let (_second, _) = start_unix(dir.path(), &tree.root, &[]);
    // A regular file is never replaced.
    let file = dir.path().join("regular");
    std::fs::write(&file, "x").expect("write");
    let mut args = support::guard_args(&tree.root, None);
    args.extend(["--listen".to_string(), format!("unix:{}", file.display())]);
    let out = Command::new(support::bin()).args(&args).env_remove("GATEWAY_INTERFACE").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a socket"));
    assert_eq!(std::fs::read(&file).expect("read"), b"x");
}

fn exchange_tcp(port: u16) -> Option<Vec<u8>> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(&request(1, false, &nginx_params(b"GET", b"/dl/plain.txt"))).ok()?;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    Some(out)
}

#[test]
fn tcp_listener_and_fcgi_web_server_addrs() {
    let dir = tempdir();
    let tree = Tree::create(dir.path());
    for (allowed, served) in [("127.0.0.1", true), ("::1, 127.0.0.1", true), ("192.0.2.1", false)] {
        let port = support::free_port();
        let mut args = support::guard_args(&tree.root, None);
        args.extend(["--listen".to_string(), format!("127.0.0.1:{port}")]);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut d = daemon(dir.path(), "tcp", &argv, &[("FCGI_WEB_SERVER_ADDRS", allowed)]);
        wait_until("tcp", Some(&mut d), || support::tcp_up(port));
        let out = exchange_tcp(port).unwrap_or_default();
        let (recs, _) = parse(&out);
        assert_eq!(stdout_of(&recs, 1).starts_with(b"X-Accel-Redirect: "), served, "{allowed}: {recs:?}");
        if !served {
            assert!(out.is_empty(), "refused peers get nothing");
            assert!(d.log_text().contains("not in FCGI_WEB_SERVER_ADDRS"));
        }
    }
    // IPv6 loopback.
    let port = support::free_port();
    let mut args = support::guard_args(&tree.root, None);
    args.extend(["--listen".to_string(), format!("[::1]:{port}")]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = daemon(dir.path(), "tcp6", &argv, &[]);
    wait_until("tcp6", Some(&mut d), || std::net::TcpStream::connect(("::1", port)).is_ok());
    let mut s = std::net::TcpStream::connect(("::1", port)).expect("connect");
    s.write_all(&request(1, false, &nginx_params(b"GET", b"/dl/plain.txt"))).expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    assert!(stdout_of(&parse(&out).0, 1).starts_with(b"X-Accel-Redirect: /_protected/plain.txt"));
}

#[test]
fn inherited_fd0_tcp_and_unix_and_systemd_socket() {
    let dir = tempdir();
    let tree = Tree::create(dir.path());
    let args = support::guard_args(&tree.root, None);
    // fd 0 = listening Unix socket (what mod_fcgid and spawn-fcgi -s hand over).
    let path = dir.path().join("fd0.sock");
    let l = std::os::unix::net::UnixListener::bind(&path).expect("bind");
    let mut child = Command::new(support::bin())
        .args(&args)
        .env_remove("GATEWAY_INTERFACE")
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(l)))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut s = UnixStream::connect(&path).expect("connect");
    s.write_all(&request(1, false, &nginx_params(b"GET", b"/dl/h#x.txt"))).expect("write");
    let (recs, _) = read_reply(&mut s, 1);
    assert!(stdout_of(&recs, 1).starts_with(b"X-Accel-Redirect: /_protected/h%23x.txt\r\n"));
    let _ = child.kill();
    let _ = child.wait();
    // fd 0 = listening TCP socket (spawn-fcgi -a/-p).
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let mut child = Command::new(support::bin())
        .args(&args)
        .env("GATEWAY_INTERFACE", "CGI/1.1") // a listening fd 0 wins over the CGI variable
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(l)))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let out = exchange_tcp(port).unwrap_or_default();
    assert!(stdout_of(&parse(&out).0, 1).starts_with(b"X-Accel-Redirect: /_protected/plain.txt\r\n"));
    let _ = child.kill();
    let _ = child.wait();
    // systemd socket activation: LISTEN_FDS=1, LISTEN_PID=<pid>, socket on fd 3. systemd cannot run
    // here, so a few lines of Python do what it does: bind, dup2 to fd 3, set the variables, exec.
    assert!(support::require(&["python3"]));
    let path = dir.path().join("systemd.sock");
    let mut child = support::socket_activated(&path)
        .arg(support::bin())
        .args(&args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    wait_until("systemd socket", None, || unix_up(&path));
    let mut s = UnixStream::connect(&path).expect("connect");
    s.write_all(&request(1, false, &nginx_params(b"GET", "/dl/ü.txt".as_bytes()))).expect("write");
    let (recs, _) = read_reply(&mut s, 1);
    assert!(stdout_of(&recs, 1).starts_with(b"X-Accel-Redirect: /_protected/%C3%BC.txt\r\n"));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn sigterm_lets_the_request_in_progress_finish() {
    let dir = tempdir();
    let tree = Tree::create(dir.path());
    let (mut d, sock) = start_unix(dir.path(), &tree.root, &["--drain-timeout", "5s"]);
    let mut s = UnixStream::connect(&sock).expect("connect");
    let full = request(1, false, &nginx_params(b"GET", b"/dl/plain.txt"));
    s.write_all(&full[..30]).expect("write");
    std::thread::sleep(Duration::from_millis(100));
    d.signal(15);
    std::thread::sleep(Duration::from_millis(200));
    // No new connections once stopping...
    assert!(!unix_up(&sock));
    // ...but the request in progress completes.
    s.write_all(&full[30..]).expect("write");
    let (recs, _) = read_reply(&mut s, 1);
    assert!(stdout_of(&recs, 1).starts_with(b"X-Accel-Redirect: /_protected/plain.txt\r\n"));
    let st = d.wait_exit(Duration::from_secs(5)).expect("exit");
    assert!(st.success());
}
