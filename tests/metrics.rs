//! The metrics endpoint, readiness, and the php-fpm-style ping and status pages, with real
//! components: a real Prometheus scrapes `--metrics-listen` and its HTTP API is asked for the
//! counts after known traffic; `promtool check metrics` lints the exposition; nginx forwards the
//! status page from the conf-example's location.

use crate::support::{self, fcgi_client, wait_until, Proc, Workspace};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// The daemon on TCP with the nginx example's options plus `extra`; returns it and its port.
fn daemon(ws: &Workspace, extra: &[&str]) -> (Proc, u16) {
    let port = support::free_port();
    let mut args = support::guard_args(&ws.tree.root, Some(&format!("127.0.0.1:{port}")));
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&ws.run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::tcp_up(port));
    (d, port)
}

/// One FastCGI GET of `uri` the way nginx sends it; the CGI reply.
fn fastcgi_get(port: u16, uri: &str, query: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut pairs = fcgi_client::nginx_params(b"GET", uri.as_bytes());
    pairs.retain(|(n, _)| *n != b"QUERY_STRING");
    pairs.push((b"QUERY_STRING", query.as_bytes()));
    s.write_all(&fcgi_client::request(1, false, &pairs)).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&fcgi_client::stdout_of(&fcgi_client::parse(&out).0, 1)).into_owned()
}

/// The known traffic: three files allowed, two refusals with known reasons.
fn known_traffic(port: u16) {
    for uri in ["/dl/plain.txt", "/dl/a%20b.txt", "/dl/sub/in.txt"] {
        let reply = fastcgi_get(port, &uri.replace("%20", " "), "");
        assert!(reply.starts_with("Status: 200") || reply.contains("X-Accel-Redirect"), "{uri}: {reply}");
    }
    assert!(fastcgi_get(port, "/dl/missing.txt", "").starts_with("Status: 404"));
    assert!(fastcgi_get(port, "/elsewhere/plain.txt", "").starts_with("Status: 404"));
}

/// GET `url` with curl; the status and body.
fn get(url: &str, extra: &[&str]) -> support::Reply {
    support::curl(url, extra)
}

