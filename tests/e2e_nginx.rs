//! End to end through a real nginx (Debian package) on 127.0.0.1, driven by curl: xsendfiled on a
//! Unix socket, on TCP, started by spawn-fcgi (TCP and Unix, fd 0), and as a CGI program under
//! fcgiwrap. Every configuration is a file from conf-examples/ with its placeholders filled in.

mod support;

use std::path::Path;
use std::process::Command;
use support::{conf_example, curl, fill_template, nginx, url_path, wait_until, Tree, SERVABLE};

fn expected_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("txt") => "text/plain",
        Some("html") => "text/html",
        Some("json") => "application/json",
        Some("gz") => "application/gzip",
        _ => "application/octet-stream",
    }
}

/// The shared table: tricky names served byte-exact, hostile paths 404, HEAD, Range, methods.
fn check_table(port: u16, tree: &Tree) {
    let base = format!("http://127.0.0.1:{port}");
    let long = "L".repeat(255);
    let mut servable: Vec<(String, Vec<u8>)> = SERVABLE
        .iter()
        .map(|(n, b)| (n.to_string(), b.as_bytes().to_vec()))
        .collect();
    servable.push((long, b"long name\n".to_vec()));
    servable.push(("link-in.txt".into(), b"plain\n".to_vec()));
    servable.push(("link-dir/in.txt".into(), b"in sub\n".to_vec()));
    for (name, body) in &servable {
        let url = format!("{base}/dl/{}", url_path(name.as_bytes()));
        let r = curl(&url, &[]);
        assert_eq!(r.status, 200, "{name:?}: {r:?}");
        assert_eq!(&r.body, body, "{name:?}");
        let ct = if name.starts_with("link-") {
            "text/plain"
        } else {
            expected_type(name)
        };
        assert_eq!(r.header("Content-Type"), Some(ct), "{name:?}");
        assert_eq!(r.header("Content-Encoding"), None, "{name:?}");
        assert_eq!(r.header("X-Accel-Redirect"), None, "never leaks to the client");
        assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"), "{name:?}");
    }
    let hostile = [
        "/dl/..%2Foutside/secret.txt",
        "/dl/%2e%2e/outside/secret.txt",
        "/dl/%2E%2E%2Froot-private%2Fsecret.txt",
        "/dl/sub/%2e%2e/%2e%2e/outside/secret.txt",
        "/dl/link-out.txt",
        "/dl/link-sibling",
        "/dl/link-etc",
        "/dl/link-out-dir/secret.txt",
        "/dl/link-hidden",
        "/dl/.hidden",
        "/dl/.git/config",
        "/dl/dir",
        "/dl/sub/",
        "/dl/fifo",
        "/dl/lf%0Ax.txt",
        "/dl/%FF.txt",
        "/dl/back%5Cslash.txt",
        "/dl/missing.txt",
        "/dl/",
        "/_protected/plain.txt",
        "/_protected/../root-private/secret.txt",
    ];
    for path in hostile {
        let r = curl(&format!("{base}{path}"), &[]);
        assert_eq!(r.status, 404, "{path}: {r:?}");
        let body = String::from_utf8_lossy(&r.body);
        assert!(
            !body.contains("SECRET") && !body.contains("hidden\n") && !body.contains("root:"),
            "{path}: {body}"
        );
    }
    // Errors from xsendfiled itself carry no-store.
    let r = curl(&format!("{base}/dl/missing.txt"), &[]);
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    // NUL: nginx itself refuses it.
    let r = curl(&format!("{base}/dl/a%00b"), &[]);
    assert!(r.status == 400 || r.status == 404, "{r:?}");
    // HEAD: headers of GET, no body.
    let r = curl(&format!("{base}/dl/plain.txt"), &["--head"]);
    assert_eq!(
        (r.status, r.header("Content-Type"), r.header("Content-Length")),
        (200, Some("text/plain"), Some("6"))
    );
    assert!(r.body.is_empty());
    // Range and conditional requests are nginx's, on the file it sends.
    let r = curl(&format!("{base}/dl/plain.txt"), &["-H", "Range: bytes=1-3"]);
    assert_eq!((r.status, r.body.as_slice()), (206, &b"lai"[..]));
    let etag = curl(&format!("{base}/dl/plain.txt"), &[])
        .header("ETag")
        .expect("etag")
        .to_owned();
    let r = curl(
        &format!("{base}/dl/plain.txt"),
        &["-H", &format!("If-None-Match: {etag}")],
    );
    assert_eq!(r.status, 304);
    // Other methods.
    for m in ["POST", "PUT", "DELETE"] {
        let r = curl(&format!("{base}/dl/plain.txt"), &["-X", m]);
        assert_eq!((r.status, r.header("Allow")), (405, Some("GET, HEAD")), "{m}");
    }
    let _ = tree;
}

struct Setup {
    _dir: tempfile::TempDir,
    tree: Tree,
    run: std::path::PathBuf,
}

fn setup() -> Option<Setup> {
    if !support::require(&["nginx", "curl"]) {
        return None;
    }
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let run = dir.path().join("run");
    Some(Setup { tree, run, _dir: dir })
}

