//! FastCGI 1.0, the responder side, without I/O.
//!
//! Bytes from the web server go into [`Connection::feed`]; it returns how much it consumed and, when
//! a request is complete, an [`Event`]. Replies are appended to a caller-owned `Vec<u8>` so that a
//! whole response (STDOUT, the empty STDOUT that ends the stream, END_REQUEST) leaves in one write.
//! No tokio, no sockets: the server module moves the bytes, and tests drive this module in memory.
//!
//! What is implemented, with the spec sections (FastCGI Specification 1.0, Open Market, 1996):
//! - record framing, §3.3: 8-byte header, version 1, content ≤ 65535, padding ≤ 255 skipped;
//! - name-value pairs, §3.4: 1- or 4-byte lengths, parsed iteratively with checked arithmetic;
//! - management records, §4: FCGI_GET_VALUES answered truthfully (`FCGI_MPXS_CONNS=0`),
//!   FCGI_UNKNOWN_TYPE for any other management type;
//! - application records, §5: BEGIN_REQUEST (`FCGI_KEEP_CONN` honoured), ABORT_REQUEST,
//!   PARAMS, STDIN (drained up to a cap), END_REQUEST exactly once per request;
//! - one request per connection at a time: a second BEGIN_REQUEST is answered
//!   `FCGI_CANT_MPX_CONN` (§5.5), which is what every web server in scope expects;
//! - roles, §6: Responder, and Authorizer when enabled ([`Connection::accept_authorizer`]; the
//!   server enables it); Filter and unknown roles are answered `FCGI_UNKNOWN_ROLE`.
//!
//! Invariants: nothing is allocated from a length the peer declared before the bytes are there;
//! PARAMS is capped by bytes and by pair count; every malformed input is a [`ProtocolError`], never
//! a panic.

mod conn;
mod params;
mod record;

pub use conn::{Connection, Event, Feed, ProtocolError};
pub use params::{Pairs, ParamsError};
pub use record::{push_name_value, Role, HEADER_LEN, MAX_CONTENT_LEN};
