//! The SQLite store's grants, purges and revocations, on a file of a temporary directory.

use super::*;

fn ask(client: &str, open: bool, now: u64) -> Ask {
    Ask {
        id: "L1".into(),
        kid: "k1".into(),
        uses: 2,
        window: 600,
        expires: now + 3600,
        client: client.into(),
        open,
        now,
    }
}

/// A store on a fresh file (kept while the directory lives) and a runtime to ask it.
fn store() -> (tempfile::TempDir, Sqlite, tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Sqlite::open(&dir.path().join("state.db"), Duration::from_secs(1)).expect("open");
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    (dir, db, rt)
}

#[test]
fn uses_are_counted_per_client_and_window() {
    let (_dir, db, rt) = store();
    let grant = |client: &str, open: bool, now: u64| rt.block_on(db.grant(ask(client, open, now))).expect("grant");
    let t = 1_800_000_000;
    assert_eq!(grant("10.0.0.1", false, t), Grant::Looked);
    assert_eq!(grant("10.0.0.1", true, t), Grant::Opened(1));
    assert_eq!(grant("10.0.0.1", true, t + 599), Grant::Same(1));
    assert_eq!(grant("10.0.0.2", true, t + 1), Grant::Opened(2));
    assert_eq!(grant("10.0.0.3", true, t + 2), Grant::Spent);
    assert_eq!(grant("10.0.0.3", false, t + 2), Grant::Spent);
    assert_eq!(grant("10.0.0.1", true, t + 600), Grant::Spent, "after the window");
    assert_eq!(grant("10.0.0.2", false, t + 3), Grant::Same(2), "HEAD of an open use");
    rt.block_on(db.run(move |c| revoke(c, "id", "L1", t + 3600))).expect("revoke");
    assert_eq!(grant("10.0.0.2", true, t + 4), Grant::Revoked);
    assert!(rt.block_on(db.run(move |c| revoked(c, t))).expect("list").ids.contains("L1"));
    assert!(rt.block_on(db.run(move |c| purge(c, t + 7200))).expect("purge") >= 3);
    assert_eq!(rt.block_on(db.run(move |c| revoked(c, t + 7200))).expect("list"), Revoked::default());
}

#[test]
fn a_later_link_of_the_same_id_keeps_the_count_past_the_earlier_expiry() {
    let (_dir, db, rt) = store();
    let t = 1_800_000_000;
    let grant = |client: &str, now: u64, expires: u64| {
        let a = Ask { uses: 1, window: 1, expires, ..ask(client, true, now) };
        rt.block_on(db.grant(a)).expect("grant")
    };
    // Opened with the earlier link, then asked with a later one (opened, and spent).
    assert_eq!(grant("10.0.0.1", t, t + 10), Grant::Opened(1));
    assert_eq!(grant("10.0.0.2", t + 1, t + 1000), Grant::Spent);
    rt.block_on(db.run(move |c| purge(c, t + 20))).expect("purge");
    assert_eq!(grant("10.0.0.3", t + 21, t + 1000), Grant::Spent, "the count outlives the earlier link");
    // A use opened by the later link extends the count too.
    assert_eq!(grant("10.0.0.1", t, t + 10), Grant::Spent);
    let b = |client: &str, now| Ask { id: "L2".into(), uses: 2, window: 1, ..ask(client, true, now) };
    assert_eq!(rt.block_on(db.grant(Ask { expires: t + 10, ..b("10.0.0.1", t) })).expect("grant"), Grant::Opened(1));
    assert_eq!(rt.block_on(db.grant(Ask { expires: t + 1000, ..b("10.0.0.2", t) })).expect("grant"), Grant::Opened(2));
    rt.block_on(db.run(move |c| purge(c, t + 20))).expect("purge");
    assert_eq!(rt.block_on(db.grant(Ask { expires: t + 1000, ..b("10.0.0.3", t + 21) })).expect("grant"), Grant::Spent);
}

