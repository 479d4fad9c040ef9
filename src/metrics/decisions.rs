//! The decision counter `xsendfiled_decisions_total{outcome, status, reason}`: a fixed matrix of
//! atomics, one cell per (reason, status) pair, counted without a lock or an allocation and
//! encoded through prometheus-client's [`Collector`] at scrape time.
//!
//! Invariants: every label value comes from a fixed table (the outcome words, [`STATUSES`], the
//! reason labels handed in at start-up, which the guard defines as `Reason::LABELS`), so the
//! series are bounded (at most `(reasons + 2) × (statuses + 1)`); a cell never counted is not
//! exposed (as a labelled family whose label set has not been seen yet).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use std::sync::atomic::{AtomicU64, Ordering};

/// The statuses with a label of their own; any other counts under `other`.
pub(crate) const STATUSES: [u16; 15] = [200, 206, 304, 400, 401, 403, 404, 405, 410, 412, 416, 500, 502, 503, 504];

/// What one decision came to, for the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The file was allowed (sent, offloaded, or answered 304/206 by `serve`).
    Send,
    /// Refused, with the index of its reason in the reason table.
    Refuse(usize),
    /// A fault on our side (500).
    Fault,
}

/// The matrix and the reason labels.
#[derive(Debug)]
pub(crate) struct Decisions {
    reasons: &'static [&'static str],
    /// Row 0: sends; row 1: faults; row 2 + i: refusals for reason i. Each row has one cell per
    /// entry of [`STATUSES`] and one for `other`.
    cells: Box<[AtomicU64]>,
}

const COLUMNS: usize = STATUSES.len() + 1;

impl Decisions {
    /// A matrix for `reasons` (the label of each reason index), all zero.
    pub(crate) fn new(reasons: &'static [&'static str]) -> Decisions {
        let cells = (0..(reasons.len() + 2) * COLUMNS).map(|_| AtomicU64::new(0)).collect();
        Decisions { reasons, cells }
    }

    /// Counts one decision. A reason index outside the table counts as a fault (cannot happen
    /// with the guard's table; never panics).
    pub(crate) fn count(&self, outcome: Outcome, status: u16) {
        let row = match outcome {
            Outcome::Send => 0,
            Outcome::Fault => 1,
            Outcome::Refuse(i) if i < self.reasons.len() => 2 + i,
            Outcome::Refuse(_) => 1,
        };
        let column = STATUSES.iter().position(|&s| s == status).unwrap_or(STATUSES.len());
        if let Some(cell) = self.cells.get(row * COLUMNS + column) {
            cell.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Decisions counted so far with `outcome` (any status, any reason for refusals).
    pub(crate) fn total(&self, outcome: Outcome) -> u64 {
        let rows = match outcome {
            Outcome::Send => 0..1,
            Outcome::Fault => 1..2,
            Outcome::Refuse(_) => 2..self.reasons.len() + 2,
        };
        rows.flat_map(|r| &self.cells[r * COLUMNS..(r + 1) * COLUMNS]).map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The labels of row `row`: outcome and reason.
    fn row_labels(&self, row: usize) -> (&'static str, &'static str) {
        match row {
            0 => ("send", "none"),
            1 => ("fault", "fault"),
            r => ("refuse", self.reasons.get(r - 2).copied().unwrap_or("unknown")),
        }
    }
}

impl Collector for Decisions {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "decisions",
            "Decisions by outcome (send, refuse, fault), HTTP status and refusal reason",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        let mut status_text = String::with_capacity(5);
        for (i, cell) in self.cells.iter().enumerate() {
            let n = cell.load(Ordering::Relaxed);
            if n == 0 {
                continue;
            }
            let (outcome, reason) = self.row_labels(i / COLUMNS);
            status_text.clear();
            match STATUSES.get(i % COLUMNS) {
                Some(code) => std::fmt::Write::write_fmt(&mut status_text, format_args!("{code}"))?,
                None => status_text.push_str("other"),
            }
            let labels = [("outcome", outcome), ("status", status_text.as_str()), ("reason", reason)];
            ConstCounter::new(n).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Decisions, Outcome};

    #[test]
    fn counts_land_in_their_cell_and_totals_add_up() {
        let d = Decisions::new(&["a", "b"]);
        d.count(Outcome::Send, 200);
        d.count(Outcome::Send, 304);
        d.count(Outcome::Refuse(1), 404);
        d.count(Outcome::Refuse(7), 404);
        d.count(Outcome::Fault, 999);
        assert_eq!(d.total(Outcome::Send), 2);
        assert_eq!(d.total(Outcome::Refuse(0)), 1);
        assert_eq!(d.total(Outcome::Fault), 2, "an unknown reason index counts as a fault");
    }
}
