//! `xsendfiled check`: the configuration validated with every problem listed, a summary of a valid
//! one, and, per URI, the decision's own trace and the exact header block that would be sent
//! (`explain.rs`). The tool to reach for when the web server answers 404 and nobody knows why.

pub(crate) mod explain;
mod origins;

use crate::config::cli::Command;
use crate::config::layers::Layered;
use crate::config::{Config, ConfigError};
use crate::guard::token::Scheme;
use crate::guard::Backend;
use explain::explain_expecting;
use std::fmt::Write;

/// The report for a configuration that failed validation.
pub(crate) fn problems(errors: &[ConfigError]) -> String {
    let mut s = format!("{} problem(s) in the configuration:\n", errors.len());
    for e in errors {
        let _ = writeln!(s, "  - {}", esc(e));
    }
    s
}

/// A summary of a valid configuration.
pub(crate) fn summary(c: &Config) -> String {
    let p = &c.policy;
    let mut s = String::from("configuration ok\n");
    let resolution = if p.root.uses_openat2() { "openat2" } else { "realpath (no openat2 here)" };
    match p.root.as_object() {
        Some(o) => object_root(&mut s, o, "first root"),
        None => {
            let _ = writeln!(s, "  root           {} (resolved with {resolution})", esc(p.root.path().display()));
        }
    }
    for r in &p.other_roots {
        match r.as_object() {
            Some(o) => object_root(&mut s, o, "further root"),
            None => {
                let _ = writeln!(s, "  root           {} (further root)", esc(r.path().display()));
            }
        }
    }
    for m in p.map.entries() {
        let _ = writeln!(s, "  map            {} -> {}/", esc(String::from_utf8_lossy(&m.fs)), esc(&m.uri));
    }
    let backend = match p.backend {
        Backend::Nginx if p.internal_prefix.starts_with('@') => format!("nginx, named location {}", p.internal_prefix),
        Backend::Nginx => format!("nginx, internal location {}/", p.internal_prefix),
        Backend::LocalRedirect => format!("local-redirect to {}/", p.internal_prefix),
        other => format!("{other:?}").to_lowercase(),
    };
    let _ = writeln!(s, "  backend        {backend}");
    let strip = p.strip_prefix.as_deref().map(String::from_utf8_lossy);
    let _ = writeln!(s, "  strip prefix   {}", strip.as_deref().unwrap_or("(none)"));
    let _ = writeln!(s, "  hidden files   {}", if p.allow_hidden { "served" } else { "refused" });
    let links = match &p.signing {
        None => "off (no --keys)".to_owned(),
        Some(g) => {
            let scheme = match &g.scheme {
                Scheme::Sdl1 => "sdl1".to_owned(),
                Scheme::Legacy(l) => format!("{l:?}").split([' ', '{']).next().unwrap_or_default().to_lowercase(),
            };
            let keys = g.keys();
            format!(
                "{scheme}, {} key(s) ({}), {}, lifetime cap {} s",
                keys.kids().len(),
                keys.kids().join(", "),
                if g.require { "required" } else { "where the server asks (XSENDFILED_AUTH=signed)" },
                g.max_ttl
            )
        }
    };
    let _ = writeln!(s, "  signed links   {links}");
    if let Some(state) = &c.server.state {
        let store = match state {
            crate::config::StateSpec::Sqlite(f) => format!("SQLite {}", esc(f.display())),
            crate::config::StateSpec::Redis(u) => esc(crate::state::redacted(u)),
        };
        let window = p.signing.as_ref().map_or(0, |g| g.grant_window);
        let _ = writeln!(s, "  use limits     {store}, grant window {window} s, timeout {:?}", c.server.state_timeout);
    }
    let _ = writeln!(s, "  disposition    {}", format!("{:?}", p.presentation.disposition).to_lowercase());
    let _ = writeln!(s, "  access log     {}", if p.access_log.is_some() { "on" } else { "off" });
    let listen = match &c.server.listen {
        Some(l) => format!("{l:?}"),
        None => "from the launch environment (fd 0, CGI, systemd, else 127.0.0.1:9071)".to_owned(),
    };
    let _ = writeln!(s, "  listen         {listen}");
    if let Some(app) = &c.server.app_socket {
        let _ =
            writeln!(s, "  app socket     {} (HTTP/1.1 for applications that ask; trusted query)", esc(app.display()));
    }
    if let Some(m) = &c.server.metrics_listen {
        let _ = writeln!(s, "  metrics        {} (/metrics, /healthz, /readyz)", esc(format!("{m:?}")));
    }
    let probes = [("ping", &c.server.probes.ping), ("status page", &c.server.probes.status)];
    for (what, path) in probes.iter().filter_map(|(w, p)| Some((w, p.as_deref()?))) {
        let _ = writeln!(s, "  {what:<14} {} (FastCGI)", esc(path));
    }
    if let Some(warning) = socket_warning(c) {
        let _ = writeln!(s, "  warning        {}", esc(warning));
    }
    s
}