#[test]
fn prometheus_scrapes_the_decision_counts() {
    if !support::require(&["prometheus", "promtool", "curl"]) {
        return;
    }
    let ws = Workspace::new();
    let mport = support::free_port();
    let (_d, port) = daemon(&ws, &["--metrics-listen", &format!("127.0.0.1:{mport}")]);
    known_traffic(port);

    // promtool lints the Prometheus text exposition.
    let text = get(&format!("http://127.0.0.1:{mport}/metrics"), &[]);
    assert_eq!(text.status, 200);
    assert!(text.header("Content-Type").is_some_and(|v| v.starts_with("text/plain; version=0.0.4")), "{text:?}");
    let mut lint = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool");
    lint.stdin.take().expect("stdin").write_all(&text.body).expect("feed promtool");
    let out = lint.wait_with_output().expect("promtool");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics: {said}");
    // OpenMetrics when asked.
    let om = get(&format!("http://127.0.0.1:{mport}/metrics"), &["-H", "Accept: application/openmetrics-text"]);
    assert!(om.header("Content-Type").is_some_and(|v| v.starts_with("application/openmetrics-text")));
    assert!(String::from_utf8_lossy(&om.body).ends_with("# EOF\n"));

    // A real Prometheus scrapes it, and its HTTP API holds the counts.
    let pport = support::free_port();
    let conf = ws.run.join("prometheus.yml");
    std::fs::write(
        &conf,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: xsendfiled\n    static_configs:\n      - \
             targets: ['127.0.0.1:{mport}']\n"
        ),
    )
    .expect("prometheus.yml");
    let mut cmd = std::process::Command::new("prometheus");
    cmd.arg(format!("--config.file={}", conf.display()))
        .arg(format!("--storage.tsdb.path={}", ws.run.join("tsdb").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{pport}"));
    let prom = support::spawn(cmd, "prometheus", &ws.run.join("prometheus.log"));
    let query = |q: &str| -> Vec<(serde_json::Value, f64)> {
        let url = format!("http://127.0.0.1:{pport}/api/v1/query");
        let out = std::process::Command::new("curl")
            .args(["-sS", "--max-time", "5", "-G", &url, "--data-urlencode", &format!("query={q}")])
            .output()
            .expect("curl");
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else { return Vec::new() };
        let Some(results) = v["data"]["result"].as_array() else { return Vec::new() };
        results
            .iter()
            .map(|r| (r["metric"].clone(), r["value"][1].as_str().and_then(|s| s.parse().ok()).unwrap_or(-1.0)))
            .collect()
    };
    let start = Instant::now();
    let sent = loop {
        let r = query("sum(xsendfiled_decisions_total{outcome=\"send\"})");
        if let Some((_, n)) = r.first() {
            break *n;
        }
        assert!(start.elapsed() < Duration::from_secs(90), "no scrape in 90 s\n{}", prom.log_text());
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(sent, 3.0);
    let mut refused = query("xsendfiled_decisions_total{outcome=\"refuse\"}")
        .into_iter()
        .map(|(m, n)| (m["reason"].as_str().unwrap_or("").to_owned(), m["status"].as_str().unwrap_or("").to_owned(), n))
        .collect::<Vec<_>>();
    refused.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        refused,
        vec![
            ("file_not_found".to_owned(), "404".to_owned(), 1.0),
            ("path_outside_prefix".to_owned(), "404".to_owned(), 1.0)
        ]
    );
    let latency = query("xsendfiled_decision_duration_seconds_count");
    assert_eq!(latency.first().map(|r| r.1), Some(5.0), "{latency:?}");
    let accepted = query("xsendfiled_connections_accepted_total");
    assert!(accepted.first().is_some_and(|r| r.1 >= 5.0), "{accepted:?}");
    let build = query("xsendfiled_build_info");
    assert_eq!(build.first().and_then(|r| r.0["version"].as_str()), Some(env!("CARGO_PKG_VERSION")));
    // No label anywhere carries a path.
    assert!(!String::from_utf8_lossy(&text.body).contains("plain.txt"));
}

#[test]
fn readyz_follows_the_root() {
    let ws = Workspace::new();
    let mport = support::free_port();
    let (mut d, _) = daemon(&ws, &["--metrics-listen", &format!("127.0.0.1:{mport}")]);
    let url = |p: &str| format!("http://127.0.0.1:{mport}{p}");
    assert_eq!(get(&url("/healthz"), &[]).status, 200);
    assert_eq!(get(&url("/readyz"), &[]).status, 200);
    let moved = ws.tree.base.join("root-moved");
    std::fs::rename(&ws.tree.root, &moved).expect("move the root away");
    // The root is looked at again at most once a second.
    wait_until("/readyz 503", Some(&mut d), || get(&url("/readyz"), &[]).status == 503);
    let r = get(&url("/readyz"), &[]);
    assert_eq!(String::from_utf8_lossy(&r.body), "not ready: root 0 is gone or was replaced (SIGHUP reopens it)\n");
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    assert_eq!(get(&url("/healthz"), &[]).status, 200, "alive, just not ready");
    let m = get(&url("/metrics"), &[]);
    assert!(String::from_utf8_lossy(&m.body).contains("xsendfiled_root_healthy{root=\"0\"} 0"));
    std::fs::rename(&moved, &ws.tree.root).expect("bring the root back");
    wait_until("/readyz 200", Some(&mut d), || get(&url("/readyz"), &[]).status == 200);
    // A SIGHUP reload is counted, and so is one that is refused (the root gone again).
    d.signal(1); // SIGHUP
    let reloaded = |result: &str, n: u32| {
        let body = String::from_utf8_lossy(&get(&url("/metrics"), &[]).body).into_owned();
        body.contains(&format!("xsendfiled_config_reloads_total{{result=\"{result}\"}} {n}\n"))
    };
    wait_until("a counted reload", Some(&mut d), || reloaded("ok", 1));
    std::fs::rename(&ws.tree.root, &moved).expect("move the root away");
    d.signal(1); // SIGHUP
    wait_until("a counted refused reload", Some(&mut d), || reloaded("failed", 1));
    std::fs::rename(&moved, &ws.tree.root).expect("bring the root back");
    let other = get(&url("/other"), &[]);
    assert_eq!((other.status, other.header("Cache-Control")), (404, Some("no-store")));
    let post = get(&url("/metrics"), &["-X", "POST"]);
    assert_eq!((post.status, post.header("Allow")), (405, Some("GET, HEAD")));
}

#[test]
fn ping_and_status_through_nginx() {
    if !support::require(&["nginx", "curl"]) {
        return;
    }
    let ws = Workspace::new();
    let (_d, xport) = daemon(&ws, &["--ping-path", "/ping", "--status-path", "/status"]);
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", &ws.run, &ws.tree.root, &format!("127.0.0.1:{xport}"), port);
    assert_eq!(get(&format!("http://127.0.0.1:{port}/dl/plain.txt"), &[]).body, b"plain\n");
    assert_eq!(get(&format!("http://127.0.0.1:{port}/dl/missing.txt"), &[]).status, 404);
    let ping = get(&format!("http://127.0.0.1:{port}/ping"), &[]);
    assert_eq!((ping.status, ping.body.as_slice()), (200, &b"pong\n"[..]));
    let plain = get(&format!("http://127.0.0.1:{port}/status"), &[]);
    let page = String::from_utf8_lossy(&plain.body).into_owned();
    assert_eq!(plain.status, 200, "{page}");
    assert!(page.contains("decisions sent:       1\n") && page.contains("decisions refused:    1\n"), "{page}");
    let json = get(&format!("http://127.0.0.1:{port}/status?json"), &[]);
    assert_eq!(json.header("Content-Type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_slice(&json.body).expect("status?json is JSON");
    assert_eq!(v["decisions sent"], 1);
    let om = get(&format!("http://127.0.0.1:{port}/status?openmetrics"), &[]);
    let om = String::from_utf8_lossy(&om.body).into_owned();
    assert!(om.contains("xsendfiled_decisions_total{outcome=\"send\",status=\"200\",reason=\"none\"} 1"), "{om}");
    assert!(om.ends_with("# EOF\n"));
    // The example's location is for this host only; the status page is never public by accident.
    let conf = support::conf_example("nginx.conf");
    assert!(conf.contains("allow 127.0.0.1;") && conf.contains("deny all;"));
}

#[test]
fn metrics_are_off_by_default() {
    let ws = Workspace::new();
    let (d, port) = daemon(&ws, &[]);
    // Without --status-path the path is decided like any other (and refused: outside /dl).
    assert!(fastcgi_get(port, "/status", "").starts_with("Status: 404"));
    assert!(!d.log_text().contains("/metrics"));
}

#[test]
fn metrics_on_a_unix_socket() {
    if !support::require(&["curl"]) {
        return;
    }
    let ws = Workspace::new();
    let sock = ws.run.join("metrics.sock");
    let (mut d, port) = daemon(&ws, &["--metrics-listen", &format!("unix:{}", sock.display())]);
    wait_until("the metrics socket", Some(&mut d), || support::unix_up(&sock));
    assert!(fastcgi_get(port, "/dl/plain.txt", "").contains("X-Accel-Redirect"));
    let r = get("http://xsendfiled/metrics", &["--unix-socket", &sock.display().to_string()]);
    let body = String::from_utf8_lossy(&r.body).into_owned();
    assert!(body.contains("xsendfiled_decisions_total{outcome=\"send\",status=\"200\",reason=\"none\"} 1"), "{body}");
    d.signal(15); // SIGTERM
    assert!(d.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()));
    assert!(!sock.exists(), "the socket file is removed on exit");
}
