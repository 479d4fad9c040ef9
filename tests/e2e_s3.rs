//! Object-store roots end to end: a real S3 server that verifies signatures (s3s-fs), xsendfiled
//! with `--root s3://BUCKET`, and nginx from `conf-examples/nginx-s3.conf`, driven by curl.

use crate::support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::s3::{self, Store};
use support::{curl, sign_cli as sign, url_path, wait_until, write_keys, Proc, SERVABLE};

const BUCKET: &str = "files";

/// s3s-fs, xsendfiled (FastCGI on TCP) and nginx, over one bucket.
struct Stack {
    store: Store,
    guard: Proc,
    _nginx: Proc,
    base: String,
    run: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// A node: xsendfiled with `extra` options and nginx in front of it, in `run` (created).
fn node(store: &Store, run: &Path, extra: &[&str]) -> (Proc, Proc, String) {
    node_with_app(store, run, extra, "")
}

/// [`node`], with the locations `app` of an application in nginx's server block.
fn node_with_app(store: &Store, run: &Path, extra: &[&str], app: &str) -> (Proc, Proc, String) {
    std::fs::create_dir_all(run).expect("run dir");
    let xport = support::free_port();
    let mut args = s3::guard_args(&store.endpoint(), BUCKET, &format!("127.0.0.1:{xport}"));
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut env = s3::credentials();
    env.push(("FCGI_WEB_SERVER_ADDRS", "127.0.0.1"));
    let mut guard = support::daemon(run, "xsendfiled", &argv, &env);
    wait_until("xsendfiled", Some(&mut guard), || support::tcp_up(xport));
    let port = support::free_port();
    let nginx = s3::nginx_s3(run, &format!("127.0.0.1:{xport}"), port, store, BUCKET, app);
    (guard, nginx, format!("http://127.0.0.1:{port}"))
}

/// The stack with the shared table of tricky names in the bucket, or `None` when a developer run
/// may skip.
fn stack(extra: &[&str]) -> Option<Stack> {
    if !support::require(&["nginx", "curl"]) {
        return None;
    }
    let dir = support::tempdir();
    let store = s3::start(&dir.path().join("store"), &[BUCKET])?;
    for (name, body) in SERVABLE {
        store.put(BUCKET, name, body.as_bytes());
    }
    store.put(BUCKET, &"L".repeat(255), b"long name\n");
    store.put(BUCKET, ".hidden", b"hidden\n");
    store.put(BUCKET, "sub/.git/config", b"git\n");
    let run = dir.path().join("run");
    let (guard, nginx, base) = node(&store, &run, extra);
    Some(Stack { store, guard, _nginx: nginx, base, run, _dir: dir })
}

fn assert_nothing_of_the_store(r: &support::Reply, what: &str) {
    for (name, _) in &r.headers {
        let n = name.to_ascii_lowercase();
        assert!(!n.starts_with("x-amz-") && n != "x-xsendfiled-url" && n != "x-accel-redirect", "{what}: {name}");
    }
    let body = String::from_utf8_lossy(&r.body);
    assert!(!body.contains("<?xml") && !body.contains("<Error>") && !body.contains("X-Amz-"), "{what}: {body}");
}

#[test]
fn tricky_names_byte_exact_through_nginx_and_a_real_store() {
    let Some(s) = stack(&[]) else { return };
    let long = "L".repeat(255);
    let mut table: Vec<(&str, &[u8])> = SERVABLE.iter().map(|(n, b)| (*n, b.as_bytes())).collect();
    table.push((&long, b"long name\n"));
    for (name, body) in &table {
        let r = curl(&format!("{}/dl/{}", s.base, url_path(name.as_bytes())), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, *body), "{name:?}: {r:?}");
        let want = support::matrix::expected_type(name).unwrap_or("application/octet-stream");
        assert_eq!(r.header("Content-Type"), Some(want), "{name:?}: xsendfiled's type, through the signature");
        assert_eq!((r.header_count("Content-Type"), r.header_count("Content-Disposition")), (1, 1), "{name:?}: {r:?}");
        let disposition = r.header("Content-Disposition").expect("disposition");
        assert!(disposition.starts_with("inline") || disposition.starts_with("attachment"), "{name:?}: {disposition}");
        assert_nothing_of_the_store(&r, name);
    }
    // HEAD: GET's headers, no body.
    let r = curl(&format!("{}/dl/a%20b.txt", s.base), &["--head"]);
    assert_eq!((r.status, r.header("Content-Length"), r.body.len()), (200, Some("6"), 0), "{r:?}");
    assert_nothing_of_the_store(&r, "HEAD");
    // Range goes to the store (s3s-fs 0.14 answers no conditional request, so 304 is not checked).
    let r = curl(&format!("{}/dl/semi%3Bcolon%3D1%26x%2By.txt", s.base), &["-H", "Range: bytes=4-7"]);
    assert_eq!((r.status, r.body.as_slice(), r.header("Content-Range")), (206, &b"deli"[..], Some("bytes 4-7/11")));
    assert_nothing_of_the_store(&r, "Range");
    // Missing, hidden, dot segments, control bytes: xsendfiled's 404, no XML.
    for path in
        ["/missing.txt", "/.hidden", "/sub/.git/config", "/%2e%2e/store/files/plain.txt", "/lf%0Ax.txt", "/sub/"]
    {
        let r = curl(&format!("{}/dl{path}", s.base), &[]);
        assert_eq!(r.status, 404, "{path}: {r:?}");
        // (nginx resolves a dot segment itself and answers its own 404.)
        if !path.contains("%2e") {
            assert_eq!(r.header("Cache-Control"), Some("no-store"), "{path}: xsendfiled's 404");
        }
        assert_nothing_of_the_store(&r, path);
    }
    // The internal location is not reachable from outside.
    let r = curl(&format!("{}/_s3/plain.txt", s.base), &[]);
    assert_eq!(r.status, 404, "{r:?}");
    assert!(!r.body.starts_with(b"plain"));
    // An object deleted after its HEAD was cached: the store's 404 is nginx's, without XML.
    assert_eq!(curl(&format!("{}/dl/data.json", s.base), &[]).status, 200);
    std::fs::remove_file(s.store.dir.join(BUCKET).join("data.json")).expect("delete");
    let r = curl(&format!("{}/dl/data.json", s.base), &[]);
    assert_eq!((r.status, r.header("Cache-Control")), (404, Some("no-store")), "{r:?}");
    assert_nothing_of_the_store(&r, "deleted");
    // No credential and no signature in the log.
    let log = s.guard.log_text();
    assert!(log.contains("send a b.txt"), "{log}");
    assert!(!log.contains(s3::SECRET_KEY) && !log.contains("X-Amz-Signature"), "{log}");
}

