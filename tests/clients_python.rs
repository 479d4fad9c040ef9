//! The Python client (`clients/python`) end to end:
//!
//! - a Django site using django-sendfile2 with `SENDFILE_BACKEND = "xsendfiled.django"`
//!   (`clients/python/tests/django_site`), under real gunicorn behind real nginx
//!   (`conf-examples/nginx-app-delegation-proxy.conf`) and xsendfiled: its unchanged
//!   `sendfile(request, path, attachment=True, attachment_filename=...)` view hands every download
//!   to xsendfiled; and the same site as it was before docs/migrate-django-sendfile2.md (its files
//!   rebuilt from that page's diffs), so the migration page shows what was run;
//! - Python apps that ask xsendfiled over its app socket (`--app-socket`, beside nginx's `--listen`)
//!   instead of delegating, behind the same nginx: the Django site's view with `?ask=1`
//!   (`Client(APP_SOCKET).ask(...).to_django()`, a refused file its own 404 page) and a WSGI app
//!   that calls `XSendfileApplication(root, ask=...)` and inspects the status
//!   (`conf-examples/app/download_ask.py`); no `Xsendfiled-*` field reaches the client;
//! - links minted by the package's `sign()` for every SDL1 claim, accepted by the daemon behind
//!   nginx, and the same links altered, refused.
//!
//! Django, django-sendfile2 (target/pyclients) and gunicorn (target/pyenv) come from PyPI, installed
//! by scripts/install-deps.sh.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{curl, wait_until, Proc, Reply};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// PYTHONPATH for the package from its source, Django and django-sendfile2, and gunicorn.
fn python_path(extra: &[&Path]) -> String {
    let deps = repo().join("target/pyclients");
    assert!(
        deps.join("django_sendfile").is_dir() && deps.join("django").is_dir(),
        "Django and django-sendfile2 are missing from target/pyclients: run ./scripts/install-deps.sh"
    );
    let gunicorn = repo().join("target/pyenv");
    assert!(gunicorn.join("gunicorn").is_dir(), "gunicorn is missing from target/pyenv: run ./scripts/install-deps.sh");
    let mut parts: Vec<PathBuf> = extra.iter().map(|p| p.to_path_buf()).collect();
    parts.extend([repo().join("clients/python/src"), deps, gunicorn]);
    parts.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":")
}

// --- the migration page's diffs ------------------------------------------------------------------

/// One file's hunks from a ```diff block: (file name after `+++ b/`, hunks of (old, new) lines).
type FileDiff = (String, Vec<(Vec<String>, Vec<String>)>);

/// Every file diff of the ```diff blocks of `doc`.
fn doc_diffs(doc: &str) -> Vec<FileDiff> {
    let mut out: Vec<FileDiff> = Vec::new();
    let mut in_diff = false;
    for line in doc.lines() {
        if !in_diff {
            in_diff = line == "```diff";
            continue;
        }
        if line == "```" {
            in_diff = false;
        } else if let Some(name) = line.strip_prefix("+++ b/") {
            out.push((name.to_owned(), Vec::new()));
        } else if line.starts_with("--- a/") {
        } else if line.starts_with("@@") {
            out.last_mut().expect("+++ before @@").1.push((Vec::new(), Vec::new()));
        } else {
            let hunk = out.last_mut().and_then(|f| f.1.last_mut()).expect("a line outside a hunk");
            // An empty line is an empty context line (editors strip the trailing space).
            let (tag, text) =
                if line.is_empty() { (' ', "") } else { (line.chars().next().unwrap_or(' '), &line[1..]) };
            match tag {
                ' ' => {
                    hunk.0.push(text.to_owned());
                    hunk.1.push(text.to_owned());
                }
                '-' => hunk.0.push(text.to_owned()),
                '+' => hunk.1.push(text.to_owned()),
                other => panic!("unexpected diff line tag {other:?}: {line}"),
            }
        }
    }
    out
}

