//! A limited-use link decided once and rendered, waiting for the state store's grant.
//!
//! The decision of such a link (signature, policy, the file looked up) is complete before the
//! store is asked, and the grant cannot change it, only veto it: a granted use sends the reply
//! already rendered; a refused one (spent, revoked, store unavailable) is answered with the
//! refusal instead. So the request is never decided a second time. The request's parameters stay
//! with the shell meanwhile, so what the log needs is copied out of them here, and only when
//! something logs. The time logged (`us`) and measured (`decision_duration`) runs from the
//! decision to the store's answer: waiting for the grant is part of deciding such a request.

use super::Lossy;
use crate::access_log::Entry;
use crate::guard::decide::{Decision, Status};
use crate::guard::token::limit::{Ask, Grant};
use crate::guard::{Backend, Policy};
use crate::protocol::request::Request;
use crate::reply::response::{render, render_error};
use crate::reply::serve::Body;
use std::time::Instant;

/// A limited-use link waiting for its grant: what to ask, and the reply that is ready.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// What to ask the state store.
    pub(crate) ask: Ask,
    /// The reply, once the store answered ([`Ready::finish`]).
    pub(crate) ready: Ready,
}

/// The reply of a limited-use link rendered as sent, and what the log needs, until the grant.
#[derive(Debug)]
pub(crate) struct Ready {
    /// The reply rendered for the file (CGI header bytes).
    reply: Vec<u8>,
    /// Its status (200 for an offload).
    status: u16,
    /// For the `serve` backend: the bytes to stream.
    body: Option<Body>,
    /// The request was HEAD (a refusal has no body then).
    head: bool,
    /// Decided in authorize mode: answered as such, and any refusal is a 403.
    authorize: bool,
    /// The FastCGI Authorizer role or `XSENDFILED_MODE=authorize` (reported back to the shell).
    authorize_role: bool,
    /// `METHOD path` and `send FILE (N bytes)`, when debug logging is on.
    debug: Option<(String, String)>,
    /// The access log's fields, when an access log is configured.
    logged: Option<Box<Logged>>,
    /// When the decision began, if timed (access log, metrics).
    started: Option<Instant>,
}

/// Owned copies of the access-log fields of [`Entry`].
#[derive(Debug)]
struct Logged {
    remote: Option<Vec<u8>>,
    user: Option<Vec<u8>>,
    method: Option<Vec<u8>>,
    uri: Option<Vec<u8>>,
    range: Option<Vec<u8>>,
    file: Vec<u8>,
    size: u64,
    kid: Option<String>,
    link: Option<String>,
}

impl Prepared {
    /// Renders `send` (a limited-use link the decision allowed) for `req`, the grant to ask
    /// taken out of it as `ask`. `uri` is the redacted request URI for the access log, `path`
    /// what the debug line shows for the path.
    pub(crate) fn new(
        ask: Ask,
        send: crate::guard::decide::Send<'_>,
        req: &Request<'_>,
        policy: &Policy,
        (uri, path, started): (Option<Vec<u8>>, Lossy<'_>, Option<Instant>),
    ) -> Prepared {
        let method = Lossy(req.method.unwrap_or_default());
        let debug = log::log_enabled!(log::Level::Debug).then(|| {
            (format!("{method} {path}"), format!("send {} ({} bytes)", Lossy(&send.file.rel), send.file.meta.len))
        });
        let logged = policy.access_log.as_ref().map(|_| {
            let own = |v: Option<&[u8]>| v.map(<[u8]>::to_vec);
            Box::new(Logged {
                remote: own(req.remote_addr),
                user: own(req.remote_user),
                method: own(req.method),
                uri,
                range: own(req.conditions.range),
                file: send.file.rel.to_vec(),
                size: send.file.meta.len,
                kid: send.kid.clone(),
                link: send.link.as_ref().map(|l| l.id.clone()),
            })
        });
        let mut reply = Vec::with_capacity(256);
        let (status, body) = render(Decision::Send(send), req, policy, &mut reply);
        let ready = Ready {
            reply,
            status,
            body,
            head: req.is_head(),
            authorize: req.authorize || policy.backend == Backend::Authorizer,
            authorize_role: req.authorize,
            debug,
            logged,
            started,
        };
        Prepared { ask, ready }
    }
}

impl Ready {
    /// Whether the request was decided in the authorize role (for the shell's framing).
    pub(crate) fn authorize_role(&self) -> bool {
        self.authorize_role
    }

