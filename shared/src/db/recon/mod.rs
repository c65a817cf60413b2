//! The database edge of reconciliation: contracted rates in, a scope's inputs out of the facts, a run's items
//! back in (replacing the previous run over the same scope, in one transaction).

use crate::error::Result;
use crate::reconcile::fees::ContractRate;
use crate::reconcile::{self, Inputs, ReconItem, Scope, Settings, Totals};
use chrono::NaiveDate;
use serde::Serialize;
use tokio_postgres::{Client, GenericClient, Transaction};

mod deposits;
mod inputs;
mod report_files;
mod sink;

pub use report_files::{write_report, ReportRequest, WrittenReport};

use inputs::{PAYMENT_FILES, RV_PAYMENT_FILES, STATUS_PAYMENT_FILES};

/// What an import did to the contracted rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RatesImported {
    pub added: u64,
    /// Already there with another rate or end of validity: replaced.
    pub changed: u64,
    /// Already there as they are.
    pub unchanged: u64,
}

/// Replace (or add) contracted rates, in one transaction: a rate already there as it is stays untouched and
/// is counted unchanged (re-importing the same contract changes nothing, and says so).
pub async fn import_rates(db: &mut Client, rates: &[ContractRate], source_file: &str) -> Result<RatesImported> {
    let tx = db.transaction().await?;
    let mut done = RatesImported::default();
    for r in rates {
        let row = tx
            .query_opt(
                "INSERT INTO contract_rate (merchant_code, acquirer, brand, product, installments_from,
                     installments_to, rate_percent, valid_from, valid_to, source_file, fixed_fee)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (merchant_code, acquirer, brand, product, installments_from, installments_to, valid_from)
                 DO UPDATE SET rate_percent = EXCLUDED.rate_percent, valid_to = EXCLUDED.valid_to,
                     fixed_fee = EXCLUDED.fixed_fee, source_file = EXCLUDED.source_file, imported_at = now()
                 WHERE (contract_rate.rate_percent, contract_rate.valid_to, contract_rate.fixed_fee)
                       IS DISTINCT FROM (EXCLUDED.rate_percent, EXCLUDED.valid_to, EXCLUDED.fixed_fee)
                 RETURNING xmax = 0",
                &[
                    &r.merchant_code,
                    &r.acquirer,
                    &r.brand,
                    &r.product,
                    &r.installments_from,
                    &r.installments_to,
                    &r.rate,
                    &r.valid_from,
                    &r.valid_to,
                    &source_file,
                    &r.fixed_fee,
                ],
            )
            .await?;
        match row.map(|r| r.get::<_, bool>(0)) {
            Some(true) => done.added += 1,
            Some(false) => done.changed += 1,
            None => done.unchanged += 1,
        }
    }
    tx.commit().await?;
    Ok(done)
}

/// What rates can be written in: per acquirer (not the `merchant` pseudo-acquirer of the merchants' own
/// exports), its brands and catalogued products (code, name), their
/// aliases (`ref_alias`), the merchants loaded so far and the digits of a merchant's code.
pub async fn rate_vocabulary(db: &impl GenericClient) -> Result<reconcile::fees::RateVocabulary> {
    let mut vocabulary = reconcile::fees::RateVocabulary::default();
    for a in db
        .query(
            "SELECT acquirer_key, code, merchant_code_digits FROM dim_acquirer WHERE code <> 'merchant' ORDER BY code",
            &[],
        )
        .await?
    {
        let key: i16 = a.get(0);
        let pairs = |rows: Vec<tokio_postgres::Row>| -> Vec<(String, String)> {
            rows.iter().map(|r| (r.get(0), r.get(1))).collect()
        };
        let brands =
            pairs(db.query("SELECT code, name FROM ref_brand WHERE acquirer_key = $1 ORDER BY code", &[&key]).await?);
        let products = pairs(
            db.query(
                "SELECT code, name FROM dim_product WHERE acquirer_key = $1 AND catalogued ORDER BY code",
                &[&key],
            )
            .await?,
        );
        let aliases = db
            .query("SELECT kind, alias, code FROM ref_alias WHERE acquirer_key = $1 ORDER BY kind, alias", &[&key])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let merchants = db
            .query("SELECT merchant_code FROM dim_establishment WHERE acquirer_key = $1 ORDER BY 1", &[&key])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        vocabulary.acquirers.push(reconcile::fees::AcquirerVocabulary {
            code: a.get(1),
            merchant_code_digits: a.get::<_, Option<i16>>(2).map(|d| d as usize),
            brands,
            products,
            aliases,
            merchants,
        });
    }
    Ok(vocabulary)
}

