//! Bytes in, a [`request::Request`] out: the FastCGI 1.0 codec and the CGI/1.1 meta-variables
//! (RFC 3875 §4.1). No policy and no I/O: the shells feed bytes and write what comes back.
pub mod fcgi;
pub mod request;
