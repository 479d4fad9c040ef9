//! Who owns the Unix socket and whom the daemon runs as: `--socket-owner`, `--socket-group`,
//! `--user`, `--group` (tests run as root and use the system's www-data, nobody and nogroup),
//! listen errors that name their path, `check`'s warning about a socket the web server cannot
//! reach, and nginx workers running as www-data reaching the socket (the first start's 502).

use crate::support;

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::process::{Command, Output};
use support::{wait_until, Workspace};

/// The ids of a system account (`getent`), so the test does not hard-code Debian's numbers.
fn id_of(database: &str, name: &str) -> u32 {
    let out = Command::new("getent").args([database, name]).output().expect("getent");
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    line.split(':').nth(2).and_then(|v| v.trim().parse().ok()).unwrap_or_else(|| panic!("{database} {name}: {line:?}"))
}

fn base_args(ws: &Workspace, sock: &Path) -> Vec<String> {
    support::guard_args(&ws.tree.root, Some(&format!("unix:{}", sock.display())))
}

fn start(ws: &Workspace, name: &str, sock: &Path, extra: &[&str]) -> support::Proc {
    let mut args = base_args(ws, sock);
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&ws.run, name, &argv, &[]);
    // Connectable once bound; the ids change after that, before the server logs where it serves.
    wait_until(name, Some(&mut d), || support::unix_up(sock));
    let log = ws.run.join(format!("{name}.log"));
    wait_until(name, None, || std::fs::read_to_string(&log).unwrap_or_default().contains(" serving "));
    d
}

/// Runs the binary to completion (bounded by the daemon's own start-up errors), as `prefix`.
fn run_as(prefix: &[&str], args: &[String]) -> Output {
    let mut cmd = Command::new(prefix.first().copied().unwrap_or(support::bin()));
    if !prefix.is_empty() {
        cmd.args(&prefix[1..]).arg(support::bin());
    }
    cmd.args(args).env_remove("GATEWAY_INTERFACE").stdin(std::process::Stdio::null());
    let child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("spawn");
    let pid = child.id();
    // A start-up error ends it at once; a daemon that came up anyway is stopped after 5 s.
    let guard = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(5));
        let _ = Command::new("kill").arg(pid.to_string()).stderr(std::process::Stdio::null()).status();
    });
    let out = child.wait_with_output().expect("wait");
    drop(guard);
    out
}

const AS_NOBODY: &[&str] = &["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"];

#[test]
fn the_socket_gets_its_owner_group_and_mode() {
    if !support::require(&["getent"]) {
        return;
    }
    let ws = Workspace::new();
    let (nobody, www) = (id_of("passwd", "nobody"), id_of("group", "www-data"));
    let sock = ws.run.join("owned.sock");
    let _d = start(&ws, "owned", &sock, &["--socket-owner", "nobody:www-data", "--socket-mode", "0660"]);
    let md = std::fs::symlink_metadata(&sock).expect("stat");
    assert!(md.file_type().is_socket());
    assert_eq!((md.uid(), md.gid(), md.mode() & 0o7777), (nobody, www, 0o660));

    let sock = ws.run.join("grouped.sock");
    let _d = start(&ws, "grouped", &sock, &["--socket-group", &www.to_string(), "--socket-mode", "0660"]);
    let md = std::fs::symlink_metadata(&sock).expect("stat");
    assert_eq!((md.uid(), md.gid(), md.mode() & 0o7777), (0, www, 0o660));
}

/// `Uid:`/`Gid:`/`Groups:` of /proc/PID/status.
fn proc_ids(pid: i32) -> (String, String, String) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    (field("Uid:").unwrap_or_default(), field("Gid:").unwrap_or_default(), field("Groups:").unwrap_or_default())
}

