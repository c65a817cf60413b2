//! The statement store: control rows, staging by binary COPY, set-based loading into the star schema,
//! and rejection records. One file's facts appear in one transaction or not at all.

use crate::error::{Error, Result};
use crate::formats::{Issue, StatementSummary};
use crate::model::{CardTransaction, ReceivableUnit, Record};
use chrono::{NaiveDate, NaiveTime};
use futures_util::pin_mut;
use rust_decimal::Decimal;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
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
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Received => "received",
            FileStatus::Staged => "staged",
            FileStatus::Loaded => "loaded",
            FileStatus::Rejected => "rejected",
        }
    }
    fn parse(s: &str) -> FileStatus {
        match s {
            "staged" => FileStatus::Staged,
            "loaded" => FileStatus::Loaded,
            "rejected" => FileStatus::Rejected,
            _ => FileStatus::Received,
        }
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
    Ok(row.map(|r| FileRow { file_id: r.get(0), status: FileStatus::parse(r.get(1)) }))
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
    Ok(FileRow { file_id: row.get(0), status: FileStatus::parse(row.get(1)) })
}

/// Lock the control row for the rest of the transaction and read its status: concurrent ingesters of the
/// same content queue here, and the later ones find it loaded.
pub async fn lock_file(tx: &Transaction<'_>, file_id: i64) -> Result<FileStatus> {
    let row = tx.query_one("SELECT status FROM statement_file WHERE file_id = $1 FOR UPDATE", &[&file_id]).await?;
    Ok(FileStatus::parse(row.get(0)))
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

// ------------------------------------------------------------------------------------------ staging

/// Columns of `stage_record`, in COPY order, with their types. Rows are built by [`write_ur`]/[`write_tx`].
const STAGE_COLUMNS: &[(&str, Type)] = &[
    ("file_id", Type::INT8),
    ("line_no", Type::INT8),
    ("kind", Type::TEXT),
    ("merchant_code", Type::TEXT),
    ("brand_code", Type::TEXT),
    ("settlement_type_code", Type::TEXT),
    ("posting_type_code", Type::TEXT),
    ("ur_key", Type::TEXT),
    ("summary_number", Type::TEXT),
    ("gross_amount", Type::NUMERIC),
    ("fee_amount", Type::NUMERIC),
    ("net_amount", Type::NUMERIC),
    ("bank_code", Type::TEXT),
    ("branch_code", Type::TEXT),
    ("account_number", Type::TEXT),
    ("account_check_digit", Type::TEXT),
    ("payment_matrix_code", Type::TEXT),
    ("receiver_tax_id", Type::TEXT),
    ("negotiator_tax_id", Type::TEXT),
    ("negotiation_flag", Type::TEXT),
    ("original_due_date", Type::DATE),
    // D only
    ("holder_tax_id", Type::TEXT),
    ("movement_holder_tax_id", Type::TEXT),
    ("payment_status_code", Type::TEXT),
    ("entry_count", Type::INT8),
    ("payment_date", Type::DATE),
    ("sent_to_bank_date", Type::DATE),
    ("payment_merchant_code", Type::TEXT),
    ("pending_flag", Type::TEXT),
    ("payment_resend_flag", Type::TEXT),
    ("open_balance_flag", Type::TEXT),
    ("installment_plan", Type::TEXT),
    ("presentation_date", Type::DATE),
    ("rejected_amount", Type::NUMERIC),
    ("fee_rate", Type::NUMERIC),
    // E only (the first four also for v14 ROs)
    ("installment", Type::INT4),
    ("product_code", Type::TEXT),
    ("adjustment_code", Type::TEXT),
    ("capture_date", Type::DATE),
    ("installment_count", Type::INT4),
    ("authorization_code", Type::TEXT),
    ("transaction_code", Type::TEXT),
    ("indicators", Type::TEXT),
    ("card_bin", Type::TEXT),
    ("card_last_digits", Type::TEXT),
    ("nsu", Type::TEXT),
    ("invoice_number", Type::TEXT),
    ("tid", Type::TEXT),
    ("order_reference", Type::TEXT),
    ("mdr_rate", Type::NUMERIC),
    ("auto_receipt_rate", Type::NUMERIC),
    ("sale_rate", Type::NUMERIC),
    ("sale_total_amount", Type::NUMERIC),
    ("minimum_fee_amount", Type::NUMERIC),
    ("down_payment_amount", Type::NUMERIC),
    ("mdr_tariff_amount", Type::NUMERIC),
    ("fast_receipt_amount", Type::NUMERIC),
    ("withdrawal_amount", Type::NUMERIC),
    ("boarding_fee_amount", Type::NUMERIC),
    ("pending_amount", Type::NUMERIC),
    ("total_debt_amount", Type::NUMERIC),
    ("charged_amount", Type::NUMERIC),
    ("admin_tariff_amount", Type::NUMERIC),
    ("promo_amount", Type::NUMERIC),
    ("dcc_amount", Type::NUMERIC),
    ("sale_time", Type::TIME),
    ("card_group", Type::TEXT),
    ("authorization_brand_code", Type::TEXT),
    ("unique_sale_code", Type::TEXT),
    ("original_sale_code", Type::TEXT),
    ("negotiation_effect_id", Type::TEXT),
    ("sales_channel", Type::TEXT),
    ("terminal", Type::TEXT),
    ("original_posting_type_code", Type::TEXT),
    ("transaction_type", Type::TEXT),
    ("pricing_modality", Type::TEXT),
    ("authorization_date", Type::DATE),
    ("posting_date", Type::DATE),
    ("original_posting_date", Type::DATE),
    ("batch_number", Type::TEXT),
    ("processed_transaction_code", Type::TEXT),
    ("rejection_reason", Type::TEXT),
    ("card_type", Type::TEXT),
    ("card_origin", Type::TEXT),
    ("arn", Type::TEXT),
    ("capture_type", Type::TEXT),
];
const N: usize = 86;

static NO_TEXT: Option<String> = None;
static NO_INT4: Option<i32> = None;
static NO_INT8: Option<i64> = None;
static NO_DEC: Option<Decimal> = None;
static NO_DATE: Option<NaiveDate> = None;
static NO_TIME: Option<NaiveTime> = None;

type Row<'a> = [&'a (dyn ToSql + Sync); N];

