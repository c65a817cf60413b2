//! How far long work has come, for a person watching: a 760 MB statement loads for tens of seconds and a
//! month's reconciliation runs for minutes. The core reports what it is doing to one process-wide
//! [`Observer`] — the CLI installs one that draws bars on a terminal or writes plain lines; the Lambdas and
//! the tests install none, and then reporting costs an atomic load. Reports are throttled at the source (a
//! few per second at most per file), never per row.

use std::io::Read;
use std::sync::OnceLock;

/// What happened to a file being ingested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEvent {
    /// Reading starts: its size.
    Started { bytes: u64 },
    /// So many bytes read and rows parsed so far.
    Read { bytes: u64, rows: u64 },
    /// Read and validated whole: its rows are being attached to the facts.
    Loading { rows: u64 },
    /// Finished (whatever the outcome, which the caller reports).
    Done,
}

/// A step of a reconciliation: the area being reconciled and the items made so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconStep<'a> {
    /// The scope, for people ("2026-09-01 to 2026-09-30, merchant 0012345678").
    pub scope: &'a str,
    /// `sales`, `receivables`, `fees`, `writing` (the last items and the totals), then `done` once committed.
    pub area: &'a str,
    pub items: u64,
}

/// Receives progress reports (from any thread).
pub trait Observer: Send + Sync + 'static {
    fn file(&self, name: &str, event: FileEvent);
    fn reconcile(&self, step: &ReconStep);
}

static OBSERVER: OnceLock<Box<dyn Observer>> = OnceLock::new();

/// Install the process's observer (once: a later call is ignored and returns false).
pub fn observe(observer: Box<dyn Observer>) -> bool {
    OBSERVER.set(observer).is_ok()
}

pub(crate) fn file(name: &str, event: FileEvent) {
    if let Some(o) = OBSERVER.get() {
        o.file(name, event);
    }
}

#[cfg(feature = "store")]
pub(crate) fn reconcile(scope: &str, area: &str, items: u64) {
    if let Some(o) = OBSERVER.get() {
        o.reconcile(&ReconStep { scope, area, items });
    }
}

/// Bytes between two reports of a file being read.
const REPORT_EVERY_BYTES: u64 = 4 << 20;

/// A reader that reports the bytes read through it (and the rows counted with [`Reading::rows`]), every
/// few MB.
pub struct Reading<R> {
    inner: R,
    name: String,
    bytes: u64,
    rows: std::sync::Arc<std::sync::atomic::AtomicU64>,
    reported: u64,
}

impl<R> Reading<R> {
    pub fn new(inner: R, name: &str) -> Reading<R> {
        Reading { inner, name: name.to_string(), bytes: 0, rows: Default::default(), reported: 0 }
    }

    /// The counter of rows parsed, to be added to by whoever parses what this reader reads.
    pub fn rows(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        self.rows.clone()
    }
}

impl<R: Read> Read for Reading<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        if self.bytes - self.reported >= REPORT_EVERY_BYTES || (n == 0 && self.bytes > self.reported) {
            self.reported = self.bytes;
            let rows = self.rows.load(std::sync::atomic::Ordering::Relaxed);
            file(&self.name, FileEvent::Read { bytes: self.bytes, rows });
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_counts_what_passes_through_it() {
        let data = vec![7u8; (REPORT_EVERY_BYTES * 2 + 10) as usize];
        let mut r = Reading::new(&data[..], "x");
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), data.len());
        assert_eq!((r.bytes, r.reported), (data.len() as u64, data.len() as u64), "the last bytes reported too");
    }
}