#[test]
fn the_daemon_drops_to_user_and_group_after_binding() {
    if !support::require(&["getent"]) {
        return;
    }
    let ws = Workspace::new();
    let (nobody, nogroup) = (id_of("passwd", "nobody"), id_of("group", "nogroup"));
    let sock = ws.run.join("dropped.sock");
    let d = start(&ws, "dropped", &sock, &["--user", "nobody", "--group", "nogroup", "--socket-group", "www-data"]);
    let (uid, gid, groups) = proc_ids(d.pid());
    assert_eq!(uid, format!("{nobody} {nobody} {nobody} {nobody}"));
    assert_eq!(gid, format!("{nogroup} {nogroup} {nogroup} {nogroup}"));
    assert!(!groups.split(' ').any(|g| g == "0"), "root group kept: {groups:?}");
    // The socket was created as root, before the switch, and given to the web server's group.
    let md = std::fs::symlink_metadata(&sock).expect("stat");
    assert_eq!((md.uid(), md.gid()), (0, id_of("group", "www-data")));
    assert!(d.log_text().contains(&format!("running as uid {nobody} gid {nogroup}")), "{}", d.log_text());

    // --user alone: the user's own group and supplementary groups.
    let www = id_of("passwd", "www-data");
    let sock = ws.run.join("www.sock");
    let d = start(&ws, "www", &sock, &["--user", "www-data"]);
    let (uid, gid, _) = proc_ids(d.pid());
    assert_eq!(uid, format!("{www} {www} {www} {www}"));
    let g = id_of("group", "www-data");
    assert_eq!(gid, format!("{g} {g} {g} {g}"));
}

