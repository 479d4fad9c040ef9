//! One transport-neutral view of a request, built from FastCGI params or the CGI environment.
//!
//! Both transports deliver the same CGI/1.1 meta-variables (RFC 3875 §4.1) as byte strings. This
//! module picks out the ones the decision needs, borrowing them, and nothing else. The only
//! client headers (`HTTP_*`) kept are the conditional and range headers of RFC 9110 §13–14, which
//! choose *which bytes* the `serve` backend sends of a file already allowed; none can change
//! whether a file is allowed.

/// Per-request policy the web server sets (`fastcgi_param`, `SetEnv`, `FcgidInitialEnv`,
/// `setenv.set-environment`). Only names without the `HTTP_` prefix are read, so a client header
/// can never arrive here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Trusted<'a> {
    /// `XSENDFILED_FILENAME`: the download name.
    pub(crate) filename: Option<&'a [u8]>,
    /// `XSENDFILED_DISPOSITION`: auto, inline, attachment or none.
    pub(crate) disposition: Option<&'a [u8]>,
    /// `XSENDFILED_APP_DISPOSITION`: the `Content-Disposition` the response already carries (nginx
    /// `$sent_http_content_disposition`: an application's own header, kept by nginx across its
    /// `X-Accel-Redirect`). When not empty, xsendfiled adds none, so the client gets exactly one.
    pub(crate) app_disposition: Option<&'a [u8]>,
    /// `XSENDFILED_CACHE_CONTROL`.
    pub(crate) cache_control: Option<&'a [u8]>,
    /// `XSENDFILED_EXPIRES`: seconds from now.
    pub(crate) expires: Option<&'a [u8]>,
    /// `XSENDFILED_ACCEL_EXPIRES`: nginx `X-Accel-Expires` seconds.
    pub(crate) accel_expires: Option<&'a [u8]>,
    /// `XSENDFILED_LIMIT_RATE`: bytes per second.
    pub(crate) limit_rate: Option<&'a [u8]>,
    /// `XSENDFILED_BUFFERING`: yes or no.
    pub(crate) buffering: Option<&'a [u8]>,
    /// `XSENDFILED_STRIP_PREFIX`: this location's public prefix.
    pub(crate) strip_prefix: Option<&'a [u8]>,
    /// `XSENDFILED_TRUST_QUERY=1`: the query string carries policy (an `internal` location only).
    pub(crate) trust_query: bool,
    /// `XSENDFILED_ROOT`: one of the configured roots, or a directory inside one.
    pub(crate) root: Option<&'a [u8]>,
    /// `X_REDIRECT_MAP` (xsendfile_middleware's name) or `XSENDFILED_ACCEL_MAPPING` (Rack's
    /// grammar): a redirect map for this location.
    pub(crate) redirect_map: Option<&'a [u8]>,
}

/// The meta-variables xsendfiled reads, borrowed from the params buffer or the environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Request<'a> {
    /// `REQUEST_METHOD` (RFC 3875 §4.1.12).
    pub(crate) method: Option<&'a [u8]>,
    /// `PATH_INFO` (§4.1.5): already percent-decoded by the server.
    pub(crate) path_info: Option<&'a [u8]>,
    /// `DOCUMENT_URI` (nginx): the decoded, normalised request path.
    pub(crate) document_uri: Option<&'a [u8]>,
    /// `SCRIPT_NAME` (§4.1.13).
    pub(crate) script_name: Option<&'a [u8]>,
    /// `REQUEST_URI` (nginx, Apache): the raw request target, for logs only.
    pub(crate) request_uri: Option<&'a [u8]>,
    /// `QUERY_STRING` (§4.1.7), raw.
    pub(crate) query_string: Option<&'a [u8]>,
    /// `REMOTE_ADDR` (§4.1.8).
    pub(crate) remote_addr: Option<&'a [u8]>,
    /// `REMOTE_USER` (§4.1.11), for the access log.
    pub(crate) remote_user: Option<&'a [u8]>,
    /// `XSENDFILED_AUTH`, set by the server (`signed` or `none`): whether this location needs a
    /// signed link. A trusted parameter: a client header would arrive as `HTTP_XSENDFILED_AUTH`.
    pub(crate) auth: Option<&'a [u8]>,
    /// Per-request policy from the server.
    pub(crate) trusted: Trusted<'a>,
    /// Answer allow/deny instead of offloading: the FastCGI Authorizer role (set by the shell), or
    /// the trusted parameter `XSENDFILED_MODE=authorize` (nginx `auth_request`).
    pub(crate) authorize: bool,
    /// Conditional and range headers, used only by the `serve` backend to pick the bytes of a
    /// file already allowed (never to decide whether it is allowed).
    pub(crate) conditions: Conditions<'a>,
}

