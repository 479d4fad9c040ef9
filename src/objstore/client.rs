//! The HTTP client of the object stores: a HEAD of a presigned URL, sent from a small runtime of
//! its own (one thread, started on the first HEAD) with hyper's pooled HTTP/1.1 client, and
//! waited for by the calling thread with a deadline.
//!
//! Why a runtime of its own: a store lookup is a plain blocking call (`Store::lookup` with
//! `Wait::Allowed`), made from a server task, a CGI process or `check`; none of them may start a
//! runtime inside theirs. The connection pool lives here, so warm HEADs reuse connections.
//!
//! Statuses (AWS S3 API reference, HeadObject): 200 → the object's `Content-Length`,
//! `Last-Modified` (RFC 9110 §8.8.2) and `ETag`; 404 → no such object; anything else (403: the
//! credentials may not read it, or lack `s3:ListBucket` and so see a missing key as 403) is a
//! fault. A timeout is `TimedOut` (504), an unreachable store `ConnectionRefused` (502).

use crate::guard::store::object::{ObjectMeta, StoreFault};
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::io;
use std::sync::OnceLock;
use std::time::Duration;

/// The runtime the HEADs run on, and hyper's pooled client.
type Started = (tokio::runtime::Handle, Client<HttpConnector, Empty<Bytes>>);

/// The shared client: its runtime and pool, started on first use.
#[derive(Debug, Default)]
pub(crate) struct HeadClient {
    started: OnceLock<Option<Started>>,
}

impl HeadClient {
    fn start() -> Option<Started> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
        let handle = rt.handle().clone();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("objstore".into())
            .spawn(move || {
                let _guard = rt.enter();
                let mut http = HttpConnector::new();
                http.set_nodelay(true);
                let client =
                    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(http);
                let _ = tx.send(client);
                rt.block_on(std::future::pending::<()>());
            })
            .ok()?;
        let client = rx.recv().ok()?;
        Some((handle, client))
    }

    /// HEAD `url` (presigned), waiting at most `timeout`: the status and headers.
    fn send(&self, url: &str, timeout: Duration) -> io::Result<(u16, hyper::HeaderMap)> {
        let Some((rt, client)) = self.started.get_or_init(HeadClient::start) else {
            return Err(StoreFault::error(io::ErrorKind::Other, "could not start the object-store client"));
        };
        let request = hyper::Request::head(url)
            .body(Empty::<Bytes>::new())
            .map_err(|e| StoreFault::error(io::ErrorKind::InvalidInput, format!("request: {e}")))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let client = client.clone();
        rt.spawn(async move {
            let answer = tokio::time::timeout(timeout, client.request(request)).await;
            let _ = tx.send(answer);
        });
        let timed_out = || StoreFault::error(io::ErrorKind::TimedOut, format!("no answer within {timeout:?}"));
        match rx.recv_timeout(timeout + Duration::from_millis(100)) {
            Ok(Ok(Ok(r))) => Ok((r.status().as_u16(), r.headers().clone())),
            Ok(Ok(Err(e))) => Err(StoreFault::error(io::ErrorKind::ConnectionRefused, format!("HEAD: {e}"))),
            Ok(Err(_)) | Err(_) => Err(timed_out()),
        }
    }

    /// The status of a HEAD of `url` (presigned), waiting at most `timeout` (`check`'s probe).
    pub(crate) fn status(&self, url: &str, timeout: Duration) -> io::Result<u16> {
        self.send(url, timeout).map(|(status, _)| status)
    }

    /// HEAD `url` (presigned) of an object, waiting at most `timeout`.
    pub(crate) fn head(&self, url: &str, timeout: Duration) -> io::Result<Option<ObjectMeta>> {
        let (status, headers) = self.send(url, timeout)?;
        match status {
            200 => {
                let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
                let len = text("content-length")
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| StoreFault::error(io::ErrorKind::InvalidData, "HEAD: no Content-Length"))?;
                let mtime = text("last-modified")
                    .and_then(|v| httpdate::parse_http_date(v).ok())
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
                Ok(Some(ObjectMeta { len, mtime, etag: text("etag").map(str::to_owned) }))
            }
            404 => Ok(None),
            403 => Err(StoreFault::error(
                io::ErrorKind::PermissionDenied,
                "HEAD: 403 (the credentials may not read this key, or lack s3:ListBucket)",
            )),
            other => Err(StoreFault::error(io::ErrorKind::Other, format!("HEAD: status {other}"))),
        }
    }
}
