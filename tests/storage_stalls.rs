//! Storage that stalls (a hung NFS server, in small): a FUSE mount below a root whose `slow*`
//! lookups wait or hang ([`crate::support::stallfs`]). The requests for other files under the same
//! root and on another root are answered at normal speed (p99 reported), the stalled ones get 504
//! after `--storage-timeout`, the daemon's threads stay under the pool's bound and its memory flat,
//! a root that keeps timing out is refused fast (503), and everything recovers when the mount
//! answers again. Behind nginx, load on the healthy path sees no error while the mount hangs.

use super::status_kib;
use crate::support::{self, fcgi_client::*, stallfs::StallFs, wait_until};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Root A (local, `mnt/` the FUSE mount), root B (local), the daemon on a Unix socket.
struct Stage {
    _dir: tempfile::TempDir,
    root_a: PathBuf,
    root_b: PathBuf,
    fs: StallFs,
    daemon: support::Proc,
    sock: PathBuf,
}

/// The stage; `behind_nginx` serves root A alone for nginx (`X-Accel-Redirect`), else both roots
/// answer with Apache's `X-Sendfile` (absolute paths: no map from roots to URIs needed) unless
/// `extra` names another `--backend`.
fn stage(stalled_files: usize, behind_nginx: bool, extra: &[&str]) -> Option<Stage> {
    if !support::stallfs::require() {
        return None;
    }
    let dir = support::tempdir();
    let (root_a, root_b, backing) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("backing"));
    for d in [root_a.join("sub"), root_b.clone(), backing.clone()] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    std::fs::write(root_a.join("local.txt"), "local\n").expect("write");
    std::fs::write(root_a.join("sub/other.txt"), "other\n").expect("write");
    std::fs::write(root_b.join("b.txt"), "b\n").expect("write");
    std::fs::write(backing.join("fast.txt"), "fast\n").expect("write");
    for i in 0..stalled_files {
        std::fs::write(backing.join(format!("slow-{i}.txt")), "slow\n").expect("write");
    }
    let fs = StallFs::mount(&backing, &root_a.join("mnt"), &dir.path().join("ctl"));
    let sock = dir.path().join("x.sock");
    let listen = format!("unix:{}", sock.display());
    let (a, b) = (root_a.display().to_string(), root_b.display().to_string());
    let mut args = vec!["--root", &a, "--listen", &listen, "--log-level", "warn"];
    if behind_nginx {
        args.extend(["--internal-prefix", "/_protected", "--strip-prefix", "/dl"]);
    } else {
        args.extend(["--root", &b]);
        // Apache's X-Sendfile unless the test chose a backend.
        if !extra.contains(&"--backend") {
            args.extend(["--backend", "apache"]);
        }
    }
    args.extend_from_slice(extra);
    let mut daemon = support::daemon(dir.path(), "xsendfiled", &args, &[("RUST_LOG", "warn")]);
    wait_until("xsendfiled", Some(&mut daemon), || support::unix_up(&sock));
    Some(Stage { _dir: dir, root_a, root_b, fs, daemon, sock })
}

/// What a client thread needs of the stage: the socket and root B.
#[derive(Clone)]
struct Client {
    sock: PathBuf,
    root_b: PathBuf,
}

impl Stage {
    fn client(&self) -> Client {
        Client { sock: self.sock.clone(), root_b: self.root_b.clone() }
    }
}

/// One request for `uri` (under root B when `on_b`): the HTTP status in the reply (200 for an
/// offload), the time it took and the reply; status 0 when the connection ended without one.
fn ask(c: &Client, uri: &str, on_b: bool) -> (u16, Duration, String) {
    let start = Instant::now();
    let mut pairs = nginx_params(b"GET", uri.as_bytes());
    let root_b = c.root_b.display().to_string();
    if on_b {
        pairs.push((b"XSENDFILED_ROOT", root_b.as_bytes()));
    }
    let Ok(mut s) = UnixStream::connect(&c.sock) else { return (0, start.elapsed(), String::new()) };
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    if s.write_all(&request(1, false, &pairs)).is_err() {
        return (0, start.elapsed(), String::new());
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let out = String::from_utf8_lossy(&stdout_of(&parse(&raw).0, 1)).into_owned();
    let status = if out.contains("X-Sendfile: /") {
        200
    } else {
        out.strip_prefix("Status: ").and_then(|r| r.get(..3)).and_then(|c| c.parse().ok()).unwrap_or(0)
    };
    (status, start.elapsed(), out)
}

/// `n` requests spread over the healthy files (root A local and in a subdirectory, root B): every
/// one must be a send; returns the sorted latencies.
fn healthy_round(c: &Client, n: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let (uri, on_b) = [("/local.txt", false), ("/sub/other.txt", false), ("/b.txt", true)][i % 3];
        let (status, took, out) = ask(c, uri, on_b);
        assert_eq!(status, 200, "{uri} (root B: {on_b}) while the mount stalls: {out}");
        times.push(took);
    }
    times.sort();
    times
}

