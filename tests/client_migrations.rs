//! The migration guides' diffs, run: docs/migrate-rack.md (Rack::Sendfile to
//! Xsendfiled::Rack::Sendfile, a Sinatra app under puma) and docs/migrate-symfony.md
//! (BinaryFileResponse's X-Sendfile to the PHP package, under PHP-FPM),
//! docs/migrate-xsendfile-middleware.md (xsendfile_middleware to the Python package's delegate(),
//! under gunicorn) and docs/migrate-express.md (Express res.download through the npm package's
//! middleware) and docs/migrate-flask.md (Flask's `USE_X_SENDFILE` to the Python package's
//! delegate(), under gunicorn). Each guide's diff is checked to turn `conf-examples/app/migrate/*_before.*` into
//! `*_after.*` exactly; the before app runs behind the usual nginx setup for it (an `internal`
//! alias location, or plain `proxy_pass`) and shows the faults the guide names; the after app runs
//! behind the delegation example configuration with xsendfiled and passes the client packages'
//! checks.

use crate::client_packages::{check_handover, get, php_site, proxy_site, repo};
use crate::support;

use std::process::Command;
use support::{wait_until, Proc, Workspace};

/// Every ```diff block of `doc` (a full-file diff: `--- before`, `+++ after`, then every line
/// prefixed with ' ', '-' or '+') must turn the file it names first into the second.
fn check_diffs(doc: &str) -> usize {
    let text = std::fs::read_to_string(repo().join(doc)).expect("doc");
    let mut blocks = 0;
    let mut rest = text.as_str();
    while let Some(start) = rest.find("```diff\n") {
        let body = &rest[start + 8..];
        let end = body.find("\n```").expect("closed block");
        let mut lines = body[..end].lines();
        let before = lines.next().and_then(|l| l.strip_prefix("--- ")).expect("--- before");
        let after = lines.next().and_then(|l| l.strip_prefix("+++ ")).expect("+++ after");
        let (mut old, mut new) = (String::new(), String::new());
        for l in lines {
            let (mark, line) = l.split_at(l.len().min(1));
            match mark {
                " " | "" => {
                    old.push_str(line);
                    old.push('\n');
                    new.push_str(line);
                    new.push('\n');
                }
                "-" => {
                    old.push_str(line);
                    old.push('\n');
                }
                "+" => {
                    new.push_str(line);
                    new.push('\n');
                }
                _ => panic!("{doc}: diff line {l:?}"),
            }
        }
        let read = |f: &str| std::fs::read_to_string(repo().join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(old, read(before), "{doc}: the diff's old side is not {before}");
        assert_eq!(new, read(after), "{doc}: the diff's new side is not {after}");
        blocks += 1;
        rest = &body[end + 4..];
    }
    blocks
}

/// nginx as apps configure it for a plain X-Accel-Redirect setup: `app` (a location block) and
/// an internal alias of the files at /_files/.
fn legacy_nginx(ws: &Workspace, app: &str) -> (u16, Proc) {
    let port = support::free_port();
    let conf = format!(
        "user {user};\nworker_processes 1;\npid {run}/nginx.pid;\nerror_log {run}/error.log warn;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n  access_log off;\n\
           client_body_temp_path {run}/client_body;\n  fastcgi_temp_path {run}/fastcgi;\n  proxy_temp_path {run}/proxy;\n\
           uwsgi_temp_path {run}/uwsgi;\n  scgi_temp_path {run}/scgi;\n\
           server {{\n    listen 127.0.0.1:{port};\n    {app}\n\
             location /_files/ {{ internal; alias {root}/; }}\n  }}\n}}\n",
        user = support::nginx_user(),
        run = ws.run.display(),
        root = ws.tree.root.display(),
    );
    (port, support::nginx(&ws.run, &conf, port))
}

fn puma(ws: &Workspace, app: &str, log: &str) -> (u16, Proc) {
    let app_port = support::free_port();
    let mut cmd = Command::new("puma");
    cmd.args(["--environment", "production", "--threads", "1:2", "--bind", &format!("tcp://127.0.0.1:{app_port}")])
        .arg(repo().join("conf-examples/app/migrate").join(app))
        .env("RUBYLIB", repo().join("clients/ruby/lib"))
        .env("FILES_ROOT", &ws.tree.root);
    let mut p = support::spawn(cmd, "puma", &ws.run.join(log));
    wait_until("puma", Some(&mut p), || support::tcp_up(app_port));
    (app_port, p)
}

fn report_of(name: &str) -> String {
    format!("Report of {}", crate::client_packages::basename(name))
}

#[test]
fn rack_sendfile_migration_as_the_guide_shows_it() {
    if !support::require(&["nginx", "curl", "puma"]) {
        return;
    }
    assert_eq!(check_diffs("docs/migrate-rack.md"), 1);
    // Before: Rack::Sendfile maps the path by string prefix and nginx opens whatever it names.
    {
        let ws = Workspace::new();
        let (app_port, _app) = puma(&ws, "rack_before.ru", "puma-before.log");
        let location = format!("location = /download {{ proxy_pass http://127.0.0.1:{app_port}; }}");
        let (port, _nginx) = legacy_nginx(&ws, &location);
        let base = format!("http://127.0.0.1:{port}/download?file=");
        let r = get(&format!("{base}a%20b.txt"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"space\n"[..]), "{r:?}");
        // The faults the guide names: a hidden file is sent, and a symlink leads out of the root.
        let r = get(&format!("{base}.hidden"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hidden\n"[..]), "{r:?}");
        let r = get(&format!("{base}link-out.txt"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"OUTSIDE SECRET\n"[..]), "{r:?}");
    }
    // After: xsendfiled decides, nginx sends.
    let ws = Workspace::new();
    let (app_port, _app) = puma(&ws, "rack_after.ru", "puma-after.log");
    let (port, _site) = proxy_site(&ws, app_port);
    check_handover("rack after", &|q| format!("http://127.0.0.1:{port}/download?file={q}"), &report_of);
}

#[test]
fn symfony_binary_file_response_migration_as_the_guide_shows_it() {
    let symfony = "/usr/share/php/Symfony/Component/HttpFoundation/autoload.php";
    if !support::require(&["nginx", "curl", support::app::PHP_FPM, symfony]) {
        return;
    }
    assert_eq!(check_diffs("docs/migrate-symfony.md"), 1);
    let root = Workspace::new();
    let files = root.tree.root.display().to_string();
    // Before: BinaryFileResponse writes X-Accel-Redirect from the request's X-Sendfile-Type and
    // X-Accel-Mapping, with the path not percent-encoded.
    {
        let ws = &root;
        let (fpm, php_sock) = crate::client_packages::php_fpm(&ws.run, &[("FILES_ROOT", &files)]);
        let location = format!(
            "location = /download {{ include /etc/nginx/fastcgi_params; \
             fastcgi_param SCRIPT_FILENAME {app}; \
             fastcgi_param HTTP_X_SENDFILE_TYPE X-Accel-Redirect; \
             fastcgi_param HTTP_X_ACCEL_MAPPING {files}/=/_files/; \
             fastcgi_pass unix:{sock}; }}",
            app = repo().join("conf-examples/app/migrate/symfony_before.php").display(),
            sock = php_sock.display(),
        );
        let (port, nginx) = legacy_nginx(ws, &location);
        let base = format!("http://127.0.0.1:{port}/download?file=");
        let r = get(&format!("{base}a%20b.txt"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"space\n"[..]), "{r:?}");
        // The faults the guide names: nginx decodes the raw path (`%41.txt` is another file), a
        // `?` ends it, and a symlink out of the root is resolved and then sent by PHP itself.
        let r = get(&format!("{base}{}", support::url_path(b"%41.txt")), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"capital A\n"[..]), "{r:?}");
        let r = get(&format!("{base}{}", support::url_path(b"q?x.txt")), &[]);
        assert_eq!(r.status, 404, "{r:?}");
        let r = get(&format!("{base}link-out.txt"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"OUTSIDE SECRET\n"[..]), "{r:?}");
        drop((nginx, fpm));
    }
    // After: the package's headers on a plain Response; xsendfiled decides, nginx sends.
    let ws = Workspace::new();
    let files = ws.tree.root.display().to_string();
    let (port, _site) =
        php_site(&ws, ["migrate/symfony_after.php", "migrate/symfony_after.php"], &[("FILES_ROOT", &files)]);
    check_handover("symfony after", &|q| format!("http://127.0.0.1:{port}/download?file={q}"), &report_of);
}

/// nginx as a plain X-Accel-Redirect setup in front of an app, as an app_site template: the app's
/// `/download` proxied, the files at the `internal` alias /_files/.
const LEGACY_PROXY_TEMPLATE: &str = "user {{NGINX_USER}};\nworker_processes 1;\npid {{RUN_DIR}}/nginx.pid;\n\
    error_log {{RUN_DIR}}/error.log warn;\nevents { worker_connections 64; }\n\
    http {\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n  access_log off;\n\
    client_body_temp_path {{RUN_DIR}}/client_body;\n  fastcgi_temp_path {{RUN_DIR}}/fastcgi;\n\
    proxy_temp_path {{RUN_DIR}}/proxy;\n  uwsgi_temp_path {{RUN_DIR}}/uwsgi;\n  scgi_temp_path {{RUN_DIR}}/scgi;\n\
    server {\n    listen 127.0.0.1:{{PORT}};\n    location = /download { proxy_pass {{APP_UPSTREAM}}; }\n\
    location /_files/ { internal; alias {{ROOT}}/; }\n  }\n}\n";

#[test]
fn xsendfile_middleware_migration_as_the_guide_shows_it() {
    if !support::require(&["nginx", "curl", "python3"]) {
        return;
    }
    let pymigrate = repo().join("target/pymigrate");
    assert!(
        pymigrate.join("xsendfile_middleware").is_dir(),
        "xsendfile_middleware is missing from target/pymigrate: run ./scripts/install-deps.sh"
    );
    assert_eq!(check_diffs("docs/migrate-xsendfile-middleware.md"), 1);
    let dir = repo().join("conf-examples/app/migrate");
    // Before: the map's prefix matched as a string, the path never percent-encoded, and what the
    // map does not cover streamed by the app.
    {
        let ws = Workspace::new();
        let site = crate::clients_python::app_site(
            &ws,
            &dir,
            "middleware_before:application",
            LEGACY_PROXY_TEMPLATE,
            "before",
            &[&pymigrate],
        );
        let base = format!("http://127.0.0.1:{}/download?file=", site.port);
        let r = get(&format!("{base}a%20b.txt"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"space\n"[..]), "{r:?}");
        // The faults the guide names.
        let r = get(&format!("{base}{}", support::url_path(b"%41.txt")), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"capital A\n"[..]), "nginx decodes %41: {r:?}");
        let r = get(&format!("{base}{}", support::url_path(b"q?x.txt")), &[]);
        assert_eq!(r.status, 404, "a ? ends the path: {r:?}");
        let r = get(&format!("{base}.hidden"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hidden\n"[..]), "{r:?}");
        let r = get(&format!("{base}link-out.txt"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"OUTSIDE SECRET\n"[..]), "{r:?}");
        let r = get(&format!("{base}../outside/secret.txt"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"OUTSIDE SECRET\n"[..]), "not mapped, streamed: {r:?}");
    }
    // After: xsendfiled decides, nginx sends.
    let ws = Workspace::new();
    let site = crate::clients_python::app_site(
        &ws,
        &dir,
        "middleware_after:application",
        &support::conf_example("nginx-app-delegation-proxy.conf"),
        "after",
        &[],
    );
    let port = site.port;
    check_handover("xsendfile_middleware after", &|q| format!("http://127.0.0.1:{port}/download?file={q}"), &report_of);
}

#[test]
fn express_res_download_migration_as_the_guide_shows_it() {
    if !support::require(&["nginx", "curl", "node"]) {
        return;
    }
    assert_eq!(check_diffs("docs/migrate-express.md"), 1);
    // Before: Express streams whatever path.join names, behind nginx proxy_pass.
    {
        let ws = Workspace::new();
        let (app_port, _app) = crate::client_packages::express_app(&ws, "conf-examples/app/migrate/express_before.js");
        let location = format!("location = /download {{ proxy_pass http://127.0.0.1:{app_port}; }}");
        let (port, _nginx) = legacy_nginx(&ws, &location);
        let base = format!("http://127.0.0.1:{port}/download?file=");
        let r = get(&format!("{base}a%20b.txt"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"space\n"[..]), "{r:?}");
        // The faults the guide names: a symlink out of the root, and `..`, are followed.
        let r = get(&format!("{base}link-out.txt"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"OUTSIDE SECRET\n"[..]), "{r:?}");
        let r = get(&format!("{base}../outside/secret.txt"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"OUTSIDE SECRET\n"[..]), "{r:?}");
    }
    // After: the middleware hands res.download to xsendfiled, nginx sends.
    let ws = Workspace::new();
    let (app_port, app) = crate::client_packages::express_app(&ws, "conf-examples/app/migrate/express_after.js");
    let (port, _site) = proxy_site(&ws, app_port);
    check_handover("express after", &|q| format!("http://127.0.0.1:{port}/download?file={q}"), &report_of);
    drop(app);
}

#[test]
fn flask_use_x_sendfile_migration_as_the_guide_shows_it() {
    if !support::require(&["nginx", "curl", "python3"]) {
        return;
    }
    let pymigrate = repo().join("target/pymigrate");
    assert!(pymigrate.join("flask").is_dir(), "Flask is missing from target/pymigrate: run ./scripts/install-deps.sh");
    assert_eq!(check_diffs("docs/migrate-flask.md"), 1);
    let dir = repo().join("conf-examples/app/migrate");
    // Before: Werkzeug's send_file answers `X-Sendfile: <absolute path>` with no body, which nginx
    // does not act on: it passes the header, and so the path, to the client.
    {
        let ws = Workspace::new();
        let site = crate::clients_python::app_site(
            &ws,
            &dir,
            "flask_before:application",
            LEGACY_PROXY_TEMPLATE,
            "before",
            &[&pymigrate],
        );
        let url = format!("http://127.0.0.1:{}/download?file=a%20b.txt", site.port);
        let leaked = ws.tree.root.join("a b.txt").display().to_string();
        let r = get(&url, &["--head"]);
        assert_eq!((r.status, r.header("X-Sendfile")), (200, Some(leaked.as_str())), "{r:?}");
        // GET: the headers promise the file's length, the body never comes.
        let out = Command::new("curl")
            .args(["-sS", "-i", "--max-time", "10", "-H", "Cookie: session=alice", &url])
            .output()
            .expect("curl");
        let raw = String::from_utf8_lossy(&out.stdout);
        assert!(raw.contains(&format!("X-Sendfile: {leaked}")), "{raw}");
        assert!(!raw.ends_with("space\n"), "the file was sent: {raw}");
        assert_eq!(out.status.code(), Some(18), "curl: transfer closed with bytes remaining: {raw}");
        assert!(raw.contains("Content-Type: text/plain; charset=utf-8"), "{raw}");
    }
    // After: delegate()'s headers; xsendfiled decides, nginx sends.
    let ws = Workspace::new();
    let site = crate::clients_python::app_site(
        &ws,
        &dir,
        "flask_after:application",
        &support::conf_example("nginx-app-delegation-proxy.conf"),
        "after",
        &[&pymigrate],
    );
    let port = site.port;
    let url = |q: &str| format!("http://127.0.0.1:{port}/download?file={q}");
    check_handover("flask after", &url, &report_of);
    let r = get(&url("a%20b.txt"), &["--head"]);
    assert_eq!((r.status, r.header("X-Sendfile"), r.header("X-Accel-Redirect")), (200, None, None), "{r:?}");
}
