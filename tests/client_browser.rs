//! Headless Chromium downloads from every client package's app, each behind real nginx with
//! xsendfiled: the Django site with django-sendfile2 and `SENDFILE_BACKEND = "xsendfiled.django"`
//! under gunicorn (tests/clients_python.rs), the Sinatra app with the gem under puma, the PHP-FPM
//! apps with the PHP package and the Express app with the npm package (tests/client_packages.rs),
//! started by the same code as their curl tests. For every app, both ways it names a download (the
//! name handed to xsendfiled, and its own Content-Disposition as `send_file`, `res.download` or a
//! hand-written header sets it), Chromium saves the file under the name the app intended with the
//! bytes of the file, and the reply carries exactly one Content-Disposition (two different ones
//! would make Chromium refuse the download: ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_DISPOSITION).

use crate::browser::{base64_decode, download_all, playwright_core};
use crate::client_packages::{basename, content, express_site, gem_site, get, php_site};
use crate::support;

use support::url_path;

/// Files downloaded from each app (names the apps prefix, so none starts with a dot or ends in a
/// space, which Chromium would change).
const FILES: &[&str] = &[
    "plain.txt",
    "a b.txt",
    "100%.txt",
    "q?x.txt",
    "h#x.txt",
    "%41.txt",
    "ü.txt",
    "是.txt",
    "semi;colon=1&x+y.txt",
    "quote'\"`.txt",
    "dir with space/ä ö.txt",
    "page.html",
];

/// The name Chromium saves `intended` under: it replaces `"` and `?` (illegal in Windows file
/// names) and keeps the rest, so the header was parsed as sent.
fn saved_as(intended: &str) -> String {
    intended.replace(['"', '?'], "_")
}

/// One way an app names a download: a label, the app's URL for a file (percent-encoded), and the
/// name the app intends for it.
struct Way {
    label: &'static str,
    url: Box<dyn Fn(&str) -> String>,
    name: fn(&str) -> String,
}

fn alices(file: &str) -> String {
    format!("Alice's {}", basename(file))
}

fn report_of(file: &str) -> String {
    format!("Report of {}", basename(file))
}

fn chosen_by_app(_: &str) -> String {
    "chosen-by-app.txt".to_owned()
}

fn way(label: &'static str, base: String, suffix: &'static str, name: fn(&str) -> String) -> Way {
    Way { label, url: Box::new(move |q| format!("{base}{q}{suffix}")), name }
}

#[test]
fn chromium_saves_each_client_apps_downloads_under_the_intended_names() {
    if !support::require(&[
        "nginx",
        "curl",
        "node",
        "/usr/bin/chromium",
        "puma",
        "ruby",
        "python3",
        support::app::PHP_FPM,
    ]) {
        return;
    }
    let pw = playwright_core();
    let workspaces: Vec<support::Workspace> = (0..4).map(|_| support::Workspace::new()).collect();
    let django = crate::clients_python::django_site(
        &workspaces[0],
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/python/tests"),
        &support::conf_example("nginx-app-delegation-proxy.conf"),
        "django",
    );
    let (sinatra, _sinatra) = gem_site(&workspaces[1]);
    let (php, _php) = php_site(&workspaces[2], ["download_package.php", "send_file_package.php"], &[]);
    let (express, _express) = express_site(&workspaces[3]);
    let at = |port: u16, path: &str| format!("http://127.0.0.1:{port}/{path}");
    let ways = [
        // django-sendfile2's sendfile(..., attachment_filename=...): the app's own header.
        way("django sendfile", at(django.port, "download?file="), "", alices),
        way("sinatra delegate", at(sinatra, "download?file="), "", alices),
        way("sinatra own header", at(sinatra, "download?file="), "&own=1", chosen_by_app),
        way("sinatra send_file", at(sinatra, "download?file="), "&via=send_file", report_of),
        way("php delegate", at(php, "download?file="), "", alices),
        way("php own header", at(php, "send-file?file="), "", report_of),
        way("express sendFile", at(express, "download?file="), "", alices),
        way("express own header", at(express, "download?file="), "&own=1", chosen_by_app),
        way("express res.download", at(express, "download?file="), "&via=download", report_of),
    ];
    // (way, file, URL)
    let mut cases = Vec::new();
    for w in &ways {
        for file in FILES {
            cases.push((w, *file, (w.url)(&url_path(file.as_bytes()))));
        }
    }
    // Exactly one Content-Disposition on the wire, and the app's cookie needed.
    for (w, file, url) in &cases {
        let r = get(url, &["--head"]);
        assert_eq!(r.status, 200, "{}: {file}: {r:?}", w.label);
        assert_eq!(r.header_count("Content-Disposition"), 1, "{}: {file}: {r:?}", w.label);
    }
    let urls: Vec<String> = cases.iter().map(|c| c.2.clone()).collect();
    let cookies: Vec<serde_json::Value> = [django.port, sinatra, php, express]
        .iter()
        .map(|p| serde_json::json!({ "name": "session", "value": "alice", "url": at(*p, "") }))
        .collect();
    let results = download_all(&pw, &urls, Some(&serde_json::Value::Array(cookies)));
    assert_eq!(results.len(), cases.len());
    let mut wrong = Vec::new();
    for ((w, file, _), got) in cases.iter().zip(&results) {
        // django-sendfile2 writes an ASCII name only as `filename="Alice's %41.txt"`, which
        // Chromium percent-decodes (`A.txt`); the Django backend moves the name into the trusted
        // query, so xsendfiled's own Content-Disposition names the file here too.
        let want = saved_as(&(w.name)(file));
        let bytes = base64_decode(got["bytes"].as_str().expect("bytes"));
        if got["name"].as_str() != Some(want.as_str()) || bytes != content(file).as_bytes() {
            wrong.push(format!("{}: {file}: want {want:?}, got {got}", w.label));
        }
    }
    assert!(wrong.is_empty(), "saved under other names or with other bytes:\n{}", wrong.join("\n"));
}
