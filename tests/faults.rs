//! Faults: a root that disappears, comes back, or is replaced (SIGHUP opens the new one; a
//! configuration that no longer validates keeps the running one); the web server reloading and
//! restarting under load while xsendfiled keeps serving.

use crate::support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::fcgi_client::*;
use support::{wait_until, Tree};

fn ask(sock: &Path, uri: &[u8]) -> Vec<u8> {
    let mut s = UnixStream::connect(sock).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    s.write_all(&request(1, false, &nginx_params(b"GET", uri))).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    stdout_of(&parse(&out).0, 1)
}

#[test]
fn a_root_that_disappears_comes_back_or_is_replaced() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let sock = dir.path().join("x.sock");
    let args = support::guard_args(&tree.root, Some(&format!("unix:{}", sock.display())));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(dir.path(), "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let ok = |sock: &Path| ask(sock, b"/dl/plain.txt").starts_with(b"X-Accel-Redirect: /_protected/plain.txt");
    assert!(ok(&sock));
    // Gone: refused, not checked in a tree the server no longer sends from.
    let away = dir.path().join("root.away");
    std::fs::rename(&tree.root, &away).expect("rename");
    // Noticed within the check interval (one second).
    let gone = Instant::now();
    wait_until("the root's absence", None, || ask(&sock, b"/dl/plain.txt").starts_with(b"Status: 404"));
    assert!(gone.elapsed() < Duration::from_millis(1500), "{:?}", gone.elapsed());
    assert!(d.log_text().contains("is gone or was replaced"));
    // A SIGHUP now fails (no root): the running configuration stays and says why.
    d.signal(1);
    wait_until("refused reload", None, || d.log_text().contains("keeping the running configuration"));
    // Back (the same directory): served again.
    std::fs::rename(&away, &tree.root).expect("rename back");
    wait_until("the root back", None, || ok(&sock));
    // Replaced by another directory: refused until SIGHUP opens the new one.
    std::fs::rename(&tree.root, &away).expect("rename");
    std::fs::create_dir(&tree.root).expect("mkdir");
    std::fs::write(tree.root.join("new.txt"), "new tree\n").expect("write");
    wait_until("the replacement noticed", None, || ask(&sock, b"/dl/plain.txt").starts_with(b"Status: 404"));
    assert!(ask(&sock, b"/dl/new.txt").starts_with(b"Status: 404"));
    d.signal(1);
    wait_until("reload", None, || d.log_text().contains("configuration reloaded"));
    assert!(ask(&sock, b"/dl/new.txt").starts_with(b"X-Accel-Redirect: /_protected/new.txt"));
    assert!(ask(&sock, b"/dl/plain.txt").starts_with(b"Status: 404"), "the old tree is not served");
}

/// GET over HTTP/1.0 on loopback; true when the reply is 200 with `body`.
fn http_ok(port: u16, path: &str, body: &[u8]) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes()).is_err() {
        return false;
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out.starts_with(b"HTTP/1.1 200") && out.ends_with(body)
}

#[test]
fn nginx_reloading_and_restarting_under_load() {
    if !support::require(&["nginx"]) {
        return;
    }
    let ws = support::Workspace::new();
    let (tree, run) = (&ws.tree, &ws.run);
    let sock = run.join("x.sock");
    let args = support::guard_args(&tree.root, Some(&format!("unix:{}", sock.display())));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let upstream = format!("unix:{}", sock.display());
    let nginx = support::nginx_example("nginx.conf", run, &tree.root, &upstream, port);
    // Load while nginx reloads its configuration five times: no request fails.
    let deadline = Instant::now() + Duration::from_secs(3);
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (ok, failed) = (ok.clone(), failed.clone());
            std::thread::spawn(move || {
                while Instant::now() < deadline {
                    if http_ok(port, "/dl/a%20b.txt", b"space\n") {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(400));
        nginx.signal(1);
    }
    for w in workers {
        w.join().expect("worker");
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!("nginx reloaded 5 times under load: {ok} requests answered, {failed} failed");
    assert_eq!(failed, 0);
    assert!(ok > 100);
    // nginx stops and starts again: xsendfiled, untouched, serves the new nginx at once.
    drop(nginx);
    let nginx = support::nginx_example("nginx.conf", run, &tree.root, &upstream, port);
    for _ in 0..50 {
        assert!(http_ok(port, "/dl/plain.txt", b"plain\n"));
    }
    drop(nginx);
    assert!(d.child.try_wait().expect("wait").is_none(), "xsendfiled kept running");
}