/// `after` with each hunk reversed: its new lines, found exactly once, replaced by its old lines.
fn unapply(after: &str, hunks: &[(Vec<String>, Vec<String>)], what: &str) -> String {
    let mut text = after.to_owned();
    for (old, new) in hunks {
        let (old, new) = (old.join("\n") + "\n", new.join("\n") + "\n");
        assert_eq!(
            text.matches(&new).count(),
            1,
            "{what}: the diff's new side is not in the file exactly once:\n{new}"
        );
        text = text.replacen(&new, &old, 1);
    }
    text
}

/// The "before" of each file the migration page changes, keyed by the page's file name.
fn before_files(doc: &str, files: &[(&str, &str)]) -> Vec<(String, String)> {
    let diffs = doc_diffs(doc);
    assert_eq!(diffs.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(), files.iter().map(|f| f.0).collect::<Vec<_>>());
    diffs
        .iter()
        .map(|(name, hunks)| {
            let path = files.iter().find(|f| f.0 == name).expect("mapped").1;
            let after = std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            let before = unapply(&after, hunks, name);
            assert_ne!(before, after, "{name}");
            (name.clone(), before)
        })
        .collect()
}

// --- the Django site ------------------------------------------------------------------------------

/// gunicorn serving WSGI application `app` (`module:callable`) from `site_dir`, nginx with
/// `nginx_conf` (a template with the placeholders of nginx-app-delegation-proxy.conf), and
/// xsendfiled.
pub(crate) struct Site {
    pub(crate) port: u16,
    _procs: Vec<Proc>,
}

/// The Django site of `site_dir` (holding `django_site/`).
pub(crate) fn django_site(ws: &support::Workspace, site_dir: &Path, nginx_conf: &str, name: &str) -> Site {
    app_site(ws, site_dir, "django_site.wsgi:application", nginx_conf, name, &[])
}

/// gunicorn serving `app` from `site_dir` (with `extra` on PYTHONPATH too), xsendfiled, and nginx
/// with `nginx_conf`, in `run/<name>`. xsendfiled listens for nginx and on the app socket
/// `run/<name>/app.sock` (the app's `APP_SOCKET`), for apps that ask.
pub(crate) fn app_site(
    ws: &support::Workspace,
    site_dir: &Path,
    app: &str,
    nginx_conf: &str,
    name: &str,
    extra: &[&Path],
) -> Site {
    let run = ws.run.join(name);
    std::fs::create_dir_all(&run).expect("run dir");
    let app_port = support::free_port();
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "gunicorn", "--workers", "1", "--bind", &format!("127.0.0.1:{app_port}"), "--chdir"])
        .arg(site_dir)
        .arg(app)
        .env("PYTHONPATH", python_path(&[&[site_dir], extra].concat()))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("DJANGO_SETTINGS_MODULE", "django_site.settings")
        .env("DOWNLOADS_ROOT", &ws.tree.root)
        .env("APP_SOCKET", run.join("app.sock"));
    let mut g = support::spawn(cmd, "gunicorn", &run.join("gunicorn.log"));
    wait_until("gunicorn", Some(&mut g), || support::tcp_up(app_port));
    let sock = run.join("x.sock");
    let root = ws.tree.root.to_str().expect("utf8");
    let listen = format!("unix:{}", sock.display());
    let access_log = run.join("access.log");
    let app_sock = run.join("app.sock");
    let args = ["--root", root, "--internal-prefix", "/_protected", "--listen", &listen, "--access-log"];
    let mut argv: Vec<&str> = args.to_vec();
    argv.extend([access_log.to_str().expect("utf8"), "--app-socket", app_sock.to_str().expect("utf8")]);
    let mut d = support::daemon(&run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock) && support::unix_up(&app_sock));
    let port = support::free_port();
    let conf = support::fill_template(
        nginx_conf,
        &[
            ("NGINX_USER", support::nginx_user()),
            ("RUN_DIR", run.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", listen.clone()),
            ("ROOT", ws.tree.root.display().to_string()),
            ("APP_UPSTREAM", format!("http://127.0.0.1:{app_port}")),
        ],
    );
    let n = support::nginx(&run, &conf, port);
    Site { port, _procs: vec![n, g, d] }
}

