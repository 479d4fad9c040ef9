//! The object store: a `--root s3://BUCKET[/PREFIX]`. A validated relative path names the key
//! `PREFIX/rel`; the store answers "is there an object, how big, when modified" with a HEAD
//! (AWS S3 API `HeadObject`, signed with SigV4) and keeps the answer in a bounded cache.
//!
//! The line between guard and shell: this file holds the cache and the decision's view of a
//! bucket; the HEAD itself (an HTTP client, a runtime) and presigning are behind the
//! [`ObjectStore`] trait, implemented shell-side in `src/objstore/` and handed in by the
//! configuration. Nothing here does I/O but through that trait.
//!
//! Invariants:
//! - A cached answer (an object, or "no such key") is trusted for at most the cache's TTL,
//!   counted from when its HEAD was *sent*: a cache never extends an allow past its TTL, and a
//!   deleted object stops being offered within it. TTL 0 turns caching off.
//! - The cache holds at most `capacity` keys; when full, expired entries go first, then any.
//! - [`Wait::Never`] answers only from the cache, else [`io::ErrorKind::WouldBlock`].
//! - A store that cannot be reached is an `Err` carrying [`StoreFault`] (502), or with kind
//!   [`io::ErrorKind::TimedOut`] (504); never a refusal, never cached.
//! - Only UTF-8 names can be keys (S3 keys are UTF-8): another name is not found.

use super::{Content, FileMeta, Found, Refusal, Store, Wait};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a HEAD tells about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// `Content-Length`.
    pub len: u64,
    /// `Last-Modified`, seconds since the epoch (0 when absent).
    pub mtime: i64,
    /// `ETag` as the store sent it (quoted), if any.
    pub etag: Option<String>,
}

/// Where the web server gets a found object's bytes.
#[derive(Debug, Clone)]
pub(crate) struct ObjectInfo {
    /// The full key in the bucket (`PREFIX/rel`).
    pub(crate) key: String,
    /// The `ETag` of the HEAD the decision was made on, if the store sent one.
    pub(crate) etag: Option<String>,
}

/// A bucket as the decision and the reply see it; implemented by `objstore::Bucket`.
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    /// HEAD of `key`: `Ok(None)` when there is no such object (404).
    ///
    /// # Errors
    /// A store that cannot be reached or answers otherwise: kind `TimedOut` for a timeout, else
    /// an error carrying [`StoreFault`].
    fn head(&self, key: &str) -> io::Result<Option<ObjectMeta>>;

    /// A presigned URL for `method` (`GET`) of `key` with `overrides` (the `response-*`
    /// parameters), valid for the configured lifetime from now.
    fn presign(&self, method: &str, key: &str, overrides: &[(&str, &str)]) -> String;

    /// Whether the credentials can HEAD the bucket (`check` without a URI).
    ///
    /// # Errors
    /// What the store answered instead, or why it could not be asked.
    fn probe(&self) -> io::Result<()>;

    /// `endpoint, bucket` for messages and `check` (never a credential).
    fn describe(&self) -> String;

    /// How long a request to the store may wait for its answer (`--s3-timeout`).
    fn timeout(&self) -> Duration {
        Duration::from_secs(5)
    }
}

/// Marks an `io::Error` as "the object store failed" (a 502, not a 500).
#[derive(Debug, thiserror::Error)]
#[error("object store: {0}")]
pub(crate) struct StoreFault(pub(crate) String);

impl StoreFault {
    /// An `io::Error` of `kind` carrying this fault.
    pub(crate) fn error(kind: io::ErrorKind, why: impl Into<String>) -> io::Error {
        io::Error::new(kind, StoreFault(why.into()))
    }
}

/// Whether `e` is an object-store failure, and if so whether it timed out.
pub(crate) fn fault_kind(e: &io::Error) -> Option<bool> {
    e.get_ref().is_some_and(|inner| inner.is::<StoreFault>()).then(|| e.kind() == io::ErrorKind::TimedOut)
}

