//! A real S3 server for the object-store tests: `s3s-fs` (crates.io, verifies SigV4), built once
//! by scripts/install-deps.sh into the tools cache, started on a free loopback port over a
//! directory whose subdirectories are buckets; plus nginx from `conf-examples/nginx-s3.conf`.

#![allow(dead_code, unreachable_pub)]

use super::{free_port, nginx, nginx_user, spawn, tcp_up, wait_until, Proc};
use std::path::{Path, PathBuf};

/// The test credentials s3s-fs checks every signature against (given to xsendfiled through the
/// environment, as in production).
pub const ACCESS_KEY: &str = "XSFDTESTACCESSKEY";
/// See [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "xsfd-test-secret-key-0123456789";

/// The environment xsendfiled reads the credentials from.
pub fn credentials() -> Vec<(&'static str, &'static str)> {
    vec![("AWS_ACCESS_KEY_ID", ACCESS_KEY), ("AWS_SECRET_ACCESS_KEY", SECRET_KEY)]
}

/// Where scripts/install-deps.sh puts s3s-fs: `$XSENDFILED_TOOLS`, else
/// `${XDG_CACHE_HOME:-$HOME/.cache}/xsendfiled/tools`, then `bin/s3s-fs`.
pub fn s3s_fs_bin() -> PathBuf {
    let tools = std::env::var_os("XSENDFILED_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"));
        cache.join("xsendfiled/tools")
    });
    tools.join("bin/s3s-fs")
}

/// A running s3s-fs: buckets are the directories of `dir`.
pub struct Store {
    pub proc: Proc,
    pub port: u16,
    pub dir: PathBuf,
}

impl Store {
    /// `host:port`.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Writes object `key` of `bucket` (s3s-fs keeps each object as the file `dir/bucket/key`).
    pub fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        let p = self.dir.join(bucket).join(key);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, body).expect("write object");
    }
}

/// Starts s3s-fs over `dir` (created) with `buckets`, or `None` when a developer run may skip
/// (the same rule as [`super::require`]: CI fails when it is missing).
pub fn start(dir: &Path, buckets: &[&str]) -> Option<Store> {
    let bin = s3s_fs_bin();
    if !bin.is_file() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        let allow = std::env::var("XSENDFILED_ALLOW_SKIP").is_ok_and(|v| v == "1");
        assert!(allow && !ci, "missing {}: run ./scripts/install-deps.sh, which builds it once", bin.display());
        eprintln!("SKIPPED: missing {} (XSENDFILED_ALLOW_SKIP=1)", bin.display());
        return None;
    }
    for b in buckets {
        std::fs::create_dir_all(dir.join(b)).expect("bucket dir");
    }
    let port = free_port();
    Some(Store { proc: serve(dir, port), port, dir: dir.to_owned() })
}

/// s3s-fs serving `dir` on 127.0.0.1:`port`, once it listens.
fn serve(dir: &Path, port: u16) -> Proc {
    let mut cmd = std::process::Command::new(s3s_fs_bin());
    cmd.args(["--host", "127.0.0.1", "--port", &port.to_string(), "--access-key", ACCESS_KEY])
        .args(["--secret-key", SECRET_KEY])
        .arg(dir);
    let log = dir.parent().unwrap_or(dir).join(format!("s3s-fs-{port}.log"));
    let mut proc = spawn(cmd, "s3s-fs", &log);
    wait_until("s3s-fs", Some(&mut proc), || tcp_up(port));
    proc
}

impl Store {
    /// Starts the store again on its port and directory (after `proc` was stopped).
    pub fn restart(&mut self) {
        self.proc = serve(&self.dir, self.port);
    }
}

