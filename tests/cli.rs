//! The binary as a user meets it: help and man page, environment fallbacks, configuration
//! errors, CGI mode, and a file we may not read.

use crate::support;

use clap::CommandFactory;
use std::process::{Command, Output};
use support::Tree;
use xsendfiled::config::cli::Cli;

#[test]
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn every_option_reads_an_env_var_named_after_it() {
    let cmd = Cli::command();
    let mut checked = 0;
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        if ["help", "version", "verbose", "quiet"].contains(&id) {
            continue;
        }
        let long = arg.get_long().unwrap_or_else(|| panic!("{id} has no long name"));
        let want = format!("XSENDFILED_{}", long.to_ascii_uppercase().replace('-', "_"));
        let env = arg.get_env().unwrap_or_else(|| panic!("--{long} has no env fallback"));
        assert_eq!(env.to_str(), Some(want.as_str()), "--{long}");
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} options checked");
}

/// The man pages: `xsendfiled.1` and one page per subcommand (`xsendfiled-serve.1`,
/// `xsendfiled-sign.1`, `xsendfiled-check.1`, `xsendfiled-doctor.1`, `xsendfiled-revoke.1`),
/// generated from the clap definition and committed.
/// Every `xsendfiled-NAME(1)` a page refers to exists.
#[test]
fn man_pages_are_current() {
    let fresh = support::tempdir();
    clap_mangen::generate_to(Cli::command(), fresh.path()).expect("render");
    let man = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let names = |dir: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("man dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".1"))
            .collect();
        v.sort();
        v
    };
    let generated = names(fresh.path());
    assert_eq!(
        generated,
        [
            "xsendfiled-check.1",
            "xsendfiled-doctor.1",
            "xsendfiled-revoke.1",
            "xsendfiled-serve.1",
            "xsendfiled-sign.1",
            "xsendfiled.1"
        ]
    );
    for name in &generated {
        let page = std::fs::read(fresh.path().join(name)).expect("generated page");
        committed_is_current(&man.join(name), &page);
        // Every page named in SUBCOMMANDS (roff escapes the dash) is one of ours.
        let text = String::from_utf8_lossy(&page).replace("\\-", "-");
        for line in text.lines().filter(|l| l.starts_with("xsendfiled-") && l.ends_with("(1)")) {
            let target = format!("{}.1", line.trim_end_matches("(1)"));
            assert!(generated.contains(&target), "man/{name} refers to {line}, which is not generated");
        }
    }
    assert_eq!(names(&man), generated, "man/ holds exactly the generated pages");
}

/// `path` (committed) holds exactly `generated`; `XSENDFILED_UPDATE_MAN=1` writes it first.
fn committed_is_current(path: &std::path::Path, generated: &[u8]) {
    if std::env::var("XSENDFILED_UPDATE_MAN").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, generated).expect("write generated file");
    }
    let committed = std::fs::read(path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `XSENDFILED_UPDATE_MAN=1 cargo test --test e2e cli::` and commit it",
        path.display()
    );
}

/// Shell completions for bash, zsh and fish, generated from the clap definition (clap_complete)
/// and committed under `completions/`, where the Debian package takes them from;
/// `XSENDFILED_UPDATE_MAN=1` rewrites them with the man pages.
#[test]
fn shell_completions_are_current() {
    use clap_complete::Shell;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, name) in
        [(Shell::Bash, "xsendfiled.bash"), (Shell::Zsh, "_xsendfiled"), (Shell::Fish, "xsendfiled.fish")]
    {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "xsendfiled", &mut script);
        committed_is_current(&dir.join(name), &script);
        // Fish spells a long option `-l NAME`.
        let text = String::from_utf8_lossy(&script).replace("-l ", "--");
        assert!(text.contains("--config") && text.contains("--show-config"), "{name} lacks the options");
    }
}

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(support::bin());
    cmd.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::null()).output().expect("run")
}

