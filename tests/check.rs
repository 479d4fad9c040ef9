//! `xsendfiled check`, snapshot-tested: the problem list of a broken configuration, the summary of
//! a valid one, and the step-by-step explanation of decisions. Paths of the temporary tree are
//! written `<ROOT>`. `SNAPSHOTS=overwrite cargo test --test e2e check::` rewrites the snapshots.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use support::{snapshot, Tree};

fn run(args: &[&str], root: &std::path::Path) -> (i32, String) {
    let out = Command::new(support::bin())
        .arg("check")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("run");
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_owned());
    let text = String::from_utf8_lossy(&out.stdout)
        .replace(&canonical.display().to_string(), "<ROOT>")
        .replace(&root.display().to_string(), "<ROOT>");
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn every_problem_at_once() {
    let dir = support::tempdir();
    let (code, out) = run(
        &[
            "--root",
            "/nonexistent/xsendfiled",
            "--internal-prefix",
            "no-slash",
            "--listen",
            "somewhere",
            "--threads",
            "0",
            "--idle-timeout",
            "soon",
            "--disposition",
            "sometimes",
            "--require-signature",
        ],
        dir.path(),
    );
    assert_eq!(code, 1);
    snapshot("check_problems.txt", &out);
}

#[test]
fn decisions_explained() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "k1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n").expect("keys");
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let root = tree.root.to_str().expect("utf8");
    let k = keys.to_str().expect("utf8");
    let base = ["--root", root, "--internal-prefix", "/_protected", "--strip-prefix", "/dl", "--keys", k];
    let (code, out) = run(
        &[
            &base[..],
            &[
                "--max-link-lifetime",
                "36500d",
                "/dl/a%20b.txt",
                "/dl/link-in.txt",
                "/dl/archive.tar.gz",
                "/dl/page.html",
                "/dl/.hidden",
                "/dl/link-sibling",
                "/elsewhere/plain.txt",
                "/dl/missing.txt",
            ],
        ]
        .concat(),
        &tree.root,
    );
    assert_eq!(code, 0, "{out}");
    snapshot("check_explain.txt", &out);
    // The same with signed links required by the server's parameter: missing, then valid.
    let link = Command::new(support::bin())
        .args(["sign", "--keys", k, "--expires-at", "@4102444800", "--filename", "Résumé.txt", "/dl/plain.txt"])
        .output()
        .expect("sign");
    let link = String::from_utf8(link.stdout).expect("utf8").trim().to_owned();
    let (code, out) = run(
        &[&base[..], &["--max-link-lifetime", "36500d", "--param", "XSENDFILED_AUTH=signed", "/dl/plain.txt", &link]]
            .concat(),
        &tree.root,
    );
    assert_eq!(code, 0, "{out}");
    snapshot("check_signed.txt", &out);
}

/// A name reached through a symlink is printed escaped: ESC, BEL, CR and LF in it cannot forge a
/// line of the report or send a terminal escape sequence.
#[test]
fn names_with_control_characters_are_escaped() {
    let dir = support::tempdir();
    let tree = Tree::create(dir.path());
    let evil = "evil\u{1b}]0;owned\u{7}\r\n  decision       send\u{9b}x.txt";
    std::fs::write(tree.root.join(evil), "x").expect("write");
    std::os::unix::fs::symlink(evil, tree.root.join("nice.txt")).expect("symlink");
    let root = tree.root.to_str().expect("utf8");
    let (code, out) = run(&["--root", root, "--internal-prefix", "/p", "/nice.txt"], &tree.root);
    assert_eq!(code, 0, "{out}");
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "a raw control character reached the output: {out:?}");
    assert!(out.contains(r"evil\u{1b}]0;owned\u{7}\r\n  decision       send\u{9b}x.txt"), "{out}");
    assert_eq!(out.matches("decision       send").count(), 2, "one real decision line, one escaped name: {out}");
}
