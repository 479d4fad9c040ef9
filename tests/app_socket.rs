//! The app socket (`--app-socket PATH`): an application asks xsendfiled directly over HTTP/1.1 on
//! a Unix socket and gets the web server's reply, no body, plus the `Xsendfiled-*` fields. Asked
//! with a raw client (every byte of the request as written) and with curl `--unix-socket`: the
//! tricky names, refusals with their reason, HEAD, 405, the trusted query, `--require-signature`
//! (it applies to asks), the socket's mode and group, alongside `--listen`, and removal on SIGTERM.

use crate::support;

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{url_path, wait_until, Reply, Workspace, SERVABLE};

/// Starts the daemon with only the app socket (plus `extra`), with the nginx examples' options
/// (`--internal-prefix /_protected --strip-prefix /dl`); returns it and the socket path.
fn app_daemon(ws: &Workspace, extra: &[&str]) -> (support::Proc, PathBuf) {
    let sock = ws.run.join("app.sock");
    let mut args = support::guard_args(&ws.tree.root, None);
    args.extend(["--app-socket".to_owned(), sock.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&ws.run, "xsendfiled", &argv, &[]);
    wait_until("the app socket", Some(&mut d), || support::unix_up(&sock));
    (d, sock)
}

/// Sends `head` (a request line and fields, without the empty line) and reads the whole answer.
fn ask_raw(sock: &Path, head: &str) -> Reply {
    let mut c = UnixStream::connect(sock).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(c, "{head}\r\nHost: xsendfiled\r\nConnection: close\r\n\r\n").expect("write");
    let raw = support::read_all_timeout(&mut c, Duration::from_secs(10));
    support::parse_http(&raw)
}

/// GET `target` over the socket.
fn ask(sock: &Path, target: &str) -> Reply {
    ask_raw(sock, &format!("GET {target} HTTP/1.1"))
}

fn assert_refused(r: &Reply, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: {r:?}");
    assert_eq!(r.header("Xsendfiled-Decision"), Some("refuse"), "{what}: {r:?}");
    assert!(r.header("Xsendfiled-Reason").is_some_and(|v| !v.is_empty()), "{what}: {r:?}");
    assert_eq!(r.header("Xsendfiled-File"), None, "{what}");
    assert_eq!(r.header("Content-Length"), Some("0"), "{what}: {r:?}");
    assert!(r.body.is_empty(), "{what}: an ask answer has no body");
}

#[test]
fn tricky_names_are_answered_with_the_offload_and_the_file_facts() {
    let ws = Workspace::new();
    let (_d, sock) = app_daemon(&ws, &[]);
    for (name, body) in SERVABLE {
        let encoded = url_path(name.as_bytes());
        let r = ask(&sock, &format!("/dl/{encoded}"));
        assert_eq!(r.status, 200, "{name:?}: {r:?}");
        assert_eq!(r.header("X-Accel-Redirect"), Some(format!("/_protected/{encoded}").as_str()), "{name:?}");
        assert_eq!(r.header("Xsendfiled-Decision"), Some("send"), "{name:?}");
        assert_eq!(r.header("Xsendfiled-File"), Some(encoded.as_str()), "{name:?}");
        assert_eq!(r.header("Xsendfiled-Size"), Some(body.len().to_string().as_str()), "{name:?}");
        let mtime = std::fs::metadata(ws.tree.root.join(name)).expect("stat").mtime();
        assert_eq!(r.header("Xsendfiled-Mtime"), Some(mtime.to_string().as_str()), "{name:?}");
        assert_eq!(r.header("Xsendfiled-Reason"), None, "{name:?}");
        assert_eq!(r.header_count("Content-Disposition"), 1, "{name:?}: {r:?}");
        assert!(r.header("Content-Type").is_some(), "{name:?}");
        assert_eq!(r.header("Content-Length"), Some("0"), "{name:?}");
        assert!(r.body.is_empty(), "{name:?}");
    }
}

#[test]
fn refusals_carry_their_status_and_reason() {
    let ws = Workspace::new();
    let (_d, sock) = app_daemon(&ws, &[]);
    for (target, what) in [
        ("/dl/.hidden", "hidden file"),
        ("/dl/.git/config", "hidden directory"),
        ("/dl/link-hidden", "symlink to a hidden file"),
        ("/dl/nowhere.txt", "missing"),
        ("/dl/../outside/secret.txt", "dot segments"),
        ("/dl/%2e%2e/outside/secret.txt", "encoded dot segments"),
        ("/dl/link-out.txt", "symlink out of the root"),
        ("/dl/link-etc", "symlink to /etc/passwd"),
        ("/dl/sub", "a directory"),
        ("/dl/a%2Fb", "an encoded slash"),
        ("/plain.txt", "outside the strip prefix"),
    ] {
        let r = ask(&sock, target);
        assert_refused(&r, 404, what);
        assert_eq!(r.header("X-Accel-Redirect"), None, "{what}");
        assert_eq!(r.header("Cache-Control"), Some("no-store"), "{what}");
    }
    let r = ask(&sock, "/dl/.hidden");
    assert!(r.header("Xsendfiled-Reason").is_some_and(|v| v.contains("hidden")), "{r:?}");
}

#[test]
fn head_post_and_bodies() {
    let ws = Workspace::new();
    let (_d, sock) = app_daemon(&ws, &[]);
    let head = ask_raw(&sock, "HEAD /dl/plain.txt HTTP/1.1");
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(head.header("X-Accel-Redirect"), Some("/_protected/plain.txt"));
    assert_eq!(head.header("Xsendfiled-Size"), Some("6"));
    let post = ask_raw(&sock, "POST /dl/plain.txt HTTP/1.1\r\nContent-Length: 0");
    assert_refused(&post, 405, "POST");
    assert_eq!(post.header("Allow"), Some("GET, HEAD"));
    let body = ask_raw(&sock, "GET /dl/plain.txt HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    assert_refused(&body, 400, "a body");
    let chunked = ask_raw(&sock, "GET /dl/plain.txt HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
    assert_refused(&chunked, 400, "Transfer-Encoding");
}

#[test]
fn the_query_is_trusted_and_client_fields_are_not() {
    let ws = Workspace::new();
    let (_d, sock) = app_daemon(&ws, &[]);
    let r = ask(&sock, "/dl/a%20b.txt?filename=Q3+report%C3%BC.pdf&disposition=attachment&cache_control=private");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header_count("Content-Disposition"), 1);
    let cd = r.header("Content-Disposition").expect("disposition");
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(cd.contains("filename*=UTF-8''Q3%20report%C3%BC.pdf"), "'+' is a space: {cd}");
    assert_eq!(r.header("Cache-Control"), Some("private"));
    // curl --unix-socket, as an app's HTTP library would send it.
    let out = Command::new("curl")
        .args(["-sS", "-i", "--max-time", "10", "--unix-socket"])
        .arg(&sock)
        .arg("http://xsendfiled/dl/page.html?filename=My+Page.html&disposition=inline")
        .args(["-H", "Xsendfiled-Filename: evil.html", "-H", "X-Sendfiled-Root: /"])
        .output()
        .expect("curl");
    let r = support::parse_http(&out.stdout);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("Content-Disposition"), Some("inline; filename=\"My Page.html\""));
    assert_eq!(r.header("X-Accel-Redirect"), Some("/_protected/page.html"));
    // A root outside the configured ones is refused, as on an internal location.
    let r = ask(
        &sock,
        &format!("/dl/secret.txt?root={}", url_path(ws.tree.base.join("outside").as_os_str().as_encoded_bytes())),
    );
    assert_eq!(r.status, 404, "{r:?}");
    // Nor may the narrowing name a hidden directory: `/config` under `.git` is `.git/config`.
    let git = url_path(ws.tree.root.join(".git").as_os_str().as_encoded_bytes());
    assert_refused(&ask(&sock, &format!("/dl/config?root={git}")), 404, "a hidden narrowed root");
}

#[test]
fn require_signature_applies_to_asks_and_the_query_cannot_lift_it() {
    let ws = Workspace::new();
    let keys = ws.run.join("keys");
    std::fs::write(&keys, "k1 hex:5eed5eed000102030405060708090a0b0c0d0e0f101112131415161718191a1b\n").expect("keys");
    std::fs::set_permissions(&keys, PermissionsExt::from_mode(0o600)).expect("chmod");
    let keys_arg = keys.display().to_string();
    let (_d, sock) = app_daemon(&ws, &["--keys", &keys_arg, "--require-signature"]);
    // Nothing sets XSENDFILED_AUTH on the app socket: --require-signature decides, as on an
    // internal location without it, and an unsigned ask is refused.
    let r = ask(&sock, "/dl/plain.txt?disposition=attachment");
    assert_refused(&r, 403, "unsigned");
    // The query is trusted policy, but XSENDFILED_AUTH is not a query parameter.
    assert_refused(&ask(&sock, "/dl/plain.txt?XSENDFILED_AUTH=none"), 403, "XSENDFILED_AUTH in the query");
    assert_refused(&ask_raw(&sock, "GET /dl/plain.txt HTTP/1.1\r\nXsendfiled-Auth: none"), 403, "as a field");
    // The query of a signed link for the path passes, with the trusted query beside it.
    let out = Command::new(support::bin())
        .args(["sign", "--keys", &keys_arg, "--kid", "k1", "--expires-in", "600", "/dl/a b.txt"])
        .output()
        .expect("sign");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let link = String::from_utf8(out.stdout).expect("utf8").trim().to_owned();
    // Unsigned policy beside a signature is not policy: whoever holds the link chose it.
    let r = ask(&sock, &format!("{link}&filename=Q3.txt&disposition=attachment&root=/"));
    assert_eq!(r.status, 200, "{link}: {r:?}");
    assert_eq!(r.header("Xsendfiled-Decision"), Some("send"));
    assert_eq!(r.header("X-Accel-Redirect"), Some("/_protected/a%20b.txt"));
    assert!(!r.header("Content-Disposition").unwrap_or_default().contains("Q3"), "{r:?}");
    // The link's own signed claims are.
    let out = Command::new(support::bin())
        .args(["sign", "--keys", &keys_arg, "--kid", "k1", "--expires-in", "600"])
        .args(["--filename", "Q3.txt", "--disposition", "attachment", "/dl/a b.txt"])
        .output()
        .expect("sign");
    let signed_name = String::from_utf8(out.stdout).expect("utf8").trim().to_owned();
    let r = ask(&sock, &signed_name);
    assert_eq!(r.header("Content-Disposition"), Some("attachment; filename=\"Q3.txt\""), "{r:?}");
    // A tampered one, or one for another file, is refused.
    let tampered = format!("{}{}", &link[..link.len() - 1], if link.ends_with('A') { 'B' } else { 'A' });
    assert_refused(&ask(&sock, &tampered), 403, "tampered");
    assert_refused(&ask(&sock, &link.replacen("/dl/a%20b.txt", "/dl/plain.txt", 1)), 403, "another file");
    // With the keys but without --require-signature, an unsigned ask passes, and a link's
    // signature is still verified.
    let ws2 = Workspace::new();
    let (_d2, sock2) = app_daemon(&ws2, &["--keys", &keys_arg]);
    assert_eq!(ask(&sock2, "/dl/plain.txt").status, 200);
    assert_eq!(ask(&sock2, &link).status, 200);
    assert_refused(&ask(&sock2, &tampered), 403, "tampered, not required");
}

#[test]
fn the_socket_has_the_configured_mode_and_group_and_goes_on_sigterm() {
    let ws = Workspace::new();
    let gid = primary_gid();
    let (mut d, sock) = app_daemon(&ws, &["--socket-mode", "0600", "--socket-group", &gid.to_string()]);
    let md = std::fs::symlink_metadata(&sock).expect("stat");
    assert_eq!(md.permissions().mode() & 0o777, 0o600);
    assert_eq!(md.gid(), gid);
    d.signal(15);
    assert!(d.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()), "{}", d.log_text());
    assert!(!sock.exists(), "the app socket is removed on exit");
}

