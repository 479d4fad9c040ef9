//! The shared SDL1 test vectors of `clients/vectors/sdl1.json`, which every client package runs,
//! checked against the real binary so the file cannot drift from the daemon:
//!
//! - every `sign` case: its `url` is exactly what `xsendfiled sign` prints for its fields, its
//!   `canonical` string is the one docs/sdl1.md defines for those fields (built here again from the
//!   specification) and its HMAC is the URL's `sig`;
//! - every `refuse` case: `xsendfiled sign` refuses it;
//! - every `verify` case: the daemon, run as a CGI program with the case's `REQUEST_URI` and
//!   `REMOTE_ADDR` under libfaketime at the case's `now` (with a SQLite state store, so a valid
//!   link with `uses` is granted), answers the case's `status`.
//!
//! Only the command line is used, never the library's paths.

use crate::support;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn vectors() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/vectors/sdl1.json");
    serde_json::from_str(&std::fs::read_to_string(&p).expect("clients/vectors/sdl1.json")).expect("JSON")
}

fn s<'a>(case: &'a Value, field: &str) -> Option<&'a str> {
    case.get(field).and_then(Value::as_str)
}

fn n(case: &Value, field: &str) -> Option<u64> {
    case.get(field).and_then(Value::as_u64)
}

/// The key file of the vectors, mode 0600, in `dir`.
fn key_file(v: &Value, dir: &Path) -> PathBuf {
    let path = dir.join("keys");
    let text: String = v["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| format!("{} hex:{}\n", s(k, "kid").expect("kid"), s(k, "secret_hex").expect("secret")))
        .collect();
    std::fs::write(&path, text).expect("write keys");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    path
}

fn secret(v: &Value, kid: &str) -> Vec<u8> {
    let hex = v["keys"].as_array().expect("keys").iter().find(|k| s(k, "kid") == Some(kid)).expect("kid")["secret_hex"]
        .as_str()
        .expect("hex")
        .to_owned();
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect()
}

/// `xsendfiled sign` with the case's fields.
fn cli_sign(keys: &Path, case: &Value) -> Output {
    let mut cmd = Command::new(support::bin());
    cmd.args(["sign", "--keys"]).arg(keys);
    cmd.args(["--kid", s(case, "kid").expect("kid"), "--expires-at", &n(case, "exp").expect("exp").to_string()]);
    if let Some(nbf) = n(case, "nbf") {
        cmd.args(["--not-before-at", &nbf.to_string()]);
    }
    for (field, option) in
        [("prefix", "--prefix"), ("network", "--ip"), ("filename", "--filename"), ("disposition", "--disposition")]
    {
        if let Some(value) = s(case, field) {
            cmd.args([option, value]);
        }
    }
    for (field, option) in [("id", "--id"), ("uses", "--uses"), ("gw", "--grant-window")] {
        if let Some(value) = s(case, field).map(str::to_owned).or_else(|| n(case, field).map(|v| v.to_string())) {
            let value = if field == "gw" { format!("{value}s") } else { value };
            cmd.args([option, &value]);
        }
    }
    cmd.args(["--", s(case, "path").expect("path")]);
    cmd.env_remove("XSENDFILED_KEYS").output().expect("xsendfiled sign")
}

/// The canonical string of docs/sdl1.md, built from a case's fields.
fn canonical(case: &Value) -> String {
    let mut lines: Vec<String> = vec![
        "SDL1-HMAC-SHA256".into(),
        s(case, "kid").expect("kid").into(),
        n(case, "exp").expect("exp").to_string(),
        n(case, "nbf").map(|v| v.to_string()).unwrap_or_default(),
        s(case, "network").unwrap_or_default().into(),
    ];
    if let Some(f) = s(case, "filename") {
        lines.extend(["fn".into(), B64.encode(f)]);
    }
    if let Some(d) = s(case, "disposition") {
        lines.extend(["disp".into(), d.into()]);
    }
    lines.extend(limit_claims(case));
    match s(case, "prefix") {
        Some(p) => lines.extend(["prefix".into(), p.into()]),
        None => lines.extend(["path".into(), s(case, "path").expect("path").into()]),
    }
    lines.join("\n")
}

/// The `id`, `uses` and `gw` claims of a case, each as its name and value, in that order.
fn limit_claims(case: &Value) -> Vec<String> {
    let id = s(case, "id").map(str::to_owned);
    let uses = n(case, "uses").map(|v| v.to_string());
    let gw = n(case, "gw").map(|v| v.to_string());
    [("id", id), ("uses", uses), ("gw", gw)]
        .into_iter()
        .filter_map(|(k, v)| Some([k.to_owned(), v?]))
        .flatten()
        .collect()
}

/// The URL's query parameters in order.
fn params(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query.split('&').map(|p| p.split_once('=').unwrap_or((p, ""))).map(|(k, v)| (k.into(), v.into())).collect()
}

#[test]
fn every_sign_case_is_what_xsendfiled_sign_prints_and_its_canonical_string_signs() {
    let v = vectors();
    let dir = support::tempdir();
    let keys = key_file(&v, dir.path());
    let cases = v["sign"].as_array().expect("sign");
    assert!(cases.len() >= 30, "the vectors cover every claim and the tricky paths");
    for case in cases {
        let name = s(case, "name").expect("name");
        let out = cli_sign(&keys, case);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let url = String::from_utf8(out.stdout).expect("utf8").trim().to_owned();
        assert_eq!(Some(url.as_str()), s(case, "url"), "{name}: `xsendfiled sign` prints another URL");
        let canon = canonical(case);
        assert_eq!(Some(canon.as_str()), s(case, "canonical"), "{name}: canonical string");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret(&v, s(case, "kid").expect("kid"))).expect("key");
        mac.update(canon.as_bytes());
        let sig = B64.encode(mac.finalize().into_bytes());
        // The query: exp, kid, then each claim present in a fixed order, sig last.
        let mut want = vec![
            ("exp".to_owned(), n(case, "exp").expect("exp").to_string()),
            ("kid".to_owned(), s(case, "kid").expect("kid").to_owned()),
        ];
        if let Some(nbf) = n(case, "nbf") {
            want.push(("nbf".into(), nbf.to_string()));
        }
        if let Some(p) = s(case, "prefix") {
            want.push(("pfx".into(), B64.encode(p)));
        }
        if let Some(net) = s(case, "network") {
            want.push(("ipm".into(), net.rsplit_once('/').expect("CIDR").1.to_owned()));
        }
        if let Some(f) = s(case, "filename") {
            want.push(("fn".into(), B64.encode(f)));
        }
        if let Some(d) = s(case, "disposition") {
            want.push(("disp".into(), d.to_owned()));
        }
        for pair in limit_claims(case).chunks(2) {
            want.push((pair[0].clone(), pair[1].clone()));
        }
        want.push(("sig".into(), sig));
        assert_eq!(params(&url), want, "{name}: query");
        let path = s(case, "path").expect("path");
        assert_eq!(url.split_once('?').expect("query").0, support::url_path(path.as_bytes()), "{name}: URL path");
    }
}

