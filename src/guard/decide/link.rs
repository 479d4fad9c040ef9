//! Step 2 of the decision: the signed link, verified with the configured scheme (SDL1, or a legacy
//! scheme that carries its token in the path), where the location requires one or the link
//! carries one anyway.
//!
//! Invariant: a link that fails is a refusal (403, 410, or the legacy scheme's own status); a
//! valid one contributes its key id, its claims and (legacy schemes) the file path it covers.

use super::{carries_signature, needs_signature, strip_prefix, Reason, Status};
use crate::guard::token::limit::{Ask, Limit, Linked};
use crate::guard::token::{compat, sdl1, Claims, Scheme, Signing};
use crate::guard::trace::{Signature, Step, Trace};
use crate::guard::Policy;
use crate::protocol::request::Request;

/// What a verified link contributes.
#[derive(Default)]
pub(super) struct Link {
    pub(super) kid: Option<String>,
    pub(super) claims: Claims,
    /// The file path a legacy link carries in its own layout (relative to the mount).
    pub(super) file_path: Option<Vec<u8>>,
    /// The link id (SDL1 `id`) and what the state store must grant (SDL1 `uses`).
    pub(super) link: Option<Box<Linked>>,
}

/// Verifies the link where one is needed or carried (else an empty [`Link`]) and tells the trace.
/// `served` is the whole decoded request path.
pub(super) fn signature<T: Trace>(
    req: &Request<'_>,
    policy: &Policy,
    served: Option<&[u8]>,
    now: u64,
    trace: &mut T,
) -> Result<Link, (Status, Reason)> {
    let required = needs_signature(req, policy);
    if !required && !carries_signature(req, policy) {
        trace.step(Step::Signature(Signature::NotChecked));
        return Ok(Link::default());
    }
    let verdict = match &policy.signing {
        None => {
            log::error!("a signed link is required here but no --keys are configured");
            Err((Status::Forbidden, Reason::NoKeys))
        }
        Some(signing) => verify_link(req, policy, signing, served, now),
    };
    let told = match &verdict {
        Ok(l) => Ok(l.kid.as_deref()),
        Err((_, reason)) => Err(reason as &dyn std::fmt::Display),
    };
    trace.step(Step::Signature(Signature::Checked { required, verdict: told }));
    verdict
}

/// Verifies the link with the configured scheme.
fn verify_link(
    req: &Request<'_>,
    policy: &Policy,
    signing: &Signing,
    served: Option<&[u8]>,
    now: u64,
) -> Result<Link, (Status, Reason)> {
    let keys = signing.keys();
    match &signing.scheme {
        Scheme::Sdl1 => {
            let input = sdl1::Input {
                request_uri: req.request_uri,
                remote_addr: req.remote_addr,
                now,
                max_ttl: signing.max_ttl,
            };
            match sdl1::verify(&keys, &input) {
                Err(sdl1::Failure::Expired) => Err((Status::Gone, Reason::Token(sdl1::Failure::Expired))),
                Err(f) => Err((Status::Forbidden, Reason::Token(f))),
                Ok(v) if served != Some(v.path.as_slice()) => Err((Status::Forbidden, Reason::SignedPathMismatch)),
                Ok(v) => limited(req, signing, v, now),
            }
        }
        Scheme::Legacy(scheme) => {
            let served = served.unwrap_or_default();
            let mounted = match strip_prefix(req, policy) {
                None => Some(served),
                Some((prefix, _)) => served.strip_prefix(prefix).filter(|r| r.first() == Some(&b'/')),
            };
            let Some(mounted) = mounted else {
                return Err((Status::NotFound, Reason::Path(crate::guard::path::PathRejection::OutsidePrefix)));
            };
            let input = compat::Input {
                path: mounted,
                uri: served,
                request_uri: req.request_uri.unwrap_or_default(),
                query: req.query_string.unwrap_or_default(),
                remote_addr: req.remote_addr.unwrap_or_default(),
                now,
                max_ttl: signing.max_ttl,
            };
            match scheme.verify(&keys, &input) {
                Ok(a) if signing.revocations.refuses(&a.kid, None) => Err((Status::Forbidden, Reason::Revoked)),
                Ok(a) => Ok(Link { kid: Some(a.kid), file_path: Some(a.path), ..Link::default() }),
                Err(r) => Err((Status::from_code(r.status), Reason::Legacy(r.why))),
            }
        }
    }
}

/// A verified SDL1 link, checked against the node's revocation list, with what the state store
/// must grant when it limits its uses (HEAD only looks).
fn limited(req: &Request<'_>, signing: &Signing, v: sdl1::Verified, now: u64) -> Result<Link, (Status, Reason)> {
    let id = v.limit.as_ref().map(|l| l.id.as_str());
    if signing.revocations.refuses(&v.kid, id) {
        return Err((Status::Forbidden, Reason::Revoked));
    }
    let ask = match &v.limit {
        Some(Limit { id, uses: Some(uses), window }) => {
            let client = req.remote_addr.and_then(|a| std::str::from_utf8(a).ok()).filter(|a| !a.is_empty());
            let Some(client) = client else { return Err((Status::Forbidden, Reason::NoClientAddress)) };
            Some(Ask {
                id: id.clone(),
                kid: v.kid.clone(),
                uses: *uses,
                window: window.unwrap_or(signing.grant_window),
                expires: v.exp,
                client: client.to_owned(),
                open: !req.is_head(),
                now,
            })
        }
        _ => None,
    };
    let link = v.limit.map(|l| Box::new(Linked { id: l.id, ask }));
    Ok(Link { kid: Some(v.kid), claims: v.claims, file_path: None, link })
}
