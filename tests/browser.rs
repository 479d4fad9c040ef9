//! A real browser agrees with our Content-Disposition: Debian's headless Chromium (driven by
//! playwright-core) downloads tricky names through nginx + xsendfiled, and the names it saves them
//! under are checked, as are the bytes (a `.tar.gz` stays compressed: no Content-Encoding).

mod support;

use std::process::Command;
use support::{url_path, wait_until};

#[test]
fn chromium_saves_files_under_the_names_we_send() {
    if !support::require(&["nginx", "node", "/usr/bin/chromium"]) {
        return;
    }
    let pw = std::env::var("PLAYWRIGHT_CORE").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/playwright/node_modules/playwright-core").to_owned()
    });
    if !std::path::Path::new(&pw).exists() {
        assert!(support::require(&["/nonexistent/playwright-core (run scripts/install-deps.sh)"]));
        return;
    }
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
    let out = Command::new("node")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/downloads.js"))
        .arg(serde_json::to_string(&urls).expect("json"))
        .env("PLAYWRIGHT_CORE", &pw)
        .output()
        .expect("node");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(results.len(), cases.len());
    for ((path, want), got) in cases.iter().zip(&results) {
        assert_eq!(got["name"].as_str(), Some(*want), "{path}: {got}");
        let body = support::SERVABLE.iter().find(|(n, _)| n == path).expect("servable").1;
        let b64 = got["bytes"].as_str().expect("bytes");
        let saved = base64_decode(b64);
        assert_eq!(saved, body.as_bytes(), "{path}: the bytes saved");
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).expect("base64")
}