fn download(site: &Site, file: &str, extra: &[&str]) -> Reply {
    let url = format!("http://127.0.0.1:{}/download?file={}", site.port, support::url_path(file.as_bytes()));
    let mut args = vec!["-H", "Cookie: session=alice"];
    args.extend_from_slice(extra);
    curl(&url, &args)
}

fn body_of(name: &str) -> &'static [u8] {
    support::SERVABLE.iter().find(|(n, _)| *n == name).expect("servable").1.as_bytes()
}

/// Names served byte-exact both before and after: the table every client app is checked with.
use crate::client_packages::TRICKY as NAMES;

#[test]
fn django_sendfile2_site_under_gunicorn_hands_downloads_to_xsendfiled() {
    if !support::require(&["nginx", "curl", "python3"]) {
        return;
    }
    let ws = support::Workspace::new();
    let site_dir = repo().join("clients/python/tests");
    let proxy_conf = support::conf_example("nginx-app-delegation-proxy.conf");
    let site = django_site(&ws, &site_dir, &proxy_conf, "after");
    let base = format!("http://127.0.0.1:{}/download", site.port);
    // The app still decides.
    let r = curl(&format!("{base}?file=plain.txt"), &[]);
    assert_eq!((r.status, r.body.as_slice()), (403, &b"please log in\n"[..]), "{r:?}");
    for name in NAMES {
        let r = download(&site, name, &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, body_of(name)), "{name}: {r:?}");
        // The name and type django-sendfile2 chose, written by xsendfiled: the only one.
        assert_eq!(r.header_count("Content-Disposition"), 1, "{name}: {r:?}");
        let cd = r.header("Content-Disposition").unwrap_or_default();
        assert!(cd.starts_with("attachment; filename=\"Alice's "), "{name}: {cd}");
        assert_eq!(r.header("X-Accel-Redirect"), None, "{name}");
    }
    let r = download(&site, "dir with space/ä ö.txt", &[]);
    assert_eq!(
        r.header("Content-Disposition"),
        Some("attachment; filename=\"Alice's _ _.txt\"; filename*=UTF-8''Alice%27s%20%C3%A4%20%C3%B6.txt")
    );
    assert_eq!(r.header("Content-Type"), Some("text/plain"), "xsendfiled's type, from the extension");
    // A .tar.gz: its own type, never a Content-Encoding.
    let r = download(&site, "archive.tar.gz", &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"not really gzip\n"[..]), "{r:?}");
    assert_eq!(r.header("Content-Type"), Some("application/gzip"), "{r:?}");
    assert_eq!(r.header("Content-Encoding"), None, "{r:?}");
    // Range and HEAD: nginx answers them on the file it sends.
    let r = download(&site, "plain.txt", &["-H", "Range: bytes=1-3"]);
    assert_eq!((r.status, r.body.as_slice()), (206, &b"lai"[..]), "{r:?}");
    assert_eq!(r.header("Content-Range"), Some("bytes 1-3/6"));
    let r = download(&site, "a b.txt", &["--head"]);
    assert_eq!((r.status, r.body.len()), (200, 0), "{r:?}");
    assert_eq!(r.header("Content-Length"), Some("6"));
    assert_eq!(r.header_count("Content-Disposition"), 1, "{r:?}");
    // Hidden files, symlinks out of the root, directories, FIFOs and missing files: 404.
    for hostile in
        [".hidden", ".git/config", "link-out.txt", "link-sibling", "link-hidden", "sub", "fifo", "missing.txt"]
    {
        let r = download(&site, hostile, &[]);
        assert_eq!(r.status, 404, "{hostile}: {r:?}");
        assert!(!String::from_utf8_lossy(&r.body).contains("SECRET"), "{hostile}");
        assert_ne!(r.body, b"hidden\n", "{hostile}");
    }
    for escape in ["../outside/secret.txt", "/etc/passwd", "sub/../../outside/secret.txt"] {
        let r = download(&site, escape, &[]);
        assert_eq!(r.status, 404, "{escape}: {r:?}");
        assert!(!String::from_utf8_lossy(&r.body).contains("SECRET"), "{escape}");
    }
    // xsendfiled decided each: who downloaded what is in its log.
    let log = std::fs::read_to_string(ws.run.join("after/access.log")).expect("access log");
    assert!(log.lines().any(|l| l.contains("\"file\":\"dir with space/ä ö.txt\"")), "{log}");
    assert!(log.lines().any(|l| l.contains("hidden file") && l.contains("\"status\":404")), "{log}");
}

