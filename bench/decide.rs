#![allow(missing_docs)]
//! Cost of one decision: path checks + `openat2` resolution + `fstat` + rendering the reply.
//!
//! `cargo bench --bench decide` prints the time per request for a direct file, a file behind a
//! symlink (the realpath path), a missing file and a hostile path (group `decide+render`), and how
//! that cost grows (group `growth`): with the number of `--map` entries and of keys in the ring
//! (both should leave it flat), and with the depth of the requested path (linear).
//! `bench/growth.sh` runs the `growth` group and prints its table.

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use xsendfiled::guard::token::{compat::Legacy, keys::KeyRing, sdl1, Claims, Scheme, Signing};
use xsendfiled::guard::{Backend, Policy};
use xsendfiled::protocol::request::Request;

#[path = "../tests/common/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

/// Heap allocations made by one call of `f` (after a first call, so lazy set-up is not counted).
fn allocations(mut f: impl FnMut()) -> usize {
    f();
    let before = counting_alloc::allocations();
    f();
    counting_alloc::allocations() - before
}

/// One request through the whole decision and renderer; `out` is reused like the server does.
fn run(policy: &Policy, pairs: &[(&[u8], &[u8])], out: &mut Vec<u8>) -> u16 {
    out.clear();
    let req = Request::from_pairs(pairs.iter().copied());
    xsendfiled::handler::handle(black_box(&req), policy, out).0
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("a/b/c")).expect("mkdir");
    std::fs::write(root.join("a/b/c/file 1.txt"), vec![b'x'; 1024]).expect("write");
    std::os::unix::fs::symlink("c/file 1.txt", root.join("a/b/link.txt")).expect("symlink");
    let policy = Policy::build(root, Backend::Nginx, Some("/_protected"), Some("/dl"), false).expect("policy");
    let mut out = Vec::with_capacity(512);
    let mut group = c.benchmark_group("decide+render");
    for (name, path) in [
        ("direct", &b"/dl/a/b/c/file 1.txt"[..]),
        ("symlink", b"/dl/a/b/link.txt"),
        ("missing", b"/dl/a/b/c/none.txt"),
        ("hostile", b"/dl/a/../../etc/passwd"),
    ] {
        let pairs: Vec<(&[u8], &[u8])> = vec![
            (b"REQUEST_METHOD", b"GET"),
            (b"DOCUMENT_URI", path),
            (b"SCRIPT_NAME", path),
            (b"REMOTE_ADDR", b"127.0.0.1"),
        ];
        let n = allocations(|| {
            out.clear();
            let req = Request::from_pairs(pairs.iter().copied());
            black_box(xsendfiled::handler::handle(&req, &policy, &mut out));
        });
        println!("decide+render/{name}: {n} heap allocations per request");
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                let req = Request::from_pairs(pairs.iter().copied());
                black_box(xsendfiled::handler::handle(black_box(&req), &policy, &mut out));
            })
        });
    }
    // The same without openat2: what kernels older than 5.6 (or seccomp filters) get.
    policy.root.set_openat2(false);
    let pairs: Vec<(&[u8], &[u8])> = vec![(b"REQUEST_METHOD", b"GET"), (b"DOCUMENT_URI", b"/dl/a/b/c/file 1.txt")];
    group.bench_function("direct-realpath", |b| {
        b.iter(|| {
            out.clear();
            let req = Request::from_pairs(pairs.iter().copied());
            black_box(xsendfiled::handler::handle(black_box(&req), &policy, &mut out));
        })
    });
    group.finish();
}

