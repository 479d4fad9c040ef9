//! Limited-use links under test: a key ring, links minted by the real `xsendfiled sign`, a node
//! (xsendfiled with a state store behind a real nginx), a private `redis-server`, and clients that
//! come from distinct loopback addresses (127.0.0.0/8: nginx passes each as `REMOTE_ADDR`).

use super::{daemon, free_port, nginx_example, spawn, tcp_up, unix_up, wait_until, Proc};
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Writes a key ring with key `k1` (mode 0600) into `dir`.
pub fn keys(dir: &Path) -> PathBuf {
    let path = dir.join("keys");
    std::fs::write(&path, "k1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n").expect("keys");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod keys");
    path
}

/// `xsendfiled sign --keys KEYS EXTRA… PATH`: the link, and the id it printed (with `--uses`).
pub fn sign(keys: &Path, path: &str, extra: &[&str]) -> (String, Option<String>) {
    let out = Command::new(super::bin())
        .arg("sign")
        .arg("--keys")
        .arg(keys)
        .args(extra)
        .arg(path)
        .output()
        .expect("xsendfiled sign");
    assert!(out.status.success(), "sign: {}", String::from_utf8_lossy(&out.stderr));
    let link = String::from_utf8(out.stdout).expect("utf-8").trim().to_owned();
    let id = String::from_utf8_lossy(&out.stderr).lines().find_map(|l| l.strip_prefix("id ").map(str::to_owned));
    (link, id)
}

/// A random file of `len` bytes at `root/name`; returns its contents.
pub fn random_file(root: &Path, name: &str, len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    std::fs::File::open("/dev/urandom").expect("urandom").read_exact(&mut bytes).expect("random");
    std::fs::write(root.join(name), &bytes).expect("write file");
    bytes
}

/// `redis-server` on a free port of 127.0.0.1, nothing saved, in `dir`.
pub fn redis(dir: &Path, port: u16) -> Proc {
    let mut cmd = Command::new("redis-server");
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(["--dir", &dir.display().to_string()]);
    let mut p = spawn(cmd, "redis-server", &dir.join(format!("redis-{port}.log")));
    wait_until("redis-server", Some(&mut p), || tcp_up(port));
    p
}

/// One node: xsendfiled (`--state STATE`, key `k1`, an access log) on a Unix socket in `run`, and
/// nginx (conf-examples/nginx.conf) in front of it.
pub struct Node {
    pub xsendfiled: Proc,
    pub nginx: Proc,
    pub port: u16,
    pub access_log: PathBuf,
}

/// The daemon's options for a node.
pub fn node_args(root: &Path, sock: &Path, keys: &Path, state: &str, log: &Path) -> Vec<String> {
    let mut args = super::guard_args(root, Some(&format!("unix:{}", sock.display())));
    for (k, v) in [("--keys", keys.display().to_string()), ("--state", state.to_owned())] {
        args.extend([k.to_owned(), v]);
    }
    args.extend(["--access-log".to_owned(), log.display().to_string()]);
    args
}

/// Starts a node whose files live in `run` (a directory of its own per node). The machine running
/// the tests is busy, so the store may take up to 2 s here ([`node_with`] chooses).
pub fn node(run: &Path, root: &Path, keys: &Path, state: &str) -> Node {
    node_with(run, root, keys, state, &["--state-timeout", "2s"])
}

/// [`node`] with these options instead of `--state-timeout 2s`.
pub fn node_with(run: &Path, root: &Path, keys: &Path, state: &str, extra: &[&str]) -> Node {
    std::fs::create_dir_all(run).expect("run dir");
    let sock = run.join("x.sock");
    let access_log = run.join("access.log");
    let mut args = node_args(root, &sock, keys, state, &access_log);
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut xsendfiled = daemon(run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut xsendfiled), || unix_up(&sock));
    let port = free_port();
    let nginx = nginx_example("nginx.conf", &run.join("nginx"), root, &format!("unix:{}", sock.display()), port);
    Node { xsendfiled, nginx, port, access_log }
}

/// A reply seen by [`get`].
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

/// One HTTP/1.1 request for `target` to 127.0.0.1:`port` from the address `from` (a 127.0.0.0/8
/// address), with extra header lines.
pub fn get(port: u16, from: Ipv4Addr, method: &str, target: &str, headers: &[&str]) -> Got {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(get_async(port, from, method, target, headers))
}

/// [`get`], on the caller's runtime.
pub async fn get_async(port: u16, from: Ipv4Addr, method: &str, target: &str, headers: &[&str]) -> Got {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::from((from, 0))).expect("bind the client address");
    let mut stream = tokio::time::timeout(Duration::from_secs(10), socket.connect(([127, 0, 0, 1], port).into()))
        .await
        .expect("connect in time")
        .expect("connect");
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut raw))
        .await
        .expect("reply in time")
        .expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    Got { status, head, body: raw[split + 4..].to_vec() }
}

/// The `n`-th client address (127.0.1.0 + n), distinct for n below 65,000.
pub fn client(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 1, 0)) + n)
}

/// `n` first requests for `target`, all at once, each from its own address (clients `first..`),
/// spread over `ports` (nodes) in turn; returns every status.
pub fn stampede(ports: &[u16], target: &str, first: u32, n: u32) -> Vec<u16> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().expect("runtime");
    rt.block_on(async {
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(n as usize));
        let mut tasks = Vec::new();
        for i in 0..n {
            let (start, target, port) = (start.clone(), target.to_owned(), ports[i as usize % ports.len()]);
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                get_async(port, client(first + i), "GET", &target, &[]).await.status
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.expect("client task"));
        }
        statuses
    })
}

/// Whether the error reply carries `Cache-Control: no-store`.
pub fn no_store(got: &Got) -> bool {
    got.head.lines().any(|l| l.to_ascii_lowercase().replace(' ', "") == "cache-control:no-store")
}

/// The access log's lines as JSON.
pub fn log_lines(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

/// Polls `target` from client `from` until it answers `want` (at most 5 s); the time it took.
pub fn until_status(port: u16, from: u32, target: &str, want: u16) -> Duration {
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if get(port, client(from), "GET", target, &[]).status == want {
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{target} never answered {want}");
}
