//! The Debian package as an operator meets it: lintian finds no error; `dpkg -i` puts every file
//! where the package says and creates the system user; the packaged units pass `systemd-analyze
//! verify` and `security`; the installed binary, started exactly as the packaged unit starts it
//! (its ExecStart, as its User, the socket of its .socket unit passed the way systemd passes it,
//! since systemd is not PID 1 here), first refuses to serve with the packaged configuration and
//! says why, then serves through nginx once the operator sets a root; `logrotate -f` rotates its
//! access log and it writes the new file; `dpkg -r` keeps the edited conffile; `dpkg -P` leaves no
//! file, user or process, yet keeps a user and group the administrator made before installing.
//! One test, in order: it installs system-wide (the other tests use the
//! binary under target/), and it purges at the start (a run that died) and at the end, even when
//! it fails. The package comes from `scripts/build-deb.sh` (`XSENDFILED_DEB` names another).

use crate::support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use support::wait_until;

const CONFIG: &str = "/etc/xsendfiled/xsendfiled.toml";
const UNITS: &str = "/usr/lib/systemd/system";
const LOG_DIR: &str = "/var/log/xsendfiled";

/// The package to test: `XSENDFILED_DEB`, else what scripts/build-deb.sh made.
fn package() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("XSENDFILED_DEB") {
        return Some(PathBuf::from(p));
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debian");
    let want = format!("xsendfiled_{}-1_", env!("CARGO_PKG_VERSION"));
    let found = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&want) && n.ends_with(".deb")));
    found
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// `dpkg ARGS`, waiting (bounded) while another dpkg or apt run holds the lock.
fn dpkg(args: &[&str]) -> Output {
    for _ in 0..60 {
        let out = run(Command::new("dpkg").args(args));
        if out.status.success() || !text(&out).contains("lock") {
            return out;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    panic!("dpkg {args:?}: the dpkg lock stayed busy for two minutes");
}

/// Purges the package when dropped (and so at the end, whatever happened).
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let _ = dpkg(&["-P", "xsendfiled"]);
        let _ = std::fs::remove_dir_all("/run/xsendfiled");
    }
}

fn id_of(name: &str, db: &str) -> Option<u32> {
    let out = run(Command::new("getent").args([db, name]));
    String::from_utf8_lossy(&out.stdout).split(':').nth(2)?.parse().ok()
}

/// `KEY=` of the installed unit `name`.
fn unit_value(name: &str, key: &str) -> String {
    let unit = std::fs::read_to_string(Path::new(UNITS).join(name)).expect("unit installed");
    let prefix = format!("{key}=");
    unit.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("{name}: no {key}=")).to_owned()
}

#[test]
fn the_debian_package_installs_serves_rotates_and_purges_cleanly() {
    if !support::require(&["dpkg", "lintian", "logrotate", "systemd-analyze", "setpriv", "python3", "nginx", "curl"]) {
        return;
    }
    let Some(deb) = package() else {
        let ci = std::env::var("CI").as_deref() == Ok("true");
        if !ci && std::env::var("XSENDFILED_ALLOW_SKIP").as_deref() == Ok("1") {
            eprintln!("SKIPPED: no target/debian/xsendfiled_*.deb (XSENDFILED_ALLOW_SKIP=1)");
            return;
        }
        panic!("no target/debian/xsendfiled_*.deb: run scripts/build-deb.sh (scripts/test.sh does)");
    };
    lintian_finds_no_error(&deb);
    let _ = dpkg(&["-P", "xsendfiled"]);
    let _purge = Purge;
    let out = dpkg(&["-i", deb.to_str().expect("utf8")]);
    assert!(out.status.success(), "dpkg -i: {}", text(&out));
    let uid = files_user_and_version_are_in_place();
    units_verify_and_are_hardened();
    let ws = support::Workspace::new();
    serve_as_the_packaged_unit_and_rotate(&ws, uid);
    remove_keeps_the_conffile_and_purge_leaves_nothing(uid);
    an_account_made_beforehand_survives_the_purge(&deb);
}

fn lintian_finds_no_error(deb: &Path) {
    let out = run(Command::new("lintian").args(["--tag-display-limit", "0"]).arg(deb));
    let report = text(&out);
    let count = |kind: &str| report.lines().filter(|l| l.starts_with(kind)).count();
    eprintln!("lintian: {} error(s), {} warning(s), {} info\n{report}", count("E: "), count("W: "), count("I: "));
    assert_eq!(count("E: "), 0, "lintian errors:\n{report}");
}

