//! Process managers: spawn-fcgi with several children sharing one socket, and the hardened
//! systemd units (checked with systemd-analyze, and their ExecStart run with the socket passed the
//! way systemd passes it). Each serves the shared table through a real nginx.

use crate::support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::{conf_example, fill_template, matrix, wait_until};

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z ")
}

/// Children spawn-fcgi forked off (reparented to init): stopped by PID when dropped.
struct Children(Vec<i32>);

impl Drop for Children {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

#[test]
fn spawn_fcgi_with_several_children_sharing_one_socket() {
    if !support::require(&["spawn-fcgi", "nginx", "curl"]) {
        return;
    }
    let ws = support::Workspace::new();
    let (tree, run) = (&ws.tree, &ws.run);
    let sock = run.join("spawned.sock");
    let pidfile = run.join("xsendfiled.pid");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf-examples/spawn-fcgi.sh");
    let out = Command::new("sh")
        .arg(&script)
        .arg(&sock)
        .arg(&tree.root)
        .arg("3")
        .arg(&pidfile)
        .env("XSENDFILED_BIN", support::bin())
        .env_remove("GATEWAY_INTERFACE")
        .output()
        .expect("spawn-fcgi.sh");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pids: Vec<i32> = std::fs::read_to_string(&pidfile)
        .expect("pidfile")
        .split_whitespace()
        .map(|p| p.parse().expect("pid"))
        .collect();
    let children = Children(pids.clone());
    assert_eq!(pids.len(), 3, "{pids:?}");
    assert!(pids.iter().all(|&p| alive(p)));
    // Each child's fd 0 is the one shared listening socket.
    let inode = |pid: i32| std::fs::read_link(format!("/proc/{pid}/fd/0")).expect("fd 0");
    assert!(pids.iter().all(|&p| inode(p) == inode(pids[0])), "one socket shared by all");
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", run, &tree.root, &format!("unix:{}", sock.display()), port);
    matrix::check(port, "/dl", Some("/_protected"), matrix::STRICT);
    // One child going away leaves the others serving.
    let _ = Command::new("kill").arg(pids[0].to_string()).status();
    wait_until("first child to exit", None, || !alive(pids[0]));
    for _ in 0..10 {
        let r = support::curl(&format!("http://127.0.0.1:{port}/dl/plain.txt"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"plain\n"[..]));
    }
    drop(children);
    wait_until("all children to exit", None, || pids.iter().all(|&p| !alive(p)));
}

#[test]
fn systemd_units_are_hardened_and_their_exec_start_serves() {
    if !support::require(&["systemd-analyze", "python3", "nginx", "curl"]) {
        return;
    }
    let ws = support::Workspace::new();
    let (tree, run) = (&ws.tree, &ws.run);
    let sock = run.join("xsendfiled.sock");
    let root = tree.root.display().to_string();
    let service = fill_template(
        &conf_example("xsendfiled.service"),
        &[("XSENDFILED_BIN", support::bin().to_owned()), ("ROOT", root.clone())],
    );
    let socket = fill_template(
        &conf_example("xsendfiled.socket"),
        &[("SOCKET", sock.display().to_string()), ("SOCKET_GROUP", "www-data".into())],
    );
    let units = run.join("units");
    std::fs::create_dir_all(&units).expect("mkdir");
    std::fs::write(units.join("xsendfiled.service"), &service).expect("write");
    std::fs::write(units.join("xsendfiled.socket"), &socket).expect("write");
    let (socket_unit, service_unit) = (units.join("xsendfiled.socket"), units.join("xsendfiled.service"));
    support::systemd_units_are_hardened(&[&socket_unit, &service_unit], &service_unit);

    // Run ExecStart as systemd would: socket bound and listening, passed as fd 3 with
    // LISTEN_FDS=1 and LISTEN_PID set to the service's own pid.
    let exec: Vec<&str> =
        service.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("ExecStart").split_whitespace().collect();
    let mut cmd = support::socket_activated(&sock);
    cmd.args(&exec).env("RUST_LOG", "debug");
    let mut d = support::spawn(cmd, "xsendfiled-systemd", &run.join("xsendfiled.log"));
    wait_until("socket-activated xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", run, &tree.root, &format!("unix:{}", sock.display()), port);
    matrix::check(port, "/dl", Some("/_protected"), matrix::STRICT);
    assert!(d.log_text().contains("on inherited fd 3"), "{}", d.log_text());
    // The stop systemd sends: SIGTERM, then exit 0 within TimeoutStopSec.
    d.signal(15);
    let st = d.wait_exit(Duration::from_secs(15)).expect("exited");
    assert!(st.success(), "{st:?}");
}