/// The merchant codes loaded (the acquirers' establishments and the merchants' stores), the first `limit`
/// in order, with "and N more" when there are more.
pub async fn known_merchants(db: &impl GenericClient, limit: i64) -> Result<Vec<String>> {
    let rows = db
        .query(
            "SELECT merchant_code, count(*) OVER () FROM (SELECT DISTINCT merchant_code FROM dim_establishment) m
              ORDER BY 1 LIMIT $1",
            &[&limit],
        )
        .await?;
    let mut out: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    if let Some(total) = rows.first().map(|r| r.get::<_, i64>(1)) {
        if total > limit {
            out.push(format!("and {} more", total - limit));
        }
    }
    Ok(out)
}

/// The dates the loaded facts cover (sale, due and payment dates, merchant sales), for a default scope.
pub async fn covered_dates(db: &impl GenericClient, merchant: Option<&str>) -> Result<Option<(NaiveDate, NaiveDate)>> {
    let row = db
        .query_one(
            "SELECT min(d), max(d) FROM (
                SELECT coalesce(t.authorization_date, t.capture_date) AS d FROM fact_card_transaction t
                  JOIN dim_establishment e ON e.establishment_key = t.establishment_key
                 WHERE $1::text IS NULL OR e.merchant_code = $1
                UNION ALL
                SELECT u.payment_date FROM fact_receivable_unit u
                  JOIN dim_establishment e ON e.establishment_key = u.establishment_key
                 WHERE $1::text IS NULL OR e.merchant_code = $1
                UNION ALL
                SELECT s.sale_date FROM fact_merchant_sale s
                  JOIN dim_establishment e ON e.establishment_key = s.establishment_key
                 WHERE $1::text IS NULL OR e.merchant_code = $1) dates",
            &[&merchant],
        )
        .await?;
    Ok(row.get::<_, Option<NaiveDate>>(0).zip(row.get::<_, Option<NaiveDate>>(1)))
}

fn types(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A stored status (or posting category) read back: an unknown name is an error, never a default.
fn status(name: &str) -> Result<reconcile::Status> {
    reconcile::Status::parse(name)
        .ok_or_else(|| crate::Error::Other(format!("unknown reconciliation status or posting category {name:?}")))
}

/// Read everything a run over `scope` needs, at once (the same queries a run streams; for tests and tools —
/// a run never holds all of it).
pub async fn inputs(db: &impl GenericClient, scope: &Scope, settings: &Settings) -> Result<Inputs> {
    let (acquirer_sales, charged) = inputs::all(db, inputs::acquirer_sales(scope, settings), inputs::acquirer_sale)
        .await?
        .into_iter()
        .map(|s| (s.sale, s.fee))
        .unzip::<_, _, Vec<_>, Vec<_>>();
    let mut inputs = Inputs {
        merchant_sales: inputs::all(db, inputs::merchant_sales(scope), inputs::merchant_sale).await?,
        acquirer_sales,
        charged: charged.into_iter().flatten().collect(),
        rates: inputs::rates(db, scope).await?,
        available: inputs::available(db, scope).await?,
        bank: deposits::inputs(db, scope, deposits::margin_days(settings)).await?,
        ..Inputs::default()
    };
    for line in inputs::all(db, inputs::receivables(scope), inputs::receivable_line).await? {
        match line {
            inputs::ReceivableLine::Expected(l) => inputs.expected.push(l),
            inputs::ReceivableLine::Paid(l) => inputs.paid.push(l),
            inputs::ReceivableLine::Adjustment(a) => inputs.adjustments.push(a),
        }
    }
    Ok(inputs)
}

/// What a run came to.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: i64,
    pub scope: Scope,
    pub settings: Settings,
    pub totals: Totals,
    pub seconds: f64,
}

/// The anomalies kept with the loaded statements of a scope (the merchant's, or all), over the files whose
/// period meets the scope's.
pub async fn anomaly_count(db: &impl GenericClient, scope: &Scope) -> Result<crate::reconcile::report::AnomalyCount> {
    let row = db
        .query_one(
            "SELECT coalesce(sum(anomaly_count), 0)::bigint, count(*) FILTER (WHERE anomaly_count > 0)
               FROM statement_file
              WHERE status = 'loaded' AND period_start <= $2 AND period_end >= $1
                AND ($3::text IS NULL OR merchant_code = $3)",
            &[&scope.from, &scope.to, &scope.merchant],
        )
        .await?;
    Ok(crate::reconcile::report::AnomalyCount {
        anomalies: row.get::<_, i64>(0) as u64,
        files: row.get::<_, i64>(1) as u64,
    })
}

