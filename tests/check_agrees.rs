//! `xsendfiled check` and the decision agree: for the cases of the roots, authorizer and check
//! tests (several roots with a map, `XSENDFILED_ROOT` and the trusted query narrowing, authorize
//! mode by parameter and by backend, a path the server split into `SCRIPT_NAME` + `PATH_INFO`,
//! signed links), the report of the `check` process names the same decision, the same file, the
//! same status and the same header block as the decision made in this process for the request
//! `check` describes.

use crate::support;

use std::os::unix::fs::{symlink, PermissionsExt};
use std::process::Command;
use xsendfiled::config::cli::Cli;
use xsendfiled::config::Config;
use xsendfiled::guard::decide::{decide_at, Decision};
use xsendfiled::protocol::request::Request;

/// What either side says about one URI.
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    /// `send`, or `refuse CODE: reason`.
    decision: String,
    /// The HTTP status answered.
    status: u16,
    /// The header block, one line each.
    headers: Vec<String>,
}

/// One case: the options, the server's parameters, the URI.
struct Case<'a> {
    args: &'a [&'a str],
    params: &'a [(&'a str, &'a str)],
    uri: &'a str,
}

/// The decision made here for the request `check` builds: the server's parameters first, then
/// the variables an nginx-like server derives from the URI.
fn direct(case: &Case<'_>, now: u64) -> (Verdict, Option<Vec<u8>>) {
    use clap::Parser;
    let cli = Cli::try_parse_from(std::iter::once("xsendfiled").chain(case.args.iter().copied())).expect("options");
    let config = Config::from_args(cli.serve_args(), None).expect("config");
    let (path, query) = case.uri.split_once('?').unwrap_or((case.uri, ""));
    assert!(!path.contains('%'), "the cases use paths that need no decoding");
    let mut pairs: Vec<(&[u8], &[u8])> = case.params.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())).collect();
    pairs.extend_from_slice(&[
        (b"REQUEST_METHOD", b"GET"),
        (b"REQUEST_URI", case.uri.as_bytes()),
        (b"DOCUMENT_URI", path.as_bytes()),
        (b"SCRIPT_NAME", path.as_bytes()),
        (b"QUERY_STRING", query.as_bytes()),
        (b"REMOTE_ADDR", b"127.0.0.1"),
    ]);
    let req = Request::from_pairs(pairs);
    let decision = decide_at(&req, &config.policy, now).expect("no fault");
    let (said, file) = match &decision {
        Decision::Send(send) => ("send".to_owned(), Some(send.file.rel.to_vec())),
        Decision::Refuse(status, reason) => (format!("refuse {}: {reason}", status.line()[..3].to_owned()), None),
    };
    let mut out = Vec::new();
    let (status, _) = xsendfiled::reply::response::render(decision, &req, &config.policy, &mut out);
    let text = String::from_utf8(out).expect("utf8");
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    (Verdict { decision: said, status, headers: head.split("\r\n").map(str::to_owned).collect() }, file)
}

/// The report of `check` for the case: its verdict, and the file its `resolve` line names.
fn reported(case: &Case<'_>) -> (Verdict, Option<String>, String) {
    let mut cmd = Command::new(support::bin());
    cmd.arg("check").args(case.args).env_clear();
    for (k, v) in case.params {
        cmd.arg("--param").arg(format!("{k}={v}"));
    }
    let out = cmd.arg(case.uri).output().expect("run check");
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(out.status.success(), "{text}");
    let block = text.split("\n\n").nth(1).expect("the explanation").to_owned();
    let field = |label: &str| {
        block.lines().find_map(|l| l.strip_prefix("  ")?.strip_prefix(label)).map(|rest| rest.trim_start().to_owned())
    };
    let decision = field("decision ").expect("a decision line");
    let status_line = block.lines().find(|l| l.starts_with("  reply (")).expect("a reply line");
    let status = status_line.trim_start_matches("  reply (").trim_end_matches(')').parse().expect("status");
    let headers = block.lines().skip_while(|l| !l.starts_with("  reply (")).skip(1);
    let headers = headers.take_while(|l| !l.starts_with("    (")).map(|l| l.trim_start().to_owned()).collect();
    let file = field("resolve ").filter(|r| !r.starts_with("refused")).map(|r| {
        let r = r.trim_start_matches("symlink(s) followed to ");
        r.split(": regular file").next().unwrap_or_default().to_owned()
    });
    (Verdict { decision, status, headers }, file, block)
}

