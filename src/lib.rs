//! xsendfiled: a FastCGI responder and CGI program that guards file downloads and lets the web
//! server send the bytes.
//!
//! # Architecture
//!
//! Bytes come in through a transport, become one [`request::Request`], a decision is made, and the
//! response goes back out:
//!
//! - [`fcgi`]: FastCGI 1.0 records, sans-IO (bytes in, events and reply bytes out);
//! - [`cgi`]: CGI/1.1 (RFC 3875): the environment in, stdout out;
//! - [`request`]: the transport-neutral view of the meta-variables we read;
//! - [`path`]: string checks that turn the request path into a safe relative path;
//! - [`map`]: redirect maps, file-system prefix → internal URI prefix;
//! - [`resolve`]: confinement under the canonical root (`openat2`), regular files only;
//! - [`decide`]: the decision, a value: send this file, or refuse with this status and reason;
//! - [`presentation`]: Content-Disposition, caching and rate headers, with their trusted overrides;
//! - [`response`]: the decision as a CGI header block for the configured web server;
//! - [`serve`]: the `serve` backend: ranges and conditional requests when xsendfiled sends the bytes;
//! - [`access_log`]: one JSON line per decision;
//! - [`service`]: decide + render + log, shared by both transports;
//! - [`server`]: the tokio shell: listeners, connections, timeouts, signals;
//! - [`check`]: `xsendfiled check`, the configuration validated and decisions explained;
//! - [`cli`] and [`config`]: options parsed by clap, validated once into a [`config::Config`];
//! - [`validators`]: `ETag` and `Last-Modified` for a file;
//! - [`token`]: signed, expiring links (SDL1) and the key ring;
//! - [`disposition`]: `Content-Disposition` with RFC 8187 names;
//! - [`sys`]: the one audited module of system calls the standard library lacks.

pub mod access_log;
pub mod cgi;
pub mod check;
pub mod cli;
pub mod config;
pub mod decide;
pub mod disposition;
pub mod fcgi;
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
pub mod map;
pub mod path;
pub mod percent;
pub mod presentation;
pub mod request;
pub mod resolve;
pub mod response;
pub mod serve;
pub mod server;
pub mod service;
pub mod sys;
pub mod token;
pub mod validators;
