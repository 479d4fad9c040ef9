//! The request handler every shell shares (FastCGI, HTTP, CGI): decide, write the reply through a
//! [`HeaderSink`], log the decision.
//!
//! Invariants: transport-neutral (no I/O but the access log); every request gets exactly one reply
//! and one log entry, a fault included (a 500); no path that carries a token, no signature and no
//! credential reaches a log.

use crate::guard::decide::{decide_waiting, Decision, Reason, Status};
use crate::guard::store::{Wait, WouldWait};
use crate::guard::token::limit::Grant;
use crate::guard::Policy;
use crate::protocol::request::Request;
use crate::reply::response::{render, render_error};
use crate::reply::serve::Body;
use crate::reply::sink::HeaderSink;

mod granted;
pub(crate) use granted::Prepared;

/// The entry of the CGI program and the FastCGI shell: the meta-variables as the web server sent
/// them in, the reply written to `out`. `authorizer` is the FastCGI Authorizer role; the answer
/// says whether the request was answered in authorize mode.
///
/// `how` says whether the store may wait ([`How::Decide`]) or what the storage pool refused with
/// ([`How::Refuse`]); under [`Wait::Never`] a lookup that would wait writes and logs nothing and
/// is `Err(root)` (the shell decides again on its pool).
///
/// A limited-use link comes back as [`Answer::ask`] with nothing written: the shell asks its
/// state store and finishes the reply already rendered with the store's [`Grant`] ([`Prepared`]).
pub(crate) fn respond<'a, I>(
    params: I,
    authorizer: bool,
    policy: &Policy,
    out: &mut Vec<u8>,
    how: How,
) -> Result<Answer, usize>
where
    I: Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
{
    if how != How::Decide(Wait::Allowed) {
        trace_params(params.clone(), tokens_in_path(policy));
    }
    let mut req = Request::from_pairs(params);
    req.authorize |= authorizer;
    Ok(match handle_how(&req, policy, out, None, how, None)? {
        Handled::Answered(status, body) => Answer { status, body, authorize: req.authorize, ask: None },
        Handled::Ask(ask) => Answer { status: 0, body: None, authorize: req.authorize, ask: Some(ask) },
    })
}

/// [`respond`] with a store that may wait (the one-shot CGI program, a storage-pool thread).
pub(crate) fn respond_waiting<'a, I>(params: I, authorizer: bool, policy: &Policy, out: &mut Vec<u8>) -> Answer
where
    I: Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
{
    respond(params, authorizer, policy, out, How::Decide(Wait::Allowed)).unwrap_or_else(|_| {
        // Only a lookup asked not to wait names a root to wait on.
        render_error(Status::InternalServerError, false, out);
        Answer { status: 500, body: None, authorize: authorizer, ask: None }
    })
}

/// How [`respond`] and [`handle_how`] come to a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum How {
    /// Decide, the store asked with this [`Wait`].
    Decide(Wait),
    /// Do not decide: the storage pool refused (503) or timed out (504) for this reason.
    Refuse(Status, crate::guard::decide::Storage),
}

/// What [`respond`] answered.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The HTTP status (200 for an offload).
    pub(crate) status: u16,
    /// For the `serve` backend, the bytes to stream after the header block.
    pub(crate) body: Option<Body>,
    /// Whether the request was decided in authorize mode (allow/deny only).
    pub(crate) authorize: bool,
    /// A limited-use link waiting for its grant: nothing was written or logged yet.
    pub(crate) ask: Option<Box<Prepared>>,
}

/// What handling one request came to.
#[derive(Debug)]
pub(crate) enum Handled {
    /// Answered (written and logged): the HTTP status and, for `serve`, the bytes to stream.
    Answered(u16, Option<Body>),
    /// A limited-use link, decided and rendered: ask the state store, then finish the reply with
    /// its grant.
    Ask(Box<Prepared>),
}

/// What the decision was, for an application that asked over the app socket (the `Xsendfiled-*`
/// fields of `server/app.rs`); filled only when asked for, so other requests allocate nothing.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Note {
    /// The file was allowed (else refused, or a fault).
    pub(crate) sent: bool,
    /// The log reason of a refusal or fault.
    pub(crate) reason: Option<String>,
    /// On send: the canonical path relative to its root, its size and modification time.
    pub(crate) file: Option<(Vec<u8>, u64, i64)>,
}

/// Decides `req` under `policy`, writes the reply to `out` (CGI bytes for a `Vec<u8>`), logs the
/// decision, and returns the HTTP status answered (200 for an offload) and, for the `serve`
/// backend, the bytes to stream. Without a state store, a limited-use link is refused (503).
pub fn handle(req: &Request<'_>, policy: &Policy, out: &mut impl HeaderSink) -> (u16, Option<Body>) {
    handle_granted(req, policy, out, Grant::Unavailable)
}

