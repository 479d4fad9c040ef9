//! The configuration file as the lowest layer of the options: file < environment < command line.
//!
//! No option is declared twice. A key of the file is valid iff it is the long name of an option of
//! `serve` (the clap definitions in `cli/serve.rs`, walked at run time), and its value is checked
//! by that option's own value parser. The command line is parsed once to learn, per option, whether
//! the command line or the environment gave it (`ArgMatches::value_source`); each file value that
//! neither overrides becomes `--NAME=VALUE` in front of the user's arguments, and the whole is
//! parsed again, so every option, today's and tomorrow's, takes the file exactly as it takes the
//! flag. A flag is `true`/`false`, a counted flag (`verbose`) an integer, a repeatable option an
//! array or one value.
//!
//! Every problem of the file is collected (unknown keys with a near-miss suggestion, wrong types,
//! values the option's parser refuses), each naming file, line and key; [`Config::load`] adds the
//! validation problems, those of file values annotated with their line. Secrets: an option whose
//! environment value clap hides (`hide_env_values`), or whose name says so (`secret`, `password`,
//! `credential`, `access-key`, `session-token`), is never shown by `check --show-config`, and a
//! file holding one is refused when others can read it.
//!
//! [`Config::load`]: super::Config::load

use super::cli::{Cli, ServeArgs};
use super::file::{self, Entry, Value};
use super::ConfigError;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::path::PathBuf;

/// Words in an option's name that make its value a secret.
const SECRET_WORDS: &[&str] = &["secret", "password", "credential", "access-key", "session-token"];

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The option's default.
    Default,
    /// Not set anywhere, no default.
    Unset,
    /// The configuration file, at `FILE:LINE`.
    File(String),
    /// The environment variable.
    Env(String),
    /// The command line.
    Flag,
}

/// One option's effective value and where it came from (`check --show-config`).
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    pub(crate) key: String,
    /// Raw values as given (joined with `, `); `(hidden)` for a secret.
    pub(crate) value: String,
    pub(crate) origin: Origin,
}

/// What the file layer added: kept for `check --show-config`, annotations and SIGHUP.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileLayer {
    /// The arguments the process started with (SIGHUP layers them over the file again).
    pub(crate) argv: Vec<OsString>,
    /// `--config`, when given.
    pub(crate) path: Option<PathBuf>,
    /// `(option, FILE:LINE)` for each option whose effective value is the file's.
    pub(crate) from_file: Vec<(String, String)>,
    /// Every option of `serve`, in declaration order.
    pub(crate) settings: Vec<Setting>,
}

/// The command line with the configuration file under it.
#[derive(Debug)]
pub struct Layered {
    /// The parsed options, file values included.
    pub cli: Cli,
    pub(crate) layer: FileLayer,
    /// The file's own problems (validation comes later, in `Config::load`).
    pub(crate) problems: Vec<ConfigError>,
}

/// The options of `serve`, as clap builds them.
pub(crate) fn serve_command() -> Command {
    let mut cmd = ServeArgs::augment_args(Command::new("serve"));
    cmd.build();
    cmd
}

/// The options a file may set: every long option of `serve` but `--config` itself.
pub(crate) fn file_options(cmd: &Command) -> impl Iterator<Item = (&Arg, &str)> {
    cmd.get_arguments()
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version" | "config"))
        .filter_map(|a| a.get_long().map(|long| (a, long)))
}

/// Whether `arg`'s value is a secret.
pub(crate) fn is_secret(arg: &Arg) -> bool {
    arg.is_hide_env_values_set() || arg.get_long().is_some_and(|l| SECRET_WORDS.iter().any(|w| l.contains(w)))
}

