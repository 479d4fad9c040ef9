//! The options of the responder (`serve`, and `check`, which validates them): clap definitions
//! only. Each reads `XSENDFILED_<NAME>` too; the doc comments are the `--help` text and the man
//! page.

use super::DEFAULT_MAX_LINK_LIFETIME;
use crate::guard::Backend;
use clap::builder::PossibleValue;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

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

/// Options of the responder.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML): one key per option, named as the long option without its
    /// dashes (`internal-prefix = "/_protected"`), a flag as true or false, a repeatable option as
    /// an array (`root = ["/srv/a", "/srv/b"]`). Precedence: file < environment < command line;
    /// `check --show-config` shows where each value came from. Re-read on SIGHUP.
    #[arg(long, value_name = "FILE", env = "XSENDFILED_CONFIG")]
    pub(crate) config: Option<PathBuf>,

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
    #[arg(long, value_enum, value_name = "NAME", default_value_t = Backend::Nginx, env = "XSENDFILED_BACKEND")]
    pub(crate) backend: Backend,

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

    /// Where limited-use links (signed `uses`) are counted and revocations kept: a SQLite FILE
    /// (created if missing; several processes may share it) or redis://HOST:PORT[/DB] for several
    /// nodes. Without it, a link with `uses` is refused (503).
    #[arg(long, value_name = "FILE|URL", env = "XSENDFILED_STATE")]
    pub(crate) state: Option<String>,

    /// Longest wait for the state store; a limited-use link it does not answer in time is refused
    /// (503), failing closed.
    #[arg(long, value_name = "DURATION", default_value = "200ms", env = "XSENDFILED_STATE_TIMEOUT")]
    pub(crate) state_timeout: String,

    /// How long one use of a limited-use link stays open for its client address (Range requests,
    /// parallel segments and resumed downloads in it are the same use); a signed `gw` wins.
    #[arg(long, value_name = "DURATION", default_value = "10m", env = "XSENDFILED_GRANT_WINDOW")]
    pub(crate) grant_window: String,

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

    /// HTTP/1.1 on a Unix socket at PATH for applications that ask xsendfiled directly (the "ask"
    /// way): trusted like an `internal` location (the query is the trusted query), answered with
    /// the web server's reply plus `Xsendfiled-*` fields and no body. Created like --listen
    /// unix:PATH (--socket-mode, --socket-owner, --socket-group), removed on exit; alone or with
    /// any --listen. Not with --backend serve.
    #[arg(long, value_name = "PATH", env = "XSENDFILED_APP_SOCKET")]
    pub(crate) app_socket: Option<PathBuf>,

    /// Serve GET /metrics (Prometheus text, or OpenMetrics when asked), /healthz and /readyz on
    /// HOST:PORT or unix:PATH (off by default; keep it on loopback or a Unix socket). The series
    /// carry counts, never paths.
    #[arg(long, value_name = "ADDR", env = "XSENDFILED_METRICS_LISTEN")]
    pub(crate) metrics_listen: Option<String>,

    /// Answer `pong` to a FastCGI request for this path (php-fpm's ping.path), e.g. /ping.
    #[arg(long, value_name = "URI", env = "XSENDFILED_PING_PATH")]
    pub(crate) ping_path: Option<String>,

    /// Answer the status page to a FastCGI request for this path (php-fpm's pm.status_path), e.g.
    /// /status: plain text, `?json` or `?openmetrics`. Expose it only to trusted clients.
    #[arg(long, value_name = "URI", env = "XSENDFILED_STATUS_PATH")]
    pub(crate) status_path: Option<String>,

    /// Permissions of the Unix sockets created by --listen unix:PATH and --app-socket (octal).
    #[arg(long, value_name = "MODE", default_value = "0660", env = "XSENDFILED_SOCKET_MODE")]
    pub(crate) socket_mode: String,

    /// Owner of those Unix sockets, USER or USER:GROUP (names or numeric ids; changing the owner
    /// needs root). Default: the user that starts xsendfiled.
    #[arg(long, value_name = "USER[:GROUP]", env = "XSENDFILED_SOCKET_OWNER")]
    pub(crate) socket_owner: Option<String>,

    /// Group of those Unix sockets (name or numeric id): the web server's, e.g. www-data, so that
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

    /// Longest a file lookup may wait for storage (a hung NFS or FUSE mount): past it, 504. The
    /// default is far beyond a healthy disk or NFS lookup and well inside nginx's 60 s.
    #[arg(long, value_name = "DURATION", default_value = "5s", env = "XSENDFILED_STORAGE_TIMEOUT")]
    pub(crate) storage_timeout: String,

    /// Lookups that may wait for storage at once, a thread each (one root may use half of them).
    #[arg(long, value_name = "N", default_value_t = crate::limits::DEFAULT_STORAGE_THREADS, env = "XSENDFILED_STORAGE_THREADS")]
    pub(crate) storage_threads: usize,

    /// Object-store roots (`--root s3://BUCKET[/PREFIX]`): the S3 endpoint, e.g.
    /// http://127.0.0.1:9000 (MinIO, Ceph RGW, Garage) or https://s3.eu-west-1.amazonaws.com.
    /// Default: AWS for --s3-region. Credentials come from AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else AWS_SHARED_CREDENTIALS_FILE (default
    /// ~/.aws/credentials) with AWS_PROFILE; never from the command line. An https:// endpoint
    /// is verified against the system's CA store, or SSL_CERT_FILE / SSL_CERT_DIR when set.
    #[arg(long, value_name = "URL", env = "XSENDFILED_S3_ENDPOINT")]
    pub(crate) s3_endpoint: Option<String>,

    /// The region requests to the object store are signed for.
    #[arg(long, value_name = "REGION", default_value = "us-east-1", env = "XSENDFILED_S3_REGION")]
    pub(crate) s3_region: String,

    /// Address buckets as ENDPOINT/BUCKET/KEY (MinIO and most self-hosted stores) rather than
    /// BUCKET.ENDPOINT/KEY.
    #[arg(long, env = "XSENDFILED_S3_PATH_STYLE", value_parser = clap::builder::FalseyValueParser::new(), num_args = 0, default_missing_value = "true")]
    pub(crate) s3_path_style: bool,

    /// The web server's internal location that fetches an object from the presigned URL in
    /// `X-Xsendfiled-Url` (nginx: conf-examples/nginx-s3.conf).
    #[arg(long, value_name = "URI", default_value = "/_s3", env = "XSENDFILED_S3_INTERNAL_PREFIX")]
    pub(crate) s3_internal_prefix: String,

    /// How long a presigned URL handed to the web server stays valid (1s to 1h).
    #[arg(long, value_name = "DURATION", default_value = "30s", env = "XSENDFILED_S3_PRESIGN_LIFETIME")]
    pub(crate) s3_presign_lifetime: String,

    /// How long the answer of a HEAD (an object and its size, or "no such key") is trusted; 0
    /// asks the store on every request.
    #[arg(long, value_name = "DURATION", default_value = "5s", env = "XSENDFILED_S3_HEAD_TTL")]
    pub(crate) s3_head_ttl: String,

    /// At most this many keys in the HEAD cache of each bucket.
    #[arg(long, value_name = "N", default_value_t = 10_000, env = "XSENDFILED_S3_HEAD_CACHE")]
    pub(crate) s3_head_cache: usize,

    /// A HEAD to the object store that takes longer fails with 504 (connection refused: 502).
    /// The HEAD runs on the storage pool, whose --storage-timeout bounds it too: raise both.
    #[arg(long, value_name = "DURATION", default_value = "5s", env = "XSENDFILED_S3_TIMEOUT")]
    pub(crate) s3_timeout: String,

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

