//! The bulk record kinds — receivable units (D) and transactions (E), nearly every row of a statement —
//! written by binary COPY straight into their fact tables, their dimension keys resolved here (a small
//! cache; a value seen for the first time is added to its dimension), never through the wide `stage_record`.
//! Every other record kind goes to `stage_record` and is loaded by [`super::store::load_staged_with`].
//!
//! Both pipelines write them the same way, in the file's transaction (a file still stages, or loads,
//! completely or not at all):
//! - loading in one go (the CLI's `ingest` and `run`), the file is then loaded in that same transaction;
//! - staging (the AWS ingest Lambda), the rows are written but the file is listed in `unattached_file`, and
//!   the fact views (`fact_card_transaction`, `fact_receivable_unit`: what every reader reads) leave its rows
//!   out until the load Lambda attaches it ([`attach`]). Each row is written once, at COPY speed: staging
//!   them in `stage_record` and moving them with `INSERT … SELECT` wrote every row twice (V20).
//!
//! Which fact column takes which value is declared once, per kind, in [`BULK_KINDS`]: a column is a key of
//! one of the four dimensions, the file's type, or the [`StageRow`] value of the same name.

use super::store::{stage_copy_sql, StageRow, INSERT_DATES, STAGE_COLUMNS};
use crate::error::{Error, Result};
use crate::model::{Record, RecordKind};
use chrono::NaiveDate;
use futures_util::pin_mut;
use std::collections::BTreeSet;
use std::pin::Pin;
use tokio::sync::mpsc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Transaction;

/// Rows of the buffered kinds (receivable units, staged kinds) kept before they are sent with one COPY: a
/// staging row is a few KB, so this bounds the buffers to a few MB whatever the file's size.
const FLUSH_ROWS: usize = 1024;

/// One bulk record kind: its fact (the view readers read), the table holding its rows, and its columns.
pub struct BulkKind {
    pub kind: RecordKind,
    /// The view of the loaded files' rows.
    pub fact: &'static str,
    /// Every row, of loaded files and of files staged and not loaded yet.
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

/// The bulk kinds, transactions first (the one streamed as it comes). A fact column named like a dimension's
/// key takes that key; `file_type` the file's type; any other the [`StageRow`] value of the same name.
pub const BULK_KINDS: [BulkKind; 2] = [
    BulkKind {
        kind: RecordKind::CardTransaction,
        fact: "fact_card_transaction",
        table: "fact_card_transaction_all",
        columns: &[
            "file_id",
            "line_no",
            "file_type",
            "establishment_key",
            "payment_method_key",
            "product_key",
            "posting_type_key",
            "authorization_date",
            "capture_date",
            "posting_date",
            "original_posting_date",
            "original_due_date",
            "ur_key",
            "summary_number",
            "installment",
            "installment_count",
            "authorization_code",
            "nsu",
            "tid",
            "transaction_code",
            "unique_sale_code",
            "original_sale_code",
            "processed_transaction_code",
            "adjustment_code",
            "card_bin",
            "card_last_digits",
            "mdr_rate",
            "auto_receipt_rate",
            "sale_rate",
            "sale_total_amount",
            "gross_amount",
            "fee_amount",
            "net_amount",
            "minimum_fee_amount",
            "down_payment_amount",
            "mdr_tariff_amount",
            "fast_receipt_amount",
            "withdrawal_amount",
            "boarding_fee_amount",
            "pending_amount",
            "total_debt_amount",
            "charged_amount",
            "admin_tariff_amount",
            "promo_amount",
            "dcc_amount",
            "sale_time",
            "indicators",
            "invoice_number",
            "order_reference",
            "card_group",
            "receiver_tax_id",
            "authorization_brand_code",
            "negotiation_effect_id",
            "sales_channel",
            "terminal",
            "original_posting_type_code",
            "transaction_type",
            "pricing_modality",
            "batch_number",
            "rejection_reason",
            "payment_matrix_code",
            "card_type",
            "card_origin",
            "bank_code",
            "branch_code",
            "account_number",
            "account_check_digit",
            "arn",
            "negotiation_flag",
            "capture_type",
            "negotiator_tax_id",
            "adjustment_reason",
        ],
    },
    BulkKind {
        kind: RecordKind::ReceivableUnit,
        fact: "fact_receivable_unit",
        table: "fact_receivable_unit_all",
        columns: &[
            "file_id",
            "line_no",
            "file_type",
            "establishment_key",
            "payment_method_key",
            "posting_type_key",
            "product_key",
            "payment_date",
            "sent_to_bank_date",
            "original_due_date",
            "payment_status_code",
            "ur_key",
            "summary_number",
            "installment",
            "installment_plan",
            "gross_amount",
            "fee_amount",
            "net_amount",
            "rejected_amount",
            "fee_rate",
            "adjustment_code",
            "presentation_date",
            "capture_date",
            "entry_count",
            "holder_tax_id",
            "movement_holder_tax_id",
            "receiver_tax_id",
            "payment_matrix_code",
            "payment_merchant_code",
            "bank_code",
            "branch_code",
            "account_number",
            "account_check_digit",
            "pending_flag",
            "payment_resend_flag",
            "negotiation_flag",
            "negotiator_tax_id",
            "open_balance_flag",
            "credit_document",
            "transaction_type",
        ],
    },
];

/// A dimension whose surrogate key a fact row carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Dim {
    Establishment = 0,
    PaymentMethod = 1,
    Product = 2,
    PostingType = 3,
}