#[test]
fn user_needs_root_and_names_must_exist() {
    if !support::require(&["setpriv", "getent"]) {
        return;
    }
    let ws = Workspace::new();
    let sock = ws.run.join("x.sock");
    let mut args = base_args(&ws, &sock);
    args.extend(["--user".into(), "www-data".into()]);
    let out = run_as(AS_NOBODY, &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--user www-data") && err.contains("needs root"), "{err}");
    assert!(!sock.exists(), "nothing bound before the refusal");

    for (opts, named) in [
        (&["--socket-group", "no-such-group-xsfd"][..], "no-such-group-xsfd"),
        (&["--socket-owner", "no-such-user-xsfd"][..], "no-such-user-xsfd"),
        (&["--user", "no-such-user-xsfd"][..], "no-such-user-xsfd"),
        (&["--user", "nobody", "--group", "no-such-group-xsfd"][..], "no-such-group-xsfd"),
        (&["--group", "nogroup"][..], "needs --user"),
        (&["--user", "root"][..], "is root"),
    ] {
        let mut args = base_args(&ws, &sock);
        args.extend(opts.iter().map(|s| s.to_string()));
        let out = run_as(&[], &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{opts:?}: {err}");
        assert!(err.contains(named), "{opts:?}: {err}");
    }
    // The socket options apply to a socket xsendfiled creates.
    let mut args = support::guard_args(&ws.tree.root, Some("127.0.0.1:1"));
    args.extend(["--socket-group".into(), "www-data".into()]);
    let err = String::from_utf8_lossy(&run_as(&[], &args).stderr).into_owned();
    assert!(err.contains("--socket-group") && err.contains("unix:PATH"), "{err}");
}

#[test]
fn listen_errors_name_the_path() {
    if !support::require(&["setpriv"]) {
        return;
    }
    let ws = Workspace::new();
    let missing = "/nonexistent-xsfd-dir/x.sock";
    let args = support::guard_args(&ws.tree.root, Some(&format!("unix:{missing}")));
    let out = run_as(&[], &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(missing), "{err}");

    // A directory the (unprivileged) daemon cannot write: root's, mode 0755.
    let locked = ws.run.join("locked");
    std::fs::create_dir(&locked).expect("mkdir");
    let sock = locked.join("x.sock");
    let args = support::guard_args(&ws.tree.root, Some(&format!("unix:{}", sock.display())));
    let out = run_as(AS_NOBODY, &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&sock.display().to_string()) && err.contains("ermission denied"), "{err}");
}

#[test]
fn check_warns_when_no_web_server_user_can_reach_the_socket() {
    let ws = Workspace::new();
    let sock = format!("unix:{}", ws.run.join("c.sock").display());
    let check = |extra: &[&str]| {
        let mut args = vec!["check".to_string()];
        args.extend(support::guard_args(&ws.tree.root, Some(&sock)));
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = run_as(&[], &args);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Started as root: the socket would be root:root 0660.
    let out = check(&[]);
    assert!(out.contains("warning") && out.contains("group root") && out.contains("--socket-group www-data"), "{out}");
    for fine in [&["--socket-group", "www-data"][..], &["--socket-owner", "www-data"], &["--socket-mode", "0666"]] {
        let out = check(fine);
        assert!(!out.contains("warning"), "{fine:?}: {out}");
    }
}

#[test]
fn nginx_workers_as_www_data_reach_the_socket() {
    if !support::require(&["nginx", "curl"]) {
        return;
    }
    let ws = Workspace::new();
    let sock = ws.run.join("xsendfiled.sock");
    let port = support::free_port();
    let conf = support::fill_template(
        &support::conf_example("nginx.conf"),
        &[
            ("NGINX_USER", "www-data".to_owned()),
            ("RUN_DIR", ws.run.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", format!("unix:{}", sock.display())),
            ("ROOT", ws.tree.root.display().to_string()),
        ],
    );
    let _n = support::nginx(&ws.run, &conf, port);
    let url = format!("http://127.0.0.1:{port}/dl/plain.txt");
    {
        // The first start as it was: root:root 0660, and the workers get EACCES, so 502.
        let _d = start(&ws, "default", &sock, &[]);
        assert_eq!(support::curl(&url, &[]).status, 502);
    }
    wait_until("the socket removed", None, || !sock.exists());
    let _d = start(&ws, "fixed", &sock, &["--socket-group", "www-data", "--user", "nobody", "--group", "nogroup"]);
    let r = support::curl(&url, &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, b"plain\n");
}

#[test]
fn socket_activation_with_user_still_serves() {
    use std::io::Write;
    use support::fcgi_client;
    if !support::require(&["python3", "getent"]) {
        return;
    }
    let ws = Workspace::new();
    let sock = ws.run.join("activated.sock");
    // The socket passed the way systemd passes it: fd 3, LISTEN_FDS=1, LISTEN_PID.
    let mut cmd = support::socket_activated(&sock);
    cmd.arg(support::bin());
    cmd.args(support::guard_args(&ws.tree.root, None)).args(["--user", "nobody"]).env("RUST_LOG", "debug");
    let d = support::spawn(cmd, "activated", &ws.run.join("activated.log"));
    // The socket answers from the start (python bound it): wait for the switch itself.
    let log = ws.run.join("activated.log");
    wait_until("the switch to nobody", None, || {
        std::fs::read_to_string(&log).unwrap_or_default().contains("on inherited fd 3")
    });
    let nobody = id_of("passwd", "nobody");
    assert_eq!(proc_ids(d.pid()).0, format!("{nobody} {nobody} {nobody} {nobody}"));
    assert!(d.log_text().contains("on inherited fd 3"), "{}", d.log_text());
    let mut c = std::os::unix::net::UnixStream::connect(&sock).expect("connect");
    c.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("timeout");
    let pairs = fcgi_client::nginx_params(b"GET", b"/dl/plain.txt");
    c.write_all(&fcgi_client::request(1, false, &pairs)).expect("write");
    let raw = support::read_all_timeout(&mut c, std::time::Duration::from_secs(10));
    let (recs, _) = fcgi_client::parse(&raw);
    let out = String::from_utf8_lossy(&fcgi_client::stdout_of(&recs, 1)).into_owned();
    assert!(out.contains("X-Accel-Redirect: /_protected/plain.txt"), "{out}");
}

#[test]
fn a_sqlite_store_made_as_root_is_given_to_the_run_as_user() {
    if !support::require(&["getent"]) {
        return;
    }
    let ws = Workspace::new();
    let (nobody, nogroup) = (id_of("passwd", "nobody"), id_of("group", "nogroup"));
    let sock = ws.run.join("st.sock");
    let db = ws.run.join("st.db");
    let state = db.display().to_string();
    let d = start(&ws, "st", &sock, &["--user", "nobody", "--group", "nogroup", "--state", &state]);
    // Else the worker, reconnecting as nobody after any error, could never open them again.
    for tail in ["", "-wal", "-shm"] {
        let md = std::fs::symlink_metadata(format!("{state}{tail}")).expect("stat the store's file");
        assert_eq!((md.uid(), md.gid()), (nobody, nogroup), "st.db{tail}");
    }
    // The directory is root's: said at start, since SQLite makes -wal and -shm there again.
    assert!(d.log_text().contains("cannot create files in"), "{}", d.log_text());
}
