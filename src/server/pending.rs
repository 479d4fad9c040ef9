//! A request whose decision must wait, and the waiting: for the file system (decided again on the
//! storage pool, `storage.rs`), then for the state store's grant of a limited-use link
//! (`crate::state`), whichever the request needs. The codec still holds the request's parameters
//! meanwhile; the reply is framed here once decided.

use super::conn::{frame, Resume};
use super::storage::Ran;
use super::Shared;
use crate::guard::token::limit::{Ask, Grant};
use crate::guard::Policy;
use crate::handler::{respond, Answer, How, Prepared};
use crate::protocol::fcgi::{Connection, Pairs};
use std::io::Write;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

/// A request whose decision must wait: for the file system (decided again on the storage pool),
/// or for the state store's grant of a limited-use link ([`decide_on_pool`]); the codec still
/// holds its parameters.
#[derive(Debug)]
pub(crate) struct Pending {
    /// What it waits for.
    pub(crate) awaits: Awaits,
    /// The FastCGI Authorizer role.
    pub(crate) authorizer: bool,
}

/// What a [`Pending`] request waits for.
#[derive(Debug)]
pub(crate) enum Awaits {
    /// The storage pool, for this configured root.
    Root(usize),
    /// The state store, for this grant: the request is decided and its reply rendered.
    Grant(Box<Prepared>),
}

/// Decides the `pending` request on the storage pool if it waits for the file system (the store
/// may wait there, for at most `--storage-timeout`; 503/504 when the pool refuses or times out),
/// then, for a limited-use link, asks the state store for its grant and finishes the reply
/// rendered by the decision; appends the framed reply to `out`. Returns a body to stream (ended by
/// the caller) and whether to close.
pub(crate) async fn decide_on_pool(
    conn: &mut Connection,
    pending: Pending,
    out: &mut Vec<u8>,
    shared: &Shared,
) -> (Option<crate::reply::serve::Body>, bool) {
    let authorizer = pending.authorizer;
    let policy = shared.policy();
    let mark = conn.begin_response(out);
    let prepared = match pending.awaits {
        Awaits::Grant(prepared) => prepared,
        Awaits::Root(root) => match on_pool(conn, root, authorizer, out, shared, &policy).await {
            Answer { ask: Some(prepared), .. } => prepared,
            answer => {
                let close = frame(conn, out, mark, &answer, &policy);
                return (answer.body, close);
            }
        },
    };
    let Prepared { ask, ready } = *prepared;
    let authorize = ready.authorize_role();
    let grant = granted(shared, ask).await;
    let (status, body) = ready.finish(grant, &policy, out);
    let answer = Answer { status, body, authorize, ask: None };
    let close = frame(conn, out, mark, &answer, &policy);
    (answer.body, close)
}

/// Whether the inline path handed `resume` over only to wait for a grant ([`spawn_granted`]).
pub(crate) fn waits_for_grant(resume: &Resume) -> bool {
    resume.body.is_none() && matches!(&resume.pending, Some(Pending { awaits: Awaits::Grant(_), .. }))
}

/// Serves a connection the inline path handed over only to wait for its grant: the task waits for
/// the grant and writes the reply with one non-blocking write, and the socket is never registered
/// with the reactor (two `epoll_ctl` calls fewer per limited-use download). Anything more, a reply
/// the socket would not take whole or a connection kept open, goes on as any other connection
/// (`register`, then `conn::serve`). `hold` (the connection's slot) is released at the end.
pub(crate) fn spawn_granted<S, T>(
    stream: S,
    register: fn(S) -> std::io::Result<T>,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    mut resume: Resume,
    hold: impl Send + 'static,
) where
    S: Send + 'static,
    for<'a> &'a S: Write,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        if let Some(pending) = resume.pending.take() {
            (resume.body, resume.close) = decide_on_pool(&mut resume.conn, pending, &mut resume.out, &shared).await;
        }
        if resume.body.is_none() && (resume.close || resume.conn.should_close()) {
            match super::inline::write_now(&stream, &mut resume.out) {
                Ok(true) => return drop(hold),
                Ok(false) => {}
                Err(e) => {
                    // nginx may close right after the headers of an X-Accel-Redirect: not an error.
                    log::debug!("closing connection: write error: {e}");
                    return drop(hold);
                }
            }
        }
        match register(stream) {
            Ok(stream) => super::conn::serve(stream, shared, stop, resume).await,
            Err(e) => log::warn!("registering a connection: {e}"),
        }
        drop(hold);
    });
}

/// The request decided on the storage pool, its reply (if any) appended to `out`.
async fn on_pool(
    conn: &Connection,
    root: usize,
    authorizer: bool,
    out: &mut Vec<u8>,
    shared: &Shared,
    policy: &Arc<Policy>,
) -> Answer {
    let root = policy.root_at(root).map_or(policy.root.path(), |r| r.path()).to_owned();
    let (params, on_pool) = (conn.params().to_vec(), policy.clone());
    let ran = shared
        .storage
        .run(&root, move || {
            let mut reply = Vec::with_capacity(512);
            let pairs = Pairs::new(&params).map_while(Result::ok);
            let answer = crate::handler::respond_waiting(pairs, authorizer, &on_pool, &mut reply);
            (reply, answer)
        })
        .await;
    match ran {
        Ran::Done((reply, answer)) => {
            out.extend_from_slice(&reply);
            answer
        }
        Ran::Refused(status, why) => {
            let pairs = Pairs::new(conn.params()).map_while(Result::ok);
            let how = How::Refuse(status, why);
            match respond(pairs, authorizer, policy, out, how) {
                Ok(answer) => answer,
                Err(_) => Answer { status: status.code(), body: None, authorize: authorizer, ask: None },
            }
        }
    }
}

/// The state store's answer to `ask`, or [`Grant::Unavailable`] when no `--state` is configured
/// (503, failing closed). The store bounds its own wait (`--state-timeout`) and counts the result.
async fn granted(shared: &Shared, ask: Ask) -> Grant {
    match &shared.state {
        Some(store) => store.grant(ask).await,
        None => Grant::Unavailable,
    }
}
