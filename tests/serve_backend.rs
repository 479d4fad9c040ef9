//! The `serve` backend: xsendfiled sends the bytes itself. Through a real nginx with the shared
//! table (Range, If-None-Match, HEAD answered by xsendfiled this time), a 1 GiB file with bounded
//! memory, a client that goes away mid-file, and CGI mode.

use crate::support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::fcgi_client::*;
use support::{matrix, wait_until, Tree};

fn serve_daemon(dir: &Path, root: &Path, sock: &Path) -> support::Proc {
    let args = [
        "--backend".to_string(),
        "serve".into(),
        "--root".into(),
        root.display().to_string(),
        "--strip-prefix".into(),
        "/dl".into(),
        "--listen".into(),
        format!("unix:{}", sock.display()),
        "--socket-mode".into(),
        "0666".into(),
    ];
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(dir, "xsendfiled-serve", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(sock));
    d
}

#[test]
fn serve_backend_through_nginx() {
    if !support::require(&["nginx", "curl"]) {
        return;
    }
    let ws = support::Workspace::new();
    let (tree, run) = (&ws.tree, &ws.run);
    let sock = run.join("x.sock");
    let _d = serve_daemon(run, &tree.root, &sock);
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", run, &tree.root, &format!("unix:{}", sock.display()), port);
    matrix::check(port, "/dl", None, matrix::STRICT);
    let base = format!("http://127.0.0.1:{port}/dl");
    // Our own validators and range answers (nginx passes them through).
    let r = support::curl(&format!("{base}/plain.txt"), &["-H", "Range: bytes=-2"]);
    assert_eq!((r.status, r.body.as_slice(), r.header("Content-Range")), (206, &b"n\n"[..], Some("bytes 4-5/6")));
    let r = support::curl(&format!("{base}/plain.txt"), &["-H", "Range: bytes=6-"]);
    assert_eq!((r.status, r.header("Content-Range")), (416, Some("bytes */6")));
    let full = support::curl(&format!("{base}/plain.txt"), &[]);
    assert_eq!(full.header("Accept-Ranges"), Some("bytes"));
    let lm = full.header("Last-Modified").expect("Last-Modified").to_owned();
    let r = support::curl(&format!("{base}/plain.txt"), &["-H", &format!("If-Modified-Since: {lm}")]);
    assert_eq!(r.status, 304);
    let r = support::curl(&format!("{base}/plain.txt"), &["-H", "If-Match: \"nope\""]);
    assert_eq!(r.status, 412);
    let r = support::curl(&format!("{base}/plain.txt"), &["-H", "Range: bytes=0-1", "-H", "If-Range: \"stale\""]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"plain\n"[..]));
}

fn vm_hwm_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[test]
fn a_gibibyte_streams_in_bounded_memory_and_an_abort_stops_it() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let big = tree.root.join("big.bin");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len(1 << 30).expect("sparse 1 GiB");
    drop(f);
    let sock = dir.path().join("x.sock");
    let d = serve_daemon(dir.path(), &tree.root, &sock);
    let before = vm_hwm_kib(d.pid());

    let mut s = UnixStream::connect(&sock).expect("connect");
    s.write_all(&request(1, false, &nginx_params(b"GET", b"/dl/big.bin"))).expect("write");
    let mut header = [0u8; 8];
    let mut stdout_bytes: u64 = 0;
    let mut saw_end = false;
    let mut scratch = vec![0u8; 65535 + 255];
    let start = Instant::now();
    // Read record by record: every record within the FastCGI limit, the whole file delivered.
    while start.elapsed() < Duration::from_secs(60) {
        s.read_exact(&mut header).expect("header");
        let len = usize::from(u16::from_be_bytes([header[4], header[5]]));
        let pad = usize::from(header[6]);
        s.read_exact(&mut scratch[..len + pad]).expect("content");
        match header[1] {
            STDOUT => stdout_bytes += len as u64,
            END => {
                saw_end = true;
                break;
            }
            other => panic!("unexpected record type {other}"),
        }
    }
    assert!(saw_end, "END_REQUEST within 60 s");
    assert!(stdout_bytes > 1 << 30, "headers + 1 GiB: {stdout_bytes}");
    let after = vm_hwm_kib(d.pid());
    eprintln!("xsendfiled peak RSS: {before} KiB before, {after} KiB after sending 1 GiB");
    assert!(after < before + 16 * 1024, "peak RSS grew from {before} KiB to {after} KiB for a 1 GiB file");

    // A client that reads 1 MiB and leaves: the daemon stops reading the file and says why.
    let mut s = UnixStream::connect(&sock).expect("connect");
    s.write_all(&request(1, false, &nginx_params(b"GET", b"/dl/big.bin"))).expect("write");
    let mut got = 0;
    while got < 1 << 20 {
        got += s.read(&mut scratch).expect("read");
    }
    drop(s);
    wait_until("the daemon to notice the abort", None, || d.log_text().contains("while sending the file"));
    assert!(d.log_text().contains("closing connection: while sending the file"));
}

