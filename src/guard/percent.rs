//! Percent-decoding, once (RFC 3986 §2.1): the one decoder for the places where xsendfiled itself
//! receives an encoded string — a trusted query value, the HTTP listener's request target, and the
//! URI `check` explains. Paths the web server already decoded are never passed here (see
//! [`crate::guard::path`]). A `%` not followed by two hex digits makes the whole input malformed
//! (rejected, not repaired).
//!
//! Paths and query values differ in one byte: in a path `+` stays a plus ([`decode_once`]); a
//! query value is form-encoded (`application/x-www-form-urlencoded`, WHATWG URL Standard §5.1),
//! the encoding of PHP's `urlencode` and `http_build_query`, Python's `urlencode`, Ruby's
//! `URI.encode_www_form` and JavaScript's `URLSearchParams`, which write a space as `+`; so
//! [`decode_form`] and [`query_value`], the one reader of a trusted query, read `+` as a space and
//! `%2B` as a plus.

/// Decodes every `%XX` in `raw` once; `None` on a truncated or non-hex escape.
pub(crate) fn decode_once(raw: &[u8]) -> Option<Vec<u8>> {
    decode(raw, false)
}

/// Decodes a form-encoded value once: `+` is a space and every `%XX` its byte; `None` on a
/// truncated or non-hex escape (the `+` of `%+f` is part of a malformed escape, not a space).
pub(crate) fn decode_form(raw: &[u8]) -> Option<Vec<u8>> {
    decode(raw, true)
}

fn decode(raw: &[u8], plus_is_space: bool) -> Option<Vec<u8>> {
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
            out.push(if plus_is_space && b == b'+' { b' ' } else { b });
            i += 1;
        }
    }
    Some(out)
}

/// A malformed value in a query: a bad `%` escape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// The first value of `key` in the form-encoded `query` (`k=v&k2=v2`), decoded with
/// [`decode_form`]: `Ok(None)` when the key is absent, `Err` when its value is malformed. Keys are
/// compared as written (xsendfiled's own keys are plain ASCII names).
pub(crate) fn query_value(query: &[u8], key: &[u8]) -> Result<Option<Vec<u8>>, Malformed> {
    match query.split(|&b| b == b'&').find_map(|p| p.strip_prefix(key)?.strip_prefix(b"=")) {
        Some(v) => decode_form(v).map(Some).ok_or(Malformed),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_form, decode_once, query_value, Malformed};

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

    #[test]
    fn form_values_read_plus_as_space() {
        let table: [(&[u8], Option<&[u8]>); 14] = [
            (b"Alice+report.pdf", Some(b"Alice report.pdf")),
            (b"+", Some(b" ")),
            (b"a%2Bb", Some(b"a+b")),
            (b"a%2b+b", Some(b"a+ b")),
            (b"%20+%20", Some(b"   ")),
            (b"%00", Some(b"\0")),
            (b"%e2%82%ac+", Some("\u{20ac} ".as_bytes())),
            (b"", Some(b"")),
            (b"%+f", None),
            (b"%2", None),
            (b"%zz", None),
            (b"%", None),
            (b"ok+%2", None),
            (b"%2+", None),
        ];
        for (raw, want) in table {
            assert_eq!(decode_form(raw).as_deref(), want, "{:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn query_lookup_finds_the_first_whole_key() {
        let q = b"xfilename=no&filename=Alice+report.pdf&filename=second&root=%zz";
        assert_eq!(query_value(q, b"filename"), Ok(Some(b"Alice report.pdf".to_vec())));
        assert_eq!(query_value(q, b"disposition"), Ok(None));
        assert_eq!(query_value(q, b"root"), Err(Malformed));
        assert_eq!(query_value(b"", b"root"), Ok(None));
        assert_eq!(query_value(b"root", b"root"), Ok(None));
    }
}
