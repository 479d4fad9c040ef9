//! The one header writer: every reply — offload, refusal, authorizer answer, `serve` — is written
//! through a [`HeaderSink`], so the header block exists in one shape whatever carries it.
//!
//! - `Vec<u8>` is the CGI response of RFC 3875 §6 (`Status: NNN reason`, `Name: value` lines, an
//!   empty line, the body), sent as-is on CGI stdout and framed as FastCGI STDOUT. Values are
//!   built in place in the output buffer, so the FastCGI offload path allocates nothing.
//! - The HTTP listener implements it on hyper's status and header map (`server/http.rs`): no CGI
//!   text is rendered and parsed back.
//! - [`Discard`] runs a writer for its side effects (warnings about ignored parameters) only.
//!
//! Invariant: callers write the status first (or not at all: 200), then the fields, then
//! [`HeaderSink::finish`] exactly once; no name or value holds CR or LF.

/// Where the reply's status, header fields and body go.
pub trait HeaderSink {
    /// The status code and reason phrase (the CGI `Status` field, RFC 3875 §6.3.3). Without it
    /// the status is 200.
    fn status(&mut self, code: u16, reason: &str);

    /// One header field whose value `value` appends to the buffer it is given.
    fn header_with(&mut self, name: &str, value: impl FnOnce(&mut Vec<u8>));

    /// Ends the header block; `body` follows it.
    fn finish(&mut self, body: &[u8]);

    /// One header field with a ready value.
    fn header(&mut self, name: &str, value: &[u8]) {
        self.header_with(name, |v| v.extend_from_slice(value));
    }

    /// One header field whose value is a decimal number (formatted without allocating).
    fn header_number(&mut self, name: &str, n: u64) {
        self.header_with(name, |v| push_decimal(v, n));
    }
}

/// The CGI response bytes (RFC 3875 §6.2, §6.3), for CGI stdout and FastCGI STDOUT.
impl HeaderSink for Vec<u8> {
    fn status(&mut self, code: u16, reason: &str) {
        self.extend_from_slice(b"Status: ");
        push_decimal(self, u64::from(code));
        self.push(b' ');
        self.extend_from_slice(reason.as_bytes());
        self.extend_from_slice(b"\r\n");
    }

    fn header_with(&mut self, name: &str, value: impl FnOnce(&mut Vec<u8>)) {
        self.extend_from_slice(name.as_bytes());
        self.extend_from_slice(b": ");
        value(self);
        self.extend_from_slice(b"\r\n");
    }

    fn finish(&mut self, body: &[u8]) {
        self.extend_from_slice(b"\r\n");
        self.extend_from_slice(body);
    }
}

/// A sink that keeps nothing.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Discard;

impl HeaderSink for Discard {
    fn status(&mut self, _: u16, _: &str) {}
    fn header_with(&mut self, _: &str, _: impl FnOnce(&mut Vec<u8>)) {}
    fn finish(&mut self, _: &[u8]) {}
}

/// Appends `n` in decimal.
pub(crate) fn push_decimal(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgi_bytes() {
        let mut out = Vec::new();
        out.status(404, "Not Found");
        out.header("Content-Type", b"text/plain");
        out.header_number("Content-Length", 10);
        out.header_with("X-Accel-Redirect", |v| v.extend_from_slice(b"/_p/a"));
        out.finish(b"not found\n");
        assert_eq!(
            out,
            b"Status: 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nX-Accel-Redirect: /_p/a\r\n\
\r\nnot found\n"
        );
    }

    #[test]
    fn decimals() {
        for n in [0, 7, 10, 65535, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