#[test]
fn serve_backend_in_cgi_mode() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let run = |range: Option<&str>, method: &str| {
        let mut cmd = Command::new(support::bin());
        cmd.env_clear().envs([
            ("GATEWAY_INTERFACE", "CGI/1.1"),
            ("REQUEST_METHOD", method),
            ("PATH_INFO", "/sub/in.txt"),
            ("XSENDFILED_BACKEND", "serve"),
            ("XSENDFILED_ROOT", tree.root.to_str().expect("utf8")),
        ]);
        if let Some(r) = range {
            cmd.env("HTTP_RANGE", r);
        }
        let out = cmd.stdin(Stdio::null()).output().expect("run");
        String::from_utf8(out.stdout).expect("utf8")
    };
    let full = run(None, "GET");
    assert!(full.starts_with("Status: 200 OK\r\nContent-Length: 7\r\nContent-Type: text/plain\r\n"), "{full}");
    assert!(full.ends_with("\r\n\r\nin sub\n"), "{full}");
    let part = run(Some("bytes=3-"), "GET");
    assert!(part.starts_with("Status: 206 Partial Content\r\nContent-Range: bytes 3-6/7\r\n"), "{part}");
    assert!(part.ends_with("\r\n\r\nsub\n"), "{part}");
    let head = run(None, "HEAD");
    assert!(head.ends_with("\r\n\r\n") && head.contains("Content-Length: 7\r\n"), "{head}");
}

#[test]
fn a_file_replaced_during_the_transfer_is_sent_as_it_was_checked() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let path = tree.root.join("swap.bin");
    std::fs::write(&path, vec![b'a'; 8 << 20]).expect("write");
    let sock = dir.path().join("x.sock");
    let _d = serve_daemon(dir.path(), &tree.root, &sock);
    let mut s = UnixStream::connect(&sock).expect("connect");
    s.write_all(&request(1, false, &nginx_params(b"GET", b"/dl/swap.bin"))).expect("write");
    let mut stdout = Vec::new();
    let mut header = [0u8; 8];
    let mut scratch = vec![0u8; 65535 + 255];
    let mut swapped = false;
    loop {
        s.read_exact(&mut header).expect("header");
        let len = usize::from(u16::from_be_bytes([header[4], header[5]]));
        let pad = usize::from(header[6]);
        s.read_exact(&mut scratch[..len + pad]).expect("content");
        match header[1] {
            STDOUT => stdout.extend_from_slice(&scratch[..len]),
            END => break,
            other => panic!("record type {other}"),
        }
        if !swapped && stdout.len() > 256 * 1024 {
            // Replace the file under the same name, and then turn the name into a symlink out.
            let new = tree.root.join("swap.new");
            std::fs::write(&new, vec![b'b'; 8 << 20]).expect("write");
            std::fs::rename(&new, &path).expect("rename");
            std::fs::remove_file(&path).expect("remove");
            std::os::unix::fs::symlink("../outside/secret.txt", &path).expect("symlink");
            swapped = true;
        }
    }
    let split = stdout.windows(4).position(|w| w == b"\r\n\r\n").expect("headers") + 4;
    let body = &stdout[split..];
    assert_eq!(body.len(), 8 << 20);
    assert!(body.iter().all(|&b| b == b'a'), "every byte comes from the handle that was checked");
}
