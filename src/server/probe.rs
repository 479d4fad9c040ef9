//! php-fpm's ping and status pages on the FastCGI socket (`--ping-path`, `--status-path`), for
//! servers that reach xsendfiled only through FastCGI: nginx exposes them on a location limited
//! to trusted addresses (`conf-examples/nginx.conf`).
//!
//! A request whose `DOCUMENT_URI` (else `SCRIPT_NAME`) is exactly one of the two paths is
//! answered here instead of being decided: `pong`, or the status page (`crate::metrics::status`:
//! plain, `?json`, `?openmetrics`). GET and HEAD only (else 405 with `Allow`). Every answer is
//! `Cache-Control: no-store`.
//!
//! Invariant: with neither path configured nothing here runs (the offload path is untouched);
//! with one configured, a request for another path costs two slice comparisons and no allocation.

use crate::config::Probes;
use crate::reply::sink::HeaderSink;

/// Answers the request of `params` into `out` when it asks for a probe path; false otherwise
/// (nothing written).
pub(super) fn answer<'a>(
    params: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    probes: &Probes,
    out: &mut impl HeaderSink,
) -> bool {
    let (mut document_uri, mut script_name, mut query, mut method) = (None, None, &b""[..], &b""[..]);
    for (name, value) in params {
        match name {
            b"DOCUMENT_URI" => document_uri = Some(value),
            b"SCRIPT_NAME" => script_name = Some(value),
            b"QUERY_STRING" => query = value,
            b"REQUEST_METHOD" => method = value,
            _ => {}
        }
    }
    let Some(path) = document_uri.filter(|p| !p.is_empty()).or(script_name) else { return false };
    let is = |p: &Option<String>| p.as_deref().is_some_and(|p| p.as_bytes() == path);
    let (ping, status) = (is(&probes.ping), is(&probes.status));
    if !ping && !status {
        return false;
    }
    let head = method == b"HEAD";
    if method != b"GET" && !head {
        crate::reply::response::render_error(crate::guard::decide::Status::MethodNotAllowed, false, out);
        return true;
    }
    if ping {
        write(out, "text/plain; charset=utf-8", if head { b"" } else { b"pong\n" });
        return true;
    }
    match crate::metrics::get() {
        Some(m) => {
            let (body, content_type) =
                crate::metrics::status::render(m, crate::metrics::status::Page::from_query(query));
            write(out, content_type, if head { b"" } else { body.as_bytes() });
        }
        None => {
            crate::reply::response::render_error(crate::guard::decide::Status::NotFound, head, out);
        }
    }
    true
}

/// A 200 with `body`, never cached.
fn write(out: &mut impl HeaderSink, content_type: &str, body: &[u8]) {
    out.status(200, "OK");
    out.header("Content-Type", content_type.as_bytes());
    out.header("Cache-Control", b"no-store");
    out.header("X-Content-Type-Options", b"nosniff");
    out.finish(body);
}

#[cfg(test)]
mod tests {
    use super::answer;
    use crate::config::Probes;

    fn ask(uri: &[u8], method: &[u8]) -> Option<String> {
        let probes = Probes { ping: Some("/ping".into()), status: Some("/status".into()) };
        let params: [(&[u8], &[u8]); 2] = [(b"REQUEST_METHOD", method), (b"DOCUMENT_URI", uri)];
        let mut out = Vec::new();
        answer(params.into_iter(), &probes, &mut out).then(|| String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn only_the_probe_paths_are_answered() {
        let pong = ask(b"/ping", b"GET").expect("answered");
        assert!(pong.starts_with("Status: 200 OK\r\n") && pong.ends_with("\r\n\r\npong\n"), "{pong}");
        assert!(pong.contains("Cache-Control: no-store\r\n"));
        assert_eq!(ask(b"/ping/", b"GET"), None);
        assert_eq!(ask(b"/dl/ping", b"GET"), None);
        let post = ask(b"/ping", b"POST").expect("answered");
        assert!(post.starts_with("Status: 405") && post.contains("Allow: GET, HEAD"), "{post}");
    }
}
