//! Record framing (FastCGI 1.0 §3.3, §8) and the encoders for what a responder sends.

/// The only protocol version (FastCGI 1.0 §8: `FCGI_VERSION_1`).
pub(crate) const VERSION_1: u8 = 1;
/// Length of a record header.
pub const HEADER_LEN: usize = 8;
/// Largest content length a record can declare.
pub const MAX_CONTENT_LEN: usize = 65535;
/// `FCGI_KEEP_CONN` in the BEGIN_REQUEST flags (§5.1).
pub(crate) const FLAG_KEEP_CONN: u8 = 1;

/// Record types (§8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum RecordType {
    /// `FCGI_BEGIN_REQUEST`
    BeginRequest = 1,
    /// `FCGI_ABORT_REQUEST`
    AbortRequest = 2,
    /// `FCGI_END_REQUEST`
    EndRequest = 3,
    /// `FCGI_PARAMS`
    Params = 4,
    /// `FCGI_STDIN`
    Stdin = 5,
    /// `FCGI_STDOUT`
    Stdout = 6,
    /// `FCGI_DATA`
    Data = 8,
    /// `FCGI_GET_VALUES`
    GetValues = 9,
    /// `FCGI_GET_VALUES_RESULT`
    GetValuesResult = 10,
    /// `FCGI_UNKNOWN_TYPE`
    UnknownType = 11,
}

/// Roles (§6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `FCGI_RESPONDER` (1)
    Responder,
    /// `FCGI_AUTHORIZER` (2)
    Authorizer,
    /// `FCGI_FILTER` (3)
    Filter,
    /// Any other value.
    Unknown(u16),
}

impl Role {
    /// Maps the wire value.
    pub(crate) fn from_u16(v: u16) -> Role {
        match v {
            1 => Role::Responder,
            2 => Role::Authorizer,
            3 => Role::Filter,
            other => Role::Unknown(other),
        }
    }
}

/// `protocolStatus` of END_REQUEST (§5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum ProtocolStatus {
    /// `FCGI_REQUEST_COMPLETE`
    RequestComplete = 0,
    /// `FCGI_CANT_MPX_CONN`
    CantMpxConn = 1,
    /// `FCGI_UNKNOWN_ROLE`
    UnknownRole = 3,
}

/// A decoded record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Protocol version; must be [`VERSION_1`].
    pub(crate) version: u8,
    /// Record type (raw, since unknown types must be answered, not rejected).
    pub(crate) kind: u8,
    /// Request id; 0 for management records.
    pub(crate) request_id: u16,
    /// Bytes of content that follow the header.
    pub(crate) content_length: u16,
    /// Bytes of padding after the content.
    pub(crate) padding_length: u8,
}

impl Header {
    /// Decodes the 8 header bytes.
    pub(crate) fn parse(b: &[u8; HEADER_LEN]) -> Header {
        Header {
            version: b[0],
            kind: b[1],
            request_id: u16::from_be_bytes([b[2], b[3]]),
            content_length: u16::from_be_bytes([b[4], b[5]]),
            padding_length: b[6],
        }
    }

    /// Encodes the header (the reserved byte is zero).
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let id = self.request_id.to_be_bytes();
        let len = self.content_length.to_be_bytes();
        [self.version, self.kind, id[0], id[1], len[0], len[1], self.padding_length, 0]
    }
}

/// Appends one record with `content` (at most [`MAX_CONTENT_LEN`] bytes; longer content is cut,
/// so a longer stream is split by `Connection::frame_stdout`). No padding is added: it is optional (§3.3).
pub(crate) fn push_record(out: &mut Vec<u8>, kind: RecordType, request_id: u16, content: &[u8]) {
    let content = &content[..content.len().min(MAX_CONTENT_LEN)];
    let header = Header {
        version: VERSION_1,
        kind: kind as u8,
        request_id,
        content_length: content.len() as u16,
        padding_length: 0,
    };
    out.extend_from_slice(&header.encode());
    out.extend_from_slice(content);
}

/// Appends an END_REQUEST record (§5.5).
pub(crate) fn push_end_request(out: &mut Vec<u8>, request_id: u16, app_status: u32, status: ProtocolStatus) {
    let a = app_status.to_be_bytes();
    push_record(out, RecordType::EndRequest, request_id, &[a[0], a[1], a[2], a[3], status as u8, 0, 0, 0]);
}

/// Appends one name-value pair in the §3.4 encoding (used for GET_VALUES_RESULT).
pub fn push_name_value(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    for len in [name.len(), value.len()] {
        if len <= 127 {
            out.push(len as u8);
        } else {
            let l = (len as u32 & 0x7fff_ffff) | 0x8000_0000;
            out.extend_from_slice(&l.to_be_bytes());
        }
    }
    out.extend_from_slice(name);
    out.extend_from_slice(value);
}