/// nginx from `conf-examples/nginx-s3.conf` for `store`'s `bucket` and xsendfiled at `upstream`;
/// `app` (locations of the site's own application) is added to its server block.
pub fn nginx_s3(run_dir: &Path, upstream: &str, port: u16, store: &Store, bucket: &str, app: &str) -> Proc {
    let conf = s3_conf(run_dir, upstream, port, &store.endpoint(), bucket);
    let marker = "        # Public download URLs";
    assert!(conf.contains(marker), "nginx-s3.conf changed its layout");
    let conf = conf.replacen(marker, &format!("{app}\n{marker}"), 1);
    nginx(run_dir, &conf, port)
}

/// `conf-examples/nginx-s3.conf` with its placeholders filled.
fn s3_conf(run_dir: &Path, upstream: &str, port: u16, endpoint: &str, bucket: &str) -> String {
    super::fill_template(
        &super::conf_example("nginx-s3.conf"),
        &[
            ("NGINX_USER", nginx_user()),
            ("RUN_DIR", run_dir.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", upstream.to_owned()),
            ("S3_ENDPOINT", endpoint.to_owned()),
            ("BUCKET", bucket.to_owned()),
        ],
    )
}

/// `conf-examples/nginx-s3.conf` for a store behind TLS (`tls`): its https check and its
/// `proxy_ssl_*` lines as the example says to edit them, trusting `tls.cert`.
pub fn nginx_s3_tls(run_dir: &Path, upstream: &str, port: u16, tls: &Tls, bucket: &str) -> Proc {
    let conf = s3_conf(run_dir, upstream, port, &tls.endpoint(), bucket);
    let check = format!("\"^http://{}/", tls.endpoint());
    assert!(conf.contains(&check) && conf.contains("#proxy_ssl_verify on;"), "nginx-s3.conf changed its layout");
    let conf = conf
        .replace(&check, &format!("\"^https://{}/", tls.endpoint()))
        .replace("#proxy_ssl_", "proxy_ssl_")
        .replace("/etc/ssl/certs/ca-certificates.crt", &tls.cert.display().to_string());
    nginx(run_dir, &conf, port)
}

/// nginx terminating TLS in front of a store, with a self-signed certificate for 127.0.0.1: the
/// `Host` header and the request target pass through unchanged (SigV4 signs the host).
pub struct Tls {
    pub proc: Proc,
    pub port: u16,
    /// The certificate (PEM), which is its own CA.
    pub cert: PathBuf,
}

impl Tls {
    /// `host:port`.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// A self-signed certificate and key for 127.0.0.1 and localhost in `dir`: (cert, key).
pub fn self_signed(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

/// Starts nginx in `run_dir` terminating TLS for `store`.
pub fn tls_front(run_dir: &Path, store: &Store) -> Tls {
    std::fs::create_dir_all(run_dir).expect("run dir");
    let (cert, key) = self_signed(run_dir, "store");
    let port = super::free_port();
    let run = run_dir.display();
    let conf = format!(
        "user {user};\nworker_processes 1;\npid {run}/nginx.pid;\nerror_log {run}/error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {run}/client_body;\n  proxy_temp_path {run}/proxy;\n\
         fastcgi_temp_path {run}/fastcgi;\n  uwsgi_temp_path {run}/uwsgi;\n  scgi_temp_path {run}/scgi;\n\
         server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {cert};\n    ssl_certificate_key {key};\n\
         location / {{\n      proxy_pass http://{store};\n      proxy_set_header Host $http_host;\n\
         proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n      proxy_buffering off;\n\
         proxy_request_buffering off;\n    }}\n  }}\n}}\n",
        user = nginx_user(),
        cert = cert.display(),
        key = key.display(),
        store = store.endpoint(),
    );
    Tls { proc: nginx(run_dir, &conf, port), port, cert }
}

/// The daemon options `conf-examples/nginx-s3.conf` names for `bucket` of the store at `endpoint`
/// (`host:port`).
pub fn guard_args(endpoint: &str, bucket: &str, listen: &str) -> Vec<String> {
    let mut v = super::guard_args(Path::new(&format!("s3://{bucket}")), Some(listen));
    v.extend(["--s3-endpoint".into(), format!("http://{endpoint}"), "--s3-path-style".into()]);
    v
}