fn nginx_conf(s: &Setup, port: u16, upstream: &str) -> String {
    fill_template(
        &conf_example("nginx.conf"),
        &[
            ("NGINX_USER", support::nginx_user()),
            ("RUN_DIR", s.run.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", upstream.to_owned()),
            ("ROOT", s.tree.root.display().to_string()),
        ],
    )
}

fn serve_args(root: &Path, listen: &str) -> Vec<String> {
    vec![
        "--root".into(),
        root.display().to_string(),
        "--internal-prefix".into(),
        "/_protected".into(),
        "--strip-prefix".into(),
        "/dl".into(),
        "--listen".into(),
        listen.into(),
    ]
}

#[test]
fn nginx_with_xsendfiled_on_a_unix_socket() {
    let Some(s) = setup() else { return };
    let sock = s.run.join("xsendfiled.sock");
    std::fs::create_dir_all(&s.run).expect("mkdir");
    let args = serve_args(&s.tree.root, &format!("unix:{}", sock.display()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&s.run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let _n = nginx(&s.run, &nginx_conf(&s, port, &format!("unix:{}", sock.display())), port);
    check_table(port, &s.tree);
    // The daemon logged decisions to stderr, never to stdout.
    assert!(d.log_text().contains("-> offload plain.txt"));
}

#[test]
fn nginx_with_xsendfiled_on_tcp() {
    let Some(s) = setup() else { return };
    std::fs::create_dir_all(&s.run).expect("mkdir");
    let xport = support::free_port();
    let args = serve_args(&s.tree.root, &format!("127.0.0.1:{xport}"));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&s.run, "xsendfiled", &argv, &[("FCGI_WEB_SERVER_ADDRS", "127.0.0.1")]);
    wait_until("xsendfiled", Some(&mut d), || support::tcp_up(xport));
    let port = support::free_port();
    let _n = nginx(&s.run, &nginx_conf(&s, port, &format!("127.0.0.1:{xport}")), port);
    check_table(port, &s.tree);
}

fn spawn_fcgi(s: &Setup, socket_args: &[String]) -> support::Proc {
    let mut cmd = Command::new("spawn-fcgi");
    // -n: no fork, so the PID we hold is xsendfiled's own once spawn-fcgi execs it.
    cmd.arg("-n").args(socket_args).arg("--").arg(support::bin());
    cmd.env("XSENDFILED_ROOT", &s.tree.root)
        .env("XSENDFILED_INTERNAL_PREFIX", "/_protected")
        .env("XSENDFILED_STRIP_PREFIX", "/dl")
        .env("RUST_LOG", "debug")
        .env_remove("GATEWAY_INTERFACE");
    support::spawn(cmd, "spawn-fcgi", &s.run.join("spawn-fcgi.log"))
}

#[test]
fn nginx_with_xsendfiled_under_spawn_fcgi_tcp() {
    let Some(s) = setup() else { return };
    if !support::require(&["spawn-fcgi"]) {
        return;
    }
    std::fs::create_dir_all(&s.run).expect("mkdir");
    let xport = support::free_port();
    let mut p = spawn_fcgi(&s, &["-a".into(), "127.0.0.1".into(), "-p".into(), xport.to_string()]);
    wait_until("spawn-fcgi tcp", Some(&mut p), || support::tcp_up(xport));
    let port = support::free_port();
    let _n = nginx(&s.run, &nginx_conf(&s, port, &format!("127.0.0.1:{xport}")), port);
    check_table(port, &s.tree);
    assert!(p.log_text().contains("inherited fd 0"), "{}", p.log_text());
}

#[test]
fn nginx_with_xsendfiled_under_spawn_fcgi_unix() {
    let Some(s) = setup() else { return };
    if !support::require(&["spawn-fcgi"]) {
        return;
    }
    std::fs::create_dir_all(&s.run).expect("mkdir");
    let sock = s.run.join("spawned.sock");
    let mut p = spawn_fcgi(
        &s,
        &["-s".into(), sock.display().to_string(), "-M".into(), "0660".into()],
    );
    wait_until("spawn-fcgi unix", Some(&mut p), || support::unix_up(&sock));
    let port = support::free_port();
    let _n = nginx(&s.run, &nginx_conf(&s, port, &format!("unix:{}", sock.display())), port);
    check_table(port, &s.tree);
    assert!(p.log_text().contains("inherited fd 0"), "{}", p.log_text());
}

#[test]
fn nginx_with_xsendfiled_as_cgi_under_fcgiwrap() {
    let Some(s) = setup() else { return };
    if !support::require(&["/usr/sbin/fcgiwrap"]) {
        return;
    }
    std::fs::create_dir_all(&s.run).expect("mkdir");
    let sock = s.run.join("fcgiwrap.sock");
    let mut cmd = Command::new("/usr/sbin/fcgiwrap");
    cmd.arg("-c").arg("2").arg("-s").arg(format!("unix:{}", sock.display()));
    let mut w = support::spawn(cmd, "fcgiwrap", &s.run.join("fcgiwrap.log"));
    wait_until("fcgiwrap", Some(&mut w), || support::unix_up(&sock));
    let port = support::free_port();
    let conf = fill_template(
        &conf_example("nginx-cgi.conf"),
        &[
            ("NGINX_USER", support::nginx_user()),
            ("RUN_DIR", s.run.display().to_string()),
            ("PORT", port.to_string()),
            ("ROOT", s.tree.root.display().to_string()),
            ("XSENDFILED_BIN", support::bin().to_owned()),
            ("FCGIWRAP_SOCKET", sock.display().to_string()),
        ],
    );
    let _n = nginx(&s.run, &conf, port);
    check_table(port, &s.tree);
}
