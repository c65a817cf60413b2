//! Loading a statement's bulk records straight into their fact tables, for a file that is parsed and loaded
//! in one go (the CLI's `ingest` and `run`): receivable units (D) and transactions (E) are written with
//! binary COPY into `fact_receivable_unit` and `fact_card_transaction`, their dimension keys resolved here
//! (a small cache; a value seen for the first time is added to its dimension), instead of being copied into
//! `stage_record` and then moved with `INSERT … SELECT`. Every other record kind is staged as before and
//! loaded by [`super::store::load_staged_with`]. All of it happens in the file's transaction: a file still
//! loads completely or not at all.
//!
//! Which fact column takes which value is not written twice: it is read off the staged path's
//! `INSERT … SELECT` ([`super::store::LOAD_TRANSACTIONS`], [`super::store::LOAD_RECEIVABLE_UNITS`]), so the
//! two paths cannot drift apart.

use super::store::{stage_copy_sql, StageRow, INSERT_DATES, LOAD_RECEIVABLE_UNITS, LOAD_TRANSACTIONS, STAGE_COLUMNS};
use crate::error::{Error, Result};
use crate::model::Record;
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

/// A dimension whose surrogate key a fact row carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Dim {
    Establishment = 0,
    PaymentMethod = 1,
    Product = 2,
    PostingType = 3,
}

/// Where a fact column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A column of the staging row (index into `STAGE_COLUMNS`).
    Stage(usize),
    /// The file's type (parameter `$3` of the staged path).
    FileType,
    Key(Dim),
}

/// One record kind loaded directly: its fact table and, per column, where the value comes from.
#[derive(Debug, Clone)]
struct FactMapping {
    kind: &'static str,
    copy_sql: String,
    columns: Vec<String>,
    sources: Vec<Source>,
}

