//! Signed links in the decision and end to end: `xsendfiled sign` mints links that nginx and Apache
//! then let through xsendfiled; tampering, expiry, path mismatch, trusted per-location switches,
//! key rotation with SIGHUP, and the key file's permissions.

use crate::support;

use std::path::Path;
use std::process::Command;
use support::{curl, wait_until, Tree};
use xsendfiled::guard::decide::{decide_at, Decision, Reason, Status};
use xsendfiled::guard::token::keys::KeyRing;
use xsendfiled::guard::token::sdl1::{self, Failure, SignSpec};
use xsendfiled::guard::token::{Claims, Signing};
use xsendfiled::guard::{Backend, Policy};
use xsendfiled::protocol::request::Request;

const NOW: u64 = 1_767_225_600 - 600;
const KEY: &str = "k1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

fn link(path: &str, exp: u64, claims: Claims) -> String {
    let key: Vec<u8> = (0u8..32).collect();
    let spec =
        SignSpec { kid: "k1", key: &key, path, exp, nbf: None, prefix: None, network: None, claims, limit: None };
    sdl1::sign(&spec).expect("sign")
}

fn policy(root: &Path, require: bool) -> Policy {
    let mut p = Policy::build(root, Backend::Nginx, Some("/_protected"), Some("/dl"), false).expect("policy");
    let ring = KeyRing::parse(KEY, "test").expect("ring");
    p.signing = Some(Signing::new(ring, require, 7 * 86_400));
    p
}

