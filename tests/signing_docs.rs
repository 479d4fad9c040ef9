//! Every signing snippet of docs/signing.md, run with its real interpreter (php-cli, python3, ruby,
//! node, sh + openssl) and checked against `xsendfiled sign` and the verifier, so the
//! documentation cannot drift from the scheme.

use crate::support;

use std::process::Command;
use xsendfiled::guard::token::keys::KeyRing;
use xsendfiled::guard::token::sdl1;

const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const EXP: &str = "1767225600";

/// (language tag, interpreter, file extension) of each snippet.
const LANGS: &[(&str, &str, &str)] = &[
    ("php", "php", "php"),
    ("python", "python3", "py"),
    ("ruby", "ruby", "rb"),
    ("javascript", "node", "js"),
    ("sh", "sh", "sh"),
];

fn snippets() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/signing.md"))
        .expect("docs/signing.md");
    let mut out = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```") {
            let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
            if LANGS.iter().any(|(tag, _, _)| *tag == lang) {
                out.push((lang.to_owned(), body.join("\n") + "\n"));
            }
        }
    }
    out
}

fn cli_sign(keys: &std::path::Path, path: &str) -> String {
    let out = Command::new(support::bin())
        .args(["sign", "--keys"])
        .arg(keys)
        .args(["--expires-at", EXP, path])
        .output()
        .expect("sign");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8").trim().to_owned()
}

#[test]
fn every_snippet_signs_what_xsendfiled_verifies() {
    let tools: Vec<&str> = LANGS.iter().map(|(_, t, _)| *t).chain(["openssl"]).collect();
    if !support::require(&tools) {
        return;
    }
    let found = snippets();
    let langs: Vec<&str> = found.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(langs, ["php", "python", "ruby", "javascript", "sh"], "one snippet per language");
    let dir = support::tempdir();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, format!("k2026a hex:{KEY_HEX}\n")).expect("keys");
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    let ring = KeyRing::load(&keys, false).expect("ring");
    for (lang, code) in found {
        let (_, interpreter, ext) = LANGS.iter().find(|(t, _, _)| *t == lang).expect("lang");
        let file = dir.path().join(format!("snippet.{ext}"));
        std::fs::write(&file, &code).expect("write");
        // Plain shell cannot percent-encode: its snippet is documented for plain ASCII paths.
        let paths: &[&str] = if lang == "sh" {
            &["/dl/sub/in.txt", "/downloads/reports/Q3_resume.pdf"]
        } else {
            &["/downloads/reports/Q3 résumé.pdf", "/dl/dir with space/ä ö.txt", "/dl/q?x#y!(1)*'~.txt", "/dl/100%.txt"]
        };
        for path in paths {
            let out = Command::new(interpreter)
                .arg(&file)
                .env("XSF_KEY_HEX", KEY_HEX)
                .env("XSF_KID", "k2026a")
                .env("XSF_PATH", path)
                .env("XSF_EXP", EXP)
                .output()
                .unwrap_or_else(|e| panic!("{interpreter}: {e}"));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{lang}: {stderr}");
            let link = String::from_utf8(out.stdout).expect("utf8").trim().to_owned();
            assert_eq!(link, cli_sign(&keys, path), "{lang} snippet and `xsendfiled sign` differ for {path:?}");
            let input = sdl1::Input {
                request_uri: Some(link.as_bytes()),
                remote_addr: None,
                now: 1_767_225_600 - 60,
                max_ttl: 86_400,
            };
            let v = sdl1::verify(&ring, &input).unwrap_or_else(|e| panic!("{lang}: {link}: {e}"));
            assert_eq!(v.path, path.as_bytes(), "{lang}");
        }
    }
}
