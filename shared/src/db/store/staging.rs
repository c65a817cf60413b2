//! A file's records as staging rows (`stage_record`, one wide row per record, every column optional), written
//! by binary COPY; the file's status and anomalies as it is staged.

use super::*;

/// Declares `StageRow` (one row of `stage_record`, every column optional) and the COPY column list from one
/// table, so that the two can never drift apart.
macro_rules! stage_columns {
    ($($name:ident: $ty:ty = $pg:ident),* $(,)?) => {
        /// One row of `stage_record`: any staged record kind, columns it does not have left NULL.
        #[derive(Default)]
        pub(in crate::db) struct StageRow {
            $(pub(in crate::db) $name: Option<$ty>,)*
        }
        pub(in crate::db) const STAGE_COLUMNS: &[(&str, Type)] = &[$((stringify!($name), Type::$pg)),*];
        impl StageRow {
            pub(in crate::db) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
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
    pub(in crate::db) fn of(file_id: i64, record: Record) -> Option<StageRow> {
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
pub(in crate::db) fn stage_copy_sql() -> String {
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

/// Declares [`StageRow::calendar_dates`] and the names of its columns (checked against [`LOAD_DATES`]).
macro_rules! calendar_dates {
    ($($column:ident),* $(,)?) => {
        #[cfg(test)]
        pub(super) const CALENDAR_DATE_COLUMNS: &[&str] = &[$(stringify!($column)),*];
        impl StageRow {
            /// The dates of this row that `dim_date` must hold.
            pub(in crate::db) fn calendar_dates(&self) -> impl Iterator<Item = NaiveDate> {
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
