//! Streaming input: bounded line reading (LF or CRLF) and the content hash computed on the way.

use sha2::{Digest, Sha256};
use std::io::{self, BufRead, Read};

/// The longest line any supported format has is 760 bytes; anything far beyond is not a statement line.
pub const MAX_LINE_BYTES: usize = 4096;

/// Past this many bytes the hash is computed on a helper thread, beside the parsing: for a large file it is
/// about a fifth of the single-threaded work. A small file is hashed in place (no thread).
const HASH_ON_THREAD_AFTER: u64 = 4 << 20;
/// Chunks in flight to the hashing thread (each the size of one read, 256 KiB from `read_statement`).
const HASH_CHUNKS_IN_FLIGHT: usize = 4;

enum Hasher {
    InPlace(Sha256),
    Thread {
        chunks: std::sync::mpsc::SyncSender<Vec<u8>>,
        /// Chunk buffers handed back for reuse: memory stays at a few chunks whatever the file's size.
        spare: std::sync::mpsc::Receiver<Vec<u8>>,
        done: std::thread::JoinHandle<Sha256>,
    },
}

/// Wraps a reader and computes the sha256 and size of everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Option<Hasher>,
    bytes: u64,
    /// Whether the hash may move to a thread (not when hashing is all the reader's user does).
    may_offload: bool,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader { inner, hasher: Some(Hasher::InPlace(Sha256::new())), bytes: 0, may_offload: true }
    }
    /// Always hashing in place: for a reader whose only work is the hash.
    pub fn in_place(inner: R) -> Self {
        HashingReader { may_offload: false, ..Self::new(inner) }
    }
    /// Hex sha256 and byte count of what was read so far.
    pub fn finish(mut self) -> (String, u64) {
        let h = match self.hasher.take().expect("a hasher until finish") {
            Hasher::InPlace(h) => h,
            Hasher::Thread { chunks, spare, done } => {
                drop(chunks);
                drop(spare);
                done.join().expect("the hashing thread does not panic")
            }
        };
        (hex::encode(h.finalize()), self.bytes)
    }

    fn hash(&mut self, data: &[u8]) {
        if self.may_offload && self.bytes > HASH_ON_THREAD_AFTER {
            if let Some(Hasher::InPlace(h)) = &self.hasher {
                match hashing_thread(h.clone()) {
                    Some(thread) => self.hasher = Some(thread),
                    None => self.may_offload = false, // no thread to be had: carry on in place
                }
            }
        }
        match self.hasher.as_mut().expect("a hasher until finish") {
            Hasher::InPlace(h) => h.update(data),
            Hasher::Thread { chunks, spare, .. } => {
                let mut chunk = spare.try_recv().unwrap_or_default();
                chunk.clear();
                chunk.extend_from_slice(data);
                chunks.send(chunk).expect("the hashing thread lives until finish");
            }
        }
    }
}

/// A thread that carries on the hash `h` with the chunks it is sent and hands their buffers back.
fn hashing_thread(mut h: Sha256) -> Option<Hasher> {
    let (chunks, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(HASH_CHUNKS_IN_FLIGHT);
    let (give_back, spare) = std::sync::mpsc::sync_channel::<Vec<u8>>(HASH_CHUNKS_IN_FLIGHT + 2);
    let done = std::thread::Builder::new()
        .name("sha256".into())
        .spawn(move || {
            for chunk in rx {
                h.update(&chunk);
                let _ = give_back.try_send(chunk);
            }
            h
        })
        .ok()?;
    Some(Hasher::Thread { chunks, spare, done })
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.hash(&buf[..n]);
        }
        self.bytes += n as u64;
        Ok(n)
    }
}

/// sha256 (hex) and size of a whole stream.
pub fn sha256_of<R: Read>(input: R) -> io::Result<(String, u64)> {
    let mut h = HashingReader::in_place(input);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match h.read(&mut buf) {
            Ok(0) => return Ok(h.finish()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
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

    /// Past the threshold the hash moves to a thread mid-stream: it must be the hash of every byte, in order,
    /// whatever the sizes of the reads.
    #[test]
    fn a_large_input_hashed_on_a_thread_is_the_same_hash() {
        struct Uneven<'a>(&'a [u8], usize);
        impl Read for Uneven<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.1 = (self.1 * 7919 + 13) % 300_000;
                let n = (self.1 + 1).min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let data: Vec<u8> = (0..(3 * HASH_ON_THREAD_AFTER as usize + 12_345)).map(|i| (i * 31 % 251) as u8).collect();
        let mut r = HashingReader::new(Uneven(&data, 1));
        let mut buf = vec![0u8; 256 * 1024];
        while r.read(&mut buf).unwrap() > 0 {}
        assert!(matches!(r.hasher, Some(Hasher::Thread { .. })), "the thread took over");
        assert_eq!(r.finish(), (hex::encode(Sha256::digest(&data)), data.len() as u64));
    }

    #[test]
    fn hash_of_known_input() {
        let (h, n) = sha256_of(&b"abc"[..]).unwrap();
        assert_eq!(n, 3);
        assert_eq!(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
