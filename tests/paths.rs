//! The decision core against a real directory tree: tricky names that must be served with the exact
//! X-Accel-Redirect, hostile paths that must be refused with the exact reason. Paths are given as a
//! web server delivers them: already percent-decoded once.

use crate::support;

use support::Tree;
use xsendfiled::guard::decide::{decide, Decision, Reason, Status};
use xsendfiled::guard::path::PathRejection as P;
use xsendfiled::guard::policy::DispositionMode;
use xsendfiled::guard::store::Refusal as R;
use xsendfiled::guard::{Backend, Policy};
use xsendfiled::protocol::request::Request;

enum Want {
    /// X-Accel-Redirect target (after the prefix) and Content-Type.
    Send(&'static str, &'static str),
    Refuse(Status, Reason),
}

fn check(policy: &Policy, method: &[u8], path: &[u8], want: &Want) {
    let req =
        Request::from_pairs(vec![(&b"REQUEST_METHOD"[..], method), (b"DOCUMENT_URI", path), (b"SCRIPT_NAME", path)]);
    let decision = decide(&req, policy).unwrap_or_else(|e| panic!("{path:?}: fault {e}"));
    let shown = String::from_utf8_lossy(path);
    let outcome = match &decision {
        Decision::Send(_) => None,
        Decision::Refuse(s, r) => Some((*s, *r)),
    };
    let mut out = Vec::new();
    let (status, body) = xsendfiled::reply::response::render(decision, &req, policy, &mut out);
    assert!(body.is_none(), "{shown:?}: offload backends send no body");
    match (want, outcome) {
        (Want::Send(target, ct), None) => {
            assert_eq!(status, 200);
            let expected = format!("X-Accel-Redirect: /_protected/{target}\r\nContent-Type: {ct}\r\n\r\n");
            assert_eq!(String::from_utf8_lossy(&out), expected, "{shown:?}");
        }
        (Want::Refuse(status, reason), Some((s, r))) => {
            assert_eq!((&s, &r), (status, reason), "{shown:?}");
            let text = String::from_utf8_lossy(&out);
            assert!(text.starts_with(&format!("Status: {}\r\n", status.line())), "{shown:?}: {text}");
            assert!(text.contains("\r\nCache-Control: no-store\r\n"), "{shown:?}: {text}");
            assert!(!text.contains("X-Accel-Redirect"), "{shown:?}: {text}");
        }
        (_, other) => panic!("{shown:?}: unexpected {other:?}"),
    }
}

fn nf(p: P) -> Want {
    Want::Refuse(Status::NotFound, Reason::Path(p))
}
fn nf_file(r: R) -> Want {
    Want::Refuse(Status::NotFound, Reason::File(r))
}

