//! The reply side of a [`Connection`]: the CGI response framed as STDOUT records (FastCGI 1.0
//! §5.3), then the empty STDOUT that ends the stream and END_REQUEST (§5.5), exactly once per
//! request.
//!
//! Invariant: nothing is framed unless a request is waiting for its reply; a caller bug drops its
//! bytes instead of answering nobody.

use super::super::record::{
    push_end_request, push_record, Header, ProtocolStatus, RecordType, HEADER_LEN, MAX_CONTENT_LEN, VERSION_1,
};
use super::{Connection, Req};

impl Connection {
    /// Starts the reply to the request announced by [`super::Event::Request`]: appends a placeholder
    /// STDOUT header to `out` and returns its position. Append the CGI response (header block and
    /// body) to `out`, then call [`Connection::finish_response`].
    pub fn begin_response(&self, out: &mut Vec<u8>) -> usize {
        let mark = out.len();
        out.extend_from_slice(&[0; HEADER_LEN]);
        mark
    }

    /// Frames what was appended since `mark` as STDOUT, then appends the empty STDOUT record and
    /// END_REQUEST with `app_status`. Afterwards the connection is idle again, or marked for
    /// closing when the web server did not set `FCGI_KEEP_CONN`.
    pub fn finish_response(&mut self, out: &mut Vec<u8>, mark: usize, app_status: u32) {
        self.frame_stdout(out, mark);
        self.end_response(out, app_status);
    }

    /// Frames what was appended since `mark` (by [`Connection::begin_response`]) as STDOUT
    /// records, without ending the stream: more STDOUT may follow ([`Connection::stdout_header`]).
    pub(crate) fn frame_stdout(&self, out: &mut Vec<u8>, mark: usize) {
        let Req::Ready { id, .. } = self.req else {
            // No request is waiting: drop whatever the caller wrote rather than emit a reply to
            // nobody (a caller bug, kept harmless).
            out.truncate(mark);
            return;
        };
        let payload_len = out.len() - mark - HEADER_LEN;
        if payload_len == 0 {
            out.truncate(mark);
        } else if payload_len <= MAX_CONTENT_LEN {
            out[mark..mark + HEADER_LEN].copy_from_slice(&self.stdout_header(payload_len as u16));
        } else {
            let payload = out.split_off(mark + HEADER_LEN);
            out.truncate(mark);
            for chunk in payload.chunks(MAX_CONTENT_LEN) {
                push_record(out, RecordType::Stdout, id, chunk);
            }
        }
    }

    /// The header of a STDOUT record of `len` bytes for the request being answered, for callers
    /// that stream a body without copying it into `out`.
    pub(crate) fn stdout_header(&self, len: u16) -> [u8; HEADER_LEN] {
        let id = match self.req {
            Req::Ready { id, .. } => id,
            _ => 0,
        };
        Header {
            version: VERSION_1,
            kind: RecordType::Stdout as u8,
            request_id: id,
            content_length: len,
            padding_length: 0,
        }
        .encode()
    }

    /// Ends the reply: the empty STDOUT record and END_REQUEST (exactly once per request).
    pub(crate) fn end_response(&mut self, out: &mut Vec<u8>, app_status: u32) {
        let Req::Ready { id, keep } = self.req else {
            return;
        };
        push_record(out, RecordType::Stdout, id, &[]);
        push_end_request(out, id, app_status, ProtocolStatus::RequestComplete);
        self.req = Req::Idle;
        if !keep || self.close_after_reply {
            self.closed = true;
        }
    }
}
