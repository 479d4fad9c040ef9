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

#[test]
fn uses_are_counted_per_client_and_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Sqlite::open(&dir.path().join("state.db"), Duration::from_secs(1)).expect("open");
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
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
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Sqlite::open(&dir.path().join("state.db"), Duration::from_secs(1)).expect("open");
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
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
