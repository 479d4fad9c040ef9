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
    decode(raw, false, true).ok()
}

/// Why [`decode_path`] refused a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathEscape {
    /// A `%` not followed by two hex digits.
    Malformed,
    /// `%2F`: a slash that would not separate segments where the server saw it.
    EncodedSlash,
}

/// Decodes a raw request path once like [`decode_once`], refusing `%2F`; the first problem from
/// the left is the one reported.
pub(crate) fn decode_path(raw: &[u8]) -> Result<Vec<u8>, PathEscape> {
    decode(raw, false, false)
}

/// Decodes a form-encoded value once: `+` is a space and every `%XX` its byte; `None` on a
/// truncated or non-hex escape (the `+` of `%+f` is part of a malformed escape, not a space).
pub(crate) fn decode_form(raw: &[u8]) -> Option<Vec<u8>> {
    decode(raw, true, true).ok()
}

fn decode(raw: &[u8], plus_is_space: bool, slash_ok: bool) -> Result<Vec<u8>, PathEscape> {
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
            let digit = |at: usize| raw.get(at).copied().and_then(hex).ok_or(PathEscape::Malformed);
            let v = digit(i + 1)? << 4 | digit(i + 2)?;
            if v == b'/' && !slash_ok {
                return Err(PathEscape::EncodedSlash);
            }
            out.push(v);
            i += 3;
        } else {
            out.push(if plus_is_space && b == b'+' { b' ' } else { b });
            i += 1;
        }
    }
    Ok(out)
}

/// A malformed value in a query: a bad `%` escape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// The first value of `key` in the form-encoded `query` (`k=v&k2=v2`), decoded with
/// [`decode_form`]: `Ok(None)` when the key is absent, `Err` when its value is malformed. Keys are
/// compared as written (xsendfiled's own keys are plain ASCII names).
pub(crate) fn query_value(query: &[u8], key: &[u8]) -> Result<Option<Vec<u8>>, Malformed> {
    match query_raw(query, key) {
        Some(v) => decode_form(v).map(Some).ok_or(Malformed),
        None => Ok(None),
    }
}

/// The parameters of a raw `query` in order, as written (not decoded): `&` separates them, the
/// first `=` splits name from value, and a parameter without `=` has no value.
pub(crate) fn pairs(query: &[u8]) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
    query.split(|&b| b == b'&').map(|p| match p.iter().position(|&b| b == b'=') {
        Some(e) => (&p[..e], Some(&p[e + 1..])),
        None => (p, None),
    })
}

/// The first value of `key` in a raw `query`, not decoded (legacy link schemes hash it as sent).
pub(crate) fn query_raw<'q>(query: &'q [u8], key: &[u8]) -> Option<&'q [u8]> {
    pairs(query).find_map(|(name, value)| if name == key { value } else { None })
}

#[cfg(test)]
mod tests {
    use super::{decode_form, decode_once, decode_path, pairs, query_raw, query_value, Malformed, PathEscape};

    /// Every reader of an encoded string in one table: path (`+` kept), form value (`+` a space),
    /// request path (no `%2F`), and a trusted query value looked up by key.
    #[test]
    fn every_reader_agrees_on_the_escapes() {
        type Row = (&'static [u8], Option<&'static [u8]>, Option<&'static [u8]>);
        let table: [Row; 7] = [
            (b"%+f", None, None),
            (b"%2", None, None),
            (b"%zz", None, None),
            (b"%00", Some(b"\0"), Some(b"\0")),
            (b"+", Some(b"+"), Some(b" ")),
            (b"a%2Fb", Some(b"a/b"), Some(b"a/b")),
            (b"%41+%42", Some(b"A+B"), Some(b"A B")),
        ];
        for (raw, path, form) in table {
            let name = String::from_utf8_lossy(raw);
            assert_eq!(decode_once(raw).as_deref(), path, "{name}");
            assert_eq!(decode_form(raw).as_deref(), form, "{name}");
            let query = [&b"k="[..], raw].concat();
            assert_eq!(query_value(&query, b"k"), form.map(|v| Some(v.to_vec())).ok_or(Malformed), "{name}");
            assert_eq!(query_raw(&query, b"k"), Some(raw), "{name}");
            let want_path = match path {
                Some(_) if raw.eq_ignore_ascii_case(b"a%2Fb") => Err(PathEscape::EncodedSlash),
                Some(v) => Ok(v.to_vec()),
                None => Err(PathEscape::Malformed),
            };
            assert_eq!(decode_path(raw), want_path, "{name}");
        }
        assert_eq!(decode_path(b"%2F%zz"), Err(PathEscape::EncodedSlash), "the first problem wins");
        assert_eq!(decode_path(b"%zz%2F"), Err(PathEscape::Malformed), "the first problem wins");
        let all: Vec<_> = pairs(b"sig&exp=1&a=b=c").collect();
        assert_eq!(all, [(&b"sig"[..], None), (&b"exp"[..], Some(&b"1"[..])), (&b"a"[..], Some(&b"b=c"[..]))]);
    }

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