fn ur_row<'a>(file_id: &'a i64, line_no: &'a i64, ints: &'a (i64, i32), u: &'a ReceivableUnit) -> Row<'a> {
    [
        file_id,
        line_no,
        &"D",
        &u.merchant_code,
        &u.brand_code,
        &u.settlement_type_code,
        &u.posting_type_code,
        &u.ur_key,
        &u.summary_number,
        &u.gross_amount,
        &u.fee_amount,
        &u.net_amount,
        &u.bank_code,
        &u.branch_code,
        &u.account_number,
        &u.account_check_digit,
        &u.payment_matrix_code,
        &u.receiver_tax_id,
        &u.negotiator_tax_id,
        &u.negotiation_flag,
        &u.original_due_date,
        // D only
        &u.holder_tax_id,
        &u.movement_holder_tax_id,
        &u.payment_status_code,
        &ints.0,
        &u.payment_date,
        &u.sent_to_bank_date,
        &u.payment_merchant_code,
        &u.pending_flag,
        &u.payment_resend_flag,
        &u.open_balance_flag,
        &u.installment_plan,
        &u.presentation_date,
        &u.rejected_amount,
        &u.fee_rate,
        // shared with E
        &ints.1,
        &u.product_code,
        &u.adjustment_code,
        &u.capture_date,
        // E only
        &NO_INT4,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_DEC,
        &NO_TIME,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_DATE,
        &NO_DATE,
        &NO_DATE,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
    ]
}