/// What a report says of its scope besides the run (see [`crate::reconcile::report::ScopeFacts`]): the names
/// of the codes, the period's business per merchant and acquirer, the loaded files whose period meets the
/// scope, and whether the merchant was ever loaded and which dates the loaded facts cover.
pub async fn scope_facts(db: &impl GenericClient, scope: &Scope) -> Result<crate::reconcile::report::ScopeFacts> {
    use crate::reconcile::report::{Names, PeriodLine, ScopeFacts, SourceFile};
    let mut names = Names::default();
    for r in db
        .query(
            "SELECT a.code, b.code, b.name FROM ref_brand b JOIN dim_acquirer a USING (acquirer_key)
             UNION
             SELECT DISTINCT a.code, pm.brand_code, pm.brand_name FROM dim_payment_method pm
               JOIN dim_acquirer a USING (acquirer_key)
              WHERE pm.brand_name <> '' AND NOT EXISTS (SELECT 1 FROM ref_brand b
                     WHERE b.acquirer_key = pm.acquirer_key AND b.code = pm.brand_code)",
            &[],
        )
        .await?
    {
        names.brands.insert((r.get(0), r.get(1)), r.get(2));
    }
    for r in db
        .query("SELECT a.code, p.code, p.name FROM dim_product p JOIN dim_acquirer a USING (acquirer_key)", &[])
        .await?
    {
        names.products.insert((r.get(0), r.get(1)), r.get(2));
    }
    for r in db.query("SELECT code, name FROM dim_acquirer", &[]).await? {
        names.acquirers.insert(r.get(0), r.get(1));
    }
    let days = inputs::PAYMENT_SEARCH_DAYS;
    let period = db
        .query(&inputs::period_summary(), &[&scope.from, &scope.to, &scope.merchant, &days])
        .await?
        .iter()
        .map(|r| PeriodLine {
            merchant_code: r.get("merchant_code"),
            acquirer: r.get("acquirer"),
            sales: r.get::<_, i64>("sales") as u64,
            gross: r.get("gross"),
            fee: r.get("fee"),
            net: r.get("net"),
            received: r.get("received"),
            adjustments: r.get("adjustments"),
        })
        .collect();
    let sources = db
        .query(
            "SELECT file_id, file_name, coalesce(acquirer, '') AS acquirer,
                    coalesce(file_type, file_kind, '') AS kind, coalesce(merchant_code, '') AS merchant_code,
                    period_start, period_end, line_count, loaded_at
               FROM statement_file
              WHERE status = 'loaded' AND ($3::text IS NULL OR merchant_code = $3)
                AND coalesce(period_start, processing_date) <= $2 AND coalesce(period_end, processing_date) >= $1
              ORDER BY file_id",
            &[&scope.from, &scope.to, &scope.merchant],
        )
        .await?
        .iter()
        .map(|r| SourceFile {
            file_id: r.get("file_id"),
            name: r.get("file_name"),
            acquirer: r.get("acquirer"),
            kind: r.get("kind"),
            merchant_code: r.get("merchant_code"),
            period_start: r.get("period_start"),
            period_end: r.get("period_end"),
            lines: r.get("line_count"),
            loaded_at: r.get("loaded_at"),
        })
        .collect();
    let merchant_known = match &scope.merchant {
        None => None,
        Some(m) => Some(
            db.query_one(
                "SELECT EXISTS (SELECT 1 FROM dim_establishment WHERE merchant_code = $1)
                     OR EXISTS (SELECT 1 FROM statement_file WHERE merchant_code = $1 AND status = 'loaded')",
                &[m],
            )
            .await?
            .get(0),
        ),
    };
    let coverage = covered_dates(db, scope.merchant.as_deref()).await?;
    Ok(ScopeFacts { names, period, sources, merchant_known, coverage })
}

/// Reconcile a scope and keep the result: the previous run over the same scope is replaced, in the same
/// transaction (readers see the old run or the new one, never half of either). The inputs are read from one
/// snapshot of the facts, streamed area by area in the order the pieces of [`reconcile`] take them, and the
/// items are written as they are made: memory holds batches and a few days of one merchant's sales, whatever
/// the volume.
pub async fn run(db: &mut Client, scope: &Scope, settings: &Settings) -> Result<RunReport> {
    run_with(db, scope, settings, None).await
}

/// Opens another connection to the same database (for [`run_parallel`]'s readers).
pub type Connect =
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Client>> + Send>> + Send + Sync;

/// [`run`], the areas' inputs read by three more connections that import the run's snapshot
/// (`pg_export_snapshot`): the server prepares every area's rows side by side while the run reconciles, where a
/// single connection waits for each in turn. The same items, the same one snapshot.
pub async fn run_parallel(db: &mut Client, scope: &Scope, settings: &Settings, connect: &Connect) -> Result<RunReport> {
    run_with(db, scope, settings, Some(connect)).await
}

