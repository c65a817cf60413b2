//! The statement store: control rows, staging by binary COPY, set-based loading into the star schema,
//! and rejection records. One file's facts appear in one transaction or not at all.

use super::bulk;
use crate::error::{Error, Result};
use crate::formats::{Issue, StatementSummary};
use crate::model::{Record, RecordKind};
use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{GenericClient, Transaction};

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

/// Copy the header facts and totals of a validated summary onto the control row.
async fn describe_file(db: &impl GenericClient, file_id: i64, s: &StatementSummary, status: FileStatus) -> Result<()> {
    let first_error = s.errors.first().map(|i| i.to_string());
    db.execute(
        "UPDATE statement_file SET
            acquirer = $2, layout_version = $3, code_set = $23, file_type = $4, file_kind = $5, merchant_code = $6,
            processing_date = $7, period_start = $8, period_end = $9, sequence = $10, status = $11,
            line_count = $12, receivable_unit_count = $13, transaction_count = $14,
            ur_gross_total = $15, ur_fee_total = $16, ur_net_total = $17,
            tx_gross_total = $18, tx_fee_total = $19, tx_net_total = $20,
            error_count = $21, error = $22,
            pix_count = $24, negotiation_count = $25, negotiated_receivable_count = $26,
            negotiation_credit_count = $27, financial_reserve_count = $28,
            pix_gross_total = $29, pix_net_total = $30, negotiation_gross_total = $31, negotiation_net_total = $32,
            merchant_sale_count = $33, merchant_sale_gross_total = $34,
            anomaly_count = $35, trailer_reading = $36, anticipation_offset_count = $37,
            staged_at = CASE WHEN $11 = 'staged' THEN now() ELSE staged_at END,
            updated_at = now()
         WHERE file_id = $1",
        &[
            &file_id,
            &s.acquirer.map(|a| a.code()),
            &s.layout_version,
            &s.file_type.as_ref().map(|t| t.code.as_str()),
            &s.file_type.as_ref().map(|t| t.kind),
            &s.merchant_code,
            &s.processing_date,
            &s.period_start,
            &s.period_end,
            &s.sequence,
            &status.as_str(),
            &(s.lines as i64),
            &(s.receivable_units.count as i64),
            &(s.transactions.count as i64),
            &s.receivable_units.gross,
            &s.receivable_units.fee,
            &s.receivable_units.net,
            &s.transactions.gross,
            &s.transactions.fee,
            &s.transactions.net,
            &(s.error_count as i64),
            &first_error,
            &s.code_set,
            &(s.pix.count as i64),
            &(s.negotiations.count as i64),
            &(s.negotiated_receivables.count as i64),
            &(s.negotiation_credits.count as i64),
            &(s.financial_reserves.count as i64),
            &s.pix.gross,
            &s.pix.net,
            &s.negotiations.gross,
            &s.negotiations.net,
            &(s.merchant_sales.count as i64),
            &s.merchant_sales.gross,
            &(s.anomaly_count as i64),
            &s.trailer.as_ref().map(|t| t.reading),
            &(s.anticipation_offsets.count as i64),
        ],
    )
    .await?;
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

// ------------------------------------------------------------------------------------------ remote files

/// A file as a remote source lists it: its identity before download.
#[derive(Debug, Clone)]
pub struct RemoteIdentity<'a> {
    pub source: &'a str,
    pub path: &'a str,
    pub size: u64,
    pub modified: Option<chrono::DateTime<chrono::Utc>>,
}

/// Whether this exact listed file (same source, path, size and time) was already dealt with for good:
/// loaded, a duplicate of loaded content, or rejected. Failed attempts are tried again.
pub async fn remote_done(db: &impl GenericClient, id: &RemoteIdentity<'_>) -> Result<bool> {
    let row = db
        .query_opt(
            "SELECT status FROM remote_file
             WHERE source = $1 AND path = $2 AND size_bytes = $3 AND modified_at IS NOT DISTINCT FROM $4",
            &[&id.source, &id.path, &(id.size as i64), &id.modified],
        )
        .await?;
    match row {
        Some(r) => Ok(RemoteFileStatus::parse(r.get(0))?.is_done()),
        None => Ok(false),
    }
}

/// Register a listed file as discovered by `run`, unless it is already known (its status is then kept, and
/// the run that listed it again noted). Returns whether the row is new.
pub async fn remote_discovered(db: &impl GenericClient, id: &RemoteIdentity<'_>, run: Option<&str>) -> Result<bool> {
    let inserted: bool = db
        .query_one(
            "INSERT INTO remote_file (source, path, size_bytes, modified_at, status, attempts, changed, run_id)
             VALUES ($1, $2, $3, $4, 'discovered', 0,
                     EXISTS (SELECT 1 FROM remote_file r WHERE r.source = $1 AND r.path = $2
                               AND (r.size_bytes <> $3 OR r.modified_at IS DISTINCT FROM $4)), $5)
             ON CONFLICT (source, path, size_bytes, modified_at) DO UPDATE SET run_id = coalesce($5, remote_file.run_id)
             RETURNING xmax = 0",
            &[&id.source, &id.path, &(id.size as i64), &id.modified, &run],
        )
        .await?
        .get(0);
    Ok(inserted)
}

/// A listed file of a run that has no outcome yet (still `discovered`: no ingest answered) or failed.
#[derive(Debug, Clone)]
pub struct Unfinished {
    pub source: String,
    pub path: String,
    pub size: u64,
    pub modified: Option<chrono::DateTime<chrono::Utc>>,
    pub raw_key: Option<String>,
    /// What went wrong, when an attempt said.
    pub error: Option<String>,
}

