//! `--backend serve` over an object root: xsendfiled GETs the object from a real S3 server
//! (s3s-fs) and streams it itself, behind HAProxy's `fcgi-app` (`conf-examples/haproxy.cfg`, as
//! the local `serve` tests run it): tricky names byte-exact with xsendfiled's headers and none of
//! the store's, HEAD, Range, conditionals, a 64 MiB object with the daemon's memory bounded, and
//! a store that stops mid-stream (a short body, never a complete-looking one).

use crate::e2e_haproxy::{haproxy, HAPROXY};
use crate::support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::s3::{self, Store};
use support::{curl, url_path, wait_until, Proc, SERVABLE};

const BUCKET: &str = "files";

/// s3s-fs, xsendfiled `--backend serve` on a Unix socket, and HAProxy.
struct Stack {
    store: Store,
    guard: Proc,
    _haproxy: Proc,
    base: String,
    _dir: tempfile::TempDir,
}

fn stack() -> Option<Stack> {
    if !support::require(&[HAPROXY, "curl"]) {
        return None;
    }
    let dir = support::tempdir();
    let store = s3::start(&dir.path().join("store"), &[BUCKET])?;
    for (name, body) in SERVABLE {
        store.put(BUCKET, name, body.as_bytes());
    }
    let run = dir.path().join("run");
    std::fs::create_dir_all(&run).expect("run dir");
    let sock = run.join("x.sock");
    let endpoint = format!("http://{}", store.endpoint());
    let listen = format!("unix:{}", sock.display());
    let args = ["--backend", "serve", "--root", "s3://files", "--s3-endpoint", &endpoint, "--s3-path-style"];
    let args: Vec<&str> = args.into_iter().chain(["--s3-timeout", "2s", "--listen", &listen]).collect();
    let mut guard = support::daemon(&run, "xsendfiled", &args, &s3::credentials());
    wait_until("xsendfiled", Some(&mut guard), || support::unix_up(&sock));
    let port = support::free_port();
    let h = haproxy(&run, &sock, port, true, false);
    Some(Stack { store, guard, _haproxy: h, base: format!("http://127.0.0.1:{port}/dl"), _dir: dir })
}

fn assert_nothing_of_the_store(r: &support::Reply, what: &str) {
    for (name, _) in &r.headers {
        let n = name.to_ascii_lowercase();
        assert!(!n.starts_with("x-amz-") && n != "x-xsendfiled-url" && n != "server", "{what}: {name}");
    }
}

