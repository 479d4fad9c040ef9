//! xsendfiled: a FastCGI responder and CGI program that guards file downloads and lets the web
//! server send the bytes.
//!
//! The modules follow a request down its path: [`protocol`] (bytes → request), [`guard`] (the
//! decision), [`reply`] (the header block), [`handler`] (decide → reply → access log), then the
//! shells and [`config`] / [`cmd`]. ARCHITECTURE.md in the repository walks the tree.
pub(crate) mod access_log;
pub mod cmd;
pub mod config;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod guard;
pub mod handler;
pub mod limits;
pub(crate) mod metrics;
pub(crate) mod objstore;
pub mod protocol;
pub mod reply;
pub(crate) mod server;
pub(crate) mod state;
pub(crate) mod sys;
