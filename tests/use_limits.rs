//! Limited-use links in the decision and the handler, in memory: the signed `id`, `uses` and `gw`
//! claims verify only as signed, a link with `uses` asks the store (HEAD only looks), the node's
//! revocation list refuses a key or a link, and each answer of the store becomes its reply.

use crate::support;

use std::path::Path;
use xsendfiled::guard::decide::{decide_at, Decision, Reason, Status};
use xsendfiled::guard::token::keys::KeyRing;
use xsendfiled::guard::token::limit::{Grant, Limit, Revoked};
use xsendfiled::guard::token::sdl1::{self, SignSpec};
use xsendfiled::guard::token::{Claims, Signing};
use xsendfiled::guard::{Backend, Policy};
use xsendfiled::protocol::request::Request;

const NOW: u64 = 1_767_225_600 - 600;
const KEY: &str = "k1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

fn link(limit: Option<Limit>) -> Result<String, sdl1::SignError> {
    link_until(NOW + 3600, limit)
}

fn link_until(exp: u64, limit: Option<Limit>) -> Result<String, sdl1::SignError> {
    let key: Vec<u8> = (0u8..32).collect();
    let spec = SignSpec {
        kid: "k1",
        key: &key,
        path: "/dl/plain.txt",
        exp,
        nbf: None,
        prefix: None,
        network: None,
        claims: Claims::default(),
        limit,
    };
    sdl1::sign(&spec)
}

fn limit(id: &str, uses: Option<u32>, window: Option<u64>) -> Option<Limit> {
    Some(Limit { id: id.to_owned(), uses, window })
}

fn policy(root: &Path) -> Policy {
    let mut p = Policy::build(root, Backend::Nginx, Some("/_protected"), Some("/dl"), false).expect("policy");
    let mut signing = Signing::new(KeyRing::parse(KEY, "test").expect("ring"), true, 7 * 86_400);
    signing.grant_window = 600;
    p.signing = Some(signing);
    p
}

fn request<'a>(method: &'a str, uri: &'a str, remote: Option<&'a str>) -> Request<'a> {
    let mut pairs: Vec<(&[u8], &[u8])> = vec![
        (b"REQUEST_METHOD", method.as_bytes()),
        (b"REQUEST_URI", uri.as_bytes()),
        (b"DOCUMENT_URI", b"/dl/plain.txt"),
    ];
    if let Some(r) = remote {
        pairs.push((b"REMOTE_ADDR", r.as_bytes()));
    }
    Request::from_pairs(pairs)
}

#[test]
fn the_limit_claims_are_signed_and_have_one_spelling() {
    let url = link(limit("Ab-9_x", Some(3), Some(120))).expect("sign");
    assert!(url.contains("&id=Ab-9_x&uses=3&gw=120&sig="), "{url}");
    for bad in [limit("a b", Some(1), None), limit("x", Some(0), None), limit("x", None, Some(60))] {
        assert!(link(bad.clone()).is_err(), "{bad:?}");
    }
    let dir = support::tempdir();
    let tree = support::Tree::create(dir.path());
    let p = policy(&tree.root);
    let refused = |uri: &str| match decide_at(&request("GET", uri, Some("10.0.0.1")), &p, NOW).expect("no fault") {
        Decision::Refuse(status, _) => status,
        Decision::Send(_) => panic!("{uri} was sent"),
    };
    // Raising the uses, dropping them or the window, or a second spelling: all break the signature.
    assert_eq!(refused(&url.replace("uses=3", "uses=4")), Status::Forbidden);
    assert_eq!(refused(&url.replace("&uses=3&gw=120", "")), Status::Forbidden);
    assert_eq!(refused(&url.replace("&gw=120", "")), Status::Forbidden);
    assert_eq!(refused(&url.replace("uses=3", "uses=03")), Status::Forbidden);
    assert_eq!(refused(&url.replace("&id=Ab-9_x", "")), Status::Forbidden, "uses without an id");
    assert_eq!(refused(&format!("{url}&uses=3")), Status::Forbidden, "given twice");
}