fn pct(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn stalled_lookups(stalled: usize, threads: usize) {
    let threads_arg = threads.to_string();
    let metrics = format!("127.0.0.1:{}", support::free_port());
    let extra = ["--storage-timeout", "1s", "--storage-threads", &threads_arg, "--metrics-listen", &metrics];
    let Some(st) = stage(stalled, false, &extra) else {
        return;
    };
    let scrape = |path: &str| support::curl(&format!("http://{metrics}{path}"), &[]);
    let (pid, c) = (st.daemon.pid(), st.client());
    // Warm: the healthy names are in the dentry cache, as on a server that has been running.
    let before = healthy_round(&c, 30);
    let rss_before = status_kib(pid, "VmRSS:");
    st.fs.hang();
    let stalled_at = Instant::now();
    let waiting: Vec<_> = (0..stalled)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || ask(&c, &format!("/mnt/slow-{i}.txt"), false))
        })
        .collect();
    // Every stalled lookup has reached the mount (a pool thread each) before measuring.
    wait_until("the stalled lookups on the pool", None, || status_kib(pid, "Threads:") as usize > stalled);
    let during = healthy_round(&c, 300);
    let threads_during = status_kib(pid, "Threads:");
    let rss_during = status_kib(pid, "VmRSS:");
    let mut statuses = Vec::new();
    for w in waiting {
        let (status, took, out) = w.join().expect("client thread");
        assert_eq!(status, 504, "a stalled lookup: {out}");
        assert!(out.contains("Cache-Control: no-store"), "{out}");
        assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "504 after {took:?}");
        statuses.push(took);
    }
    assert!(stalled_at.elapsed() < Duration::from_secs(6));
    // Timed out three times in a row: the root's lookups that need the pool are refused at once.
    let (status, took, _) = ask(&c, "/mnt/fast.txt", false);
    assert_eq!((status, took < Duration::from_millis(200)), (503, true), "unhealthy root refused fast ({took:?})");
    assert_eq!(healthy_round(&c, 30).len(), 30, "the cached files of that root still answer inline");
    // The observer sees it: /readyz names the stalled root, the series count what happened.
    support::assert_unready(&metrics, "root 0: its storage keeps timing out");
    support::assert_series(
        &metrics,
        &[
            format!("xsendfiled_storage_timeouts_total {stalled}\n"),
            "xsendfiled_root_healthy{root=\"0\"} 0\n".to_owned(),
            "xsendfiled_root_healthy{root=\"1\"} 1\n".to_owned(),
            format!("xsendfiled_blocking_pool_in_use {stalled}\n"),
        ],
    );
    // The bound: the runtime's thread, the pool's threads, nothing per stalled request beyond.
    let bound = threads as u64 + 4;
    assert!(threads_during <= bound, "{threads_during} threads with {stalled} stalled (bound {bound})");
    st.fs.release();
    // Recovery: a probe (one a second) answers, the root is healthy again, the slow files serve.
    let start = Instant::now();
    wait_until("the root to answer again", None, || ask(&c, "/mnt/fast.txt", false).0 == 200);
    let recovered = start.elapsed();
    wait_until("/readyz 200 again", None, || scrape("/readyz").status == 200);
    for i in 0..stalled.min(8) {
        let (status, _, out) = ask(&c, &format!("/mnt/slow-{i}.txt"), false);
        assert_eq!(status, 200, "after recovery: {out}");
    }
    let after = healthy_round(&c, 30);
    let rss_after = status_kib(pid, "VmRSS:");
    assert!(rss_after < rss_before + 32 * 1024, "VmRSS {rss_before} KiB before, {rss_after} KiB after");
    assert!(st.daemon.log_text().contains("storage did not answer within 1000 ms"));
    let p99 = pct(&during, 99);
    eprintln!(
        "{stalled} stalled lookups (--storage-threads {threads}): healthy path p50 {:?} p99 {p99:?} max {:?} (before: \
         p99 {:?}, after: p99 {:?}); threads {threads_during} (bound {bound}); VmRSS {rss_before} -> {rss_during} -> \
         {rss_after} KiB; 504s after {:?}..{:?}; recovered {recovered:?} after release",
        pct(&during, 50),
        during[during.len() - 1],
        pct(&before, 99),
        pct(&after, 99),
        statuses.iter().min(),
        statuses.iter().max(),
    );
    assert!(p99 < Duration::from_millis(250), "healthy path p99 {p99:?} while {stalled} lookups stall");
}

#[test]
fn four_stalled_lookups_hold_up_nothing_else() {
    stalled_lookups(4, 32);
}

