//! Raw options → one validated `Config`, once, at start-up.
//!
//! Nothing after start-up sees clap types or re-validates: the root is canonical and open, prefixes
//! are normalised, durations and modes are parsed. Every error says which option (and which
//! environment variable) is wrong and how to fix it; `check` gets every problem at once, in option
//! order. By concern: `policy.rs` (prefixes, roots, map, presentation), `signing.rs` (scheme and
//! keys), `server.rs` (listening, limits, accounts), `values.rs` (single values), `cli/` (clap),
//! `file.rs` (the TOML configuration file) and `layers.rs` (the file under the environment and the
//! command line, option by option).

mod accounts;
pub mod cli;
mod error;
mod file;
pub mod layers;
mod object;
mod policy;
mod server;
mod signing;
mod values;

pub(crate) use error::ConfigError;
pub(crate) use file::text_value as config_file_value;
pub(crate) use server::{parse_state, ListenSpec, MetricsListen, Probes, ServerSettings, StateSpec};
pub(crate) use values::{parse_duration_str, parse_network, parse_time, parse_time_in, parse_when};

use crate::config::cli::ServeArgs;
use crate::config::layers::FileLayer;
use crate::guard::Policy;
use std::ffi::OsStr;

/// The whole validated configuration.
#[derive(Debug)]
pub struct Config {
    /// What every decision reads (the guard's input).
    pub policy: Policy,
    /// What the server shell reads: listening, limits, accounts, threads.
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

    /// Validates `args`, the options layered over the configuration file (`layer`, whose own
    /// problems are `file_problems`): every problem, the file's first; a problem with a value that
    /// came from the file names the file and line.
    ///
    /// # Errors
    /// All problems found; never an empty list.
    pub(crate) fn load(
        args: &ServeArgs,
        layer: &FileLayer,
        file_problems: Vec<ConfigError>,
        web_server_addrs: Option<&OsStr>,
    ) -> Result<Config, Vec<ConfigError>> {
        let mut errors = file_problems;
        // A file that could not be read whole: the options without it would only add noise.
        let unread = |e: &ConfigError| {
            matches!(
                e,
                ConfigError::ConfigFile { .. }
                    | ConfigError::ConfigFileRefused { .. }
                    | ConfigError::ConfigSyntax { .. }
            )
        };
        if errors.iter().any(unread) {
            return Err(errors);
        }
        match Config::validate(args, web_server_addrs) {
            Ok(config) if errors.is_empty() => Ok(config),
            Ok(_) => Err(errors),
            Err(found) => {
                errors.extend(found.into_iter().map(|e| in_file(layer, e)));
                // A file that sets no root yet (as packaged) is told so first.
                errors.sort_by_key(|e| !matches!(e, ConfigError::MissingRootInFile(_)));
                Err(errors)
            }
        }
    }

    /// Validates `args`, reporting every problem rather than the first (for `xsendfiled check`).
    /// Each concern records its problems in option order: prefixes, roots and map, link lifetime,
    /// presentation, access log, scheme and keys, server settings.
    ///
    /// # Errors
    /// All problems found, in option order; never an empty list.
    pub(crate) fn validate(args: &ServeArgs, web_server_addrs: Option<&OsStr>) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let e = &mut errors;
        let backend = args.backend;
        // The prefixes are checked on their own first, so a bad root does not hide their problems.
        let prefixes = policy::prefixes(backend, args.internal_prefix.as_deref(), args.strip_prefix.as_deref());
        let prefixes_ok = keep(e, prefixes).is_some();
        let policy = policy::roots(e, args, backend, prefixes_ok);
        let max_ttl =
            keep(e, values::parse_duration("--max-link-lifetime", &args.max_link_lifetime).map(|d| d.as_secs()));
        let presentation = keep(e, policy::presentation(args));
        let access_log = keep(e, policy::access_log(args));
        let links = signing::links(e, args);
        let grant_window = keep(e, values::parse_duration("--grant-window", &args.grant_window).map(|d| d.as_secs()));
        let server = server::settings(e, args, backend, web_server_addrs);
        if !errors.is_empty() {
            return Err(errors);
        }
        let (
            Some(mut policy),
            Some(max_ttl),
            Some(presentation),
            Some(access_log),
            Some(links),
            Some(server),
            Some(grant_window),
        ) = (policy, max_ttl, presentation, access_log, links, server, grant_window)
        else {
            // Every None above recorded an error, so this cannot be reached with an empty list.
            return Err(vec![ConfigError::MissingRoot]);
        };
        policy.presentation = presentation;
        policy.access_log = access_log;
        policy::map_covers_roots(&policy).map_err(|err| vec![err])?;
        policy.signing = links.into_signing(args.require_signature, max_ttl);
        if let Some(s) = policy.signing.as_mut() {
            s.grant_window = grant_window.max(1);
        }
        Ok(Config { policy, server })
    }
}

/// Keeps a value, or records its error.
pub(super) fn keep<T>(errors: &mut Vec<ConfigError>, r: Result<T, ConfigError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(err) => {
            errors.push(err);
            None
        }
    }
}

/// `e`, with the file and line of the value it is about when that value came from the file (the
/// message of an option's problem starts with the option, `--NAME`).
fn in_file(layer: &FileLayer, e: ConfigError) -> ConfigError {
    if let (ConfigError::MissingRoot, Some(path)) = (&e, &layer.path) {
        return ConfigError::MissingRootInFile(path.clone());
    }
    let text = e.to_string();
    let Some(rest) = text.strip_prefix("--") else { return e };
    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    match layer.from_file.iter().find(|(key, _)| *key == name) {
        Some((_, at)) => ConfigError::InFile { at: at.clone(), problem: Box::new(e) },
        None => e,
    }
}
