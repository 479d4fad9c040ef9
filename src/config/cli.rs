//! Command-line definitions (clap derive) and nothing else: no validation, no logic.
//!
//! Every daemon option also reads an environment variable named after it with the `XSENDFILED_`
//! prefix (`--internal-prefix` → `XSENDFILED_INTERNAL_PREFIX`), so CGI and mod_fcgid setups, which
//! cannot pass arguments easily, configure it through the environment. A test walks the arguments
//! and checks the names. [`crate::config`] turns these raw values into a validated `Config`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The default `--max-link-lifetime` (`sign` warns about links that outlive it).
pub(crate) const DEFAULT_MAX_LINK_LIFETIME: &str = "7d";

/// The per-request parameters a web server may set (shown in `--help` and the man page).
const TRUSTED_PARAMETERS: &str = "\
Per-request parameters, set by the web server (fastcgi_param, SetEnv, FcgidInitialEnv,
setenv.set-environment), never read from client headers (HTTP_*):
  XSENDFILED_AUTH=signed|none        this location needs a signed link, or not
  XSENDFILED_MODE=authorize          answer allow (200) or deny (403) only
  XSENDFILED_ROOT=DIR                a configured root or a directory inside one (narrows only)
  X_REDIRECT_MAP=FS=URI[,...]        redirect map for this location (also XSENDFILED_ACCEL_MAPPING)
  XSENDFILED_STRIP_PREFIX=/PREFIX    this location's public prefix
  XSENDFILED_FILENAME=NAME           download name (a signed claim still wins)
  XSENDFILED_DISPOSITION=MODE        auto, inline, attachment or none
  XSENDFILED_APP_DISPOSITION=VALUE   the response already has this Content-Disposition (nginx
                                     $sent_http_content_disposition): add none
  XSENDFILED_CACHE_CONTROL=VALUE     Cache-Control
  XSENDFILED_EXPIRES=SECONDS         Expires that far ahead
  XSENDFILED_LIMIT_RATE=BYTES        nginx X-Accel-Limit-Rate / lighttpd KBytes-per-second
  XSENDFILED_BUFFERING=yes|no        nginx X-Accel-Buffering
  XSENDFILED_ACCEL_EXPIRES=SECONDS   nginx X-Accel-Expires
  XSENDFILED_TRUST_QUERY=1           the query keys root, filename, disposition, cache_control,
                                     expires, limit_rate, buffering, accel_expires are trusted too
                                     (only on an internal location)
Signals: SIGTERM/SIGINT drain and exit. SIGHUP validates the options given at start again and
swaps in the result for new requests: roots reopened (a replaced root is picked up), maps, the key
ring file re-read, the access log reopened; one with any problem keeps the running configuration.
Listening, limits, timeouts, threads and log level stay as started; the environment is not read
again.";

/// xsendfiled: a FastCGI (and CGI) responder that guards downloads and lets the web server send the file.
#[derive(Debug, Parser)]
#[command(
    name = "xsendfiled",
    version,
    about = "Guard file downloads: decide whether a file may be sent, then let the web server send it",
    long_about = "xsendfiled is a FastCGI responder (and CGI program) that sits beside a web server. \
For each request it checks that the path names a regular file under the configured root, then answers \
with the offload header the server needs (X-Accel-Redirect for nginx), so the server sends the bytes.\n\n\
With no subcommand it runs `serve`. It listens on --listen, else on fd 0 when that is a listening socket \
(spawn-fcgi, mod_fcgid), else answers one CGI request when GATEWAY_INTERFACE is set, else uses a systemd \
socket (LISTEN_FDS), else 127.0.0.1:9071.",
    args_conflicts_with_subcommands = true,
    after_long_help = TRUSTED_PARAMETERS
)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve`, accepted without the subcommand name.
    #[command(flatten)]
    pub(crate) serve: ServeArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the FastCGI responder (or answer one CGI request); the default.
    Serve(Box<ServeArgs>),
    /// Print a signed link (path and query) for PATH, ready to append to the site's origin.
    Sign(Box<SignArgs>),
    /// Validate the configuration (every problem at once), and explain, step by step, what would
    /// be answered for each URI given.
    Check(Box<CheckArgs>),
}

/// Options of `check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The daemon's options, exactly as for `serve`.
    #[command(flatten)]
    pub(crate) serve: ServeArgs,

    /// Request method of the explained URIs.
    #[arg(long = "method", value_name = "METHOD", default_value = "GET")]
    pub(crate) method: String,

    /// Client address of the explained URIs (REMOTE_ADDR).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub(crate) client: String,

    /// A parameter the web server would set, NAME=VALUE (repeatable), e.g. XSENDFILED_AUTH=signed.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub(crate) params: Vec<String>,

    /// URIs as a browser requests them (path and query, percent-encoded), e.g. '/dl/a%20b.txt'.
    pub(crate) uris: Vec<String>,
}

