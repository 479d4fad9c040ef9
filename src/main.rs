//! The `xsendfiled` binary: parse, validate, pick the launch mode, run. Errors leave by one door.

use anyhow::Context;
use clap::Parser;
use std::process::ExitCode;
use xsendfiled::config::cli::{CheckArgs, Cli, Command, DispositionArg, SignArgs};
use xsendfiled::config::Config;
use xsendfiled::server::{self, listen};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            // stderr only: under spawn-fcgi and mod_fcgid, stdout is not ours to write.
            eprintln!("xsendfiled: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Sign(args)) => return sign(args),
        Some(Command::Check(args)) => return check(args),
        _ => {}
    }
    let args = cli.serve_args();
    let config = Config::from_args(args, std::env::var_os("FCGI_WEB_SERVER_ADDRS").as_deref())?;
    env_logger::Builder::new()
        .filter_level(config.server.log_level)
        .parse_env("RUST_LOG")
        .target(env_logger::Target::Stderr)
        .init();
    if config.policy.signing.as_ref().is_some_and(|s| s.scheme != xsendfiled::guard::token::Scheme::Sdl1) {
        log::warn!(
            "signed links use the compatibility scheme {:?} (MD5 or a secret prefix): prefer sdl1 for new links",
            args.token_scheme
        );
    }
    let run_as = config.server.accounts.run_as.as_ref();
    if let Some(r) = run_as {
        let (euid, _) = xsendfiled::sys::effective_ids();
        if euid != 0 {
            anyhow::bail!(
                "--user {}: switching users needs root, and xsendfiled runs as uid {euid}; start it as root or leave out --user and --group",
                r.user
            );
        }
    }
    let launch = listen::detect(&config.server).context("cannot listen")?;
    // Everything that needs root is done: the socket is bound and given away, the root, key file
    // and access log are open. Still one thread, so the ids change for the whole process.
    if let Some(r) = run_as {
        xsendfiled::sys::drop_privileges(r.uid, r.gid, &r.groups)
            .with_context(|| format!("--user {}: cannot drop privileges", r.user))?;
        log::info!("running as uid {} gid {} (--user {})", r.uid, r.gid, r.user);
    }
    match launch {
        listen::Launch::Cgi => {
            // One environment holds both the configuration and the request's meta-variables.
            // `XSENDFILED_ROOT` that spells exactly the configured roots configured them, so it
            // is not also the per-request narrowing: as that, `A:B` would name no directory (every
            // request 404), and a single `A` would narrow to what is already the default root.
            let configured_roots = args.root.iter().map(|r| r.as_os_str().as_encoded_bytes()).collect::<Vec<_>>();
            let configured_roots = configured_roots.join(&b':');
            let env = std::env::vars_os()
                .filter(|(k, v)| !(k == "XSENDFILED_ROOT" && v.as_encoded_bytes() == configured_roots.as_slice()));
            let status = xsendfiled::server::cgi::run(
                &config.policy,
                env,
                &mut std::io::stdin().lock(),
                config.server.limits.max_stdin_bytes,
                &mut std::io::stdout().lock(),
            )
            .context("writing the CGI response")?;
            log::debug!("CGI request answered {status}");
            Ok(ExitCode::SUCCESS)
        }
        listen::Launch::FastCgi(bound) => {
            let reload_args = args.clone();
            let reloader: server::Reloader = Box::new(move || {
                Config::validate(&reload_args, std::env::var_os("FCGI_WEB_SERVER_ADDRS").as_deref()).map(|c| c.policy)
            });
            server::run(config.policy, &config.server, bound, reloader).context("server failed")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `xsendfiled sign`: prints the signed link for a public path.
fn sign(args: &SignArgs) -> anyhow::Result<ExitCode> {
    use anyhow::bail;
    use xsendfiled::guard::token::Disposition;
    use xsendfiled::guard::token::{keys::KeyRing, sdl1, Claims};
    let Some(keys) = &args.keys else { bail!("sign needs --keys FILE (or XSENDFILED_KEYS)") };
    let ring = KeyRing::load(keys, args.allow_readable_keys).map_err(|e| anyhow::anyhow!("--keys {e}"))?;
    let kid = match &args.kid {
        Some(k) => k.clone(),
        None => ring.kids().first().cloned().unwrap_or_default(),
    };
    let Some(key) = ring.get(&kid) else { bail!("--kid {kid:?}: no such key in {}", keys.display()) };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let exp =
        sign_time("--expires", args.expires_at.as_deref(), args.expires_in.as_deref(), args.expires.as_deref(), now)?
            .unwrap_or(now + 3600);
    let nbf = sign_time(
        "--not-before",
        args.not_before_at.as_deref(),
        args.not_before_in.as_deref(),
        args.not_before.as_deref(),
        now,
    )?;
    if nbf.is_some_and(|n| n >= exp) {
        bail!("the link would never work: it starts (--not-before-*) no earlier than it expires");
    }
    if exp <= now {
        eprintln!("xsendfiled sign: warning: this link has already expired (410 Gone)");
    }
    let cap = xsendfiled::config::parse_duration_str(xsendfiled::config::cli::DEFAULT_MAX_LINK_LIFETIME)
        .map_or(0, |d| d.as_secs());
    if exp.saturating_sub(now) > cap {
        eprintln!(
            "xsendfiled sign: warning: this link expires in {}, more than the default --max-link-lifetime {}: \
             a daemon with the default refuses it (403) until it has at most {} left; raise --max-link-lifetime \
             on the daemon or sign a shorter link",
            span(exp - now),
            xsendfiled::config::cli::DEFAULT_MAX_LINK_LIFETIME,
            xsendfiled::config::cli::DEFAULT_MAX_LINK_LIFETIME
        );
    }
    let network = match &args.ip {
        Some(net) => Some(
            xsendfiled::config::parse_network(net)
                .ok_or_else(|| anyhow::anyhow!("--ip {net:?}: expected ADDRESS/BITS or ADDRESS"))?,
        ),
        None => None,
    };
    let claims = Claims {
        filename: args.filename.clone(),
        disposition: args.disposition.map(|d| match d {
            DispositionArg::Attachment => Disposition::Attachment,
            DispositionArg::Inline => Disposition::Inline,
        }),
    };
    let spec =
        sdl1::SignSpec { kid: &kid, key, path: &args.path, exp, nbf, prefix: args.prefix.as_deref(), network, claims };
    let link = sdl1::sign(&spec)?;
    println!("{link}");
    Ok(ExitCode::SUCCESS)
}

/// One `sign` time from its three spellings (at most one is given; clap refuses two): `OPT-at`
/// a point in time, `OPT-in` a duration from now, the old `OPT` either, but never a bare number.
fn sign_time(
    opt: &str,
    at: Option<&str>,
    within: Option<&str>,
    old: Option<&str>,
    now: u64,
) -> anyhow::Result<Option<u64>> {
    use xsendfiled::config::{parse_time, parse_time_in, parse_when};
    if let Some(v) = at {
        let t = parse_time(v).ok_or_else(|| {
            anyhow::anyhow!("{opt}-at {v:?}: expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ (UTC, up to year 9999)")
        })?;
        return Ok(Some(t));
    }
    if let Some(v) = within {
        let t = parse_time_in(v, now)
            .ok_or_else(|| anyhow::anyhow!("{opt}-in {v:?}: expected a duration (90s, 10m, 2h, 7d)"))?;
        return Ok(Some(t));
    }
    let Some(v) = old else { return Ok(None) };
    match parse_when(v, now) {
        Ok(t) => Ok(Some(t)),
        Err(true) => Err(anyhow::anyhow!(
            "{opt} {v}: ambiguous; for a Unix time use {opt}-at {v}, for seconds from now {opt}-in {v}s"
        )),
        Err(false) => Err(anyhow::anyhow!(
            "{opt} {v:?}: use {opt}-at TIME (Unix seconds or YYYY-MM-DDTHH:MM:SSZ) or {opt}-in DURATION (10m, 2h, 7d)"
        )),
    }
}

/// A lifetime for a warning: `30d`, `2d 3h`, `45m`, `20s`.
fn span(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, _) => format!("{h}h"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// `xsendfiled check`: every configuration problem at once (exit 1), else a summary and, per URI,
/// the decision explained step by step (on stdout).
fn check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let config = match Config::validate(&args.serve, std::env::var_os("FCGI_WEB_SERVER_ADDRS").as_deref()) {
        Ok(c) => c,
        Err(errors) => {
            print!("{}", xsendfiled::cmd::check::problems(&errors));
            return Ok(ExitCode::from(1));
        }
    };
    print!("{}", xsendfiled::cmd::check::summary(&config));
    let mut params = Vec::new();
    for p in &args.params {
        let Some((k, v)) = p.split_once('=') else { anyhow::bail!("--param {p:?}: expected NAME=VALUE") };
        params.push((k.to_owned(), v.to_owned()));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    for uri in &args.uris {
        println!();
        print!("{}", xsendfiled::cmd::check::explain(&config, uri, &args.method, &args.client, &params, now));
    }
    Ok(ExitCode::SUCCESS)
}
