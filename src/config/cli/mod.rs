//! Command-line definitions (clap derive) and nothing else: no validation, no logic.
//!
//! Every daemon option also reads an environment variable named after it with the `XSENDFILED_`
//! prefix (`--internal-prefix` → `XSENDFILED_INTERNAL_PREFIX`), so CGI and mod_fcgid setups, which
//! cannot pass arguments easily, configure it through the environment. A test walks the arguments
//! and checks the names. [`crate::config`] turns these raw values into a validated `Config`. The
//! responder's options are in `serve.rs`; `sign` and `check` are here.

mod serve;

pub use serve::ServeArgs;
pub(crate) use serve::TokenSchemeArg;

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
Configuration file (--config, XSENDFILED_CONFIG): TOML, one key per option, named as the long option
(internal-prefix = \"/_protected\", root = [\"/srv/a\"], allow-hidden = true). Precedence: file <
environment < command line; `xsendfiled check --show-config` shows where each value came from.
The Debian package's service reads /etc/xsendfiled/xsendfiled.toml.
Signals: SIGTERM/SIGINT drain and exit. SIGHUP re-reads the configuration file, validates the
options again and swaps in the result for new requests: roots reopened (a replaced root is picked
up), maps, the key ring file re-read, the access log reopened; one with any problem keeps the
running configuration and logs why.
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
    /// Revoke one signed link (--id) or every link of a key (--kid) in the state store: every
    /// daemon using that store refuses them (403) within a second.
    Revoke(Box<RevokeArgs>),
    /// Ask the live web server for URL like a client, compare with what xsendfiled decides for
    /// the same path, and name the likely cause of a difference (exit 1) and its fix.
    Doctor(Box<DoctorArgs>),
}

/// Options of `revoke`.
#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["id", "kid"]))]
pub struct RevokeArgs {
    /// The state store the daemons use: a SQLite FILE or redis://HOST:PORT[/DB].
    #[arg(long, value_name = "FILE|URL", env = "XSENDFILED_STATE")]
    pub(crate) state: String,

    /// The link id to revoke (printed by `sign --uses`, the `id=` of the link).
    #[arg(long, value_name = "ID")]
    pub(crate) id: Option<String>,

    /// Revoke every link signed with this key id.
    #[arg(long, value_name = "KID")]
    pub(crate) kid: Option<String>,

    /// How long the revocation lasts, as a duration from now; it must cover the links it names.
    /// Default: the daemons' link lifetime cap (--max-link-lifetime, else the `max-link-lifetime`
    /// of --config, else 7d), within which every link still usable expires. A shorter one is
    /// refused: the links would be accepted again when it ends.
    #[arg(long, value_name = "DURATION", conflicts_with = "until")]
    pub(crate) lasting: Option<String>,

    /// The daemons' --max-link-lifetime, when not the default (7d): the revocation lasts as long.
    #[arg(long, value_name = "DURATION", env = "XSENDFILED_MAX_LINK_LIFETIME")]
    pub(crate) max_link_lifetime: Option<String>,

    /// The daemons' configuration file, read for its `max-link-lifetime` only.
    #[arg(long, value_name = "FILE", env = "XSENDFILED_CONFIG")]
    pub(crate) config: Option<PathBuf>,

    /// Until when the revocation lasts, as a point in time: Unix seconds or RFC 3339 UTC (for a
    /// link signed to expire later than --max-link-lifetime from now).
    #[arg(long, value_name = "TIME")]
    pub(crate) until: Option<String>,
}

/// Options of `doctor`.
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// The daemon's options, exactly as for `serve`.
    #[command(flatten)]
    pub(crate) serve: ServeArgs,

    /// Also read this nginx configuration (through `nginx -T` when nginx accepts it) and flag
    /// its location mistakes: an `alias` without the trailing slash of its location, no location
    /// for the internal URI, an internal URI's location that is not `internal`.
    #[arg(long, value_name = "FILE")]
    pub(crate) nginx_conf: Option<PathBuf>,

    /// The public URL of a real file, as a browser requests it: http://HOST[:PORT]/PATH.
    pub(crate) url: String,
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

    /// Print every option of `serve` with its effective value and where it came from (default,
    /// file, environment, flag); secrets are hidden.
    #[arg(long)]
    pub(crate) show_config: bool,

    /// URIs as a browser requests them (path and query, percent-encoded), e.g. '/dl/a%20b.txt'.
    pub(crate) uris: Vec<String>,
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

    /// Limit the link to N uses (a daemon with --state counts them); sign chooses a random link
    /// id and prints it on stderr ("id ID").
    #[arg(long, value_name = "N")]
    pub(crate) uses: Option<u32>,

    /// How long one use stays open for its client (signed `gw`), e.g. 30m; default: the daemon's
    /// --grant-window. Needs --uses.
    #[arg(long, value_name = "DURATION", requires = "uses")]
    pub(crate) grant_window: Option<String>,

    /// Give the link this id (1-64 of A-Z a-z 0-9 _ -) instead of a random one; with or without
    /// --uses, the link can then be revoked by id.
    #[arg(long, value_name = "ID")]
    pub(crate) id: Option<String>,

    /// The public path a browser requests, mount prefix included, not percent-encoded
    /// (e.g. "/dl/reports/Q3 résumé.pdf").
    pub(crate) path: String,
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
