//! Name-value pairs (FastCGI 1.0 §3.4), decoded iteratively and without copying.

use thiserror::Error;

/// Why a PARAMS stream could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ParamsError {
    /// A length prefix or a name/value runs past the end of the stream.
    #[error("name-value pair runs past the end of the params stream")]
    Truncated,
}

/// Iterator over the `(name, value)` pairs of a complete PARAMS stream.
///
/// Lengths are checked against the bytes actually present before any slice is taken; a declared
/// length of 2^31-1 on a short stream is [`ParamsError::Truncated`], not an allocation. After the
/// first error the iterator is exhausted.
#[derive(Debug, Clone)]
pub struct Pairs<'a> {
    rest: &'a [u8],
}

impl<'a> Pairs<'a> {
    /// Iterates over `stream`, the concatenated content of a request's PARAMS records.
    pub fn new(stream: &'a [u8]) -> Pairs<'a> {
        Pairs { rest: stream }
    }

    fn length(&mut self) -> Option<usize> {
        let first = *self.rest.first()?;
        if first & 0x80 == 0 {
            self.rest = &self.rest[1..];
            Some(usize::from(first))
        } else {
            let b = self.rest.get(..4)?;
            let len = u32::from_be_bytes([b[0] & 0x7f, b[1], b[2], b[3]]);
            self.rest = &self.rest[4..];
            usize::try_from(len).ok()
        }
    }

    fn next_pair(&mut self) -> Result<(&'a [u8], &'a [u8]), ParamsError> {
        let name_len = self.length().ok_or(ParamsError::Truncated)?;
        let value_len = self.length().ok_or(ParamsError::Truncated)?;
        let total = name_len.checked_add(value_len).ok_or(ParamsError::Truncated)?;
        if total > self.rest.len() {
            return Err(ParamsError::Truncated);
        }
        let (name, rest) = self.rest.split_at(name_len);
        let (value, rest) = rest.split_at(value_len);
        self.rest = rest;
        Ok((name, value))
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), ParamsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let item = self.next_pair();
        if item.is_err() {
            self.rest = &[];
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths() {
        let mut s = vec![3u8, 0x80, 0, 0, 200];
        s.extend_from_slice(b"abc");
        s.extend(std::iter::repeat_n(b'x', 200));
        let pairs: Vec<_> = Pairs::new(&s).collect();
        assert_eq!(pairs.len(), 1);
        let (n, v) = pairs[0].expect("pair");
        assert_eq!(n, b"abc");
        assert_eq!(v.len(), 200);
    }

    #[test]
    fn huge_declared_length_is_truncated_not_allocated() {
        let s = [0xffu8, 0xff, 0xff, 0xff, 1, b'a'];
        let pairs: Vec<_> = Pairs::new(&s).collect();
        assert_eq!(pairs, vec![Err(ParamsError::Truncated)]);
    }

    #[test]
    fn length_prefix_cut_short() {
        assert_eq!(Pairs::new(&[0x80, 0]).next(), Some(Err(ParamsError::Truncated)));
        assert_eq!(Pairs::new(&[1]).next(), Some(Err(ParamsError::Truncated)));
    }
}