/// An object-store root: where it is, and whether the credentials can HEAD its bucket (one
/// signed request, under `--s3-timeout`).
fn object_root(s: &mut String, o: &crate::guard::store::ObjectRoot, which: &str) {
    let store = o.store();
    let verdict = match store.probe() {
        Ok(()) => "HEAD bucket ok: reachable, credentials accepted".to_owned(),
        Err(e) => format!("HEAD bucket failed: {e}"),
    };
    let _ = writeln!(
        s,
        "  root           {} ({which}, object store {})",
        esc(crate::guard::store::Store::path(o).display()),
        esc(store.describe())
    );
    let _ = writeln!(s, "  bucket         {}", esc(verdict));
}

/// `v` with every control character (C0, DEL, C1: ESC, BEL, CR, LF…) written as an escape, so a
/// file or symlink name cannot forge a line of the report or drive the operator's terminal.
pub(crate) fn esc(v: impl std::fmt::Display) -> String {
    let v = v.to_string();
    if !v.chars().any(char::is_control) {
        return v;
    }
    v.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// Users web servers' workers typically run as (Debian, Red Hat, Arch, Alpine, macOS, Caddy).
const WEB_SERVER_USERS: &[&str] = &["www-data", "nginx", "http", "apache", "lighttpd", "caddy", "_www"];

/// For `--listen unix:PATH`: a warning when no typical web server user could connect to the socket,
/// because its group (`--socket-group`, else the group xsendfiled starts with) has none of them as
/// a member and its mode does not let other users in. That is the first start's 502.
pub(crate) fn socket_warning(c: &Config) -> Option<String> {
    let Some(crate::config::ListenSpec::Unix(_)) = &c.server.listen else { return None };
    let mode = c.server.socket_mode;
    if mode & 0o006 == 0o006 {
        return None;
    }
    let gid = c.server.accounts.socket_gid.unwrap_or_else(|| crate::sys::effective_ids().1);
    let group = crate::sys::group_by_id(gid).ok().flatten();
    let web_member = WEB_SERVER_USERS.iter().any(|name| {
        crate::sys::user_by_name(name).ok().flatten().is_some_and(|u| {
            let owner = c.server.accounts.socket_uid == Some(u.uid) && mode & 0o600 == 0o600;
            let member = u.gid == gid || group.as_ref().is_some_and(|g| g.members.iter().any(|m| m == name));
            owner || (member && mode & 0o060 == 0o060)
        })
    });
    if web_member {
        return None;
    }
    let name = group.map_or_else(|| gid.to_string(), |g| g.name);
    Some(format!(
        "the socket's group {name} (gid {gid}) has no web server user ({}) as a member, and mode {mode:04o} \
         lets no other user in: the web server will fail to connect (502); pass --socket-group www-data \
         (the group its workers run as)",
        WEB_SERVER_USERS.join(", ")
    ))
}

/// Every configuration problem at once (exit 1), else a summary and, per URI,
/// the decision explained step by step (on stdout); with `--show-config`, first the effective
/// options and their origins.
///
/// # Errors
/// A malformed `--param`.
pub fn run(layered: Layered) -> anyhow::Result<std::process::ExitCode> {
    let Layered { cli, layer, problems: file_problems } = layered;
    let Some(Command::Check(args)) = &cli.command else { anyhow::bail!("not the check command") };
    if args.show_config {
        println!("{}", origins::show_config(&layer.settings));
    }
    let addrs = std::env::var_os("FCGI_WEB_SERVER_ADDRS");
    let config = match crate::config::Config::load(&args.serve, &layer, file_problems, addrs.as_deref()) {
        Ok(c) => c,
        Err(errors) => {
            print!("{}", problems(&errors));
            return Ok(std::process::ExitCode::from(1));
        }
    };
    print!("{}", summary(&config));
    let mut params = Vec::new();
    for p in &args.params {
        let Some((k, v)) = p.split_once('=') else { anyhow::bail!("--param {p:?}: expected NAME=VALUE") };
        params.push((k.to_owned(), v.to_owned()));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    for uri in &args.uris {
        println!();
        print!("{}", explain_expecting(&config, uri, &args.method, &args.client, &params, now).0);
    }
    Ok(std::process::ExitCode::SUCCESS)
}
