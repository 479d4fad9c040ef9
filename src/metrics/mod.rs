//! What the daemon counts, and its exposition: the series behind `--metrics-listen` (`/metrics`)
//! and the FastCGI status page (`--status-path`), through the `prometheus-client` crate (the
//! Prometheus text format 0.0.4, or OpenMetrics 1.0 when the scraper asks; no exposition text is
//! written here).
//!
//! Invariants:
//! - Off by default. The series exist only once [`enable`] ran (at start-up, when
//!   `--metrics-listen` or `--status-path` is given); until then [`get`] is `None` and counting
//!   costs one atomic load.
//! - Counting never allocates and never takes a lock shared with a scrape, except the latency
//!   histogram's own short mutex: every series is registered once at start-up, labelled families
//!   get their few label sets pre-created, and the decision counter is a fixed matrix of atomics
//!   indexed by the guard's reason table (`decisions.rs`).
//! - Every label value comes from a fixed, small set: outcome words, status codes, the reason
//!   labels of `Reason::LABELS`, root numbers. Never a path, a query, an address or a key id.
//! - A leaf: imports nothing of the crate, so anyone may count (the handler, the server shell,
//!   the access log) without an import cycle. The guard stays pure: the handler counts from the
//!   decision value it returns.
//!
//! Names follow the Prometheus conventions: `xsendfiled_` prefix, base units (seconds, bytes),
//! `_total` on counters (added by the encoder), `_info` for build information.
//!
//! Where to add a series: a field here, its registration in [`Metrics::new`] (one line), and
//! the count where the event happens (`crate::metrics::get()` then the field). Stalled storage
//! counts `connections_evicted` (`server/evict.rs`) and `storage_timeouts` (`server/storage.rs`);
//! `root_healthy` and `blocking_in_use` are read from the pool at each scrape, and the `store`
//! series from the buckets' process-wide counts (`guard::store::object::TOTALS`), in
//! `server/metrics.rs`. `link_uses` counts in `state::Store::grant`
//! (limited-use links).

mod decisions;
pub(crate) mod status;

pub(crate) use decisions::Outcome;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

/// A label set of one fixed pair, e.g. `result="ok"`.
type OneLabel = [(&'static str, &'static str); 1];
/// A float gauge (timestamps in seconds).
type SecondsGauge = Gauge<f64, AtomicU64>;

/// Decision latency buckets, in seconds: a decision takes microseconds; the top buckets catch a
/// stalled file system.
const LATENCY_BUCKETS: [f64; 13] = [2e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 2.5e-2, 0.1, 1.0];

/// Root numbers with a health series (roots past it are not shown).
const MAX_ROOT_SERIES: usize = 64;
const ROOT_NUMBERS: [&str; MAX_ROOT_SERIES] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20",
    "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35", "36", "37", "38", "39",
    "40", "41", "42", "43", "44", "45", "46", "47", "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58",
    "59", "60", "61", "62", "63",
];

/// Every series of the daemon. Fields are the hooks: count with `get()` then the field.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    decisions: Arc<decisions::Decisions>,
    /// Time from a request's parameters to its decided reply (`xsendfiled_decision_duration_seconds`).
    pub(crate) latency: Histogram,
    /// Connections open on their own task now (`server::metrics::Open`); one answered inline at
    /// accept is counted accepted, never open.
    pub(crate) connections_open: Gauge,
    /// Connections accepted.
    pub(crate) connections_accepted: Counter,
    /// Connections closed because they idled or a request did not arrive in time.
    pub(crate) connections_timed_out: Counter,
    /// Connections refused at once (a TCP peer outside `FCGI_WEB_SERVER_ADDRS`).
    pub(crate) connections_refused: Counter,
    /// Connections closed to make room at the `--max-connections` cap.
    pub(crate) connections_evicted: Counter,
    /// Configuration reloads (SIGHUP) that took effect.
    pub(crate) reloads_ok: Counter,
    /// Configuration reloads that were refused (the running one stayed).
    pub(crate) reloads_failed: Counter,
    /// When the configuration in force was loaded (start-up or the last good reload).
    pub(crate) last_reload: SecondsGauge,
    /// Keys in the signing key ring in force.
    pub(crate) keys: Gauge,
    /// Access-log lines that could not be written.
    pub(crate) access_log_lost: Counter,
    /// Per root number: 1 healthy (open, current, not stalled), 0 not ([`Metrics::set_root_healthy`]).
    root_healthy: Vec<Gauge>,
    /// Lookups on the storage pool that passed `--storage-timeout`.
    pub(crate) storage_timeouts: Counter,
    /// Storage-pool slots in use (lookups running, timed-out ones included).
    pub(crate) blocking_in_use: Gauge,
    /// Object-store series, read from the buckets at each scrape (`server/metrics.rs`).
    pub(crate) store: StoreSeries,
    /// Limited-use links: a use granted (counted in `state::Store::grant`).
    pub(crate) link_uses_granted: Counter,
    /// Limited-use links: a use refused, the link being used up.
    pub(crate) link_uses_refused: Counter,
    /// When this process started, seconds since the epoch.
    started: f64,
}