async fn run_with(db: &mut Client, scope: &Scope, settings: &Settings, readers: Option<&Connect>) -> Result<RunReport> {
    // One reconciliation of a scope at a time (two `run`s finishing together both reconcile what they
    // loaded): the later one waits, then reads inputs that include the other's loads and replaces its result.
    // Every input is read from one snapshot (REPEATABLE READ): a file loaded while the reconciliation reads
    // is in none of its areas, never in some (once, 67 089 fee items of a file were stored beside none of
    // its sales). The snapshot is taken by the transaction's first statement, so the turn is taken before the
    // transaction starts, with a lock of the session: a lock taken inside it (the first statement) could be
    // granted after the snapshot, when the run before commits in between, and the run would then not see the
    // result it replaces (once: a duplicate key on `recon_run_scope_idx` with two runs at once).
    let key = format!("recon:{}:{}:{}", scope.from, scope.to, scope.merchant.as_deref().unwrap_or("*"));
    db.execute("SELECT pg_advisory_lock(hashtext($1))", &[&key]).await?;
    let result = run_locked(db, scope, settings, readers).await;
    // Released whatever happened (a connection that broke releases it as it closes).
    let unlocked = db.execute("SELECT pg_advisory_unlock(hashtext($1))", &[&key]).await;
    let report = result?;
    unlocked?;
    Ok(report)
}