#[test]
fn tricky_and_hostile_paths() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let mut policy =
        Policy::build(&tree.root, Backend::Nginx, Some("/_protected"), Some("/dl"), false).expect("policy");
    // This table is about confinement and naming; Content-Disposition has its own tests.
    policy.presentation.disposition = DispositionMode::None;
    let long = format!("/dl/{}", "L".repeat(255));
    let too_long = format!("/dl/{}", "L".repeat(256));
    let too_deep = format!("/dl/{}x.txt", "d/".repeat(64));
    let long_target = "L".repeat(255);
    let cases: Vec<(&[u8], Want)> = vec![
        // Served, with the exact encoding nginx needs (it decodes the value once).
        (b"/dl/plain.txt", Want::Send("plain.txt", "text/plain")),
        (b"/dl/a b.txt", Want::Send("a%20b.txt", "text/plain")),
        (b"/dl/100%.txt", Want::Send("100%25.txt", "text/plain")),
        (b"/dl/q?x.txt", Want::Send("q%3Fx.txt", "text/plain")),
        (b"/dl/h#x.txt", Want::Send("h%23x.txt", "text/plain")),
        ("/dl/ü.txt".as_bytes(), Want::Send("%C3%BC.txt", "text/plain")),
        ("/dl/是.txt".as_bytes(), Want::Send("%E6%98%AF.txt", "text/plain")),
        // Decode once: the literal file "%41.txt", never "A.txt".
        (b"/dl/%41.txt", Want::Send("%2541.txt", "text/plain")),
        (b"/dl/A.txt", Want::Send("A.txt", "text/plain")),
        // A trailing space must survive nginx's header trimming.
        (b"/dl/trail ", Want::Send("trail%20", "application/octet-stream")),
        (b"/dl/trail", Want::Send("trail", "application/octet-stream")),
        (b"/dl/semi;colon=1&x+y.txt", Want::Send("semi%3Bcolon%3D1%26x%2By.txt", "text/plain")),
        (b"/dl/quote'\"`.txt", Want::Send("quote%27%22%60.txt", "text/plain")),
        // The archive's own type, never Content-Encoding: gzip.
        (b"/dl/archive.tar.gz", Want::Send("archive.tar.gz", "application/gzip")),
        (b"/dl/page.html", Want::Send("page.html", "text/html")),
        (b"/dl/data.json", Want::Send("data.json", "application/json")),
        (b"/dl/noext", Want::Send("noext", "application/octet-stream")),
        (b"/dl/sub/in.txt", Want::Send("sub/in.txt", "text/plain")),
        (b"/dl/sub/deep/er/file.txt", Want::Send("sub/deep/er/file.txt", "text/plain")),
        ("/dl/dir with space/ä ö.txt".as_bytes(), Want::Send("dir%20with%20space/%C3%A4%20%C3%B6.txt", "text/plain")),
        (long.as_bytes(), Want::Send(Box::leak(long_target.into_boxed_str()), "application/octet-stream")),
        // Symlinks inside the root: the canonical target is named, never the link.
        (b"/dl/link-in.txt", Want::Send("plain.txt", "text/plain")),
        (b"/dl/link-abs-in.txt", Want::Send("sub/in.txt", "text/plain")),
        (b"/dl/link-dir/in.txt", Want::Send("sub/in.txt", "text/plain")),
        // Traversal and non-canonical forms: rejected, not repaired.
        (b"/dl/../outside/secret.txt", nf(P::DotSegment)),
        (b"/dl/../root-private/secret.txt", nf(P::DotSegment)),
        (b"/dl/sub/../plain.txt", nf(P::DotSegment)),
        (b"/dl/./plain.txt", nf(P::DotSegment)),
        (b"/dl/sub/..", nf(P::DotSegment)),
        (b"/dl//plain.txt", nf(P::EmptySegment)),
        (b"/dl/sub/", nf(P::EmptySegment)),
        (b"/dl/", nf(P::Root)),
        (b"/dl", nf(P::Root)),
        // The strip prefix matches whole segments only.
        (b"/dlx/plain.txt", nf(P::OutsidePrefix)),
        (b"/plain.txt", nf(P::OutsidePrefix)),
        (b"/DL/plain.txt", nf(P::OutsidePrefix)),
        // Encoded traversal as it arrives after the server's single decode: literal names.
        (b"/dl/%2e%2e/outside/secret.txt", nf_file(R::NotFound)),
        (b"/dl/..%2fplain.txt", nf(P::Hidden)),
        (b"/dl/sub/%2e%2e%2f%2e%2e%2fplain.txt", nf_file(R::NotFound)),
        (b"/dl/%2E%2E%2Foutside%2Fsecret.txt", nf_file(R::NotFound)),
        // Hidden files, directly or through a link.
        (b"/dl/.hidden", nf(P::Hidden)),
        (b"/dl/.git/config", nf(P::Hidden)),
        (b"/dl/link-hidden", nf_file(R::Hidden)),
        // Symlinks leading out: to a sibling sharing the root's name as a prefix, to /etc, out of a directory.
        (b"/dl/link-sibling", nf_file(R::Escapes)),
        (b"/dl/link-out.txt", nf_file(R::Escapes)),
        (b"/dl/link-etc", nf_file(R::Escapes)),
        (b"/dl/link-out-dir/secret.txt", nf_file(R::Escapes)),
        (b"/dl/link-dangling", nf_file(R::NotFound)),
        (b"/dl/loop-a", nf_file(R::NotFound)),
        (b"/dl/missing.txt", nf_file(R::NotFound)),
        (b"/dl/plain.txt/x", nf_file(R::NotFound)),
        // Not regular files.
        (b"/dl/dir", nf_file(R::NotRegular)),
        (b"/dl/sub", nf_file(R::NotRegular)),
        (b"/dl/link-dir", nf_file(R::NotRegular)),
        (b"/dl/fifo", nf_file(R::NotRegular)),
        // Bytes that never name a file we serve.
        (b"/dl/lf\nx.txt", nf(P::Control)),
        (b"/dl/tab\tx.txt", nf(P::Control)),
        (b"/dl/back\\slash.txt", nf(P::Backslash)),
        (b"/dl/\xff.txt", nf(P::InvalidUtf8)),
        (b"/dl/a\0b.txt", nf(P::Nul)),
        (too_long.as_bytes(), nf(P::TooLong)),
        (too_deep.as_bytes(), nf(P::TooDeep)),
        (b"dl/plain.txt", nf(P::OutsidePrefix)),
    ];
    assert!(cases.len() >= 40, "the table must stay large");
    // Both resolution paths must agree: openat2 (Linux >= 5.6) and realpath (the fallback).
    for openat2 in [true, false] {
        policy.root.set_openat2(openat2);
        assert_eq!(policy.root.uses_openat2(), openat2);
        for (path, want) in &cases {
            check(&policy, b"GET", path, want);
            check(&policy, b"HEAD", path, want);
        }
    }
    policy.root.set_openat2(true);
    // Every method but GET and HEAD, whatever the path.
    for m in [&b"POST"[..], b"PUT", b"DELETE", b"OPTIONS", b"get", b"PATCH"] {
        check(&policy, m, b"/dl/plain.txt", &Want::Refuse(Status::MethodNotAllowed, Reason::MethodNotAllowed));
        check(&policy, m, b"/dl/../etc", &Want::Refuse(Status::MethodNotAllowed, Reason::MethodNotAllowed));
    }
}

