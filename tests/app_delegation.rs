//! An application delegating downloads: a real PHP-FPM app behind nginx answers
//! `X-Accel-Redirect: /_xsendfiled/<path>?filename=...`, xsendfiled (trusting that query only on the
//! internal location) checks the path and names the file, nginx sends it.

mod support;

use std::process::Command;
use support::{curl, wait_until};

#[test]
fn php_fpm_app_hands_downloads_to_xsendfiled() {
    if !support::require(&["nginx", "curl", "/usr/sbin/php-fpm8.2"]) {
        return;
    }
    let ws = support::Workspace::new();
    let (tree, run) = (&ws.tree, &ws.run);
    // xsendfiled.
    let sock = run.join("x.sock");
    let args = [
        "--root",
        tree.root.to_str().expect("utf8"),
        "--internal-prefix",
        "/_protected",
        "--listen",
        &format!("unix:{}", sock.display()),
        "--access-log",
        run.join("access.log").to_str().expect("utf8"),
    ]
    .map(str::to_owned);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    // PHP-FPM with the example app.
    let app_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conf-examples/app");
    let php_sock = run.join("php.sock");
    let user = if support::nginx_user() == "root" { "www-data".to_string() } else { support::nginx_user() };
    let fpm_conf = format!(
        "[global]\npid = {run}/php-fpm.pid\nerror_log = {run}/php-fpm.log\ndaemonize = no\n\
         [app]\nlisten = {sock}\nlisten.mode = 0666\nuser = {user}\ngroup = {user}\npm = static\npm.max_children = 2\n\
         catch_workers_output = yes\n",
        run = run.display(),
        sock = php_sock.display()
    );
    std::fs::write(run.join("php-fpm.conf"), fpm_conf).expect("write");
    let mut cmd = Command::new("/usr/sbin/php-fpm8.2");
    cmd.arg("--nodaemonize").arg("--fpm-config").arg(run.join("php-fpm.conf"));
    if support::nginx_user() == "root" {
        cmd.arg("--allow-to-run-as-root");
    }
    let mut fpm = support::spawn(cmd, "php-fpm", &run.join("php-fpm.stderr"));
    wait_until("php-fpm", Some(&mut fpm), || support::unix_up(&php_sock));
    // nginx with the example configuration.
    let port = support::free_port();
    let conf = support::fill_template(
        &support::conf_example("nginx-app-delegation.conf"),
        &[
            ("NGINX_USER", support::nginx_user()),
            ("RUN_DIR", run.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", format!("unix:{}", sock.display())),
            ("ROOT", tree.root.display().to_string()),
            ("APP_DIR", app_dir.display().to_string()),
            ("PHP_SOCKET", php_sock.display().to_string()),
        ],
    );
    let _n = support::nginx(run, &conf, port);
    let base = format!("http://127.0.0.1:{port}/download");
    let cookie = ["-H", "Cookie: session=alice"];

    // The app's decision stands: no session, no file.
    assert_eq!(curl(&format!("{base}?file=plain.txt"), &[]).status, 403);
    // Allowed: nginx sends the bytes, with the name the app chose, encoded by xsendfiled.
    let r = curl(&format!("{base}?file=dir%20with%20space/%C3%A4%20%C3%B6.txt"), &cookie);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"nested unicode\n"[..]), "{r:?}");
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    assert_eq!(
        r.header("Content-Disposition"),
        Some("attachment; filename=\"Alice's _ _.txt\"; filename*=UTF-8''Alice%27s%20%C3%A4%20%C3%B6.txt")
    );
    for name in ["a b.txt", "100%.txt", "q?x.txt", "h#x.txt", "%41.txt", "sub/deep/er/file.txt"] {
        let q: String = name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"/._-".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let r = curl(&format!("{base}?file={q}"), &cookie);
        let want = support::SERVABLE.iter().find(|(n, _)| *n == name).expect("servable").1;
        assert_eq!((r.status, r.body.as_slice()), (200, want.as_bytes()), "{name}: {r:?}");
    }
    // The app passes user input straight through; xsendfiled keeps it inside the root.
    for hostile in ["../outside/secret.txt", "link-out.txt", "link-sibling", ".hidden", "sub", "missing.txt"] {
        let r = curl(&format!("{base}?file={hostile}"), &cookie);
        assert_eq!(r.status, 404, "{hostile}: {r:?}");
        assert!(!String::from_utf8_lossy(&r.body).contains("SECRET"));
    }
    // The internal locations cannot be requested directly, so nobody else can use the trusted query.
    let r = curl(&format!("http://127.0.0.1:{port}/_xsendfiled/plain.txt?filename=evil.html&disposition=inline"), &[]);
    assert_eq!(r.status, 404);
    // Who downloaded what.
    let log = std::fs::read_to_string(run.join("access.log")).expect("access log");
    assert!(
        log.lines().any(|l| l.contains("\"file\":\"dir with space/ä ö.txt\"") && l.contains("\"decision\":\"send\"")),
        "{log}"
    );
}