/// [`run_with`] once the scope's turn is taken.
async fn run_locked(
    db: &mut Client,
    scope: &Scope,
    settings: &Settings,
    readers: Option<&Connect>,
) -> Result<RunReport> {
    let started = std::time::Instant::now();
    refresh_statistics(db).await?;
    let tx = db.build_transaction().isolation_level(tokio_postgres::IsolationLevel::RepeatableRead).start().await?;
    // Every query here reads most of a merchant's facts: hash joins over the small dimensions, sorts in
    // memory. Without these the planner, misled by estimates over the views, loops (measured: 1.6× slower)
    // and sorts spill to disk.
    tx.batch_execute("SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '256MB'").await?;
    // Where the time goes, for `RUST_LOG=syncrocardpay_core::db::recon=debug`: waiting for rows, writing
    // items, the rest being the reconciliation itself.
    let phase = |name: &str, fetching: std::time::Duration, writing: std::time::Duration| {
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            fetching = fetching.as_secs_f64(),
            writing = writing.as_secs_f64(),
            "reconciliation: {name}"
        )
    };
    let run_id = start_run(&tx, scope, settings).await?;
    phase("previous run removed", Default::default(), Default::default());
    let available = inputs::available(&tx, scope).await?;
    let (mut sink, writer) = sink::Sink::new(&tx, scope, settings, &available, run_id).await?;
    let (mut ours, mut theirs, mut lines) = match readers {
        Some(connect) => {
            let snapshot: String = tx.query_one("SELECT pg_export_snapshot()", &[]).await?.get(0);
            (
                inputs::read_in_snapshot(
                    connect().await?,
                    snapshot.clone(),
                    inputs::merchant_sales(scope),
                    inputs::merchant_sale,
                ),
                inputs::read_in_snapshot(
                    connect().await?,
                    snapshot.clone(),
                    inputs::acquirer_sales(scope, settings),
                    inputs::acquirer_sale,
                ),
                inputs::read_in_snapshot(
                    connect().await?,
                    snapshot,
                    inputs::receivables(scope),
                    inputs::receivable_line,
                ),
            )
        }
        None => (
            inputs::Source::Portal(
                inputs::Stream::open(&tx, inputs::merchant_sales(scope), inputs::merchant_sale).await?,
            ),
            inputs::Source::Portal(
                inputs::Stream::open(&tx, inputs::acquirer_sales(scope, settings), inputs::acquirer_sale).await?,
            ),
            inputs::Source::Portal(
                inputs::Stream::open(&tx, inputs::receivables(scope), inputs::receivable_line).await?,
            ),
        ),
    };
    // The contracts are small: held in memory, every sale's fee audited as the sale is read.
    let rates = inputs::rates(&tx, scope).await?;
    let auditor = reconcile::fees::Auditor::new(&rates, settings);
    // The areas one after the other, their items written beside them (the writer is polled with them: the
    // server stores a batch while the next is made). `writing` in the phases is the time the run waited for
    // the writer.
    let reconciling = async {
        let mut fetching = std::time::Duration::ZERO;
        sink.start("sales and fees");
        fetching += reconcile_sales(&tx, &mut ours, &mut theirs, &auditor, settings, &mut sink).await?;
        phase("sales and fees", fetching, sink.waiting);
        sink.start("receivables");
        fetching += reconcile_receivables(&tx, &mut lines, settings, &mut sink).await?;
        phase("receivables and adjustments", fetching, sink.waiting);
        sink.start("bank");
        reconcile_deposits(&tx, scope, settings, &mut sink).await?;
        phase("bank", fetching, sink.waiting);
        sink.start("writing");
        let label = sink.label.clone();
        Ok::<_, crate::Error>((label, sink.finish().await?))
    };
    let ((label, totals), writing) = tokio::try_join!(reconciling, writer.run(&tx, settings))?;
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        writing = writing.as_secs_f64(),
        "reconciliation: written"
    );
    let totals_json = serde_json::to_value(&totals).map_err(|e| crate::Error::Other(e.to_string()))?;
    tx.execute("UPDATE recon_run SET totals = $2, finished_at = now() WHERE run_id = $1", &[&run_id, &totals_json])
        .await?;
    tx.commit().await?;
    crate::progress::reconcile(&label, "done", totals.items);
    tracing::info!(run_id, items = totals.items, open = totals.open, "reconciled");
    Ok(RunReport {
        run_id,
        scope: scope.clone(),
        settings: settings.clone(),
        totals,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The merchant's books against the acquirers' sales, both streamed in date order through a
/// [`reconcile::sales::Matcher`]; each acquirer sale's fee audited against the contracts as it is read (the
/// fee area). Returns the time spent waiting for rows (as the other areas do).
async fn reconcile_sales(
    tx: &Transaction<'_>,
    ours: &mut inputs::Source<reconcile::sales::MerchantSale>,
    theirs: &mut inputs::Source<inputs::SaleAndFee>,
    auditor: &reconcile::fees::Auditor<'_>,
    settings: &Settings,
    sink: &mut sink::Sink<'_>,
) -> Result<std::time::Duration> {
    async fn next_sale(
        tx: &Transaction<'_>,
        theirs: &mut inputs::Source<inputs::SaleAndFee>,
        auditor: &reconcile::fees::Auditor<'_>,
        sink: &mut sink::Sink<'_>,
    ) -> Result<Option<reconcile::sales::AcquirerSale>> {
        Ok(theirs.next(tx).await?.map(|row| {
            if let Some(fee) = &row.fee {
                sink.push(auditor.audit(fee));
            }
            row.sale
        }))
    }
    let mut matcher = reconcile::sales::Matcher::new(settings);
    let mut next = next_sale(tx, theirs, auditor, sink).await?;
    while let Some(m) = ours.next(tx).await? {
        while let Some(a) = next.take() {
            if !matcher.needs_before(&a, &m) {
                next = Some(a);
                break;
            }
            matcher.push(a, Some(&m), &mut |i| sink.push(i));
            next = next_sale(tx, theirs, auditor, sink).await?;
        }
        matcher.match_sale(&m, &mut |i| sink.push(i));
        sink.flush_if_full().await?;
    }
    while let Some(a) = next {
        matcher.push(a, None, &mut |i| sink.push(i));
        sink.flush_if_full().await?;
        next = next_sale(tx, theirs, auditor, sink).await?;
    }
    matcher.finish(&mut |i| sink.push(i));
    Ok(ours.fetching() + theirs.fetching())
}

/// Forecasts, payments and adjustments streamed sale by sale, each sale reconciled alone.
async fn reconcile_receivables(
    tx: &Transaction<'_>,
    lines: &mut inputs::Source<inputs::ReceivableLine>,
    settings: &Settings,
    sink: &mut sink::Sink<'_>,
) -> Result<std::time::Duration> {
    let mut sale: Vec<inputs::ReceivableLine> = Vec::new();
    loop {
        let line = lines.next(tx).await?;
        if line.as_ref().is_none_or(|l| sale.first().is_some_and(|first| first.sale() != l.sale())) {
            let mut group = reconcile::receivables::SaleLines::default();
            for l in &sale {
                match l {
                    inputs::ReceivableLine::Expected(e) => group.expected.push(e),
                    inputs::ReceivableLine::Paid(p) => group.paid.push(p),
                    inputs::ReceivableLine::Adjustment(a) => group.adjustments.push(a),
                }
            }
            reconcile::receivables::reconcile_sale(&group, settings, &mut |i| sink.push(i));
            sale.clear();
            sink.flush_if_full().await?;
        }
        match line {
            Some(l) => sale.push(l),
            None => return Ok(lines.fetching()),
        }
    }
}

/// The acquirers' payments against the bank statements' credits (held in memory: see [`deposits`]). A
/// payment whose account no loaded statement covers over the days its money could come is left aside, for
/// want of that statement.
async fn reconcile_deposits(
    tx: &Transaction<'_>,
    scope: &Scope,
    settings: &Settings,
    sink: &mut sink::Sink<'_>,
) -> Result<()> {
    let inputs = deposits::inputs(tx, scope, deposits::margin_days(settings)).await?;
    let (items, aside) = reconcile::deposits::reconcile(&inputs, settings);
    for item in items {
        sink.push(item);
    }
    for item in aside {
        sink.left_aside(item, reconcile::MissingInput::BankStatement);
    }
    sink.flush_if_full().await
}

/// Start a run, replacing the previous one over the same scope, inside the caller's transaction; its
/// totals and `finished_at` are set when its items are all written.
async fn start_run(tx: &Transaction<'_>, scope: &Scope, settings: &Settings) -> Result<i64> {
    // Its items and links with it: they have no foreign key to cascade from (its check per row was half the
    // time writing them: see V24 and V37).
    tx.execute(
        "WITH previous AS (
            DELETE FROM recon_run
             WHERE date_from = $1 AND date_to = $2 AND coalesce(merchant_code, '') = coalesce($3, '')
             RETURNING run_id),
         links AS (DELETE FROM recon_link WHERE run_id IN (SELECT run_id FROM previous))
         DELETE FROM recon_item WHERE run_id IN (SELECT run_id FROM previous)",
        &[&scope.from, &scope.to, &scope.merchant],
    )
    .await?;
    let settings_json = serde_json::to_value(settings).map_err(|e| crate::Error::Other(e.to_string()))?;
    Ok(tx
        .query_one(
            "INSERT INTO recon_run (date_from, date_to, merchant_code, as_of, settings, totals)
             VALUES ($1, $2, $3, $4, $5, '{}') RETURNING run_id",
            &[&scope.from, &scope.to, &scope.merchant, &settings.as_of, &settings_json],
        )
        .await?
        .get(0))
}

/// The tables reconciliation reads in bulk.
const RECONCILED_TABLES: [&str; 4] =
    ["fact_card_transaction_all", "fact_receivable_unit_all", "fact_merchant_sale", "contract_rate"];

/// Bring the planner's statistics up to date on the tables reconciliation reads when loads changed more than
/// a tenth of them since they were last analyzed: a reconciliation right after a load would otherwise be
/// planned on no statistics at all (autovacuum analyzes a minute or more later) — estimates of one row where
/// there are a hundred thousand, nested loops, inputs read 2.8× slower (measured). Sampled, so it costs a
/// fraction of a second whatever the size. Only the tables' owner may analyze them: for another user (the
/// Lambdas' runtime user) the server skips them with a warning and autovacuum does it later.
async fn refresh_statistics(db: &Client) -> Result<()> {
    let stale: Vec<String> = db
        .query(
            "SELECT relname::text FROM pg_stat_user_tables
              WHERE relname = ANY($1) AND n_mod_since_analyze > greatest(1000, n_live_tup / 10)
                AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = relid), 'USAGE')
              ORDER BY 1",
            &[&RECONCILED_TABLES.to_vec()],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !stale.is_empty() {
        let t = std::time::Instant::now();
        // Table names come from RECONCILED_TABLES, never from input.
        db.batch_execute(&format!("ANALYZE {}", stale.join(", "))).await?;
        tracing::debug!(tables = ?stale, seconds = t.elapsed().as_secs_f64(), "planner statistics refreshed");
    }
    Ok(())
}

