//! `xsendfiled sign`: prints a signed link (SDL1) for a public path, warning about a link that a
//! daemon with the default `--max-link-lifetime` would refuse.

use crate::config::cli::{DispositionArg, SignArgs};
use std::process::ExitCode;

/// Prints the signed link for `args.path` on stdout.
///
/// # Errors
/// No usable key, or times that contradict each other.
pub fn run(args: &SignArgs) -> anyhow::Result<ExitCode> {
    use crate::guard::token::Disposition;
    use crate::guard::token::{keys::KeyRing, sdl1, Claims};
    use anyhow::bail;
    let Some(keys) = &args.keys else { bail!("sign needs --keys FILE (or XSENDFILED_KEYS)") };
    let ring = KeyRing::load(keys, args.allow_readable_keys).map_err(|e| anyhow::anyhow!("--keys {e}"))?;
    let kid = match &args.kid {
        Some(k) => k.clone(),
        None => ring.kids().first().cloned().unwrap_or_default(),
    };
    let Some(key) = ring.get(&kid) else { bail!("--kid {kid:?}: no such key in {}", keys.display()) };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let exp =
        sign_time("--expires", args.expires_at.as_deref(), args.expires_in.as_deref(), args.expires.as_deref(), now)?
            .unwrap_or(now + 3600);
    let nbf = sign_time(
        "--not-before",
        args.not_before_at.as_deref(),
        args.not_before_in.as_deref(),
        args.not_before.as_deref(),
        now,
    )?;
    if nbf.is_some_and(|n| n >= exp) {
        bail!("the link would never work: it starts (--not-before-*) no earlier than it expires");
    }
    if exp <= now {
        eprintln!("xsendfiled sign: warning: this link has already expired (410 Gone)");
    }
    let cap =
        crate::config::parse_duration_str(crate::config::cli::DEFAULT_MAX_LINK_LIFETIME).map_or(0, |d| d.as_secs());
    if exp.saturating_sub(now) > cap {
        eprintln!(
            "xsendfiled sign: warning: this link expires in {}, more than the default --max-link-lifetime {}: \
             a daemon with the default refuses it (403) until it has at most {} left; raise --max-link-lifetime \
             on the daemon or sign a shorter link",
            span(exp - now),
            crate::config::cli::DEFAULT_MAX_LINK_LIFETIME,
            crate::config::cli::DEFAULT_MAX_LINK_LIFETIME
        );
    }
    let network = match &args.ip {
        Some(net) => Some(
            crate::config::parse_network(net)
                .ok_or_else(|| anyhow::anyhow!("--ip {net:?}: expected ADDRESS/BITS or ADDRESS"))?,
        ),
        None => None,
    };
    let claims = Claims {
        filename: args.filename.clone(),
        disposition: args.disposition.map(|d| match d {
            DispositionArg::Attachment => Disposition::Attachment,
            DispositionArg::Inline => Disposition::Inline,
        }),
    };
    let limit = limit(args)?;
    let spec = sdl1::SignSpec {
        kid: &kid,
        key,
        path: &args.path,
        exp,
        nbf,
        prefix: args.prefix.as_deref(),
        network,
        claims,
        limit: limit.clone(),
    };
    let link = sdl1::sign(&spec)?;
    println!("{link}");
    if let Some(l) = limit {
        eprintln!("id {}", l.id);
    }
    Ok(ExitCode::SUCCESS)
}

/// The link id and use limit of `--id`, `--uses` and `--grant-window`; a random id (16 bytes,
/// base64url) when `--uses` is given without `--id`.
fn limit(args: &SignArgs) -> anyhow::Result<Option<crate::guard::token::limit::Limit>> {
    use base64::Engine;
    let window = match &args.grant_window {
        Some(w) => Some(
            crate::config::parse_duration_str(w)
                .ok_or_else(|| anyhow::anyhow!("--grant-window {w:?}: expected a duration (90s, 10m, 2h)"))?
                .as_secs(),
        ),
        None => None,
    };
    let id = match (&args.id, args.uses) {
        (Some(id), _) => id.clone(),
        (None, Some(_)) => {
            let mut raw = [0u8; 16];
            getrandom(&mut raw)?;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(crate::guard::token::limit::Limit { id, uses: args.uses, window }))
}

/// Random bytes from the kernel (`/dev/urandom`).
fn getrandom(buf: &mut [u8]) -> anyhow::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)?;
    Ok(())
}

/// One `sign` time from its three spellings (at most one is given; clap refuses two): `OPT-at`
/// a point in time, `OPT-in` a duration from now, the old `OPT` either, but never a bare number.
fn sign_time(
    opt: &str,
    at: Option<&str>,
    within: Option<&str>,
    old: Option<&str>,
    now: u64,
) -> anyhow::Result<Option<u64>> {
    use crate::config::{parse_time, parse_time_in, parse_when};
    if let Some(v) = at {
        let t = parse_time(v).ok_or_else(|| {
            anyhow::anyhow!("{opt}-at {v:?}: expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ (UTC, up to year 9999)")
        })?;
        return Ok(Some(t));
    }
    if let Some(v) = within {
        let t = parse_time_in(v, now)
            .ok_or_else(|| anyhow::anyhow!("{opt}-in {v:?}: expected a duration (90s, 10m, 2h, 7d)"))?;
        return Ok(Some(t));
    }
    let Some(v) = old else { return Ok(None) };
    match parse_when(v, now) {
        Ok(t) => Ok(Some(t)),
        Err(true) => Err(anyhow::anyhow!(
            "{opt} {v}: ambiguous; for a Unix time use {opt}-at {v}, for seconds from now {opt}-in {v}s"
        )),
        Err(false) => Err(anyhow::anyhow!(
            "{opt} {v:?}: use {opt}-at TIME (Unix seconds or YYYY-MM-DDTHH:MM:SSZ) or {opt}-in DURATION (10m, 2h, 7d)"
        )),
    }
}

/// A lifetime for a warning: `30d`, `2d 3h`, `45m`, `20s`.
fn span(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, _) => format!("{h}h"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}
