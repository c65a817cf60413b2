//! Generated statements and ways to break them.

use std::path::{Path, PathBuf};
use syncrocardpay_core::formats::cielo::sample::{self, SampleFile, SampleSpec};

/// Generate samples into `dir`.
/// An FTP login directory (a temporary folder, deleted with the first value) whose `edi/` holds the samples of
/// [`samples`]: what the FTPS tests serve.
pub fn ftp_home(transactions: u64, seed: u64) -> (tempfile::TempDir, std::path::PathBuf, Vec<SampleFile>) {
    let home = tempfile::tempdir().unwrap();
    let edi = home.path().join("edi");
    std::fs::create_dir(&edi).unwrap();
    let files = samples(&edi, transactions, seed);
    (home, edi, files)
}

pub fn samples(dir: &Path, transactions: u64, seed: u64) -> Vec<SampleFile> {
    sample::generate(dir, &SampleSpec { transactions, seed, merchants: 3, ..SampleSpec::default() })
        .expect("generate samples")
}

/// The lines of a file (without terminators).
pub fn lines(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let mut v: Vec<Vec<u8>> =
        bytes.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec()).collect();
    if v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

/// Write lines with CRLF terminators.
pub fn write_lines(path: &Path, lines: &[Vec<u8>]) -> PathBuf {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.extend_from_slice(b"\r\n");
    }
    std::fs::write(path, out).unwrap();
    path.to_path_buf()
}

/// Index of the first line of a record type.
pub fn first_of(lines: &[Vec<u8>], kind: u8) -> usize {
    lines.iter().position(|l| l.first() == Some(&kind)).expect("record type present")
}

/// Overwrite bytes at a 1-based column.
pub fn put(line: &mut [u8], column: usize, value: &str) {
    line[column - 1..column - 1 + value.len()].copy_from_slice(value.as_bytes());
}
