//! Shared test scaffolding: real tools (nginx, spawn-fcgi, curl), processes stopped by PID, the
//! tree of tricky and hostile names, and the independent FastCGI encoder.

#![allow(dead_code, unreachable_pub)]

pub mod app;
pub mod fcgi_client;
pub mod limited;
pub mod matrix;
pub mod s3;
pub mod stallfs;

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The daemon binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_xsendfiled")
}

/// Whether `tool` is on PATH (or an absolute path that exists).
pub fn have(tool: &str) -> bool {
    if tool.starts_with('/') {
        return Path::new(tool).exists();
    }
    std::env::var_os("PATH").map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file())).unwrap_or(false)
}

/// Fails loudly when a real component is missing. Only a developer run with
/// `XSENDFILED_ALLOW_SKIP=1` (never CI) may skip, and it says so on stderr.
pub fn require(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !have(t)).collect();
    if missing.is_empty() {
        return true;
    }
    let ci = std::env::var("CI").map(|v| v == "true").unwrap_or(false);
    let allow = std::env::var("XSENDFILED_ALLOW_SKIP").map(|v| v == "1").unwrap_or(false);
    if allow && !ci {
        eprintln!("SKIPPED: missing {missing:?} (XSENDFILED_ALLOW_SKIP=1); run ./scripts/test.sh to install them");
        return false;
    }
    panic!("missing {missing:?}: run ./scripts/test.sh, which installs them with apt-get");
}

/// A free loopback TCP port (bound once and released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind :0");
    l.local_addr().expect("addr").port()
}

/// A temp directory readable by other users (nginx workers may run as another user).
pub fn tempdir() -> tempfile::TempDir {
    let d = tempfile::Builder::new().prefix("xsfd-test-").tempdir().expect("tempdir");
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    d
}

/// A child process that is stopped by PID when dropped.
pub struct Proc {
    pub child: Child,
    pub name: String,
    pub log: Option<PathBuf>,
}

impl Proc {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends `sig` to the process.
    pub fn signal(&self, sig: i32) {
        // SAFETY-free: `kill` through the shell tool keeps the tests free of unsafe code.
        let _ = Command::new("kill").arg(format!("-{sig}")).arg(self.pid().to_string()).status();
    }

    /// Waits for exit up to `limit`; returns the exit status if it exited.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn log_text(&self) -> String {
        self.log.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.signal(15);
            if self.wait_exit(Duration::from_secs(3)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        // Pre-forking servers (fcgiwrap, Apache, spawn-fcgi's children) leave workers behind when
        // only their parent is stopped, and a parent stopped after its workers may respawn them
        // first: every process is started in a group of its own, and whatever is left of that
        // group goes once the parent is gone.
        let _ = Command::new("kill").args(["-9", "--", &format!("-{}", self.pid())]).stderr(Stdio::null()).status();
    }
}

/// A command that passes a listening Unix socket at `sock` the way systemd socket activation does
/// (bound, mode 0660, on fd 3, `LISTEN_FDS=1`, `LISTEN_PID` its own pid, as systemd cannot run
/// here) and then execs the program and arguments the caller appends.
pub fn socket_activated(sock: &Path) -> Command {
    const LAUNCHER: &str = r#"
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o660); s.listen(128)
os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"; os.environ["LISTEN_PID"] = str(os.getpid())
os.environ.pop("GATEWAY_INTERFACE", None)
os.execv(sys.argv[2], sys.argv[2:])
"#;
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(LAUNCHER).arg(sock);
    cmd
}

/// `systemd-analyze verify` on `units` (no complaint at all), then `security --offline=true` on
/// `service`: its exposure level, printed, and at most 1.0.
pub fn systemd_units_are_hardened(units: &[&Path], service: &Path) -> f64 {
    let verify = Command::new("systemd-analyze").arg("verify").args(units).output().expect("systemd-analyze verify");
    assert!(verify.status.success() && verify.stderr.is_empty(), "{}", String::from_utf8_lossy(&verify.stderr));
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(service)
        .output()
        .expect("systemd-analyze security");
    let text = String::from_utf8_lossy(&security.stdout);
    let level: f64 = text
        .lines()
        .find_map(|l| l.split("xsendfiled.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{text}"));
    eprintln!("systemd-analyze security {}: exposure level {level}", service.display());
    assert!(level <= 1.0, "exposure {level} > 1.0:\n{text}");
    level
}

/// Starts `cmd` with stdout/stderr to `log` (stdin closed).
pub fn spawn(mut cmd: Command, name: &str, log: &Path) -> Proc {
    let f = std::fs::File::create(log).expect("log file");
    cmd.stdin(Stdio::null()).stdout(f.try_clone().expect("dup")).stderr(f);
    // A process group of its own, so that Drop can stop the workers it forks.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd.spawn().unwrap_or_else(|e| panic!("starting {name}: {e}"));
    Proc { child, name: name.to_owned(), log: Some(log.to_owned()) }
}

/// Waits until `check` is true (bounded), panicking with the process log otherwise.
pub fn wait_until(what: &str, proc_: Option<&mut Proc>, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let log = proc_.map(|p| p.log_text()).unwrap_or_default();
    panic!("timed out waiting for {what}\n{log}");
}

