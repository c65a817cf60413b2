//! Where statements come from. This version reads a local folder; FTPS and S3 sources implement the same
//! small trait (list what is there, fetch one to a local file).

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
    /// Candidate statement files, sorted by name.
    fn list(&self) -> Result<Vec<SourceFile>>;
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

    fn list(&self) -> Result<Vec<SourceFile>> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            let path = entry.path();
            let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if !meta.is_file() || !is_candidate_name(&name) {
                continue;
            }
            files.push(SourceFile { name, size: meta.len(), modified: meta.modified().ok(), local_path: path });
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files)
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

/// Display name of a local path (its file name).
pub fn display_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| path.display().to_string())
}