/// The object-store series: `xsendfiled_store_*`.
#[derive(Debug, Default)]
pub(crate) struct StoreSeries {
    /// HEAD requests sent to the store.
    pub(crate) heads: Counter,
    /// Metadata lookups answered from the cache.
    pub(crate) cache_hits: Counter,
    /// Metadata lookups that went to the store.
    pub(crate) cache_misses: Counter,
    /// Store requests that failed (not a 404).
    pub(crate) errors: Counter,
    /// 1 when the store answered its last request, else 0.
    pub(crate) reachable: Gauge,
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// The daemon's metrics, once enabled.
pub(crate) fn get() -> Option<&'static Metrics> {
    METRICS.get()
}

/// Turns counting on for this process (idempotent); `reasons` labels the refusal reasons by
/// index (the guard's `Reason::LABELS`).
pub(crate) fn enable(reasons: &'static [&'static str], roots: usize) -> &'static Metrics {
    METRICS.get_or_init(|| Metrics::new(reasons, roots))
}

/// Seconds since the epoch, now.
pub(crate) fn now_seconds() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Which exposition format a scraper gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// The Prometheus text format, version 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// OpenMetrics when the `Accept` header names it, else the Prometheus text format.
    pub(crate) fn from_accept(accept: &[u8]) -> Format {
        const NAME: &[u8] = b"application/openmetrics-text";
        if accept.windows(NAME.len()).any(|w| w.eq_ignore_ascii_case(NAME)) {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }

    /// The `Content-Type` of this format.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

impl Metrics {
    /// Every series registered, all zero; `roots` root-health series (shown healthy until told).
    pub(crate) fn new(reasons: &'static [&'static str], roots: usize) -> Metrics {
        let closed = Family::<OneLabel, Counter>::default();
        let reloads = Family::<OneLabel, Counter>::default();
        let uses = Family::<OneLabel, Counter>::default();
        let health = Family::<OneLabel, Gauge>::default();
        let pinned = |f: &Family<OneLabel, Counter>, k, v| f.get_or_create(&[(k, v)]).clone();
        let root_healthy: Vec<Gauge> = ROOT_NUMBERS
            .iter()
            .take(roots.min(MAX_ROOT_SERIES))
            .map(|n| {
                let g = health.get_or_create(&[("root", *n)]).clone();
                g.set(1);
                g
            })
            .collect();
        let started = now_seconds();
        let m = Metrics {
            registry: Registry::with_prefix("xsendfiled"),
            decisions: Arc::new(decisions::Decisions::new(reasons)),
            latency: Histogram::new(LATENCY_BUCKETS),
            connections_open: Gauge::default(),
            connections_accepted: Counter::default(),
            connections_timed_out: pinned(&closed, "cause", "timeout"),
            connections_refused: pinned(&closed, "cause", "refused"),
            connections_evicted: pinned(&closed, "cause", "evicted"),
            reloads_ok: pinned(&reloads, "result", "ok"),
            reloads_failed: pinned(&reloads, "result", "failed"),
            last_reload: SecondsGauge::default(),
            keys: Gauge::default(),
            access_log_lost: Counter::default(),
            root_healthy,
            storage_timeouts: Counter::default(),
            blocking_in_use: Gauge::default(),
            store: StoreSeries::default(),
            link_uses_granted: pinned(&uses, "result", "granted"),
            link_uses_refused: pinned(&uses, "result", "refused"),
            started,
        };
        m.last_reload.set(started);
        m.register(Families { closed, reloads, uses, health })
    }

    /// Registers every series (each a shared handle: the fields count into what is exposed).
    fn register(mut self, f: Families) -> Metrics {
        let r = &mut self.registry;
        r.register_collector(Box::new(self.decisions.clone()));
        r.register_with_unit("decision_duration", "Time to decide a request", Unit::Seconds, self.latency.clone());
        r.register(
            "connections_open",
            "Connections open on their own task (one answered at once when accepted is never counted open)",
            self.connections_open.clone(),
        );
        r.register("connections_accepted", "Connections accepted", self.connections_accepted.clone());
        r.register("connections_closed", "Connections the daemon closed, by cause", f.closed);
        r.register("config_reloads", "Configuration reloads (SIGHUP) by result", f.reloads);
        r.register(
            "config_last_reload_success_timestamp_seconds",
            "When the configuration in force was loaded, seconds since the epoch",
            self.last_reload.clone(),
        );
        r.register("signing_keys", "Keys in the signing key ring in force", self.keys.clone());
        r.register("access_log_lines_lost", "Access-log lines that could not be written", self.access_log_lost.clone());
        r.register("root_healthy", "Per root number (0 is the first --root): 1 healthy, 0 not", f.health);
        r.register("storage_timeouts", "Storage operations that timed out", self.storage_timeouts.clone());
        r.register(
            "blocking_pool_in_use",
            "Blocking-pool threads doing file-system work",
            self.blocking_in_use.clone(),
        );
        let s = &self.store;
        r.register("store_heads", "HEAD requests sent to the object store", s.heads.clone());
        r.register("store_cache_hits", "Object metadata lookups answered from the cache", s.cache_hits.clone());
        r.register("store_cache_misses", "Object metadata lookups that went to the store", s.cache_misses.clone());
        r.register("store_errors", "Object-store requests that failed", s.errors.clone());
        r.register("store_reachable", "1 when the object store answered its last request", s.reachable.clone());
        r.register("link_uses", "Uses of limited-use links by result", f.uses);
        let start = SecondsGauge::default();
        start.set(self.started);
        r.register("start_time_seconds", "When the process started, seconds since the epoch", start);
        r.register("build", "Build information", Info::new([("version", env!("CARGO_PKG_VERSION"))]));
        self
    }

    /// Counts one decision and how long it took.
    pub(crate) fn decided(&self, outcome: Outcome, status: u16, took: std::time::Duration) {
        self.decisions.count(outcome, status);
        self.latency.observe(took.as_secs_f64());
    }

    /// Decisions counted so far with `outcome` (for refusals: every reason).
    pub(crate) fn decisions_total(&self, outcome: Outcome) -> u64 {
        self.decisions.total(outcome)
    }

    /// Records the health of root number `root` (0 is the first `--root`).
    pub(crate) fn set_root_healthy(&self, root: usize, healthy: bool) {
        if let Some(g) = self.root_healthy.get(root) {
            g.set(i64::from(healthy));
        }
    }

    /// When the process started, seconds since the epoch.
    pub(crate) fn started(&self) -> f64 {
        self.started
    }

    /// The whole registry in `format`.
    pub(crate) fn encode(&self, format: Format) -> String {
        let mut out = String::with_capacity(8192);
        let r = match format {
            Format::Prometheus => prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry),
            Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &self.registry),
        };
        if let Err(e) = r {
            log::warn!("metrics: encoding failed: {e}");
        }
        out
    }
}

/// The labelled families, built before the fields that count into them.
struct Families {
    closed: Family<OneLabel, Counter>,
    reloads: Family<OneLabel, Counter>,
    uses: Family<OneLabel, Counter>,
    health: Family<OneLabel, Gauge>,
}