/// Signed-link schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TokenSchemeArg {
    /// HMAC-SHA256 links with key ids, expiry, prefix scope, network binding and signed claims.
    Sdl1,
    /// Apache mod_auth_token: /PREFIX/<md5>/<hex time>/path.
    ModAuthToken,
    /// wsgi-xsendfile AuthTokenApplication: /<digest>-<hex time>/path.
    WsgiXsendfile,
    /// lighttpd mod_secdownload: /PREFIX/<mac>/<hex time>/path.
    Secdownload,
    /// nginx secure_link: ?md5=<b64url>&expires=<unix>.
    SecureLink,
    /// nginx secure_link_secret: /PREFIX/<md5>/link (no expiry).
    SecureLinkSecret,
}

/// `attachment` or `inline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DispositionArg {
    /// Make the browser download the file.
    Attachment,
    /// Let the browser display it.
    Inline,
}

/// Options of `sign`.
#[derive(Debug, Clone, Args)]
pub struct SignArgs {
    /// The key ring (the same file the daemon uses).
    #[arg(long, value_name = "FILE", env = "XSENDFILED_KEYS")]
    pub(crate) keys: Option<PathBuf>,

    /// Accept a key file that group or other users can read.
    #[arg(long, env = "XSENDFILED_ALLOW_READABLE_KEYS", value_parser = clap::builder::FalseyValueParser::new(), num_args = 0, default_missing_value = "true")]
    pub(crate) allow_readable_keys: bool,

    /// Key id to sign with (default: the first key in the file).
    #[arg(long, value_name = "KID")]
    pub(crate) kid: Option<String>,

    /// When the link expires, as a point in time: Unix seconds (1796083944) or RFC 3339 UTC
    /// (2026-12-31T23:59:59Z).
    #[arg(long, value_name = "TIME", conflicts_with_all = ["expires_in", "expires"])]
    pub(crate) expires_at: Option<String>,

    /// When the link expires, as a duration from now: 90s, 10m, 2h, 7d [default: 1h]. A link that
    /// lives longer than the daemon's --max-link-lifetime (default 7d) is refused until it has
    /// that long left; sign warns.
    #[arg(long, value_name = "DURATION", conflicts_with = "expires")]
    pub(crate) expires_in: Option<String>,

    /// Old, ambiguous spelling: a duration with its unit, @UNIX-SECONDS or RFC 3339; a bare number
    /// is refused (use --expires-at or --expires-in).
    #[arg(long, value_name = "WHEN", hide = true)]
    pub(crate) expires: Option<String>,

    /// When the link starts to work, as a point in time (as --expires-at).
    #[arg(long, value_name = "TIME", conflicts_with_all = ["not_before_in", "not_before"])]
    pub(crate) not_before_at: Option<String>,

    /// When the link starts to work, as a duration from now (as --expires-in).
    #[arg(long, value_name = "DURATION", conflicts_with = "not_before")]
    pub(crate) not_before_in: Option<String>,

    /// Old, ambiguous spelling of --not-before-at / --not-before-in (as --expires).
    #[arg(long, value_name = "WHEN", hide = true)]
    pub(crate) not_before: Option<String>,

    /// Sign this prefix of PATH (ending with /) instead: one link for every file below it.
    #[arg(long, value_name = "PREFIX")]
    pub(crate) prefix: Option<String>,

    /// Bind the link to a client network: ADDRESS/BITS (203.0.113.0/24, 2001:db8::/64) or an
    /// address (its /32 or /128).
    #[arg(long, value_name = "NET")]
    pub(crate) ip: Option<String>,

    /// The name the browser saves the file under (signed into the link).
    #[arg(long, value_name = "NAME")]
    pub(crate) filename: Option<String>,

