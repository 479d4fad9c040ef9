//! Bytes in, a [`request::Request`] out: FastCGI 1.0 records and CGI/1.1 meta-variables.
pub mod fcgi;
pub mod request;
