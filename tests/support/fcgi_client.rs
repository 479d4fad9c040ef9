//! An independent FastCGI encoder/decoder for tests: written from the spec (FastCGI 1.0 §3, §5, §8)
//! with plain bytes, sharing no type or function with the library.

#![allow(dead_code, unreachable_pub)]

pub const BEGIN: u8 = 1;
pub const ABORT: u8 = 2;
pub const END: u8 = 3;
pub const PARAMS: u8 = 4;
pub const STDIN: u8 = 5;
pub const STDOUT: u8 = 6;
pub const GET_VALUES: u8 = 9;
pub const GET_VALUES_RESULT: u8 = 10;
pub const UNKNOWN_TYPE: u8 = 11;

/// One record, with optional padding bytes.
pub fn rec_padded(kind: u8, id: u16, content: &[u8], padding: u8) -> Vec<u8> {
    assert!(content.len() <= 65535);
    let mut v = vec![1, kind, (id >> 8) as u8, id as u8, (content.len() >> 8) as u8, content.len() as u8, padding, 0];
    v.extend_from_slice(content);
    v.extend(std::iter::repeat_n(0xAA, usize::from(padding)));
    v
}

pub fn rec(kind: u8, id: u16, content: &[u8]) -> Vec<u8> {
    rec_padded(kind, id, content, 0)
}

pub fn begin(id: u16, role: u16, keep_conn: bool) -> Vec<u8> {
    rec(BEGIN, id, &[(role >> 8) as u8, role as u8, u8::from(keep_conn), 0, 0, 0, 0, 0])
}

fn len_bytes(n: usize) -> Vec<u8> {
    if n < 128 {
        vec![n as u8]
    } else {
        let n = n as u32 | 0x8000_0000;
        n.to_be_bytes().to_vec()
    }
}

pub fn nv(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut v = len_bytes(name.len());
    v.extend(len_bytes(value.len()));
    v.extend_from_slice(name);
    v.extend_from_slice(value);
    v
}

/// PARAMS records for `pairs` (split into ≤ 65535-byte records) plus the empty one.
pub fn params(id: u16, pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut stream = Vec::new();
    for (n, v) in pairs {
        stream.extend(nv(n, v));
    }
    let mut out = Vec::new();
    for chunk in stream.chunks(65535) {
        out.extend(rec(PARAMS, id, chunk));
    }
    out.extend(rec(PARAMS, id, &[]));
    out
}

/// A whole GET/HEAD-style request: BEGIN (responder), PARAMS, empty STDIN.
pub fn request(id: u16, keep_conn: bool, pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut v = begin(id, 1, keep_conn);
    v.extend(params(id, pairs));
    v.extend(rec(STDIN, id, &[]));
    v
}

/// What a reply record looks like after decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rec {
    pub kind: u8,
    pub id: u16,
    pub content: Vec<u8>,
}

/// Decodes complete records; returns them and the number of bytes left over.
pub fn parse(mut b: &[u8]) -> (Vec<Rec>, usize) {
    let mut out = Vec::new();
    while b.len() >= 8 {
        assert_eq!(b[0], 1, "version");
        let len = usize::from(u16::from_be_bytes([b[4], b[5]]));
        let pad = usize::from(b[6]);
        if b.len() < 8 + len + pad {
            break;
        }
        out.push(Rec { kind: b[1], id: u16::from_be_bytes([b[2], b[3]]), content: b[8..8 + len].to_vec() });
        b = &b[8 + len + pad..];
    }
    (out, b.len())
}

/// Concatenated STDOUT content of `id`.
pub fn stdout_of(recs: &[Rec], id: u16) -> Vec<u8> {
    recs.iter().filter(|r| r.kind == STDOUT && r.id == id).flat_map(|r| r.content.clone()).collect()
}

/// The END_REQUEST expected bytes: appStatus, protocolStatus.
pub fn end_request(id: u16, app_status: u32, protocol_status: u8) -> Vec<u8> {
    let a = app_status.to_be_bytes();
    rec(END, id, &[a[0], a[1], a[2], a[3], protocol_status, 0, 0, 0])
}

/// nginx-like params for a GET of `uri`.
pub fn nginx_params<'a>(method: &'a [u8], uri: &'a [u8]) -> Vec<(&'a [u8], &'a [u8])> {
    vec![
        (b"QUERY_STRING", b""),
        (b"REQUEST_METHOD", method),
        (b"SCRIPT_NAME", uri),
        (b"REQUEST_URI", uri),
        (b"DOCUMENT_URI", uri),
        (b"GATEWAY_INTERFACE", b"CGI/1.1"),
        (b"REMOTE_ADDR", b"127.0.0.1"),
    ]
}