impl Dim {
    const ALL: [Dim; 4] = [Dim::Establishment, Dim::PaymentMethod, Dim::Product, Dim::PostingType];

    /// The fact column holding this dimension's key.
    fn key_column(self) -> &'static str {
        match self {
            Dim::Establishment => "establishment_key",
            Dim::PaymentMethod => "payment_method_key",
            Dim::Product => "product_key",
            Dim::PostingType => "posting_type_key",
        }
    }
}

/// Where a column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A column of the staging row (index into `STAGE_COLUMNS`).
    Stage(usize),
    /// The file's type.
    FileType,
    /// A dimension's surrogate key.
    Key(Dim),
}

/// A bulk kind's COPY statement and where each of its columns' values comes from.
#[derive(Debug, Clone)]
struct Mapping {
    kind: RecordKind,
    table: &'static str,
    copy_sql: String,
    columns: &'static [&'static str],
    sources: Vec<Source>,
}

/// A bulk kind's mapping, from its declared columns.
fn mapping(k: &BulkKind) -> std::result::Result<Mapping, String> {
    let mut sources = Vec::new();
    for &c in k.columns {
        sources.push(if c == "file_type" {
            Source::FileType
        } else if let Some(d) = Dim::ALL.into_iter().find(|d| d.key_column() == c) {
            Source::Key(d)
        } else {
            STAGE_COLUMNS
                .iter()
                .position(|(n, _)| *n == c)
                .map(Source::Stage)
                .ok_or_else(|| format!("{c:?} is neither a dimension key, file_type nor a staging column"))?
        });
    }
    for d in Dim::ALL {
        if !sources.contains(&Source::Key(d)) {
            return Err(format!("no {} column", d.key_column()));
        }
    }
    let copy_sql = format!("COPY {} ({}) FROM STDIN (FORMAT binary)", k.table, k.columns.join(", "));
    Ok(Mapping { kind: k.kind, table: k.table, copy_sql, columns: k.columns, sources })
}

/// The bulk kinds' mappings (built once), in [`BULK_KINDS`] order.
fn mappings() -> &'static [Mapping] {
    static MAPPINGS: std::sync::OnceLock<Vec<Mapping>> = std::sync::OnceLock::new();
    MAPPINGS.get_or_init(|| {
        BULK_KINDS.iter().map(|k| mapping(k).unwrap_or_else(|e| panic!("bulk kind {}: {e}", k.kind))).collect()
    })
}