/// A run's rejected files (path and first reason), at most `limit`.
pub async fn run_rejections(db: &impl GenericClient, run: &str, limit: i64) -> Result<Vec<(String, String)>> {
    Ok(db
        .query(
            "SELECT path, coalesce(error, 'rejected') FROM remote_file WHERE run_id = $1 AND status = 'rejected'
              ORDER BY remote_file_id LIMIT $2",
            &[&run, &limit],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// Staged files (id and name) not loaded yet (a load that never ran or failed), oldest first.
pub async fn staged_files(db: &impl GenericClient) -> Result<Vec<(i64, String)>> {
    let rows =
        db.query("SELECT file_id, file_name FROM statement_file WHERE status = 'staged' ORDER BY file_id", &[]).await?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// How the files a run listed came out, by `remote_file` status (`loaded`, `staged`, `duplicate`,
/// `rejected`, `failed`, `discovered`), and the unfinished ones.
pub async fn run_outcomes(
    db: &impl GenericClient,
    run: &str,
) -> Result<(Vec<(RemoteFileStatus, i64)>, Vec<Unfinished>)> {
    let counts = db
        .query("SELECT status, count(*) FROM remote_file WHERE run_id = $1 GROUP BY status ORDER BY status", &[&run])
        .await?
        .iter()
        .map(|r| Ok((RemoteFileStatus::parse(r.get(0))?, r.get(1))))
        .collect::<Result<_>>()?;
    let unfinished = db
        .query(
            "SELECT source, path, size_bytes, modified_at, raw_key, error FROM remote_file
              WHERE run_id = $1 AND status IN ('discovered', 'failed') ORDER BY remote_file_id",
            &[&run],
        )
        .await?
        .iter()
        .map(|r| Unfinished {
            source: r.get(0),
            path: r.get(1),
            size: r.get::<_, i64>(2) as u64,
            modified: r.get(3),
            raw_key: r.get(4),
            error: r.get(5),
        })
        .collect();
    Ok((counts, unfinished))
}

/// Files staged by an ingest and not loaded yet (a load that never ran or failed), oldest first.
pub async fn staged_file_ids(db: &impl GenericClient) -> Result<Vec<i64>> {
    let rows = db.query("SELECT file_id FROM statement_file WHERE status = 'staged' ORDER BY file_id", &[]).await?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

/// Record what came of a listed file. The same path seen before with another size or time is flagged
/// `changed`.
#[allow(clippy::too_many_arguments)]
pub async fn remote_record(
    db: &impl GenericClient,
    id: &RemoteIdentity<'_>,
    status: RemoteFileStatus,
    sha256: Option<&str>,
    file_id: Option<i64>,
    raw_key: Option<&str>,
    error: Option<&str>,
) -> Result<()> {
    db.execute(
        "INSERT INTO remote_file (source, path, size_bytes, modified_at, status, sha256, file_id, raw_key, error, changed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                 EXISTS (SELECT 1 FROM remote_file r WHERE r.source = $1 AND r.path = $2
                           AND (r.size_bytes <> $3 OR r.modified_at IS DISTINCT FROM $4)))
         ON CONFLICT (source, path, size_bytes, modified_at) DO UPDATE
            SET status = EXCLUDED.status, sha256 = EXCLUDED.sha256, file_id = EXCLUDED.file_id,
                raw_key = coalesce(EXCLUDED.raw_key, remote_file.raw_key), error = EXCLUDED.error,
                attempts = remote_file.attempts + 1, updated_at = now()",
        &[&id.source, &id.path, &(id.size as i64), &id.modified, &status.as_str(), &sha256, &file_id, &raw_key, &error],
    )
    .await?;
    Ok(())
}

// ------------------------------------------------------------------------------------------ staging

/// Declares `StageRow` (one row of `stage_record`, every column optional) and the COPY column list from one
/// table, so that the two can never drift apart.
macro_rules! stage_columns {
    ($($name:ident: $ty:ty = $pg:ident),* $(,)?) => {
        /// One row of `stage_record`: any staged record kind, columns it does not have left NULL.
        #[derive(Default)]
        pub(super) struct StageRow {
            $(pub(super) $name: Option<$ty>,)*
        }
        pub(super) const STAGE_COLUMNS: &[(&str, Type)] = &[$((stringify!($name), Type::$pg)),*];
        impl StageRow {
            pub(super) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
                vec![$(&self.$name as &(dyn ToSql + Sync)),*]
            }
        }
    };
}

stage_columns! {
    file_id: i64 = INT8,
    line_no: i64 = INT8,
    kind: &'static str = TEXT,
    merchant_code: String = TEXT,
    brand_code: String = TEXT,
    settlement_type_code: String = TEXT,
    posting_type_code: String = TEXT,
    ur_key: String = TEXT,
    summary_number: String = TEXT,
    gross_amount: Decimal = NUMERIC,
    fee_amount: Decimal = NUMERIC,
    net_amount: Decimal = NUMERIC,
    bank_code: String = TEXT,
    branch_code: String = TEXT,
    account_number: String = TEXT,
    account_check_digit: String = TEXT,
    payment_matrix_code: String = TEXT,
    receiver_tax_id: String = TEXT,
    negotiator_tax_id: String = TEXT,
    negotiation_flag: String = TEXT,
    original_due_date: NaiveDate = DATE,
    holder_tax_id: String = TEXT,
    movement_holder_tax_id: String = TEXT,
    payment_status_code: String = TEXT,
    entry_count: i64 = INT8,
    payment_date: NaiveDate = DATE,
    sent_to_bank_date: NaiveDate = DATE,
    payment_merchant_code: String = TEXT,
    pending_flag: String = TEXT,
    payment_resend_flag: String = TEXT,
    open_balance_flag: String = TEXT,
    installment_plan: String = TEXT,
    presentation_date: NaiveDate = DATE,
    rejected_amount: Decimal = NUMERIC,
    fee_rate: Decimal = NUMERIC,
    installment: i32 = INT4,
    product_code: String = TEXT,
    adjustment_code: String = TEXT,
    capture_date: NaiveDate = DATE,
    installment_count: i32 = INT4,
    authorization_code: String = TEXT,
    transaction_code: String = TEXT,
    indicators: String = TEXT,
    card_bin: String = TEXT,
    card_last_digits: String = TEXT,
    nsu: String = TEXT,
    invoice_number: String = TEXT,
    tid: String = TEXT,
    order_reference: String = TEXT,
    mdr_rate: Decimal = NUMERIC,
    auto_receipt_rate: Decimal = NUMERIC,
    sale_rate: Decimal = NUMERIC,
    sale_total_amount: Decimal = NUMERIC,
    minimum_fee_amount: Decimal = NUMERIC,
    down_payment_amount: Decimal = NUMERIC,
    mdr_tariff_amount: Decimal = NUMERIC,
    fast_receipt_amount: Decimal = NUMERIC,
    withdrawal_amount: Decimal = NUMERIC,
    boarding_fee_amount: Decimal = NUMERIC,
    pending_amount: Decimal = NUMERIC,
    total_debt_amount: Decimal = NUMERIC,
    charged_amount: Decimal = NUMERIC,
    admin_tariff_amount: Decimal = NUMERIC,
    promo_amount: Decimal = NUMERIC,
    dcc_amount: Decimal = NUMERIC,
    sale_time: NaiveTime = TIME,
    card_group: String = TEXT,
    authorization_brand_code: String = TEXT,
    unique_sale_code: String = TEXT,
    original_sale_code: String = TEXT,
    negotiation_effect_id: String = TEXT,
    sales_channel: String = TEXT,
    terminal: String = TEXT,
    original_posting_type_code: String = TEXT,
    transaction_type: String = TEXT,
    pricing_modality: String = TEXT,
    authorization_date: NaiveDate = DATE,
    posting_date: NaiveDate = DATE,
    original_posting_date: NaiveDate = DATE,
    batch_number: String = TEXT,
    processed_transaction_code: String = TEXT,
    rejection_reason: String = TEXT,
    card_type: String = TEXT,
    card_origin: String = TEXT,
    arn: String = TEXT,
    capture_type: String = TEXT,
    // Pix (8), negotiation (A/B/C) and reserve (R) records (V3)
    group_line_no: i64 = INT8,
    transaction_date: NaiveDate = DATE,
    original_transaction_date: NaiveDate = DATE,
    original_transaction_time: NaiveTime = TIME,
    pix_id: String = TEXT,
    original_pix_id: String = TEXT,
    txid: String = TEXT,
    payout_pix_id: String = TEXT,
    nsu_long: String = TEXT,
    transfer_status_code: String = TEXT,
    automatic_transfer_flag: String = TEXT,
    scheduled_transfer_flag: String = TEXT,
    cielo_account_date: NaiveDate = DATE,
    tariff_amount: Decimal = NUMERIC,
    negotiation_date: NaiveDate = DATE,
    average_term_days: i32 = INT4,
    nominal_rate: Decimal = NUMERIC,
    effective_rate: Decimal = NUMERIC,
    operation_code: String = TEXT,
    payment_form_code: String = TEXT,
    financial_institution: String = TEXT,
    discount_amount: Decimal = NUMERIC,
    // Rede (V4)
    credit_document: String = TEXT,
    adjustment_reason: String = TEXT,
    // Merchant sales (V5)
    acquirer_name: String = TEXT,
    // Cielo layout 001 anticipations: the RO of a B, the offsets (O) (V15)
    original_gross_amount: Decimal = NUMERIC,
    original_net_amount: Decimal = NUMERIC,
    adjustment_ur_key: String = TEXT,
    adjustment_summary_number: String = TEXT,
    adjustment_payment_date: NaiveDate = DATE,
    adjustment_amount: Decimal = NUMERIC,
    offset_amount: Decimal = NUMERIC,
    balance_amount: Decimal = NUMERIC,
}

impl StageRow {
    fn new(file_id: i64, line_no: u64, kind: RecordKind) -> Self {
        StageRow {
            file_id: Some(file_id),
            line_no: Some(line_no as i64),
            kind: Some(kind.code()),
            ..Default::default()
        }
    }

    /// The staging row of a record (`None` for header and trailer, which live on `statement_file`).
    pub(super) fn of(file_id: i64, record: Record) -> Option<StageRow> {
        Some(match record {
            Record::ReceivableUnit(u) => {
                let u = *u;
                StageRow {
                    merchant_code: Some(u.merchant_code),
                    brand_code: Some(u.brand_code),
                    settlement_type_code: Some(u.settlement_type_code),
                    posting_type_code: Some(u.posting_type_code),
                    ur_key: Some(u.ur_key),
                    summary_number: Some(u.summary_number),
                    gross_amount: Some(u.gross_amount),
                    fee_amount: Some(u.fee_amount),
                    net_amount: Some(u.net_amount),
                    bank_code: Some(u.bank_code),
                    branch_code: Some(u.branch_code),
                    account_number: Some(u.account_number),
                    account_check_digit: Some(u.account_check_digit),
                    payment_matrix_code: Some(u.payment_matrix_code),
                    receiver_tax_id: Some(u.receiver_tax_id),
                    negotiator_tax_id: Some(u.negotiator_tax_id),
                    negotiation_flag: Some(u.negotiation_flag),
                    original_due_date: u.original_due_date,
                    holder_tax_id: Some(u.holder_tax_id),
                    movement_holder_tax_id: Some(u.movement_holder_tax_id),
                    payment_status_code: Some(u.payment_status_code),
                    entry_count: Some(u.entry_count as i64),
                    payment_date: u.payment_date,
                    sent_to_bank_date: u.sent_to_bank_date,
                    payment_merchant_code: Some(u.payment_merchant_code),
                    pending_flag: Some(u.pending_flag),
                    payment_resend_flag: Some(u.payment_resend_flag),
                    open_balance_flag: Some(u.open_balance_flag),
                    installment_plan: Some(u.installment_plan),
                    presentation_date: u.presentation_date,
                    rejected_amount: Some(u.rejected_amount),
                    fee_rate: u.fee_rate,
                    installment: Some(u.installment as i32),
                    product_code: u.product_code,
                    adjustment_code: u.adjustment_code,
                    capture_date: u.capture_date,
                    credit_document: Some(u.credit_document),
                    transaction_type: Some(u.transaction_type),
                    ..StageRow::new(file_id, u.line_no, RecordKind::ReceivableUnit)
                }
            }
            Record::Transaction(t) => {
                let t = *t;
                StageRow {
                    merchant_code: Some(t.merchant_code),
                    brand_code: Some(t.brand_code),
                    settlement_type_code: Some(t.settlement_type_code),
                    posting_type_code: Some(t.posting_type_code),
                    ur_key: Some(t.ur_key),
                    summary_number: Some(t.summary_number),
                    gross_amount: Some(t.gross_amount),
                    fee_amount: t.fee_amount,
                    net_amount: t.net_amount,
                    bank_code: Some(t.bank_code),
                    branch_code: Some(t.branch_code),
                    account_number: Some(t.account_number),
                    account_check_digit: Some(t.account_check_digit),
                    payment_matrix_code: Some(t.payment_matrix_code),
                    receiver_tax_id: Some(t.receiver_tax_id),
                    negotiator_tax_id: Some(t.negotiator_tax_id),
                    negotiation_flag: Some(t.negotiation_flag),
                    original_due_date: t.original_due_date,
                    installment: Some(t.installment as i32),
                    product_code: Some(t.product_code),
                    adjustment_code: t.adjustment_code,
                    capture_date: t.capture_date,
                    installment_count: Some(t.installment_count as i32),
                    authorization_code: Some(t.authorization_code),
                    transaction_code: Some(t.transaction_code),
                    indicators: Some(t.indicators),
                    card_bin: Some(t.card_bin),
                    card_last_digits: Some(t.card_last_digits),
                    nsu: Some(t.nsu),
                    invoice_number: Some(t.invoice_number),
                    tid: Some(t.tid),
                    order_reference: Some(t.order_reference),
                    mdr_rate: t.mdr_rate,
                    auto_receipt_rate: t.auto_receipt_rate,
                    sale_rate: t.sale_rate,
                    sale_total_amount: Some(t.sale_total_amount),
                    minimum_fee_amount: Some(t.minimum_fee_amount),
                    down_payment_amount: Some(t.down_payment_amount),
                    mdr_tariff_amount: Some(t.mdr_tariff_amount),
                    fast_receipt_amount: Some(t.fast_receipt_amount),
                    withdrawal_amount: Some(t.withdrawal_amount),
                    boarding_fee_amount: Some(t.boarding_fee_amount),
                    pending_amount: Some(t.pending_amount),
                    total_debt_amount: Some(t.total_debt_amount),
                    charged_amount: Some(t.charged_amount),
                    admin_tariff_amount: Some(t.admin_tariff_amount),
                    promo_amount: Some(t.promo_amount),
                    dcc_amount: Some(t.dcc_amount),
                    sale_time: t.sale_time,
                    card_group: Some(t.card_group),
                    authorization_brand_code: Some(t.authorization_brand_code),
                    unique_sale_code: Some(t.unique_sale_code),
                    original_sale_code: Some(t.original_sale_code),
                    negotiation_effect_id: Some(t.negotiation_effect_id),
                    sales_channel: Some(t.sales_channel),
                    terminal: Some(t.terminal),
                    original_posting_type_code: Some(t.original_posting_type_code),
                    transaction_type: Some(t.transaction_type),
                    pricing_modality: Some(t.pricing_modality),
                    authorization_date: t.authorization_date,
                    posting_date: t.posting_date,
                    original_posting_date: t.original_posting_date,
                    batch_number: Some(t.batch_number),
                    processed_transaction_code: Some(t.processed_transaction_code),
                    rejection_reason: Some(t.rejection_reason),
                    card_type: Some(t.card_type),
                    card_origin: Some(t.card_origin),
                    arn: Some(t.arn),
                    capture_type: Some(t.capture_type),
                    adjustment_reason: Some(t.adjustment_reason),
                    ..StageRow::new(file_id, t.line_no, RecordKind::CardTransaction)
                }
            }
            Record::Pix(p) => {
                let p = *p;
                StageRow {
                    merchant_code: Some(p.merchant_code),
                    transaction_type: Some(p.transaction_type_code),
                    transaction_date: p.transaction_date,
                    sale_time: p.transaction_time,
                    pix_id: Some(p.pix_id),
                    nsu: Some(p.nsu),
                    payment_date: p.payment_date,
                    gross_amount: Some(p.gross_amount),
                    fee_amount: Some(p.fee_amount),
                    net_amount: Some(p.net_amount),
                    bank_code: Some(p.bank_code),
                    branch_code: Some(p.branch_code),
                    account_number: Some(p.account_number),
                    capture_date: p.capture_date,
                    fee_rate: Some(p.fee_rate),
                    tariff_amount: Some(p.tariff_amount),
                    sales_channel: Some(p.sales_channel),
                    terminal: Some(p.terminal),
                    original_transaction_date: p.original_transaction_date,
                    original_transaction_time: p.original_transaction_time,
                    original_pix_id: Some(p.original_pix_id),
                    automatic_transfer_flag: Some(p.automatic_transfer_flag),
                    transfer_status_code: Some(p.transfer_status_code),
                    cielo_account_date: p.cielo_account_date,
                    nsu_long: Some(p.nsu_long),
                    scheduled_transfer_flag: Some(p.scheduled_transfer_flag),
                    txid: Some(p.txid),
                    payout_pix_id: Some(p.payout_pix_id),
                    ..StageRow::new(file_id, p.line_no, RecordKind::PixTransaction)
                }
            }
            Record::Negotiation(a) => {
                let a = *a;
                StageRow {
                    merchant_code: Some(a.merchant_code),
                    negotiation_date: a.negotiation_date,
                    payment_date: a.payment_date,
                    holder_tax_id: Some(a.holder_tax_id),
                    average_term_days: Some(a.average_term_days as i32),
                    nominal_rate: Some(a.nominal_rate),
                    gross_amount: Some(a.gross_amount),
                    net_amount: Some(a.net_amount),
                    operation_code: Some(a.operation_code),
                    payment_form_code: Some(a.payment_form_code),
                    effective_rate: a.effective_rate,
                    ..StageRow::new(file_id, a.line_no, RecordKind::ReceivablesNegotiation)
                }
            }
            Record::NegotiatedReceivable(b) => {
                let b = *b;
                let ro = b.summary;
                StageRow {
                    summary_number: ro.as_ref().map(|s| s.summary_number.clone()),
                    ur_key: ro.as_ref().map(|s| s.ur_key.clone()),
                    installment: ro.as_ref().map(|s| s.installment as i32),
                    installment_count: ro.as_ref().map(|s| s.installment_count as i32),
                    original_gross_amount: ro.as_ref().map(|s| s.original_gross_amount),
                    original_net_amount: ro.as_ref().map(|s| s.original_net_amount),
                    group_line_no: Some(b.negotiation_line_no as i64),
                    merchant_code: Some(b.merchant_code),
                    negotiation_date: b.negotiation_date,
                    original_due_date: b.original_due_date,
                    holder_tax_id: Some(b.holder_tax_id),
                    brand_code: Some(b.brand_code),
                    settlement_type_code: Some(b.settlement_type_code),
                    gross_amount: Some(b.gross_amount),
                    net_amount: Some(b.net_amount),
                    effective_rate: Some(b.effective_rate),
                    financial_institution: Some(b.financial_institution),
                    discount_amount: b.discount_amount,
                    ..StageRow::new(file_id, b.line_no, RecordKind::NegotiatedReceivable)
                }
            }
            Record::NegotiationCredit(c) => {
                let c = *c;
                StageRow {
                    group_line_no: Some(c.negotiation_line_no as i64),
                    merchant_code: Some(c.merchant_code),
                    bank_code: Some(c.bank_code),
                    branch_code: Some(c.branch_code),
                    account_number: Some(c.account_number),
                    gross_amount: Some(c.deposited_amount),
                    ..StageRow::new(file_id, c.line_no, RecordKind::NegotiationCredit)
                }
            }
            Record::FinancialReserve(r) => {
                let r = *r;
                StageRow {
                    merchant_code: Some(r.merchant_code),
                    movement_holder_tax_id: Some(r.movement_holder_tax_id),
                    brand_code: Some(r.brand_code),
                    payment_matrix_code: Some(r.payment_matrix_code),
                    gross_amount: Some(r.reserve_amount),
                    ur_key: Some(r.ur_key),
                    original_due_date: r.original_due_date,
                    payment_merchant_code: Some(r.payment_merchant_code),
                    ..StageRow::new(file_id, r.line_no, RecordKind::FinancialReserve)
                }
            }
            Record::AnticipationOffset(o) => {
                let o = *o;
                StageRow {
                    merchant_code: Some(o.merchant_code),
                    ur_key: Some(o.ur_key),
                    summary_number: Some(o.summary_number),
                    payment_date: o.payment_date,
                    gross_amount: Some(o.summary_amount),
                    adjustment_ur_key: Some(o.adjustment_origin_ur_key),
                    adjustment_summary_number: Some(o.adjustment_summary_number),
                    adjustment_payment_date: o.adjustment_payment_date,
                    adjustment_amount: Some(o.adjustment_amount),
                    offset_amount: Some(o.offset_amount),
                    balance_amount: Some(o.balance_amount),
                    ..StageRow::new(file_id, o.line_no, RecordKind::AnticipationOffset)
                }
            }
            Record::MerchantSale(m) => {
                let m = *m;
                StageRow {
                    merchant_code: Some(m.merchant_code),
                    order_reference: Some(m.sale_id),
                    authorization_date: m.sale_date,
                    sale_time: m.sale_time,
                    nsu: Some(m.nsu),
                    authorization_code: Some(m.authorization_code),
                    gross_amount: Some(m.gross_amount),
                    installment_count: Some(m.installments as i32),
                    brand_code: Some(m.brand),
                    card_last_digits: Some(m.card_last_digits),
                    acquirer_name: Some(m.acquirer),
                    transaction_type: Some(m.payment_method),
                    ..StageRow::new(file_id, m.line_no, RecordKind::MerchantSale)
                }
            }
            Record::Header(_) | Record::Trailer(_) => return None,
        })
    }
}

/// `COPY stage_record (every column) FROM STDIN (FORMAT binary)`.
pub(super) fn stage_copy_sql() -> String {
    let names: Vec<&str> = STAGE_COLUMNS.iter().map(|(n, _)| *n).collect();
    format!("COPY stage_record ({}) FROM STDIN (FORMAT binary)", names.join(", "))
}

/// Mark a file loaded, and the remote files its content came from (discovery reads them).
pub async fn mark_loaded(tx: &Transaction<'_>, file_id: i64) -> Result<()> {
    tx.execute(
        "UPDATE statement_file SET status = 'loaded', loaded_at = now(), updated_at = now(), error = NULL WHERE file_id = $1",
        &[&file_id],
    )
    .await?;
    tx.execute(
        "UPDATE remote_file SET status = 'loaded', error = NULL, updated_at = now()
          WHERE file_id = $1 AND status IN ('staged', 'failed')",
        &[&file_id],
    )
    .await?;
    Ok(())
}

/// Mark a file staged, with its header, totals and anomalies (same transaction as the COPY).
pub async fn mark_staged(tx: &Transaction<'_>, file_id: i64, s: &StatementSummary) -> Result<()> {
    describe_file(tx, file_id, s, FileStatus::Staged).await?;
    store_anomalies(tx, file_id, s).await
}

/// Keep a file's anomalies (replacing any of an earlier, rolled-back attempt).
async fn store_anomalies(tx: &Transaction<'_>, file_id: i64, s: &StatementSummary) -> Result<()> {
    tx.execute("DELETE FROM statement_anomaly WHERE file_id = $1", &[&file_id]).await?;
    if s.anomalies.is_empty() {
        return Ok(());
    }
    let a = &s.anomalies;
    let lines: Vec<i64> = a.iter().map(|i| i.line as i64).collect();
    let cols: Vec<Option<i32>> = a.iter().map(|i| i.column.map(|c| c as i32)).collect();
    let fields: Vec<&str> = a.iter().map(|i| i.field.as_str()).collect();
    let kinds: Vec<&str> = a.iter().map(|i| i.kind.as_str()).collect();
    let found: Vec<&str> = a.iter().map(|i| i.found.as_str()).collect();
    let used: Vec<&str> = a.iter().map(|i| i.used.as_str()).collect();
    let reasons: Vec<&str> = a.iter().map(|i| i.reason.as_str()).collect();
    tx.execute(
        "INSERT INTO statement_anomaly (file_id, line_no, byte_column, field, kind, found, used, reason)
         SELECT $1, * FROM unnest($2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])",
        &[&file_id, &lines, &cols, &fields, &kinds, &found, &used, &reasons],
    )
    .await?;
    Ok(())
}

/// The kept anomalies of a loaded file, in line order.
pub async fn anomalies(db: &impl GenericClient, file_id: i64) -> Result<Vec<crate::formats::Anomaly>> {
    let rows = db
        .query(
            "SELECT line_no, byte_column, field, kind, found, used, reason FROM statement_anomaly
              WHERE file_id = $1 ORDER BY line_no, anomaly_id",
            &[&file_id],
        )
        .await?;
    rows.into_iter()
        .map(|r| {
            let kind: String = r.get("kind");
            let kind =
                crate::formats::AnomalyKind::ALL.iter().copied().find(|k| k.as_str() == kind).ok_or_else(|| {
                    crate::error::Error::Integrity { file_id, detail: format!("unknown anomaly kind {kind:?}") }
                })?;
            Ok(crate::formats::Anomaly {
                line: r.get::<_, i64>("line_no") as u64,
                column: r.get::<_, Option<i32>>("byte_column").map(|c| c as usize),
                field: r.get("field"),
                kind,
                found: r.get("found"),
                used: r.get("used"),
                reason: r.get("reason"),
            })
        })
        .collect()
}

// ------------------------------------------------------------------------------------------ loading

/// Rows a load added to the facts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LoadCounts {
    pub receivable_units: u64,
    pub transactions: u64,
    pub pix_transactions: u64,
    pub negotiations: u64,
    pub negotiated_receivables: u64,
    pub negotiation_credits: u64,
    pub financial_reserves: u64,
    pub merchant_sales: u64,
    #[serde(default)]
    pub anticipation_offsets: u64,
    /// Bank statement entries written (`db::bank`), and those an overlapping statement had loaded already.
    #[serde(default)]
    pub bank_entries: u64,
    #[serde(default)]
    pub bank_entries_already_loaded: u64,
}

