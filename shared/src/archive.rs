//! Compressed deliveries: acquirers and VANs send statements as `.zip` (one or many members) or `.gz`. An
//! archive is recognised by its first bytes (never by its name), and each member is written to its own local
//! file, to be read as a statement of its own with its own content hash and the delivery name
//! `archive!member`.
//!
//! Against archives built to exhaust the machine ("zip bombs") the sizes are counted as the bytes come out of
//! the decoder, never taken from the archive's own headers: at most [`Limits::max_members`] members,
//! [`Limits::max_total_bytes`] in all, and past the first [`Limits::ratio_grace_bytes`] no more than
//! [`Limits::max_ratio`] times the archive's own size. Breaking a limit rejects the archive with the limit
//! named; nothing of it is loaded.
//!
//! Member names are data: they are never used as paths (members are written as `member-00001` in a folder of
//! the caller's), so `../` or absolute names cannot escape it.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// How an archive is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Zip,
    Gzip,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Zip => "zip",
            Compression::Gzip => "gzip",
        }
    }
}

/// Bounds on what an archive may expand to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_members: usize,
    pub max_total_bytes: u64,
    pub max_ratio: u64,
    /// Below this many expanded bytes the ratio is not checked (a small, very regular statement compresses
    /// far better than any archive of real size).
    pub ratio_grace_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // Statements compress 5-30× (fixed-width text); 1 000 members is months of a merchant's files.
        Limits { max_members: 1000, max_total_bytes: 8 << 30, max_ratio: 200, ratio_grace_bytes: 64 << 20 }
    }
}

/// One member written out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's name inside the archive (as stored; may hold anything, print it escaped).
    pub name: String,
    /// Where its bytes were written.
    pub path: PathBuf,
}

impl Member {
    /// The member's delivery name, `archive!member` (the member's name escaped: it may hold anything).
    pub fn delivery_name(&self, archive: &str) -> String {
        format!("{archive}!{}", crate::source::printable_name(&self.name))
    }
}

/// Why an archive cannot be expanded.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("reading the archive: {0}")]
    Io(#[from] io::Error),
    #[error("not a readable {kind} archive: {detail}")]
    Corrupt { kind: &'static str, detail: String },
    #[error("member {name:?} is encrypted: it cannot be read without its password")]
    Encrypted { name: String },
    #[error("the archive holds no file")]
    Empty,
    #[error("the archive holds more than {limit} members: refused as a possible zip bomb")]
    TooManyMembers { limit: usize },
    #[error("the archive expands past {limit} bytes: refused as a possible zip bomb")]
    TooLarge { limit: u64 },
    #[error("the archive expands to more than {limit} times its own size ({archive_bytes} bytes): refused as a possible zip bomb")]
    Ratio { limit: u64, archive_bytes: u64 },
}

/// The compression of a file, from its first bytes; `None` for anything else (a statement).
pub fn sniff(path: &Path) -> io::Result<Option<Compression>> {
    let mut head = [0u8; 4];
    let mut f = File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(match &head[..n] {
        [b'P', b'K', 3, 4] | [b'P', b'K', 5, 6] => Some(Compression::Zip),
        [0x1f, 0x8b, ..] => Some(Compression::Gzip),
        _ => None,
    })
}

/// Counts bytes written out and enforces the limits as they grow.
struct Budget {
    kind: &'static str,
    limits: Limits,
    archive_bytes: u64,
    written: u64,
}

impl Budget {
    fn check(&self) -> Result<(), ArchiveError> {
        if self.written > self.limits.max_total_bytes {
            return Err(ArchiveError::TooLarge { limit: self.limits.max_total_bytes });
        }
        if self.written > self.limits.ratio_grace_bytes
            && self.written > self.limits.max_ratio.saturating_mul(self.archive_bytes.max(1))
        {
            return Err(ArchiveError::Ratio { limit: self.limits.max_ratio, archive_bytes: self.archive_bytes });
        }
        Ok(())
    }

    /// Copy `from` into a new file at `to`, counting every byte.
    fn copy(&mut self, from: &mut dyn Read, to: &Path) -> Result<(), ArchiveError> {
        let mut out = io::BufWriter::new(File::create(to)?);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                // What the decoder says of the bytes (flate2: InvalidInput "corrupt deflate stream"; zip:
                // InvalidData on a bad checksum; a cut stream: UnexpectedEof) is the archive's fault.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::InvalidData
                            | io::ErrorKind::InvalidInput
                            | io::ErrorKind::UnexpectedEof
                            | io::ErrorKind::Other
                    ) =>
                {
                    return Err(ArchiveError::Corrupt { kind: self.kind, detail: e.to_string() });
                }
                Err(e) => return Err(e.into()),
            };
            self.written += n as u64;
            self.check()?;
            out.write_all(&buf[..n])?;
        }
        out.flush()?;
        Ok(())
    }
}