    /// Signed Content-Disposition type.
    #[arg(long, value_enum, value_name = "TYPE")]
    pub(crate) disposition: Option<DispositionArg>,

    /// The public path a browser requests, mount prefix included, not percent-encoded
    /// (e.g. "/dl/reports/Q3 résumé.pdf").
    pub(crate) path: String,
}

/// The offload mechanism of the web server in front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BackendArg {
    /// `X-Accel-Redirect` to an `internal` location that aliases the root.
    Nginx,
    /// `X-Sendfile` with the absolute path as raw bytes, for Apache mod_xsendfile (0.12, or 1.0
    /// with `XSendFileUnescape Off`).
    Apache,
    /// `X-Sendfile` with the absolute path percent-encoded, for lighttpd.
    Lighttpd,
    /// An RFC 3875 CGI local redirect (`Location: <internal-prefix>/<path>`), for Apache
    /// mod_fcgid and mod_cgi.
    LocalRedirect,
    /// `X-Accel-Redirect: /<path>` for Caddy's `handle_response` + `rewrite` + `file_server`.
    Caddy,
    /// xsendfiled sends the bytes itself, with Range and conditional requests (servers without
    /// offload, development).
    Serve,
    /// Only allow or deny (200/403), for servers that send the file themselves after asking
    /// (nginx auth_request, FastCGI authorizers).
    Authorizer,
}