fn tx_row<'a>(file_id: &'a i64, line_no: &'a i64, inst: &'a (i32, i32), t: &'a CardTransaction) -> Row<'a> {
    [
        file_id,
        line_no,
        &"E",
        &t.merchant_code,
        &t.brand_code,
        &t.settlement_type_code,
        &t.posting_type_code,
        &t.ur_key,
        &t.summary_number,
        &t.gross_amount,
        &t.fee_amount,
        &t.net_amount,
        &t.bank_code,
        &t.branch_code,
        &t.account_number,
        &t.account_check_digit,
        &t.payment_matrix_code,
        &t.receiver_tax_id,
        &t.negotiator_tax_id,
        &t.negotiation_flag,
        &t.original_due_date,
        // D only
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_INT8,
        &NO_DATE,
        &NO_DATE,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_TEXT,
        &NO_DATE,
        &NO_DEC,
        &NO_DEC,
        // shared with D
        &inst.0,
        &t.product_code,
        &t.adjustment_code,
        &t.capture_date,
        // E only
        &inst.1,
        &t.authorization_code,
        &t.transaction_code,
        &t.indicators,
        &t.card_bin,
        &t.card_last_digits,
        &t.nsu,
        &t.invoice_number,
        &t.tid,
        &t.order_reference,
        &t.mdr_rate,
        &t.auto_receipt_rate,
        &t.sale_rate,
        &t.sale_total_amount,
        &t.minimum_fee_amount,
        &t.down_payment_amount,
        &t.mdr_tariff_amount,
        &t.fast_receipt_amount,
        &t.withdrawal_amount,
        &t.boarding_fee_amount,
        &t.pending_amount,
        &t.total_debt_amount,
        &t.charged_amount,
        &t.admin_tariff_amount,
        &t.promo_amount,
        &t.dcc_amount,
        &t.sale_time,
        &t.card_group,
        &t.authorization_brand_code,
        &t.unique_sale_code,
        &t.original_sale_code,
        &t.negotiation_effect_id,
        &t.sales_channel,
        &t.terminal,
        &t.original_posting_type_code,
        &t.transaction_type,
        &t.pricing_modality,
        &t.authorization_date,
        &t.posting_date,
        &t.original_posting_date,
        &t.batch_number,
        &t.processed_transaction_code,
        &t.rejection_reason,
        &t.card_type,
        &t.card_origin,
        &t.arn,
        &t.capture_type,
    ]
}

/// Stream records from the parser into `stage_record` with one binary COPY. Returns rows staged.
pub async fn stage_records(
    tx: &Transaction<'_>,
    file_id: i64,
    records: &mut mpsc::Receiver<Vec<Record>>,
) -> Result<u64> {
    debug_assert_eq!(STAGE_COLUMNS.len(), N);
    let names: Vec<&str> = STAGE_COLUMNS.iter().map(|(n, _)| *n).collect();
    let types: Vec<Type> = STAGE_COLUMNS.iter().map(|(_, t)| t.clone()).collect();
    let sink = tx.copy_in(&format!("COPY stage_record ({}) FROM STDIN (FORMAT binary)", names.join(", "))).await?;
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    while let Some(batch) = records.recv().await {
        for record in &batch {
            match record {
                Record::ReceivableUnit(u) => {
                    let (line, ints) = (u.line_no as i64, (u.entry_count as i64, u.installment as i32));
                    writer.as_mut().write(&ur_row(&file_id, &line, &ints, u)).await?;
                }
                Record::Transaction(t) => {
                    let line = t.line_no as i64;
                    let inst = (t.installment as i32, t.installment_count as i32);
                    writer.as_mut().write(&tx_row(&file_id, &line, &inst, t)).await?;
                }
                Record::Header(_) | Record::Trailer(_) => {}
            }
        }
    }
    Ok(writer.finish().await?)
}

