//! Check functions for every parser entry point, each asserting its invariant.
//!
//! The cargo-fuzz targets in `fuzz/` call these with fuzzer input; `cargo test` runs the same
//! functions under proptest and replays the committed corpus (`tests/fuzz_properties.rs`), so the
//! invariants are checked on every CI run. A violated invariant panics — that is the finding.

use crate::limits::Limits;
use crate::protocol::fcgi::{push_name_value, Connection, Event, Pairs, HEADER_LEN, MAX_CONTENT_LEN};

/// FastCGI: arbitrary bytes, fed in arbitrary chunks, never panic; every reply is a well-formed
/// sequence of records; each request gets exactly one END_REQUEST; PARAMS never exceed the cap.
pub fn check_fcgi_stream(data: &[u8]) {
    let Some((&chunk, input)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let limits =
        Limits { max_params_bytes: 8 * 1024, max_params_count: 64, max_stdin_bytes: 4096, ..Limits::default() };
    let mut conn = Connection::new(limits).accept_authorizer(chunk % 2 == 0);
    let mut out = Vec::new();
    let mut requests = 0usize;
    for piece in input.chunks(chunk) {
        let mut off = 0;
        while off < piece.len() {
            let Ok(feed) = conn.feed(&piece[off..], &mut out) else { return check_records(&out, requests) };
            off += feed.consumed;
            if let Some(Event::Request { .. }) = feed.event {
                requests += 1;
                assert!(conn.params().len() <= limits.max_params_bytes, "params over the cap");
                assert!(Pairs::new(conn.params()).all(|p| p.is_ok()), "a delivered request has well-formed params");
                let mark = conn.begin_response(&mut out);
                out.extend_from_slice(b"Status: 404 Not Found\r\n\r\n");
                conn.finish_response(&mut out, mark, 0);
            }
            if conn.should_close() || (feed.consumed == 0 && feed.event.is_none()) {
                return check_records(&out, requests);
            }
        }
    }
    check_records(&out, requests);
}

/// Replies parse as records of version 1 with content ≤ 65535 and at least one END_REQUEST for
/// each request answered.
fn check_records(mut out: &[u8], requests: usize) {
    let mut ends = 0;
    while !out.is_empty() {
        assert!(out.len() >= HEADER_LEN, "truncated reply record");
        assert_eq!(out[0], 1, "reply version");
        let len = usize::from(u16::from_be_bytes([out[4], out[5]]));
        let pad = usize::from(out[6]);
        assert!(len <= MAX_CONTENT_LEN);
        assert!(out.len() >= HEADER_LEN + len + pad, "reply record shorter than declared");
        if out[1] == 3 {
            ends += 1;
        }
        out = &out[HEADER_LEN + len + pad..];
    }
    assert!(ends >= requests, "{requests} requests but {ends} END_REQUEST records");
}

/// Name-value pairs: never panic, never claim more bytes than given, and re-encoding what was
/// decoded decodes to the same pairs.
pub fn check_params(data: &[u8]) {
    let mut decoded = Vec::new();
    let mut used = 0usize;
    for pair in Pairs::new(data) {
        let Ok((n, v)) = pair else { break };
        used += n.len() + v.len();
        decoded.push((n.to_vec(), v.to_vec()));
    }
    assert!(used <= data.len());
    let mut again = Vec::new();
    for (n, v) in &decoded {
        push_name_value(&mut again, n, v);
    }
    let round: Vec<(Vec<u8>, Vec<u8>)> = Pairs::new(&again)
        .map(|p| p.map(|(n, v)| (n.to_vec(), v.to_vec())))
        .collect::<Result<_, _>>()
        .expect("re-encoded");
    assert_eq!(round, decoded, "encode/decode round trip");
}

/// Request paths: an accepted relative path has no empty, `.` or `..` segment, no NUL, control
/// character or backslash, is valid UTF-8 and does not start with `/`.
pub fn check_request_path(data: &[u8]) {
    let strip = data.first().is_some_and(|b| b % 2 == 0).then_some(&b"/dl"[..]);
    let hidden = data.first().is_some_and(|b| b % 3 == 0);
    if let Ok(rel) = crate::guard::path::validate(data, strip, hidden) {
        let s = rel.as_str();
        assert!(!s.is_empty() && !s.starts_with('/'));
        assert!(!s.chars().any(|c| c.is_control() || c == '\\' || c == '\0'));
        for seg in s.split('/') {
            assert!(!seg.is_empty() && seg != "." && seg != "..", "{s:?}");
            assert!(hidden || !seg.starts_with('.'), "{s:?}");
        }
        assert!(s.len() <= crate::limits::MAX_PATH_BYTES);
    }
}

/// Resolution: whatever path arrives, a file that is sent is a regular file inside the root.
/// `root` is a directory prepared by the caller (with symlinks pointing in and out).
pub fn check_resolution(root: &std::path::Path, policy: &crate::guard::Policy, data: &[u8]) {
    let req =
        crate::protocol::request::Request::from_pairs([(&b"REQUEST_METHOD"[..], &b"GET"[..]), (b"DOCUMENT_URI", data)]);
    let Ok(crate::guard::decide::Decision::Send(send)) = crate::guard::decide::decide_at(&req, policy, 0) else {
        return;
    };
    let canonical_root = root.canonicalize().expect("root");
    let path = canonical_root.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&send.file.rel));
    let real = path.canonicalize().expect("a sent file exists");
    assert!(real.starts_with(&canonical_root), "{real:?} is outside {canonical_root:?}");
    assert_eq!(real, path, "the name sent is canonical (no symlink, no dot segment)");
    assert!(std::fs::symlink_metadata(&real).expect("stat").file_type().is_file());
    let crate::guard::store::Content::Local(file) = &send.file.content else {
        panic!("a local root found an object");
    };
    assert!(file.metadata().expect("fstat").is_file());
}

