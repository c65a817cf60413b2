//! The statement store: control rows, staging by binary COPY, set-based loading into the star schema,
//! and rejection records. One file's facts appear in one transaction or not at all.
//!
//! By concern: this module holds the statement files' control rows and their statuses; [`remote`] what
//! came of the files the sources listed, and the run lease; [`staging`] a file's records as staging rows;
//! [`load`] staged rows into facts (and a re-sent or restating statement replacing earlier facts);
//! [`withdraw`] a loaded file taken out; [`totals`] what the database holds.

use super::bulk;
use crate::error::{Error, Result};
use crate::formats::{Issue, StatementSummary};
use crate::model::{Record, RecordKind};
use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{GenericClient, Transaction};

mod load;
mod remote;
mod staging;
mod totals;
mod withdraw;

pub use load::*;
pub use remote::*;
pub use staging::*;
pub use totals::*;
pub use withdraw::*;

/// Status of a statement file in `statement_file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Received,
    Staged,
    Loaded,
    Rejected,
    /// Replaced by a re-sent statement of the same identity: its facts are gone, its row kept.
    Superseded,
    /// Withdrawn by an operator (`unload`): its facts are gone, its row kept; its content may come again.
    Withdrawn,
}

impl FileStatus {
    pub const ALL: [FileStatus; 6] = [
        FileStatus::Received,
        FileStatus::Staged,
        FileStatus::Loaded,
        FileStatus::Rejected,
        FileStatus::Superseded,
        FileStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Received => "received",
            FileStatus::Staged => "staged",
            FileStatus::Loaded => "loaded",
            FileStatus::Rejected => "rejected",
            FileStatus::Superseded => "superseded",
            FileStatus::Withdrawn => "withdrawn",
        }
    }
    /// The status a control row holds; an unknown one is an error (the CHECK constraint lists the same
    /// values), never taken for `received`.
    pub fn parse(s: &str) -> Result<FileStatus> {
        Ok(match s {
            "received" => FileStatus::Received,
            "staged" => FileStatus::Staged,
            "loaded" => FileStatus::Loaded,
            "rejected" => FileStatus::Rejected,
            "superseded" => FileStatus::Superseded,
            "withdrawn" => FileStatus::Withdrawn,
            other => {
                return Err(crate::error::Error::Other(format!("statement_file holds an unknown status {other:?}")))
            }
        })
    }
}

/// What came of a file a source listed (`remote_file.status`; V7's CHECK lists the same values): the
/// discovery and ingest's record of a remote path, size and time, apart from the statement it held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RemoteFileStatus {
    /// Listed by a run; no ingest has answered yet.
    Discovered,
    /// Fetched, validated and staged; the load step adds it to the facts.
    Staged,
    Loaded,
    /// Its content was already loaded (under this or another name).
    Duplicate,
    Rejected,
    /// An attempt failed (fetch, database, staging lost): fetched again by the next run.
    Failed,
}

impl RemoteFileStatus {
    pub const ALL: [RemoteFileStatus; 6] = [
        RemoteFileStatus::Discovered,
        RemoteFileStatus::Staged,
        RemoteFileStatus::Loaded,
        RemoteFileStatus::Duplicate,
        RemoteFileStatus::Rejected,
        RemoteFileStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RemoteFileStatus::Discovered => "discovered",
            RemoteFileStatus::Staged => "staged",
            RemoteFileStatus::Loaded => "loaded",
            RemoteFileStatus::Duplicate => "duplicate",
            RemoteFileStatus::Rejected => "rejected",
            RemoteFileStatus::Failed => "failed",
        }
    }

    /// The status a `remote_file` row holds; an unknown one is an error.
    pub fn parse(s: &str) -> Result<RemoteFileStatus> {
        RemoteFileStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| Error::Other(format!("remote_file holds an unknown status {s:?}")))
    }

    /// Whether the file is dealt with for good (discovery does not fetch it again): staged, loaded, a
    /// duplicate or rejected.
    pub fn is_done(self) -> bool {
        !matches!(self, RemoteFileStatus::Discovered | RemoteFileStatus::Failed)
    }
}

impl From<crate::pipeline::Outcome> for RemoteFileStatus {
    fn from(o: crate::pipeline::Outcome) -> RemoteFileStatus {
        use crate::pipeline::Outcome;
        match o {
            Outcome::Loaded => RemoteFileStatus::Loaded,
            Outcome::Staged => RemoteFileStatus::Staged,
            Outcome::Duplicate => RemoteFileStatus::Duplicate,
            Outcome::Rejected => RemoteFileStatus::Rejected,
        }
    }
}