/// Mark a file staged, with its header and totals (same transaction as the COPY).
pub async fn mark_staged(tx: &Transaction<'_>, file_id: i64, s: &StatementSummary) -> Result<()> {
    describe_file(tx, file_id, s, FileStatus::Staged).await
}

// ------------------------------------------------------------------------------------------ loading

/// Rows a load added to the facts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LoadCounts {
    pub receivable_units: u64,
    pub transactions: u64,
}

const LOAD_DATES: &str = "
INSERT INTO dim_date (date_key, year, quarter, month, day, iso_dow, is_weekend)
SELECT d, extract(year FROM d)::smallint, extract(quarter FROM d)::smallint, extract(month FROM d)::smallint,
       extract(day FROM d)::smallint, extract(isodow FROM d)::smallint, extract(isodow FROM d) >= 6
FROM (SELECT DISTINCT v.d
      FROM stage_record s
      CROSS JOIN LATERAL (VALUES (s.original_due_date), (s.payment_date), (s.sent_to_bank_date),
                                 (s.authorization_date), (s.capture_date), (s.posting_date),
                                 (s.original_posting_date), (s.presentation_date)) AS v(d)
      WHERE s.file_id = $1 AND v.d IS NOT NULL) x
ORDER BY d
ON CONFLICT DO NOTHING";

const LOAD_ESTABLISHMENTS: &str = "
INSERT INTO dim_establishment (acquirer_key, merchant_code)
SELECT DISTINCT $2::smallint, merchant_code FROM stage_record WHERE file_id = $1
ORDER BY 2
ON CONFLICT DO NOTHING";

const LOAD_PAYMENT_METHODS: &str = "
INSERT INTO dim_payment_method (acquirer_key, brand_code, brand_name, settlement_type_code, settlement_type_name, settlement)
SELECT $2::smallint, s.brand_code, coalesce(b.name, 'Bandeira ' || s.brand_code),
       s.settlement_type_code, coalesce(t.name, 'Liquidação ' || s.settlement_type_code), coalesce(t.settlement, 'unknown')
FROM (SELECT DISTINCT brand_code, settlement_type_code FROM stage_record WHERE file_id = $1) s
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
FROM stage_record WHERE file_id = $1
ORDER BY 3
ON CONFLICT DO NOTHING";

const LOAD_RECEIVABLE_UNITS: &str = "
INSERT INTO fact_receivable_unit (
    file_id, line_no, file_type, establishment_key, payment_method_key, posting_type_key, product_key, payment_date,
    sent_to_bank_date, original_due_date, payment_status_code, ur_key, summary_number, installment, installment_plan,
    gross_amount, fee_amount, net_amount, rejected_amount, fee_rate, adjustment_code, presentation_date,
    capture_date, entry_count, holder_tax_id, movement_holder_tax_id, receiver_tax_id, payment_matrix_code,
    payment_merchant_code, bank_code, branch_code, account_number, account_check_digit, pending_flag,
    payment_resend_flag, negotiation_flag, negotiator_tax_id, open_balance_flag)
SELECT s.file_id, s.line_no, $3, e.establishment_key, pm.payment_method_key, pt.posting_type_key, p.product_key,
    s.payment_date, s.sent_to_bank_date, s.original_due_date, s.payment_status_code, s.ur_key, s.summary_number,
    s.installment, s.installment_plan, s.gross_amount, s.fee_amount, s.net_amount, s.rejected_amount, s.fee_rate,
    s.adjustment_code, s.presentation_date, s.capture_date, s.entry_count, s.holder_tax_id, s.movement_holder_tax_id, s.receiver_tax_id,
    s.payment_matrix_code, s.payment_merchant_code, s.bank_code, s.branch_code, s.account_number,
    s.account_check_digit, s.pending_flag, s.payment_resend_flag, s.negotiation_flag, s.negotiator_tax_id,
    s.open_balance_flag
FROM stage_record s
JOIN dim_establishment e ON e.acquirer_key = $2 AND e.merchant_code = s.merchant_code
JOIN dim_payment_method pm ON pm.acquirer_key = $2 AND pm.brand_code = s.brand_code
                          AND pm.settlement_type_code = s.settlement_type_code
