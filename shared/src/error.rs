//! The core's error type: what went wrong at the edges (I/O, database), never the content of a statement
//! (that is a [`crate::formats::Issue`] in the file's summary).

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[cfg(feature = "store")]
    #[error("cannot connect to PostgreSQL at {target}: {}", describe_pg(.source))]
    Connect { target: String, source: tokio_postgres::Error },
    #[cfg(feature = "store")]
    #[error("database error: {}", describe_pg(.0))]
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
    /// A file name that would be unsafe to store, print or use as a key (control characters…).
    #[error("{name}: file name refused: {reason}")]
    UnsafeName { name: String, reason: String },
    /// A file that will not be read as it is: a link leaving its inbox, a FIFO or device, an entry that
    /// cannot be examined.
    #[error("{name}: refused: {reason}")]
    Refused { name: String, reason: String },
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Whether trying again later may succeed (network, database, a file changing under us), as opposed to
    /// an answer that will not change by retrying (a missing file, a setting absent, an integrity breach).
    pub fn is_transient(&self) -> bool {
        // The database refusing the data itself (class 22, data exception: a value out of range, a NUL in
        // text; class 23, integrity constraint violation) answers the same every time.
        #[cfg(feature = "store")]
        if let Error::Db(e) = self {
            if e.code().is_some_and(|c| c.code().starts_with("22") || c.code().starts_with("23")) {
                return false;
            }
        }
        !matches!(
            self,
            Error::SourceMissing(_)
                | Error::AlreadyArchived(_)
                | Error::NotConfigured(_)
                | Error::Integrity { .. }
                | Error::UnsafeName { .. }
                | Error::Refused { .. }
        )
    }

    /// Whether the same database work, done again on a new connection after a pause, may succeed: the server
    /// restarting or refusing connections, a connection lost, a statement cancelled by `statement_timeout` or
    /// `lock_timeout`, a serialisation failure or deadlock. Not a wrong password, a missing database or a
    /// constraint violation: those fail at once.
    #[cfg(feature = "store")]
    pub fn is_retryable_db(&self) -> bool {
        let e = match self {
            Error::Connect { source, .. } => {
                // What the settings say cannot change by trying again: a connection string that does not
                // parse, a missing password ("invalid configuration"), a TLS handshake refused (no TLS on a
                // server that must have it, a certificate that does not verify). Fail at once, saying so.
                let text = source.to_string();
                if source.code().is_none()
                    && ["invalid connection string", "invalid configuration", "error performing TLS handshake"]
                        .iter()
                        .any(|p| text.starts_with(p))
                {
                    return false;
                }
                return !matches!(
                    source.code().map(|c| c.code()),
                    Some("28P01" | "28000" | "3D000" | "42501" | "42704")
                );
            }
            Error::Db(e) => e,
            _ => return false,
        };
        if e.is_closed() {
            return true;
        }
        match e.code().map(|c| c.code()) {
            Some(code) => {
                code.starts_with("08") // connection exception
                    || matches!(
                        code,
                        "57P01" | "57P02" | "57P03" // admin/crash shutdown, cannot connect now
                            | "57014" // query cancelled (statement_timeout)
                            | "55P03" // lock not available (lock_timeout)
                            | "40001" | "40P01" // serialisation failure, deadlock
                            | "53300" // too many connections
                    )
            }
            // No SQLSTATE: an I/O error on the socket (reset, broken pipe, timeout).
            None => std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

/// What PostgreSQL said, for people: the server's message with its SQLSTATE, detail and hint, or the client
/// side's error and its cause (tokio-postgres alone prints only "db error" or "error connecting to server").
#[cfg(feature = "store")]
pub fn describe_pg(e: &tokio_postgres::Error) -> String {
    if let Some(d) = e.as_db_error() {
        let mut s = format!("{} (SQLSTATE {})", d.message(), d.code().code());
        if let Some(detail) = d.detail() {
            s.push_str(&format!("; {detail}"));
        }
        if let Some(hint) = d.hint() {
            s.push_str(&format!("; hint: {hint}"));
        }
        return s;
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}