impl std::fmt::Display for RemoteFileStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A statement file's control row, as far as the pipeline needs it.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub file_id: i64,
    pub status: FileStatus,
}

/// The file with this content, if it was ever seen.
pub async fn find_by_sha256(db: &impl GenericClient, sha256: &str) -> Result<Option<FileRow>> {
    let row = db.query_opt("SELECT file_id, status FROM statement_file WHERE sha256 = $1", &[&sha256]).await?;
    row.map(|r| Ok(FileRow { file_id: r.get(0), status: FileStatus::parse(r.get(1))? })).transpose()
}

/// Which of these contents were already loaded.
pub async fn loaded_sha256s(db: &impl GenericClient, sha256s: &[String]) -> Result<Vec<String>> {
    let rows =
        db.query("SELECT sha256 FROM statement_file WHERE sha256 = ANY($1) AND status = 'loaded'", &[&sha256s]).await?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

/// Register a delivery of this content (creating its control row the first time) and count the attempt.
pub async fn register(
    db: &impl GenericClient,
    sha256: &str,
    size: u64,
    file_name: &str,
    source: &str,
) -> Result<FileRow> {
    let row = db
        .query_one(
            "INSERT INTO statement_file (sha256, size_bytes, file_name, source, status, attempts, started_at)
             VALUES ($1, $2, $3, $4, 'received', 1, now())
             ON CONFLICT (sha256) DO UPDATE
                SET attempts = statement_file.attempts + 1, started_at = now(), updated_at = now()
             RETURNING file_id, status",
            &[&sha256, &(size as i64), &file_name, &source],
        )
        .await?;
    Ok(FileRow { file_id: row.get(0), status: FileStatus::parse(row.get(1))? })
}

/// Lock the control row for the rest of the transaction and read its status: concurrent ingesters of the
/// same content queue here, and the later ones find it loaded.
pub async fn lock_file(tx: &Transaction<'_>, file_id: i64) -> Result<FileStatus> {
    let row = tx.query_one("SELECT status FROM statement_file WHERE file_id = $1 FOR UPDATE", &[&file_id]).await?;
    FileStatus::parse(row.get(0))
}

/// Record that ingesting a file failed (not a rejection: the file could not be processed at all), with the
/// error: a `failed` delivery, and the error on the control row while it is still `received`.
pub async fn record_failure(
    db: &impl GenericClient,
    file_id: i64,
    file_name: &str,
    source: &str,
    error: &str,
) -> Result<()> {
    record_delivery(db, file_id, file_name, source, "failed", Some(error)).await?;
    db.execute(
        "UPDATE statement_file SET error = $2, updated_at = now() WHERE file_id = $1 AND status = 'received'",
        &[&file_id, &error],
    )
    .await?;
    Ok(())
}

/// Log one delivery (any outcome) of a file.
pub async fn record_delivery(
    db: &impl GenericClient,
    file_id: i64,
    file_name: &str,
    source: &str,
    outcome: &str,
    detail: Option<&str>,
) -> Result<()> {
    db.execute(
        "INSERT INTO statement_delivery (file_id, file_name, source, outcome, detail) VALUES ($1, $2, $3, $4, $5)",
        &[&file_id, &file_name, &source, &outcome, &detail],
    )
    .await?;
    Ok(())
}

/// Copy the header facts and totals of a validated summary onto the control row: each column named beside
/// its value (the statement is written from the list), the per-kind counts from [`RecordKind`].
async fn describe_file(db: &impl GenericClient, file_id: i64, s: &StatementSummary, status: FileStatus) -> Result<()> {
    let first_error = s.errors.first().map(|i| i.to_string());
    let status = status.as_str();
    let (acquirer, file_type, file_kind) = (
        s.acquirer.map(|a| a.code()),
        s.file_type.as_ref().map(|t| t.code.as_str()),
        s.file_type.as_ref().map(|t| t.kind),
    );
    let (lines, errors, anomalies) = (s.lines as i64, s.error_count as i64, s.anomaly_count as i64);
    let trailer_reading = s.trailer.as_ref().map(|t| t.reading);
    let counts: Vec<(&str, i64)> =
        RecordKind::ALL.iter().map(|&k| (k.count_column(), s.totals_of(k).count as i64)).collect();
    let mut columns: Vec<(&str, &(dyn ToSql + Sync))> = vec![
        ("status", &status),
        ("acquirer", &acquirer),
        ("layout_version", &s.layout_version),
        ("code_set", &s.code_set),
        ("file_type", &file_type),
        ("file_kind", &file_kind),
        ("merchant_code", &s.merchant_code),
        ("processing_date", &s.processing_date),
        ("period_start", &s.period_start),
        ("period_end", &s.period_end),
        ("sequence", &s.sequence),
        ("line_count", &lines),
        ("ur_gross_total", &s.receivable_units.gross),
        ("ur_fee_total", &s.receivable_units.fee),
        ("ur_net_total", &s.receivable_units.net),
        ("tx_gross_total", &s.transactions.gross),
        ("tx_fee_total", &s.transactions.fee),
        ("tx_net_total", &s.transactions.net),
        ("pix_gross_total", &s.pix.gross),
        ("pix_net_total", &s.pix.net),
        ("negotiation_gross_total", &s.negotiations.gross),
        ("negotiation_net_total", &s.negotiations.net),
        ("merchant_sale_gross_total", &s.merchant_sales.gross),
        ("error_count", &errors),
        ("error", &first_error),
        ("anomaly_count", &anomalies),
        ("trailer_reading", &trailer_reading),
    ];
    columns.extend(counts.iter().map(|(c, n)| (*c, n as &(dyn ToSql + Sync))));
    // Column names are the constants above and RecordKind's, never input. `status` is $2.
    let sets: Vec<String> = columns.iter().enumerate().map(|(i, (c, _))| format!("{c} = ${}", i + 2)).collect();
    let sql = format!(
        "UPDATE statement_file SET {}, staged_at = CASE WHEN $2::text = 'staged' THEN now() ELSE staged_at END,
                updated_at = now()
          WHERE file_id = $1",
        sets.join(", ")
    );
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&file_id];
    params.extend(columns.iter().map(|(_, v)| *v));
    db.execute(&sql, &params).await?;
    Ok(())
}

