//! The fuzz targets' invariants on every `cargo test`: each check function of
//! `xsendfiled::fuzzing` runs under proptest with random and structured inputs, and every file of
//! the committed corpus (`fuzz/corpus/<target>/`, grown by cargo-fuzz runs) is replayed.

use crate::support;

use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;
use support::Tree;
use xsendfiled::fuzzing as f;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    policy: xsendfiled::guard::Policy,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = support::tempdir();
        let tree = Tree::create(dir.path());
        let policy =
            xsendfiled::guard::Policy::build(&tree.root, xsendfiled::guard::Backend::Nginx, Some("/p"), None, false)
                .expect("policy");
        Fixture { root: tree.root.clone(), policy, _dir: dir }
    })
}

/// Paths built from pieces that matter (names in the tree, dots, slashes, escapes, controls).
fn path_strategy() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        &b"/"[..],
        b"..",
        b".",
        b"//",
        b"plain.txt",
        b"sub",
        b"deep",
        b"er",
        b"file.txt",
        b"link-in.txt",
        b"link-out.txt",
        b"link-dir",
        b"link-sibling",
        b"link-out-dir",
        b"link-etc",
        b"secret.txt",
        b"fifo",
        b"dir",
        b".hidden",
        b"%2e%2e",
        b"\0",
        b"\n",
        b"\\",
        b"\xff",
        b"a b.txt",
        b"trail ",
        b"loop-a",
        b"root-private",
        b"outside",
        b"\xc3\xbc.txt",
    ]);
    prop::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn fcgi_stream(data in prop::collection::vec(any::<u8>(), 0..4096)) { f::check_fcgi_stream(&data) }

    #[test]
    fn fcgi_well_formed_prefix(chunk in 1u8..64, body in prop::collection::vec(any::<u8>(), 0..512)) {
        // A valid BEGIN_REQUEST + PARAMS prefix followed by arbitrary bytes reaches deeper states.
        let mut data = vec![chunk, 1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0];
        data.extend_from_slice(&[1, 4, 0, 1, (body.len() >> 8) as u8, body.len() as u8, 0, 0]);
        data.extend_from_slice(&body);
        data.extend_from_slice(&[1, 4, 0, 1, 0, 0, 0, 0, 1, 5, 0, 1, 0, 0, 0, 0]);
        f::check_fcgi_stream(&data)
    }

    #[test]
    fn params(data in prop::collection::vec(any::<u8>(), 0..2048)) { f::check_params(&data) }

    #[test]
    fn request_path(data in prop::collection::vec(any::<u8>(), 0..512)) { f::check_request_path(&data) }

    #[test]
    fn resolution(path in path_strategy()) {
        let fx = fixture();
        f::check_resolution(&fx.root, &fx.policy, &path)
    }

    #[test]
    fn redirect_map(data in "[ -~\n]{0,200}") { f::check_redirect_map(data.as_bytes()) }

    #[test]
    fn key_ring(data in "[ -~\n]{0,300}") { f::check_key_ring(data.as_bytes()) }

    #[test]
    fn tokens(data in prop::collection::vec(any::<u8>(), 0..300)) { f::check_tokens(&data) }

    #[test]
    fn tokens_paths(path in "(/[a-zA-Z0-9 ._%~é-]{1,12}){1,4}") { f::check_tokens(path.as_bytes()) }

    #[test]
    fn disposition(name in "\\PC{1,40}") { f::check_disposition(name.as_bytes()) }

    #[test]
    fn range(data in prop::collection::vec(any::<u8>(), 0..200)) { f::check_range(&data) }

    #[test]
    fn range_structured(len in 0u64..1000, a in 0u64..1200, b in 0u64..1200, kind in 0u8..4) {
        let spec = match kind { 0 => format!("bytes={a}-{b}"), 1 => format!("bytes={a}-"), 2 => format!("bytes=-{b}"), _ => format!("bytes={a}-{b},0-1") };
        let data = format!("{}\n{spec}\n\n", "x".repeat(len as usize % 7));
        f::check_range(data.as_bytes())
    }
}

#[test]
fn corpus_replay() {
    let fx = fixture();
    let mut replayed = 0;
    for (target, check) in [
        ("fcgi_stream", f::check_fcgi_stream as fn(&[u8])),
        ("params", f::check_params),
        ("request_path", f::check_request_path),
        ("redirect_map", f::check_redirect_map),
        ("key_ring", f::check_key_ring),
        ("tokens", f::check_tokens),
        ("disposition", f::check_disposition),
        ("range", f::check_range),
    ] {
        for input in corpus(target) {
            check(&input);
            replayed += 1;
        }
    }
    for input in corpus("resolution") {
        f::check_resolution(&fx.root, &fx.policy, &input);
        replayed += 1;
    }
    eprintln!("replayed {replayed} corpus inputs");
    assert!(replayed > 0, "the committed corpus is empty");
}