/// xsendfiled's own HTTP listener over `store`: the reply headers as nginx would get them.
fn http_guard(endpoint: &str, run: &Path, extra: &[&str]) -> (Proc, String) {
    std::fs::create_dir_all(run).expect("run dir");
    let port = support::free_port();
    let mut args = s3::guard_args(endpoint, BUCKET, &format!("http://127.0.0.1:{port}"));
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut guard = support::daemon(run, &format!("xsendfiled-http-{port}"), &argv, &s3::credentials());
    wait_until("xsendfiled http", Some(&mut guard), || support::tcp_up(port));
    (guard, format!("http://127.0.0.1:{port}"))
}

#[test]
fn the_store_checks_signatures_a_tampered_presigned_url_is_refused() {
    if !support::require(&["curl"]) {
        return;
    }
    let dir = support::tempdir();
    let Some(store) = s3::start(&dir.path().join("store"), &[BUCKET]) else { return };
    store.put(BUCKET, "a b+(1).txt", b"first\n");
    store.put(BUCKET, "other.txt", b"other\n");
    let (_g, base) = http_guard(&store.endpoint(), &dir.path().join("run"), &["--s3-presign-lifetime", "1m"]);
    let r = curl(&format!("{base}/dl/a%20b%2B%281%29.txt"), &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("X-Accel-Redirect"), Some("/_s3/a%20b%2B%281%29.txt"));
    let url = r.header("X-Xsendfiled-Url").expect("a presigned URL").to_owned();
    assert!(url.starts_with(&format!("http://{}/{BUCKET}/", store.endpoint())), "{url}");
    assert!(url.contains("X-Amz-Expires=60&") && url.contains("response-content-type=text%2Fplain"), "{url}");
    // As signed: the store serves it, with xsendfiled's headers.
    let ok = curl(&url, &[]);
    assert_eq!((ok.status, ok.body.as_slice(), ok.header("Content-Type")), (200, &b"first\n"[..], Some("text/plain")));
    // Another key, a longer lifetime, another type, another signature: each is refused.
    let (path, query) = url.split_once('?').expect("query");
    let sig_at = query.find("X-Amz-Signature=").expect("signature") + "X-Amz-Signature=".len();
    let flipped = if query.as_bytes()[sig_at] == b'0' { "1" } else { "0" };
    let forged_sig = format!("{path}?{}{flipped}{}", &query[..sig_at], &query[sig_at + 1..]);
    for tampered in [
        url.replace("a%20b%2B%281%29.txt", "other.txt"),
        url.replace("X-Amz-Expires=60&", "X-Amz-Expires=6000&"),
        url.replace("response-content-type=text%2Fplain", "response-content-type=text%2Fhtml"),
        forged_sig,
    ] {
        assert_ne!(tampered, url);
        let r = curl(&tampered, &[]);
        assert_eq!(r.status, 403, "{tampered}: {r:?}");
        assert!(!r.body.starts_with(b"first") && !r.body.starts_with(b"other"));
    }
}