impl LoadCounts {
    /// The rows of one kind.
    pub fn of_kind(&self, kind: RecordKind) -> u64 {
        match kind {
            RecordKind::ReceivableUnit => self.receivable_units,
            RecordKind::CardTransaction => self.transactions,
            RecordKind::PixTransaction => self.pix_transactions,
            RecordKind::ReceivablesNegotiation => self.negotiations,
            RecordKind::NegotiatedReceivable => self.negotiated_receivables,
            RecordKind::NegotiationCredit => self.negotiation_credits,
            RecordKind::FinancialReserve => self.financial_reserves,
            RecordKind::AnticipationOffset => self.anticipation_offsets,
            RecordKind::MerchantSale => self.merchant_sales,
        }
    }

    fn of_kind_mut(&mut self, kind: RecordKind) -> &mut u64 {
        match kind {
            RecordKind::ReceivableUnit => &mut self.receivable_units,
            RecordKind::CardTransaction => &mut self.transactions,
            RecordKind::PixTransaction => &mut self.pix_transactions,
            RecordKind::ReceivablesNegotiation => &mut self.negotiations,
            RecordKind::NegotiatedReceivable => &mut self.negotiated_receivables,
            RecordKind::NegotiationCredit => &mut self.negotiation_credits,
            RecordKind::FinancialReserve => &mut self.financial_reserves,
            RecordKind::AnticipationOffset => &mut self.anticipation_offsets,
            RecordKind::MerchantSale => &mut self.merchant_sales,
        }
    }