/// [`handle`] for a request whose limited-use link (if it has one) the state store answered with
/// `grant` (ignored for any other request).
pub fn handle_granted(
    req: &Request<'_>,
    policy: &Policy,
    out: &mut impl HeaderSink,
    grant: Grant,
) -> (u16, Option<Body>) {
    match handle_how(req, policy, out, None, How::Decide(Wait::Allowed), Some(grant)) {
        Ok(Handled::Answered(status, body)) => (status, body),
        // Unreachable: only Wait::Never yields a root to wait on, and a grant was given.
        Ok(Handled::Ask(_)) | Err(_) => (500, None),
    }
}

/// [`handle`] as `how` says, telling what was decided to `note` when given; `Err(root)` when the
/// decision would wait for root `root` under [`Wait::Never`] (nothing written or logged). A
/// limited-use link without a `grant` is [`Handled::Ask`], nothing written to `out` or logged
/// either.
pub(crate) fn handle_how(
    req: &Request<'_>,
    policy: &Policy,
    out: &mut impl HeaderSink,
    mut note: Option<&mut Note>,
    how: How,
    grant: Option<Grant>,
) -> Result<Handled, usize> {
    let decided = match how {
        How::Decide(wait) => decide_waiting(req, policy, wait),
        How::Refuse(status, why) => Ok(Decision::Refuse(status, Reason::Storage(why))),
    };
    if let (How::Decide(Wait::Never), Err(e)) = (how, &decided) {
        if let Some(root) = WouldWait::of(e) {
            return Err(root);
        }
    }
    let metrics = crate::metrics::get();
    let started = (policy.access_log.is_some() || metrics.is_some()).then(std::time::Instant::now);
    let method = Lossy(req.method.unwrap_or_default());
    // Legacy schemes carry their token inside the path: such a path is never logged.
    let hide_path = tokens_in_path(policy);
    let path =
        if hide_path { Lossy(b"<path withheld: it carries a token>") } else { Lossy(req.path().unwrap_or_default()) };
    let mut entry = crate::access_log::Entry {
        remote: req.remote_addr,
        user: req.remote_user,
        method: req.method,
        range: req.conditions.range,
        ..Default::default()
    };
    let uri = if hide_path || policy.access_log.is_none() { None } else { req.request_uri.map(redact_query) };
    entry.uri = uri.as_deref();
    // Owned copies of what the log needs: the decision itself moves into the renderer.
    let mut sent: Option<(Vec<u8>, u64, Option<String>)> = None;
    let mut link: Option<(String, Option<u32>)> = None;
    let mut counted = crate::metrics::Outcome::Fault;
    let (status, body) = match decided {
        Ok(decision) => {
            let decision = match (decision, grant) {
                (Decision::Send(mut send), None) => {
                    if let Some(ask) = send.link.as_mut().and_then(|l| l.ask.take()) {
                        let prepared = Prepared::new(ask, send, req, policy, (uri, path, started));
                        return Ok(Handled::Ask(Box::new(prepared)));
                    }
                    Decision::Send(send)
                }
                (decision, _) => decision,
            };
            if let (Decision::Send(send), Some(_)) = (&decision, &policy.access_log) {
                let limited = send.link.as_ref().is_some_and(|l| l.ask.is_some());
                let use_no = grant.filter(|_| limited).and_then(Grant::use_number);
                link = send.link.as_ref().map(|l| (l.id.clone(), use_no));
            }
            let decision = apply_grant(decision, grant);
            counted = match &decision {
                Decision::Send(_) => crate::metrics::Outcome::Send,
                Decision::Refuse(_, reason) => crate::metrics::Outcome::Refuse(reason.label_index()),
            };
            match &decision {
                Decision::Send(send) => {
                    log::debug!("{method} {path} -> send {} ({} bytes)", Lossy(&send.file.rel), send.file.meta.len);
                    entry.decision = "send";
                    if policy.access_log.is_some() {
                        sent = Some((send.file.rel.to_vec(), send.file.meta.len, send.kid.clone()));
                    }
                    if let Some(n) = note.as_deref_mut() {
                        n.sent = true;
                        n.file = Some((send.file.rel.to_vec(), send.file.meta.len, send.file.meta.mtime));
                    }
                }
                Decision::Refuse(status, reason) => {
                    // Storage that failed the request is the operator's business; a denial is not.
                    let level = if matches!(reason, Reason::Storage(_)) { log::Level::Warn } else { log::Level::Debug };
                    log::log!(level, "{method} {path} -> {} ({reason})", status.code());
                    entry.decision = "refuse";
                    entry.reason = Some(reason.to_string());
                    if let Some(n) = note.as_deref_mut() {
                        n.reason = entry.reason.clone();
                    }
                }
            }
            render(decision, req, policy, out)
        }
        Err(e) => {
            log::error!("{method} {path}: {e}");
            entry.decision = "fault";
            entry.reason = Some(e.to_string());
            if let Some(n) = note {
                n.reason = Some(format!("fault: {e}"));
            }
            // An object store that failed is the gateway's fault (502), or slow (504).
            let status = match crate::guard::store::object::fault_kind(&e) {
                Some(true) => Status::GatewayTimeout,
                Some(false) => Status::BadGateway,
                None => Status::InternalServerError,
            };
            render_error(status, req.is_head(), out);
            (status.code(), None)
        }
    };
    if let (Some(m), Some(t)) = (metrics, started) {
        m.decided(counted, status, t.elapsed());
    }
    if let Some(log) = &policy.access_log {
        if let Some((rel, size, kid)) = &sent {
            entry.file = Some(rel);
            entry.size = Some(*size);
            entry.kid = kid.as_deref();
        }
        if let Some((id, use_no)) = &link {
            entry.link = Some(id);
            entry.use_no = *use_no;
        }
        entry.status = status;
        entry.micros = started.map_or(0, |t| t.elapsed().as_micros() as u64);
        log.record(&entry);
    }
    Ok(Handled::Answered(status, body))
}

