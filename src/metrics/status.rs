//! The status page answered through the FastCGI socket at `--status-path`, after php-fpm's
//! `pm.status_path`: one `name: value` line per figure (plain text), the same names as one JSON
//! object (`?json`), or the whole registry in OpenMetrics (`?openmetrics`).
//!
//! Invariant: numbers only, from the metrics; no path, address or key id is ever on the page.

use super::{Format, Metrics, Outcome};

/// What the status page was asked for (from its query string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    /// `name: value` lines.
    Plain,
    /// One JSON object.
    Json,
    /// The registry in OpenMetrics text.
    OpenMetrics,
}

impl Page {
    /// The page named by `query` (`json`, `openmetrics`; anything else is plain, as php-fpm does).
    pub(crate) fn from_query(query: &[u8]) -> Page {
        let mut page = Page::Plain;
        for part in query.split(|&b| b == b'&') {
            let name = part.split(|&b| b == b'=').next().unwrap_or_default();
            match name {
                b"json" => page = Page::Json,
                b"openmetrics" => page = Page::OpenMetrics,
                _ => {}
            }
        }
        page
    }
}

/// The figures of the page, in order.
fn figures(m: &Metrics) -> [(&'static str, u64); 11] {
    let now = super::now_seconds();
    [
        ("start time", m.started() as u64),
        ("start since", (now - m.started()).max(0.0) as u64),
        ("accepted conn", m.connections_accepted.get()),
        ("active connections", u64::try_from(m.connections_open.get()).unwrap_or(0)),
        ("decisions sent", m.decisions_total(Outcome::Send)),
        ("decisions refused", m.decisions_total(Outcome::Refuse(0))),
        ("faults", m.decisions_total(Outcome::Fault)),
        ("config reloads ok", m.reloads_ok.get()),
        ("config reloads failed", m.reloads_failed.get()),
        ("signing keys", u64::try_from(m.keys.get()).unwrap_or(0)),
        ("access log lines lost", m.access_log_lost.get()),
    ]
}

/// The page's body and its `Content-Type`.
pub(crate) fn render(m: &Metrics, page: Page) -> (String, &'static str) {
    use std::fmt::Write;
    let mut out = String::with_capacity(512);
    match page {
        Page::Plain => {
            for (name, value) in figures(m) {
                let pad = 21usize.saturating_sub(name.len());
                let _ = writeln!(out, "{name}:{:pad$}{value}", "");
            }
            (out, "text/plain; charset=utf-8")
        }
        Page::Json => {
            out.push('{');
            for (i, (name, value)) in figures(m).into_iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                let _ = write!(out, "{sep}\"{name}\":{value}");
            }
            out.push_str("}\n");
            (out, "application/json")
        }
        Page::OpenMetrics => (m.encode(Format::OpenMetrics), Format::OpenMetrics.content_type()),
    }
}

#[cfg(test)]
mod tests {
    use super::{render, Page};
    use crate::metrics::{Metrics, Outcome};

    #[test]
    fn pages_carry_the_counts() {
        let m = Metrics::new(&["a"], 1);
        m.decided(Outcome::Send, 200, std::time::Duration::from_micros(3));
        m.decided(Outcome::Refuse(0), 404, std::time::Duration::from_micros(3));
        let (plain, ct) = render(&m, Page::Plain);
        assert!(ct.starts_with("text/plain"));
        assert!(plain.contains("decisions sent:       1\n"), "{plain}");
        assert!(plain.contains("decisions refused:    1\n"), "{plain}");
        let (json, _) = render(&m, Page::Json);
        assert!(json.starts_with("{\"start time\":") && json.contains("\"decisions refused\":1"), "{json}");
        let (om, _) = render(&m, Page::OpenMetrics);
        assert!(om.contains("xsendfiled_decisions_total{outcome=\"refuse\",status=\"404\",reason=\"a\"} 1"), "{om}");
        assert!(om.ends_with("# EOF\n"));
        assert_eq!(Page::from_query(b"json"), Page::Json);
        assert_eq!(Page::from_query(b"full&openmetrics"), Page::OpenMetrics);
        assert_eq!(Page::from_query(b""), Page::Plain);
    }
}
