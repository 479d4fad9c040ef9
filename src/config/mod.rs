//! Raw options → one validated `Config`, once, at start-up.
//!
//! Nothing after start-up sees clap types or re-validates: the root is canonical and open, prefixes
//! are normalised, durations and modes are parsed. Every error says which option (and which
//! environment variable) is wrong and how to fix it.

mod accounts;
pub mod cli;
mod error;
mod policy;
mod values;

use accounts::accounts;
pub(crate) use accounts::Accounts;
pub(crate) use error::ConfigError;
use policy::{open_root, prefixes, presentation, token_scheme};
use values::{adjust_level, bounded, parse_duration, parse_level, parse_listen, parse_mode, parse_web_server_addrs};
pub(crate) use values::{parse_duration_str, parse_network, parse_time, parse_time_in, parse_when};

use crate::config::cli::{BackendArg, ServeArgs};
use crate::guard::store::Root;
use crate::guard::{Backend, Policy};
use crate::limits::Limits;
use std::ffi::OsStr;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::Duration;

/// Where to listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListenSpec {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A Unix socket path we create.
    Unix(PathBuf),
    /// An inherited listening descriptor.
    Fd(RawFd),
    /// HTTP/1.1 instead of FastCGI on a TCP address (`http://HOST:PORT`), for a
    /// proxy that reuses upstream connections (nginx `proxy_pass` with `keepalive`).
    Http(SocketAddr),
}

/// Everything the server shell needs.
#[derive(Debug, Clone)]
pub(crate) struct ServerSettings {
    /// Explicit `--listen`; `None` lets the launch environment decide.
    pub(crate) listen: Option<ListenSpec>,
    /// Mode of a Unix socket we create.
    pub(crate) socket_mode: u32,
    /// Owner of that socket, and whom to run as after start-up.
    pub(crate) accounts: Accounts,
    /// Connection limits.
    pub(crate) limits: Limits,
    /// Worker threads.
    pub(crate) threads: usize,
    /// Grace period on SIGTERM.
    pub(crate) drain_timeout: Duration,
    /// `FCGI_WEB_SERVER_ADDRS`: TCP peers allowed to connect (None: any).
    pub(crate) web_server_addrs: Option<Vec<IpAddr>>,
    /// Log filter level.
    pub(crate) log_level: log::LevelFilter,
}

/// The whole validated configuration.
#[derive(Debug)]
pub struct Config {
    /// Decision inputs.
    pub policy: Policy,
    /// Server inputs.
    pub(crate) server: ServerSettings,
}

impl Config {
    /// Validates `args`; `web_server_addrs` is the value of `FCGI_WEB_SERVER_ADDRS`, if set.
    ///
    /// # Errors
    /// The first problem found.
    pub fn from_args(args: &ServeArgs, web_server_addrs: Option<&OsStr>) -> Result<Config, ConfigError> {
        Config::validate(args, web_server_addrs).map_err(|mut errors| errors.remove(0))
    }

