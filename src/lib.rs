//! xsendfiled: a FastCGI responder and CGI program that guards file downloads and lets the web
//! server send the bytes.
pub mod access_log;
pub mod cmd;
pub mod config;
#[doc(hidden)]
pub mod fuzzing;
pub mod guard;
pub mod handler;
pub mod limits;
pub mod protocol;
pub mod reply;
pub mod server;
pub mod sys;