#[test]
fn the_migration_page_from_django_sendfile2_is_what_ran() {
    if !support::require(&["nginx", "curl", "python3"]) {
        return;
    }
    let doc = std::fs::read_to_string(repo().join("docs/migrate-django-sendfile2.md")).expect("doc");
    let before = before_files(
        &doc,
        &[
            ("django_site/settings.py", "clients/python/tests/django_site/settings.py"),
            ("nginx.conf", "conf-examples/nginx-app-delegation-proxy.conf"),
        ],
    );
    // The site before: a copy of the Django site with the old settings.
    let ws = support::Workspace::new();
    let old_site = ws.run.join("before-site");
    std::fs::create_dir_all(old_site.join("django_site")).expect("mkdir");
    for f in ["__init__.py", "urls.py", "views.py", "wsgi.py"] {
        std::fs::copy(repo().join("clients/python/tests/django_site").join(f), old_site.join("django_site").join(f))
            .expect("copy");
    }
    std::fs::write(old_site.join("django_site/settings.py"), &before[0].1).expect("settings");
    assert!(before[0].1.contains("SENDFILE_BACKEND = \"django_sendfile.backends.nginx\""), "{}", before[0].1);
    let old = django_site(&ws, &old_site, &before[1].1, "before");
    let new = django_site(
        &ws,
        &repo().join("clients/python/tests"),
        &support::conf_example("nginx-app-delegation-proxy.conf"),
        "after",
    );
    for name in NAMES {
        for (site, when) in [(&old, "before"), (&new, "after")] {
            let r = download(site, name, &[]);
            assert_eq!((r.status, r.body.as_slice()), (200, body_of(name)), "{when}: {name}: {r:?}");
            assert_eq!(r.header_count("Content-Disposition"), 1, "{when}: {name}");
        }
    }
    for (site, when) in [(&old, "before"), (&new, "after")] {
        let r = download(site, "plain.txt", &["-H", "Range: bytes=1-3"]);
        assert_eq!((r.status, r.body.as_slice()), (206, &b"lai"[..]), "{when}: {r:?}");
        let r = download(site, "plain.txt", &["--head"]);
        assert_eq!(r.status, 200, "{when}: {r:?}");
        for missing in ["missing.txt", "../outside/secret.txt"] {
            assert_eq!(download(site, missing, &[]).status, 404, "{when}: {missing}");
        }
        let r = download(site, "archive.tar.gz", &[]);
        assert_eq!((r.status, r.header("Content-Encoding")), (200, None), "{when}: {r:?}");
    }
    // What the migration closes: before, a hidden file and a symlink out of the root were sent.
    let r = download(&old, ".hidden", &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hidden\n"[..]), "before: {r:?}");
    let r = download(&old, "link-out.txt", &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"OUTSIDE SECRET\n"[..]), "before: {r:?}");
    for hostile in [".hidden", "link-out.txt"] {
        let r = download(&new, hostile, &[]);
        assert_eq!(r.status, 404, "after: {hostile}: {r:?}");
    }
    assert_eq!(download(&new, "archive.tar.gz", &[]).header("Content-Type"), Some("application/gzip"));
}

