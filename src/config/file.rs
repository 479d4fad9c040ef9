//! The configuration file (`--config FILE`): read it, check who may read and write it, and parse it
//! as TOML (1.0; the parser also takes 1.1) into a flat list of `key = value` entries, each with
//! its line. Nothing here knows the options: `cli/layers.rs` matches each key to an option of
//! `serve` and parses its value with that option's own parser.
//!
//! Invariants: the file is at most [`MAX_CONFIG_BYTES`] and UTF-8 (TOML 1.0 §"Spec": a TOML file
//! must be valid UTF-8); only top-level keys are entries (options are not grouped, so a table is a
//! wrong type, reported at its key); a file writable by the group or others is refused (anyone who
//! can write it decides what is served); one readable by others is refused when it holds a secret
//! (the caller says which keys are secrets, [`check_mode`]).

use super::ConfigError;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use toml::Spanned;

/// The largest configuration file read (one key per option fits in a few KiB).
pub(crate) const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// A value as the file wrote it, reduced to what options can take.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Bool(bool),
    Integer(i64),
    Text(String),
    Array(Vec<Value>),
    /// A TOML type no option takes (float, date-time, table), by its name.
    Other(&'static str),
}

impl Value {
    /// The TOML type's name, for "expected …, found …" messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "a boolean",
            Value::Integer(_) => "an integer",
            Value::Text(_) => "a string",
            Value::Array(_) => "an array",
            Value::Other(name) => name,
        }
    }
}

/// One top-level `key = value` of the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: String,
    /// 1-based line of the key.
    pub(crate) line: usize,
    pub(crate) value: Value,
}

/// The file's text and mode bits.
#[derive(Debug)]
pub(crate) struct Contents {
    pub(crate) text: String,
    pub(crate) mode: u32,
}

/// Reads `path`: a regular file (not a symlink: opened with `O_NOFOLLOW`, and judged by the opened
/// handle's metadata) of at most [`MAX_CONFIG_BYTES`], UTF-8, owned by root or by this process's
/// effective user and not writable by the group or others.
pub(crate) fn read(path: &Path) -> Result<Contents, ConfigError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| ConfigError::ConfigFile { path: path.to_owned(), source };
    let why = |why: String| ConfigError::ConfigFileRefused { path: path.to_owned(), why };
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path);
    let file = match opened {
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(why("a symbolic link (name the file itself)".to_owned()));
        }
        r => r.map_err(io)?,
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(why("not a regular file".to_owned()));
    }
    let (euid, _) = crate::sys::effective_ids();
    if meta.uid() != 0 && meta.uid() != euid {
        let owner =
            crate::sys::user_by_id(meta.uid()).ok().flatten().map_or_else(|| meta.uid().to_string(), |u| u.name);
        return Err(why(format!(
            "owned by {owner} (uid {}), who could change what is served; it must belong to root or to the \
             user running xsendfiled; run `chown root {}`",
            meta.uid(),
            path.display()
        )));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(why(format!(
            "writable by other users (mode {mode:04o}), who could change what is served; run `chmod go-w {}`",
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(why(format!("larger than {MAX_CONFIG_BYTES} bytes")));
    }
    let text = String::from_utf8(bytes).map_err(|_| why("not UTF-8 (TOML files are UTF-8)".to_owned()))?;
    Ok(Contents { text, mode })
}

/// The text value of the top-level `key` of the configuration file at `path` (read and checked
/// as the daemon reads it), for a command that needs one setting of the daemon's (`revoke`).
pub(crate) fn text_value(path: &Path, key: &str) -> Result<Option<String>, ConfigError> {
    let contents = read(path)?;
    Ok(parse(path, &contents.text)?.into_iter().find(|e| e.key == key).and_then(|e| match e.value {
        Value::Text(t) => Some(t),
        _ => None,
    }))
}

/// Refuses a file that others can read when it holds secrets (`secret_keys`, the keys present
/// whose values are secrets), as the key ring is refused.
pub(crate) fn check_mode(path: &Path, mode: u32, secret_keys: &[&str]) -> Result<(), ConfigError> {
    if secret_keys.is_empty() || mode & 0o004 == 0 {
        return Ok(());
    }
    Err(ConfigError::ConfigFileRefused {
        path: path.to_owned(),
        why: format!(
            "holds credentials ({}) and other users can read it (mode {mode:04o}); run `chmod o-r {}` \
             (the daemon's group may read it)",
            secret_keys.join(", "),
            path.display()
        ),
    })
}

/// Parses `text` (the file at `path`) into its top-level entries, in the order written.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Vec<Entry>, ConfigError> {
    let table: BTreeMap<Spanned<String>, Spanned<toml::Value>> = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        let why = e.message().trim().to_owned();
        ConfigError::ConfigSyntax { path: path.to_owned(), line, why }
    })?;
    let mut entries: Vec<(usize, Entry)> = table
        .into_iter()
        .map(|(k, v)| {
            let offset = k.span().start;
            (offset, Entry { key: k.into_inner(), line: line_of(text, offset), value: reduce(v.into_inner()) })
        })
        .collect();
    entries.sort_by_key(|(offset, _)| *offset);
    Ok(entries.into_iter().map(|(_, e)| e).collect())
}

