//! Limited-use links and revocation, the pure half (`docs/sdl1.md` §1, claims `id`, `uses`, `gw`).
//!
//! A link with `uses=N` may be used N times. A **use** is a grant: the first GET from a client
//! address opens it for a window (`gw`, else `--grant-window`); every request of that address on
//! that link inside the window belongs to the same use (Range requests, parallel segments, a resumed
//! download). HEAD never opens or consumes one. The decision cannot count: it only says what to
//! ask ([`Ask`]); the state store of the shell (`crate::state`) answers with a [`Grant`] in one
//! atomic step, and [`Grant::refusal`] turns that answer into the reply.
//!
//! Revocation reaches every verified link that names a revoked key id or link id: the node keeps
//! the list of revocations in memory ([`Revocations`], refreshed from the store by the shell), so
//! a link without `uses` is checked without touching the store; a link with `uses` is checked again
//! inside the atomic grant.
//!
//! Invariants: a link id is 1 to 64 of `A-Z a-z 0-9 - _`; `uses` is 1 to 999,999 and needs an
//! `id`; `gw` is 1 to 9,999,999 seconds and needs `uses`.

use std::collections::HashSet;
use std::sync::RwLock;

/// Most uses a link may carry.
pub const MAX_USES: u32 = 999_999;
/// Longest signed grant window, in seconds.
pub const MAX_GRANT_WINDOW: u64 = 9_999_999;

/// The use limit a verified link carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// The link id (`id`).
    pub id: String,
    /// How many uses (`uses`); `None` for a link that has an id only (revocable, stateless).
    pub uses: Option<u32>,
    /// The signed grant window in seconds (`gw`).
    pub window: Option<u64>,
}

/// Whether `id` is a well-formed link id: 1 to 64 of `A-Z a-z 0-9 - _`.
pub fn valid_link_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A verified link's id, and what the state store must grant when the link has `uses`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    /// The link id (logged).
    pub id: String,
    /// For a link with `uses`: what to ask the store.
    pub ask: Option<Ask>,
}

/// What the store must decide for a link with `uses`: may this client have (or continue) a use?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// The link id.
    pub id: String,
    /// The key that signed it (a revoked key refuses it too).
    pub kid: String,
    /// How many uses the link has.
    pub uses: u32,
    /// How long a use stays open for its client, in seconds.
    pub window: u64,
    /// The link's expiry (Unix seconds): the store forgets the link after it.
    pub expires: u64,
    /// The client address (`REMOTE_ADDR`).
    pub client: String,
    /// GET: may open a use. HEAD: look only, never open or consume.
    pub open: bool,
    /// Now, Unix seconds.
    pub now: u64,
}

/// The store's answer to an [`Ask`]; a value the shell can count (granted, same use, spent,
/// revoked, unavailable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// A new use was opened for this client: use number n (from 1).
    Opened(u32),
    /// The client's open use n continues.
    Same(u32),
    /// HEAD: a GET would be served now (nothing opened or consumed).
    Looked,
    /// Every use is spent: 410.
    Spent,
    /// The link or its key is revoked: 403.
    Revoked,
    /// The store did not answer in time or failed: 503, failing closed.
    Unavailable,
}

impl Grant {
    /// The use number to log, when one applies.
    pub fn use_number(self) -> Option<u32> {
        match self {
            Grant::Opened(n) | Grant::Same(n) => Some(n),
            _ => None,
        }
    }

    /// A short name for logs and counters: `opened`, `same`, `looked`, `spent`, `revoked`,
    /// `unavailable`.
    pub fn name(self) -> &'static str {
        match self {
            Grant::Opened(_) => "opened",
            Grant::Same(_) => "same",
            Grant::Looked => "looked",
            Grant::Spent => "spent",
            Grant::Revoked => "revoked",
            Grant::Unavailable => "unavailable",
        }
    }

    /// `None` when the file may be sent, else the refusal.
    pub(crate) fn refusal(self) -> Option<(crate::guard::decide::Status, crate::guard::decide::Reason)> {
        use crate::guard::decide::{Reason, Status};
        match self {
            Grant::Opened(_) | Grant::Same(_) | Grant::Looked => None,
            Grant::Spent => Some((Status::Gone, Reason::UsesSpent)),
            Grant::Revoked => Some((Status::Forbidden, Reason::Revoked)),
            Grant::Unavailable => Some((Status::ServiceUnavailable, Reason::StateUnavailable)),
        }
    }
}

/// Revoked key ids and link ids, as last read from the store.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// Revoked key ids: every link they signed.
    pub kids: HashSet<String>,
    /// Revoked link ids.
    pub ids: HashSet<String>,
}

/// The node's revocation list, shared by every policy built since start (SIGHUP keeps it) and
/// replaced whole by the shell's refresher.
#[derive(Debug, Default)]
pub struct Revocations(RwLock<Revoked>);

impl Revocations {
    /// Replaces the list.
    pub fn set(&self, list: Revoked) {
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = list;
    }

    /// Whether a link of `kid` with link id `id` is revoked.
    pub fn refuses(&self, kid: &str, id: Option<&str>) -> bool {
        // Read under the lock, held for two set lookups.
        let list = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if list.kids.is_empty() && list.ids.is_empty() {
            return false;
        }
        list.kids.contains(kid) || id.is_some_and(|i| list.ids.contains(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_ids_are_plain_words() {
        assert!(valid_link_id("Zx-9_a"));
        assert!(valid_link_id(&"a".repeat(64)));
        for bad in ["", "a b", "a/b", "é", "a=b", &"a".repeat(65)] {
            assert!(!valid_link_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn revocation_reaches_a_key_or_an_id() {
        let r = Revocations::default();
        assert!(!r.refuses("k1", Some("x")));
        r.set(Revoked { kids: ["k2".to_owned()].into(), ids: ["x".to_owned()].into() });
        assert!(r.refuses("k1", Some("x")));
        assert!(r.refuses("k2", None));
        assert!(!r.refuses("k1", Some("y")));
        assert!(!r.refuses("k1", None));
    }
}
