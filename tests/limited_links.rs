//! Limited-use links (`uses`, `id`) and revocation through a real nginx with a SQLite state store,
//! driven by real download clients: aria2c with eight parallel segments, wget resuming an
//! interrupted download, curl's HEAD, a bare `Range: bytes=0-`. Each client comes from its own
//! loopback address, which nginx passes as `REMOTE_ADDR`.

use crate::support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::limited::{client, get, keys, log_lines, no_store, node, node_with, random_file, sign, until_status};

fn setup(tools: &[&str]) -> Option<support::Workspace> {
    support::require(tools).then(support::Workspace::new)
}

#[test]
fn aria2c_takes_one_use_with_eight_segments_head_takes_none_and_the_next_client_gets_410() {
    let Some(s) = setup(&["nginx", "aria2c", "curl"]) else { return };
    let body = random_file(&s.tree.root, "big.bin", 3 << 20);
    let keys = keys(&s.run);
    let n = node(&s.run.join("a"), &s.tree.root, &keys, &s.run.join("state.db").display().to_string());
    let (link, id) = sign(&keys, "/dl/big.bin", &["--uses", "1"]);
    let id = id.expect("sign --uses prints the id");
    let url = format!("http://127.0.0.1:{}{link}", n.port);
    // HEAD three times, from three addresses: nothing opened, nothing consumed.
    for i in 1..=3 {
        let out = Command::new("curl")
            .args(["-sS", "-I", "-o", "/dev/null", "-w", "%{http_code}", "--interface", &client(i).to_string(), &url])
            .output()
            .expect("curl -I");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "HEAD {i}");
    }
    let dir = s.run.join("aria");
    let out = Command::new("aria2c")
        .args(["-x8", "-s8", "--min-split-size=1M", "--allow-overwrite=true", "--file-allocation=none"])
        .args(["--console-log-level=warn", "--summary-interval=0", "--max-tries=1", "--interface=127.0.1.10"])
        .arg(format!("--dir={}", dir.display()))
        .args(["-o", "big.bin", &url])
        .output()
        .expect("aria2c");
    assert!(out.status.success(), "aria2c: {}", String::from_utf8_lossy(&out.stdout));
    assert!(std::fs::read(dir.join("big.bin")).expect("downloaded") == body, "the bytes differ");
    // aria2c's segments were all one use of one client.
    let lines = log_lines(&n.access_log);
    let sent: Vec<_> = lines.iter().filter(|l| l["method"] == "GET" && l["link"] == id.as_str()).collect();
    assert!(sent.len() >= 2, "aria2c made several requests: {lines:?}");
    assert!(sent.iter().all(|l| l["use"] == 1 && l["remote"] == "127.0.1.10"), "{sent:?}");
    // Every use is spent: another client (GET or HEAD) gets 410, never cached.
    let late = get(n.port, client(11), "GET", &link, &[]);
    assert_eq!(late.status, 410, "{}", late.head);
    assert!(no_store(&late), "{}", late.head);
    assert_eq!(get(n.port, client(12), "HEAD", &link, &[]).status, 410);
    let refused = log_lines(&n.access_log).into_iter().rev().find(|l| l["status"] == 410).expect("410 logged");
    assert_eq!(refused["link"], id.as_str(), "{refused}");
}

#[test]
fn wget_resumes_an_interrupted_download_within_the_grant_window() {
    let Some(s) = setup(&["nginx", "wget"]) else { return };
    let body = random_file(&s.tree.root, "movie.bin", 4 << 20);
    let keys = keys(&s.run);
    let n = node(&s.run.join("a"), &s.tree.root, &keys, &s.run.join("state.db").display().to_string());
    let (link, _) = sign(&keys, "/dl/movie.bin", &["--uses", "1"]);
    let url = format!("http://127.0.0.1:{}{link}", n.port);
    let file = s.run.join("movie.bin");
    let wget = |extra: &[&str]| {
        let mut cmd = Command::new("wget");
        cmd.args(["-q", "--tries=1", "--bind-address=127.0.1.20", "-O"]).arg(&file).args(extra).arg(&url);
        cmd
    };
    // Slow, and interrupted once part of the file is there.
    let mut slow = support::spawn(wget(&["--limit-rate=400k"]), "wget", &s.run.join("wget.log"));
    let started = Instant::now();
    while std::fs::metadata(&file).map_or(0, |m| m.len()) < 300_000 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    slow.signal(9);
    slow.wait_exit(Duration::from_secs(5)).expect("wget stopped");
    let partial = std::fs::metadata(&file).expect("partial file").len();
    assert!(partial > 0 && partial < body.len() as u64, "interrupted at {partial}");
    // `wget -c` asks for the rest (Range: bytes=N-): the same client's use, still open.
    let st = wget(&["-c"]).status().expect("wget -c");
    assert!(st.success(), "wget -c failed");
    assert!(std::fs::read(&file).expect("file") == body, "the resumed file differs");
    let lines = log_lines(&n.access_log);
    let ranged = lines.iter().find(|l| l["range"].as_str().is_some_and(|r| r.starts_with("bytes="))).expect("range");
    assert_eq!(ranged["use"], 1, "{lines:?}");
    assert_eq!(get(n.port, client(21), "GET", &link, &[]).status, 410);
}

