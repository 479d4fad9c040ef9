//! The application-delegation stack of `conf-examples/nginx-app-delegation.conf`, real and whole:
//! xsendfiled, PHP-FPM running `conf-examples/app/*.php`, and nginx. Shared by the curl test
//! (tests/app_delegation.rs) and the browser test (tests/browser.rs).

use super::{daemon, nginx, spawn, unix_up, wait_until, Proc, Workspace};
use std::process::Command;

/// The PHP-FPM binary the stack needs (list it in `support::require`).
pub const PHP_FPM: &str = "/usr/sbin/php-fpm8.2";

/// The running stack; every process is stopped by PID when dropped (nginx first).
pub struct AppStack {
    /// nginx's port on 127.0.0.1.
    pub port: u16,
    _nginx: Proc,
    _fpm: Proc,
    _xsendfiled: Proc,
}

/// xsendfiled as every delegation example runs it: `--root` the workspace tree, `--internal-prefix
/// /_protected`, the access log in `run/access.log`, on `run/x.sock`; up, with its socket path.
pub fn delegation_daemon(ws: &Workspace) -> (Proc, std::path::PathBuf) {
    let (tree, run) = (&ws.tree, &ws.run);
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
    let mut d = daemon(run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || unix_up(&sock));
    (d, sock)
}

/// Starts xsendfiled (`--root` the workspace tree, `--internal-prefix /_protected`, the access log
/// in `run/access.log`), PHP-FPM with the example apps, and nginx with the example configuration.
pub fn start(ws: &Workspace) -> AppStack {
    let (tree, run) = (&ws.tree, &ws.run);
    let (d, sock) = delegation_daemon(ws);
    // PHP-FPM with the example apps.
    let app_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conf-examples/app");
    let php_sock = run.join("php.sock");
    let user = if super::nginx_user() == "root" { "www-data".to_string() } else { super::nginx_user() };
    let fpm_conf = format!(
        "[global]\npid = {run}/php-fpm.pid\nerror_log = {run}/php-fpm.log\ndaemonize = no\n\
         [app]\nlisten = {sock}\nlisten.mode = 0666\nuser = {user}\ngroup = {user}\npm = static\npm.max_children = 2\n\
         catch_workers_output = yes\n",
        run = run.display(),
        sock = php_sock.display()
    );
    std::fs::write(run.join("php-fpm.conf"), fpm_conf).expect("write");
    let mut cmd = Command::new(PHP_FPM);
    cmd.arg("--nodaemonize").arg("--fpm-config").arg(run.join("php-fpm.conf"));
    if super::nginx_user() == "root" {
        cmd.arg("--allow-to-run-as-root");
    }
    let mut fpm = spawn(cmd, "php-fpm", &run.join("php-fpm.stderr"));
    wait_until("php-fpm", Some(&mut fpm), || unix_up(&php_sock));
    // nginx with the example configuration.
    let port = super::free_port();
    let conf = super::fill_template(
        &super::conf_example("nginx-app-delegation.conf"),
        &[
            ("NGINX_USER", super::nginx_user()),
            ("RUN_DIR", run.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", format!("unix:{}", sock.display())),
            ("ROOT", tree.root.display().to_string()),
            ("APP_DIR", app_dir.display().to_string()),
            ("PHP_SOCKET", php_sock.display().to_string()),
        ],
    );
    let n = nginx(run, &conf, port);
    AppStack { port, _nginx: n, _fpm: fpm, _xsendfiled: d }
}
