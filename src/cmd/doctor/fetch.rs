//! The doctor's client: one HTTP/1.1 GET over TCP, read like a browser would (RFC 9112: the
//! status line, the fields, then a body framed by `Content-Length`, chunked, or the end of the
//! connection), keeping only what the comparison needs: the status, the fields, the size and the
//! first and last bytes.
//!
//! Invariants: bounded in time (10 s per read, 60 s in all) and memory (the head at most 64 KiB;
//! the body is counted, never kept beyond its ends); `http://` only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Bytes kept from each end of the body.
pub(crate) const ENDS: usize = 16;

/// What came back.
#[derive(Debug, Default, Clone)]
pub(crate) struct Fetched {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) size: u64,
    /// The first [`ENDS`] bytes (and the whole body when it is that short).
    pub(crate) head: Vec<u8>,
    /// The last [`ENDS`] bytes.
    pub(crate) tail: Vec<u8>,
}

impl Fetched {
    /// The value of the field `name` (case-insensitive), if sent.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A parsed `http://HOST[:PORT]/PATH` URL: where to connect, the Host field, the request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    pub(crate) authority: String,
    pub(crate) target: String,
}

impl Url {
    /// `None` unless `url` is `http://` with an authority and an origin-form target.
    pub(crate) fn parse(url: &str) -> Option<Url> {
        let rest = url.strip_prefix("http://")?;
        let (authority, target) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let target = target.split('#').next().unwrap_or("/");
        if authority.is_empty() || authority.contains('@') || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return None;
        }
        Some(Url { authority: authority.to_owned(), target: target.to_owned() })
    }

    /// The same server with another target.
    pub(crate) fn with_target(&self, target: &str) -> Url {
        Url { authority: self.authority.clone(), target: target.to_owned() }
    }

    fn connect_to(&self) -> String {
        if self.authority.rsplit_once(':').is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())) {
            self.authority.clone()
        } else {
            format!("{}:80", self.authority)
        }
    }
}

/// GETs `url`.
///
/// # Errors
/// Connection, timeout or framing failures.
pub(crate) fn get(url: &Url) -> std::io::Result<Fetched> {
    let started = Instant::now();
    let stream = TcpStream::connect(url.connect_to())?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    (&stream).write_all(
        format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: xsendfiled-doctor\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            url.target, url.authority
        )
        .as_bytes(),
    )?;
    let mut r = BufReader::new(stream);
    let mut f = Fetched::default();
    let status_line = line(&mut r)?;
    f.status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no status line"))?;
    let mut head_bytes = status_line.len();
    loop {
        let l = line(&mut r)?;
        head_bytes += l.len();
        if head_bytes > 64 * 1024 {
            return Err(bad("response head over 64 KiB"));
        }
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            f.headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let chunked = f.header("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = f.header("Content-Length").and_then(|v| v.parse::<u64>().ok());
    let mut body = Body::default();
    if chunked {
        loop {
            let size_line = line(&mut r)?;
            let hex = size_line.split(';').next().unwrap_or("").trim();
            let n = u64::from_str_radix(hex, 16).map_err(|_| bad("bad chunk size"))?;
            if n == 0 {
                break;
            }
            body.copy(&mut (&mut r).take(n), started)?;
            line(&mut r)?;
        }
    } else if let Some(n) = length {
        body.copy(&mut (&mut r).take(n), started)?;
    } else {
        body.copy(&mut r, started)?;
    }
    (f.size, f.head, f.tail) = (body.size, body.head, body.tail);
    Ok(f)
}

/// The body's size and ends.
#[derive(Default)]
struct Body {
    size: u64,
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl Body {
    fn copy(&mut self, from: &mut impl Read, started: Instant) -> std::io::Result<()> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            if started.elapsed() > Duration::from_secs(60) {
                return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the download took over 60 s"));
            }
            let n = from.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            let got = &buf[..n];
            self.size += n as u64;
            let room = ENDS.saturating_sub(self.head.len());
            self.head.extend_from_slice(&got[..room.min(n)]);
            self.tail.extend_from_slice(got);
            let excess = self.tail.len().saturating_sub(ENDS);
            self.tail.drain(..excess);
        }
    }
}

fn line(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut buf = Vec::new();
    r.take(8192).read_until(b'\n', &mut buf)?;
    if !buf.ends_with(b"\n") {
        return Err(bad("truncated response"));
    }
    Ok(String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_owned())
}

fn bad(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_owned())
}

#[cfg(test)]
mod tests {
    use super::Url;

    #[test]
    fn urls() {
        let u = Url::parse("http://127.0.0.1:8080/dl/a%20b.txt?x=1#frag").expect("url");
        assert_eq!((u.authority.as_str(), u.target.as_str()), ("127.0.0.1:8080", "/dl/a%20b.txt?x=1"));
        assert_eq!(Url::parse("http://localhost").map(|u| u.target), Some("/".to_owned()));
        assert_eq!(Url::parse("https://x/"), None);
        assert_eq!(Url::parse("http://u@x/"), None);
        assert_eq!(Url::parse("http://x/a b"), None);
    }
}