/// The last day payments are known for: the latest period end of a loaded payment statement (of the merchant).
pub async fn payments_known_until(db: &impl GenericClient, merchant: Option<&str>) -> Result<Option<NaiveDate>> {
    let row = db
        .query_one(
            "SELECT max(period_end) FROM statement_file
              WHERE status = 'loaded' AND file_type = ANY($1) AND ($2::text IS NULL OR merchant_code = $2)",
            &[&types(&[PAYMENT_FILES, RV_PAYMENT_FILES, STATUS_PAYMENT_FILES].concat()), &merchant],
        )
        .await?;
    Ok(row.get(0))
}

/// The day a run looks from when none is given: today, or the end of the last payment statement loaded if
/// that is earlier — an installment due after it is not known to be unpaid, only not yet reported.
pub async fn default_as_of(db: &impl GenericClient, merchant: Option<&str>, today: NaiveDate) -> Result<NaiveDate> {
    Ok(payments_known_until(db, merchant).await?.map_or(today, |known| known.min(today)))
}

/// The scopes some loaded files touched: one per merchant, from the earliest to the latest day their
/// periods cover (acquirer statements; a merchant's own sales file names no single merchant). A bank
/// statement names no merchant either: it touches the merchants an acquirer declared its accounts for — its
/// period joins the merchant's scope when the merchant's statements came with it, else the merchant's stored
/// runs that meet that period are done again (or, with none, its period is the scope). A withdrawn bank
/// statement, whose accounts are gone with its facts, touches every stored run that meets its period.
pub async fn touched_scopes(db: &impl GenericClient, file_ids: &[i64]) -> Result<Vec<Scope>> {
    let rows = db
        .query(
            "WITH bank AS (
                SELECT d.merchant_code, min(s.period_start) AS period_start, max(s.period_end) AS period_end
                  FROM fact_bank_statement s
                  JOIN dim_bank_account b ON b.bank_account_key = s.bank_account_key
                  JOIN acquirer_declared_account d ON d.bank_norm = b.bank_norm AND d.number_norm = b.number_norm
                 WHERE s.file_id = ANY($1) AND s.period_start IS NOT NULL AND s.period_end IS NOT NULL
                 GROUP BY d.merchant_code),
             withdrawn_bank AS (
                SELECT period_start, period_end FROM statement_file
                 WHERE file_id = ANY($1) AND status = 'withdrawn' AND file_kind = 'bank_statement'
                   AND period_start IS NOT NULL AND period_end IS NOT NULL)
             SELECT 'files' AS kind, merchant_code, min(least(period_start, processing_date)),
                    max(greatest(period_end, processing_date))
               FROM statement_file
              WHERE file_id = ANY($1) AND status IN ('loaded', 'superseded', 'withdrawn')
                AND merchant_code IS NOT NULL AND merchant_code <> ''
                AND coalesce(period_start, processing_date) IS NOT NULL
              GROUP BY merchant_code
             UNION ALL
             SELECT 'bank', merchant_code, period_start, period_end FROM bank
             UNION ALL
             SELECT DISTINCT 'stored', r.merchant_code, r.date_from, r.date_to FROM recon_run r
               JOIN bank ON bank.merchant_code = r.merchant_code
                        AND r.date_from <= bank.period_end AND r.date_to >= bank.period_start
             UNION ALL
             SELECT DISTINCT 'stored', r.merchant_code, r.date_from, r.date_to FROM recon_run r
               JOIN withdrawn_bank w ON r.date_from <= w.period_end AND r.date_to >= w.period_start
              WHERE r.merchant_code IS NOT NULL",
            &[&file_ids],
        )
        .await?;
    /// What a merchant's part of the batch touched.
    #[derive(Default)]
    struct Touched {
        files: Option<(NaiveDate, NaiveDate)>,
        bank: Option<(NaiveDate, NaiveDate)>,
        stored: std::collections::BTreeSet<(NaiveDate, NaiveDate)>,
    }
    let mut by_merchant: std::collections::BTreeMap<String, Touched> = Default::default();
    for r in &rows {
        let (kind, merchant, from, to): (&str, String, NaiveDate, NaiveDate) = (r.get(0), r.get(1), r.get(2), r.get(3));
        let t = by_merchant.entry(merchant).or_default();
        match kind {
            "files" => t.files = Some((from, to)),
            "bank" => t.bank = Some((from, to)),
            _ => {
                t.stored.insert((from, to));
            }
        }
    }
    let mut scopes = Vec::new();
    for (merchant, t) in by_merchant {
        let scope = |(from, to): (NaiveDate, NaiveDate)| Scope { merchant: Some(merchant.clone()), from, to };
        match (t.files, t.bank) {
            (Some(f), bank) => {
                let (from, to) = bank.map_or(f, |b| (f.0.min(b.0), f.1.max(b.1)));
                scopes.push(scope((from, to)));
                scopes.extend(t.stored.into_iter().filter(|s| *s != (from, to)).map(scope));
            }
            (None, Some(b)) if t.stored.is_empty() => scopes.push(scope(b)),
            (None, _) => scopes.extend(t.stored.into_iter().map(scope)),
        }
    }
    Ok(scopes)
}

