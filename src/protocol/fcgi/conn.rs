//! The per-connection state machine: records in, events and management replies out; the reply to
//! a request is framed by [`stdout`].
//!
//! Invariants: every limit is checked against a record's declared length before a byte of its
//! content is stored; one request at a time; while a request waits for its reply nothing more is
//! consumed.

use super::params::Pairs;
use super::record::{
    push_end_request, push_name_value, push_record, Header, ProtocolStatus, RecordType, Role, FLAG_KEEP_CONN,
    HEADER_LEN, MAX_CONTENT_LEN, VERSION_1,
};
use crate::limits::{Limits, MAX_MANAGEMENT_RECORD_BYTES};
use thiserror::Error;

mod stdout;

/// A fault in what the peer sent. The connection that produced it is closed; others are unaffected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ProtocolError {
    /// The record header carries a version other than 1.
    #[error("unsupported FastCGI version {0}")]
    UnsupportedVersion(u8),
    /// BEGIN_REQUEST content is not the 8 bytes §5.1 defines.
    #[error("BEGIN_REQUEST with {0} content bytes instead of 8")]
    BadBeginRequest(u16),
    /// A second BEGIN_REQUEST reuses the id of the request in progress.
    #[error("BEGIN_REQUEST for request id {0}, which is already active")]
    DuplicateRequestId(u16),
    /// The PARAMS stream grew past the configured byte limit.
    #[error("params exceed the byte limit")]
    ParamsTooLarge,
    /// The PARAMS stream holds more pairs than the configured limit.
    #[error("params exceed the pair-count limit")]
    TooManyParams,
    /// A name-value length runs past the end of the PARAMS stream.
    #[error("malformed name-value pair in params")]
    MalformedParams,
    /// A record type a web server never sends to an application.
    #[error("unexpected record type {0} from the web server")]
    UnexpectedRecord(u8),
    /// STDIN arrived before the PARAMS stream was closed, or PARAMS after it was.
    #[error("record out of order for the active request")]
    OutOfOrder,
    /// A management record larger than we are willing to buffer.
    #[error("management record of {0} bytes exceeds the limit")]
    ManagementRecordTooLarge(u16),
}

/// What [`Connection::feed`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A request is complete. Read it with [`Connection::params`], then answer it with
    /// [`Connection::begin_response`] / [`Connection::finish_response`] before feeding more.
    Request {
        /// The request id to answer on.
        id: u16,
        /// The role from BEGIN_REQUEST.
        role: Role,
    },
    /// The connection must be closed once any pending output is written.
    Close,
}

/// Result of one [`Connection::feed`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feed {
    /// Bytes of the input that were consumed; feed the rest again after handling `event`.
    pub consumed: usize,
    /// What happened, if anything the caller must act on.
    pub event: Option<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    Buffer,
    Params,
    Stdin,
    Discard,
}

#[derive(Debug, Clone, Copy)]
enum Rec {
    Header { have: usize, bytes: [u8; HEADER_LEN] },
    Body { hdr: Header, content_left: usize, padding_left: usize, sink: Sink },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Req {
    Idle,
    Params { id: u16, keep: bool, role: Role },
    Stdin { id: u16, keep: bool, role: Role, seen: u64 },
    Ready { id: u16, keep: bool },
}

/// One FastCGI connection, from the application's side.
#[derive(Debug)]
pub struct Connection {
    limits: Limits,
    authorizer: bool,
    rec: Rec,
    req: Req,
    buf: Vec<u8>,
    params: Vec<u8>,
    close_after_reply: bool,
    closed: bool,
}

impl Connection {
    /// A new connection that accepts the Responder role only.
    pub fn new(limits: Limits) -> Connection {
        Connection {
            limits,
            authorizer: false,
            rec: Rec::Header { have: 0, bytes: [0; HEADER_LEN] },
            req: Req::Idle,
            buf: Vec::new(),
            params: Vec::new(),
            close_after_reply: false,
            closed: false,
        }
    }

    /// Also accept the Authorizer role (§6.3); its requests are ready when PARAMS ends.
    pub fn accept_authorizer(mut self, yes: bool) -> Connection {
        self.authorizer = yes;
        self
    }

    /// Makes this a new connection again (same limits and roles), keeping the buffers' capacity:
    /// for a caller that serves many short connections with one value.
    pub fn reset(&mut self) {
        let mut buf = std::mem::take(&mut self.buf);
        let mut params = std::mem::take(&mut self.params);
        buf.clear();
        params.clear();
        *self = Connection { buf, params, ..Connection::new(self.limits).accept_authorizer(self.authorizer) };
    }

    /// True when no request is in progress and no partial record has been read: the state in
    /// which the idle timeout, not the request timeout, applies.
    pub fn is_idle(&self) -> bool {
        self.req == Req::Idle && matches!(self.rec, Rec::Header { have: 0, .. })
    }