/// Redirect maps: never panic; accepted entries are absolute, clean, and a lookup returns a
/// suffix of the path on a segment boundary.
pub fn check_redirect_map(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (map_text, probe) = text.split_once('\n').unwrap_or((text, "/srv/files/a"));
    let Ok(map) = crate::guard::map::parse(map_text, false) else { return };
    for e in map.entries() {
        assert!(e.fs.first() == Some(&b'/') || e.fs.is_empty());
        assert!(e.uri.starts_with('/') || e.uri.is_empty());
        assert!(!e.uri.contains("..") || e.uri.split('/').all(|s| s != ".."));
    }
    if let Some((entry, rest)) = map.lookup(probe.as_bytes()) {
        assert!(probe.as_bytes().ends_with(rest));
        assert!(probe.as_bytes().starts_with(&entry.fs));
    }
}

/// The key ring: never panics; accepted key ids are valid, secrets non-empty.
pub fn check_key_ring(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(ring) = crate::guard::token::keys::KeyRing::parse(text, "fuzz") {
        for kid in ring.kids() {
            assert!(crate::guard::token::keys::valid_kid(kid));
            assert!(ring.get(kid).is_some_and(|k| !k.is_empty()));
        }
    }
}

/// Signed links: arbitrary request URIs and client addresses never panic any verifier, and a link
/// signed for one path is never accepted for another.
pub fn check_tokens(data: &[u8]) {
    use crate::guard::token::{compat, keys::KeyRing, sdl1};
    let ring =
        KeyRing::parse("k hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nt text:secret\n", "f")
            .expect("ring");
    let (uri, addr) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"203.0.113.7"[..]),
    };
    let input = sdl1::Input { request_uri: Some(uri), remote_addr: Some(addr), now: 1_767_225_000, max_ttl: 86_400 };
    let verified = sdl1::verify(&ring, &input);
    if let Ok(v) = &verified {
        // Whatever was accepted covers exactly the decoded path of the URI.
        let raw = uri.split(|&b| b == b'?').next().unwrap_or_default();
        assert_eq!(sdl1::canonical_path(raw).ok().as_deref(), Some(v.path.as_slice()));
    }
    let legacy = [
        compat::Legacy::ModAuthToken { timeout: 60, ip: true },
        compat::Legacy::WsgiXsendfile { hash: compat::Hash::Sha256, timeout: 120 },
        compat::Legacy::Secdownload {
            algorithm: compat::SecdlAlgorithm::HmacSha1,
            timeout: 60,
            path_segments: 1,
            hash_querystr: true,
        },
        compat::Legacy::SecureLinkSecret,
    ];
    let (path, query) = match uri.iter().position(|&b| b == b'?') {
        Some(q) => (&uri[..q], &uri[q + 1..]),
        None => (uri, &b""[..]),
    };
    let li = compat::Input {
        path,
        uri: path,
        request_uri: uri,
        query,
        remote_addr: addr,
        now: 1_767_225_000,
        max_ttl: 86_400,
    };
    for scheme in &legacy {
        let _ = scheme.verify(&ring, &li);
    }
    // Sign for a path derived from the input, then ask for a different one.
    let Ok(text) = std::str::from_utf8(path) else { return };
    let key: Vec<u8> = (0u8..32).collect();
    let spec = sdl1::SignSpec {
        kid: "k",
        key: &key,
        path: text,
        exp: 1_767_225_600,
        nbf: None,
        prefix: None,
        network: None,
        claims: crate::guard::token::Claims::default(),
        limit: None,
    };
    let Ok(link) = sdl1::sign(&spec) else { return };
    let ok = sdl1::verify(&ring, &sdl1::Input { request_uri: Some(link.as_bytes()), ..input });
    assert!(ok.is_ok(), "a freshly signed link verifies: {link}");
    let (lpath, lquery) = link.split_once('?').expect("query");
    for other in [format!("{lpath}x"), format!("{lpath}/x"), format!("/x{lpath}")] {
        let moved = format!("{other}?{lquery}");
        let r = sdl1::verify(&ring, &sdl1::Input { request_uri: Some(moved.as_bytes()), ..input });
        assert!(r.is_err(), "a link for {lpath} opened {other}");
    }
}