/// Reconcile what some loaded files touched (see [`touched_scopes`]), each scope as of
/// [`default_as_of`]. Returns one report per scope.
pub async fn reconcile_touched(db: &mut Client, file_ids: &[i64], today: NaiveDate) -> Result<Vec<RunReport>> {
    let mut reports = Vec::new();
    for scope in touched_scopes(&*db, file_ids).await? {
        let as_of = default_as_of(&*db, scope.merchant.as_deref(), today).await?;
        reports.push(run(db, &scope, &Settings::new(as_of)).await?);
    }
    Ok(reports)
}

/// Drain the reconciliation outbox (`recon_pending`, queued by every load in its own transaction): reconcile
/// the scopes its files touched, then take exactly those files off the queue. Idempotent and safe to run
/// concurrently (a run over a scope replaces the previous one; runs of a scope take turns); a failure leaves
/// the files queued for the next drain. Returns one report per scope.
pub async fn reconcile_pending(db: &mut Client, today: NaiveDate) -> Result<Vec<RunReport>> {
    let ids: Vec<i64> =
        db.query("SELECT file_id FROM recon_pending ORDER BY file_id", &[]).await?.iter().map(|r| r.get(0)).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let reports = reconcile_touched(db, &ids, today).await?;
    db.execute("DELETE FROM recon_pending WHERE file_id = ANY($1)", &[&ids]).await?;
    tracing::info!(files = ids.len(), scopes = reports.len(), "pending reconciliation drained");
    Ok(reports)
}

/// Files loaded and not reconciled since.
pub async fn pending_count(db: &impl GenericClient) -> Result<i64> {
    Ok(db.query_one("SELECT count(*) FROM recon_pending", &[]).await?.get(0))
}

