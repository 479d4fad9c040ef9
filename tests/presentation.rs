//! Content-Disposition done right (RFC 6266 / RFC 8187) and the other presentation headers, with
//! their sources in order: signed claims, the trusted query of a delegated request, the server's
//! trusted parameters, the configured defaults — and never a client header.

use crate::support;

use std::time::Duration;
use support::Tree;
use xsendfiled::guard::decide::decide_at;
use xsendfiled::guard::policy::DispositionMode;
use xsendfiled::guard::token::valid_filename;
use xsendfiled::guard::token::Disposition;
use xsendfiled::guard::{Backend, Policy};
use xsendfiled::protocol::request::Request;
use xsendfiled::reply::disposition::header_value;

#[test]
fn header_values_for_the_names_the_ancestors_got_wrong() {
    let a = Disposition::Attachment;
    for (name, want) in [
        ("report.pdf", "attachment; filename=\"report.pdf\""),
        ("naïve.txt", "attachment; filename=\"na_ve.txt\"; filename*=UTF-8''na%C3%AFve.txt"),
        // The fallback is never just the extension (django-sendfile2 gave ".txt").
        ("是.txt", "attachment; filename=\"_.txt\"; filename*=UTF-8''%E6%98%AF.txt"),
        ("是", "attachment; filename=\"_\"; filename*=UTF-8''%E6%98%AF"),
        ("space test’s.txt", "attachment; filename=\"space test_s.txt\"; filename*=UTF-8''space%20test%E2%80%99s.txt"),
        // CVE-2022-36359 (django-sendfile2's regression test): quotes stay inside the quoted string.
        ("multi-part-one\";\" dummy\".txt", "attachment; filename=\"multi-part-one\\\";\\\" dummy\\\".txt\""),
        // The escaping of the quoted form never leaks into filename* (sendfile2 0.7.2 bug).
        ("ü \"x\".txt", "attachment; filename=\"_ \\\"x\\\".txt\"; filename*=UTF-8''%C3%BC%20%22x%22.txt"),
        // Browsers percent-decode the plain parameter: `%` always goes to filename* as well.
        ("100% 'a'.txt", "attachment; filename=\"100_ 'a'.txt\"; filename*=UTF-8''100%25%20%27a%27.txt"),
        ("%41.txt", "attachment; filename=\"_41.txt\"; filename*=UTF-8''%2541.txt"),
        ("a;b=c.txt", "attachment; filename=\"a;b=c.txt\""),
        ("tab-free 😀.txt", "attachment; filename=\"tab-free _.txt\"; filename*=UTF-8''tab-free%20%F0%9F%98%80.txt"),
    ] {
        assert_eq!(header_value(a, name), want, "{name}");
    }
    // Names that could break the header or name a path are never accepted as download names.
    for bad in ["", "a/b ü.txt", "back\\slash.txt", "tab\tx.txt", "cr\rlf\n.txt", "nul\0.txt", &"x".repeat(256)] {
        assert!(!valid_filename(bad), "{bad:?}");
    }
}

fn disposition_of(p: &Policy, path: &str, extra: &[(&str, &str)]) -> Option<String> {
    headers_of(p, path, extra).into_iter().find(|(n, _)| n == "Content-Disposition").map(|(_, v)| v)
}

fn headers_of(p: &Policy, path: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(&[u8], &[u8])> = vec![(b"REQUEST_METHOD", b"GET"), (b"DOCUMENT_URI", path.as_bytes())];
    pairs.extend(extra.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())));
    let req = Request::from_pairs(pairs);
    let d = decide_at(&req, p, 1_767_225_600).expect("no fault");
    let mut out = Vec::new();
    let (status, _) = xsendfiled::reply::response::render(d, &req, p, &mut out);
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&out));
    String::from_utf8(out)
        .expect("utf8")
        .split("\r\n")
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn policy(root: &std::path::Path, backend: Backend) -> Policy {
    let prefix = backend.needs_internal_prefix().then_some("/_protected");
    Policy::build(root, backend, prefix, Some("/dl"), false).expect("policy")
}

