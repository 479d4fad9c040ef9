//! Percent-decoding, once (RFC 3986 §2.1): the one decoder for the places where xsendfiled itself
//! receives an encoded string — a trusted query value, the HTTP listener's request target, and the
//! URI `check` explains. Paths the web server already decoded are never passed here (see
//! [`crate::path`]). `+` stays a plus; a `%` not followed by two hex digits makes the whole input
//! malformed (rejected, not repaired).

/// Decodes every `%XX` in `raw` once; `None` on a truncated or non-hex escape.
pub fn decode_once(raw: &[u8]) -> Option<Vec<u8>> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b == b'%' {
            let hi = hex(*raw.get(i + 1)?)?;
            let lo = hex(*raw.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode_once;

    #[test]
    fn decodes_each_escape_once() {
        assert_eq!(decode_once(b"a%20b%2541+c").as_deref(), Some(&b"a b%41+c"[..]));
        assert_eq!(decode_once(b"%e2%82%AC").as_deref(), Some("€".as_bytes()));
    }

    #[test]
    fn refuses_malformed_escapes() {
        for bad in [&b"%"[..], b"%4", b"%zz", b"%+f", b"%-1", b"x%4g"] {
            assert_eq!(decode_once(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
