//! A narrowed root (the server's `XSENDFILED_ROOT`, a directory inside the configured root) under
//! attack: a local user who may rename entries under the root swaps the narrowed directory with a
//! symlink to a directory outside it (`renameat2(RENAME_EXCHANGE)`, in a loop) while requests
//! arrive at a `--backend serve` daemon. Not one request may send the outside file's bytes: the
//! narrowed directory is opened beneath the configured root's handle, never by its name.
#![allow(unsafe_code)]

use crate::support;

use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::fcgi_client::*;
use support::wait_until;

/// Bounds of the race: requests, and wall-clock time.
const MAX_REQUESTS: usize = 5000;
const MAX_TIME: Duration = Duration::from_secs(10);

fn c(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("no NUL")
}

/// `renameat2(a, b, RENAME_EXCHANGE)`: the two names trade places atomically.
fn exchange(a: &CString, b: &CString) -> std::io::Result<()> {
    // SAFETY: both paths are NUL-terminated C strings that outlive the call.
    let rc = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// One FastCGI request on a fresh connection; the STDOUT it got (bounded in time).
fn get(sock: &Path, uri: &[u8], narrowed: &[u8]) -> Vec<u8> {
    let mut s = UnixStream::connect(sock).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut pairs = nginx_params(b"GET", uri);
    pairs.push((b"XSENDFILED_ROOT", narrowed));
    s.write_all(&request(1, false, &pairs)).expect("write");
    let raw = support::read_all_timeout(&mut s, Duration::from_secs(5));
    let (recs, _) = parse(&raw);
    assert!(recs.iter().any(|r| r.kind == END), "no END_REQUEST: {:?}", String::from_utf8_lossy(&raw));
    stdout_of(&recs, 1)
}

#[test]
fn swapping_the_narrowed_root_for_a_symlink_never_leaks_outside_files() {
    let dir = support::tempdir();
    let root = dir.path().join("root");
    let outside = dir.path().join("outside");
    let narrow = root.join("narrow");
    let link = root.join("link");
    std::fs::create_dir_all(&narrow).expect("mkdir");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(narrow.join("f.txt"), "inside\n").expect("write");
    std::fs::write(outside.join("f.txt"), "SECRET-OUTSIDE\n").expect("write");
    std::os::unix::fs::symlink(&outside, &link).expect("symlink");
    let sock = dir.path().join("x.sock");
    let root_s = root.display().to_string();
    let listen = format!("unix:{}", sock.display());
    let mut d = support::daemon(
        dir.path(),
        "xsendfiled-race",
        &["--backend", "serve", "--root", &root_s, "--listen", &listen],
        &[("RUST_LOG", "warn")],
    );
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let narrowed = narrow.as_os_str().as_bytes().to_vec();
    // Before the attack: the narrowed root serves its own file.
    let first = get(&sock, b"/f.txt", &narrowed);
    assert!(first.ends_with(b"\r\n\r\ninside\n"), "{}", String::from_utf8_lossy(&first));

    let (a, b) = (c(&narrow), c(&link));
    exchange(&a, &b).expect("this filesystem must support RENAME_EXCHANGE");
    exchange(&a, &b).expect("swap back");
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let attacker = {
        let (stop, swaps) = (stop.clone(), swaps.clone());
        std::thread::spawn(move || {
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) && start.elapsed() < MAX_TIME + Duration::from_secs(5) {
                exchange(&a, &b).expect("exchange");
                swaps.fetch_add(1, Ordering::Relaxed);
            }
            // Leave the tree as it was: an even number of exchanges.
            if swaps.load(Ordering::Relaxed) % 2 == 1 {
                exchange(&a, &b).expect("exchange");
            }
        })
    };
    let start = Instant::now();
    let (mut sent, mut inside, mut leaked) = (0usize, 0usize, 0usize);
    while sent < MAX_REQUESTS && start.elapsed() < MAX_TIME {
        let out = get(&sock, b"/f.txt", &narrowed);
        sent += 1;
        if out.windows(14).any(|w| w == b"SECRET-OUTSIDE") {
            leaked += 1;
            break;
        }
        if out.ends_with(b"\r\n\r\ninside\n") {
            inside += 1;
        } else {
            assert!(out.starts_with(b"Status: 404"), "{}", String::from_utf8_lossy(&out));
        }
    }
    stop.store(true, Ordering::Relaxed);
    attacker.join().expect("attacker thread");
    eprintln!("{sent} requests, {inside} served from inside, {} swaps", swaps.load(Ordering::Relaxed));
    assert_eq!(leaked, 0, "a file outside the root was sent after {sent} requests");
    assert!(swaps.load(Ordering::Relaxed) > 100, "the attacker barely ran");
    // The daemon is still there and serves the narrowed root.
    let last = get(&sock, b"/f.txt", &narrowed);
    assert!(last.ends_with(b"\r\n\r\ninside\n"), "{}", String::from_utf8_lossy(&last));
    assert!(d.wait_exit(Duration::from_millis(1)).is_none(), "the daemon is still running");
}
