//! The compatibility schemes (docs/legacy-tokens.md) against vectors computed with each original
//! module's own algorithm, plus tampering, expiry, future timestamps and overflowing numbers.

use xsendfiled::guard::token::compat::{parse_template, Hash, Input, Legacy, SecdlAlgorithm};
use xsendfiled::guard::token::keys::KeyRing;

const T1: u64 = 1_700_000_000;
const T2: u64 = 1_767_225_600;

fn ring(secret: &str) -> KeyRing {
    KeyRing::parse(&format!("other hex:{}\nlegacy text:{secret}\n", "ab".repeat(16)), "t").expect("ring")
}

/// Verifies `url` (the request path after the mount prefix, as the server decodes it) at `now`.
fn run(scheme: &Legacy, secret: &str, path: &str, query: &str, ip: &str, now: u64) -> Result<String, u16> {
    let uri = if query.is_empty() { path.to_string() } else { format!("{path}?{query}") };
    let input = Input {
        path: path.as_bytes(),
        uri: path.as_bytes(),
        request_uri: uri.as_bytes(),
        query: query.as_bytes(),
        remote_addr: ip.as_bytes(),
        now,
        max_ttl: 7 * 86_400,
    };
    match scheme.verify(&ring(secret), &input) {
        Ok(a) => {
            assert_eq!(a.kid, "legacy");
            Ok(String::from_utf8(a.path).expect("utf8"))
        }
        Err(r) => Err(r.status),
    }
}

#[test]
fn mod_auth_token_vectors() {
    let s = Legacy::ModAuthToken { timeout: 60, ip: false };
    // mat-1 (/protected/ is the mount, removed by --strip-prefix).
    let p = "/44366816162ef1f500dd42b21906d2c4/6553f100/path/to/file.txt";
    assert_eq!(run(&s, "secret", p, "", "", T1 + 10), Ok("/path/to/file.txt".into()));
    let upper = p.replace("44366816162ef1f500dd42b21906d2c4", "44366816162EF1F500DD42B21906D2C4");
    assert_eq!(run(&s, "secret", &upper, "", "", T1), Ok("/path/to/file.txt".into()), "token case does not matter");
    assert_eq!(
        run(&s, "secret", &p.replace("6553f100", "6553F100"), "", "", T1),
        Err(403),
        "the timestamp is hashed as sent"
    );
    assert_eq!(run(&s, "secret", p, "", "", T1 + 61), Err(410));
    assert_eq!(run(&s, "secret", p, "", "", T1 - 61), Err(403), "issue time too far in the future");
    assert_eq!(run(&s, "wrong", p, "", "", T1), Err(403));
    assert_eq!(run(&s, "secret", &p.replace("file.txt", "other.txt"), "", "", T1), Err(403));
    assert_eq!(run(&s, "secret", "/4436/6553f100/x", "", "", T1), Err(401));
    assert_eq!(run(&s, "secret", "/44366816162ef1f500dd42b21906d2c4/zzzzzzzz/path", "", "", T1), Err(401));
    // mat-2: AuthTokenLimitByIp, decoded path with a space.
    let s = Legacy::ModAuthToken { timeout: 60, ip: true };
    let p = "/b6151fddf409a674b4b83e0394a49251/6955b900/dir/report 2024.pdf";
    assert_eq!(run(&s, "s3cr3t", p, "", "203.0.113.7", T2), Ok("/dir/report 2024.pdf".into()));
    assert_eq!(run(&s, "s3cr3t", p, "", "203.0.113.8", T2), Err(403));
}

#[test]
fn wsgi_xsendfile_vectors() {
    let s = Legacy::WsgiXsendfile { hash: Hash::Md5, timeout: 120 };
    let p = "/78694e433c97ffff4e69286cfb81bb8d-6553f100/path/to/file.txt";
    assert_eq!(run(&s, "secret", p, "", "", T1 + 100), Ok("/path/to/file.txt".into()));
    assert_eq!(run(&s, "secret", &p.replace("-6553f100", "-06553f100"), "", "", T1), Ok("/path/to/file.txt".into()));
    assert_eq!(run(&s, "secret", &p.replace("78694e43", "78694E43"), "", "", T1), Err(404), "upper case");
    assert_eq!(run(&s, "secret", p, "", "", T1 + 121), Err(410));
    assert_eq!(run(&s, "secret", p, "", "", T1 - 121), Err(404), "future issue time");
    assert_eq!(
        run(&s, "secret", "/78694e433c97ffff4e69286cfb81bb8d-ffffffffffffffffff/x", "", "", T1),
        Err(404),
        "overflow is a 404, not a crash"
    );
    assert_eq!(run(&s, "secret", "/nodash/x", "", "", T1), Err(404));
    let s = Legacy::WsgiXsendfile { hash: Hash::Sha256, timeout: 120 };
    let p = "/fb3ed5085b1c9b789d61dc1251dbacbfa404b7b874ad0eec4cd33909ae5fc10f-6955b900/dir/résumé.pdf";
    assert_eq!(run(&s, "s3cr3t", p, "", "", T2), Ok("/dir/résumé.pdf".into()));
    for name in ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"] {
        assert!(Hash::parse(name).is_some());
    }
}