#[test]
fn sixty_four_stalled_lookups_hold_up_nothing_else() {
    stalled_lookups(64, 128);
}

#[test]
fn delayed_lookups_are_answered_after_the_delay() {
    let Some(st) = stage(4, false, &["--storage-timeout", "2s"]) else { return };
    let c = st.client();
    healthy_round(&c, 30);
    st.fs.delay(Duration::from_millis(300));
    let slow: Vec<_> = (0..4)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || ask(&c, &format!("/mnt/slow-{i}.txt"), false))
        })
        .collect();
    let during = healthy_round(&c, 60);
    for s in slow {
        let (status, took, out) = s.join().expect("client");
        assert_eq!(status, 200, "{out}");
        assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(2), "{took:?}");
    }
    eprintln!("4 lookups delayed 300 ms: healthy path p99 {:?}", pct(&during, 99));
}

/// nginx in front, a client load on the healthy path while eight lookups hang on the mount:
/// not one error on the healthy path.
#[test]
fn behind_nginx_the_healthy_path_has_no_errors_while_the_mount_hangs() {
    if !support::require(&["nginx"]) {
        return;
    }
    let Some(st) = stage(8, true, &["--storage-timeout", "1s"]) else { return };
    let run = st.sock.parent().expect("dir").join("nginx");
    let port = support::free_port();
    let upstream = format!("unix:{}", st.sock.display());
    let _n = support::nginx_example("nginx.conf", &run, &st.root_a, &upstream, port);
    st.fs.hang();
    let stalled: Vec<_> =
        (0..8).map(|i| std::thread::spawn(move || http_get(port, &format!("/dl/mnt/slow-{i}.txt")))).collect();
    let run_for = Duration::from_secs(3);
    let clients: Vec<_> = (0..4)
        .map(|c| {
            std::thread::spawn(move || {
                let (mut ok, mut errors, mut times) = (0u32, Vec::new(), Vec::new());
                let start = Instant::now();
                // Bounded in time and count.
                while start.elapsed() < run_for && ok < 20_000 {
                    let uri = if c % 2 == 0 { "/dl/local.txt" } else { "/dl/sub/other.txt" };
                    let t = Instant::now();
                    let (status, body) = http_get(port, uri);
                    times.push(t.elapsed());
                    if status == 200 && (body == "local\n" || body == "other\n") {
                        ok += 1;
                    } else {
                        errors.push(format!("{uri}: {status} {body:?}"));
                    }
                }
                (ok, errors, times)
            })
        })
        .collect();
    let (mut ok, mut errors, mut times) = (0, Vec::new(), Vec::new());
    for c in clients {
        let (o, e, t) = c.join().expect("client");
        ok += o;
        errors.extend(e);
        times.extend(t);
    }
    st.fs.release();
    for s in stalled {
        let (status, _) = s.join().expect("stalled client");
        assert_eq!(status, 504, "a hung lookup through nginx");
    }
    times.sort();
    eprintln!(
        "behind nginx while the mount hangs: {ok} healthy downloads, {} errors, p99 {:?}",
        errors.len(),
        pct(&times, 99)
    );
    assert!(errors.is_empty(), "{} errors on the healthy path, first: {:?}", errors.len(), errors.first());
    assert!(ok > 100, "only {ok} healthy downloads in {run_for:?}");
}

/// `GET uri` over HTTP/1.0 to nginx on `port`: the status and the body.
fn http_get(port: u16, uri: &str) -> (u16, String) {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return (0, String::new()) };
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    if s.write_all(format!("GET {uri} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    if !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        return (0, String::from_utf8_lossy(&raw).into_owned());
    }
    let r = support::parse_http(&raw);
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

#[test]
fn a_serve_download_whose_reads_hang_is_closed_after_the_storage_timeout() {
    // `serve` streams the file itself: a mount that hangs mid-download must not hold the
    // connection (and its --max-connections slot) for ever.
    let Some(st) = stage(1, false, &["--storage-timeout", "1s", "--backend", "serve"]) else { return };
    st.fs.hang_reads();
    let start = Instant::now();
    let mut s = UnixStream::connect(&st.sock).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    s.write_all(&request(1, false, &nginx_params(b"GET", b"/mnt/slow-0.txt"))).expect("write");
    let mut raw = Vec::new();
    let ended = s.read_to_end(&mut raw);
    let took = start.elapsed();
    assert!(ended.is_ok(), "the connection was not closed: {ended:?} after {took:?}");
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "closed after {took:?}");
    let (records, _) = parse(&raw);
    assert!(
        !records.iter().any(|r| r.kind == 3), // FCGI_END_REQUEST
        "a download cut short never ends like a whole one"
    );
    // Meanwhile and after, everything else answers.
    assert_eq!(ask(&st.client(), "/local.txt", false).0, 200);
    st.fs.release_reads();
}