#[test]
fn every_refuse_case_is_refused_by_xsendfiled_sign() {
    let v = vectors();
    let dir = support::tempdir();
    let keys = key_file(&v, dir.path());
    for case in v["refuse"].as_array().expect("refuse") {
        let out = cli_sign(&keys, case);
        assert!(!out.status.success(), "{}: signed {:?}", s(case, "name").expect("name"), out.stdout);
    }
}

/// Decodes `%XX` escapes once (a malformed one is kept as it is).
fn percent_decode(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = raw.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (raw[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) if hex.is_some_and(|h| h.bytes().all(|c| c.is_ascii_hexdigit())) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// `YYYY-MM-DD hh:mm:ss` (UTC) of a Unix time, for libfaketime.
fn utc(t: u64) -> String {
    let (year, month, day, hh, mm, ss) = support::civil(t);
    format!("{year:04}-{month:02}-{day:02} {hh:02}:{mm:02}:{ss:02}")
}

#[test]
fn utc_dates_for_faketime() {
    assert_eq!(utc(0), "1970-01-01 00:00:00");
    assert_eq!(utc(1_767_225_600), "2026-01-01 00:00:00");
    assert_eq!(utc(1_767_220_000), "2025-12-31 22:26:40");
    assert_eq!(utc(951_782_400), "2000-02-29 00:00:00");
}

/// The daemon's answer, as a CGI program, to `GET uri` from `remote` at `now` (a link with `uses`
/// counted in the SQLite file `state`).
fn daemon_status(root: &Path, keys: &Path, state: &Path, uri: &str, remote: &str, now: u64) -> (u16, String) {
    let raw_path = uri.split('?').next().unwrap_or_default().as_bytes();
    let decoded = percent_decode(raw_path);
    // The server passes the decoded path (a NUL cannot be passed at all: give the raw one).
    let path_info: &[u8] = if decoded.contains(&0) { raw_path } else { &decoded };
    let out = Command::new("faketime")
        .args(["-f", &utc(now)])
        .arg(support::bin())
        .env_clear()
        .env("TZ", "UTC")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("REQUEST_METHOD", "GET")
        .env("REQUEST_URI", uri)
        .env("PATH_INFO", OsStr::from_bytes(path_info))
        .env("REMOTE_ADDR", remote)
        .env("XSENDFILED_ROOT", root)
        .env("XSENDFILED_INTERNAL_PREFIX", "/_protected")
        .env("XSENDFILED_KEYS", keys)
        .env("XSENDFILED_REQUIRE_SIGNATURE", "1")
        .env("XSENDFILED_STATE", state)
        .stdin(Stdio::null())
        .output()
        .expect("faketime xsendfiled");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = match stdout.strip_prefix("Status: ") {
        Some(rest) => rest.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0),
        None if stdout.starts_with("X-Accel-Redirect: /_protected/") => 200,
        None => 0,
    };
    (status, format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn every_verify_case_is_the_daemons_answer() {
    if !support::require(&["faketime"]) {
        return;
    }
    let v = vectors();
    let dir = support::tempdir();
    let keys = key_file(&v, dir.path());
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).expect("root");
    let cases = v["verify"].as_array().expect("verify");
    // Every file a link allows exists, so the answer is the link's verdict.
    for case in cases.iter().filter(|c| n(c, "status") == Some(200)) {
        let path = percent_decode(s(case, "uri").expect("uri").split('?').next().unwrap_or_default().as_bytes());
        let file = root.join(OsStr::from_bytes(&path[1..]));
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, b"x\n").expect("write");
    }
    let statuses: Vec<u64> = cases.iter().filter_map(|c| n(c, "status")).collect();
    for want in [200, 403, 410] {
        assert!(statuses.contains(&want), "a verify case answered {want}");
    }
    let mut wrong = Vec::new();
    for case in cases {
        let name = s(case, "name").expect("name");
        let (uri, remote) = (s(case, "uri").expect("uri"), s(case, "remote_addr").expect("remote_addr"));
        let (got, output) =
            daemon_status(&root, &keys, &dir.path().join("state.db"), uri, remote, n(case, "now").expect("now"));
        if u64::from(got) != n(case, "status").expect("status") {
            wrong.push(format!("{name}: {uri} from {remote}: want {}, got {got}\n{output}", case["status"]));
        }
    }
    assert!(wrong.is_empty(), "{} of {} verify cases differ:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}
