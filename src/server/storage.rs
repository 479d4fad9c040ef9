//! The storage pool: where a decision whose lookup would wait for the file system runs, so that a
//! slow or hung mount never blocks the accept loop or another connection.
//!
//! The shells decide first with [`Wait::Never`](crate::guard::store::Wait) (the store answers
//! from memory or says `WouldBlock`, naming the root); only then is the decision run again here,
//! with `Wait::Allowed`, on a thread of this pool, and awaited for at most `--storage-timeout`.
//!
//! Invariants:
//! - **Bounded**: at most `--storage-threads` lookups run at once, one thread each; threads are
//!   started on demand up to that number and never more, so a hung mount cannot create threads
//!   without end. A job is admitted only with a free slot, so it never waits in a queue.
//! - **Shares**: one root (keyed by its canonical path) may hold at most [`Pool::share`] slots
//!   (half the pool, at least one): a root whose lookups hang fills its share, never the whole
//!   pool. A request that finds its root's share (or the pool) full is refused at once: 503.
//! - **Deadline**: past `--storage-timeout` the request is answered 504 and the thread is not
//!   waited for; its slot stays taken until the lookup really returns (the thread is still busy),
//!   which is what makes the bound hold.
//! - **Health**: [`UNHEALTHY_AFTER`] timeouts in a row mark a root unhealthy; its requests are
//!   then refused at once (503) except one probe every [`PROBE_INTERVAL`], a real request let
//!   through; the first lookup that answers in time marks it healthy again.
//!
//! What an observer may read (metrics, `/readyz`): [`Pool::in_use`], [`Pool::roots`] with each
//! root's [`RootHealth`] (healthy or not, timeouts, lookups in flight).

use crate::guard::decide::{Status, Storage as Why};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Timeouts in a row after which a root is marked unhealthy.
pub(crate) const UNHEALTHY_AFTER: u32 = 3;
/// How often an unhealthy root lets one request through as a probe.
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// Stack of a pool thread: a decision needs a few KiB (paths of at most 4 KiB on the heap).
const STACK: usize = 256 * 1024;

type Job = Box<dyn FnOnce() + Send>;

/// The health of one root's storage, as the pool sees it.
#[derive(Debug, Default)]
pub(crate) struct RootHealth {
    /// Marked unhealthy: refused at once but for probes.
    pub(crate) unhealthy: AtomicBool,
    /// Lookups that timed out, ever.
    pub(crate) timeouts: AtomicU64,
    /// Lookups now holding a slot (including ones that timed out and still block a thread).
    pub(crate) in_flight: AtomicUsize,
    /// Timeouts since the last lookup that answered in time.
    consecutive: AtomicU32,
    /// A probe is in flight.
    probing: AtomicBool,
    /// Milliseconds after the pool started when the next probe may go.
    probe_at_ms: AtomicU64,
}

/// Threads and the jobs waiting for one (only ever as many as threads about to take them).
#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    idle: usize,
    spawned: usize,
}

/// The bounded pool and the health of each root (see the module docs).
pub(crate) struct Pool {
    size: usize,
    timeout: Duration,
    started: Instant,
    in_use: AtomicUsize,
    roots: Mutex<HashMap<PathBuf, Arc<RootHealth>>>,
    queue: Arc<(Mutex<Queue>, Condvar)>,
}

/// What running a decision on the pool came to.
pub(crate) enum Ran<T> {
    /// It answered in time.
    Done(T),
    /// Refused (503) or timed out (504), with the reason the access log records.
    Refused(Status, Why),
}