#[test]
fn secdownload_vectors() {
    let md5 = |segments, hq| Legacy::Secdownload {
        algorithm: SecdlAlgorithm::Md5,
        timeout: 60,
        path_segments: segments,
        hash_querystr: hq,
    };
    let sha1 = |segments, hq| Legacy::Secdownload {
        algorithm: SecdlAlgorithm::HmacSha1,
        timeout: 60,
        path_segments: segments,
        hash_querystr: hq,
    };
    let sha256 = |segments, hq| Legacy::Secdownload {
        algorithm: SecdlAlgorithm::HmacSha256,
        timeout: 60,
        path_segments: segments,
        hash_querystr: hq,
    };
    let cases: Vec<(&str, Legacy, &str, &str, u64, &str)> = vec![
        ("sd-md5-1", md5(0, false), "/be46486f81e78a48cf5a02d86e3e5bb9/6553f100/index.html", "", T1, "/index.html"),
        (
            "sd-md5-1 upper hex",
            md5(0, false),
            "/BE46486F81E78A48CF5A02D86E3E5BB9/6553f100/index.html",
            "",
            T1,
            "/index.html",
        ),
        ("sd-md5-2", md5(0, true), "/81aeccbcdc9fe28431d44e16ea3be6f7/6955b900/a b.txt", "v=1", T2, "/a b.txt"),
        ("sd-sha1-1", sha1(0, false), "/3dEWoL0N22WdwltGkVpao1tY3n0/6553f100/index.html", "", T1, "/index.html"),
        ("sd-sha1-2", sha1(1, false), "/KOqB1yg3hwwjyrdbxoOOVotIKxE/6955b900/album/01.mp3", "", T2, "/album/01.mp3"),
        (
            "sd-sha256-1",
            sha256(0, false),
            "/xDISrmGRoEDQ_P-n9wjmj3QPIwEmLJ67FnK7yX4Xul4/6553f100/index.html",
            "",
            T1,
            "/index.html",
        ),
        (
            "sd-sha256-2",
            sha256(2, true),
            "/sQVO8HVH8LWh1iEHyOxo7IllcolW_QAXjrxGF3PofGE/6955b900/a/b/c/d.bin",
            "x=1",
            T2,
            "/a/b/c/d.bin",
        ),
    ];
    for (name, scheme, path, query, now, file) in cases {
        assert_eq!(run(&scheme, "verysecret", path, query, "", now), Ok(file.into()), "{name}");
        // The window is symmetric.
        assert_eq!(run(&scheme, "verysecret", path, query, "", now + 61), Err(410), "{name} late");
        assert_eq!(run(&scheme, "verysecret", path, query, "", now - 61), Err(410), "{name} early");
        assert_eq!(run(&scheme, "other-secret", path, query, "", now), Err(403), "{name} wrong secret");
        // The MAC is checked before the time: an expired forgery learns nothing (lighttpd said 410).
        assert_eq!(run(&scheme, "other-secret", path, query, "", now + 3600), Err(403), "{name} no expiry oracle");
    }
    // path-segments=1 covers the directory: another file in it verifies, one outside does not.
    let p = "/KOqB1yg3hwwjyrdbxoOOVotIKxE/6955b900/album/02.mp3";
    assert_eq!(run(&sha1(1, false), "verysecret", p, "", "", T2), Ok("/album/02.mp3".into()));
    assert_eq!(run(&sha1(1, false), "verysecret", &p.replace("album", "other"), "", "", T2), Err(403));
    assert_eq!(
        run(&md5(0, true), "verysecret", "/81aeccbcdc9fe28431d44e16ea3be6f7/6955b900/a b.txt", "v=2", "", T2),
        Err(403)
    );
    assert_eq!(run(&md5(0, false), "verysecret", "/short/6553f100/x", "", "", T1), Err(404));
    assert_eq!(
        run(&md5(0, false), "verysecret", "/be46486f81e78a48cf5a02d86e3e5bb9/11111111111111111/index.html", "", "", T1),
        Err(404),
        "17 hex digits"
    );
}

