//! Limited-use links under contention and failure: 200 first requests at once, each from its own
//! loopback address, on a `uses=3` link grant exactly 3 — with one SQLite file under three
//! spawn-fcgi children, and with Redis across two nodes (two nginx + xsendfiled pairs). Revoking
//! through the shared Redis reaches the other node within a second; Redis stopped mid-run makes
//! limited links 503 (at once, never cached) while other links and plain files are served, and it
//! heals when Redis is back.

use crate::support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::limited::{client, get, keys, no_store, node, node_with, redis, sign, stampede, until_status};

/// The PIDs spawn-fcgi reported ("child spawned successfully: PID: N").
fn child_pids(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.rsplit_once("PID: ").map(|(_, pid)| pid.trim().to_owned()))
        .collect()
}

/// Stops these PIDs when dropped.
struct Children(Vec<String>);

impl Drop for Children {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = Command::new("kill").args(["-TERM", pid]).status();
        }
        std::thread::sleep(Duration::from_millis(300));
        for pid in &self.0 {
            let _ = Command::new("kill").args(["-KILL", pid]).stderr(std::process::Stdio::null()).status();
        }
    }
}

/// A workspace, a private redis-server on a free port, and the key ring.
fn with_redis() -> Option<(support::Workspace, support::Proc, u16, std::path::PathBuf)> {
    if !support::require(&["nginx", "redis-server"]) {
        return None;
    }
    let s = support::Workspace::new();
    let rport = support::free_port();
    let server = redis(&s.run, rport);
    let keys = keys(&s.run);
    Some((s, server, rport, keys))
}

fn count(statuses: &[u16], want: u16) -> usize {
    statuses.iter().filter(|s| **s == want).count()
}

#[test]
fn two_hundred_first_requests_get_exactly_three_uses_from_one_sqlite_file_under_three_processes() {
    if !support::require(&["nginx", "spawn-fcgi"]) {
        return;
    }
    let s = support::Workspace::new();
    let keys = keys(&s.run);
    let sock = s.run.join("spawned.sock");
    let mut cmd = Command::new("spawn-fcgi");
    cmd.args(["-F", "3", "-s"]).arg(&sock).args(["-M", "0660", "--"]).arg(support::bin());
    cmd.env("XSENDFILED_ROOT", &s.tree.root)
        .env("XSENDFILED_INTERNAL_PREFIX", "/_protected")
        .env("XSENDFILED_STRIP_PREFIX", "/dl")
        .env("XSENDFILED_KEYS", &keys)
        .env("XSENDFILED_STATE", s.run.join("state.db"))
        .env("XSENDFILED_STATE_TIMEOUT", "5s")
        .env("RUST_LOG", "warn")
        .env_remove("GATEWAY_INTERFACE");
    let mut children = support::spawn(cmd, "spawn-fcgi", &s.run.join("spawn-fcgi.log"));
    support::wait_until("spawn-fcgi", Some(&mut children), || support::unix_up(&sock));
    let port = support::free_port();
    let upstream = format!("unix:{}", sock.display());
    let _nginx = support::nginx_example("nginx.conf", &s.run.join("nginx"), &s.tree.root, &upstream, port);
    // spawn-fcgi -F detaches its children (setsid): each is stopped by the PID it reported.
    let log = s.run.join("spawn-fcgi.log");
    support::wait_until("three children", None, || child_pids(&log).len() == 3);
    let _stop = Children(child_pids(&log));
    let (link, _) = sign(&keys, "/dl/plain.txt", &["--uses", "3"]);
    let statuses = stampede(&[port], &link, 1000, 200);
    assert_eq!((count(&statuses, 200), count(&statuses, 410)), (3, 197), "{statuses:?}\n{}", children.log_text());
}

#[test]
fn two_nodes_sharing_redis_grant_exactly_three_of_two_hundred_and_see_each_others_revocations() {
    let Some((s, _redis, rport, keys)) = with_redis() else { return };
    let url = format!("redis://127.0.0.1:{rport}/0");
    let a = node(&s.run.join("a"), &s.tree.root, &keys, &url);
    let b = node(&s.run.join("b"), &s.tree.root, &keys, &url);
    let (link, id) = sign(&keys, "/dl/plain.txt", &["--uses", "3"]);
    let statuses = stampede(&[a.port, b.port], &link, 2000, 200);
    assert_eq!((count(&statuses, 200), count(&statuses, 410)), (3, 197), "{statuses:?}");
    // The three holders keep their use on either node.
    let holders: Vec<u32> = (0..200).filter(|i| statuses[*i as usize] == 200).collect();
    for h in &holders {
        assert_eq!(get(b.port, client(2000 + h), "GET", &link, &[]).status, 200, "holder {h} on node B");
    }
    // Revoked through node A's store: node B refuses the limited link at once, and a stateless
    // link of the same key within a second.
    let (stateless, _) = sign(&keys, "/dl/a b.txt", &[]);
    assert_eq!(get(b.port, client(2300), "GET", &stateless, &[]).status, 200);
    let revoke = |what: &[&str]| {
        let out = Command::new(support::bin()).args(["revoke", "--state", &url]).args(what).output().expect("revoke");
        assert!(out.status.success(), "revoke: {}", String::from_utf8_lossy(&out.stderr));
        Instant::now()
    };
    revoke(&["--id", &id.expect("id")]);
    let refused = get(b.port, client(2000 + holders[0]), "GET", &link, &[]);
    assert_eq!(refused.status, 403, "{}", refused.head);
    assert!(no_store(&refused));
    let since = revoke(&["--kid", "k1"]);
    until_status(b.port, 2301, &stateless, 403);
    assert!(since.elapsed() < Duration::from_secs(1), "node B refused the key after {:?}", since.elapsed());
    until_status(a.port, 2302, &stateless, 403);
}

#[test]
fn redis_stopped_mid_run_refuses_only_limited_links_at_once_and_heals() {
    let Some((s, server, rport, keys)) = with_redis() else { return };
    let n = node_with(
        &s.run.join("a"),
        &s.tree.root,
        &keys,
        &format!("redis://127.0.0.1:{rport}"),
        &["--state-timeout", "200ms"],
    );
    let (limited, _) = sign(&keys, "/dl/plain.txt", &["--uses", "100"]);
    let (stateless, _) = sign(&keys, "/dl/a b.txt", &[]);
    let port = n.port;
    assert_eq!(get(port, client(3000), "GET", &limited, &[]).status, 200);
    drop(server);
    for i in 1..=5 {
        let started = Instant::now();
        let r = get(port, client(3000 + i), "GET", &limited, &[]);
        assert_eq!(r.status, 503, "{}", r.head);
        assert!(no_store(&r), "{}", r.head);
        assert!(started.elapsed() < Duration::from_secs(2), "a 503 took {:?}", started.elapsed());
        assert_eq!(get(port, client(3000 + i), "GET", &stateless, &[]).status, 200, "a stateless link");
        let plain = get(port, client(3000 + i), "GET", "/dl/sub/in.txt", &[]);
        assert_eq!((plain.status, plain.body.as_slice()), (200, &b"in sub\n"[..]), "a plain file");
    }
    let _back = redis(&s.run, rport);
    let healed = until_status(port, 3100, &limited, 200);
    assert!(healed < Duration::from_secs(5), "healed after {healed:?}");
}
