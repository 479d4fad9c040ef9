//! An object store behind TLS: s3s-fs behind an nginx that terminates TLS with a self-signed
//! certificate, xsendfiled with `--s3-endpoint https://…` trusting that certificate through
//! `SSL_CERT_FILE`, and the offloading nginx of `conf-examples/nginx-s3.conf` edited as it says for
//! an https store (`proxy_ssl_verify`, `proxy_ssl_trusted_certificate`).

use crate::support;

use support::s3::{self, Store, Tls};
use support::{curl, url_path, wait_until, Proc, SERVABLE};

const BUCKET: &str = "files";

/// xsendfiled (FastCGI on TCP) reaching the store at `tls`, with `cert_file` as its CA store
/// (`None`: the system's alone); its log is `run/NAME.log`.
fn guard(run: &std::path::Path, name: &str, tls: &Tls, cert_file: Option<&std::path::Path>) -> (Proc, u16) {
    std::fs::create_dir_all(run).expect("run dir");
    let port = support::free_port();
    let mut args = s3::guard_args(&tls.endpoint(), BUCKET, &format!("127.0.0.1:{port}"));
    let endpoint = args.iter_mut().find(|a| a.starts_with("http://")).expect("the endpoint");
    *endpoint = format!("https://{}", tls.endpoint());
    let mut cmd = std::process::Command::new(support::bin());
    cmd.args(&args).args(["--s3-timeout", "3s"]).env_remove("GATEWAY_INTERFACE").env("RUST_LOG", "debug");
    cmd.env("FCGI_WEB_SERVER_ADDRS", "127.0.0.1").env_remove("SSL_CERT_DIR");
    match cert_file {
        Some(f) => cmd.env("SSL_CERT_FILE", f),
        None => cmd.env_remove("SSL_CERT_FILE"),
    };
    cmd.envs(s3::credentials());
    let mut p = support::spawn(cmd, name, &run.join(format!("{name}.log")));
    wait_until(name, Some(&mut p), || support::tcp_up(port));
    (p, port)
}

fn started() -> Option<(tempfile::TempDir, Store, Tls)> {
    if !support::require(&["nginx", "curl", "openssl"]) {
        return None;
    }
    let dir = support::tempdir();
    let store = s3::start(&dir.path().join("store"), &[BUCKET])?;
    for (name, body) in SERVABLE {
        store.put(BUCKET, name, body.as_bytes());
    }
    let tls = s3::tls_front(&dir.path().join("tls"), &store);
    Some((dir, store, tls))
}

#[test]
fn an_https_store_serves_tricky_names_byte_exact_through_the_nginx_offload() {
    let Some((dir, _store, tls)) = started() else { return };
    let run = dir.path().join("run");
    let (_guard, xport) = guard(&run, "xsendfiled", &tls, Some(&tls.cert));
    let port = support::free_port();
    let _nginx = s3::nginx_s3_tls(&run, &format!("127.0.0.1:{xport}"), port, &tls, BUCKET);
    let base = format!("http://127.0.0.1:{port}");
    for (name, body) in SERVABLE {
        let r = curl(&format!("{base}/dl/{}", url_path(name.as_bytes())), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, body.as_bytes()), "{name:?}: {r:?}");
        let want = support::matrix::expected_type(name).unwrap_or("application/octet-stream");
        assert_eq!(r.header("Content-Type"), Some(want), "{name:?}");
        assert!(r.headers.iter().all(|(n, _)| !n.to_ascii_lowercase().starts_with("x-amz-")), "{name:?}: {r:?}");
    }
    let r = curl(&format!("{base}/dl/semi%3Bcolon%3D1%26x%2By.txt"), &["-H", "Range: bytes=4-7"]);
    assert_eq!((r.status, r.body.as_slice()), (206, &b"deli"[..]), "{r:?}");
    let r = curl(&format!("{base}/dl/missing.txt"), &[]);
    assert_eq!((r.status, r.header("Cache-Control")), (404, Some("no-store")), "{r:?}");
}

#[test]
fn an_untrusted_store_certificate_is_a_502_with_the_reason_in_the_log() {
    let Some((dir, _store, tls)) = started() else { return };
    let run = dir.path().join("run");
    // Neither the system's CA store nor another self-signed certificate vouches for the store's.
    let (other, _) = s3::self_signed(dir.path(), "other");
    for (name, cert_file) in [("system-store", None), ("other-ca", Some(other.as_path()))] {
        let (mut guard, xport) = guard(&run.join(name), name, &tls, cert_file);
        let port = support::free_port();
        let _nginx = s3::nginx_s3_tls(&run.join(name), &format!("127.0.0.1:{xport}"), port, &tls, BUCKET);
        let r = curl(&format!("http://127.0.0.1:{port}/dl/plain.txt"), &[]);
        assert_eq!((r.status, r.header("Cache-Control")), (502, Some("no-store")), "{name}: {r:?}");
        assert!(!r.body.starts_with(b"plain"), "{name}");
        let log = guard.log_text();
        let line = log.lines().find(|l| l.contains("object store: HEAD")).unwrap_or_else(|| panic!("{name}: {log}"));
        // UnknownIssuer from the system store; BadSignature from a certificate of the same name.
        assert!(line.contains("invalid peer certificate:"), "{name}: {line}");
        guard.signal(15);
        assert!(guard.wait_exit(std::time::Duration::from_secs(5)).is_some(), "{name}: stopped");
    }
}