#[test]
fn malformed_requests_are_400() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let policy = Policy::build(&tree.root, Backend::Nginx, Some("/_protected"), None, false).expect("policy");
    let no_method = Request::from_pairs(vec![(&b"DOCUMENT_URI"[..], &b"/plain.txt"[..])]);
    assert!(matches!(decide(&no_method, &policy), Ok(Decision::Refuse(Status::BadRequest, Reason::MissingMethod))));
    let no_path = Request::from_pairs(vec![(&b"REQUEST_METHOD"[..], &b"GET"[..]), (b"PATH_INFO", b"")]);
    assert!(matches!(decide(&no_path, &policy), Ok(Decision::Refuse(Status::BadRequest, Reason::MissingPath))));
    // Without a strip prefix the path is taken whole; PATH_INFO wins over DOCUMENT_URI.
    let req = Request::from_pairs(vec![
        (&b"REQUEST_METHOD"[..], &b"GET"[..]),
        (b"PATH_INFO", b"/sub/in.txt"),
        (b"DOCUMENT_URI", b"/plain.txt"),
    ]);
    match decide(&req, &policy) {
        Ok(Decision::Send(s)) => assert_eq!(&*s.file.rel, b"sub/in.txt"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_strip_prefix_applies_to_the_whole_path_when_the_server_split_it() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let policy = Policy::build(&tree.root, Backend::Nginx, Some("/_protected"), Some("/dl"), false).expect("policy");
    let ask = |pairs: Vec<(&[u8], &[u8])>| match decide(&Request::from_pairs(pairs), &policy) {
        Ok(Decision::Send(s)) => Ok(s.file.rel.to_vec()),
        Ok(Decision::Refuse(_, r)) => Err(r),
        Err(e) => panic!("{e}"),
    };
    let get: (&[u8], &[u8]) = (b"REQUEST_METHOD", b"GET");
    // nginx fastcgi_split_path_info: SCRIPT_NAME=/dl, PATH_INFO=/sub/in.txt.
    assert_eq!(ask(vec![get, (b"SCRIPT_NAME", b"/dl"), (b"PATH_INFO", b"/sub/in.txt")]), Ok(b"sub/in.txt".to_vec()));
    // Caddy: PATH_INFO carries the whole path, SCRIPT_NAME empty.
    assert_eq!(ask(vec![get, (b"SCRIPT_NAME", b""), (b"PATH_INFO", b"/dl/sub/in.txt")]), Ok(b"sub/in.txt".to_vec()));
    // Another mount is still outside the prefix.
    assert_eq!(
        ask(vec![get, (b"SCRIPT_NAME", b"/other"), (b"PATH_INFO", b"/sub/in.txt")]),
        Err(Reason::Path(P::OutsidePrefix))
    );
    // The split does not open a way around the checks.
    assert_eq!(
        ask(vec![get, (b"SCRIPT_NAME", b"/dl"), (b"PATH_INFO", b"/../outside/secret.txt")]),
        Err(Reason::Path(P::DotSegment))
    );
}

#[test]
fn hidden_files_can_be_allowed() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let mut policy =
        Policy::build(&tree.root, Backend::Nginx, Some("/_protected/"), Some("/dl/"), true).expect("policy");
    policy.presentation.disposition = DispositionMode::None;
    check(&policy, b"GET", b"/dl/.hidden", &Want::Send(".hidden", "application/octet-stream"));
    check(&policy, b"GET", b"/dl/link-hidden", &Want::Send(".hidden", "application/octet-stream"));
    check(&policy, b"GET", b"/dl/.git/config", &Want::Send(".git/config", "application/octet-stream"));
    // Dot segments stay refused even then.
    check(&policy, b"GET", b"/dl/../outside/secret.txt", &nf(P::DotSegment));
}

