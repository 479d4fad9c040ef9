//! `xsendfiled` serving: validate the options, start logging, listen (and bind the app socket), or
//! answer one CGI request; drop privileges, run. Everything that needs root happens before the ids
//! change.

use crate::config::layers::{self, Layered};
use crate::config::{Config, ConfigError};
use crate::server::{self, listen};
use anyhow::Context;
use std::process::ExitCode;

/// Runs the daemon (or the CGI program) with the options in `layered`.
///
/// # Errors
/// An invalid configuration, a socket that cannot be bound, privileges that cannot be dropped, or
/// a server that fails.
pub fn run(layered: Layered) -> anyhow::Result<ExitCode> {
    let Layered { cli, layer, problems } = layered;
    let args = cli.serve_args();
    let config = Config::load(args, &layer, problems, std::env::var_os("FCGI_WEB_SERVER_ADDRS").as_deref())
        .map_err(first_problem)?;
    env_logger::Builder::new()
        .filter_level(config.server.log_level)
        .parse_env("RUST_LOG")
        .target(env_logger::Target::Stderr)
        .init();
    if let Some(path) = &layer.path {
        let from_file = layer.from_file.len();
        log::info!("configuration file {}: {from_file} option(s) from it", path.display());
    }
    if config.policy.signing.as_ref().is_some_and(|s| s.scheme != crate::guard::token::Scheme::Sdl1) {
        log::warn!(
            "signed links use the compatibility scheme {:?} (MD5 or a secret prefix): prefer sdl1 for new links",
            args.token_scheme
        );
    }
    // The state store is opened before privileges are dropped, like the key file and the log.
    let state = match &config.server.state {
        Some(spec) => Some(
            crate::state::Store::open(spec, config.server.state_timeout).map_err(|e| anyhow::anyhow!("--state {e}"))?,
        ),
        None => None,
    };
    let run_as = config.server.accounts.run_as.as_ref();
    if let Some(r) = run_as {
        let (euid, _) = crate::sys::effective_ids();
        if euid != 0 {
            anyhow::bail!(
                "--user {}: switching users needs root, and xsendfiled runs as uid {euid}; start it as root or leave out --user and --group",
                r.user
            );
        }
    }
    let launch = listen::detect(&config.server).context("cannot listen")?;
    let app = match (&launch, &config.server.app_socket) {
        (listen::Launch::Cgi, Some(_)) => {
            anyhow::bail!("--app-socket needs the daemon: a CGI program answers one request and exits")
        }
        (listen::Launch::Cgi, _) if config.server.metrics_listen.is_some() => {
            anyhow::bail!("--metrics-listen needs the daemon: a CGI program answers one request and exits")
        }
        (_, Some(path)) => Some(listen::bind_app(path, &config.server).context("cannot listen")?),
        (_, None) => None,
    };
    let metrics = match &config.server.metrics_listen {
        Some(spec) => Some(listen::bind_metrics(spec, &config.server).context("cannot listen")?),
        None => None,
    };
    if metrics.is_some() || config.server.probes.status.is_some() {
        let m = crate::metrics::enable(&crate::guard::decide::Reason::LABELS, config.policy.root_count());
        let keys = config.policy.signing.as_ref().map_or(0, |s| s.keys().kids().len());
        m.keys.set(i64::try_from(keys).unwrap_or(i64::MAX));
    }
    if let Some(crate::config::MetricsListen::Tcp(addr)) = &config.server.metrics_listen {
        if !addr.ip().is_loopback() {
            log::warn!("--metrics-listen {addr} is not a loopback address: anyone who reaches it sees the counts");
        }
    }
    // Everything that needs root is done: the socket is bound and given away, the root, key file
    // and access log are open. Still one thread, so the ids change for the whole process.
    if let Some(r) = run_as {
        // The store's files were made as root: the run-as user must be able to reopen them.
        if let Some(st) = &state {
            st.hand_to(r.uid, r.gid).map_err(|e| anyhow::anyhow!("--state {e}"))?;
        }
        crate::sys::drop_privileges(r.uid, r.gid, &r.groups)
            .with_context(|| format!("--user {}: cannot drop privileges", r.user))?;
        log::info!("running as uid {} gid {} (--user {})", r.uid, r.gid, r.user);
        if let Some(st) = &state {
            st.warn_unless_writable();
        }
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
            let status = crate::server::cgi::run(
                &config.policy,
                state.as_ref(),
                env,
                &mut std::io::stdin().lock(),
                config.server.limits.max_stdin_bytes,
                &mut std::io::stdout().lock(),
            )
            .context("writing the CGI response")?;
            log::debug!("CGI request answered {status}");
            Ok(ExitCode::SUCCESS)
        }
        listen::Launch::Daemon(main) => {
            let bound = main.into_iter().chain(app).collect();
            // SIGHUP: the same arguments over the file as it is now, validated whole.
            // Listening, limits, threads and log level stay as started: a change to them says so.
            let argv = layer.argv.clone();
            let started = format!("{:?}", config.server);
            let revocations = config.policy.signing.as_ref().map(|s| s.revocations.clone());
            let reloader: server::Reloader = Box::new(move || {
                let Layered { cli, layer, problems } =
                    layers::load(argv.clone()).map_err(|e| vec![ConfigError::Arguments(e.render().to_string())])?;
                let addrs = std::env::var_os("FCGI_WEB_SERVER_ADDRS");
                let mut fresh = Config::load(cli.serve_args(), &layer, problems, addrs.as_deref())?;
                if format!("{:?}", fresh.server) != started {
                    log::warn!("SIGHUP: listening, limits, timeouts, threads or log level changed: they apply at the next start");
                }
                // The node's revocation list outlives a reload.
                if let (Some(s), Some(list)) = (fresh.policy.signing.as_mut(), &revocations) {
                    s.revocations = list.clone();
                }
                Ok(fresh.policy)
            });
            server::run(config.policy, &config.server, bound, metrics, reloader, state).context("server failed")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The first problem, and how many more there are (`check` lists them all).
fn first_problem(mut errors: Vec<ConfigError>) -> anyhow::Error {
    if errors.is_empty() {
        return anyhow::anyhow!("the configuration is invalid");
    }
    let more = errors.len() - 1;
    let first = errors.remove(0);
    if more == 0 {
        anyhow::Error::new(first)
    } else {
        anyhow::anyhow!("{first} (and {more} more problem(s): `xsendfiled check` with the same options lists them all)")
    }
}