/// Our primary group, from `id -g`.
fn primary_gid() -> u32 {
    let out = Command::new("id").arg("-g").output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("gid")
}

#[test]
fn with_a_web_server_listener_both_answer_and_only_the_app_socket_trusts_the_query() {
    let ws = Workspace::new();
    let port = support::free_port();
    let (mut d, sock) = app_daemon(&ws, &["--listen", &format!("http://127.0.0.1:{port}")]);
    wait_until("the http listener", Some(&mut d), || support::tcp_up(port));
    let web = support::curl(&format!("http://127.0.0.1:{port}/dl/a%20b.txt?filename=x.pdf"), &[]);
    assert_eq!(web.status, 200, "{web:?}");
    assert_eq!(web.header("Content-Disposition"), Some("inline; filename=\"a b.txt\""), "no trusted query");
    assert_eq!(web.header("Xsendfiled-Decision"), None, "the web server's socket adds no Xsendfiled-* field");
    let app = ask(&sock, "/dl/a%20b.txt?filename=x.pdf");
    assert_eq!(app.header("Content-Disposition"), Some("inline; filename=\"x.pdf\""), "{app:?}");
    assert_eq!(app.header("Xsendfiled-Decision"), Some("send"));
    d.signal(15);
    assert!(d.wait_exit(Duration::from_secs(10)).is_some(), "{}", d.log_text());
    assert!(!sock.exists());
}

