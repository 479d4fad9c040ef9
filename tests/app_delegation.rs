//! An application delegating downloads: a real PHP-FPM app behind nginx answers
//! `X-Accel-Redirect: /_xsendfiled/<path>?filename=...`, xsendfiled (trusting that query only on the
//! internal location) checks the path and names the file, nginx sends it.

use crate::support;

use support::curl;

#[test]
fn php_fpm_app_hands_downloads_to_xsendfiled() {
    if !support::require(&["nginx", "curl", support::app::PHP_FPM]) {
        return;
    }
    let ws = support::Workspace::new();
    let stack = support::app::start(&ws);
    let (port, run) = (stack.port, &ws.run);
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
        let q = support::url_path(name.as_bytes());
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
    // An app that sets its own Content-Disposition (Rails send_file, django-sendfile2): nginx keeps
    // it across the redirect and xsendfiled adds none, so the client gets exactly one, the app's.
    let send_file = format!("http://127.0.0.1:{port}/send-file");
    assert_eq!(curl(&format!("{send_file}?file=plain.txt"), &[]).status, 403);
    let r = curl(&format!("{send_file}?file=dir%20with%20space/%C3%A4%20%C3%B6.txt"), &cookie);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"nested unicode\n"[..]), "{r:?}");
    assert_eq!(r.header_count("Content-Disposition"), 1, "{r:?}");
    assert_eq!(
        r.header("Content-Disposition"),
        Some("attachment; filename=\"Report of __ __.txt\"; filename*=UTF-8''Report%20of%20%C3%A4%20%C3%B6.txt")
    );
    // The delegating app still gets exactly one, xsendfiled's.
    let r = curl(&format!("{base}?file=plain.txt"), &cookie);
    assert_eq!(r.header_count("Content-Disposition"), 1, "{r:?}");

    // Who downloaded what.
    let log = std::fs::read_to_string(run.join("access.log")).expect("access log");
    assert!(
        log.lines().any(|l| l.contains("\"file\":\"dir with space/ä ö.txt\"") && l.contains("\"decision\":\"send\"")),
        "{log}"
    );
}
