//! `Content-Disposition` (RFC 6266) with an RFC 8187 `filename*` for names that are not plain ASCII.
//!
//! `filename="<fallback>"` is always present: the name with every character outside printable
//! ASCII (and `%`, which browsers percent-decode in this parameter) replaced by `_`, and `"` and `\`
//! escaped (in the quoted form only). When the fallback
//! differs from the name, `filename*=UTF-8''<percent-encoded UTF-8>` follows, encoded with the
//! RFC 8187 `attr-char` set, so a browser that understands it saves the exact name. The fallback is
//! never empty and never only an extension: a name whose stem is all non-ASCII keeps one `_` per
//! character (`是.txt` → `_.txt`, not `.txt`). Names are checked before they get here (no control
//! characters, `/` or `\`; see [`crate::token::valid_filename`]), so nothing can break the header.

/// `inline` or `attachment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Let the browser display it.
    Inline,
    /// Make the browser download it.
    Attachment,
}

impl Disposition {
    /// The token.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Inline => "inline",
            Disposition::Attachment => "attachment",
        }
    }
}

fn attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}

/// Writes the header value for `name` into `buf` and returns its length, or `None` when it does
/// not fit (then use [`header_value`]). Same bytes as [`header_value`], without allocating.
pub fn write_value(kind: Disposition, name: &str, buf: &mut [u8]) -> Option<usize> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut w = Writer { buf, len: 0 };
    w.put(kind.as_str().as_bytes())?;
    w.put(b"; filename=\"")?;
    let mut plain = true;
    for c in name.chars() {
        if (c.is_ascii_graphic() || c == ' ') && c != '%' {
            if c == '"' || c == '\\' {
                w.put(b"\\")?;
            }
            w.put(&[c as u8])?;
        } else {
            plain = false;
            w.put(b"_")?;
        }
    }
    w.put(b"\"")?;
    if !plain {
        w.put(b"; filename*=UTF-8''")?;
        for &b in name.as_bytes() {
            if attr_char(b) {
                w.put(&[b])?;
            } else {
                w.put(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])?;
            }
        }
    }
    Some(w.len)
}

struct Writer<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.len.checked_add(bytes.len()).filter(|&e| e <= self.buf.len())?;
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
        Some(())
    }
}

/// The header value for `name` (must satisfy [`crate::token::valid_filename`]).
pub fn header_value(kind: Disposition, name: &str) -> String {
    let mut fallback = String::with_capacity(name.len());
    let mut plain = true;
    for c in name.chars() {
        // `%` goes to filename* too: browsers percent-decode the plain filename parameter, so
        // `filename="%41.txt"` is saved as `A.txt` (seen in Chromium).
        if (c.is_ascii_graphic() || c == ' ') && c != '%' {
            if c == '"' || c == '\\' {
                fallback.push('\\');
            }
            fallback.push(c);
        } else {
            plain = false;
            fallback.push('_');
        }
    }
    let mut v = format!("{}; filename=\"{fallback}\"", kind.as_str());
    if !plain {
        v.push_str("; filename*=UTF-8''");
        for &b in name.as_bytes() {
            if attr_char(b) {
                v.push(b as char);
            } else {
                v.push_str(&format!("%{b:02X}"));
            }
        }
    }
    v
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

    #[test]
    fn written_value_is_the_same_and_never_overflows() {
        for name in ["report.pdf", "a \"b\" \\c.txt", "是.txt", "Q3 résumé \"final\".pdf", "100%.txt"] {
            for kind in [Disposition::Attachment, Disposition::Inline] {
                let mut buf = [0u8; 1024];
                let n = write_value(kind, name, &mut buf).expect("fits");
                assert_eq!(&buf[..n], header_value(kind, name).as_bytes(), "{name}");
                let want = header_value(kind, name).len();
                let mut small = vec![0u8; want - 1];
                assert_eq!(write_value(kind, name, &mut small), None, "one byte short: {name}");
            }
        }
    }
}
