//! Signed links: the SDL1 vectors (canonical strings, URLs, and every verification case; the
//! scheme is specified in docs/sdl1.md), plus forgery, tampering and boundary cases.

use xsendfiled::guard::token::keys::KeyRing;
use xsendfiled::guard::token::sdl1::{self, Failure, Input, SignSpec};
use xsendfiled::guard::token::Claims;
use xsendfiled::guard::token::Disposition;

const T2: u64 = 1_767_225_600;
const WEEK: u64 = 7 * 86_400;
const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn ring() -> KeyRing {
    KeyRing::parse(&format!("k2026a hex:{KEY_HEX}\nother hex:{}\n", "ab".repeat(32)), "test").expect("ring")
}

const U1: &str =
    "/downloads/reports/Q3%20r%C3%A9sum%C3%A9.pdf?exp=1767225600&kid=k2026a&sig=EfGsUZFUP2uO0hoiCtqEtMITxibCt_CaC-a2r9CSS30";
const U2: &str = "/media/hls/show-42/seg-001.ts?exp=1767225600&kid=k2026a&nbf=1767222000&pfx=L21lZGlhL2hscy9zaG93LTQyLw&ipm=24&sig=niyEw-yFUh_lPi2a7yV_LcFapFuR2CqxGfy2s8sePxE";
const U3: &str = "/f/a.iso?exp=1767225600&kid=k2026a&ipm=64&sig=AQ6LoApSAyDBytuK5iqjy86F2DXqHOUpuF2Xuf4F_ro";

fn key() -> Vec<u8> {
    (0u8..32).collect()
}

#[test]
fn canonical_strings_match_the_vectors() {
    assert_eq!(
        sdl1::canonical_for_test("k2026a", "1767225600", "", "", None, "/downloads/reports/Q3 résumé.pdf".as_bytes()),
        "SDL1-HMAC-SHA256\nk2026a\n1767225600\n\n\npath\n/downloads/reports/Q3 résumé.pdf".as_bytes()
    );
    assert_eq!(
        sdl1::canonical_for_test(
            "k2026a",
            "1767225600",
            "1767222000",
            "203.0.113.0/24",
            Some(b"/media/hls/show-42/"),
            b""
        ),
        b"SDL1-HMAC-SHA256\nk2026a\n1767225600\n1767222000\n203.0.113.0/24\nprefix\n/media/hls/show-42/"
    );
    let net = sdl1::ipnet("2001:db8:85a3::8a2e:370:7334".parse().expect("ip"), 64).expect("net");
    assert_eq!(net, "2001:db8:85a3::/64");
    assert_eq!(sdl1::ipnet("::ffff:203.0.113.77".parse().expect("ip"), 24).as_deref(), Some("203.0.113.0/24"));
    assert_eq!(sdl1::ipnet("203.0.113.77".parse().expect("ip"), 64), None);
}

#[test]
fn signing_reproduces_the_vector_urls() {
    let k = key();
    let base = SignSpec {
        kid: "k2026a",
        key: &k,
        path: "/downloads/reports/Q3 résumé.pdf",
        exp: T2,
        nbf: None,
        prefix: None,
        network: None,
        claims: Claims::default(),
        limit: None,
    };
    assert_eq!(sdl1::sign(&base).expect("sign"), U1);
    let s2 = SignSpec {
        path: "/media/hls/show-42/seg-001.ts",
        nbf: Some(T2 - 3600),
        prefix: Some("/media/hls/show-42/"),
        network: Some(("203.0.113.77".parse().expect("ip"), 24)),
        ..base.clone()
    };
    assert_eq!(sdl1::sign(&s2).expect("sign"), U2);
    let s3 = SignSpec {
        path: "/f/a.iso",
        network: Some(("2001:db8:85a3::8a2e:370:7334".parse().expect("ip"), 64)),
        ..base.clone()
    };
    assert_eq!(sdl1::sign(&s3).expect("sign"), U3);
    // The signer refuses what the verifier would refuse.
    for bad in ["relative", "/a//b", "/a/../b", "/a/./b", "/dir/", "/a\nb", "/a\\b"] {
        assert!(sdl1::sign(&SignSpec { path: bad, ..base.clone() }).is_err(), "{bad:?}");
    }
    assert!(sdl1::sign(&SignSpec { prefix: Some("/downloads/rep"), ..base.clone() }).is_err());
    assert!(sdl1::sign(&SignSpec { prefix: Some("/other/"), ..base.clone() }).is_err());
    assert!(sdl1::sign(&SignSpec { network: Some(("203.0.113.1".parse().expect("ip"), 33)), ..base.clone() }).is_err());
    assert!(sdl1::sign(&SignSpec { kid: "bad kid", ..base }).is_err());
}