/// Look up and, when new, add a dimension member (parameters: acquirer key, then the natural key).
struct DimSql {
    select: &'static str,
    insert: &'static str,
}

const DIM_SQL: [DimSql; 4] = [
    DimSql {
        select: "SELECT establishment_key FROM dim_establishment WHERE acquirer_key = $1 AND merchant_code = $2",
        insert: "INSERT INTO dim_establishment (acquirer_key, merchant_code) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    },
    DimSql {
        select: "SELECT payment_method_key FROM dim_payment_method
                  WHERE acquirer_key = $1 AND brand_code = $2 AND settlement_type_code = $3",
        insert: "INSERT INTO dim_payment_method (acquirer_key, brand_code, brand_name, settlement_type_code,
                     settlement_type_name, settlement)
                 SELECT $1, $2::text, coalesce(b.name, 'Bandeira ' || $2::text), $3::text,
                        coalesce(t.name, 'Liquidação ' || $3::text), coalesce(t.settlement, 'unknown')
                 FROM (SELECT 1) one
                 LEFT JOIN ref_brand b ON b.acquirer_key = $1 AND b.code = $2::text
                 LEFT JOIN ref_settlement_type t ON t.acquirer_key = $1 AND t.code = $3::text
                 ON CONFLICT DO NOTHING",
    },
    DimSql {
        select: "SELECT product_key FROM dim_product WHERE acquirer_key = $1 AND code = $2",
        insert: "INSERT INTO dim_product (acquirer_key, code, name, catalogued)
                 VALUES ($1, $2::text, 'Produto ' || $2::text || ' (fora da tabela de referência)', false)
                 ON CONFLICT DO NOTHING",
    },
    DimSql {
        select: "SELECT posting_type_key FROM dim_posting_type WHERE acquirer_key = $1 AND code_set = $2 AND code = $3",
        insert: "INSERT INTO dim_posting_type (acquirer_key, code_set, code, name, category, catalogued)
                 VALUES ($1, $2::text, $3::text, 'Tipo de lançamento ' || $3::text || ' (fora da tabela de referência)',
                         'other', false)
                 ON CONFLICT DO NOTHING",
    },
];

/// What the file's header says, needed before its first detail record.
struct FileContext {
    acquirer_key: i16,
    code_set: String,
    file_type: String,
}

/// Rows of the bulk kinds written, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkLoaded {
    pub rows: Vec<(RecordKind, i64)>,
}

impl BulkLoaded {
    /// Rows of a kind when it is a bulk kind, `None` when it went to `stage_record`.
    pub fn rows_of(&self, kind: RecordKind) -> Option<i64> {
        self.rows.iter().find(|(k, _)| *k == kind).map(|&(_, n)| n)
    }
}

struct Loader<'a, 't> {
    tx: &'a Transaction<'t>,
    file_id: i64,
    context: Option<FileContext>,
    /// Per bulk kind: the column types of its table, rows waiting, rows sent.
    types: Vec<Vec<Type>>,
    /// The COPY kept open for the first bulk kind (transactions, the bulk of any file): its rows go out as
    /// they come, so the server inserts while the parser reads. Closed when another statement must run (a new
    /// dimension member, a flush of the other kinds) and opened again after.
    stream: Option<Pin<Box<BinaryCopyInWriter>>>,
    pending: Vec<Vec<(StageRow, [Option<i32>; 4])>>,
    sent: Vec<i64>,
    staged: Vec<StageRow>,
    /// Per dimension: (natural key, second part, surrogate key) of the members seen.
    keys: [Vec<(String, String, i32)>; 4],
    dates: BTreeSet<NaiveDate>,
}

