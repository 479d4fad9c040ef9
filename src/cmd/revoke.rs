//! `xsendfiled revoke`: records a revocation (one link id, or every link of a key id) in the state
//! store the daemons share; each daemon reads the list every 250 ms, and a limited-use link is
//! checked against the store inside its grant as well.

use crate::config::cli::RevokeArgs;
use crate::state::{Revocation, Store};
use anyhow::{anyhow, bail};
use std::process::ExitCode;

/// Revokes `--id` or `--kid` until `--until` (or for `--lasting`, by default the link lifetime cap).
///
/// # Errors
/// A bad id, key id or time, or a store that cannot be written.
pub fn run(args: &RevokeArgs) -> anyhow::Result<ExitCode> {
    use crate::guard::token::{keys::valid_kid, limit::valid_link_id};
    let what = match (&args.id, &args.kid) {
        (Some(id), None) if valid_link_id(id) => Revocation::Id(id.clone()),
        (None, Some(kid)) if valid_kid(kid) => Revocation::Kid(kid.clone()),
        (Some(id), None) => bail!("--id {id:?}: a link id is 1-64 of A-Z a-z 0-9 _ -"),
        (None, Some(kid)) => bail!("--kid {kid:?}: a key id is 1-32 of A-Z a-z 0-9 _ -"),
        _ => bail!("give --id ID or --kid KID"),
    };
    let now = crate::state::now();
    let until = match &args.until {
        Some(t) => crate::config::parse_time(t)
            .ok_or_else(|| anyhow!("--until {t:?}: expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ"))?,
        None => until_lasting(args, now)?,
    };
    if until <= now {
        bail!("the revocation would already have ended");
    }
    let spec = crate::config::parse_state(&args.state).map_err(|e| anyhow!("{e}"))?;
    let store = Store::open(&spec, std::time::Duration::from_secs(5)).map_err(|e| anyhow!("--state {e}"))?;
    let runtime = crate::state::one_shot_runtime()?;
    runtime
        .block_on(async { tokio::time::timeout(std::time::Duration::from_secs(5), store.revoke(&what, until)).await })
        .map_err(|_| anyhow!("--state {}: no answer within 5 s", crate::state::redacted(&args.state)))?
        .map_err(|e| anyhow!("--state {}: {e}", crate::state::redacted(&args.state)))?;
    println!("revoked {} {} until {until}", what.kind(), what.name());
    Ok(ExitCode::SUCCESS)
}

/// The daemons' link lifetime cap (seconds) and where it came from: `--max-link-lifetime` (or its
/// environment variable), else the `max-link-lifetime` of `--config`, else the default.
fn lifetime_cap(args: &RevokeArgs) -> anyhow::Result<(u64, String)> {
    use crate::config::cli::DEFAULT_MAX_LINK_LIFETIME;
    let (value, from) = match (&args.max_link_lifetime, &args.config) {
        (Some(v), _) => (v.clone(), "--max-link-lifetime".to_owned()),
        (None, Some(path)) => match crate::config::config_file_value(path, "max-link-lifetime")? {
            Some(v) => (v, format!("max-link-lifetime of {}", path.display())),
            None => (DEFAULT_MAX_LINK_LIFETIME.to_owned(), "the default --max-link-lifetime".to_owned()),
        },
        (None, None) => (DEFAULT_MAX_LINK_LIFETIME.to_owned(), "the default --max-link-lifetime".to_owned()),
    };
    let secs = crate::config::parse_duration_str(&value)
        .ok_or_else(|| anyhow!("{from} {value:?}: expected a duration (10m, 2h, 7d)"))?
        .as_secs();
    Ok((secs, format!("{from} {value}")))
}

/// The end of a revocation that lasts `--lasting`, by default the link lifetime cap: a shorter one
/// is refused, since a daemon would accept the links again once it ends (use `--until` for an end
/// of your own).
fn until_lasting(args: &RevokeArgs, now: u64) -> anyhow::Result<u64> {
    let (cap, from) = lifetime_cap(args)?;
    let lasting = match &args.lasting {
        Some(l) => crate::config::parse_duration_str(l)
            .ok_or_else(|| anyhow!("--lasting {l:?}: expected a duration (10m, 2h, 7d)"))?
            .as_secs(),
        None => cap,
    };
    if lasting < cap {
        bail!(
            "--lasting {}: shorter than the link lifetime cap ({from}): a revoked link still valid would \
             be accepted again when the revocation ends; leave out --lasting, or give --until",
            args.lasting.as_deref().unwrap_or_default()
        );
    }
    crate::config::parse_time_in(&lasting.to_string(), now).ok_or_else(|| anyhow!("the revocation would end too late"))
}
