//! `xsendfiled doctor URL`: asks the live web server for URL the way a client does, decides the
//! same path the way xsendfiled does (the decision and reply of `check`, `check/explain.rs`,
//! never re-derived here), compares status, size, first and last bytes, Content-Type and
//! Content-Disposition, and names the likely cause of a difference in one line, with the fix.
//! With `--nginx-conf FILE` it also reads the location blocks (`doctor/nginx_conf.rs`).
//!
//! Invariants: the doctor only reads (one GET of the URL, one of the internal URI xsendfiled
//! would send the server to, the local file's size and ends); every diagnosis is a pure function
//! of what was observed ([`diagnose`]), so each rule is tested on its own.

mod fetch;
mod nginx_conf;

use crate::cmd::check::explain::{explain_expecting, Expected};
use crate::config::cli::Command;
use crate::config::layers::Layered;
use fetch::{Fetched, Url, ENDS};
use std::fmt::Write;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// One diagnosis: the likely cause, and what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) cause: String,
    pub(crate) fix: String,
}

fn finding(cause: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding { cause: cause.into(), fix: fix.into() }
}

/// What the doctor saw.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    /// xsendfiled's decision and reply for the URL.
    pub(crate) expected: Expected,
    /// The web server's answer to the URL.
    pub(crate) got: Fetched,
    /// The allowed file's size and ends, read locally.
    pub(crate) file: Option<Fetched>,
    /// The web server's answer to the internal URI, asked publicly.
    pub(crate) internal: Option<Fetched>,
    /// The allowed file's root is reached through a symlink.
    pub(crate) symlinked_root: bool,
}

/// The bodies of xsendfiled's own error replies (`reply/response.rs`), recognised when the web
/// server passes one on.
const OUR_BODIES: [&[u8]; 3] = [b"not found\n", b"bad request\n", b"forbidden\n"];

/// Whether `got` is one of xsendfiled's error replies passed on (not the web server's own page).
fn from_xsendfiled(got: &Fetched, body: &[u8]) -> bool {
    got.header("Content-Type").is_some_and(|t| t.starts_with("text/plain"))
        && got.size == body.len() as u64
        && body.starts_with(&got.head)
}

/// The findings for what was observed; empty when the web server answers as xsendfiled decided.
pub(crate) fn diagnose(o: &Observed) -> Vec<Finding> {
    let mut out = Vec::new();
    let x = &o.expected;
    let got = &o.got;
    let target = internal_uri(x);
    if let (Some(t), Some(i)) = (&target, &o.internal) {
        if i.status == 200 {
            out.push(finding(
                format!("the internal URI {t} is publicly reachable: a client fetches the file past xsendfiled"),
                "add `internal;` to the location that serves it",
            ));
        }
    }
    if got.status == 400 && from_xsendfiled(got, OUR_BODIES[1]) && x.status != 400 {
        out.push(finding(
            "the web server passed no request method or path (no DOCUMENT_URI or PATH_INFO) to xsendfiled",
            "add `include fastcgi_params;` to the location that passes to xsendfiled",
        ));
        return out;
    }
    match (&x.file, got.status) {
        (Some((_, size)), 200) => out.extend(compare_sent(o, *size)),
        // nginx answers 404 or 403 when disable_symlinks refuses (by version and errno).
        (Some(_), 403 | 404) if o.symlinked_root && !from_xsendfiled(got, OUR_BODIES[0]) => out.push(finding(
            "nginx refused a symlink on the way to the file (disable_symlinks) while xsendfiled allowed it",
            "give the internal location's alias and --root the real directory (no symlink in it), and keep \
             `disable_symlinks on from=$document_root;`",
        )),
        (Some(_), 403) => out.push(finding(
            "the web server answered 403 while xsendfiled allowed the file: its workers cannot read it",
            "let the web server's user read the file and search every directory above it",
        )),
        (Some(_), 404) if from_xsendfiled(got, OUR_BODIES[0]) => out.push(finding(
            "xsendfiled refused the path the web server passed, which is not the URL's: the location rewrites \
             it, or --strip-prefix does not match the location",
            "pass the public path unchanged (DOCUMENT_URI) and make --strip-prefix the location's prefix",
        )),
        (Some(_), 404) => out.push(finding(
            "nginx answered 404 while xsendfiled allowed the file: the internal location does not find it \
             (alias or root without its trailing slash, --internal-prefix or --map naming another prefix)",
            "serve --internal-prefix PREFIX from `location PREFIX/ { internal; alias ROOT/; }` (a slash after \
             both), or with --map give FS_PREFIX=URI_PREFIX, the file-system prefix first",
        )),
        (_, 502 | 504) => out.push(finding(
            format!("the web server answered {} without xsendfiled's reply: it cannot reach xsendfiled", got.status),
            "check the upstream address, and the socket's group and mode (--socket-group)",
        )),
        (None, 200) if x.status != 200 => out.push(finding(
            "the web server served this URL although xsendfiled refuses it: the URL does not pass through xsendfiled",
            "send this URL's location to xsendfiled (fastcgi_pass) and serve the files only from an `internal` one",
        )),
        (_, s) if s != x.status => out.push(finding(
            format!("the web server answered {s} where xsendfiled answers {}", x.status),
            "compare the decision trace below with the web server's error log",
        )),
        _ => {}
    }
    out
}