pub fn tcp_up(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

pub fn unix_up(path: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(path).is_ok()
}

/// Starts xsendfiled with `args` (and `envs`), logging to `dir/NAME.log`.
pub fn daemon(dir: &Path, name: &str, args: &[&str], envs: &[(&str, &str)]) -> Proc {
    let mut cmd = Command::new(bin());
    cmd.args(args).env_remove("GATEWAY_INTERFACE").env("RUST_LOG", "debug");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    spawn(cmd, name, &dir.join(format!("{name}.log")))
}

/// Fills `template` (`{{NAME}}` placeholders) and fails if one is left.
pub fn fill_template(template: &str, vars: &[(&str, String)]) -> String {
    let mut s = template.to_owned();
    for (k, v) in vars {
        s = s.replace(&format!("{{{{{k}}}}}"), v);
    }
    assert!(!s.contains("{{"), "unfilled placeholder in template:\n{s}");
    s
}

/// The repository's `conf-examples/NAME`.
pub fn conf_example(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf-examples").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Starts nginx with the filled template in `run_dir`; returns it once its port answers.
pub fn nginx(run_dir: &Path, config: &str, port: u16) -> Proc {
    std::fs::create_dir_all(run_dir).expect("run dir");
    let conf = run_dir.join("nginx.conf");
    std::fs::write(&conf, config).expect("write nginx.conf");
    let mut cmd = Command::new("nginx");
    cmd.arg("-p").arg(run_dir).arg("-c").arg(&conf).arg("-g").arg("daemon off;");
    let mut p = spawn(cmd, "nginx", &run_dir.join("nginx.stderr"));
    wait_until("nginx", Some(&mut p), || tcp_up(port));
    p
}

/// Starts nginx with `conf-examples/NAME`, its placeholders filled for `root` and `upstream`.
pub fn nginx_example(name: &str, run_dir: &Path, root: &Path, upstream: &str, port: u16) -> Proc {
    let conf = fill_template(
        &conf_example(name),
        &[
            ("NGINX_USER", nginx_user()),
            ("RUN_DIR", run_dir.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", upstream.to_owned()),
            ("ROOT", root.display().to_string()),
        ],
    );
    nginx(run_dir, &conf, port)
}

/// The daemon options the nginx examples expect: `--root ROOT --internal-prefix /_protected
/// --strip-prefix /dl`, plus `--listen LISTEN` when given.
pub fn guard_args(root: &Path, listen: Option<&str>) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "--root".into(),
        root.display().to_string(),
        "--internal-prefix".into(),
        "/_protected".into(),
        "--strip-prefix".into(),
        "/dl".into(),
    ];
    if let Some(l) = listen {
        v.extend(["--listen".to_string(), l.to_string()]);
    }
    v
}

/// The user nginx workers run as in tests: root when we are root (the tree lives in a temp dir).
pub fn nginx_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// An HTTP reply as curl saw it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn header_count(&self, name: &str) -> usize {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count()
    }
}

/// Requests `url` with curl (`extra` args such as `--head`, `-X POST`), path sent as is.
pub fn curl(url: &str, extra: &[&str]) -> Reply {
    let out = Command::new("curl")
        .args(["-sS", "--path-as-is", "-i", "--max-time", "10"])
        .args(extra)
        .arg(url)
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    parse_http(&out.stdout)
}

pub fn parse_http(raw: &[u8]) -> Reply {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
    Reply { status, headers, body: raw[split + 4..].to_vec() }
}