#[test]
fn serve_streams_objects_byte_exact_with_ranges_and_conditionals() {
    let Some(s) = stack() else { return };
    for (name, body) in SERVABLE {
        let r = curl(&format!("{}/{}", s.base, url_path(name.as_bytes())), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, body.as_bytes()), "{name:?}: {r:?}");
        let want = support::matrix::expected_type(name).unwrap_or("application/octet-stream");
        assert_eq!(r.header("Content-Type"), Some(want), "{name:?}");
        assert_eq!(r.header("Content-Length"), Some(body.len().to_string().as_str()), "{name:?}");
        assert_eq!(r.header_count("Content-Disposition"), 1, "{name:?}: {r:?}");
        assert_nothing_of_the_store(&r, name);
    }
    let url = format!("{}/semi%3Bcolon%3D1%26x%2By.txt", s.base);
    let whole = curl(&url, &[]);
    let etag = whole.header("ETag").expect("an ETag").to_owned();
    let date = whole.header("Last-Modified").expect("a Last-Modified").to_owned();
    // HEAD: the headers of GET, no body (and no GET to the store).
    let r = curl(&url, &["--head"]);
    assert_eq!((r.status, r.header("Content-Length"), r.body.len()), (200, Some("11"), 0), "{r:?}");
    assert_eq!(r.header("ETag"), Some(etag.as_str()));
    // One range: 206 with exactly those bytes; a range past the end: 416.
    let r = curl(&url, &["-H", "Range: bytes=4-7"]);
    assert_eq!((r.status, r.body.as_slice(), r.header("Content-Range")), (206, &b"deli"[..], Some("bytes 4-7/11")));
    assert_nothing_of_the_store(&r, "Range");
    let r = curl(&url, &["-H", "Range: bytes=-3"]);
    assert_eq!((r.status, r.body.as_slice()), (206, &whole.body[8..]), "{r:?}");
    let r = curl(&url, &["-H", "Range: bytes=11-"]);
    assert_eq!((r.status, r.header("Content-Range"), r.body.len()), (416, Some("bytes */11"), 0), "{r:?}");
    // Conditionals, answered by xsendfiled from the HEAD's validators.
    let r = curl(&url, &["-H", &format!("If-None-Match: {etag}")]);
    assert_eq!((r.status, r.body.len(), r.header("ETag")), (304, 0, Some(etag.as_str())), "{r:?}");
    let r = curl(&url, &["-H", &format!("If-Modified-Since: {date}")]);
    assert_eq!(r.status, 304, "{r:?}");
    let r = curl(&url, &["-H", "If-Match: \"other\""]);
    assert_eq!(r.status, 412, "{r:?}");
    let r = curl(&url, &["-H", "If-Range: \"other\"", "-H", "Range: bytes=0-0"]);
    assert_eq!((r.status, r.body.len()), (200, 11), "If-Range that does not match: the whole object");
    let r = curl(&format!("{}/missing.txt", s.base), &[]);
    assert_eq!((r.status, r.header("Cache-Control")), (404, Some("no-store")), "{r:?}");
    // Deleted after its HEAD was cached: the GET fails before a byte is sent, the connection
    // closes without a reply, and HAProxy answers its own 502 (never a 200).
    assert_eq!(curl(&format!("{}/data.json", s.base), &[]).status, 200);
    std::fs::remove_file(s.store.dir.join(BUCKET).join("data.json")).expect("delete");
    let r = curl(&format!("{}/data.json", s.base), &[]);
    assert_eq!(r.status, 502, "{r:?}");
    assert!(!String::from_utf8_lossy(&r.body).contains("<Error>"), "no S3 XML: {r:?}");
    assert!(s.guard.log_text().contains("serve: object store: GET: status 404"), "{}", s.guard.log_text());
    assert!(!s.guard.log_text().contains("X-Amz-Signature"), "no presigned URL in the log");
}

/// The daemon's resident memory in KiB (`VmRSS` of /proc/PID/status).
fn vm_rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// A rate-limited curl of `url` to /dev/null: `http_code size_download`, and its exit status.
fn slow_download(url: &str, rate: &str) -> std::process::Child {
    Command::new("curl")
        .args(["-sS", "--max-time", "60", "--limit-rate", rate, "-o", "/dev/null"])
        .args(["-w", "%{http_code} %{size_download}"])
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl")
}

const BIG: u64 = 64 << 20;

fn put_sparse(store: &Store, key: &str) {
    let p = store.dir.join(BUCKET).join(key);
    std::fs::File::create(&p).expect("create").set_len(BIG).expect("sparse");
}