fn verify(uri: &str, ip: &str, now: u64) -> Result<sdl1::Verified, Failure> {
    sdl1::verify(
        &ring(),
        &Input { request_uri: Some(uri.as_bytes()), remote_addr: Some(ip.as_bytes()), now, max_ttl: WEEK },
    )
}

/// HTTP status the way the responder maps it.
fn status(r: &Result<sdl1::Verified, Failure>) -> u16 {
    match r {
        Ok(_) => 200,
        Err(Failure::Expired) => 410,
        Err(_) => 403,
    }
}

#[test]
fn every_verification_vector() {
    let now = T2 - 60;
    let pfxq = U2.split_once('?').expect("query").1;
    let last = U1.chars().last().expect("char");
    const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let spare = B64.as_bytes()[B64.find(last).expect("b64") | 1] as char;
    let non_canonical_sig = format!("{}{spare}", &U1[..U1.len() - 1]);
    let cases: Vec<(String, &str, String, u64, u16)> = vec![
        ("sdl1-1".into(), "198.51.100.1", U1.into(), now, 200),
        ("lower-case escapes".into(), "198.51.100.1", U1.replace("%C3%A9", "%c3%a9"), now, 200),
        ("expired".into(), "198.51.100.1", U1.into(), T2 + 1, 410),
        ("exp == now still valid".into(), "198.51.100.1", U1.into(), T2, 200),
        ("other file".into(), "198.51.100.1", U1.replace("Q3", "Q4"), now, 403),
        ("// in path".into(), "198.51.100.1", U1.replace("/reports/", "//reports/"), now, 403),
        ("non-canonical sig".into(), "198.51.100.1", non_canonical_sig, now, 403),
        ("duplicate exp".into(), "198.51.100.1", format!("{U1}&exp=1"), now, 403),
        ("exp beyond max ttl".into(), "198.51.100.1", U1.into(), T2 - 8 * 86_400, 403),
        ("sibling under prefix".into(), "203.0.113.9", format!("/media/hls/show-42/seg-002.ts?{pfxq}"), now, 200),
        ("prefix boundary".into(), "203.0.113.9", format!("/media/hls/show-42x/seg-002.ts?{pfxq}"), now, 403),
        ("dot-dot escape".into(), "203.0.113.9", format!("/media/hls/show-42/../x.ts?{pfxq}"), now, 403),
        ("encoded dot-dot".into(), "203.0.113.9", format!("/media/hls/show-42/%2e%2e/x.ts?{pfxq}"), now, 403),
        ("encoded slash".into(), "203.0.113.9", format!("/media/hls/show-42%2Fx.ts?{pfxq}"), now, 403),
        ("other /24".into(), "203.0.114.9", U2.into(), now, 403),
        ("before nbf".into(), "203.0.113.77", U2.into(), T2 - 7200, 403),
        ("within nbf skew".into(), "203.0.113.77", U2.into(), T2 - 3600 - 20, 200),
        ("ipv4-mapped client".into(), "::ffff:203.0.113.5", U2.into(), now, 200),
        ("same /64".into(), "2001:db8:85a3::1", U3.into(), now, 200),
        ("ipv4 client with ipm=64".into(), "198.51.100.1", U3.into(), now, 403),
        ("other /64".into(), "2001:db8:85a4::1", U3.into(), now, 403),
        ("tampered exp".into(), "198.51.100.1", U1.replace("exp=1767225600", "exp=1767225601"), now, 403),
        ("wrong kid".into(), "198.51.100.1", U1.replace("kid=k2026a", "kid=other"), now, 403),
        ("unknown kid".into(), "198.51.100.1", U1.replace("kid=k2026a", "kid=nope"), now, 403),
        ("uppercased sig".into(), "198.51.100.1", U1.replace("EfGsUZFUP2", "EFGSUZFUP2"), now, 403),
        ("padded sig".into(), "198.51.100.1", format!("{U1}="), now, 403),
        ("duplicate kid".into(), "198.51.100.1", format!("{U1}&kid=k2026a"), now, 403),
        ("huge exp".into(), "198.51.100.1", U1.replace("exp=1767225600", "exp=99999999999999999999"), now, 403),
        ("leading-zero exp".into(), "198.51.100.1", U1.replace("exp=1767225600", "exp=01767225600"), now, 403),
        ("negative exp".into(), "198.51.100.1", U1.replace("exp=1767225600", "exp=-1"), now, 403),
        ("no sig".into(), "198.51.100.1", U1.split("&sig=").next().expect("x").into(), now, 403),
        ("bad escape".into(), "198.51.100.1", U1.replace("%20", "%2"), now, 403),
        ("NUL".into(), "198.51.100.1", U1.replace("%20", "%00"), now, 403),
        ("backslash".into(), "198.51.100.1", U1.replace("%20", "%5C"), now, 403),
        ("invalid UTF-8".into(), "198.51.100.1", U1.replace("%C3%A9", "%FF"), now, 403),
        ("unsigned fn added".into(), "198.51.100.1", U1.replace("&sig", "&fn=ZXZpbC5odG1s&sig"), now, 403),
        ("ipm leading zero".into(), "203.0.113.77", U2.replace("ipm=24", "ipm=024"), now, 403),
        ("huge ipm".into(), "203.0.113.77", U2.replace("ipm=24", "ipm=300"), now, 403),
        ("ipm with a plus sign".into(), "203.0.113.77", U2.replace("ipm=24", "ipm=+24"), now, 403),
        ("ipm with a space".into(), "203.0.113.77", U2.replace("ipm=24", "ipm=%2024"), now, 403),
        ("empty ipm".into(), "203.0.113.77", U2.replace("ipm=24", "ipm="), now, 403),
        ("plus-sign exp".into(), "198.51.100.1", U1.replace("exp=1767225600", "exp=+1767225600"), now, 403),
        ("no client address with ipm".into(), "", U2.into(), now, 403),
    ];
    assert!(cases.len() >= 35);
    for (name, ip, uri, t, want) in cases {
        let r = verify(&uri, ip, t);
        assert_eq!(status(&r), want, "{name}: {uri} -> {r:?}");
    }
    // What a valid link yields.
    let v = verify(U1, "198.51.100.1", now).expect("valid");
    assert_eq!((v.kid.as_str(), v.path.as_slice()), ("k2026a", "/downloads/reports/Q3 résumé.pdf".as_bytes()));
    assert_eq!(v.claims, Claims::default());
    // No REQUEST_URI at all.
    let none = sdl1::verify(&ring(), &Input { request_uri: None, remote_addr: None, now, max_ttl: WEEK });
    assert_eq!(none.err(), Some(Failure::NoRequestUri));
}

