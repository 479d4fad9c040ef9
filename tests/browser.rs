//! A real browser agrees with our Content-Disposition: Debian's headless Chromium (driven by
//! playwright-core) downloads tricky names through nginx + xsendfiled, and the names it saves them
//! under are checked, as are the bytes (a `.tar.gz` stays compressed: no Content-Encoding).

use crate::support;

use std::process::Command;
use support::{url_path, wait_until};

#[test]
fn chromium_saves_files_under_the_names_we_send() {
    if !support::require(&["nginx", "node", "/usr/bin/chromium"]) {
        return;
    }
    let pw = playwright_core();
    let ws = support::Workspace::new();
    let (tree, run) = (&ws.tree, &ws.run);
    let sock = run.join("x.sock");
    let mut args = support::guard_args(&tree.root, Some(&format!("unix:{}", sock.display())));
    args.extend(["--disposition".to_string(), "attachment".to_string()]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", run, &tree.root, &format!("unix:{}", sock.display()), port);

    // (path under the root, the name the browser must save it as)
    let cases: &[(&str, &str)] = &[
        ("a b.txt", "a b.txt"),
        ("100%.txt", "100%.txt"),
        ("ü.txt", "ü.txt"),
        ("是.txt", "是.txt"),
        ("%41.txt", "%41.txt"),
        ("semi;colon=1&x+y.txt", "semi;colon=1&x+y.txt"),
        // Chromium itself replaces `"` (illegal in Windows file names); everything after the escaped
        // quote survives, so the quoted-string was parsed as sent.
        ("quote'\"`.txt", "quote'_`.txt"),
        ("dir with space/ä ö.txt", "ä ö.txt"),
        ("h#x.txt", "h#x.txt"),
        ("archive.tar.gz", "archive.tar.gz"),
        ("page.html", "page.html"),
        ("noext", "noext"),
    ];
    let urls: Vec<String> =
        cases.iter().map(|(p, _)| format!("http://127.0.0.1:{port}/dl/{}", url_path(p.as_bytes()))).collect();
    let results = download_all(&pw, &urls, None);
    assert_eq!(results.len(), cases.len());
    for ((path, want), got) in cases.iter().zip(&results) {
        assert_eq!(got["name"].as_str(), Some(*want), "{path}: {got}");
        let body = support::SERVABLE.iter().find(|(n, _)| n == path).expect("servable").1;
        let b64 = got["bytes"].as_str().expect("bytes");
        let saved = base64_decode(b64);
        assert_eq!(saved, body.as_bytes(), "{path}: the bytes saved");
    }
}

/// Applications delegating through nginx + xsendfiled (conf-examples/nginx-app-delegation.conf with
/// PHP-FPM): one that leaves the name to xsendfiled (a form-encoded `?filename=`), and one that
/// sets its own Content-Disposition (Rails send_file, django-sendfile2). Two such headers would
/// make Chromium refuse the download (ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_DISPOSITION).
#[test]
fn chromium_saves_app_delegated_downloads_under_the_apps_names() {
    if !support::require(&["nginx", "node", "/usr/bin/chromium", support::app::PHP_FPM]) {
        return;
    }
    let pw = playwright_core();
    let ws = support::Workspace::new();
    let stack = support::app::start(&ws);
    let base = format!("http://127.0.0.1:{}", stack.port);
    // (app URL, path under the root, the name the browser must save it as)
    let cases: &[(&str, &str, &str)] = &[
        ("download", "a b.txt", "Alice's a b.txt"),
        ("download", "dir with space/ä ö.txt", "Alice's ä ö.txt"),
        ("send-file", "a b.txt", "Report of a b.txt"),
        ("send-file", "dir with space/ä ö.txt", "Report of ä ö.txt"),
        ("send-file", "page.html", "Report of page.html"),
    ];
    let urls: Vec<String> =
        cases.iter().map(|(app, p, _)| format!("{base}/{app}?file={}", url_path(p.as_bytes()))).collect();
    let cookies = serde_json::json!([{ "name": "session", "value": "alice", "url": base }]);
    let results = download_all(&pw, &urls, Some(&cookies));
    assert_eq!(results.len(), cases.len());
    for ((app, path, want), got) in cases.iter().zip(&results) {
        assert_eq!(got["name"].as_str(), Some(*want), "{app} {path}: {got}");
        let body = support::SERVABLE.iter().find(|(n, _)| n == path).expect("servable").1;
        assert_eq!(base64_decode(got["bytes"].as_str().expect("bytes")), body.as_bytes(), "{app} {path}");
    }
}

/// playwright-core, installed by scripts/install-deps.sh into target/playwright.
pub(crate) fn playwright_core() -> String {
    let pw = std::env::var("PLAYWRIGHT_CORE").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/playwright/node_modules/playwright-core").to_owned()
    });
    assert!(
        std::path::Path::new(&pw).exists()
            || support::require(&["/nonexistent/playwright-core (run scripts/install-deps.sh)"])
    );
    pw
}

/// Runs tests/browser/downloads.js on `urls` (with `cookies` set first): one result per URL.
pub(crate) fn download_all(pw: &str, urls: &[String], cookies: Option<&serde_json::Value>) -> Vec<serde_json::Value> {
    let mut cmd = Command::new("node");
    cmd.arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/downloads.js"))
        .arg(serde_json::to_string(urls).expect("json"));
    if let Some(c) = cookies {
        cmd.arg(c.to_string());
    }
    let out = cmd.env("PLAYWRIGHT_CORE", pw).output().expect("node");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

pub(crate) fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).expect("base64")
}
