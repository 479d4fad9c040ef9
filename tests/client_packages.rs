//! The client packages end to end (clients/ruby, clients/php, clients/node). Each delegates
//! downloads from a real app behind real nginx: a Sinatra app under puma with the gem and its
//! Rack::Sendfile replacement (`conf-examples/app/download_gem.ru`), PHP-FPM apps with the PHP
//! package (`download_package.php`, `send_file_package.php`), an Express app with the npm package
//! and its res.download replacement (`download_express.js`). The Sinatra, PHP and Express apps also
//! ask over the app socket instead of delegating, return the answer as their own response, and
//! answer a refused file with their own 404 page. The tricky names come back byte-exact, ranges are 206, HEAD works, hidden
//! and missing files are 404, and the client gets exactly one Content-Disposition, also when the
//! app writes its own. Then each client mints a link for every SDL1 claim: byte-identical to
//! `xsendfiled sign`, accepted by the daemon with the same keys, and refused (403) once tampered
//! with.

use crate::support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use support::{curl, url_path, wait_until, Proc, Reply};

pub(crate) fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Names under the root the apps hand over (support::SERVABLE has their contents).
pub(crate) const TRICKY: &[&str] = &[
    "plain.txt",
    "a b.txt",
    "100%.txt",
    "q?x.txt",
    "h#x.txt",
    "%41.txt",
    "ü.txt",
    "是.txt",
    "trail ",
    "semi;colon=1&x+y.txt",
    "quote'\"`.txt",
    "dir with space/ä ö.txt",
    "sub/deep/er/file.txt",
];

/// Requests the app delegating with a package must refuse with 404, whatever the app passes on.
pub(crate) const NOT_SERVED: &[&str] =
    &["../outside/secret.txt", "link-out.txt", "link-sibling", ".hidden", "sub", "missing.txt"];

pub(crate) fn content(name: &str) -> &'static str {
    support::SERVABLE.iter().find(|(n, _)| *n == name).map(|(_, c)| *c).expect("servable")
}