/// The findings when both sent a file: the same bytes, type and disposition?
fn compare_sent(o: &Observed, size: u64) -> Vec<Finding> {
    let (got, x) = (&o.got, &o.expected);
    let same_bytes = o.file.as_ref().is_some_and(|f| f.head == got.head && f.tail == got.tail);
    if got.size != size || !same_bytes {
        return vec![finding(
            format!(
                "the web server sent another file ({} bytes) than the one xsendfiled allowed ({size} bytes)",
                got.size
            ),
            "point the internal location's alias (or root) at the directory given to --root",
        )];
    }
    let mut out = Vec::new();
    let field = |name: &str| x.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    if let (Some(want), None) = (field("Content-Disposition"), got.header("Content-Disposition")) {
        out.push(finding(
            format!("the web server dropped Content-Disposition ({want})"),
            "remove `fastcgi_hide_header Content-Disposition` (or proxy_hide_header): nginx passes it on with \
             X-Accel-Redirect",
        ));
    }
    if let Some(want) = field("Content-Type") {
        if got.header("Content-Type") != Some(want) {
            out.push(finding(
                format!(
                    "the web server sent Content-Type {:?}, xsendfiled {want:?}",
                    got.header("Content-Type").unwrap_or("")
                ),
                "let the internal location keep the upstream's type (no `types`, `default_type` or add_header for it)",
            ));
        }
    }
    out
}

/// The internal URI xsendfiled sends the web server to, if any.
fn internal_uri(x: &Expected) -> Option<String> {
    x.headers
        .iter()
        .find(|(n, v)| (n == "X-Accel-Redirect" || n == "Location") && v.starts_with('/'))
        .map(|(_, v)| v.clone())
}

/// The size and ends of a local file.
fn file_ends(path: &Path) -> std::io::Result<Fetched> {
    let mut f = std::fs::File::open(path)?;
    let size = f.metadata()?.len();
    let mut head = vec![0u8; usize::try_from(size.min(ENDS as u64)).unwrap_or(ENDS)];
    f.read_exact(&mut head)?;
    let tail_len = size.min(ENDS as u64);
    f.seek(SeekFrom::Start(size - tail_len))?;
    let mut tail = vec![0u8; usize::try_from(tail_len).unwrap_or(ENDS)];
    f.read_exact(&mut tail)?;
    Ok(Fetched { status: 200, size, head, tail, ..Fetched::default() })
}

/// Whether `dir` or a directory above it is a symlink.
fn symlink_at_or_above(dir: &Path) -> bool {
    dir.ancestors().any(|a| a.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()))
}

