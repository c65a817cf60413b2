//! Staged rows into facts, set-based, per record kind (`FACT_LOADS`); a re-sent statement superseding the
//! earlier one, a restated fact replacing the earlier fact.

use super::*;

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
        // One mapping of kinds to fields (`of_kind_mut`), read through a copy of eleven counters.
        *self.clone().of_kind_mut(kind)
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
    pub(super) fn of_counts(counts: &KindCounts) -> LoadCounts {
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
pub(in crate::db) const INSERT_DATES: &str = insert_dim_dates!("unnest($1::date[]) AS u(d)");

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
pub(super) async fn clear_staging(tx: &Transaction<'_>, file_id: i64) -> Result<()> {
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

/// How one record kind becomes facts, and which fact table its rows go to (each row carries its `file_id`).
/// Each names its kind, whose count column and [`LoadCounts`] field are found by the kind (never by position).
pub(super) struct FactLoad {
    pub(super) kind: RecordKind,
    pub(super) table: &'static str,
    pub(super) from: Staged,
}

/// Where a kind's rows wait to be loaded.
pub(super) enum Staged {
    /// A bulk kind (see [`bulk::BULK_KINDS`]): written straight into its fact table by [`bulk::load_records`],
    /// attached by the load ([`bulk::attach`]); nothing to move.
    Bulk,
    /// In `stage_record`, moved by this `INSERT … SELECT`, taking the first `params` of (file id, acquirer
    /// key, file type, code set).
    Record { sql: &'static str, params: usize },
}

pub(super) const FACT_LOADS: &[FactLoad] = &[
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
pub(super) type KindCounts = Vec<(RecordKind, i64)>;

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
