//! The authorizer: xsendfiled allows or denies, the web server sends the file itself. nginx
//! `auth_request`, lighttpd `"mode" => "authorizer"`, Apache mod_authnz_fcgi and mod_fcgid
//! `FcgidAccessChecker`, each from its conf-example, each with signed links from `xsendfiled sign`.

use crate::support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{curl, wait_until, Tree};

const KEYS: &str = "k1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

struct Setup {
    _dir: tempfile::TempDir,
    tree: Tree,
    run: PathBuf,
    keys: PathBuf,
}

fn setup() -> Setup {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let run = dir.path().join("run");
    std::fs::create_dir_all(run.join("htdocs")).expect("mkdir");
    let keys = run.join("keys");
    std::fs::write(&keys, KEYS).expect("keys");
    // Readable by the server user for mod_fcgid, which runs xsendfiled as that user.
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    Setup { tree, run, keys, _dir: dir }
}

fn sign(keys: &Path, path: &str, extra: &[&str]) -> String {
    let out =
        Command::new(support::bin()).args(["sign", "--keys"]).arg(keys).args(extra).arg(path).output().expect("sign");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8").trim().to_owned()
}

/// The behaviour every authorizer setup must show for mount `mount` (e.g. "/files").
fn check(base: &str, keys: &Path, mount: &str, deny: &[u16]) {
    let l = sign(keys, &format!("{mount}/a b.txt"), &[]);
    let r = curl(&format!("{base}{l}"), &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"space\n"[..]), "{l}: {r:?}");
    let l = sign(keys, &format!("{mount}/dir with space/ä ö.txt"), &[]);
    assert_eq!(curl(&format!("{base}{l}"), &[]).body, b"nested unicode\n");
    let denied = [
        format!("{mount}/plain.txt"),
        sign(keys, &format!("{mount}/plain.txt"), &[]).replace("plain", "A"),
        sign(keys, &format!("{mount}/plain.txt"), &["--expires-at", "@1700000000"]),
        sign(keys, &format!("{mount}/link-out.txt"), &[]),
        sign(keys, &format!("{mount}/.hidden"), &[]),
        sign(keys, &format!("{mount}/missing.txt"), &[]),
    ];
    for uri in &denied {
        let r = curl(&format!("{base}{uri}"), &[]);
        assert!(deny.contains(&r.status), "{uri}: {r:?}");
        let body = String::from_utf8_lossy(&r.body);
        assert!(!body.contains("SECRET") && !body.contains("plain\n") && !body.contains("hidden\n"), "{uri}: {body}");
    }
}

/// A link minted for the existing `{mount}/plain.txt#1` (sent as `%23`), replayed with a literal
/// `#`: nginx and lighttpd end the path at the `#` and would serve `plain.txt`, which the link does
/// not cover, so the authorizer must refuse. Returns the reply for server-specific checks.
fn literal_hash(port: u16, s: &Setup, mount: &str) -> support::Reply {
    std::fs::write(s.tree.root.join("plain.txt#1"), "hash one\n").expect("write");
    let link = sign(&s.keys, &format!("{mount}/plain.txt#1"), &[]);
    assert!(link.contains("%231?"), "{link}");
    assert_eq!(curl(&format!("http://127.0.0.1:{port}{link}"), &[]).body, b"hash one\n", "{link}");
    let raw_target = link.replacen("%23", "#", 1);
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(std::time::Duration::from_millis(200))).expect("timeout");
    let head = format!("GET {raw_target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    c.write_all(head.as_bytes()).expect("send");
    let r = support::parse_http(&support::read_all_timeout(&mut c, std::time::Duration::from_secs(10)));
    assert_ne!(r.body, b"plain\n", "{raw_target} served the file the link does not cover: {r:?}");
    r
}