    /// Answers with the store's `grant`: the reply rendered for the file when it allows the use,
    /// else the refusal it names (410 spent, 403 revoked, 503 unavailable; 403 in authorize
    /// mode). Appends the reply to `out`, logs and counts the decision like any other; returns
    /// the status and, for `serve`, the bytes to stream.
    pub(crate) fn finish(self, grant: Grant, policy: &Policy, out: &mut Vec<u8>) -> (u16, Option<Body>) {
        let refusal = grant.refusal();
        let (status, body, counted) = match refusal {
            None => {
                out.extend_from_slice(&self.reply);
                if let Some((line, sent)) = &self.debug {
                    log::debug!("{line} -> {sent}");
                }
                (self.status, self.body, crate::metrics::Outcome::Send)
            }
            Some((status, reason)) => {
                let status = if self.authorize { Status::Forbidden } else { status };
                render_error(status, self.head, out);
                if let Some((line, _)) = &self.debug {
                    log::debug!("{line} -> {} ({reason})", status.code());
                }
                (status.code(), None, crate::metrics::Outcome::Refuse(reason.label_index()))
            }
        };
        if let (Some(m), Some(t)) = (crate::metrics::get(), self.started) {
            m.decided(counted, status, t.elapsed());
        }
        if let (Some(log), Some(l)) = (&policy.access_log, &self.logged) {
            let mut entry = Entry {
                remote: l.remote.as_deref(),
                user: l.user.as_deref(),
                method: l.method.as_deref(),
                uri: l.uri.as_deref(),
                range: l.range.as_deref(),
                link: l.link.as_deref(),
                status,
                micros: self.started.map_or(0, |t| t.elapsed().as_micros() as u64),
                ..Default::default()
            };
            match refusal {
                None => {
                    entry.decision = "send";
                    entry.file = Some(&l.file);
                    entry.size = Some(l.size);
                    entry.kid = l.kid.as_deref();
                    entry.use_no = grant.use_number();
                }
                Some((_, reason)) => {
                    entry.decision = "refuse";
                    entry.reason = Some(reason.to_string());
                }
            }
            log.record(&entry);
        }
        (status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::Prepared;
    use crate::guard::store::Wait;
    use crate::guard::token::keys::KeyRing;
    use crate::guard::token::limit::{Grant, Limit};
    use crate::guard::token::sdl1::{self, SignSpec};
    use crate::guard::token::{Claims, Signing};
    use crate::guard::{Backend, Policy};
    use crate::handler::{handle_granted, respond, How};
    use crate::protocol::request::Request;

    const KEY: &str = "k1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

    fn policy(root: &std::path::Path, log: &std::path::Path, backend: Backend) -> Policy {
        let mut p = Policy::build(root, backend, Some("/_protected"), Some("/dl"), false).expect("policy");
        p.signing = Some(Signing::new(KeyRing::parse(KEY, "test").expect("ring"), true, 86_400));
        p.access_log = Some(crate::access_log::AccessLog::open(log.to_str().expect("utf-8")).expect("log"));
        p
    }

    fn url() -> String {
        let now = crate::state::now();
        let key: Vec<u8> = (0u8..32).collect();
        let limit = Some(Limit { id: "L9".into(), uses: Some(2), window: None });
        let spec = SignSpec {
            kid: "k1",
            key: &key,
            path: "/dl/a.txt",
            exp: now + 3600,
            nbf: None,
            prefix: None,
            network: None,
            claims: Claims::default(),
            limit,
        };
        sdl1::sign(&spec).expect("sign")
    }

    /// The last access-log line without its time and duration.
    fn last_line(log: &std::path::Path) -> String {
        let text = std::fs::read_to_string(log).expect("log");
        let line = text.lines().last().expect("a line");
        let line = &line[line.find("\"remote\"").expect("remote")..];
        line[..line.find(",\"us\"").expect("us")].to_owned()
    }

    /// Deciding once and finishing with the grant answers and logs exactly what deciding again
    /// with the grant did: for every answer of the store, GET and HEAD, an ordinary request and
    /// one in authorize mode.
    #[test]
    fn a_finished_reply_is_the_reply_decided_with_the_grant() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("files");
        std::fs::create_dir(&root).expect("mkdir");
        std::fs::write(root.join("a.txt"), b"hello\n").expect("file");
        let log = dir.path().join("access.log");
        let url = url();
        let grants =
            [Grant::Opened(1), Grant::Same(1), Grant::Looked, Grant::Spent, Grant::Revoked, Grant::Unavailable];
        for backend in [Backend::Nginx, Backend::Serve, Backend::Authorizer] {
            let p = policy(&root, &log, backend);
            for (method, mode) in [("GET", ""), ("HEAD", ""), ("GET", "authorize")] {
                let pairs: Vec<(&[u8], &[u8])> = vec![
                    (b"REQUEST_METHOD", method.as_bytes()),
                    (b"REQUEST_URI", url.as_bytes()),
                    (b"DOCUMENT_URI", b"/dl/a.txt"),
                    (b"REMOTE_ADDR", b"10.0.0.1"),
                    (b"XSENDFILED_MODE", mode.as_bytes()),
                ];
                for grant in grants {
                    let case = format!("{backend:?} {method} {mode:?} {grant:?}");
                    let mut again = Vec::new();
                    let (want, body_again) = handle_granted(&Request::from_pairs(pairs.clone()), &p, &mut again, grant);
                    let logged_again = last_line(&log);

                    let mut out = Vec::new();
                    let how = How::Decide(Wait::Allowed);
                    let answer = respond(pairs.iter().copied(), false, &p, &mut out, how).expect("decided");
                    assert!(out.is_empty(), "{case}: nothing written before the grant");
                    let Prepared { ask, ready } = *answer.ask.expect("a grant to ask");
                    assert_eq!((ask.id.as_str(), ask.client.as_str(), ask.open), ("L9", "10.0.0.1", method == "GET"));
                    assert_eq!(ready.authorize_role(), answer.authorize);
                    let (status, body) = ready.finish(grant, &p, &mut out);
                    assert_eq!(status, want, "{case}");
                    assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&again), "{case}");
                    assert_eq!(body.is_some(), body_again.is_some(), "{case}: a body to stream");
                    assert_eq!(last_line(&log), logged_again, "{case}");
                }
            }
        }
    }
}
