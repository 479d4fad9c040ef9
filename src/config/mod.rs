//! Raw options → one validated `Config`, once, at start-up.
//!
//! Nothing after start-up sees clap types or re-validates: the root is canonical and open, prefixes
//! are normalised, durations and modes are parsed. Every error says which option (and which
//! environment variable) is wrong and how to fix it.

pub mod cli;

use crate::config::cli::{BackendArg, ServeArgs};
use crate::guard::resolve::Root;
use crate::guard::{Backend, Policy};
use crate::limits::Limits;
use std::ffi::OsStr;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// A configuration problem, with the fix in the message.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// `--root` missing.
    #[error("no root directory: pass --root DIR (or set XSENDFILED_ROOT)")]
    MissingRoot,
    /// `--root` unusable.
    #[error("--root {path:?}: {source}; it must be an existing directory")]
    Root {
        /// The path given.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// `--root` is not a directory.
    #[error("--root {0:?} is not a directory")]
    RootNotDirectory(PathBuf),
    /// The root's own path cannot be named to the chosen web server.
    #[error("--root {0:?}: this path cannot be named to the chosen web server (control characters, or invalid UTF-8 for lighttpd)")]
    RootNotExpressible(PathBuf),
    /// The nginx and local-redirect backends need an internal prefix.
    #[error(
        "the nginx and local-redirect backends need --internal-prefix URI (or XSENDFILED_INTERNAL_PREFIX): \
         the path of the location that aliases --root (nginx: an `internal` location), e.g. --internal-prefix /_protected"
    )]
    MissingInternalPrefix,
    /// A URI prefix option is malformed.
    #[error("{option} {value:?}: {why}")]
    BadPrefix {
        /// Option name.
        option: &'static str,
        /// Value given.
        value: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The HTTP listener answers with headers only; it cannot carry `--backend serve` bodies.
    #[error("--listen http://… offloads only: --backend serve needs FastCGI or CGI")]
    HttpServe,
    /// `--listen` is malformed.
    #[error("--listen {0:?}: expected HOST:PORT, [V6]:PORT, unix:PATH, fd:N or http://HOST:PORT")]
    BadListen(String),
    /// `--socket-mode` is malformed.
    #[error("--socket-mode {0:?}: expected an octal mode such as 0660")]
    BadSocketMode(String),
    /// A user or group option is wrong (`--socket-owner`, `--socket-group`, `--user`, `--group`).
    #[error("{option}: {why}")]
    Account {
        /// Option name.
        option: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A duration option is malformed.
    #[error("{option} {value:?}: expected a duration such as 30s, 500ms, 2m, 1h or 7d")]
    BadDuration {
        /// Option name.
        option: &'static str,
        /// Value given.
        value: String,
    },
    /// A duration option is longer than [`crate::limits::MAX_DURATION`].
    #[error("{option} {value:?}: at most 3650d")]
    DurationTooLong {
        /// Option name.
        option: &'static str,
        /// Value given.
        value: String,
    },
    /// A numeric limit is out of range.
    #[error("{option} {value}: {why}")]
    BadLimit {
        /// Option name.
        option: &'static str,
        /// Value given.
        value: u64,
        /// The allowed range.
        why: &'static str,
    },
    /// `--log-level` is not a level.
    #[error("--log-level {0:?}: expected error, warn, info, debug or trace")]
    BadLogLevel(String),
    /// The key file is unusable.
    #[error("--keys {0}")]
    Keys(#[source] crate::guard::token::keys::KeyError),
    /// A compatibility-scheme option is wrong.
    #[error("{option}: {why}")]
    Scheme {
        /// Option name.
        option: &'static str,
        /// What is wrong.
        why: String,
    },
    /// Signatures required but no keys.
    #[error("--require-signature needs --keys FILE (or XSENDFILED_KEYS)")]
    RequireSignatureWithoutKeys,
    /// `FCGI_WEB_SERVER_ADDRS` holds something that is not an IP address.
    #[error("FCGI_WEB_SERVER_ADDRS: {0:?} is not an IPv4 or IPv6 address (comma-separated list expected)")]
    BadWebServerAddr(String),
}

/// Where to listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenSpec {
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
pub struct ServerSettings {
    /// Explicit `--listen`; `None` lets the launch environment decide.
    pub listen: Option<ListenSpec>,
    /// Mode of a Unix socket we create.
    pub socket_mode: u32,
    /// Owner of that socket, and whom to run as after start-up.
    pub accounts: Accounts,
    /// Connection limits.
    pub limits: Limits,
    /// Worker threads.
    pub threads: usize,
    /// Grace period on SIGTERM.
    pub drain_timeout: Duration,
    /// `FCGI_WEB_SERVER_ADDRS`: TCP peers allowed to connect (None: any).
    pub web_server_addrs: Option<Vec<IpAddr>>,
    /// Log filter level.
    pub log_level: log::LevelFilter,
}

/// The whole validated configuration.
#[derive(Debug)]
pub struct Config {
    /// Decision inputs.
    pub policy: Policy,
    /// Server inputs.
    pub server: ServerSettings,
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
    pub fn validate(args: &ServeArgs, web_server_addrs: Option<&OsStr>) -> Result<Config, Vec<ConfigError>> {
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
            let mut signing = crate::guard::token::Signing::new(
                ring,
                args.keys.clone(),
                args.allow_readable_keys,
                args.require_signature,
                max_ttl,
            );
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

/// Validates and normalizes `--internal-prefix` and `--strip-prefix` for `backend`.
fn prefixes(
    backend: Backend,
    internal_prefix: Option<&str>,
    strip_prefix: Option<&str>,
) -> Result<(String, Option<Vec<u8>>), ConfigError> {
    let internal_prefix = match internal_prefix {
        None if !backend.needs_internal_prefix() => String::new(),
        None => return Err(ConfigError::MissingInternalPrefix),
        Some(p) => {
            let p = normalize_prefix("--internal-prefix", p)?;
            if p.starts_with('@') && backend != Backend::Nginx {
                return Err(ConfigError::BadPrefix {
                    option: "--internal-prefix",
                    value: p,
                    why: "named locations (@name) exist only in nginx",
                });
            }
            if p.is_empty() {
                return Err(ConfigError::BadPrefix {
                    option: "--internal-prefix",
                    value: "/".into(),
                    why: "must name a location below /, e.g. /_protected",
                });
            }
            p
        }
    };
    let strip_prefix = match strip_prefix {
        Some(p) => Some(normalize_prefix("--strip-prefix", p)?).filter(|p| !p.is_empty()).map(String::into_bytes),
        None => None,
    };
    Ok((internal_prefix, strip_prefix))
}

/// Opens a further `--root`.
fn open_root(path: &Path) -> Result<Root, ConfigError> {
    let md = std::fs::metadata(path).map_err(|source| ConfigError::Root { path: path.to_owned(), source })?;
    if !md.is_dir() {
        return Err(ConfigError::RootNotDirectory(path.to_owned()));
    }
    Root::open(path).map_err(|source| ConfigError::Root { path: path.to_owned(), source })
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

impl Policy {
    /// Validates the decision inputs (also used directly by tests and benchmarks).
    ///
    /// # Errors
    /// A missing or unusable root, a missing or malformed prefix.
    pub fn build(
        root: &Path,
        backend: Backend,
        internal_prefix: Option<&str>,
        strip_prefix: Option<&str>,
        allow_hidden: bool,
    ) -> Result<Policy, ConfigError> {
        let md = std::fs::metadata(root).map_err(|source| ConfigError::Root { path: root.to_owned(), source })?;
        if !md.is_dir() {
            return Err(ConfigError::RootNotDirectory(root.to_owned()));
        }
        let root = Root::open(root).map_err(|source| ConfigError::Root { path: root.to_owned(), source })?;
        let (internal_prefix, strip_prefix) = prefixes(backend, internal_prefix, strip_prefix)?;
        Ok(Policy {
            root,
            backend,
            internal_prefix,
            strip_prefix,
            allow_hidden,
            signing: None,
            presentation: crate::guard::policy::Defaults::default(),
            access_log: None,
            other_roots: Vec::new(),
            map: crate::guard::map::Map::default(),
        })
    }
}

/// Content-Disposition, caching and rate defaults.
fn presentation(args: &ServeArgs) -> Result<crate::guard::policy::Defaults, ConfigError> {
    use crate::guard::policy::{Defaults, DispositionMode};
    use crate::reply::presentation::valid_header_value;
    let bad = |option: &'static str, why: &str| ConfigError::Scheme { option, why: why.to_owned() };
    let disposition = DispositionMode::parse(args.disposition.as_bytes())
        .ok_or_else(|| bad("--disposition", "expected auto, inline, attachment or none"))?;
    if let Some(c) = &args.cache_control {
        if !valid_header_value(c) {
            return Err(bad("--cache-control", "must be printable ASCII, at most 1024 characters"));
        }
    }
    let buffering = match args.buffering.as_deref() {
        None => None,
        Some("yes") => Some(true),
        Some("no") => Some(false),
        Some(_) => return Err(bad("--buffering", "expected yes or no")),
    };
    Ok(Defaults {
        disposition,
        cache_control: args.cache_control.clone(),
        expires: args.expires.as_deref().map(|e| parse_duration("--expires", e)).transpose()?,
        accel_expires: args.accel_expires,
        limit_rate: args.limit_rate,
        buffering,
    })
}

/// The signed-link scheme and its options.
fn token_scheme(args: &ServeArgs) -> Result<crate::guard::token::Scheme, ConfigError> {
    use crate::config::cli::TokenSchemeArg as T;
    use crate::guard::token::compat::{Hash, Legacy, SecdlAlgorithm};
    let timeout = |default: u64| match &args.token_timeout {
        Some(t) => parse_duration("--token-timeout", t).map(|d| d.as_secs()),
        None => Ok(default),
    };
    let bad = |option: &'static str, why: &str| ConfigError::Scheme { option, why: why.to_owned() };
    let legacy = match args.token_scheme {
        T::Sdl1 => return Ok(crate::guard::token::Scheme::Sdl1),
        T::ModAuthToken => Legacy::ModAuthToken { timeout: timeout(60)?, ip: args.token_ip_binding },
        T::WsgiXsendfile => Legacy::WsgiXsendfile {
            hash: match args.token_algorithm.as_deref() {
                None => Hash::Md5,
                Some(a) => Hash::parse(a).ok_or_else(|| {
                    bad("--token-algorithm", "wsgi-xsendfile takes md5, sha1, sha224, sha256, sha384 or sha512")
                })?,
            },
            timeout: timeout(120)?,
        },
        T::Secdownload => Legacy::Secdownload {
            algorithm: match args.token_algorithm.as_deref() {
                Some("md5") => SecdlAlgorithm::Md5,
                Some("hmac-sha1") => SecdlAlgorithm::HmacSha1,
                Some("hmac-sha256") => SecdlAlgorithm::HmacSha256,
                _ => return Err(bad("--token-algorithm", "secdownload needs md5, hmac-sha1 or hmac-sha256")),
            },
            timeout: timeout(60)?,
            path_segments: args.secdownload_path_segments,
            hash_querystr: args.secdownload_hash_querystr,
        },
        T::SecureLinkSecret => Legacy::SecureLinkSecret,
        T::SecureLink => Legacy::SecureLink {
            template: crate::guard::token::compat::parse_template(&args.secure_link_template)
                .map_err(|why| bad("--secure-link-template", why))?,
        },
    };
    Ok(crate::guard::token::Scheme::Legacy(legacy))
}

/// Checks a URI prefix and removes trailing slashes (so `/dl/` and `/dl` mean the same).
fn normalize_prefix(option: &'static str, value: &str) -> Result<String, ConfigError> {
    let bad = |why| ConfigError::BadPrefix { option, value: value.to_owned(), why };
    if let Some(name) = value.strip_prefix('@') {
        if option != "--internal-prefix" {
            return Err(bad("must start with /"));
        }
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(bad("a named location is @ followed by letters, digits, _ or -"));
        }
        return Ok(value.to_owned());
    }
    if !value.starts_with('/') {
        return Err(bad("must start with /"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~/!$&'()*+,;=:@".contains(c);
    if !value.chars().all(allowed) {
        return Err(bad("may contain only letters, digits, / and -._~!$&'()*+,;=:@ (no %, ?, #, spaces)"));
    }
    let trimmed = value.trim_end_matches('/');
    if trimmed.split('/').skip(1).any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(bad("must not contain empty, . or .. segments"));
    }
    Ok(trimmed.to_owned())
}

fn parse_listen(value: &str) -> Result<ListenSpec, ConfigError> {
    let bad = || ConfigError::BadListen(value.to_owned());
    if let Some(rest) = value.strip_prefix("http://") {
        return match parse_listen(rest.strip_suffix('/').unwrap_or(rest))? {
            ListenSpec::Tcp(addr) => Ok(ListenSpec::Http(addr)),
            _ => Err(bad()),
        };
    }
    if let Some(path) = value.strip_prefix("unix:") {
        if path.is_empty() {
            return Err(bad());
        }
        return Ok(ListenSpec::Unix(PathBuf::from(path)));
    }
    if let Some(fd) = value.strip_prefix("fd:") {
        let fd: RawFd = fd.parse().map_err(|_| bad())?;
        if fd < 0 || fd == 1 || fd == 2 {
            return Err(bad());
        }
        return Ok(ListenSpec::Fd(fd));
    }
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(ListenSpec::Tcp(addr));
    }
    if let Some(port) = value.strip_prefix("localhost:") {
        let port: u16 = port.parse().map_err(|_| bad())?;
        return Ok(ListenSpec::Tcp(SocketAddr::from(([127, 0, 0, 1], port))));
    }
    Err(bad())
}

fn parse_mode(value: &str) -> Result<u32, ConfigError> {
    let digits = value.strip_prefix("0o").unwrap_or(value);
    match u32::from_str_radix(digits, 8) {
        Ok(m) if m <= 0o777 && !digits.is_empty() => Ok(m),
        _ => Err(ConfigError::BadSocketMode(value.to_owned())),
    }
}

/// Who owns a Unix socket we create, and whom the daemon runs as once it has bound its socket and
/// opened its files. Names are resolved once, here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    /// `--socket-owner USER`: the socket's owner.
    pub socket_uid: Option<u32>,
    /// `--socket-owner USER:GROUP` or `--socket-group GROUP`: the socket's group.
    pub socket_gid: Option<u32>,
    /// `--user`/`--group`.
    pub run_as: Option<RunAs>,
}

/// The user and groups to become after start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    /// The name given (or the numeric id), for messages.
    pub user: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary groups (the user's, from the group database; `gid` included).
    pub groups: Vec<u32>,
}

/// Resolves `--socket-owner`, `--socket-group`, `--user` and `--group`.
fn accounts(args: &ServeArgs) -> Result<Accounts, ConfigError> {
    let bad = |option: &'static str, why: String| ConfigError::Account { option, why };
    let mut out = Accounts::default();
    if args.socket_owner.is_some() || args.socket_group.is_some() {
        let option = if args.socket_owner.is_some() { "--socket-owner" } else { "--socket-group" };
        if !args.listen.as_deref().is_some_and(|l| l.starts_with("unix:")) {
            return Err(bad(option, "applies to a socket xsendfiled creates: --listen unix:PATH".to_owned()));
        }
    }
    if let Some(v) = &args.socket_owner {
        let (user, group) = match v.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (v.as_str(), None),
        };
        out.socket_uid = Some(user_id("--socket-owner", user)?.0);
        out.socket_gid = group.map(|g| group_id("--socket-owner", g)).transpose()?;
    }
    if let Some(g) = &args.socket_group {
        if out.socket_gid.is_some() {
            return Err(bad(
                "--socket-group",
                "--socket-owner USER:GROUP already names the group; give it once".into(),
            ));
        }
        out.socket_gid = Some(group_id("--socket-group", g)?);
    }
    out.run_as = match (&args.user, &args.group) {
        (None, None) => None,
        (None, Some(_)) => return Err(bad("--group", "needs --user USER, the user to run as".into())),
        (Some(user), group) => {
            let (uid, entry) = user_id("--user", user)?;
            if uid == 0 {
                return Err(bad("--user", format!("{user:?} is root: name the unprivileged user to run as")));
            }
            let gid = match (group, &entry) {
                (Some(g), _) => group_id("--group", g)?,
                (None, Some(e)) => e.gid,
                (None, None) => {
                    return Err(bad("--user", format!("uid {uid} is not in the password database: add --group GROUP")));
                }
            };
            let groups = match &entry {
                Some(e) => crate::sys::group_list(&e.name, gid)
                    .map_err(|err| bad("--user", format!("{user:?}: cannot read its groups: {err}")))?,
                None => vec![gid],
            };
            Some(RunAs { user: user.clone(), uid, gid, groups })
        }
    };
    Ok(out)
}

/// A user given by name or numeric id: its uid, and its entry when the database has one.
fn user_id(option: &'static str, value: &str) -> Result<(u32, Option<crate::sys::UserEntry>), ConfigError> {
    let bad = |why: String| ConfigError::Account { option, why };
    if value.is_empty() {
        return Err(bad("expected a user name or numeric id".into()));
    }
    let found = match value.parse::<u32>() {
        // (uid_t)-1 means "unchanged" to chown and setreuid: never an id.
        Ok(u32::MAX) => return Err(bad(format!("{value} is not a valid user id"))),
        Ok(uid) => crate::sys::user_by_id(uid).map(|e| Some((uid, e))),
        Err(_) => crate::sys::user_by_name(value).map(|e| e.map(|e| (e.uid, Some(e)))),
    };
    match found {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(bad(format!("no user named {value:?} in the password database"))),
        Err(e) => Err(bad(format!("{value:?}: cannot read the password database: {e}"))),
    }
}

/// A group given by name or numeric id: its gid.
fn group_id(option: &'static str, value: &str) -> Result<u32, ConfigError> {
    let bad = |why: String| ConfigError::Account { option, why };
    match value.parse::<u32>() {
        Ok(u32::MAX) => return Err(bad(format!("{value} is not a valid group id"))),
        Ok(gid) => return Ok(gid),
        Err(_) => {}
    }
    if value.is_empty() {
        return Err(bad("expected a group name or numeric id".into()));
    }
    match crate::sys::group_by_name(value) {
        Ok(Some(g)) => Ok(g.gid),
        Ok(None) => Err(bad(format!("no group named {value:?} in the group database"))),
        Err(e) => Err(bad(format!("{value:?}: cannot read the group database: {e}"))),
    }
}

/// Parses `30s`, `500ms`, `2m`, `1h`, `7d`, or a bare number of seconds.
pub fn parse_duration_str(value: &str) -> Option<Duration> {
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let d = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        "d" => Duration::from_secs(n.checked_mul(86_400)?),
        _ => return None,
    };
    Some(d)
}

/// The last second `sign` accepts: 9999-12-31T23:59:59Z, the end of RFC 3339's range (and within
/// the eleven digits the SDL1 verifier reads).
pub const LAST_TIME: u64 = 253_402_300_799;

/// A point in time for `sign --expires-at` and `--not-before-at`: Unix seconds (`1796083944`, also
/// written `@1796083944`) or an RFC 3339 UTC time `YYYY-MM-DDTHH:MM:SSZ` (§5.6, the `Z` form only,
/// a real calendar date). `None` for anything else, for 0, and after [`LAST_TIME`].
pub fn parse_time(v: &str) -> Option<u64> {
    let digits = v.strip_prefix('@').unwrap_or(v);
    if !digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits.parse().ok().filter(|t| (1..=LAST_TIME).contains(t));
    }
    let b = v.as_bytes();
    let shape = b.len() == 20
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    let num = |r: std::ops::Range<usize>| v.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&d) || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), Howard Hinnant's algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok().filter(|t| *t >= 1)
}