#[test]
fn nginx_auth_request() {
    if !support::require(&["nginx", "curl"]) {
        return;
    }
    let s = setup();
    let sock = s.run.join("x.sock");
    let mut d = authorizer_daemon(&s, &format!("unix:{}", sock.display()), "/files");
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let upstream = format!("unix:{}", sock.display());
    let _n = support::nginx_example("nginx-auth-request.conf", &s.run, &s.tree.root, &upstream, port);
    check(&format!("http://127.0.0.1:{port}"), &s.keys, "/files", &[403]);
    assert_eq!(literal_hash(port, &s, "/files").status, 403);
    assert!(d.log_text().contains("-> send a b.txt"), "{}", d.log_text());
}

/// The same checks with the subrequest sent over HTTP/1.1 to the HTTP listener, on kept
/// upstream connections.
#[test]
fn nginx_auth_request_over_http() {
    if !support::require(&["nginx", "curl"]) {
        return;
    }
    let s = setup();
    let (d, xport) = http_authorizer(&s);
    let port = support::free_port();
    let upstream = format!("127.0.0.1:{xport}");
    let _n = support::nginx_example("nginx-auth-request-http.conf", &s.run, &s.tree.root, &upstream, port);
    check(&format!("http://127.0.0.1:{port}"), &s.keys, "/files", &[403]);
    assert_eq!(literal_hash(port, &s, "/files").status, 403);
    let log = d.log_text();
    assert!(log.contains("-> send a b.txt"), "{log}");
    // Eight checks went to xsendfiled, allowed and denied alike with no body, so nginx kept the
    // upstream connections: at most one per nginx worker (worker_processes auto), plus the probe
    // that waited for the listener.
    let accepted = log.matches("http: connection opened").count();
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    assert!(accepted >= 1, "{log}");
    assert!(accepted <= workers + 1, "{accepted} upstream connections for 8 checks, {workers} workers\n{log}");
}

