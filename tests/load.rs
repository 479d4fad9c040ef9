//! Hostile clients, load and faults, all on a Unix socket in a temp dir, every loop bounded in
//! count and time: 10,000 concurrent connections (no descriptor leaked, memory bounded), the
//! connection cap (busy connections make new ones wait, not fail; idle ones are evicted:
//! `eviction.rs`), stalled storage (`storage_stalls.rs`), EMFILE (the accept loop backs off and recovers), slow
//! clients beside fast ones, a minute of mixed valid and garbage traffic, SIGTERM and SIGHUP under
//! load with no request lost.

mod support;

mod eviction;
mod limited_links_load;
mod storage_stalls;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::fcgi_client::*;
use support::{wait_until, Tree};

fn daemon(dir: &Path, root: &Path, extra: &[&str]) -> (support::Proc, PathBuf) {
    let sock = dir.join("x.sock");
    let mut args = support::guard_args(root, Some(&format!("unix:{}", sock.display())));
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = Command::new(support::bin());
    cmd.args(&argv).env_remove("GATEWAY_INTERFACE").env("RUST_LOG", "info");
    let mut p = support::spawn(cmd, "xsendfiled", &dir.join("xsendfiled.log"));
    wait_until("xsendfiled", Some(&mut p), || support::unix_up(&sock));
    (p, sock)
}

