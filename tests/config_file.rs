//! The configuration file (`--config`): every option of `serve` can be set from it (the test walks
//! clap's own list, so options added later are covered without an edit here), file < environment
//! < command line, its problems snapshot-tested (file, line, key, near-miss suggestion), files
//! that others may write refused, and a daemon configured by the file alone serving. The SIGHUP
//! reload of a changed file under load is in `tests/load.rs`. Origins are read from
//! `check --show-config`, the operator's view.

use crate::support;

use clap::CommandFactory;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use xsendfiled::config::cli::Cli;

/// `xsendfiled check ARGS` in `dir` (a relative path an option names, such as access-log 7, lands
/// there), with only `envs` and PATH.
fn check(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(support::bin());
    cmd.current_dir(dir);
    cmd.arg("check").args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.envs(envs.iter().copied());
    cmd.output().expect("run check")
}

fn write_config(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write config");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
}

/// The `--show-config` row of `key`: (value, origin).
fn row(stdout: &str, key: &str) -> (String, String) {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("no row for {key} in:\n{stdout}"));
    let rest = line.trim_start()[key.len()..].trim_start();
    let (value, origin) = rest.split_at(rest.len().min(40));
    (value.trim_end().to_owned(), origin.trim().to_owned())
}

/// A value the option's own parser takes, and that differs from its default where it can: the
/// last possible value of an enumeration, else `7` (a number, a path and a string alike).
fn sample(arg: &clap::Arg) -> String {
    let values = arg.get_possible_values();
    values.last().map_or_else(|| "7".to_owned(), |v| v.get_name().to_owned())
}