#[test]
fn the_migration_page_from_wsgi_xsendfile_is_what_ran() {
    if !support::require(&["nginx", "curl", "python3"]) {
        return;
    }
    assert!(
        repo().join("target/pyclients/xsendfile.py").is_file(),
        "wsgi-xsendfile is missing from target/pyclients: run ./scripts/install-deps.sh"
    );
    let doc = std::fs::read_to_string(repo().join("docs/migrate-wsgi-xsendfile.md")).expect("doc");
    let before = before_files(
        &doc,
        &[
            ("download_xsendfile.py", "conf-examples/app/download_xsendfile.py"),
            ("nginx.conf", "conf-examples/nginx-app-delegation-proxy.conf"),
        ],
    );
    assert!(before[0].1.contains("from xsendfile import XSendfileApplication"), "{}", before[0].1);
    let ws = support::Workspace::new();
    let old_dir = ws.run.join("before-app");
    std::fs::create_dir_all(&old_dir).expect("mkdir");
    std::fs::write(old_dir.join("download_xsendfile.py"), &before[0].1).expect("app");
    let app = "download_xsendfile:application";
    let old = app_site(&ws, &old_dir, app, &before[1].1, "before", &[]);
    let new = app_site(
        &ws,
        &repo().join("conf-examples/app"),
        app,
        &support::conf_example("nginx-app-delegation-proxy.conf"),
        "after",
        &[],
    );
    // The app still decides, before and after.
    for site in [&old, &new] {
        let r = curl(&format!("http://127.0.0.1:{}/download?file=plain.txt", site.port), &[]);
        assert_eq!((r.status, r.body.as_slice()), (403, &b"please log in\n"[..]), "{r:?}");
    }
    for name in NAMES.iter().filter(|n| **n != "%41.txt") {
        for (site, when) in [(&old, "before"), (&new, "after")] {
            let r = download(site, name, &[]);
            assert_eq!((r.status, r.body.as_slice()), (200, body_of(name)), "{when}: {name}: {r:?}");
            assert_eq!(r.header_count("Content-Disposition"), 1, "{when}: {name}: {r:?}");
            let cd = r.header("Content-Disposition").unwrap_or_default();
            assert!(cd.starts_with("attachment; filename*=UTF-8''Alice%27s%20"), "{when}: {name}: {cd}");
        }
        let r = download(&new, name, &["--head"]);
        assert_eq!((r.status, r.body.len()), (200, 0), "after: HEAD {name}: {r:?}");
    }
    for (site, when) in [(&old, "before"), (&new, "after")] {
        let r = download(site, "plain.txt", &["-H", "Range: bytes=1-3"]);
        assert_eq!((r.status, r.body.as_slice()), (206, &b"lai"[..]), "{when}: {r:?}");
        assert_eq!(download(site, "missing.txt", &[]).status, 404, "{when}");
    }
    // Before: decoded twice, hidden files sent, HEAD refused, a symlink out of the root 403.
    let r = download(&old, "%41.txt", &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"capital A\n"[..]), "before: {r:?}");
    let r = download(&old, ".hidden", &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hidden\n"[..]), "before: {r:?}");
    assert_eq!(download(&old, "plain.txt", &["--head"]).status, 405, "before: HEAD");
    assert_eq!(download(&old, "link-out.txt", &[]).status, 403, "before: symlink out");
    // After: the file asked for, and every hostile path 404.
    let r = download(&new, "%41.txt", &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"literal percent-41\n"[..]), "after: {r:?}");
    for hostile in
        [".hidden", ".git/config", "link-out.txt", "link-sibling", "../root-private/secret.txt", "sub", "fifo"]
    {
        let r = download(&new, hostile, &[]);
        assert_eq!(r.status, 404, "after: {hostile}: {r:?}");
        assert!(!String::from_utf8_lossy(&r.body).contains("SECRET"), "after: {hostile}");
    }
    let r = download(&new, "archive.tar.gz", &[]);
    assert_eq!((r.header("Content-Type"), r.header("Content-Encoding")), (Some("application/gzip"), None), "{r:?}");
}

