//! Where statements come from: one small trait, [`StatementSource`] — list what is there, fetch one file to
//! a local file, settle it once ingested — implemented by a local folder ([`FolderSource`]), the S3 inbox
//! ([`s3::S3Store`]) and an acquirer's FTPS server ([`ftps::FtpsSource`]). A file is a [`ListedFile`] until
//! fetched, then a [`FetchedFile`]; a [`FileRef`] is a listed file with the kind of its source, small enough
//! to travel in a state machine's state or an SQS message. Discovering and ingesting over any source is one
//! path, in `intake`.

#[cfg(feature = "sources")]
pub mod api;
#[cfg(feature = "sources")]
pub mod ftps;
#[cfg(feature = "sources")]
pub mod s3;

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

/// What a source's operations return: a future that can move between threads.
pub type SourceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// A statement file as its source lists it, before any download. `name`, `size` and `modified` (where the
/// source's listing says it) identify it: the same three listed again are the same delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedFile {
    /// The name in the source: a file name (folder, FTPS), a key below the inbox (S3).
    pub name: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<DateTime<Utc>>,
    /// A copy of this file already kept elsewhere (an FTPS file's raw copy in S3, by key), fetched instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<String>,
}

impl ListedFile {
    /// The last segment of the name: the delivery's file name.
    pub fn file_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }
}

/// A listed file's bytes in a local file, for as long as this value lives (a download's temporary folder
/// goes with it; a folder's file is read where it is).
#[derive(Debug)]
pub struct FetchedFile {
    pub path: PathBuf,
    /// The key of the copy it was read from, when not from the source itself.
    pub from_copy: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl FetchedFile {
    /// A file read in place.
    pub fn in_place(path: PathBuf) -> FetchedFile {
        FetchedFile { path, from_copy: None, _dir: None }
    }

    /// A file downloaded into `dir` (deleted with this value).
    pub fn downloaded(path: PathBuf, dir: tempfile::TempDir, from_copy: Option<String>) -> FetchedFile {
        FetchedFile { path, from_copy, _dir: Some(dir) }
    }
}

/// A temporary folder to download one file into.
pub fn download_dir() -> Result<tempfile::TempDir> {
    tempfile::Builder::new().prefix("syncrocardpay-fetch-").tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))
}

/// What came of an ingested file, as its source needs it to settle the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// The first reason, when the file was rejected; none when it was read (loaded, staged, or a duplicate).
    pub rejected: Option<String>,
    /// Where the content belongs, to file a copy under: acquirer code, merchant, processing date.
    pub filing: Option<Filing>,
}

/// Where a statement's content belongs (`<acquirer>/<merchant>/<date>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    pub acquirer: String,
    pub merchant: String,
    pub date: String,
}

/// A place statements are listed and fetched from.
pub trait StatementSource: Send + Sync {
    /// Which kind of source this is (what a [`FileRef`] names).
    fn kind(&self) -> SourceKind;
    /// A short label stored with each delivery (`folder:/srv/inbox`, `s3://bucket/prefix`,
    /// `ftps://user@host:21/dir`); never a secret.
    fn label(&self) -> String;
    /// Whether a file stays listed after it is settled (a folder, an FTPS server: a file listed again with the
    /// same name, size and time was already dealt with), or leaves (the S3 inbox: whatever is listed waits).
    fn keeps_settled_files(&self) -> bool {
        true
    }
    /// Candidate statement files, sorted by name, and the entries refused with the reason (each is reported
    /// as a failure of its own; the others go on).
    fn list(&self) -> SourceFuture<'_, Listing>;
    /// The file's bytes in a local file, complete and of the listed size, or an error:
    /// [`Error::SourceMissing`] when it is gone, [`Error::AlreadyArchived`] when another delivery took it.
    fn fetch<'a>(&'a self, file: &'a ListedFile) -> SourceFuture<'a, FetchedFile>;
    /// Settle a file once ingested (archive it, keep a copy of it…). Returns the key of the copy kept of it,
    /// if any, for the file to be staged again from there.
    fn settle<'a>(
        &'a self,
        file: &'a ListedFile,
        fetched: &'a FetchedFile,
        settlement: &'a Settlement,
    ) -> SourceFuture<'a, Option<String>>;
}

