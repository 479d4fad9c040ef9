//! The access log: one parseable JSON line per decision, hostile bytes escaped, no secrets,
//! reopened on SIGHUP, and never in the way of a download when the disk is full.

use crate::support;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;
use support::fcgi_client::*;
use support::{wait_until, Tree};

fn ask(sock: &Path, params: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut s = UnixStream::connect(sock).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    s.write_all(&request(1, false, params)).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    stdout_of(&parse(&out).0, 1)
}

/// nginx-like params with REQUEST_URI replaced.
fn with_uri<'a>(method: &'a [u8], path: &'a [u8], uri: &'a [u8]) -> Vec<(&'a [u8], &'a [u8])> {
    let mut p = nginx_params(method, path);
    p.retain(|(n, _)| *n != b"REQUEST_URI");
    p.push((b"REQUEST_URI", uri));
    p
}

fn start(dir: &Path, root: &Path, log: &str, extra: &[&str]) -> (support::Proc, std::path::PathBuf) {
    let sock = dir.join("x.sock");
    let mut args = support::guard_args(root, Some(&format!("unix:{}", sock.display())));
    args.extend(["--access-log".to_string(), log.to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(dir, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    (d, sock)
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn one_json_line_per_decision_without_secrets_or_injection() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "k1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n").expect("keys");
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let log = dir.path().join("access.log");
    let (_d, sock) =
        start(dir.path(), &tree.root, log.to_str().expect("utf8"), &["--keys", keys.to_str().expect("utf8")]);
    let mode = std::fs::metadata(&log).expect("log").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "the access log is not world-readable");

    let secrets: Vec<(&[u8], &[u8])> =
        vec![(b"HTTP_COOKIE", b"session=COOKIESECRET"), (b"HTTP_AUTHORIZATION", b"Basic QVVUSFNFQ1JFVA==")];
    let mut sent = with_uri(b"GET", b"/dl/a b.txt", b"/dl/a%20b.txt");
    sent.push((b"REMOTE_USER", b"alice"));
    sent.push((b"HTTP_RANGE", b"bytes=2-4"));
    sent.extend(secrets.iter().copied());
    assert!(ask(&sock, &sent).starts_with(b"X-Accel-Redirect: "));
    // A hostile path: every byte that could forge a line or a field.
    let evil: &[u8] = b"/dl/x\n{\"decision\":\"send\"}\r\"\\\x01\xff\xe2\x80\xa8";
    let mut refused = with_uri(b"GET", evil, evil);
    refused.push((b"HTTP_RANGE", b"bytes=0-1\n{\"x\":1}\"\x02"));
    assert!(ask(&sock, &refused).starts_with(b"Status: 404"));
    // A signed link (not required here, but verified when the server asks): its signature stays out.
    let link = "/dl/plain.txt?exp=99999999999&kid=k1&sig=SIGNATURESECRETSIGNATURESECRETSIGNATURESEC";
    let mut signed = with_uri(b"GET", b"/dl/plain.txt", link.as_bytes());
    signed.push((b"XSENDFILED_AUTH", b"signed"));
    assert!(ask(&sock, &signed).starts_with(b"Status: 403"));
    assert!(ask(&sock, &nginx_params(b"DELETE", b"/dl/plain.txt")).starts_with(b"Status: 405"));

    wait_until("4 log lines", None, || lines(&log).len() == 4);
    let text = std::fs::read_to_string(&log).expect("log");
    for secret in ["COOKIESECRET", "QVVUSFNFQ1JFVA", "SIGNATURESECRET"] {
        assert!(!text.contains(secret), "{secret} leaked into the access log");
    }
    assert_eq!(text.lines().count(), 4, "one line per decision, whatever the path held:\n{text}");
    let l = lines(&log);
    assert_eq!(l[0]["decision"], "send");
    assert_eq!(l[0]["status"], 200);
    assert_eq!(l[0]["file"], "a b.txt");
    assert_eq!(l[0]["size"], 6, "the file's size, whatever part was asked for");
    assert_eq!(l[0]["range"], "bytes=2-4", "the Range the client asked for");
    assert_eq!(l[0]["user"], "alice");
    assert_eq!(l[0]["remote"], "127.0.0.1");
    assert_eq!(l[0]["method"], "GET");
    assert_eq!(l[0]["uri"], "/dl/a%20b.txt");
    assert!(l[0]["time"].as_str().is_some_and(|t| t.len() == 24 && t.ends_with('Z')), "{}", l[0]["time"]);
    assert!(l[0]["us"].as_u64().is_some());
    assert_eq!(l[1]["decision"], "refuse");
    assert_eq!(l[1]["status"], 404);
    assert_eq!(
        l[1]["uri"], "/dl/x\n{\"decision\":\"send\"}\r\"\\\u{1}\u{fffd}\u{2028}",
        "the hostile bytes survive, escaped"
    );
    assert_eq!(l[1]["range"], "bytes=0-1\n{\"x\":1}\"\u{2}", "a hostile Range too");
    assert!(l[2]["range"].is_null(), "no Range: null");
    for line in &l {
        assert!(line.as_object().is_some_and(|o| o.contains_key("range")), "every line has every key: {line}");
    }
    assert_eq!(l[2]["status"], 403);
    assert_eq!(l[2]["uri"], "/dl/plain.txt?exp=99999999999&kid=k1&sig=-");
    assert!(l[2]["reason"].as_str().is_some_and(|r| r.contains("signed link")), "{}", l[2]["reason"]);
    assert_eq!(l[3]["status"], 405);
}

#[test]
fn sighup_reopens_and_a_full_disk_never_blocks_a_download() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let log = dir.path().join("access.log");
    let (d, sock) = start(dir.path(), &tree.root, log.to_str().expect("utf8"), &[]);
    assert!(ask(&sock, &nginx_params(b"GET", b"/dl/plain.txt")).starts_with(b"X-Accel-Redirect"));
    wait_until("first line", None, || lines(&log).len() == 1);
    // logrotate: move the file away, SIGHUP, and the next line starts a new file.
    let rotated = dir.path().join("access.log.1");
    std::fs::rename(&log, &rotated).expect("rename");
    d.signal(1);
    wait_until("reopen", None, || d.log_text().contains("access log reopened"));
    assert!(ask(&sock, &nginx_params(b"GET", b"/dl/sub/in.txt")).starts_with(b"X-Accel-Redirect"));
    wait_until("line in the new file", None, || lines(&log).len() == 1);
    assert_eq!(lines(&rotated).len(), 1);
    assert_eq!(lines(&log)[0]["file"], "sub/in.txt");
    drop(d);

    // /dev/full: every write fails with ENOSPC; downloads go on, the loss is reported.
    let dir2 = support::tempdir();
    let (d, sock) = start(dir2.path(), &tree.root, "/dev/full", &[]);
    for _ in 0..5 {
        assert!(ask(&sock, &nginx_params(b"GET", b"/dl/plain.txt")).starts_with(b"X-Accel-Redirect"));
    }
    wait_until("the loss to be reported", None, || d.log_text().contains("access log: 1 line(s) lost"));
}

