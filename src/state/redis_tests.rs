//! The grant script against a private `redis-server` (skipped where there is none).

use super::*;
use std::process::{Child, Command, Stdio};

/// A `redis-server` on a free port of 127.0.0.1, stopped (by its own pid) when dropped.
struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server() -> Option<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    let s = Server(child, port);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn ask(id: &str, client: &str, now: u64, expires: u64) -> Ask {
    Ask {
        id: id.to_owned(),
        kid: "k1".to_owned(),
        uses: 1,
        window: 1,
        expires,
        client: client.to_owned(),
        open: true,
        now,
    }
}

#[test]
fn only_the_documented_codes_are_grants() {
    assert_eq!(grant_of(-2, 0).ok(), Some(Grant::Revoked));
    assert_eq!(grant_of(-1, 0).ok(), Some(Grant::Spent));
    assert_eq!(grant_of(0, 0).ok(), Some(Grant::Looked));
    assert_eq!(grant_of(1, 3).ok(), Some(Grant::Same(3)));
    assert_eq!(grant_of(2, 4).ok(), Some(Grant::Opened(4)));
    for code in [-3, 3, 7, i64::MAX] {
        assert!(grant_of(code, 1).is_err(), "code {code}");
    }
}

#[test]
fn the_counter_ttl_is_relative_to_the_node_clock() {
    assert_eq!(counter_ttl(&ask("a", "c", 1000, 1010)), 11);
    assert_eq!(counter_ttl(&ask("a", "c", 1000, 1000)), 1);
    assert_eq!(counter_ttl(&ask("a", "c", 1000, 900)), 1);
}

#[test]
fn a_node_whose_clock_is_behind_the_servers_still_counts_uses() {
    let Some(s) = server() else { return };
    let store = Redis::new(&format!("redis://127.0.0.1:{}/0", s.1), Duration::from_secs(2)).expect("client");
    let rt = crate::state::one_shot_runtime().expect("runtime");
    // The node's clock is 30 s behind the server's; the link expires 5 s from the node's now, so
    // 25 s ago by the server's clock.
    let now = crate::state::now() - 30;
    rt.block_on(async {
        assert_eq!(store.grant(&ask("skew", "10.0.0.1", now, now + 5)).await.expect("grant"), Grant::Opened(1));
        let mut conn = store.conn().expect("conn");
        let ttl: i64 = redis::cmd("TTL").arg("xsendfiled:n:skew").query_async(&mut conn).await.expect("TTL");
        assert!((5..=6).contains(&ttl), "the counter lives until the link expires for the node: ttl {ttl}");
        assert_eq!(store.grant(&ask("skew", "10.0.0.2", now, now + 5)).await.expect("grant"), Grant::Spent);
        // A later use, asked when less of the link's life is left, never shortens the TTL.
        let two = |client: &str, now| Ask { uses: 2, ..ask("keep", client, now, now + 60) };
        assert_eq!(store.grant(&two("10.0.0.1", now)).await.expect("grant"), Grant::Opened(1));
        let mut later = two("10.0.0.2", now + 50);
        later.expires = now + 60;
        assert_eq!(store.grant(&later).await.expect("grant"), Grant::Opened(2));
        let ttl: i64 = redis::cmd("TTL").arg("xsendfiled:n:keep").query_async(&mut conn).await.expect("TTL");
        assert!(ttl > 50, "the longer TTL is kept: ttl {ttl}");
        // A spent ask with a later expiry (another link of the same id) lengthens it.
        let spent = Ask { expires: now + 500, ..two("10.0.0.3", now + 50) };
        assert_eq!(store.grant(&spent).await.expect("grant"), Grant::Spent);
        let ttl: i64 = redis::cmd("TTL").arg("xsendfiled:n:keep").query_async(&mut conn).await.expect("TTL");
        assert!(ttl > 440, "lengthened by the spent ask: ttl {ttl}");
    });
}