/// The kinds of source a [`FileRef`] can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Folder,
    S3,
    Ftps,
}

/// A listed file and the kind of source it is listed in: what discovery hands to the ingest queue (never the
/// content). `{"source":"s3","name":"2026/CIELO03.TXT","size":10}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub source: SourceKind,
    #[serde(flatten)]
    pub file: ListedFile,
}

impl FileRef {
    /// The file's name for messages.
    pub fn name(&self) -> &str {
        &self.file.name
    }
}

/// What a listing found: the files to read, and the entries refused.
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<ListedFile>,
    pub refused: Vec<Refused>,
}

/// A listed name that is never fetched, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    pub name: String,
    pub reason: String,
}

/// A path to read as a statement: a regular file (after links), never a FIFO, socket or device (`/dev/zero`
/// would be read for ever). The path is given by the user, so a link is followed.
pub fn check_regular_file(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        Ok(())
    } else {
        Err(Error::Refused {
            name: printable_name(&path.display().to_string()),
            reason: format!("not a regular file ({}): only files are read", kind_of(&meta.file_type())),
        })
    }
}

fn kind_of(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a file"
    }
}

/// A local inbox folder (not recursive). Hidden files and names ending in `.part`, `.tmp` or `.partial`
/// (downloads in progress) are skipped.
pub struct FolderSource {
    dir: PathBuf,
}

impl FolderSource {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FolderSource { dir: dir.into() }
    }
}

/// Whether a file name looks like a finished statement (not hidden, not a partial download).
pub fn is_candidate_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.starts_with('.') && ![".part", ".tmp", ".partial", ".crdownload"].iter().any(|s| lower.ends_with(s))
}

impl FolderSource {
    /// The inbox's files. A symbolic link is followed only when it resolves inside the inbox (a link to
    /// another file of the machine is refused, and said so); a dangling or unreadable entry, a FIFO, socket
    /// or device is refused on its own, never stopping the others.
    fn list_now(&self) -> Result<Listing> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let inbox = std::fs::canonicalize(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let mut listing = Listing::default();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if !is_candidate_name(&name) {
                continue;
            }
            let mut refuse = |reason: String| listing.refused.push(Refused { name: name.clone(), reason });
            let own = match entry.file_type() {
                Ok(t) => t,
                Err(e) => {
                    refuse(format!("cannot be examined: {e}"));
                    continue;
                }
            };
            if own.is_symlink() {
                match std::fs::canonicalize(&path) {
                    Ok(target) if !target.starts_with(&inbox) => {
                        refuse(format!(
                            "a symbolic link to {}, outside the inbox: refused (links must stay inside it)",
                            printable_name(&target.display().to_string())
                        ));
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        refuse(format!("a symbolic link whose target cannot be reached: {e}"));
                        continue;
                    }
                }
            }
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    refuse(format!("cannot be examined: {e}"));
                    continue;
                }
            };
            if meta.is_dir() {
                continue;
            }
            if !meta.is_file() {
                refuse(format!("not a regular file ({})", kind_of(&meta.file_type())));
                continue;
            }
            let modified = meta.modified().ok().map(DateTime::<Utc>::from);
            listing.files.push(ListedFile { name, size: meta.len(), modified, copy: None });
        }
        listing.files.sort_by(|a, b| a.name.cmp(&b.name));
        listing.refused.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listing)
    }
}

impl StatementSource for FolderSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Folder
    }

    fn label(&self) -> String {
        format!("folder:{}", self.dir.display())
    }

    fn list(&self) -> SourceFuture<'_, Listing> {
        Box::pin(async move { self.list_now() })
    }

    /// The file where it is, checked to be the listed one still (a regular file of the listed size).
    fn fetch<'a>(&'a self, file: &'a ListedFile) -> SourceFuture<'a, FetchedFile> {
        Box::pin(async move {
            if file.name.contains('/') || !is_candidate_name(&file.name) {
                return Err(Error::Refused {
                    name: printable_name(&file.name),
                    reason: "not a file name of this inbox".into(),
                });
            }
            let path = self.dir.join(&file.name);
            match std::fs::metadata(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::SourceMissing(format!("{}: no longer in the inbox", path.display())))
                }
                Err(e) => return Err(Error::io(&path, e)),
                Ok(_) => check_regular_file(&path)?,
            }
            Ok(FetchedFile::in_place(path))
        })
    }

    /// A folder's files stay where they are: what came of each is recorded with its delivery.
    fn settle<'a>(
        &'a self,
        _: &'a ListedFile,
        _: &'a FetchedFile,
        _: &'a Settlement,
    ) -> SourceFuture<'a, Option<String>> {
        Box::pin(async { Ok(None) })
    }
}

