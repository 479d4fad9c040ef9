//! `doctor --nginx-conf FILE`: the location blocks of an nginx configuration, read through
//! `nginx -T` (the whole configuration with its includes, as nginx itself parses it) when nginx
//! is installed and accepts the file, else from the file alone; and the mistakes they show.
//!
//! The reader knows only what the doctor needs of nginx's syntax (nginx.org, "Configuring
//! nginx"): directives end with `;`, blocks are `{ … }`, `#` starts a comment outside quotes,
//! arguments may be quoted. It never evaluates variables, `if` or regular expressions.

/// One `location` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Location {
    /// `=`, `^~`, `~`, `~*` or empty.
    pub(crate) modifier: String,
    /// The URI (or regular expression) it matches.
    pub(crate) uri: String,
    /// Its `alias`, if any.
    pub(crate) alias: Option<String>,
    /// Whether it is `internal`.
    pub(crate) internal: bool,
}

impl Location {
    /// Whether this prefix (or exact) location matches `uri`; regular-expression locations are
    /// not evaluated (false).
    fn matches(&self, uri: &str) -> bool {
        match self.modifier.as_str() {
            "" | "^~" => uri.starts_with(&self.uri),
            "=" => uri == self.uri,
            _ => false,
        }
    }
}

/// The text of the configuration: `nginx -T -c FILE` when it works, else the file.
///
/// # Errors
/// When neither nginx nor the file can be read.
pub(crate) fn read(path: &std::path::Path) -> std::io::Result<String> {
    let dumped = std::process::Command::new("nginx")
        .arg("-T")
        .arg("-q")
        .arg("-c")
        .arg(path)
        .stderr(std::process::Stdio::null())
        .output();
    match dumped {
        Ok(out) if out.status.success() && !out.stdout.is_empty() => {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        }
        _ => std::fs::read_to_string(path),
    }
}

/// Every `location` block of `text`, in order (nested ones too).
pub(crate) fn locations(text: &str) -> Vec<Location> {
    let mut found = Vec::new();
    // Indexes into `found` of the open location blocks (None for other blocks).
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    for token in tokens(text) {
        match token.as_str() {
            "{" => {
                if words.first().map(String::as_str) == Some("location") {
                    let (modifier, uri) = match &words[1..] {
                        [m, u] => (m.clone(), u.clone()),
                        [u] => (String::new(), u.clone()),
                        _ => (String::new(), String::new()),
                    };
                    found.push(Location { modifier, uri, ..Location::default() });
                    open.push(Some(found.len() - 1));
                } else {
                    open.push(None);
                }
                words.clear();
            }
            "}" => {
                open.pop();
                words.clear();
            }
            ";" => {
                if let Some(Some(i)) = open.last() {
                    match words.first().map(String::as_str) {
                        Some("alias") => found[*i].alias = words.get(1).cloned(),
                        Some("internal") => found[*i].internal = true,
                        _ => {}
                    }
                }
                words.clear();
            }
            _ => words.push(token),
        }
    }
    found
}

/// The words of `text`: `{`, `}` and `;` alone, comments dropped, quotes removed.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            out.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '#' if word.is_empty() => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' | '\'' if word.is_empty() => {
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    word.push(q);
                }
                out.push(std::mem::take(&mut word));
            }
            '{' | '}' | ';' => {
                flush(&mut word, &mut out);
                out.push(c.to_string());
            }
            c if c.is_whitespace() => flush(&mut word, &mut out),
            '\\' => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The mistakes `locations` show for the internal URI `target` (the X-Accel-Redirect xsendfiled
/// sends, when it allows the file): one line each, with the fix.
pub(crate) fn findings(locations: &[Location], target: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    for l in locations {
        if let Some(alias) = &l.alias {
            if l.modifier.is_empty() && l.uri.ends_with('/') && !alias.ends_with('/') && !alias.contains('$') {
                out.push(format!(
                    "location {} has `alias {alias}` without a trailing slash: {}NAME becomes {alias}NAME; write \
                     `alias {alias}/;`",
                    l.uri, l.uri
                ));
            }
        }
    }
    let Some(target) = target else { return out };
    let best = locations.iter().filter(|l| l.matches(target)).max_by_key(|l| l.uri.len());
    match best {
        None => out.push(format!(
            "no location matches the internal URI {target}: the internal location and --internal-prefix (or --map) \
             must name the same prefix"
        )),
        Some(l) if !l.internal => out.push(format!(
            "location {} serves the internal URI {target} but is not `internal`: clients can fetch it directly, \
             past xsendfiled; add `internal;`",
            l.uri
        )),
        Some(_) => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{findings, locations};

    const CONF: &str = "http { server {\n  location /dl/ { include fastcgi_params; fastcgi_pass x; }\n  # location /old/ { alias /x; }\n  location /_protected/ {\n    internal;\n    alias \"/srv/files\";\n  }\n} }";

    #[test]
    fn reads_locations_and_flags_the_alias_slash() {
        let l = locations(CONF);
        assert_eq!(l.len(), 2, "{l:?}");
        assert_eq!(
            (l[1].uri.as_str(), l[1].alias.as_deref(), l[1].internal),
            ("/_protected/", Some("/srv/files"), true)
        );
        let f = findings(&l, Some("/_protected/a.txt"));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("without a trailing slash"));
        let f = findings(&l, Some("/_files/a.txt"));
        assert!(f.iter().any(|f| f.starts_with("no location matches")), "{f:?}");
    }
}
