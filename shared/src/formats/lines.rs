//! Streaming input: bounded line reading (LF or CRLF) and the content hash computed on the way.

use sha2::{Digest, Sha256};
use std::io::{self, BufRead, Read};

/// The longest line any supported format has is 760 bytes; anything far beyond is not a statement line.
pub const MAX_LINE_BYTES: usize = 4096;

/// Wraps a reader and computes the sha256 and size of everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader { inner, hasher: Sha256::new(), bytes: 0 }
    }
    /// Hex sha256 and byte count of what was read so far.
    pub fn finish(self) -> (String, u64) {
        (hex::encode(self.hasher.finalize()), self.bytes)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// sha256 (hex) and size of a whole stream.
pub fn sha256_of<R: Read>(input: R) -> io::Result<(String, u64)> {
    let mut h = HashingReader::new(input);
    io::copy(&mut h, &mut io::sink())?;
    Ok(h.finish())
}

/// One line as read: its bytes without the line terminator, and whether it had to be cut.
pub struct Line<'a> {
    pub bytes: &'a [u8],
    /// The line was longer than the limit; `bytes` holds only its start, the rest was skipped.
    pub overlong: Option<u64>,
}

/// Reads lines of at most `limit` bytes into one reused buffer: memory does not grow with the file,
/// nor with a line that never ends.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    limit: usize,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, MAX_LINE_BYTES)
    }

    pub fn with_limit(inner: R, limit: usize) -> Self {
        LineReader { inner, buf: Vec::with_capacity(1024), limit }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The next line, `None` at end of input. A final line without a newline is still a line.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut total: u64 = 0;
        let mut saw_any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            saw_any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            let room = self.limit.saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..take.min(room)]);
            total += take as u64;
            self.inner.consume(if done { take + 1 } else { take });
            if done {
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        if total as usize <= self.limit && self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        let overlong = (total > self.limit as u64).then_some(total);
        Ok(Some(Line { bytes: &self.buf, overlong }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], limit: usize) -> Vec<(Vec<u8>, Option<u64>)> {
        let mut r = LineReader::with_limit(io::BufReader::with_capacity(7, input), limit);
        let mut out = vec![];
        while let Some(l) = r.next_line().unwrap() {
            out.push((l.bytes.to_vec(), l.overlong));
        }
        out
    }

    #[test]
    fn lf_crlf_and_missing_final_newline() {
        let got = lines(b"abc\r\ndef\nghi", 100);
        let texts: Vec<_> = got.iter().map(|(b, _)| b.clone()).collect();
        assert_eq!(texts, vec![b"abc".to_vec(), b"def".to_vec(), b"ghi".to_vec()]);
    }

    #[test]
    fn overlong_lines_are_cut_and_reported() {
        let got = lines(b"0123456789ABCDEF\nok\n", 5);
        assert_eq!(got[0], (b"01234".to_vec(), Some(16)));
        assert_eq!(got[1], (b"ok".to_vec(), None));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn hash_of_known_input() {
        let (h, n) = sha256_of(&b"abc"[..]).unwrap();
        assert_eq!(n, 3);
        assert_eq!(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