/// The stored run over exactly this scope, if any: (run id, settings, totals).
pub async fn find_run(db: &impl GenericClient, scope: &Scope) -> Result<Option<(i64, Settings, Totals)>> {
    let row = db
        .query_opt(
            "SELECT run_id, settings, totals FROM recon_run
              WHERE date_from = $1 AND date_to = $2 AND coalesce(merchant_code, '') = coalesce($3, '')
                AND finished_at IS NOT NULL",
            &[&scope.from, &scope.to, &scope.merchant],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    let bad = |e: serde_json::Error| crate::Error::Other(format!("recon_run {}: {e}", r.get::<_, i64>(0)));
    let settings: Settings = serde_json::from_value(r.get(1)).map_err(bad)?;
    let totals: Totals = serde_json::from_value(r.get(2)).map_err(bad)?;
    Ok(Some((r.get(0), settings, totals)))
}

/// The items of a run not kept as links (see [`links`]: neither settled nor pending; the bank area's are all
/// kept whole), in [`reconcile::item_order`] (the order they were written in, `item_no`, follows how the run
/// streamed its inputs).
pub async fn items(db: &impl GenericClient, run_id: i64) -> Result<Vec<ReconItem>> {
    let rows = db
        .query(
            "SELECT area, status, merchant_code, acquirer, ref_date, sale_code, nsu, authorization_code, installment,
                    brand, product, expected, actual, difference, days_late, fields, reason,
                    expected_file_id, expected_line_no, actual_file_id, actual_line_no
               FROM recon_item WHERE run_id = $1
              ORDER BY CASE area WHEN 'sales' THEN 0 WHEN 'receivables' THEN 1 WHEN 'adjustments' THEN 2
                                 WHEN 'fees' THEN 3 ELSE 4 END,
                       merchant_code COLLATE \"C\", ref_date, sale_code COLLATE \"C\", installment,
                       CASE WHEN area = 'sales' THEN expected_file_id ELSE actual_file_id END NULLS FIRST,
                       CASE WHEN area = 'sales' THEN expected_line_no ELSE actual_line_no END NULLS FIRST,
                       CASE WHEN area = 'sales' THEN actual_file_id ELSE expected_file_id END NULLS FIRST,
                       CASE WHEN area = 'sales' THEN actual_line_no ELSE expected_line_no END NULLS FIRST",
            &[&run_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let status = status(r.get(1))?;
            let area = r.get::<_, &str>(0);
            if area != status.area().as_str() {
                return Err(crate::Error::Other(format!("a {status} item in area {area:?}")));
            }
            Ok(ReconItem {
                area: status.area(),
                status,
                merchant_code: r.get(2),
                acquirer: r.get(3),
                ref_date: r.get(4),
                sale_code: r.get(5),
                nsu: r.get(6),
                authorization_code: r.get(7),
                installment: r.get(8),
                brand: r.get(9),
                product: r.get(10),
                expected: r.get(11),
                actual: r.get(12),
                difference: r.get(13),
                days_late: r.get(14),
                fields: r.get(15),
                reason: r.get(16),
                expected_ref: r.get::<_, Option<i64>>(17).zip(r.get::<_, Option<i64>>(18)),
                actual_ref: r.get::<_, Option<i64>>(19).zip(r.get::<_, Option<i64>>(20)),
            })
        })
        .collect()
}

/// The items of a run kept as links (`recon_link`: settled and pending, see [`reconcile::Link`]), in the order
/// of their lines (acquirer's, then expected). For tests and tools: a large run keeps millions.
pub async fn links(db: &impl GenericClient, run_id: i64) -> Result<Vec<reconcile::Link>> {
    let rows = db
        .query(
            "SELECT status, ref_date, expected, actual, expected_file_id, expected_line_no, actual_file_id,
                    actual_line_no
               FROM recon_link WHERE run_id = $1
              ORDER BY actual_file_id NULLS FIRST, actual_line_no NULLS FIRST, expected_file_id NULLS FIRST,
                       expected_line_no NULLS FIRST",
            &[&run_id],
        )
        .await?;
    let line =
        |r: &tokio_postgres::Row, file: &str, no: &str| r.get::<_, Option<i64>>(file).zip(r.get::<_, Option<i64>>(no));
    rows.iter()
        .map(|r| {
            Ok(reconcile::Link {
                status: status(r.get("status"))?,
                ref_date: r.get("ref_date"),
                expected: r.get("expected"),
                actual: r.get("actual"),
                expected_ref: line(r, "expected_file_id", "expected_line_no"),
                actual_ref: line(r, "actual_file_id", "actual_line_no"),
            })
        })
        .collect()
}

/// Expected and received per due day of a run's receivables (settled, pending or neither), summed in the
/// database.
pub async fn expected_vs_received(
    db: &impl GenericClient,
    run_id: i64,
) -> Result<std::collections::BTreeMap<NaiveDate, (rust_decimal::Decimal, rust_decimal::Decimal)>> {
    let rows = db
        .query(
            "SELECT ref_date, coalesce(sum(expected), 0), coalesce(sum(actual), 0) FROM (
                SELECT ref_date, expected, actual FROM recon_item WHERE run_id = $1 AND area = 'receivables'
                UNION ALL
                SELECT ref_date, expected, actual FROM recon_link WHERE run_id = $1 AND status IN ('paid', 'pending')) r
              GROUP BY ref_date ORDER BY ref_date",
            &[&run_id],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), (r.get(1), r.get(2)))).collect())
}