// --- apps that ask -------------------------------------------------------------------------------

/// The whole handover through an app that asks xsendfiled over its app socket (`url` builds its
/// download URL from an encoded file name): client_packages' checks (tricky names byte-exact with
/// one Content-Disposition, Range, HEAD, hidden and hostile files 404), a missing or hidden file
/// answered with the app's own 404 page `own_404`, and no `Xsendfiled-*` field, the daemon's
/// note to the app, ever reaching the client.
fn check_asking_app(app: &str, url: &dyn Fn(&str) -> String, own_404: &[u8]) {
    use crate::client_packages::{basename, check_handover, get, NOT_SERVED, TRICKY};
    check_handover(app, url, &|name| format!("Alice's {}", basename(name)));
    for name in TRICKY.iter().chain(NOT_SERVED) {
        for extra in [&[][..], &["--head"][..], &["-H", "Range: bytes=0-1"][..]] {
            let r = get(&url(&support::url_path(name.as_bytes())), extra);
            let leaked: Vec<_> =
                r.headers.iter().filter(|(k, _)| k.to_ascii_lowercase().starts_with("xsendfiled-")).collect();
            assert!(leaked.is_empty(), "{app}: {name} {extra:?}: {leaked:?}");
            assert_eq!(r.header("X-Accel-Redirect"), None, "{app}: {name} {extra:?}");
        }
    }
    for name in ["missing.txt", ".hidden", "sub/deep/missing.txt"] {
        let r = get(&url(name), &[]);
        assert_eq!((r.status, r.body.as_slice()), (404, own_404), "{app}: {name}: {r:?}");
        assert_eq!(r.header("Content-Disposition"), None, "{app}: {name}");
    }
}

/// The daemon's access log shows it decided each download when the app asked (the app socket's
/// URI, `/<path>?<trusted query>`), GET and HEAD, and that nginx never got a delegation to pass
/// to its `/_xsendfiled/` location. `asks_missing`: the app asks about a missing file too (the WSGI
/// app's XSendfileApplication refuses it with 404 before asking, as the daemon would).
fn asked_not_delegated(access_log: &Path, asks_missing: bool) {
    let log = std::fs::read_to_string(access_log).expect("access log");
    assert!(!log.contains("\"uri\":\"/_xsendfiled/"), "{log}");
    for method in ["GET", "HEAD"] {
        let asked = format!("\"method\":\"{method}\",\"uri\":\"/%E6%98%AF.txt?filename=Alice%27s+%E6%98%AF.txt&disposition=attachment\"");
        assert!(log.lines().any(|l| l.contains(&asked) && l.contains("\"decision\":\"send\"")), "{method}: {log}");
    }
    let missing = log.lines().any(|l| l.contains("\"uri\":\"/missing.txt?") && l.contains("\"status\":404"));
    assert_eq!(missing, asks_missing, "{log}");
}