#[test]
fn a_store_that_is_down_is_502_and_a_silent_one_504_within_the_timeout() {
    let metrics = format!("127.0.0.1:{}", support::free_port());
    let Some(mut s) = stack(&["--s3-timeout", "1s", "--metrics-listen", &metrics]) else { return };
    let scrape = |path: &str| curl(&format!("http://{metrics}{path}"), &[]);
    let warm = curl(&format!("{}/dl/plain.txt", s.base), &[]);
    assert_eq!(warm.status, 200);
    assert_eq!(curl(&format!("{}/dl/plain.txt", s.base), &[]).status, 200);
    assert_eq!(scrape("/readyz").status, 200);
    s.store.proc.signal(15);
    assert!(s.store.proc.wait_exit(Duration::from_secs(5)).is_some(), "s3s-fs stopped");
    // Not cached: xsendfiled's HEAD fails at once.
    let started = Instant::now();
    let r = curl(&format!("{}/dl/a%20b.txt", s.base), &[]);
    assert_eq!((r.status, r.header("Cache-Control")), (502, Some("no-store")), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_nothing_of_the_store(&r, "down, cold");
    // Cached: nginx cannot reach the store either, and says so the same way.
    let r = curl(&format!("{}/dl/plain.txt", s.base), &[]);
    assert_eq!((r.status, r.header("Cache-Control")), (502, Some("no-store")), "{r:?}");
    assert_nothing_of_the_store(&r, "down, warm");
    // The observer sees it: /readyz names the bucket's root, the series count HEADs and hits.
    support::assert_unready(&metrics, "root 0: the object store did not answer its last request");
    support::assert_series(
        &metrics,
        &[
            "xsendfiled_store_heads_total 2\n",
            "xsendfiled_store_cache_misses_total 2\n",
            "xsendfiled_store_cache_hits_total 2\n",
            "xsendfiled_store_errors_total 1\n",
            "xsendfiled_store_reachable 0\n",
        ],
    );
    // Back: /readyz probes the bucket by itself, with no request needed, and turns 200.
    s.store.restart();
    wait_until("/readyz 200 once the store answers", None, || scrape("/readyz").status == 200);
    support::assert_series(&metrics, &["xsendfiled_store_reachable 1\n"]);
    assert_eq!(curl(&format!("{}/dl/a%20b.txt", s.base), &[]).status, 200);
    // A store that accepts and never answers: 504 once --s3-timeout has passed.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = silent.local_addr().expect("addr").to_string();
    let (_g, base) = http_guard(&endpoint, &s.run.join("silent"), &["--s3-timeout", "1s"]);
    let started = Instant::now();
    let r = curl(&format!("{base}/dl/plain.txt"), &[]);
    let took = started.elapsed();
    assert_eq!((r.status, r.header("Cache-Control")), (504, Some("no-store")), "{r:?}");
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(3), "{took:?}");
}

/// Bytes nginx keeps in its temp directories under `run`.
fn temp_bytes(run: &Path) -> u64 {
    fn walk(p: &Path) -> u64 {
        std::fs::read_dir(p).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => walk(&e.path()),
                    _ => e.metadata().map_or(0, |m| m.len()),
                })
                .sum()
        })
    }
    ["proxy", "fastcgi", "client_body"].iter().map(|d| walk(&run.join(d))).sum()
}