/// Options of the responder.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Directory whose regular files may be sent; nothing outside the roots ever is. Repeat for
    /// several roots (the first is the default; the environment variable separates them with `:`).
    #[arg(long, value_name = "DIR", env = "XSENDFILED_ROOT", value_delimiter = ':')]
    pub(crate) root: Vec<PathBuf>,

    /// Redirect map FS_PREFIX=URI_PREFIX[,...]: the internal URI prefix for files under each
    /// file-system prefix (most specific wins; a prefix given twice is an error); needed for every
    /// root after the first.
    #[arg(long, value_name = "MAP", env = "XSENDFILED_MAP")]
    pub(crate) map: Option<String>,

    /// Offload mechanism of the web server in front.
    #[arg(long, value_enum, value_name = "NAME", default_value_t = BackendArg::Nginx, env = "XSENDFILED_BACKEND")]
    pub(crate) backend: BackendArg,

    /// URI of the location that aliases --root: nginx `internal` location, or the Apache `Alias`
    /// target of a local redirect (e.g. /_protected).
    #[arg(long, value_name = "URI", env = "XSENDFILED_INTERNAL_PREFIX")]
    pub(crate) internal_prefix: Option<String>,

    /// Public URL prefix removed from the request path before resolving (must match whole segments).
    #[arg(long, value_name = "URI", env = "XSENDFILED_STRIP_PREFIX")]
    pub(crate) strip_prefix: Option<String>,

    /// Serve files and directories whose names start with a dot (refused with 404 by default).
    #[arg(long, env = "XSENDFILED_ALLOW_HIDDEN", value_parser = clap::builder::FalseyValueParser::new(), num_args = 0, default_missing_value = "true")]
    pub(crate) allow_hidden: bool,

    /// Content-Disposition: auto (attachment for HTML, SVG, any XML or +xml type, JavaScript and
    /// unknown types, inline otherwise), inline, attachment, or none (only when a signed link or
    /// the server asks).
    #[arg(long, value_name = "MODE", default_value = "auto", env = "XSENDFILED_DISPOSITION")]
    pub(crate) disposition: String,

    /// Cache-Control for downloads (downloads allowed by a signed link are always private).
    #[arg(long, value_name = "VALUE", env = "XSENDFILED_CACHE_CONTROL")]
    pub(crate) cache_control: Option<String>,

    /// Send `Expires` this long after each response (e.g. 1h; at most 3650d).
    #[arg(long, value_name = "DURATION", env = "XSENDFILED_EXPIRES")]
    pub(crate) expires: Option<String>,

    /// nginx: X-Accel-Expires seconds (caching of xsendfiled's reply by fastcgi_cache).
    #[arg(long, value_name = "SECONDS", env = "XSENDFILED_ACCEL_EXPIRES")]
    pub(crate) accel_expires: Option<u64>,

    /// Bandwidth limit per download in bytes/s (nginx X-Accel-Limit-Rate, lighttpd KBytes-per-second).
    #[arg(long, value_name = "BYTES", env = "XSENDFILED_LIMIT_RATE")]
    pub(crate) limit_rate: Option<u64>,

    /// nginx: X-Accel-Buffering yes|no (matters when xsendfiled sends the bytes itself).
    #[arg(long, value_name = "yes|no", env = "XSENDFILED_BUFFERING")]
    pub(crate) buffering: Option<String>,

    /// Log every decision as one JSON line to FILE (reopened on SIGHUP), or to stderr with `-`.
    #[arg(long, value_name = "FILE", env = "XSENDFILED_ACCESS_LOG")]
    pub(crate) access_log: Option<String>,

    /// Key ring for signed links: one `KID hex:SECRET` or `KID b64:SECRET` per line; reloaded on
    /// SIGHUP. Up to 10,000 keys for sdl1; 16 for compatibility schemes, whose links name no key.
    #[arg(long, value_name = "FILE", env = "XSENDFILED_KEYS")]
    pub(crate) keys: Option<PathBuf>,

    /// Accept a key file that group or other users can read.
    #[arg(long, env = "XSENDFILED_ALLOW_READABLE_KEYS", value_parser = clap::builder::FalseyValueParser::new(), num_args = 0, default_missing_value = "true")]
    pub(crate) allow_readable_keys: bool,

    /// Every download needs a valid signed link (the server may decide per location with the
    /// trusted parameter XSENDFILED_AUTH=signed|none).
    #[arg(long, env = "XSENDFILED_REQUIRE_SIGNATURE", value_parser = clap::builder::FalseyValueParser::new(), num_args = 0, default_missing_value = "true")]
    pub(crate) require_signature: bool,

    /// Longest lifetime a signed link may have left; longer ones are refused (403).
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_MAX_LINK_LIFETIME, env = "XSENDFILED_MAX_LINK_LIFETIME")]
    pub(crate) max_link_lifetime: String,

    /// Signed-link scheme: sdl1, or a compatibility scheme for links issued for another module.
    #[arg(long, value_enum, value_name = "SCHEME", default_value_t = TokenSchemeArg::Sdl1, env = "XSENDFILED_TOKEN_SCHEME")]
    pub(crate) token_scheme: TokenSchemeArg,

    /// Compatibility schemes: how long a link lives after its issue time (default: 60 for
    /// mod-auth-token and secdownload, 120 for wsgi-xsendfile).
    #[arg(long, value_name = "DURATION", env = "XSENDFILED_TOKEN_TIMEOUT")]
    pub(crate) token_timeout: Option<String>,

    /// wsgi-xsendfile: md5 (default), sha1, sha224, sha256, sha384, sha512; secdownload: md5,
    /// hmac-sha1, hmac-sha256 (required).
    #[arg(long, value_name = "ALG", env = "XSENDFILED_TOKEN_ALGORITHM")]
    pub(crate) token_algorithm: Option<String>,

    /// mod-auth-token: the client address is part of the token (AuthTokenLimitByIp).
    #[arg(long, env = "XSENDFILED_TOKEN_IP_BINDING", value_parser = clap::builder::FalseyValueParser::new(), num_args = 0, default_missing_value = "true")]
    pub(crate) token_ip_binding: bool,

    /// secure-link: the secure_link_md5 expression, with {expires} {uri} {request_uri}
    /// {remote_addr} {secret} {arg:NAME}; the link carries ?md5=...&expires=....
    #[arg(
        long,
        value_name = "TEMPLATE",
        default_value = "{expires}{uri}{remote_addr} {secret}",
        env = "XSENDFILED_SECURE_LINK_TEMPLATE"
    )]
    pub(crate) secure_link_template: String,

    /// secdownload: sign only the first N path segments (secdownload.path-segments).
    #[arg(long, value_name = "N", default_value_t = 0, env = "XSENDFILED_SECDOWNLOAD_PATH_SEGMENTS")]
    pub(crate) secdownload_path_segments: usize,

    /// secdownload: the query string is part of the MAC (secdownload.hash-querystr).
    #[arg(long, env = "XSENDFILED_SECDOWNLOAD_HASH_QUERYSTR", value_parser = clap::builder::FalseyValueParser::new(), num_args = 0, default_missing_value = "true")]
    pub(crate) secdownload_hash_querystr: bool,

    /// Where to listen: HOST:PORT, [V6]:PORT, unix:PATH or fd:N (FastCGI); http://HOST:PORT
    /// (HTTP/1.1 listener for nginx proxy_pass with upstream keepalive, or auth_request).
    #[arg(long, value_name = "ADDR", env = "XSENDFILED_LISTEN")]
    pub(crate) listen: Option<String>,

    /// Permissions of the Unix socket created by --listen unix:PATH (octal).
    #[arg(long, value_name = "MODE", default_value = "0660", env = "XSENDFILED_SOCKET_MODE")]
    pub(crate) socket_mode: String,

    /// Owner of that Unix socket, USER or USER:GROUP (names or numeric ids; changing the owner
    /// needs root). Default: the user that starts xsendfiled.
    #[arg(long, value_name = "USER[:GROUP]", env = "XSENDFILED_SOCKET_OWNER")]
    pub(crate) socket_owner: Option<String>,

    /// Group of that Unix socket (name or numeric id): the web server's, e.g. www-data, so that
    /// its workers may connect with --socket-mode 0660.
    #[arg(long, value_name = "GROUP", env = "XSENDFILED_SOCKET_GROUP")]
    pub(crate) socket_group: Option<String>,

    /// When started as root: run as USER (name or numeric id) once the socket is bound and the
    /// root, key file and access log are open, with USER's supplementary groups.
    #[arg(long, value_name = "USER", env = "XSENDFILED_USER")]
    pub(crate) user: Option<String>,

    /// With --user: run with this primary group (name or numeric id) instead of USER's.
    #[arg(long, value_name = "GROUP", env = "XSENDFILED_GROUP")]
    pub(crate) group: Option<String>,

    /// Connections served at once (further ones wait in the listen backlog).
    #[arg(long, value_name = "N", default_value_t = crate::limits::DEFAULT_MAX_CONNECTIONS, env = "XSENDFILED_MAX_CONNECTIONS")]
    pub(crate) max_connections: usize,

    /// Largest FastCGI PARAMS stream of one request, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = crate::limits::DEFAULT_MAX_PARAMS_BYTES, env = "XSENDFILED_MAX_PARAMS_BYTES")]
    pub(crate) max_params_bytes: usize,

    /// Most name-value pairs in one request.
    #[arg(long, value_name = "N", default_value_t = crate::limits::DEFAULT_MAX_PARAMS_COUNT, env = "XSENDFILED_MAX_PARAMS")]
    pub(crate) max_params: usize,

    /// Request body bytes drained before answering; past it the reply is sent and the connection closed.
    #[arg(long, value_name = "BYTES", default_value_t = crate::limits::DEFAULT_MAX_STDIN_BYTES, env = "XSENDFILED_MAX_STDIN_BYTES")]
    pub(crate) max_stdin_bytes: u64,

    /// Close a connection idle between requests for this long (e.g. 60s, 500ms, 2m).
    #[arg(long, value_name = "DURATION", default_value = "60s", env = "XSENDFILED_IDLE_TIMEOUT")]
    pub(crate) idle_timeout: String,

    /// Close a connection whose request is not complete this long after it began.
    #[arg(long, value_name = "DURATION", default_value = "30s", env = "XSENDFILED_REQUEST_TIMEOUT")]
    pub(crate) request_timeout: String,

    /// On SIGTERM/SIGINT, wait this long for requests in progress before exiting.
    #[arg(long, value_name = "DURATION", default_value = "10s", env = "XSENDFILED_DRAIN_TIMEOUT")]
    pub(crate) drain_timeout: String,

    /// Worker threads (1 runs everything on one thread, the fastest on small machines).
    #[arg(long, value_name = "N", default_value_t = 1, env = "XSENDFILED_THREADS")]
    pub(crate) threads: usize,

    /// Log level: error, warn, info, debug, trace (RUST_LOG, when set, takes precedence).
    #[arg(long, value_name = "LEVEL", default_value = "info", env = "XSENDFILED_LOG_LEVEL")]
    pub(crate) log_level: String,

    /// More log output (repeatable); added to --log-level.
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Less log output (repeatable).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub(crate) quiet: u8,
}

impl Cli {
    /// The serve options, whether given after `serve` or without a subcommand.
    pub fn serve_args(&self) -> &ServeArgs {
        match &self.command {
            Some(Command::Serve(args)) => args.as_ref(),
            _ => &self.serve,
        }
    }
}