#[test]
fn python_apps_ask_xsendfiled_over_the_app_socket_behind_nginx() {
    if !support::require(&["nginx", "curl", "python3"]) {
        return;
    }
    let ws = support::Workspace::new();
    let proxy_conf = support::conf_example("nginx-app-delegation-proxy.conf");
    // The Django site's view with ?ask=1: Client(APP_SOCKET).ask(...).to_django().
    let django = django_site(&ws, &repo().join("clients/python/tests"), &proxy_conf, "django");
    let base = format!("http://127.0.0.1:{}/download", django.port);
    let r = curl(&format!("{base}?file=plain.txt&ask=1"), &[]);
    assert_eq!((r.status, r.body.as_slice()), (403, &b"please log in\n"[..]), "the view still decides: {r:?}");
    check_asking_app("django ask", &|q| format!("{base}?file={q}&ask=1"), b"no such file, said xsendfiled\n");
    asked_not_delegated(&ws.run.join("django/access.log"), true);
    // A WSGI app calling XSendfileApplication(root, ask=APP_SOCKET) and inspecting the status.
    let wsgi = app_site(&ws, &repo().join("conf-examples/app"), "download_ask:application", &proxy_conf, "wsgi", &[]);
    let base = format!("http://127.0.0.1:{}/download", wsgi.port);
    let r = curl(&format!("{base}?file=plain.txt"), &[]);
    assert_eq!((r.status, r.body.as_slice()), (403, &b"please log in\n"[..]), "the app still decides: {r:?}");
    check_asking_app("wsgi ask", &|q| format!("{base}?file={q}"), b"no such download, said xsendfiled\n");
    asked_not_delegated(&ws.run.join("wsgi/access.log"), false);
}

// --- signed links -------------------------------------------------------------------------------

const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// Links minted by the Python package's `sign()` for each spec (JSON objects of its keyword
/// arguments plus `path`), one per line.
fn python_sign(specs: &str) -> Vec<String> {
    let script = r#"
import datetime, json, sys, xsendfiled
key = bytes.fromhex(sys.argv[1])
for spec in json.loads(sys.stdin.read()):
    path = spec.pop("path")
    if "not_before_in" in spec:
        spec["not_before"] = datetime.timedelta(seconds=spec.pop("not_before_in"))
    print(xsendfiled.sign(path, key, "k1", **spec))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script, KEY_HEX])
        .env("PYTHONPATH", repo().join("clients/python/src"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), specs.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8").lines().map(str::to_owned).collect()
}

