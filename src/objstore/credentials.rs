//! Credentials for an object store, found the way every AWS tool finds them (AWS CLI "Configuration
//! and credential file settings"): `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+
//! `AWS_SESSION_TOKEN`) from the environment, else the profile `AWS_PROFILE` (default `default`)
//! of the shared credentials file `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`).
//!
//! Invariant: a secret is never logged or put in an error message; errors name the variable or
//! the file and profile only.

use rusty_s3::Credentials;
use std::path::PathBuf;

/// Where the credentials come from, for messages (never the values).
pub(crate) fn find() -> Result<(Credentials, String), String> {
    find_in(&|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

fn find_in(env: &dyn Fn(&str) -> Option<String>) -> Result<(Credentials, String), String> {
    match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        (Some(key), Some(secret)) => {
            let creds = match env("AWS_SESSION_TOKEN") {
                Some(token) => Credentials::new_with_token(key, secret, token),
                None => Credentials::new(key, secret),
            };
            return Ok((creds, "the environment (AWS_ACCESS_KEY_ID)".into()));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither".into());
        }
        (None, None) => {}
    }
    let file = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".aws/credentials")))
        .ok_or("no AWS_ACCESS_KEY_ID and no shared credentials file (AWS_SHARED_CREDENTIALS_FILE, HOME unset)")?;
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let text = std::fs::read_to_string(&file).map_err(|e| {
        format!("no AWS_ACCESS_KEY_ID in the environment, and the shared credentials file {}: {e}", file.display())
    })?;
    let where_ = format!("{} [{profile}]", file.display());
    let field = |name: &str| profile_field(&text, &profile, name);
    match (field("aws_access_key_id"), field("aws_secret_access_key")) {
        (Some(key), Some(secret)) => Ok((
            match field("aws_session_token") {
                Some(token) => Credentials::new_with_token(key, secret, token),
                None => Credentials::new(key, secret),
            },
            where_,
        )),
        _ => Err(format!("{where_}: needs aws_access_key_id and aws_secret_access_key")),
    }
}

/// `name = value` in section `[profile]` of an INI text (`#` and `;` start comments).
fn profile_field(text: &str, profile: &str, name: &str) -> Option<String> {
    let mut in_profile = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = section.trim() == profile;
            continue;
        }
        if in_profile {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == name {
                    return Some(v.trim().to_owned());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_first_then_the_profile_of_the_shared_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("credentials");
        std::fs::write(&file, "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n# c\n[ci]\naws_access_key_id=C\naws_secret_access_key=CS\naws_session_token=T\n")
            .expect("write");
        let f = file.display().to_string();
        let with = |vars: &'static [(&'static str, &'static str)], extra: Option<(&'static str, String)>| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
                    .or_else(|| extra.as_ref().filter(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            }
        };
        let (c, _) = find_in(&with(&[("AWS_ACCESS_KEY_ID", "E"), ("AWS_SECRET_ACCESS_KEY", "ES")], None)).expect("env");
        assert_eq!((c.key(), c.secret(), c.token()), ("E", "ES", None));
        let (c, _) = find_in(&with(&[], Some(("AWS_SHARED_CREDENTIALS_FILE", f.clone())))).expect("file");
        assert_eq!((c.key(), c.secret()), ("D", "DS"));
        let (c, from) = find_in(&with(&[("AWS_PROFILE", "ci")], Some(("AWS_SHARED_CREDENTIALS_FILE", f.clone()))))
            .expect("profile");
        assert_eq!((c.key(), c.secret(), c.token()), ("C", "CS", Some("T")));
        assert!(from.ends_with("[ci]"));
        let e =
            find_in(&with(&[("AWS_PROFILE", "none")], Some(("AWS_SHARED_CREDENTIALS_FILE", f)))).expect_err("no such");
        assert!(!e.contains("DS") && !e.contains("CS"), "{e}");
        assert!(find_in(&with(&[("AWS_ACCESS_KEY_ID", "E")], None)).is_err());
    }
}
