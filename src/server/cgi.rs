//! CGI/1.1 (RFC 3875): one request from the environment, one response on stdout.
//!
//! Chosen when fd 0 is not a listening socket and `GATEWAY_INTERFACE` is set (RFC 3875 §4.1.4).
//! The meta-variables are read as bytes (§4.1: the server may pass non-UTF-8 values) and go through
//! the same [`crate::handler::respond`] as FastCGI requests. The response is the CGI header block
//! of §6.3 — `Status` for errors, the offload header for a file — and, for errors, a short body.

use crate::guard::Policy;
use std::ffi::OsString;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStringExt;

/// Answers the request described by `env` on `stdout`; returns the HTTP status answered.
///
/// A request body announced by `CONTENT_LENGTH` (RFC 3875 §4.1.2) is read from `stdin` and
/// discarded first, up to `max_stdin` bytes: a server that is still writing it would otherwise
/// fail on a closed pipe instead of relaying the answer.
///
/// # Errors
/// Only when stdout cannot be written.
pub(crate) fn run<I, R, W>(
    policy: &Policy,
    state: Option<&crate::state::Store>,
    env: I,
    stdin: &mut R,
    max_stdin: u64,
    stdout: &mut W,
) -> io::Result<u16>
where
    I: IntoIterator<Item = (OsString, OsString)>,
    R: Read,
    W: Write,
{
    let vars: Vec<(Vec<u8>, Vec<u8>)> = env.into_iter().map(|(k, v)| (k.into_vec(), v.into_vec())).collect();
    let announced = vars
        .iter()
        .find(|(k, _)| k == b"CONTENT_LENGTH")
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.trim().parse::<u64>().ok())
        .unwrap_or(0);
    if announced > 0 {
        // A read error only means there is nothing more to drain.
        let _ = io::copy(&mut stdin.take(announced.min(max_stdin)), &mut io::sink());
    }
    let mut out = Vec::with_capacity(512);
    // One request, one process: the lookup may simply wait (there is nothing else to keep
    // answering); the web server's own CGI timeout bounds it.
    let pairs = || vars.iter().map(|(k, v)| (k.as_slice(), v.as_slice()));
    if let (Some(store), Some(signing)) = (state, &policy.signing) {
        // One request, no refresher: the revocation list is read once. Always: the decision
        // finds a signature in `REQUEST_URI` (a rewrite may drop `QUERY_STRING`), a legacy token
        // in `md5=` or the path, so no variable tells beforehand that no link will be checked.
        store.load_revocations(&signing.revocations);
    }
    let mut answer = crate::handler::respond_waiting(pairs(), false, policy, &mut out);
    if let Some(prepared) = answer.ask.take() {
        // The one-shot program may wait for its grant too: it serves nobody else.
        let crate::handler::Prepared { ask, ready } = *prepared;
        let grant = state.map_or(crate::guard::token::limit::Grant::Unavailable, |s| s.grant_now(ask));
        (answer.status, answer.body) = ready.finish(grant, policy, &mut out);
    }
    let (status, body) = (answer.status, answer.body);
    stdout.write_all(&out)?;
    if let Some(body) = body {
        // The `serve` backend: the bytes come from the handle that was checked, or the object.
        let mut file = match body.source {
            crate::reply::serve::Source::File(file) => file,
            crate::reply::serve::Source::Object(get) => {
                crate::objstore::get::copy_blocking(&get, body.offset, body.len, stdout)?;
                stdout.flush()?;
                return Ok(status);
            }
        };
        file.seek(SeekFrom::Start(body.offset))?;
        let sent = io::copy(&mut file.take(body.len), stdout)?;
        if sent != body.len {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank while it was being sent"));
        }
    }
    stdout.flush()?;
    Ok(status)
}