#[test]
fn links_signed_by_the_python_client_are_accepted_by_the_daemon() {
    if !support::require(&["nginx", "curl", "python3"]) {
        return;
    }
    let ws = support::Workspace::new();
    let keys = ws.run.join("keys");
    std::fs::write(&keys, format!("k1 hex:{KEY_HEX}\n")).expect("keys");
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    let sock = ws.run.join("x.sock");
    let mut args = support::guard_args(&ws.tree.root, Some(&format!("unix:{}", sock.display())));
    args.extend(["--keys".into(), keys.display().to_string(), "--require-signature".into()]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&ws.run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", &ws.run, &ws.tree.root, &format!("unix:{}", sock.display()), port);
    let specs = r#"[
        {"path": "/dl/plain.txt", "expires_in": 600},
        {"path": "/dl/plain.txt", "expires_in": 600, "not_before_in": -60},
        {"path": "/dl/sub/deep/er/file.txt", "expires_in": 600, "prefix": "/dl/sub/"},
        {"path": "/dl/plain.txt", "expires_in": 600, "network": "127.0.0.0/8"},
        {"path": "/dl/plain.txt", "expires_in": 600, "network": "127.0.0.1"},
        {"path": "/dl/plain.txt", "expires_in": 600, "filename": "Résumé 2026.txt"},
        {"path": "/dl/plain.txt", "expires_in": 600, "disposition": "attachment"},
        {"path": "/dl/page.html", "expires_in": 600, "disposition": "inline"},
        {"path": "/dl/dir with space/ä ö.txt", "expires_in": 600, "not_before_in": -60, "prefix": "/dl/dir with space/",
         "network": "127.0.0.0/24", "filename": "Ä Ö.txt", "disposition": "attachment"},
        {"path": "/dl/a b.txt", "expires_in": 600},
        {"path": "/dl/100%.txt", "expires_in": 600},
        {"path": "/dl/q?x.txt", "expires_in": 600},
        {"path": "/dl/h#x.txt", "expires_in": 600},
        {"path": "/dl/%41.txt", "expires_in": 600},
        {"path": "/dl/是.txt", "expires_in": 600},
        {"path": "/dl/semi;colon=1&x+y.txt", "expires_in": 600},
        {"path": "/dl/plain.txt", "expires_in": 7200, "not_before_in": 3600},
        {"path": "/dl/plain.txt", "expires_in": 600, "network": "203.0.113.0/24"},
        {"path": "/dl/plain.txt", "expires_in": 600, "network": "::1"},
        {"path": "/dl/plain.txt", "expires_in": -10},
        {"path": "/dl/.hidden", "expires_in": 600}
    ]"#;
    let links = python_sign(specs);
    assert_eq!(links.len(), 21);
    let get = |link: &str| curl(&format!("http://127.0.0.1:{port}{link}"), &[]);
    let ok = |i: usize, body: &[u8]| {
        let r = get(&links[i]);
        assert_eq!((r.status, r.body.as_slice()), (200, body), "{}: {r:?}", links[i]);
        assert_eq!(r.header("Cache-Control"), Some("private"), "{}", links[i]);
        r
    };
    ok(0, b"plain\n");
    ok(1, b"plain\n");
    ok(2, b"deep\n");
    // One prefix link opens every file below it.
    let sibling = links[2].replacen("/dl/sub/deep/er/file.txt", "/dl/sub/in.txt", 1);
    let r = get(&sibling);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"in sub\n"[..]), "{sibling}: {r:?}");
    ok(3, b"plain\n");
    ok(4, b"plain\n");
    let r = ok(5, b"plain\n");
    let cd = r.header("Content-Disposition").unwrap_or_default();
    assert!(cd.ends_with("filename*=UTF-8''R%C3%A9sum%C3%A9%202026.txt"), "signed name: {cd}");
    assert!(ok(6, b"plain\n").header("Content-Disposition").unwrap_or_default().starts_with("attachment"));
    assert!(ok(7, b"<p>html</p>\n").header("Content-Disposition").unwrap_or_default().starts_with("inline"));
    let r = ok(8, b"nested unicode\n");
    let cd = r.header("Content-Disposition").unwrap_or_default();
    assert!(cd.starts_with("attachment") && cd.ends_with("filename*=UTF-8''%C3%84%20%C3%96.txt"), "{cd}");
    for (i, name) in
        [(9, "a b.txt"), (10, "100%.txt"), (11, "q?x.txt"), (12, "h#x.txt"), (13, "%41.txt"), (14, "是.txt")]
            .into_iter()
            .chain([(15, "semi;colon=1&x+y.txt")])
    {
        ok(i, body_of(name));
    }
    // Refused: not yet valid, another network, the other family, expired (410), a hidden file (404).
    for (i, status) in [(16, 403), (17, 403), (18, 403), (19, 410), (20, 404)] {
        let r = get(&links[i]);
        assert_eq!(r.status, status, "{}: {r:?}", links[i]);
    }
    // The same links altered: the signature, the path, a claim, the key id.
    let sig_at = links[0].rfind("sig=").expect("sig") + 4;
    let mut flipped = links[0].clone();
    let first = &flipped[sig_at..sig_at + 1];
    let other = if first == "A" { "B" } else { "A" };
    flipped.replace_range(sig_at..sig_at + 1, other);
    let tampered = [
        flipped,
        links[0].replacen("/dl/plain.txt", "/dl/A.txt", 1),
        links[8].replacen("&disp=attachment", "&disp=inline", 1),
        links[5].replacen("&fn=", "&fn=QQ", 1),
        links[3].replacen("&ipm=8", "&ipm=16", 1),
        links[2].replacen("/dl/sub/deep/er/file.txt", "/dl/plain.txt", 1),
        links[0].replacen("&kid=k1", "&kid=k2", 1),
    ];
    for link in &tampered {
        let r = get(link);
        assert_eq!(r.status, 403, "{link}: {r:?}");
        assert!(!r.body.starts_with(b"plain"), "{link}");
    }
}