#[test]
fn auto_disposition_by_media_type() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let xml_kinds = ["x.rdf", "x.rss", "x.atom", "x.mathml", "x.mml", "x.kml", "x.gpx", "x.smil", "x.xul", "x.xsl"];
    for name in ["x.svg", "x.js", "x.xml", "x.xhtml", "x.pdf", "x.png", "x.mp4"].iter().chain(&xml_kinds) {
        std::fs::write(tree.root.join(name), "x").expect("write");
    }
    let p = policy(&tree.root, Backend::Nginx);
    for (path, want) in [
        ("/dl/page.html", "attachment; filename=\"page.html\""),
        ("/dl/x.svg", "attachment; filename=\"x.svg\""),
        ("/dl/x.js", "attachment; filename=\"x.js\""),
        ("/dl/x.xml", "attachment; filename=\"x.xml\""),
        ("/dl/x.xhtml", "attachment; filename=\"x.xhtml\""),
        ("/dl/noext", "attachment; filename=\"noext\""),
        ("/dl/plain.txt", "inline; filename=\"plain.txt\""),
        ("/dl/x.pdf", "inline; filename=\"x.pdf\""),
        ("/dl/x.png", "inline; filename=\"x.png\""),
        ("/dl/x.mp4", "inline; filename=\"x.mp4\""),
        ("/dl/archive.tar.gz", "inline; filename=\"archive.tar.gz\""),
        // A symlink is named after the file it leads to.
        ("/dl/link-in.txt", "inline; filename=\"plain.txt\""),
    ] {
        assert_eq!(disposition_of(&p, path, &[]).as_deref(), Some(want), "{path}");
    }
    // Every XML type (`+xml`): a browser would parse it as a document of our origin.
    for name in xml_kinds {
        let want = format!("attachment; filename=\"{name}\"");
        assert_eq!(disposition_of(&p, &format!("/dl/{name}"), &[]), Some(want), "{name}");
    }
    let mut fixed = policy(&tree.root, Backend::Nginx);
    fixed.presentation.disposition = DispositionMode::Attachment;
    assert_eq!(disposition_of(&fixed, "/dl/x.png", &[]).as_deref(), Some("attachment; filename=\"x.png\""));
    fixed.presentation.disposition = DispositionMode::None;
    assert_eq!(disposition_of(&fixed, "/dl/x.png", &[]), None);
}

#[test]
fn trusted_sources_override_in_order_and_clients_never_do() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let p = policy(&tree.root, Backend::Nginx);
    let own = disposition_of(&p, "/dl/plain.txt", &[]);
    // The server's parameters.
    let server = [("XSENDFILED_FILENAME", "Bericht.txt"), ("XSENDFILED_DISPOSITION", "attachment")];
    assert_eq!(disposition_of(&p, "/dl/plain.txt", &server).as_deref(), Some("attachment; filename=\"Bericht.txt\""));
    // A delegated request's query, only where the server trusts it, and then it wins.
    let query = [("QUERY_STRING", "filename=Q3%20r%C3%A9sum%C3%A9.txt&disposition=inline")];
    assert_eq!(disposition_of(&p, "/dl/plain.txt", &query), own, "an untrusted query changes nothing");
    let trusted = [query[0], ("XSENDFILED_TRUST_QUERY", "1"), server[0], server[1]];
    assert_eq!(
        disposition_of(&p, "/dl/plain.txt", &trusted).as_deref(),
        Some("inline; filename=\"Q3 r_sum_.txt\"; filename*=UTF-8''Q3%20r%C3%A9sum%C3%A9.txt")
    );
    // Client headers: HTTP_XSENDFILED_* and Rack's X-Sendfile-Type / X-Accel-Mapping
    // (CVE-2025-61780) change nothing at all.
    let baseline = headers_of(&p, "/dl/plain.txt", &[]);
    let hostile = [
        ("HTTP_XSENDFILED_FILENAME", "evil.html"),
        ("HTTP_XSENDFILED_DISPOSITION", "inline"),
        ("HTTP_XSENDFILED_TRUST_QUERY", "1"),
        ("HTTP_XSENDFILED_APP_DISPOSITION", "inline"),
        ("HTTP_XSENDFILED_STRIP_PREFIX", "/"),
        ("HTTP_X_SENDFILE_TYPE", "X-Accel-Redirect"),
        ("HTTP_X_ACCEL_MAPPING", "/=/etc/"),
        ("HTTP_X_REDIRECT_MAP", "/=/etc/"),
        ("QUERY_STRING", "filename=evil.html&disposition=inline"),
    ];
    assert_eq!(headers_of(&p, "/dl/plain.txt", &hostile), baseline);
    // Invalid trusted values are ignored, not mangled into the header.
    let bad = [("XSENDFILED_FILENAME", "../etc/passwd"), ("XSENDFILED_DISPOSITION", "bogus")];
    assert_eq!(disposition_of(&p, "/dl/plain.txt", &bad), own);
    // The per-location strip prefix.
    assert_eq!(disposition_of(&p, "/files/plain.txt", &[("XSENDFILED_STRIP_PREFIX", "/files/")]), own);
}