#[test]
fn a_64_mib_object_streams_to_a_slow_client_with_the_daemon_s_memory_bounded() {
    let Some(s) = stack() else { return };
    put_sparse(&s.store, "big.bin");
    let before = vm_rss_kib(s.guard.pid());
    // 32 MiB/s: two seconds of streaming, the store far faster than the client.
    let mut child = slow_download(&format!("{}/big.bin", s.base), "32M");
    let mut most = 0;
    let started = Instant::now();
    while child.try_wait().expect("curl").is_none() && started.elapsed() < Duration::from_secs(70) {
        most = most.max(vm_rss_kib(s.guard.pid()));
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("curl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, format!("200 {BIG}"), "{}", String::from_utf8_lossy(&out.stderr));
    eprintln!("VmRSS of xsendfiled: {before} KiB before, at most {most} KiB while streaming 64 MiB");
    assert!(most < before + 16 * 1024, "VmRSS grew from {before} to {most} KiB: the object was buffered");
    // The tail, by Range.
    let r = curl(&format!("{}/big.bin", s.base), &["-H", "Range: bytes=-4"]);
    assert_eq!(
        (r.status, r.body.as_slice(), r.header("Content-Range")),
        (206, &[0u8; 4][..], Some("bytes 67108860-67108863/67108864"))
    );
}

#[test]
fn a_store_stopped_mid_stream_leaves_the_client_a_short_body_not_a_complete_one() {
    let Some(mut s) = stack() else { return };
    put_sparse(&s.store, "big.bin");
    let mut child = slow_download(&format!("{}/big.bin", s.base), "8M");
    std::thread::sleep(Duration::from_millis(800));
    assert!(child.try_wait().expect("curl").is_none(), "still downloading");
    s.store.proc.signal(9);
    assert!(s.store.proc.wait_exit(Duration::from_secs(5)).is_some(), "s3s-fs stopped");
    let out = child.wait_with_output().expect("curl");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (status, size) = stdout.split_once(' ').expect("curl -w");
    let size: u64 = size.parse().expect("size");
    assert_eq!(status, "200", "the reply had begun: {stdout}");
    assert!(size < BIG, "{size} bytes: the whole object, though the store stopped");
    assert!(!out.status.success(), "curl saw the truncation: {stdout} {:?}", out.status);
    let log = s.guard.log_text();
    assert!(log.contains("closing the connection"), "{log}");
    // The daemon goes on: a key it has not seen is a 502 while the store is down.
    let r = curl(&format!("{}/plain.txt", s.base), &[]);
    assert_eq!((r.status, r.header("Cache-Control")), (502, Some("no-store")), "{r:?}");
    s.store.restart();
    let r = curl(&format!("{}/plain.txt", s.base), &[]);
    assert_eq!(r.status, 200, "back once the store is: {r:?}");
}

#[test]
fn the_cgi_program_streams_an_object_range_too() {
    let dir = support::tempdir();
    let Some(store) = s3::start(&dir.path().join("store"), &[BUCKET]) else { return };
    store.put(BUCKET, "a b+(1).txt", b"0123456789");
    let endpoint = format!("http://{}", store.endpoint());
    let cgi = |range: Option<&str>| {
        let mut cmd = Command::new(support::bin());
        cmd.env_clear()
            .envs(s3::credentials())
            .envs([("GATEWAY_INTERFACE", "CGI/1.1"), ("REQUEST_METHOD", "GET"), ("PATH_INFO", "/a b+(1).txt")])
            .envs([("SCRIPT_NAME", "/cgi-bin/xsendfiled"), ("XSENDFILED_BACKEND", "serve")])
            .envs([("XSENDFILED_ROOT", "s3://files"), ("XSENDFILED_S3_ENDPOINT", endpoint.as_str())])
            .env("XSENDFILED_S3_PATH_STYLE", "1");
        if let Some(r) = range {
            cmd.env("HTTP_RANGE", r);
        }
        let out = cmd.output().expect("xsendfiled as CGI");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("text")
    };
    let whole = cgi(None);
    assert!(whole.starts_with("Status: 200") && whole.ends_with("\r\n\r\n0123456789"), "{whole:?}");
    assert!(whole.contains("Content-Length: 10\r\n") && !whole.to_ascii_lowercase().contains("x-amz"), "{whole:?}");
    let part = cgi(Some("bytes=3-5"));
    assert!(part.starts_with("Status: 206") && part.ends_with("\r\n\r\n345"), "{part:?}");
    assert!(part.contains("Content-Range: bytes 3-5/10\r\n"), "{part:?}");
}