#[test]
fn serve_is_refused_and_check_names_the_socket() {
    let ws = Workspace::new();
    let sock = ws.run.join("app.sock");
    let root = ws.tree.root.display().to_string();
    let out = Command::new(support::bin())
        .args(["--root", &root, "--backend", "serve", "--app-socket"])
        .arg(&sock)
        .env_remove("GATEWAY_INTERFACE")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--app-socket"), "{out:?}");
    let out = Command::new(support::bin())
        .args(["check", "--root", &root, "--internal-prefix", "/_p"])
        .env("XSENDFILED_APP_SOCKET", &sock)
        .output()
        .expect("check");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(&format!("app socket     {}", sock.display())), "{text}");
}

/// Apache's X-Sendfile takes the path raw: a name that ends in a space keeps it in the answer (it
/// was trimmed, naming `trail`, another file, which a local user could plant as a symlink).
#[test]
fn a_trailing_space_survives_in_the_answer() {
    let ws = Workspace::new();
    let (_d, sock) = app_daemon(&ws, &["--backend", "apache"]);
    let mut c = UnixStream::connect(&sock).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(c, "GET /dl/trail%20 HTTP/1.1\r\nHost: xsendfiled\r\nConnection: close\r\n\r\n").expect("write");
    let raw = support::read_all_timeout(&mut c, Duration::from_secs(10));
    let text = String::from_utf8_lossy(&raw);
    let want = format!("X-Sendfile: {}/trail \r\n", ws.tree.root.canonicalize().expect("root").display());
    assert!(text.contains(&want), "{want:?} in {text}");
}