/// `--backend`: the guard's own type, so the list of backends is written once; the help of each
/// value is here, where clap reads it.
impl ValueEnum for Backend {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Backend::Nginx,
            Backend::Apache,
            Backend::Lighttpd,
            Backend::LocalRedirect,
            Backend::Caddy,
            Backend::Serve,
            Backend::Authorizer,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let (name, help) = match self {
            Backend::Nginx => ("nginx", "`X-Accel-Redirect` to an `internal` location that aliases the root"),
            Backend::Apache => (
                "apache",
                "`X-Sendfile` with the absolute path as raw bytes, for Apache mod_xsendfile (0.12, or 1.0 with \
                 `XSendFileUnescape Off`)",
            ),
            Backend::Lighttpd => ("lighttpd", "`X-Sendfile` with the absolute path percent-encoded, for lighttpd"),
            Backend::LocalRedirect => (
                "local-redirect",
                "An RFC 3875 CGI local redirect (`Location: <internal-prefix>/<path>`), for Apache mod_fcgid and \
                 mod_cgi; for an s3:// object, to the presigned path under --s3-internal-prefix",
            ),
            Backend::Caddy => {
                ("caddy", "`X-Accel-Redirect: /<path>` for Caddy's `handle_response` + `rewrite` + `file_server`")
            }
            Backend::Serve => (
                "serve",
                "xsendfiled sends the bytes itself, with Range and conditional requests, from a local file or an \
                 s3:// object (servers without offload, development)",
            ),
            Backend::Authorizer => (
                "authorizer",
                "Only allow or deny (200/403), for servers that send the file themselves after asking (nginx \
                 auth_request, FastCGI authorizers)",
            ),
        };
        Some(PossibleValue::new(name).help(help))
    }
}