/// RFC 8187 encoding of `s` as xsendfiled writes `filename*` (attr-chars kept).
fn ext_value(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub(crate) fn basename(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

pub(crate) fn get(url: &str, extra: &[&str]) -> Reply {
    let mut args = vec!["-H", "Cookie: session=alice"];
    args.extend_from_slice(extra);
    curl(url, &args)
}

/// The one Content-Disposition of `r`, which must name `name`: in `filename*` when there is one,
/// else in the quoted `filename`.
pub(crate) fn one_disposition(r: &Reply, name: &str, what: &str) {
    assert_eq!(r.header_count("Content-Disposition"), 1, "{what}: {r:?}");
    let cd = r.header("Content-Disposition").unwrap_or_default();
    let named = match cd.split_once("filename*=UTF-8''") {
        Some((_, ext)) => ext == ext_value(name),
        None => cd.split_once("filename=\"").is_some_and(|(_, q)| {
            q.strip_suffix('"').is_some_and(|q| q.replace("\\\"", "\"").replace("\\\\", "\\") == name)
        }),
    };
    assert!(named, "{what}: {cd} does not name {name:?}");
}

/// Downloads `query` (`file=...` and more) from `/download`-style `url` and checks the whole
/// behaviour: every tricky name byte-exact with one Content-Disposition naming `expect_name(file)`,
/// a range, HEAD, and the files that must stay 404.
pub(crate) fn check_handover(app: &str, url: &dyn Fn(&str) -> String, expect_name: &dyn Fn(&str) -> String) {
    for name in TRICKY {
        let r = get(&url(&url_path(name.as_bytes())), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, content(name).as_bytes()), "{app}: {name}: {r:?}");
        one_disposition(&r, &expect_name(name), &format!("{app}: {name}"));
        assert_eq!(r.header("X-Accel-Redirect"), None, "{app}: the app's header never reaches the client");
    }
    let r = get(&url("plain.txt"), &[]);
    assert_eq!(r.header("Content-Type"), Some("text/plain"), "{app}: xsendfiled's type, no charset: {r:?}");
    let r = get(&url("plain.txt"), &["-H", "Range: bytes=1-3"]);
    assert_eq!((r.status, r.body.as_slice()), (206, &b"lai"[..]), "{app}: {r:?}");
    assert_eq!(r.header("Content-Range"), Some("bytes 1-3/6"), "{app}");
    let r = get(&url(&url_path("dir with space/ä ö.txt".as_bytes())), &["--head"]);
    assert_eq!((r.status, r.body.len()), (200, 0), "{app}: HEAD {r:?}");
    assert_eq!(r.header("Content-Length"), Some("15"), "{app}: HEAD {r:?}");
    one_disposition(&r, &expect_name("dir with space/ä ö.txt"), &format!("{app}: HEAD"));
    for name in NOT_SERVED {
        let r = get(&url(name), &[]);
        assert_eq!(r.status, 404, "{app}: {name}: {r:?}");
        assert!(!String::from_utf8_lossy(&r.body).contains("SECRET"), "{app}: {name}");
        let r = get(&url(name), &["--head"]);
        assert_eq!(r.status, 404, "{app}: HEAD {name}: {r:?}");
    }
}

/// The checks every package app passes: the app's decision stands (no session, 403), delegation
/// with the name the app chose, and the app's own Content-Disposition as the only one.
fn check_app(app: &str, port: u16, own: &dyn Fn(&str) -> String) {
    let base = format!("http://127.0.0.1:{port}/download");
    let r = curl(&format!("{base}?file=plain.txt"), &[]);
    assert_eq!((r.status, r.body.as_slice()), (403, &b"please log in\n"[..]), "{app}: {r:?}");
    check_handover(app, &|q| format!("{base}?file={q}"), &|name| format!("Alice's {}", basename(name)));
    let r = get(&format!("{base}?file={}", url_path("dir with space/ä ö.txt".as_bytes())), &[]);
    assert_eq!(
        r.header("Content-Disposition"),
        Some("attachment; filename=\"Alice's _ _.txt\"; filename*=UTF-8''Alice%27s%20%C3%A4%20%C3%B6.txt"),
        "{app}"
    );
    // The app writes its own Content-Disposition: still exactly one.
    for name in ["plain.txt", "dir with space/ä ö.txt"] {
        let r = get(&own(&url_path(name.as_bytes())), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, content(name).as_bytes()), "{app}: own {name}: {r:?}");
        assert_eq!(r.header_count("Content-Disposition"), 1, "{app}: own {name}: {r:?}");
        let cd = r.header("Content-Disposition").unwrap_or_default();
        assert!(
            cd.contains("chosen-by-app.txt") || cd.contains(&ext_value(&format!("Report of {}", basename(name)))),
            "{cd}"
        );
    }
}