#[test]
fn a_1_gib_object_streams_without_filling_nginx_temp() {
    // s3s-fs hashes the whole object for its ETag on every HEAD and GET: seconds for 1 GiB.
    let Some(s) = stack(&["--s3-timeout", "60s", "--storage-timeout", "60s"]) else { return };
    // Sparse: 1 GiB of zeros that takes no disk and seconds to read.
    let big = s.store.dir.join(BUCKET).join("big.bin");
    std::fs::File::create(&big).expect("create").set_len(1 << 30).expect("sparse 1 GiB");
    let mut child = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "120", "-o", "/dev/null", "-w", "%{http_code} %{size_download}"])
        .arg(format!("{}/dl/big.bin", s.base))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("curl");
    // nginx's temp use, sampled while the download runs (curl's --max-time bounds the loop).
    let mut most = 0;
    while child.try_wait().expect("curl").is_none() {
        most = most.max(temp_bytes(&s.run));
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("curl");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout, format!("200 {}", 1u64 << 30), "{stderr}");
    assert!(most < 1 << 20, "nginx buffered {most} bytes on disk");
    // The tail of it, by Range.
    let r = curl(&format!("{}/dl/big.bin", s.base), &["-H", "Range: bytes=-4"]);
    assert_eq!((r.status, r.body.as_slice()), (206, &[0u8; 4][..]), "{r:?}");
}

#[test]
fn two_nodes_share_a_bucket_and_a_key_ring_signed_links_and_rotation() {
    if !support::require(&["nginx", "curl"]) {
        return;
    }
    let dir = support::tempdir();
    let Some(store) = s3::start(&dir.path().join("store"), &[BUCKET]) else { return };
    store.put(BUCKET, "dir with space/ä ö.txt", b"nested unicode\n");
    store.put(BUCKET, "plain.txt", b"plain\n");
    let keys = dir.path().join("keys");
    write_keys(&keys, &format!("old hex:{}\nnew b64:{}\n", "11".repeat(32), "A".repeat(43)));
    let k = keys.display().to_string();
    let extra = ["--keys", k.as_str(), "--require-signature"];
    let mut nodes: Vec<(Proc, Proc, String)> =
        ["a", "b"].iter().map(|n| node(&store, &dir.path().join(format!("run-{n}")), &extra)).collect();
    let link = sign(&keys, &["--filename", "Bericht für Q3.txt", "/dl/dir with space/ä ö.txt"]);
    for (_, _, base) in &nodes {
        let r = curl(&format!("{base}{link}"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"nested unicode\n"[..]), "{base}{link}: {r:?}");
        assert_eq!(
            r.header("Content-Disposition"),
            Some("inline; filename=\"Bericht f_r Q3.txt\"; filename*=UTF-8''Bericht%20f%C3%BCr%20Q3.txt"),
            "the signed name, carried by the presigned URL"
        );
        assert_eq!(r.header("Cache-Control"), Some("private"), "a signed download is private");
        assert_eq!(curl(&format!("{base}/dl/plain.txt"), &[]).status, 403, "unsigned");
        assert_eq!(curl(&format!("{base}{}", link.replace("exp=", "exp=1")), &[]).status, 403, "tampered");
    }
    let old = sign(&keys, &["--kid", "old", "/dl/plain.txt"]);
    let new = sign(&keys, &["--kid", "new", "/dl/plain.txt"]);
    write_keys(&keys, &format!("new b64:{}\n", "A".repeat(43)));
    for (guard, _, base) in &mut nodes {
        assert_eq!(curl(&format!("{base}{old}"), &[]).status, 200);
        guard.signal(1);
        let log = guard.log.clone().expect("log");
        wait_until("SIGHUP reload", Some(guard), || {
            std::fs::read_to_string(&log).unwrap_or_default().contains("key ring reloaded, 1 key(s) active")
        });
    }
    for (_, _, base) in &nodes {
        assert_eq!(curl(&format!("{base}{old}"), &[]).status, 403, "{base}: the old key is gone");
        let r = curl(&format!("{base}{new}"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"plain\n"[..]), "{base}");
    }
}