/// The files, the conffile, the user and group, the log directory, `--version`; the user's uid.
fn files_user_and_version_are_in_place() -> u32 {
    for path in [
        "/usr/bin/xsendfiled",
        "/usr/share/man/man1/xsendfiled.1.gz",
        "/usr/share/man/man1/xsendfiled-serve.1.gz",
        "/usr/share/bash-completion/completions/xsendfiled",
        "/usr/share/zsh/vendor-completions/_xsendfiled",
        "/usr/share/fish/vendor_completions.d/xsendfiled.fish",
        "/usr/lib/systemd/system/xsendfiled.service",
        "/usr/lib/systemd/system/xsendfiled.socket",
        CONFIG,
        "/etc/logrotate.d/xsendfiled",
        "/usr/share/doc/xsendfiled/copyright",
        "/usr/share/doc/xsendfiled/examples/nginx.conf",
        "/usr/share/doc/xsendfiled/examples/signing.md",
    ] {
        assert!(Path::new(path).is_file(), "{path} is not installed");
    }
    let conffiles = run(Command::new("dpkg-query").args(["-W", "-f=${Conffiles}", "xsendfiled"]));
    assert!(text(&conffiles).contains(CONFIG), "{CONFIG} is not a conffile: {}", text(&conffiles));
    let uid = id_of("xsendfiled", "passwd").expect("system user xsendfiled");
    let gid = id_of("xsendfiled", "group").expect("system group xsendfiled");
    assert!(uid < 1000 && gid < 1000, "a system user and group: uid {uid} gid {gid}");
    let log_dir = std::fs::metadata(LOG_DIR).expect("log directory");
    assert_eq!((log_dir.uid(), log_dir.mode() & 0o777), (uid, 0o750));
    let version = run(Command::new("/usr/bin/xsendfiled").arg("--version"));
    assert_eq!(text(&version).trim(), format!("xsendfiled {}", env!("CARGO_PKG_VERSION")));
    // The packaged configuration is valid TOML and sets no root (checked as its comments say: as
    // the service's user, who opens the access log as the daemon will).
    let check = run(Command::new("setpriv")
        .args(["--reuid=xsendfiled", "--regid=xsendfiled", "--init-groups"])
        .args(["/usr/bin/xsendfiled", "check", "--config", CONFIG]));
    assert!(text(&check).contains("no root directory: set root"), "{}", text(&check));
    uid
}

fn units_verify_and_are_hardened() {
    let (socket, service) = (Path::new(UNITS).join("xsendfiled.socket"), Path::new(UNITS).join("xsendfiled.service"));
    support::systemd_units_are_hardened(&[&socket, &service], &service);
    assert_eq!(unit_value("xsendfiled.socket", "SocketGroup"), "www-data");
    assert_eq!(unit_value("xsendfiled.socket", "SocketMode"), "0660");
}

/// The unit's ExecStart as its User, with its socket on fd 3; logs to `log`.
fn start_as_the_unit(ws: &support::Workspace, sock: &Path, name: &str) -> support::Proc {
    let exec = unit_value("xsendfiled.service", "ExecStart");
    let user = unit_value("xsendfiled.service", "User");
    let group = unit_value("xsendfiled.service", "Group");
    let mut cmd = support::socket_activated(sock);
    cmd.args(["/usr/bin/setpriv", &format!("--reuid={user}"), &format!("--regid={group}"), "--init-groups", "--"]);
    cmd.args(exec.split_whitespace()).env_clear().env("PATH", "/usr/bin:/bin");
    let _ = std::fs::remove_file(sock);
    support::spawn(cmd, name, &ws.run.join(format!("{name}.log")))
}