#[test]
fn signed_claims_round_trip_and_resist_tampering() {
    let k = key();
    let spec = SignSpec {
        kid: "k2026a",
        key: &k,
        path: "/dl/report.bin",
        exp: T2,
        nbf: None,
        prefix: None,
        network: None,
        claims: Claims { filename: Some("Q3 résumé.pdf".into()), disposition: Some(Disposition::Attachment) },
        limit: None,
    };
    let url = sdl1::sign(&spec).expect("sign");
    let v = verify(&url, "198.51.100.1", T2 - 60).expect("valid");
    assert_eq!(v.claims, spec.claims);
    // Changing either claim breaks the signature; a token valid for one path never opens another.
    let other_name = url.replace("&fn=", "&fn=eA&x=");
    assert_eq!(status(&verify(&other_name, "198.51.100.1", T2 - 60)), 403);
    let inline = url.replace("disp=attachment", "disp=inline");
    assert_eq!(status(&verify(&inline, "198.51.100.1", T2 - 60)), 403);
    let moved = url.replace("/dl/report.bin", "/dl/report.bin2");
    assert_eq!(status(&verify(&moved, "198.51.100.1", T2 - 60)), 403);
    // Names that could break a header or point at a path are never signed into a link.
    for bad in ["", "a/b", "a\\b", "a\nb", "a\u{85}b"] {
        assert!(!xsendfiled::guard::token::valid_filename(bad), "{bad:?}");
    }
}