    /// Validates `args`, reporting every problem rather than the first (for `xsendfiled check`).
    ///
    /// # Errors
    /// All problems found, in option order; never an empty list.
    pub(crate) fn validate(args: &ServeArgs, web_server_addrs: Option<&OsStr>) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let e = &mut errors;
        let backend = match args.backend {
            BackendArg::Nginx => Backend::Nginx,
            BackendArg::Apache => Backend::Apache,
            BackendArg::Lighttpd => Backend::Lighttpd,
            BackendArg::LocalRedirect => Backend::LocalRedirect,
            BackendArg::Caddy => Backend::Caddy,
            BackendArg::Serve => Backend::Serve,
            BackendArg::Authorizer => Backend::Authorizer,
        };
        // The prefixes are checked on their own first, so a bad root does not hide their problems.
        let prefixes_ok = keep(e, prefixes(backend, args.internal_prefix.as_deref(), args.strip_prefix.as_deref()));
        let first_root = args.root.first().map(PathBuf::as_path);
        let other_roots: Vec<Root> = args.root.iter().skip(1).filter_map(|r| keep(e, open_root(r))).collect();
        let map = keep(
            e,
            args.map
                .as_deref()
                .map(|m| crate::guard::map::parse(m, true).map_err(|why| ConfigError::Scheme { option: "--map", why }))
                .transpose(),
        );
        let policy = match (first_root, prefixes_ok) {
            (None, _) => keep(e, Err(ConfigError::MissingRoot)),
            (Some(root), Some(_)) => keep(
                e,
                Policy::build(
                    root,
                    backend,
                    args.internal_prefix.as_deref(),
                    args.strip_prefix.as_deref(),
                    args.allow_hidden,
                ),
            ),
            (Some(root), None) => {
                // Report a bad root too, without building anything.
                if let Err(err) = std::fs::metadata(root) {
                    e.push(ConfigError::Root { path: root.to_owned(), source: err });
                }
                None
            }
        };
        let max_ttl = keep(e, parse_duration("--max-link-lifetime", &args.max_link_lifetime).map(|d| d.as_secs()));
        let presentation = keep(e, presentation(args));
        let access_log = keep(
            e,
            match &args.access_log {
                Some(spec) => crate::access_log::AccessLog::open(spec)
                    .map(Some)
                    .map_err(|e| ConfigError::Scheme { option: "--access-log", why: format!("{spec}: {e}") }),
                None => Ok(None),
            },
        );
        let scheme = keep(e, token_scheme(args));
        let ring = keep(
            e,
            match &args.keys {
                Some(path) => crate::guard::token::keys::KeyRing::load(path, args.allow_readable_keys)
                    .map(Some)
                    .map_err(ConfigError::Keys),
                None if args.require_signature => Err(ConfigError::RequireSignatureWithoutKeys),
                None => Ok(None),
            },
        );
        if let (Some(scheme), Some(Some(ring)), Some(path)) = (&scheme, &ring, &args.keys) {
            keep(e, ring.check_scheme(scheme.legacy_name(), &path.display().to_string()).map_err(ConfigError::Keys));
        }
        let limits = (
            keep(e, bounded("--max-params-bytes", args.max_params_bytes, 4096, 16 << 20)),
            keep(e, bounded("--max-params", args.max_params, 16, 1_000_000)),
            keep(e, bounded("--max-connections", args.max_connections, 1, 1_000_000)),
            keep(e, parse_duration("--idle-timeout", &args.idle_timeout)),
            keep(e, parse_duration("--request-timeout", &args.request_timeout)),
        );
        let listen = keep(e, args.listen.as_deref().map(parse_listen).transpose());
        if matches!(listen, Some(Some(ListenSpec::Http(_)))) && backend == Backend::Serve {
            e.push(ConfigError::HttpServe);
        }
        let socket_mode = keep(e, parse_mode(&args.socket_mode));
        let accounts = keep(e, accounts(args));
        let threads = keep(e, bounded("--threads", args.threads, 1, 1024));
        let drain_timeout = keep(e, parse_duration("--drain-timeout", &args.drain_timeout));
        let web = keep(e, web_server_addrs.map(parse_web_server_addrs).transpose());
        let log_level = keep(e, parse_level(&args.log_level));
        if !errors.is_empty() {
            return Err(errors);
        }
        let (
            Some(mut policy),
            Some(max_ttl),
            Some(presentation),
            Some(access_log),
            Some(scheme),
            Some(ring),
            (Some(max_params_bytes), Some(max_params_count), Some(max_connections), Some(idle), Some(request)),
            Some(listen),
            Some(socket_mode),
            Some(threads),
            Some(drain_timeout),
            Some(web_server_addrs),
            Some(level),
        ) = (
            policy,
            max_ttl,
            presentation,
            access_log,
            scheme,
            ring,
            limits,
            listen,
            socket_mode,
            threads,
            drain_timeout,
            web,
            log_level,
        )
        else {
            // Every None above pushed an error, so this cannot be reached with an empty list.
            return Err(vec![ConfigError::MissingRoot]);
        };
        policy.presentation = presentation;
        policy.access_log = access_log;
        policy.other_roots = other_roots;
        policy.map = map.flatten().unwrap_or_default();
        if matches!(policy.backend, Backend::Nginx | Backend::LocalRedirect | Backend::Caddy)
            && !policy.internal_prefix.starts_with('@')
        {
            for r in &policy.other_roots {
                let abs = r.path().as_os_str().as_encoded_bytes();
                let covered = policy
                    .map
                    .entries()
                    .iter()
                    .any(|m| abs.starts_with(&m.fs) && matches!(abs.get(m.fs.len()), None | Some(b'/')));
                if !covered {
                    return Err(vec![ConfigError::Scheme {
                        option: "--map",
                        why: format!(
                            "--root {} has no --map entry, so its files could not be named to the web server",
                            r.path().display()
                        ),
                    }]);
                }
            }
        }
        policy.signing = ring.map(|ring| {
            let mut signing = crate::guard::token::Signing::new(ring, args.require_signature, max_ttl);
            signing.scheme = scheme;
            signing
        });
        let limits = Limits {
            max_params_bytes,
            max_params_count,
            max_stdin_bytes: args.max_stdin_bytes,
            max_connections,
            idle_timeout: idle,
            request_timeout: request,
        };
        let server = ServerSettings {
            listen,
            socket_mode,
            // Set whenever no error was found (checked above).
            accounts: accounts.unwrap_or_default(),
            limits,
            threads,
            drain_timeout,
            web_server_addrs,
            log_level: adjust_level(level, args.verbose, args.quiet),
        };
        Ok(Config { policy, server })
    }
}