/// Parses `argv` with the file named by `--config` (or `XSENDFILED_CONFIG`) under it.
///
/// # Errors
/// The command line itself is wrong (clap's error, with usage), or the file's values conflict
/// with it; `--help` and `--version` arrive here too.
pub fn load(argv: impl IntoIterator<Item = OsString>) -> Result<Layered, clap::Error> {
    let argv: Vec<OsString> = argv.into_iter().collect();
    let top = Cli::command().try_get_matches_from(&argv)?;
    let (sub, first) = match top.subcommand() {
        None => (None, &top),
        Some((name @ ("serve" | "check" | "doctor"), m)) => (Some(name), m),
        Some(_) => {
            let cli = Cli::from_arg_matches(&top)?;
            return Ok(Layered { cli, layer: FileLayer { argv, ..FileLayer::default() }, problems: Vec::new() });
        }
    };
    let path = first.get_one::<PathBuf>("config").cloned();
    let cmd = serve_command();
    let mut problems = Vec::new();
    let mut injected = Vec::new();
    let mut from_file = Vec::new();
    if let Some(path) = &path {
        match read_entries(path, &cmd) {
            Err(e) => problems.push(e),
            Ok(entries) => {
                for entry in &entries {
                    match give(&cmd, first, entry) {
                        Err(why) => {
                            let at = file::at(path, entry.line);
                            problems.push(ConfigError::ConfigKey { at, key: entry.key.clone(), why });
                        }
                        Ok(None) => {}
                        Ok(Some(tokens)) => {
                            injected.extend(tokens);
                            from_file.push((entry.key.clone(), file::at(path, entry.line)));
                        }
                    }
                }
            }
        }
    }
    // The subcommand's name, if any, is argv[1] (options may not come before it).
    let split = 1 + usize::from(sub.is_some());
    let layered_argv: Vec<OsString> =
        argv.iter().take(split).cloned().chain(injected).chain(argv.iter().skip(split).cloned()).collect();
    let top = Cli::command().try_get_matches_from(&layered_argv)?;
    let cli = Cli::from_arg_matches(&top)?;
    let effective = top.subcommand().map_or(&top, |(_, m)| m);
    let settings = settings(&cmd, effective, &from_file);
    Ok(Layered { cli, layer: FileLayer { argv, path, from_file, settings }, problems })
}

/// The entries of the file at `path`, refused whole when it is unreadable, not TOML, or holds a
/// secret that others can read.
fn read_entries(path: &std::path::Path, cmd: &Command) -> Result<Vec<Entry>, ConfigError> {
    let contents = file::read(path)?;
    let entries = file::parse(path, &contents.text)?;
    let secrets: Vec<&str> = entries
        .iter()
        .filter(|e| file_options(cmd).any(|(a, long)| long == e.key && is_secret(a)) || holds_credentials(&e.value))
        .map(|e| e.key.as_str())
        .collect();
    file::check_mode(path, contents.mode, &secrets)?;
    Ok(entries)
}

/// Whether `value` is (or holds) a URL with credentials (`redis://:PASSWORD@host`): a secret
/// whatever the option's name.
fn holds_credentials(value: &file::Value) -> bool {
    match value {
        file::Value::Text(t) => crate::state::redacted(t) != *t,
        file::Value::Array(items) => items.iter().any(holds_credentials),
        _ => false,
    }
}

/// The arguments that give `entry`'s option its value: `None` when the environment or the command
/// line already does (the value is still checked), else `--NAME=VALUE` tokens.
fn give(cmd: &Command, first: &ArgMatches, entry: &Entry) -> Result<Option<Vec<OsString>>, String> {
    let Some(arg) = file_options(cmd).find(|(_, long)| *long == entry.key).map(|(a, _)| a) else {
        return Err(unknown(cmd, &entry.key));
    };
    let tokens = tokens(cmd, arg, &entry.key, &entry.value)?;
    let overridden =
        matches!(first.value_source(arg.get_id().as_str()), Some(ValueSource::CommandLine | ValueSource::EnvVariable));
    Ok((!overridden).then_some(tokens))
}

/// "unknown key", with the nearest option's name when one is close.
fn unknown(cmd: &Command, key: &str) -> String {
    if key == "config" {
        return "a configuration file cannot name another one".to_owned();
    }
    let nearest = file_options(cmd)
        .map(|(_, long)| (strsim::jaro(key, long), long))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match nearest {
        Some((_, long)) => format!("unknown key; did you mean {long}?"),
        None => "unknown key: keys are the long options of `xsendfiled serve --help`, without the dashes".to_owned(),
    }
}