/// Whoever can write the log's directory may plant something at its path: a symlink or a hard link
/// to another file is refused at start-up (that file untouched), and a world-writable log left
/// there is narrowed to 0640 before anything is written.
#[test]
fn a_planted_log_path_is_refused_or_narrowed() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "untouched\n").expect("write");
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let root = tree.root.to_str().expect("utf8");
    for (planted, want) in [("symlink", "is a symbolic link"), ("hardlink", "has other hard links")] {
        let log = dir.path().join(format!("{planted}.log"));
        if planted == "symlink" {
            std::os::unix::fs::symlink(&victim, &log).expect("symlink");
        } else {
            std::fs::hard_link(&victim, &log).expect("link");
        }
        let out = std::process::Command::new(support::bin())
            .args(["--root", root, "--internal-prefix", "/p", "--listen", "unix:/nonexistent/x.sock"])
            .arg("--access-log")
            .arg(&log)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{planted}: {err}");
        assert!(err.contains("--access-log") && err.contains(want), "{planted}: {err}");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "untouched\n");
        let mode = std::fs::metadata(&victim).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{planted}: the other file's mode is unchanged");
    }
    let log = dir.path().join("wide.log");
    std::fs::write(&log, "").expect("write");
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let (_d, sock) = start(dir.path(), &tree.root, log.to_str().expect("utf8"), &[]);
    let mode = std::fs::metadata(&log).expect("log").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "a pre-existing 0666 log is narrowed");
    assert!(ask(&sock, &with_uri(b"GET", b"/dl/a b.txt", b"/dl/a%20b.txt")).starts_with(b"X-Accel-Redirect: "));
    wait_until("log line", None, || lines(&log).len() == 1);
}
