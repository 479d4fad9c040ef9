//! The Redis (or Valkey) state store, shared by several nodes.
//!
//! Keys (prefix `xsendfiled:`):
//! - `n:{id}`: uses opened so far, expiring one second after the link: a relative TTL the node
//!   computes from its own clock (`EXPIRE`, never shortened), so a node whose clock is behind the
//!   server's does not see the counter vanish before the link expires for it;
//! - `g:{id}:{client}`: the use open for a client address, expiring with the grant window (`EX`);
//! - `revoked`: a sorted set of `id:{id}` and `kid:{kid}` scored by when each revocation ends;
//!   ended ones are removed whenever a revocation is added.
//!
//! A grant is one Lua script ([`GRANT`]), run atomically by the server (EVALSHA, loaded again after
//! a restart of the server), so nodes never both open the last use. One multiplexed connection
//! ([`redis::aio::ConnectionManager`]) serves every request and reconnects by itself; every call
//! is bounded by the caller's timeout (`--state-timeout`), and the connection's own timeouts are
//! shorter still.

use crate::guard::token::limit::{Ask, Grant, Revoked};
use redis::aio::ConnectionManager;
use std::sync::OnceLock;
use std::time::Duration;

/// Revoked? → {-2}; an open use for this client → {1, n}; all spent → {-1}; HEAD → {0}; else the
/// next use is opened → {2, n}. KEYS: counter, grant, revoked set. ARGV: id member, kid member,
/// uses, window, the counter's TTL (seconds, from the node's clock), now, open (1 or 0). The
/// counter's TTL is only ever lengthened, also by a spent ask (a later link of the same id).
const GRANT: &str = r"
local now = tonumber(ARGV[6])
for i = 1, 2 do
  local ends = redis.call('ZSCORE', KEYS[3], ARGV[i])
  if ends and tonumber(ends) >= now then return {-2, 0} end
end
local open = redis.call('GET', KEYS[2])
if open then return {1, tonumber(open)} end
local ttl = tonumber(ARGV[5])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[3]) then
  if used > 0 and redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
  return {-1, 0}
end
if ARGV[7] ~= '1' then return {0, 0} end
used = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
redis.call('SET', KEYS[2], used, 'EX', tonumber(ARGV[4]))
return {2, used}
";

const REVOKED: &str = "xsendfiled:revoked";

/// The grant a reply of [`GRANT`] means: only its documented codes; anything else (another script
/// under the same SHA, a changed script) is an error, so the link is refused (503).
fn grant_of(code: i64, n: u32) -> redis::RedisResult<Grant> {
    match code {
        -2 => Ok(Grant::Revoked),
        -1 => Ok(Grant::Spent),
        0 => Ok(Grant::Looked),
        1 => Ok(Grant::Same(n)),
        2 => Ok(Grant::Opened(n)),
        _ => Err(redis::RedisError::from((
            redis::ErrorKind::UnexpectedReturnType,
            "unexpected reply of the grant script",
            format!("code {code}"),
        ))),
    }
}

/// How long the counter of `ask`'s link is kept: until one second after the link expires, by
/// the node's clock (at least 1 s), whatever the server's clock says.
fn counter_ttl(ask: &Ask) -> u64 {
    (ask.expires + 1).saturating_sub(ask.now).max(1)
}

/// A Redis store: the client, and the connection made on first use.
pub(crate) struct Redis {
    /// The URL without credentials ([`super::redacted`]): the raw one lives only in `client`.
    url: String,
    /// The connection's own timeouts, shorter than the caller's.
    timeout: Duration,
    client: redis::Client,
    conn: OnceLock<ConnectionManager>,
    script: redis::Script,
}

impl Redis {
    /// A store for `url` (`redis://HOST:PORT[/DB]`); nothing is connected yet.
    pub(crate) fn new(url: &str, timeout: Duration) -> redis::RedisResult<Redis> {
        let client = redis::Client::open(url)?;
        Ok(Redis {
            url: super::redacted(url),
            timeout: timeout * 3 / 4,
            client,
            conn: OnceLock::new(),
            script: redis::Script::new(GRANT),
        })
    }

    /// The URL without credentials, for messages.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The shared connection (made lazily, on the runtime that first asks).
    fn conn(&self) -> redis::RedisResult<ConnectionManager> {
        if let Some(c) = self.conn.get() {
            return Ok(c.clone());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(100));
        let made = ConnectionManager::new_lazy_with_config(self.client.clone(), config)?;
        Ok(self.conn.get_or_init(|| made).clone())
    }

    /// Answers `ask` with the grant script.
    pub(crate) async fn grant(&self, ask: &Ask) -> redis::RedisResult<Grant> {
        let mut conn = self.conn()?;
        let (code, n): (i64, u32) = self
            .script
            .key(format!("xsendfiled:n:{}", ask.id))
            .key(format!("xsendfiled:g:{}:{}", ask.id, ask.client))
            .key(REVOKED)
            .arg(format!("id:{}", ask.id))
            .arg(format!("kid:{}", ask.kid))
            .arg(ask.uses)
            .arg(ask.window.max(1))
            .arg(counter_ttl(ask))
            .arg(ask.now)
            .arg(u8::from(ask.open))
            .invoke_async(&mut conn)
            .await?;
        grant_of(code, n)
    }

    /// The revocations in force at `now`.
    pub(crate) async fn revoked(&self, now: u64) -> redis::RedisResult<Revoked> {
        let mut conn = self.conn()?;
        let members: Vec<String> =
            redis::cmd("ZRANGEBYSCORE").arg(REVOKED).arg(now).arg("+inf").query_async(&mut conn).await?;
        let mut list = Revoked::default();
        for m in members {
            match m.split_once(':') {
                Some(("kid", k)) => list.kids.insert(k.to_owned()),
                Some(("id", i)) => list.ids.insert(i.to_owned()),
                _ => false,
            };
        }
        Ok(list)
    }

    /// Records a revocation until `until` (keeping a later one), dropping ended ones.
    pub(crate) async fn revoke(&self, what: &super::Revocation, until: u64) -> redis::RedisResult<()> {
        let mut conn = self.conn()?;
        let member = format!("{}:{}", what.kind(), what.name());
        let now = super::now();
        redis::pipe()
            .atomic()
            .cmd("ZADD")
            .arg(REVOKED)
            .arg("GT")
            .arg(until)
            .arg(&member)
            .ignore()
            .cmd("ZADD")
            .arg(REVOKED)
            .arg("NX")
            .arg(until)
            .arg(&member)
            .ignore()
            .cmd("ZREMRANGEBYSCORE")
            .arg(REVOKED)
            .arg("-inf")
            .arg(format!("({now}"))
            .ignore()
            .query_async::<()>(&mut conn)
            .await
    }
}

#[cfg(test)]
#[path = "redis_tests.rs"]
mod tests;