impl Loader<'_, '_> {
    async fn context(&mut self, acquirer: &str, code_set: &str, file_type: &str) -> Result<()> {
        let row = self.tx.query_opt("SELECT acquirer_key FROM dim_acquirer WHERE code = $1", &[&acquirer]).await?;
        let acquirer_key = row.map(|r| r.get(0)).ok_or_else(|| Error::Integrity {
            file_id: self.file_id,
            detail: format!("unknown acquirer {acquirer}"),
        })?;
        self.context = Some(FileContext { acquirer_key, code_set: code_set.into(), file_type: file_type.into() });
        Ok(())
    }

    /// End the streamed COPY, if open, so that other statements can run.
    async fn close_stream(&mut self) -> Result<()> {
        if let Some(mut writer) = self.stream.take() {
            self.sent[0] += writer.as_mut().finish().await? as i64;
        }
        Ok(())
    }

    /// The surrogate key of a dimension member, added to the dimension when new.
    async fn key(&mut self, dim: Dim, a: &str, b: &str) -> Result<i32> {
        // A handful of members per file: a short list searched without allocating beats a map.
        if let Some(&(_, _, k)) = self.keys[dim as usize].iter().find(|(x, y, _)| x == a && y == b) {
            return Ok(k);
        }
        self.close_stream().await?;
        let ctx = self.context.as_ref().expect("context before keys");
        let sql = &DIM_SQL[dim as usize];
        let params: Vec<&(dyn ToSql + Sync)> = match dim {
            Dim::Establishment | Dim::Product => vec![&ctx.acquirer_key, &a],
            Dim::PaymentMethod => vec![&ctx.acquirer_key, &a, &b],
            Dim::PostingType => vec![&ctx.acquirer_key, &ctx.code_set, &a],
        };
        let key = match self.tx.query_opt(sql.select, &params).await? {
            Some(row) => row.get(0),
            None => {
                self.tx.execute(sql.insert, &params).await?;
                self.tx.query_one(sql.select, &params).await?.get(0)
            }
        };
        self.keys[dim as usize].push((a.to_string(), b.to_string(), key));
        Ok(key)
    }

    async fn record(&mut self, record: Record) -> Result<()> {
        if let Record::Header(h) = &record {
            return self.context(h.acquirer.code(), h.code_set, &h.file_type.code).await;
        }
        let Some(row) = StageRow::of(self.file_id, record) else { return Ok(()) };
        let kind = row.kind.unwrap_or_default();
        let Some(t) = mappings().iter().position(|m| m.kind.code() == kind) else {
            self.staged.push(row);
            if self.staged.len() >= FLUSH_ROWS {
                self.flush_staged().await?;
            }
            return Ok(());
        };
        if self.context.is_none() {
            return Err(Error::Integrity {
                file_id: self.file_id,
                detail: format!("a {kind} record before the statement's header"),
            });
        }
        fn text(v: &Option<String>) -> &str {
            v.as_deref().unwrap_or("")
        }
        let mut keys = [None; 4];
        keys[Dim::Establishment as usize] = Some(self.key(Dim::Establishment, text(&row.merchant_code), "").await?);
        keys[Dim::PaymentMethod as usize] =
            Some(self.key(Dim::PaymentMethod, text(&row.brand_code), text(&row.settlement_type_code)).await?);
        if let Some(product) = &row.product_code {
            keys[Dim::Product as usize] = Some(self.key(Dim::Product, product, "").await?);
        }
        keys[Dim::PostingType as usize] = Some(self.key(Dim::PostingType, text(&row.posting_type_code), "").await?);
        self.dates.extend(row.calendar_dates());
        if t == 0 {
            if self.stream.is_none() {
                let sink = self.tx.copy_in(&mappings()[0].copy_sql).await?;
                self.stream = Some(Box::pin(BinaryCopyInWriter::new(sink, &self.types[0])));
            }
            let file_type = &self.context.as_ref().expect("context checked above").file_type;
            let stage = row.params();
            let values = values(&mappings()[0], &stage, file_type, &keys);
            self.stream.as_mut().expect("opened above").as_mut().write(&values).await?;
            return Ok(());
        }
        self.pending[t].push((row, keys));
        if self.pending[t].len() >= FLUSH_ROWS {
            self.flush(t).await?;
        }
        Ok(())
    }