    /// True from a complete BEGIN_REQUEST until its reply is ended: a request is in progress.
    /// Management records, and a record still arriving outside a request, are not one.
    pub fn in_request(&self) -> bool {
        self.req != Req::Idle
    }

    /// True once the connection must be closed (after writing any pending output).
    pub fn should_close(&self) -> bool {
        self.closed
    }

    /// The raw PARAMS stream of the request announced by [`Event::Request`]; decode it with
    /// [`Pairs`]. It was checked to be well formed and within the limits.
    pub fn params(&self) -> &[u8] {
        &self.params
    }

    /// Consumes bytes from the peer. Management replies (GET_VALUES_RESULT, UNKNOWN_TYPE,
    /// END_REQUEST for refused or aborted requests) are appended to `out`.
    ///
    /// Stops early at an event. While a request waits for its reply, and after the connection
    /// was marked for closing, nothing is consumed.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Feed, ProtocolError> {
        let mut pos = 0;
        if self.closed || matches!(self.req, Req::Ready { .. }) {
            return Ok(Feed { consumed: 0, event: None });
        }
        loop {
            if let Rec::Body { hdr, content_left: 0, padding_left: 0, sink } = self.rec {
                self.rec = Rec::Header { have: 0, bytes: [0; HEADER_LEN] };
                if let Some(event) = self.complete(hdr, sink, out)? {
                    return Ok(Feed { consumed: pos, event: Some(event) });
                }
                continue;
            }
            if pos == input.len() {
                return Ok(Feed { consumed: pos, event: None });
            }
            match &mut self.rec {
                Rec::Header { have, bytes } => {
                    let take = (HEADER_LEN - *have).min(input.len() - pos);
                    bytes[*have..*have + take].copy_from_slice(&input[pos..pos + take]);
                    *have += take;
                    pos += take;
                    if *have == HEADER_LEN {
                        let hdr = Header::parse(bytes);
                        if let Some(event) = self.start_record(hdr)? {
                            return Ok(Feed { consumed: pos, event: Some(event) });
                        }
                    }
                }
                Rec::Body { content_left, padding_left, sink, .. } => {
                    if *content_left > 0 {
                        let take = (*content_left).min(input.len() - pos);
                        let chunk = &input[pos..pos + take];
                        match sink {
                            Sink::Buffer => self.buf.extend_from_slice(chunk),
                            Sink::Params => self.params.extend_from_slice(chunk),
                            Sink::Stdin | Sink::Discard => {}
                        }
                        *content_left -= take;
                        pos += take;
                    } else {
                        let take = (*padding_left).min(input.len() - pos);
                        *padding_left -= take;
                        pos += take;
                    }
                }
            }
        }
    }

    /// Chooses where a record's content goes, checking every limit against the declared length
    /// before a byte of content is stored. Returns an event when the request must be answered
    /// at once (STDIN over its cap).
    fn start_record(&mut self, hdr: Header) -> Result<Option<Event>, ProtocolError> {
        if hdr.version != VERSION_1 {
            return Err(ProtocolError::UnsupportedVersion(hdr.version));
        }
        let len = usize::from(hdr.content_length);
        let sink = if hdr.request_id == 0 {
            if hdr.kind == RecordType::GetValues as u8 {
                if len > MAX_MANAGEMENT_RECORD_BYTES {
                    return Err(ProtocolError::ManagementRecordTooLarge(hdr.content_length));
                }
                self.buf.clear();
                Sink::Buffer
            } else {
                Sink::Discard
            }
        } else {
            match hdr.kind {
                k if k == RecordType::BeginRequest as u8 => {
                    if len != 8 {
                        return Err(ProtocolError::BadBeginRequest(hdr.content_length));
                    }
                    self.buf.clear();
                    Sink::Buffer
                }
                k if k == RecordType::Params as u8 => match self.req {
                    Req::Params { id, .. } if id == hdr.request_id => {
                        if self.params.len().saturating_add(len) > self.limits.max_params_bytes {
                            return Err(ProtocolError::ParamsTooLarge);
                        }
                        Sink::Params
                    }
                    Req::Stdin { id, .. } if id == hdr.request_id => return Err(ProtocolError::OutOfOrder),
                    _ => Sink::Discard,
                },
                k if k == RecordType::Stdin as u8 => match self.req {
                    Req::Stdin { id, keep, seen, .. } if id == hdr.request_id => {
                        let total = seen.saturating_add(len as u64);
                        if total > self.limits.max_stdin_bytes {
                            // The body is never needed to decide; answer now and close, since the
                            // rest of the body cannot be drained within the cap.
                            self.close_after_reply = true;
                            self.req = Req::Ready { id, keep };
                            return Ok(Some(Event::Request { id, role: Role::Responder }));
                        }
                        if let Req::Stdin { seen, .. } = &mut self.req {
                            *seen = total;
                        }
                        Sink::Stdin
                    }
                    Req::Params { id, .. } if id == hdr.request_id => return Err(ProtocolError::OutOfOrder),
                    _ => Sink::Discard,
                },
                k if k == RecordType::AbortRequest as u8 || k == RecordType::Data as u8 => Sink::Discard,
                k if k <= RecordType::UnknownType as u8 => return Err(ProtocolError::UnexpectedRecord(k)),
                _ => Sink::Discard,
            }
        };
        self.rec = Rec::Body { hdr, content_left: len, padding_left: usize::from(hdr.padding_length), sink };
        Ok(None)
    }