fn run(p: &Policy, uri: &str, doc: &str, extra: &[(&str, &str)]) -> (Result<(), (Status, Reason)>, String) {
    let mut pairs: Vec<(&[u8], &[u8])> =
        vec![(b"REQUEST_METHOD", b"GET"), (b"REQUEST_URI", uri.as_bytes()), (b"DOCUMENT_URI", doc.as_bytes())];
    pairs.extend(extra.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())));
    let req = Request::from_pairs(pairs);
    let d = decide_at(&req, p, NOW).expect("no fault");
    let outcome = match &d {
        Decision::Send(_) => Ok(()),
        Decision::Refuse(s, r) => Err((*s, *r)),
    };
    let mut out = Vec::new();
    xsendfiled::reply::response::render(d, &req, p, &mut out);
    (outcome, String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn the_decision_with_signed_links() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let p = policy(&tree.root, true);
    let exp = NOW + 3600;
    // A valid link, with signed claims: served, named, kept out of shared caches.
    let claims = Claims { filename: Some("Q3 résumé.txt".into()), disposition: None };
    let uri = link("/dl/a b.txt", exp, claims);
    let (r, out) = run(&p, &uri, "/dl/a b.txt", &[]);
    assert_eq!(r, Ok(()), "{out}");
    assert!(out.starts_with("X-Accel-Redirect: /_protected/a%20b.txt\r\n"), "{out}");
    assert!(out.contains("\r\nContent-Disposition: inline; filename=\"Q3 r_sum_.txt\"; filename*=UTF-8''Q3%20r%C3%A9sum%C3%A9.txt\r\n"), "{out}");
    assert!(out.contains("\r\nCache-Control: private\r\n"), "{out}");
    // Unsigned, tampered, expired, for another path.
    let plain = link("/dl/plain.txt", exp, Claims::default());
    let cases = [
        ("/dl/plain.txt".to_string(), "/dl/plain.txt", Status::Forbidden, Reason::Token(Failure::Param("no exp"))),
        (plain.replace("plain.txt", "A.txt"), "/dl/A.txt", Status::Forbidden, Reason::Token(Failure::BadSignature)),
        (
            link("/dl/plain.txt", NOW - 1, Claims::default()),
            "/dl/plain.txt",
            Status::Gone,
            Reason::Token(Failure::Expired),
        ),
        (plain.clone(), "/dl/a b.txt", Status::Forbidden, Reason::SignedPathMismatch),
        (
            link("/dl/plain.txt", NOW + 30 * 86_400, Claims::default()),
            "/dl/plain.txt",
            Status::Forbidden,
            Reason::Token(Failure::TooLong),
        ),
    ];
    for (uri, doc, status, reason) in cases {
        let (r, out) = run(&p, &uri, doc, &[]);
        assert_eq!(r, Err((status, reason)), "{uri}");
        assert!(out.contains("\r\nCache-Control: no-store\r\n"), "{out}");
    }
    // A valid link still meets the path checks after it: signed hostile paths stay refused.
    let hidden = link("/dl/.hidden", exp, Claims::default());
    assert_eq!(
        run(&p, &hidden, "/dl/.hidden", &[]).0,
        Err((Status::NotFound, Reason::Path(xsendfiled::guard::path::PathRejection::Hidden)))
    );
    // The server decides per location; a client header of the same name changes nothing.
    assert_eq!(run(&p, "/dl/plain.txt", "/dl/plain.txt", &[("XSENDFILED_AUTH", "none")]).0, Ok(()));
    assert!(run(&p, "/dl/plain.txt", "/dl/plain.txt", &[("HTTP_XSENDFILED_AUTH", "none")]).0.is_err());
    assert!(run(&p, "/dl/plain.txt", "/dl/plain.txt", &[("XSENDFILED_AUTH", "bogus")]).0.is_err(), "fails closed");
    let optional = policy(&tree.root, false);
    assert_eq!(run(&optional, "/dl/plain.txt", "/dl/plain.txt", &[]).0, Ok(()));
    assert!(run(&optional, "/dl/plain.txt", "/dl/plain.txt", &[("XSENDFILED_AUTH", "signed")]).0.is_err());
    // Where no signature is required, a link that carries one is still verified: a good one's
    // claims and key id apply, a forged or expired one is refused.
    let named = link("/dl/plain.txt", exp, Claims { filename: Some("signed name.txt".into()), disposition: None });
    for extra in [&[][..], &[("XSENDFILED_AUTH", "none")][..]] {
        let (r, out) = run(&optional, &named, "/dl/plain.txt", extra);
        assert_eq!(r, Ok(()), "{out}");
        assert!(out.contains("\r\nContent-Disposition: inline; filename=\"signed name.txt\"\r\n"), "{out}");
        assert!(out.contains("\r\nCache-Control: private\r\n"), "{out}");
        let forged = named.replace("exp=", "exp=1");
        assert_eq!(
            run(&optional, &forged, "/dl/plain.txt", extra).0,
            Err((Status::Forbidden, Reason::Token(Failure::BadSignature)))
        );
        let other_file = named.replace("plain.txt", "A.txt");
        assert_eq!(
            run(&optional, &other_file, "/dl/A.txt", extra).0,
            Err((Status::Forbidden, Reason::Token(Failure::BadSignature)))
        );
        let expired = link("/dl/plain.txt", NOW - 1, Claims::default());
        assert_eq!(
            run(&optional, &expired, "/dl/plain.txt", extra).0,
            Err((Status::Gone, Reason::Token(Failure::Expired)))
        );
        let no_value = "/dl/plain.txt?sig";
        assert!(run(&optional, no_value, "/dl/plain.txt", extra).0.is_err(), "an empty sig is a bad one");
    }
    let pairs: Vec<(&[u8], &[u8])> =
        vec![(b"REQUEST_METHOD", b"GET"), (b"REQUEST_URI", named.as_bytes()), (b"DOCUMENT_URI", b"/dl/plain.txt")];
    match decide_at(&Request::from_pairs(pairs), &optional, NOW).expect("no fault") {
        Decision::Send(send) => assert_eq!(send.kid.as_deref(), Some("k1"), "the key id reaches the log"),
        Decision::Refuse(s, r) => panic!("{s:?} {r}"),
    }
    // A query that merely contains "sig" in another parameter is no signature.
    assert_eq!(run(&optional, "/dl/plain.txt?design=1&xsig=2", "/dl/plain.txt", &[]).0, Ok(()));
    let no_keys = Policy::build(&tree.root, Backend::Nginx, Some("/_protected"), Some("/dl"), false).expect("p");
    // Without keys there is nothing to verify a signature with: the link is an unsigned one.
    assert_eq!(run(&no_keys, &named, "/dl/plain.txt", &[]).0, Ok(()));
    assert_eq!(
        run(&no_keys, "/dl/plain.txt", "/dl/plain.txt", &[("XSENDFILED_AUTH", "signed")]).0,
        Err((Status::Forbidden, Reason::NoKeys))
    );
}

use support::{sign_cli, sign_out, write_keys};