/// A point in time `v` from `now` for `sign --expires-in` and `--not-before-in`: a duration
/// (`90s`, `10m`, `2h`, `7d`; a bare number is seconds). `None` when malformed or after
/// [`LAST_TIME`].
pub fn parse_time_in(v: &str, now: u64) -> Option<u64> {
    now.checked_add(parse_duration_str(v)?.as_secs()).filter(|t| *t <= LAST_TIME)
}

/// The old, hidden `sign --expires`/`--not-before`: a duration with its unit, `@UNIX-SECONDS` or
/// RFC 3339. A bare number is refused (`Err(true)`): it read as seconds from now, which is never
/// what a Unix time meant. `Err(false)` when malformed.
pub fn parse_when(v: &str, now: u64) -> Result<u64, bool> {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(true);
    }
    parse_time(v).or_else(|| parse_time_in(v, now)).ok_or(false)
}

/// `ADDRESS/BITS` or a bare address (its /32 or /128), for binding a link to a client network.
pub fn parse_network(v: &str) -> Option<(IpAddr, u8)> {
    match v.split_once('/') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => {
            let ip: IpAddr = v.parse().ok()?;
            Some((ip, if ip.to_canonical().is_ipv4() { 32 } else { 128 }))
        }
    }
}

fn parse_duration(option: &'static str, value: &str) -> Result<Duration, ConfigError> {
    match parse_duration_str(value) {
        Some(d) if d > crate::limits::MAX_DURATION && option != "--max-link-lifetime" => {
            // A link lifetime is only compared, never added to a time; everything else is.
            Err(ConfigError::DurationTooLong { option, value: value.to_owned() })
        }
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(ConfigError::BadDuration { option, value: value.to_owned() }),
    }
}