fn fd_count(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

fn status_kib(pid: i32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One request on `s`; the reply's STDOUT, or None if the connection ended early.
fn exchange(s: &mut UnixStream, uri: &[u8], keep: bool) -> Option<Vec<u8>> {
    s.write_all(&request(1, keep, &nginx_params(b"GET", uri))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let (recs, _) = parse(&buf);
        if recs.iter().any(|r| r.kind == END) {
            return Some(stdout_of(&recs, 1));
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

const OK: &[u8] = b"X-Accel-Redirect: /_protected/plain.txt\r\n";

#[test]
fn ten_thousand_concurrent_connections() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let (d, sock) = daemon(dir.path(), &tree.root, &["--max-connections", "10000"]);
    let pid = d.pid();
    let base_fds = fd_count(pid);
    let start = Instant::now();
    let mut conns = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let s = UnixStream::connect(&sock).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        conns.push(s);
    }
    wait_until("10,000 connections accepted", None, || fd_count(pid) >= base_fds + 10_000);
    let held = fd_count(pid) - base_fds;
    // Every one of them is served.
    let mut served = 0;
    for s in &mut conns {
        if exchange(s, b"/dl/plain.txt", false).is_some_and(|o| o.starts_with(OK)) {
            served += 1;
        }
    }
    assert_eq!(served, 10_000);
    let rss = status_kib(pid, "VmHWM:");
    drop(conns);
    wait_until("descriptors to return to the baseline", None, || fd_count(pid) <= base_fds);
    eprintln!(
        "10,000 connections: {held} held at once, all served in {:?}; peak RSS {rss} KiB; fds {base_fds} before, {} after",
        start.elapsed(),
        fd_count(pid)
    );
    assert!(rss < 256 * 1024, "peak RSS {rss} KiB for 10,000 connections");
}

#[test]
fn at_the_cap_busy_connections_make_new_ones_wait_and_are_served() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let (_d, sock) = daemon(dir.path(), &tree.root, &["--max-connections", "4"]);
    // Four requests in progress (half sent): none may be closed to make room (idle ones would be,
    // see eviction.rs).
    let whole = request(1, false, &nginx_params(b"GET", b"/dl/plain.txt"));
    let (head, rest) = whole.split_at(30);
    let mut held: Vec<UnixStream> = (0..4)
        .map(|_| {
            let mut s = UnixStream::connect(&sock).expect("connect");
            s.write_all(head).expect("write");
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // The fifth waits in the backlog: no reply while the four are busy...
    let mut fifth = UnixStream::connect(&sock).expect("connect");
    fifth.write_all(&request(1, false, &nginx_params(b"GET", b"/dl/plain.txt"))).expect("write");
    fifth.set_read_timeout(Some(Duration::from_millis(300))).expect("timeout");
    let mut b = [0u8; 16];
    assert!(fifth.read(&mut b).is_err(), "served beyond the cap");
    // ...and is served as soon as one of them is answered and goes.
    let mut first = held.pop().expect("held");
    first.write_all(rest).expect("write");
    let mut out = Vec::new();
    first.read_to_end(&mut out).expect("read");
    assert!(stdout_of(&parse(&out).0, 1).starts_with(OK));
    fifth.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut out = Vec::new();
    fifth.read_to_end(&mut out).expect("read");
    assert!(stdout_of(&parse(&out).0, 1).starts_with(OK));
}

#[test]
fn emfile_does_not_kill_the_accept_loop() {
    if !support::require(&["prlimit"]) {
        return;
    }
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let sock = dir.path().join("x.sock");
    let mut args = support::guard_args(&tree.root, Some(&format!("unix:{}", sock.display())));
    args.insert(0, "--nofile=40:40".into());
    args.insert(1, "--".into());
    args.insert(2, support::bin().into());
    let mut cmd = Command::new("prlimit");
    cmd.args(&args).env("RUST_LOG", "info");
    let mut d = support::spawn(cmd, "xsendfiled", &dir.path().join("xsendfiled.log"));
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    // Far more connections than descriptors: the accept loop meets EMFILE.
    let crowd: Vec<UnixStream> = (0..100).filter_map(|_| UnixStream::connect(&sock).ok()).collect();
    wait_until("EMFILE", None, || d.log_text().contains("pausing 100ms"));
    drop(crowd);
    // It recovers: new clients are served.
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..20 {
        let mut s = UnixStream::connect(&sock).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        assert!(exchange(&mut s, b"/dl/plain.txt", false).is_some_and(|o| o.starts_with(OK)));
    }
}

#[test]
fn slow_clients_do_not_hold_up_others() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let (d, sock) = daemon(dir.path(), &tree.root, &["--request-timeout", "2s", "--idle-timeout", "2s"]);
    let rss_before = status_kib(d.pid(), "VmRSS:");
    let stop = Arc::new(AtomicBool::new(false));
    // 200 clients dribbling one byte every 50 ms, never finishing a request.
    let slow: Vec<_> = (0..200)
        .map(|_| {
            let sock = sock.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let Ok(mut s) = UnixStream::connect(&sock) else { return false };
                let req = request(1, false, &nginx_params(b"GET", b"/dl/plain.txt"));
                for b in req.iter().take(req.len() - 1) {
                    if stop.load(Ordering::Relaxed) || s.write_all(std::slice::from_ref(b)).is_err() {
                        return true; // cut off
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                false
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Meanwhile ordinary requests are answered promptly.
    for _ in 0..100 {
        let t = Instant::now();
        let mut s = UnixStream::connect(&sock).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
        assert!(exchange(&mut s, b"/dl/plain.txt", false).is_some_and(|o| o.starts_with(OK)));
        assert!(t.elapsed() < Duration::from_millis(500), "a fast client waited {:?}", t.elapsed());
    }
    let cut: usize = slow.into_iter().map(|h| usize::from(h.join().unwrap_or(false))).sum();
    stop.store(true, Ordering::Relaxed);
    assert!(cut >= 190, "only {cut} of 200 slow clients were cut off by the request timeout");
    let rss_after = status_kib(d.pid(), "VmRSS:");
    assert!(rss_after < rss_before + 16 * 1024, "RSS {rss_before} -> {rss_after} KiB");
}

#[test]
fn a_minute_of_mixed_valid_and_garbage_traffic() {
    let secs: u64 = std::env::var("XSENDFILED_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let (d, sock) = daemon(dir.path(), &tree.root, &[]);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let (valid, wrong, garbage) =
        (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (sock, valid, wrong, garbage) = (sock.clone(), valid.clone(), wrong.clone(), garbage.clone());
            std::thread::spawn(move || {
                let mut n: u64 = w;
                while Instant::now() < deadline {
                    n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let Ok(mut s) = UnixStream::connect(&sock) else { continue };
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    if n % 3 == 0 {
                        // Garbage of a few kinds; the daemon closes that connection.
                        let junk: Vec<u8> = (0..(n % 200)).map(|i| (n >> (i % 56)) as u8).collect();
                        let _ = s.write_all(&junk);
                        let _ = s.write_all(&rec(STDOUT, 1, b"x"));
                        garbage.fetch_add(1, Ordering::Relaxed);
                    } else {
                        let (uri, want): (&[u8], &[u8]) = if n % 2 == 0 {
                            (b"/dl/plain.txt", OK)
                        } else {
                            (b"/dl/../etc/passwd", b"Status: 404 Not Found\r\n")
                        };
                        match exchange(&mut s, uri, false) {
                            Some(o) if o.starts_with(want) => valid.fetch_add(1, Ordering::Relaxed),
                            _ => wrong.fetch_add(1, Ordering::Relaxed),
                        };
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let (v, x, g) = (valid.load(Ordering::Relaxed), wrong.load(Ordering::Relaxed), garbage.load(Ordering::Relaxed));
    eprintln!(
        "{secs} s: {v} valid requests answered correctly, {x} wrong, {g} garbage connections; peak RSS {} KiB",
        status_kib(d.pid(), "VmHWM:")
    );
    assert_eq!(x, 0, "valid requests answered wrongly or not at all");
    assert!(v > 1000 && g > 500);
}

/// Clients hammering for `run`; returns (answered correctly, lost: a request written whose reply
/// never completed, refused: could not connect).
fn hammer(sock: &Path, run: Duration, during: impl FnOnce()) -> (u64, u64, u64) {
    let deadline = Instant::now() + run;
    let (ok, lost, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (sock, ok, lost, refused) = (sock.to_owned(), ok.clone(), lost.clone(), refused.clone());
            std::thread::spawn(move || {
                while Instant::now() < deadline {
                    let Ok(mut s) = UnixStream::connect(&sock) else {
                        refused.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    match exchange(&mut s, b"/dl/plain.txt", false) {
                        Some(o) if o.starts_with(OK) => ok.fetch_add(1, Ordering::Relaxed),
                        _ => lost.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    std::thread::sleep(run / 3);
    during();
    for w in workers {
        w.join().expect("worker");
    }
    (ok.load(Ordering::Relaxed), lost.load(Ordering::Relaxed), refused.load(Ordering::Relaxed))
}

#[test]
fn sighup_under_load_loses_nothing() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "k hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n").expect("keys");
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    let (d, sock) = daemon(dir.path(), &tree.root, &["--keys", keys.to_str().expect("utf8"), "--access-log", "-"]);
    let (ok, lost, refused) = hammer(&sock, Duration::from_secs(3), || {
        for _ in 0..20 {
            d.signal(1);
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    eprintln!("SIGHUP x20 under load: {ok} answered, {lost} lost, {refused} refused");
    assert_eq!((lost, refused), (0, 0));
    assert!(ok > 100);
    assert!(d.log_text().contains("key ring reloaded"));
}

#[test]
fn sigterm_under_load_loses_no_accepted_request() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let (mut d, sock) = daemon(dir.path(), &tree.root, &[]);
    let (ok, lost, refused) = hammer(&sock, Duration::from_secs(2), || d.signal(15));
    eprintln!("SIGTERM under load: {ok} answered, {lost} lost, {refused} refused after the socket closed");
    assert_eq!(lost, 0, "a request that reached the daemon was not answered");
    assert!(ok > 50);
    let st = d.wait_exit(Duration::from_secs(12)).expect("exited");
    assert!(st.success());
}

/// A client that connected before SIGTERM but writes its request only after it is still answered:
/// shutdown closes connections idle after a reply, never one whose first request is on its way.
#[test]
fn sigterm_waits_for_the_first_request_of_an_accepted_connection() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let (mut d, sock) = daemon(dir.path(), &tree.root, &[]);
    let mut s = UnixStream::connect(&sock).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    std::thread::sleep(Duration::from_millis(200)); // accepted, its task waiting for bytes
    d.signal(15);
    std::thread::sleep(Duration::from_millis(300)); // the shutdown has been noticed
    let reply = exchange(&mut s, b"/dl/plain.txt", false);
    assert!(reply.as_deref().is_some_and(|o| o.starts_with(OK)), "{reply:?}");
    let st = d.wait_exit(Duration::from_secs(12)).expect("exited");
    assert!(st.success());
}

/// The configuration file changed and SIGHUP sent, again and again, while four clients hammer:
/// every request is answered, each good file is taken (its Cache-Control is what the next
/// request gets), a broken one keeps the running configuration and says why, and a changed
/// setting that only a start applies (threads) is named as such.
#[test]
fn sighup_rereads_a_changed_configuration_file_under_load_and_loses_nothing() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let sock = dir.path().join("x.sock");
    let file = dir.path().join("xsendfiled.toml");
    let base = format!(
        "root = [{:?}]\ninternal-prefix = \"/_protected\"\nstrip-prefix = \"/dl\"\nlisten = \"unix:{}\"\n",
        tree.root.display(),
        sock.display()
    );
    // Written beside and renamed over, as editors and configuration managers do.
    let write = |extra: &str| {
        let tmp = dir.path().join("xsendfiled.toml.new");
        std::fs::write(&tmp, format!("{base}{extra}")).expect("write");
        std::fs::rename(&tmp, &file).expect("rename");
    };
    write("cache-control = \"max-age=0\"\n");
    let mut cmd = Command::new(support::bin());
    cmd.arg("--config").arg(&file).env_remove("GATEWAY_INTERFACE").env("RUST_LOG", "info");
    let mut d = support::spawn(cmd, "xsendfiled", &dir.path().join("xsendfiled.log"));
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let (ok, lost, refused) = hammer(&sock, Duration::from_secs(3), || {
        for i in 0..15 {
            match i % 3 {
                0 => write(&format!("cache-control = \"max-age={i}\"\n")),
                1 => write("cache-control = 7\nintenal-prefix = \"/x\"\n"),
                _ => write(&format!("cache-control = \"max-age={i}\"\nthreads = 2\n")),
            }
            d.signal(1);
            std::thread::sleep(Duration::from_millis(60));
        }
    });
    eprintln!("SIGHUP x15 with a changing file under load: {ok} answered, {lost} lost, {refused} refused");
    assert_eq!((lost, refused), (0, 0));
    assert!(ok > 100);
    let log = d.log_text();
    assert!(log.contains("configuration reloaded"), "{log}");
    assert!(log.contains("intenal-prefix: unknown key; did you mean internal-prefix?"), "{log}");
    assert!(log.contains("keeping the running configuration"), "{log}");
    assert!(log.contains("threads or log level changed: they apply at the next start"), "{log}");
    // The last file written (i = 14) is a good one: its value is in force.
    let mut s = UnixStream::connect(&sock).expect("connect");
    let out = exchange(&mut s, b"/dl/plain.txt", false).expect("answer");
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("Cache-Control: max-age=14\r\n"), "{text}");
}
