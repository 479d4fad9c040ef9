#![allow(missing_docs)]
//! Cost of one decision: path checks + `openat2` resolution + `fstat` + rendering the reply.
//!
//! `cargo bench --bench decide` prints the time per request for a direct file, a file behind a
//! symlink (the realpath path), a missing file and a hostile path.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use xsendfiled::config::{Backend, Policy};
use xsendfiled::request::Request;

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
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                let req = Request::from_pairs(pairs.iter().copied());
                black_box(xsendfiled::service::handle(black_box(&req), &policy, &mut out));
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
            black_box(xsendfiled::service::handle(black_box(&req), &policy, &mut out));
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
