//! The `xsendfiled` binary: parse, validate, pick the launch mode, run. Errors leave by one door.

use std::process::ExitCode;
use xsendfiled::cmd;
use xsendfiled::config::cli::Command;
use xsendfiled::config::layers;

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
    // The command line over the configuration file; usage errors, --help and --version exit here.
    let layered = layers::load(std::env::args_os()).unwrap_or_else(|e| e.exit());
    match &layered.cli.command {
        Some(Command::Sign(args)) => cmd::sign::run(args),
        Some(Command::Revoke(args)) => cmd::revoke::run(args),
        Some(Command::Check(_)) => cmd::check::run(layered),
        Some(Command::Doctor(_)) => cmd::doctor::run(layered),
        _ => cmd::serve::run(layered),
    }
}