#[test]
fn check_probes_the_bucket_and_explains_an_object_with_the_signature_redacted() {
    let dir = support::tempdir();
    let Some(store) = s3::start(&dir.path().join("store"), &[BUCKET]) else { return };
    store.put(BUCKET, "a b.txt", b"space\n");
    let check_with = |secret: &str, bucket: &str, uri: Option<&str>, token: Option<&str>| {
        let endpoint = format!("http://{}", store.endpoint());
        let mut cmd = std::process::Command::new(support::bin());
        cmd.args(["check", "--root", &format!("s3://{bucket}"), "--s3-endpoint", &endpoint, "--s3-path-style"])
            .args(["--internal-prefix", "/_protected", "--strip-prefix", "/dl"])
            .env("AWS_ACCESS_KEY_ID", s3::ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env_remove("GATEWAY_INTERFACE");
        match token {
            Some(t) => cmd.env("AWS_SESSION_TOKEN", t),
            None => cmd.env_remove("AWS_SESSION_TOKEN"),
        };
        cmd.args(uri);
        let out = cmd.output().expect("check");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let check = |secret: &str, bucket: &str, uri: Option<&str>| check_with(secret, bucket, uri, None);
    let report = check(s3::SECRET_KEY, BUCKET, Some("/dl/a b.txt"));
    assert!(report.contains("HEAD bucket ok"), "{report}");
    assert!(report.contains("resolve        s3://files/a b.txt: regular file, 6 bytes"), "{report}");
    assert!(report.contains("X-Accel-Redirect: /_s3/a%20b.txt"), "{report}");
    assert!(report.contains("&X-Amz-Signature=<redacted>"), "{report}");
    assert_eq!(report.matches("X-Amz-Signature=").count(), 1, "{report}");
    assert!(!report.contains(s3::SECRET_KEY), "{report}");
    let refused = check("not-the-secret", BUCKET, None);
    assert!(refused.contains("HEAD bucket failed") && refused.contains("403"), "{refused}");
    assert!(!refused.contains("not-the-secret"), "{refused}");
    assert!(check(s3::SECRET_KEY, "nobucket", None).contains("404, no such bucket"));
    // Temporary credentials: the session token rides in the presigned query; it is redacted too.
    let token = "FwoGZXIvYXdzEXAMPLEsessiontoken";
    let report = check_with(s3::SECRET_KEY, BUCKET, Some("/dl/a b.txt"), Some(token));
    assert!(report.contains("X-Amz-Security-Token=<redacted>"), "{report}");
    assert!(!report.contains(token), "{report}");
}

/// An application behind `proxy_pass` that hands every download of /download?f=KEY to xsendfiled
/// (`X-Accel-Redirect: /_xsendfiled/KEY?filename=...&disposition=attachment`).
const DELEGATING_APP: &str = r#"
import http.server, sys, urllib.parse
class App(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        key = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["f"][0]
        target = "/_xsendfiled/" + urllib.parse.quote(key) + "?" + urllib.parse.urlencode(
            {"filename": "Bericht für Q3.txt", "disposition": "attachment"})
        self.send_response(200)
        self.send_header("X-Accel-Redirect", target)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), App).serve_forever()
"#;

#[test]
fn an_application_delegates_an_object_with_its_own_download_name() {
    if !support::require(&["nginx", "curl", "python3"]) {
        return;
    }
    let dir = support::tempdir();
    let Some(store) = s3::start(&dir.path().join("store"), &[BUCKET]) else { return };
    store.put(BUCKET, "dir with space/ä ö.txt", b"nested unicode\n");
    let app_port = support::free_port();
    let mut cmd = std::process::Command::new("python3");
    cmd.arg("-c").arg(DELEGATING_APP).arg(app_port.to_string());
    let mut app = support::spawn(cmd, "app", &dir.path().join("app.log"));
    wait_until("the application", Some(&mut app), || support::tcp_up(app_port));
    let locations =
        format!("        location = /download {{\n            proxy_pass http://127.0.0.1:{app_port};\n        }}\n");
    let (_g, _n, base) = node_with_app(&store, &dir.path().join("run"), &[], &locations);
    let r = curl(&format!("{base}/download?f=dir%20with%20space%2F%C3%A4%20%C3%B6.txt"), &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"nested unicode\n"[..]), "{r:?}");
    assert_eq!(
        r.header("Content-Disposition"),
        Some("attachment; filename=\"Bericht f_r Q3.txt\"; filename*=UTF-8''Bericht%20f%C3%BCr%20Q3.txt"),
        "the application's name, carried by the presigned URL"
    );
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    assert_nothing_of_the_store(&r, "delegated");
    // The delegation location is internal: a client cannot hand itself a download name.
    assert_eq!(curl(&format!("{base}/_xsendfiled/dir%20with%20space/%C3%A4%20%C3%B6.txt"), &[]).status, 404);
    let r = curl(&format!("{base}/download?f=missing.txt"), &[]);
    assert_eq!((r.status, r.header("Cache-Control")), (404, Some("no-store")), "{r:?}");
}