#[test]
fn a_burst_of_grants_from_many_clients_opens_exactly_n() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = std::sync::Arc::new(Sqlite::open(&dir.path().join("state.db"), Duration::from_secs(5)).expect("open"));
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let t = 1_800_000_000;
    let answers = rt.block_on(async {
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move { db.grant(ask(&format!("10.0.1.{i}"), true, t)).await })
            })
            .collect();
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.expect("task").expect("grant"));
        }
        out
    });
    let opened: Vec<_> = answers.iter().filter(|g| matches!(g, Grant::Opened(_))).collect();
    assert_eq!(opened, [&Grant::Opened(1), &Grant::Opened(2)]);
    assert_eq!(answers.iter().filter(|g| **g == Grant::Spent).count(), 98);
}

/// The daemon's checkpoints run on their own thread: the grant worker's connection never copies
/// the log itself, yet the log is copied into the database and restarts instead of growing with
/// every grant.
#[test]
fn background_checkpoints_copy_the_log_and_let_it_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    let db = std::sync::Arc::new(Sqlite::open(&path, Duration::from_secs(5)).expect("open"));
    // Checkpoints more often than the daemon's pace, so that the test is short.
    db.checkpoint_in_background(Duration::from_millis(100));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let t = 1_800_000_000;
    // One grant after the other from new clients, each a commit of its own while the
    // checkpointer copies: the log is never found all copied by itself, and would hold some
    // 36,000 frames (140 MiB) at the end if it did not restart.
    let grants = 12_000;
    let opened = rt.block_on(async {
        let mut opened = 0;
        for i in 0..grants {
            let a = Ask { uses: 1_000_000, ..ask(&format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255), true, t) };
            opened += usize::from(matches!(db.grant(a).await.expect("grant"), Grant::Opened(_)));
        }
        opened
    });
    assert_eq!(opened, grants);
    let wal = std::fs::metadata(dir.path().join("state.db-wal")).expect("wal").len();
    assert!(wal < 48 << 20, "the log restarted: it is {wal} bytes");
    // The worker checkpoints nothing itself (`wal_autocheckpoint=0`): what is in the database was
    // copied by the checkpointer, which soon leaves nothing behind.
    let worker_setting = rt.block_on(db.run(|c| c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get::<_, i64>(0))));
    assert_eq!(worker_setting.expect("pragma"), 0);
    let count = |path: &std::path::Path| -> i64 {
        let c = Connection::open(path).expect("open");
        c.query_row("SELECT count(*) FROM grants", [], |r| r.get(0)).expect("count")
    };
    assert_eq!(count(&path), grants as i64);
    // The database file alone (a copy, without its log) soon holds every row.
    let copy = dir.path().join("copy.db");
    let copied = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::fs::copy(&path, &copy).expect("copy");
        for tail in ["copy.db-wal", "copy.db-shm"] {
            let _ = std::fs::remove_file(dir.path().join(tail));
        }
        count(&copy) == grants as i64
    });
    assert!(copied, "the checkpointer copied the whole log into the database");
}

#[test]
fn the_grant_itself_refuses_revoked_ids_and_keys_while_their_revocation_lasts() {
    let (_dir, db, rt) = store();
    let t = 1_800_000_000;
    let grant = |a: Ask| rt.block_on(db.grant(a)).expect("grant");
    rt.block_on(db.run(move |c| revoke(c, "kid", "k1", t + 10))).expect("revoke kid");
    rt.block_on(db.run(move |c| revoke(c, "id", "L2", t + 10))).expect("revoke id");
    assert_eq!(grant(ask("10.0.0.1", true, t)), Grant::Revoked, "every link of key k1");
    assert_eq!(grant(ask("10.0.0.1", false, t + 10)), Grant::Revoked, "HEAD too, to the last second");
    let other_key = |client: &str, now| Ask { kid: "k2".into(), ..ask(client, true, now) };
    assert_eq!(grant(other_key("10.0.0.1", t)), Grant::Opened(1));
    let l2 = |client: &str, now| Ask { id: "L2".into(), kid: "k2".into(), ..ask(client, true, now) };
    assert_eq!(grant(l2("10.0.0.1", t)), Grant::Revoked, "the id, under any key");
    // Over: the links are served again, and the count kept meanwhile.
    assert_eq!(grant(ask("10.0.0.2", true, t + 11)), Grant::Opened(2));
    assert_eq!(grant(l2("10.0.0.1", t + 11)), Grant::Opened(1));
}