#[test]
fn every_serve_option_can_be_set_from_the_file() {
    let dir = support::tempdir();
    let file = dir.path().join("x.toml");
    let at = format!("file {}:2", file.display());
    let mut cli = Cli::command();
    cli.build();
    let serve = cli.find_subcommand("serve").expect("serve").clone();
    let mut seen = 0;
    for arg in serve.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if matches!(long, "help" | "version" | "config") {
            continue;
        }
        let takes_values = arg.get_num_args().is_none_or(|r| r.takes_values());
        let (toml, shown) = match arg.get_action() {
            clap::ArgAction::Count => ("2".to_owned(), "2".to_owned()),
            _ if !takes_values => ("true".to_owned(), "true".to_owned()),
            clap::ArgAction::Append => {
                let v = sample(arg);
                (format!("[{v:?}]"), v)
            }
            _ => {
                let v = sample(arg);
                (format!("{v:?}"), v)
            }
        };
        write_config(&file, &format!("# one option\n{long} = {toml}\n"));
        let out = check(dir.path(), &["--show-config", "--config", file.to_str().expect("utf8")], &[]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The key is taken (a value the daemon would then refuse, such as user 7, is validation's
        // business, reported as `FILE:2: --user …`).
        let refused = format!("{}:2: {long}:", file.display());
        assert!(!stdout.contains(&refused), "{long} = {toml}:\n{stdout}");
        let (value, origin) = row(&stdout, long);
        assert_eq!(origin, at, "{long} = {toml}:\n{stdout}");
        let secret = long.contains("secret") || long.contains("password") || arg.is_hide_env_values_set();
        assert_eq!(value, if secret { "(hidden)".to_owned() } else { shown }, "{long} = {toml}:\n{stdout}");
        seen += 1;
    }
    assert!(seen >= 40, "only {seen} options walked");
}

#[test]
fn the_command_line_beats_the_environment_which_beats_the_file() {
    let dir = support::tempdir();
    let file = dir.path().join("x.toml");
    let f = file.to_str().expect("utf8");
    write_config(
        &file,
        "internal-prefix = \"/from-file\"\nthreads = 3\nbackend = \"apache\"\nstrip-prefix = \"/file\"\n",
    );
    let env = [("XSENDFILED_INTERNAL_PREFIX", "/from-env"), ("XSENDFILED_THREADS", "5")];
    let out = check(dir.path(), &["--show-config", "--config", f, "--internal-prefix", "/from-flag"], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(row(&stdout, "internal-prefix"), ("/from-flag".into(), "flag".into()), "{stdout}");
    assert_eq!(row(&stdout, "threads"), ("5".into(), "env XSENDFILED_THREADS".into()), "{stdout}");
    assert_eq!(row(&stdout, "backend"), ("apache".into(), format!("file {f}:3")), "{stdout}");
    assert_eq!(row(&stdout, "strip-prefix"), ("/file".into(), format!("file {f}:4")), "{stdout}");
    assert_eq!(row(&stdout, "max-connections").1, "default", "{stdout}");
    // The file itself may come from the environment, and a flag set to its default still wins.
    let out = check(dir.path(), &["--show-config", "--backend", "nginx"], &[("XSENDFILED_CONFIG", f)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(row(&stdout, "config"), (f.to_owned(), "env XSENDFILED_CONFIG".into()), "{stdout}");
    assert_eq!(row(&stdout, "backend"), ("nginx".into(), "flag".into()), "{stdout}");
    assert_eq!(row(&stdout, "threads"), ("3".into(), format!("file {f}:2")), "{stdout}");
}

#[test]
fn every_problem_of_the_file_at_once_with_file_line_and_key() {
    let dir = support::tempdir();
    let file = dir.path().join("x.toml");
    write_config(
        &file,
        "# xsendfiled\nroot = [\"/nonexistent/xsendfiled\"]\nintenal-prefix = \"/_protected\"\n\
         backend = \"ngnix\"\nthreads = \"many\"\nallow-hidden = \"yes\"\nlisten = [\"a\", \"b\"]\n\
         idle-timeout = \"soon\"\nverbose = -1\nconfig = \"/etc/other.toml\"\n\n[s3]\nbucket = \"x\"\n",
    );
    let out = check(dir.path(), &["--config", file.to_str().expect("utf8")], &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout).replace(&dir.path().display().to_string(), "<DIR>");
    support::snapshot("config_file_problems.txt", &text);
    // Not TOML at all: one problem, with its line.
    write_config(&file, "root = [\"/srv\"]\nbackend = nginx\n");
    let out = check(dir.path(), &["--config", file.to_str().expect("utf8")], &[]);
    let text = String::from_utf8_lossy(&out.stdout).replace(&dir.path().display().to_string(), "<DIR>");
    support::snapshot("config_file_syntax.txt", &text);
}

#[test]
fn a_file_others_may_write_or_that_is_missing_is_refused() {
    let dir = support::tempdir();
    let file = dir.path().join("x.toml");
    let f = file.to_str().expect("utf8");
    write_config(&file, "internal-prefix = \"/p\"\n");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let out = check(dir.path(), &["--config", f], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("writable by other users (mode 0666)") && stdout.contains("chmod go-w"), "{stdout}");
    let out = check(dir.path(), &["--config", &format!("{f}.missing")], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("No such file"), "{out:?}");
}

#[test]
fn a_redis_password_is_never_shown_and_a_file_holding_one_must_not_be_world_readable() {
    let dir = support::tempdir();
    let url = "redis://:TopSecretPw@127.0.0.1:6379/0";
    let out = check(dir.path(), &["--show-config", "--state", url], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("TopSecretPw") && !String::from_utf8_lossy(&out.stderr).contains("TopSecretPw"),
        "{out:?}"
    );
    assert_eq!(row(&stdout, "state").0, "redis://***@127.0.0.1:6379/0", "{stdout}");
    let file = dir.path().join("x.toml");
    write_config(&file, &format!("state = \"{url}\"\n"));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = check(dir.path(), &["--config", file.to_str().expect("utf8")], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("holds credentials (state)") && stdout.contains("chmod o-r"), "{stdout}");
    assert!(!stdout.contains("TopSecretPw"), "{stdout}");
}

#[test]
fn a_file_owned_by_another_user_or_reached_through_a_symlink_is_refused() {
    let dir = support::tempdir();
    let file = dir.path().join("x.toml");
    let f = file.to_str().expect("utf8");
    write_config(&file, "internal-prefix = \"/p\"\n");
    let link = dir.path().join("link.toml");
    std::os::unix::fs::symlink(&file, &link).expect("symlink");
    let out = check(dir.path(), &["--config", link.to_str().expect("utf8")], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success() && stdout.contains("link.toml") && stdout.contains("symbolic link"), "{stdout}");
    // Tests run as root (see privileges.rs); `nobody` is another user.
    std::os::unix::fs::chown(&file, Some(65534), None).expect("chown nobody");
    let out = check(dir.path(), &["--config", f], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success() && stdout.contains(f) && stdout.contains("owned by nobody"), "{stdout}");
}

#[test]
fn a_daemon_configured_by_the_file_alone_serves_and_says_when_it_has_no_root() {
    if !support::require(&["nginx", "curl"]) {
        return;
    }
    let ws = support::Workspace::new();
    let sock = ws.run.join("x.sock");
    let file = ws.run.join("xsendfiled.toml");
    write_config(&file, "internal-prefix = \"/_protected\"\n# root = [\"/srv/files\"]\n");
    let out = Command::new(support::bin()).args(["--config", file.to_str().expect("utf8")]).output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("no root directory: set root = [\"DIR\"] in {}", file.display())), "{stderr}");
    assert!(stderr.contains("nothing is served until a root is set"), "{stderr}");
    let text = format!(
        "root = [{:?}]\ninternal-prefix = \"/_protected\"\nstrip-prefix = \"/dl\"\nlisten = \"unix:{}\"\n",
        ws.tree.root.display(),
        sock.display()
    );
    write_config(&file, &text);
    let mut d = support::daemon(&ws.run, "xsendfiled", &["--config", file.to_str().expect("utf8")], &[]);
    support::wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
    let port = support::free_port();
    let _n = support::nginx_example("nginx.conf", &ws.run, &ws.tree.root, &format!("unix:{}", sock.display()), port);
    let r = support::curl(&format!("http://127.0.0.1:{port}/dl/plain.txt"), &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"plain\n"[..]), "{}", d.log_text());
}

/// The packaged configuration file (pkg/deb/xsendfiled.toml) with every commented `key = value`
/// line taken in: each names an option and holds a value its parser takes, so the file's advice
/// stays true when options change.
#[test]
fn the_packaged_configuration_file_names_only_real_options() {
    let dir = support::tempdir();
    let packaged = Path::new(env!("CARGO_MANIFEST_DIR")).join("pkg/deb/xsendfiled.toml");
    let text = std::fs::read_to_string(&packaged).expect("packaged file");
    let mut taken = 0;
    let all: String = text
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest)
                if rest
                    .split_once(" = ")
                    .is_some_and(|(k, _)| k.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')) =>
            {
                taken += 1;
                format!("{rest}\n")
            }
            _ => format!("{l}\n"),
        })
        .collect();
    assert!(taken >= 8, "only {taken} commented settings in {}", packaged.display());
    let file = dir.path().join("all.toml");
    write_config(&file, &all);
    let out = check(dir.path(), &["--config", file.to_str().expect("utf8")], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let key_problem = format!("{}:", file.display());
    let refused: Vec<&str> = stdout.lines().filter(|l| l.contains(&key_problem) && !l.contains(": --")).collect();
    assert!(refused.is_empty(), "{refused:?}\n{stdout}");
}