fn serve_as_the_packaged_unit_and_rotate(ws: &support::Workspace, uid: u32) {
    let sock = PathBuf::from(unit_value("xsendfiled.socket", "ListenStream"));
    std::fs::create_dir_all(sock.parent().expect("socket directory")).expect("mkdir (systemd's DirectoryMode)");
    // As installed: nothing served, and it says so.
    let mut first = start_as_the_unit(ws, &sock, "unconfigured");
    let st = first.wait_exit(Duration::from_secs(10)).expect("refuses to start");
    let log = first.log_text();
    assert_eq!(st.code(), Some(2), "{log}");
    assert!(log.contains(&format!("no root directory: set root = [\"DIR\"] in {CONFIG}")), "{log}");
    // The operator sets the root and the nginx location, as the file's comments say.
    let conf = std::fs::read_to_string(CONFIG).expect("conffile");
    let edited = conf
        .replace("# root = [\"/srv/downloads\"]", &format!("root = [{:?}]", ws.tree.root.display()))
        .replace("# internal-prefix = ", "internal-prefix = ")
        .replace("# strip-prefix = ", "strip-prefix = ");
    assert_ne!(edited, conf, "the packaged file has the commented root, internal-prefix and strip-prefix");
    std::fs::write(CONFIG, &edited).expect("edit the conffile");
    let mut d = start_as_the_unit(ws, &sock, "packaged");
    wait_until("the packaged daemon on fd 3", Some(&mut d), || {
        std::fs::read_to_string(ws.run.join("packaged.log")).is_ok_and(|l| l.contains("inherited fd 3"))
    });
    let status = std::fs::read_to_string(format!("/proc/{}/status", d.pid())).expect("status");
    assert!(status.lines().any(|l| l.starts_with("Uid:") && l.contains(&format!("\t{uid}\t"))), "{status}");
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", &ws.run, &ws.tree.root, &format!("unix:{}", sock.display()), port);
    let get = || support::curl(&format!("http://127.0.0.1:{port}/dl/plain.txt"), &[]);
    let r = get();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"plain\n"[..]), "{}", d.log_text());
    let log = Path::new(LOG_DIR).join("access.log");
    wait_until("the access log line", Some(&mut d), || std::fs::read(&log).is_ok_and(|b| !b.is_empty()));
    // Rotation: the old file keeps its lines, the daemon (SIGHUP from postrotate) writes the new.
    let out = run(Command::new("logrotate").args(["-f", "/etc/logrotate.d/xsendfiled"]));
    assert!(out.status.success(), "logrotate: {}", text(&out));
    let rotated = Path::new(LOG_DIR).join("access.log.1");
    let before = std::fs::read(&rotated).expect("access.log.1");
    assert!(String::from_utf8_lossy(&before).contains("plain.txt"));
    let daemon_log = ws.run.join("packaged.log");
    wait_until("the daemon to reopen its log", Some(&mut d), || {
        std::fs::read_to_string(&daemon_log).is_ok_and(|l| l.contains("configuration reloaded"))
    });
    assert_eq!(get().status, 200);
    wait_until("a line in the new access log", Some(&mut d), || std::fs::read(&log).is_ok_and(|b| !b.is_empty()));
    assert_eq!(std::fs::read(&rotated).expect("access.log.1"), before, "the rotated file got no new line");
    d.signal(15);
    let st = d.wait_exit(Duration::from_secs(15)).expect("exited on SIGTERM");
    assert!(st.success(), "{st:?}");
}

/// Removes the `xsendfiled` user and group the test made, even when it fails.
struct Account;

impl Drop for Account {
    fn drop(&mut self) {
        let _ = Command::new("deluser").args(["--system", "--quiet", "xsendfiled"]).output();
        let _ = Command::new("delgroup").args(["--system", "--quiet", "xsendfiled"]).output();
    }
}

/// An administrator who made the user and group `xsendfiled` before installing the package keeps
/// them after a purge: the package removes only the account it created (it says so in the
/// account's comment).
fn an_account_made_beforehand_survives_the_purge(deb: &Path) {
    let _account = Account;
    let group = ["addgroup", "--system", "--quiet", "xsendfiled"];
    let user = ["adduser", "--system", "--quiet", "--ingroup", "xsendfiled", "--no-create-home", "xsendfiled"];
    for args in [&group[..], &user[..]] {
        let out = run(Command::new(args[0]).args(&args[1..]));
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    let before = (id_of("xsendfiled", "passwd"), id_of("xsendfiled", "group"));
    assert!(before.0.is_some() && before.1.is_some(), "the administrator's account");
    let out = dpkg(&["-i", deb.to_str().expect("utf8")]);
    assert!(out.status.success(), "dpkg -i: {}", text(&out));
    let out = dpkg(&["-P", "xsendfiled"]);
    assert!(out.status.success(), "dpkg -P: {}", text(&out));
    assert_eq!((id_of("xsendfiled", "passwd"), id_of("xsendfiled", "group")), before, "the account was removed");
}

fn remove_keeps_the_conffile_and_purge_leaves_nothing(uid: u32) {
    let edited = std::fs::read_to_string(CONFIG).expect("conffile");
    let out = dpkg(&["-r", "xsendfiled"]);
    assert!(out.status.success(), "dpkg -r: {}", text(&out));
    assert!(!Path::new("/usr/bin/xsendfiled").exists() && !Path::new(UNITS).join("xsendfiled.service").exists());
    assert_eq!(std::fs::read_to_string(CONFIG).expect("conffile kept"), edited);
    let out = dpkg(&["-P", "xsendfiled"]);
    assert!(out.status.success(), "dpkg -P: {}", text(&out));
    for path in ["/etc/xsendfiled", LOG_DIR, "/etc/logrotate.d/xsendfiled", "/usr/share/doc/xsendfiled"] {
        assert!(!Path::new(path).exists(), "{path} left after purge");
    }
    assert_eq!((id_of("xsendfiled", "passwd"), id_of("xsendfiled", "group")), (None, None), "user or group left");
    let procs: Vec<String> = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter(|e| e.metadata().is_ok_and(|m| m.uid() == uid))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(procs.is_empty(), "processes of uid {uid} left: {procs:?}");
    let owned =
        run(Command::new("find").args(["/etc", "/var", "/run", "/usr", "/tmp", "-xdev", "-uid", &uid.to_string()]));
    assert!(owned.stdout.is_empty(), "files of uid {uid} left:\n{}", text(&owned));
}
