//! `Content-Disposition` (RFC 6266) with an RFC 8187 `filename*` for names that are not plain ASCII.
//!
//! `filename="<fallback>"` is always present: the name with every character outside printable
//! ASCII (and `%`, which browsers percent-decode in this parameter) replaced by `_`, and `"` and `\`
//! escaped (in the quoted form only). When the fallback
//! differs from the name, `filename*=UTF-8''<percent-encoded UTF-8>` follows, encoded with the
//! RFC 8187 `attr-char` set, so a browser that understands it saves the exact name. The fallback is
//! never empty and never only an extension: a name whose stem is all non-ASCII keeps one `_` per
//! character (`是.txt` → `_.txt`, not `.txt`). Names are checked before they get here (no control
//! characters, `/` or `\`; see [`crate::guard::token::valid_filename`]), so nothing can break the header.

use crate::guard::token::Disposition;

fn attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}

/// Appends the header value for `name` (must satisfy [`crate::guard::token::valid_filename`]) to `out`:
/// the plain `filename` with every non-ASCII character (and `%`) as `_`, quotes and backslashes
/// escaped, and, when anything was replaced, the exact name as RFC 8187 `filename*`.
pub(crate) fn push_value(kind: Disposition, name: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.extend_from_slice(kind.as_str().as_bytes());
    out.extend_from_slice(b"; filename=\"");
    let mut plain = true;
    for c in name.chars() {
        // `%` goes to filename* too: browsers percent-decode the plain filename parameter, so
        // `filename="%41.txt"` is saved as `A.txt` (seen in Chromium).
        if (c.is_ascii_graphic() || c == ' ') && c != '%' {
            if c == '"' || c == '\\' {
                out.push(b'\\');
            }
            out.push(c as u8);
        } else {
            plain = false;
            out.push(b'_');
        }
    }
    out.push(b'"');
    if !plain {
        out.extend_from_slice(b"; filename*=UTF-8''");
        for &b in name.as_bytes() {
            if attr_char(b) {
                out.push(b);
            } else {
                out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            }
        }
    }
}

/// The header value for `name` as a string (see [`push_value`]).
pub fn header_value(kind: Disposition, name: &str) -> String {
    let mut v = Vec::with_capacity(name.len() + 32);
    push_value(kind, name, &mut v);
    // Only ASCII is written.
    String::from_utf8_lossy(&v).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        let a = Disposition::Attachment;
        assert_eq!(header_value(a, "report.pdf"), "attachment; filename=\"report.pdf\"");
        assert_eq!(header_value(Disposition::Inline, "a \"b\" \\c.txt"), "inline; filename=\"a \\\"b\\\" \\\\c.txt\"");
        assert_eq!(header_value(a, "是.txt"), "attachment; filename=\"_.txt\"; filename*=UTF-8''%E6%98%AF.txt");
        assert_eq!(
            header_value(a, "Q3 résumé \"final\".pdf"),
            "attachment; filename=\"Q3 r_sum_ \\\"final\\\".pdf\"; filename*=UTF-8''Q3%20r%C3%A9sum%C3%A9%20%22final%22.pdf"
        );
    }
}