JOIN dim_posting_type pt ON pt.acquirer_key = $2 AND pt.code_set = $4 AND pt.code = s.posting_type_code
LEFT JOIN dim_product p ON p.acquirer_key = $2 AND p.code = s.product_code
WHERE s.file_id = $1 AND s.kind = 'D'";

const LOAD_TRANSACTIONS: &str = "
INSERT INTO fact_card_transaction (
    file_id, line_no, file_type, establishment_key, payment_method_key, product_key, posting_type_key,
    authorization_date, capture_date, posting_date, original_posting_date, original_due_date, ur_key,
    summary_number, installment, installment_count, authorization_code, nsu, tid, transaction_code, unique_sale_code,
    original_sale_code, processed_transaction_code, adjustment_code, card_bin, card_last_digits, mdr_rate,
    auto_receipt_rate, sale_rate, sale_total_amount, gross_amount, fee_amount, net_amount, minimum_fee_amount,
    down_payment_amount, mdr_tariff_amount, fast_receipt_amount, withdrawal_amount, boarding_fee_amount,
    pending_amount, total_debt_amount, charged_amount, admin_tariff_amount, promo_amount, dcc_amount, sale_time,
    indicators, invoice_number, order_reference, card_group, receiver_tax_id, authorization_brand_code,
    negotiation_effect_id, sales_channel, terminal, original_posting_type_code, transaction_type,
    pricing_modality, batch_number, rejection_reason, payment_matrix_code, card_type, card_origin, bank_code,
    branch_code, account_number, account_check_digit, arn, negotiation_flag, capture_type, negotiator_tax_id)
SELECT s.file_id, s.line_no, $3, e.establishment_key, pm.payment_method_key, p.product_key, pt.posting_type_key,
    s.authorization_date, s.capture_date, s.posting_date, s.original_posting_date, s.original_due_date, s.ur_key,
    s.summary_number, s.installment, s.installment_count, s.authorization_code, s.nsu, s.tid, s.transaction_code,
    s.unique_sale_code, s.original_sale_code, s.processed_transaction_code, s.adjustment_code, s.card_bin,
    s.card_last_digits, s.mdr_rate, s.auto_receipt_rate, s.sale_rate, s.sale_total_amount, s.gross_amount,
    s.fee_amount, s.net_amount, s.minimum_fee_amount, s.down_payment_amount, s.mdr_tariff_amount,
    s.fast_receipt_amount, s.withdrawal_amount, s.boarding_fee_amount, s.pending_amount, s.total_debt_amount,
    s.charged_amount, s.admin_tariff_amount, s.promo_amount, s.dcc_amount, s.sale_time, s.indicators,
    s.invoice_number, s.order_reference, s.card_group, s.receiver_tax_id, s.authorization_brand_code,
    s.negotiation_effect_id, s.sales_channel, s.terminal, s.original_posting_type_code, s.transaction_type,
    s.pricing_modality, s.batch_number, s.rejection_reason, s.payment_matrix_code, s.card_type, s.card_origin,
    s.bank_code, s.branch_code, s.account_number, s.account_check_digit, s.arn, s.negotiation_flag,
    s.capture_type, s.negotiator_tax_id
FROM stage_record s
JOIN dim_establishment e ON e.acquirer_key = $2 AND e.merchant_code = s.merchant_code
JOIN dim_payment_method pm ON pm.acquirer_key = $2 AND pm.brand_code = s.brand_code
                          AND pm.settlement_type_code = s.settlement_type_code
JOIN dim_product p ON p.acquirer_key = $2 AND p.code = s.product_code
JOIN dim_posting_type pt ON pt.acquirer_key = $2 AND pt.code_set = $4 AND pt.code = s.posting_type_code
WHERE s.file_id = $1 AND s.kind = 'E'";

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

