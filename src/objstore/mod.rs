//! Shell side of the object stores: one [`Bucket`] per `--root s3://BUCKET[/PREFIX]`, which signs
//! (SigV4 query signing, AWS S3 "Authenticating Requests: Using Query Parameters") and sends the
//! HEADs the guard's object root asks for, and presigns the GETs the reply hands the web server.
//!
//! The guard sees a bucket only as `guard::store::object::ObjectStore`; this module is what does
//! the network I/O (`client.rs`), and the configuration builds it (`config/object.rs`). Signing is
//! `rusty-s3` (sans-IO SigV4); credentials are read by `credentials.rs`.
//!
//! Invariants: a credential never reaches a log, an error or `check`'s output (`describe` names
//! the endpoint and bucket only); a presigned URL is valid for `presign` from the moment it is made
//! and for one method.

mod client;
pub(crate) mod credentials;
pub(crate) mod get;

use crate::guard::store::object::{ObjectMeta, ObjectStore};
use rusty_s3::actions::{GetObject, HeadBucket, HeadObject, S3Action};
use rusty_s3::{Credentials, UrlStyle};
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// How long the presigned URL of a HEAD is valid (it is used at once).
const HEAD_SIGNATURE: Duration = Duration::from_secs(60);

/// One bucket of one endpoint, with the credentials to sign for it.
pub(crate) struct Bucket {
    bucket: rusty_s3::Bucket,
    credentials: Credentials,
    presign: Duration,
    timeout: Duration,
    client: Arc<client::HeadClient>,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// What a bucket needs besides its name.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// `http[s]://host[:port]` (by default the AWS endpoint of the region, over TLS).
    pub(crate) url: String,
    /// The signing region.
    pub(crate) region: String,
    /// Path-style addressing.
    pub(crate) path_style: bool,
    /// Lifetime of the presigned GETs.
    pub(crate) presign: Duration,
    /// Deadline of a HEAD.
    pub(crate) timeout: Duration,
}

/// The client every bucket shares (one runtime thread, one pool).
pub(crate) fn shared_client() -> Arc<client::HeadClient> {
    static CLIENT: std::sync::OnceLock<Arc<client::HeadClient>> = std::sync::OnceLock::new();
    CLIENT.get_or_init(Arc::default).clone()
}

impl Bucket {
    /// `name` at `endpoint`, signing with `credentials`.
    ///
    /// # Errors
    /// An endpoint that is not an `http://` or `https://` URL with a host.
    pub(crate) fn new(endpoint: &Endpoint, name: &str, credentials: Credentials) -> Result<Bucket, String> {
        let url: url::Url = endpoint.url.parse().map_err(|e| format!("not a URL ({e})"))?;
        let style = if endpoint.path_style { UrlStyle::Path } else { UrlStyle::VirtualHost };
        let bucket = rusty_s3::Bucket::new(url, style, name.to_owned(), endpoint.region.clone())
            .map_err(|e| format!("{e:?}: expected http[s]://HOST[:PORT]"))?;
        Ok(Bucket {
            bucket,
            credentials,
            presign: endpoint.presign,
            timeout: endpoint.timeout,
            client: shared_client(),
        })
    }
}

impl ObjectStore for Bucket {
    fn head(&self, key: &str) -> io::Result<Option<ObjectMeta>> {
        let url = HeadObject::new(&self.bucket, Some(&self.credentials), key).sign(HEAD_SIGNATURE);
        self.client.head(url.as_str(), self.timeout)
    }

    fn presign(&self, method: &str, key: &str, overrides: &[(&str, &str)]) -> String {
        let url = match method {
            "HEAD" => {
                let mut head = HeadObject::new(&self.bucket, Some(&self.credentials), key);
                overrides.iter().for_each(|(k, v)| head.query_mut().insert(*k, *v));
                head.sign(self.presign)
            }
            _ => {
                let mut get = GetObject::new(&self.bucket, Some(&self.credentials), key);
                overrides.iter().for_each(|(k, v)| get.query_mut().insert(*k, *v));
                get.sign(self.presign)
            }
        };
        url.into()
    }

    fn probe(&self) -> io::Result<()> {
        let url = HeadBucket::new(&self.bucket, Some(&self.credentials)).sign(HEAD_SIGNATURE);
        match self.client.status(url.as_str(), self.timeout)? {
            200 => Ok(()),
            403 => Err(io::Error::other("HEAD bucket: 403, the credentials are refused or may not read it")),
            404 => Err(io::Error::other("HEAD bucket: 404, no such bucket")),
            other => Err(io::Error::other(format!("HEAD bucket: status {other}"))),
        }
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn describe(&self) -> String {
        format!("{} (bucket {})", self.bucket.base_url(), self.bucket.name())
    }
}
