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
    let conf = super::fill_template(
        &super::conf_example("nginx-s3.conf"),
        &[
            ("NGINX_USER", nginx_user()),
            ("RUN_DIR", run_dir.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", upstream.to_owned()),
            ("S3_ENDPOINT", store.endpoint()),
            ("BUCKET", bucket.to_owned()),
        ],
    );
    let marker = "        # Public download URLs";
    assert!(conf.contains(marker), "nginx-s3.conf changed its layout");
    let conf = conf.replacen(marker, &format!("{app}\n{marker}"), 1);
    nginx(run_dir, &conf, port)
}

/// The daemon options `conf-examples/nginx-s3.conf` names for `bucket` of the store at `endpoint`
/// (`host:port`).
pub fn guard_args(endpoint: &str, bucket: &str, listen: &str) -> Vec<String> {
    let mut v = super::guard_args(Path::new(&format!("s3://{bucket}")), Some(listen));
    v.extend(["--s3-endpoint".into(), format!("http://{endpoint}"), "--s3-path-style".into()]);
    v
}
