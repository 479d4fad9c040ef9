//! Dates and durations at the edge: no file time, configured or trusted expiry, or signed-link
//! time may end the daemon (it runs with `panic = "abort"`, so a panic on the request path would).
//! A file touched to the year 10000 is served by the `serve` and `apache` backends with a
//! `Last-Modified` no later than now; an `--expires` past the limit is refused at start and by
//! `check`; a trusted `expires=` past it is ignored; a proptest drives every such input through
//! the decision and the rendering.

use crate::support;

use proptest::prelude::*;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::fcgi_client::*;
use support::wait_until;
use xsendfiled::guard::decide::decide_at;
use xsendfiled::guard::{Backend, Policy};
use xsendfiled::protocol::request::Request;

/// 10000-01-01T00:00:00Z, the first second `httpdate` cannot format.
const YEAR_10000: u64 = 253_402_300_800;
/// The expiry the reviewer used: about 9500 years.
const HUGE_EXPIRES: &str = "300000000000";

/// A root on tmpfs (ext4 cannot store a time past 2446) holding `future.txt`, touched to the
/// year 10000, and `plain.txt`.
fn tmpfs_tree() -> tempfile::TempDir {
    assert!(support::require(&["touch"]));
    let dir = tempfile::Builder::new().prefix("xsendfiled-dates").tempdir_in("/dev/shm").expect("a tmpfs at /dev/shm");
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(root.join("future.txt"), "from the future\n").expect("write");
    std::fs::write(root.join("plain.txt"), "plain\n").expect("write");
    let st = Command::new("touch")
        .arg("-d")
        .arg(format!("@{YEAR_10000}"))
        .arg(root.join("future.txt"))
        .status()
        .expect("touch");
    assert!(st.success(), "touch -d @{YEAR_10000}");
    let mtime = std::fs::metadata(root.join("future.txt")).expect("stat").modified().expect("mtime");
    assert_eq!(mtime, UNIX_EPOCH + Duration::from_secs(YEAR_10000), "the file system kept the year 10000");
    dir
}

fn get(sock: &Path, uri: &[u8], extra: &[(&[u8], &[u8])]) -> String {
    let mut s = UnixStream::connect(sock).expect("connect");
    let mut pairs = nginx_params(b"GET", uri);
    pairs.extend_from_slice(extra);
    s.write_all(&request(1, false, &pairs)).expect("write");
    let raw = support::read_all_timeout(&mut s, Duration::from_secs(5));
    let (recs, _) = parse(&raw);
    assert!(recs.iter().any(|r| r.kind == END), "no END_REQUEST");
    String::from_utf8_lossy(&stdout_of(&recs, 1)).into_owned()
}

fn header<'a>(reply: &'a str, name: &str) -> Option<&'a str> {
    let head = reply.split("\r\n\r\n").next().unwrap_or_default();
    head.split("\r\n").find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
}

fn http_date_secs(v: &str) -> u64 {
    httpdate::parse_http_date(v).expect("an IMF-fixdate").duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
}

#[test]
fn a_file_from_the_year_10000_and_a_huge_trusted_expiry_leave_the_daemon_up() {
    let dir = tmpfs_tree();
    let root = dir.path().join("root");
    for backend in ["serve", "apache"] {
        let sock = dir.path().join(format!("{backend}.sock"));
        let args = [
            "--backend",
            backend,
            "--root",
            root.to_str().expect("utf8"),
            "--listen",
            &format!("unix:{}", sock.display()),
        ];
        let mut d = support::daemon(dir.path(), &format!("xsendfiled-{backend}"), &args, &[]);
        wait_until("xsendfiled", Some(&mut d), || support::unix_up(&sock));
        for round in 0..3 {
            let r = get(&sock, b"/future.txt", &[]);
            assert!(r.starts_with("Status: 200 OK\r\n"), "{backend} round {round}: {r}");
            let lm = header(&r, "Last-Modified").expect("Last-Modified");
            assert!(http_date_secs(lm) <= now_secs(), "{backend}: Last-Modified {lm} is later than now");
            if backend == "serve" {
                assert!(r.ends_with("\r\n\r\nfrom the future\n"), "{r}");
            } else {
                assert!(header(&r, "X-Sendfile").is_some_and(|p| p.ends_with("/future.txt")), "{r}");
            }
            // A conditional request with the date we sent: not modified since.
            let ims = lm.to_owned();
            let c = get(&sock, b"/future.txt", &[(b"HTTP_IF_MODIFIED_SINCE", ims.as_bytes())]);
            assert!(c.starts_with("Status: 200 OK\r\n") || c.starts_with("Status: 304"), "{c}");
        }
        // A trusted expiry of 9500 years is ignored (with a warning), a sane one is sent.
        let r = get(&sock, b"/plain.txt", &[(b"XSENDFILED_EXPIRES", HUGE_EXPIRES.as_bytes())]);
        assert!(r.starts_with("Status: 200 OK\r\n"), "{r}");
        assert_eq!(header(&r, "Expires"), None, "{r}");
        let r = get(&sock, b"/plain.txt", &[(b"XSENDFILED_EXPIRES", b"3600")]);
        let exp = http_date_secs(header(&r, "Expires").expect("Expires"));
        assert!(exp.abs_diff(now_secs() + 3600) <= 5, "{r}");
        assert!(d.wait_exit(Duration::from_millis(1)).is_none(), "{backend}: the daemon is still running");
        assert!(get(&sock, b"/plain.txt", &[]).starts_with("Status: 200 OK\r\n"), "{backend}: still serving");
        assert!(d.log_text().contains("ignoring expires 300000000000"), "{}", d.log_text());
    }
}

