//! The HTTP client of the object stores: a HEAD of a presigned URL, sent from a small runtime of
//! its own (one thread, started on the first HEAD) with hyper's pooled HTTP/1.1 client, and
//! waited for by the calling thread with a deadline.
//!
//! Why a runtime of its own: a store lookup is a plain blocking call (`Store::lookup` with
//! `Wait::Allowed`), made from a server task, a CGI process or `check`; none of them may start a
//! runtime inside theirs. The connection pool lives here, so warm HEADs reuse connections.
//!
//! TLS (an `https://` endpoint, such as AWS's own): rustls with the *ring* provider, trusting the
//! system's CA store as `rustls-native-certs` reads it (`SSL_CERT_FILE` and `SSL_CERT_DIR`
//! override it), loaded once when the client starts; nothing is fetched. A certificate that store
//! does not vouch for fails the connection, which is a store fault (502) whose message says why.
//! An `http://` endpoint stays plain HTTP.
//!
//! Statuses (AWS S3 API reference, HeadObject): 200 → the object's `Content-Length`,
//! `Last-Modified` (RFC 9110 §8.8.2) and `ETag`; 404 → no such object; anything else (403: the
//! credentials may not read it, or lack `s3:ListBucket` and so see a missing key as 403) is a
//! fault. A timeout is `TimedOut` (504), an unreachable store `ConnectionRefused` (502).

use crate::guard::store::object::{ObjectMeta, StoreFault};
use bytes::Bytes;
use http_body_util::Empty;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::io;
use std::sync::OnceLock;
use std::time::Duration;

/// hyper's pooled client, over TLS for `https://` URLs.
pub(super) type Pooled = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The runtime the requests run on, and hyper's pooled client.
type Started = (tokio::runtime::Handle, Pooled);

/// The TLS settings of every connection to a store: the system's CA store, TLS 1.2 and 1.3.
fn tls_config() -> Option<rustls::ClientConfig> {
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        log::warn!("object store TLS: reading the system CA store: {e}");
    }
    let mut roots = rustls::RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        log::warn!("object store TLS: no CA certificate found (SSL_CERT_FILE, SSL_CERT_DIR or the system store): https endpoints will fail");
    }
    log::debug!("object store TLS: {added} CA certificates trusted, {ignored} unreadable");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions().ok()?;
    Some(config.with_root_certificates(roots).with_no_client_auth())
}

/// `e` and the errors beneath it, joined (hyper's own message, "client error (Connect)", hides
/// the reason: a refused connection, an untrusted certificate).
pub(super) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

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
                http.enforce_http(false);
                let client = tls_config().map(|tls| {
                    let https = hyper_rustls::HttpsConnectorBuilder::new()
                        .with_tls_config(tls)
                        .https_or_http()
                        .enable_http1()
                        .wrap_connector(http);
                    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(https)
                });
                let _ = tx.send(client);
                rt.block_on(std::future::pending::<()>());
            })
            .ok()?;
        let client = rx.recv().ok()??;
        Some((handle, client))
    }

    /// The runtime and the pooled client, started on first use.
    pub(super) fn started(&self) -> io::Result<(tokio::runtime::Handle, Pooled)> {
        match self.started.get_or_init(HeadClient::start) {
            Some((rt, client)) => Ok((rt.clone(), client.clone())),
            None => Err(StoreFault::error(io::ErrorKind::Other, "could not start the object-store client")),
        }
    }

    /// HEAD `url` (presigned), waiting at most `timeout`: the status and headers.
    fn send(&self, url: &str, timeout: Duration) -> io::Result<(u16, hyper::HeaderMap)> {
        let (rt, client) = self.started()?;
        let request = hyper::Request::head(url)
            .body(Empty::<Bytes>::new())
            .map_err(|e| StoreFault::error(io::ErrorKind::InvalidInput, format!("request: {e}")))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let answer = tokio::time::timeout(timeout, client.request(request)).await;
            let _ = tx.send(answer);
        });
        let timed_out = || StoreFault::error(io::ErrorKind::TimedOut, format!("no answer within {timeout:?}"));
        match rx.recv_timeout(timeout + Duration::from_millis(100)) {
            Ok(Ok(Ok(r))) => Ok((r.status().as_u16(), r.headers().clone())),
            Ok(Ok(Err(e))) => Err(StoreFault::error(io::ErrorKind::ConnectionRefused, format!("HEAD: {}", chain(&e)))),
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