    /// Send a buffered bulk kind's waiting rows with one binary COPY.
    async fn flush(&mut self, t: usize) -> Result<()> {
        if self.pending[t].is_empty() {
            return Ok(());
        }
        self.close_stream().await?;
        let m = &mappings()[t];
        let file_type = self.context.as_ref().map(|c| c.file_type.clone()).unwrap_or_default();
        let sink = self.tx.copy_in(&m.copy_sql).await?;
        let writer = BinaryCopyInWriter::new(sink, &self.types[t]);
        pin_mut!(writer);
        for (row, keys) in self.pending[t].drain(..) {
            let stage = row.params();
            writer.as_mut().write(&values(m, &stage, &file_type, &keys)).await?;
        }
        self.sent[t] += writer.finish().await? as i64;
        Ok(())
    }

    /// Send the waiting rows of the other kinds to `stage_record`.
    async fn flush_staged(&mut self) -> Result<()> {
        if self.staged.is_empty() {
            return Ok(());
        }
        self.close_stream().await?;
        let types: Vec<Type> = STAGE_COLUMNS.iter().map(|(_, t)| t.clone()).collect();
        let sink = self.tx.copy_in(&stage_copy_sql()).await?;
        let writer = BinaryCopyInWriter::new(sink, &types);
        pin_mut!(writer);
        for row in self.staged.drain(..) {
            writer.as_mut().write(&row.params()).await?;
        }
        writer.finish().await?;
        Ok(())
    }
}

/// A fact row's values in its table's column order.
fn values<'r>(
    m: &Mapping,
    stage: &[&'r (dyn ToSql + Sync)],
    file_type: &'r String,
    keys: &'r [Option<i32>; 4],
) -> Vec<&'r (dyn ToSql + Sync)> {
    m.sources
        .iter()
        .map(|s| match *s {
            Source::Stage(i) => stage[i],
            Source::FileType => file_type as &(dyn ToSql + Sync),
            Source::Key(d) => &keys[d as usize] as &(dyn ToSql + Sync),
        })
        .collect()
}