/// Write every member of the archive at `path` into `into` (an existing, empty folder of the caller's).
/// `archive_name` names the single member of a gzip file (the archive's name without `.gz`).
pub fn expand(
    path: &Path,
    archive_name: &str,
    compression: Compression,
    into: &Path,
    limits: &Limits,
) -> Result<Vec<Member>, ArchiveError> {
    let archive_bytes = std::fs::metadata(path)?.len();
    let mut budget = Budget { kind: compression.as_str(), limits: *limits, archive_bytes, written: 0 };
    let member_path = |i: usize| into.join(format!("member-{i:05}"));
    match compression {
        Compression::Gzip => {
            let mut decoder = flate2::read::MultiGzDecoder::new(BufReader::new(File::open(path)?));
            let to = member_path(1);
            budget.copy(&mut decoder, &to)?;
            let lower = archive_name.to_ascii_lowercase();
            let name = [".gz", ".gzip"]
                .iter()
                .find(|s| lower.ends_with(*s) && archive_name.len() > s.len())
                .map_or(archive_name, |s| &archive_name[..archive_name.len() - s.len()]);
            Ok(vec![Member { name: name.to_string(), path: to }])
        }
        Compression::Zip => {
            let corrupt = |e: zip::result::ZipError| ArchiveError::Corrupt { kind: "zip", detail: e.to_string() };
            let mut zip = zip::ZipArchive::new(BufReader::new(File::open(path)?)).map_err(corrupt)?;
            let mut members = Vec::new();
            for i in 0..zip.len() {
                let listed = zip.name_for_index(i).unwrap_or("?").to_string();
                let mut entry = match zip.by_index(i) {
                    Ok(e) => e,
                    Err(zip::result::ZipError::UnsupportedArchive(m)) if m.contains("assword") => {
                        return Err(ArchiveError::Encrypted { name: listed });
                    }
                    Err(e) => return Err(corrupt(e)),
                };
                let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
                // Folders, and the resource forks macOS adds, are not statements.
                if entry.is_dir() || name.ends_with('/') || name.starts_with("__MACOSX/") {
                    continue;
                }
                if entry.encrypted() {
                    return Err(ArchiveError::Encrypted { name });
                }
                if members.len() == limits.max_members {
                    return Err(ArchiveError::TooManyMembers { limit: limits.max_members });
                }
                let to = member_path(members.len() + 1);
                budget.copy(&mut entry, &to)?;
                members.push(Member { name, path: to });
            }
            if members.is_empty() {
                return Err(ArchiveError::Empty);
            }
            Ok(members)
        }
    }
}

/// Write a zip of `members` (name inside the archive, file to read) at `path`, deflated — as the sample
/// generator delivers statements, and as acquirers' VANs do.
pub fn write_zip(path: &Path, members: &[(&str, &Path)]) -> io::Result<()> {
    let mut w = zip::ZipWriter::new(io::BufWriter::new(File::create(path)?));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    for (name, from) in members {
        w.start_file(*name, opts).map_err(io::Error::other)?;
        io::copy(&mut BufReader::new(File::open(from)?), &mut w)?;
    }
    w.finish().map_err(io::Error::other)?.flush()
}