/// A slot of the pool and of one root's share, given back when the lookup returns.
struct Slot {
    pool: Arc<Pool>,
    root: Arc<RootHealth>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.root.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.pool.in_use.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An admitted probe: clears the root's `probing` when dropped, so a probe whose request went
/// away (its future dropped: the client left, the connection was evicted) cannot keep it set.
struct Probe(Option<Arc<RootHealth>>);

impl Drop for Probe {
    fn drop(&mut self) {
        if let Some(health) = self.0.take() {
            health.probing.store(false, Ordering::Release);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Pool {
    /// A pool of at most `size` threads (at least 1) with a deadline of `timeout` per lookup.
    pub(crate) fn new(size: usize, timeout: Duration) -> Pool {
        Pool {
            size: size.max(1),
            timeout,
            started: Instant::now(),
            in_use: AtomicUsize::new(0),
            roots: Mutex::new(HashMap::new()),
            queue: Arc::new((Mutex::new(Queue::default()), Condvar::new())),
        }
    }

    /// The most slots one root may hold: half the pool, at least one.
    pub(crate) fn share(&self) -> usize {
        (self.size / 2).max(1)
    }

    /// `--storage-timeout`: the longest a lookup (or a read of `serve`) may wait for storage.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Slots in use (lookups running, including ones whose requests timed out).
    pub(crate) fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Acquire)
    }

    /// Every root the pool has run a lookup for, with its health.
    pub(crate) fn roots(&self) -> Vec<(PathBuf, Arc<RootHealth>)> {
        lock(&self.roots).iter().map(|(p, h)| (p.clone(), h.clone())).collect()
    }

    /// Whether the root at `root` is marked unhealthy (a root never looked up on the pool is not).
    pub(crate) fn is_unhealthy(&self, root: &Path) -> bool {
        lock(&self.roots).get(root).is_some_and(|h| h.unhealthy.load(Ordering::Acquire))
    }

    fn health(&self, root: &Path) -> Arc<RootHealth> {
        let mut roots = lock(&self.roots);
        if let Some(h) = roots.get(root) {
            return h.clone();
        }
        let h = Arc::new(RootHealth::default());
        roots.insert(root.to_owned(), h.clone());
        h
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Takes a slot for `health`'s root, or says why not. Returns whether it is a probe.
    fn admit(self: &Arc<Self>, health: &Arc<RootHealth>) -> Result<(Slot, bool), Why> {
        let mut probe = false;
        if health.unhealthy.load(Ordering::Acquire) {
            let now = self.now_ms();
            if now < health.probe_at_ms.load(Ordering::Acquire) || health.probing.swap(true, Ordering::AcqRel) {
                return Err(Why::Unhealthy);
            }
            health.probe_at_ms.store(now + PROBE_INTERVAL.as_millis() as u64, Ordering::Release);
            probe = true;
        }
        let refuse = |why| {
            if probe {
                health.probing.store(false, Ordering::Release);
            }
            Err(why)
        };
        if health.in_flight.fetch_add(1, Ordering::AcqRel) >= self.share() {
            health.in_flight.fetch_sub(1, Ordering::AcqRel);
            return refuse(Why::ShareInUse);
        }
        if self.in_use.fetch_add(1, Ordering::AcqRel) >= self.size {
            self.in_use.fetch_sub(1, Ordering::AcqRel);
            health.in_flight.fetch_sub(1, Ordering::AcqRel);
            return refuse(Why::ShareInUse);
        }
        Ok((Slot { pool: self.clone(), root: health.clone() }, probe))
    }

    /// Runs `job` (a decision with `Wait::Allowed`) for root `root` on a pool thread, and waits
    /// for it at most `--storage-timeout`.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, root: &Path, job: F) -> Ran<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let health = self.health(root);
        let (slot, probe) = match self.admit(&health) {
            Ok(s) => s,
            Err(why) => return Ran::Refused(Status::ServiceUnavailable, why),
        };
        let probe = Probe(probe.then(|| health.clone()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let submitted = self.submit(Box::new(move || {
            let answer = job();
            drop(slot);
            let _ = tx.send(answer);
        }));
        if !submitted {
            return Ran::Refused(Status::ServiceUnavailable, Why::ShareInUse);
        }
        let answered = tokio::time::timeout(self.timeout, rx).await;
        drop(probe);
        match answered {
            Ok(Ok(answer)) => {
                health.consecutive.store(0, Ordering::Release);
                if health.unhealthy.swap(false, Ordering::AcqRel) {
                    log::warn!("storage of root {} answers again: healthy", root.display());
                }
                Ran::Done(answer)
            }
            // The job was dropped unrun (its thread could not start): nothing was waited for.
            Ok(Err(_)) => Ran::Refused(Status::ServiceUnavailable, Why::ShareInUse),
            Err(_) => {
                self.timed_out(root, &health);
                let ms = u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX);
                Ran::Refused(Status::GatewayTimeout, Why::TimedOut(ms))
            }
        }
    }

    /// At exit: the roots whose storage timed out, and lookups still blocked (their threads end
    /// with the process).
    pub(crate) fn log_at_exit(&self) {
        for (root, health) in self.roots() {
            let timeouts = health.timeouts.load(Ordering::Acquire);
            if timeouts > 0 {
                let state = if health.unhealthy.load(Ordering::Acquire) { "unhealthy" } else { "healthy" };
                let blocked = health.in_flight.load(Ordering::Acquire);
                log::warn!(
                    "storage of root {}: {timeouts} lookup(s) timed out, {blocked} still blocked, {state}",
                    root.display()
                );
            }
        }
        if self.in_use() > 0 {
            log::warn!("storage pool: {} lookup(s) still blocked at exit", self.in_use());
        }
    }

    fn timed_out(&self, root: &Path, health: &RootHealth) {
        health.timeouts.fetch_add(1, Ordering::AcqRel);
        if let Some(m) = crate::metrics::get() {
            m.storage_timeouts.inc();
        }
        let row = health.consecutive.fetch_add(1, Ordering::AcqRel) + 1;
        if row >= UNHEALTHY_AFTER && !health.unhealthy.swap(true, Ordering::AcqRel) {
            log::error!(
                "storage of root {} timed out {row} times in a row: unhealthy, refusing its lookups but one probe \
                 every {PROBE_INTERVAL:?}",
                root.display()
            );
            health.probe_at_ms.store(self.now_ms() + PROBE_INTERVAL.as_millis() as u64, Ordering::Release);
        }
    }

    /// Hands `job` to an idle thread, or starts one (the admission bound keeps them within
    /// `size`). False when no thread could take it.
    fn submit(&self, job: Job) -> bool {
        let (queue, wake) = &*self.queue;
        let mut q = lock(queue);
        q.jobs.push_back(job);
        if q.jobs.len() <= q.idle {
            wake.notify_one();
            return true;
        }
        if q.spawned >= self.size {
            // Every thread is busy but one is about to finish its job (slots bound the jobs).
            return true;
        }
        let shared = self.queue.clone();
        let started = std::thread::Builder::new()
            .name("xsendfiled-storage".into())
            .stack_size(STACK)
            .spawn(move || worker(&shared));
        match started {
            Ok(_) => {
                q.spawned += 1;
                true
            }
            Err(e) => {
                log::error!("storage pool: cannot start a thread: {e}");
                q.jobs.pop_back();
                false
            }
        }
    }
}

/// A pool thread: takes jobs for ever (it is never joined; the process exit ends it).
fn worker(shared: &(Mutex<Queue>, Condvar)) {
    let (queue, wake) = shared;
    loop {
        let job = {
            let mut q = lock(queue);
            loop {
                if let Some(job) = q.jobs.pop_front() {
                    break job;
                }
                q.idle += 1;
                q = wake.wait(q).unwrap_or_else(std::sync::PoisonError::into_inner);
                q.idle -= 1;
            }
        };
        job();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime")
    }

    #[test]
    fn a_hung_root_fills_its_share_only_and_times_out_without_waiting() {
        let pool = Arc::new(Pool::new(4, Duration::from_millis(50)));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(Mutex::new(hold));
        let rt = rt();
        let hung = Path::new("/hung");
        let mut stalled = Vec::new();
        for _ in 0..2 {
            let (pool, hold) = (pool.clone(), hold.clone());
            stalled.push(rt.spawn(async move {
                pool.run(hung, move || {
                    let _ = lock(&hold).recv();
                })
                .await
            }));
        }
        // While the two stall, a third for the same root is refused at once, another root runs.
        rt.block_on(async { tokio::time::sleep(Duration::from_millis(10)).await });
        let start = Instant::now();
        let third = rt.block_on(pool.run(hung, || ()));
        assert!(matches!(third, Ran::Refused(Status::ServiceUnavailable, Why::ShareInUse)));
        assert!(start.elapsed() < Duration::from_millis(40), "refused without waiting");
        assert!(matches!(rt.block_on(pool.run(Path::new("/fine"), || 7)), Ran::Done(7)));
        for s in stalled {
            assert!(matches!(rt.block_on(s).expect("task"), Ran::Refused(Status::GatewayTimeout, Why::TimedOut(50))));
        }
        assert_eq!(pool.in_use(), 2, "the hung lookups still hold their slots");
        drop(release);
        let deadline = Instant::now() + Duration::from_secs(5);
        while pool.in_use() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(pool.in_use(), 0, "slots come back when the lookups return");
        assert!(lock(&pool.queue.0).spawned <= 4);
    }

    #[test]
    fn a_root_that_keeps_timing_out_is_refused_fast_then_probed_back() {
        let pool = Arc::new(Pool::new(8, Duration::from_millis(20)));
        let rt = rt();
        let slow = Path::new("/slow");
        for _ in 0..UNHEALTHY_AFTER {
            let r = rt.block_on(pool.run(slow, || std::thread::sleep(Duration::from_millis(60))));
            assert!(matches!(r, Ran::Refused(Status::GatewayTimeout, _)));
        }
        let health = pool.health(slow);
        assert!(health.unhealthy.load(Ordering::Acquire));
        assert_eq!(health.timeouts.load(Ordering::Acquire), u64::from(UNHEALTHY_AFTER));
        assert!(matches!(rt.block_on(pool.run(slow, || ())), Ran::Refused(Status::ServiceUnavailable, Why::Unhealthy)));
        std::thread::sleep(PROBE_INTERVAL + Duration::from_millis(20));
        assert!(matches!(rt.block_on(pool.run(slow, || 1)), Ran::Done(1)), "the probe answers");
        assert!(!health.unhealthy.load(Ordering::Acquire));
        assert!(matches!(rt.block_on(pool.run(slow, || 2)), Ran::Done(2)));
    }

    #[test]
    fn a_probe_whose_request_went_away_does_not_keep_the_root_refused() {
        let pool = Arc::new(Pool::new(8, Duration::from_millis(20)));
        let rt = rt();
        let slow = Path::new("/slow");
        for _ in 0..UNHEALTHY_AFTER {
            let _ = rt.block_on(pool.run(slow, || std::thread::sleep(Duration::from_millis(60))));
        }
        std::thread::sleep(PROBE_INTERVAL + Duration::from_millis(20));
        // The probe is admitted, then its future is dropped while it waits (the client left).
        let probe = pool.run(slow, || std::thread::sleep(Duration::from_millis(60)));
        assert!(rt.block_on(async { tokio::time::timeout(Duration::from_millis(5), probe).await }).is_err());
        std::thread::sleep(PROBE_INTERVAL + Duration::from_millis(80));
        assert!(matches!(rt.block_on(pool.run(slow, || 1)), Ran::Done(1)), "a later probe is admitted");
        assert!(!pool.is_unhealthy(slow), "and the root recovers");
    }
}
