//! Idle connections, oldest first, for eviction at the connection cap.
//!
//! At `--max-connections`, a new connection waiting in the backlog no longer waits for an idle
//! one to time out: the accept loop asks the connection idle the longest to close
//! ([`Registry::evict_oldest`]) and takes its slot (nginx does the same with its "reusable"
//! keep-alive connections). Idle means no request in progress: connected and silent, or kept
//! alive after a reply. FastCGI management records (`FCGI_GET_VALUES`) do not make a connection
//! busy, nor do they move its place in the order or its idle deadline.
//!
//! Invariants: a connection is in the set only while idle; eviction only asks — the connection
//! closes itself at its next idle wait, so a request that began in the meantime is answered
//! first and never cut; a connection is told at most once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Notify, Semaphore};

/// The idle connections and how many were evicted.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    /// Idle members by the order they became idle (the oldest first).
    idle: Mutex<BTreeMap<u64, Arc<Member>>>,
    next: AtomicU64,
    /// Connections asked to close to admit a new one, ever.
    pub(crate) evictions: AtomicU64,
}

/// One connection's entry.
#[derive(Debug, Default)]
pub(crate) struct Member {
    /// Its key in the idle set while idle, 0 when not idle.
    key: Mutex<u64>,
    evicted: Notify,
}

/// A connection's membership, left when dropped.
pub(crate) struct Membership {
    registry: Arc<Registry>,
    member: Arc<Member>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Registry {
    /// A new connection's membership, not idle until [`Membership::idle`] says so (a connection
    /// may arrive with a request already half read).
    pub(crate) fn join(self: &Arc<Self>) -> Membership {
        Membership { registry: self.clone(), member: Arc::new(Member::default()) }
    }

    /// Connections idle now.
    pub(crate) fn idle_count(&self) -> usize {
        lock(&self.idle).len()
    }

    /// A slot for a connection accepted at the cap: the connections idle the longest are asked
    /// to close (never one with a request in progress) and the first slot they free is taken;
    /// with none idle, the first slot that frees. One connection at most is held so; the others
    /// wait in the backlog (and take the other freed slots in the accept burst).
    pub(crate) async fn make_room(
        &self,
        slots: &Arc<Semaphore>,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, tokio::sync::AcquireError> {
        // Connections asked to close before get to run (and give their slots back) first.
        tokio::task::yield_now().await;
        if let Ok(p) = slots.clone().try_acquire_owned() {
            return Ok(p);
        }
        // As nginx drains its reusable connections: a few at once (an eighth of the idle ones, at
        // most 32), so a backlog full of new connections is admitted in batches, not one wake-up
        // each.
        let batch = (self.idle_count() / 8).clamp(1, 32);
        let evicted = (0..batch).take_while(|_| self.evict_oldest()).count();
        if evicted > 0 {
            log::debug!("at --max-connections: closing the {evicted} oldest idle connection(s)");
        }
        slots.clone().acquire_owned().await
    }

    /// Asks the connection idle the longest to close; false when none is idle.
    pub(crate) fn evict_oldest(&self) -> bool {
        let Some((popped, member)) = lock(&self.idle).pop_first() else { return false };
        // The idle lock was let go (a member's key is locked before the set, never after it): the
        // connection may have gone busy and idle again since, under a newer key, which goes too,
        // so no entry outlives its connection and it is told once.
        let mut key = lock(&member.key);
        if *key != popped && *key != 0 {
            lock(&self.idle).remove(&*key);
        }
        *key = 0;
        drop(key);
        member.evicted.notify_one();
        self.evictions.fetch_add(1, Ordering::Relaxed);
        if let Some(m) = crate::metrics::get() {
            m.connections_evicted.inc();
        }
        true
    }
}

impl Membership {
    /// The connection is idle from now on (the newest idle one). Already idle: it keeps its place.
    pub(crate) fn idle(&self) {
        let mut key = lock(&self.member.key);
        if *key != 0 {
            return;
        }
        *key = self.registry.next.fetch_add(1, Ordering::Relaxed) + 1;
        lock(&self.registry.idle).insert(*key, self.member.clone());
    }

    /// A request is in progress: not to be chosen for eviction.
    pub(crate) fn busy(&self) {
        let mut key = lock(&self.member.key);
        if *key != 0 {
            lock(&self.registry.idle).remove(&*key);
            *key = 0;
        }
    }

    /// Resolves once the connection was chosen for eviction (at once if it already was).
    pub(crate) async fn evicted(&self) {
        self.member.evicted.notified().await;
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.busy();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_idle_goes_first_and_a_busy_one_never() {
        let reg = Arc::new(Registry::default());
        let (a, b, c) = (reg.join(), reg.join(), reg.join());
        assert_eq!(reg.idle_count(), 0, "not idle until said");
        a.idle();
        b.idle();
        c.idle();
        a.busy();
        // b became idle before c; a is busy. Idle again, a is the newest.
        a.idle();
        b.idle();
        assert_eq!(reg.idle_count(), 3);
        a.busy();
        assert!(reg.evict_oldest());
        assert_eq!(*lock(&b.member.key), 0);
        assert!(reg.evict_oldest());
        assert_eq!(*lock(&c.member.key), 0);
        assert!(!reg.evict_oldest(), "a is busy");
        assert_eq!(reg.evictions.load(Ordering::Relaxed), 2);
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        rt.block_on(b.evicted());
        drop(c);
        assert_eq!(reg.idle_count(), 0);
    }

    #[test]
    fn an_eviction_racing_a_connection_going_busy_and_idle_again_leaves_no_stale_entry() {
        let reg = Arc::new(Registry::default());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flippers: Vec<_> = (0..8)
            .map(|_| {
                let (reg, stop) = (reg.clone(), stop.clone());
                std::thread::spawn(move || {
                    let m = reg.join();
                    while !stop.load(Ordering::Relaxed) {
                        m.idle();
                        m.busy();
                        m.idle();
                    }
                })
            })
            .collect();
        let evictors: Vec<_> = (0..2)
            .map(|_| {
                let reg = reg.clone();
                std::thread::spawn(move || {
                    let start = std::time::Instant::now();
                    while start.elapsed() < std::time::Duration::from_millis(800) {
                        reg.evict_oldest();
                    }
                })
            })
            .collect();
        for e in evictors {
            e.join().expect("thread");
        }
        stop.store(true, Ordering::Relaxed);
        for f in flippers {
            f.join().expect("thread");
        }
        // Every membership is dropped: none may be left in the idle set.
        assert_eq!(reg.idle_count(), 0, "a stale idle entry outlived its connection");
    }
}