/// nginx with `conf-examples/nginx-app-delegation-proxy.conf` in front of the app on `app_port`,
/// and xsendfiled.
pub(crate) fn proxy_site(ws: &support::Workspace, app_port: u16) -> (u16, Vec<Proc>) {
    let (d, sock) = support::app::delegation_daemon(ws);
    let port = support::free_port();
    let conf = support::fill_template(
        &support::conf_example("nginx-app-delegation-proxy.conf"),
        &[
            ("NGINX_USER", support::nginx_user()),
            ("RUN_DIR", ws.run.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", format!("unix:{}", sock.display())),
            ("ROOT", ws.tree.root.display().to_string()),
            ("APP_UPSTREAM", format!("http://127.0.0.1:{app_port}")),
        ],
    );
    let n = support::nginx(&ws.run, &conf, port);
    (port, vec![n, d])
}

/// The Sinatra app with the gem (`conf-examples/app/download_gem.ru`) under puma, behind nginx
/// with `nginx-app-delegation-proxy.conf` and xsendfiled: nginx's port and the processes.
pub(crate) fn gem_site(ws: &support::Workspace) -> (u16, Vec<Proc>) {
    let app_port = support::free_port();
    let mut cmd = Command::new("puma");
    cmd.args(["--environment", "production", "--threads", "1:2", "--bind", &format!("tcp://127.0.0.1:{app_port}")])
        .arg(repo().join("conf-examples/app/download_gem.ru"))
        .env("RUBYLIB", repo().join("clients/ruby/lib"))
        .env("FILES_ROOT", &ws.tree.root)
        .env("APP_SOCKET", ws.run.join("app.sock"));
    let mut p = support::spawn(cmd, "puma", &ws.run.join("puma.log"));
    wait_until("puma", Some(&mut p), || support::tcp_up(app_port));
    let (port, mut procs) = proxy_site(ws, app_port);
    procs.push(p);
    (port, procs)
}

#[test]
fn sinatra_app_under_puma_delegates_with_the_gem() {
    if !support::require(&["nginx", "curl", "puma", "ruby"]) {
        return;
    }
    let ws = support::Workspace::new();
    let (port, _site) = gem_site(&ws);
    let _asked = ask_daemon(&ws, &[]);
    check_asking_app("sinatra ask", port, "/download");
    check_app("sinatra", port, &|q| format!("http://127.0.0.1:{port}/download?file={q}&own=1"));
    // Sinatra's own send_file, handed over by Xsendfiled::Rack::Sendfile with send_file's name.
    check_handover(
        "sinatra send_file",
        &|q| format!("http://127.0.0.1:{port}/download?file={q}&via=send_file"),
        &|name| format!("Report of {}", basename(name)),
    );
}

/// The user PHP-FPM's workers run as.
fn php_user() -> String {
    if support::nginx_user() == "root" {
        "www-data".to_string()
    } else {
        support::nginx_user()
    }
}

/// PHP-FPM (as support::app starts it) on `run/php.sock`, with `env` in its pool's environment.
pub(crate) fn php_fpm(run: &Path, env: &[(&str, &str)]) -> (Proc, std::path::PathBuf) {
    let php_sock = run.join("php.sock");
    let user = php_user();
    let mut fpm_conf = format!(
        "[global]\npid = {run}/php-fpm.pid\nerror_log = {run}/php-fpm.log\ndaemonize = no\n\
         [app]\nlisten = {sock}\nlisten.mode = 0666\nuser = {user}\ngroup = {user}\npm = static\npm.max_children = 2\n\
         catch_workers_output = yes\n",
        run = run.display(),
        sock = php_sock.display()
    );
    for (k, v) in env {
        fpm_conf.push_str(&format!("env[{k}] = {v}\n"));
    }
    std::fs::write(run.join("php-fpm.conf"), fpm_conf).expect("write");
    let mut cmd = Command::new(support::app::PHP_FPM);
    cmd.arg("--nodaemonize").arg("--fpm-config").arg(run.join("php-fpm.conf"));
    if support::nginx_user() == "root" {
        cmd.arg("--allow-to-run-as-root");
    }
    let mut fpm = support::spawn(cmd, "php-fpm", &run.join("php-fpm.stderr"));
    wait_until("php-fpm", Some(&mut fpm), || support::unix_up(&php_sock));
    (fpm, php_sock)
}

/// xsendfiled, PHP-FPM and nginx with `conf-examples/nginx-app-delegation.conf`, whose
/// APP_DIR/download.php and APP_DIR/send_file.php are `apps` (files of conf-examples/app/).
pub(crate) fn php_site(ws: &support::Workspace, apps: [&str; 2], env: &[(&str, &str)]) -> (u16, Vec<Proc>) {
    let run = &ws.run;
    let (d, sock) = support::app::delegation_daemon(ws);
    let app_dir = run.join("app");
    std::fs::create_dir_all(&app_dir).expect("mkdir app");
    for (link, target) in ["download.php", "send_file.php"].into_iter().zip(apps) {
        std::os::unix::fs::symlink(repo().join("conf-examples/app").join(target), app_dir.join(link)).expect("symlink");
    }
    let (fpm, php_sock) = php_fpm(run, env);
    let port = support::free_port();
    let conf = support::fill_template(
        &support::conf_example("nginx-app-delegation.conf"),
        &[
            ("NGINX_USER", support::nginx_user()),
            ("RUN_DIR", run.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", format!("unix:{}", sock.display())),
            ("ROOT", ws.tree.root.display().to_string()),
            ("APP_DIR", app_dir.display().to_string()),
            ("PHP_SOCKET", php_sock.display().to_string()),
        ],
    );
    (port, vec![support::nginx(run, &conf, port), fpm, d])
}

#[test]
fn php_fpm_apps_delegate_with_the_php_package() {
    if !support::require(&["nginx", "curl", support::app::PHP_FPM]) {
        return;
    }
    let ws = support::Workspace::new();
    // The package versions of download.php and send_file.php; the pool's environment names the
    // app socket, whose group is the pool's user (root runs the workers as www-data).
    let app_sock = ws.run.join("app.sock");
    let (port, _procs) = php_site(
        &ws,
        ["download_package.php", "send_file_package.php"],
        &[("APP_SOCKET", app_sock.to_str().expect("utf8"))],
    );
    let group = php_user();
    let _asked = ask_daemon(&ws, &["--socket-group", &group]);
    check_asking_app("php-fpm ask", port, "/download");
    check_app("php-fpm", port, &|q| format!("http://127.0.0.1:{port}/send-file?file={q}"));
    let r =
        get(&format!("http://127.0.0.1:{port}/send-file?file={}", url_path("dir with space/ä ö.txt".as_bytes())), &[]);
    assert_eq!(
        r.header("Content-Disposition"),
        Some("attachment; filename=\"Report of __ __.txt\"; filename*=UTF-8''Report%20of%20%C3%A4%20%C3%B6.txt"),
        "the app's own, as it wrote it: {r:?}"
    );
}

/// Node running `script` (an Express app of the repository) on a port of its own, with the npm
/// package installed as an app would have it (node_modules/xsendfiled) and Express: its port and
/// process.
pub(crate) fn express_app(ws: &support::Workspace, script: &str) -> (u16, Proc) {
    let modules = repo().join("target/clients/node/node_modules");
    assert!(
        modules.join("express").is_dir(),
        "express is missing from target/clients/node: run ./scripts/install-deps.sh"
    );
    let own_modules = ws.run.join("node_modules");
    std::fs::create_dir_all(&own_modules).expect("mkdir");
    if !own_modules.join("xsendfiled").exists() {
        std::os::unix::fs::symlink(repo().join("clients/node"), own_modules.join("xsendfiled")).expect("symlink");
    }
    let app_port = support::free_port();
    let mut cmd = Command::new("node");
    cmd.arg(repo().join(script))
        .env("NODE_PATH", format!("{}:{}", own_modules.display(), modules.display()))
        .env("NODE_ENV", "production")
        .env("PORT", app_port.to_string())
        .env("FILES_ROOT", &ws.tree.root)
        .env("APP_SOCKET", ws.run.join("app.sock"));
    let mut p = support::spawn(cmd, "node", &ws.run.join(format!("node-{app_port}.log")));
    wait_until("express", Some(&mut p), || support::tcp_up(app_port));
    (app_port, p)
}

/// The Express app with the npm package (`conf-examples/app/download_express.js`), behind nginx
/// with `nginx-app-delegation-proxy.conf` and xsendfiled: nginx's port and the processes.
pub(crate) fn express_site(ws: &support::Workspace) -> (u16, Vec<Proc>) {
    let (app_port, p) = express_app(ws, "conf-examples/app/download_express.js");
    let (port, mut procs) = proxy_site(ws, app_port);
    procs.push(p);
    (port, procs)
}

#[test]
fn express_app_delegates_with_the_npm_package() {
    if !support::require(&["nginx", "curl", "node"]) {
        return;
    }
    let ws = support::Workspace::new();
    let (port, _site) = express_site(&ws);
    let _asked = ask_daemon(&ws, &[]);
    check_asking_app("express ask", port, "/download");
    check_app("express", port, &|q| format!("http://127.0.0.1:{port}/download?file={q}&own=1"));
    // Express's own res.download, handed over by the middleware with res.download's name.
    check_handover(
        "express res.download",
        &|q| format!("http://127.0.0.1:{port}/download?file={q}&via=download"),
        &|name| format!("Report of {}", basename(name)),
    );
}

/// The app on nginx's `port` asks instead of delegating (`path?file=F&ask=1`): the answer's headers
/// are its response and nginx follows X-Accel-Redirect; a refused file is the app's own 404 page
/// (it saw 404 when it asked); no `Xsendfiled-*` field reaches the client.
fn check_asking_app(app: &str, port: u16, path: &str) {
    let url = |q: &str| format!("http://127.0.0.1:{port}{path}?file={q}&ask=1");
    check_handover(app, &url, &|name| format!("Alice's {}", basename(name)));
    let queries = TRICKY.iter().map(|n| url_path(n.as_bytes())).chain(NOT_SERVED.iter().map(|n| n.to_string()));
    for q in queries {
        for extra in [&[][..], &["--head"][..]] {
            let r = get(&url(&q), extra);
            let leaked: Vec<_> =
                r.headers.iter().filter(|(n, _)| n.to_ascii_lowercase().starts_with("xsendfiled-")).collect();
            assert!(leaked.is_empty(), "{app}: {q} {extra:?}: {leaked:?}");
        }
    }
    for name in NOT_SERVED {
        let r = get(&url(name), &[]);
        assert_eq!(
            (r.status, r.body.as_slice()),
            (404, &b"no such file, said xsendfiled\n"[..]),
            "{app}: {name}: {r:?}"
        );
        assert_eq!(r.header_count("Content-Disposition"), 0, "{app}: {name}: {r:?}");
    }
}

/// xsendfiled with an app socket at `run/app.sock` (and `extra` options), naming files under
/// nginx's `/_protected/`.
fn ask_daemon(ws: &support::Workspace, extra: &[&str]) -> Proc {
    let sock = ws.run.join("app.sock");
    let root = ws.tree.root.display().to_string();
    let mut args =
        vec!["--root", &root, "--internal-prefix", "/_protected", "--app-socket", sock.to_str().expect("utf8")];
    args.extend_from_slice(extra);
    let mut d = support::daemon(&ws.run, "xsendfiled-ask", &args, &[]);
    wait_until("the app socket", Some(&mut d), || support::unix_up(&sock));
    d
}

// --- signed links ------------------------------------------------------------------------------

const KEY_HEX: &str = "5eed5eed000102030405060708090a0b0c0d0e0f101112131415161718191a1b";

/// Runs one client's mint script (tests/clients/mint.*) on `spec`; the links it printed.
fn mint(client: &str, spec: &serde_json::Value) -> Vec<String> {
    let dir = repo().join("tests/clients");
    let mut cmd = match client {
        "ruby" => {
            let mut c = Command::new("ruby");
            c.arg(dir.join("mint.rb")).env("RUBYLIB", repo().join("clients/ruby/lib"));
            c
        }
        "php" => {
            let mut c = Command::new("php");
            c.arg(dir.join("mint.php"));
            c
        }
        _ => {
            let mut c = Command::new("node");
            c.arg(dir.join("mint.js"));
            c
        }
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{client}: {e}"));
    child.stdin.take().expect("stdin").write_all(spec.to_string().as_bytes()).expect("write spec");
    let out = child.wait_with_output().expect("mint");
    assert!(out.status.success(), "{client}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{client}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// `xsendfiled sign` for the same case.
fn cli_sign(keys: &Path, kid: &str, case: &serde_json::Value) -> String {
    let mut cmd = Command::new(support::bin());
    cmd.args(["sign", "--keys"]).arg(keys).args(["--kid", kid, "--expires-at", &case["exp"].to_string()]);
    for (opt, field) in [
        ("--not-before-at", "nbf"),
        ("--prefix", "prefix"),
        ("--ip", "network"),
        ("--filename", "filename"),
        ("--disposition", "disposition"),
        ("--id", "id"),
        ("--uses", "uses"),
    ] {
        match &case[field] {
            serde_json::Value::Null => {}
            serde_json::Value::String(s) => {
                cmd.args([opt, s]);
            }
            v => {
                cmd.args([opt, &v.to_string()]);
            }
        }
    }
    if let Some(gw) = case["gw"].as_u64() {
        cmd.args(["--grant-window", &format!("{gw}s")]);
    }
    let out = cmd.arg(case["path"].as_str().expect("path")).output().expect("sign");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8").trim().to_owned()
}

fn tamper(link: &str) -> String {
    let last = if link.ends_with('A') { 'B' } else { 'A' };
    format!("{}{last}", &link[..link.len() - 1])
}

#[test]
fn links_minted_by_each_client_are_verified_by_the_daemon() {
    if !support::require(&["nginx", "curl", "ruby", "php", "node"]) {
        return;
    }
    let ws = support::Workspace::new();
    let (tree, run) = (&ws.tree, &ws.run);
    let keys = run.join("keys");
    std::fs::write(&keys, format!("k1 hex:{KEY_HEX}\n")).expect("keys");
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    let sock = run.join("x.sock");
    let mut args = support::guard_args(&tree.root, Some(&format!("unix:{}", sock.display())));
    args.extend(["--keys".into(), keys.display().to_string(), "--require-signature".into()]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", run, &tree.root, &format!("unix:{}", sock.display()), port);
    let base = format!("http://127.0.0.1:{port}");

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let (exp, nbf) = (now + 600, now - 60);
    let case = |path: &str, claims: serde_json::Value| {
        let mut c = serde_json::json!({"path": path, "exp": exp, "nbf": null, "prefix": null, "network": null,
                                       "filename": null, "disposition": null});
        for (k, v) in claims.as_object().expect("object") {
            c[k] = v.clone();
        }
        c
    };
    // (case, file served, Content-Disposition it must end with)
    let mut accepted: Vec<(serde_json::Value, &str, Option<String>)> =
        TRICKY.iter().map(|n| (case(&format!("/dl/{n}"), serde_json::json!({})), *n, None)).collect();
    accepted.extend([
        (case("/dl/plain.txt", serde_json::json!({"nbf": nbf})), "plain.txt", None),
        (case("/dl/sub/deep/er/file.txt", serde_json::json!({"prefix": "/dl/sub/"})), "sub/deep/er/file.txt", None),
        (case("/dl/plain.txt", serde_json::json!({"network": "127.0.0.0/8"})), "plain.txt", None),
        (case("/dl/plain.txt", serde_json::json!({"network": "127.0.0.1"})), "plain.txt", None),
        (
            case("/dl/a b.txt", serde_json::json!({"filename": "Q3 résumé.txt"})),
            "a b.txt",
            Some("filename*=UTF-8''Q3%20r%C3%A9sum%C3%A9.txt".to_owned()),
        ),
        (
            case("/dl/plain.txt", serde_json::json!({"disposition": "attachment"})),
            "plain.txt",
            Some("attachment; filename=\"plain.txt\"".to_owned()),
        ),
        (
            case(
                "/dl/dir with space/ä ö.txt",
                serde_json::json!({"nbf": nbf, "prefix": "/dl/dir with space/", "network": "127.0.0.1/24",
                                   "filename": "Ä ö+.txt", "disposition": "inline"}),
            ),
            "dir with space/ä ö.txt",
            Some("inline; filename=\"_ _+.txt\"; filename*=UTF-8''%C3%84%20%C3%B6+.txt".to_owned()),
        ),
    ]);
    // (case, status): valid signatures the daemon still refuses.
    let refused = [
        (case("/dl/plain.txt", serde_json::json!({"network": "203.0.113.0/24"})), 403),
        (case("/dl/plain.txt", serde_json::json!({"nbf": now + 3600, "exp": now + 7200})), 403),
        (case("/dl/plain.txt", serde_json::json!({"exp": now - 60})), 410),
    ];
    let mut cases: Vec<serde_json::Value> = accepted.iter().map(|(c, _, _)| c.clone()).collect();
    cases.extend(refused.iter().map(|(c, _)| c.clone()));
    let want: Vec<String> = cases.iter().map(|c| cli_sign(&keys, "k1", c)).collect();
    let spec = serde_json::json!({"key_hex": KEY_HEX, "kid": "k1", "cases": cases});
    for client in ["ruby", "php", "node"] {
        let links = mint(client, &spec);
        assert_eq!(links, want, "{client}: byte-identical to xsendfiled sign");
        for ((c, file, cd), link) in accepted.iter().zip(&links) {
            let r = curl(&format!("{base}{link}"), &[]);
            assert_eq!((r.status, r.body.as_slice()), (200, content(file).as_bytes()), "{client}: {c}: {link}: {r:?}");
            if let Some(cd) = cd {
                let got = r.header("Content-Disposition").unwrap_or_default();
                assert!(got.ends_with(cd.as_str()), "{client}: {c}: {got}");
            }
            let r = curl(&format!("{base}{}", tamper(link)), &[]);
            assert_eq!(r.status, 403, "{client}: tampered {link}: {r:?}");
            let r =
                curl(&format!("{base}{}", link.replacen(&format!("exp={exp}"), &format!("exp={}", exp + 1), 1)), &[]);
            assert_eq!(r.status, 403, "{client}: a later expiry: {link}: {r:?}");
        }
        for ((c, status), link) in refused.iter().zip(&links[accepted.len()..]) {
            let r = curl(&format!("{base}{link}"), &[]);
            assert_eq!(r.status, *status, "{client}: {c}: {link}: {r:?}");
        }
        // A prefix link names every file below the prefix, and no other.
        let prefixed = &links[TRICKY.len() + 1];
        let elsewhere = prefixed.replacen("/dl/sub/deep/er/file.txt", "/dl/plain.txt", 1);
        assert_eq!(curl(&format!("{base}{elsewhere}"), &[]).status, 403, "{client}: {elsewhere}");
        let below = prefixed.replacen("/dl/sub/deep/er/file.txt", "/dl/sub/in.txt", 1);
        let r = curl(&format!("{base}{below}"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"in sub\n"[..]), "{client}: {below}");
    }
}

/// `clients/vectors/sdl1.json`, which every client's own tests read, is what `xsendfiled sign`
/// prints, and each case's canonical string is what its signature covers.
#[test]
fn shared_vectors_are_what_xsendfiled_sign_prints() {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let text = std::fs::read_to_string(repo().join("clients/vectors/sdl1.json")).expect("vectors");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    let ws = support::Workspace::new();
    let keys = ws.run.join("keys");
    let mut lines = String::new();
    for k in doc["keys"].as_array().expect("keys") {
        lines.push_str(&format!(
            "{} hex:{}\n",
            k["kid"].as_str().expect("kid"),
            k["secret_hex"].as_str().expect("hex")
        ));
    }
    std::fs::write(&keys, lines).expect("keys");
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    let cases = doc["sign"].as_array().expect("sign");
    assert!(cases.len() >= 10, "{}", cases.len());
    for c in cases {
        let kid = c["kid"].as_str().expect("kid");
        let url = c["url"].as_str().expect("url");
        assert_eq!(cli_sign(&keys, kid, c), url, "{}", c["name"]);
        let hex = doc["keys"].as_array().expect("keys").iter().find(|k| k["kid"] == kid).expect("key")["secret_hex"]
            .as_str()
            .expect("hex")
            .to_owned();
        let key: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect();
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).expect("key");
        mac.update(c["canonical"].as_str().expect("canonical").as_bytes());
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        assert!(url.ends_with(&format!("&sig={sig}")), "{}: the canonical string is not what was signed", c["name"]);
    }
}