    /// Counts keyed by kind.
    fn of_counts(counts: &KindCounts) -> LoadCounts {
        let mut c = LoadCounts::default();
        for &(kind, n) in counts {
            *c.of_kind_mut(kind) += n.max(0) as u64;
        }
        c
    }

    /// Every fact row added.
    pub fn total(&self) -> u64 {
        RecordKind::ALL.iter().map(|&k| self.of_kind(k)).sum::<u64>() + self.bank_entries
    }

    pub fn add(&mut self, o: &LoadCounts) {
        for k in RecordKind::ALL {
            *self.of_kind_mut(k) += o.of_kind(k);
        }
        self.bank_entries += o.bank_entries;
        self.bank_entries_already_loaded += o.bank_entries_already_loaded;
    }
}

/// `INSERT INTO dim_date` of the dates of `$dates` (a FROM item with one `date` column `d`), in key order.
macro_rules! insert_dim_dates {
    ($dates:literal) => {
        concat!(
            "
INSERT INTO dim_date (date_key, year, quarter, month, day, iso_dow, is_weekend)
SELECT d, extract(year FROM d)::smallint, extract(quarter FROM d)::smallint, extract(month FROM d)::smallint,
       extract(day FROM d)::smallint, extract(isodow FROM d)::smallint, extract(isodow FROM d) >= 6
FROM ",
            $dates,
            "
ORDER BY d
ON CONFLICT DO NOTHING"
        )
    };
}

/// The calendar dates of a file's staged rows: the columns of [`StageRow::calendar_dates`], in that order.
const LOAD_DATES: &str = insert_dim_dates!(
    "(SELECT DISTINCT v.d
      FROM stage_record s
      CROSS JOIN LATERAL (VALUES (s.original_due_date), (s.payment_date), (s.sent_to_bank_date),
                                 (s.authorization_date), (s.capture_date), (s.posting_date),
                                 (s.original_posting_date), (s.presentation_date), (s.transaction_date),
                                 (s.original_transaction_date), (s.cielo_account_date), (s.negotiation_date)) AS v(d)
      WHERE s.file_id = $1 AND v.d IS NOT NULL) x"
);

/// The given distinct dates (`$1`, a `date[]`), for rows loaded without staging.
pub(super) const INSERT_DATES: &str = insert_dim_dates!("unnest($1::date[]) AS u(d)");

/// Declares [`StageRow::calendar_dates`] and the names of its columns (checked against [`LOAD_DATES`]).
macro_rules! calendar_dates {
    ($($column:ident),* $(,)?) => {
        #[cfg(test)]
        const CALENDAR_DATE_COLUMNS: &[&str] = &[$(stringify!($column)),*];
        impl StageRow {
            /// The dates of this row that `dim_date` must hold.
            pub(super) fn calendar_dates(&self) -> impl Iterator<Item = NaiveDate> {
                [$(self.$column),*].into_iter().flatten()
            }
        }
    };
}

calendar_dates!(
    original_due_date,
    payment_date,
    sent_to_bank_date,
    authorization_date,
    capture_date,
    posting_date,
    original_posting_date,
    presentation_date,
    transaction_date,
    original_transaction_date,
    cielo_account_date,
    negotiation_date,
);

const LOAD_ESTABLISHMENTS: &str = "
INSERT INTO dim_establishment (acquirer_key, merchant_code)
SELECT DISTINCT $2::smallint, merchant_code FROM stage_record WHERE file_id = $1
ORDER BY 2
ON CONFLICT DO NOTHING";

const LOAD_PAYMENT_METHODS: &str = "
INSERT INTO dim_payment_method (acquirer_key, brand_code, brand_name, settlement_type_code, settlement_type_name, settlement)
SELECT $2::smallint, s.brand_code, coalesce(b.name, 'Bandeira ' || s.brand_code),
       s.settlement_type_code, coalesce(t.name, 'Liquidação ' || s.settlement_type_code), coalesce(t.settlement, 'unknown')
FROM (SELECT DISTINCT brand_code, settlement_type_code FROM stage_record
      WHERE file_id = $1 AND brand_code IS NOT NULL AND settlement_type_code IS NOT NULL) s
LEFT JOIN ref_brand b ON b.acquirer_key = $2 AND b.code = s.brand_code
LEFT JOIN ref_settlement_type t ON t.acquirer_key = $2 AND t.code = s.settlement_type_code
ORDER BY 2, 4
ON CONFLICT DO NOTHING";

/// Codes outside the reference tables are kept, flagged `catalogued = false`; an unknown posting type is
/// category 'other', never a sale.
const LOAD_PRODUCTS: &str = "
INSERT INTO dim_product (acquirer_key, code, name, catalogued)
SELECT DISTINCT $2::smallint, product_code, 'Produto ' || product_code || ' (fora da tabela de referência)', false
FROM stage_record WHERE file_id = $1 AND product_code IS NOT NULL
ORDER BY 2
ON CONFLICT DO NOTHING";

const LOAD_POSTING_TYPES: &str = "
INSERT INTO dim_posting_type (acquirer_key, code_set, code, name, category, catalogued)
SELECT DISTINCT $2::smallint, $3::text, posting_type_code,
       'Tipo de lançamento ' || posting_type_code || ' (fora da tabela de referência)', 'other', false
FROM stage_record WHERE file_id = $1 AND posting_type_code IS NOT NULL
ORDER BY 3
ON CONFLICT DO NOTHING";

const LOAD_PIX: &str = "
INSERT INTO fact_pix_transaction (
    file_id, line_no, file_type, establishment_key, transaction_type_code, transaction_date, transaction_time, pix_id,
    nsu, nsu_long, payment_date, capture_date, gross_amount, fee_amount, net_amount, fee_rate, tariff_amount,
    bank_code, branch_code, account_number, sales_channel, terminal, original_transaction_date,
    original_transaction_time, original_pix_id, automatic_transfer_flag, transfer_status_code, cielo_account_date,
    scheduled_transfer_flag, txid, payout_pix_id)
SELECT s.file_id, s.line_no, $3, e.establishment_key, s.transaction_type, s.transaction_date, s.sale_time, s.pix_id,
    s.nsu, s.nsu_long, s.payment_date, s.capture_date, s.gross_amount, s.fee_amount, s.net_amount, s.fee_rate,
    s.tariff_amount, s.bank_code, s.branch_code, s.account_number, s.sales_channel, s.terminal,
    s.original_transaction_date, s.original_transaction_time, s.original_pix_id, s.automatic_transfer_flag,
    s.transfer_status_code, s.cielo_account_date, s.scheduled_transfer_flag, s.txid, s.payout_pix_id