#[test]
fn configuration_errors_exit_2_with_one_clear_line() {
    let dir = support::tempdir();
    let file = dir.path().join("file");
    std::fs::write(&file, "x").expect("write");
    let d = dir.path().to_str().expect("utf8");
    let f = file.to_str().expect("utf8");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--internal-prefix", "/p"], "no root directory: pass --root DIR (or set XSENDFILED_ROOT)"),
        (vec!["--root", "/nonexistent/xsfd", "--internal-prefix", "/p"], "--root \"/nonexistent/xsfd\""),
        (vec!["--root", f, "--internal-prefix", "/p"], "is not a directory"),
        (vec!["--root", d], "the nginx and local-redirect backends need --internal-prefix URI"),
        (vec!["--root", d, "--internal-prefix", "p"], "must start with /"),
        (vec!["--root", d, "--internal-prefix", "/a b"], "may contain only"),
        (vec!["--root", d, "--internal-prefix", "/p", "--strip-prefix", "/a/../b"], "--strip-prefix"),
        (vec!["--root", d, "--internal-prefix", "/p", "--listen", "nowhere"], "expected HOST:PORT"),
        (vec!["--root", d, "--internal-prefix", "/p", "--socket-mode", "999"], "--socket-mode"),
        (vec!["--root", d, "--internal-prefix", "/p", "--idle-timeout", "soon"], "expected a duration"),
        (vec!["--root", d, "--internal-prefix", "/p", "--threads", "0"], "--threads 0"),
        (vec!["--root", d, "--internal-prefix", "/p", "--log-level", "loud"], "--log-level"),
    ];
    for (args, want) in cases {
        let out = run(&args, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout must stay empty");
        assert!(err.starts_with("xsendfiled: error: ") && err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line: {err}");
    }
    // Key files: refused when others can read them, and signatures cannot be required without keys.
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "k hex:000102030405060708090a0b0c0d0e0f\n").expect("write");
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o644)).expect("chmod");
    let k = keys.to_str().expect("utf8");
    for (args, want) in [
        (vec!["--root", d, "--internal-prefix", "/p", "--keys", k], "readable by other users (mode 644)"),
        (vec!["--root", d, "--internal-prefix", "/p", "--require-signature"], "--require-signature needs --keys"),
        (vec!["sign", "--keys", k, "/x"], "readable by other users"),
    ] {
        let out = run(&args, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // Compatibility links name no key, so each request tries every key: their ring is capped at
    // 16; SDL1 looks keys up by id and takes the full ring.
    let ring = |n: usize| (0..n).map(|i| format!("k{i} hex:{:032x}\n", i + 1)).collect::<String>();
    for (n, scheme, ok) in [(17, "secure-link-secret", false), (16, "secure-link-secret", true), (17, "sdl1", true)] {
        std::fs::write(&keys, ring(n)).expect("write");
        std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
        let out = run(&["check", "--root", d, "--internal-prefix", "/p", "--keys", k, "--token-scheme", scheme], &[]);
        let err = String::from_utf8_lossy(&out.stdout);
        if ok {
            assert_eq!(out.status.code(), Some(0), "{n} keys, {scheme}: {err}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{n} keys, {scheme}: {err}");
            assert!(err.contains("17 keys, but links of --token-scheme secure-link-secret name no key"), "{err}");
        }
    }
    // One file-system prefix mapped twice is ambiguous: refused, not resolved by order.
    let twice = format!("{d}=/a,{d}/=/b");
    let out = run(&["check", "--root", d, "--internal-prefix", "/p", "--map", &twice], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("is already mapped by entry 1"));
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o644)).expect("chmod");
    let out =
        run(&["--root", d, "--internal-prefix", "/p", "--keys", k, "--allow-readable-keys", "--listen", "bad"], &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--listen"), "readable keys accepted when allowed");
    // A key file the group or others may write is refused always: they could add a key of their own.
    for mode in [0o602, 0o620, 0o622, 0o660] {
        std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(mode)).expect("chmod");
        for args in [
            vec!["--root", d, "--internal-prefix", "/p", "--keys", k, "--allow-readable-keys"],
            vec!["sign", "--keys", k, "--allow-readable-keys", "/x"],
        ] {
            let out = run(&args, &[]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "mode {mode:o} {args:?}: {err}");
            assert!(err.contains(&format!("writable by other users (mode {mode:o})")), "{args:?}: {err}");
        }
    }
    let out = run(&["--root", d, "--internal-prefix", "/p"], &[("FCGI_WEB_SERVER_ADDRS", "127.0.0.1,bogus")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FCGI_WEB_SERVER_ADDRS: \"bogus\""));
    // The same options from the environment.
    let out = run(&[], &[("XSENDFILED_ROOT", d), ("XSENDFILED_INTERNAL_PREFIX", "nope")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--internal-prefix \"nope\": must start with /"));
}

fn cgi(root: &str, method: &str, path_info: &str, extra: &[(&str, &str)]) -> Output {
    let mut envs = vec![
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("REQUEST_METHOD", method),
        ("PATH_INFO", path_info),
        ("SCRIPT_NAME", "/cgi-bin/xsendfiled"),
        ("XSENDFILED_ROOT", root),
        ("XSENDFILED_INTERNAL_PREFIX", "/_protected/"),
    ];
    envs.extend_from_slice(extra);
    run(&[], &envs)
}

