//! End to end through a real nginx (Debian package) on 127.0.0.1, driven by curl: xsendfiled on a
//! Unix socket, on TCP, started by spawn-fcgi (TCP and Unix, fd 0), and as a CGI program under
//! fcgiwrap. Every configuration is a file from conf-examples/ with its placeholders filled in.

use crate::support;

use std::process::Command;
use support::{conf_example, fill_template, matrix, nginx, wait_until};

type Setup = support::Workspace;

fn setup() -> Option<Setup> {
    support::require(&["nginx", "curl"]).then(support::Workspace::new)
}

#[test]
fn nginx_with_xsendfiled_on_a_unix_socket() {
    let Some(s) = setup() else { return };
    let sock = s.run.join("xsendfiled.sock");
    let args = support::guard_args(&s.tree.root, Some(&format!("unix:{}", sock.display())));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&s.run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", &s.run, &s.tree.root, &format!("unix:{}", sock.display()), port);
    matrix::check(port, "/dl", Some("/_protected"), matrix::STRICT);
    // Decisions are logged (at debug level, as the tests run it).
    assert!(d.log_text().contains("GET /dl/plain.txt -> send plain.txt"), "{}", d.log_text());
}

#[test]
fn nginx_with_xsendfiled_on_tcp() {
    let Some(s) = setup() else { return };
    let xport = support::free_port();
    let args = support::guard_args(&s.tree.root, Some(&format!("127.0.0.1:{xport}")));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&s.run, "xsendfiled", &argv, &[("FCGI_WEB_SERVER_ADDRS", "127.0.0.1")]);
    wait_until("xsendfiled", Some(&mut d), || support::tcp_up(xport));
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", &s.run, &s.tree.root, &format!("127.0.0.1:{xport}"), port);
    matrix::check(port, "/dl", Some("/_protected"), matrix::STRICT);
}

fn spawn_fcgi(s: &Setup, socket_args: &[String]) -> support::Proc {
    let mut cmd = Command::new("spawn-fcgi");
    // -n: no fork, so the PID we hold is xsendfiled's own once spawn-fcgi execs it.
    cmd.arg("-n").args(socket_args).arg("--").arg(support::bin());
    cmd.env("XSENDFILED_ROOT", &s.tree.root)
        .env("XSENDFILED_INTERNAL_PREFIX", "/_protected")
        .env("XSENDFILED_STRIP_PREFIX", "/dl")
        .env("RUST_LOG", "debug")
        .env_remove("GATEWAY_INTERFACE");
    support::spawn(cmd, "spawn-fcgi", &s.run.join("spawn-fcgi.log"))
}

#[test]
fn nginx_with_xsendfiled_under_spawn_fcgi_tcp() {
    let Some(s) = setup() else { return };
    if !support::require(&["spawn-fcgi"]) {
        return;
    }
    let xport = support::free_port();
    let mut p = spawn_fcgi(&s, &["-a".into(), "127.0.0.1".into(), "-p".into(), xport.to_string()]);
    wait_until("spawn-fcgi tcp", Some(&mut p), || support::tcp_up(xport));
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", &s.run, &s.tree.root, &format!("127.0.0.1:{xport}"), port);
    matrix::check(port, "/dl", Some("/_protected"), matrix::STRICT);
    assert!(p.log_text().contains("inherited fd 0"), "{}", p.log_text());
}

#[test]
fn nginx_with_xsendfiled_under_spawn_fcgi_unix() {
    let Some(s) = setup() else { return };
    if !support::require(&["spawn-fcgi"]) {
        return;
    }
    let sock = s.run.join("spawned.sock");
    let mut p = spawn_fcgi(&s, &["-s".into(), sock.display().to_string(), "-M".into(), "0660".into()]);
    wait_until("spawn-fcgi unix", Some(&mut p), || support::unix_up(&sock));
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", &s.run, &s.tree.root, &format!("unix:{}", sock.display()), port);
    matrix::check(port, "/dl", Some("/_protected"), matrix::STRICT);
    assert!(p.log_text().contains("inherited fd 0"), "{}", p.log_text());
}

