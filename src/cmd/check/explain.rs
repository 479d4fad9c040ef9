//! `check URI`: the request a web server would send for a URI, decided once with a trace sink, so
//! the report is the decision's own account of each step (which variable named the path, the
//! prefix removed, the string checks, the root, what the store found and any symlink followed, the
//! signature, how the file is named), then the decision and the exact reply.
//!
//! Invariants: nothing here decides or resolves anything itself; every name that reaches the
//! report goes through [`esc`], so a file name cannot forge a line or drive the terminal.

use super::esc;
use crate::config::Config;
use crate::guard::decide::{decide_traced, Decision};
use crate::guard::trace::{Looked, NamedBy, Naming, PrefixFrom, RootChoice, RootFrom, Signature, Source, Step, Trace};
use crate::protocol::request::Request;
use std::fmt::Write;
use std::os::unix::ffi::OsStrExt;

fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

/// One report line: the label in a column of its own, then the text.
fn line(s: &mut String, label: &str, text: impl std::fmt::Display) {
    let _ = writeln!(s, "  {label:<15}{text}");
}

/// What xsendfiled answers for a URI, for `doctor` to hold the web server's answer against: taken
/// from the same decision and reply the report describes.
#[derive(Debug, Default)]
pub(crate) struct Expected {
    /// The status xsendfiled answers (200 for an offload); 0 when the URI cannot be asked.
    pub(crate) status: u16,
    /// The refusal reason's label (`Reason::LABELS`) and text, for a refusal.
    pub(crate) refusal: Option<(&'static str, String)>,
    /// For a send: the file (its absolute path under its configured root) and its size.
    pub(crate) file: Option<(std::path::PathBuf, u64)>,
    /// The reply's header fields, in order.
    pub(crate) headers: Vec<(String, String)>,
}

/// Explains what would be answered for `uri` (as a browser requests it) at time `now`. `params`
/// are the server's meta-variables; they come before the ones derived from the URI, so a
/// `--param SCRIPT_NAME=… --param PATH_INFO=…` describes a server that split the path.
/// Returns the report and what was expected.
pub(crate) fn explain_expecting(
    c: &Config,
    uri: &str,
    method: &str,
    client: &str,
    params: &[(String, String)],
    now: u64,
) -> (String, Expected) {
    let p = &c.policy;
    let mut expected = Expected::default();
    let mut s = format!("{} {}\n", esc(method), esc(uri));
    let (raw_path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let Some(decoded) = crate::guard::percent::decode_once(raw_path.as_bytes()) else {
        line(&mut s, "path", "malformed percent-escape: the web server would answer 400 itself\n");
        return (s, expected);
    };
    line(&mut s, "path", format_args!("{} (decoded once, as the server passes DOCUMENT_URI)", show(&decoded)));
    let mut pairs: Vec<(&[u8], &[u8])> = params.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())).collect();
    pairs.extend_from_slice(&[
        (b"REQUEST_METHOD", method.as_bytes()),
        (b"REQUEST_URI", uri.as_bytes()),
        (b"DOCUMENT_URI", &decoded),
        (b"SCRIPT_NAME", &decoded),
        (b"QUERY_STRING", query.as_bytes()),
        (b"REMOTE_ADDR", client.as_bytes()),
    ]);
    let req = Request::from_pairs(pairs.iter().copied());
    for (k, v) in params {
        line(&mut s, "parameter", format_args!("{}={}", esc(k), esc(v)));
    }
    let mut narrator = Narrator(s);
    let decision = decide_traced(&req, p, now, crate::guard::store::Wait::Allowed, &mut narrator);
    let Narrator(mut s) = narrator;
    match decision {
        Ok(decision) => reply(decision, &req, c, &mut s, &mut expected),
        Err(e) => {
            expected.status = 500;
            line(&mut s, "decision", format_args!("fault (500): {}\n", esc(e)));
        }
    }
    (s, expected)
}

/// The decision's verdict and the header block the web server would get.
fn reply(decision: Decision<'_>, req: &Request<'_>, c: &Config, s: &mut String, expected: &mut Expected) {
    match &decision {
        Decision::Send(send) => {
            match send.link.as_ref().and_then(|l| l.ask.as_ref()) {
                Some(ask) => line(
                    s,
                    "decision",
                    format_args!(
                        "send if the state store grants one of its {} uses (each held by one client address for {} s; check does not ask)",
                        ask.uses, ask.window
                    ),
                ),
                None => line(s, "decision", "send"),
            }
            let root = c.policy.root_at(send.file.root).map(|r| r.path().to_owned()).unwrap_or_default();
            let rel = std::ffi::OsStr::from_bytes(&send.file.rel);
            expected.file = Some((root.join(rel), send.file.meta.len));
        }
        Decision::Refuse(status, reason) => {
            line(s, "decision", format_args!("refuse {}: {}", status.code(), esc(reason)));
            expected.refusal = Some((reason.label(), reason.to_string()));
        }
    }
    let mut out = Vec::new();
    let (status, body) = crate::reply::response::render(decision, req, &c.policy, &mut out);
    let text = String::from_utf8_lossy(&out);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let _ = writeln!(s, "  reply ({status})");
    expected.status = status;
    for header in head.split("\r\n") {
        // A presigned URL would work for anyone who reads this report until it expires.
        let header = match header.split_once("X-Amz-Signature=") {
            Some((before, _)) => format!("{before}X-Amz-Signature=<redacted>"),
            None => header.to_owned(),
        };
        let _ = writeln!(s, "    {}", esc(&header));
        if let Some((name, value)) = header.split_once(": ") {
            expected.headers.push((name.to_owned(), value.to_owned()));
        }
    }
    if !rest.is_empty() {
        let _ = writeln!(s, "    (body: {} bytes)", rest.len());
    }
    if let Some(b) = body {
        let _ = writeln!(s, "    (then {} bytes of the file)", b.len);
    }
}