/// Read a fact load's column mapping off its `INSERT INTO t (cols) SELECT exprs FROM stage_record …`.
fn mapping(kind: &'static str, sql: &str) -> std::result::Result<FactMapping, String> {
    let rest = sql.trim().strip_prefix("INSERT INTO ").ok_or("not an INSERT INTO")?;
    let (table, rest) = rest.split_once('(').ok_or("no column list")?;
    let (columns, rest) = rest.split_once(')').ok_or("column list not closed")?;
    let rest = rest.trim().strip_prefix("SELECT ").ok_or("no SELECT after the column list")?;
    let (exprs, _) = rest.split_once("FROM stage_record").ok_or("no FROM stage_record")?;
    let columns: Vec<String> = columns.split(',').map(|c| c.trim().to_string()).collect();
    let sources = exprs
        .split(',')
        .map(|e| match e.trim() {
            "$3" => Ok(Source::FileType),
            "e.establishment_key" => Ok(Source::Key(Dim::Establishment)),
            "pm.payment_method_key" => Ok(Source::Key(Dim::PaymentMethod)),
            "p.product_key" => Ok(Source::Key(Dim::Product)),
            "pt.posting_type_key" => Ok(Source::Key(Dim::PostingType)),
            other => {
                let name = other.strip_prefix("s.").ok_or_else(|| format!("unexpected expression {other:?}"))?;
                STAGE_COLUMNS
                    .iter()
                    .position(|(n, _)| *n == name)
                    .map(Source::Stage)
                    .ok_or_else(|| format!("{name:?} is not a staging column"))
            }
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    if sources.len() != columns.len() {
        return Err(format!("{} columns but {} values", columns.len(), sources.len()));
    }
    let copy_sql = format!("COPY {} ({}) FROM STDIN (FORMAT binary)", table.trim(), columns.join(", "));
    Ok(FactMapping { kind, copy_sql, columns, sources })
}

/// The kinds loaded directly, with their mappings (read once).
fn mappings() -> &'static [FactMapping] {
    static MAPPINGS: std::sync::OnceLock<Vec<FactMapping>> = std::sync::OnceLock::new();
    MAPPINGS.get_or_init(|| {
        [("E", LOAD_TRANSACTIONS), ("D", LOAD_RECEIVABLE_UNITS)]
            .into_iter()
            .map(|(kind, sql)| mapping(kind, sql).unwrap_or_else(|e| panic!("fact load of {kind}: {e}")))
            .collect()
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

/// Rows loaded directly, per kind (`"E"`, `"D"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectLoaded {
    pub rows: Vec<(&'static str, i64)>,
}

impl DirectLoaded {
    /// Rows of a kind when it was loaded directly, `None` when it was staged.
    pub fn rows_of(&self, kind: &str) -> Option<i64> {
        self.rows.iter().find(|(k, _)| *k == kind).map(|&(_, n)| n)
    }
}

struct Loader<'a, 't> {
    tx: &'a Transaction<'t>,
    file_id: i64,
    context: Option<FileContext>,
    /// Per direct kind: the column types of its table, rows waiting, rows sent.
    types: Vec<Vec<Type>>,
    /// The COPY kept open for the first direct kind (transactions, the bulk of any file): its rows go out as
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
        let Some(t) = mappings().iter().position(|m| m.kind == kind) else {
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
            let values = fact_values(&mappings()[0], &stage, file_type, &keys);
            self.stream.as_mut().expect("opened above").as_mut().write(&values).await?;
            return Ok(());
        }
        self.pending[t].push((row, keys));
        if self.pending[t].len() >= FLUSH_ROWS {
            self.flush(t).await?;
        }
        Ok(())
    }

    /// Send a buffered direct kind's waiting rows with one binary COPY.
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
            writer.as_mut().write(&fact_values(m, &stage, &file_type, &keys)).await?;
        }
        self.sent[t] += writer.finish().await? as i64;
        Ok(())
    }

    /// Send the waiting rows of the staged kinds to `stage_record`.
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
fn fact_values<'r>(
    m: &FactMapping,
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

/// Load the records coming from the parser: D and E straight into their facts, the rest into staging, and
/// the calendar dates the facts use into `dim_date`. Inside the file's transaction; returns the rows loaded
/// directly, per kind, for [`super::store::load_staged_with`] to check against the parser's counts.
pub async fn load_records(
    tx: &Transaction<'_>,
    file_id: i64,
    records: &mut mpsc::Receiver<Vec<Record>>,
) -> Result<DirectLoaded> {
    let mut types = Vec::new();
    for m in mappings() {
        let table = m.copy_sql.split_whitespace().nth(1).unwrap_or_default();
        let stmt = tx.prepare(&format!("SELECT {} FROM {table} LIMIT 0", m.columns.join(", "))).await?;
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
    Ok(DirectLoaded { rows: mappings().iter().map(|m| m.kind).zip(loader.sent).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direct_mappings_are_read_off_the_staged_loads() {
        let all = mappings();
        assert_eq!(all.iter().map(|m| m.kind).collect::<Vec<_>>(), ["E", "D"]);
        for m in all {
            assert_eq!(m.columns[..3], ["file_id", "line_no", "file_type"]);
            assert_eq!(m.sources[2], Source::FileType);
            for d in [Dim::Establishment, Dim::PaymentMethod, Dim::PostingType, Dim::Product] {
                assert_eq!(m.sources.iter().filter(|s| **s == Source::Key(d)).count(), 1, "{} {d:?}", m.kind);
            }
        }
        let e = &all[0];
        let nsu = e.columns.iter().position(|c| c == "nsu").unwrap();
        assert_eq!(
            STAGE_COLUMNS[match e.sources[nsu] {
                Source::Stage(i) => i,
                _ => unreachable!(),
            }]
            .0,
            "nsu"
        );
        assert!(mapping("E", "SELECT 1").is_err());
        assert!(mapping("E", "INSERT INTO t (a, b) SELECT s.file_id FROM stage_record")
            .unwrap_err()
            .contains("2 columns"));
    }
}
