//! The reply: a decision becomes the header block the configured web server needs (offload
//! header, naming, `Content-Disposition`, caching), or, for `serve`, the bytes and ranges to send.
//! Everything is written through [`sink::HeaderSink`]: CGI bytes or the HTTP listener's response.
//!
//! Invariant: no header value written here can contain CR or LF.
pub mod disposition;
pub(crate) mod object;
pub(crate) mod presentation;
pub mod response;
pub(crate) mod serve;
pub mod sink;
pub mod validators;