#[test]
fn nginx_with_xsendfiled_as_cgi_under_fcgiwrap() {
    let Some(s) = setup() else { return };
    if !support::require(&["/usr/sbin/fcgiwrap"]) {
        return;
    }
    let sock = s.run.join("fcgiwrap.sock");
    let mut cmd = Command::new("/usr/sbin/fcgiwrap");
    cmd.arg("-c").arg("2").arg("-s").arg(format!("unix:{}", sock.display()));
    let mut w = support::spawn(cmd, "fcgiwrap", &s.run.join("fcgiwrap.log"));
    wait_until("fcgiwrap", Some(&mut w), || support::unix_up(&sock));
    let port = support::free_port();
    let conf = fill_template(
        &conf_example("nginx-cgi.conf"),
        &[
            ("NGINX_USER", support::nginx_user()),
            ("RUN_DIR", s.run.display().to_string()),
            ("PORT", port.to_string()),
            ("ROOT", s.tree.root.display().to_string()),
            ("XSENDFILED_BIN", support::bin().to_owned()),
            ("FCGIWRAP_SOCKET", sock.display().to_string()),
        ],
    );
    let _n = nginx(&s.run, &conf, port);
    matrix::check(port, "/dl", Some("/_protected"), matrix::STRICT);
}

#[test]
fn nginx_named_location() {
    let Some(s) = setup() else { return };
    let sock = s.run.join("xsendfiled.sock");
    let mut args = support::guard_args(&s.tree.root, Some(&format!("unix:{}", sock.display())));
    args[3] = "@files".into();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&s.run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let upstream = format!("unix:{}", sock.display());
    let _n = support::nginx_example("nginx-named-location.conf", &s.run, &s.tree.root, &upstream, port);
    matrix::check(port, "/dl", None, matrix::Profile { refuses_symlinked: true, ..matrix::STRICT });
}

/// Sends `request` on `stream` and reads one response (head plus `Content-Length` body).
fn http_exchange(stream: &mut std::net::TcpStream, request: &str) -> String {
    use std::io::{Read, Write};
    stream.write_all(request.as_bytes()).expect("write");
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&got).into_owned();
    let len: usize =
        head.lines().find_map(|l| l.strip_prefix("Content-Length: ")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).expect("body");
    head + &String::from_utf8_lossy(&body)
}

#[test]
fn nginx_with_xsendfiled_over_http() {
    let Some(s) = setup() else { return };
    let xport = support::free_port();
    let args = support::guard_args(&s.tree.root, Some(&format!("http://127.0.0.1:{xport}")));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&s.run, "xsendfiled", &argv, &[("FCGI_WEB_SERVER_ADDRS", "127.0.0.1")]);
    wait_until("xsendfiled", Some(&mut d), || support::tcp_up(xport));
    let port = support::free_port();
    let _n = support::nginx_example("nginx-http.conf", &s.run, &s.tree.root, &format!("127.0.0.1:{xport}"), port);
    matrix::check(port, "/dl", Some("/_protected"), matrix::STRICT);

    // The listener itself: three requests on one connection, the offload with Content-Length: 0
    // (what lets nginx keep the connection), then framing it refuses, which closes it.
    let mut c = std::net::TcpStream::connect(("127.0.0.1", xport)).expect("connect");
    c.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("timeout");
    let r = http_exchange(&mut c, "GET /dl/plain.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(r.contains("\r\nX-Accel-Redirect: /_protected/plain.txt\r\n"), "{r}");
    assert!(r.contains("\r\nContent-Length: 0\r\n") && !r.contains("Connection: close"), "{r}");
    let r = http_exchange(&mut c, "GET /dl/%2e%2e/outside/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 404 ") && r.contains("Cache-Control: no-store"), "{r}");
    let r = http_exchange(&mut c, "POST /dl/plain.txt HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    assert!(r.starts_with("HTTP/1.1 405 ") && r.contains("\r\nAllow: "), "{r}");
    let r = http_exchange(&mut c, "POST /dl/plain.txt HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400 ") && r.contains("Connection: close"), "{r}");
    let mut rest = Vec::new();
    assert_eq!(std::io::Read::read_to_end(&mut c, &mut rest).expect("eof"), 0, "closed after a 400");
    // A client sending a request line without end is cut off at the size limit (64 KiB): 431.
    let mut c = std::net::TcpStream::connect(("127.0.0.1", xport)).expect("connect");
    c.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("timeout");
    let r = http_exchange(&mut c, &format!("GET /{} HTTP/1.1\r\n", "a".repeat(70 * 1024)));
    assert!(r.starts_with("HTTP/1.1 431 "), "{r}");
}