/// Counters of a bucket's HEADs and cache, for the metrics endpoint; all monotonic but
/// `reachable` (whether the last HEAD got an answer). Each bucket has its own (a reload starts
/// them anew); [`TOTALS`] adds up every bucket over the life of the process.
#[derive(Debug, Default)]
pub struct ObjectStats {
    /// HEAD requests sent: one per lookup the cache could not answer (its misses).
    pub heads: AtomicU64,
    /// Lookups answered from the cache.
    pub hits: AtomicU64,
    /// HEADs that failed (unreachable, timed out, an unexpected status).
    pub errors: AtomicU64,
    /// Whether the last HEAD got an answer from the store.
    pub reachable: AtomicBool,
}

/// Every bucket's counts since the process started (they survive reloads; `reachable` is the last
/// HEAD's of any bucket). The metrics endpoint reads these.
pub(crate) static TOTALS: ObjectStats = ObjectStats {
    heads: AtomicU64::new(0),
    hits: AtomicU64::new(0),
    errors: AtomicU64::new(0),
    reachable: AtomicBool::new(false),
};

impl ObjectStats {
    /// Counts one event in `self` and in [`TOTALS`].
    fn count(&self, which: fn(&ObjectStats) -> &AtomicU64) {
        which(self).fetch_add(1, Ordering::Relaxed);
        which(&TOTALS).fetch_add(1, Ordering::Relaxed);
    }

    /// Records whether the last request to the store got an answer, in `self` and in [`TOTALS`].
    pub(crate) fn reached(&self, answered: bool) {
        self.reachable.store(answered, Ordering::Relaxed);
        TOTALS.reachable.store(answered, Ordering::Relaxed);
    }
}

/// The bounded HEAD cache of one bucket.
#[derive(Debug)]
pub struct HeadCache {
    ttl: Duration,
    capacity: usize,
    map: Mutex<HashMap<String, (Instant, Option<ObjectMeta>)>>,
    /// What happened so far.
    pub stats: ObjectStats,
}

impl HeadCache {
    /// A cache trusting answers for `ttl`, holding at most `capacity` keys.
    pub fn new(ttl: Duration, capacity: usize) -> HeadCache {
        HeadCache { ttl, capacity, map: Mutex::new(HashMap::new()), stats: ObjectStats::default() }
    }

    fn get(&self, key: &str) -> Option<Option<ObjectMeta>> {
        let map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, meta)| meta.clone())
    }

    pub(crate) fn put(&self, key: &str, asked_at: Instant, meta: Option<ObjectMeta>) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= self.capacity && !map.contains_key(key) {
            map.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if map.len() >= self.capacity {
                if let Some(victim) = map.keys().next().cloned() {
                    map.remove(&victim);
                }
            }
        }
        map.insert(key.to_owned(), (asked_at, meta));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// A `--root s3://BUCKET[/PREFIX]`, or a narrowed part of one.
#[derive(Debug, Clone)]
pub struct ObjectRoot {
    /// `s3://BUCKET/PREFIX` as configured (what messages and `check` show).
    url: PathBuf,
    /// The key prefix without leading or trailing `/`; may be empty.
    prefix: String,
    store: Arc<dyn ObjectStore>,
    cache: Arc<HeadCache>,
}

impl ObjectRoot {
    /// The root for `bucket` and `prefix` (no leading or trailing `/`), asking `store`.
    pub fn new(bucket: &str, prefix: &str, store: Arc<dyn ObjectStore>, cache: Arc<HeadCache>) -> ObjectRoot {
        let url = match prefix {
            "" => format!("s3://{bucket}"),
            p => format!("s3://{bucket}/{p}"),
        };
        ObjectRoot { url: PathBuf::from(url), prefix: prefix.to_owned(), store, cache }
    }