fn agree(cases: &[Case<'_>], roots: &[&str]) {
    for case in cases {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
        let (report, resolved, block) = reported(case);
        let (decision, file) = direct(case, now);
        let what = format!("{} {:?} {:?}:\n{block}", case.uri, case.params, case.args);
        assert_eq!(report, decision, "{what}");
        if let Some(rel) = file {
            let rel = String::from_utf8(rel).expect("utf8");
            let resolved = resolved.unwrap_or_else(|| panic!("check names no file: {what}"));
            assert!(
                roots.iter().any(|r| resolved == format!("{r}/{rel}")),
                "{resolved} is not {rel} under a root: {what}"
            );
        }
    }
}

#[test]
fn check_reports_the_decision_that_is_made() {
    let dir = support::tempdir();
    let tree = support::Tree::create(dir.path());
    let media = dir.path().join("media");
    std::fs::create_dir_all(media.join("hls")).expect("mkdir");
    std::fs::write(media.join("v.txt"), "video\n").expect("write");
    std::fs::write(media.join("hls/seg.ts"), "segment\n").expect("write");
    symlink("../media/v.txt", tree.root.join("link-media")).expect("symlink");
    symlink("../plain.txt", tree.root.join("sub/link-up")).expect("symlink");
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "k1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n").expect("keys");
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let root = tree.root.canonicalize().expect("canonical");
    let media = media.canonicalize().expect("canonical");
    let (r, m, k) = (root.to_str().expect("utf8"), media.to_str().expect("utf8"), keys.to_str().expect("utf8"));
    let sub = format!("{r}/sub");
    let map = format!("{m}=/_media/,{r}/sub=/_sub");
    let other = format!("{r}=/_other");
    let query = format!("root={}", m.replace('/', "%2F"));
    let with_query = format!("/dl/v.txt?{query}");

    // Several roots with a map, and what the server selects or narrows.
    let roots = ["--root", r, "--root", m, "--internal-prefix", "/_protected", "--strip-prefix", "/dl", "--map", &map];
    let trusted = [("XSENDFILED_TRUST_QUERY", "1")];
    let mut cases = vec![];
    for uri in ["/dl/plain.txt", "/dl/sub/in.txt", "/dl/link-media", "/dl/link-sibling", "/dl/.hidden", "/x/plain.txt"]
    {
        cases.push(Case { args: &roots, params: &[], uri });
    }
    let media_root = [("XSENDFILED_ROOT", m)];
    let narrowed = [("XSENDFILED_ROOT", sub.as_str())];
    let outside = [("XSENDFILED_ROOT", "/etc")];
    let server_map = [("X_REDIRECT_MAP", other.as_str())];
    cases.extend([
        Case { args: &roots, params: &media_root, uri: "/dl/hls/seg.ts" },
        Case { args: &roots, params: &media_root, uri: "/dl/plain.txt" },
        Case { args: &roots, params: &narrowed, uri: "/dl/in.txt" },
        Case { args: &roots, params: &narrowed, uri: "/dl/link-up" },
        Case { args: &roots, params: &outside, uri: "/dl/passwd" },
        Case { args: &roots, params: &trusted, uri: &with_query },
        Case { args: &roots, params: &[], uri: &with_query },
        Case { args: &roots, params: &server_map, uri: "/dl/plain.txt" },
    ]);
    agree(&cases, &[r, m]);

    // A path the server split, with and without a strip prefix; authorize mode by parameter.
    let one = ["--root", r, "--internal-prefix", "/_protected", "--strip-prefix", "/dl"];
    let plain = ["--root", r, "--internal-prefix", "/_protected"];
    let split = [("SCRIPT_NAME", "/dl"), ("PATH_INFO", "/sub/in.txt")];
    let info = [("PATH_INFO", "/plain.txt")];
    let authorize = [("XSENDFILED_MODE", "authorize")];
    let server_prefix = [("XSENDFILED_STRIP_PREFIX", "/files/")];
    let cases = [
        Case { args: &one, params: &split, uri: "/dl/sub/in.txt" },
        Case { args: &plain, params: &info, uri: "/app/plain.txt" },
        Case { args: &one, params: &authorize, uri: "/dl/plain.txt" },
        Case { args: &one, params: &authorize, uri: "/dl/missing.txt" },
        Case { args: &one, params: &authorize, uri: "/dl/h#x.txt" },
        Case { args: &plain, params: &server_prefix, uri: "/files/a b.txt" },
    ];
    agree(&cases, &[r]);

    // Signed links: required by the server, by the backend authorizer, carried where not needed.
    let sign = |path: &str| {
        let out = Command::new(support::bin())
            .args(["sign", "--keys", k, "--expires-at", "@4102444800", path])
            .output()
            .expect("sign");
        String::from_utf8(out.stdout).expect("utf8").trim().to_owned()
    };
    let (link, forged) = (sign("/dl/plain.txt"), sign("/dl/sub/in.txt").replace("/dl/sub/in.txt", "/dl/plain.txt"));
    let keyed = ["--root", r, "--internal-prefix", "/_protected", "--strip-prefix", "/dl", "--keys", k];
    let authorizer =
        ["--backend", "authorizer", "--root", r, "--strip-prefix", "/dl", "--keys", k, "--require-signature"];
    let signed = [("XSENDFILED_AUTH", "signed")];
    let cases = [
        Case { args: &keyed, params: &signed, uri: "/dl/plain.txt" },
        Case { args: &keyed, params: &signed, uri: &link },
        Case { args: &keyed, params: &[], uri: &link },
        Case { args: &keyed, params: &[], uri: &forged },
        Case { args: &authorizer, params: &[], uri: &link },
        Case { args: &authorizer, params: &[], uri: "/dl/plain.txt" },
        Case { args: &authorizer, params: &[], uri: &forged },
    ];
    agree(&cases, &[r]);
}