/// Percent-encodes a path for a URL: everything but unreserved characters and `/`.
pub fn url_path(path: &[u8]) -> String {
    let mut s = String::new();
    for &b in path {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// A scratch directory holding the test [`Tree`] and an empty `run/` for sockets, logs and
/// configurations; removed when dropped.
pub struct Workspace {
    /// The shared tree of names.
    pub tree: Tree,
    /// `run/`, created.
    pub run: PathBuf,
    _dir: tempfile::TempDir,
}

impl Workspace {
    /// Creates the directory, the tree and `run/`.
    pub fn new() -> Workspace {
        let dir = tempdir();
        let tree = Tree::create(dir.path());
        let run = dir.path().join("run");
        std::fs::create_dir_all(&run).expect("mkdir run");
        Workspace { tree, run, _dir: dir }
    }
}

/// The test tree: `base/root` (served), `base/root-private` (a sibling sharing the root's name as
/// a prefix) and `base/outside`. Returns the root path.
pub struct Tree {
    pub base: PathBuf,
    pub root: PathBuf,
}

/// Regular files under the root that must be served, with their contents.
pub const SERVABLE: &[(&str, &str)] = &[
    ("plain.txt", "plain\n"),
    ("a b.txt", "space\n"),
    ("100%.txt", "percent\n"),
    ("q?x.txt", "question\n"),
    ("h#x.txt", "hash\n"),
    ("ü.txt", "umlaut\n"),
    ("是.txt", "cjk\n"),
    ("%41.txt", "literal percent-41\n"),
    ("A.txt", "capital A\n"),
    ("trail ", "trailing space\n"),
    ("trail", "no trailing space\n"),
    ("semi;colon=1&x+y.txt", "sub-delims\n"),
    ("quote'\"`.txt", "quotes\n"),
    ("archive.tar.gz", "not really gzip\n"),
    ("page.html", "<p>html</p>\n"),
    ("data.json", "{}\n"),
    ("noext", "no extension\n"),
    ("sub/in.txt", "in sub\n"),
    ("sub/deep/er/file.txt", "deep\n"),
    ("dir with space/ä ö.txt", "nested unicode\n"),
];

impl Tree {
    pub fn create(base: &Path) -> Tree {
        let root = base.join("root");
        for d in ["root/dir", "root/.git", "root-private", "outside", "root/sub/deep/er", "root/dir with space"] {
            std::fs::create_dir_all(base.join(d)).expect("mkdir");
        }
        for (name, body) in SERVABLE {
            std::fs::write(root.join(name), body).expect("write");
        }
        let long = "L".repeat(255);
        std::fs::write(root.join(&long), "long name\n").expect("write long");
        std::fs::write(root.join(".hidden"), "hidden\n").expect("write");
        std::fs::write(root.join(".git/config"), "git\n").expect("write");
        std::fs::write(base.join("root-private/secret.txt"), "SIBLING SECRET\n").expect("write");
        std::fs::write(base.join("outside/secret.txt"), "OUTSIDE SECRET\n").expect("write");
        std::fs::write(root.join("lf\nx.txt"), "newline\n").expect("write");
        std::fs::write(root.join("back\\slash.txt"), "backslash\n").expect("write");
        let bad: &[u8] = b"\xff.txt";
        std::fs::write(root.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bad)), "bad utf8\n")
            .expect("write");
        symlink("plain.txt", root.join("link-in.txt")).expect("symlink");
        symlink(root.join("sub/in.txt"), root.join("link-abs-in.txt")).expect("symlink");
        symlink("../outside/secret.txt", root.join("link-out.txt")).expect("symlink");
        symlink("/etc/passwd", root.join("link-etc")).expect("symlink");
        symlink("sub", root.join("link-dir")).expect("symlink");
        symlink("../outside", root.join("link-out-dir")).expect("symlink");
        symlink(".hidden", root.join("link-hidden")).expect("symlink");
        symlink("../root-private/secret.txt", root.join("link-sibling")).expect("symlink");
        symlink("nowhere.txt", root.join("link-dangling")).expect("symlink");
        symlink("loop-b", root.join("loop-a")).expect("symlink");
        symlink("loop-a", root.join("loop-b")).expect("symlink");
        let st = Command::new("mkfifo").arg(root.join("fifo")).status().expect("mkfifo");
        assert!(st.success());
        Tree { base: base.to_owned(), root }
    }
}

/// Writes a key file (mode 0600, as the daemon requires).
pub fn write_keys(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write keys");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// `xsendfiled sign --keys KEYS ARGS…`: the link it prints (it must succeed).
pub fn sign_cli(keys: &Path, args: &[&str]) -> String {
    let out = sign_out(keys, args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8").trim().to_owned()
}

/// `xsendfiled sign --keys KEYS ARGS…` as it ran.
pub fn sign_out(keys: &Path, args: &[&str]) -> std::process::Output {
    Command::new(bin()).arg("sign").arg("--keys").arg(keys).args(args).output().expect("sign")
}

/// Reads all of a stream until EOF or `limit`.
pub fn read_all_timeout(s: &mut impl Read, limit: Duration) -> Vec<u8> {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
                continue
            }
            Err(_) => break,
        }
    }
    out
}

/// UTC calendar fields of Unix time `t` (an independent conversion, days to civil date).
pub fn civil(t: u64) -> (i64, u32, u32, u64, u64, u64) {
    let (days, rem) = ((t / 86_400) as i64, t % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Compares `actual` with `tests/snapshots/NAME`; `SNAPSHOTS=overwrite` rewrites the file first.
pub fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(name);
    if std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite") {
        std::fs::write(&path, actual).expect("write snapshot");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{name} differs from the snapshot (SNAPSHOTS=overwrite to accept):\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// The exposition text of the metrics endpoint at `addr` (`HOST:PORT`).
fn scrape_metrics(addr: &str) -> String {
    String::from_utf8_lossy(&curl(&format!("http://{addr}/metrics"), &[]).body).into_owned()
}

/// Each of `lines` (whole exposition lines, newline included) stands in the metrics at `addr`.
pub fn assert_series<S: AsRef<str>>(addr: &str, lines: &[S]) {
    let series = scrape_metrics(addr);
    for line in lines {
        assert!(series.contains(line.as_ref()), "{:?} in\n{series}", line.as_ref());
    }
}

/// `/readyz` at `addr` answers 503 with a reason that contains `why`.
pub fn assert_unready(addr: &str, why: &str) {
    let r = curl(&format!("http://{addr}/readyz"), &[]);
    let reason = String::from_utf8_lossy(&r.body).into_owned();
    assert_eq!(r.status, 503, "{reason}");
    assert!(reason.contains(why), "{reason}");
}