/// Caddy's forward_auth to the HTTP listener: the same checks, Caddy sends the file.
#[test]
fn caddy_forward_auth_over_http() {
    if !support::require(&["caddy", "curl"]) {
        return;
    }
    let s = setup();
    let (d, xport) = http_authorizer(&s);
    let port = support::free_port();
    let conf = support::fill_template(
        &support::conf_example("Caddyfile-forward-auth"),
        &[
            ("RUN_DIR", s.run.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", format!("127.0.0.1:{xport}")),
            ("ROOT", s.tree.root.display().to_string()),
        ],
    );
    let path = s.run.join("Caddyfile");
    std::fs::write(&path, conf).expect("write Caddyfile");
    let mut cmd = Command::new("caddy");
    cmd.args(["run", "--adapter", "caddyfile", "--config"]).arg(&path).env("HOME", &s.run);
    let mut c = support::spawn(cmd, "caddy", &s.run.join("caddy.log"));
    wait_until("caddy", Some(&mut c), || support::tcp_up(port));
    check(&format!("http://127.0.0.1:{port}"), &s.keys, "/files", &[403]);
    // Caddy never forwards a literal `#` to the authorizer (it answers on its own, with no body);
    // what matters is that plain.txt is not sent.
    literal_hash(port, &s, "/files");
    assert!(d.log_text().contains("-> send a b.txt"), "{}", d.log_text());
}

/// The authorizer daemon on the HTTP listener (mount /files), up; and its port.
fn http_authorizer(s: &Setup) -> (support::Proc, u16) {
    let xport = support::free_port();
    let mut d = authorizer_daemon(s, &format!("http://127.0.0.1:{xport}"), "/files");
    wait_until("xsendfiled", Some(&mut d), || std::net::TcpStream::connect(("127.0.0.1", xport)).is_ok());
    (d, xport)
}

fn server_user() -> String {
    let me = support::nginx_user();
    if me == "root" {
        "www-data".into()
    } else {
        me
    }
}

fn authorizer_daemon(s: &Setup, listen: &str, strip: &str) -> support::Proc {
    let args = [
        "--backend",
        "authorizer",
        "--root",
        s.tree.root.to_str().expect("utf8"),
        "--strip-prefix",
        strip,
        "--keys",
        s.keys.to_str().expect("utf8"),
        "--require-signature",
        "--listen",
        listen,
        "--socket-mode",
        "0666",
    ]
    .map(str::to_owned);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    support::daemon(&s.run, "xsendfiled", &argv, &[])
}

#[test]
fn lighttpd_fastcgi_authorizer() {
    if !support::require(&["lighttpd", "curl"]) {
        return;
    }
    let s = setup();
    let sock = s.run.join("x.sock");
    let mut d = authorizer_daemon(&s, &format!("unix:{}", sock.display()), "/files");
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let conf = support::fill_template(
        &support::conf_example("lighttpd-authorizer.conf"),
        &[
            ("LIGHTTPD_USER", server_user()),
            ("RUN_DIR", s.run.display().to_string()),
            ("PORT", port.to_string()),
            ("SOCKET", sock.display().to_string()),
            ("ROOT", s.tree.root.display().to_string()),
        ],
    );
    std::fs::write(s.run.join("lighttpd.conf"), conf).expect("write");
    let _ = Command::new("chown").arg(server_user()).arg(&s.run).status();
    let mut cmd = Command::new("lighttpd");
    cmd.arg("-D").arg("-f").arg(s.run.join("lighttpd.conf"));
    let mut l = support::spawn(cmd, "lighttpd", &s.run.join("lighttpd.stderr"));
    wait_until("lighttpd", Some(&mut l), || support::tcp_up(port));
    check(&format!("http://127.0.0.1:{port}"), &s.keys, "/files", &[403]);
    assert_eq!(literal_hash(port, &s, "/files").status, 403);
}

#[test]
fn apache_mod_authnz_fcgi_and_mod_fcgid_access_checker() {
    if !support::require(&["apache2", "curl", "/usr/lib/apache2/modules/mod_fcgid.so"]) {
        return;
    }
    let s = setup();
    // mod_fcgid runs xsendfiled as the server user: the key file is theirs, mode 0600.
    let _ = Command::new("chown").arg(server_user()).arg(&s.keys).status();
    let ipc = s.run.join("fcgid");
    std::fs::create_dir_all(&ipc).expect("mkdir");
    let _ = Command::new("chown").arg(server_user()).arg(&ipc).status();
    let xport = support::free_port();
    let mut d = authorizer_daemon(&s, &format!("127.0.0.1:{xport}"), "/files");
    wait_until("xsendfiled", Some(&mut d), || support::tcp_up(xport));
    let port = support::free_port();
    let user = server_user();
    let conf = support::fill_template(
        &support::conf_example("apache-authorizer.conf"),
        &[
            ("APACHE_USER", user.clone()),
            ("APACHE_GROUP", user),
            ("RUN_DIR", s.run.display().to_string()),
            ("PORT", port.to_string()),
            ("ROOT", s.tree.root.display().to_string()),
            ("XSENDFILED_ADDR", format!("127.0.0.1:{xport}")),
            ("XSENDFILED_BIN", support::bin().to_owned()),
            ("KEYS", s.keys.display().to_string()),
        ],
    );
    std::fs::write(s.run.join("apache.conf"), conf).expect("write");
    let mut cmd = Command::new("apache2");
    cmd.arg("-f").arg(s.run.join("apache.conf")).arg("-DFOREGROUND");
    let mut a = support::spawn(cmd, "apache2", &s.run.join("apache2.stderr"));
    wait_until("apache", Some(&mut a), || support::tcp_up(port));
    let base = format!("http://127.0.0.1:{port}");
    check(&base, &s.keys, "/files", &[401, 403]);
    assert!(d.log_text().contains("-> send a b.txt"), "the daemon decided: {}", d.log_text());
    // Apache refuses the symlink itself (403, `Options None`); every other denial is mod_fcgid's 401.
    check(&base, &s.keys, "/spawned", &[401, 403]);
    assert_eq!(curl(&format!("{base}/spawned/plain.txt"), &[]).status, 401, "the spawned authorizer denied");
    // mod_fcgid's own socket for the process it spawned lives in this test's FcgidIPCDir.
    let spawned = std::fs::read_dir(&ipc).expect("ipc dir").count();
    assert!(spawned >= 1, "mod_fcgid spawned no xsendfiled");
}