#[test]
fn a_range_from_zero_counts_as_a_use_and_the_uses_are_counted() {
    let Some(s) = setup(&["nginx", "curl"]) else { return };
    let keys = keys(&s.run);
    let state = s.run.join("state.db").display().to_string();
    let metrics = format!("127.0.0.1:{}", support::free_port());
    let n = node_with(
        &s.run.join("a"),
        &s.tree.root,
        &keys,
        &state,
        &["--metrics-listen", &metrics, "--state-timeout", "2s"],
    );
    let (link, _) = sign(&keys, "/dl/plain.txt", &["--uses", "1"]);
    let first = get(n.port, client(30), "GET", &link, &["Range: bytes=0-"]);
    assert_eq!((first.status, first.body.as_slice()), (206, &b"plain\n"[..]), "{}", first.head);
    assert_eq!(get(n.port, client(31), "GET", &link, &["Range: bytes=0-"]).status, 410);
    assert_eq!(get(n.port, client(31), "GET", &link, &[]).status, 410);
    support::assert_series(
        &metrics,
        &["xsendfiled_link_uses_total{result=\"granted\"} 1\n", "xsendfiled_link_uses_total{result=\"refused\"} 2\n"],
    );
}

#[test]
fn uses_survive_a_restart_and_the_open_use_stays_its_clients() {
    let Some(s) = setup(&["nginx"]) else { return };
    let keys = keys(&s.run);
    let state = s.run.join("state.db").display().to_string();
    let (link, _) = sign(&keys, "/dl/plain.txt", &["--uses", "2"]);
    {
        let n = node(&s.run.join("a"), &s.tree.root, &keys, &state);
        assert_eq!(get(n.port, client(40), "GET", &link, &[]).status, 200);
    }
    let n = node(&s.run.join("b"), &s.tree.root, &keys, &state);
    assert_eq!(get(n.port, client(40), "GET", &link, &[]).status, 200, "the open use of 127.0.1.40");
    assert_eq!(get(n.port, client(41), "GET", &link, &[]).status, 200, "the second use: {}", n.xsendfiled.log_text());
    assert_eq!(get(n.port, client(42), "GET", &link, &[]).status, 410, "both spent before the restart too");
    let lines = log_lines(&n.access_log);
    let uses: Vec<_> = lines.iter().filter(|l| l["status"] == 200).map(|l| l["use"].clone()).collect();
    assert_eq!(uses, [serde_json::json!(1), serde_json::json!(2)], "{lines:?}");
}

#[test]
fn revoke_by_id_and_by_key_reaches_limited_and_stateless_links_within_a_second() {
    let Some(s) = setup(&["nginx"]) else { return };
    let keys = keys(&s.run);
    let state = s.run.join("state.db").display().to_string();
    let n = node(&s.run.join("a"), &s.tree.root, &keys, &state);
    let (limited, id) = sign(&keys, "/dl/plain.txt", &["--uses", "5"]);
    let (stateless, _) = sign(&keys, "/dl/a b.txt", &[]);
    assert_eq!(get(n.port, client(50), "GET", &limited, &[]).status, 200);
    assert_eq!(get(n.port, client(50), "GET", &stateless, &[]).status, 200);
    let revoke = |what: &[&str]| {
        let out = Command::new(support::bin()).args(["revoke", "--state", &state]).args(what).output().expect("revoke");
        assert!(out.status.success(), "revoke: {}", String::from_utf8_lossy(&out.stderr));
    };
    revoke(&["--id", &id.expect("id")]);
    // The open use of 127.0.1.50 is revoked too: the atomic grant checks the store at once.
    let r = get(n.port, client(50), "GET", &limited, &[]);
    assert_eq!(r.status, 403, "{}", r.head);
    assert!(no_store(&r), "{}", r.head);
    assert_eq!(get(n.port, client(51), "GET", &stateless, &[]).status, 200, "another link of the key");
    revoke(&["--kid", "k1"]);
    let took = until_status(n.port, 51, &stateless, 403);
    assert!(took < Duration::from_secs(1), "the key's revocation took {took:?}");
    // A fresh link of the key is refused too; a bad revocation is refused by the command.
    let (fresh, _) = sign(&keys, "/dl/plain.txt", &[]);
    assert_eq!(get(n.port, client(52), "GET", &fresh, &[]).status, 403);
    let out = Command::new(support::bin()).args(["revoke", "--state", &state, "--id", "a b"]).output().expect("revoke");
    assert!(!out.status.success());
}

