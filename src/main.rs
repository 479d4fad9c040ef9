//! The `xsendfiled` binary: parse, validate, pick the launch mode, run. Errors leave by one door.

use clap::Parser;
use std::process::ExitCode;
use xsendfiled::cmd;
use xsendfiled::config::cli::{Cli, Command};

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
        Some(Command::Sign(args)) => cmd::sign::run(args),
        Some(Command::Check(args)) => cmd::check::run(args),
        Some(Command::Doctor(args)) => cmd::doctor::run(args),
        _ => cmd::serve::run(cli.serve_args()),
    }
}