/// Write the records coming from the parser: the bulk kinds to their fact tables, the calendar dates they use
/// to `dim_date`, every other kind to `stage_record`. Inside the file's transaction; returns the bulk rows
/// written, per kind, for [`super::store::load_staged_with`] to check against the parser's counts. Staging
/// only (`unattached`), the file is listed in `unattached_file` in the same transaction: its rows count
/// nowhere until [`attach`].
pub async fn load_records(
    tx: &Transaction<'_>,
    file_id: i64,
    records: &mut mpsc::Receiver<Vec<Record>>,
    unattached: bool,
) -> Result<BulkLoaded> {
    if unattached {
        tx.execute("INSERT INTO unattached_file (file_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&file_id]).await?;
    }
    let mut types = Vec::new();
    for m in mappings() {
        let stmt = tx.prepare(&format!("SELECT {} FROM {} LIMIT 0", m.columns.join(", "), m.table)).await?;
        types.push(stmt.columns().iter().map(|c| c.type_().clone()).collect());
    }
    let n = mappings().len();
    let mut loader = Loader {
        tx,
        file_id,
        context: None,
        types,
        pending: (0..n).map(|_| Vec::new()).collect(),
        stream: None,
        sent: vec![0; n],
        staged: Vec::new(),
        keys: Default::default(),
        dates: BTreeSet::new(),
    };
    let started = std::time::Instant::now();
    let mut waiting = std::time::Duration::ZERO;
    loop {
        let t = std::time::Instant::now();
        let Some(batch) = records.recv().await else { break };
        waiting += t.elapsed();
        for record in batch {
            loader.record(record).await?;
        }
    }
    tracing::debug!(
        file_id,
        seconds = started.elapsed().as_secs_f64(),
        waiting_for_the_parser = waiting.as_secs_f64(),
        "records written"
    );
    loader.close_stream().await?;
    for t in 1..n {
        loader.flush(t).await?;
    }
    loader.flush_staged().await?;
    let dates: Vec<NaiveDate> = loader.dates.into_iter().collect();
    tx.execute(INSERT_DATES, &[&dates]).await?;
    Ok(BulkLoaded { rows: mappings().iter().map(|m| m.kind).zip(loader.sent).collect() })
}

/// The rows a staged file has written per bulk kind, in [`BULK_KINDS`] order.
pub(super) async fn written_rows(tx: &Transaction<'_>, file_id: i64) -> Result<BulkLoaded> {
    let mut rows = Vec::with_capacity(BULK_KINDS.len());
    for k in &BULK_KINDS {
        // Table names are this file's constants, never input.
        let sql = format!("SELECT count(*) FROM {} WHERE file_id = $1", k.table);
        rows.push((k.kind, tx.query_one(&sql, &[&file_id]).await?.get(0)));
    }
    Ok(BulkLoaded { rows })
}

/// Attach a staged file's bulk rows: from now on (this transaction's commit, for everyone else) the fact
/// views show them.
pub(super) async fn attach(tx: &Transaction<'_>, file_id: i64) -> Result<()> {
    tx.execute("DELETE FROM unattached_file WHERE file_id = $1", &[&file_id]).await?;
    Ok(())
}

/// Forget the bulk rows of a staged file that will be staged again (its other kinds were lost with
/// `stage_record`). Only ever for a file not loaded: its rows are unattached, counted nowhere.
pub(super) async fn forget_unattached(tx: &Transaction<'_>, file_id: i64) -> Result<()> {
    let listed: bool =
        tx.query_one("SELECT EXISTS (SELECT 1 FROM unattached_file WHERE file_id = $1)", &[&file_id]).await?.get(0);
    if !listed {
        return Ok(());
    }
    for k in &BULK_KINDS {
        tx.execute(&format!("DELETE FROM {} WHERE file_id = $1", k.table), &[&file_id]).await?;
    }
    tx.execute("DELETE FROM unattached_file WHERE file_id = $1", &[&file_id]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bulk_column_has_a_source() {
        let all = mappings();
        assert_eq!(
            all.iter().map(|m| m.kind).collect::<Vec<_>>(),
            [RecordKind::CardTransaction, RecordKind::ReceivableUnit]
        );
        for m in all {
            assert_eq!(m.columns[..3], ["file_id", "line_no", "file_type"]);
            assert_eq!(m.sources[2], Source::FileType);
            for d in Dim::ALL {
                assert_eq!(m.sources.iter().filter(|s| **s == Source::Key(d)).count(), 1, "{} {d:?}", m.kind);
            }
            assert!(m.table.ends_with("_all"), "the table under the fact view: {}", m.table);
            assert!(m.copy_sql.starts_with(&format!("COPY {} (file_id, line_no", m.table)));
        }
        let e = &all[0];
        let nsu = e.columns.iter().position(|c| *c == "nsu").unwrap();
        assert_eq!(
            STAGE_COLUMNS[match e.sources[nsu] {
                Source::Stage(i) => i,
                _ => unreachable!(),
            }]
            .0,
            "nsu"
        );
        let bad = BulkKind {
            kind: RecordKind::CardTransaction,
            fact: "f",
            table: "t",
            columns: &["file_id", "no_such_column"],
        };
        assert!(mapping(&bad).unwrap_err().contains("no_such_column"));
        let keyless = BulkKind {
            kind: RecordKind::CardTransaction,
            fact: "f",
            table: "t",
            columns: &["file_id", "establishment_key"],
        };
        assert!(mapping(&keyless).unwrap_err().contains("payment_method_key"));
    }
}
