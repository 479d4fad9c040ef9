//! The one table every server × backend must pass: tricky names served byte-exact with the right
//! Content-Type, hostile paths refused without leaking, HEAD, Range, conditional requests, methods.

#![allow(dead_code, unreachable_pub)]

use super::{curl, url_path, SERVABLE};

/// How a server differs where it legitimately may.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// Names the backend refuses because the server would read them as another file (Caddy).
    pub refuses_percent_and_query: bool,
    /// The server sets Content-Type itself from its own table after a local redirect (Apache,
    /// lighttpd): only `.txt` is checked, and a name without a known extension may get none.
    pub server_content_type: bool,
    /// Status of a direct request to the internal location (nginx: 404, Apache: 403).
    pub direct_internal_status: u16,
    /// Files reached through a symlink are refused (nginx named locations serve the request URI).
    pub refuses_symlinked: bool,
}

/// nginx, lighttpd and Apache X-Sendfile.
pub const STRICT: Profile = Profile {
    refuses_percent_and_query: false,
    server_content_type: false,
    direct_internal_status: 404,
    refuses_symlinked: false,
};

pub fn expected_type(name: &str) -> Option<&'static str> {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("txt") => Some("text/plain"),
        Some("html") => Some("text/html"),
        Some("json") => Some("application/json"),
        Some("gz") => Some("application/gzip"),
        _ => None,
    }
}

/// Runs the table against `http://127.0.0.1:{port}{mount}/...`.
pub fn check(port: u16, mount: &str, internal: Option<&str>, p: Profile) {
    let base = format!("http://127.0.0.1:{port}");
    let long = "L".repeat(255);
    let mut servable: Vec<(String, Vec<u8>)> =
        SERVABLE.iter().map(|(n, b)| (n.to_string(), b.as_bytes().to_vec())).collect();
    servable.push((long, b"long name\n".to_vec()));
    servable.push(("link-in.txt".into(), b"plain\n".to_vec()));
    servable.push(("link-dir/in.txt".into(), b"in sub\n".to_vec()));
    let mut served = 0;
    for (name, body) in &servable {
        let url = format!("{base}{mount}/{}", url_path(name.as_bytes()));
        let r = curl(&url, &[]);
        let refused = (p.refuses_percent_and_query
            && (name.contains('%') || name.contains('?') || name.ends_with(' ')))
            || (p.refuses_symlinked && name.starts_with("link-"));
        if refused {
            assert_eq!(r.status, 404, "{name:?} must be refused: {r:?}");
            continue;
        }
        assert_eq!(r.status, 200, "{name:?}: {r:?}");
        assert_eq!(&r.body, body, "{name:?}");
        served += 1;
        let want = if name.starts_with("link-") { Some("text/plain") } else { expected_type(name) };
        match (want, p.server_content_type) {
            (Some(ct), false) => assert_eq!(r.header("Content-Type"), Some(ct), "{name:?}"),
            // The server's own table decides (lighttpd: `text/plain;charset=utf-8`,
            // `application/x-gtar-compressed`); only the common case is pinned.
            (Some(_), true) if !name.ends_with(".txt") => {}
            (Some(ct), true) => {
                let essence = r.header("Content-Type").map(|v| v.split(';').next().unwrap_or_default().trim());
                assert_eq!(essence, Some(ct), "{name:?}");
            }
            (None, false) => assert_eq!(r.header("Content-Type"), Some("application/octet-stream"), "{name:?}"),
            (None, true) => {}
        }
        assert_eq!(r.header("Content-Encoding"), None, "{name:?}");
        for leaked in ["X-Accel-Redirect", "X-Sendfile", "Status", "Location"] {
            assert_eq!(r.header(leaked), None, "{name:?}: {leaked} must not reach the client");
        }
        assert_eq!(r.header_count("X-Content-Type-Options"), 1, "{name:?}");
        assert_eq!(r.header("Content-Security-Policy"), Some("sandbox"), "{name:?}: set by the server's configuration");
    }
    assert!(served >= 16, "only {served} names served");
    let hostile = [
        "/..%2Foutside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E%2Froot-private%2Fsecret.txt",
        "/sub/%2e%2e/%2e%2e/outside/secret.txt",
        "/link-out.txt",
        "/link-sibling",
        "/link-etc",
        "/link-out-dir/secret.txt",
        "/link-hidden",
        "/.hidden",
        "/.git/config",
        "/dir",
        "/sub/",
        "/fifo",
        "/lf%0Ax.txt",
        "/%FF.txt",
        "/back%5Cslash.txt",
        "/missing.txt",
        "/",
    ];
    for path in hostile {
        let r = curl(&format!("{base}{mount}{path}"), &[]);
        // A server may refuse a control character or invalid UTF-8 in the URL itself (lighttpd: 400).
        let server_may_refuse = path.contains("%0A") || path.contains("%FF");
        assert!(r.status == 404 || (server_may_refuse && r.status == 400), "{mount}{path}: {r:?}");
        assert_no_leak(&r.body, path);
    }
    if let Some(internal) = internal {
        for path in ["/plain.txt", "/../root-private/secret.txt"] {
            let r = curl(&format!("{base}{internal}{path}"), &[]);
            assert!(r.status == p.direct_internal_status || r.status == 404, "{internal}{path}: {r:?}");
            assert_no_leak(&r.body, path);
            assert!(!r.body.starts_with(b"plain"), "{internal}{path} reachable directly");
        }
    }
    // Errors from xsendfiled carry no-store.
    let r = curl(&format!("{base}{mount}/missing.txt"), &[]);
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    // NUL: the server itself may refuse it first.
    let r = curl(&format!("{base}{mount}/a%00b"), &[]);
    assert!(r.status == 400 || r.status == 404, "{r:?}");
    // HEAD: the headers of GET, no body.
    let r = curl(&format!("{base}{mount}/plain.txt"), &["--head"]);
    let essence = r.header("Content-Type").map(|v| v.split(';').next().unwrap_or_default());
    assert_eq!((r.status, essence, r.header("Content-Length")), (200, Some("text/plain"), Some("6")), "{r:?}");
    assert!(r.body.is_empty());
    // Range and conditional requests, answered by the server on the file it sends.
    let r = curl(&format!("{base}{mount}/plain.txt"), &["-H", "Range: bytes=1-3"]);
    assert_eq!((r.status, r.body.as_slice()), (206, &b"lai"[..]), "{r:?}");
    assert_eq!(r.header("Content-Range"), Some("bytes 1-3/6"));
    let first = curl(&format!("{base}{mount}/plain.txt"), &[]);
    let etag = first.header("ETag").expect("ETag").to_owned();
    let r = curl(&format!("{base}{mount}/plain.txt"), &["-H", &format!("If-None-Match: {etag}")]);
    assert_eq!(r.status, 304, "{r:?}");
    assert!(r.header("X-Sendfile").is_none());
    // Other methods.
    for m in ["POST", "PUT", "DELETE"] {
        let r = curl(&format!("{base}{mount}/plain.txt"), &["-X", m, "--data-binary", "request body"]);
        assert_eq!((r.status, r.header("Allow")), (405, Some("GET, HEAD")), "{m}");
    }
}

fn assert_no_leak(body: &[u8], what: &str) {
    let body = String::from_utf8_lossy(body);
    for secret in ["SECRET", "hidden\n", "root:", "git\n"] {
        assert!(!body.contains(secret), "{what}: leaked {secret:?}: {body}");
    }
}