FROM stage_record s
JOIN dim_establishment e ON e.acquirer_key = $2 AND e.merchant_code = s.merchant_code
WHERE s.file_id = $1 AND s.kind = '8'";

const LOAD_NEGOTIATIONS: &str = "
INSERT INTO fact_receivables_negotiation (
    file_id, line_no, establishment_key, negotiation_date, payment_date, holder_tax_id, average_term_days,
    nominal_rate, effective_rate, gross_amount, net_amount, operation_code, payment_form_code)
SELECT s.file_id, s.line_no, e.establishment_key, s.negotiation_date, s.payment_date, s.holder_tax_id,
    s.average_term_days, s.nominal_rate, s.effective_rate, s.gross_amount, s.net_amount, s.operation_code,
    s.payment_form_code
FROM stage_record s
JOIN dim_establishment e ON e.acquirer_key = $2 AND e.merchant_code = s.merchant_code
WHERE s.file_id = $1 AND s.kind = 'A'";

const LOAD_NEGOTIATED_RECEIVABLES: &str = "
INSERT INTO fact_negotiated_receivable (
    file_id, line_no, negotiation_line_no, establishment_key, payment_method_key, negotiation_date,
    original_due_date, holder_tax_id, gross_amount, net_amount, effective_rate, financial_institution,
    discount_amount, summary_number, ur_key, installment, installment_count, original_gross_amount,
    original_net_amount)
SELECT s.file_id, s.line_no, s.group_line_no, e.establishment_key, pm.payment_method_key, s.negotiation_date,
    s.original_due_date, s.holder_tax_id, s.gross_amount, s.net_amount, s.effective_rate, s.financial_institution,
    s.discount_amount, s.summary_number, s.ur_key, s.installment, s.installment_count, s.original_gross_amount,
    s.original_net_amount
FROM stage_record s
JOIN dim_establishment e ON e.acquirer_key = $2 AND e.merchant_code = s.merchant_code
JOIN dim_payment_method pm ON pm.acquirer_key = $2 AND pm.brand_code = s.brand_code
                          AND pm.settlement_type_code = s.settlement_type_code
WHERE s.file_id = $1 AND s.kind = 'B'";

const LOAD_NEGOTIATION_CREDITS: &str = "
INSERT INTO fact_negotiation_credit (
    file_id, line_no, negotiation_line_no, establishment_key, bank_code, branch_code, account_number,
    deposited_amount)
SELECT s.file_id, s.line_no, s.group_line_no, e.establishment_key, s.bank_code, s.branch_code, s.account_number,
    s.gross_amount
FROM stage_record s
JOIN dim_establishment e ON e.acquirer_key = $2 AND e.merchant_code = s.merchant_code
WHERE s.file_id = $1 AND s.kind = 'C'";

const LOAD_FINANCIAL_RESERVES: &str = "
INSERT INTO fact_financial_reserve (
    file_id, line_no, file_type, establishment_key, brand_code, movement_holder_tax_id, payment_matrix_code,
    reserve_amount, ur_key, original_due_date, payment_merchant_code)
SELECT s.file_id, s.line_no, $3, e.establishment_key, s.brand_code, s.movement_holder_tax_id,
    s.payment_matrix_code, s.gross_amount, s.ur_key, s.original_due_date, s.payment_merchant_code
FROM stage_record s
JOIN dim_establishment e ON e.acquirer_key = $2 AND e.merchant_code = s.merchant_code
WHERE s.file_id = $1 AND s.kind = 'R'";

const LOAD_ANTICIPATION_OFFSETS: &str = "
INSERT INTO fact_anticipation_offset (
    file_id, line_no, establishment_key, ur_key, summary_number, payment_date, summary_amount,
    adjustment_origin_ur_key, adjustment_summary_number, adjustment_payment_date, adjustment_amount, offset_amount,
    balance_amount)
SELECT s.file_id, s.line_no, e.establishment_key, s.ur_key, s.summary_number, s.payment_date, s.gross_amount,
    s.adjustment_ur_key, s.adjustment_summary_number, s.adjustment_payment_date, s.adjustment_amount,
    s.offset_amount, s.balance_amount
FROM stage_record s
JOIN dim_establishment e ON e.acquirer_key = $2 AND e.merchant_code = s.merchant_code
WHERE s.file_id = $1 AND s.kind = 'O'";

/// A merchant's sale is identified by (store, sale id): exports are often cumulative (day 2's repeats day 1's
/// rows), so a later export's row replaces the earlier file's row of the same sale — changed or not — and a
/// sale is never counted twice across exports (twice within one export is the merchant's own duplicate).
const LOAD_MERCHANT_SALES: &str = "
WITH incoming AS (
    SELECT s.file_id, s.line_no, e.establishment_key, s.order_reference AS sale_id, s.authorization_date,
           s.sale_time, s.nsu, s.authorization_code, s.gross_amount, s.installment_count, s.brand_code,
           s.card_last_digits, s.acquirer_name, s.transaction_type
    FROM stage_record s
    JOIN dim_establishment e ON e.acquirer_key = $2 AND e.merchant_code = s.merchant_code
    WHERE s.file_id = $1 AND s.kind = 'M'
), replaced AS (
    DELETE FROM fact_merchant_sale f USING incoming i
    WHERE f.establishment_key = i.establishment_key AND f.sale_id = i.sale_id AND f.file_id <> $1
)
INSERT INTO fact_merchant_sale (
    file_id, line_no, establishment_key, sale_id, sale_date, sale_time, nsu, authorization_code, gross_amount,
    installments, brand, card_last_digits, acquirer_name, payment_method)
SELECT file_id, line_no, establishment_key, sale_id, authorization_date, sale_time, nsu, authorization_code,
    gross_amount, installment_count, brand_code, card_last_digits, acquirer_name, transaction_type
FROM incoming";

/// Outcome of loading a staged file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadResult {
    Loaded(LoadCounts),
    /// Another load got there first.
    AlreadyLoaded,
    /// The staged rows are gone (the staging table is UNLOGGED and a server crash empties it): the file was
    /// sent back to `received`; commit, then ingest it again.
    StagingLost(String),
}

/// Forget a file's staged rows, wherever they wait: in `stage_record`, and its unattached bulk rows.
async fn clear_staging(tx: &Transaction<'_>, file_id: i64) -> Result<()> {
    tx.execute("DELETE FROM stage_record WHERE file_id = $1", &[&file_id]).await?;
    bulk::forget_unattached(tx, file_id).await
}

/// Load one staged file into dimensions and facts, inside the caller's transaction, and mark it loaded.
/// Set-based: a few INSERT … SELECT statements, whatever the size of the file.
pub async fn load_staged(tx: &Transaction<'_>, file_id: i64) -> Result<LoadResult> {
    load_staged_with(tx, file_id, None).await
}

