//! `xsendfiled revoke`: records a revocation (one link id, or every link of a key id) in the state
//! store the daemons share; each daemon reads the list every 250 ms, and a limited-use link is
//! checked against the store inside its grant as well.

use crate::config::cli::RevokeArgs;
use crate::state::{Revocation, Store};
use anyhow::{anyhow, bail};
use std::process::ExitCode;

/// Revokes `--id` or `--kid` until `--until` (or for `--lasting`).
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
        None => crate::config::parse_time_in(&args.lasting, now)
            .ok_or_else(|| anyhow!("--lasting {:?}: expected a duration (10m, 2h, 7d)", args.lasting))?,
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