fn growth(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let mut group = c.benchmark_group("growth");
    group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2)).sample_size(50);
    let mut out = Vec::with_capacity(512);

    // --map with N entries; the file lies under the entry written last.
    std::fs::create_dir_all(root.join("m")).expect("mkdir");
    std::fs::write(root.join("m/f.txt"), b"x").expect("write");
    for n in [1usize, 10, 100, 1000, 10_000] {
        let mut policy = Policy::build(&root, Backend::Nginx, Some("/_p"), None, false).expect("policy");
        let mut text: Vec<String> = (1..n).map(|i| format!("{}/d{i}=/_d{i}", root.display())).collect();
        text.push(format!("{}/m=/_m", root.display()));
        policy.map = xsendfiled::guard::map::parse(&text.join(","), false).expect("map");
        let pairs: [(&[u8], &[u8]); 2] = [(b"REQUEST_METHOD", b"GET"), (b"DOCUMENT_URI", b"/m/f.txt")];
        assert_eq!(run(&policy, &pairs, &mut out), 200);
        assert!(out.windows(11).any(|w| w == b"/_m/f.txt\r\n"), "named through the last entry");
        group
            .bench_with_input(BenchmarkId::new("map-entries", n), &n, |b, _| b.iter(|| run(&policy, &pairs, &mut out)));
        // The lookup alone: no syscalls, so a trend cannot hide in their noise.
        let abs = format!("{}/m/f.txt", root.display());
        group.bench_with_input(BenchmarkId::new("map-lookup", n), &n, |b, _| {
            b.iter(|| black_box(policy.map.lookup(black_box(abs.as_bytes()))).is_some())
        });
    }

    // SDL1 links with N keys in the ring, signed with the key written last.
    std::fs::write(root.join("s.txt"), b"x").expect("write");
    for n in [1usize, 10, 100, 1000, 10_000] {
        let mut policy = Policy::build(&root, Backend::Nginx, Some("/_p"), None, false).expect("policy");
        // Key ids of one length, so every link has the same length (and the HMAC the same
        // number of SHA-256 blocks): only the ring's size changes.
        let text: String = (0..n).map(|i| format!("k{i:05} hex:{:064x}\n", i + 1)).collect();
        let ring = KeyRing::parse(&text, "bench").expect("ring");
        let kid = format!("k{:05}", n - 1);
        let key = ring.get(&kid).expect("key").to_vec();
        let spec = sdl1::SignSpec {
            kid: &kid,
            key: &key,
            path: "/s.txt",
            exp: 4_000_000_000,
            nbf: None,
            prefix: None,
            network: None,
            claims: Claims::default(),
            limit: None,
        };
        let link = sdl1::sign(&spec).expect("sign");
        let mut signing = Signing::new(ring, true, 10 * 365 * 86_400);
        signing.max_ttl = u64::MAX / 2;
        policy.signing = Some(signing);
        let (path, query) = link.split_once('?').expect("query");
        let pairs: [(&[u8], &[u8]); 4] = [
            (b"REQUEST_METHOD", b"GET"),
            (b"DOCUMENT_URI", path.as_bytes()),
            (b"QUERY_STRING", query.as_bytes()),
            (b"REQUEST_URI", link.as_bytes()),
        ];
        assert_eq!(run(&policy, &pairs, &mut out), 200, "{}", String::from_utf8_lossy(&out));
        if n == 1 {
            let a = allocations(|| {
                run(&policy, &pairs, &mut out);
            });
            println!("decide+render with an SDL1 link: {a} heap allocations per request");
        }
        group.bench_with_input(BenchmarkId::new("key-ring", n), &n, |b, _| b.iter(|| run(&policy, &pairs, &mut out)));
        // The verification alone.
        let ring = policy.signing.as_ref().expect("signing").keys();
        let input = sdl1::Input {
            request_uri: Some(link.as_bytes()),
            remote_addr: None,
            now: 1_767_225_600,
            max_ttl: u64::MAX / 2,
        };
        assert!(sdl1::verify(&ring, &input).is_ok());
        group.bench_with_input(BenchmarkId::new("sdl1-verify", n), &n, |b, _| {
            b.iter(|| sdl1::verify(&ring, black_box(&input)).is_ok())
        });
    }

    // A compatibility scheme (nginx secure_link_secret): its links name no key, so every key is
    // tried; the ring is capped at MAX_LEGACY_KEYS for that reason. This row shows the slope.
    for n in [1usize, 4, 16] {
        use md5::Digest;
        let mut policy = Policy::build(&root, Backend::Nginx, Some("/_p"), None, false).expect("policy");
        let text: String = (0..n).map(|i| format!("k{i} text:secret{i}\n")).collect();
        let ring = KeyRing::parse(&text, "bench").expect("ring");
        let hash: String =
            md5::Md5::digest(format!("s.txtsecret{}", n - 1)).iter().map(|b| format!("{b:02x}")).collect();
        let mut signing = Signing::new(ring, true, 3600);
        signing.scheme = Scheme::Legacy(Legacy::SecureLinkSecret);
        policy.signing = Some(signing);
        let uri = format!("/{hash}/s.txt");
        let pairs: [(&[u8], &[u8]); 3] =
            [(b"REQUEST_METHOD", b"GET"), (b"DOCUMENT_URI", uri.as_bytes()), (b"REQUEST_URI", uri.as_bytes())];
        assert_eq!(run(&policy, &pairs, &mut out), 200, "{}", String::from_utf8_lossy(&out));
        group.bench_with_input(BenchmarkId::new("legacy-key-ring", n), &n, |b, _| {
            b.iter(|| run(&policy, &pairs, &mut out))
        });
    }

    // Path depth: /deep/a/a/.../f.txt with D directories `a` (MAX_PATH_DEPTH is 64 segments).
    let policy = Policy::build(&root, Backend::Nginx, Some("/_p"), None, false).expect("policy");
    for depth in [1usize, 8, 32, 60] {
        let rel = format!("{}f.txt", "a/".repeat(depth));
        let file = root.join("deep").join(&rel);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, b"x").expect("write");
        let uri = format!("/deep/{rel}");
        let pairs: [(&[u8], &[u8]); 2] = [(b"REQUEST_METHOD", b"GET"), (b"DOCUMENT_URI", uri.as_bytes())];
        assert_eq!(run(&policy, &pairs, &mut out), 200);
        group.bench_with_input(BenchmarkId::new("path-depth", depth), &depth, |b, _| {
            b.iter(|| run(&policy, &pairs, &mut out))
        });
    }
    group.finish();
}

/// An object-store root with the HEAD cache warm: the decision, the presigned URL (SigV4) and the
/// reply, without network I/O. Target: at most 20 µs (issue #14).
fn object(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut policy = Policy::build(dir.path(), Backend::Nginx, Some("/_protected"), Some("/dl"), false).expect("p");
    let keys = [("reports/2026/q3 final (v2).pdf", 1 << 20), ("small.txt", 1024)];
    let hour = Duration::from_secs(3600);
    xsendfiled::fuzzing::use_object_root(&mut policy, "http://127.0.0.1:9000", "bench", &keys, hour);
    let mut out = Vec::with_capacity(1024);
    let mut group = c.benchmark_group("object");
    for (name, path) in
        [("cache-hit", &b"/dl/reports/2026/q3 final (v2).pdf"[..]), ("cache-hit-small", b"/dl/small.txt")]
    {
        let pairs: Vec<(&[u8], &[u8])> =
            vec![(b"REQUEST_METHOD", b"GET"), (b"DOCUMENT_URI", path), (b"REMOTE_ADDR", b"127.0.0.1")];
        assert_eq!(run(&policy, &pairs, &mut out), 200, "{}", String::from_utf8_lossy(&out));
        group.bench_function(name, |b| b.iter(|| run(&policy, &pairs, &mut out)));
    }
    group.finish();
}

criterion_group!(benches, bench, growth, object);
criterion_main!(benches);
