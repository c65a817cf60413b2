//! The core's error type: what went wrong at the edges (I/O, database), never the content of a statement
//! (that is a [`crate::formats::Issue`] in the file's summary).

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    Connect { target: String, source: tokio_postgres::Error },
    #[error("database error: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("{path}: the file changed while it was being ingested (sha256 {before} then {after}); nothing was loaded")]
    FileChanged { path: PathBuf, before: String, after: String },
    #[error("file {file_id}: {detail}")]
    Integrity { file_id: i64, detail: String },
    #[error("local PostgreSQL: {0}")]
    LocalPostgres(String),
    /// The file is no longer where it was listed (deleted, or moved by another delivery).
    #[error("{0}")]
    SourceMissing(String),
    /// The file was already archived by another delivery that processed it.
    #[error("{0}")]
    AlreadyArchived(String),
    /// A source or setting the work needs is not configured.
    #[error("not configured: {0}")]
    NotConfigured(String),
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Whether trying again later may succeed (network, database, a file changing under us), as opposed to
    /// an answer that will not change by retrying (a missing file, a setting absent, an integrity breach).
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            Error::SourceMissing(_) | Error::AlreadyArchived(_) | Error::NotConfigured(_) | Error::Integrity { .. }
        )
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