/// Mark a file rejected and keep every kept issue (with the raw line) in `rejected_line`. One transaction.
pub async fn reject(db: &mut tokio_postgres::Client, file_id: i64, s: &StatementSummary) -> Result<()> {
    let tx = db.transaction().await?;
    describe_file(&tx, file_id, s, FileStatus::Rejected).await?;
    tx.execute("DELETE FROM rejected_line WHERE file_id = $1", &[&file_id]).await?;
    let lines: Vec<i64> = s.errors.iter().map(|i| i.line as i64).collect();
    let cols: Vec<Option<i32>> = s.errors.iter().map(|i| i.column.map(|c| c as i32)).collect();
    let fields: Vec<&str> = s.errors.iter().map(|i| i.field.as_str()).collect();
    let reasons: Vec<&str> = s.errors.iter().map(|i| i.reason.as_str()).collect();
    let raws: Vec<Option<&str>> = s.errors.iter().map(|i| i.raw_line.as_deref()).collect();
    tx.execute(
        "INSERT INTO rejected_line (file_id, line_no, byte_column, field, reason, raw_line)
         SELECT $1, * FROM unnest($2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[])",
        &[&file_id, &lines, &cols, &fields, &reasons, &raws],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The kept issues of a rejected file, in line order.
pub async fn rejected_lines(db: &impl GenericClient, file_id: i64) -> Result<Vec<Issue>> {
    let rows = db
        .query(
            "SELECT line_no, byte_column, field, reason FROM rejected_line WHERE file_id = $1 ORDER BY line_no, rejected_line_id",
            &[&file_id],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Issue {
            line: r.get::<_, i64>(0) as u64,
            column: r.get::<_, Option<i32>>(1).map(|c| c as usize),
            field: r.get(2),
            reason: r.get(3),
            raw_line: None,
        })
        .collect())
}

#[cfg(test)]
mod status_tests {
    use super::{FileStatus, RemoteFileStatus};

    #[test]
    fn every_status_reads_back_and_an_unknown_one_is_an_error() {
        for s in FileStatus::ALL {
            assert_eq!(FileStatus::parse(s.as_str()).unwrap(), s);
        }
        assert!(FileStatus::parse("archived").is_err());
        for s in RemoteFileStatus::ALL {
            assert_eq!(RemoteFileStatus::parse(s.as_str()).unwrap(), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!(RemoteFileStatus::parse("withdrawn").is_err());
        assert!(RemoteFileStatus::parse("Loaded").is_err());
    }
}