#[test]
fn an_apps_own_disposition_is_the_only_one() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let p = policy(&tree.root, Backend::Nginx);
    let app = ("XSENDFILED_APP_DISPOSITION", "attachment; filename=\"Q3.txt\"");
    // The response already carries the app's header (nginx kept it across the app's redirect):
    // xsendfiled adds none, whatever else asks for one; the other headers are unchanged.
    let named = [app, ("XSENDFILED_FILENAME", "other.txt"), ("XSENDFILED_DISPOSITION", "attachment")];
    assert_eq!(disposition_of(&p, "/dl/plain.txt", &named), None);
    let mut with_app = headers_of(&p, "/dl/page.html", &[app]);
    with_app.retain(|(n, _)| n != "Date");
    let mut plain = headers_of(&p, "/dl/page.html", &[]);
    plain.retain(|(n, _)| n != "Date" && n != "Content-Disposition");
    assert_eq!(with_app, plain);
    // Empty (nginx's variable when the app set none): xsendfiled's own, as always.
    let own = disposition_of(&p, "/dl/plain.txt", &[]);
    assert!(own.is_some());
    assert_eq!(disposition_of(&p, "/dl/plain.txt", &[("XSENDFILED_APP_DISPOSITION", "")]), own);
}

#[test]
fn trusted_query_values_are_form_encoded() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let p = policy(&tree.root, Backend::Nginx);
    let own = disposition_of(&p, "/dl/plain.txt", &[]);
    let with =
        |q: &'static str| disposition_of(&p, "/dl/plain.txt", &[("QUERY_STRING", q), ("XSENDFILED_TRUST_QUERY", "1")]);
    // What urlencode, http_build_query, URI.encode_www_form and URLSearchParams write.
    assert_eq!(
        with("filename=Alice+report.txt&disposition=attachment").as_deref(),
        Some("attachment; filename=\"Alice report.txt\"")
    );
    assert_eq!(with("filename=C%2B%2B+notes.txt").as_deref(), Some("inline; filename=\"C++ notes.txt\""));
    assert_eq!(with("filename=a%20b.txt").as_deref(), Some("inline; filename=\"a b.txt\""));
    // A malformed escape is not repaired: the value is ignored.
    for bad in ["filename=%+f.txt", "filename=x%2", "filename=%zz.txt", "filename=%00.txt"] {
        assert_eq!(with(bad), own, "{bad}");
    }
}

#[test]
fn cache_and_server_controls_only_where_the_server_uses_them() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let controls = |backend: Backend| {
        let mut p = policy(&tree.root, backend);
        p.presentation.cache_control = Some("public, max-age=60".into());
        p.presentation.expires = Some(Duration::from_secs(3600));
        p.presentation.limit_rate = Some(102_400);
        p.presentation.buffering = Some(false);
        p.presentation.accel_expires = Some(30);
        headers_of(&p, "/dl/plain.txt", &[])
    };
    let names = |h: &[(String, String)]| h.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let nginx = controls(Backend::Nginx);
    assert!(nginx.contains(&("Cache-Control".into(), "public, max-age=60".into())));
    let expires = nginx.iter().find(|(n, _)| n == "Expires").map(|(_, v)| v.clone()).expect("Expires");
    let at = httpdate::parse_http_date(&expires).expect("an HTTP date");
    let ahead = at.duration_since(std::time::SystemTime::now()).expect("in the future").as_secs();
    assert!((3590..=3600).contains(&ahead), "Expires {expires} is {ahead} s ahead");
    assert!(nginx.contains(&("X-Accel-Limit-Rate".into(), "102400".into())));
    assert!(nginx.contains(&("X-Accel-Buffering".into(), "no".into())));
    assert!(nginx.contains(&("X-Accel-Expires".into(), "30".into())));
    let lighttpd = controls(Backend::Lighttpd);
    assert!(lighttpd.contains(&("X-LIGHTTPD-KBytes-per-second".into(), "100".into())));
    for backend in [Backend::Apache, Backend::Lighttpd, Backend::Caddy] {
        let h = controls(backend);
        assert!(
            names(&h).iter().all(|n| !n.starts_with("X-Accel-Limit") && n != "X-Accel-Expires"),
            "{backend:?}: {h:?}"
        );
        assert!(names(&h).contains(&"Cache-Control".to_string()));
    }
    // Per request, from the server.
    let p = policy(&tree.root, Backend::Nginx);
    let h =
        headers_of(&p, "/dl/plain.txt", &[("XSENDFILED_LIMIT_RATE", "2048"), ("XSENDFILED_CACHE_CONTROL", "no-cache")]);
    assert!(h.contains(&("X-Accel-Limit-Rate".into(), "2048".into())));
    assert!(h.contains(&("Cache-Control".into(), "no-cache".into())));
    // A header value that could break the block is ignored.
    let h = headers_of(&p, "/dl/plain.txt", &[("XSENDFILED_CACHE_CONTROL", "x\r\nSet-Cookie: a=b")]);
    assert!(h.iter().all(|(n, _)| n != "Cache-Control" && n != "Set-Cookie"), "{h:?}");
}
