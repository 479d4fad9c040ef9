//! `xsendfiled doctor` against a real nginx: `conf-examples/nginx.conf` as shipped gets a clean
//! bill, and each deliberately broken copy (one mistake each) gets its diagnosis. The reports
//! are snapshot-tested. (A dropped Content-Disposition has no nginx copy: nginx copies it from an
//! X-Accel-Redirect reply whatever `fastcgi_hide_header` says; that rule is tested in
//! `src/cmd/doctor/tests.rs`.) The reports (`tests/snapshots/doctor.txt`; `SNAPSHOTS=overwrite cargo test --test e2e
//! doctor::` rewrites it), with the temp directory written `<BASE>` and ports `<PORT>`.

use crate::support::{self, snapshot, wait_until, Workspace};

/// One copy of the example: its name, the edit that breaks it, and the line the report must have.
struct Broken {
    name: &'static str,
    edit: fn(String) -> String,
    expect: &'static str,
}

fn replace_once(conf: String, from: &str, to: &str) -> String {
    assert!(conf.contains(from), "the example no longer contains {from:?}");
    conf.replacen(from, to, 1)
}

const BROKEN: &[Broken] = &[
    Broken { name: "as shipped", edit: |c| c, expect: "verdict        clean" },
    Broken {
        name: "no `internal`",
        edit: |c| replace_once(c, "            internal;\n", ""),
        expect: "is publicly reachable",
    },
    Broken {
        name: "alias without its trailing slash",
        edit: |c| replace_once(c, "root/;\n            # xsendfiled names", "root;\n            # xsendfiled names"),
        expect: "without a trailing slash",
    },
    Broken {
        name: "internal location under another prefix",
        edit: |c| replace_once(c, "location /_protected/ {", "location /_files/ {"),
        expect: "no location matches the internal URI",
    },
    Broken {
        name: "alias pointing at another directory",
        edit: |c| {
            replace_once(c, "root/;\n            # xsendfiled names", "root-old/;\n            # xsendfiled names")
        },
        expect: "sent another file",
    },
    Broken {
        name: "no fastcgi_params",
        edit: |c| {
            replace_once(c, "            include /etc/nginx/fastcgi_params;\n            fastcgi_pass xsendfiled;\n            fastcgi_keep_conn on;", "            fastcgi_pass xsendfiled;")
        },
        expect: "no DOCUMENT_URI or PATH_INFO",
    },
    Broken {
        name: "the download location rewrites the path",
        edit: |c| {
            replace_once(
                c,
                "            fastcgi_keep_conn on;",
                "            fastcgi_keep_conn on;\n            rewrite ^/dl/(.*)$ /files/$1 break;",
            )
        },
        expect: "--strip-prefix does not match",
    },
];

/// Runs the doctor for `url` with the example's daemon options for `root`; its exit code and report.
fn doctor(root: &std::path::Path, url: &str, conf: Option<&std::path::Path>) -> (i32, String) {
    let mut cmd = std::process::Command::new(support::bin());
    cmd.arg("doctor").args(support::guard_args(root, None)).arg(url);
    if let Some(c) = conf {
        cmd.arg("--nginx-conf").arg(c);
    }
    let out = cmd.env_remove("GATEWAY_INTERFACE").output().expect("doctor");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn each_broken_nginx_conf_gets_its_diagnosis() {
    if !support::require(&["nginx"]) {
        return;
    }
    let ws = Workspace::new();
    let old = ws.tree.base.join("root-old");
    std::fs::create_dir_all(&old).expect("mkdir");
    std::fs::write(old.join("plain.txt"), "an older plain file\n").expect("write");
    let xport = support::free_port();
    let args = support::guard_args(&ws.tree.root, Some(&format!("127.0.0.1:{xport}")));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = support::daemon(&ws.run, "xsendfiled", &argv, &[]);
    wait_until("xsendfiled", Some(&mut d), || support::tcp_up(xport));
    let mut report = String::new();
    for b in BROKEN {
        let run = ws.run.join(b.name.replace([' ', '`'], "-"));
        let port = support::free_port();
        let conf = (b.edit)(filled(&run, &ws.tree.root, xport, port));
        let _n = support::nginx(&run, &conf, port);
        let (code, out) =
            doctor(&ws.tree.root, &format!("http://127.0.0.1:{port}/dl/plain.txt"), Some(&run.join("nginx.conf")));
        assert!(out.contains(b.expect), "{}: expected {:?} in\n{out}", b.name, b.expect);
        assert_eq!(code, if b.name == "as shipped" { 0 } else { 1 }, "{}: {out}", b.name);
        report.push_str(&format!("=== {}\n{}", b.name, normalize(&out, &ws.tree.base, &[port, xport])));
    }
    // A symlink on the way to the root, with disable_symlinks checking the whole path.
    let link = ws.tree.base.join("root-link");
    std::os::unix::fs::symlink(&ws.tree.root, &link).expect("symlink");
    let port = support::free_port();
    let run = ws.run.join("symlinks");
    let conf = filled(&run, &link, xport, port);
    let conf = replace_once(conf, "disable_symlinks on from=$document_root;", "disable_symlinks on;");
    let _n = support::nginx(&run, &conf, port);
    let (code, out) = doctor(&link, &format!("http://127.0.0.1:{port}/dl/plain.txt"), None);
    assert!(out.contains("disable_symlinks"), "{out}");
    assert_eq!(code, 1);
    report.push_str(&format!(
        "=== symlinked root under disable_symlinks\n{}",
        normalize(&out, &ws.tree.base, &[port, xport])
    ));
    snapshot("doctor.txt", &report);
}

/// The example filled for this test.
fn filled(run: &std::path::Path, root: &std::path::Path, xport: u16, port: u16) -> String {
    support::fill_template(
        &support::conf_example("nginx.conf"),
        &[
            ("NGINX_USER", support::nginx_user()),
            ("RUN_DIR", run.display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM", format!("127.0.0.1:{xport}")),
            ("ROOT", root.display().to_string()),
        ],
    )
}

fn normalize(out: &str, base: &std::path::Path, ports: &[u16]) -> String {
    let mut s = out.replace(&base.display().to_string(), "<BASE>");
    for p in ports {
        s = s.replace(&format!(":{p}"), ":<PORT>");
    }
    s
}