fn reduce(v: toml::Value) -> Value {
    match v {
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Integer(i) => Value::Integer(i),
        toml::Value::String(s) => Value::Text(s),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(reduce).collect()),
        toml::Value::Float(_) => Value::Other("a float"),
        toml::Value::Datetime(_) => Value::Other("a date-time"),
        toml::Value::Table(_) => Value::Other("a table"),
    }
}

/// The 1-based line holding byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// `path:line`, as errors and `check --show-config` write a place in the file.
pub(crate) fn at(path: &Path, line: usize) -> String {
    format!("{}:{line}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_the_order_and_line_of_their_keys() {
        let text = "# comment\nroot = [\"/a\", \"/b\"]\n\nbackend = \"nginx\"\nthreads = 2\nallow-hidden = true\n";
        let e = parse(Path::new("x.toml"), text).expect("parses");
        let keys: Vec<(&str, usize)> = e.iter().map(|e| (e.key.as_str(), e.line)).collect();
        assert_eq!(keys, [("root", 2), ("backend", 4), ("threads", 5), ("allow-hidden", 6)]);
        assert_eq!(e[0].value, Value::Array(vec![Value::Text("/a".into()), Value::Text("/b".into())]));
        assert_eq!(e[2].value, Value::Integer(2));
        assert_eq!(e[3].value, Value::Bool(true));
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let err = parse(Path::new("x.toml"), "root = \"/a\"\nbackend = nginx\n").expect_err("bare word");
        assert!(err.to_string().starts_with("x.toml:2: "), "{err}");
        let dup = parse(Path::new("x.toml"), "threads = 1\nthreads = 2\n").expect_err("duplicate key");
        assert!(dup.to_string().starts_with("x.toml:2: "), "{dup}");
    }

    #[test]
    fn tables_floats_and_dates_are_named_by_type() {
        let e = parse(Path::new("x.toml"), "a = 1.5\nb = 2026-01-01\n[c]\nd = 1\n").expect("parses");
        let types: Vec<&str> = e.iter().map(|e| e.value.type_name()).collect();
        assert_eq!(types, ["a float", "a date-time", "a table"]);
    }

    #[test]
    fn secrets_in_a_file_others_can_read_are_refused() {
        let p = Path::new("/etc/x.toml");
        assert!(check_mode(p, 0o644, &[]).is_ok());
        assert!(check_mode(p, 0o640, &["s3-secret-access-key"]).is_ok());
        let err = check_mode(p, 0o644, &["s3-secret-access-key"]).expect_err("others can read");
        assert!(err.to_string().contains("s3-secret-access-key") && err.to_string().contains("chmod o-r"), "{err}");
    }
}
