//! What every connection task shares: the policy in force (swapped whole on SIGHUP; a request
//! keeps the one it started with), the limits, the probe paths, the storage pool with each root's
//! health (`storage.rs`) and the idle connections (`evict.rs`). An observer (metrics, readiness)
//! reads the pool's and the registry's counters from here.

use super::{evict, storage};
use crate::guard::Policy;
use crate::limits::Limits;
use std::sync::Arc;

/// What every connection task shares. The policy is swapped whole on SIGHUP.
pub(crate) struct Shared {
    policy: std::sync::RwLock<Arc<Policy>>,
    pub(crate) limits: Limits,
    /// `--ping-path`, `--status-path` (`probe.rs`).
    pub(crate) probes: crate::config::Probes,
    /// The storage pool, with each root's health and the slots in use (`storage.rs`).
    pub(crate) storage: Arc<storage::Pool>,
    /// Idle connections, oldest first, and the count of evictions (`evict.rs`).
    pub(crate) conns: Arc<evict::Registry>,
    /// Where limited-use links are counted (`--state`); set by `run`.
    pub(crate) state: Option<crate::state::Store>,
}

impl Shared {
    pub(crate) fn new(policy: Policy, limits: Limits, probes: crate::config::Probes, storage: storage::Pool) -> Shared {
        let (storage, conns) = (Arc::new(storage), Arc::new(evict::Registry::default()));
        Shared { policy: std::sync::RwLock::new(Arc::new(policy)), limits, probes, storage, conns, state: None }
    }

    /// The policy in force (a request keeps the one it started with).
    pub(crate) fn policy(&self) -> Arc<Policy> {
        match self.policy.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(super) fn replace(&self, p: Policy) {
        match self.policy.write() {
            Ok(mut w) => *w = Arc::new(p),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(p),
        }
    }
}
