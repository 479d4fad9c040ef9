//! The `xsendfiled` binary: parse, validate, pick the launch mode, run. Errors leave by one door.

use anyhow::Context;
use clap::Parser;
use std::process::ExitCode;
use xsendfiled::cli::Cli;
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
    let args = cli.serve_args();
    let config = Config::from_args(args, std::env::var_os("FCGI_WEB_SERVER_ADDRS").as_deref())?;
    env_logger::Builder::new()
        .filter_level(config.server.log_level)
        .parse_env("RUST_LOG")
        .target(env_logger::Target::Stderr)
        .init();
    let launch = listen::detect(config.server.listen.as_ref(), config.server.socket_mode).context("cannot listen")?;
    match launch {
        listen::Launch::Cgi => {
            let status = xsendfiled::cgi::run(
                &config.policy,
                std::env::vars_os(),
                &mut std::io::stdin().lock(),
                config.server.limits.max_stdin_bytes,
                &mut std::io::stdout().lock(),
            )
            .context("writing the CGI response")?;
            log::debug!("CGI request answered {status}");
            Ok(ExitCode::SUCCESS)
        }
        listen::Launch::FastCgi(bound) => {
            server::run(config.policy, &config.server, bound).context("server failed")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
