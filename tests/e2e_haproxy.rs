//! HAProxy's `fcgi-app` in front of xsendfiled with `--backend serve`, from the Debian package,
//! running `conf-examples/haproxy.cfg` in each combination of `option keep-conn` and
//! `option mpxs-conns`: the shared table (tricky names byte-exact, hostile paths 404, HEAD, Range
//! 206, If-None-Match 304, other methods 405), then concurrent downloads of a larger file, which
//! HAProxy would multiplex onto one connection if xsendfiled had not answered
//! `FCGI_MPXS_CONNS=0` to its FCGI_GET_VALUES.

use crate::support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{conf_example, curl, fill_template, matrix, wait_until, Proc};

pub(crate) const HAPROXY: &str = "/usr/sbin/haproxy";

/// HAProxy from `conf-examples/haproxy.cfg` on `port` in front of xsendfiled at `sock`.
pub(crate) fn haproxy(run: &Path, sock: &Path, port: u16, keep_conn: bool, mpxs_conns: bool) -> Proc {
    let option = |on: bool, name: &str| format!("{}option {name}", if on { "" } else { "no " });
    let conf = fill_template(
        &conf_example("haproxy.cfg"),
        &[
            ("PORT", port.to_string()),
            ("SOCKET", sock.display().to_string()),
            ("KEEP_CONN", option(keep_conn, "keep-conn")),
            ("MPXS_CONNS", option(mpxs_conns, "mpxs-conns")),
        ],
    );
    let path = run.join(format!("haproxy-{port}.cfg"));
    std::fs::write(&path, conf).expect("write haproxy.cfg");
    let check = Command::new(HAPROXY).arg("-c").arg("-f").arg(&path).output().expect("haproxy -c");
    assert!(check.status.success(), "haproxy -c: {}", String::from_utf8_lossy(&check.stderr));
    let mut cmd = Command::new(HAPROXY);
    // -db: stay in the foreground, so the PID we hold is HAProxy's own.
    cmd.arg("-db").arg("-f").arg(&path);
    let mut p = support::spawn(cmd, "haproxy", &run.join(format!("haproxy-{port}.log")));
    wait_until("haproxy", Some(&mut p), || support::tcp_up(port));
    p
}

/// Sockets xsendfiled holds open (listener and runtime included), from /proc.
fn open_sockets(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy().starts_with("socket:")))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn haproxy_fcgi_app_with_backend_serve_in_every_connection_mode() {
    if !support::require(&[HAPROXY, "curl"]) {
        return;
    }
    let ws = support::Workspace::new();
    let (tree, run) = (&ws.tree, &ws.run);
    // A file large enough that concurrent downloads overlap on the wire.
    let big: Vec<u8> = (0..(3u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(tree.root.join("big.bin"), &big).expect("write big.bin");
    let sock = run.join("x.sock");
    let args = [
        "--backend",
        "serve",
        "--root",
        tree.root.to_str().expect("utf8"),
        "--listen",
        &format!("unix:{}", sock.display()),
    ]
    .map(str::to_owned);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    // The sockets xsendfiled holds with no connection open (its listener, the runtime's own), once
    // the probe connection above is gone.
    let mut idle = usize::MAX;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(300) {
        idle = idle.min(open_sockets(d.pid()));
        std::thread::sleep(Duration::from_millis(20));
    }

    for keep_conn in [true, false] {
        for mpxs_conns in [true, false] {
            let mode = format!("keep-conn {keep_conn}, mpxs-conns {mpxs_conns}");
            let port = support::free_port();
            let h = haproxy(run, &sock, port, keep_conn, mpxs_conns);
            matrix::check(port, "/dl", None, matrix::STRICT);
            let base = format!("http://127.0.0.1:{port}/dl");
            let r = curl(&format!("{base}/big.bin"), &["-H", "Range: bytes=1048570-1048580"]);
            assert_eq!((r.status, r.body.as_slice()), (206, &big[1_048_570..=1_048_580]), "{mode}");
            assert_eq!(r.header("Content-Range"), Some("bytes 1048570-1048580/3145728"), "{mode}");
            for missing in ["/.hidden", "/missing.txt", "/big.bin/x"] {
                assert_eq!(curl(&format!("{base}{missing}"), &[]).status, 404, "{mode}: {missing}");
            }
            // Eight downloads at once, each byte-exact.
            let url = format!("{base}/big.bin");
            let downloads: Vec<_> = (0..8)
                .map(|_| {
                    let url = url.clone();
                    std::thread::spawn(move || curl(&url, &[]))
                })
                .collect();
            for t in downloads {
                let r = t.join().expect("download thread");
                assert_eq!(r.status, 200, "{mode}: {:?}", r.headers);
                assert!(r.body == big, "{mode}: {} bytes, not the file's {}", r.body.len(), big.len());
            }
            // With keep-conn HAProxy keeps idle connections to xsendfiled for the next requests;
            // without it xsendfiled closes each one after its reply.
            let connections = || open_sockets(d.pid()).saturating_sub(idle);
            if keep_conn {
                assert!(connections() > 0, "{mode}: no kept connection");
            } else {
                let start = Instant::now();
                while connections() > 0 && start.elapsed() < Duration::from_secs(5) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                assert_eq!(connections(), 0, "{mode}: connections left open");
            }
            drop(h);
            // HAProxy gone: its kept connections close too.
            let start = Instant::now();
            while connections() > 0 && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(!d.log_text().contains("protocol error"), "{mode}:\n{}", d.log_text());
        }
    }
}