/// Load one staged file into dimensions and facts, inside the caller's transaction, and mark it loaded.
/// Set-based: a few INSERT … SELECT statements, whatever the size of the file.
pub async fn load_staged(tx: &Transaction<'_>, file_id: i64) -> Result<LoadResult> {
    let row = tx
        .query_one(
            "SELECT f.status, f.file_type, a.acquirer_key, coalesce(f.receivable_unit_count, 0),
                    coalesce(f.transaction_count, 0), coalesce(f.code_set, '')
             FROM statement_file f LEFT JOIN dim_acquirer a ON a.code = f.acquirer
             WHERE f.file_id = $1 FOR UPDATE OF f",
            &[&file_id],
        )
        .await?;
    let status = FileStatus::parse(row.get(0));
    if status == FileStatus::Loaded {
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
    let (want_d, want_e): (i64, i64) = (row.get(3), row.get(4));
    let code_set: String = row.get(5);
    let staged = tx
        .query_one(
            "SELECT count(*) FILTER (WHERE kind = 'D'), count(*) FILTER (WHERE kind = 'E') FROM stage_record WHERE file_id = $1",
            &[&file_id],
        )
        .await?;
    let (have_d, have_e): (i64, i64) = (staged.get(0), staged.get(1));
    if (have_d, have_e) != (want_d, want_e) {
        // The staging table is UNLOGGED: a server crash empties it. Send the file back to be ingested again.
        tx.execute("DELETE FROM stage_record WHERE file_id = $1", &[&file_id]).await?;
        tx.execute("UPDATE statement_file SET status = 'received', updated_at = now() WHERE file_id = $1", &[&file_id])
            .await?;
        return Ok(LoadResult::StagingLost(format!(
            "staged rows lost (found {have_d} D / {have_e} E, expected {want_d} / {want_e}); the file must be ingested again"
        )));
    }
    let t = std::time::Instant::now();
    for sql in [LOAD_DATES, LOAD_ESTABLISHMENTS, LOAD_PAYMENT_METHODS, LOAD_PRODUCTS, LOAD_POSTING_TYPES] {
        let params: Vec<&(dyn ToSql + Sync)> = match sql {
            LOAD_DATES => vec![&file_id],
            LOAD_POSTING_TYPES => vec![&file_id, &acquirer_key, &code_set],
            _ => vec![&file_id, &acquirer_key],
        };
        tx.execute(sql, &params).await?;
        tracing::debug!(
            file_id,
            seconds = t.elapsed().as_secs_f64(),
            step = sql.lines().nth(1).unwrap_or(""),
            "dimension"
        );
    }
    let d = tx.execute(LOAD_RECEIVABLE_UNITS, &[&file_id, &acquirer_key, &file_type, &code_set]).await?;
    tracing::debug!(file_id, seconds = t.elapsed().as_secs_f64(), "receivable-unit facts");
    let e = tx.execute(LOAD_TRANSACTIONS, &[&file_id, &acquirer_key, &file_type, &code_set]).await?;
    tracing::debug!(file_id, seconds = t.elapsed().as_secs_f64(), "transaction facts");
    if (d as i64, e as i64) != (want_d, want_e) {
        return Err(Error::Integrity {
            file_id,
            detail: format!("loaded {d} D / {e} E facts but {want_d} / {want_e} were staged; rolled back"),
        });
    }
    tx.execute("DELETE FROM stage_record WHERE file_id = $1", &[&file_id]).await?;
    tracing::debug!(file_id, seconds = t.elapsed().as_secs_f64(), "staging cleared");
    tx.execute(
        "UPDATE statement_file SET status = 'loaded', loaded_at = now(), updated_at = now(), error = NULL WHERE file_id = $1",
        &[&file_id],
    )
    .await?;
    Ok(LoadResult::Loaded(LoadCounts { receivable_units: d, transactions: e }))
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
             ORDER BY e.merchant_code, t.file_type",
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