/// Content-Disposition: for every acceptable name, the header has no control character, and the
/// `filename*` (or the plain name) decodes back to exactly the name.
pub fn check_disposition(data: &[u8]) {
    let Ok(name) = std::str::from_utf8(data) else { return };
    if !crate::guard::token::valid_filename(name) {
        return;
    }
    let v = crate::reply::disposition::header_value(crate::guard::token::Disposition::Attachment, name);
    assert!(!v.chars().any(|c| c.is_control()), "{v:?}");
    assert!(v.is_ascii(), "header values stay ASCII: {v:?}");
    match v.split_once("; filename*=UTF-8''") {
        Some((_, enc)) => {
            let mut out = Vec::new();
            let b = enc.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    out.push(u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).expect("hex"), 16).expect("hex"));
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            assert_eq!(out, name.as_bytes(), "filename* round trip");
        }
        None => {
            let quoted = v.strip_prefix("attachment; filename=\"").and_then(|r| r.strip_suffix('"')).expect("quoted");
            assert_eq!(quoted.replace("\\\"", "\"").replace("\\\\", "\\"), name, "quoted round trip");
        }
    }
}

/// Range and conditional headers: never panic; a partial answer lies inside the file.
pub fn check_range(data: &[u8]) {
    let mut parts = data.splitn(4, |&b| b == b'\n');
    let len = parts
        .next()
        .map_or(0, |l| l.iter().fold(0u64, |a, &b| a.wrapping_mul(31).wrapping_add(u64::from(b))) % 100_000);
    let range = parts.next();
    let if_range = parts.next();
    let if_none_match = parts.next();
    let meta = crate::guard::store::FileMeta { len, mtime: 784_111_777, mtime_nsec: 0, ino: 1 };
    let c = crate::protocol::request::Conditions { range, if_range, if_none_match, ..Default::default() };
    if let crate::reply::serve::Plan::Partial { start, end } = crate::reply::serve::plan(&c, &meta, "\"1-a-0\"") {
        assert!(start <= end && end < len, "{start}-{end} of {len}");
    }
}

/// For benchmarks of object-store roots: makes `policy`'s first root the bucket `bucket` at
/// `endpoint` (`http://host:port`, path-style, region us-east-1, fixed test credentials, 30 s
/// presigned URLs), with `keys` (`len` bytes each) already in its HEAD cache for `ttl`, so a
/// decision over them is a cache hit and touches no network.
pub fn use_object_root(
    policy: &mut crate::guard::Policy,
    endpoint: &str,
    bucket: &str,
    keys: &[(&str, u64)],
    ttl: std::time::Duration,
) {
    use crate::guard::store::object::{HeadCache, ObjectMeta};
    let at = crate::objstore::Endpoint {
        url: endpoint.to_owned(),
        region: "us-east-1".into(),
        path_style: true,
        presign: std::time::Duration::from_secs(30),
        timeout: std::time::Duration::from_secs(5),
    };
    let credentials = rusty_s3::Credentials::new("BENCHACCESSKEY", "bench-secret-key");
    let store = crate::objstore::Bucket::new(&at, bucket, credentials).expect("an http:// endpoint");
    let cache = std::sync::Arc::new(HeadCache::new(ttl, keys.len().max(1)));
    for (key, len) in keys {
        let meta = ObjectMeta { len: *len, mtime: 1_767_225_600, etag: Some("\"bench\"".into()) };
        cache.put(key, std::time::Instant::now(), Some(meta));
    }
    let root = crate::guard::store::ObjectRoot::new(bucket, "", std::sync::Arc::new(store), cache);
    policy.root = crate::guard::store::Root::Object(root);
}

/// Turns the daemon's metrics on in this process, as `--metrics-listen` does (for the allocation
/// test: counting must not allocate).
pub fn enable_metrics() {
    crate::metrics::enable(&crate::guard::decide::Reason::LABELS, 1);
}

/// Decisions counted as sent so far (0 while metrics are off).
pub fn metrics_sent() -> u64 {
    crate::metrics::get().map_or(0, |m| m.decisions_total(crate::metrics::Outcome::Send))
}