#[test]
fn secure_link_vectors() {
    let docs =
        Legacy::SecureLink { template: parse_template("{expires}{uri}{remote_addr} {secret}").expect("template") };
    // ngx-1 (from the nginx documentation) and ngx-2.
    let q1 = "md5=_e4Nc3iduzkWRm01TBBNYw&expires=2147483647";
    assert_eq!(run(&docs, "secret", "/s/link", q1, "127.0.0.1", 2_147_483_647 - 3600), Ok("/s/link".into()));
    let q2 = "md5=rKxW-V4DBVVh30sv9VKQgA&expires=1767225600";
    assert_eq!(run(&docs, "secret", "/s/file.zip", q2, "203.0.113.7", T2 - 60), Ok("/s/file.zip".into()));
    assert_eq!(run(&docs, "secret", "/s/file.zip", q2, "203.0.113.7", T2), Ok("/s/file.zip".into()), "expires == now");
    assert_eq!(run(&docs, "secret", "/s/file.zip", q2, "203.0.113.7", T2 + 1), Err(410));
    assert_eq!(
        run(&docs, "secret", "/s/file.zip", &q2.replace("gA&", "gA==&"), "203.0.113.7", T2 - 60),
        Ok("/s/file.zip".into()),
        "padding optional"
    );
    assert_eq!(
        run(&docs, "secret", "/s/file.zip", &q2.replace("gA&", "gB&"), "203.0.113.7", T2 - 60),
        Err(403),
        "spare bits"
    );
    assert_eq!(run(&docs, "secret", "/s/file.zip", q2, "203.0.113.8", T2 - 60), Err(403));
    assert_eq!(run(&docs, "secret", "/s/other.zip", q2, "203.0.113.7", T2 - 60), Err(403));
    assert_eq!(
        run(&docs, "secret", "/s/file.zip", &q2.replace("1767225600", "1767225601"), "203.0.113.7", T2 - 60),
        Err(403)
    );
    assert_eq!(run(&docs, "secret", "/s/file.zip", q1, "127.0.0.1", T1), Err(403), "lifetime over the cap");
    assert_eq!(run(&docs, "secret", "/s/file.zip", "expires=1", "203.0.113.7", T1), Err(403));
    assert_eq!(run(&docs, "secret", "/s/file.zip", "md5=x&expires=99999999999999999999", "203.0.113.7", T1), Err(403));
    // A template that does not sign the expiry, or has no secret, is refused.
    assert!(parse_template("{uri} {secret}").is_err());
    assert!(parse_template("{expires}{uri}").is_err());
    assert!(parse_template("{expires}{bogus}{secret}").is_err());
    assert!(parse_template("{secret}{expires}{arg:id}{request_uri}").is_ok());
}

#[test]
fn secure_link_secret_vectors() {
    let s = Legacy::SecureLinkSecret;
    // ngx-3 (from the nginx documentation): /p/<hex>/link with the word "secret"; /p is the mount.
    let input = |path: &'static str, uri: &'static str, query: &'static str| Input {
        path: path.as_bytes(),
        uri: path.as_bytes(),
        request_uri: uri.as_bytes(),
        query: query.as_bytes(),
        remote_addr: b"",
        now: T1,
        max_ttl: 86_400,
    };
    let ok = |i: Input<'_>| s.verify(&ring("secret"), &i).map(|a| String::from_utf8(a.path).expect("utf8"));
    assert_eq!(
        ok(input("/5e814704a28d9bc1914ff19fa0c4a00a/link", "/p/5e814704a28d9bc1914ff19fa0c4a00a/link", "")),
        Ok("/link".into())
    );
    // ngx-4: the raw link is hashed, %-escapes and query included.
    assert_eq!(
        ok(input(
            "/d4b88dcde63e7d827da3a22c98812216/dir/a b.txt",
            "/p/d4b88dcde63e7d827da3a22c98812216/dir/a%20b.txt?v=2",
            "v=2"
        )),
        Ok("/dir/a b.txt".into())
    );
    let refused = |i: Input<'_>| s.verify(&ring("secret"), &i).map_err(|r| r.status);
    assert_eq!(
        refused(input(
            "/d4b88dcde63e7d827da3a22c98812216/dir/a b.txt",
            "/p/d4b88dcde63e7d827da3a22c98812216/dir/a%20b.txt?v=3",
            "v=3"
        )),
        Err(403)
    );
    assert_eq!(
        refused(input("/5e814704a28d9bc1914ff19fa0c4a00a/other", "/p/5e814704a28d9bc1914ff19fa0c4a00a/other", "")),
        Err(403)
    );
    assert_eq!(refused(input("/short/link", "/p/short/link", "")), Err(403));
}