/// [`load_staged`], for a file whose bulk kinds were already written to their facts by
/// [`bulk::load_records`] in this transaction (`direct`): their counts are checked against the parser's like
/// the staged ones, and only the staged kinds are moved.
pub async fn load_staged_with(
    tx: &Transaction<'_>,
    file_id: i64,
    direct: Option<&bulk::BulkLoaded>,
) -> Result<LoadResult> {
    let row = tx
        .query_one(
            &format!(
                "SELECT f.status, f.file_type, a.acquirer_key, coalesce(f.code_set, ''), {counts}
                 FROM statement_file f LEFT JOIN dim_acquirer a ON a.code = f.acquirer
                 WHERE f.file_id = $1 FOR UPDATE OF f",
                // Column names are FACT_LOADS' constants, never input.
                counts = FACT_LOADS
                    .iter()
                    .map(|l| format!("coalesce(f.{c}, 0) AS {c}", c = l.kind.count_column()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &[&file_id],
        )
        .await?;
    let status = FileStatus::parse(row.get(0))?;
    // Superseded: it was loaded, then replaced by a re-sent statement; there is nothing more to do.
    if matches!(status, FileStatus::Loaded | FileStatus::Superseded) {
        return Ok(LoadResult::AlreadyLoaded);
    }
    if status != FileStatus::Staged {
        return Err(Error::Integrity {
            file_id,
            detail: format!("cannot load a file whose status is {}", status.as_str()),
        });
    }
    let file_type: String = row.get(1);
    let acquirer_key: i16 = row
        .get::<_, Option<i16>>(2)
        .ok_or_else(|| Error::Integrity { file_id, detail: "staged file has no known acquirer".into() })?;
    let code_set: String = row.get(3);
    // Rows expected per kind (counted by the parser at staging).
    let want: KindCounts = FACT_LOADS.iter().map(|l| (l.kind, row.get(l.kind.count_column()))).collect();
    let staged =
        tx.query("SELECT kind, count(*) FROM stage_record WHERE file_id = $1 GROUP BY kind", &[&file_id]).await?;
    // The bulk kinds' rows are in their fact tables already: written in this transaction (`direct`), or by
    // the staging, unattached.
    let written = match direct {
        Some(d) => d.clone(),
        None => bulk::written_rows(tx, file_id).await?,
    };
    let have: KindCounts = FACT_LOADS
        .iter()
        .map(|l| {
            let n = match l.from {
                Staged::Bulk => written.rows_of(l.kind).unwrap_or(0),
                Staged::Record { .. } => {
                    staged.iter().find(|r| r.get::<_, &str>(0) == l.kind.code()).map_or(0, |r| r.get(1))
                }
            };
            (l.kind, n)
        })
        .collect();
    if have != want {
        if direct.is_some() {
            // Written in this very transaction: a difference is a defect, not a lost staging table.
            return Err(Error::Integrity {
                file_id,
                detail: format!(
                    "loaded {} but the parser counted {}; rolled back",
                    describe_counts(&have),
                    describe_counts(&want)
                ),
            });
        }
        // stage_record is UNLOGGED: a server crash empties it. Send the file back to be ingested
        // again, and say so where discovery looks: a remote file 'staged' would never be fetched again.
        clear_staging(tx, file_id).await?;
        tx.execute("UPDATE statement_file SET status = 'received', updated_at = now() WHERE file_id = $1", &[&file_id])
            .await?;
        tx.execute(
            "UPDATE remote_file SET status = 'failed', updated_at = now(),
                    error = 'staged rows lost (database crash): to be staged again from its copy or fetched again'
              WHERE file_id = $1 AND status = 'staged'",
            &[&file_id],
        )
        .await?;
        return Ok(LoadResult::StagingLost(format!(
            "staged rows lost (found {}, expected {}); the file must be ingested again",
            describe_counts(&have),
            describe_counts(&want)
        )));
    }
    let t = std::time::Instant::now();
    // Rows waiting in stage_record (the bulk kinds' dimensions were added when their rows were written).
    let any_record = FACT_LOADS.iter().zip(&want).any(|(l, &(_, n))| n > 0 && matches!(l.from, Staged::Record { .. }));
    if any_record {
        let params: [&(dyn ToSql + Sync); 3] = [&file_id, &acquirer_key, &code_set];
        tx.execute(LOAD_DATES, &[&file_id]).await?;
        for (sql, n) in
            [(LOAD_ESTABLISHMENTS, 2), (LOAD_PAYMENT_METHODS, 2), (LOAD_PRODUCTS, 2), (LOAD_POSTING_TYPES, 3)]
        {
            tx.execute(sql, &params[..n]).await?;
        }
        tracing::debug!(file_id, seconds = t.elapsed().as_secs_f64(), "dimensions");
    }
    let all: [&(dyn ToSql + Sync); 4] = [&file_id, &acquirer_key, &file_type, &code_set];
    let mut loaded = Vec::with_capacity(FACT_LOADS.len());
    for (l, &(_, expected)) in FACT_LOADS.iter().zip(&want) {
        let n = match &l.from {
            _ if expected == 0 => 0,
            Staged::Bulk => expected, // written, and counted above
            Staged::Record { sql, params } => tx.execute(*sql, &all[..*params]).await? as i64,
        };
        tracing::debug!(file_id, kind = l.kind.code(), rows = n, seconds = t.elapsed().as_secs_f64(), "facts");
        loaded.push((l.kind, n));
    }
    if loaded != want {
        return Err(Error::Integrity {
            file_id,
            detail: format!(
                "loaded {} facts but {} were staged; rolled back",
                describe_counts(&loaded),
                describe_counts(&want)
            ),
        });
    }
    if any_record {
        tx.execute("DELETE FROM stage_record WHERE file_id = $1", &[&file_id]).await?;
        tracing::debug!(file_id, seconds = t.elapsed().as_secs_f64(), "staging cleared");
    }
    // From here on the file's bulk rows are in the fact views (for this transaction; for everyone at commit),
    // which the rules below read.
    bulk::attach(tx, file_id).await?;
    flag_unknown_codes(tx, file_id).await?;
    let superseded = supersede_earlier(tx, file_id).await?;
    let restated = replace_restated_facts(tx, file_id).await?;
    // Reconciliation pending (the outbox, drained by db::recon::reconcile_pending): this file, and the files
    // whose facts it replaced, in the transaction that changes the facts.
    tx.execute(
        "INSERT INTO recon_pending (file_id) SELECT unnest($1::bigint[]) ON CONFLICT DO NOTHING",
        &[&[vec![file_id], superseded, restated].concat()],
    )
    .await?;
    mark_loaded(tx, file_id).await?;
    Ok(LoadResult::Loaded(LoadCounts::of_counts(&loaded)))
}

/// Codes outside the reference tables load with their raw code (an unknown product or brand, a posting
/// type loaded as 'other' and never a sale): each distinct one a file uses is kept as an `unknown_code`
/// anomaly of the file, at the first line using it. Brands are checked only for acquirers whose brand table
/// is known. Returns the anomalies added.
pub async fn flag_unknown_codes(tx: &Transaction<'_>, file_id: i64) -> Result<u64> {
    let added = tx
        .execute(
            // One pass over the file's rows, down to the few member combinations they use (with the first
            // line of each); the checks then join those against the dimensions. The tables, not the fact views:
            // the rows are this file's, attached or not.
            "WITH used AS (
                 SELECT product_key, posting_type_key, payment_method_key, min(line_no) AS line_no
                   FROM (SELECT line_no, product_key, posting_type_key, payment_method_key
                           FROM fact_card_transaction_all WHERE file_id = $1
                         UNION ALL
                         SELECT line_no, product_key, posting_type_key, payment_method_key
                           FROM fact_receivable_unit_all WHERE file_id = $1) f
                  GROUP BY 1, 2, 3)
             INSERT INTO statement_anomaly (file_id, line_no, byte_column, field, kind, found, used, reason)
             SELECT $1, min(line_no), NULL, field, 'unknown_code', code, code, reason FROM (
                 SELECT u.line_no, 'product_code' AS field, p.code,
                        'product ' || p.code || ' is not in the reference table: loaded with its raw code' AS reason
                   FROM used u JOIN dim_product p ON p.product_key = u.product_key
                  WHERE NOT p.catalogued AND p.code <> ''
                 UNION ALL
                 SELECT u.line_no, 'posting_type_code', pt.code,
                        'posting type ' || pt.code || ' is not in the reference table: loaded as ''other'', never a sale'
                   FROM used u JOIN dim_posting_type pt ON pt.posting_type_key = u.posting_type_key
                  WHERE NOT pt.catalogued
                 UNION ALL
                 SELECT u.line_no, 'brand_code', pm.brand_code,
                        'brand ' || pm.brand_code || ' is not in the reference table: loaded with its raw code'
                   FROM used u JOIN dim_payment_method pm ON pm.payment_method_key = u.payment_method_key
                  WHERE NOT EXISTS (SELECT 1 FROM ref_brand b WHERE b.acquirer_key = pm.acquirer_key AND b.code = pm.brand_code)
                    AND EXISTS (SELECT 1 FROM ref_brand b WHERE b.acquirer_key = pm.acquirer_key)
                    -- No brand (a settlement or an event that names none) is not an unknown one, as for products.
                    AND pm.brand_code <> ''
             ) x GROUP BY field, code, reason",
            &[&file_id],
        )
        .await?;
    if added > 0 {
        tx.execute(
            "UPDATE statement_file SET anomaly_count = anomaly_count + $2 WHERE file_id = $1",
            &[&file_id, &(added as i64)],
        )
        .await?;
    }
    Ok(added)
}

/// A re-sent statement supersedes, never adds: the loaded files with the same natural identity as `file_id`
/// (acquirer, merchant, file type, file date, sequence — "número do arquivo" — as the header says; the
/// merchant's own exports have none) lose their facts and become `superseded`, pointing at `file_id`, in the
/// transaction that loads it. Concurrent loads of one identity take turns (a transaction advisory lock).
/// Returns the file ids superseded.
pub async fn supersede_earlier(tx: &Transaction<'_>, file_id: i64) -> Result<Vec<i64>> {
    let row = tx
        .query_one(
            "SELECT acquirer, merchant_code, file_type, processing_date, sequence FROM statement_file WHERE file_id = $1",
            &[&file_id],
        )
        .await?;
    let acquirer: Option<String> = row.get("acquirer");
    let identity = match (&acquirer, row.get::<_, Option<String>>("sequence")) {
        (Some(a), Some(seq)) if a != "merchant" && !seq.is_empty() => seq,
        _ => return Ok(Vec::new()),
    };
    let key = format!(
        "{}|{}|{}|{}|{identity}",
        acquirer.unwrap_or_default(),
        row.get::<_, Option<String>>("merchant_code").unwrap_or_default(),
        row.get::<_, Option<String>>("file_type").unwrap_or_default(),
        row.get::<_, Option<chrono::NaiveDate>>("processing_date").map(|d| d.to_string()).unwrap_or_default()
    );
    tx.execute("SELECT pg_advisory_xact_lock(hashtext('statement identity ' || $1))", &[&key]).await?;
    let earlier: Vec<i64> = tx
        .query(
            "SELECT e.file_id FROM statement_file e, statement_file n
              WHERE n.file_id = $1 AND e.file_id <> n.file_id AND e.status = 'loaded'
                AND e.acquirer = n.acquirer AND e.merchant_code = n.merchant_code AND e.file_type = n.file_type
                AND e.processing_date = n.processing_date AND e.sequence = n.sequence
              ORDER BY e.file_id FOR UPDATE OF e",
            &[&file_id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for &old in &earlier {
        for l in FACT_LOADS {
            // Table names come from this file's constant table, never from input.
            tx.execute(&format!("DELETE FROM {} WHERE file_id = $1", l.table), &[&old]).await?;
        }
        tx.execute(
            "UPDATE statement_file SET status = 'superseded', superseded_by = $2, superseded_at = now(),
                    updated_at = now() WHERE file_id = $1",
            &[&old, &file_id],
        )
        .await?;
        tracing::info!(file_id, superseded = old, "re-sent statement: the earlier file's facts were replaced");
    }
    Ok(earlier)
}

/// The natural key of a fact, per kind, within statements of the same acquirer (the establishment is the
/// acquirer's), merchant and file type — for the kinds of statement that state each fact once (sales and
/// payments; never snapshots such as the open balance, which restate every open installment monthly):
/// - a transaction: NSU + authorization + date + installment, with its posting type (a cancellation shares its
///   sale's NSU) and card digits; one whose NSU or authorization is blank or zeros has no identity and is
///   never matched;
/// - a receivable unit of a payment file: UR key + payment date + installment + posting type + brand and
///   settlement (a UR is paid once on a date);
/// - a receivable unit of a sales file: the same and its gross and net, once none of the earlier file's
///   transactions of that UR is left (daily sales files legitimately share a UR that several days' sales
///   will be paid in; only a UR whose sales were all restated is).
///
/// Transactions come first: the sales-file rule reads what they left. (table, what, key condition)
const RESTATED_FACTS: &[(&str, &str, &str)] = &[
    (
        "fact_card_transaction",
        "transactions",
        "o.nsu = n.nsu AND o.authorization_code = n.authorization_code AND ltrim(n.nsu, '0 ') <> '' AND ltrim(n.authorization_code, '0 ') <> ''
         AND o.authorization_date IS NOT DISTINCT FROM n.authorization_date AND o.installment = n.installment
         AND o.posting_type_key = n.posting_type_key AND o.card_last_digits = n.card_last_digits
         AND f.file_kind IN ('sales', 'payments')",
    ),
    (
        "fact_receivable_unit",
        "receivable units",
        "o.ur_key = n.ur_key AND n.ur_key <> '' AND o.payment_date IS NOT DISTINCT FROM n.payment_date
         AND o.installment = n.installment AND o.posting_type_key = n.posting_type_key
         AND o.payment_method_key = n.payment_method_key AND f.file_kind = 'payments'",
    ),
    (
        "fact_receivable_unit",
        "receivable units",
        "o.ur_key = n.ur_key AND n.ur_key <> '' AND o.payment_date IS NOT DISTINCT FROM n.payment_date
         AND o.installment = n.installment AND o.posting_type_key = n.posting_type_key
         AND o.payment_method_key = n.payment_method_key AND f.file_kind = 'sales'
         AND o.gross_amount = n.gross_amount AND o.net_amount = n.net_amount
         AND NOT EXISTS (SELECT 1 FROM fact_card_transaction t WHERE t.file_id = o.file_id AND t.ur_key = o.ur_key)",
    ),
];

/// A fact never appears twice live: facts of this (just loaded) file whose natural key ([`RESTATED_FACTS`])
/// is live from an earlier loaded file of another identity replace those earlier facts, in this transaction.
/// The later statement wins, as with a re-sent statement of the same identity. Each earlier file touched is
/// named in a `restates_earlier_facts` anomaly of this file; an earlier file left with no fact is marked
/// `superseded` by this one. Returns the earlier files whose facts were replaced.
pub async fn replace_restated_facts(tx: &Transaction<'_>, file_id: i64) -> Result<Vec<i64>> {
    let mut earlier_files = std::collections::BTreeSet::new();
    for &(table, what, key) in RESTATED_FACTS {
        // Table names and key conditions are this file's constants, never input.
        let rows = tx
            .query(
                &format!(
                    // The search is driven by this file's rows (materialized first), each meeting the earlier
                    // facts through the key's index: left to the planner with statistics that lag behind bulk
                    // loads, it went the other way — every earlier fact of the acquirer, each checked against
                    // this file — and a load took time growing with the database (25 s for a PagBank day
                    // after two others).
                    "WITH n AS MATERIALIZED (SELECT * FROM {table} WHERE file_id = $1),
                          f AS MATERIALIZED (SELECT * FROM statement_file WHERE file_id = $1),
                          hit AS MATERIALIZED (
                              SELECT DISTINCT o.file_id, o.line_no
                                FROM n CROSS JOIN f
                                JOIN {table} o ON o.establishment_key = n.establishment_key
                                     AND o.file_type = n.file_type AND o.file_id <> $1
                                JOIN statement_file e ON e.file_id = o.file_id AND e.status = 'loaded'
                                     AND e.acquirer = f.acquirer
                               WHERE {key}),
                          gone AS (
                              DELETE FROM {table} o USING hit h WHERE o.file_id = h.file_id AND o.line_no = h.line_no
                              RETURNING o.file_id, o.line_no)
                     SELECT g.file_id, count(*), min(g.line_no), e.file_name
                       FROM gone g JOIN statement_file e USING (file_id)
                      GROUP BY g.file_id, e.file_name ORDER BY g.file_id"
                ),
                &[&file_id],
            )
            .await?;
        for r in rows {
            let (old, n, file_name): (i64, i64, Option<String>) = (r.get(0), r.get(1), r.get(3));
            let first_line: i64 = tx
                .query_one(&format!("SELECT coalesce(min(line_no), 0) FROM {table} WHERE file_id = $1"), &[&file_id])
                .await?
                .get(0);
            let name = crate::formats::field::escaped_line(file_name.as_deref().unwrap_or("").as_bytes());
            tx.execute(
                "INSERT INTO statement_anomaly (file_id, line_no, byte_column, field, kind, found, used, reason)
                 VALUES ($1, $2, NULL, $3, 'restates_earlier_facts', $4, $5, $6)",
                &[
                    &file_id,
                    &first_line,
                    &table.trim_start_matches("fact_"),
                    &format!("{n} {what} live from file {old} ({name}), from its line {}", r.get::<_, i64>(2)),
                    &format!("this file's {what}"),
                    &format!(
                        "the same {what} stated by two statements of different identities (a recovered file beside                          the one it recovers): the later statement's replace the earlier's, so none counts twice"
                    ),
                ],
            )
            .await?;
            tx.execute(
                "UPDATE statement_file SET anomaly_count = coalesce(anomaly_count, 0) + 1 WHERE file_id = $1",
                &[&file_id],
            )
            .await?;
            tracing::info!(file_id, earlier = old, facts = n, kind = what, "restated facts replaced the earlier ones");
            earlier_files.insert(old);
        }
    }
    for &old in &earlier_files {
        let mut left = 0i64;
        for l in FACT_LOADS {
            left += tx
                .query_one(&format!("SELECT count(*) FROM {} WHERE file_id = $1", l.table), &[&old])
                .await?
                .get::<_, i64>(0);
        }
        if left == 0 {
            tx.execute(
                "UPDATE statement_file SET status = 'superseded', superseded_by = $2, superseded_at = now(),
                        updated_at = now() WHERE file_id = $1",
                &[&old, &file_id],
            )
            .await?;
        }
    }
    Ok(earlier_files.into_iter().collect())
}

/// What withdrawing a file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawn {
    pub file_id: i64,
    pub file_name: String,
    /// Its status before: `loaded`, or `staged` (nothing in the facts yet).
    pub was: FileStatus,
    /// Fact rows removed, per record kind.
    pub facts: LoadCounts,
    /// Earlier files whose facts this one had replaced (re-sent or restated statements): their facts are not
    /// brought back; ingest them again to have them.
    pub had_replaced: Vec<(i64, String)>,
}

/// Withdraw a loaded (or staged) file, named by its id or its content's sha256, in one transaction: its facts
/// removed from every fact table, its staging forgotten, its control row kept as `withdrawn`, the withdrawal
/// logged as a delivery and the file queued for reconciliation (`recon_pending`: the scopes it touched are
/// reconciled again by the next drain). Refused, saying why, for a file that is not loaded or staged.
pub async fn withdraw(db: &mut tokio_postgres::Client, file: &str) -> Result<Withdrawn> {
    let tx = db.transaction().await?;
    let row = match file.parse::<i64>() {
        Ok(id) if file.len() < 20 => {
            tx.query_opt("SELECT file_id, file_name, status FROM statement_file WHERE file_id = $1 FOR UPDATE", &[&id])
                .await?
        }
        _ => {
            tx.query_opt(
                "SELECT file_id, file_name, status FROM statement_file WHERE sha256 = lower($1) FOR UPDATE",
                &[&file],
            )
            .await?
        }
    };
    let Some(row) = row else {
        return Err(Error::NotConfigured(format!(
            "no statement file {} (a file id, or the sha256 of its content)",
            crate::formats::field::escaped_line(file.as_bytes())
        )));
    };
    let (file_id, file_name): (i64, String) = (row.get(0), row.get::<_, Option<String>>(1).unwrap_or_default());
    let was = FileStatus::parse(row.get(2))?;
    if !matches!(was, FileStatus::Loaded | FileStatus::Staged) {
        return Err(Error::NotConfigured(format!(
            "file {file_id} ({}) is {}: only a loaded or staged file can be withdrawn",
            crate::formats::field::escaped_line(file_name.as_bytes()),
            was.as_str()
        )));
    }
    let mut removed = Vec::with_capacity(FACT_LOADS.len());
    for l in FACT_LOADS {
        // Table names are this file's constants, never input; the bulk kinds' tables, attached or not.
        let table = match l.from {
            Staged::Bulk => format!("{}_all", l.table),
            Staged::Record { .. } => l.table.to_string(),
        };
        removed
            .push((l.kind, tx.execute(&format!("DELETE FROM {table} WHERE file_id = $1"), &[&file_id]).await? as i64));
    }
    // A bank statement's facts (V27).
    let bank_entries = tx.execute("DELETE FROM fact_bank_entry WHERE file_id = $1", &[&file_id]).await?;
    tx.execute("DELETE FROM fact_bank_statement WHERE file_id = $1", &[&file_id]).await?;
    clear_staging(&tx, file_id).await?;
    let had_replaced = tx
        .query(
            "SELECT file_id, coalesce(file_name, '') FROM statement_file WHERE superseded_by = $1
             UNION
             SELECT DISTINCT e.file_id, coalesce(e.file_name, '') FROM statement_anomaly a
               JOIN statement_file e ON a.found LIKE '% live from file ' || e.file_id || ' (%'
              WHERE a.file_id = $1 AND a.kind = 'restates_earlier_facts'
             ORDER BY 1",
            &[&file_id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    tx.execute(
        "UPDATE statement_file SET status = 'withdrawn', withdrawn_at = now(), updated_at = now() WHERE file_id = $1",
        &[&file_id],
    )
    .await?;
    record_delivery(&tx, file_id, &file_name, "unload", "withdrawn", Some(&format!("was {}", was.as_str()))).await?;
    if was == FileStatus::Loaded {
        tx.execute("INSERT INTO recon_pending (file_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&file_id]).await?;
    }
    tx.commit().await?;
    let facts = LoadCounts { bank_entries, ..LoadCounts::of_counts(&removed) };
    Ok(Withdrawn { file_id, file_name, was, facts, had_replaced })
}

/// Take the run lease for `holder` for `seconds` (see V18): `Ok(None)` when taken, else who holds it and since
/// when. An expired lease (its run ended without giving it back: failed, timed out) is taken over.
pub async fn acquire_run_lease(
    db: &impl GenericClient,
    holder: &str,
    seconds: i64,
) -> Result<Option<(String, chrono::DateTime<chrono::Utc>)>> {
    let taken = db
        .query_opt(
            "INSERT INTO run_lease (name, holder, acquired_at, expires_at)
             VALUES ('run', $1, now(), now() + make_interval(secs => $2))
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, acquired_at = now(),
                    expires_at = EXCLUDED.expires_at
              WHERE run_lease.expires_at < now()
             RETURNING holder",
            &[&holder, &(seconds as f64)],
        )
        .await?;
    if taken.is_some() {
        return Ok(None);
    }
    let row = db.query_one("SELECT holder, acquired_at FROM run_lease WHERE name = 'run'", &[]).await?;
    Ok(Some((row.get(0), row.get(1))))
}

/// Give the run lease back (only its holder can). Returns whether it was held by `holder`.
pub async fn release_run_lease(db: &impl GenericClient, holder: &str) -> Result<bool> {
    Ok(db.execute("DELETE FROM run_lease WHERE name = 'run' AND holder = $1", &[&holder]).await? == 1)
}

/// Files sent back to `received` whose remote copy says they were staged or whose staging was lost: to be
/// staged again from their copy (`remote::restage`). Oldest first.
pub async fn files_to_restage(db: &impl GenericClient) -> Result<Vec<i64>> {
    Ok(db
        .query(
            "SELECT DISTINCT f.file_id FROM statement_file f JOIN remote_file r USING (file_id)
              WHERE f.status = 'received' AND r.status IN ('staged', 'failed') ORDER BY f.file_id",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// How one record kind becomes facts, and which fact table its rows go to (each row carries its `file_id`).
/// Each names its kind, whose count column and [`LoadCounts`] field are found by the kind (never by position).
struct FactLoad {
    kind: RecordKind,
    table: &'static str,
    from: Staged,
}

/// Where a kind's rows wait to be loaded.
enum Staged {
    /// A bulk kind (see [`bulk::BULK_KINDS`]): written straight into its fact table by [`bulk::load_records`],
    /// attached by the load ([`bulk::attach`]); nothing to move.
    Bulk,
    /// In `stage_record`, moved by this `INSERT … SELECT`, taking the first `params` of (file id, acquirer
    /// key, file type, code set).
    Record { sql: &'static str, params: usize },
}

const FACT_LOADS: &[FactLoad] = &[
    FactLoad { kind: RecordKind::ReceivableUnit, table: "fact_receivable_unit", from: Staged::Bulk },
    FactLoad { kind: RecordKind::CardTransaction, table: "fact_card_transaction", from: Staged::Bulk },
    FactLoad {
        kind: RecordKind::PixTransaction,
        table: "fact_pix_transaction",
        from: Staged::Record { sql: LOAD_PIX, params: 3 },
    },
    FactLoad {
        kind: RecordKind::ReceivablesNegotiation,
        table: "fact_receivables_negotiation",
        from: Staged::Record { sql: LOAD_NEGOTIATIONS, params: 2 },
    },
    FactLoad {
        kind: RecordKind::NegotiatedReceivable,
        table: "fact_negotiated_receivable",
        from: Staged::Record { sql: LOAD_NEGOTIATED_RECEIVABLES, params: 2 },
    },
    FactLoad {
        kind: RecordKind::NegotiationCredit,
        table: "fact_negotiation_credit",
        from: Staged::Record { sql: LOAD_NEGOTIATION_CREDITS, params: 2 },
    },
    FactLoad {
        kind: RecordKind::FinancialReserve,
        table: "fact_financial_reserve",
        from: Staged::Record { sql: LOAD_FINANCIAL_RESERVES, params: 3 },
    },
    FactLoad {
        kind: RecordKind::MerchantSale,
        table: "fact_merchant_sale",
        from: Staged::Record { sql: LOAD_MERCHANT_SALES, params: 2 },
    },
    FactLoad {
        kind: RecordKind::AnticipationOffset,
        table: "fact_anticipation_offset",
        from: Staged::Record { sql: LOAD_ANTICIPATION_OFFSETS, params: 2 },
    },
];

/// Rows per record kind, in [`FACT_LOADS`] order.
type KindCounts = Vec<(RecordKind, i64)>;

/// "3 D / 12 E / 1 A" (kinds with rows only; "nothing" when none).
fn describe_counts(counts: &KindCounts) -> String {
    let parts: Vec<String> =
        counts.iter().filter(|(_, n)| *n != 0).map(|(kind, n)| format!("{n} {}", kind.code())).collect();
    if parts.is_empty() {
        "no rows".into()
    } else {
        parts.join(" / ")
    }
}

// ------------------------------------------------------------------------------------------ reading

/// Loaded facts per merchant and file type: what the database now holds.
#[derive(Debug, Clone, Serialize)]
pub struct FactTotals {
    pub merchant_code: String,
    pub file_type: String,
    pub files: i64,
    pub receivable_units: i64,
    pub transactions: i64,
    pub sales: i64,
    pub adjustments: i64,
    pub gross: Decimal,
    pub fee: Decimal,
    pub net: Decimal,
}

pub async fn fact_totals(db: &impl GenericClient) -> Result<Vec<FactTotals>> {
    let rows = db
        .query(
            "SELECT e.merchant_code, t.file_type, count(DISTINCT t.file_id),
                    (SELECT count(*) FROM fact_receivable_unit u JOIN dim_establishment ue USING (establishment_key)
                      WHERE ue.merchant_code = e.merchant_code AND u.file_type = t.file_type),
                    count(*), count(*) FILTER (WHERE pt.is_sale), count(*) FILTER (WHERE NOT pt.is_sale),
                    coalesce(sum(t.gross_amount), 0), coalesce(sum(t.fee_amount), 0), coalesce(sum(t.net_amount), 0)
             FROM fact_card_transaction t
             JOIN dim_establishment e USING (establishment_key)
             JOIN dim_posting_type pt USING (posting_type_key)
             GROUP BY e.merchant_code, t.file_type
             UNION ALL
             -- Pix: lines are Pix records; sales are type 01, the rest adjustments.
             SELECT e.merchant_code, p.file_type, count(DISTINCT p.file_id), 0, count(*),
                    count(*) FILTER (WHERE tt.is_sale), count(*) FILTER (WHERE NOT coalesce(tt.is_sale, false)),
                    sum(p.gross_amount), sum(p.fee_amount), sum(p.net_amount)
             FROM fact_pix_transaction p
             JOIN dim_establishment e USING (establishment_key)
             LEFT JOIN ref_pix_transaction_type tt ON tt.acquirer_key = e.acquirer_key AND tt.code = p.transaction_type_code
             GROUP BY e.merchant_code, p.file_type
             UNION ALL
             -- Negotiations (v15 file 15, layout 001 anticipation file 06): lines are receivables sold (B);
             -- gross/net of the summaries (A), fee = the discount. In a file type that also carries sales
             -- (Getnet's daily payment, PagBank's cashouts), a row of their own: other money, never added to
             -- the sales'.
             SELECT e.merchant_code,
                    CASE WHEN f.file_type IN (SELECT DISTINCT file_type FROM fact_card_transaction)
                         THEN f.file_type || ' negotiations' ELSE f.file_type END,
                    count(DISTINCT n.file_id), 0,
                    (SELECT count(*) FROM fact_negotiated_receivable b JOIN dim_establishment be USING (establishment_key)
                      JOIN statement_file bf ON bf.file_id = b.file_id
                      WHERE be.merchant_code = e.merchant_code AND bf.file_type = f.file_type),
                    0, 0, sum(n.gross_amount), sum(n.net_amount - n.gross_amount), sum(n.net_amount)
             FROM fact_receivables_negotiation n
             JOIN dim_establishment e USING (establishment_key)
             JOIN statement_file f ON f.file_id = n.file_id
             GROUP BY e.merchant_code, f.file_type
             ORDER BY 1, 2",
            &[],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| FactTotals {
            merchant_code: r.get(0),
            file_type: r.get(1),
            files: r.get(2),
            receivable_units: r.get(3),
            transactions: r.get(4),
            sales: r.get(5),
            adjustments: r.get(6),
            gross: r.get(7),
            fee: r.get(8),
            net: r.get(9),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record kind is loaded once, into its own table; a staged kind's load reads its own rows, and a
    /// bulk kind is one `bulk` writes.
    #[test]
    fn every_record_kind_has_one_load_that_reads_its_own_rows() {
        let kinds: Vec<RecordKind> = FACT_LOADS.iter().map(|l| l.kind).collect();
        let mut sorted = kinds.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), kinds.len(), "a kind loaded twice: {kinds:?}");
        assert_eq!(sorted, RecordKind::ALL.to_vec());
        for l in FACT_LOADS {
            match l.from {
                Staged::Record { sql, .. } => {
                    let own = format!("s.kind = '{}'", l.kind.code());
                    assert!(sql.contains(&own), "{}: its load does not select {own}", l.kind);
                    let others = RecordKind::ALL.iter().filter(|k| **k != l.kind);
                    for k in others {
                        assert!(!sql.contains(&format!("s.kind = '{}'", k.code())), "{} reads {k}'s rows", l.kind);
                    }
                    assert!(sql.contains(&format!("INSERT INTO {}", l.table)), "{} loads into {}", l.kind, l.table);
                }
                Staged::Bulk => {
                    assert!(bulk::BULK_KINDS.iter().any(|b| b.kind == l.kind && b.fact == l.table), "{}", l.kind)
                }
            }
        }
        let codes: Vec<&str> = RecordKind::ALL.iter().map(|k| k.code()).collect();
        assert!(codes.iter().all(|c| c.len() == 1), "{codes:?}");
    }

    #[test]
    fn the_calendar_dates_are_the_columns_load_dates_reads() {
        let values = LOAD_DATES.split("VALUES").nth(1).unwrap().split("AS v(d)").next().unwrap();
        let read: Vec<String> =
            values.split(',').map(|v| v.trim().trim_matches(|c| c == '(' || c == ')').to_string()).collect();
        let declared: Vec<String> = CALENDAR_DATE_COLUMNS.iter().map(|c| format!("s.{c}")).collect();
        assert_eq!(read, declared);
    }
}