#[test]
fn root_that_is_a_sibling_prefix_never_reaches_the_sibling() {
    // The wsgi-xsendfile bug: root /x/root, file /x/root-private/secret.txt. Reached through a
    // symlink (the only way past the string checks), it must be refused by the component check.
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let policy = Policy::build(&tree.root, Backend::Nginx, Some("/p"), None, false).expect("policy");
    let req = Request::from_pairs(vec![(&b"REQUEST_METHOD"[..], &b"GET"[..]), (b"DOCUMENT_URI", b"/link-sibling")]);
    assert!(matches!(decide(&req, &policy), Ok(Decision::Refuse(Status::NotFound, Reason::File(R::Escapes)))));
    assert!(policy.root.uses_openat2(), "this kernel should offer openat2 (Linux >= 5.6)");
}

/// What each backend emits for the same files, and what it refuses to express.
#[test]
fn every_backend_names_the_canonical_file_its_own_way() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    std::os::unix::fs::symlink("lf\nx.txt", tree.root.join("link-lf")).expect("symlink");
    let root = tree.root.canonicalize().expect("canonical");
    let r = root.display().to_string();
    let render = |backend: Backend, path: &[u8]| -> Result<String, Reason> {
        let prefix = backend.needs_internal_prefix().then_some("/_protected");
        let mut policy = Policy::build(&tree.root, backend, prefix, Some("/dl"), false).expect("policy");
        policy.presentation.disposition = DispositionMode::None;
        let req = Request::from_pairs(vec![(&b"REQUEST_METHOD"[..], &b"GET"[..]), (b"DOCUMENT_URI", path)]);
        match decide(&req, &policy).expect("no fault") {
            d @ Decision::Send(_) => {
                let mut out = Vec::new();
                xsendfiled::reply::response::render(d, &req, &policy, &mut out);
                Ok(String::from_utf8_lossy(&out).into_owned())
            }
            Decision::Refuse(_, reason) => Err(reason),
        }
    };
    let meta = std::fs::metadata(root.join("a b.txt")).expect("stat");
    let file_meta = xsendfiled::guard::store::FileMeta {
        len: meta.len(),
        mtime: std::os::unix::fs::MetadataExt::mtime(&meta),
        mtime_nsec: std::os::unix::fs::MetadataExt::mtime_nsec(&meta),
        ino: std::os::unix::fs::MetadataExt::ino(&meta),
    };
    assert_eq!(
        render(Backend::Apache, b"/dl/a b.txt"),
        Ok(format!(
            "Status: 200 OK\r\nX-Sendfile: {r}/a b.txt\r\nContent-Type: text/plain\r\nETag: {}\r\nLast-Modified: {}\r\n\r\n",
            xsendfiled::reply::validators::etag(&file_meta),
            xsendfiled::reply::validators::last_modified(&file_meta)
        ))
    );
    let apache_line = |p: &[u8]| render(Backend::Apache, p).map(|s| s.lines().nth(1).unwrap_or_default().to_owned());
    assert_eq!(apache_line(b"/dl/100%.txt"), Ok(format!("X-Sendfile: {r}/100%.txt")));
    assert_eq!(apache_line("/dl/ü.txt".as_bytes()), Ok(format!("X-Sendfile: {r}/ü.txt")));
    assert_eq!(apache_line(b"/dl/link-in.txt"), Ok(format!("X-Sendfile: {r}/plain.txt")));
    assert_eq!(apache_line(b"/dl/link-lf"), Err(Reason::Unexpressible));

    let enc = |s: &str| support::url_path(s.as_bytes());
    assert_eq!(
        render(Backend::Lighttpd, b"/dl/a b.txt"),
        Ok(format!("X-Sendfile: {}/a%20b.txt\r\nContent-Type: text/plain\r\n\r\n", enc(&r)))
    );
    assert_eq!(
        render(Backend::Lighttpd, b"/dl/%41.txt").map(|s| s.lines().next().unwrap_or_default().to_owned()),
        Ok(format!("X-Sendfile: {}/%2541.txt", enc(&r)))
    );
    assert_eq!(render(Backend::Lighttpd, b"/dl/link-lf"), Err(Reason::Unexpressible));

    assert_eq!(render(Backend::LocalRedirect, b"/dl/h#x.txt"), Ok("Location: /_protected/h%23x.txt\r\n\r\n".into()));
    assert_eq!(render(Backend::LocalRedirect, b"/dl/link-lf"), Ok("Location: /_protected/lf%0Ax.txt\r\n\r\n".into()));

    assert_eq!(
        render(Backend::Caddy, "/dl/dir with space/ä ö.txt".as_bytes()),
        Ok("X-Accel-Redirect: /dir with space/ä ö.txt\r\nContent-Type: text/plain\r\n\r\n".into())
    );
    assert_eq!(
        render(Backend::Caddy, b"/dl/h#x.txt"),
        Ok("X-Accel-Redirect: /h#x.txt\r\nContent-Type: text/plain\r\n\r\n".into())
    );
    for refused in [&b"/dl/100%.txt"[..], b"/dl/%41.txt", b"/dl/q?x.txt", b"/dl/trail ", b"/dl/link-lf"] {
        assert_eq!(render(Backend::Caddy, refused), Err(Reason::Unexpressible), "{refused:?}");
    }
    // nginx expresses everything, even a line feed in the name.
    assert_eq!(
        render(Backend::Nginx, b"/dl/link-lf"),
        Ok("X-Accel-Redirect: /_protected/lf%0Ax.txt\r\nContent-Type: text/plain\r\n\r\n".into())
    );
}