/// Write `from` gzip-compressed at `path`.
pub fn write_gzip(path: &Path, from: &Path) -> io::Result<()> {
    let mut w = flate2::write::GzEncoder::new(io::BufWriter::new(File::create(path)?), flate2::Compression::default());
    io::copy(&mut BufReader::new(File::open(from)?), &mut w)?;
    w.finish()?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in members {
            w.start_file(*name, opts).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap();
        buf.into_inner()
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn zip_and_gzip_are_recognised_by_their_first_bytes_only() {
        let dir = tempfile::tempdir().unwrap();
        let z = write(dir.path(), "statement.TXT", &zip_of(&[("a", b"x")]));
        assert_eq!(sniff(&z).unwrap(), Some(Compression::Zip));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"0123").unwrap();
        let g = write(dir.path(), "x.zip", &gz.finish().unwrap());
        assert_eq!(sniff(&g).unwrap(), Some(Compression::Gzip));
        assert_eq!(sniff(&write(dir.path(), "y.gz", b"0CIELO")).unwrap(), None);
        assert_eq!(sniff(&write(dir.path(), "e", b"")).unwrap(), None);
    }

    #[test]
    fn every_zip_member_is_written_apart_under_a_name_of_ours() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let z =
            write(dir.path(), "d.zip", &zip_of(&[("../../etc/CIELO03.TXT", b"one"), ("dir/", b""), ("B.TXT", b"two")]));
        let members = expand(&z, "d.zip", Compression::Zip, out.path(), &Limits::default()).unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].name, "../../etc/CIELO03.TXT");
        assert_eq!(members[0].path, out.path().join("member-00001"));
        assert_eq!(std::fs::read(&members[1].path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 2, "nothing written outside its folder");
    }

    #[test]
    fn a_gzip_member_takes_the_archive_name_without_its_suffix() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"payload").unwrap();
        let g = write(dir.path(), "CIELO04.TXT.gz", &gz.finish().unwrap());
        let m = expand(&g, "CIELO04.TXT.gz", Compression::Gzip, out.path(), &Limits::default()).unwrap();
        assert_eq!((m[0].name.as_str(), std::fs::read(&m[0].path).unwrap()), ("CIELO04.TXT", b"payload".to_vec()));
    }

    #[test]
    fn bombs_break_a_limit_as_they_expand() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let zeros = vec![b'0'; 4 << 20];
        let z = write(dir.path(), "bomb.zip", &zip_of(&[("a", &zeros)]));
        let tight = Limits { max_members: 10, max_total_bytes: 1 << 20, max_ratio: 1000, ratio_grace_bytes: 0 };
        let e = expand(&z, "bomb.zip", Compression::Zip, out.path(), &tight).unwrap_err();
        assert!(matches!(e, ArchiveError::TooLarge { .. }), "{e}");
        let ratio = Limits { max_members: 10, max_total_bytes: 1 << 30, max_ratio: 50, ratio_grace_bytes: 0 };
        let e = expand(&z, "bomb.zip", Compression::Zip, tempfile::tempdir().unwrap().path(), &ratio).unwrap_err();
        assert!(matches!(e, ArchiveError::Ratio { limit: 50, .. }), "{e}");
        let many: Vec<(String, &[u8])> = (0..5).map(|i| (format!("m{i}"), &b"x"[..])).collect();
        let many: Vec<(&str, &[u8])> = many.iter().map(|(n, b)| (n.as_str(), *b)).collect();
        let z = write(dir.path(), "many.zip", &zip_of(&many));
        let few = Limits { max_members: 4, ..Limits::default() };
        let e = expand(&z, "many.zip", Compression::Zip, tempfile::tempdir().unwrap().path(), &few).unwrap_err();
        assert!(matches!(e, ArchiveError::TooManyMembers { limit: 4 }), "{e}");
    }

    #[test]
    fn a_corrupt_or_empty_archive_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut bytes = zip_of(&[("a", b"hello hello hello")]);
        bytes.truncate(20);
        let z = write(dir.path(), "cut.zip", &bytes);
        assert!(matches!(
            expand(&z, "cut.zip", Compression::Zip, out.path(), &Limits::default()),
            Err(ArchiveError::Corrupt { .. })
        ));
        let z = write(dir.path(), "empty.zip", &zip_of(&[]));
        assert!(matches!(
            expand(&z, "empty.zip", Compression::Zip, out.path(), &Limits::default()),
            Err(ArchiveError::Empty)
        ));
        // A gzip stream cut short (its end and checksum missing) is an error, never a shorter statement.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&[b'7'; 10_000]).unwrap();
        let mut bytes = gz.finish().unwrap();
        bytes.truncate(bytes.len() - 6);
        let g = write(dir.path(), "cut.gz", &bytes);
        let r = expand(&g, "cut.gz", Compression::Gzip, out.path(), &Limits::default());
        assert!(matches!(r, Err(ArchiveError::Corrupt { .. })), "{r:?}");
        // Garbage after a gzip header: a corrupt deflate stream.
        let g = write(dir.path(), "bad.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x00\x01\\\n\x1b[31mred\x00\xff");
        let r = expand(&g, "bad.gz", Compression::Gzip, out.path(), &Limits::default());
        assert!(matches!(r, Err(ArchiveError::Corrupt { .. })), "{r:?}");
    }
}
