//! Where statements come from. This version reads a local folder; FTPS and S3 sources implement the same
//! small trait (list what is there, fetch one to a local file).

#[cfg(feature = "sources")]
pub mod api;
#[cfg(feature = "sources")]
pub mod ftps;
#[cfg(feature = "sources")]
pub mod s3;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A statement file as a source lists it, before download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Name as the source shows it (file name, object key…).
    pub name: String,
    pub size: u64,
    pub modified: Option<SystemTime>,
    /// Where the bytes are locally (for a folder: the file itself).
    pub local_path: PathBuf,
}

/// A place statements are listed and fetched from.
pub trait StatementSource {
    /// A short label stored with each delivery, e.g. `folder:/srv/inbox`.
    fn label(&self) -> String;
    /// Candidate statement files, sorted by name, and the entries refused with the reason (each is reported
    /// as a failure of its own; the others go on).
    fn list(&self) -> Result<Listing>;
}

/// What a listing found: the files to read, and the entries refused.
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<SourceFile>,
    /// (name, reason)
    pub refused: Vec<(String, String)>,
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

impl StatementSource for FolderSource {
    fn label(&self) -> String {
        format!("folder:{}", self.dir.display())
    }

    /// The inbox's files. A symbolic link is followed only when it resolves inside the inbox (a link to
    /// another file of the machine is refused, and said so); a dangling or unreadable entry, a FIFO, socket
    /// or device is refused on its own, never stopping the others.
    fn list(&self) -> Result<Listing> {
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
            let mut refuse = |reason: String| listing.refused.push((name.clone(), reason));
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
            listing.files.push(SourceFile { name, size: meta.len(), modified: meta.modified().ok(), local_path: path });
        }
        listing.files.sort_by(|a, b| a.name.cmp(&b.name));
        listing.refused.sort();
        Ok(listing)
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