#[test]
fn a_link_with_uses_asks_the_store_and_head_only_looks() {
    let dir = support::tempdir();
    let tree = support::Tree::create(dir.path());
    let p = policy(&tree.root);
    let url = link(limit("L1", Some(2), Some(90))).expect("sign");
    let Decision::Send(send) = decide_at(&request("GET", &url, Some("10.0.0.1")), &p, NOW).expect("no fault") else {
        panic!("refused")
    };
    let ask = send.link.and_then(|l| l.ask).expect("asks the store");
    assert_eq!((ask.id.as_str(), ask.uses, ask.window, ask.client.as_str()), ("L1", 2, 90, "10.0.0.1"));
    assert!(ask.open && ask.expires == NOW + 3600);
    let Decision::Send(head) = decide_at(&request("HEAD", &url, Some("10.0.0.1")), &p, NOW).expect("no fault") else {
        panic!("refused")
    };
    assert!(!head.link.and_then(|l| l.ask).expect("asks the store").open, "HEAD never opens a use");
    // Without the window claim, --grant-window; without uses, nothing to ask.
    let url = link(limit("L2", Some(1), None)).expect("sign");
    let Decision::Send(send) = decide_at(&request("GET", &url, Some("10.0.0.1")), &p, NOW).expect("no fault") else {
        panic!("refused")
    };
    assert_eq!(send.link.and_then(|l| l.ask).expect("asks").window, 600);
    let url = link(limit("L3", None, None)).expect("sign");
    let Decision::Send(send) = decide_at(&request("GET", &url, Some("10.0.0.1")), &p, NOW).expect("no fault") else {
        panic!("refused")
    };
    let linked = send.link.expect("the link id");
    assert!(linked.ask.is_none() && linked.id == "L3", "an id alone is stateless");
    // Uses are per client address: a request without one is refused.
    let url = link(limit("L4", Some(1), None)).expect("sign");
    let d = decide_at(&request("GET", &url, None), &p, NOW).expect("no fault");
    assert!(matches!(d, Decision::Refuse(Status::Forbidden, Reason::NoClientAddress)), "{d:?}");
}

#[test]
fn revocations_refuse_a_key_or_a_link_without_the_store() {
    let dir = support::tempdir();
    let tree = support::Tree::create(dir.path());
    let p = policy(&tree.root);
    let with_id = link(limit("L9", None, None)).expect("sign");
    let plain = link(None).expect("sign");
    let status = |uri: &str| match decide_at(&request("GET", uri, Some("10.0.0.1")), &p, NOW).expect("no fault") {
        Decision::Refuse(status, reason) => Some((status, reason)),
        Decision::Send(_) => None,
    };
    let revocations = &p.signing.as_ref().expect("signing").revocations;
    revocations.set(Revoked { ids: ["L9".to_owned()].into(), ..Revoked::default() });
    assert_eq!(status(&with_id), Some((Status::Forbidden, Reason::Revoked)));
    assert_eq!(status(&plain), None);
    revocations.set(Revoked { kids: ["k1".to_owned()].into(), ..Revoked::default() });
    assert_eq!(status(&plain), Some((Status::Forbidden, Reason::Revoked)));
}

#[test]
fn each_answer_of_the_store_becomes_its_reply() {
    let dir = support::tempdir();
    let tree = support::Tree::create(dir.path());
    let p = policy(&tree.root);
    // The handler reads the clock.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let url = link_until(now + 3600, limit("L5", Some(1), None)).expect("sign");
    let req = request("GET", &url, Some("10.0.0.1"));
    for (grant, want) in [
        (Grant::Opened(1), 200),
        (Grant::Same(1), 200),
        (Grant::Spent, 410),
        (Grant::Revoked, 403),
        (Grant::Unavailable, 503),
    ] {
        let mut out = Vec::new();
        let (status, _) = xsendfiled::handler::handle_granted(&req, &p, &mut out, grant);
        let text = String::from_utf8_lossy(&out);
        assert_eq!(status, want, "{grant:?}: {text}");
        if want != 200 {
            assert!(text.contains("\r\nCache-Control: no-store\r\n"), "{grant:?}: {text}");
        } else {
            assert!(text.starts_with("X-Accel-Redirect: /_protected/plain.txt\r\n"), "{text}");
        }
    }
    // No store at all: the link fails closed.
    let (status, _) = xsendfiled::handler::handle(&req, &p, &mut Vec::new());
    assert_eq!(status, 503);
}