/// The decision once the state store answered: a limited-use link is sent only if granted.
fn apply_grant(decision: Decision<'_>, grant: Option<Grant>) -> Decision<'_> {
    match (decision, grant.and_then(Grant::refusal)) {
        (Decision::Send(send), Some((status, reason))) if send.link.as_ref().is_some_and(|l| l.ask.is_some()) => {
            Decision::Refuse(status, reason)
        }
        (decision, _) => decision,
    }
}

/// Whether the configured link scheme puts its token in the path (mod_auth_token, wsgi-xsendfile,
/// secdownload, secure_link_secret).
pub(crate) fn tokens_in_path(policy: &Policy) -> bool {
    policy.signing.as_ref().is_some_and(|s| s.scheme.token_in_path())
}

/// Logs every meta-variable at trace level, for diagnosing what a web server sends. Values that
/// carry credentials (cookies, authorization) are never logged, nor signatures: `sig`/`md5` query
/// values are replaced, and with `paths_carry_tokens` the path variables are withheld.
pub(crate) fn trace_params<'a>(pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>, paths_carry_tokens: bool) {
    if !log::log_enabled!(log::Level::Trace) {
        return;
    }
    for (name, value) in pairs {
        let path_var = matches!(
            name,
            b"PATH_INFO" | b"DOCUMENT_URI" | b"SCRIPT_NAME" | b"REQUEST_URI" | b"PATH_TRANSLATED" | b"SCRIPT_FILENAME"
        );
        let secret =
            matches!(name, b"HTTP_COOKIE" | b"HTTP_AUTHORIZATION" | b"HTTP_PROXY_AUTHORIZATION" | b"REMOTE_PASSWD")
                || (paths_carry_tokens && path_var);
        if secret {
            log::trace!("param {}=<{} bytes withheld>", Lossy(name), value.len());
        } else if matches!(name, b"QUERY_STRING" | b"REQUEST_URI") {
            log::trace!("param {}={}", Lossy(name), Lossy(&redact_query(value)));
        } else {
            log::trace!("param {}={}", Lossy(name), Lossy(value));
        }
    }
}

/// `value` with the values of signature parameters (`sig`, `md5`) replaced by `-`: signatures
/// never reach a log.
pub(crate) fn redact_query(value: &[u8]) -> Vec<u8> {
    let (head, query) = match value.iter().position(|&b| b == b'?') {
        Some(q) => (&value[..=q], &value[q + 1..]),
        None if value.starts_with(b"/") => return value.to_vec(),
        None => (&b""[..], value),
    };
    let mut out = head.to_vec();
    for (i, part) in query.split(|&b| b == b'&').enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        match part.iter().position(|&b| b == b'=') {
            Some(e) if matches!(&part[..e], b"sig" | b"md5") => {
                out.extend_from_slice(&part[..=e]);
                out.push(b'-');
            }
            _ => out.extend_from_slice(part),
        }
    }
    out
}

/// Displays untrusted bytes with every control character and invalid byte escaped, so a request
/// path can never forge log lines.
pub(crate) struct Lossy<'a>(pub &'a [u8]);

impl std::fmt::Display for Lossy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                if c.is_control() || c == '"' || c == '\\' {
                    write!(f, "{}", c.escape_default())?;
                } else {
                    write!(f, "{c}")?;
                }
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Lossy;

    #[test]
    fn signatures_are_redacted() {
        assert_eq!(super::redact_query(b"/a?exp=1&sig=SECRET&x=2"), b"/a?exp=1&sig=-&x=2");
        assert_eq!(super::redact_query(b"md5=abc&expires=5"), b"md5=-&expires=5");
        assert_eq!(super::redact_query(b"/plain/path"), b"/plain/path");
    }

    #[test]
    fn log_text_cannot_break_lines() {
        assert_eq!(Lossy(b"/a\nb\r\xff\"").to_string(), "/a\\nb\\r\\xff\\\"");
    }
}
