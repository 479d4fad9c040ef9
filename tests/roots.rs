//! Several roots and redirect maps: which root a request resolves under (the server's
//! XSENDFILED_ROOT narrows, never widens), symlinks leading from one root into another, and which
//! internal URI a canonical path is named by (`--map`, or the server's X_REDIRECT_MAP /
//! XSENDFILED_ACCEL_MAPPING, most specific prefix first, on segment boundaries).

use crate::support;

use std::os::unix::fs::symlink;
use support::Tree;
use xsendfiled::config::cli::Cli;
use xsendfiled::config::Config;
use xsendfiled::guard::decide::{decide_at, Decision, Reason};
use xsendfiled::protocol::request::Request;

struct Setup {
    _dir: tempfile::TempDir,
    tree: Tree,
    media: std::path::PathBuf,
}

fn setup() -> Setup {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let media = dir.path().join("media");
    std::fs::create_dir_all(media.join("hls")).expect("mkdir");
    std::fs::write(media.join("v.txt"), "video\n").expect("write");
    std::fs::write(media.join("hls/seg.ts"), "segment\n").expect("write");
    symlink("../media/v.txt", tree.root.join("link-media")).expect("symlink");
    symlink("../plain.txt", tree.root.join("sub/link-up")).expect("symlink");
    Setup { tree, media, _dir: dir }
}

fn config(args: &[&str]) -> Result<Config, String> {
    use clap::Parser;
    let cli =
        Cli::try_parse_from(std::iter::once("xsendfiled").chain(args.iter().copied())).map_err(|e| e.to_string())?;
    Config::from_args(cli.serve_args(), None).map_err(|e| e.to_string())
}

/// The X-Accel-Redirect value, or the refusal reason.
fn answer(c: &Config, path: &str, extra: &[(&str, &str)]) -> Result<String, Reason> {
    let mut pairs: Vec<(&[u8], &[u8])> = vec![(b"REQUEST_METHOD", b"GET"), (b"DOCUMENT_URI", path.as_bytes())];
    pairs.extend(extra.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())));
    let req = Request::from_pairs(pairs);
    match decide_at(&req, &c.policy, 0).expect("no fault") {
        Decision::Refuse(_, r) => Err(r),
        d => {
            let mut out = Vec::new();
            xsendfiled::reply::response::render(d, &req, &c.policy, &mut out);
            let text = String::from_utf8(out).expect("utf8");
            Ok(text.lines().next().unwrap_or_default().trim_start_matches("X-Accel-Redirect: ").to_owned())
        }
    }
}

#[test]
fn several_roots_maps_and_narrowing() {
    let s = setup();
    let root = s.tree.root.canonicalize().expect("canonical");
    let media = s.media.canonicalize().expect("canonical");
    let (r, m) = (root.to_str().expect("utf8"), media.to_str().expect("utf8"));
    let base = ["--root", r, "--root", m, "--internal-prefix", "/_protected", "--strip-prefix", "/dl"];
    // A second root that the web server could not be told about is a configuration error.
    let err = config(&base).expect_err("missing map");
    assert!(err.contains("has no --map entry"), "{err}");

    let map = format!(" {m} = /_media/ , {r}/sub=/_sub");
    let c = config(&[&base[..], &["--map", &map]].concat()).expect("config");
    // The first root with --internal-prefix; a more specific map entry wins inside it.
    assert_eq!(answer(&c, "/dl/plain.txt", &[]), Ok("/_protected/plain.txt".into()));
    assert_eq!(answer(&c, "/dl/sub/in.txt", &[]), Ok("/_sub/in.txt".into()));
    // A symlink from one root into another is named by the other root's map entry.
    assert_eq!(answer(&c, "/dl/link-media", &[]), Ok("/_media/v.txt".into()));
    // Symlinks out of every root stay refused.
    assert_eq!(answer(&c, "/dl/link-sibling", &[]), Err(Reason::File(xsendfiled::guard::store::Refusal::Escapes)));

    // The server selects the second root...
    let sel = [("XSENDFILED_ROOT", m)];
    assert_eq!(answer(&c, "/dl/hls/seg.ts", &sel), Ok("/_media/hls/seg.ts".into()));
    assert!(answer(&c, "/dl/plain.txt", &sel).is_err(), "plain.txt is not in the media root");
    // ...or narrows to a directory inside one: nothing outside it, not even through a symlink.
    let sub = format!("{r}/sub");
    let narrow = [("XSENDFILED_ROOT", sub.as_str())];
    assert_eq!(answer(&c, "/dl/in.txt", &narrow), Ok("/_sub/in.txt".into()));
    assert_eq!(answer(&c, "/dl/link-up", &narrow), Err(Reason::File(xsendfiled::guard::store::Refusal::Escapes)));
    // It can never widen: not /etc, not a sibling sharing the root's name, not a missing path.
    let sibling = format!("{r}-private");
    for bad in ["/etc", sibling.as_str(), "/nonexistent/dir"] {
        assert!(
            matches!(answer(&c, "/dl/passwd", &[("XSENDFILED_ROOT", bad)]), Err(Reason::RootParameter(_))),
            "{bad}"
        );
    }
    // The trusted query may select it on a delegated (internal) location, only there.
    let q = format!("root={}", m.replace('/', "%2F"));
    let trusted = [("QUERY_STRING", q.as_str()), ("XSENDFILED_TRUST_QUERY", "1")];
    assert_eq!(answer(&c, "/dl/v.txt", &trusted), Ok("/_media/v.txt".into()));
    assert!(answer(&c, "/dl/v.txt", &[("QUERY_STRING", q.as_str())]).is_err(), "an untrusted query selects nothing");
    // A malformed root in the trusted query refuses; it never falls back to a wider default.
    let malformed = [("QUERY_STRING", "root=%2Fsrv%zz"), ("XSENDFILED_TRUST_QUERY", "1")];
    assert!(matches!(answer(&c, "/dl/plain.txt", &malformed), Err(Reason::RootParameter(_))));

    // The server's per-location map replaces --map; a malformed one refuses rather than guesses.
    let other = format!("{r}=/_other");
    assert_eq!(answer(&c, "/dl/plain.txt", &[("X_REDIRECT_MAP", &other)]), Ok("/_other/plain.txt".into()));
    assert_eq!(answer(&c, "/dl/plain.txt", &[("XSENDFILED_ACCEL_MAPPING", &other)]), Ok("/_other/plain.txt".into()));
    assert_eq!(answer(&c, "/dl/plain.txt", &[("X_REDIRECT_MAP", "relative=/x")]), Err(Reason::Unexpressible));
    // A client's header of the same name is not a parameter.
    assert_eq!(answer(&c, "/dl/plain.txt", &[("HTTP_X_REDIRECT_MAP", "/=/etc")]), Ok("/_protected/plain.txt".into()));
    // Map grammar errors are configuration errors with the entry named.
    for bad in ["", "/a=/b,", "relative=/x", "/a=b"] {
        let err = config(&[&base[..], &["--map", bad]].concat()).expect_err("bad map");
        assert!(err.contains("--map"), "{bad:?}: {err}");
    }
}
