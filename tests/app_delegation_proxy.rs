//! Applications behind nginx `proxy_pass` delegating downloads: a WSGI app under real gunicorn and
//! a Rack app under real puma answer `X-Accel-Redirect: /_xsendfiled/<path>?filename=...`; nginx
//! follows it to its internal location, which `fastcgi_pass`es to xsendfiled (trusting that query
//! only there); xsendfiled checks the path and names the file, nginx sends it. Both run
//! `conf-examples/nginx-app-delegation-proxy.conf` with their app from `conf-examples/app/`.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{curl, wait_until, Proc};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// gunicorn as scripts/install-deps.sh installs it (PyPI, into target/pyenv).
fn pyenv() -> PathBuf {
    repo().join("target/pyenv")
}

/// xsendfiled and nginx in front of the application listening on `app_port`.
struct Site {
    port: u16,
    run: PathBuf,
    _procs: Vec<Proc>,
}

fn site(ws: &support::Workspace, app_port: u16) -> Site {
    let (tree, run) = (&ws.tree, &ws.run);
    let (d, sock) = support::app::delegation_daemon(ws);
    let port = support::free_port();
    let conf = support::fill_template(
        &support::conf_example("nginx-app-delegation-proxy.conf"),
        &[
            ("NGINX_USER", support::nginx_user()),
            ("RUN_DIR", run.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", format!("unix:{}", sock.display())),
            ("ROOT", tree.root.display().to_string()),
            ("APP_UPSTREAM", format!("http://127.0.0.1:{app_port}")),
        ],
    );
    let n = support::nginx(run, &conf, port);
    Site { port, run: run.clone(), _procs: vec![d, n] }
}

/// The same checks as the fastcgi_pass delegation, whichever app server answers.
fn check(site: &Site, app: &str) {
    let base = format!("http://127.0.0.1:{}/download", site.port);
    let cookie = ["-H", "Cookie: session=alice"];
    // The app's decision stands: no session, no file.
    let r = curl(&format!("{base}?file=plain.txt"), &[]);
    assert_eq!((r.status, r.body.as_slice()), (403, &b"please log in\n"[..]), "{app}: {r:?}");
    // Allowed: nginx sends the bytes, with the name the app chose, encoded by xsendfiled.
    let r = curl(&format!("{base}?file=dir%20with%20space/%C3%A4%20%C3%B6.txt"), &cookie);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"nested unicode\n"[..]), "{app}: {r:?}");
    assert_eq!(r.header("Content-Type"), Some("text/plain"), "{app}");
    let cd = r.header("Content-Disposition").unwrap_or_default();
    assert!(
        cd.starts_with("attachment") && cd.ends_with("filename*=UTF-8''Alice%27s%20%C3%A4%20%C3%B6.txt"),
        "{app}: {cd}"
    );
    assert_eq!(r.header("X-Accel-Redirect"), None, "{app}: the app's header never reaches the client");
    // An app that names the download itself: its Content-Disposition is the only one.
    let r = curl(&format!("{base}?file=plain.txt&own=1"), &cookie);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"plain\n"[..]), "{app}: {r:?}");
    assert_eq!(r.header_count("Content-Disposition"), 1, "{app}: {r:?}");
    assert_eq!(r.header("Content-Disposition"), Some("attachment; filename=\"chosen-by-app.txt\""), "{app}");
    for name in ["plain.txt", "a b.txt", "100%.txt", "q?x.txt", "h#x.txt", "%41.txt", "是.txt", "sub/deep/er/file.txt"]
    {
        let q = support::url_path(name.as_bytes());
        let r = curl(&format!("{base}?file={q}"), &cookie);
        let want = support::SERVABLE.iter().find(|(n, _)| *n == name).expect("servable").1;
        assert_eq!((r.status, r.body.as_slice()), (200, want.as_bytes()), "{app}: {name}: {r:?}");
    }
    // A range of a delegated download: nginx answers it on the file it sends.
    let r = curl(&format!("{base}?file=plain.txt"), &["-H", "Cookie: session=alice", "-H", "Range: bytes=1-3"]);
    assert_eq!((r.status, r.body.as_slice()), (206, &b"lai"[..]), "{app}: {r:?}");
    // The app passes user input straight through; xsendfiled keeps it inside the root.
    for hostile in ["../outside/secret.txt", "link-out.txt", "link-sibling", ".hidden", "sub", "missing.txt"] {
        let r = curl(&format!("{base}?file={hostile}"), &cookie);
        assert_eq!(r.status, 404, "{app}: {hostile}: {r:?}");
        assert!(!String::from_utf8_lossy(&r.body).contains("SECRET"), "{app}: {hostile}");
    }
    // The internal locations cannot be requested directly, so nobody else can use the trusted query.
    let r = curl(
        &format!("http://127.0.0.1:{}/_xsendfiled/plain.txt?filename=evil.html&disposition=inline", site.port),
        &[],
    );
    assert_eq!(r.status, 404, "{app}");
    // Who downloaded what, the range asked for included.
    let log = std::fs::read_to_string(site.run.join("access.log")).expect("access log");
    assert!(
        log.lines().any(|l| l.contains("\"file\":\"dir with space/ä ö.txt\"") && l.contains("\"decision\":\"send\"")),
        "{app}: {log}"
    );
    assert!(log.lines().any(|l| l.contains("\"range\":\"bytes=1-3\"")), "{app}: {log}");
}

#[test]
fn gunicorn_wsgi_app_behind_proxy_pass_hands_downloads_to_xsendfiled() {
    if !support::require(&["nginx", "curl", "python3"]) {
        return;
    }
    assert!(pyenv().join("gunicorn").is_dir(), "gunicorn is missing from target/pyenv: run ./scripts/install-deps.sh");
    let ws = support::Workspace::new();
    let app_port = support::free_port();
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "gunicorn", "--workers", "1", "--bind", &format!("127.0.0.1:{app_port}"), "--chdir"])
        .arg(repo().join("conf-examples/app"))
        .arg("download_wsgi:application")
        .env("PYTHONPATH", pyenv())
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let mut g = support::spawn(cmd, "gunicorn", &ws.run.join("gunicorn.log"));
    wait_until("gunicorn", Some(&mut g), || support::tcp_up(app_port));
    let site = site(&ws, app_port);
    check(&site, "gunicorn");
}

#[test]
fn puma_rack_app_behind_proxy_pass_hands_downloads_to_xsendfiled() {
    if !support::require(&["nginx", "curl", "puma"]) {
        return;
    }
    let ws = support::Workspace::new();
    let app_port = support::free_port();
    let mut cmd = Command::new("puma");
    cmd.args(["--environment", "production", "--threads", "1:2", "--bind", &format!("tcp://127.0.0.1:{app_port}")])
        .arg(repo().join("conf-examples/app/download.ru"));
    let mut p = support::spawn(cmd, "puma", &ws.run.join("puma.log"));
    wait_until("puma", Some(&mut p), || support::tcp_up(app_port));
    let site = site(&ws, app_port);
    check(&site, "puma");
}