/// The trace sink of `check`: each step of the decision as a line of the report.
struct Narrator(String);

impl Trace for Narrator {
    fn step(&mut self, step: Step<'_>) {
        let s = &mut self.0;
        match step {
            Step::Signature(sig) => line(s, "signature", signature(&sig)),
            Step::Path { source, path } => {
                let (name, note) = source_name(source);
                line(s, "source", format_args!("{name} {}{note}", show(path)));
            }
            Step::Checks { strip, verdict: Ok(rel) } => {
                if let Some((prefix, from)) = strip {
                    let by = if from == PrefixFrom::Server { " (the server's XSENDFILED_STRIP_PREFIX)" } else { "" };
                    line(s, "strip prefix", format_args!("{} removed{by}", show(prefix)));
                }
                line(s, "checks", format_args!("relative path {} passes every string check", show(rel.as_bytes())));
            }
            Step::Checks { verdict: Err(why), .. } => line(s, "checks", format_args!("refused: {why}")),
            Step::Root(choice) => line(s, "root", root(&choice)),
            Step::Lookup(Ok(found)) => line(s, "resolve", looked(&found)),
            Step::Lookup(Err(refusal)) => line(s, "resolve", format_args!("refused: {}", esc(refusal))),
            Step::Named(naming) => line(s, "named", named(&naming)),
        }
    }
}

fn signature(sig: &Signature<'_>) -> String {
    let Signature::Checked { required, verdict } = sig else { return "not required".to_owned() };
    let why = if *required { "required" } else { "not required, but the link carries one, so it is verified" };
    match verdict {
        Ok(kid) => format!("{why}: valid, key {}", esc(kid.unwrap_or("?"))),
        Err(reason) => format!("{why}; decision below: {}", esc(reason)),
    }
}

/// The variable a path came from, and a note on why that one.
fn source_name(source: Source) -> (&'static str, &'static str) {
    match source {
        Source::PathInfo => ("PATH_INFO", ""),
        Source::DocumentUri => ("DOCUMENT_URI", " (PATH_INFO is empty)"),
        Source::ScriptName => ("SCRIPT_NAME", " (PATH_INFO and DOCUMENT_URI are empty)"),
        Source::Split => ("SCRIPT_NAME + PATH_INFO", " (the server split the path; the strip prefix applies to both)"),
        Source::RequestUri { by_backend: true } => ("REQUEST_URI", " (decoded; authorize mode: --backend authorizer)"),
        Source::RequestUri { by_backend: false } => {
            ("REQUEST_URI", " (decoded; authorize mode: the Authorizer role or XSENDFILED_MODE=authorize)")
        }
        Source::LegacyLink => ("the link", " (the file path a legacy-scheme link carries)"),
    }
}

fn root(choice: &RootChoice<'_>) -> String {
    let from = |from: RootFrom| match from {
        RootFrom::Default => "",
        RootFrom::Param => ", chosen by XSENDFILED_ROOT",
        RootFrom::Query => ", chosen by root= in the trusted query",
    };
    match choice {
        RootChoice::Configured { index, path, from: by } => {
            format!("{} (--root number {}{})", esc(path.display()), index + 1, from(*by))
        }
        RootChoice::Narrowed { holder, path, from: by } => {
            format!("{} (a directory inside --root number {}{})", esc(path.display()), holder + 1, from(*by))
        }
    }
}

fn looked(found: &Looked<'_>) -> String {
    let name = format!("{}/{}", esc(found.root.display()), esc(String::from_utf8_lossy(found.rel)));
    if found.followed {
        format!("symlink(s) followed to {name}: regular file under the root, {} bytes", found.len)
    } else {
        format!("{name}: regular file, {} bytes, no symlink on the way", found.len)
    }
}

fn named(naming: &Naming<'_>) -> String {
    match naming {
        Naming::Uri { prefix, by } => {
            let via = match by {
                NamedBy::InternalPrefix => "--internal-prefix".to_owned(),
                NamedBy::Map { fs, uri } => format!("--map entry {}={}", esc(String::from_utf8_lossy(fs)), esc(uri)),
                NamedBy::ServerMap => "the server's X_REDIRECT_MAP".to_owned(),
                NamedBy::CanonicalPath => "its canonical path".to_owned(),
            };
            format!("under {}/ by {via}", esc(prefix))
        }
        Naming::NamedLocation(name) => format!("by the named location {} (it serves the request's own URI)", esc(name)),
        Naming::AbsolutePath => "by its absolute path (X-Sendfile)".to_owned(),
        Naming::Streamed => "not named: xsendfiled streams the file itself".to_owned(),
        Naming::Allowed => "not named: authorize mode allows, the server sends what it parsed".to_owned(),
        Naming::Presigned { prefix, store } => format!(
            "by a presigned GET of {} handed to the internal location {} (X-Xsendfiled-Url; signature not shown)",
            esc(store),
            esc(prefix)
        ),
    }
}