/// The `--LONG[=VALUE]` tokens for `value`, each value checked by the option's own parser.
fn tokens(cmd: &Command, arg: &Arg, long: &str, value: &Value) -> Result<Vec<OsString>, String> {
    let flag = || OsString::from(format!("--{long}"));
    let takes_values = arg.get_num_args().is_none_or(|r| r.takes_values());
    match (arg.get_action(), value) {
        (ArgAction::Count, Value::Integer(n)) => match usize::try_from(*n) {
            Ok(n) if n <= 255 => Ok(vec![flag(); n]),
            _ => Err(format!("expected a count from 0 to 255, found {n}")),
        },
        (ArgAction::Count, v) => Err(format!("expected a count (an integer), found {}", v.type_name())),
        (_, Value::Bool(true)) if !takes_values => Ok(vec![flag()]),
        (_, Value::Bool(false)) if !takes_values => Ok(Vec::new()),
        (_, v) if !takes_values => Err(format!("expected true or false, found {}", v.type_name())),
        (ArgAction::Append, Value::Array(items)) => items.iter().map(|item| checked(cmd, arg, long, item)).collect(),
        (_, Value::Array(_)) => Err("takes one value, not an array".to_owned()),
        (_, v) => Ok(vec![checked(cmd, arg, long, v)?]),
    }
}

/// `--LONG=VALUE` for one scalar, once the option's parser accepts it.
fn checked(cmd: &Command, arg: &Arg, long: &str, value: &Value) -> Result<OsString, String> {
    let text = match value {
        Value::Text(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(_) | Value::Other(_) => return Err(format!("expected a string, found {}", value.type_name())),
    };
    // The option alone, with its own parser and delimiter (its conflicts and requirements name
    // other options, and its environment variable is not this value).
    let alone = Arg::new(arg.get_id().clone())
        .long(long.to_owned())
        .value_parser(arg.get_value_parser().clone())
        .value_delimiter(arg.get_value_delimiter())
        .action(ArgAction::Append);
    let mut probe = Command::new(cmd.get_name().to_owned()).no_binary_name(true).arg(alone);
    probe.try_get_matches_from_mut([OsString::from(format!("--{long}={text}"))]).map_err(|e| clap_reason(&e))?;
    Ok(OsString::from(format!("--{long}={text}")))
}

/// A value parser's complaint in one line, without clap's "error:" and usage hints.
fn clap_reason(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:"))
        .collect();
    let mut reason = lines.join(" ").trim_start_matches("error: ").to_owned();
    // "invalid value 'x' for '--NAME <NAME>'": the key is named already.
    if let Some(start) = reason.find(" for '--") {
        if let Some(len) = reason[start + 7..].find('\'') {
            reason.replace_range(start..start + 8 + len, "");
        }
    }
    reason
}

/// Every option of `serve` with its effective value and origin.
fn settings(cmd: &Command, m: &ArgMatches, from_file: &[(String, String)]) -> Vec<Setting> {
    cmd.get_arguments()
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
        .filter_map(|a| {
            let long = a.get_long()?;
            let id = a.get_id().as_str();
            let origin = match (from_file.iter().find(|(k, _)| k == long), m.value_source(id)) {
                (Some((_, at)), _) => Origin::File(at.clone()),
                (None, Some(ValueSource::CommandLine)) => Origin::Flag,
                (None, Some(ValueSource::EnvVariable)) => {
                    Origin::Env(a.get_env().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default())
                }
                (None, Some(ValueSource::DefaultValue)) => Origin::Default,
                (None, _) => Origin::Unset,
            };
            let value = if matches!(a.get_action(), ArgAction::Count) {
                m.get_count(id).to_string()
            } else {
                let raw = m.get_raw(id).into_iter().flatten();
                // A URL's credentials (`--state redis://:PASSWORD@host`) are never shown.
                raw.map(|v| crate::state::redacted(&v.to_string_lossy())).collect::<Vec<_>>().join(", ")
            };
            let value = if is_secret(a) && !value.is_empty() { "(hidden)".to_owned() } else { value };
            Some(Setting { key: long.to_owned(), value, origin })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_named_as_such_or_hide_their_environment_value() {
        let arg = |long: &'static str| Arg::new(long).long(long);
        assert!(is_secret(&arg("s3-secret-access-key")));
        assert!(is_secret(&arg("s3-access-key-id")));
        assert!(is_secret(&arg("upstream-password")));
        assert!(is_secret(&arg("anything").hide_env_values(true)));
        assert!(!is_secret(&arg("token-scheme")));
        assert!(!is_secret(&arg("keys")));
    }

    #[test]
    fn a_near_miss_is_suggested_and_a_stranger_is_not() {
        let cmd = serve_command();
        assert_eq!(unknown(&cmd, "intenal-prefix"), "unknown key; did you mean internal-prefix?");
        assert_eq!(unknown(&cmd, "internal_prefix"), "unknown key; did you mean internal-prefix?");
        assert!(unknown(&cmd, "zzz").starts_with("unknown key: keys are the long options"));
    }
}