    /// Acts on a fully received record.
    fn complete(&mut self, hdr: Header, sink: Sink, out: &mut Vec<u8>) -> Result<Option<Event>, ProtocolError> {
        if hdr.request_id == 0 {
            if hdr.kind == RecordType::GetValues as u8 {
                self.answer_get_values(out)?;
            } else {
                push_record(out, RecordType::UnknownType, 0, &[hdr.kind, 0, 0, 0, 0, 0, 0, 0]);
            }
            return Ok(None);
        }
        let id = hdr.request_id;
        match hdr.kind {
            k if k == RecordType::BeginRequest as u8 => self.begin_request(id, out),
            k if k == RecordType::AbortRequest as u8 => match self.req {
                Req::Params { id: active, keep, .. } | Req::Stdin { id: active, keep, .. } if active == id => {
                    push_end_request(out, id, 0, ProtocolStatus::RequestComplete);
                    self.req = Req::Idle;
                    if !keep {
                        self.closed = true;
                        return Ok(Some(Event::Close));
                    }
                    Ok(None)
                }
                _ => Ok(None),
            },
            k if k == RecordType::Params as u8 && sink == Sink::Params && hdr.content_length == 0 => {
                let Req::Params { id, keep, role } = self.req else {
                    return Ok(None);
                };
                let mut count = 0usize;
                for pair in Pairs::new(&self.params) {
                    pair.map_err(|_| ProtocolError::MalformedParams)?;
                    count += 1;
                    if count > self.limits.max_params_count {
                        return Err(ProtocolError::TooManyParams);
                    }
                }
                if role == Role::Authorizer {
                    self.req = Req::Ready { id, keep };
                    return Ok(Some(Event::Request { id, role }));
                }
                self.req = Req::Stdin { id, keep, role, seen: 0 };
                Ok(None)
            }
            k if k == RecordType::Stdin as u8 && sink == Sink::Stdin && hdr.content_length == 0 => {
                let Req::Stdin { id, keep, role, .. } = self.req else {
                    return Ok(None);
                };
                self.req = Req::Ready { id, keep };
                Ok(Some(Event::Request { id, role }))
            }
            _ => Ok(None),
        }
    }

    /// BEGIN_REQUEST (§5.1): starts a request, or answers `FCGI_CANT_MPX_CONN` while one is in
    /// progress and `FCGI_UNKNOWN_ROLE` for a role not accepted. A duplicate id is an error.
    fn begin_request(&mut self, id: u16, out: &mut Vec<u8>) -> Result<Option<Event>, ProtocolError> {
        let role = Role::from_u16(u16::from_be_bytes([self.buf[0], self.buf[1]]));
        let keep = self.buf[2] & FLAG_KEEP_CONN != 0;
        match self.req {
            Req::Idle => {}
            Req::Params { id: active, .. } | Req::Stdin { id: active, .. } | Req::Ready { id: active, .. } => {
                if active == id {
                    return Err(ProtocolError::DuplicateRequestId(id));
                }
                push_end_request(out, id, 0, ProtocolStatus::CantMpxConn);
                return Ok(None);
            }
        }
        let accepted = role == Role::Responder || (role == Role::Authorizer && self.authorizer);
        if !accepted {
            push_end_request(out, id, 0, ProtocolStatus::UnknownRole);
            if !keep {
                self.closed = true;
                return Ok(Some(Event::Close));
            }
            return Ok(None);
        }
        self.params.clear();
        self.close_after_reply = false;
        self.req = Req::Params { id, keep, role };
        Ok(None)
    }

    fn answer_get_values(&mut self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        let max_conns = self.limits.max_connections.to_string();
        let mut content = Vec::new();
        for pair in Pairs::new(&self.buf) {
            let (name, _) = pair.map_err(|_| ProtocolError::MalformedParams)?;
            let value: &[u8] = match name {
                b"FCGI_MAX_CONNS" | b"FCGI_MAX_REQS" => max_conns.as_bytes(),
                b"FCGI_MPXS_CONNS" => b"0",
                _ => continue,
            };
            push_name_value(&mut content, name, value);
        }
        if content.len() > MAX_CONTENT_LEN {
            return Err(ProtocolError::ManagementRecordTooLarge(u16::MAX));
        }
        push_record(out, RecordType::GetValuesResult, 0, &content);
        Ok(())
    }
}