#[test]
fn an_expires_past_the_limit_is_refused_at_start_and_by_check() {
    let dir = support::tempdir();
    let root = dir.path().to_str().expect("utf8").to_owned();
    let base = ["--backend", "serve", "--root", &root];
    for (how, value) in
        [("env", HUGE_EXPIRES), ("env", "3651d"), ("arg", HUGE_EXPIRES), ("arg", "18446744073709551615")]
    {
        for check in [true, false] {
            let mut cmd = Command::new(support::bin());
            cmd.env_remove("GATEWAY_INTERFACE").env_remove("XSENDFILED_EXPIRES");
            if check {
                cmd.arg("check");
            }
            cmd.args(base);
            if how == "env" {
                cmd.env("XSENDFILED_EXPIRES", value);
            } else {
                cmd.args(["--expires", value]);
            }
            // Without --listen and not under a launcher, the daemon would listen on fd 0: give it a
            // socket path so that a configuration that passed would keep running (and be caught).
            let sock = dir.path().join("never.sock");
            if !check {
                cmd.args(["--listen", &format!("unix:{}", sock.display())]);
            }
            let mut child = cmd
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("run");
            let start = std::time::Instant::now();
            let status = loop {
                if let Some(s) = child.try_wait().expect("wait") {
                    break s;
                }
                if start.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("{how} {value} (check {check}): accepted, still running");
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let out = child.wait_with_output().expect("output");
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(!status.success(), "{how} {value} (check {check}) was accepted:\n{text}");
            assert!(
                text.contains("--expires") && text.contains(": at most 3650d"),
                "{how} {value} (check {check}):\n{text}"
            );
        }
    }
    // The limit itself is fine.
    let out = Command::new(support::bin())
        .env_remove("XSENDFILED_EXPIRES")
        .arg("check")
        .args(base)
        .args(["--expires", "3650d"])
        .output()
        .expect("check");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every date and duration a request can bring, through the decision and the rendering of the
    /// `serve` and `apache` backends: any file time, any trusted `expires`, any conditional date,
    /// any signed-link times and clock. Nothing panics, and every date sent is an IMF-fixdate.
    #[test]
    fn no_date_or_duration_panics_on_the_request_path(
        mtime in prop_oneof![
            0u64..=YEAR_10000 * 2,
            Just(YEAR_10000),
            Just(YEAR_10000 - 1),
        ],
        expires in prop_oneof![
            any::<u64>().prop_map(|e| e.to_string()),
            Just(HUGE_EXPIRES.to_owned()),
            "[0-9+ -]{0,24}",
        ],
        ims in "[A-Za-z0-9 ,:]{0,40}",
        signed in any::<bool>(),
        now in prop_oneof![any::<u64>(), 1_700_000_000u64..YEAR_10000 * 2],
        exp_after in prop_oneof![any::<u64>(), 0u64..8 * 86_400],
        nbf_before in prop_oneof![any::<u64>(), 0u64..86_400],
        serve in any::<bool>(),
    ) {
        let (exp, nbf) = (now.saturating_add(exp_after), now.saturating_sub(nbf_before));
        // tmpfs keeps a time past 2446, which ext4 would clamp.
        let dir = tempfile::Builder::new().prefix("xsendfiled-dates").tempdir_in("/dev/shm").expect("tmpfs");
        let path = dir.path().join("f.txt");
        std::fs::write(&path, "x").expect("write");
        if let Ok(f) = std::fs::File::options().write(true).open(&path) {
            let _ = f.set_modified(UNIX_EPOCH + Duration::from_secs(mtime));
        }
        let backend = if serve { Backend::Serve } else { Backend::Apache };
        let mut policy = Policy::build(dir.path(), backend, None, None, false).expect("policy");
        let ring = xsendfiled::guard::token::keys::KeyRing::parse(
            "k1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
            "test",
        )
        .expect("ring");
        policy.signing = Some(xsendfiled::guard::token::Signing::new(ring, false, 7 * 86_400));
        let key: Vec<u8> = (0u8..32).collect();
        let spec = xsendfiled::guard::token::sdl1::SignSpec {
            kid: "k1",
            key: &key,
            path: "/f.txt",
            exp,
            nbf: Some(nbf),
            prefix: None,
            network: None,
            claims: Default::default(),
            limit: None,
        };
        let uri = if signed { xsendfiled::guard::token::sdl1::sign(&spec).expect("sign") } else { "/f.txt".to_owned() };
        let pairs: Vec<(&[u8], &[u8])> = vec![
            (b"REQUEST_METHOD", b"GET"),
            (b"REQUEST_URI", uri.as_bytes()),
            (b"DOCUMENT_URI", b"/f.txt"),
            (b"XSENDFILED_EXPIRES", expires.as_bytes()),
            (b"HTTP_IF_MODIFIED_SINCE", ims.as_bytes()),
            (b"HTTP_IF_UNMODIFIED_SINCE", ims.as_bytes()),
            (b"HTTP_IF_RANGE", ims.as_bytes()),
        ];
        let req = Request::from_pairs(pairs);
        let decision = decide_at(&req, &policy, now).expect("no fault");
        let sent = matches!(decision, xsendfiled::guard::decide::Decision::Send(_));
        let mut out = Vec::new();
        let _ = xsendfiled::reply::response::render(decision, &req, &policy, &mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        prop_assert_eq!(sent, text.starts_with("Status: 200") || text.starts_with("Status: 304") || text.starts_with("Status: 412"), "{}", text);
        if sent {
            prop_assert!(header(&text, "Last-Modified").is_some(), "{}", text);
        }
        for name in ["Last-Modified", "Expires"] {
            if let Some(v) = header(&text, name) {
                prop_assert!(httpdate::parse_http_date(v).is_ok(), "{}: {}", name, v);
            }
        }
    }
}