impl<'a> Request<'a> {
    /// Builds the view from `(name, value)` pairs. A name given twice keeps its first value
    /// (what libfcgi's `FCGX_GetParam` returns).
    pub fn from_pairs<I>(pairs: I) -> Request<'a>
    where
        I: IntoIterator<Item = (&'a [u8], &'a [u8])>,
    {
        let mut r = Request::default();
        for (name, value) in pairs {
            let slot = match name {
                b"REQUEST_METHOD" => &mut r.method,
                b"PATH_INFO" => &mut r.path_info,
                b"DOCUMENT_URI" => &mut r.document_uri,
                b"SCRIPT_NAME" => &mut r.script_name,
                b"REQUEST_URI" => &mut r.request_uri,
                b"QUERY_STRING" => &mut r.query_string,
                b"REMOTE_ADDR" => &mut r.remote_addr,
                b"REMOTE_USER" => &mut r.remote_user,
                b"XSENDFILED_AUTH" => &mut r.auth,
                b"XSENDFILED_MODE" => {
                    r.authorize |= value == b"authorize";
                    continue;
                }
                b"XSENDFILED_TRUST_QUERY" => {
                    r.trusted.trust_query |= matches!(value, b"1" | b"yes" | b"true" | b"on");
                    continue;
                }
                b"XSENDFILED_FILENAME" => &mut r.trusted.filename,
                b"XSENDFILED_DISPOSITION" => &mut r.trusted.disposition,
                b"XSENDFILED_APP_DISPOSITION" => &mut r.trusted.app_disposition,
                b"XSENDFILED_CACHE_CONTROL" => &mut r.trusted.cache_control,
                b"XSENDFILED_EXPIRES" => &mut r.trusted.expires,
                b"XSENDFILED_ACCEL_EXPIRES" => &mut r.trusted.accel_expires,
                b"XSENDFILED_LIMIT_RATE" => &mut r.trusted.limit_rate,
                b"XSENDFILED_BUFFERING" => &mut r.trusted.buffering,
                b"XSENDFILED_STRIP_PREFIX" => &mut r.trusted.strip_prefix,
                b"XSENDFILED_ROOT" => &mut r.trusted.root,
                b"X_REDIRECT_MAP" | b"XSENDFILED_ACCEL_MAPPING" => &mut r.trusted.redirect_map,
                b"HTTP_IF_MATCH" => &mut r.conditions.if_match,
                b"HTTP_IF_NONE_MATCH" => &mut r.conditions.if_none_match,
                b"HTTP_IF_MODIFIED_SINCE" => &mut r.conditions.if_modified_since,
                b"HTTP_IF_UNMODIFIED_SINCE" => &mut r.conditions.if_unmodified_since,
                b"HTTP_RANGE" => &mut r.conditions.range,
                b"HTTP_IF_RANGE" => &mut r.conditions.if_range,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        r
    }

    /// The path to resolve: `PATH_INFO` if non-empty, else `DOCUMENT_URI`, else `SCRIPT_NAME`.
    ///
    /// `None` when the server sent none of them (a malformed request).
    pub(crate) fn path(&self) -> Option<&'a [u8]> {
        [self.path_info, self.document_uri, self.script_name].into_iter().flatten().find(|p| !p.is_empty())
    }

    /// The whole decoded request path as the server sees it: `SCRIPT_NAME` + `PATH_INFO` when the
    /// server split it, else `DOCUMENT_URI`, else `SCRIPT_NAME`. A signed link must cover exactly
    /// this path.
    pub(crate) fn full_path(&self) -> Option<std::borrow::Cow<'a, [u8]>> {
        match (self.path_info.filter(|p| !p.is_empty()), self.document_uri.filter(|p| !p.is_empty())) {
            (Some(info), _) => {
                let script = self.script_name.unwrap_or_default();
                if script.is_empty() {
                    Some(std::borrow::Cow::Borrowed(info))
                } else {
                    Some(std::borrow::Cow::Owned([script, info].concat()))
                }
            }
            (None, Some(doc)) => Some(std::borrow::Cow::Borrowed(doc)),
            (None, None) => self.script_name.filter(|p| !p.is_empty()).map(std::borrow::Cow::Borrowed),
        }
    }

    /// Whether the server marked this location's query string as trusted policy.
    pub(crate) fn trust_query(&self) -> bool {
        self.trusted.trust_query
    }

    /// True for `HEAD` (answered with the headers of `GET` and no body).
    pub(crate) fn is_head(&self) -> bool {
        self.method == Some(b"HEAD")
    }
}

/// Conditional and range request headers (`HTTP_*` meta-variables, RFC 3875 §4.1.18).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Conditions<'a> {
    /// `If-Match`.
    pub(crate) if_match: Option<&'a [u8]>,
    /// `If-None-Match`.
    pub(crate) if_none_match: Option<&'a [u8]>,
    /// `If-Modified-Since`.
    pub(crate) if_modified_since: Option<&'a [u8]>,
    /// `If-Unmodified-Since`.
    pub(crate) if_unmodified_since: Option<&'a [u8]>,
    /// `Range`.
    pub(crate) range: Option<&'a [u8]>,
    /// `If-Range`.
    pub(crate) if_range: Option<&'a [u8]>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_precedence() {
        let pairs: Vec<(&[u8], &[u8])> =
            vec![(b"SCRIPT_NAME", b"/s"), (b"DOCUMENT_URI", b"/d"), (b"PATH_INFO", b""), (b"HTTP_PATH_INFO", b"/evil")];
        let r = Request::from_pairs(pairs);
        assert_eq!(r.path(), Some(&b"/d"[..]));
        let r = Request::from_pairs(vec![(&b"PATH_INFO"[..], &b"/p"[..]), (b"PATH_INFO", b"/q")]);
        assert_eq!(r.path(), Some(&b"/p"[..]));
        assert_eq!(Request::default().path(), None);
    }
}