#[test]
fn signed_links_through_nginx_and_key_rotation() {
    if !support::require(&["nginx", "curl"]) {
        return;
    }
    let ws = support::Workspace::new();
    let (tree, run_dir) = (&ws.tree, &ws.run);
    let keys = run_dir.join("keys");
    write_keys(&keys, &format!("old hex:{}\nnew b64:{}\n", "11".repeat(32), "A".repeat(43)));
    let sock = run_dir.join("x.sock");
    let mut args = support::guard_args(&tree.root, Some(&format!("unix:{}", sock.display())));
    args.extend(["--keys".into(), keys.display().to_string(), "--require-signature".into()]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(run_dir, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", run_dir, &tree.root, &format!("unix:{}", sock.display()), port);
    let base = format!("http://127.0.0.1:{port}");

    let l = sign_cli(&keys, &["--filename", "Bericht für Q3.txt", "/dl/dir with space/ä ö.txt"]);
    let r = curl(&format!("{base}{l}"), &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"nested unicode\n"[..]), "{l}");
    assert_eq!(
        r.header("Content-Disposition"),
        Some("inline; filename=\"Bericht f_r Q3.txt\"; filename*=UTF-8''Bericht%20f%C3%BCr%20Q3.txt"),
        "a signed name without a signed disposition: --disposition auto decides (text is inline)"
    );
    assert_eq!(r.header("Cache-Control"), Some("private"));
    assert_eq!(curl(&format!("{base}{l}"), &["--head"]).status, 200);
    // Unsigned, tampered, expired.
    let unsigned = curl(&format!("{base}/dl/plain.txt"), &[]);
    assert_eq!((unsigned.status, unsigned.header("Cache-Control")), (403, Some("no-store")));
    let tampered = l.replace("exp=", "exp=1");
    assert_eq!(curl(&format!("{base}{tampered}"), &[]).status, 403);
    let expired = sign_cli(&keys, &["--expires-at", "1700000000", "/dl/plain.txt"]);
    assert_eq!(curl(&format!("{base}{expired}"), &[]).status, 410);
    // Absolute and relative expiry are separate options: a Unix time is a point in time.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let at = sign_cli(&keys, &["--expires-at", &(now + 3600).to_string(), "/dl/plain.txt"]);
    assert!(at.contains(&format!("exp={}&", now + 3600)), "{at}");
    assert_eq!(curl(&format!("{base}{at}"), &[]).status, 200);
    let (year, month, day, hh, mm, ss) = support::civil(now + 7200);
    let rfc3339 = format!("{year:04}-{month:02}-{day:02}T{hh:02}:{mm:02}:{ss:02}Z");
    let at = sign_cli(&keys, &["--expires-at", &rfc3339, "/dl/plain.txt"]);
    assert!(at.contains(&format!("exp={}&", now + 7200)), "{rfc3339}: {at}");
    assert_eq!(curl(&format!("{base}{at}"), &[]).status, 200);
    // The old --expires no longer guesses what a bare number means.
    let out = sign_out(&keys, &["--expires", &(now + 3600).to_string(), "/dl/plain.txt"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty(), "{err}");
    assert!(err.contains("--expires-at") && err.contains("--expires-in"), "{err}");
    // A link that outlives the default lifetime cap is refused by a default daemon: sign says so.
    let out = sign_out(&keys, &["--expires-in", "30d", "/dl/plain.txt"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.contains("warning") && err.contains("--max-link-lifetime 7d"), "{err}");
    let too_long = String::from_utf8(out.stdout).expect("utf8").trim().to_owned();
    assert_eq!(curl(&format!("{base}{too_long}"), &[]).status, 403);
    let out = sign_out(&keys, &["--expires-in", "7d", "/dl/plain.txt"]);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    // A prefix link opens every file below it and nothing beside it.
    let pfx = sign_cli(&keys, &["--prefix", "/dl/sub/", "/dl/sub/in.txt"]);
    let query = pfx.split_once('?').expect("query").1;
    assert_eq!(curl(&format!("{base}/dl/sub/deep/er/file.txt?{query}"), &[]).status, 200);
    assert_eq!(curl(&format!("{base}/dl/plain.txt?{query}"), &[]).status, 403);

    // Rotation: links of both keys work; remove the old key, SIGHUP, and only new ones do.
    let old = sign_cli(&keys, &["--kid", "old", "/dl/plain.txt"]);
    let new = sign_cli(&keys, &["--kid", "new", "/dl/plain.txt"]);
    assert_eq!(curl(&format!("{base}{old}"), &[]).status, 200);
    assert_eq!(curl(&format!("{base}{new}"), &[]).status, 200);
    write_keys(&keys, &format!("new b64:{}\n", "A".repeat(43)));
    d.signal(1);
    wait_until("reload", Some(&mut d), || d_log(run_dir).contains("key ring reloaded, 1 key(s) active"));
    assert_eq!(curl(&format!("{base}{old}"), &[]).status, 403);
    assert_eq!(curl(&format!("{base}{new}"), &[]).status, 200);
    // A bad file keeps the ring in force and says why.
    write_keys(&keys, "new hex:tooshort\n");
    d.signal(1);
    wait_until("refused reload", Some(&mut d), || d_log(run_dir).contains("keeping the running configuration"));
    assert_eq!(curl(&format!("{base}{new}"), &[]).status, 200);
    // Signatures never reach the log, even at trace level of decisions.
    let log = d_log(run_dir);
    let sig = new.rsplit("sig=").next().expect("sig");
    assert!(!log.contains(sig), "signature leaked into the log");
}

fn d_log(run_dir: &Path) -> String {
    std::fs::read_to_string(run_dir.join("xsendfiled.log")).unwrap_or_default()
}

#[test]
fn signed_links_through_apache() {
    if !support::require(&["apache2", "curl"]) {
        return;
    }
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let run_dir = dir.path().join("run");
    std::fs::create_dir_all(run_dir.join("htdocs")).expect("mkdir");
    let keys = run_dir.join("keys");
    write_keys(&keys, KEY);
    let sock = run_dir.join("apache.sock");
    let args = [
        "--backend",
        "apache",
        "--root",
        tree.root.to_str().expect("utf8"),
        "--listen",
        &format!("unix:{}", sock.display()),
        "--socket-mode",
        "0666",
        "--keys",
        keys.to_str().expect("utf8"),
        "--require-signature",
    ]
    .map(str::to_owned);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&run_dir, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let user = if support::nginx_user() == "root" { "www-data".to_string() } else { support::nginx_user() };
    let conf = support::fill_template(
        &support::conf_example("apache-xsendfile.conf"),
        &[
            ("APACHE_USER", user.clone()),
            ("APACHE_GROUP", user),
            ("RUN_DIR", run_dir.display().to_string()),
            ("PORT", port.to_string()),
            ("SOCKET", sock.display().to_string()),
            ("ROOT", tree.root.display().to_string()),
        ],
    );
    std::fs::write(run_dir.join("apache.conf"), conf).expect("write");
    let mut cmd = Command::new("apache2");
    cmd.arg("-f").arg(run_dir.join("apache.conf")).arg("-DFOREGROUND");
    let mut a = support::spawn(cmd, "apache2", &run_dir.join("apache2.stderr"));
    wait_until("apache", Some(&mut a), || support::tcp_up(port));
    let base = format!("http://127.0.0.1:{port}");
    let l = sign_cli(&keys, &["--disposition", "inline", "/dl/q?x.txt"]);
    let r = curl(&format!("{base}{l}"), &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"question\n"[..]), "{l}");
    assert_eq!(r.header("Content-Disposition"), Some("inline; filename=\"q?x.txt\""));
    assert_eq!(curl(&format!("{base}/dl/q%3Fx.txt"), &[]).status, 403);
    assert_eq!(curl(&format!("{base}{}", l.replace("q%3Fx", "h%23x")), &[]).status, 403);
}

#[test]
fn mod_auth_token_links_through_nginx() {
    use md5::{Digest, Md5};
    if !support::require(&["nginx", "curl"]) {
        return;
    }
    let ws = support::Workspace::new();
    let (tree, run_dir) = (&ws.tree, &ws.run);
    let keys = run_dir.join("keys");
    write_keys(&keys, "legacy text:secret\n");
    let sock = run_dir.join("x.sock");
    let mut args = support::guard_args(&tree.root, Some(&format!("unix:{}", sock.display())));
    args.extend(
        ["--keys", keys.to_str().expect("utf8"), "--require-signature", "--token-scheme", "mod-auth-token"]
            .map(str::to_owned),
    );
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(run_dir, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", run_dir, &tree.root, &format!("unix:{}", sock.display()), port);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs();
    let ts = format!("{now:08x}");
    let token = |path: &str| {
        let digest = Md5::digest(format!("secret{path}{ts}").as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let base = format!("http://127.0.0.1:{port}/dl");
    let r = curl(&format!("{base}/{}/{ts}/a%20b.txt", token("/a b.txt")), &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"space\n"[..]), "{r:?}");
    let r = curl(&format!("{base}/{}/{ts}/sub/in.txt", token("/sub/in.txt")), &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"in sub\n"[..]));
    assert_eq!(curl(&format!("{base}/{}/{ts}/plain.txt", token("/a b.txt")), &[]).status, 403);
    assert_eq!(curl(&format!("{base}/{}/{ts}/link-out.txt", token("/link-out.txt")), &[]).status, 404);
    assert_eq!(curl(&format!("{base}/short/{ts}/plain.txt"), &[]).status, 401);
    let old = format!("{:08x}", now - 3600);
    let digest = Md5::digest(format!("secret/plain.txt{old}").as_bytes());
    let stale: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(curl(&format!("{base}/{stale}/{old}/plain.txt"), &[]).status, 410);
    assert!(d.log_text().contains("compatibility scheme"), "the MD5 warning is logged");
    assert!(!d.log_text().contains(&token("/a b.txt")), "tokens in paths never reach the log");
    assert!(d.log_text().contains("-> send a b.txt"), "{}", d.log_text());
}
