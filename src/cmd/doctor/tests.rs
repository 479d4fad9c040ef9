//! Each diagnosis rule on its own, from hand-made observations.

use super::{diagnose, Fetched, Observed};
use crate::cmd::check::explain::Expected;

fn sent(status: u16, body: &[u8], headers: &[(&str, &str)]) -> Fetched {
    Fetched {
        status,
        headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
        size: body.len() as u64,
        head: body[..body.len().min(16)].to_vec(),
        tail: body[body.len().saturating_sub(16)..].to_vec(),
    }
}

fn allowed(body: &[u8]) -> Observed {
    let headers = [
        ("X-Accel-Redirect", "/_protected/a.txt"),
        ("Content-Type", "text/plain"),
        ("Content-Disposition", "inline; filename=\"a.txt\""),
    ];
    Observed {
        expected: Expected {
            status: 200,
            refusal: None,
            file: Some(("/srv/a.txt".into(), body.len() as u64)),
            headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
        },
        got: sent(200, body, &headers[1..]),
        file: Some(sent(200, body, &[])),
        internal: Some(sent(404, b"<html>404</html>", &[("Content-Type", "text/html")])),
        symlinked_root: false,
    }
}

fn causes(o: &Observed) -> Vec<String> {
    diagnose(o).into_iter().map(|f| f.cause).collect()
}

#[test]
fn a_faithful_server_gets_a_clean_bill() {
    assert_eq!(causes(&allowed(b"hello\n")), Vec::<String>::new());
}

#[test]
fn each_mistake_has_its_cause() {
    let html404 = sent(404, b"<html>404</html>", &[("Content-Type", "text/html")]);
    let mut o = allowed(b"hello\n");
    o.internal = Some(sent(200, b"hello\n", &[]));
    assert!(causes(&o)[0].contains("publicly reachable"));
    let mut o = allowed(b"hello\n");
    o.got = html404.clone();
    assert!(causes(&o)[0].starts_with("nginx answered 404 while xsendfiled allowed"));
    let mut o = allowed(b"hello\n");
    o.got = sent(404, b"not found\n", &[("Content-Type", "text/plain; charset=utf-8")]);
    assert!(causes(&o)[0].contains("--strip-prefix does not match"));
    let mut o = allowed(b"hello\n");
    o.got = sent(400, b"bad request\n", &[("Content-Type", "text/plain; charset=utf-8")]);
    assert!(causes(&o)[0].contains("no DOCUMENT_URI or PATH_INFO"));
    let mut o = allowed(b"hello\n");
    o.got = sent(200, b"other\n", &[("Content-Type", "text/plain")]);
    assert!(causes(&o)[0].contains("another file"));
    let mut o = allowed(b"hello\n");
    o.got.headers.retain(|(n, _)| n != "Content-Disposition");
    assert!(causes(&o)[0].contains("dropped Content-Disposition"));
    let mut o = allowed(b"hello\n");
    o.got = sent(403, b"<html>403</html>", &[("Content-Type", "text/html")]);
    o.symlinked_root = true;
    assert!(causes(&o)[0].contains("disable_symlinks"));
}