fn bounded(option: &'static str, value: usize, min: usize, max: usize) -> Result<usize, ConfigError> {
    if value < min || value > max {
        let why = match option {
            "--max-params-bytes" => "must be between 4096 and 16777216",
            "--max-params" => "must be between 16 and 1000000",
            "--threads" => "must be between 1 and 1024",
            _ => "must be between 1 and 1000000",
        };
        return Err(ConfigError::BadLimit { option, value: value as u64, why });
    }
    Ok(value)
}

fn parse_level(value: &str) -> Result<log::LevelFilter, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "off" => Ok(log::LevelFilter::Off),
        "error" => Ok(log::LevelFilter::Error),
        "warn" => Ok(log::LevelFilter::Warn),
        "info" => Ok(log::LevelFilter::Info),
        "debug" => Ok(log::LevelFilter::Debug),
        "trace" => Ok(log::LevelFilter::Trace),
        _ => Err(ConfigError::BadLogLevel(value.to_owned())),
    }
}

fn adjust_level(base: log::LevelFilter, verbose: u8, quiet: u8) -> log::LevelFilter {
    const LEVELS: [log::LevelFilter; 6] = [
        log::LevelFilter::Off,
        log::LevelFilter::Error,
        log::LevelFilter::Warn,
        log::LevelFilter::Info,
        log::LevelFilter::Debug,
        log::LevelFilter::Trace,
    ];
    let idx = LEVELS.iter().position(|l| *l == base).unwrap_or(3) as i32 + i32::from(verbose) - i32::from(quiet);
    LEVELS[idx.clamp(0, 5) as usize]
}

fn parse_web_server_addrs(value: &OsStr) -> Result<Vec<IpAddr>, ConfigError> {
    let text = value.to_string_lossy();
    let mut out = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let ip: IpAddr = entry.parse().map_err(|_| ConfigError::BadWebServerAddr(entry.to_owned()))?;
        out.push(ip.to_canonical());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
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