    /// The bucket's store (presigning, `check`).
    pub fn store(&self) -> &dyn ObjectStore {
        &*self.store
    }

    /// The HEAD cache and its counters.
    pub fn cache(&self) -> &HeadCache {
        &self.cache
    }

    /// Whether the store answered its last HEAD (true before the first).
    pub(crate) fn answered(&self) -> bool {
        let stats = &self.cache.stats;
        stats.heads.load(Ordering::Relaxed) == 0 || stats.reachable.load(Ordering::Relaxed)
    }

    /// The store and the cache, to probe the store where waiting does no harm (`/readyz`).
    pub(crate) fn handles(&self) -> (Arc<dyn ObjectStore>, Arc<HeadCache>) {
        (self.store.clone(), self.cache.clone())
    }

    /// The key `rel` names in this root.
    fn key(&self, rel: &str) -> String {
        match self.prefix.as_str() {
            "" => rel.to_owned(),
            p => format!("{p}/{rel}"),
        }
    }

    /// The cached answer for `key`, or a HEAD when `wait` allows it.
    fn meta(&self, key: &str, wait: Wait) -> io::Result<Option<ObjectMeta>> {
        let stats = &self.cache.stats;
        if let Some(known) = self.cache.get(key) {
            stats.count(|s| &s.hits);
            return Ok(known);
        }
        if wait == Wait::Never {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        // A miss is counted once, as the HEAD the lookup that may wait sends (the try that may not
        // wait comes back here on the storage pool).
        let asked_at = Instant::now();
        stats.count(|s| &s.heads);
        match self.store.head(key) {
            Ok(meta) => {
                stats.reached(true);
                self.cache.put(key, asked_at, meta.clone());
                Ok(meta)
            }
            Err(e) => {
                stats.count(|s| &s.errors);
                stats.reached(false);
                Err(e)
            }
        }
    }
}

impl Store for ObjectRoot {
    /// A bucket has no symlinks, so `others` never matters and a found key is the one asked for.
    fn lookup<'a>(
        &self,
        rel: &'a str,
        _allow_hidden: bool,
        _others: &[&Self],
        wait: Wait,
    ) -> io::Result<Result<Found<'a>, Refusal>> {
        if rel.is_empty() || rel.contains('\0') {
            return Ok(Err(Refusal::NotFound));
        }
        let key = self.key(rel);
        let Some(meta) = self.meta(&key, wait)? else { return Ok(Err(Refusal::NotFound)) };
        // ETag and Last-Modified change when an object is replaced: an inode stand-in.
        let ino = meta.etag.as_deref().map_or(0, |e| e.bytes().fold(0xcbf2_9ce4_8422_2325u64, fnv));
        Ok(Ok(Found {
            root: 0,
            rel: Cow::Borrowed(rel.as_bytes()),
            meta: FileMeta { len: meta.len, mtime: meta.mtime, mtime_nsec: 0, ino },
            content: Content::Object(Box::new(ObjectInfo { key, etag: meta.etag })),
        }))
    }

    fn narrow(&self, inside: &[u8]) -> io::Result<ObjectRoot> {
        let inside = std::str::from_utf8(inside).map_err(|_| io::Error::from(io::ErrorKind::NotFound))?;
        if inside.is_empty() || inside.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Err(io::ErrorKind::NotFound.into());
        }
        let prefix = self.key(inside);
        Ok(ObjectRoot { url: self.url.join(inside), prefix, store: self.store.clone(), cache: self.cache.clone() })
    }

    fn is_current(&self) -> bool {
        true
    }

    fn path(&self) -> &Path {
        &self.url
    }
}