/// One line describing an answer.
fn describe(status: u16, size: u64, headers: &[(String, String)]) -> String {
    let field = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let mut s = format!("{status}, {size} bytes");
    for name in ["Content-Type", "Content-Disposition"] {
        let _ = write!(s, ", {}", field(name).map_or_else(|| format!("no {name}"), crate::cmd::check::esc));
    }
    s
}

/// Runs the doctor: the report on stdout; exit 0 for a clean bill, 1 when something differs.
///
/// # Errors
/// An invalid configuration or URL, or a web server that cannot be reached.
pub fn run(layered: Layered) -> anyhow::Result<std::process::ExitCode> {
    let Layered { cli, layer, problems } = layered;
    let Some(Command::Doctor(args)) = &cli.command else { anyhow::bail!("not the doctor command") };
    let config = crate::config::Config::load(&args.serve, &layer, problems, None).map_err(|errors| {
        anyhow::anyhow!("{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
    })?;
    let url =
        Url::parse(&args.url).ok_or_else(|| anyhow::anyhow!("{:?}: expected http://HOST[:PORT]/PATH", args.url))?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let (trace, expected) = explain_expecting(&config, &url.target, "GET", "127.0.0.1", &[], now);
    let got = fetch::get(&url).map_err(|e| anyhow::anyhow!("GET {}: {e}", args.url))?;
    let mut o = Observed { got, ..Observed::default() };
    let target = internal_uri(&expected);
    let mut conf_lines = Vec::new();
    // Where the web server reads the files: the roots as configured (before canonicalization),
    // and the aliases of the nginx configuration when given.
    let mut dirs: Vec<std::path::PathBuf> = args.serve.root.clone();
    if let Some(conf) = &args.nginx_conf {
        let text = nginx_conf::read(conf).map_err(|e| anyhow::anyhow!("--nginx-conf {}: {e}", conf.display()))?;
        let locations = nginx_conf::locations(&text);
        conf_lines = nginx_conf::findings(&locations, target.as_deref());
        dirs.extend(locations.iter().filter_map(|l| l.alias.as_ref()).map(std::path::PathBuf::from));
    }
    if let Some((path, _)) = &expected.file {
        o.file = file_ends(path).ok();
        o.symlinked_root = dirs.iter().any(|d| symlink_at_or_above(d));
    }
    if let Some(t) = &target {
        o.internal = fetch::get(&url.with_target(t)).ok();
    }
    o.expected = expected;
    let mut findings = diagnose(&o);
    let mut s = String::new();
    let _ = writeln!(s, "doctor GET {}", crate::cmd::check::esc(&args.url));
    let x = &o.expected;
    let decided = match &x.refusal {
        None if x.file.is_some() => {
            format!("send: {}", describe(x.status, x.file.as_ref().map_or(0, |f| f.1), &x.headers))
        }
        None => format!("{}", x.status),
        Some((label, why)) => format!("refuse {} ({label}): {}", x.status, crate::cmd::check::esc(why)),
    };
    let _ = writeln!(s, "  xsendfiled     {decided}");
    if let Some(t) = &target {
        let _ = writeln!(s, "  internal URI   {}", crate::cmd::check::esc(t));
    }
    let _ = writeln!(s, "  web server     {}", describe(o.got.status, o.got.size, &o.got.headers));
    if findings.is_empty() && conf_lines.is_empty() {
        let _ = writeln!(s, "  verdict        clean: the web server answers as xsendfiled decides");
    }
    for f in findings.drain(..) {
        let _ = writeln!(s, "  cause          {}", f.cause);
        let _ = writeln!(s, "  fix            {}", f.fix);
    }
    for l in &conf_lines {
        let _ = writeln!(s, "  nginx.conf     {}", crate::cmd::check::esc(l));
    }
    let _ = writeln!(s, "\ndecision trace (xsendfiled check)\n{trace}");
    print!("{s}");
    let clean = s.contains("  verdict        clean");
    Ok(std::process::ExitCode::from(if clean { 0 } else { 1 }))
}

#[cfg(test)]
mod tests;