#[test]
fn cgi_mode_answers_one_request_on_stdout() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let root = tree.root.to_str().expect("utf8");
    let out = cgi(root, "GET", "/dir with space/ä ö.txt", &[]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "X-Accel-Redirect: /_protected/dir%20with%20space/%C3%A4%20%C3%B6.txt\r\nContent-Type: text/plain\r\n\
         Content-Disposition: inline; filename=\"_ _.txt\"; filename*=UTF-8''%C3%A4%20%C3%B6.txt\r\n\r\n"
    );
    let out = cgi(root, "GET", "/link-out.txt", &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Status: 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n\
         X-Content-Type-Options: nosniff\r\nContent-Length: 10\r\n\r\nnot found\n"
    );
    let out = cgi(root, "HEAD", "/missing", &[]);
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("Content-Length: 10\r\n\r\n"), "HEAD: no body");
    let out = cgi(root, "DELETE", "/plain.txt", &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Status: 405 Method Not Allowed\r\n"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\r\nAllow: GET, HEAD\r\n"));
    // Boolean options from the environment.
    let out = cgi(root, "GET", "/.hidden", &[("XSENDFILED_ALLOW_HIDDEN", "1")]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("X-Accel-Redirect: /_protected/.hidden\r\n"));
    let out = cgi(root, "GET", "/.hidden", &[("XSENDFILED_ALLOW_HIDDEN", "false")]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Status: 404"));
    // The explicit subcommand behaves the same.
    let mut cmd = Command::new(support::bin());
    cmd.arg("serve").env_clear().envs([
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("REQUEST_METHOD", "GET"),
        ("PATH_INFO", "/plain.txt"),
        ("XSENDFILED_ROOT", root),
        ("XSENDFILED_INTERNAL_PREFIX", "/p"),
    ]);
    let out = cmd.stdin(std::process::Stdio::null()).output().expect("run");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "X-Accel-Redirect: /p/plain.txt\r\nContent-Type: text/plain\r\nContent-Disposition: inline; filename=\"plain.txt\"\r\n\r\n"
    );
    // Several roots from the environment: the variable that configured them is not also read as
    // the request's narrowing (which "A:B" would fail as a directory); one that differs still is.
    let second = dir.path().join("root-private");
    let both = format!("{root}:{}", second.display());
    let map = format!("{root}=/_protected,{}=/_private", second.display());
    let out = cgi(&both, "GET", "/plain.txt", &[("XSENDFILED_MAP", &map)]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("X-Accel-Redirect: /_protected/plain.txt\r\n"), "{out:?}");
    let mut cmd = Command::new(support::bin());
    cmd.args(["--root", root, "--root"]).arg(&second).env_clear().envs([
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("REQUEST_METHOD", "GET"),
        ("PATH_INFO", "/secret.txt"),
        ("XSENDFILED_INTERNAL_PREFIX", "/p"),
        ("XSENDFILED_ROOT", second.to_str().expect("utf8")),
        ("XSENDFILED_MAP", &map),
    ]);
    let out = cmd.stdin(std::process::Stdio::null()).output().expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("X-Accel-Redirect: /_private/secret.txt\r\n"), "{out:?}");
    // Client headers never change anything: an HTTP_ variable is just ignored.
    let out = cgi(root, "GET", "/plain.txt", &[("HTTP_X_ACCEL_MAPPING", "/=/etc/"), ("HTTP_PATH_INFO", "/x")]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("X-Accel-Redirect: /_protected/plain.txt\r\n"));
}

#[test]
fn a_file_we_may_not_read_is_403() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let secret = tree.root.join("private.txt");
    std::fs::write(&secret, "private\n").expect("write");
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o000)).expect("chmod");
    let root = tree.root.to_str().expect("utf8");
    let envs = [
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("REQUEST_METHOD", "GET"),
        ("PATH_INFO", "/private.txt"),
        ("XSENDFILED_ROOT", root),
        ("XSENDFILED_INTERNAL_PREFIX", "/p"),
    ];
    // root reads everything: drop to nobody with setpriv (util-linux) when we are root.
    let is_root = String::from_utf8_lossy(&Command::new("id").arg("-u").output().expect("id").stdout).trim() == "0";
    let mut cmd = if is_root {
        assert!(support::require(&["setpriv"]));
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(support::bin());
        c
    } else {
        Command::new(support::bin())
    };
    cmd.env_clear().envs(envs);
    let out = cmd.stdin(std::process::Stdio::null()).output().expect("run");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("Status: 403 Forbidden\r\n"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
