//! Apache httpd over an object root: mod_fcgid runs xsendfiled (`--backend local-redirect`), whose
//! CGI local redirect carries the presigned path and query to a `ProxyPass … nocanon` location
//! (`conf-examples/apache-s3.conf`), in front of a real S3 server that verifies every signature
//! (s3s-fs): the tricky names byte-exact, xsendfiled's headers and none of the store's.

use crate::e2e_servers::{chown_to_server_user, server_user};
use crate::support;

use support::s3::{self, ACCESS_KEY, SECRET_KEY};
use support::{conf_example, curl, fill_template, url_path, wait_until, SERVABLE};

const BUCKET: &str = "files";

#[test]
fn apache_proxies_presigned_urls_byte_exact_after_a_local_redirect() {
    if !support::require(&["apache2", "/usr/lib/apache2/modules/mod_fcgid.so", "curl"]) {
        return;
    }
    let dir = support::tempdir();
    let Some(store) = s3::start(&dir.path().join("store"), &[BUCKET]) else { return };
    for (name, body) in SERVABLE {
        store.put(BUCKET, name, body.as_bytes());
    }
    store.put(BUCKET, &"L".repeat(255), b"long name\n");
    store.put(BUCKET, ".hidden", b"hidden\n");
    let run = dir.path().join("run");
    std::fs::create_dir_all(run.join("htdocs")).expect("mkdir");
    let ipc = run.join("fcgid");
    std::fs::create_dir_all(&ipc).expect("mkdir");
    chown_to_server_user(&ipc);
    // The keys in a shared credentials file Apache's user can read, never in the config.
    let credentials = run.join("aws-credentials");
    std::fs::write(
        &credentials,
        format!("[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"),
    )
    .expect("credentials");
    chown_to_server_user(&credentials);
    let port = support::free_port();
    let user = server_user();
    let conf = fill_template(
        &conf_example("apache-s3.conf"),
        &[
            ("APACHE_USER", user.clone()),
            ("APACHE_GROUP", user),
            ("RUN_DIR", run.display().to_string()),
            ("PORT", port.to_string()),
            ("XSENDFILED_BIN", support::bin().to_owned()),
            ("S3_ENDPOINT", store.endpoint()),
            ("BUCKET", BUCKET.to_owned()),
            ("CREDENTIALS", credentials.display().to_string()),
        ],
    );
    let path = run.join("apache-s3.conf");
    std::fs::write(&path, conf).expect("write");
    let mut cmd = std::process::Command::new("apache2");
    cmd.arg("-f").arg(&path).arg("-DFOREGROUND");
    let mut apache = support::spawn(cmd, "apache2", &run.join("apache2.stderr"));
    wait_until("apache2", Some(&mut apache), || support::tcp_up(port));
    let base = format!("http://127.0.0.1:{port}");
    let long = "L".repeat(255);
    let mut table: Vec<(&str, &[u8])> = SERVABLE.iter().map(|(n, b)| (*n, b.as_bytes())).collect();
    table.push((&long, b"long name\n"));
    let error_log = || std::fs::read_to_string(run.join("apache-error.log")).unwrap_or_default();
    for (name, body) in &table {
        let r = curl(&format!("{base}/dl/{}", url_path(name.as_bytes())), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, *body), "{name:?}: {r:?}\n{}", error_log());
        let want = support::matrix::expected_type(name).unwrap_or("application/octet-stream");
        assert_eq!(r.header("Content-Type"), Some(want), "{name:?}: xsendfiled's type, through the signature");
        assert_eq!(r.header_count("Content-Disposition"), 1, "{name:?}: {r:?}");
        for (h, _) in &r.headers {
            let h = h.to_ascii_lowercase();
            assert!(!h.starts_with("x-amz-") && h != "location", "{name:?}: {h}");
        }
    }
    let r = curl(&format!("{base}/dl/semi%3Bcolon%3D1%26x%2By.txt"), &["-H", "Range: bytes=4-7"]);
    assert_eq!((r.status, r.body.as_slice()), (206, &b"deli"[..]), "{r:?}");
    for missing in ["/dl/missing.txt", "/dl/.hidden"] {
        let r = curl(&format!("{base}{missing}"), &[]);
        assert_eq!(r.status, 404, "{missing}: {r:?}");
        assert!(!String::from_utf8_lossy(&r.body).contains("<Error>"), "{missing}: no S3 XML");
    }
    // The proxy location is reachable only through xsendfiled's redirect.
    let r = curl(&format!("{base}/_s3/{BUCKET}/plain.txt"), &[]);
    assert_eq!(r.status, 403, "{r:?}");
    // An object deleted after its HEAD was cached: the store's 404, Apache's page, no XML.
    assert_eq!(curl(&format!("{base}/dl/data.json"), &[]).status, 200);
    std::fs::remove_file(store.dir.join(BUCKET).join("data.json")).expect("delete");
    let r = curl(&format!("{base}/dl/data.json"), &[]);
    assert!(r.status == 404 && !String::from_utf8_lossy(&r.body).contains("<Error>"), "{r:?}");
    drop(apache);
}
