//! The policy: every setting a decision reads, built once by the configuration and then only read.
//!
//! Plain data: the guard owns these types so that the configuration builds them and the reply
//! reads them, and nothing here depends on either.

use crate::guard::store::Root;
use std::time::Duration;

/// The offload mechanism, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `X-Accel-Redirect` for nginx.
    Nginx,
    /// `X-Sendfile`, raw absolute path, for Apache mod_xsendfile.
    Apache,
    /// `X-Sendfile`, percent-encoded absolute path, for lighttpd.
    Lighttpd,
    /// CGI local redirect (RFC 3875 §6.2.2) for Apache mod_fcgid / mod_cgi.
    LocalRedirect,
    /// `X-Accel-Redirect` for Caddy's `handle_response`.
    Caddy,
    /// xsendfiled streams the file itself.
    Serve,
    /// Every request is answered allow/deny (authorize mode).
    Authorizer,
}

impl Backend {
    /// Whether this backend names files by a URI under `--internal-prefix`.
    pub fn needs_internal_prefix(self) -> bool {
        matches!(self, Backend::Nginx | Backend::LocalRedirect)
    }
}

/// Everything the decision needs.
#[derive(Debug)]
pub struct Policy {
    /// The canonical, open root.
    pub root: Root,
    /// The offload mechanism.
    pub(crate) backend: Backend,
    /// Internal location prefix, starting with `/`, no trailing `/`, only URI-safe characters;
    /// empty for backends that name files by path.
    pub(crate) internal_prefix: String,
    /// `--s3-internal-prefix`: the web server's internal location that fetches an object from
    /// its presigned URL (like `internal_prefix`, validated).
    pub(crate) object_prefix: String,
    /// Public prefix removed before resolving: starts with `/`, no trailing `/`.
    pub(crate) strip_prefix: Option<Vec<u8>>,
    /// Whether dot-files may be served.
    pub(crate) allow_hidden: bool,
    /// Signed links, when keys are configured.
    pub signing: Option<crate::guard::token::Signing>,
    /// Content-Disposition, caching and rate defaults.
    pub presentation: crate::guard::policy::Defaults,
    /// Where decisions are logged, one JSON line each.
    pub(crate) access_log: Option<crate::access_log::AccessLog>,
    /// Further `--root` directories (a symlink may lead between roots; `XSENDFILED_ROOT` selects).
    pub(crate) other_roots: Vec<Root>,
    /// `--map`: file-system prefix → internal URI prefix.
    pub map: crate::guard::map::Map,
}

impl Policy {
    /// Every configured root, the first `--root` first.
    pub(crate) fn roots(&self) -> impl Iterator<Item = &Root> + Clone {
        std::iter::once(&self.root).chain(self.other_roots.iter())
    }

    /// Root number `i` (0 is the first `--root`).
    pub(crate) fn root_at(&self, i: usize) -> Option<&Root> {
        match i {
            0 => Some(&self.root),
            _ => self.other_roots.get(i - 1),
        }
    }

    /// How many roots are configured.
    pub(crate) fn root_count(&self) -> usize {
        1 + self.other_roots.len()
    }
}

/// `--disposition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispositionMode {
    /// By media type (see the module docs).
    Auto,
    /// Always `inline`.
    Inline,
    /// Always `attachment`.
    Attachment,
    /// No header unless asked for.
    None,
}

impl DispositionMode {
    /// From `auto`, `inline`, `attachment`, `none`.
    pub(crate) fn parse(v: &[u8]) -> Option<DispositionMode> {
        Some(match v {
            b"auto" => DispositionMode::Auto,
            b"inline" => DispositionMode::Inline,
            b"attachment" => DispositionMode::Attachment,
            b"none" => DispositionMode::None,
            _ => return None,
        })
    }
}

/// Configured defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    /// `--disposition`.
    pub disposition: DispositionMode,
    /// `--cache-control`.
    pub cache_control: Option<String>,
    /// `--expires`: `Expires` this long after the response.
    pub expires: Option<Duration>,
    /// `--accel-expires` (nginx `X-Accel-Expires`, seconds).
    pub accel_expires: Option<u64>,
    /// `--limit-rate`, bytes per second.
    pub limit_rate: Option<u64>,
    /// `--buffering` (nginx `X-Accel-Buffering`).
    pub buffering: Option<bool>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            disposition: DispositionMode::Auto,
            cache_control: None,
            expires: None,
            accel_expires: None,
            limit_rate: None,
            buffering: None,
        }
    }
}