/// The CGI program on one request: `GET link`, the link in `REQUEST_URI` only (a rewrite dropped
/// the query: `QUERY_STRING` is empty); stdout.
fn cgi_get(root: &std::path::Path, keys: &std::path::Path, state: &str, link: &str) -> String {
    let out = Command::new(support::bin())
        .args(support::guard_args(root, None))
        .arg("--keys")
        .arg(keys)
        .args(["--state", state])
        .env_clear()
        .envs([("GATEWAY_INTERFACE", "CGI/1.1"), ("REQUEST_METHOD", "GET"), ("REQUEST_URI", link)])
        .envs([("QUERY_STRING", ""), ("DOCUMENT_URI", "/dl/plain.txt"), ("REMOTE_ADDR", "127.0.0.1")])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cgi");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_cgi_program_refuses_a_revoked_link_whose_query_was_dropped() {
    let dir = support::tempdir();
    let tree = support::Tree::create(dir.path());
    let keys = keys(dir.path());
    let state = dir.path().join("state.db").display().to_string();
    let (link, _) = sign(&keys, "/dl/plain.txt", &["--id", "gone"]);
    let before = cgi_get(&tree.root, &keys, &state, &link);
    assert!(before.starts_with("X-Accel-Redirect: "), "{before}");
    let out =
        Command::new(support::bin()).args(["revoke", "--state", &state, "--id", "gone"]).output().expect("revoke");
    assert!(out.status.success(), "revoke: {}", String::from_utf8_lossy(&out.stderr));
    let after = cgi_get(&tree.root, &keys, &state, &link);
    assert!(after.starts_with("Status: 403"), "a revoked link passed under CGI:\n{after}");
}

#[test]
fn the_redis_password_never_reaches_the_log() {
    let Some(s) = setup(&["nginx"]) else { return };
    random_file(&s.tree.root, "f.bin", 1000);
    let keys = keys(&s.run);
    // Nothing listens there: every grant fails, and says so in the log.
    let url = format!("redis://:TopSecretPw@127.0.0.1:{}/0", support::free_port());
    let n = node_with(&s.run.join("a"), &s.tree.root, &keys, &url, &["--state-timeout", "300ms"]);
    let (link, _) = sign(&keys, "/dl/f.bin", &["--uses", "1"]);
    assert_eq!(get(n.port, client(1), "GET", &link, &[]).status, 503);
    std::thread::sleep(Duration::from_millis(600));
    let log = n.xsendfiled.log_text();
    assert!(log.contains("state store redis redis://***@127.0.0.1"), "{log}");
    assert!(!log.contains("TopSecretPw"), "{log}");
}

#[test]
fn a_revocation_lasts_the_daemons_link_lifetime_cap_by_default() {
    let s = support::Workspace::new();
    let state = s.run.join("state.db").display().to_string();
    let revoke = |extra: &[&str]| {
        let mut cmd = Command::new(support::bin());
        cmd.args(["revoke", "--state", &state, "--id", "L1"]).args(extra);
        cmd.env_remove("XSENDFILED_MAX_LINK_LIFETIME").env_remove("XSENDFILED_CONFIG").output().expect("revoke")
    };
    let lasts = |out: std::process::Output| -> u64 {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text} {}", String::from_utf8_lossy(&out.stderr));
        let until: u64 = text.trim().rsplit(' ').next().and_then(|t| t.parse().ok()).expect("until");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("now").as_secs();
        until - now
    };
    let day = 86_400;
    assert!(lasts(revoke(&[])).abs_diff(7 * day) < 60, "the default cap, 7d");
    assert!(lasts(revoke(&["--max-link-lifetime", "30d"])).abs_diff(30 * day) < 60);
    let config = s.run.join("x.toml");
    std::fs::write(&config, "max-link-lifetime = \"40d\"\n").expect("config");
    assert!(lasts(revoke(&["--config", config.to_str().expect("utf8")])).abs_diff(40 * day) < 60);
    // Shorter than the cap: the link would come back when it ends.
    let out = revoke(&["--max-link-lifetime", "30d", "--lasting", "7d"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("shorter than the link lifetime cap"), "{err}");
}