/// Keeps a value, or records its error.
fn keep<T>(errors: &mut Vec<ConfigError>, r: Result<T, ConfigError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(err) => {
            errors.push(err);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::policy::normalize_prefix;
    use super::values::LAST_TIME;
    use super::*;

    #[test]
    fn listen_forms() {
        assert_eq!(parse_listen("127.0.0.1:9000").ok(), Some(ListenSpec::Tcp("127.0.0.1:9000".parse().expect("addr"))));
        assert_eq!(parse_listen("[::1]:9000").ok(), Some(ListenSpec::Tcp("[::1]:9000".parse().expect("addr"))));
        assert_eq!(parse_listen("unix:/run/x.sock").ok(), Some(ListenSpec::Unix("/run/x.sock".into())));
        assert_eq!(parse_listen("fd:3").ok(), Some(ListenSpec::Fd(3)));
        assert_eq!(
            parse_listen("http://127.0.0.1:9080").ok(),
            Some(ListenSpec::Http("127.0.0.1:9080".parse().expect("addr")))
        );
        assert_eq!(
            parse_listen("http://localhost:9080/").ok(),
            Some(ListenSpec::Http("127.0.0.1:9080".parse().expect("addr")))
        );
        for bad in ["", "fd:1", "fd:x", "unix:", "nowhere", "1.2.3.4", "http://unix:/x", "http://fd:3", "http://"] {
            assert!(parse_listen(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prefixes() {
        assert_eq!(normalize_prefix("x", "/_p/").ok().as_deref(), Some("/_p"));
        assert_eq!(normalize_prefix("x", "/").ok().as_deref(), Some(""));
        assert_eq!(normalize_prefix("--internal-prefix", "@files").ok().as_deref(), Some("@files"));
        for bad in ["p", "/a b", "/a%20", "/a/../b", "/a//b", "/a?x", "@", "@a/b"] {
            assert!(normalize_prefix("x", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_modes_levels() {
        assert_eq!(parse_duration_str("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration_str("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration_str("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_duration_str("7x"), None);
        assert_eq!(parse_network("203.0.113.7"), Some(("203.0.113.7".parse().expect("ip"), 32)));
        assert_eq!(parse_network("2001:db8::/64"), Some(("2001:db8::".parse().expect("ip"), 64)));
        assert_eq!(parse_mode("0660").ok(), Some(0o660));
        assert!(parse_mode("0999").is_err());
        assert_eq!(adjust_level(log::LevelFilter::Info, 2, 0), log::LevelFilter::Trace);
        assert_eq!(adjust_level(log::LevelFilter::Info, 0, 9), log::LevelFilter::Off);
        assert_eq!(
            parse_web_server_addrs(OsStr::new("127.0.0.1, ::1")).ok(),
            Some(vec!["127.0.0.1".parse().expect("ip"), "::1".parse().expect("ip")])
        );
        assert!(parse_web_server_addrs(OsStr::new("127.0.0.1,nope")).is_err());
    }

    #[test]
    fn times_for_sign() {
        for (v, want) in [
            ("2026-01-01T00:00:00Z", Some(1_767_225_600)),
            ("2023-11-14T22:13:20Z", Some(1_700_000_000)),
            ("2024-02-29T00:00:00Z", Some(1_709_164_800)),
            ("9999-12-31T23:59:59Z", Some(LAST_TIME)),
            ("1796083944", Some(1_796_083_944)),
            ("@1767225600", Some(1_767_225_600)),
            ("0", None),
            ("253402300800", None),
            ("99999999999999999999999", None),
            ("2026-13-01T00:00:00Z", None),
            ("2025-02-29T00:00:00Z", None),
            ("2026-04-31T00:00:00Z", None),
            ("2026-01-01T24:00:00Z", None),
            ("2026-01-01T23:59:60Z", None),
            ("2026-01-01T00:00:00+01:00", None),
            ("2026-01-01 00:00:00Z", None),
            ("+2026-01-01T00:00:00Z", None),
            ("12026-01-01T00:00:00Z", None),
            ("2026-1-01T00:00:00Z", None),
            ("7d", None),
            ("", None),
        ] {
            assert_eq!(parse_time(v), want, "{v}");
        }
        assert_eq!(parse_time_in("10m", 100), Some(700));
        assert_eq!(parse_time_in("3600", 100), Some(3700));
        assert_eq!(parse_time_in("7x", 100), None);
        assert_eq!(parse_time_in("99999999999999d", 100), None);
        assert_eq!(parse_when("10m", 100), Ok(700));
        assert_eq!(parse_when("@1767225600", 100), Ok(1_767_225_600));
        assert_eq!(parse_when("1796083944", 100), Err(true), "a bare number is ambiguous");
        assert_eq!(parse_when("soon", 100), Err(false));
    }
}
