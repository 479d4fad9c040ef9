//! xsendfiled: a FastCGI responder and CGI program that guards file downloads and lets the web
//! server send the bytes.
pub(crate) mod access_log;
pub mod cmd;
pub mod config;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod guard;
pub mod handler;
pub mod limits;
pub mod protocol;
pub mod reply;
pub(crate) mod server;
pub(crate) mod sys;