/// Refuse a file name with control characters (a newline, a NUL, an escape…): stored in the database,
/// printed in logs and reports, or used in an S3 key, it would forge lines or break keys.
pub fn check_file_name(name: &str) -> Result<()> {
    if name.chars().any(char::is_control) {
        return Err(Error::UnsafeName {
            name: printable_name(name),
            reason: "it contains control characters (newline, NUL, escape…); rename the file".into(),
        });
    }
    Ok(())
}

/// A name safe to print on one line: control characters escaped (`\n`, `\u{0}`), the rest as is.
pub fn printable_name(name: &str) -> String {
    if !name.chars().any(char::is_control) {
        return name.to_string();
    }
    name.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// A short local file name for a remote name of any length (S3 keys reach 1 024 bytes, a file name 255):
/// `<prefix>-<first 16 hex digits of the name's sha256>`. The remote name stays the delivery's name, as data.
pub fn local_name(prefix: &str, remote: &str) -> String {
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(remote.as_bytes()));
    format!("{prefix}-{}", &digest[..16])
}

/// Display name of a local path (its file name).
pub fn display_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_small_tagged_json() {
        let file = ListedFile { name: "2026/CIELO03.TXT".into(), size: 10, modified: None, copy: None };
        let s3 = FileRef { source: SourceKind::S3, file };
        assert_eq!(serde_json::to_string(&s3).unwrap(), r#"{"source":"s3","name":"2026/CIELO03.TXT","size":10}"#);
        assert_eq!(s3.file.file_name(), "CIELO03.TXT");
        let ftps: FileRef = serde_json::from_str(
            r#"{"source":"ftps","name":"CIELO04.TXT","size":7,"modified":"2026-11-24T03:00:00Z","copy":"raw/x"}"#,
        )
        .unwrap();
        assert_eq!(
            (ftps.source, ftps.name(), ftps.file.copy.as_deref()),
            (SourceKind::Ftps, "CIELO04.TXT", Some("raw/x"))
        );
        assert!(ftps.file.modified.is_some());
        assert!(serde_json::from_str::<FileRef>(r#"{"source":"nfs","name":"x","size":1}"#).is_err());
        assert!(serde_json::from_str::<FileRef>(r#"{"source":"s3","size":1}"#).is_err(), "a name is required");
    }

    #[test]
    fn a_folder_lists_files_and_fetches_them_in_place() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("B.TXT"), b"bb").unwrap();
        std::fs::write(dir.path().join("A.TXT"), b"a").unwrap();
        std::fs::write(dir.path().join("C.TXT.part"), b"c").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let source = FolderSource::new(dir.path());
        let listing = block_on(source.list()).unwrap();
        let names: Vec<(&str, u64)> = listing.files.iter().map(|f| (f.name.as_str(), f.size)).collect();
        assert_eq!(names, [("A.TXT", 1), ("B.TXT", 2)]);
        assert!(listing.files.iter().all(|f| f.modified.is_some()));
        let fetched = block_on(source.fetch(&listing.files[1])).unwrap();
        assert_eq!(fetched.path, dir.path().join("B.TXT"));
        std::fs::remove_file(dir.path().join("A.TXT")).unwrap();
        assert!(matches!(block_on(source.fetch(&listing.files[0])), Err(Error::SourceMissing(_))));
        let outside = ListedFile { name: "../etc/passwd".into(), size: 1, modified: None, copy: None };
        assert!(matches!(block_on(source.fetch(&outside)), Err(Error::Refused { .. })));
    }

    /// Drive a source's future to completion (the folder's never waits on I/O readiness).
    fn block_on<T>(f: SourceFuture<'_, T>) -> Result<T> {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }
}