/// One FNV-1a step.
fn fnv(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bucket in memory that counts its HEADs.
    #[derive(Debug, Default)]
    struct Counting {
        heads: AtomicU64,
        down: AtomicBool,
    }

    impl ObjectStore for Counting {
        fn head(&self, key: &str) -> io::Result<Option<ObjectMeta>> {
            self.heads.fetch_add(1, Ordering::Relaxed);
            if self.down.load(Ordering::Relaxed) {
                return Err(StoreFault::error(io::ErrorKind::ConnectionRefused, "down"));
            }
            Ok((key != "p/missing").then(|| ObjectMeta { len: 3, mtime: 7, etag: Some("\"e\"".into()) }))
        }
        fn presign(&self, _method: &str, key: &str, _overrides: &[(&str, &str)]) -> String {
            key.to_owned()
        }
        fn probe(&self) -> io::Result<()> {
            Ok(())
        }
        fn describe(&self) -> String {
            "memory".into()
        }
    }

    fn root(ttl: Duration, capacity: usize) -> (Arc<Counting>, ObjectRoot) {
        let store = Arc::new(Counting::default());
        let cache = Arc::new(HeadCache::new(ttl, capacity));
        (store.clone(), ObjectRoot::new("b", "p", store, cache))
    }

    #[test]
    fn answers_come_from_the_cache_until_the_ttl_and_never_wait_when_told_not_to() {
        let (store, r) = root(Duration::from_millis(200), 10);
        let e = r.lookup("a.txt", false, &[], Wait::Never).expect_err("a miss would block");
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(store.heads.load(Ordering::Relaxed), 0);
        let f = r.lookup("a.txt", false, &[], Wait::Allowed).expect("no fault").expect("found");
        assert_eq!((f.meta.len, &*f.rel), (3, &b"a.txt"[..]));
        assert!(matches!(f.content, Content::Object(ref o) if o.key == "p/a.txt"));
        assert!(r.lookup("a.txt", false, &[], Wait::Never).expect("cached").is_ok());
        assert_eq!(r.lookup("missing", false, &[], Wait::Allowed).expect("no fault").err(), Some(Refusal::NotFound));
        assert_eq!(
            r.lookup("missing", false, &[], Wait::Never).expect("negative entry").err(),
            Some(Refusal::NotFound)
        );
        assert_eq!(store.heads.load(Ordering::Relaxed), 2);
        std::thread::sleep(Duration::from_millis(250));
        let e = r.lookup("a.txt", false, &[], Wait::Never).expect_err("expired");
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(r.cache().stats.hits.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn the_cache_is_bounded_and_a_fault_is_neither_cached_nor_a_refusal() {
        let (store, r) = root(Duration::from_secs(60), 3);
        for i in 0..10 {
            r.lookup(&format!("f{i}"), false, &[], Wait::Allowed).expect("no fault").expect("found");
            assert!(r.cache().len() <= 3);
        }
        store.down.store(true, Ordering::Relaxed);
        let e = r.lookup("new", false, &[], Wait::Allowed).expect_err("a fault");
        assert_eq!(fault_kind(&e), Some(false));
        assert!(!r.cache().stats.reachable.load(Ordering::Relaxed));
        assert!(r.lookup("new", false, &[], Wait::Allowed).is_err(), "not cached");
        let (_, nocache) = root(Duration::ZERO, 3);
        nocache.lookup("x", false, &[], Wait::Allowed).expect("no fault").expect("found");
        assert_eq!(nocache.lookup("x", false, &[], Wait::Never).expect_err("ttl 0").kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn narrowing_extends_the_prefix_and_refuses_dot_segments() {
        let (_, r) = root(Duration::from_secs(1), 3);
        let n = r.narrow(b"sub/dir").expect("narrowed");
        assert_eq!(n.path(), Path::new("s3://b/p/sub/dir"));
        let f = n.lookup("x.txt", false, &[], Wait::Allowed).expect("no fault").expect("found");
        assert!(matches!(f.content, Content::Object(ref o) if o.key == "p/sub/dir/x.txt"));
        for bad in [&b""[..], b"..", b"a//b", b"a/./b", b"\xff"] {
            assert!(r.narrow(bad).is_err());
        }
    }
}
